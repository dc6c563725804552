import type { Clock } from "../../common/clock.js";
import { NotFound } from "../../common/errors.js";
import { isForeignKeyViolation, isRetryable } from "../../db/database.js";
import type { Config } from "../../config/config.js";
import type { IdentityDB, IdentityTables, IdentityTrx, Q } from "./store/tables.js";

/** "user-disabled" runs when a user is disabled (Keystone drops its application credentials then). */
export type CascadeKind = "project" | "domain" | "user" | "group" | "role" | "user-disabled";
/** Cleanup run inside the deleting transaction, so areas added later remove their rows too. */
export type CascadeHook = (trx: IdentityTrx, id: string) => Promise<void>;

/**
 * What every identity manager shares: the database, configuration and clock, the revision
 * bump that tells every process its token-validation cache is stale, and deletion cascades.
 */
export class IdentityCore {
  private readonly cascades = new Map<CascadeKind, CascadeHook[]>();
  private localWrites = 0;
  constructor(
    readonly db: IdentityDB,
    readonly config: Config,
    readonly clock: Clock,
    private readonly externalChanges?: () => number,
  ) {}

  now(): Date {
    return this.clock.now();
  }

  /** Run fn in a transaction and bump the identity revision inside it. */
  async write<T>(fn: (trx: IdentityTrx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          const out = await fn(trx);
          await bumpRevision(trx);
          return out;
        });
      } catch (e) {
        // PostgreSQL may pick this transaction as a deadlock victim: it was rolled back
        // whole, so running it again is safe.
        if (isRetryable(e) && attempt < 4) continue;
        // An insert or update pointing at a row a concurrent request just deleted (PostgreSQL
        // names the side; a delete of a row still referenced is left to the caller).
        if (isForeignKeyViolation(e) && /insert or update on table/.test(String((e as Error).message))) {
          throw new NotFound("Could not find a resource this request refers to; it was deleted.");
        }
        throw e;
      } finally {
        // Also after a failed write: a cache flush too many is harmless, one too few is not.
        this.localWrites++;
      }
    }
  }

  /**
   * A value that changes after every identity write by any process. SQLite: this process's
   * own write counter plus the file's data_version (bumped by other processes' commits), no
   * query. PostgreSQL: the shared revision row.
   */
  async revision(q: Q = this.db): Promise<number> {
    if (this.externalChanges) return this.localWrites * 1_000_000_000 + this.externalChanges();
    const row = await q.selectFrom("identity_revision").select("revision").where("id", "=", 1).executeTakeFirst();
    return row?.revision ?? 0;
  }

  /**
   * Read a row inside a write transaction so a read-modify-write (merging JSON options or
   * extra attributes) cannot lose a concurrent update: FOR UPDATE on PostgreSQL; SQLite runs
   * one transaction at a time on its connection, so a plain read is already safe there.
   */
  async lockedRow<T extends "user" | "project" | "role" | "group" | "service" | "region" | "endpoint">(
    trx: IdentityTrx,
    table: T,
    id: string,
  ): Promise<IdentityTables[T] | undefined> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let q = (trx as any).selectFrom(table).selectAll().where("id", "=", id);
    if (!this.externalChanges) q = q.forUpdate();
    return (await q.executeTakeFirst()) as IdentityTables[T] | undefined;
  }

  onDelete(kind: CascadeKind, hook: CascadeHook): void {
    const list = this.cascades.get(kind) ?? [];
    list.push(hook);
    this.cascades.set(kind, list);
  }

  async cascade(trx: IdentityTrx, kind: CascadeKind, id: string): Promise<void> {
    for (const hook of this.cascades.get(kind) ?? []) await hook(trx, id);
  }
}

export async function bumpRevision(q: Q): Promise<void> {
  await q
    .updateTable("identity_revision")
    .set((eb) => ({ revision: eb("revision", "+", 1) }))
    .where("id", "=", 1)
    .execute();
}
