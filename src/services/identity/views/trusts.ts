import type { RequestContext } from "../../../http/context.js";
import type { RoleRow, TrustRow } from "../store/tables.js";
import { json } from "../store/tables.js";
import { link } from "./common.js";
import { roleView } from "./roles.js";

/**
 * A trust as Keystone renders it: unknown attributes the client stored, then the model's
 * attributes (deleted_at included), then roles (omitted in lists) and links.
 */
export function trustView(ctx: RequestContext, t: TrustRow, roles?: readonly RoleRow[]): Record<string, unknown> {
  const body: Record<string, unknown> = {
    ...json(t.extra),
    id: t.id,
    trustor_user_id: t.trustor_user_id,
    trustee_user_id: t.trustee_user_id,
    project_id: t.project_id,
    impersonation: t.impersonation === 1,
    expires_at: t.expires_at,
    remaining_uses: t.remaining_uses,
    deleted_at: t.deleted_at,
    redelegated_trust_id: t.redelegated_trust_id,
    redelegation_count: t.redelegation_count,
  };
  if (roles !== undefined) {
    body["roles"] = roles.map((r) => roleView(ctx, r));
    body["roles_links"] = trustRolesLinks(ctx, t);
  }
  body["links"] = { self: link(ctx, `OS-TRUST/trusts/${t.id}`) };
  return body;
}

/** Keystone builds this with base_url('/<trust_id>/roles'): the OS-TRUST/trusts part is missing there too. */
export function trustRolesLinks(ctx: RequestContext, t: TrustRow): Record<string, unknown> {
  return { self: link(ctx, `${t.id}/roles`), next: null, previous: null };
}
