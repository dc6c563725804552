import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { BadRequest, NotFound } from "../../../common/errors.js";
import { uuid } from "../../../common/ids.js";
import type { Paging } from "../api/common.js";
import type { Volume } from "../api/deps.js";
import type { VolumeRow } from "../store/tables.js";
import type { TransferRow } from "../views/transfers.js";
import type { Caller } from "./snapshots.js";
import { invalidSnapshot, invalidVolume, pageRows } from "./snapshots.js";

/** volume_transfer_salt_length / volume_transfer_key_length. */
const SALT_LENGTH = 8;
const KEY_LENGTH = 16;

function randomHex(n: number): string {
  return randomBytes(Math.ceil(n / 2)).toString("hex").slice(0, n);
}

/** Only the salt and a keyed hash of the auth key are kept (transfer/api.py _get_crypt_hash). */
function cryptHash(salt: string, authKey: string): string {
  return createHmac("sha256", salt).update(authKey).digest("hex");
}

export interface TransferListOptions {
  allTenants: boolean;
  filters: Record<string, string>;
  paging: Paging;
}

const FILTER_COLUMNS: Record<string, keyof TransferRow> = {
  id: "id",
  volume_id: "volume_id",
  display_name: "name",
  source_project_id: "source_project_id",
  destination_project_id: "destination_project_id",
};

/** Volume transfers (transfer/api.py and the db layer's transfer_create / destroy / accept). */
export class TransferManager {
  constructor(private readonly v: Volume) {}

  /** transfer_get: live transfers; a non-admin sees those of its project's volumes. `elevated` for accept. */
  async get(c: Caller, id: string, elevated = false): Promise<TransferRow> {
    let q = this.v.core.db.selectFrom("vol_transfer").selectAll("vol_transfer").where("vol_transfer.id", "=", id).where("vol_transfer.deleted", "=", 0);
    if (!elevated && !c.admin) q = q.innerJoin("vol_volume", "vol_volume.id", "vol_transfer.volume_id").where("vol_volume.project_id", "=", c.projectId);
    const row = await q.executeTakeFirst();
    if (!row) throw new NotFound(`Transfer ${id} could not be found.`);
    return row;
  }

  async list(c: Caller, o: TransferListOptions): Promise<TransferRow[]> {
    let q = this.v.core.db.selectFrom("vol_transfer").selectAll("vol_transfer").where("vol_transfer.deleted", "=", 0);
    if (!(c.admin && o.allTenants)) q = q.innerJoin("vol_volume", "vol_volume.id", "vol_transfer.volume_id").where("vol_volume.project_id", "=", c.projectId);
    let rows = await q.execute();
    for (const [k, val] of Object.entries(o.filters)) {
      const col = FILTER_COLUMNS[k];
      // Cinder's is_valid_model_filters: a filter naming no column matches nothing.
      if (!col) return [];
      rows = rows.filter((r) => String(r[col]) === val);
    }
    return pageRows(rows, o.paging, { name: "name", display_name: "name" });
  }

  /** transfer/api.py create + db transfer_create (the volume: available → awaiting-transfer). */
  async create(vol: VolumeRow, name: string | null, noSnapshots: boolean, allowEncrypted: boolean): Promise<{ row: TransferRow; authKey: string }> {
    const v = this.v;
    if (vol.status !== "available") throw invalidVolume("status must be available");
    if (vol.encrypted) {
      if (!allowEncrypted) throw invalidVolume("transferring encrypted volume is not supported");
      if (noSnapshots) throw invalidVolume("transferring an encrypted volume without its snapshots is not supported");
    }
    const id = uuid();
    const salt = randomHex(SALT_LENGTH);
    const authKey = randomHex(KEY_LENGTH);
    const row: TransferRow = {
      id,
      volume_id: vol.id,
      name,
      source_project_id: vol.project_id,
      destination_project_id: null,
      salt,
      crypt_hash: cryptHash(salt, authKey),
      accepted: 0,
      no_snapshots: noSnapshots ? 1 : 0,
      deleted: 0,
      created_at: v.core.now(),
      updated_at: null,
    };
    await v.core.write(async (trx) => {
      if (!noSnapshots) {
        const snaps = await trx.selectFrom("vol_snapshot").select(["id", "status"]).where("volume_id", "=", vol.id).execute();
        for (const s of snaps) if (s.status !== "available") throw invalidSnapshot(`snapshot: ${s.id} status must be available`);
      }
      if (!(await v.core.casVolume(trx, vol.id, ["available"], { status: "awaiting-transfer" }))) {
        throw invalidVolume(`Transfer ${id}: Volume id ${vol.id} expected in available state.`);
      }
      await trx.insertInto("vol_transfer").values(row).execute();
    });
    return { row, authKey };
  }

