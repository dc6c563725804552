import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { ServerGroup, ServerGroupManager } from "../manager/server-groups.js";
import { envelope, intField, invalidField, invalidQuery, nameField, noAdditional, pyRepr, required } from "./fleet-validate.js";
import { strictQuery } from "./fleet-links.js";
import { serverCaller } from "./server-common.js";

/** server_groups.py _format_server_group per microversion (2.13 owner ids, 2.64 policy/rules). */
function view(ctx: RequestContext, g: ServerGroup): Record<string, unknown> {
  const v = ctx.version!;
  const out: Record<string, unknown> = { id: g.uuid, name: g.name };
  if (v.atLeast("2.64")) {
    out["policy"] = g.policy;
    out["rules"] = g.rules;
  } else {
    out["policies"] = [g.policy];
    out["metadata"] = {};
  }
  out["members"] = g.members;
  if (v.atLeast("2.13")) {
    out["project_id"] = g.project_id;
    out["user_id"] = g.user_id;
  }
  return out;
}

function nonNegative(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v)) throw invalidQuery(name, v, `'${v}' does not match '^[0-9]*$'`);
  return Number(v);
}

export function serverGroupRoutes(groups: ServerGroupManager): Route[] {
  return [
    {
      method: "GET",
      path: "/v2.1/os-server-groups",
      operation: "listServerGroups",
      policy: "os_compute_api:os-server-groups:index",
      handler: async (ctx) => {
        const projectId = ctx.caller.projectId ?? "";
        ctx.enforce("os_compute_api:os-server-groups:index", { project_id: projectId });
        if (ctx.version!.atLeast("2.75")) {
          const bad = strictQuery(ctx, ["all_projects", "limit", "offset"]);
          if (bad) throw new BadRequest(`Invalid input for query parameters ${bad}`);
        }
        const limit = nonNegative("limit", ctx.q("limit"));
        const offset = nonNegative("offset", ctx.q("offset")) ?? 0;
        let scope: string | undefined = projectId;
        if (ctx.q("all_projects") !== undefined && ctx.allowed("context_is_admin", {})) {
          ctx.enforce("os_compute_api:os-server-groups:index:all_projects", { project_id: projectId });
          scope = undefined;
        }
        // common.limited: limit 0 / absent → max_limit (1000).
        const lim = limit === undefined || limit === 0 ? 1000 : Math.min(limit, 1000);
        const list = await groups.list(scope, lim, offset);
        return { body: { server_groups: list.map((g) => view(ctx, g)) } };
      },
    },
    {
      method: "POST",
      path: "/v2.1/os-server-groups",
      operation: "createServerGroup",
      policy: "os_compute_api:os-server-groups:create",
      handler: async (ctx) => {
        const v = ctx.version!;
        const caller = serverCaller(ctx);
        const g = envelope(ctx.body, "server_group");
        let policy: string;
        let rules: Record<string, number> = {};
        const policies = v.atLeast("2.15") ? ["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"] : ["anti-affinity", "affinity"];
        if (v.atLeast("2.64")) {
          required(g, ["name", "policy"], "server_group");
          noAdditional(g, ["name", "policy", "rules"], "server_group");
          const p = g["policy"];
          if (typeof p !== "string" || !policies.includes(p)) throw invalidField("policy", p, `${pyRepr(p)} is not one of ${pyRepr(policies)}`);
          policy = p;
          if (g["rules"] !== undefined) {
            const r = g["rules"];
            if (typeof r !== "object" || r === null || Array.isArray(r)) throw invalidField("rules", r, `${pyRepr(r)} is not of type 'object'`);
            noAdditional(r as Record<string, unknown>, ["max_server_per_host"], "rules");
            const m = (r as Record<string, unknown>)["max_server_per_host"];
            if (m !== undefined) rules = { max_server_per_host: intField("max_server_per_host", m, 1, 0x7fffffff, "^[0-9]*$") };
          }
        } else {
          required(g, ["name", "policies"], "server_group");
          noAdditional(g, ["name", "policies"], "server_group");
          const l = g["policies"];
          if (!Array.isArray(l)) throw invalidField("policies", l, `${pyRepr(l)} is not of type 'array'`);
          if (l.length < 1) throw invalidField("policies", l, `${pyRepr(l)} is too short`);
          if (l.length > 1) throw invalidField("policies", l, `${pyRepr(l)} is too long`);
          if (typeof l[0] !== "string" || !policies.includes(l[0])) throw invalidField("policies", l[0], `${pyRepr(l[0])} is not one of ${pyRepr(policies)}`);
          policy = l[0];
        }
        const name = nameField("name", g["name"]);
        ctx.enforce("os_compute_api:os-server-groups:create", { project_id: caller.projectId });
        const sg = await groups.create(caller, name, policy, rules);
        return { body: { server_group: view(ctx, sg) } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-server-groups/:group_id",
      operation: "showServerGroup",
      policy: "os_compute_api:os-server-groups:show",
      handler: async (ctx) => {
        const g = await groups.get(ctx.params["group_id"]!);
        ctx.enforce("os_compute_api:os-server-groups:show", { project_id: g.project_id });
        return { body: { server_group: view(ctx, g) } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/os-server-groups/:group_id",
      operation: "deleteServerGroup",
      policy: "os_compute_api:os-server-groups:delete",
      handler: async (ctx) => {
        const g = await groups.get(ctx.params["group_id"]!);
        ctx.enforce("os_compute_api:os-server-groups:delete", { project_id: g.project_id });
        await groups.delete(g.uuid);
        return { status: 204 };
      },
    },
  ];
}
