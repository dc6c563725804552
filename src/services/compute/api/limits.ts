import type { Route } from "../../../http/context.js";
import type { QuotaManager } from "../manager/quotas.js";

/** /limits (limits.py, views/limits.py): absolute limits and usage; rate limits are gone (empty). */
export function limitRoutes(quotas: QuotaManager): Route[] {
  return [
    {
      method: "GET",
      path: "/v2.1/limits",
      operation: "showRateAndAbsoluteLimits",
      policy: "os_compute_api:limits",
      handler: async (ctx) => {
        const v = ctx.version!;
        ctx.enforce("os_compute_api:limits", {});
        let project = ctx.caller.projectId ?? "";
        const other = ctx.q("tenant_id");
        if (other !== undefined) {
          // Any tenant_id (even the caller's own) needs limits:other_project, as Nova checks it.
          ctx.enforce("os_compute_api:limits:other_project", {});
          project = other;
        }
        const [lim, used] = await Promise.all([quotas.limits(project), quotas.usage(project)]);
        const abs: Record<string, number> = {};
        const put = (name: string, value: number | undefined, minV?: string, maxV?: string) => {
          if (minV !== undefined && !v.atLeast(minV)) return;
          if (maxV !== undefined && !v.atMost(maxV)) return;
          abs[name] = value ?? 0;
        };
        put("maxImageMeta", lim["metadata_items"], undefined, "2.38");
        put("maxPersonality", lim["injected_files"], undefined, "2.56");
        put("maxPersonalitySize", lim["injected_file_content_bytes"], undefined, "2.56");
        put("maxSecurityGroupRules", lim["security_group_rules"], undefined, "2.35");
        put("maxSecurityGroups", lim["security_groups"], undefined, "2.35");
        put("maxServerMeta", lim["metadata_items"]);
        put("maxTotalCores", lim["cores"]);
        put("maxTotalFloatingIps", lim["floating_ips"], undefined, "2.35");
        put("maxTotalInstances", lim["instances"]);
        put("maxTotalKeypairs", lim["key_pairs"]);
        put("maxTotalRAMSize", lim["ram"]);
        put("maxServerGroups", lim["server_groups"]);
        put("maxServerGroupMembers", lim["server_group_members"]);
        put("totalCoresUsed", used["cores"]);
        put("totalInstancesUsed", used["instances"]);
        put("totalRAMUsed", used["ram"]);
        put("totalSecurityGroupsUsed", 0, undefined, "2.35");
        put("totalFloatingIpsUsed", 0, undefined, "2.35");
        put("totalServerGroupsUsed", used["server_groups"]);
        return { body: { limits: { rate: [], absolute: abs } } };
      },
    },
  ];
}
