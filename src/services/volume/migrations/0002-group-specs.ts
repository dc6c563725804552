import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * Group type specs may hold null (api/schemas/group_specs.py allows it and Cinder's column is
 * nullable): vol_group_type_spec.value becomes nullable. The table is rebuilt (SQLite cannot
 * drop a NOT NULL constraint in place).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("vol_group_type_spec_new")
    .addColumn("group_type_id", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("value", "text")
    .addPrimaryKeyConstraint("vol_group_type_spec_pk2", ["group_type_id", "key"] as never)
    .execute();
  await sql`INSERT INTO vol_group_type_spec_new (group_type_id, key, value) SELECT group_type_id, key, value FROM vol_group_type_spec`.execute(db);
  await db.schema.dropTable("vol_group_type_spec").execute();
  await db.schema.alterTable("vol_group_type_spec_new").renameTo("vol_group_type_spec").execute();
}
