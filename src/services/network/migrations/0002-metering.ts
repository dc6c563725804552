import type { Kysely } from "kysely";

/** Metering labels and their rules (neutron/db/models/metering.py). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("net_metering_label")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("project_id", "text", (c) => c.notNull())
    .addColumn("doc", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("net_metering_label_rule")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("project_id", "text", (c) => c.notNull())
    .addColumn("metering_label_id", "text", (c) => c.notNull())
    .addColumn("doc", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("net_mlr_label").on("net_metering_label_rule").column("metering_label_id").execute();
}
