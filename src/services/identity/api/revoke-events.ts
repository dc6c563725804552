import { Forbidden } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { Identity } from "./deps.js";

export function revokeEventRoutes(id: Identity): Route[] {
  return [
    {
      method: "GET",
      path: "/v3/OS-REVOKE/events",
      operation: "listRevokeEvents",
      policy: "identity:list_revoke_events",
      handler: async (ctx) => {
        ctx.enforce("identity:list_revoke_events");
        const since = ctx.q("since");
        const events = await id.revokeEvents.list(since ? id.revokeEvents.parseSince(since) : undefined);
        // Keystone builds these links by hand: self never carries the query string.
        return { body: { events, links: { next: null, self: `${ctx.serviceUrl}/v3/OS-REVOKE/events`, previous: null } } };
      },
    },
    {
      // Deprecated PKI revocation list. Keystone 22 keeps the route, unenforced, and answers 403
      // (410 only when [token] revoke_by_id is off, which Stackbox never turns off).
      method: "GET",
      path: "/v3/auth/tokens/OS-PKI/revoked",
      operation: "listRevokedTokens",
      auth: "none",
      handler: async () => {
        throw new Forbidden();
      },
    },
  ];
}
