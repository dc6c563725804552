import type { Kysely, Transaction } from "kysely";
import { sql } from "kysely";
import type { Clock } from "../../../common/clock.js";
import type { PlacementConfig } from "../../../config/config.js";
import { isRetryable } from "../../../db/database.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PDB = Kysely<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PTrx = Transaction<any>;
export type Q = PDB | PTrx;

/** Custom resource classes are numbered from here (standard ones are 0…n in os-resource-classes order). */
export const MIN_CUSTOM_RC_ID = 10000;
/** Placement's MAX_INT for inventory fields. */
export const MAX_INT = 2147483647;

export class ConcurrentUpdate extends Error {}

/** Run a statement and give its rows. */
export async function rows<T>(q: Q, query: ReturnType<typeof sql>): Promise<T[]> {
  return (await query.execute(q)).rows as T[];
}

/**
 * What every Placement manager shares: the database, the clock, and name↔id caches of the
 * small vocabularies (resource classes and traits). The caches are only ever hints: a miss
 * reloads from the database, so a class or trait another process created is found.
 */
export class PlacementCore {
  private rcByName = new Map<string, number>();
  private rcById = new Map<number, string>();
  private traitByName = new Map<string, number>();
  private traitById = new Map<number, string>();

  constructor(
    readonly db: PDB,
    readonly clock: Clock,
    readonly config: PlacementConfig,
    readonly dialect: "sqlite" | "postgres",
  ) {}

  now(): string {
    return this.clock.now().toISOString();
  }

  /** A read-write transaction, run again when PostgreSQL picks it as a deadlock victim. */
  async write<T>(fn: (trx: PTrx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(fn);
      } catch (e) {
        if (isRetryable(e) && attempt < 6) continue;
        throw e;
      }
    }
  }

  async reloadResourceClasses(q: Q = this.db): Promise<void> {
    const all = await q.selectFrom("plc_resource_class").select(["id", "name"]).execute();
    this.rcByName = new Map(all.map((r) => [r.name as string, Number(r.id)]));
    this.rcById = new Map(all.map((r) => [Number(r.id), r.name as string]));
  }

  async rcId(name: string, q: Q = this.db): Promise<number | undefined> {
    let id = this.rcByName.get(name);
    if (id === undefined) {
      await this.reloadResourceClasses(q);
      id = this.rcByName.get(name);
    }
    return id;
  }

  async rcName(id: number, q: Q = this.db): Promise<string> {
    let n = this.rcById.get(id);
    if (n === undefined) {
      await this.reloadResourceClasses(q);
      n = this.rcById.get(id);
    }
    return n ?? `UNKNOWN_${id}`;
  }

  rcNameCached(id: number): string | undefined {
    return this.rcById.get(id);
  }

  async reloadTraits(q: Q = this.db): Promise<void> {
    const all = await q.selectFrom("plc_trait").select(["id", "name"]).execute();
    this.traitByName = new Map(all.map((r) => [r.name as string, Number(r.id)]));
    this.traitById = new Map(all.map((r) => [Number(r.id), r.name as string]));
  }

  /** Trait ids by name; names not found are left out of the map. */
  async traitIds(names: Iterable<string>, q: Q = this.db): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    let reloaded = false;
    for (const n of names) {
      let id = this.traitByName.get(n);
      if (id === undefined && !reloaded) {
        await this.reloadTraits(q);
        reloaded = true;
        id = this.traitByName.get(n);
      }
      if (id !== undefined) out.set(n, id);
    }
    return out;
  }

  async traitName(id: number, q: Q = this.db): Promise<string> {
    let n = this.traitById.get(id);
    if (n === undefined) {
      await this.reloadTraits(q);
      n = this.traitById.get(id);
    }
    return n ?? `UNKNOWN_${id}`;
  }

  forgetTrait(name: string): void {
    const id = this.traitByName.get(name);
    this.traitByName.delete(name);
    if (id !== undefined) this.traitById.delete(id);
  }
  /** Moves when a resource class is renamed or deleted here: caches holding class names drop them. */
  vocabularyEpoch = 0;

  forgetResourceClass(name: string): void {
    this.vocabularyEpoch++;
    const id = this.rcByName.get(name);
    this.rcByName.delete(name);
    if (id !== undefined) this.rcById.delete(id);
  }

  /** Compare-and-swap of a provider's generation: the only way generations move. */
  async bumpGeneration(trx: PTrx, providerId: number, expected: number): Promise<number> {
    const r = await trx
      .updateTable("plc_provider")
      .set({ generation: expected + 1, updated_at: this.now() })
      .where("id", "=", providerId)
      .where("generation", "=", expected)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new ConcurrentUpdate();
    return expected + 1;
  }

  /** Find-or-create an aggregate row by uuid; a concurrent creator's row is as good as ours. */
  async ensureAggregate(trx: PTrx, uuid: string): Promise<number> {
    const found = await trx.selectFrom("plc_aggregate").select("id").where("uuid", "=", uuid).executeTakeFirst();
    if (found) return Number(found.id);
    await trx.insertInto("plc_aggregate").values({ uuid }).onConflict((oc) => oc.column("uuid").doNothing()).execute();
    const r = await trx.selectFrom("plc_aggregate").select("id").where("uuid", "=", uuid).executeTakeFirstOrThrow();
    return Number(r.id);
  }
}

export { sql };
