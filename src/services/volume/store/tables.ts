import type { Kysely, Transaction } from "kysely";

/**
 * Cinder's model (cinder/db/sqlalchemy/models.py) in portable types: text ids and ISO
 * timestamps (milliseconds, Z: sortable; views render Cinder's format), integer 0/1 booleans,
 * JSON documents as text. Rows are deleted outright (Cinder soft-deletes; nothing in the API
 * shows deleted rows except where a table keeps its own `deleted` flag).
 */
export interface VolumeTables {
  vol_volume: VolumeRow;
  vol_type: {
    id: string;
    name: string;
    description: string | null;
    is_public: number;
    qos_specs_id: string | null;
    created_at: string;
    updated_at: string | null;
  };
  vol_type_extra_spec: { type_id: string; key: string; value: string };
  vol_type_access: { type_id: string; project_id: string };
  /** Volume type encryption metadata (Cinder's Encryption model; one per type; no key manager). */
  vol_type_encryption: {
    encryption_id: string;
    volume_type_id: string;
    provider: string | null;
    cipher: string | null;
    key_size: number | null;
    control_location: string | null;
    created_at: string;
    updated_at: string | null;
  };
  /** Per-project default type (3.62 default-types API). */
  vol_default_type: { project_id: string; volume_type_id: string };
  vol_qos_specs: { id: string; name: string; consumer: string; specs: string; created_at: string };
  vol_snapshot: SnapshotRow;
  vol_backup: BackupRow;
  vol_attachment: AttachmentRow;
  vol_transfer: {
    id: string;
    volume_id: string;
    name: string | null;
    source_project_id: string;
    destination_project_id: string | null;
    /** Keyed hash (HMAC-SHA256 with the salt) of the auth key: Cinder keeps salt + crypt_hash, never the key. */
    salt: string;
    crypt_hash: string;
    accepted: number;
    no_snapshots: number;
    deleted: number;
    created_at: string;
    updated_at: string | null;
  };
  vol_quota: { project_id: string; resource: string; hard_limit: number };
  vol_quota_class: { class_name: string; resource: string; hard_limit: number };
  vol_message: {
    id: string;
    project_id: string;
    request_id: string;
    resource_type: string;
    resource_uuid: string | null;
    event_id: string;
    message_level: string;
    action_id: string;
    detail_id: string;
    created_at: string;
    expires_at: string;
  };
  /** cinder-scheduler, cinder-volume per backend, cinder-backup: enabled/disabled state (liveness is computed). */
  vol_service: {
    host: string;
    binary: string;
    availability_zone: string;
    disabled: number;
    disabled_reason: string | null;
    frozen: number;
    created_at: string;
    updated_at: string;
  };
  vol_group_type: { id: string; name: string; description: string | null; is_public: number; created_at: string; updated_at: string | null };
  vol_group_type_spec: { group_type_id: string; key: string; value: string | null };
  vol_group: {
    id: string;
    project_id: string;
    user_id: string;
    name: string | null;
    description: string | null;
    status: string;
    availability_zone: string;
    group_type_id: string;
    /** JSON array of volume type ids. */
    volume_type_ids: string;
    host: string | null;
    group_snapshot_id: string | null;
    source_group_id: string | null;
    replication_status: string;
    created_at: string;
    updated_at: string | null;
  };
  vol_group_snapshot: {
    id: string;
    group_id: string;
    project_id: string;
    user_id: string;
    name: string | null;
    description: string | null;
    status: string;
    group_type_id: string;
    created_at: string;
    updated_at: string | null;
  };
}

export interface VolumeRow {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  size: number;
  /** creating, available, reserved, attaching, in-use, detaching, deleting, error, error_deleting, extending, … */
  status: string;
  /** Status before a transient one (backing-up, …) that the volume returns to. */
  previous_status: string | null;
  /** detached, attaching, attached, detaching, reserved, error_attaching, error_detaching. */
  attach_status: string;
  migration_status: string | null;
  availability_zone: string;
  volume_type_id: string;
  /** Pool the volume lives in ("stackbox@simulated-1#simulated-1"); null until scheduled. */
  host: string | null;
  /** Driver backend name (the part after "@"), null until scheduled. */
  backend: string | null;
  bootable: number;
  multiattach: number;
  encrypted: number;
  snapshot_id: string | null;
  source_volid: string | null;
  backup_id: string | null;
  group_id: string | null;
  replication_status: string;
  /** JSON object: user metadata. */
  metadata: string;
  /** JSON object: admin metadata (readonly, attached_mode). */
  admin_metadata: string;
  /** JSON object or null: volume_glance_metadata (volume_image_metadata in the API). */
  image_metadata: string | null;
  use_quota: number;
  created_at: string;
  updated_at: string | null;
  launched_at: string | null;
}

export interface SnapshotRow {
  id: string;
  volume_id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  /** creating, available, deleting, error, error_deleting, backing-up, restoring, unmanaging. */
  status: string;
  progress: string;
  size: number;
  volume_type_id: string;
  /** JSON object. */
  metadata: string;
  group_snapshot_id: string | null;
  use_quota: number;
  created_at: string;
  updated_at: string | null;
}

export interface BackupRow {
  id: string;
  volume_id: string;
  snapshot_id: string | null;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  /** creating, available, deleting, error, restoring, error_deleting, error_restoring. */
  status: string;
  size: number;
  object_count: number;
  container: string | null;
  availability_zone: string | null;
  is_incremental: number;
  parent_id: string | null;
  num_dependent_backups: number;
  data_timestamp: string;
  /** JSON object (3.43). */
  metadata: string;
  fail_reason: string | null;
  host: string | null;
  restore_volume_id: string | null;
  /** JSON array of the chunks this backup stores: [{ index, sha256, key }] (unchanged chunks live in a parent). */
  chunks: string;
  created_at: string;
  updated_at: string | null;
}

export interface AttachmentRow {
  id: string;
  volume_id: string;
  instance_uuid: string | null;
  attached_host: string | null;
  mountpoint: string | null;
  /** rw or ro. */
  attach_mode: string;
  /** reserved, attaching, attached, detaching, detached, error_attaching, error_detaching. */
  attach_status: string;
  /** JSON or null. */
  connector: string | null;
  connection_info: string | null;
  attach_time: string | null;
  detach_time: string | null;
  created_at: string;
  updated_at: string | null;
}

export type VolumeDB = Kysely<VolumeTables>;
export type VolumeTrx = Transaction<VolumeTables>;
export type VQ = VolumeDB | VolumeTrx;
