import { BadRequest, Conflict, NotFound } from "../../../common/errors.js";
import { uuid } from "../../../common/ids.js";
import type { Volume, VolumeType } from "../api/deps.js";
import type { SnapshotRow, VolumeRow, VolumeTrx, VQ } from "../store/tables.js";
import { adminMetadata, imageMetadata, userMetadata } from "../views/volumes.js";
import type { Scheduler } from "./scheduler.js";
import { satisfiesExtraSpecs } from "./scheduler.js";
import { newVolumeRow } from "../store/rows.js";

/** Who asks (managers never see HTTP). */
export interface Caller {
  projectId: string;
  userId: string;
  admin: boolean;
  requestId: string;
  /** The user's token, for calls made on the user's behalf (Glance). */
  token: string;
}

/** cinder/volume/api.py AVAILABLE_MIGRATION_STATUS. */
export const AVAILABLE_MIGRATION_STATUS = [null, "error", "success"];

export const volumeNotFound = (id: string) => new NotFound(`Volume ${id} could not be found.`);
export const invalidVolume = (reason: string) => new BadRequest(`Invalid volume: ${reason}`);
export const invalidInput = (reason: string) => new BadRequest(`Invalid input received: ${reason}`);

export interface CreateRequest {
  size: number | undefined;
  name: string | null;
  description: string | null;
  type: VolumeType | undefined;
  metadata: Record<string, string>;
  availabilityZone: string | undefined;
  snapshot: SnapshotRow | undefined;
  source: VolumeRow | undefined;
  image: Record<string, unknown> | undefined;
  backup: { id: string; size: number; status: string } | undefined;
  groupId: string | undefined;
  hints: { differentHost: string[]; sameHost: string[] };
}

export interface ListQuery {
  allTenants: boolean;
  filters: Record<string, unknown>;
  sortKeys: string[];
  sortDirs: Array<"asc" | "desc">;
  marker: string | undefined;
  limit: number;
  offset: number;
  withCount: boolean;
}

/** cinder/volume/api.py: the volume state machines and checks, worded as Cinder words them. */
export class VolumeManager {
  constructor(
    readonly v: Volume,
    readonly scheduler: Scheduler,
  ) {}

  /** A volume visible to the caller (another project's is "not found" unless admin). */
  async get(c: Caller, id: string, q: VQ = this.v.core.db): Promise<VolumeRow> {
    const row = await this.v.core.volume(q, id);
    if (!row || (!c.admin && row.project_id !== c.projectId)) throw volumeNotFound(id);
    return row;
  }

  async snapshot(c: Caller, id: string): Promise<SnapshotRow> {
    const s = await this.v.core.db.selectFrom("vol_snapshot").selectAll().where("id", "=", id).executeTakeFirst();
    if (!s || (!c.admin && s.project_id !== c.projectId)) throw new NotFound(`Snapshot ${id} could not be found.`);
    return s;
  }

  async typeById(id: string): Promise<VolumeType | undefined> {
    return this.v.types.find(id);
  }

  // ---- create -------------------------------------------------------------------------

