import { MalformedBody } from "../common/errors.js";
import type { FaultRenderer } from "./service.js";

/**
 * The error body Nova and Cinder share (their wsgi Fault): {"itemNotFound": {"code": 404,
 * "message": "…"}}, the key named after the status. A missing or bad token never reaches them:
 * keystonemiddleware answers it in its own shape.
 */
export const WSGI_FAULT_NAMES: Readonly<Record<number, string>> = {
  400: "badRequest",
  401: "unauthorized",
  403: "forbidden",
  404: "itemNotFound",
  405: "badMethod",
  409: "conflictingRequest",
  413: "overLimit",
  415: "badMediaType",
  501: "notImplemented",
  503: "serviceUnavailable",
};

/** A renderer with the service's fault names (any other status is "computeFault", as both name it). */
export function wsgiFaults(names: Readonly<Record<number, string>>): FaultRenderer {
  return (err) => {
    if (err.status === 401) {
      return { body: { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } } };
    }
    const name = names[err.status] ?? "computeFault";
    let message = err.message;
    if (err instanceof MalformedBody) message = "Malformed request body";
    // oslo.policy's refusal as Nova and Cinder word it (PolicyNotAuthorized).
    if (err.status === 403) {
      const m = /requested action: (.+)\.$/.exec(message);
      if (m) message = `Policy doesn't allow ${m[1]} to be performed.`;
    }
    return { body: { [name]: { code: err.status, message } } };
  };
}
