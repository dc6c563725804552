import type { Readable } from "node:stream";

/**
 * Block storage backends as Cinder's volume service sees them. The simulated driver
 * (simulated/) is the executable spec: each backend is one pool whose volumes are sparse
 * files, so data written into a volume (from an image, a backup restore) is real and can be
 * read back (upload to image, backup); operations take `latencyMs[op]` on the Clock and fail
 * when a test injects a failure. A real driver (LVM, Ceph) would implement the same.
 */
export interface VolumeBackend {
  /** enabled_backends section name ("simulated-1"). */
  name: string;
  /** cinder-volume service host: "stackbox@simulated-1". */
  host: string;
  /** The one pool's full name, the volume's os-vol-host-attr:host: "stackbox@simulated-1#simulated-1". */
  pool: string;
  /** volume_backend_name capability. */
  volumeBackendName: string;
  availabilityZone: string;
  totalCapacityGb: number;
  /** What the backend reports to the scheduler besides capacity (pools API, capabilities API). */
  capabilities: Record<string, unknown>;
}

export type VolumeOperation =
  | "create"
  | "delete"
  | "extend"
  | "clone"
  | "snapshot"
  | "delete_snapshot"
  | "revert"
  | "migrate"
  | "attach"
  | "detach"
  | "backup"
  | "restore"
  | "copy_image"
  | "upload_image";

/** iSCSI-shaped connection info, as the LVM driver returns from initialize_connection. */
export interface ConnectionInfo {
  driver_volume_type: string;
  data: Record<string, unknown>;
}

export interface VolumeDriver {
  backends(): VolumeBackend[];
  /** Simulated time an operation takes, in ms on the Clock (0 = next tick). */
  latency(op: VolumeOperation): number;
  /** Throws VolumeDriverFailure when a test injected a failure of `op` on this backend. */
  check(op: VolumeOperation, backend: string): void;
  /** A zero-filled volume of sizeGb. Idempotent (a re-run after a crash keeps existing data). */
  createVolume(backend: string, id: string, sizeGb: number): Promise<void>;
  /** Idempotent. */
  deleteVolume(backend: string, id: string): Promise<void>;
  extendVolume(backend: string, id: string, sizeGb: number): Promise<void>;
  /** Copy `srcId`'s data (a volume or a snapshot, by key) into a new volume of sizeGb, possibly on another backend. */
  copy(src: { backend: string; id: string }, dst: { backend: string; id: string }, sizeGb: number): Promise<void>;
  /** Point-in-time copy of a volume kept under the snapshot's id. */
  createSnapshot(backend: string, volumeId: string, snapshotId: string): Promise<void>;
  deleteSnapshot(backend: string, snapshotId: string): Promise<void>;
  /** Put the snapshot's data back into the volume (revert to snapshot). */
  revertToSnapshot(backend: string, volumeId: string, snapshotId: string): Promise<void>;
  /** The volume's bytes (all of it: sizeGb GiB) or a range. */
  read(backend: string, id: string, range?: { start: number; length: number }): Promise<Readable>;
  /** Write `data` into the volume from `offset` (image data, a backup restore); returns bytes written. */
  write(backend: string, id: string, data: AsyncIterable<Uint8Array>, offset?: number): Promise<number>;
  /** Size in bytes of the volume's disk (0 if absent). */
  size(backend: string, id: string): Promise<number>;
  initializeConnection(backend: string, id: string, connector: Record<string, unknown>): ConnectionInfo;
  /** Remove everything (a throwaway --memory driver at close). */
  destroy(): Promise<void>;
}

export class VolumeDriverFailure extends Error {
  constructor(
    readonly op: VolumeOperation,
    readonly backend: string,
    message: string,
  ) {
    super(message);
  }
}

export const GiB = 1024 * 1024 * 1024;