  async create(c: Caller, r: CreateRequest): Promise<VolumeRow> {
    const opts = { snapshot: r.snapshot, imageRef: r.image, source_volume: r.source, backup: r.backup };
    const given = Object.entries(opts).filter(([, x]) => x !== undefined);
    if (given.length > 1) throw invalidInput(`May specify only one of ${Object.keys(opts).map((k) => k.replaceAll("_", " ")).sort().join(", ")}`);
    if (r.snapshot && r.snapshot.status !== "available") throw new BadRequest(`Invalid snapshot: Originating snapshot status must be one of 'available' values`);
    if (r.source && !["available", "in-use"].includes(r.source.status)) throw invalidVolume(`Originating source volume status must be one of 'available, in-use' values`);
    if (r.backup && r.backup.status !== "available") throw new BadRequest(`Invalid backup: Originating backup status must be one of 'available' values`);
    // _extract_size
    let size = r.size;
    if (!size && r.source) size = r.source.size;
    else if (!size && r.snapshot) size = r.snapshot.size;
    else if (!size && r.backup) size = r.backup.size;
    if (size === undefined || !Number.isInteger(size) || size <= 0) throw invalidInput(`Volume size '${size ?? "None"}' must be an integer and greater than 0`);
    if (r.source && size < r.source.size) {
      throw invalidInput(`Volume size '${size}'GB cannot be smaller than original volume size  ${r.source.size}GB. They must be >= original volume size.`);
    } else if (!r.source && r.snapshot && size < r.snapshot.size) {
      throw invalidInput(`Volume size '${size}'GB cannot be smaller than the snapshot size ${r.snapshot.size}GB. They must be >= original snapshot size.`);
    } else if (!r.source && !r.snapshot && r.backup && size < r.backup.size) {
      throw invalidInput(`Volume size ${size}GB cannot be smaller than the backup size ${r.backup.size}GB. It must be >= backup size.`);
    }
    if (r.image) checkImage(r.image, size);
    // _get_volume_type: requested, else the source's, else the default.
    let type = r.type;
    const snapVolume = r.snapshot ? await this.v.core.volume(this.v.core.db, r.snapshot.volume_id) : undefined;
    if (!type && r.source) type = await this.typeById(r.source.volume_type_id);
    if (!type && r.snapshot) type = await this.typeById(r.snapshot.volume_type_id);
    type ??= await this.v.types.resolve(c.projectId, undefined, c.admin);
    // Clones and volumes from snapshots stay on the source's backend (Cinder keeps them
    // there): another type is only possible when retype would be (same backend name).
    if (r.source && r.type && r.type.id !== r.source.volume_type_id && !(await this.retypePossible(r.source.volume_type_id, r.type))) {
      throw invalidInput(`Invalid volume_type provided: ${r.type.id} (requested type is not compatible; either match source volume, or omit type argument).`);
    }
    if (r.snapshot && r.type && r.type.id !== r.snapshot.volume_type_id && !(await this.retypePossible(r.snapshot.volume_type_id, r.type))) {
      throw invalidInput(`Invalid volume_type provided: ${r.type.id} (requested type is not compatible; recommend omitting the type argument).`);
    }
    // _extract_availability_zones
    const zones = new Set([this.v.config.defaultAvailabilityZone, ...this.v.driver.backends().map((b) => b.availabilityZone)]);
    let az = r.availabilityZone;
    if (az === undefined) az = snapVolume?.availability_zone ?? r.source?.availability_zone ?? this.v.config.defaultAvailabilityZone;
    if (!zones.has(az)) throw new BadRequest(`Availability zone '${az}' is invalid.`);
    if (snapVolume && snapVolume.availability_zone !== az) throw invalidInput("Volume must be in the same availability zone as the snapshot");
    if (r.source && r.source.availability_zone !== az) throw invalidInput("Volume must be in the same availability zone as the source volume");
    const multiattach = type.extra_specs["multiattach"] === "<is> True";
    const bootable = r.source ? r.source.bootable : snapVolume ? snapVolume.bootable : 0;
    const now = this.v.core.now();
    const id = uuid();
    const row = newVolumeRow({
      id,
      project_id: c.projectId,
      user_id: c.userId,
      name: r.name,
      description: r.description,
      size,
      availability_zone: az,
      volume_type_id: type.id,
      bootable,
      multiattach: multiattach ? 1 : 0,
      snapshot_id: r.snapshot?.id ?? null,
      source_volid: r.source?.id ?? null,
      backup_id: r.backup?.id ?? null,
      group_id: r.groupId ?? null,
      metadata: JSON.stringify(r.metadata),
      created_at: now,
    });
    // A clone or a volume from a snapshot inherits the source's image metadata (bootable copies).
    const inherited = r.source ? r.source.image_metadata : snapVolume ? snapVolume.image_metadata : null;
    if (inherited) row.image_metadata = inherited;
    await this.v.core.write(async (trx) => {
      await this.v.quotas.check(trx, c.projectId, { volumes: 1, gigabytes: size, [`volumes_${type.name}`]: 1, [`gigabytes_${type.name}`]: size }, { perVolumeSize: size });
      await trx.insertInto("vol_volume").values(row).execute();
      const payload: CreateTask = {
        volumeId: id,
        requestId: c.requestId,
        sourceVolId: r.source?.id,
        snapshotId: r.snapshot?.id,
        imageId: r.image ? String(r.image["id"]) : undefined,
        backupId: r.backup?.id,
        differentHost: r.hints.differentHost,
        sameHost: r.hints.sameHost,
      };
      const op = r.source || r.snapshot ? "clone" : r.image ? "copy_image" : "create";
      await this.v.tasks.enqueue("volume.create", payload, this.v.driver.latency(op), trx);
    });
    return row;
  }

