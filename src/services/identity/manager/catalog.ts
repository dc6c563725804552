import { hexId } from "../../../common/ids.js";
import type { IdentityCore } from "../core.js";
import type { Q } from "../store/tables.js";
import { json } from "../store/tables.js";

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: Array<{ id: string; interface: string; region: string | null; region_id: string | null; url: string }>;
}

/** Substitute Keystone's endpoint URL templates ($(project_id)s / %(tenant_id)s …). */
export function expandUrl(url: string, projectId: string | undefined): string | undefined {
  let missing = false;
  const out = url.replace(/[$%]\((\w+)\)s/g, (_m, key: string) => {
    if ((key === "project_id" || key === "tenant_id") && projectId) return projectId;
    missing = true;
    return "";
  });
  return missing ? undefined : out;
}

export class CatalogManager {
  /** Filters an area (OS-EP-FILTER) may install to limit a project's catalog. */
  private endpointFilter: ((q: Q, projectId: string) => Promise<Set<string> | undefined>) | undefined;
  constructor(private readonly core: IdentityCore) {}

  setEndpointFilter(f: (q: Q, projectId: string) => Promise<Set<string> | undefined>): void {
    this.endpointFilter = f;
  }

  /** The catalog as tokens and /v3/auth/catalog render it: enabled services and endpoints. */
  async catalog(projectId: string | undefined, q: Q = this.core.db): Promise<CatalogEntry[]> {
    const services = await q.selectFrom("service").selectAll().where("enabled", "=", 1).orderBy("id").execute();
    const endpoints = await q.selectFrom("endpoint").selectAll().where("enabled", "=", 1).orderBy("id").execute();
    const allowed = projectId && this.endpointFilter ? await this.endpointFilter(q, projectId) : undefined;
    const out: CatalogEntry[] = [];
    for (const s of services) {
      const extra = json<{ name?: string }>(s.extra);
      const eps: CatalogEntry["endpoints"] = [];
      for (const e of endpoints) {
        if (e.service_id !== s.id) continue;
        if (allowed && !allowed.has(e.id)) continue;
        const url = expandUrl(e.url, projectId);
        if (url === undefined) continue;
        eps.push({ id: e.id, interface: e.interface, region: e.region_id, region_id: e.region_id, url });
      }
      if (allowed && eps.length === 0) continue;
      out.push({ id: s.id, type: s.type, name: extra.name ?? "", endpoints: eps });
    }
    return out;
  }

  /** Used by bootstrap: make sure region, service and its three endpoints exist. */
  async ensureService(type: string, name: string, url: string, region: string): Promise<void> {
    await this.core.write(async (trx) => {
      const r = await trx.selectFrom("region").select("id").where("id", "=", region).executeTakeFirst();
      if (!r) await trx.insertInto("region").values({ id: region, description: "", parent_region_id: null, extra: "{}" }).execute();
      let svc = await trx.selectFrom("service").selectAll().where("type", "=", type).executeTakeFirst();
      if (!svc) {
        svc = { id: hexId(), type, enabled: 1, extra: JSON.stringify({ name, description: `Stackbox ${name}` }) };
        await trx.insertInto("service").values(svc).execute();
      }
      const have = await trx.selectFrom("endpoint").selectAll().where("service_id", "=", svc.id).execute();
      for (const iface of ["public", "internal", "admin"]) {
        const cur = have.find((e) => e.interface === iface && e.region_id === region);
        if (!cur) {
          await trx
            .insertInto("endpoint")
            .values({ id: hexId(), interface: iface, service_id: svc.id, url, region_id: region, enabled: 1, extra: "{}" })
            .execute();
        } else if (cur.url !== url) {
          await trx.updateTable("endpoint").set({ url }).where("id", "=", cur.id).execute();
        }
      }
    });
  }
}
