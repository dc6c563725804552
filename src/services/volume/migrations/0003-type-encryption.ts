import type { Kysely } from "kysely";

/**
 * Volume type encryption (cinder/db/sqlalchemy/models.py Encryption): the metadata Cinder's
 * type-encryption API stores, at most one row per volume type (volume_type_id unique).
 * Stackbox has no key manager; nothing here creates keys.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("vol_type_encryption")
    .addColumn("encryption_id", "text", (c) => c.primaryKey())
    .addColumn("volume_type_id", "text", (c) => c.notNull().unique())
    .addColumn("provider", "text")
    .addColumn("cipher", "text")
    .addColumn("key_size", "integer")
    .addColumn("control_location", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text")
    .execute();
}
