import { reasonPhrase } from "../../common/errors.js";
import type { FaultRenderer } from "../../http/service.js";

/** Keystone's error body: {"error": {"code", "title", "message"}}. */
export const identityFaults: FaultRenderer = (err) => ({
  body: { error: { code: err.status, title: reasonPhrase(err.status), message: err.message } },
});
