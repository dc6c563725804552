import { BadRequest, NotFound } from "../../../common/errors.js";
import { uuid } from "../../../common/ids.js";
import type { RequestContext } from "../../../http/context.js";
import type { Paging } from "../api/common.js";
import { isAdmin } from "../api/common.js";
import type { Volume } from "../api/deps.js";
import type { SnapshotRow, VolumeRow, VolumeTrx, VQ } from "../store/tables.js";

/** The request that started a task (user messages name it); "" when unknown. */
export function requestIdOf(payload: unknown): string {
  const r = (payload as { requestId?: unknown } | null)?.requestId;
  return typeof r === "string" ? r : "";
}

/** Who asks: the token's project and user, and whether Cinder's context is admin. */
export interface Caller {
  projectId: string;
  userId: string;
  admin: boolean;
}

export function callerOf(ctx: RequestContext): Caller {
  return { projectId: ctx.caller.projectId ?? "", userId: ctx.caller.userId, admin: isAdmin(ctx) };
}

/** Cinder's InvalidVolume / InvalidSnapshot / InvalidBackup (400 "Invalid volume: …"). */
export const invalidVolume = (reason: string) => new BadRequest(`Invalid volume: ${reason}`);
export const invalidSnapshot = (reason: string) => new BadRequest(`Invalid snapshot: ${reason}`);
export const invalidBackup = (reason: string) => new BadRequest(`Invalid backup: ${reason}`);

/**
 * Sort, then marker / offset / limit, as Cinder's paginate_query does over the filtered rows
 * (the marker row must be among them: MarkerNotFound 404). `columns` maps API sort keys to
 * row fields. The id breaks ties, as Cinder appends it to the sort keys.
 */
export function pageRows<T extends { id: string }>(rows: T[], paging: Paging, columns: Record<string, keyof T>): T[] {
  const keys = paging.sortKeys.map((k, i) => ({ col: columns[k] ?? (k as keyof T), dir: paging.sortDirs[i] === "asc" ? 1 : -1 }));
  if (!keys.some((k) => k.col === "id")) keys.push({ col: "id" as keyof T, dir: keys[keys.length - 1]?.dir ?? -1 });
  const cmp = (a: T, b: T): number => {
    for (const k of keys) {
      const x = a[k.col] as unknown;
      const y = b[k.col] as unknown;
      if (x === y) continue;
      // NULLs sort first ascending (SQLite and Cinder's MySQL order).
      if (x === null || x === undefined) return -k.dir;
      if (y === null || y === undefined) return k.dir;
      return (x < y ? -1 : 1) * k.dir;
    }
    return 0;
  };
  const sorted = [...rows].sort(cmp);
  let start = 0;
  if (paging.marker !== undefined) {
    const i = sorted.findIndex((r) => r.id === paging.marker);
    if (i < 0) throw new NotFound(`Marker ${paging.marker} could not be found.`);
    start = i + 1;
  }
  start += paging.offset;
  return sorted.slice(start, start + paging.limit);
}

/** A `metadata` filter: a Python dict literal ("{'k': 'v'}") or JSON; undefined when not a dict. */
export function parseMetadataFilter(raw: string | undefined): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  for (const text of [raw, raw.replaceAll("'", '"')]) {
    try {
      const m = JSON.parse(text) as unknown;
      if (typeof m === "object" && m !== null && !Array.isArray(m)) return Object.fromEntries(Object.entries(m).map(([k, x]) => [k, String(x)]));
    } catch {
      // not this form
    }
  }
  return undefined;
}

