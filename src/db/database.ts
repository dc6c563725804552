import SQLite from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from "kysely";
import type { Migration, MigrationProvider, Transaction } from "kysely";
import pg from "pg";

/**
 * The one database handle. Tables use portable types so one Kysely store serves SQLite and
 * PostgreSQL: ids and timestamps are text (ISO 8601 sorts correctly), booleans are integers
 * 0/1, JSON documents are text.
 */
// Each service narrows this to its own table interface; the root knows no service's tables.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDB = Kysely<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTrx = Transaction<any>;

export interface DatabaseOptions {
  /** "postgres://…" or a SQLite file path or ":memory:". */
  url: string;
  /** PostgreSQL schema to live in (tests give each cloud its own). */
  schema?: string;
}

export interface Database {
  db: AnyDB;
  dialect: "sqlite" | "postgres";
  /**
   * SQLite only: a number that changes whenever another connection (another process on the
   * same file) commits — `PRAGMA data_version` — read synchronously without a query round trip.
   */
  externalChanges?: () => number;
  close(): Promise<void>;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (isPostgresUrl(opts.url)) {
    const poolConfig: pg.PoolConfig = { connectionString: opts.url, max: 10 };
    if (opts.schema) {
      const admin = new pg.Client({ connectionString: opts.url });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA IF NOT EXISTS "${opts.schema.replaceAll('"', "")}"`);
      } finally {
        await admin.end();
      }
      poolConfig.options = `-c search_path=${opts.schema}`;
    }
    const pool = new pg.Pool(poolConfig);
    // A pooled connection that dies must not crash the process; the next query reconnects.
    pool.on("error", () => undefined);
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) }) as AnyDB;
    return { db, dialect: "postgres", close: () => db.destroy() };
  }
  const file = new SQLite(opts.url);
  file.pragma("journal_mode = WAL");
  // FULL: a commit is on disk before we acknowledge it (kill -9 and power loss alike).
  file.pragma("synchronous = FULL");
  file.pragma("foreign_keys = ON");
  file.pragma("busy_timeout = 5000");
  // Kysely prepares every statement anew; a bounded cache of prepared statements by SQL text
  // saves that on the hot paths (a statement is run at once and never iterated concurrently).
  const statements = new Map<string, SQLite.Statement>();
  const database = {
    close: () => file.close(),
    prepare: (text: string): SQLite.Statement => {
      let st = statements.get(text);
      if (!st) {
        st = file.prepare(text);
        if (statements.size >= 500) statements.delete(statements.keys().next().value as string);
        statements.set(text, st);
      }
      return st;
    },
  };
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) }) as AnyDB;
  const dataVersion = file.prepare("PRAGMA data_version").pluck();
  // Read once per turn of the event loop: every request handled in one I/O phase sees the same
  // value, as if they had all run at its start (another process's commit shows up in the next
  // phase). Hot paths ask for it on every request (token and read caches).
  let version = 0;
  let fresh = false;
  const externalChanges = (): number => {
    if (!fresh) {
      version = dataVersion.get() as number;
      fresh = true;
      setImmediate(() => {
        fresh = false;
      });
    }
    return version;
  };
  return { db, dialect: "sqlite", externalChanges, close: () => db.destroy() };
}

/** Run every service's forward-only migrations, in name order, recording them in one table. */
export async function migrate(db: AnyDB, migrations: Record<string, Migration>, schema?: string): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  // With a schema of our own, the bookkeeping tables must be looked up there too: Kysely's
  // existence check otherwise sees another schema's tables and skips creating ours.
  const migrator = new Migrator({
    db,
    provider,
    allowUnorderedMigrations: true,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error");
    throw new Error(`migration ${failed?.migrationName ?? "?"} failed: ${String(error)}`, { cause: error });
  }
}

/** True when a write failed on a unique or primary-key constraint (both dialects). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

/** True when a write failed on a foreign key. */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  return code === "23503" || code === "SQLITE_CONSTRAINT_FOREIGNKEY";
}

export const bool = (b: boolean): number => (b ? 1 : 0);
export const isTrue = (v: unknown): boolean => v === 1 || v === true || v === "1";

export { sql };

/** PostgreSQL rolled the whole transaction back (deadlock victim, serialization failure): safe to run again. */
export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "40P01" || code === "40001";
}
