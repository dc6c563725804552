import type { RequestContext } from "../../../http/context.js";
import type { RoleRow } from "../store/tables.js";
import { link } from "./common.js";

/** A role inside a role_inference body: id, self link and name only (api/_shared/implied_roles.py). */
export function inferenceRoleView(ctx: RequestContext, r: RoleRow): Record<string, unknown> {
  return { id: r.id, links: { self: link(ctx, `roles/${r.id}`) }, name: r.name };
}

/** {"role_inference": {"prior_role": …, "implies": … }, "links": {"self": …}} */
export function roleInferenceView(
  ctx: RequestContext,
  prior: RoleRow,
  implies: RoleRow | RoleRow[],
  self: string,
): Record<string, unknown> {
  return {
    role_inference: {
      prior_role: inferenceRoleView(ctx, prior),
      implies: Array.isArray(implies) ? implies.map((r) => inferenceRoleView(ctx, r)) : inferenceRoleView(ctx, implies),
    },
    links: { self: link(ctx, self) },
  };
}
