import { MalformedBody } from "../../common/errors.js";
import type { FaultRenderer } from "../../http/service.js";

/** The fault names Cinder's Fault gives each status (cinder/api/openstack/wsgi.py). */
const NAMES: Record<number, string> = {
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

/** Cinder's error body: {"itemNotFound": {"code": 404, "message": "…"}}. */
export const volumeFaults: FaultRenderer = (err) => {
  // A missing or bad token is refused by keystonemiddleware in front of the service, in its shape.
  if (err.status === 401) {
    return { body: { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } } };
  }
  const name = NAMES[err.status] ?? "computeFault";
  let message = err.message;
  if (err instanceof MalformedBody) message = "Malformed request body";
  // oslo.policy's refusal as Cinder words it (PolicyNotAuthorized).
  if (err.status === 403) {
    const m = /requested action: (.+)\.$/.exec(message);
    if (m) message = `Policy doesn't allow ${m[1]} to be performed.`;
  }
  return { body: { [name]: { code: err.status, message } } };
};
