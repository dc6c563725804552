import type { Kysely, Migration } from "kysely";

/**
 * Persisted async work (server builds, moves, deletes; later volume and stack work): a row
 * per task, due at run_at (epoch ms on the cloud's Clock). A claimed task carries a lease; a
 * process that dies mid-task leaves a lease that runs out, and any process takes it over.
 */
async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("task")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("run_at", "bigint", (c) => c.notNull())
    .addColumn("lease_until", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("task_due").on("task").columns(["run_at", "lease_until"]).execute();
}

export const taskMigrations: Record<string, Migration> = { "tasks-0001": { up } };
