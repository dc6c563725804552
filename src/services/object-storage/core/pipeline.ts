import type { Logger } from "pino";
import { SwiftError, respond } from "./errors.js";
import type { Filter, Handler, SwiftRequest, SwiftResponse } from "./types.js";

/**
 * Swift's proxy pipeline: filters in order, then the proxy. A filter's `next` is the rest of
 * the pipeline after it, which is also where its sub-requests go (as WSGI middleware calls
 * its app). A SwiftError anywhere becomes its response; anything else is a logged 500.
 */
export class Pipeline {
  private readonly entry: Handler;

  constructor(
    filters: readonly Filter[],
    app: Handler,
    log: Logger,
  ) {
    let next: Handler = guard(app, log);
    for (let i = filters.length - 1; i >= 0; i--) {
      const f = filters[i]!;
      const inner = next;
      next = guard((req) => f.handle(req, inner), log);
    }
    this.entry = next;
  }

  handle(req: SwiftRequest): Promise<SwiftResponse> {
    return this.entry(req);
  }
}

function guard(h: Handler, log: Logger): Handler {
  const rescue = (req: SwiftRequest, e: unknown): SwiftResponse => {
    if (e instanceof SwiftError) return e.response;
    log.error({ err: e, reqId: req.transId }, "unexpected error");
    return respond(500);
  };
  // No async wrapper: one .catch per level (every request goes through a dozen of these).
  return (req) => {
    try {
      return h(req).catch((e: unknown) => rescue(req, e));
    } catch (e) {
      return Promise.resolve(rescue(req, e));
    }
  };
}
