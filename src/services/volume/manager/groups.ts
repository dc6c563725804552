import { BadRequest, NotFound } from "../../../common/errors.js";
import { uuid } from "../../../common/ids.js";
import { VolumeDriverFailure } from "../../../drivers/volume/driver.js";
import type { VolumeBackend } from "../../../drivers/volume/driver.js";
import type { Paging } from "../api/common.js";
import type { Volume, VolumeType } from "../api/deps.js";
import { NoValidBackend } from "../api/deps.js";
import type { SnapshotRow, VolumeRow, VolumeTables, VolumeTrx, VQ } from "../store/tables.js";
import type { GroupType, GroupTypesManager } from "./group-types.js";
import { pageRows } from "./group-paging.js";
import { newVolumeRow } from "../store/rows.js";

export type GroupRow = VolumeTables["vol_group"];
export type GroupSnapshot = VolumeTables["vol_group_snapshot"];

export interface Group extends GroupRow {
  volumeTypeIds: string[];
  /** Ids of the member volumes (loaded for ?list_volume=true). */
  volumes?: string[];
}

/** Who asks (managers never see HTTP). */
export interface GroupCaller {
  projectId: string;
  userId: string;
  admin: boolean;
}

/** cinder/group/api.py. */
export const VALID_REMOVE_VOL_FROM_GROUP_STATUS = ["available", "in-use", "error", "error_deleting"] as const;
export const VALID_ADD_VOL_TO_GROUP_STATUS = ["available", "in-use"] as const;
/** objects/fields.py GroupStatus.ALL and GroupSnapshotStatus.ALL. */
export const GROUP_STATUS_ALL = ["error", "available", "creating", "deleting", "deleted", "updating", "in-use", "error_deleting"] as const;
export const GROUP_SNAPSHOT_STATUS_ALL = ["error", "available", "creating", "deleting", "deleted", "updating", "error_deleting"] as const;

/** Python's str() of a tuple or list of strings, as Cinder's messages interpolate them. */
function pyTuple(xs: readonly string[]): string {
  return `(${xs.map((x) => `'${x}'`).join(", ")}${xs.length === 1 ? "," : ""})`;
}
function pyList(xs: readonly string[]): string {
  return `[${xs.map((x) => `'${x}'`).join(", ")}]`;
}

/** volume_utils.is_boolean_str: "<is> True" (any oslo true word). */
function isTrueSpec(v: string | null | undefined): boolean {
  const parts = (v ?? "").split(/\s+/).filter((x) => x !== "");
  return parts.length === 2 && parts[0] === "<is>" && ["1", "t", "true", "on", "y", "yes"].includes(parts[1]!.toLowerCase());
}

export const groupNotFound = (id: string) => new NotFound(`Group ${id} could not be found.`);
export const groupSnapshotNotFound = (id: string) => new NotFound(`GroupSnapshot ${id} could not be found.`);
const invalidGroup = (reason: string) => new BadRequest(`Invalid Group: ${reason}`);
const invalidVolume = (reason: string) => new BadRequest(`Invalid volume: ${reason}`);
const invalidGroupSnapshot = (reason: string) => new BadRequest(`Invalid GroupSnapshot: ${reason}`);

/** volume_utils.extract_host(host, "backend"): "host@backend#pool" → "host@backend". */
function backendPart(host: string | null): string | null {
  return host === null ? null : (host.split("#")[0] ?? null);
}

/** Columns a filter may name (is_valid_model_filters); another key matches nothing. */
const GROUP_COLUMNS = ["id", "user_id", "project_id", "host", "availability_zone", "name", "description", "group_type_id", "status", "group_snapshot_id", "source_group_id", "replication_status", "created_at", "updated_at"];
const GROUP_SNAPSHOT_COLUMNS = ["id", "group_id", "user_id", "project_id", "name", "description", "status", "group_type_id", "created_at", "updated_at"];
export const GROUP_SORT_KEYS = GROUP_COLUMNS;
export const GROUP_SNAPSHOT_SORT_KEYS = GROUP_SNAPSHOT_COLUMNS;

/**
 * Exact filters, `key~` substring filters (apply_like_filters) and the `host` filter at the
 * backend level, over rows already scoped to a project; undefined when a key names no column.
 */
function applyFilters<T extends object>(rows: T[], filters: Record<string, string>, columns: readonly string[]): T[] | undefined {
  let out = rows;
  for (const [rawKey, value] of Object.entries(filters)) {
    const like = rawKey.endsWith("~");
    const key = like ? rawKey.slice(0, -1) : rawKey;
    if (!columns.includes(key)) return undefined;
    out = out.filter((r) => {
      const x = (r as Record<string, unknown>)[key];
      if (x === null || x === undefined) return false;
      const s = String(x);
      if (like) return s.includes(value);
      if (key === "host") return s === value || s.startsWith(`${value}#`) || (!value.includes("@") && s.startsWith(`${value}@`));
      return s === value;
    });
  }
  return out;
}

/**
 * Generic volume groups and group snapshots (cinder/group/api.py and the generic group code
 * of volume/manager.py): the API half validates and moves rows into transient states inside
 * one transaction with the task that finishes the work (scheduling a new group, adding and
 * removing members, deleting a group and its volumes, snapshotting every member, creating a
 * group's volumes from a group snapshot or a source group).
 */
export class GroupsManager {
  constructor(
    private readonly v: Volume,
    readonly types: GroupTypesManager,
  ) {}

  private get db() {
    return this.v.core.db;
  }

  private withTypes(r: GroupRow): Group {
    let ids: string[] = [];
    try {
      const parsed = JSON.parse(r.volume_type_ids) as unknown;
      if (Array.isArray(parsed)) ids = parsed.map(String);
    } catch {
      ids = [];
    }
    return { ...r, volumeTypeIds: ids };
  }

  // ---- lookups ------------------------------------------------------------------------

