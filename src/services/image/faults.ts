import type { FaultRenderer } from "../../http/service.js";

/** Glance's error body (placeholder until the image service renders its real shape). */
export const imageFaults: FaultRenderer = (err) => ({ body: { code: err.status, message: err.message } });
