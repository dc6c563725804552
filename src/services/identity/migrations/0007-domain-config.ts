import type { Kysely } from "kysely";

/**
 * Domain-specific configuration (keystone's whitelisted_config and sensitive_config tables,
 * folded into one with a `sensitive` flag). `value` is the option's JSON text so numbers,
 * booleans and lists come back as they were sent.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("domain_config")
    .addColumn("domain_id", "text", (c) => c.notNull())
    .addColumn("group", "text", (c) => c.notNull())
    .addColumn("option", "text", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("sensitive", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("domain_config_pk", ["domain_id", "group", "option"])
    .execute();
}