  /** _retype_is_possible: one backend, or both types ask for the same volume_backend_name. */
  async retypePossible(fromTypeId: string, to: VolumeType): Promise<boolean> {
    if (this.v.driver.backends().length === 1) return true;
    const from = await this.typeById(fromTypeId);
    const a = from?.extra_specs["volume_backend_name"];
    const b = to.extra_specs["volume_backend_name"];
    return a === b;
  }

  // ---- list ---------------------------------------------------------------------------

  async list(c: Caller, lq: ListQuery): Promise<{ rows: VolumeRow[]; count: number | undefined }> {
    let s = this.v.core.db.selectFrom("vol_volume").selectAll();
    const f = { ...lq.filters };
    if (!(c.admin && lq.allTenants)) s = s.where("project_id", "=", c.projectId);
    if (!c.admin) s = s.where((eb) => eb.or([eb("migration_status", "is", null), eb("migration_status", "not like", "target:%")]));
    let rows = await s.execute();
    rows = rows.filter((r) => matchesFilters(r, f));
    const count = lq.withCount ? rows.length : undefined;
    const keys = [...lq.sortKeys];
    const dirs = [...lq.sortDirs];
    for (const k of ["created_at", "id"]) {
      if (!keys.includes(k)) {
        keys.push(k);
        dirs.push(dirs[0] ?? "desc");
      }
    }
    const order = (a: VolumeRow, b: VolumeRow): number => {
      for (let i = 0; i < keys.length; i++) {
        const col = SORT_COLUMNS[keys[i]!] ?? keys[i]!;
        const x = (a as unknown as Record<string, unknown>)[col];
        const y = (b as unknown as Record<string, unknown>)[col];
        const cmp = compare(x, y);
        if (cmp !== 0) return dirs[i] === "desc" ? -cmp : cmp;
      }
      return 0;
    };
    rows.sort(order);
    if (lq.marker !== undefined) {
      const i = rows.findIndex((r) => r.id === lq.marker);
      if (i < 0) {
        const m = await this.v.core.volume(this.v.core.db, lq.marker);
        if (!m || (!c.admin && m.project_id !== c.projectId)) throw new NotFound(`Marker ${lq.marker} could not be found.`);
        // The marker exists but is filtered out: what sorts after it.
        rows = rows.filter((r) => order(r, m) > 0);
      } else rows = rows.slice(i + 1);
    }
    rows = rows.slice(lq.offset, lq.offset + lq.limit);
    return { rows, count };
  }

  async summary(c: Caller, allTenants: boolean): Promise<{ count: number; size: number; metadata: Record<string, string[]> }> {
    let s = this.v.core.db.selectFrom("vol_volume").select(["size", "metadata"]);
    if (!(c.admin && allTenants)) s = s.where("project_id", "=", c.projectId);
    const rows = await s.execute();
    const metadata: Record<string, string[]> = {};
    for (const r of rows) {
      for (const [k, val] of Object.entries(JSON.parse(r.metadata) as Record<string, string>)) {
        const l = (metadata[k] ??= []);
        if (!l.includes(val)) l.push(val);
      }
    }
    return { count: rows.length, size: rows.reduce((n, r) => n + r.size, 0), metadata };
  }

  // ---- update / delete ----------------------------------------------------------------

  async update(c: Caller, id: string, fields: { name?: string | null; description?: string | null; metadata?: Record<string, string> }): Promise<VolumeRow> {
    return this.v.core.write(async (trx) => {
      const row = await this.get(c, id, trx);
      if (row.status === "maintenance") throw invalidVolume("The volume cannot be updated during maintenance.");
      const patch: Partial<VolumeRow> = {};
      if (fields.name !== undefined) patch.name = fields.name;
      if (fields.description !== undefined) patch.description = fields.description;
      if (fields.metadata !== undefined) patch.metadata = JSON.stringify(fields.metadata);
      await this.v.core.setVolume(trx, id, patch);
      return (await this.v.core.volume(trx, id))!;
    });
  }

