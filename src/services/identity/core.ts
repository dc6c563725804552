import type { Clock } from "../../common/clock.js";
import type { Config } from "../../config/config.js";
import type { IdentityDB, IdentityTrx, Q } from "./store/tables.js";

export type CascadeKind = "project" | "domain" | "user" | "group" | "role";
/** Cleanup run inside the deleting transaction, so areas added later remove their rows too. */
export type CascadeHook = (trx: IdentityTrx, id: string) => Promise<void>;

/**
 * What every identity manager shares: the database, configuration and clock, the revision
 * bump that tells every process its token-validation cache is stale, and deletion cascades.
 */
export class IdentityCore {
  private readonly cascades = new Map<CascadeKind, CascadeHook[]>();
  constructor(
    readonly db: IdentityDB,
    readonly config: Config,
    readonly clock: Clock,
  ) {}

  now(): Date {
    return this.clock.now();
  }

  /** Run fn in a transaction and bump the identity revision inside it. */
  async write<T>(fn: (trx: IdentityTrx) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      const out = await fn(trx);
      await bumpRevision(trx);
      return out;
    });
  }

  async revision(q: Q = this.db): Promise<number> {
    const row = await q.selectFrom("identity_revision").select("revision").where("id", "=", 1).executeTakeFirst();
    return row?.revision ?? 0;
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
