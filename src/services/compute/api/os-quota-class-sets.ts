import type { RequestContext, Route } from "../../../http/context.js";
import { FILTERED_2_36, FILTERED_2_57, QUOTA_RESOURCES } from "../manager/quotas.js";
import type { QuotaManager } from "../manager/quotas.js";
import { envelope, intField, invalidField, pyRepr } from "./fleet-validate.js";

/** os-quota-class-sets (quota_classes.py): before 2.50 every resource but the server group ones; 2.50 drops network ones, 2.57 injected files. */
function shown(ctx: RequestContext): string[] {
  const v = ctx.version!;
  if (v.atLeast("2.57")) return QUOTA_RESOURCES.filter((r) => !FILTERED_2_57.includes(r));
  if (v.atLeast("2.50")) return QUOTA_RESOURCES.filter((r) => !FILTERED_2_36.includes(r));
  return QUOTA_RESOURCES.filter((r) => r !== "server_groups" && r !== "server_group_members");
}

export function quotaClassRoutes(quotas: QuotaManager): Route[] {
  const format = (ctx: RequestContext, values: Record<string, number>, id?: string) => {
    const out: Record<string, unknown> = {};
    if (id !== undefined) out["id"] = id;
    for (const r of shown(ctx)) if (r in values) out[r] = values[r];
    return { quota_class_set: out };
  };
  return [
    {
      method: "GET",
      path: "/v2.1/os-quota-class-sets/:id",
      operation: "showQuotaClass",
      policy: "os_compute_api:os-quota-class-sets:show",
      handler: async (ctx) => {
        const id = ctx.params["id"]!;
        ctx.enforce("os_compute_api:os-quota-class-sets:show", { quota_class: id });
        return { body: format(ctx, await quotas.classLimits(id), id) };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/os-quota-class-sets/:id",
      operation: "updateQuotaClass",
      policy: "os_compute_api:os-quota-class-sets:update",
      handler: async (ctx) => {
        const id = ctx.params["id"]!;
        const q = envelope(ctx.body, "quota_class_set");
        const allowed = shown(ctx);
        const extra = Object.keys(q).filter((k) => !allowed.includes(k));
        if (extra.length > 0) throw invalidField("quota_class_set", q, `Additional properties are not allowed (${extra.map(pyRepr).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`);
        const values: Record<string, number> = {};
        for (const [k, v] of Object.entries(q)) values[k] = intField(k, v, -1, 0x7fffffff, "^-?[0-9]+$");
        ctx.enforce("os_compute_api:os-quota-class-sets:update", { quota_class: id });
        await quotas.updateClass(id, values);
        return { body: format(ctx, await quotas.classLimits(id)) };
      },
    },
  ];
}