export function parseJson(text: string | null | undefined): Record<string, string> {
  if (!text) return {};
  try {
    const m = JSON.parse(text) as unknown;
    return typeof m === "object" && m !== null && !Array.isArray(m) ? (m as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export interface SnapshotListOptions {
  allTenants: boolean;
  filters: { name?: string; nameLike?: string; status?: string; volume_id?: string; project_id?: string; metadata?: Record<string, string> };
  paging: Paging;
  withCount: boolean;
}

const SNAPSHOT_SORT: Record<string, keyof SnapshotRow> = {
  name: "name",
  display_name: "name",
  display_description: "description",
  description: "description",
  volume_size: "size",
  size: "size",
};

/**
 * Snapshots (volume/api.py create_snapshot_in_db, delete_snapshot, update_snapshot and the
 * snapshot metadata calls; volume/manager.py create_snapshot / delete_snapshot as tasks).
 */
export class SnapshotManager {
  constructor(private readonly v: Volume) {}

  caller(ctx: RequestContext): Caller {
    return callerOf(ctx);
  }

  /** A volume the caller may see (another project's is "not found" unless admin). */
  async volume(c: Caller, id: string, q: VQ = this.v.core.db): Promise<VolumeRow> {
    const row = await this.v.core.volume(q, id);
    if (!row || (!c.admin && row.project_id !== c.projectId)) throw new NotFound(`Volume ${id} could not be found.`);
    return row;
  }

  async get(c: Caller, id: string, q: VQ = this.v.core.db): Promise<SnapshotRow> {
    const row = await q.selectFrom("vol_snapshot").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row || (!c.admin && row.project_id !== c.projectId)) throw new NotFound(`Snapshot ${id} could not be found.`);
    return row;
  }

  async typeName(typeId: string): Promise<string | undefined> {
    return (await this.v.types.find(typeId))?.name;
  }

  /** _create_snapshot_in_db_validate + create_snapshot_in_db: checks, quota and the row, then the task. */
  async create(
    c: Caller,
    volumeId: string,
    opts: { name: string | null; description: string | null; metadata: Record<string, string>; force: boolean; allowInUse: boolean; requestId?: string },
  ): Promise<SnapshotRow> {
    const v = this.v;
    // Looked up before the transaction: SQLite has one connection, held by the transaction.
    const typeId = (await this.volume(c, volumeId)).volume_type_id;
    const type = await this.typeName(typeId);
    return v.core.write(async (trx) => {
      const vol = await this.lockedVolume(trx, c, volumeId);
      if (!vol.host) throw invalidVolume("The snapshot cannot be created because volume has not been scheduled to any host.");
      if (vol.status === "maintenance") throw invalidVolume("The snapshot cannot be created when the volume is in maintenance mode.");
      if (vol.migration_status && !["success", "error", "none"].includes(vol.migration_status)) throw invalidVolume("Snapshot cannot be created while volume is migrating.");
      if (vol.status === "error") throw invalidVolume("The snapshot cannot be created when the volume is in error status.");
      if (vol.status.startsWith("replica_")) throw invalidVolume("Snapshot of secondary replica is not allowed.");
      const valid = opts.force || opts.allowInUse ? ["available", "in-use"] : ["available"];
      if (!valid.includes(vol.status)) {
        throw invalidVolume(`Volume ${vol.id} status must be ${valid.join(", ")}, but current status is: ${vol.status}.`);
      }
      const deltas: Record<string, number> = { snapshots: 1, gigabytes: vol.size };
      if (type !== undefined && vol.volume_type_id === typeId) {
        deltas[`snapshots_${type}`] = 1;
        deltas[`gigabytes_${type}`] = vol.size;
      }
      await v.quotas.check(trx, c.projectId, deltas);
      const now = v.core.now();
      const row: SnapshotRow = {
        id: uuid(),
        volume_id: vol.id,
        project_id: c.projectId,
        user_id: c.userId,
        name: opts.name,
        description: opts.description,
        status: "creating",
        progress: "0%",
        size: vol.size,
        volume_type_id: vol.volume_type_id,
        metadata: JSON.stringify(opts.metadata),
        group_snapshot_id: null,
        use_quota: 1,
        created_at: now,
        updated_at: null,
      };
      await trx.insertInto("vol_snapshot").values(row).execute();
      await v.tasks.enqueue("volume.snapshot.create", { id: row.id, requestId: opts.requestId ?? "" }, v.driver.latency("snapshot"), trx);
      return row;
    });
  }

  private async lockedVolume(trx: VolumeTrx, c: Caller, id: string): Promise<VolumeRow> {
    const row = await this.v.core.volume(trx, id, true);
    if (!row || (!c.admin && row.project_id !== c.projectId)) throw new NotFound(`Volume ${id} could not be found.`);
    return row;
  }

  async list(c: Caller, o: SnapshotListOptions): Promise<{ rows: SnapshotRow[]; count: number | undefined }> {
    let q = this.v.core.db.selectFrom("vol_snapshot").selectAll();
    const f = o.filters;
    if (!(c.admin && o.allTenants)) q = q.where("project_id", "=", c.projectId);
    else if (f.project_id !== undefined) q = q.where("project_id", "=", f.project_id);
    if (f.name !== undefined) q = q.where("name", "=", f.name);
    if (f.status !== undefined) q = q.where("status", "=", f.status);
    if (f.volume_id !== undefined) q = q.where("volume_id", "=", f.volume_id);
    let rows = await q.execute();
    if (f.nameLike !== undefined) rows = rows.filter((r) => (r.name ?? "").includes(f.nameLike!));
    if (f.metadata) {
      const want = Object.entries(f.metadata);
      rows = rows.filter((r) => {
        const m = parseJson(r.metadata);
        return want.every(([k, x]) => m[k] === x);
      });
    }
    const count = o.withCount ? rows.length : undefined;
    return { rows: pageRows(rows, o.paging, SNAPSHOT_SORT), count };
  }

  async update(id: string, fields: { name?: string | null; description?: string | null }): Promise<SnapshotRow> {
    const patch: Partial<SnapshotRow> = { updated_at: this.v.core.now() };
    if (fields.name !== undefined) patch.name = fields.name;
    if (fields.description !== undefined) patch.description = fields.description;
    await this.v.core.db.updateTable("vol_snapshot").set(patch).where("id", "=", id).execute();
    const row = await this.v.core.db.selectFrom("vol_snapshot").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw new NotFound(`Snapshot ${id} could not be found.`);
    return row;
  }

  /** volume/api.py delete_snapshot: available/error (any status when forced), not in a group snapshot. */
  async delete(s: SnapshotRow, force: boolean, requestId = ""): Promise<void> {
    const v = this.v;
    await v.core.write(async (trx) => {
      let q = trx
        .updateTable("vol_snapshot")
        .set({ status: "deleting", updated_at: v.core.now() })
        .where("id", "=", s.id)
        .where("group_snapshot_id", "is", null);
      if (!force) q = q.where("status", "in", ["available", "error"]);
      const r = await q.executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) {
        const status = force ? "" : "status must be available or error and";
        throw invalidSnapshot(`Snapshot ${status} must not be part of a group.`);
      }
      await v.tasks.enqueue("volume.snapshot.delete", { id: s.id, requestId }, v.driver.latency("delete_snapshot"), trx);
    });
  }

  async updateMetadata(id: string, meta: Record<string, string>, replace: boolean): Promise<Record<string, string>> {
    const v = this.v;
    return v.core.write(async (trx) => {
      let sel = trx.selectFrom("vol_snapshot").select("metadata").where("id", "=", id);
      if (v.core.rowLocks) sel = sel.forUpdate();
      const row = await sel.executeTakeFirst();
      if (!row) throw new NotFound(`Snapshot ${id} could not be found.`);
      const next = replace ? { ...meta } : { ...parseJson(row.metadata), ...meta };
      await trx.updateTable("vol_snapshot").set({ metadata: JSON.stringify(next), updated_at: v.core.now() }).where("id", "=", id).execute();
      return next;
    });
  }

  async deleteMetadataKey(id: string, key: string): Promise<void> {
    const v = this.v;
    await v.core.write(async (trx) => {
      let sel = trx.selectFrom("vol_snapshot").select("metadata").where("id", "=", id);
      if (v.core.rowLocks) sel = sel.forUpdate();
      const row = await sel.executeTakeFirst();
      if (!row) throw new NotFound(`Snapshot ${id} could not be found.`);
      const m = parseJson(row.metadata);
      if (!Object.hasOwn(m, key)) throw new NotFound(`Snapshot ${id} has no metadata with key ${key}.`);
      delete m[key];
      await trx.updateTable("vol_snapshot").set({ metadata: JSON.stringify(m), updated_at: v.core.now() }).where("id", "=", id).execute();
    });
  }

  async setStatus(id: string, status: string, progress?: string): Promise<void> {
    const patch: Partial<SnapshotRow> = { status, updated_at: this.v.core.now() };
    if (progress !== undefined) patch.progress = progress;
    await this.v.core.db.updateTable("vol_snapshot").set(patch).where("id", "=", id).execute();
  }

  /** contrib/snapshot_actions.py os-update_snapshot_status: creating → creating/available/error, deleting → deleting/error_deleting. */
  async updateStatus(s: SnapshotRow, status: string, progress: string | undefined): Promise<void> {
    const map: Record<string, string[]> = { creating: ["creating", "available", "error"], deleting: ["deleting", "error_deleting"] };
    const allowed = map[s.status];
    if (!allowed) throw new BadRequest(`Snapshot status ${s.status} not allowed for update_snapshot_status`);
    if (!allowed.includes(status)) throw new BadRequest(`Provided snapshot status ${status} not allowed for snapshot with status ${s.status}.`);
    const r = await this.v.core.db
      .updateTable("vol_snapshot")
      .set({ status, ...(progress ? { progress } : {}), updated_at: this.v.core.now() })
      .where("id", "=", s.id)
      .where("status", "=", s.status)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new BadRequest(`Provided snapshot status ${status} not allowed for snapshot with status ${s.status}.`);
  }

  /** The tasks of cinder-volume's create_snapshot / delete_snapshot. */
  registerTasks(): void {
    const v = this.v;
    v.tasks.register("volume.snapshot.create", async (payload) => {
      const id = (payload as { id: string }).id;
      const s = await v.core.db.selectFrom("vol_snapshot").selectAll().where("id", "=", id).executeTakeFirst();
      if (!s || s.status !== "creating") return;
      const vol = await v.core.volume(v.core.db, s.volume_id);
      try {
        if (!vol?.backend) throw new Error("volume has no backend");
        v.driver.check("snapshot", vol.backend);
        await v.driver.createSnapshot(vol.backend, vol.id, s.id);
      } catch (e) {
        v.log.warn({ err: e, snapshot: id }, "snapshot create failed");
        await v.core.write(async (trx) => {
          await trx.updateTable("vol_snapshot").set({ status: "error", updated_at: v.core.now() }).where("id", "=", id).where("status", "=", "creating").execute();
          // message_field: SNAPSHOT_CREATE (009) / SNAPSHOT_CREATE_ERROR (013)
          await v.messages.record(trx, { projectId: s.project_id, requestId: requestIdOf(payload), resourceType: "VOLUME_SNAPSHOT", resourceUuid: id, action: "009", detail: "013" });
        });
        return;
      }
      await v.core.db
        .updateTable("vol_snapshot")
        .set({ status: "available", progress: "100%", updated_at: v.core.now() })
        .where("id", "=", id)
        .where("status", "=", "creating")
        .execute();
    });
    v.tasks.register("volume.snapshot.delete", async (payload) => {
      const id = (payload as { id: string }).id;
      const s = await v.core.db.selectFrom("vol_snapshot").selectAll().where("id", "=", id).executeTakeFirst();
      if (!s || s.status !== "deleting") return;
      const vol = await v.core.volume(v.core.db, s.volume_id);
      try {
        if (vol?.backend) {
          v.driver.check("delete_snapshot", vol.backend);
          await v.driver.deleteSnapshot(vol.backend, s.id);
        }
      } catch (e) {
        v.log.warn({ err: e, snapshot: id }, "snapshot delete failed");
        await v.core.write(async (trx) => {
          await trx.updateTable("vol_snapshot").set({ status: "error_deleting", updated_at: v.core.now() }).where("id", "=", id).where("status", "=", "deleting").execute();
          // SNAPSHOT_DELETE (010) / SNAPSHOT_DELETE_ERROR (016)
          await v.messages.record(trx, { projectId: s.project_id, requestId: requestIdOf(payload), resourceType: "VOLUME_SNAPSHOT", resourceUuid: id, action: "010", detail: "016" });
        });
        return;
      }
      await v.core.db.deleteFrom("vol_snapshot").where("id", "=", id).where("status", "=", "deleting").execute();
    });
  }
}
