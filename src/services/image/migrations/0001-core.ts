import type { Kysely } from "kysely";

/**
 * Glance's tables. Base attributes are columns (lists filter and sort on them); custom
 * properties, tags and memberships are rows of their own, keyed by image, indexed by the
 * value a list filters on. Import tasks are kept per image as Glance's tasks table does.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("img_image")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("visibility", "text", (c) => c.notNull())
    .addColumn("protected", "integer", (c) => c.notNull())
    .addColumn("os_hidden", "integer", (c) => c.notNull())
    .addColumn("owner", "text")
    .addColumn("size", "bigint")
    .addColumn("virtual_size", "bigint")
    .addColumn("checksum", "text")
    .addColumn("os_hash_algo", "text")
    .addColumn("os_hash_value", "text")
    .addColumn("disk_format", "text")
    .addColumn("container_format", "text")
    .addColumn("min_disk", "integer", (c) => c.notNull())
    .addColumn("min_ram", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    // The blob key of the active data, and of data staged for a glance-direct import.
    .addColumn("data_key", "text")
    .addColumn("stage_key", "text")
    // The stores holding the data, comma-separated, sorted (Glance's "stores" attribute).
    .addColumn("stores", "text")
    .execute();
  for (const col of ["owner", "visibility", "status", "name", "created_at"]) {
    await db.schema.createIndex(`img_image_${col}`).on("img_image").column(col).execute();
  }

  await db.schema
    .createTable("img_property")
    .addColumn("image_id", "text", (c) => c.notNull().references("img_image.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("img_property_pk", ["image_id", "name"])
    .execute();
  await db.schema.createIndex("img_property_name_value").on("img_property").columns(["name", "value"]).execute();

  await db.schema
    .createTable("img_tag")
    .addColumn("image_id", "text", (c) => c.notNull().references("img_image.id").onDelete("cascade"))
    .addColumn("value", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("img_tag_pk", ["image_id", "value"])
    .execute();
  await db.schema.createIndex("img_tag_value").on("img_tag").column("value").execute();

  await db.schema
    .createTable("img_member")
    .addColumn("image_id", "text", (c) => c.notNull().references("img_image.id").onDelete("cascade"))
    .addColumn("member", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("img_member_pk", ["image_id", "member"])
    .execute();
  await db.schema.createIndex("img_member_member").on("img_member").columns(["member", "status"]).execute();

  await db.schema
    .createTable("img_task")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("image_id", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("input", "text", (c) => c.notNull())
    .addColumn("result", "text")
    .addColumn("message", "text", (c) => c.notNull())
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("request_id", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .execute();
  await db.schema.createIndex("img_task_image").on("img_task").column("image_id").execute();
}