  /** volume/api.py delete(): the conditional update to deleting, cascade to snapshots. */
  async delete(c: Caller, row: VolumeRow, opts: { cascade: boolean; force: boolean }): Promise<void> {
    await this.v.core.write(async (trx) => {
      const cur = await this.v.core.volume(trx, row.id, true);
      if (!cur) throw volumeNotFound(row.id);
      if (!cur.host) {
        // Never placed on a backend (scheduling failed, or not yet scheduled): Cinder destroys
        // the row at once, with no status check (volume/api.py delete, "not volume.host").
        await trx.deleteFrom("vol_volume").where("id", "=", cur.id).execute();
        return;
      }
      const snaps = await trx.selectFrom("vol_snapshot").select(["id", "status", "project_id", "group_snapshot_id"]).where("volume_id", "=", cur.id).execute();
      const statuses = ["available", "error", "error_restoring", "error_extending", "error_managing"];
      let ok = cur.attach_status !== "attached" && AVAILABLE_MIGRATION_STATUS.includes(cur.migration_status) && cur.group_id === null;
      if (!opts.force && !statuses.includes(cur.status)) ok = false;
      if (opts.cascade) {
        if (opts.force) {
          if (snaps.some((s) => s.group_snapshot_id !== null)) ok = false;
        } else {
          if (snaps.some((s) => !["available", "error"].includes(s.status) || s.group_snapshot_id !== null)) ok = false;
          if (!c.admin && snaps.some((s) => s.project_id !== cur.project_id)) ok = false;
        }
      } else if (snaps.length > 0) ok = false;
      const transfer = await trx.selectFrom("vol_transfer").select("id").where("volume_id", "=", cur.id).where("deleted", "=", 0).where("accepted", "=", 0).executeTakeFirst();
      if (transfer || cur.status === "awaiting-transfer") ok = false;
      if (!ok) {
        const st = opts.force ? "" : "status must be available or error or error_restoring or error_extending or error_managing and ";
        throw invalidVolume(`Volume ${st}must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.`);
      }
      await this.v.core.setVolume(trx, cur.id, { status: cur.status === "error_managing" ? "error_managing_deleting" : "deleting", previous_status: cur.status });
      if (opts.cascade && snaps.length) {
        await trx.updateTable("vol_snapshot").set({ status: "deleting", updated_at: this.v.core.now() }).where("volume_id", "=", cur.id).execute();
      }
      await this.v.tasks.enqueue("volume.delete", { volumeId: cur.id, requestId: c.requestId, cascade: opts.cascade } satisfies DeleteTask, this.v.driver.latency("delete"), trx);
    });
  }

  // ---- metadata -----------------------------------------------------------------------

  async updateMetadata(c: Caller, id: string, meta: Record<string, string>, replace: boolean, kind: "user" | "image" = "user"): Promise<Record<string, string>> {
    return this.v.core.write(async (trx) => {
      const row = await this.v.core.volume(trx, id, true);
      if (!row || (!c.admin && row.project_id !== c.projectId)) throw volumeNotFound(id);
      if (["maintenance", "uploading"].includes(row.status)) throw invalidVolume(`Updating volume metadata is not allowed for volumes in ${row.status} status.`);
      if (kind === "user") {
        const next = replace ? { ...meta } : { ...userMetadata(row), ...meta };
        await this.v.core.setVolume(trx, id, { metadata: JSON.stringify(next) });
        return next;
      }
      const next = { ...(imageMetadata(row) ?? {}), ...meta };
      await this.v.core.setVolume(trx, id, { image_metadata: JSON.stringify(next) });
      return next;
    });
  }

  async deleteMetadataKey(c: Caller, id: string, key: string, kind: "user" | "image" = "user"): Promise<void> {
    await this.v.core.write(async (trx) => {
      const row = await this.v.core.volume(trx, id, true);
      if (!row || (!c.admin && row.project_id !== c.projectId)) throw volumeNotFound(id);
      const cur = kind === "user" ? userMetadata(row) : (imageMetadata(row) ?? {});
      if (!(key in cur)) {
        if (kind === "user") throw new NotFound(`Volume ${id} has no metadata with key ${key}.`);
        throw new NotFound(`Glance metadata for volume/snapshot ${id} cannot be found.`);
      }
      if (["maintenance", "uploading"].includes(row.status)) throw invalidVolume(`Deleting volume metadata is not allowed for volumes in ${row.status} status.`);
      delete cur[key];
      if (kind === "user") await this.v.core.setVolume(trx, id, { metadata: JSON.stringify(cur) });
      else await this.v.core.setVolume(trx, id, { image_metadata: JSON.stringify(cur) });
    });
  }

