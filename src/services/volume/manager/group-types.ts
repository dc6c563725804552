import { BadRequest, Conflict, NotFound } from "../../../common/errors.js";
import { uuid } from "../../../common/ids.js";
import type { Paging } from "../api/common.js";
import type { VolumeCore } from "../core.js";
import type { VolumeTables, VQ } from "../store/tables.js";
import { pageRows } from "./group-paging.js";

export type GroupTypeRow = VolumeTables["vol_group_type"];

export interface GroupType {
  id: string;
  name: string;
  description: string | null;
  is_public: boolean;
  created_at: string;
  updated_at: string | null;
  group_specs: Record<string, string | null>;
}

/** cinder/volume/group_types.py: the type a group migrated from a CG carries; its groups are hidden from the group APIs. */
export const DEFAULT_CGSNAPSHOT_TYPE = "default_cgsnapshot_type";

export function groupTypeNotFound(id: string): NotFound {
  return new NotFound(`Group type ${id} could not be found.`);
}

function isUniqueViolation(e: unknown): boolean {
  const m = e instanceof Error ? `${e.message} ${(e as { code?: unknown }).code ?? ""}` : "";
  return /unique|23505/i.test(m);
}

/**
 * Group types and their specs (cinder/volume/group_types.py and the db layer under it).
 * Types are admin objects; a non-admin sees public types only (no group type access API
 * exists in the v3 API, so a private type is visible to admins only).
 */
export class GroupTypesManager {
  constructor(private readonly core: VolumeCore) {}

  private async specsOf(q: VQ, ids: string[]): Promise<Map<string, Record<string, string | null>>> {
    const out = new Map<string, Record<string, string | null>>();
    if (ids.length === 0) return out;
    const rows = await q.selectFrom("vol_group_type_spec").selectAll().where("group_type_id", "in", ids).execute();
    for (const r of rows) {
      let m = out.get(r.group_type_id);
      if (!m) out.set(r.group_type_id, (m = {}));
      m[r.key] = r.value;
    }
    return out;
  }

