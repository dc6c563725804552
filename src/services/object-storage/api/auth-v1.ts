import type { Reply, RequestContext, Route } from "../../../http/context.js";
import { respond } from "../core/errors.js";
import type { ObjectStorage } from "../index.js";
import { toReply, transId } from "./swift.js";

/**
 * tempauth's GET /auth/v1.0 for tools that speak it (swift -A …/auth/v1.0, the bench
 * scripts): X-Auth-User "project:user" (names, default domain) and X-Auth-Key the user's
 * password give a Keystone token scoped to that project and its storage URL.
 */
export function authV1Routes(s: ObjectStorage): Route[] {
  const handler = async (ctx: RequestContext): Promise<Reply> => {
    const tx = transId(s.time.nowSeconds());
    const user = ctx.header("x-auth-user") ?? ctx.header("x-storage-user");
    const key = ctx.header("x-auth-key") ?? ctx.header("x-storage-pass");
    if (!user || !key || !user.includes(":")) return toReply(respond(401), tx, ctx.method);
    const i = user.indexOf(":");
    const got = await s.passwordLogin(user.slice(0, i), user.slice(i + 1), key).catch(() => undefined);
    if (!got) return toReply(respond(401), tx, ctx.method);
    const storageUrl = `${ctx.baseUrl}${s.prefix}/v1/${s.config.resellerPrefix}${got.projectId}`;
    const expires = Math.max(0, Math.floor((got.expiresAt.getTime() - Date.now()) / 1000));
    return toReply(
      {
        status: 200,
        headers: {
          "x-storage-url": storageUrl,
          "x-auth-token": got.token,
          "x-storage-token": got.token,
          "x-auth-token-expires": String(expires),
          "content-type": "application/json; charset=utf-8",
        },
        body: JSON.stringify({ storage: { default: "local", local: storageUrl } }),
      },
      tx,
      ctx.method,
    );
  };
  return ["/auth/v1.0"].flatMap((path) => [{ method: "GET" as const, path, operation: "swiftAuthV1", auth: "none" as const, rawBody: true, handler }]);
}