  // ---- actions ------------------------------------------------------------------------

  async extend(c: Caller, row: VolumeRow, newSize: number, attached: boolean): Promise<void> {
    if (newSize - row.size <= 0) throw invalidInput(`New size for extend must be greater than current size. (current: ${row.size}, extended: ${newSize}).`);
    const expected = attached ? "in-use" : "available";
    const type = await this.typeById(row.volume_type_id);
    await this.v.core.write(async (trx) => {
      const ok = await this.v.core.casVolume(trx, row.id, [expected], { status: "extending", previous_status: expected });
      if (!ok) {
        const cur = await this.v.core.volume(trx, row.id);
        throw invalidVolume(`Volume ${row.id} status must be '{'status': '${expected}'}' to extend, currently ${cur?.status ?? row.status}.`);
      }
      const d: Record<string, number> = { gigabytes: newSize - row.size };
      if (type) d[`gigabytes_${type.name}`] = newSize - row.size;
      await this.v.quotas.check(trx, row.project_id, d, { perVolumeSize: newSize });
      await this.v.tasks.enqueue("volume.extend", { volumeId: row.id, requestId: c.requestId, newSize } satisfies ExtendTask, this.v.driver.latency("extend"), trx);
    });
  }

  async resetStatus(row: VolumeRow, u: { status?: string; attach_status?: string; migration_status?: string | null }): Promise<void> {
    await this.v.core.write(async (trx) => {
      const patch: Partial<VolumeRow> = {};
      if (u.status !== undefined) patch.status = u.status;
      if (u.attach_status !== undefined) patch.attach_status = u.attach_status;
      if (u.migration_status !== undefined) patch.migration_status = u.migration_status;
      await this.v.core.setVolume(trx, row.id, patch);
      if (u.attach_status === "detached") {
        const now = this.v.core.now();
        await trx.updateTable("vol_attachment").set({ attach_status: "detached", detach_time: now, updated_at: now }).where("volume_id", "=", row.id).execute();
        const cur = await this.v.core.volume(trx, row.id);
        if (cur) {
          const am = adminMetadata(cur);
          delete am["attached_mode"];
          await this.v.core.setVolume(trx, row.id, { admin_metadata: JSON.stringify(am) });
        }
      }
    });
  }

  async setBootable(row: VolumeRow, bootable: boolean): Promise<void> {
    if (row.status === "maintenance") throw invalidVolume("The volume cannot be updated during maintenance.");
    await this.v.core.setVolume(this.v.core.db, row.id, { bootable: bootable ? 1 : 0 });
  }

  async setReadonly(row: VolumeRow, flag: boolean): Promise<void> {
    await this.v.core.write(async (trx) => {
      const cur = (await this.v.core.volume(trx, row.id, true))!;
      if (cur.status !== "available") throw invalidVolume(`Volume ${row.id} status must be available to update readonly flag, but current status is: ${cur.status}.`);
      const am = adminMetadata(cur);
      am["readonly"] = flag ? "True" : "False";
      await this.v.core.setVolume(trx, row.id, { admin_metadata: JSON.stringify(am) });
    });
  }

