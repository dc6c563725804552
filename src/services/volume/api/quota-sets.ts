import { BadRequest } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { QuotasManager } from "../manager/quotas.js";
import { invalidField, isObject, noAdditional, pyRepr, strictBool, validateInteger } from "./catalog-validate.js";

/** db.MAX_INT. */
export const DB_MAX_INT = 0x7fffffff;
/** quota.NON_QUOTA_KEYS: accepted in a quota_set body and ignored. */
const NON_QUOTA_KEYS = ["tenant_id", "id"];

/** cinder/api/contrib/quotas.py: /os-quota-sets/{project_id}[/defaults]. */
export function quotaSetsRoutes(quotas: QuotasManager): Route[] {
  return [
    {
      method: "GET",
      path: "/os-quota-sets/:project_id",
      operation: "showQuotaSet",
      policy: "volume_extension:quotas:show",
      handler: async (ctx) => {
        const projectId = ctx.params["project_id"]!;
        ctx.enforce("volume_extension:quotas:show", { project_id: projectId });
        const u = ctx.q("usage");
        const usage = u === undefined ? false : strictBool("usage", u);
        if (usage) return { body: { quota_set: { ...(await quotas.projectUsage(projectId)), id: projectId } } };
        return { body: { quota_set: { ...(await quotas.limits(projectId)), id: projectId } } };
      },
    },
    {
      method: "GET",
      path: "/os-quota-sets/:project_id/defaults",
      operation: "showDefaultQuotaSet",
      policy: "volume_extension:quotas:show",
      handler: async (ctx) => {
        const projectId = ctx.params["project_id"]!;
        ctx.enforce("volume_extension:quotas:show", { project_id: projectId });
        return { body: { quota_set: { ...(await quotas.defaults()), id: projectId } } };
      },
    },
    {
      method: "PUT",
      path: "/os-quota-sets/:project_id",
      operation: "updateQuotaSet",
      policy: "volume_extension:quotas:update",
      handler: async (ctx) => {
        const b = ctx.body;
        if (!isObject(b)) throw new BadRequest(`${pyRepr(b ?? null)} is not of type 'object'`);
        if (!("quota_set" in b)) throw new BadRequest("'quota_set' is a required property");
        noAdditional(b, ["quota_set"], undefined);
        const qs = b["quota_set"];
        if (!isObject(qs)) throw invalidField("quota_set", qs, `${pyRepr(qs)} is not of type 'object'`);
        if (Object.keys(qs).length < 1) throw invalidField("quota_set", qs, `${pyRepr(qs)} does not have enough properties`);
        // validators.py _validate_quota_set: integers in [-1, MAX_INT], then unknown keys.
        const known = new Set(await quotas.resourceNames());
        const bad: string[] = [];
        const values: Record<string, number> = {};
        for (const [k, val] of Object.entries(qs)) {
          if (!known.has(k) && !NON_QUOTA_KEYS.includes(k)) {
            bad.push(k);
            continue;
          }
          if (NON_QUOTA_KEYS.includes(k)) continue;
          values[k] = validateInteger(val, k, -1, DB_MAX_INT);
        }
        if (bad.length) throw new BadRequest(`Invalid input received: Bad key(s) in quota set: ${bad.join(", ")}`);
        const projectId = ctx.params["project_id"]!;
        ctx.enforce("volume_extension:quotas:update", { project_id: projectId });
        if (projectId.length < 1 || projectId.length > 255) throw new BadRequest("quota_set_name has a length outside 1-255.");
        // _validate_existing_resource runs against the project's own rows only (defaults=False).
        const own = await quotas.limits(projectId, undefined, false);
        const usage = await quotas.projectUsage(projectId);
        for (const [k, limit] of Object.entries(values)) {
          if (k === "per_volume_gigabytes" || limit === -1 || !(k in own)) continue;
          const used = usage[k]?.in_use ?? 0;
          if (limit < used) {
            throw new BadRequest(`Quota ${k} limit must be equal or greater than existing resources. Current usage is ${used} and the requested limit is ${limit}.`);
          }
        }
        await quotas.setProject(projectId, values);
        return { body: { quota_set: await quotas.limits(projectId) } };
      },
    },
    {
      method: "DELETE",
      path: "/os-quota-sets/:project_id",
      operation: "deleteQuotaSet",
      policy: "volume_extension:quotas:delete",
      handler: async (ctx) => {
        const projectId = ctx.params["project_id"]!;
        ctx.enforce("volume_extension:quotas:delete", { project_id: projectId });
        await quotas.deleteProject(projectId);
        return { status: 200 };
      },
    },
  ];
}