  private present(row: GroupTypeRow, specs: Record<string, string | null> | undefined): GroupType {
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      is_public: row.is_public === 1,
      created_at: row.created_at,
      updated_at: row.updated_at,
      group_specs: specs ?? {},
    };
  }

  /** group_type_get: by id; a non-admin only finds public types (GroupTypeNotFound otherwise). */
  async get(id: string, isAdmin: boolean, q: VQ = this.core.db): Promise<GroupType> {
    const row = await q.selectFrom("vol_group_type").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row || (!isAdmin && row.is_public !== 1)) throw groupTypeNotFound(id);
    return this.present(row, (await this.specsOf(q, [row.id])).get(row.id));
  }

  /** group_type_get_by_name: any type of that name (the db query does not filter on visibility). */
  async getByName(name: string, q: VQ = this.core.db): Promise<GroupType> {
    const row = await q.selectFrom("vol_group_type").selectAll().where("name", "=", name).executeTakeFirst();
    if (!row) throw new NotFound(`Group type with name ${name} could not be found.`);
    return this.present(row, (await this.specsOf(q, [row.id])).get(row.id));
  }

  /**
   * groups API's lookup of a requested group type: a uuid-like string by id (then by name, for
   * a type named like a uuid), anything else by name.
   */
  async resolve(idOrName: string, isAdmin: boolean, uuidLike: boolean, q: VQ = this.core.db): Promise<GroupType> {
    if (!uuidLike) return this.getByName(idOrName, q);
    try {
      return await this.get(idOrName, isAdmin, q);
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
      try {
        return await this.getByName(idOrName, q);
      } catch {
        throw groupTypeNotFound(idOrName);
      }
    }
  }

  /** The id of the reserved type for CGs migrated to groups, when one exists. */
  async cgsnapshotTypeId(q: VQ = this.core.db): Promise<string | undefined> {
    const row = await q.selectFrom("vol_group_type").select("id").where("name", "=", DEFAULT_CGSNAPSHOT_TYPE).executeTakeFirst();
    return row?.id;
  }

  /**
   * group_type_get_all: `isPublic` true → public types, false → private ones, null → all
   * (admins choose; others always get public), sorted and paged as the db layer does.
   */
  async list(isPublic: boolean | null, paging: Paging, isAdmin: boolean): Promise<GroupType[]> {
    const db = this.core.db;
    const all = await db.selectFrom("vol_group_type").selectAll().execute();
    const rows = isPublic === null ? all : all.filter((r) => r.is_public === (isPublic ? 1 : 0));
    // The marker is looked up with the caller's visibility; an unknown one is ignored.
    const markerRow = paging.marker === undefined ? undefined : all.find((r) => r.id === paging.marker && (isAdmin || r.is_public === 1));
    const page = pageRows(rows, paging, markerRow);
    const specs = await this.specsOf(db, page.map((r) => r.id));
    return page.map((r) => this.present(r, specs.get(r.id)));
  }

  async create(name: string, description: string | null, specs: Record<string, string | null>, isPublic: boolean): Promise<GroupType> {
    try {
      return await this.core.write(async (trx) => {
        const same = await trx.selectFrom("vol_group_type").select("id").where("name", "=", name).executeTakeFirst();
        if (same) throw new Conflict(`Group Type ${name} already exists.`);
        const id = uuid();
        const now = this.core.now();
        await trx.insertInto("vol_group_type").values({ id, name, description, is_public: isPublic ? 1 : 0, created_at: now, updated_at: null }).execute();
        const entries = Object.entries(specs);
        if (entries.length > 0) {
          await trx
            .insertInto("vol_group_type_spec")
            .values(entries.map(([key, value]) => ({ group_type_id: id, key, value })))
            .execute();
        }
        return this.get(id, true, trx);
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Group Type ${name} already exists.`);
      throw e;
    }
  }

  /** _type_update: only the given fields change; a name taken by another type is a 409. */
  async update(id: string, patch: { name: string | undefined; description: string | undefined; isPublic: boolean | undefined }): Promise<GroupType> {
    try {
      return await this.core.write(async (trx) => {
        const row = await trx.selectFrom("vol_group_type").selectAll().where("id", "=", id).executeTakeFirst();
        if (patch.name !== undefined) {
          const other = await trx.selectFrom("vol_group_type").select("id").where("name", "=", patch.name).where("id", "!=", id).executeTakeFirst();
          if (other) throw new Conflict(`Group Type ${patch.name} already exists.`);
        }
        if (!row) throw groupTypeNotFound(id);
        const set: Partial<GroupTypeRow> = { updated_at: this.core.now() };
        if (patch.name !== undefined) set.name = patch.name;
        if (patch.description !== undefined) set.description = patch.description;
        if (patch.isPublic !== undefined) set.is_public = patch.isPublic ? 1 : 0;
        await trx.updateTable("vol_group_type").set(set).where("id", "=", id).execute();
        return this.get(id, true, trx);
      });
    } catch (e) {
      if (isUniqueViolation(e) && patch.name !== undefined) throw new Conflict(`Group Type ${patch.name} already exists.`);
      throw e;
    }
  }

  /** group_type_destroy: refused while any group uses the type. */
  async destroy(id: string): Promise<void> {
    await this.core.write(async (trx) => {
      const row = await trx.selectFrom("vol_group_type").select("id").where("id", "=", id).executeTakeFirst();
      if (!row) throw groupTypeNotFound(id);
      const used = await trx.selectFrom("vol_group").select("id").where("group_type_id", "=", id).executeTakeFirst();
      if (used) {
        throw new BadRequest(`Target group type is still in use. Group Type ${id} deletion is not allowed with groups present with the type.`);
      }
      await trx.deleteFrom("vol_group_type_spec").where("group_type_id", "=", id).execute();
      await trx.deleteFrom("vol_group_type").where("id", "=", id).execute();
    });
  }

  /** group_type_specs_update_or_create. */
  async setSpecs(id: string, specs: Record<string, string | null>): Promise<void> {
    await this.core.write(async (trx) => {
      const row = await trx.selectFrom("vol_group_type").select("id").where("id", "=", id).executeTakeFirst();
      if (!row) throw groupTypeNotFound(id);
      for (const [key, value] of Object.entries(specs)) {
        await trx.deleteFrom("vol_group_type_spec").where("group_type_id", "=", id).where("key", "=", key).execute();
        await trx.insertInto("vol_group_type_spec").values({ group_type_id: id, key, value }).execute();
      }
      await trx.updateTable("vol_group_type").set({ updated_at: this.core.now() }).where("id", "=", id).execute();
    });
  }

  /** group_type_specs_delete: GroupTypeSpecsNotFound when the key is absent. */
  async deleteSpec(id: string, key: string): Promise<void> {
    await this.core.write(async (trx) => {
      const r = await trx.deleteFrom("vol_group_type_spec").where("group_type_id", "=", id).where("key", "=", key).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw new NotFound(`Group Type ${id} has no specs with key ${key}.`);
    });
  }
}