  /** copy_volume_to_image: the volume goes uploading while a task writes its bytes into the new image. */
  async uploadToImage(c: Caller, row: VolumeRow, meta: Record<string, unknown>, force: boolean): Promise<Record<string, unknown>> {
    // enable_force_upload is False by default: force is ignored.
    void force;
    const ok = await this.v.core.casVolume(this.v.core.db, row.id, ["available"], { status: "uploading", previous_status: row.status });
    if (!ok) throw invalidVolume(`Volume ${row.id} status must be available`);
    let image: Record<string, unknown>;
    try {
      // Cinder merges the volume's custom glance properties into the new image.
      const props: Record<string, unknown> = {};
      const core = ["checksum", "container_format", "disk_format", "image_name", "image_id", "min_disk", "min_ram", "name", "size"];
      for (const [k, val] of Object.entries(imageMetadata(row) ?? {})) if (!core.includes(k) && !(k in meta) && !k.startsWith("os_glance")) props[k] = val;
      image = await this.v.image.createImage({ ...props, ...meta }, c.token);
    } catch (e) {
      await this.v.core.casVolume(this.v.core.db, row.id, ["uploading"], { status: row.status, previous_status: null });
      throw new BadRequest(glanceRefusal(e));
    }
    await this.v.tasks.enqueue("volume.upload_image", { volumeId: row.id, requestId: c.requestId, imageId: String(image["id"]), projectId: c.projectId } satisfies UploadTask, this.v.driver.latency("upload_image"));
    const type = await this.typeById(row.volume_type_id);
    const out: Record<string, unknown> = {
      id: row.id,
      updated_at: row.updated_at,
      status: "uploading",
      display_description: row.description,
      size: row.size,
      volume_type: type ? { id: type.id, name: type.name, description: type.description, is_public: type.is_public, extra_specs: type.extra_specs, qos_specs_id: type.qos_specs_id, deleted: false, created_at: null, updated_at: null, deleted_at: null } : null,
      image_id: image["id"],
      container_format: image["container_format"],
      disk_format: image["disk_format"],
      image_name: image["name"] ?? null,
    };
    if ("protected" in image) out["protected"] = image["protected"];
    if ("visibility" in image) out["visibility"] = image["visibility"];
    return out;
  }

  async retype(c: Caller, row: VolumeRow, newType: VolumeType, policy: "never" | "on-demand"): Promise<void> {
    const tgtMulti = newType.extra_specs["multiattach"] === "<is> True";
    if ((row.multiattach === 1) !== tgtMulti && row.status !== "available") {
      throw invalidInput(`Invalid volume_type passed, retypes affecting multiattach are only allowed on available volumes, the specified volume however currently has a status of: ${row.status}.`);
    }
    const oldType = await this.typeById(row.volume_type_id);
    await this.v.core.write(async (trx) => {
      const cur = (await this.v.core.volume(trx, row.id, true))!;
      const ok = ["available", "in-use"].includes(cur.status) && AVAILABLE_MIGRATION_STATUS.includes(cur.migration_status) && cur.group_id === null && cur.volume_type_id !== newType.id;
      if (!ok) {
        throw invalidVolume(
          "Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.",
        );
      }
      await this.v.quotas.check(trx, cur.project_id, { [`volumes_${newType.name}`]: 1, [`gigabytes_${newType.name}`]: cur.size, ...(oldType ? { [`volumes_${oldType.name}`]: -1, [`gigabytes_${oldType.name}`]: -cur.size } : {}) });
      await this.v.core.setVolume(trx, cur.id, { status: "retyping", previous_status: cur.status, multiattach: tgtMulti ? 1 : 0 });
      await this.v.tasks.enqueue("volume.retype", { volumeId: cur.id, requestId: c.requestId, newTypeId: newType.id, policy, oldMultiattach: cur.multiattach } satisfies RetypeTask, this.v.driver.latency("migrate"), trx);
    });
  }

  async migrate(c: Caller, row: VolumeRow, host: string, lock: boolean): Promise<void> {
    const backendHost = host.split("#")[0]!;
    const services = await this.v.core.db.selectFrom("vol_service").selectAll().where("binary", "=", "cinder-volume").where("disabled", "=", 0).execute();
    const target = this.v.driver.backends().find((b) => b.host === backendHost && services.some((s) => s.host === b.host) && (!host.includes("#") || b.pool === host));
    if (!target) throw new BadRequest(`Invalid host: No available service named '${host}'`);
    await this.v.core.write(async (trx) => {
      const cur = (await this.v.core.volume(trx, row.id, true))!;
      const snaps = await trx.selectFrom("vol_snapshot").select("id").where("volume_id", "=", cur.id).executeTakeFirst();
      const ok =
        ["available", "in-use"].includes(cur.status) &&
        AVAILABLE_MIGRATION_STATUS.includes(cur.migration_status) &&
        ["disabled", "not-capable", null].includes(cur.replication_status) &&
        cur.group_id === null &&
        cur.host !== host &&
        !snaps;
      if (!ok) {
        throw invalidVolume(
          `Volume ${cur.id} status must be available or in-use, must not be migrating, have snapshots, be replicated, be part of a group and destination host/cluster must be different than the current one`,
        );
      }
      const patch: Partial<VolumeRow> = { migration_status: "starting", previous_status: cur.status };
      if (lock && cur.status === "available") patch.status = "maintenance";
      await this.v.core.setVolume(trx, cur.id, patch);
      await this.v.tasks.enqueue("volume.migrate", { volumeId: cur.id, requestId: c.requestId, backend: target.name } satisfies MigrateTask, this.v.driver.latency("migrate"), trx);
    });
  }

