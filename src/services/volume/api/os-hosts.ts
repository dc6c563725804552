import type { RequestContext, Route } from "../../../http/context.js";
import { NotFound } from "../../../common/errors.js";
import { hostMatches, type ServicesManager } from "../manager/services.js";
import { cinderTime } from "./common.js";
import type { Volume } from "./deps.js";
import { own } from "./types.js";

/** contrib/hosts.py _list_hosts: the enabled services (a disabled one is not listed). */
async function listHosts(ctx: RequestContext, services: ServicesManager): Promise<Array<Record<string, unknown>>> {
  const zone = ctx.q("zone");
  const rows = (await services.list()).filter((s) => !s.disabled && (!zone || s.availability_zone === zone));
  return rows.map((s) => ({
    host_name: s.host,
    service: s.binary,
    zone: s.availability_zone,
    "service-status": "available",
    "service-state": s.disabled ? "disabled" : "enabled",
    "last-update": cinderTime(s.updated_at),
  }));
}

/** cinder/api/contrib/hosts.py (deprecated, admin): GET /os-hosts and /os-hosts/{host}. */
export function osHostsRoutes(v: Volume, services: ServicesManager): Route[] {
  const db = v.core.db;
  return [
    {
      method: "GET",
      path: "/os-hosts",
      operation: "listHosts",
      policy: "volume_extension:hosts",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:hosts", own(ctx));
        return { body: { hosts: await listHosts(ctx, services) } };
      },
    },
    {
      method: "GET",
      path: "/os-hosts/:host",
      operation: "showHost",
      policy: "volume_extension:hosts",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:hosts", own(ctx));
        const host = ctx.params["host"]!;
        const svc = (await services.list({ host, binary: "cinder-volume" }))[0];
        if (!svc) throw new NotFound(`Service cinder-volume could not be found on host ${host}.`);
        const vols = (await db.selectFrom("vol_volume").select(["id", "project_id", "size", "host"]).where("host", "is not", null).execute()).filter((r) =>
          hostMatches(r.host!, svc.host),
        );
        const volIds = new Set(vols.map((r) => r.id));
        const snaps = (await db.selectFrom("vol_snapshot").select(["volume_id", "project_id", "size"]).execute()).filter((s) => volIds.has(s.volume_id));
        const per = new Map<string, { vc: number; vg: number; sc: number; sg: number }>();
        const at = (p: string) => {
          let e = per.get(p);
          if (!e) per.set(p, (e = { vc: 0, vg: 0, sc: 0, sg: 0 }));
          return e;
        };
        for (const r of vols) {
          const e = at(r.project_id);
          e.vc++;
          e.vg += r.size;
        }
        for (const s of snaps) {
          const e = at(s.project_id);
          e.sc++;
          e.sg += s.size;
        }
        const tot = { vc: 0, vg: 0, sc: 0, sg: 0 };
        for (const e of per.values()) {
          tot.vc += e.vc;
          tot.vg += e.vg;
          tot.sc += e.sc;
          tot.sg += e.sg;
        }
        const res = (project: string, e: { vc: number; vg: number; sc: number; sg: number }) => ({
          resource: { host, project, volume_count: String(e.vc), total_volume_gb: String(e.vg), snapshot_count: String(e.sc), total_snapshot_gb: String(e.sg) },
        });
        return { body: { host: [res("(total)", tot), ...[...per.entries()].map(([p, e]) => res(p, e))] } };
      },
    },
  ];
}
