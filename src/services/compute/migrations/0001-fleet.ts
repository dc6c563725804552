import type { Kysely } from "kysely";

/**
 * The fleet half of Nova's databases: flavors (with extra specs and project access),
 * keypairs, compute services and compute nodes (hypervisors), host aggregates and quotas.
 * Integer ids are the API's ids (flavor internal ids, keypair ids, service / node ids
 * before 2.53, aggregate ids); uuids are stored beside them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // The last integer id handed out per table: ids are never reused (as database autoincrement),
  // so a client deleting a stale id cannot remove a newer resource.
  await db.schema
    .createTable("cmp_id_counter")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("last", "integer", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("cmp_flavor")
    .addColumn("flavorid", "text", (c) => c.primaryKey())
    .addColumn("id", "integer", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("memory_mb", "integer", (c) => c.notNull())
    .addColumn("vcpus", "integer", (c) => c.notNull())
    .addColumn("root_gb", "integer", (c) => c.notNull())
    .addColumn("ephemeral_gb", "integer", (c) => c.notNull())
    .addColumn("swap", "integer", (c) => c.notNull())
    .addColumn("rxtx_factor", "real", (c) => c.notNull())
    .addColumn("is_public", "integer", (c) => c.notNull())
    .addColumn("disabled", "integer", (c) => c.notNull())
    .addColumn("description", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text")
    .execute();
  await db.schema
    .createTable("cmp_flavor_extra_spec")
    .addColumn("flavorid", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("cmp_flavor_extra_spec_pk", ["flavorid", "key"])
    .execute();
  await db.schema
    .createTable("cmp_flavor_project")
    .addColumn("flavorid", "text", (c) => c.notNull())
    .addColumn("project_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("cmp_flavor_project_pk", ["flavorid", "project_id"])
    .execute();
  await db.schema.createIndex("cmp_flavor_project_project").on("cmp_flavor_project").column("project_id").execute();

  await db.schema
    .createTable("cmp_keypair")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("id", "integer", (c) => c.notNull().unique())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("public_key", "text", (c) => c.notNull())
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("cmp_keypair_pk", ["user_id", "name"])
    .execute();

  await db.schema
    .createTable("cmp_service")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("uuid", "text", (c) => c.notNull().unique())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("binary", "text", (c) => c.notNull())
    .addColumn("topic", "text")
    .addColumn("disabled", "integer", (c) => c.notNull())
    .addColumn("disabled_reason", "text")
    .addColumn("forced_down", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text")
    .addUniqueConstraint("cmp_service_host_binary", ["host", "binary"])
    .execute();
  await db.schema
    .createTable("cmp_compute_node")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("uuid", "text", (c) => c.notNull().unique())
    .addColumn("service_id", "integer", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addColumn("hypervisor_hostname", "text", (c) => c.notNull().unique())
    .addColumn("vcpus", "integer", (c) => c.notNull())
    .addColumn("memory_mb", "integer", (c) => c.notNull())
    .addColumn("local_gb", "integer", (c) => c.notNull())
    .addColumn("cpu_allocation_ratio", "real", (c) => c.notNull())
    .addColumn("ram_allocation_ratio", "real", (c) => c.notNull())
    .addColumn("disk_allocation_ratio", "real", (c) => c.notNull())
    .addColumn("hypervisor_type", "text", (c) => c.notNull())
    .addColumn("hypervisor_version", "integer", (c) => c.notNull())
    .addColumn("host_ip", "text", (c) => c.notNull())
    .addColumn("cpu_info", "text", (c) => c.notNull())
    // 1 once the resource provider, inventories and traits exist in Placement.
    .addColumn("placement_synced", "integer", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("cmp_aggregate")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("uuid", "text", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text")
    .execute();
  await db.schema
    .createTable("cmp_aggregate_host")
    .addColumn("aggregate_id", "integer", (c) => c.notNull())
    .addColumn("host", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("cmp_aggregate_host_pk", ["aggregate_id", "host"])
    .execute();
  await db.schema
    .createTable("cmp_aggregate_metadata")
    .addColumn("aggregate_id", "integer", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("cmp_aggregate_metadata_pk", ["aggregate_id", "key"])
    .execute();

  // user_id "" = the project's own limit.
  await db.schema
    .createTable("cmp_quota")
    .addColumn("project_id", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("resource", "text", (c) => c.notNull())
    .addColumn("hard_limit", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("cmp_quota_pk", ["project_id", "user_id", "resource"])
    .execute();
  await db.schema
    .createTable("cmp_quota_class")
    .addColumn("class_name", "text", (c) => c.notNull())
    .addColumn("resource", "text", (c) => c.notNull())
    .addColumn("hard_limit", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("cmp_quota_class_pk", ["class_name", "resource"])
    .execute();
}
