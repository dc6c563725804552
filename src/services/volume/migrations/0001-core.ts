import type { Kysely } from "kysely";

type Col = [name: string, type: "text" | "integer" | "bigint", opts?: "pk" | "notnull" | "unique"];

/** The Cinder model of store/tables.ts (one migration for the first release of the service). */
export async function up(db: Kysely<unknown>): Promise<void> {
  const table = async (name: string, cols: Col[], pk?: string[]) => {
    let t = db.schema.createTable(name);
    for (const [col, type, opt] of cols) {
      t = t.addColumn(col, type, (c) => (opt === "pk" ? c.primaryKey() : opt === "notnull" ? c.notNull() : opt === "unique" ? c.notNull().unique() : c));
    }
    if (pk) t = t.addPrimaryKeyConstraint(`${name}_pk`, pk as never);
    await t.execute();
  };
  const N = "notnull" as const;
  await table("vol_volume", [
    ["id", "text", "pk"],
    ["project_id", "text", N],
    ["user_id", "text", N],
    ["name", "text"],
    ["description", "text"],
    ["size", "integer", N],
    ["status", "text", N],
    ["previous_status", "text"],
    ["attach_status", "text", N],
    ["migration_status", "text"],
    ["availability_zone", "text", N],
    ["volume_type_id", "text", N],
    ["host", "text"],
    ["backend", "text"],
    ["bootable", "integer", N],
    ["multiattach", "integer", N],
    ["encrypted", "integer", N],
    ["snapshot_id", "text"],
    ["source_volid", "text"],
    ["backup_id", "text"],
    ["group_id", "text"],
    ["replication_status", "text", N],
    ["metadata", "text", N],
    ["admin_metadata", "text", N],
    ["image_metadata", "text"],
    ["use_quota", "integer", N],
    ["created_at", "text", N],
    ["updated_at", "text"],
    ["launched_at", "text"],
  ]);
  await db.schema.createIndex("vol_volume_project").on("vol_volume").columns(["project_id", "created_at"]).execute();
  await db.schema.createIndex("vol_volume_host").on("vol_volume").column("host").execute();

  await table("vol_type", [
    ["id", "text", "pk"],
    ["name", "text", "unique"],
    ["description", "text"],
    ["is_public", "integer", N],
    ["qos_specs_id", "text"],
    ["created_at", "text", N],
    ["updated_at", "text"],
  ]);
  await table("vol_type_extra_spec", [["type_id", "text", N], ["key", "text", N], ["value", "text", N]], ["type_id", "key"]);
  await table("vol_type_access", [["type_id", "text", N], ["project_id", "text", N]], ["type_id", "project_id"]);
  await table("vol_default_type", [["project_id", "text", "pk"], ["volume_type_id", "text", N]]);
  await table("vol_qos_specs", [["id", "text", "pk"], ["name", "text", "unique"], ["consumer", "text", N], ["specs", "text", N], ["created_at", "text", N]]);

  await table("vol_snapshot", [
    ["id", "text", "pk"],
    ["volume_id", "text", N],
    ["project_id", "text", N],
    ["user_id", "text", N],
    ["name", "text"],
    ["description", "text"],
    ["status", "text", N],
    ["progress", "text", N],
    ["size", "integer", N],
    ["volume_type_id", "text", N],
    ["metadata", "text", N],
    ["group_snapshot_id", "text"],
    ["use_quota", "integer", N],
    ["created_at", "text", N],
    ["updated_at", "text"],
  ]);
  await db.schema.createIndex("vol_snapshot_volume").on("vol_snapshot").column("volume_id").execute();
  await db.schema.createIndex("vol_snapshot_project").on("vol_snapshot").columns(["project_id", "created_at"]).execute();

  await table("vol_backup", [
    ["id", "text", "pk"],
    ["volume_id", "text", N],
    ["snapshot_id", "text"],
    ["project_id", "text", N],
    ["user_id", "text", N],
    ["name", "text"],
    ["description", "text"],
    ["status", "text", N],
    ["size", "integer", N],
    ["object_count", "integer", N],
    ["container", "text"],
    ["availability_zone", "text"],
    ["is_incremental", "integer", N],
    ["parent_id", "text"],
    ["num_dependent_backups", "integer", N],
    ["data_timestamp", "text", N],
    ["metadata", "text", N],
    ["fail_reason", "text"],
    ["host", "text"],
    ["restore_volume_id", "text"],
    ["chunks", "text", N],
    ["created_at", "text", N],
    ["updated_at", "text"],
  ]);
  await db.schema.createIndex("vol_backup_volume").on("vol_backup").column("volume_id").execute();
  await db.schema.createIndex("vol_backup_project").on("vol_backup").columns(["project_id", "created_at"]).execute();

  await table("vol_attachment", [
    ["id", "text", "pk"],
    ["volume_id", "text", N],
    ["instance_uuid", "text"],
    ["attached_host", "text"],
    ["mountpoint", "text"],
    ["attach_mode", "text", N],
    ["attach_status", "text", N],
    ["connector", "text"],
    ["connection_info", "text"],
    ["attach_time", "text"],
    ["detach_time", "text"],
    ["created_at", "text", N],
    ["updated_at", "text"],
  ]);
  await db.schema.createIndex("vol_attachment_volume").on("vol_attachment").column("volume_id").execute();
  await db.schema.createIndex("vol_attachment_instance").on("vol_attachment").column("instance_uuid").execute();

  await table("vol_transfer", [
    ["id", "text", "pk"],
    ["volume_id", "text", N],
    ["name", "text"],
    ["source_project_id", "text", N],
    ["destination_project_id", "text"],
    ["salt", "text", N],
    ["crypt_hash", "text", N],
    ["accepted", "integer", N],
    ["no_snapshots", "integer", N],
    ["deleted", "integer", N],
    ["created_at", "text", N],
    ["updated_at", "text"],
  ]);
  await db.schema.createIndex("vol_transfer_volume").on("vol_transfer").column("volume_id").execute();

  await table("vol_quota", [["project_id", "text", N], ["resource", "text", N], ["hard_limit", "integer", N]], ["project_id", "resource"]);
  await table("vol_quota_class", [["class_name", "text", N], ["resource", "text", N], ["hard_limit", "integer", N]], ["class_name", "resource"]);
  await table("vol_message", [
    ["id", "text", "pk"],
    ["project_id", "text", N],
    ["request_id", "text", N],
    ["resource_type", "text", N],
    ["resource_uuid", "text"],
    ["event_id", "text", N],
    ["message_level", "text", N],
    ["action_id", "text", N],
    ["detail_id", "text", N],
    ["created_at", "text", N],
    ["expires_at", "text", N],
  ]);
  await db.schema.createIndex("vol_message_project").on("vol_message").columns(["project_id", "created_at"]).execute();
  await table(
    "vol_service",
    [
      ["host", "text", N],
      ["binary", "text", N],
      ["availability_zone", "text", N],
      ["disabled", "integer", N],
      ["disabled_reason", "text"],
      ["frozen", "integer", N],
      ["created_at", "text", N],
      ["updated_at", "text", N],
    ],
    ["host", "binary"],
  );

  await table("vol_group_type", [["id", "text", "pk"], ["name", "text", "unique"], ["description", "text"], ["is_public", "integer", N], ["created_at", "text", N], ["updated_at", "text"]]);
  await table("vol_group_type_spec", [["group_type_id", "text", N], ["key", "text", N], ["value", "text", N]], ["group_type_id", "key"]);
  await table("vol_group", [
    ["id", "text", "pk"],
    ["project_id", "text", N],
    ["user_id", "text", N],
    ["name", "text"],
    ["description", "text"],
    ["status", "text", N],
    ["availability_zone", "text", N],
    ["group_type_id", "text", N],
    ["volume_type_ids", "text", N],
    ["host", "text"],
    ["group_snapshot_id", "text"],
    ["source_group_id", "text"],
    ["replication_status", "text", N],
    ["created_at", "text", N],
    ["updated_at", "text"],
  ]);
  await table("vol_group_snapshot", [
    ["id", "text", "pk"],
    ["group_id", "text", N],
    ["project_id", "text", N],
    ["user_id", "text", N],
    ["name", "text"],
    ["description", "text"],
    ["status", "text", N],
    ["group_type_id", "text", N],
    ["created_at", "text", N],
    ["updated_at", "text"],
  ]);
}
