import type { RequestContext, Route } from "../../../http/context.js";
import type { RoleRow } from "../store/tables.js";
import { NULL_DOMAIN } from "../store/tables.js";
import { inferenceRoleView, roleInferenceView } from "../views/implied-roles.js";
import type { Identity } from "./deps.js";

const roleTarget = (r: RoleRow): Record<string, unknown> => ({
  id: r.id,
  name: r.name,
  domain_id: r.domain_id === NULL_DOMAIN ? null : r.domain_id,
  description: r.description,
});

/**
 * Implied roles (keystone/api/roles.py RoleImplication*Resource, api/role_inferences.py):
 * /v3/roles/{prior_role_id}/implies[/{implied_role_id}] and /v3/role_inferences.
 */
export function impliedRoleRoutes(id: Identity): Route[] {
  const { assignments } = id;

  // Keystone loads both roles (404 when missing) before it enforces, as the policy target.
  const load = async (ctx: RequestContext): Promise<{ prior: RoleRow; implied?: RoleRow; target: Record<string, unknown> }> => {
    const prior = await assignments.getRole(ctx.params["prior_role_id"]!);
    const target: Record<string, unknown> = { prior_role: roleTarget(prior) };
    const impliedId = ctx.params["implied_role_id"];
    if (impliedId === undefined) return { prior, target };
    const implied = await assignments.getRole(impliedId);
    target["implied_role"] = roleTarget(implied);
    return { prior, implied, target };
  };
  const path = (r: { prior: RoleRow; implied?: RoleRow }): string => `roles/${r.prior.id}/implies/${r.implied!.id}`;

  const show = async (ctx: RequestContext, r: { prior: RoleRow; implied?: RoleRow }): Promise<Record<string, unknown>> => {
    await assignments.getImpliedRole(r.prior.id, r.implied!.id);
    return roleInferenceView(ctx, r.prior, r.implied!, path(r));
  };

  return [
    {
      method: "GET",
      path: "/v3/roles/:prior_role_id/implies",
      operation: "listImpliedRoles",
      policy: "identity:list_implied_roles",
      handler: async (ctx) => {
        const r = await load(ctx);
        ctx.enforce("identity:list_implied_roles", { target: r.target });
        const implies = await assignments.listImpliedRoles(r.prior.id);
        return { body: roleInferenceView(ctx, r.prior, implies, `roles/${r.prior.id}/implies`) };
      },
    },
    {
      method: "PUT",
      path: "/v3/roles/:prior_role_id/implies/:implied_role_id",
      operation: "createRoleInferenceRule",
      policy: "identity:create_implied_role",
      handler: async (ctx) => {
        const r = await load(ctx);
        ctx.enforce("identity:create_implied_role", { target: r.target });
        await assignments.createImpliedRole(r.prior.id, r.implied!.id);
        return { status: 201, body: await show(ctx, r) };
      },
    },
    {
      method: "GET",
      path: "/v3/roles/:prior_role_id/implies/:implied_role_id",
      operation: "getRoleInferenceRule",
      policy: "identity:get_implied_role",
      handler: async (ctx) => {
        const r = await load(ctx);
        ctx.enforce("identity:get_implied_role", { target: r.target });
        return { body: await show(ctx, r) };
      },
    },
    {
      // Keystone enforces check_implied_role and then get_implied_role, and answers 204.
      method: "HEAD",
      path: "/v3/roles/:prior_role_id/implies/:implied_role_id",
      operation: "checkRoleInferenceRule",
      policy: "identity:check_implied_role",
      handler: async (ctx) => {
        const r = await load(ctx);
        ctx.enforce("identity:check_implied_role", { target: r.target });
        ctx.enforce("identity:get_implied_role", { target: r.target });
        await show(ctx, r);
        return { status: 204 };
      },
    },
    {
      method: "DELETE",
      path: "/v3/roles/:prior_role_id/implies/:implied_role_id",
      operation: "deleteRoleInferenceRule",
      policy: "identity:delete_implied_role",
      handler: async (ctx) => {
        const r = await load(ctx);
        ctx.enforce("identity:delete_implied_role", { target: r.target });
        await assignments.deleteImpliedRole(r.prior.id, r.implied!.id);
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: "/v3/role_inferences",
      operation: "listRoleInferenceRules",
      policy: "identity:list_role_inference_rules",
      handler: async (ctx) => {
        ctx.enforce("identity:list_role_inference_rules");
        const rules = await assignments.listRoleInferences();
        // Keystone's body is the bare list, without collection links.
        const list = rules.map((x) => ({ prior_role: inferenceRoleView(ctx, x.prior), implies: x.implies.map((r) => inferenceRoleView(ctx, r)) }));
        return { body: { role_inferences: list } };
      },
    },
  ];
}
