import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { UsageManager } from "../manager/usage.js";
import { invalidQuery } from "./fleet-validate.js";
import { MAX_LIMIT, strictQuery } from "./fleet-links.js";

/** simple_tenant_usage.py _parse_datetime: three formats, naive = UTC; absent = now. */
function parseTime(v: string | undefined, now: Date): Date {
  if (!v) return now;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?$/.exec(v);
  if (!m || (v.includes(" ") && !m[3])) throw new BadRequest("Invalid datetime string: Datetime is in invalid format");
  const d = new Date(`${m[1]}T${m[2]}${m[3] ? m[3].slice(0, 4) : ""}Z`);
  if (Number.isNaN(d.getTime())) throw new BadRequest("Invalid datetime string: Datetime is in invalid format");
  return d;
}

function range(ctx: RequestContext, now: Date): { start: Date; stop: Date; detailed: boolean } {
  const start = parseTime(ctx.q("start"), now);
  let stop = parseTime(ctx.q("end"), now);
  if (!(start < stop)) throw new BadRequest("Invalid start time. The start time cannot occur after the end time.");
  if (stop > now) stop = now;
  return { start, stop, detailed: ctx.q("detailed") === "1" };
}

function paging(ctx: RequestContext): { limit: number; marker?: string } {
  if (!ctx.version!.atLeast("2.40")) return { limit: MAX_LIMIT };
  const l = ctx.q("limit");
  let limit = MAX_LIMIT;
  if (l !== undefined) {
    if (!/^[0-9]+$/.test(l)) throw invalidQuery("limit", l, `'${l}' does not match '^[0-9]*$'`);
    limit = Math.min(Number(l) || MAX_LIMIT, MAX_LIMIT);
  }
  const marker = ctx.q("marker");
  return marker === undefined ? { limit } : { limit, marker };
}

function links(ctx: RequestContext, path: string, count: number, limit: number, last: string | undefined): Array<{ rel: string; href: string }> {
  if (!ctx.version!.atLeast("2.40") || last === undefined || count < limit) return [];
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(ctx.query)) {
    if (k === "marker" || v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) p.append(k, one);
  }
  p.set("marker", last);
  return [{ rel: "next", href: `${ctx.serviceUrl}/v2.1/${path}?${p.toString()}` }];
}

export function usageRoutes(usage: UsageManager, now: () => Date): Route[] {
  const strict = (ctx: RequestContext, allowed: string[]) => {
    if (!ctx.version!.atLeast("2.75")) return;
    const bad = strictQuery(ctx, allowed);
    if (bad) throw new BadRequest(`Invalid input for query parameters ${bad}`);
  };
  const show = async (ctx: RequestContext, tenant: string) => {
    ctx.enforce("os_compute_api:os-simple-tenant-usage:show", { project_id: tenant });
    strict(ctx, ["start", "end", "limit", "marker"]);
    const r = range(ctx, now());
    const pg = paging(ctx);
    const out = await usage.usage(r.start, r.stop, { tenantId: tenant, detailed: true, ...pg });
    const body: Record<string, unknown> = { tenant_usage: out.usages[0] ?? {} };
    const l = links(ctx, `os-simple-tenant-usage/${tenant}`, out.servers.length, pg.limit, out.servers[out.servers.length - 1]?.instance_id);
    if (l.length > 0) body["tenant_usage_links"] = l;
    return { body };
  };
  return [
    {
      method: "GET",
      path: "/v2.1/os-simple-tenant-usage",
      operation: "listTenantUsage",
      policy: "os_compute_api:os-simple-tenant-usage:list",
      handler: async (ctx) => {
        // "os-simple-tenant-usage/" (an empty tenant id) matches no route in Nova: 404.
        if (/\/os-simple-tenant-usage\/(\?|$)/.test(ctx.url)) throw new NotFound("The resource could not be found.");
        ctx.enforce("os_compute_api:os-simple-tenant-usage:list", {});
        strict(ctx, ["start", "end", "detailed", "limit", "marker"]);
        const r = range(ctx, now());
        const pg = paging(ctx);
        const out = await usage.usage(r.start, r.stop, { detailed: r.detailed, ...pg });
        const body: Record<string, unknown> = { tenant_usages: out.usages };
        const l = links(ctx, "os-simple-tenant-usage", out.servers.length, pg.limit, out.servers[out.servers.length - 1]?.instance_id);
        if (l.length > 0) body["tenant_usages_links"] = l;
        return { body };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-simple-tenant-usage/:tenant_id",
      operation: "showTenantUsage",
      policy: "os_compute_api:os-simple-tenant-usage:show",
      handler: (ctx) => show(ctx, ctx.params["tenant_id"]!),
    },
  ];
}
