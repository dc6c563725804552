import { reasonPhrase } from "../../common/errors.js";
import type { FaultRenderer } from "../../http/service.js";

/** Placement's error body: {"errors": [{"status", "title", "detail", "code", "request_id"}]}. */
export const placementFaults: FaultRenderer = (err, requestId) => ({
  body: { errors: [{ status: err.status, title: reasonPhrase(err.status), detail: err.message, code: "placement.undefined_code", request_id: requestId }] },
});
