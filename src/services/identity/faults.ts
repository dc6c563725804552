import { MalformedBody, reasonPhrase } from "../../common/errors.js";
import type { FaultRenderer } from "../../http/service.js";
import { OAuth2Error } from "./api/oauth2.js";
import { AuthPluginError, AuthReceiptRequired } from "./manager/auth.js";

const MALFORMED =
  "Expecting to find valid JSON in request body. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.";

/** Keystone's error body: {"error": {"code", "title", "message"}}. */
export const identityFaults: FaultRenderer = (err) => {
  // An MFA step is answered with the receipt document (and its header), not an error body.
  if (err instanceof AuthReceiptRequired) return { body: err.document };
  // OAuth 2.0 errors use RFC 6749's body, as Keystone's OS-OAUTH2 answers them.
  if (err instanceof OAuth2Error) return { body: { error: err.code, error_description: err.message } };
  if (err instanceof MalformedBody) {
    return { body: { error: { code: 400, title: "Bad Request", message: MALFORMED } } };
  }
  if (err instanceof AuthPluginError) {
    return { body: { error: { code: err.status, title: reasonPhrase(err.status), message: err.message, identity: err.identity } } };
  }
  return { body: { error: { code: err.status, title: reasonPhrase(err.status), message: err.message } } };
};
