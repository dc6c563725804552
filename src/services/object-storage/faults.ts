import type { FaultRenderer } from "../../http/service.js";
import { respond } from "./core/errors.js";

/**
 * Errors the kernel raises before the pipeline (unknown URL, wrong method, 500): Swift's
 * bodies, an HTML page for the statuses swob explains, as the proxy answers.
 */
export const objectStorageFaults: FaultRenderer = (err) => {
  const r = respond(err.status);
  return { body: undefined, text: typeof r.body === "string" ? r.body : "", headers: r.headers };
};
