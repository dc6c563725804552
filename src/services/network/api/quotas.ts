import type { RequestContext, Route } from "../../../http/context.js";
import type { QuotaResource } from "../manager/quotas.js";
import { badRequest } from "../errors.js";
import type { Network } from "./deps.js";

/**
 * Quotas (neutron/extensions/quotasv2.py, quota_details): a project reads its own limits;
 * other projects' limits and every change need the admin rules.
 */
export function quotaRoutes(n: Network): Route[] {
  const db = n.core.db;
  const readable = (ctx: RequestContext, projectId: string): void => {
    if (projectId !== ctx.caller.projectId) ctx.enforce("get_quota", { project_id: projectId, tenant_id: projectId });
  };
  const project = (ctx: RequestContext): string => ctx.params["project_id"] ?? "";
  return [
    {
      method: "GET",
      path: "/v2.0/quotas",
      operation: "listQuotas",
      policy: "get_quota",
      handler: async (ctx) => {
        ctx.enforce("get_quota", {});
        const out = [];
        for (const p of await n.quotas.projectsWithLimits(db)) {
          out.push({ ...(await n.quotas.limits(db, p)), project_id: p, tenant_id: p });
        }
        return { body: { quotas: out } };
      },
    },
    {
      method: "GET",
      path: "/v2.0/quotas/:project_id",
      operation: "showQuota",
      policy: "get_quota",
      handler: async (ctx) => {
        readable(ctx, project(ctx));
        return { body: { quota: await n.quotas.limits(db, project(ctx)) } };
      },
    },
    {
      method: "GET",
      path: "/v2.0/quotas/:project_id/default",
      operation: "showDefaultQuota",
      policy: "get_quota",
      handler: async (ctx) => {
        readable(ctx, project(ctx));
        const out: Record<string, number> = {};
        for (const r of n.quotas.resources()) out[r] = n.core.config.quotas[r] ?? -1;
        return { body: { quota: out } };
      },
    },
    ...["/v2.0/quotas/:project_id/details", "/v2.0/quotas/:project_id/details.json"].map((path): Route => ({
      method: "GET",
      // Tempest's quotas client asks for details.json (Neutron still honours the format suffix).
      path,
      operation: "showQuotaDetails",
      policy: "get_quota",
      handler: async (ctx) => {
        const p = project(ctx);
        readable(ctx, p);
        const limits = await n.quotas.limits(db, p);
        const out: Record<string, unknown> = {};
        for (const r of Object.keys(limits) as QuotaResource[]) {
          out[r] = { limit: limits[r], used: await n.quotas.usage(db, p, r), reserved: 0 };
        }
        return { body: { quota: out } };
      },
    })),
    {
      method: "PUT",
      path: "/v2.0/quotas/:project_id",
      operation: "updateQuota",
      policy: "update_quota",
      handler: async (ctx) => {
        const p = project(ctx);
        ctx.enforce("update_quota", { project_id: p, tenant_id: p });
        const body = ctx.body as Record<string, unknown> | undefined;
        const q = body && typeof body === "object" && !Array.isArray(body) ? body["quota"] : undefined;
        if (q === undefined || q === null || typeof q !== "object" || Array.isArray(q)) throw badRequest("Unable to find 'quota' in request body");
        const changes = { ...(q as Record<string, unknown>) };
        delete changes["project_id"];
        delete changes["tenant_id"];
        return { body: { quota: await n.quotas.update(p, changes) } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.0/quotas/:project_id",
      operation: "resetQuota",
      policy: "delete_quota",
      handler: async (ctx) => {
        const p = project(ctx);
        ctx.enforce("delete_quota", { project_id: p, tenant_id: p });
        await n.quotas.reset(p);
        return { status: 204 };
      },
    },
  ];
}
