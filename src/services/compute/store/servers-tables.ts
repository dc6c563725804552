import type { Kysely, Transaction } from "kysely";

/** Tables of the servers half of compute (migrations/0002-servers.ts). */
export interface ServersTables {
  cmp_sequence: { name: string; value: number | string };
  cmp_instance: InstanceRow;
  cmp_instance_tag: { instance_uuid: string; tag: string };
  cmp_instance_fault: { id: string; instance_uuid: string; code: number; message: string; details: string; host: string | null; created_at: string };
  cmp_instance_action: {
    id: string;
    instance_uuid: string;
    action: string;
    request_id: string;
    project_id: string;
    user_id: string;
    start_time: string;
    finish_time: string | null;
    message: string | null;
    updated_at: string;
  };
  cmp_instance_action_event: {
    id: string;
    action_id: string;
    event: string;
    start_time: string;
    finish_time: string | null;
    result: string | null;
    traceback: string | null;
    host: string | null;
    details: string | null;
  };
  cmp_migration: MigrationRow;
  cmp_server_group: { uuid: string; project_id: string; user_id: string; name: string; policy: string; rules: string; created_at: string };
  cmp_server_group_member: { instance_uuid: string; group_uuid: string; created_at: string };
  cmp_block_device_mapping: {
    uuid: string;
    instance_uuid: string;
    boot_index: number | null;
    source_type: string;
    destination_type: string;
    device_name: string | null;
    image_id: string | null;
    volume_id: string | null;
    volume_size: number | null;
    delete_on_termination: number;
    tag: string | null;
    attachment_id: string | null;
    created_at: string;
    /** 0003-volume-bdm */
    snapshot_id: string | null;
    volume_type: string | null;
    connection_info: string | null;
  };
}

export interface InstanceRow {
  uuid: string;
  id: number | string;
  project_id: string;
  user_id: string;
  display_name: string;
  display_description: string | null;
  hostname: string;
  host: string | null;
  node: string | null;
  availability_zone: string | null;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  flavor_id: string;
  vcpus: number;
  memory_mb: number;
  root_gb: number;
  ephemeral_gb: number;
  /** JSON FlavorSnapshot `{cur, old?, new?}`. */
  flavor: string;
  image_ref: string;
  key_name: string | null;
  key_data: string | null;
  /** JSON object of strings. */
  metadata: string;
  /** JSON object of strings (image_* properties, old_vm_state, clean_attempts, …). */
  system_metadata: string;
  user_data: string | null;
  config_drive: string;
  access_ip_v4: string | null;
  access_ip_v6: string | null;
  reservation_id: string;
  launch_index: number;
  auto_disk_config: number;
  progress: number;
  root_device_name: string | null;
  locked: number;
  locked_by: string | null;
  locked_reason: string | null;
  trusted_certs: string | null;
  /** JSON Vif[]. */
  network_info: string;
  /** JSON RequestSpec. */
  request_spec: string;
  created_at: string;
  updated_at: string;
  launched_at: string | null;
  terminated_at: string | null;
  deleted_at: string | null;
  deleted: number;
  hidden: number;
}

export interface MigrationRow {
  id: number | string;
  uuid: string;
  instance_uuid: string;
  project_id: string;
  user_id: string;
  migration_type: string;
  status: string;
  source_compute: string | null;
  source_node: string | null;
  dest_compute: string | null;
  dest_node: string | null;
  dest_host: string | null;
  old_flavor_id: string | null;
  new_flavor_id: string | null;
  memory_total: number | string | null;
  memory_processed: number | string | null;
  memory_remaining: number | string | null;
  disk_total: number | string | null;
  disk_processed: number | string | null;
  disk_remaining: number | string | null;
  hidden: number;
  created_at: string;
  updated_at: string;
  deleted: number;
}

export type ServersDB = Kysely<ServersTables>;
export type ServersTrx = Transaction<ServersTables>;
export type SQ = ServersDB | ServersTrx;