  /** Group.get_by_id with project_only: another project's group is not found unless admin. */
  async get(c: GroupCaller, id: string, q: VQ = this.db): Promise<Group> {
    const row = await q.selectFrom("vol_group").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row || (!c.admin && row.project_id !== c.projectId)) throw groupNotFound(id);
    return this.withTypes(row);
  }

  async getGroupSnapshot(c: GroupCaller, id: string, q: VQ = this.db): Promise<GroupSnapshot> {
    const row = await q.selectFrom("vol_group_snapshot").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row || (!c.admin && row.project_id !== c.projectId)) throw groupSnapshotNotFound(id);
    return row;
  }

  /** _check_default_cgsnapshot_type: whether a group type is the one reserved for migrated CGs. */
  async isCgsnapshotType(groupTypeId: string | null): Promise<boolean> {
    if (!groupTypeId) return false;
    return (await this.types.cgsnapshotTypeId()) === groupTypeId;
  }

  /** Member volume ids of each group, in one query. */
  async volumesOf(groups: Group[]): Promise<void> {
    if (groups.length === 0) return;
    const rows = await this.db
      .selectFrom("vol_volume")
      .select(["id", "group_id"])
      .where(
        "group_id",
        "in",
        groups.map((g) => g.id),
      )
      .orderBy("created_at")
      .execute();
    const by = new Map<string, string[]>();
    for (const r of rows) {
      const l = by.get(r.group_id!) ?? [];
      l.push(r.id);
      by.set(r.group_id!, l);
    }
    for (const g of groups) g.volumes = by.get(g.id) ?? [];
  }

  /**
   * GroupList.get_all / get_all_by_project: the caller's project, or every project for an
   * admin asking all_tenants; groups of the CG-migration type are left out.
   */
  async list(c: GroupCaller, allProjects: boolean, filters: Record<string, string>, paging: Paging): Promise<Group[]> {
    // The marker is looked up as a show would (404 when not visible).
    const marker = paging.marker === undefined ? undefined : await this.get(c, paging.marker);
    let s = this.db.selectFrom("vol_group").selectAll();
    if (!allProjects) s = s.where("project_id", "=", c.projectId);
    const rows = applyFilters(await s.execute(), filters, GROUP_COLUMNS);
    if (!rows) return [];
    const cgType = await this.types.cgsnapshotTypeId();
    return pageRows<GroupRow>(rows, paging, marker)
      .filter((r) => r.group_type_id !== cgType)
      .map((r) => this.withTypes(r));
  }

  async listGroupSnapshots(c: GroupCaller, allProjects: boolean, filters: Record<string, string>, paging: Paging): Promise<GroupSnapshot[]> {
    const marker = paging.marker === undefined ? undefined : await this.getGroupSnapshot(c, paging.marker);
    let s = this.db.selectFrom("vol_group_snapshot").selectAll();
    if (!allProjects) s = s.where("project_id", "=", c.projectId);
    const rows = applyFilters(await s.execute(), filters, GROUP_SNAPSHOT_COLUMNS);
    if (!rows) return [];
    const cgType = await this.types.cgsnapshotTypeId();
    return pageRows(rows, paging, marker).filter((r) => r.group_type_id !== cgType);
  }

  // ---- availability zones -------------------------------------------------------------

  /** _extract_availability_zone: the default when absent; one a cinder-volume service is in, else 400. */
  private async availabilityZone(requested: string | null | undefined): Promise<string> {
    const zones = new Set<string>([this.v.config.defaultAvailabilityZone, ...this.v.driver.backends().map((b) => b.availabilityZone)]);
    const svc = await this.db.selectFrom("vol_service").select("availability_zone").where("binary", "=", "cinder-volume").execute();
    for (const s of svc) zones.add(s.availability_zone);
    const az = requested ?? this.v.config.defaultAvailabilityZone;
    if (!zones.has(az)) throw new BadRequest(`Invalid input received: Availability zone '${az}' is invalid.`);
    return az;
  }

  // ---- create -------------------------------------------------------------------------

  /** API.create: the group row in "creating" (groups quota), then the scheduler places it. */
  async create(c: GroupCaller, r: { name: string | null; description: string | null; groupType: GroupType; volumeTypes: VolumeType[]; availabilityZone: string | null | undefined }): Promise<Group> {
    const az = await this.availabilityZone(r.availabilityZone);
    const row: GroupRow = {
      id: uuid(),
      project_id: c.projectId,
      user_id: c.userId,
      name: r.name,
      description: r.description,
      status: "creating",
      availability_zone: az,
      group_type_id: r.groupType.id,
      volume_type_ids: JSON.stringify([...new Set(r.volumeTypes.map((t) => t.id))]),
      host: null,
      group_snapshot_id: null,
      source_group_id: null,
      replication_status: "disabled",
      created_at: this.v.core.now(),
      updated_at: null,
    };
    await this.v.core.write(async (trx) => {
      await this.v.quotas.check(trx, c.projectId, { groups: 1 });
      await trx.insertInto("vol_group").values(row).execute();
      await this.v.tasks.enqueue("group.create", { groupId: row.id }, this.v.driver.latency("create"), trx);
    });
    return this.withTypes(row);
  }

  /**
   * The backends able to hold a volume of `type` in `az`, best first (the scheduler's
   * weighed list, read by asking it again without the ones already returned).
   */
  private async candidates(type: VolumeType, az: string): Promise<VolumeBackend[]> {
    const out: VolumeBackend[] = [];
    const exclude: string[] = [];
    for (let i = 0; i < this.v.driver.backends().length; i++) {
      try {
        const b = await this.v.scheduler.pick({ sizeGb: 0, type, availabilityZone: az, exclude: [...exclude] });
        if (exclude.includes(b.name)) break;
        out.push(b);
        exclude.push(b.name);
      } catch (e) {
        if (e instanceof NoValidBackend) break;
        throw e;
      }
    }
    return out;
  }

  /**
   * schedule_create_group: one backend that can hold every volume type of the group (the
   * group type's specs are not matched: Cinder's CapabilitiesFilter reads `extra_specs`, which
   * a group type does not have).
   */
  private async schedule(g: Group): Promise<VolumeBackend> {
    let best: VolumeBackend[] | undefined;
    for (const id of g.volumeTypeIds) {
      const type = await this.v.types.find(id);
      if (!type) throw new NoValidBackend();
      const list = await this.candidates(type, g.availability_zone);
      best = best === undefined ? list : best.filter((b) => list.some((x) => x.name === b.name));
    }
    const chosen = best?.[0];
    if (!chosen) throw new NoValidBackend();
    return chosen;
  }

  async runCreate(groupId: string): Promise<void> {
    const row = await this.db.selectFrom("vol_group").selectAll().where("id", "=", groupId).executeTakeFirst();
    if (!row || row.status !== "creating" || row.host !== null || row.group_snapshot_id || row.source_group_id) return;
    let backend: VolumeBackend;
    try {
      backend = await this.schedule(this.withTypes(row));
    } catch (e) {
      if (!(e instanceof NoValidBackend)) throw e;
      this.v.log.warn({ group: groupId }, "no valid backend for group");
      await this.setGroup(this.db, groupId, ["creating"], { status: "error" });
      return;
    }
    await this.setGroup(this.db, groupId, ["creating"], { host: backend.pool, status: "available" });
  }

  /** The group's row, locked for the rest of the transaction on PostgreSQL. */
  private async lockGroup(trx: VolumeTrx, id: string): Promise<GroupRow | undefined> {
    let q = trx.selectFrom("vol_group").selectAll().where("id", "=", id);
    if (this.v.core.rowLocks) q = q.forUpdate();
    return q.executeTakeFirst();
  }

  /** assert_not_frozen: no change on a backend whose cinder-volume service is frozen (failover). */
  private async assertNotFrozen(q: VQ, host: string | null): Promise<void> {
    const b = backendPart(host);
    if (!b) return;
    const frozen = await q.selectFrom("vol_service").select("host").where("host", "=", b).where("frozen", "=", 1).executeTakeFirst();
    if (frozen) throw new BadRequest("Invalid input received: Modification operations are not allowed on frozen storage backends.");
  }

  private async setGroup(q: VQ, id: string, from: readonly string[] | undefined, patch: Partial<GroupRow>): Promise<boolean> {
    let u = q.updateTable("vol_group").set({ ...patch, updated_at: this.v.core.now() }).where("id", "=", id);
    if (from) u = u.where("status", "in", [...from]);
    const r = await u.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  private async setGroupSnapshot(q: VQ, id: string, from: readonly string[] | undefined, patch: Partial<GroupSnapshot>): Promise<boolean> {
    let u = q.updateTable("vol_group_snapshot").set({ ...patch, updated_at: this.v.core.now() }).where("id", "=", id);
    if (from) u = u.where("status", "in", [...from]);
    const r = await u.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  // ---- create from a group snapshot or a source group ---------------------------------

  /**
   * API.create_from_src: the new group takes its type, zone and backend from the source
   * group (or the group snapshot's group); one volume per snapshot (or per source volume),
   * created in the new group on that backend; quotas for the group and the volumes.
   */
  async createFromSrc(c: GroupCaller, r: { name: string | null; description: string | null; groupSnapshotId: string | undefined; sourceGroupId: string | undefined }): Promise<Group> {
    return this.v.core.write(async (trx) => {
      let src: Group;
      let sources: Array<{ size: number; typeId: string; snapshot?: SnapshotRow; volume?: VolumeRow }>;
      if (r.groupSnapshotId) {
        const gs = await this.getGroupSnapshot(c, r.groupSnapshotId, trx);
        src = await this.get(c, gs.group_id, trx);
        const snaps = await trx.selectFrom("vol_snapshot").selectAll().where("group_snapshot_id", "=", gs.id).orderBy("created_at").execute();
        // snapshot.volume_size: the volume's size when the snapshot was taken.
        sources = snaps.map((s) => ({ size: s.size, typeId: s.volume_type_id, snapshot: s }));
      } else {
        src = await this.get(c, r.sourceGroupId!, trx);
        const vols = await trx.selectFrom("vol_volume").selectAll().where("group_id", "=", src.id).orderBy("created_at").execute();
        sources = vols.map((x) => ({ size: x.size, typeId: x.volume_type_id, volume: x }));
      }
      await this.lockGroup(trx, src.id);
      const id = uuid();
      if (!src.host) throw invalidGroup(`No valid host to create group ${id}.`);
      const backend = this.v.scheduler.backendOfHost(src.host);
      if (!backend) throw invalidGroup(`No valid host to create group ${id}.`);
      await this.assertNotFrozen(trx, src.host);
      if (sources.length === 0) {
        throw invalidGroup(r.groupSnapshotId ? "Group snapshot is empty. No group will be created." : "Source Group is empty. No group will be created.");
      }
      for (const s of sources) {
        if (s.snapshot && s.snapshot.status !== "available") throw new BadRequest("Invalid snapshot: Originating snapshot status must be one of 'available' values");
        if (s.volume && !["available", "in-use"].includes(s.volume.status)) throw invalidVolume("Originating source volume status must be one of 'available, in-use' values");
      }
      // Quotas: the group, then the volumes (volume_api.create reserves each one).
      const deltas: Record<string, number> = { groups: 1, volumes: 0, gigabytes: 0 };
      const typeNames = await this.typeNames(
        trx,
        sources.map((s) => s.typeId),
      );
      for (const s of sources) {
        deltas["volumes"]! += 1;
        deltas["gigabytes"]! += s.size;
        const tn = typeNames.get(s.typeId);
        if (tn !== undefined) {
          deltas[`volumes_${tn}`] = (deltas[`volumes_${tn}`] ?? 0) + 1;
          deltas[`gigabytes_${tn}`] = (deltas[`gigabytes_${tn}`] ?? 0) + s.size;
        }
      }
      await this.v.quotas.check(trx, c.projectId, deltas, { perVolumeSize: Math.max(...sources.map((s) => s.size)) });
      const now = this.v.core.now();
      // The volume type mapping: the source group's types plus each source's.
      const typeIds = [...new Set([...src.volumeTypeIds, ...sources.map((s) => s.typeId)])];
      const row: GroupRow = {
        id,
        project_id: c.projectId,
        user_id: c.userId,
        name: r.name,
        description: r.description,
        status: "creating",
        availability_zone: src.availability_zone,
        group_type_id: src.group_type_id,
        volume_type_ids: JSON.stringify(typeIds),
        host: src.host,
        group_snapshot_id: r.groupSnapshotId ?? null,
        source_group_id: r.sourceGroupId ?? null,
        replication_status: "disabled",
        created_at: now,
        updated_at: null,
      };
      await trx.insertInto("vol_group").values(row).execute();
      // The types' multiattach spec (read in this transaction: SQLite has one connection).
      const multiattachTypes = new Set(
        (
          await trx
            .selectFrom("vol_type_extra_spec")
            .select(["type_id", "value"])
            .where("key", "=", "multiattach")
            .where(
              "type_id",
              "in",
              sources.map((s) => s.typeId),
            )
            .execute()
        )
          .filter((x) => x.value === "<is> True")
          .map((x) => x.type_id),
      );
      const srcVols = await this.volumesById(
        trx,
        sources.map((s) => s.snapshot?.volume_id).filter((x): x is string => x !== undefined),
      );
      for (const s of sources) {
        const origin = s.volume ?? srcVols.get(s.snapshot!.volume_id);
        const vol = newVolumeRow({
          id: uuid(),
          project_id: c.projectId,
          user_id: c.userId,
          size: s.size,
          availability_zone: src.availability_zone,
          volume_type_id: s.typeId,
          host: src.host,
          backend: backend.name,
          multiattach: multiattachTypes.has(s.typeId) || (s.volume?.multiattach ?? 0) === 1 ? 1 : 0,
          snapshot_id: s.snapshot?.id ?? null,
          source_volid: s.volume?.id ?? null,
          group_id: id,
          created_at: now,
        });
        // _update_volume_from_src: a bootable origin makes a bootable volume with its image metadata.
        if (origin && origin.bootable === 1) {
          vol.bootable = 1;
          vol.image_metadata = origin.image_metadata;
        }
        await trx.insertInto("vol_volume").values(vol).execute();
      }
      await this.v.tasks.enqueue("group.create_from_src", { groupId: id }, this.v.driver.latency("clone"), trx);
      return this.withTypes(row);
    });
  }

  private async volumesById(q: VQ, ids: string[]): Promise<Map<string, VolumeRow>> {
    const out = new Map<string, VolumeRow>();
    if (ids.length === 0) return out;
    for (const r of await q.selectFrom("vol_volume").selectAll().where("id", "in", [...new Set(ids)]).execute()) out.set(r.id, r);
    return out;
  }

  private async typeNames(q: VQ, ids: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (ids.length === 0) return out;
    for (const r of await q.selectFrom("vol_type").select(["id", "name"]).where("id", "in", [...new Set(ids)]).execute()) out.set(r.id, r.name);
    return out;
  }

  /** create_group_from_src (generic): each volume from its snapshot or source volume, then the group is available. */
  async runCreateFromSrc(groupId: string): Promise<void> {
    const g = await this.db.selectFrom("vol_group").selectAll().where("id", "=", groupId).executeTakeFirst();
    if (!g || g.status !== "creating") return;
    const vols = await this.db.selectFrom("vol_volume").selectAll().where("group_id", "=", groupId).where("status", "=", "creating").execute();
    try {
      for (const vol of vols) {
        if (!vol.backend) throw new VolumeDriverFailure("clone", "?", `volume ${vol.id} has no backend`);
        if (vol.snapshot_id) {
          const snap = await this.db.selectFrom("vol_snapshot").select(["id", "volume_id"]).where("id", "=", vol.snapshot_id).executeTakeFirst();
          const origin = snap ? await this.v.core.volume(this.db, snap.volume_id) : undefined;
          if (!snap || !origin?.backend) throw new VolumeDriverFailure("clone", vol.backend, `snapshot ${vol.snapshot_id} is gone`);
          this.v.driver.check("clone", vol.backend);
          await this.v.driver.copy({ backend: origin.backend, id: `snap-${snap.id}` }, { backend: vol.backend, id: vol.id }, vol.size);
        } else if (vol.source_volid) {
          const origin = await this.v.core.volume(this.db, vol.source_volid);
          if (!origin?.backend) throw new VolumeDriverFailure("clone", vol.backend, `volume ${vol.source_volid} is gone`);
          this.v.driver.check("clone", vol.backend);
          await this.v.driver.copy({ backend: origin.backend, id: origin.id }, { backend: vol.backend, id: vol.id }, vol.size);
        } else {
          this.v.driver.check("create", vol.backend);
          await this.v.driver.createVolume(vol.backend, vol.id, vol.size);
        }
      }
    } catch (e) {
      if (!(e instanceof VolumeDriverFailure)) throw e;
      this.v.log.warn({ err: e, group: groupId }, "create group from source failed");
      await this.v.core.write(async (trx) => {
        await this.setGroup(trx, groupId, ["creating"], { status: "error" });
        await trx.updateTable("vol_volume").set({ status: "error", updated_at: this.v.core.now() }).where("group_id", "=", groupId).where("status", "=", "creating").execute();
      });
      return;
    }
    await this.v.core.write(async (trx) => {
      const now = this.v.core.now();
      await trx.updateTable("vol_volume").set({ status: "available", launched_at: now, updated_at: now }).where("group_id", "=", groupId).where("status", "=", "creating").execute();
      await this.setGroup(trx, groupId, ["creating"], { status: "available" });
    });
  }

  // ---- update -------------------------------------------------------------------------

  /**
   * API.update: name and description change at once (and set the group available);
   * add_volumes/remove_volumes ("id1,id2") are checked here and applied by the task while
   * the group is "updating".
   */
  async update(c: GroupCaller, g: Group, r: { name: string | undefined; description: string | undefined; addVolumes: string | undefined; removeVolumes: string | undefined }): Promise<void> {
    let name = r.name;
    let description = r.description;
    if (name === g.name) name = undefined;
    if (description === g.description) description = undefined;
    const split = (s: string | undefined) => {
      if (!s) return [];
      return s.replace(/^,+|,+$/g, "").split(",");
    };
    const addList = split(r.addVolumes);
    const removeList = split(r.removeVolumes);
    const both = addList.filter((x) => removeList.includes(x));
    if (both.length > 0) throw invalidVolume(`UUIDs ${pyList(both)} are in both add and remove volume list.`);
    await this.v.core.write(async (trx) => {
      await this.lockGroup(trx, g.id);
      const members = await trx.selectFrom("vol_volume").selectAll().where("group_id", "=", g.id).execute();
      const add = addList.length > 0 ? await this.validateAdd(c, trx, members, addList, g) : [];
      const remove = removeList.length > 0 ? this.validateRemove(members, removeList, g) : [];
      if (name === undefined && description === undefined && add.length === 0 && remove.length === 0) {
        throw invalidGroup(`Cannot update group ${g.id} because no valid name, description, add_volumes, or remove_volumes were provided.`);
      }
      const patch: Partial<GroupRow> = {};
      if (name !== undefined) patch.name = name;
      if (description !== undefined) patch.description = description;
      if (add.length === 0 && remove.length === 0) {
        patch.status = "available";
        await this.setGroup(trx, g.id, undefined, patch);
        return;
      }
      patch.status = "updating";
      if (!(await this.setGroup(trx, g.id, ["available"], patch))) throw invalidGroup("Group status must be available.");
      await this.v.tasks.enqueue("group.update", { groupId: g.id, add, remove }, 0, trx);
    });
  }

  private validateRemove(members: VolumeRow[], removeList: string[], g: Group): string[] {
    const out: string[] = [];
    for (const vol of members) {
      if (!removeList.includes(vol.id)) continue;
      if (!(VALID_REMOVE_VOL_FROM_GROUP_STATUS as readonly string[]).includes(vol.status)) {
        throw invalidVolume(
          `Cannot remove volume ${vol.id} from group ${g.id} because volume is in an invalid state: ${vol.status}. Valid states are: ${pyTuple(VALID_REMOVE_VOL_FROM_GROUP_STATUS)}.`,
        );
      }
      out.push(vol.id);
    }
    // Cinder tests membership against the comma-joined string of the ids found.
    const joined = out.join(",");
    for (const id of removeList) {
      if (!joined.includes(id)) throw invalidVolume(`Cannot remove volume ${id} from group ${g.id} because it is not in the group.`);
    }
    return out;
  }

  private async validateAdd(c: GroupCaller, q: VQ, members: VolumeRow[], addList: string[], g: Group): Promise<string[]> {
    const wanted = addList.filter((id) => !members.some((m) => m.id === id));
    const out: string[] = [];
    for (const id of wanted) {
      const vol = await this.v.core.volume(q, id);
      if (!vol || (!c.admin && vol.project_id !== c.projectId)) {
        throw invalidVolume(`Cannot add volume ${id} to group ${g.id} because volume cannot be found.`);
      }
      if (vol.group_id) throw invalidVolume(`Cannot add volume ${vol.id} to group ${g.id} because it is already in group ${vol.group_id}.`);
      if (vol.project_id !== g.project_id) throw invalidVolume(`Cannot add volume ${vol.id} to group ${g.id} as they belong to different projects.`);
      if (!vol.volume_type_id) throw invalidVolume(`Cannot add volume ${vol.id} to group ${g.id} because it has no volume type.`);
      if (!g.volumeTypeIds.includes(vol.volume_type_id)) {
        throw invalidVolume(`Cannot add volume ${vol.id} to group ${g.id} because volume type ${vol.volume_type_id} is not supported by the group.`);
      }
      if (!(VALID_ADD_VOL_TO_GROUP_STATUS as readonly string[]).includes(vol.status)) {
        throw invalidVolume(
          `Cannot add volume ${vol.id} to group ${g.id} because volume is in an invalid state: ${vol.status}. Valid states are: ${pyTuple(VALID_ADD_VOL_TO_GROUP_STATUS)}.`,
        );
      }
      if (backendPart(vol.host) !== backendPart(g.host)) throw invalidVolume("Volume is not local to this node.");
      out.push(vol.id);
    }
    return out;
  }

  /** update_group (generic): members join and leave, the group is available again. */
  async runUpdate(groupId: string, add: string[], remove: string[]): Promise<void> {
    await this.v.core.write(async (trx) => {
      // The volume manager applies the change whatever the status became meanwhile (a
      // name-only update sets a group available at once), then the group is available.
      const g = await trx.selectFrom("vol_group").select(["id", "status"]).where("id", "=", groupId).executeTakeFirst();
      if (!g || ["deleting", "error_deleting"].includes(g.status)) return;
      const now = this.v.core.now();
      if (add.length > 0) {
        await trx
          .updateTable("vol_volume")
          .set({ group_id: groupId, updated_at: now })
          .where("id", "in", add)
          .where("status", "in", [...VALID_ADD_VOL_TO_GROUP_STATUS])
          .where((eb) => eb.or([eb("group_id", "is", null), eb("group_id", "=", groupId)]))
          .execute();
      }
      if (remove.length > 0) await trx.updateTable("vol_volume").set({ group_id: null, updated_at: now }).where("id", "in", remove).where("group_id", "=", groupId).execute();
      await this.setGroup(trx, groupId, undefined, { status: "available" });
    });
  }

  // ---- delete -------------------------------------------------------------------------

  /**
   * API.delete: a group never placed goes at once; otherwise, unless delete-volumes, it must
   * be available or error and empty; never with group snapshots, attached members or members
   * with snapshots. The group and its volumes go "deleting" and the task removes them.
   */
  async delete(g: Group, deleteVolumes: boolean): Promise<void> {
    await this.v.core.write(async (trx) => {
      const cur = await this.lockGroup(trx, g.id);
      if (!cur) throw groupNotFound(g.id);
      if (!cur.host) {
        await trx.updateTable("vol_volume").set({ group_id: null }).where("group_id", "=", g.id).execute();
        await trx.deleteFrom("vol_group").where("id", "=", g.id).execute();
        return;
      }
      await this.assertNotFrozen(trx, cur.host);
      if (!deleteVolumes && !["available", "error"].includes(cur.status)) {
        throw invalidGroup(`Group status must be available or error, but current status is: ${cur.status}`);
      }
      const gsnaps = await trx.selectFrom("vol_group_snapshot").select("id").where("group_id", "=", g.id).execute();
      if (gsnaps.length > 0) throw invalidGroup("Group has existing snapshots.");
      const vols = await trx.selectFrom("vol_volume").selectAll().where("group_id", "=", g.id).execute();
      if (vols.length > 0 && !deleteVolumes) {
        throw invalidGroup(`Group ${g.id} still contains volumes. The delete-volumes flag is required to delete it.`);
      }
      const withSnaps = vols.length
        ? new Set(
            (
              await trx
                .selectFrom("vol_snapshot")
                .select("volume_id")
                .where(
                  "volume_id",
                  "in",
                  vols.map((x) => x.id),
                )
                .execute()
            ).map((s) => s.volume_id),
          )
        : new Set<string>();
      for (const vol of vols) {
        if (vol.attach_status === "attached") throw invalidGroup(`Volume in group ${g.id} is attached. Need to detach first.`);
        if (withSnaps.has(vol.id)) throw invalidGroup("Volume in group still has dependent snapshots.");
      }
      // group_creating_from_src: not while a group is being created from it or its snapshots.
      const creatingFrom = await trx
        .selectFrom("vol_group")
        .select("id")
        .where("status", "=", "creating")
        .where((eb) =>
          eb.or([eb("source_group_id", "=", g.id), eb("group_snapshot_id", "in", eb.selectFrom("vol_group_snapshot").select("id").where("group_id", "=", g.id))]),
        )
        .executeTakeFirst();
      if (creatingFrom) {
        const reason = deleteVolumes
          ? "Group status must be available or error and must not have dependent group snapshots"
          : "Group must not have attached volumes, volumes with snapshots, or dependent group snapshots";
        throw invalidGroup(`Cannot delete group ${g.id}. ${reason}, and it cannot be the source for an ongoing group or group snapshot creation.`);
      }
      const now = this.v.core.now();
      if (vols.length > 0) await trx.updateTable("vol_volume").set({ status: "deleting", updated_at: now }).where("group_id", "=", g.id).execute();
      await this.setGroup(trx, g.id, undefined, { status: "deleting" });
      await this.v.tasks.enqueue("group.delete", { groupId: g.id }, this.v.driver.latency("delete"), trx);
    });
  }

  /** delete_group (generic): each member volume off its backend, then the rows. */
  async runDelete(groupId: string): Promise<void> {
    const g = await this.db.selectFrom("vol_group").selectAll().where("id", "=", groupId).executeTakeFirst();
    if (!g || g.status !== "deleting") return;
    const vols = await this.db.selectFrom("vol_volume").selectAll().where("group_id", "=", groupId).execute();
    const done: string[] = [];
    try {
      for (const vol of vols) {
        if (vol.backend) {
          this.v.driver.check("delete", vol.backend);
          await this.v.driver.deleteVolume(vol.backend, vol.id);
        }
        done.push(vol.id);
      }
    } catch (e) {
      if (!(e instanceof VolumeDriverFailure)) throw e;
      this.v.log.warn({ err: e, group: groupId }, "group delete failed");
      await this.v.core.write(async (trx) => {
        const now = this.v.core.now();
        if (done.length) {
          await trx.deleteFrom("vol_attachment").where("volume_id", "in", done).execute();
          await trx.deleteFrom("vol_volume").where("id", "in", done).execute();
        }
        await trx.updateTable("vol_volume").set({ status: "error_deleting", updated_at: now }).where("group_id", "=", groupId).execute();
        await this.setGroup(trx, groupId, ["deleting"], { status: "error_deleting" });
      });
      return;
    }
    await this.v.core.write(async (trx) => {
      if (done.length) {
        await trx.deleteFrom("vol_attachment").where("volume_id", "in", done).execute();
        await trx.deleteFrom("vol_volume").where("id", "in", done).execute();
      }
      await trx.deleteFrom("vol_group").where("id", "=", groupId).where("status", "=", "deleting").execute();
    });
  }

  // ---- replication (Tiramisu, 3.38) ---------------------------------------------------

  /**
   * API._check_type: the group type asks for consistent_group_replication_enabled and every
   * volume type for replication_enabled (both "<is> True").
   */
  async checkReplicationType(g: Group): Promise<void> {
    const t = await this.types.get(g.group_type_id, true).catch(() => undefined);
    if (!isTrueSpec(t?.group_specs["consistent_group_replication_enabled"])) {
      throw new BadRequest(`Invalid group type: Group ${g.id} is not a replication group type.`);
    }
    for (const id of g.volumeTypeIds) {
      const vt = await this.v.types.find(id);
      if (!vt || !isTrueSpec(vt.extra_specs["replication_enabled"])) {
        throw new BadRequest(`Invalid volume type: Volume type ${id} does not have 'replication_enabled' spec key set to '<is> True'.`);
      }
    }
  }

  /**
   * enable/disable/failover_replication: the status checks of group/api.py, then the group
   * and its volumes go enabling/disabling/failing-over and the backend is asked; the
   * simulated backends (like LVM) replicate nothing, so the request ends as a driver failure
   * does in the volume manager: the group in error with replication_status error.
   */
  async replicationAction(g: Group, op: "enable" | "disable" | "failover", allowAttached = false): Promise<void> {
    await this.checkReplicationType(g);
    const what = op === "enable" ? "enable replication" : op === "disable" ? "disable replication" : "failover replication";
    const validStatus = op === "disable" ? ["available", "error"] : ["available"];
    const validRep = op === "enable" ? ["disabled", "enabled"] : op === "disable" ? ["enabled", "error"] : ["enabled", "failed-over"];
    const transient = op === "enable" ? "enabling" : op === "disable" ? "disabling" : "failing-over";
    await this.v.core.write(async (trx) => {
      const cur = await trx.selectFrom("vol_group").selectAll().where("id", "=", g.id).executeTakeFirst();
      if (!cur) throw groupNotFound(g.id);
      if (!validStatus.includes(cur.status)) {
        throw invalidGroup(`Group ${g.id} status must be ${pyList(validStatus)}, but current status is: ${cur.status}. Cannot ${what}.`);
      }
      if (!validRep.includes(cur.replication_status)) {
        throw invalidGroup(`Group ${g.id} replication status must be ${pyList(validRep)}, but current status is: ${cur.replication_status}. Cannot ${what}.`);
      }
      const vols = await trx.selectFrom("vol_volume").selectAll().where("group_id", "=", g.id).execute();
      for (const vol of vols) {
        if (op !== "disable" && !["available", "in-use"].includes(vol.status)) {
          throw invalidVolume(`Volume ${vol.id} status must be ['available', 'in-use'], but current status is: ${vol.status}. Cannot ${what}.`);
        }
        if (op === "failover" && vol.status === "in-use" && !allowAttached) {
          throw invalidVolume(`Volume ${vol.id} is attached but allow_attached_volume flag is False. Cannot failover replication.`);
        }
        if (!validRep.includes(vol.replication_status)) {
          throw invalidVolume(`Volume ${vol.id} replication status must be ${pyList(validRep)}, but current status is: ${vol.replication_status}. Cannot ${what}.`);
        }
      }
      const now = this.v.core.now();
      if (vols.length) await trx.updateTable("vol_volume").set({ replication_status: transient, updated_at: now }).where("group_id", "=", g.id).execute();
      await this.setGroup(trx, g.id, undefined, { replication_status: transient });
      await this.v.tasks.enqueue("group.replication", { groupId: g.id, transient }, 0, trx);
    });
  }

  /** The volume manager's answer for a backend without replication: error. */
  async runReplication(groupId: string, transient: string): Promise<void> {
    await this.v.core.write(async (trx) => {
      const g = await trx.selectFrom("vol_group").select(["id", "replication_status"]).where("id", "=", groupId).executeTakeFirst();
      if (!g || g.replication_status !== transient) return;
      const now = this.v.core.now();
      await trx.updateTable("vol_volume").set({ replication_status: "error", updated_at: now }).where("group_id", "=", groupId).where("replication_status", "=", transient).execute();
      await this.setGroup(trx, groupId, undefined, { status: "error", replication_status: "error" });
    });
  }

  async resetStatus(g: Group, status: string): Promise<void> {
    await this.setGroup(this.db, g.id, undefined, { status });
  }

  // ---- group snapshots ----------------------------------------------------------------

  /**
   * API.create_group_snapshot + volume API create_snapshots_in_db: one snapshot of every
   * member (each must be on a backend, not in error, maintenance or migration), quotas for
   * the snapshots, then the task snapshots them on the backend.
   */
  async createGroupSnapshot(c: GroupCaller, g: Group, name: string | null, description: string | null): Promise<GroupSnapshot> {
    return this.v.core.write(async (trx) => {
      // The group row is locked: a concurrent delete sees this snapshot (or this sees no group).
      if (!(await this.lockGroup(trx, g.id))) throw groupNotFound(g.id);
      await this.assertNotFrozen(trx, g.host);
      const vols = await trx.selectFrom("vol_volume").selectAll().where("group_id", "=", g.id).orderBy("created_at").execute();
      for (const vol of vols) {
        if (!vol.host) throw invalidVolume("The snapshot cannot be created because volume has not been scheduled to any host.");
        if (vol.status === "maintenance") throw invalidVolume("The snapshot cannot be created when the volume is in maintenance mode.");
        if (vol.migration_status !== null && !["deleting", "error", "success"].includes(vol.migration_status)) {
          throw invalidVolume("Snapshot cannot be created while volume is migrating.");
        }
        if (vol.status === "error") throw invalidVolume("The snapshot cannot be created when the volume is in error status.");
        if (vol.status.startsWith("replica_")) throw invalidVolume("Snapshot of secondary replica is not allowed.");
      }
      if (vols.length > 0) {
        const names = await this.typeNames(
          trx,
          vols.map((x) => x.volume_type_id),
        );
        const deltas: Record<string, number> = { snapshots: 0, gigabytes: 0 };
        for (const vol of vols) {
          deltas["snapshots"]! += 1;
          deltas["gigabytes"]! += vol.size;
          const tn = names.get(vol.volume_type_id);
          if (tn !== undefined) {
            deltas[`snapshots_${tn}`] = (deltas[`snapshots_${tn}`] ?? 0) + 1;
            deltas[`gigabytes_${tn}`] = (deltas[`gigabytes_${tn}`] ?? 0) + vol.size;
          }
        }
        await this.v.quotas.check(trx, c.projectId, deltas);
      }
      const now = this.v.core.now();
      const gs: GroupSnapshot = {
        id: uuid(),
        group_id: g.id,
        project_id: c.projectId,
        user_id: c.userId,
        name,
        description,
        status: "creating",
        group_type_id: g.group_type_id,
        created_at: now,
        updated_at: null,
      };
      await trx.insertInto("vol_group_snapshot").values(gs).execute();
      if (vols.length > 0) {
        await trx
          .insertInto("vol_snapshot")
          .values(
            vols.map(
              (vol): SnapshotRow => ({
                id: uuid(),
                volume_id: vol.id,
                project_id: c.projectId,
                user_id: c.userId,
                name,
                description,
                status: "creating",
                progress: "0%",
                size: vol.size,
                volume_type_id: vol.volume_type_id,
                metadata: "{}",
                group_snapshot_id: gs.id,
                use_quota: 1,
                created_at: now,
                updated_at: null,
              }),
            ),
          )
          .execute();
      }
      await this.v.tasks.enqueue("group_snapshot.create", { groupSnapshotId: gs.id }, this.v.driver.latency("snapshot"), trx);
      return gs;
    });
  }

  /** create_group_snapshot (generic): each member's snapshot on its backend. */
  async runCreateGroupSnapshot(id: string): Promise<void> {
    const gs = await this.db.selectFrom("vol_group_snapshot").selectAll().where("id", "=", id).executeTakeFirst();
    if (!gs || gs.status !== "creating") return;
    const snaps = await this.db.selectFrom("vol_snapshot").selectAll().where("group_snapshot_id", "=", id).execute();
    const vols = await this.volumesById(
      this.db,
      snaps.map((s) => s.volume_id),
    );
    try {
      for (const s of snaps) {
        if (s.status !== "creating") continue;
        const vol = vols.get(s.volume_id);
        if (!vol?.backend) throw new VolumeDriverFailure("snapshot", "?", `volume ${s.volume_id} is gone`);
        this.v.driver.check("snapshot", vol.backend);
        await this.v.driver.createSnapshot(vol.backend, vol.id, s.id);
      }
    } catch (e) {
      if (!(e instanceof VolumeDriverFailure)) throw e;
      this.v.log.warn({ err: e, groupSnapshot: id }, "group snapshot failed");
      await this.v.core.write(async (trx) => {
        await trx.updateTable("vol_snapshot").set({ status: "error", updated_at: this.v.core.now() }).where("group_snapshot_id", "=", id).where("status", "=", "creating").execute();
        await this.setGroupSnapshot(trx, id, ["creating"], { status: "error" });
      });
      return;
    }
    await this.v.core.write(async (trx) => {
      await trx.updateTable("vol_snapshot").set({ status: "available", progress: "100%", updated_at: this.v.core.now() }).where("group_snapshot_id", "=", id).where("status", "=", "creating").execute();
      await this.setGroupSnapshot(trx, id, ["creating"], { status: "available" });
    });
  }

  /** API.delete_group_snapshot: available or error, and no group being created from it. */
  async deleteGroupSnapshot(gs: GroupSnapshot): Promise<void> {
    await this.v.core.write(async (trx) => {
      const owner = await trx.selectFrom("vol_group").select("host").where("id", "=", gs.group_id).executeTakeFirst();
      await this.assertNotFrozen(trx, owner?.host ?? null);
      const creating = await trx.selectFrom("vol_group").select("id").where("group_snapshot_id", "=", gs.id).where("status", "=", "creating").executeTakeFirst();
      const ok = !creating && (await this.setGroupSnapshot(trx, gs.id, ["available", "error"], { status: "deleting" }));
      if (!ok) {
        throw invalidGroupSnapshot("GroupSnapshot status must be available or error, and no Group can be currently using it as source for its creation.");
      }
      await trx.updateTable("vol_snapshot").set({ status: "deleting", updated_at: this.v.core.now() }).where("group_snapshot_id", "=", gs.id).execute();
      await this.v.tasks.enqueue("group_snapshot.delete", { groupSnapshotId: gs.id }, this.v.driver.latency("delete_snapshot"), trx);
    });
  }

  /** delete_group_snapshot (generic): each snapshot off its backend, then the rows. */
  async runDeleteGroupSnapshot(id: string): Promise<void> {
    const gs = await this.db.selectFrom("vol_group_snapshot").selectAll().where("id", "=", id).executeTakeFirst();
    if (!gs || gs.status !== "deleting") return;
    const snaps = await this.db.selectFrom("vol_snapshot").selectAll().where("group_snapshot_id", "=", id).execute();
    const vols = await this.volumesById(
      this.db,
      snaps.map((s) => s.volume_id),
    );
    const done: string[] = [];
    try {
      for (const s of snaps) {
        const vol = vols.get(s.volume_id);
        if (vol?.backend) {
          this.v.driver.check("delete_snapshot", vol.backend);
          await this.v.driver.deleteSnapshot(vol.backend, s.id);
        }
        done.push(s.id);
      }
    } catch (e) {
      if (!(e instanceof VolumeDriverFailure)) throw e;
      this.v.log.warn({ err: e, groupSnapshot: id }, "group snapshot delete failed");
      await this.v.core.write(async (trx) => {
        if (done.length) await trx.deleteFrom("vol_snapshot").where("id", "in", done).execute();
        await trx.updateTable("vol_snapshot").set({ status: "error_deleting", updated_at: this.v.core.now() }).where("group_snapshot_id", "=", id).execute();
        await this.setGroupSnapshot(trx, id, ["deleting"], { status: "error_deleting" });
      });
      return;
    }
    await this.v.core.write(async (trx) => {
      if (done.length) await trx.deleteFrom("vol_snapshot").where("id", "in", done).execute();
      await trx.deleteFrom("vol_group_snapshot").where("id", "=", id).where("status", "=", "deleting").execute();
    });
  }

  async resetGroupSnapshotStatus(gs: GroupSnapshot, status: string): Promise<void> {
    await this.setGroupSnapshot(this.db, gs.id, undefined, { status });
  }
}

export type { VolumeTrx };
