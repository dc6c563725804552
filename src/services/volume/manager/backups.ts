import { createHash } from "node:crypto";
import { BadRequest, NotFound } from "../../../common/errors.js";
import { uuid } from "../../../common/ids.js";
import { GiB } from "../../../drivers/volume/driver.js";
import type { Paging } from "../api/common.js";
import type { Volume } from "../api/deps.js";
import { NoValidBackend } from "../api/deps.js";
import type { BackupRow, SnapshotRow, VolumeRow, VolumeTrx, VQ } from "../store/tables.js";
import type { Caller } from "./snapshots.js";
import { invalidBackup, invalidSnapshot, invalidVolume, pageRows, parseJson, requestIdOf } from "./snapshots.js";
import { newVolumeRow } from "../store/rows.js";

/**
 * One chunk of a backup (backup/chunkeddriver.py: the volume cut into backup_sha_block_size
 * pieces, a sha256 each). `key` is the blob holding the data; null for an all-zero chunk,
 * which is recorded but never stored. A full backup lists every chunk of the volume; an
 * incremental one lists only the chunks whose sha256 differs from its parent chain's.
 */
export interface Chunk {
  index: number;
  sha256: string | null;
  key: string | null;
}

/** backup.service of the chunked (swift-style) driver these backups are made by. */
const BACKUP_SERVICE = "cinder.backup.drivers.swift.SwiftBackupDriver";
/** backup/api.py IMPORT_VOLUME_ID: an imported backup's volume until the record is applied. */
const IMPORT_VOLUME_ID = "00000000-0000-0000-0000-000000000000";

/** The swift backup driver's default container (backup_swift_container). */
const DEFAULT_CONTAINER = "volumebackups";

function chunksOf(row: Pick<BackupRow, "chunks">): Chunk[] {
  try {
    const c = JSON.parse(row.chunks) as unknown;
    return Array.isArray(c) ? (c as Chunk[]) : [];
  } catch {
    return [];
  }
}

export interface BackupCreate {
  name: string | null;
  description: string | null;
  container: string | null;
  incremental: boolean;
  force: boolean;
  snapshotId: string | null;
  metadata: Record<string, string>;
  availabilityZone: string | null;
  requestId?: string;
}

export interface BackupListOptions {
  allTenants: boolean;
  filters: { name?: string; nameLike?: string; status?: string; volume_id?: string; project_id?: string };
  paging: Paging;
  withCount: boolean;
}

const BACKUP_SORT: Record<string, keyof BackupRow> = { name: "name", display_name: "name", display_description: "description" };

/**
 * Backups (backup/api.py and cinder-backup's manager over a chunked driver whose object
 * store is the BlobStore): create, restore (into a volume or a new one), delete, reset
 * status, update; data really moves through the volume driver and the blobs.
 */
export class BackupManager {
  constructor(private readonly v: Volume) {}

  private get chunkBytes(): number {
    return Math.max(1, this.v.config.backupChunkMb) * 1024 * 1024;
  }

