import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import { FILTERED_2_36, FILTERED_2_57, QUOTA_RESOURCES } from "../manager/quotas.js";
import type { QuotaManager } from "../manager/quotas.js";
import { boolField, envelope, intField, invalidField, pyRepr } from "./fleet-validate.js";
import { strictQuery } from "./fleet-links.js";

export function filteredQuotas(ctx: RequestContext): string[] {
  const v = ctx.version!;
  return v.atLeast("2.57") ? FILTERED_2_57 : v.atLeast("2.36") ? FILTERED_2_36 : [];
}

function format<T>(ctx: RequestContext, values: Record<string, T>, id?: string): Record<string, unknown> {
  const filtered = filteredQuotas(ctx);
  const out: Record<string, unknown> = {};
  if (id !== undefined) out["id"] = id;
  for (const r of QUOTA_RESOURCES) if (!filtered.includes(r) && r in values) out[r] = values[r];
  return out;
}

/** os-quota-sets (quota_sets.py). */
export function quotaSetRoutes(quotas: QuotaManager): Route[] {
  const userOf = (ctx: RequestContext): string | undefined => {
    if (ctx.version!.atLeast("2.75")) {
      const bad = strictQuery(ctx, ["user_id"]);
      if (bad) throw new BadRequest(bad);
    }
    const u = ctx.q("user_id");
    return u === undefined || u === "" ? undefined : u;
  };
  const project = (ctx: RequestContext) => ctx.params["project_id"]!;
  return [
    {
      method: "GET",
      path: "/v2.1/os-quota-sets/:project_id",
      operation: "showQuota",
      policy: "os_compute_api:os-quota-sets:show",
      handler: async (ctx) => {
        const p = project(ctx);
        const user = userOf(ctx);
        ctx.enforce("os_compute_api:os-quota-sets:show", { project_id: p });
        return { body: { quota_set: format(ctx, await quotas.limits(p, user), p) } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-quota-sets/:project_id/detail",
      operation: "showQuotaDetails",
      policy: "os_compute_api:os-quota-sets:detail",
      handler: async (ctx) => {
        const p = project(ctx);
        const user = userOf(ctx);
        ctx.enforce("os_compute_api:os-quota-sets:detail", { project_id: p });
        const [limits, used] = await Promise.all([quotas.limits(p, user), quotas.usage(p, user)]);
        const out: Record<string, { limit: number; in_use: number; reserved: number }> = {};
        for (const r of QUOTA_RESOURCES) out[r] = { limit: limits[r]!, in_use: used[r] ?? 0, reserved: 0 };
        return { body: { quota_set: format(ctx, out, p) } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-quota-sets/:project_id/defaults",
      operation: "listDefaultQuotas",
      policy: "os_compute_api:os-quota-sets:defaults",
      handler: async (ctx) => {
        const p = project(ctx);
        ctx.enforce("os_compute_api:os-quota-sets:defaults", { project_id: p });
        return { body: { quota_set: format(ctx, await quotas.classLimits("default"), p) } };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/os-quota-sets/:project_id",
      operation: "updateQuota",
      policy: "os_compute_api:os-quota-sets:update",
      handler: async (ctx) => {
        const p = project(ctx);
        const user = userOf(ctx);
        const q = envelope(ctx.body, "quota_set");
        const filtered = filteredQuotas(ctx);
        const allowed: string[] = [...QUOTA_RESOURCES.filter((r) => !filtered.includes(r)), "force"];
        // 'networks' was a nova-network quota; its removal is reported before the schema's refusal.
        const extra = Object.keys(q).filter((k) => !allowed.includes(k) && k !== "networks");
        if (extra.length > 0) throw invalidField("quota_set", q, `Additional properties are not allowed (${extra.map(pyRepr).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`);
        const values: Record<string, number> = {};
        let force = false;
        for (const [k, v] of Object.entries(q)) {
          if (k === "force") {
            force = boolField("force", v);
            continue;
          }
          if (k === "networks") continue;
          values[k] = intField(k, v, -1, 0x7fffffff, "^-?[0-9]+$");
        }
        if ("networks" in q) throw new BadRequest("The networks quota has been removed");
        ctx.enforce("os_compute_api:os-quota-sets:update", { project_id: p });
        await quotas.update(p, user, values, force);
        return { body: { quota_set: format(ctx, await quotas.limits(p, user)) } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/os-quota-sets/:project_id",
      operation: "revertQuotasToDefaults",
      policy: "os_compute_api:os-quota-sets:delete",
      handler: async (ctx) => {
        const p = project(ctx);
        const user = userOf(ctx);
        ctx.enforce("os_compute_api:os-quota-sets:delete", { project_id: p });
        await quotas.reset(p, user);
        return { status: 202 };
      },
    },
  ];
}
