import { BadRequest } from "../../../common/errors.js";
import type { Compute } from "../api/deps.js";
import { toInstance } from "../store/servers.js";
import type { ServersDB } from "../store/servers-tables.js";

export interface ServerUsage {
  instance_id: string;
  name: string;
  tenant_id: string;
  flavor: string;
  hours: number;
  memory_mb: number;
  local_gb: number;
  vcpus: number;
  started_at: string;
  ended_at: string | null;
  state: string;
  uptime: number;
}

export interface TenantUsage {
  tenant_id: string;
  server_usages?: ServerUsage[];
  total_local_gb_usage: number;
  total_vcpus_usage: number;
  total_memory_mb_usage: number;
  total_hours: number;
  start: string;
  stop: string;
}

/** oslo to_primitive of a naive datetime (microseconds, no zone). */
function naive(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000");
}

/**
 * os-simple-tenant-usage (simple_tenant_usage.py): instance-hours of the instances active in a
 * window (launched before its end, not terminated before its start), per project, paged by
 * instance (2.40 limit/marker).
 */
export class UsageManager {
  constructor(private readonly c: Compute) {}

  private get db(): ServersDB {
    return this.c.database.db as ServersDB;
  }

  async usage(start: Date, stop: Date, opts: { tenantId?: string; detailed: boolean; limit: number; marker?: string }): Promise<{ usages: TenantUsage[]; servers: ServerUsage[] }> {
    let q = this.db
      .selectFrom("cmp_instance")
      .selectAll()
      .where("launched_at", "is not", null)
      .where("launched_at", "<", start > stop ? start.toISOString() : stop.toISOString())
      .where((eb) => eb.or([eb("terminated_at", "is", null), eb("terminated_at", ">", start.toISOString())]))
      .orderBy("created_at")
      .orderBy("id");
    if (opts.tenantId !== undefined) q = q.where("project_id", "=", opts.tenantId);
    let rows = await q.execute();
    if (opts.marker !== undefined) {
      const i = rows.findIndex((r) => r.uuid === opts.marker);
      if (i < 0) throw new BadRequest(`Marker ${opts.marker} could not be found.`);
      rows = rows.slice(i + 1);
    }
    rows = rows.slice(0, opts.limit);
    const now = this.c.clock.now();
    const byTenant = new Map<string, TenantUsage>();
    const servers: ServerUsage[] = [];
    for (const row of rows) {
      const inst = toInstance(row);
      const launched = new Date(inst.launched_at!);
      const terminated = inst.terminated_at ? new Date(inst.terminated_at) : null;
      let hours = 0;
      if (!(terminated && terminated < start) && !(launched > stop)) {
        const from = launched > start ? launched : start;
        const to = terminated && terminated < stop ? terminated : stop;
        hours = (to.getTime() - from.getTime()) / 3_600_000;
      }
      const f = inst.flavor.cur;
      const info: ServerUsage = {
        instance_id: inst.uuid,
        name: inst.display_name,
        tenant_id: inst.project_id,
        flavor: f.name,
        hours,
        memory_mb: f.ram,
        local_gb: f.disk + f.ephemeral,
        vcpus: f.vcpus,
        started_at: naive(launched),
        ended_at: terminated ? naive(terminated) : null,
        state: terminated ? "terminated" : inst.vm_state,
        uptime: Math.floor(((terminated ?? now).getTime() - launched.getTime()) / 1000),
      };
      let sum = byTenant.get(info.tenant_id);
      if (!sum) {
        sum = { tenant_id: info.tenant_id, ...(opts.detailed ? { server_usages: [] } : {}), total_local_gb_usage: 0, total_vcpus_usage: 0, total_memory_mb_usage: 0, total_hours: 0, start: naive(start), stop: naive(stop) };
        byTenant.set(info.tenant_id, sum);
      }
      sum.total_local_gb_usage += info.local_gb * hours;
      sum.total_vcpus_usage += info.vcpus * hours;
      sum.total_memory_mb_usage += info.memory_mb * hours;
      sum.total_hours += hours;
      sum.server_usages?.push(info);
      servers.push(info);
    }
    return { usages: [...byTenant.values()], servers };
  }
}
