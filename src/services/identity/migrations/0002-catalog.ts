import type { Kysely } from "kysely";

/**
 * Catalog extensions: OS-EP-FILTER (endpoint groups, project↔endpoint and
 * project↔endpoint-group associations) and the v3 policy blobs with their OS-ENDPOINT-POLICY
 * associations. region/service/endpoint come from 0001.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("endpoint_group")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text")
    .addColumn("filters", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("project_endpoint")
    .addColumn("endpoint_id", "text", (c) => c.notNull())
    .addColumn("project_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("project_endpoint_pk", ["endpoint_id", "project_id"])
    .execute();
  await db.schema.createIndex("project_endpoint_project").on("project_endpoint").column("project_id").execute();

  await db.schema
    .createTable("project_endpoint_group")
    .addColumn("endpoint_group_id", "text", (c) => c.notNull().references("endpoint_group.id").onDelete("cascade"))
    .addColumn("project_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("project_endpoint_group_pk", ["endpoint_group_id", "project_id"])
    .execute();
  await db.schema.createIndex("project_endpoint_group_project").on("project_endpoint_group").column("project_id").execute();

  await db.schema
    .createTable("policy")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("blob", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("extra", "text", (c) => c.notNull())
    .execute();

  // Keystone keys an association by (endpoint_id, service_id, region_id), any of them null;
  // target_key spells that triple without nulls so the constraint holds in both dialects.
  await db.schema
    .createTable("policy_association")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("policy_id", "text", (c) => c.notNull())
    .addColumn("endpoint_id", "text")
    .addColumn("service_id", "text")
    .addColumn("region_id", "text")
    .addColumn("target_key", "text", (c) => c.notNull().unique())
    .execute();
  await db.schema.createIndex("policy_association_policy").on("policy_association").column("policy_id").execute();
}
