import type { RequestContext } from "../../../http/context.js";
import type { OAuthAccessTokenRow, OAuthConsumerRow, RoleRow } from "../store/tables.js";
import { json, NULL_DOMAIN } from "../store/tables.js";
import { link, withExtra } from "./common.js";

/** A consumer; its secret is shown only in the answer to its creation. */
export function consumerView(ctx: RequestContext, c: OAuthConsumerRow, withSecret = false): Record<string, unknown> {
  const body: Record<string, unknown> = { id: c.id, description: c.description };
  if (withSecret) body["secret"] = c.secret;
  body["links"] = { self: link(ctx, `OS-OAUTH1/consumers/${c.id}`) };
  return withExtra(c.extra, body);
}

/** keystone/api/users.py _format_token_entity: no secret, no role ids, a link to the roles. */
export function accessTokenView(ctx: RequestContext, t: OAuthAccessTokenRow): Record<string, unknown> {
  const base = `users/${t.authorizing_user_id}/OS-OAUTH1/access_tokens/${t.id}`;
  return {
    id: t.id,
    authorizing_user_id: t.authorizing_user_id,
    project_id: t.project_id,
    consumer_id: t.consumer_id,
    expires_at: t.expires_at,
    links: { self: link(ctx, base), roles: link(ctx, `${base}/roles`) },
  };
}

/** _format_role_entity: the role without its description. */
export function accessTokenRoleView(ctx: RequestContext, r: RoleRow): Record<string, unknown> {
  return withExtra(r.extra, {
    id: r.id,
    name: r.name,
    domain_id: r.domain_id === NULL_DOMAIN ? null : r.domain_id,
    options: json(r.options),
    links: { self: link(ctx, `roles/${r.id}`) },
  });
}
