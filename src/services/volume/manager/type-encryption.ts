import { BadRequest, NotFound } from "../../../common/errors.js";
import { uuid } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { Volume } from "../api/deps.js";
import type { VolumeTables, VolumeTrx, VQ } from "../store/tables.js";
import { typeNotFound } from "./types.js";
import type { TypeViewer } from "./types.js";

export type EncryptionRow = VolumeTables["vol_type_encryption"];

/** The stored fields a request may set (Cinder's Encryption columns the API writes). */
export interface EncryptionSpec {
  provider?: string;
  cipher?: string | null;
  key_size?: number | null;
  control_location?: string;
}

/** exception.VolumeTypeEncryptionNotFound (404). */
export const encryptionNotFound = (typeId: string) => new NotFound(`Volume type encryption for type ${typeId} does not exist.`);
/** exception.VolumeTypeEncryptionExists: an Invalid, so 400. */
export const encryptionExists = (typeId: string) => new BadRequest(`Volume type encryption for type ${typeId} already exists.`);

/**
 * cinder/api/contrib/volume_type_encryption.py with the volume_type_encryption_* DB calls:
 * metadata only (provider, cipher, key_size, control_location), one row per type, refused
 * while any volume of the type exists. Every check that precedes a write runs on the write
 * transaction (`trx`), never on the shared connection.
 */
export class TypeEncryptionManager {
  constructor(private readonly v: Volume) {}

  /** volume_type_encryption_get: the type's encryption, if any. */
  async get(typeId: string, q: VQ = this.v.core.db): Promise<EncryptionRow | undefined> {
    return q.selectFrom("vol_type_encryption").selectAll().where("volume_type_id", "=", typeId).executeTakeFirst();
  }

  /** volume_type_encryption_volume_get: any (not deleted) volume of the type, in any project. */
  private async inUse(q: VQ, typeId: string): Promise<boolean> {
    const r = await q.selectFrom("vol_volume").select("id").where("volume_type_id", "=", typeId).limit(1).executeTakeFirst();
    return r !== undefined;
  }

  /** volume_types.get_volume_type on the transaction: 404 VolumeTypeNotFound when absent or not visible. */
  private async checkType(q: VQ, typeId: string, viewer: TypeViewer): Promise<void> {
    const t = await q.selectFrom("vol_type").select(["id", "is_public"]).where("id", "=", typeId).executeTakeFirst();
    if (!t) throw typeNotFound(typeId);
    if (viewer.isAdmin || t.is_public === 1) return;
    const pid = viewer.projectId;
    const a = pid
      ? await q.selectFrom("vol_type_access").select("type_id").where("type_id", "=", typeId).where("project_id", "=", pid).executeTakeFirst()
      : undefined;
    if (!a) throw typeNotFound(typeId);
  }

  /** GET /types/{id}/encryption[/{key}]: the type must exist (404 otherwise). */
  async show(typeId: string, viewer: TypeViewer): Promise<EncryptionRow | undefined> {
    const q = this.v.core.db;
    await this.checkType(q, typeId, viewer);
    return this.get(typeId, q);
  }

  /** create: in use → 400, no type → 404, already encrypted → 400 VolumeTypeEncryptionExists. */
  async create(typeId: string, viewer: TypeViewer, spec: EncryptionSpec): Promise<EncryptionRow> {
    const now = this.v.core.now();
    const row: EncryptionRow = {
      encryption_id: uuid(),
      volume_type_id: typeId,
      provider: spec.provider ?? null,
      cipher: spec.cipher ?? null,
      key_size: spec.key_size ?? null,
      control_location: spec.control_location ?? null,
      created_at: now,
      updated_at: null,
    };
    try {
      await this.v.core.write(async (trx: VolumeTrx) => {
        if (await this.inUse(trx, typeId)) throw new BadRequest("Cannot create encryption specs. Volume type in use.");
        await this.checkType(trx, typeId, viewer);
        if (await this.get(typeId, trx)) throw encryptionExists(typeId);
        await trx.insertInto("vol_type_encryption").values(row).execute();
      });
    } catch (e) {
      // Two creates racing for one type: the unique volume_type_id decides.
      if (isUniqueViolation(e)) throw encryptionExists(typeId);
      throw e;
    }
    return row;
  }

  /** update: no type → 404, in use → 400, no encryption → 404 VolumeTypeEncryptionNotFound. */
  async update(typeId: string, viewer: TypeViewer, patch: EncryptionSpec): Promise<void> {
    await this.v.core.write(async (trx: VolumeTrx) => {
      await this.checkType(trx, typeId, viewer);
      if (await this.inUse(trx, typeId)) throw new BadRequest("Cannot update encryption specs. Volume type in use.");
      const set: Partial<EncryptionRow> = { updated_at: this.v.core.now() };
      if (patch.provider !== undefined) set.provider = patch.provider;
      if (patch.cipher !== undefined) set.cipher = patch.cipher;
      if (patch.key_size !== undefined) set.key_size = patch.key_size;
      if (patch.control_location !== undefined) set.control_location = patch.control_location;
      const r = await trx.updateTable("vol_type_encryption").set(set).where("volume_type_id", "=", typeId).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) throw encryptionNotFound(typeId);
    });
  }

  /** delete: in use → 400, no encryption (or no type) → 404 VolumeTypeEncryptionNotFound. */
  async delete(typeId: string): Promise<void> {
    await this.v.core.write(async (trx: VolumeTrx) => {
      if (await this.inUse(trx, typeId)) throw new BadRequest("Cannot delete encryption specs. Volume type in use.");
      const r = await trx.deleteFrom("vol_type_encryption").where("volume_type_id", "=", typeId).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw encryptionNotFound(typeId);
    });
  }

  /**
   * volume_types.volume_types_encryption_changed: whether two types (either may be null)
   * differ in encryption (provider, cipher, key_size, control_location). For the volumes
   * area's _retype_is_possible (create from a source of another type).
   */
  async encryptionChanged(typeA: string | null, typeB: string | null, q: VQ = this.v.core.db): Promise<boolean> {
    const a = typeA === null ? undefined : await this.get(typeA, q);
    const b = typeB === null ? undefined : await this.get(typeB, q);
    if (!a && !b) return false;
    if (!a || !b) return true;
    return a.provider !== b.provider || a.cipher !== b.cipher || a.key_size !== b.key_size || a.control_location !== b.control_location;
  }
}
