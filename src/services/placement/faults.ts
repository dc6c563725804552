import { MalformedBody, reasonPhrase } from "../../common/errors.js";
import type { FaultRenderer } from "../../http/service.js";
import { Codes, PlacementError, taggedVersion } from "./errors.js";
import { placementMicroversions } from "./microversions.js";

/** webob's explanation for each status, which Placement's error detail starts with. */
const EXPLANATIONS: Record<number, string> = {
  400: "The server could not comply with the request since it is either malformed or otherwise incorrect.",
  401: "This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.",
  403: "Access was denied to this resource.",
  404: "The resource could not be found.",
  405: "The method specified is not allowed for this resource.",
  406: "The resource could not be generated that was acceptable to your browser (content of type application/json.",
  409: "There was a conflict when trying to complete your request.",
  413: "The request is too large.",
  415: "The request media type is not supported by this server.",
  500: "The server has either erred or is incapable of performing the requested operation.",
  501: "The server has not implemented the requested method.",
};

/**
 * Placement's error body (util.json_error_formatter over a webob exception):
 * {"errors": [{"status", "title", "detail", "code" (1.23+), "request_id"}]}, the detail being
 * webob's "<explanation>\n\n <detail>  " with newlines flattened, and min/max versions on a
 * 406 that came from version negotiation.
 */
export const placementFaults: FaultRenderer = (err, requestId) => {
  // A missing or bad token is refused by keystonemiddleware in front of Placement, in its shape.
  if (err.status === 401) {
    return { body: { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } } };
  }
  let message = err.message;
  if (err instanceof MalformedBody) message = "Malformed JSON: Expecting value: line 1 column 1 (char 0)";
  // Version negotiation failures, worded as microversion_parse's middleware words them.
  const unsupported = /^Version (.+) is not supported by the API/.exec(message);
  const invalid = /^API Version String (.+) is of invalid format/.exec(message);
  const negotiation = (err.status === 406 && unsupported !== null) || (err.status === 400 && invalid !== null);
  if (unsupported) message = `Invalid microversion: Unacceptable version header: ${unsupported[1]}`;
  if (invalid) message = `Invalid microversion: invalid version string: ${invalid[1]}`;
  // The router's 405 (handle_405 in Placement's handler.py).
  if (err.status === 405) message = "The method specified is not allowed for this resource.";
  const policy = /^You are not authorized to perform the requested action: (.+)\.$/.exec(message);
  if (err.status === 403 && policy) message = `Policy does not allow ${policy[1]} to be performed.`;
  const explanation = EXPLANATIONS[err.status] ?? reasonPhrase(err.status);
  const shown = message === explanation ? "" : message.replaceAll("\r", "").replaceAll("\n", " ");
  const error: Record<string, unknown> = {
    status: err.status,
    title: reasonPhrase(err.status),
    detail: `${explanation}\n\n ${shown}  `,
  };
  const version = taggedVersion(err);
  if (!negotiation && (!version || version.atLeast("1.23"))) error["code"] = err instanceof PlacementError ? err.code : Codes.DEFAULT;
  error["request_id"] = requestId;
  if (negotiation && err.status === 406) {
    const vs = placementMicroversions.versions;
    error["max_version"] = vs[vs.length - 1];
    error["min_version"] = vs[0];
  }
  // The microversion middleware stamps errors with the negotiated version too.
  const headers: Record<string, string> = version ? { "openstack-api-version": `placement ${version.toString()}`, vary: "OpenStack-API-Version" } : {};
  return { body: { errors: [error] }, headers };
};
