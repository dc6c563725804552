import { BadRequest } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { Compute } from "./deps.js";

/**
 * /os-instance_usage_audit_log (admin), as instance_usage_audit_log.py: the usage audit of
 * the last completed period (utils.last_completed_audit_period, unit "month") across the
 * compute hosts. Stackbox runs no usage audit task (nova.conf instance_usage_audit = False,
 * the default), so every host is reported as not run.
 */

const pad = (n: number, w = 2) => String(n).padStart(w, "0");
/** Python's str(datetime) for a whole-second UTC time. */
const pyDate = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;

function lastCompletedMonth(now: Date): { begin: Date; end: Date } {
  let end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  if (end.getTime() >= now.getTime()) end = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - 1, 1));
  const begin = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - 1, 1));
  return { begin, end };
}

function parseBefore(id: string): Date | undefined {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,6}))?$/.exec(id);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] ? Math.floor(Number(m[7].padEnd(6, "0")) / 1000) : 0;
  const dt = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  if (dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  if (id.includes(".") !== Boolean(m[7])) return undefined;
  return dt;
}

export function usageAuditLogRoutes(c: Compute): Route[] {
  const report = async (before: Date) => {
    const { begin, end } = lastCompletedMonth(before);
    const hosts = (await c.hosts.all()).map((h) => h.name);
    return {
      period_beginning: pyDate(begin),
      period_ending: pyDate(end),
      num_hosts: hosts.length,
      num_hosts_done: 0,
      num_hosts_running: 0,
      num_hosts_not_run: hosts.length,
      hosts_not_run: hosts,
      total_instances: 0,
      total_errors: 0,
      overall_status: `${hosts.length === 0 ? "ALL" : `0 of ${hosts.length}`} hosts done. 0 errors.`,
      log: {},
    };
  };
  return [
    {
      method: "GET",
      path: "/v2.1/os-instance_usage_audit_log",
      operation: "listUsageAuditLogs",
      policy: "os_compute_api:os-instance-usage-audit-log:list",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-instance-usage-audit-log:list", {});
        return { body: { instance_usage_audit_logs: await report(c.clock.now()) } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-instance_usage_audit_log/:before",
      operation: "showUsageAuditLog",
      policy: "os_compute_api:os-instance-usage-audit-log:show",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-instance-usage-audit-log:show", {});
        const id = ctx.params["before"]!;
        const before = parseBefore(id);
        if (!before) throw new BadRequest(`Invalid timestamp for date ${id}`);
        return { body: { instance_usage_audit_log: await report(before) } };
      },
    },
  ];
}
