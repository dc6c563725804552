import type { Clock } from "../../common/clock.js";
import type { NetworkConfig } from "../../config/config.js";
import { isRetryable } from "../../db/database.js";
import type { Doc } from "./store/docs.js";
import type { NetworkDB, NetworkTrx } from "./store/tables.js";

/**
 * What every network manager shares: the database, the clock, the configuration, and the
 * one way to write (a transaction, run again when PostgreSQL picks it as a deadlock victim).
 */
export class NetworkCore {
  constructor(
    readonly db: NetworkDB,
    readonly clock: Clock,
    readonly config: NetworkConfig,
    /** PostgreSQL: rows read for update are locked (SQLite serialises writers instead). */
    readonly rowLocks: boolean,
  ) {}

  async write<T>(fn: (trx: NetworkTrx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(fn);
      } catch (e) {
        if (isRetryable(e) && attempt < 6) continue;
        throw e;
      }
    }
  }

  /** Neutron's timestamp format: seconds, UTC, "Z" (2016-03-08T20:19:41Z). */
  now(): string {
    return this.clock.now().toISOString().replace(/\.\d+Z$/, "Z");
  }

  /** Standard attributes of a new resource. */
  stamp<T extends Record<string, unknown>>(doc: T): T & { created_at: string; updated_at: string; revision_number: number } {
    const now = this.now();
    return { tags: [], ...doc, created_at: now, updated_at: now, revision_number: 0 };
  }

  /** A changed resource: new updated_at and the next revision_number. */
  touch(doc: Doc): Doc {
    doc["updated_at"] = this.now();
    doc["revision_number"] = Number(doc["revision_number"] ?? 0) + 1;
    return doc;
  }
}

/** Who is asking, as managers need it: no HTTP, just the project and whether it is an admin. */
export interface Caller {
  projectId: string | undefined;
  /** context_is_admin: sees and may act on every project's resources. */
  admin: boolean;
}
