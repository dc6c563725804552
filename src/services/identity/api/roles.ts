import type { Route } from "../../../http/context.js";
import type { RoleInput } from "../manager/assignment.js";
import { roleCreate, roleUpdate } from "../schemas/roles.js";
import type { RoleRow } from "../store/tables.js";
import { NULL_DOMAIN } from "../store/tables.js";
import { limited } from "../views/common.js";
import { roleView } from "../views/roles.js";
import { entity } from "./common.js";
import type { Identity } from "./deps.js";

/** Domain-specific roles have their own rule names in Keystone. */
const rule = (r: { domain_id: string | null }, op: string): string =>
  r.domain_id && r.domain_id !== NULL_DOMAIN ? `identity:${op}_domain_role` : `identity:${op}_role`;
const target = (r: RoleRow): Record<string, unknown> => ({
  target: { role: { id: r.id, domain_id: r.domain_id === NULL_DOMAIN ? null : r.domain_id } },
});

export function roleRoutes(id: Identity): Route[] {
  const { assignments } = id;
  return [
    {
      method: "POST",
      path: "/v3/roles",
      operation: "createRole",
      policy: "identity:create_role",
      body: roleCreate,
      handler: async (ctx) => {
        const input = entity<RoleInput>(ctx, "role");
        ctx.enforce(rule({ domain_id: input.domain_id ?? null }, "create"), { target: { role: { domain_id: input.domain_id ?? null } } });
        if (input.domain_id) await id.resources.getDomain(input.domain_id);
        const r = await assignments.createRole(input);
        return { status: 201, body: { role: roleView(ctx, r) } };
      },
    },
    {
      method: "GET",
      path: "/v3/roles",
      operation: "listRoles",
      policy: "identity:list_roles",
      handler: async (ctx) => {
        const domainId = ctx.q("domain_id");
        ctx.enforce(domainId ? "identity:list_domain_roles" : "identity:list_roles", { target: { domain_id: domainId ?? null } });
        const f: Parameters<typeof assignments.listRoles>[0] = { domainId: domainId ?? null };
        const name = ctx.q("name");
        if (name !== undefined) f.name = name;
        const list = await assignments.listRoles(f);
        return { body: limited(ctx, "roles", list.map((r) => roleView(ctx, r)), id.core.config.identity.listLimit) };
      },
    },
    {
      method: "GET",
      path: "/v3/roles/:role_id",
      operation: "showRole",
      policy: "identity:get_role",
      handler: async (ctx) => {
        const r = await assignments.getRole(ctx.params["role_id"]!);
        ctx.enforce(rule(r, "get"), target(r));
        return { body: { role: roleView(ctx, r) } };
      },
    },
    {
      method: "PATCH",
      path: "/v3/roles/:role_id",
      operation: "updateRole",
      policy: "identity:update_role",
      body: roleUpdate,
      handler: async (ctx) => {
        const cur = await assignments.getRole(ctx.params["role_id"]!);
        ctx.enforce(rule(cur, "update"), target(cur));
        const r = await assignments.updateRole(cur.id, entity<RoleInput>(ctx, "role"));
        return { body: { role: roleView(ctx, r) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/roles/:role_id",
      operation: "deleteRole",
      policy: "identity:delete_role",
      handler: async (ctx) => {
        const cur = await assignments.getRole(ctx.params["role_id"]!);
        ctx.enforce(rule(cur, "delete"), target(cur));
        await assignments.deleteRole(cur.id);
        return { status: 204 };
      },
    },
  ];
}
