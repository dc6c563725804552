import { BadRequest, CloudError, Conflict, NotFound } from "../../../common/errors.js";
import { uuid } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { TypesApi, Volume, VolumeType } from "../api/deps.js";
import type { VolumeTables, VQ } from "../store/tables.js";

type TypeRow = VolumeTables["vol_type"];

export interface VolumeTypeRecord extends VolumeType {
  created_at: string;
  updated_at: string | null;
}

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** oslo's uuidutils.is_uuid_like. */
export function isUuidLike(s: string): boolean {
  return UUID_RE.test(s.replace(/^urn:uuid:/i, "").replace(/[{}]/g, ""));
}

export const typeNotFound = (id: string) => new NotFound(`Volume type ${id} could not be found.`);
export const typeNotFoundByName = (name: string) => new NotFound(`Volume type with name ${name} could not be found.`);

/** The caller as the types queries see it (Cinder's context: is_admin and project_id). */
export interface TypeViewer {
  projectId: string | undefined;
  isAdmin: boolean;
}

export interface TypeListFilters {
  /** undefined: all (admin's is_public=None); true: public + accessible; false: private only. */
  isPublic: boolean | undefined;
  extraSpecs?: Record<string, string>;
  name?: string;
  description?: string;
  /** An admin filter on a key the model does not have: Cinder answers an empty list. */
  unknown?: boolean;
}

/**
 * cinder/volume/volume_types.py and the volume_type_* DB calls: types with their extra specs,
 * the access list of private types, the configured default and the 3.62 per-project defaults.
 */
export class TypesManager implements TypesApi {
  constructor(private readonly v: Volume) {}

  private get db() {
    return this.v.core.db;
  }