  async get(c: Caller, id: string, q: VQ = this.v.core.db): Promise<BackupRow> {
    const row = await q.selectFrom("vol_backup").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row || (!c.admin && row.project_id !== c.projectId)) throw new NotFound(`Backup ${id} could not be found.`);
    return row;
  }

  async list(c: Caller, o: BackupListOptions): Promise<{ rows: BackupRow[]; count: number | undefined }> {
    let q = this.v.core.db.selectFrom("vol_backup").selectAll();
    const f = o.filters;
    if (!(c.admin && o.allTenants)) q = q.where("project_id", "=", c.projectId);
    else if (f.project_id !== undefined) q = q.where("project_id", "=", f.project_id);
    if (f.name !== undefined) q = q.where("name", "=", f.name);
    if (f.status !== undefined) q = q.where("status", "=", f.status);
    if (f.volume_id !== undefined) q = q.where("volume_id", "=", f.volume_id);
    let rows = await q.execute();
    if (f.nameLike !== undefined) rows = rows.filter((r) => (r.name ?? "").includes(f.nameLike!));
    const count = o.withCount ? rows.length : undefined;
    return { rows: pageRows(rows, o.paging, BACKUP_SORT), count };
  }

  /** backup/api.py create: checks, quota, parent choice, the volume (or snapshot) to backing-up, the row, the task. */
  async create(c: Caller, volumeId: string, o: BackupCreate): Promise<BackupRow> {
    const v = this.v;
    return v.core.write(async (trx) => {
      const vol = await v.core.volume(trx, volumeId, true);
      if (!vol || (!c.admin && vol.project_id !== c.projectId)) throw new NotFound(`Volume ${volumeId} could not be found.`);
      let snap: SnapshotRow | undefined;
      if (o.snapshotId) {
        snap = await trx.selectFrom("vol_snapshot").selectAll().where("id", "=", o.snapshotId).executeTakeFirst();
        if (!snap || (!c.admin && snap.project_id !== c.projectId)) throw new NotFound(`Snapshot ${o.snapshotId} could not be found.`);
        if (snap.volume_id !== vol.id) throw invalidVolume(`Volume ${vol.id} does not match with snapshot.volume_id ${snap.volume_id}.`);
        if (snap.status !== "available") throw invalidSnapshot(`Snapshot to be backed up must be available, but the current status is "${snap.status}".`);
      } else if (!["available", "in-use"].includes(vol.status)) {
        throw invalidVolume(`Volume to be backed up must be available or in-use, but the current status is "${vol.status}".`);
      } else if (vol.status === "in-use" && !o.force) {
        throw invalidVolume("Backing up an in-use volume must use the force flag.");
      }
      await v.quotas.check(trx, c.projectId, { backups: 1, backup_gigabytes: vol.size });
      let parent: BackupRow | undefined;
      if (o.incremental) {
        const all = await trx.selectFrom("vol_backup").selectAll().where("volume_id", "=", vol.id).where("project_id", "=", c.projectId).execute();
        if (all.length === 0) throw invalidBackup("No backups available to do an incremental backup.");
        // The latest data_timestamp; backing up a snapshot, only backups older than the snapshot count.
        const key = (b: BackupRow) => (!snap || b.data_timestamp < snap.created_at ? b.data_timestamp : "");
        parent = all.reduce((a, b) => (key(b) > key(a) ? b : a));
        if (parent.status !== "available") throw invalidBackup("The parent backup must be available for incremental backup.");
      }
      const now = v.core.now();
      if (snap) {
        await trx.updateTable("vol_snapshot").set({ status: "backing-up", updated_at: now }).where("id", "=", snap.id).execute();
      } else {
        await v.core.setVolume(trx, vol.id, { status: "backing-up", previous_status: vol.status });
      }
      const row: BackupRow = {
        id: uuid(),
        volume_id: vol.id,
        snapshot_id: snap?.id ?? null,
        project_id: c.projectId,
        user_id: c.userId,
        name: o.name,
        description: o.description,
        status: "creating",
        size: vol.size,
        object_count: 0,
        container: o.container ?? DEFAULT_CONTAINER,
        availability_zone: o.availabilityZone ?? v.config.defaultAvailabilityZone,
        is_incremental: parent ? 1 : 0,
        parent_id: parent?.id ?? null,
        num_dependent_backups: 0,
        data_timestamp: snap?.created_at ?? now,
        metadata: JSON.stringify(o.metadata),
        fail_reason: null,
        host: v.config.host,
        restore_volume_id: null,
        chunks: "[]",
        created_at: now,
        updated_at: null,
      };
      await trx.insertInto("vol_backup").values(row).execute();
      await v.tasks.enqueue("volume.backup.create", { id: row.id, previous: vol.status, requestId: o.requestId ?? "" }, v.driver.latency("backup"), trx);
      return row;
    });
  }

  /** backup/api.py restore into `volumeId`, or into a new volume of the backup's size (name given or restore_backup_<id>). */
  async restore(c: Caller, b: BackupRow, volumeId: string | null, name: string | null, requestId = ""): Promise<{ backup_id: string; volume_id: string; volume_name: string | null }> {
    const v = this.v;
    if (b.status !== "available") throw invalidBackup("Backup status must be available");
    if (volumeId === null) {
      const type = await v.types.resolve(c.projectId, undefined, c.admin);
      const volName = name ?? `restore_backup_${b.id}`;
      const id = uuid();
      let backend;
      try {
        backend = await v.scheduler.pick({ sizeGb: b.size, type });
      } catch (e) {
        // The new volume would go to error (no backend): Cinder's restore then refuses.
        if (e instanceof NoValidBackend) throw invalidVolume(`Error while creating volume ${id} for restoring backup ${b.id}.`);
        throw e;
      }
      await v.core.write(async (trx) => {
        await v.quotas.check(trx, c.projectId, { volumes: 1, gigabytes: b.size, [`volumes_${type.name}`]: 1, [`gigabytes_${type.name}`]: b.size }, { perVolumeSize: b.size });
        const cur = await trx.selectFrom("vol_backup").select("status").where("id", "=", b.id).executeTakeFirst();
        if (cur?.status !== "available") throw invalidBackup("Backup status must be available");
        const now = v.core.now();
        const vol = newVolumeRow({
          id,
          project_id: c.projectId,
          user_id: c.userId,
          name: volName,
          description: "auto-created_from_restore_from_backup",
          size: b.size,
          status: "restoring-backup",
          availability_zone: backend.availabilityZone,
          volume_type_id: type.id,
          host: backend.pool,
          backend: backend.name,
          created_at: now,
        });
        await trx.insertInto("vol_volume").values(vol).execute();
        await trx.updateTable("vol_backup").set({ status: "restoring", restore_volume_id: id, updated_at: now }).where("id", "=", b.id).execute();
        await v.tasks.enqueue("volume.backup.restore", { id: b.id, volumeId: id, fresh: true, requestId }, v.driver.latency("restore"), trx);
      });
      return { backup_id: b.id, volume_id: id, volume_name: volName };
    }
    return v.core.write(async (trx) => {
      const vol = await v.core.volume(trx, volumeId, true);
      if (!vol || (!c.admin && vol.project_id !== c.projectId)) throw new NotFound(`Volume ${volumeId} could not be found.`);
      if (vol.status !== "available") throw invalidVolume("Volume to be restored to must be available");
      if (b.size > vol.size) throw invalidVolume(`volume size ${vol.size} is too small to restore backup of size ${b.size}.`);
      const r = await trx
        .updateTable("vol_backup")
        .set({ status: "restoring", restore_volume_id: vol.id, updated_at: v.core.now() })
        .where("id", "=", b.id)
        .where("status", "=", "available")
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw invalidBackup("Backup status must be available");
      if (!(await v.core.casVolume(trx, vol.id, ["available"], { status: "restoring-backup" }))) throw invalidVolume("Volume to be restored to must be available");
      await v.tasks.enqueue("volume.backup.restore", { id: b.id, volumeId: vol.id, fresh: false, requestId }, v.driver.latency("restore"), trx);
      return { backup_id: b.id, volume_id: vol.id, volume_name: vol.name };
    });
  }

  /** backup/api.py delete: available or error unless forced; never while incremental backups depend on it. */
  async delete(b: BackupRow, force: boolean): Promise<void> {
    const v = this.v;
    await v.core.write(async (trx) => {
      if (!force && !["available", "error"].includes(b.status)) throw invalidBackup("Backup status must be available or error");
      const dep = await trx.selectFrom("vol_backup").select("id").where("parent_id", "=", b.id).executeTakeFirst();
      if (dep) throw invalidBackup("Incremental backups exist for this backup.");
      let q = trx.updateTable("vol_backup").set({ status: "deleting", updated_at: v.core.now() }).where("id", "=", b.id);
      if (!force) q = q.where("status", "in", ["available", "error"]);
      const r = await q.executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw invalidBackup("Backup status must be available or error");
      await v.tasks.enqueue("volume.backup.delete", { id: b.id }, v.driver.latency("delete"), trx);
    });
  }

  async update(id: string, fields: { name?: string | null; description?: string | null; metadata?: Record<string, string> }): Promise<BackupRow> {
    const patch: Partial<BackupRow> = { updated_at: this.v.core.now() };
    if (fields.name !== undefined) patch.name = fields.name;
    if (fields.description !== undefined) patch.description = fields.description;
    if (fields.metadata !== undefined) patch.metadata = JSON.stringify(fields.metadata);
    await this.v.core.db.updateTable("vol_backup").set(patch).where("id", "=", id).execute();
    const row = await this.v.core.db.selectFrom("vol_backup").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw new NotFound(`Backup ${id} could not be found.`);
    return row;
  }

  /** backup manager reset_status (available or error). */
  async resetStatus(id: string, status: string): Promise<void> {
    await this.v.core.db.updateTable("vol_backup").set({ status, updated_at: this.v.core.now() }).where("id", "=", id).execute();
  }

  /**
   * backup/api.py export_record + the manager's: the backup's record (Backup.encode_record:
   * its fields, base64 JSON) and the driver that holds its data.
   */
  exportRecord(b: BackupRow): { backup_service: string; backup_url: string } {
    if (b.status !== "available") throw invalidBackup(`Backup status must be available and not ${b.status}.`);
    const record = {
      id: b.id,
      user_id: b.user_id,
      project_id: b.project_id,
      volume_id: b.volume_id,
      host: b.host,
      availability_zone: b.availability_zone,
      container: b.container,
      parent_id: b.parent_id,
      status: b.status,
      fail_reason: b.fail_reason,
      size: b.size,
      display_name: b.name,
      display_description: b.description,
      service_metadata: b.id,
      service: BACKUP_SERVICE,
      object_count: b.object_count,
      temp_volume_id: null,
      temp_snapshot_id: null,
      num_dependent_backups: b.num_dependent_backups,
      snapshot_id: b.snapshot_id,
      data_timestamp: b.data_timestamp,
      restore_volume_id: b.restore_volume_id,
      metadata: parseJson(b.metadata),
      encryption_key_id: null,
      created_at: b.created_at,
      updated_at: b.updated_at,
      chunks: chunksOf(b),
      is_incremental: b.is_incremental === 1,
    };
    return { backup_service: BACKUP_SERVICE, backup_url: Buffer.from(JSON.stringify(record)).toString("base64") };
  }

  /**
   * backup/api.py import_record + _get_import_backup: the record's id must be new; quota; a
   * row in creating on the import volume id, then the backup service takes the record.
   */
  async importRecord(c: Caller, service: string, url: string): Promise<BackupRow> {
    const v = this.v;
    let record: Record<string, unknown>;
    try {
      const text = Buffer.from(url, "base64").toString("utf8");
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      record = parsed as Record<string, unknown>;
    } catch {
      throw new BadRequest("Invalid input received: Can't parse backup record.");
    }
    if (!("id" in record)) throw new BadRequest("Invalid input received: Provided backup record is missing an id");
    if (!("size" in record)) throw new BadRequest("Invalid input received: Provided backup record is missing size attribute");
    const id = String(record["id"]);
    const size = Number(record["size"]) || 0;
    return v.core.write(async (trx) => {
      const have = await trx.selectFrom("vol_backup").select("id").where("id", "=", id).executeTakeFirst();
      if (have) throw invalidBackup("Backup already exists in database.");
      await v.quotas.check(trx, c.projectId, { backups: 1, backup_gigabytes: size });
      const now = v.core.now();
      const row: BackupRow = {
        id,
        volume_id: IMPORT_VOLUME_ID,
        snapshot_id: null,
        project_id: c.projectId,
        user_id: c.userId,
        name: null,
        description: null,
        status: "creating",
        size,
        object_count: 0,
        container: null,
        availability_zone: null,
        is_incremental: 0,
        parent_id: null,
        num_dependent_backups: 0,
        data_timestamp: now,
        metadata: "{}",
        fail_reason: null,
        host: v.config.host,
        restore_volume_id: null,
        chunks: "[]",
        created_at: now,
        updated_at: null,
      };
      await trx.insertInto("vol_backup").values(row).execute();
      await v.tasks.enqueue("volume.backup.import", { id, service, url }, 0, trx);
      return row;
    });
  }

  /** The chunk map a backup restores to: its chain from the full backup up, later chunks overriding. */
  private async effectiveChunks(b: BackupRow): Promise<Map<number, Chunk>> {
    const chain: BackupRow[] = [b];
    let cur = b;
    while (cur.parent_id) {
      const p = await this.v.core.db.selectFrom("vol_backup").selectAll().where("id", "=", cur.parent_id).executeTakeFirst();
      if (!p) break;
      chain.push(p);
      cur = p;
    }
    const map = new Map<number, Chunk>();
    for (const x of chain.reverse()) for (const ch of chunksOf(x)) map.set(ch.index, ch);
    return map;
  }

  /** Read the source (volume or snapshot) chunk by chunk: sha256 each, store what the parent chain lacks. */
  private async runBackup(b: BackupRow, vol: VolumeRow): Promise<Chunk[]> {
    const v = this.v;
    const backend = vol.backend!;
    const parentMap = b.parent_id ? await this.effectiveChunks({ ...b, chunks: "[]" }) : new Map<number, Chunk>();
    const source = b.snapshot_id ? `snap-${b.snapshot_id}` : vol.id;
    const stream = await v.driver.read(backend, source, { start: 0, length: b.size * GiB });
    const size = this.chunkBytes;
    const out: Chunk[] = [];
    // A chunk's buffer exists only once a non-zero piece arrives: sparse volumes cost no copies.
    let buf: Buffer | undefined;
    let fill = 0;
    let index = 0;
    const flush = async (n: number) => {
      const data = buf?.subarray(0, n);
      const sha = data ? createHash("sha256").update(data).digest("hex") : null;
      const prev = parentMap.get(index);
      if (prev && prev.sha256 === sha) {
        // unchanged since the parent chain: nothing to store or record
      } else if (!data) {
        out.push({ index, sha256: null, key: null });
      } else {
        const key = `backup/${b.id}/${index}`;
        await v.blobs.put(key, once(data), { hashes: ["sha256"] });
        out.push({ index, sha256: sha, key });
      }
      index++;
      buf = undefined;
      fill = 0;
    };
    for await (const piece of stream as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < piece.length) {
        const n = Math.min(size - fill, piece.length - off);
        const part = piece.subarray(off, off + n);
        if (buf || !isZero(part)) {
          buf ??= Buffer.alloc(size);
          part.copy(buf, fill);
        }
        fill += n;
        off += n;
        if (fill === size) await flush(fill);
      }
    }
    if (fill > 0) await flush(fill);
    return out;
  }

  /**
   * Write backup `b`'s data into the volume's disk (which must exist on its backend). `fresh`:
   * the disk is new (all zeros), so zero chunks are skipped; otherwise a chunk that is zero in
   * the backup is zeroed on the disk where it holds data.
   */
  async writeInto(b: BackupRow, vol: VolumeRow, fresh: boolean): Promise<void> {
    const v = this.v;
    const backend = vol.backend!;
    const map = await this.effectiveChunks(b);
    const size = this.chunkBytes;
    const total = b.size * GiB;
    for (let index = 0; index * size < total; index++) {
      const ch = map.get(index);
      const offset = index * size;
      const length = Math.min(size, total - offset);
      if (ch?.key) {
        const data = await v.blobs.get(ch.key);
        if (!data) throw new Error(`backup ${b.id}: chunk ${index} is missing`);
        await v.driver.write(backend, vol.id, data as AsyncIterable<Uint8Array>, offset);
      } else if (!fresh) {
        // Zero only the pieces of the disk that hold data (writing zeros everywhere would un-sparse it).
        let pos = offset;
        for await (const piece of (await v.driver.read(backend, vol.id, { start: offset, length })) as AsyncIterable<Buffer>) {
          if (!isZero(piece)) await v.driver.write(backend, vol.id, once(Buffer.alloc(piece.length)), pos);
          pos += piece.length;
        }
      }
    }
  }

  /**
   * The chunked driver's metadata object (backup/driver.py BackupMetadataAPI): the volume's
   * base fields, its user metadata and its Glance metadata, kept beside the chunks.
   */
  private async saveVolumeMetadata(b: BackupRow, vol: VolumeRow): Promise<void> {
    const doc = {
      version: 2,
      "volume-base-metadata": { display_name: vol.name, display_description: vol.description, volume_type_id: vol.volume_type_id, encryption_key_id: null },
      "volume-metadata": parseJson(vol.metadata),
      ...(vol.image_metadata ? { "volume-glance-metadata": parseJson(vol.image_metadata) } : {}),
    };
    await this.v.blobs.put(`backup/${b.id}/metadata`, once(Buffer.from(JSON.stringify(doc))));
  }

  /**
   * _v2_restore_factory: the name and description when the target has none (or the restore's
   * default name), the user metadata replaced, Glance metadata set and the volume bootable.
   */
  async restoreVolumeMetadata(b: BackupRow, volumeId: string): Promise<void> {
    const v = this.v;
    const stream = await v.blobs.get(`backup/${b.id}/metadata`);
    if (!stream) return;
    const doc = JSON.parse((await readAll(stream as AsyncIterable<Uint8Array>)).toString("utf8")) as {
      "volume-base-metadata"?: { display_name?: string | null; display_description?: string | null };
      "volume-metadata"?: Record<string, string>;
      "volume-glance-metadata"?: Record<string, string>;
    };
    const target = await v.core.volume(v.core.db, volumeId);
    if (!target) return;
    const patch: Partial<VolumeRow> = {};
    const base = doc["volume-base-metadata"];
    if (base?.display_name && (!target.name || target.name.startsWith("restore_backup_"))) {
      patch.name = base.display_name;
      patch.description = base.display_description ?? null;
    }
    if (doc["volume-metadata"]) patch.metadata = JSON.stringify(doc["volume-metadata"]);
    if (doc["volume-glance-metadata"]) {
      patch.image_metadata = JSON.stringify(doc["volume-glance-metadata"]);
      patch.bootable = 1;
    }
    if (Object.keys(patch).length) await v.core.setVolume(v.core.db, volumeId, patch);
  }

  registerTasks(): void {
    const v = this.v;
    v.tasks.register("volume.backup.create", async (payload) => {
      const { id, previous } = payload as { id: string; previous: string };
      const b = await v.core.db.selectFrom("vol_backup").selectAll().where("id", "=", id).executeTakeFirst();
      if (!b || b.status !== "creating") return;
      const vol = await v.core.volume(v.core.db, b.volume_id);
      // The source goes back in the transaction that settles the backup, so nobody sees one without the other.
      const restoreSource = async (trx: VolumeTrx) => {
        if (b.snapshot_id) {
          await trx.updateTable("vol_snapshot").set({ status: "available", updated_at: v.core.now() }).where("id", "=", b.snapshot_id).where("status", "=", "backing-up").execute();
        } else if (vol) {
          await v.core.casVolume(trx, vol.id, ["backing-up"], { status: vol.previous_status ?? previous, previous_status: "backing-up" });
        }
      };
      let chunks: Chunk[];
      try {
        if (!vol?.backend) throw new Error(`volume ${b.volume_id} has no backend`);
        v.driver.check("backup", vol.backend);
        chunks = await this.runBackup(b, vol);
        await this.saveVolumeMetadata(b, vol);
      } catch (e) {
        v.log.warn({ err: e, backup: id }, "backup failed");
        await v.core.write(async (trx) => {
          await trx
            .updateTable("vol_backup")
            .set({ status: "error", fail_reason: e instanceof Error ? e.message : String(e), updated_at: v.core.now() })
            .where("id", "=", id)
            .execute();
          await restoreSource(trx);
          // message_field: BACKUP_CREATE (013) / BACKUP_CREATE_DRIVER_ERROR (020)
          await v.messages.record(trx, { projectId: b.project_id, requestId: requestIdOf(payload), resourceType: "VOLUME_BACKUP", resourceUuid: id, action: "013", detail: "020" });
        });
        return;
      }
      await v.core.write(async (trx) => {
        await trx
          .updateTable("vol_backup")
          .set({ status: "available", chunks: JSON.stringify(chunks), object_count: chunks.filter((c) => c.key).length, updated_at: v.core.now() })
          .where("id", "=", id)
          .where("status", "=", "creating")
          .execute();
        if (b.parent_id) {
          await trx
            .updateTable("vol_backup")
            .set((eb) => ({ num_dependent_backups: eb("num_dependent_backups", "+", 1) }))
            .where("id", "=", b.parent_id)
            .execute();
        }
        await restoreSource(trx);
      });
    });
    v.tasks.register("volume.backup.restore", async (payload) => {
      const { id, volumeId, fresh } = payload as { id: string; volumeId: string; fresh: boolean };
      const b = await v.core.db.selectFrom("vol_backup").selectAll().where("id", "=", id).executeTakeFirst();
      const vol = await v.core.volume(v.core.db, volumeId);
      if (!b || b.status !== "restoring" || !vol || vol.status !== "restoring-backup") return;
      try {
        if (!vol.backend) throw new Error(`volume ${vol.id} has no backend`);
        v.driver.check("restore", vol.backend);
        if (fresh) await v.driver.createVolume(vol.backend, vol.id, vol.size);
        await this.writeInto(b, vol, fresh);
        await this.restoreVolumeMetadata(b, vol.id);
      } catch (e) {
        v.log.warn({ err: e, backup: id, volume: volumeId }, "backup restore failed");
        await v.core.write(async (trx) => {
          await trx.updateTable("vol_backup").set({ status: "available", updated_at: v.core.now() }).where("id", "=", id).execute();
          await v.core.casVolume(trx, vol.id, ["restoring-backup"], { status: "error_restoring" });
          // BACKUP_RESTORE (015) / BACKUP_RESTORE_ERROR (026)
          await v.messages.record(trx, { projectId: b.project_id, requestId: requestIdOf(payload), resourceType: "VOLUME_BACKUP", resourceUuid: id, action: "015", detail: "026" });
        });
        return;
      }
      await v.core.write(async (trx) => {
        await trx.updateTable("vol_backup").set({ status: "available", updated_at: v.core.now() }).where("id", "=", id).where("status", "=", "restoring").execute();
        await v.core.casVolume(trx, vol.id, ["restoring-backup"], { status: "available", ...(fresh ? { launched_at: v.core.now() } : {}) });
      });
    });
    v.tasks.register("volume.backup.import", async (payload) => {
      const { id, service, url } = payload as { id: string; service: string; url: string };
      const b = await v.core.db.selectFrom("vol_backup").selectAll().where("id", "=", id).executeTakeFirst();
      if (!b || b.status !== "creating") return;
      if (service !== BACKUP_SERVICE) {
        await v.core.db
          .updateTable("vol_backup")
          .set({ status: "error", fail_reason: `Import record failed, cannot find backup service to perform the import. Request service ${service}.`, updated_at: v.core.now() })
          .where("id", "=", id)
          .execute();
        return;
      }
      const r = JSON.parse(Buffer.from(url, "base64").toString("utf8")) as Record<string, unknown>;
      const str = (k: string) => (typeof r[k] === "string" ? (r[k] as string) : null);
      const missing = ["display_name", "display_description", "container", "size", "service_metadata", "object_count", "id"].filter((k) => !(k in r));
      if (missing.length) {
        await v.core.db
          .updateTable("vol_backup")
          .set({ status: "error", fail_reason: `Driver successfully decoded imported backup data, but there are missing fields (${missing.join(", ")}).`, updated_at: v.core.now() })
          .where("id", "=", id)
          .execute();
        return;
      }
      // The record's data lives under the exporting backup's chunks; its metadata object is copied.
      const source = str("service_metadata");
      if (source && source !== id) {
        const meta = await v.blobs.get(`backup/${source}/metadata`);
        if (meta) await v.blobs.put(`backup/${id}/metadata`, meta as AsyncIterable<Uint8Array>);
      }
      await v.core.db
        .updateTable("vol_backup")
        .set({
          status: "available",
          volume_id: str("volume_id") ?? IMPORT_VOLUME_ID,
          snapshot_id: str("snapshot_id"),
          // The importer owns it: the record's name, user, project, status and fail_reason are dropped.
          name: str("display_name"),
          description: str("display_description"),
          object_count: Number(r["object_count"]) || 0,
          container: str("container"),
          availability_zone: v.config.defaultAvailabilityZone,
          is_incremental: r["is_incremental"] === true ? 1 : 0,
          parent_id: str("parent_id"),
          data_timestamp: str("data_timestamp") ?? b.data_timestamp,
          metadata: JSON.stringify(typeof r["metadata"] === "object" && r["metadata"] !== null ? r["metadata"] : {}),
          chunks: JSON.stringify(Array.isArray(r["chunks"]) ? r["chunks"] : []),
          updated_at: v.core.now(),
        })
        .where("id", "=", id)
        .where("status", "=", "creating")
        .execute();
    });
    v.tasks.register("volume.backup.delete", async (payload) => {
      const { id } = payload as { id: string };
      const b = await v.core.db.selectFrom("vol_backup").selectAll().where("id", "=", id).executeTakeFirst();
      if (!b || b.status !== "deleting") return;
      for (const ch of chunksOf(b)) if (ch.key && ch.key.startsWith(`backup/${b.id}/`)) await v.blobs.delete(ch.key);
      await v.blobs.delete(`backup/${b.id}/metadata`);
      await v.core.write(async (trx) => {
        const r = await trx.deleteFrom("vol_backup").where("id", "=", id).where("status", "=", "deleting").executeTakeFirst();
        if (Number(r.numDeletedRows) > 0 && b.parent_id) {
          await trx
            .updateTable("vol_backup")
            .set((eb) => ({ num_dependent_backups: eb("num_dependent_backups", "-", 1) }))
            .where("id", "=", b.parent_id)
            .where("num_dependent_backups", ">", 0)
            .execute();
        }
      });
    });
  }
}

const ZERO = Buffer.alloc(1024 * 1024);

function isZero(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i += ZERO.length) {
    const n = Math.min(ZERO.length, buf.length - i);
    if (!buf.subarray(i, i + n).equals(ZERO.subarray(0, n))) return false;
  }
  return true;
}

async function* once(buf: Buffer): AsyncIterable<Uint8Array> {
  yield buf;
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of stream) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}

/**
 * For the volumes area (3.47 create from backup_id): write backup `volume.backup_id`'s data
 * into the new volume's disk once the driver has created it (the volume must be scheduled:
 * backend set). Idempotent; throws when the backup is gone or a chunk is missing.
 */
export async function restoreInto(v: Volume, volume: VolumeRow): Promise<void> {
  if (!volume.backup_id) return;
  const b = await v.core.db.selectFrom("vol_backup").selectAll().where("id", "=", volume.backup_id).executeTakeFirst();
  if (!b) throw new NotFound(`Backup ${volume.backup_id} could not be found.`);
  const m = new BackupManager(v);
  await m.writeInto(b, volume, true);
  await m.restoreVolumeMetadata(b, volume.id);
}

export { parseJson };
