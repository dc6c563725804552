import { MalformedBody } from "../../common/errors.js";
import type { FaultRenderer } from "../../http/service.js";
import { NeutronError } from "./errors.js";

/** The webob exception names Neutron reports for errors that are not its own exceptions. */
const HTTP_TYPES: Record<number, string> = {
  400: "HTTPBadRequest",
  401: "HTTPUnauthorized",
  403: "HTTPForbidden",
  404: "HTTPNotFound",
  405: "HTTPMethodNotAllowed",
  406: "HTTPNotAcceptable",
  409: "HTTPConflict",
  412: "HTTPPreconditionFailed",
  413: "HTTPRequestEntityTooLarge",
  415: "HTTPUnsupportedMediaType",
  500: "HTTPInternalServerError",
  501: "HTTPNotImplemented",
  503: "HTTPServiceUnavailable",
};

/** Neutron's error body: {"NeutronError": {"type", "message", "detail"}}. */
export const networkFaults: FaultRenderer = (err) => {
  let type = err instanceof NeutronError ? err.type : (HTTP_TYPES[err.status] ?? "HTTPError");
  let message = err.message;
  if (err instanceof MalformedBody) message = "Malformed request body";
  // A policy refusal names the rule the way oslo.policy words it in Neutron.
  if (err.status === 403 && !(err instanceof NeutronError)) {
    const m = /requested action: (.+)\.$/.exec(message);
    if (m) {
      type = "PolicyNotAuthorized";
      message = `(rule:${m[1]}) is disallowed by policy`;
    }
  }
  return { body: { NeutronError: { type, message, detail: "" } } };
};
