import type { RequestContext, Route } from "../../../http/context.js";
import type { LimitInput, LimitJoined } from "../manager/limits.js";
import { limitsCreate, limitUpdate } from "../schemas/limits.js";
import type { LimitFilter } from "../store/limits.js";
import { limited } from "../views/common.js";
import { limitView } from "../views/limits.js";
import type { Identity } from "./deps.js";

/** /v3/limits and /v3/limits/model (keystone/api/limits.py). */
export function limitRoutes(id: Identity): Route[] {
  const { limits, resources } = id;

  /** Keystone's _build_limit_enforcement_target: the limit with its project or domain. */
  const target = async (l: LimitJoined | undefined): Promise<Record<string, unknown>> => {
    if (!l) return {};
    const limit: Record<string, unknown> = { ...l };
    if (l.project_id) {
      const p = await resources.findProject(l.project_id);
      if (p) limit["project"] = { id: p.id, name: p.name, domain_id: p.domain_id, parent_id: p.parent_id };
    } else if (l.domain_id) {
      const d = await resources.findDomain(l.domain_id);
      if (d) limit["domain"] = { id: d.id, name: d.name };
    }
    return { target: { limit } };
  };

  const filterOf = (ctx: RequestContext): LimitFilter => {
    const f: LimitFilter = {};
    const s = ctx.q("service_id");
    if (s !== undefined) f.serviceId = s;
    const r = ctx.q("region_id");
    if (r !== undefined) f.regionId = r;
    const n = ctx.q("resource_name");
    if (n !== undefined) f.resourceName = n;
    const p = ctx.q("project_id");
    if (p !== undefined) f.projectId = p;
    const d = ctx.q("domain_id");
    if (d !== undefined) f.domainId = d;
    return f;
  };

  return [
    {
      method: "GET",
      path: "/v3/limits/model",
      operation: "getLimitModel",
      policy: "identity:get_limit_model",
      handler: async (ctx) => {
        ctx.enforce("identity:get_limit_model");
        return { body: { model: limits.model() } };
      },
    },
    {
      method: "POST",
      path: "/v3/limits",
      operation: "createLimits",
      policy: "identity:create_limits",
      body: limitsCreate,
      handler: async (ctx) => {
        ctx.enforce("identity:create_limits");
        const rows = await limits.createLimits((ctx.body as { limits: LimitInput[] }).limits);
        return { status: 201, body: { limits: rows.map((l) => limitView(ctx, l)) } };
      },
    },
    {
      method: "GET",
      path: "/v3/limits",
      operation: "listLimits",
      policy: "identity:list_limits",
      handler: async (ctx) => {
        ctx.enforce("identity:list_limits");
        const f = filterOf(ctx);
        const caller = ctx.caller;
        let rows: LimitJoined[] = [];
        // Keystone narrows by the token's scope, not by role: system sees all, a domain its
        // own and its projects' limits, a project (admin or not) only its own.
        if (caller.system) {
          rows = await limits.listLimits(f);
        } else if (caller.domainId) {
          const domainId = caller.domainId;
          const inDomain = new Set(
            (await resources.listProjects({ domainId, isDomain: false })).map((p) => p.id),
          );
          rows = (await limits.listLimits(f)).filter((l) =>
            l.project_id ? inDomain.has(l.project_id) : l.domain_id === domainId,
          );
        } else if (caller.projectId) {
          if (f.projectId === undefined || f.projectId === caller.projectId) {
            rows = await limits.listLimits({ ...f, projectId: caller.projectId });
          }
        }
        return { body: limited(ctx, "limits", rows.map((l) => limitView(ctx, l)), id.core.config.identity.listLimit) };
      },
    },
    {
      method: "GET",
      path: "/v3/limits/:limit_id",
      operation: "showLimit",
      policy: "identity:get_limit",
      handler: async (ctx) => {
        const limitId = ctx.params["limit_id"]!;
        ctx.enforce("identity:get_limit", await target(await limits.findLimit(limitId)));
        const l = await limits.getLimit(limitId);
        return { body: { limit: limitView(ctx, l) } };
      },
    },
    {
      method: "PATCH",
      path: "/v3/limits/:limit_id",
      operation: "updateLimit",
      policy: "identity:update_limit",
      body: limitUpdate,
      handler: async (ctx) => {
        ctx.enforce("identity:update_limit");
        const patch = (ctx.body as { limit: Pick<LimitInput, "resource_limit" | "description"> }).limit;
        const l = await limits.updateLimit(ctx.params["limit_id"]!, patch);
        return { body: { limit: limitView(ctx, l) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/limits/:limit_id",
      operation: "deleteLimit",
      policy: "identity:delete_limit",
      handler: async (ctx) => {
        ctx.enforce("identity:delete_limit");
        await limits.deleteLimit(ctx.params["limit_id"]!);
        return { status: 204 };
      },
    },
  ];
}
