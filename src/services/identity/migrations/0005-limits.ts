import type { Kysely } from "kysely";

/**
 * Unified limits (keystone/limit/backends/sql.py). A registered limit names a service's
 * resource and its default; a limit overrides it for one project or domain and points at the
 * registered limit it refines, so service, region and resource name live only there.
 * Keystone finds duplicates by querying first; the *_key columns spell the same identity
 * without nulls, so a unique constraint also stops concurrent duplicates in both dialects.
 * service_id and region_id reference the catalog as Keystone's foreign keys do: a service or
 * region that registered limits still use cannot be deleted.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("registered_limit")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("service_id", "text", (c) => c.notNull().references("service.id"))
    .addColumn("region_id", "text", (c) => c.references("region.id"))
    .addColumn("resource_name", "text", (c) => c.notNull())
    .addColumn("default_limit", "integer", (c) => c.notNull())
    .addColumn("description", "text")
    // service_id \n region_id ("" when null) \n resource_name
    .addColumn("unique_key", "text", (c) => c.notNull().unique())
    .execute();

  await db.schema
    .createTable("unified_limit")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("registered_limit_id", "text", (c) => c.notNull().references("registered_limit.id"))
    .addColumn("project_id", "text")
    .addColumn("domain_id", "text")
    // project_id or domain_id, whichever is set: one limit per registered limit and owner.
    .addColumn("owner_id", "text", (c) => c.notNull())
    .addColumn("resource_limit", "integer", (c) => c.notNull())
    .addColumn("description", "text")
    .addUniqueConstraint("unified_limit_owner_registered", ["registered_limit_id", "owner_id"])
    .execute();
  await db.schema.createIndex("unified_limit_owner").on("unified_limit").column("owner_id").execute();
}
