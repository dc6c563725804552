import { CloudError } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Identity } from "./deps.js";

/**
 * OS-OAUTH2 (Keystone 22): the OAuth 2.0 client-credentials grant, where the client is an
 * application credential (client_id = its id, client_secret = its secret, HTTP Basic). The
 * access token is a Keystone token of that application credential.
 */
export class OAuth2Error extends CloudError {
  constructor(
    status: number,
    /** RFC 6749 error code: invalid_client, invalid_request, unsupported_grant_type, other_error. */
    readonly code: string,
    message: string,
  ) {
    super(status, message);
  }
}

const invalidClient = (message: string): OAuth2Error => new OAuth2Error(401, "invalid_client", message);

function basicAuth(ctx: RequestContext): { id: string; secret: string } {
  const h = ctx.header("authorization");
  if (!h) throw invalidClient("OAuth2.0 client authorization is required.");
  const [type, value] = h.split(/\s+/, 2);
  if (type?.toLowerCase() !== "basic") {
    throw invalidClient(`OAuth2.0 client authorization type ${type?.toLowerCase() ?? ""} is not supported.`);
  }
  const decoded = Buffer.from(value ?? "", "base64").toString("utf8");
  const i = decoded.indexOf(":");
  const id = i < 0 ? decoded : decoded.slice(0, i);
  const secret = i < 0 ? "" : decoded.slice(i + 1);
  if (!id || !secret) throw invalidClient("OAuth2.0 client authorization is invalid.");
  return { id, secret };
}

/** The grant is form-encoded (application/x-www-form-urlencoded). */
function grantType(ctx: RequestContext): string | undefined {
  const body = typeof ctx.body === "string" ? ctx.body : "";
  return new URLSearchParams(body).get("grant_type") ?? undefined;
}

export function oauth2Routes(id: Identity): Route[] {
  const notAllowed = async (): Promise<never> => {
    throw new OAuth2Error(405, "other_error", "The method is not allowed for the requested URL.");
  };
  return [
    {
      method: "POST",
      path: "/v3/OS-OAUTH2/token",
      operation: "createOAuth2Token",
      auth: "none",
      handler: async (ctx) => {
        const client = basicAuth(ctx);
        const grant = grantType(ctx);
        if (grant === undefined) throw new OAuth2Error(400, "invalid_request", "The parameter grant_type is required.");
        if (grant !== "client_credentials") {
          throw new OAuth2Error(400, "unsupported_grant_type", `The parameter grant_type ${grant} is not supported.`);
        }
        let token;
        try {
          token = await id.auth.authenticate({
            identity: { methods: ["application_credential"], application_credential: { id: client.id, secret: client.secret } },
          });
        } catch (e) {
          if (e instanceof CloudError && e.status === 401) throw invalidClient(e.message);
          if (e instanceof CloudError && e.status === 400) throw new OAuth2Error(400, "invalid_request", e.message);
          if (e instanceof CloudError) {
            throw new OAuth2Error(e.status, "other_error", "An unknown error occurred and failed to get an OAuth2.0 access token.");
          }
          throw e;
        }
        return {
          status: 200,
          body: { access_token: token.id, token_type: "Bearer", expires_in: id.core.config.identity.tokenExpiration },
        };
      },
    },
    ...(["GET", "PUT", "PATCH", "DELETE"] as const).map(
      (method): Route => ({ method, path: "/v3/OS-OAUTH2/token", operation: "oauth2TokenMethodNotAllowed", auth: "none", handler: notAllowed }),
    ),
  ];
}
