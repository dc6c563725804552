import type { Kysely } from "kysely";

/**
 * Nova's instance model (nova/db/main/models.py: Instance, InstanceFault, InstanceAction,
 * InstanceActionEvent, Migration, InstanceGroup, BlockDeviceMapping, Tag) in portable types.
 * Instance rows are soft-deleted (deleted = 1, deleted_at) as Nova does, so changes-since and
 * admin `deleted=true` lists see them; everything else filters deleted = 0.
 *
 * Timestamps are ISO 8601 text with milliseconds and a Z (sortable); views render them in
 * each field's Nova format. JSON documents are text.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Integer ids Nova exposes (migration ids; instance ids in instance_name "instance-%08x"):
  // allocated by one atomic UPDATE … RETURNING outside the caller's transaction (gaps are fine).
  await db.schema
    .createTable("cmp_sequence")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("value", "bigint", (c) => c.notNull())
    .execute();
  await db
    .insertInto("cmp_sequence" as never)
    .values([
      { name: "instance", value: 0 },
      { name: "migration", value: 0 },
    ] as never)
    .execute();

  await db.schema
    .createTable("cmp_instance")
    .addColumn("uuid", "text", (c) => c.primaryKey())
    .addColumn("id", "bigint", (c) => c.notNull().unique())
    .addColumn("project_id", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("display_description", "text")
    .addColumn("hostname", "text", (c) => c.notNull())
    // Where it runs (null until scheduled / after shelve-offload).
    .addColumn("host", "text")
    .addColumn("node", "text")
    .addColumn("availability_zone", "text")
    // States: nova/compute/vm_states.py, task_states.py, power_state.py.
    .addColumn("vm_state", "text", (c) => c.notNull())
    .addColumn("task_state", "text")
    .addColumn("power_state", "integer", (c) => c.notNull().defaultTo(0))
    // The flavor as it was at boot (Nova's instance_extra.flavor): {cur, old, new}.
    .addColumn("flavor_id", "text", (c) => c.notNull())
    .addColumn("vcpus", "integer", (c) => c.notNull())
    .addColumn("memory_mb", "integer", (c) => c.notNull())
    .addColumn("root_gb", "integer", (c) => c.notNull())
    .addColumn("ephemeral_gb", "integer", (c) => c.notNull())
    .addColumn("flavor", "text", (c) => c.notNull())
    .addColumn("image_ref", "text", (c) => c.notNull())
    .addColumn("key_name", "text")
    .addColumn("key_data", "text")
    .addColumn("metadata", "text", (c) => c.notNull())
    .addColumn("system_metadata", "text", (c) => c.notNull())
    .addColumn("user_data", "text")
    .addColumn("config_drive", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("access_ip_v4", "text")
    .addColumn("access_ip_v6", "text")
    .addColumn("reservation_id", "text", (c) => c.notNull())
    .addColumn("launch_index", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("auto_disk_config", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("progress", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("root_device_name", "text")
    .addColumn("locked", "integer", (c) => c.notNull().defaultTo(0))
    // "owner" or "admin" (Nova's locked_by), and the 2.73 reason.
    .addColumn("locked_by", "text")
    .addColumn("locked_reason", "text")
    .addColumn("trusted_certs", "text")
    // Nova's instance_info_caches.network_info: the VIFs (ports, fixed and floating IPs) that
    // lists render as addresses without asking Neutron per server.
    .addColumn("network_info", "text", (c) => c.notNull().defaultTo("[]"))
    // Nova's RequestSpec: what the scheduler was asked (hints, group, requested AZ / host,
    // image properties, networks), reused by moves (migrate, evacuate, unshelve).
    .addColumn("request_spec", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("launched_at", "text")
    .addColumn("terminated_at", "text")
    .addColumn("deleted_at", "text")
    .addColumn("deleted", "integer", (c) => c.notNull().defaultTo(0))
    // Soft delete (reclaim_instance_interval > 0): SOFT_DELETED rows keep deleted = 0.
    .addColumn("hidden", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  // The list filters: one project's servers newest first (the default), all projects for
  // admins, by host, by reservation, changes-since (updated_at).
  await db.schema.createIndex("cmp_instance_project").on("cmp_instance").columns(["project_id", "deleted", "created_at"]).execute();
  await db.schema.createIndex("cmp_instance_created").on("cmp_instance").columns(["deleted", "created_at"]).execute();
  await db.schema.createIndex("cmp_instance_updated").on("cmp_instance").column("updated_at").execute();
  await db.schema.createIndex("cmp_instance_host").on("cmp_instance").columns(["host", "deleted"]).execute();
  await db.schema.createIndex("cmp_instance_reservation").on("cmp_instance").column("reservation_id").execute();

  await db.schema
    .createTable("cmp_instance_tag")
    .addColumn("instance_uuid", "text", (c) => c.notNull())
    .addColumn("tag", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("cmp_instance_tag_pk", ["instance_uuid", "tag"])
    .execute();
  await db.schema.createIndex("cmp_instance_tag_tag").on("cmp_instance_tag").column("tag").execute();

  // The last fault is what GET /servers/{id} shows in ERROR.
  await db.schema
    .createTable("cmp_instance_fault")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("instance_uuid", "text", (c) => c.notNull())
    .addColumn("code", "integer", (c) => c.notNull())
    .addColumn("message", "text", (c) => c.notNull())
    .addColumn("details", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("host", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("cmp_instance_fault_instance").on("cmp_instance_fault").columns(["instance_uuid", "created_at"]).execute();

  // os-instance-actions: one action per API request that changes a server, events per step.
  await db.schema
    .createTable("cmp_instance_action")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("instance_uuid", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("request_id", "text", (c) => c.notNull())
    .addColumn("project_id", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("start_time", "text", (c) => c.notNull())
    .addColumn("finish_time", "text")
    .addColumn("message", "text")
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("cmp_instance_action_instance").on("cmp_instance_action").columns(["instance_uuid", "start_time"]).execute();
  await db.schema.createIndex("cmp_instance_action_request").on("cmp_instance_action").columns(["instance_uuid", "request_id"]).execute();
  await db.schema
    .createTable("cmp_instance_action_event")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("action_id", "text", (c) => c.notNull())
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("start_time", "text", (c) => c.notNull())
    .addColumn("finish_time", "text")
    .addColumn("result", "text")
    .addColumn("traceback", "text")
    .addColumn("host", "text")
    .addColumn("details", "text")
    .execute();
  await db.schema.createIndex("cmp_instance_action_event_action").on("cmp_instance_action_event").column("action_id").execute();

  // Cold/live migrations, resizes and evacuations (os-migrations, servers/{id}/migrations).
  await db.schema
    .createTable("cmp_migration")
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("uuid", "text", (c) => c.notNull().unique())
    .addColumn("instance_uuid", "text", (c) => c.notNull())
    .addColumn("project_id", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("migration_type", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("source_compute", "text")
    .addColumn("source_node", "text")
    .addColumn("dest_compute", "text")
    .addColumn("dest_node", "text")
    .addColumn("dest_host", "text")
    .addColumn("old_flavor_id", "text")
    .addColumn("new_flavor_id", "text")
    .addColumn("memory_total", "bigint")
    .addColumn("memory_processed", "bigint")
    .addColumn("memory_remaining", "bigint")
    .addColumn("disk_total", "bigint")
    .addColumn("disk_processed", "bigint")
    .addColumn("disk_remaining", "bigint")
    .addColumn("hidden", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("deleted", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex("cmp_migration_instance").on("cmp_migration").columns(["instance_uuid", "created_at"]).execute();
  await db.schema.createIndex("cmp_migration_created").on("cmp_migration").column("created_at").execute();

  await db.schema
    .createTable("cmp_server_group")
    .addColumn("uuid", "text", (c) => c.primaryKey())
    .addColumn("project_id", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("policy", "text", (c) => c.notNull())
    .addColumn("rules", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("cmp_server_group_project").on("cmp_server_group").column("project_id").execute();
  // An instance is in at most one group (Nova refuses a second).
  await db.schema
    .createTable("cmp_server_group_member")
    .addColumn("instance_uuid", "text", (c) => c.primaryKey())
    .addColumn("group_uuid", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("cmp_server_group_member_group").on("cmp_server_group_member").column("group_uuid").execute();

  // Block device mappings: the image-backed root disk today; volumes when Cinder exists.
  await db.schema
    .createTable("cmp_block_device_mapping")
    .addColumn("uuid", "text", (c) => c.primaryKey())
    .addColumn("instance_uuid", "text", (c) => c.notNull())
    .addColumn("boot_index", "integer")
    .addColumn("source_type", "text", (c) => c.notNull())
    .addColumn("destination_type", "text", (c) => c.notNull())
    .addColumn("device_name", "text")
    .addColumn("image_id", "text")
    .addColumn("volume_id", "text")
    .addColumn("volume_size", "integer")
    .addColumn("delete_on_termination", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("tag", "text")
    .addColumn("attachment_id", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("cmp_bdm_instance").on("cmp_block_device_mapping").column("instance_uuid").execute();
  await db.schema.createIndex("cmp_bdm_volume").on("cmp_block_device_mapping").column("volume_id").execute();
}
