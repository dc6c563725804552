import type { Kysely } from "kysely";

/**
 * Glance's image cache (the centralized_db cache driver): images queued for caching and
 * images whose data has a cached copy, with their hit counts.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("img_cache")
    .addColumn("image_id", "text", (c) => c.primaryKey().references("img_image.id").onDelete("cascade"))
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("size", "bigint")
    .addColumn("checksum", "text")
    .addColumn("hits", "integer", (c) => c.notNull())
    .addColumn("last_accessed", "text", (c) => c.notNull())
    .addColumn("last_modified", "text", (c) => c.notNull())
    .execute();
}
