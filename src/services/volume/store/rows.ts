import type { VolumeRow } from "./tables.js";

/** What a new volume must be given; everything else starts as Cinder's Volume object does. */
export type NewVolume = Pick<VolumeRow, "id" | "project_id" | "user_id" | "size" | "availability_zone" | "volume_type_id" | "created_at"> & Partial<VolumeRow>;

/** A fresh vol_volume row: creating, detached, unplaced, no metadata, counted in quota. */
export function newVolumeRow(v: NewVolume): VolumeRow {
  return {
    name: null,
    description: null,
    status: "creating",
    previous_status: null,
    attach_status: "detached",
    migration_status: null,
    host: null,
    backend: null,
    bootable: 0,
    multiattach: 0,
    encrypted: 0,
    snapshot_id: null,
    source_volid: null,
    backup_id: null,
    group_id: null,
    replication_status: "disabled",
    metadata: "{}",
    admin_metadata: "{}",
    image_metadata: null,
    use_quota: 1,
    updated_at: null,
    launched_at: null,
    ...v,
  };
}