  async revert(c: Caller, row: VolumeRow, snapshotId: string | undefined): Promise<void> {
    const latest = await this.v.core.db.selectFrom("vol_snapshot").selectAll().where("volume_id", "=", row.id).orderBy("created_at", "desc").orderBy("id", "desc").executeTakeFirst();
    if (!latest) throw new BadRequest(`Volume ${row.id} doesn't have any snapshots.`);
    if (snapshotId === undefined || snapshotId !== latest.id) {
      throw new BadRequest(`Specified snapshot ${snapshotId ?? "None"} is None or not the latest one of volume ${row.id}.`);
    }
    if (row.size !== latest.size) {
      throw new BadRequest(`Can't revert volume ${row.id} to its latest snapshot ${snapshotId}. The volume size must be equal to the snapshot size.`);
    }
    await this.v.core.write(async (trx) => {
      if (!(await this.v.core.casVolume(trx, row.id, ["available"], { status: "reverting" }))) {
        throw new Conflict(`Invalid volume: Can't revert volume ${row.id} to its latest snapshot ${latest.id}. Volume's status must be 'available'.`);
      }
      const r = await trx.updateTable("vol_snapshot").set({ status: "restoring", updated_at: this.v.core.now() }).where("id", "=", latest.id).where("status", "=", "available").executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) {
        throw new Conflict(`Invalid snapshot: Can't revert volume ${row.id} to its latest snapshot ${latest.id}. Snapshot's status must be 'available'.`);
      }
      await this.v.tasks.enqueue("volume.revert", { volumeId: row.id, requestId: c.requestId, snapshotId: latest.id } satisfies RevertTask, this.v.driver.latency("revert"), trx);
    });
  }

  /** Does the volume's current backend satisfy a type (retype without migration)? */
  async backendFits(row: VolumeRow, type: VolumeType): Promise<boolean> {
    const b = this.scheduler.backendOfHost(row.host);
    if (!b) return false;
    const alloc = (await this.scheduler.allocated()).get(b.name) ?? 0;
    return satisfiesExtraSpecs(this.scheduler.capabilities(b, alloc), type.extra_specs);
  }
}

/** What Cinder's upload answers when Glance refuses the new image (str(exception)). */
function glanceRefusal(e: unknown): string {
  const x = e as { status?: unknown; body?: unknown };
  if (x.status === 413) return "Image quota exceeded";
  const b = x.body as Record<string, unknown> | string | undefined;
  if (typeof b === "object" && b !== null && typeof b["message"] === "string") return b["message"].replace(/<br \/>/g, "").trim();
  return e instanceof Error ? e.message : String(e);
}

/** volume_utils.check_image_metadata. */
export function checkImage(image: Record<string, unknown>, sizeGb: number): void {
  if (image["status"] !== "active") throw invalidInput(`Image ${String(image["id"])} is not active.`);
  const bytes = Number(image["size"] ?? 0);
  const gb = Math.ceil(bytes / (1024 * 1024 * 1024));
  if (gb > sizeGb) throw invalidInput(`Size of specified image ${gb}GB is larger than volume size ${sizeGb}GB.`);
  const minDisk = Number(image["min_disk"] ?? 0);
  if (sizeGb < minDisk) throw invalidInput(`Volume size ${sizeGb}GB cannot be smaller than the image minDisk size ${minDisk}GB.`);
  const virt = image["virtual_size"];
  if (typeof virt === "number" && virt > 0) {
    const vgb = Math.ceil(virt / (1024 * 1024 * 1024));
    if (vgb > sizeGb) throw new BadRequest(`Image virtual size is ${vgb}GB and doesn't fit in a volume of size ${sizeGb}GB.`);
  }
}

// ---- list filters -----------------------------------------------------------------------

const SORT_COLUMNS: Record<string, string> = { name: "name", display_name: "name", description: "description", display_description: "description" };