  private async specsOf(q: VQ, ids: string[]): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    for (const id of ids) out.set(id, {});
    if (ids.length === 0) return out;
    const rows = await q.selectFrom("vol_type_extra_spec").selectAll().where("type_id", "in", ids).execute();
    for (const r of rows) {
      const m = out.get(r.type_id);
      if (m) m[r.key] = r.value;
    }
    return out;
  }

  private async withSpecs(q: VQ, rows: TypeRow[]): Promise<VolumeTypeRecord[]> {
    const specs = await this.specsOf(q, rows.map((r) => r.id));
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      description: r.description,
      is_public: r.is_public === 1,
      qos_specs_id: r.qos_specs_id,
      extra_specs: specs.get(r.id) ?? {},
      created_at: r.created_at,
      updated_at: r.updated_at,
    }));
  }

  async byId(id: string, q: VQ = this.db): Promise<VolumeTypeRecord | undefined> {
    const row = await q.selectFrom("vol_type").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? (await this.withSpecs(q, [row]))[0] : undefined;
  }

  async byName(name: string, q: VQ = this.db): Promise<VolumeTypeRecord | undefined> {
    const row = await q.selectFrom("vol_type").selectAll().where("name", "=", name).executeTakeFirst();
    return row ? (await this.withSpecs(q, [row]))[0] : undefined;
  }

  async find(idOrName: string, q: VQ = this.db): Promise<VolumeType | undefined> {
    return (await this.byId(idOrName, q)) ?? (await this.byName(idOrName, q));
  }

  async usableBy(type: VolumeType, projectId: string): Promise<boolean> {
    if (type.is_public) return true;
    const a = await this.db.selectFrom("vol_type_access").select("project_id").where("type_id", "=", type.id).where("project_id", "=", projectId).executeTakeFirst();
    return a !== undefined;
  }

  private async visible(t: VolumeTypeRecord | undefined, viewer: TypeViewer): Promise<VolumeTypeRecord | undefined> {
    if (!t) return undefined;
    if (viewer.isAdmin || t.is_public) return t;
    if (viewer.projectId && (await this.usableBy(t, viewer.projectId))) return t;
    return undefined;
  }

  /** volume_types.get_volume_type: 404 VolumeTypeNotFound when absent or not visible to a non-admin. */
  async get(id: string, viewer: TypeViewer): Promise<VolumeTypeRecord> {
    const t = await this.visible(await this.byId(id), viewer);
    if (!t) throw typeNotFound(id);
    return t;
  }

  /** volume_types.get_by_name_or_id with the caller's visibility. */
  async getByNameOrId(identity: string, viewer: TypeViewer): Promise<VolumeTypeRecord> {
    if (isUuidLike(identity)) {
      const t = (await this.visible(await this.byId(identity), viewer)) ?? (await this.visible(await this.byName(identity), viewer));
      if (!t) throw typeNotFound(identity);
      return t;
    }
    const t = await this.visible(await this.byName(identity), viewer);
    if (!t) throw typeNotFoundByName(identity);
    return t;
  }

  async resolve(projectId: string, requested: string | undefined, isAdmin: boolean): Promise<VolumeType> {
    const viewer = { projectId, isAdmin };
    if (requested !== undefined && requested !== null && requested !== "") return this.getByNameOrId(requested, viewer);
    return this.defaultFor(projectId, viewer);
  }

  /** get_default_volume_type: the project's 3.62 default, else the configured default_volume_type. */
  async defaultFor(projectId: string | undefined, viewer: TypeViewer): Promise<VolumeTypeRecord> {
    if (projectId) {
      const d = await this.db.selectFrom("vol_default_type").selectAll().where("project_id", "=", projectId).executeTakeFirst();
      if (d) return this.get(d.volume_type_id, viewer);
    }
    const t = await this.byName(this.v.config.defaultVolumeType);
    if (!t) {
      throw new CloudError(500, `The request cannot be fulfilled as the default volume type ${this.v.config.defaultVolumeType} cannot be found.`);
    }
    return t;
  }

  /** volume_type_get_all with Cinder's is_public / access filter, extra spec filters and paging. */
  async list(
    viewer: TypeViewer,
    f: TypeListFilters,
    paging: { marker: string | undefined; limit: number; offset: number; sortKeys: string[]; sortDirs: Array<"asc" | "desc"> },
  ): Promise<VolumeTypeRecord[]> {
    if (f.unknown) return [];
    let s = this.db.selectFrom("vol_type").selectAll();
    if (f.isPublic !== undefined) {
      const pub = f.isPublic ? 1 : 0;
      const pid = viewer.projectId;
      if (f.isPublic && pid) {
        s = s.where((eb) =>
          eb.or([eb("is_public", "=", pub), eb("id", "in", eb.selectFrom("vol_type_access").select("type_id").where("project_id", "=", pid))]),
        );
      } else s = s.where("is_public", "=", pub);
    }
    if (f.name !== undefined) s = s.where("name", "=", f.name);
    if (f.description !== undefined) s = s.where("description", "=", f.description);
    for (const [k, val] of Object.entries(f.extraSpecs ?? {})) {
      s = s.where("id", "in", (eb) => {
        let sub = eb.selectFrom("vol_type_extra_spec").select("type_id").where("key", "=", k);
        sub = k === "RESKEY:availability_zones" ? sub.where("value", "like", `%${val}%`) : sub.where("value", "=", val);
        return sub;
      });
    }
    const rows = await s.execute();
    // Sorting and the marker in memory: types are few (Cinder's paginate_query semantics).
    const keys = paging.sortKeys.length ? paging.sortKeys : ["created_at"];
    const dirs = paging.sortDirs;
    const cmp = (a: TypeRow, b: TypeRow): number => {
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as keyof TypeRow;
        const x = a[k];
        const y = b[k];
        let c = 0;
        if (x === y) c = 0;
        else if (x === null || x === undefined) c = -1;
        else if (y === null || y === undefined) c = 1;
        else c = x < y ? -1 : 1;
        if (c !== 0) return dirs[i] === "asc" ? c : -c;
      }
      return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
    };
    rows.sort(cmp);
    let start = 0;
    if (paging.marker !== undefined) {
      const i = rows.findIndex((r) => r.id === paging.marker);
      if (i < 0) throw new NotFound(`Marker ${paging.marker} could not be found.`);
      start = i + 1;
    }
    const page = rows.slice(start + paging.offset, start + paging.offset + paging.limit);
    return this.withSpecs(this.db, page);
  }

  async create(input: { name: string; description: string | null; isPublic: boolean; extraSpecs: Record<string, string> }): Promise<VolumeTypeRecord> {
    const id = uuid();
    const now = this.v.core.now();
    try {
      await this.v.core.write(async (trx) => {
        await trx
          .insertInto("vol_type")
          .values({ id, name: input.name, description: input.description, is_public: input.isPublic ? 1 : 0, qos_specs_id: null, created_at: now, updated_at: null })
          .execute();
        const specs = Object.entries(input.extraSpecs);
        if (specs.length) await trx.insertInto("vol_type_extra_spec").values(specs.map(([key, value]) => ({ type_id: id, key, value }))).execute();
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Volume Type ${input.name} already exists.`);
      throw e;
    }
    return (await this.byId(id))!;
  }

  async update(id: string, patch: { name?: string | undefined; description?: string | undefined; isPublic?: boolean | undefined }): Promise<VolumeTypeRecord> {
    const t = await this.byId(id);
    if (!t) throw typeNotFound(id);
    const set: Partial<TypeRow> = { updated_at: this.v.core.now() };
    if (patch.name !== undefined && patch.name !== null) set.name = patch.name;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.isPublic !== undefined && patch.isPublic !== null) set.is_public = patch.isPublic ? 1 : 0;
    try {
      await this.v.core.write(async (trx) => {
        await trx.updateTable("vol_type").set(set).where("id", "=", id).execute();
        // Cinder renames the per-type quota resources with the type (volume_types.update).
        if (set.name !== undefined && set.name !== t.name) {
          for (const base of ["volumes", "gigabytes", "snapshots"]) {
            await trx.updateTable("vol_quota").set({ resource: `${base}_${set.name}` }).where("resource", "=", `${base}_${t.name}`).execute();
            await trx.updateTable("vol_quota_class").set({ resource: `${base}_${set.name}` }).where("resource", "=", `${base}_${t.name}`).execute();
          }
        }
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Volume Type ${patch.name ?? id} already exists.`);
      throw e;
    }
    return (await this.byId(id))!;
  }

  async destroy(id: string): Promise<void> {
    const t = await this.byId(id);
    if (!t) throw typeNotFound(id);
    const isDefaultOf = await this.db.selectFrom("vol_default_type").select("project_id").where("volume_type_id", "=", id).executeTakeFirst();
    if (isDefaultOf) throw new BadRequest(`The volume type ${id} is a default volume type and cannot be deleted.`);
    const def = await this.byName(this.v.config.defaultVolumeType);
    if (!def) throw new CloudError(500, `The request cannot be fulfilled as the default volume type ${this.v.config.defaultVolumeType} cannot be found.`);
    if (def.id === id) throw new BadRequest(`The volume type ${id} is a default volume type and cannot be deleted.`);
    await this.v.core.write(async (trx) => {
      const count = await trx.selectFrom("vol_type").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirst();
      if (Number(count?.n ?? 0) <= 1) throw new BadRequest(`The volume type ${id} is the only currently defined volume type and cannot be deleted.`);
      const used = await trx.selectFrom("vol_volume").select("id").where("volume_type_id", "=", id).limit(1).executeTakeFirst();
      const groups = await trx.selectFrom("vol_group").select(["id", "volume_type_ids"]).execute();
      if (used || groups.some((g) => g.volume_type_ids.includes(id))) throw new BadRequest("Target volume type is still in use.");
      await trx.deleteFrom("vol_type_extra_spec").where("type_id", "=", id).execute();
      await trx.deleteFrom("vol_type_access").where("type_id", "=", id).execute();
      // volume_type_destroy also (soft-)deletes the type's encryption.
      await trx.deleteFrom("vol_type_encryption").where("volume_type_id", "=", id).execute();
      await trx.deleteFrom("vol_type").where("id", "=", id).execute();
    });
  }

  // Extra specs (types_extra_specs.py).
  async setSpecs(id: string, specs: Record<string, string>): Promise<void> {
    await this.v.core.write(async (trx) => {
      const t = await trx.selectFrom("vol_type").select("id").where("id", "=", id).executeTakeFirst();
      if (!t) throw typeNotFound(id);
      for (const [key, value] of Object.entries(specs)) {
        const r = await trx.updateTable("vol_type_extra_spec").set({ value }).where("type_id", "=", id).where("key", "=", key).executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0) await trx.insertInto("vol_type_extra_spec").values({ type_id: id, key, value }).execute();
      }
      await trx.updateTable("vol_type").set({ updated_at: this.v.core.now() }).where("id", "=", id).execute();
    });
  }

  async deleteSpec(id: string, key: string): Promise<void> {
    const r = await this.db.deleteFrom("vol_type_extra_spec").where("type_id", "=", id).where("key", "=", key).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new NotFound(`Volume Type ${id} has no extra specs with key ${key}.`);
  }

  /** Whether any volume (not deleted) uses the type: extra specs cannot change then (Cinder's _check_type). */
  async inUse(id: string): Promise<boolean> {
    const used = await this.db.selectFrom("vol_volume").select("id").where("volume_type_id", "=", id).limit(1).executeTakeFirst();
    return used !== undefined;
  }

  // Access (volume_type_access.py).
  async accessList(id: string): Promise<string[]> {
    const rows = await this.db.selectFrom("vol_type_access").select("project_id").where("type_id", "=", id).orderBy("project_id").execute();
    return rows.map((r) => r.project_id);
  }

  async addAccess(id: string, projectId: string): Promise<void> {
    const t = await this.byId(id);
    if (!t) throw typeNotFound(id);
    if (t.is_public) throw new BadRequest("Invalid volume type: Type access modification is not applicable to public volume type.");
    try {
      await this.db.insertInto("vol_type_access").values({ type_id: id, project_id: projectId }).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Volume type access for ${id} / ${projectId} combination already exists.`);
      throw e;
    }
  }

  async removeAccess(id: string, projectId: string): Promise<void> {
    const t = await this.byId(id);
    if (!t) throw typeNotFound(id);
    if (t.is_public) throw new BadRequest("Invalid volume type: Type access modification is not applicable to public volume type.");
    const r = await this.db.deleteFrom("vol_type_access").where("type_id", "=", id).where("project_id", "=", projectId).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new NotFound(`Volume type access not found for ${id} / ${projectId} combination.`);
  }
}
