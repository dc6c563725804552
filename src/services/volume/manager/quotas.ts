import { sql } from "kysely";
import { CloudError } from "../../../common/errors.js";
import type { QuotasApi, Volume } from "../api/deps.js";
import type { VQ, VolumeTrx } from "../store/tables.js";

/** cinder/exception.py QuotaError: 413 overLimit with Retry-After: 0. */
export class QuotaError extends CloudError {
  constructor(message: string) {
    super(413, message, { "Retry-After": "0" });
  }
}

/** The resources Cinder's QUOTAS and GROUP_QUOTAS register, in the order they report them. */
export const BASE_RESOURCES = ["volumes", "snapshots", "gigabytes", "backups", "backup_gigabytes", "per_volume_gigabytes", "groups"] as const;
/** The per-volume-type resources (VolumeTypeResource): `<part>_<type name>`, default -1. */
export const TYPE_PARTS = ["volumes", "gigabytes", "snapshots"] as const;

export interface QuotaUsage {
  limit: number;
  in_use: number;
  reserved: number;
}

/**
 * cinder/quota.py over the DbQuotaDriver: limits are the project's rows, else the "default"
 * quota class's rows (use_default_quota_class), else cinder.conf's quota_* (config.quotas).
 * Usage is not kept in a usages table but counted from the rows themselves (use_quota=1)
 * inside the caller's transaction, so a check and the insert it guards commit together.
 */
export class QuotasManager implements QuotasApi {
  constructor(private readonly v: Volume) {}

  private get db() {
    return this.v.core.db;
  }

  /** Every resource name currently known: the base ones and three per volume type. */
  async resourceNames(q: VQ = this.db): Promise<string[]> {
    const types = await q.selectFrom("vol_type").select("name").orderBy("created_at").orderBy("name").execute();
    const out: string[] = [...BASE_RESOURCES];
    for (const t of types) for (const p of TYPE_PARTS) out.push(`${p}_${t.name}`);
    return out;
  }

  private configDefault(resource: string): number {
    const d = this.v.config.quotas[resource];
    if (typeof d === "number") return d;
    if ((BASE_RESOURCES as readonly string[]).includes(resource)) {
      return resource === "per_volume_gigabytes" ? -1 : resource.includes("gigabytes") ? 1000 : 10;
    }
    return -1;
  }

  /** QUOTAS.get_defaults: config overridden by the "default" class. */
  async defaults(q: VQ = this.db): Promise<Record<string, number>> {
    return this.classQuotas("default", q);
  }

  /** get_class_quotas: the class's rows over the defaults (the "default" class's rows over config). */
  async classQuotas(className: string, q: VQ = this.db): Promise<Record<string, number>> {
    const names = await this.resourceNames(q);
    const rows = await q.selectFrom("vol_quota_class").selectAll().where("class_name", "in", className === "default" ? ["default"] : ["default", className]).execute();
    const def = new Map<string, number>();
    const cls = new Map<string, number>();
    for (const r of rows) (r.class_name === "default" ? def : cls).set(r.resource, Number(r.hard_limit));
    const out: Record<string, number> = {};
    for (const n of names) out[n] = cls.get(n) ?? def.get(n) ?? this.configDefault(n);
    return out;
  }