function compare(x: unknown, y: unknown): number {
  if (x === y) return 0;
  // NULLs sort first ascending (as SQLite and Cinder's MySQL do).
  if (x === null || x === undefined) return -1;
  if (y === null || y === undefined) return 1;
  if (typeof x === "number" && typeof y === "number") return x - y;
  return String(x) < String(y) ? -1 : 1;
}

/** Columns a filter may name (models.Volume attributes), by their API name → row field. */
const FILTER_COLUMNS: Record<string, keyof VolumeRow> = {
  id: "id",
  display_name: "name",
  display_description: "description",
  status: "status",
  size: "size",
  availability_zone: "availability_zone",
  bootable: "bootable",
  multiattach: "multiattach",
  migration_status: "migration_status",
  attach_status: "attach_status",
  project_id: "project_id",
  user_id: "user_id",
  volume_type_id: "volume_type_id",
  host: "host",
  group_id: "group_id",
  snapshot_id: "snapshot_id",
  source_volid: "source_volid",
  replication_status: "replication_status",
  use_quota: "use_quota",
  previous_status: "previous_status",
  encryption_key_id: "encrypted",
  consistencygroup_id: "group_id",
};

export interface TimeFilter {
  op: string;
  at: number;
}

function matchesFilters(r: VolumeRow, filters: Record<string, unknown>): boolean {
  for (const [key, val] of Object.entries(filters)) {
    if (key === "metadata") {
      const m = userMetadata(r);
      const am = adminMetadata(r);
      for (const [k, x] of Object.entries(val as Record<string, unknown>)) if (m[k] !== String(x) && am[k] !== String(x)) return false;
      continue;
    }
    if (key === "glance_metadata") {
      const m = imageMetadata(r) ?? {};
      for (const [k, x] of Object.entries(val as Record<string, unknown>)) if (m[k] !== String(x)) return false;
      continue;
    }
    if (key === "created_at" || key === "updated_at") {
      const t = r[key] ? Date.parse(r[key]) : NaN;
      for (const { op, at } of val as TimeFilter[]) {
        if (Number.isNaN(t)) return false;
        const ok = op === "gt" ? t > at : op === "gte" ? t >= at : op === "lt" ? t < at : op === "lte" ? t <= at : op === "eq" ? t === at : op === "neq" ? t !== at : false;
        if (!ok) return false;
      }
      continue;
    }
    if (key === "volume_type") {
      const x = val as { ids: string[] };
      if (!x.ids.includes(r.volume_type_id)) return false;
      continue;
    }
    if (key.endsWith("~")) {
      const col = FILTER_COLUMNS[key.slice(0, -1)];
      if (!col) return false;
      const cell = r[col];
      if (cell === null || !String(cell).toLowerCase().includes(String(val).toLowerCase())) return false;
      continue;
    }
    const col = FILTER_COLUMNS[key];
    if (!col) return false;
    const cell = (r as unknown as Record<string, unknown>)[col];
    const want = (x: unknown): boolean => {
      if (col === "bootable" || col === "multiattach" || col === "use_quota" || col === "encrypted") return (cell === 1) === (x === true || x === 1 || x === "True" || x === "true");
      if (x === null) return cell === null;
      if (typeof cell === "number") return cell === Number(x);
      return cell === String(x);
    };
    if (Array.isArray(val) ? !val.some(want) : !want(val)) return false;
  }
  return true;
}

// ---- task payloads ----------------------------------------------------------------------

export interface CreateTask {
  volumeId: string;
  requestId: string;
  sourceVolId: string | undefined;
  snapshotId: string | undefined;
  imageId: string | undefined;
  backupId: string | undefined;
  differentHost: string[];
  sameHost: string[];
}
export interface DeleteTask {
  volumeId: string;
  requestId: string;
  cascade: boolean;
}
export interface ExtendTask {
  volumeId: string;
  requestId: string;
  newSize: number;
}
export interface UploadTask {
  volumeId: string;
  requestId: string;
  imageId: string;
  projectId: string;
}
export interface RetypeTask {
  volumeId: string;
  requestId: string;
  newTypeId: string;
  policy: "never" | "on-demand";
  oldMultiattach: number;
}
export interface MigrateTask {
  volumeId: string;
  requestId: string;
  backend: string;
}
export interface RevertTask {
  volumeId: string;
  requestId: string;
  snapshotId: string;
}

export type { VolumeTrx };
