import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * Glance's metadata definitions (metadefs): namespaces and what they hold (objects,
 * properties, tags, resource type associations). Objects and properties keep their JSON
 * schema documents as text, as Glance's metadef tables do.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("img_md_namespace")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("namespace", "text", (c) => c.notNull().unique())
    .addColumn("display_name", "text")
    .addColumn("description", "text")
    .addColumn("visibility", "text", (c) => c.notNull())
    .addColumn("protected", "integer", (c) => c.notNull())
    .addColumn("owner", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  for (const t of ["img_md_object", "img_md_property"]) {
    await db.schema
      .createTable(t)
      .addColumn("namespace_id", "text", (c) => c.notNull().references("img_md_namespace.id").onDelete("cascade"))
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("doc", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint(`${t}_pk`, ["namespace_id", "name"])
      .execute();
  }
  await db.schema
    .createTable("img_md_tag")
    .addColumn("namespace_id", "text", (c) => c.notNull().references("img_md_namespace.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("img_md_tag_pk", ["namespace_id", "name"])
    .execute();
  await db.schema
    .createTable("img_md_resource_type")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("protected", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("img_md_rt_assoc")
    .addColumn("namespace_id", "text", (c) => c.notNull().references("img_md_namespace.id").onDelete("cascade"))
    .addColumn("resource_type", "text", (c) => c.notNull().references("img_md_resource_type.name"))
    .addColumn("prefix", "text")
    .addColumn("properties_target", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("img_md_rt_assoc_pk", ["namespace_id", "resource_type"])
    .execute();
  // The resource types Glance's metadef migration seeds (protected).
  const now = new Date().toISOString();
  for (const name of ["OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor", "OS::Nova::Aggregate", "OS::Nova::Server"]) {
    await sql`insert into img_md_resource_type (name, protected, created_at, updated_at) values (${name}, 1, ${now}, ${now})`.execute(db);
  }
}
