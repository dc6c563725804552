import type { Route } from "../../../http/context.js";
import type { QuotasManager } from "../manager/quotas.js";
import { isAdmin } from "./common.js";
import { own } from "./types.js";

/** views/limits.py _build_absolute_limits. */
const LIMIT_NAMES: Record<string, string> = {
  gigabytes: "maxTotalVolumeGigabytes",
  backup_gigabytes: "maxTotalBackupGigabytes",
  volumes: "maxTotalVolumes",
  snapshots: "maxTotalSnapshots",
  backups: "maxTotalBackups",
};
/** contrib/used_limits.py quota_map. */
const USED_NAMES: Record<string, string> = {
  totalVolumesUsed: "volumes",
  totalGigabytesUsed: "gigabytes",
  totalSnapshotsUsed: "snapshots",
  totalBackupsUsed: "backups",
  totalBackupGigabytesUsed: "backup_gigabytes",
};

/** cinder/api/v3/limits.py + the os-used-limits extension: GET /limits (an admin may name project_id from 3.39). */
export function limitsRoutes(quotas: QuotasManager): Route[] {
  return [
    {
      method: "GET",
      path: "/limits",
      operation: "showLimits",
      handler: async (ctx) => {
        let projectId = ctx.caller.projectId ?? "";
        if (ctx.version!.atLeast("3.39") && isAdmin(ctx)) projectId = ctx.q("project_id") ?? ctx.q("tenant_id") ?? projectId;
        const usage = await quotas.projectUsage(projectId);
        const absolute: Record<string, number> = {};
        for (const [k, name] of Object.entries(LIMIT_NAMES)) if (usage[k]) absolute[name] = usage[k].limit;
        if (ctx.allowed("limits_extension:used_limits", own(ctx))) {
          for (const [name, k] of Object.entries(USED_NAMES)) if (usage[k]) absolute[name] = usage[k].in_use;
        }
        return { body: { limits: { rate: [], absolute } } };
      },
    },
  ];
}