  /** transfer_destroy: the volume back to available (if it still awaits the transfer), the transfer gone. */
  async delete(t: TransferRow): Promise<void> {
    const v = this.v;
    await v.core.write(async (trx) => {
      await v.core.casVolume(trx, t.volume_id, ["awaiting-transfer"], { status: "available" });
      await trx.updateTable("vol_transfer").set({ deleted: 1 }).where("id", "=", t.id).execute();
    });
  }

  /**
   * transfer/api.py accept + db transfer_accept: the key must match; the receiver's quotas
   * (per-volume size, volumes/gigabytes, then its snapshots unless no_snapshots) are checked;
   * the volume and its snapshots move to the caller's project and user.
   */
  async accept(c: Caller, id: string, authKey: string): Promise<TransferRow> {
    const v = this.v;
    const t = await this.get(c, id, true);
    const given = Buffer.from(cryptHash(t.salt, authKey));
    const want = Buffer.from(t.crypt_hash);
    if (given.length !== want.length || !timingSafeEqual(given, want)) {
      throw new BadRequest(`Invalid auth key: Attempt to transfer ${id} with invalid auth key.`);
    }
    const vol = await v.core.volume(v.core.db, t.volume_id);
    if (!vol) throw new NotFound(`Volume ${t.volume_id} could not be found.`);
    const type = (await v.types.find(vol.volume_type_id))?.name;
    await v.core.write(async (trx) => {
      const deltas: Record<string, number> = { volumes: 1, gigabytes: vol.size };
      if (type !== undefined) {
        deltas[`volumes_${type}`] = 1;
        deltas[`gigabytes_${type}`] = vol.size;
      }
      await v.quotas.check(trx, c.projectId, deltas, { perVolumeSize: vol.size });
      const moved = await v.core.casVolume(trx, vol.id, ["awaiting-transfer"], { status: "available", project_id: c.projectId, user_id: c.userId });
      if (!moved) throw invalidVolume(`Transfer ${id}: Volume id ${vol.id} expected in awaiting-transfer state.`);
      if (!t.no_snapshots) {
        const snaps = await trx.selectFrom("vol_snapshot").selectAll().where("volume_id", "=", vol.id).execute();
        if (snaps.length) {
          const gb = snaps.reduce((n, s) => n + s.size, 0);
          const sd: Record<string, number> = { snapshots: snaps.length, gigabytes: gb };
          if (type !== undefined) {
            sd[`snapshots_${type}`] = snaps.length;
            sd[`gigabytes_${type}`] = gb;
          }
          // The volume already counts for the receiver inside this transaction.
          await v.quotas.check(trx, c.projectId, sd);
          for (const s of snaps) {
            const r = await trx
              .updateTable("vol_snapshot")
              .set({ project_id: c.projectId, user_id: c.userId, updated_at: v.core.now() })
              .where("id", "=", s.id)
              .where("status", "=", "available")
              .executeTakeFirst();
            if (Number(r.numUpdatedRows) === 0) throw invalidSnapshot(`Transfer ${id}: Snapshot ${s.id} is not in the expected available state.`);
          }
        }
      }
      await trx
        .updateTable("vol_transfer")
        .set({ deleted: 1, accepted: 1, destination_project_id: c.projectId, updated_at: v.core.now() })
        .where("id", "=", id)
        .where("deleted", "=", 0)
        .execute();
    });
    return t;
  }
}

