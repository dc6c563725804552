import type { Clock } from "../../common/clock.js";
import type { Database } from "../../db/database.js";
import { isRetryable } from "../../db/database.js";
import type { VolumeDB, VolumeRow, VolumeTrx, VQ } from "./store/tables.js";

/**
 * What every volume area shares: the typed database, transactions with retry, the clock's
 * timestamps and the row primitives for the volume state machine. A status change is a
 * compare-and-set (UPDATE … WHERE status IN (…)), so two requests racing for one volume
 * cannot both move it.
 */
export class VolumeCore {
  readonly db: VolumeDB;
  /** PostgreSQL takes row locks (FOR UPDATE); SQLite runs one write transaction at a time. */
  readonly rowLocks: boolean;

  constructor(
    readonly database: Database,
    readonly clock: Clock,
  ) {
    this.db = database.db as unknown as VolumeDB;
    this.rowLocks = database.dialect === "postgres";
  }

  /** A write transaction, retried on PostgreSQL serialization failures and deadlocks. */
  async write<T>(fn: (trx: VolumeTrx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(fn);
      } catch (e) {
        if (isRetryable(e) && attempt < 6) continue;
        throw e;
      }
    }
  }

  /** ISO 8601 with milliseconds and Z (sortable); views render Cinder's format (api/common.ts cinderTime). */
  now(): string {
    return this.clock.now().toISOString();
  }

  /** A volume row; `lock` takes the row lock inside a write transaction (read-modify-write of its JSON). */
  async volume(q: VQ, id: string, lock = false): Promise<VolumeRow | undefined> {
    let s = q.selectFrom("vol_volume").selectAll().where("id", "=", id);
    if (lock && this.rowLocks) s = s.forUpdate();
    return s.executeTakeFirst();
  }

  /**
   * Move a volume from one of `from` to `patch.status` (and the other fields of patch) if it
   * is still in one of them; false when another request moved it first.
   */
  async casVolume(q: VQ, id: string, from: readonly string[], patch: Partial<VolumeRow>): Promise<boolean> {
    const r = await q
      .updateTable("vol_volume")
      .set({ ...patch, updated_at: this.now() })
      .where("id", "=", id)
      .where("status", "in", [...from])
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Set fields of a volume unconditionally (tasks finishing an operation they own). */
  async setVolume(q: VQ, id: string, patch: Partial<VolumeRow>): Promise<void> {
    await q.updateTable("vol_volume").set({ ...patch, updated_at: this.now() }).where("id", "=", id).execute();
  }
}
