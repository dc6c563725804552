import { BadRequest, NotFound } from "../../../common/errors.js";
import type { Volume } from "../api/deps.js";
import type { VolumeTables } from "../store/tables.js";

export type ServiceRow = VolumeTables["vol_service"];

/**
 * db/sqlalchemy/api.py _filter_host: a value with "#" matches one pool exactly, with "@" the
 * backend and its pools, otherwise the host, its backends and pools.
 */
export function hostMatches(host: string, value: string): boolean {
  if (host === value) return true;
  if (value.includes("#")) return false;
  if (host.startsWith(`${value}#`)) return true;
  if (!value.includes("@") && host.startsWith(`${value}@`)) return true;
  return false;
}

/** The cinder services (vol_service rows; bootstrap.ts creates them) and their admin switches. */
export class ServicesManager {
  constructor(private readonly v: Volume) {}

  async list(filters: { host?: string | undefined; binary?: string | undefined } = {}): Promise<ServiceRow[]> {
    let s = this.v.core.db.selectFrom("vol_service").selectAll().orderBy("created_at").orderBy("binary").orderBy("host");
    if (filters.binary !== undefined) s = s.where("binary", "=", filters.binary);
    const rows = await s.execute();
    return filters.host === undefined ? rows : rows.filter((r) => hostMatches(r.host, filters.host!));
  }

  /** objects.Service.get_by_args + save: 404 ServiceNotFound when no service has that host and binary. */
  async setDisabled(host: string, binary: string, disabled: boolean, reason?: string | null): Promise<void> {
    const set: Partial<ServiceRow> = { disabled: disabled ? 1 : 0, updated_at: this.v.core.now() };
    if (reason !== undefined) set.disabled_reason = reason;
    const r = await this.v.core.db.updateTable("vol_service").set(set).where("host", "=", host).where("binary", "=", binary).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) {
      throw new NotFound(host ? `Service ${binary} could not be found on host ${host}.` : `Service ${binary} could not be found.`);
    }
  }

  /** volume/api.py freeze_host / thaw_host (_replication_db_change on `frozen`). */
  async setFrozen(host: string, frozen: boolean): Promise<void> {
    const services = (await this.list({ host, binary: "cinder-volume" }));
    if (services.length === 0) throw new BadRequest(`No service found with host=${host}`);
    const first = services[0]!.host;
    if (services.some((s) => s.host !== first)) throw new BadRequest("Services from different clusters found.");
    const r = await this.v.core.db
      .updateTable("vol_service")
      .set({ frozen: frozen ? 1 : 0, updated_at: this.v.core.now() })
      .where("host", "=", first)
      .where("binary", "=", "cinder-volume")
      .where("frozen", "=", frozen ? 0 : 1)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) {
      throw new BadRequest(`Invalid input received: No service could be changed: frozen in ['${first}'] must be ${frozen ? "False" : "True"} to failover.`);
    }
  }
}
