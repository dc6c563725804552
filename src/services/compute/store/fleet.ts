import type { Clock } from "../../../common/clock.js";
import { isRetryable, isUniqueViolation } from "../../../db/database.js";
import type { Database } from "../../../db/database.js";
import type { FleetDB, FleetTables, FleetTrx } from "./fleet-tables.js";

export type { FleetDB, FleetTables, FleetTrx };

/**
 * What the fleet managers share: the database and the one way to write (a transaction, run
 * again when PostgreSQL picks it as a deadlock victim or two writers raced for the next id).
 */
export class FleetStore {
  readonly db: FleetDB;
  constructor(
    readonly database: Database,
    readonly clock: Clock,
  ) {
    this.db = database.db as FleetDB;
  }

  async write<T>(fn: (trx: FleetTrx) => Promise<T>, opts: { retryUnique?: boolean } = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(fn);
      } catch (e) {
        if (attempt < 6 && (isRetryable(e) || (opts.retryUnique === true && isUniqueViolation(e)))) continue;
        throw e;
      }
    }
  }

  /** Nova's datetime rendering: naive ISO 8601 with microseconds (2022-10-04T13:42:02.000000). */
  now(): string {
    return novaTime(this.clock.now());
  }

  /**
   * Reserve `count` new integer ids of a table and answer the first. Ids are never reused
   * (Nova's autoincrement ids): a counter row, bumped in the caller's transaction, which also
   * serialises concurrent writers on PostgreSQL.
   */
  async nextId(trx: FleetTrx, table: "cmp_flavor" | "cmp_keypair" | "cmp_service" | "cmp_compute_node" | "cmp_aggregate", count = 1): Promise<number> {
    await trx.insertInto("cmp_id_counter").values({ name: table, last: 0 }).onConflict((oc) => oc.column("name").doNothing()).execute();
    await trx
      .updateTable("cmp_id_counter")
      .set((eb) => ({ last: eb("last", "+", count) }))
      .where("name", "=", table)
      .execute();
    const row = await trx.selectFrom("cmp_id_counter").select("last").where("name", "=", table).executeTakeFirstOrThrow();
    return Number(row.last) - count + 1;
  }
}

export function novaTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000");
}