  async setClass(className: string, values: Record<string, number>): Promise<void> {
    await this.v.core.write(async (trx) => {
      for (const [resource, hard_limit] of Object.entries(values)) {
        const r = await trx.updateTable("vol_quota_class").set({ hard_limit }).where("class_name", "=", className).where("resource", "=", resource).executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) await trx.insertInto("vol_quota_class").values({ class_name: className, resource, hard_limit }).execute();
      }
    });
  }

  /** The project's limits: its own rows over the defaults (or only its own rows when `defaults` is false). */
  async limits(projectId: string, q: VQ = this.db, defaults = true): Promise<Record<string, number>> {
    const base = defaults ? await this.defaults(q) : {};
    const rows = await q.selectFrom("vol_quota").selectAll().where("project_id", "=", projectId).execute();
    const out: Record<string, number> = { ...base };
    for (const r of rows) if (defaults ? r.resource in out : true) out[r.resource] = Number(r.hard_limit);
    return out;
  }

  /** In-use counts of every countable resource, by counting the project's rows. */
  async usage(q: VQ, projectId: string): Promise<Record<string, number>> {
    const types = await q.selectFrom("vol_type").select(["id", "name"]).execute();
    const typeName = new Map(types.map((t) => [t.id, t.name]));
    const u: Record<string, number> = { volumes: 0, snapshots: 0, gigabytes: 0, backups: 0, backup_gigabytes: 0, groups: 0, per_volume_gigabytes: 0 };
    for (const t of types) for (const p of TYPE_PARTS) u[`${p}_${t.name}`] = 0;
    const add = (k: string, n: number) => {
      u[k] = (u[k] ?? 0) + n;
    };
    const vols = await q
      .selectFrom("vol_volume")
      .select((eb) => ["volume_type_id", eb.fn.countAll<number>().as("n"), eb.fn.sum<number>("size").as("gb")])
      .where("project_id", "=", projectId)
      .where("use_quota", "=", 1)
      .groupBy("volume_type_id")
      .execute();
    for (const r of vols) {
      const n = Number(r.n);
      const gb = Number(r.gb ?? 0);
      add("volumes", n);
      add("gigabytes", gb);
      const tn = typeName.get(r.volume_type_id);
      if (tn !== undefined) {
        add(`volumes_${tn}`, n);
        add(`gigabytes_${tn}`, gb);
      }
    }
    const snaps = await q
      .selectFrom("vol_snapshot")
      .select((eb) => ["volume_type_id", eb.fn.countAll<number>().as("n"), eb.fn.sum<number>("size").as("gb")])
      .where("project_id", "=", projectId)
      .where("use_quota", "=", 1)
      .groupBy("volume_type_id")
      .execute();
    for (const r of snaps) {
      const n = Number(r.n);
      const gb = Number(r.gb ?? 0);
      add("snapshots", n);
      // Snapshots consume gigabytes too (no_snapshot_gb_quota = False).
      add("gigabytes", gb);
      const tn = typeName.get(r.volume_type_id);
      if (tn !== undefined) {
        add(`snapshots_${tn}`, n);
        add(`gigabytes_${tn}`, gb);
      }
    }
    const backups = await q
      .selectFrom("vol_backup")
      .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.sum<number>("size").as("gb")])
      .where("project_id", "=", projectId)
      .executeTakeFirst();
    add("backups", Number(backups?.n ?? 0));
    add("backup_gigabytes", Number(backups?.gb ?? 0));
    const groups = await q.selectFrom("vol_group").select((eb) => eb.fn.countAll<number>().as("n")).where("project_id", "=", projectId).executeTakeFirst();
    add("groups", Number(groups?.n ?? 0));
    return u;
  }

  /** get_project_quotas(usages=True): {limit, in_use, reserved} per resource. */
  async projectUsage(projectId: string): Promise<Record<string, QuotaUsage>> {
    const limits = await this.limits(projectId);
    const used = await this.usage(this.db, projectId);
    const out: Record<string, QuotaUsage> = {};
    for (const [k, limit] of Object.entries(limits)) out[k] = { limit, in_use: k === "per_volume_gigabytes" ? 0 : (used[k] ?? 0), reserved: 0 };
    return out;
  }

  async setProject(projectId: string, values: Record<string, number>): Promise<void> {
    await this.v.core.write(async (trx) => {
      for (const [resource, hard_limit] of Object.entries(values)) {
        const r = await trx.updateTable("vol_quota").set({ hard_limit }).where("project_id", "=", projectId).where("resource", "=", resource).executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) await trx.insertInto("vol_quota").values({ project_id: projectId, resource, hard_limit }).execute();
      }
    });
  }

  async deleteProject(projectId: string): Promise<void> {
    await this.db.deleteFrom("vol_quota").where("project_id", "=", projectId).execute();
  }

  async check(trx: VolumeTrx, projectId: string, deltas: Record<string, number>, opts?: { perVolumeSize?: number }): Promise<void> {
    if (this.v.core.rowLocks) {
      // Serialise check-then-insert per project (the reservations table's role in Cinder).
      await sql`select pg_advisory_xact_lock(hashtext(${`cinder-quota:${projectId}`}))`.execute(trx);
    }
    const limits = await this.limits(projectId, trx);
    if (opts?.perVolumeSize !== undefined) {
      const max = limits["per_volume_gigabytes"] ?? -1;
      if (max >= 0 && opts.perVolumeSize > max) {
        throw new QuotaError(`Requested volume size ${opts.perVolumeSize}G is larger than maximum allowed limit ${max}G.`);
      }
    }
    const positive = Object.entries(deltas).filter(([, d]) => d > 0);
    if (positive.length === 0) return;
    const used = await this.usage(trx, projectId);
    // quota_reserve collects the overs in the deltas' order; process_reserve_over_quota raises for the first.
    for (const [key, delta] of positive) {
      const limit = limits[key];
      if (limit === undefined || limit < 0) continue;
      const consumed = used[key] ?? 0;
      if (consumed + delta <= limit) continue;
      throw overQuota(key, delta, limit, consumed);
    }
  }
}

/** cinder/quota_utils.py process_reserve_over_quota: the exception for the first over. */
function overQuota(key: string, requested: number, quota: number, consumed: number): QuotaError {
  if (key === "backup_gigabytes") {
    return new QuotaError(`Requested backup exceeds allowed Backup gigabytes quota. Requested ${requested}G, quota is ${quota}G and ${consumed}G has been consumed.`);
  }
  if (key.includes("gigabytes")) {
    return new QuotaError(`Requested volume or snapshot exceeds allowed ${key} quota. Requested ${requested}G, quota is ${quota}G and ${consumed}G has been consumed.`);
  }
  if (key.startsWith("volumes")) return new QuotaError(`Maximum number of volumes allowed (${quota}) exceeded for quota '${key}'.`);
  if (key.startsWith("snapshots")) return new QuotaError(`Maximum number of snapshots allowed (${quota}) exceeded`);
  if (key === "backups") return new QuotaError(`Maximum number of backups allowed (${quota}) exceeded`);
  if (key === "groups") return new QuotaError(`Maximum number of groups allowed (${quota}) exceeded`);
  return new QuotaError(`Unexpected over quota on ${key}.`);
}
