
import type { Kysely } from "kysely";
import { STANDARD_RESOURCE_CLASSES, STANDARD_TRAITS } from "../standard.js";

/**
 * Placement's tables. Providers, traits and aggregates get integer ids (joins in the candidate
 * queries stay on integers). Each inventory row also keeps `used`, the sum of its allocations,
 * updated in the same transaction as every allocation write, so capacity checks and candidate
 * searches read one indexed row per (provider, class) instead of summing allocations.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter.constructor.name.toLowerCase().includes("postgres");
  const serial = (t: ReturnType<Kysely<unknown>["schema"]["createTable"]>) =>
    pg ? t.addColumn("id", "serial", (c) => c.primaryKey()) : t.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());

  await serial(db.schema.createTable("plc_provider"))
    .addColumn("uuid", "text", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("generation", "integer", (c) => c.notNull())
    .addColumn("parent_id", "integer")
    .addColumn("root_id", "integer")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("plc_provider_root").on("plc_provider").column("root_id").execute();
  await db.schema.createIndex("plc_provider_parent").on("plc_provider").column("parent_id").execute();

  await db.schema
    .createTable("plc_resource_class")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();

  await serial(db.schema.createTable("plc_trait"))
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("plc_inventory")
    .addColumn("provider_id", "integer", (c) => c.notNull())
    .addColumn("rc_id", "integer", (c) => c.notNull())
    .addColumn("total", "bigint", (c) => c.notNull())
    .addColumn("reserved", "bigint", (c) => c.notNull())
    .addColumn("min_unit", "bigint", (c) => c.notNull())
    .addColumn("max_unit", "bigint", (c) => c.notNull())
    .addColumn("step_size", "bigint", (c) => c.notNull())
    .addColumn("allocation_ratio", pg ? "double precision" : "real", (c) => c.notNull())
    .addColumn("used", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("plc_inventory_pk", ["provider_id", "rc_id"])
    .execute();
  await db.schema.createIndex("plc_inventory_rc").on("plc_inventory").columns(["rc_id", "provider_id"]).execute();

  await db.schema
    .createTable("plc_provider_trait")
    .addColumn("provider_id", "integer", (c) => c.notNull())
    .addColumn("trait_id", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("plc_provider_trait_pk", ["provider_id", "trait_id"])
    .execute();
  await db.schema.createIndex("plc_provider_trait_trait").on("plc_provider_trait").columns(["trait_id", "provider_id"]).execute();

  await serial(db.schema.createTable("plc_aggregate")).addColumn("uuid", "text", (c) => c.notNull().unique()).execute();
  await db.schema
    .createTable("plc_provider_aggregate")
    .addColumn("provider_id", "integer", (c) => c.notNull())
    .addColumn("aggregate_id", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("plc_provider_aggregate_pk", ["provider_id", "aggregate_id"])
    .execute();
  await db.schema.createIndex("plc_provider_aggregate_agg").on("plc_provider_aggregate").columns(["aggregate_id", "provider_id"]).execute();

  await db.schema
    .createTable("plc_consumer")
    .addColumn("uuid", "text", (c) => c.primaryKey())
    .addColumn("project_id", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("consumer_type", "text")
    .addColumn("generation", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("plc_consumer_project").on("plc_consumer").columns(["project_id", "user_id"]).execute();

  await serial(db.schema.createTable("plc_allocation"))
    .addColumn("provider_id", "integer", (c) => c.notNull())
    .addColumn("rc_id", "integer", (c) => c.notNull())
    .addColumn("consumer_id", "text", (c) => c.notNull())
    .addColumn("used", "bigint", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("plc_allocation_consumer").on("plc_allocation").column("consumer_id").execute();
  await db.schema.createIndex("plc_allocation_provider").on("plc_allocation").columns(["provider_id", "rc_id"]).execute();

  // The standard vocabulary, as Placement syncs os-resource-classes and os-traits at start.
  const now = new Date().toISOString();
  const rcs = STANDARD_RESOURCE_CLASSES.map((name, id) => ({ id, name, created_at: now, updated_at: now }));
  await (db as Kysely<any>).insertInto("plc_resource_class").values(rcs).execute(); // eslint-disable-line @typescript-eslint/no-explicit-any
  for (let i = 0; i < STANDARD_TRAITS.length; i += 200) {
    const chunk = STANDARD_TRAITS.slice(i, i + 200).map((name) => ({ name, created_at: now, updated_at: now }));
    await (db as Kysely<any>).insertInto("plc_trait").values(chunk).execute(); // eslint-disable-line @typescript-eslint/no-explicit-any
  }
}
