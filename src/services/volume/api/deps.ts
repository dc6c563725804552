import type { Logger } from "pino";
import type { ComputeClient } from "../../../clients/compute.js";
import type { ImageClient } from "../../../clients/image.js";
import type { Clock } from "../../../common/clock.js";
import type { VolumeConfig } from "../../../config/config.js";
import type { Database } from "../../../db/database.js";
import type { BlobStore } from "../../../drivers/blob/blob.js";
import type { VolumeBackend, VolumeDriver } from "../../../drivers/volume/driver.js";
import type { TaskRunner } from "../../../tasks/runner.js";
import type { VolumeCore } from "../core.js";
import type { VolumeTrx, VQ } from "../store/tables.js";
import type { ActionRegistry } from "./actions.js";

/**
 * The volume service's shared parts and the contracts between its areas. index.ts builds the
 * bag; each area (volumes, catalog, snapshots/backups/transfers, attachments, groups) sets
 * the fields it implements. Areas may read any vol_* table through the store, but change
 * another area's rows only through these contracts or the shared primitives in core.ts.
 * Other services are reached only through the clients (ImageClient), never by import.
 */
export interface Volume {
  database: Database;
  core: VolumeCore;
  config: VolumeConfig;
  clock: Clock;
  log: Logger;
  tasks: TaskRunner;
  driver: VolumeDriver;
  image: ImageClient;
  /** Nova, for the attachment-deletion check and the volume-extended event (attachments area). */
  nova?: ComputeClient;
  blobs: BlobStore;
  /** POST …/action dispatch: each area registers its actions (api/actions.ts). */
  actions: ActionRegistry;
  // Areas (set by createVolume in index.ts):
  types: TypesApi;
  quotas: QuotasApi;
  messages: MessagesApi;
  scheduler: SchedulerApi;
  /**
   * Set by the backups area: write a backup's data into a new volume (POST /volumes with
   * backup_id, 3.47). The volumes area's create task calls it after the empty volume exists
   * on its backend; until it is set, such a volume goes to error.
   */
  restoreBackupIntoVolume?: (volumeId: string, backupId: string) => Promise<void>;
  /**
   * Set by the attachments area: an attached volume grew (extend in-use, 3.42), so Nova is told
   * with the volume-extended external event for each server it is attached to. The volumes
   * area's extend task calls it when an in-use volume finishes extending.
   */
  volumeExtended?: (volumeId: string) => Promise<void>;
}

export interface VolumeType {
  id: string;
  name: string;
  description: string | null;
  is_public: boolean;
  qos_specs_id: string | null;
  extra_specs: Record<string, string>;
}

export interface TypesApi {
  /**
   * By id, or by name when no id matches; undefined when absent. Inside a write transaction
   * pass it as `q`: on SQLite a query on v.core.db waits for the transaction's connection.
   */
  find(idOrName: string, q?: VQ): Promise<VolumeType | undefined>;
  /**
   * The type a new volume gets: the requested one (id or name; 404 VolumeTypeNotFound…
   * "Volume type with name X could not be found." when absent or private and not accessible),
   * else the project's default (3.62 default-types), else config.defaultVolumeType.
   */
  resolve(projectId: string, requested: string | undefined, isAdmin: boolean): Promise<VolumeType>;
  /** Public, or private with an access entry for the project. */
  usableBy(type: VolumeType, projectId: string): Promise<boolean>;
}

export interface QuotasApi {
  /**
   * Refuse (413 overLimit with Cinder's messages: VolumeLimitExceeded "Maximum number of
   * volumes allowed (10) exceeded for quota 'volumes'.", VolumeSizeExceedsAvailableQuota
   * "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 2G, quota is
   * 1000G and 999G has been consumed.", …) when adding `deltas` to the project's usage passes
   * a limit. Usage is counted from the rows inside `trx` (the caller then writes its rows in
   * the same transaction; on PostgreSQL a per-project advisory lock serialises the check).
   * Keys: volumes, gigabytes, snapshots, backups, backup_gigabytes, groups, and per type
   * volumes_<type name>, gigabytes_<type name>, snapshots_<type name>. Negative deltas are
   * never refused. per_volume_gigabytes is checked against `perVolumeSize` when given.
   */
  check(trx: VolumeTrx, projectId: string, deltas: Record<string, number>, opts?: { perVolumeSize?: number }): Promise<void>;
}

/** cinder/message/message_field.py: what failed (action) and why (detail). */
export interface UserMessage {
  projectId: string;
  requestId: string;
  /** VOLUME, VOLUME_SNAPSHOT, VOLUME_BACKUP, GROUP, … */
  resourceType: string;
  resourceUuid: string | null;
  /** Action id, e.g. "001" (schedule allocate volume), "002" attach volume, … */
  action: string;
  /** Detail id, e.g. "001" unknown error, "002" driver not initialized, … */
  detail: string;
  level?: "ERROR";
}

export interface MessagesApi {
  /** Record a user message (kept for message_ttl, 30 days as Cinder's default). */
  record(q: VQ, m: UserMessage): Promise<void>;
}

export interface SchedulerApi {
  /**
   * The backend a new volume goes to (cinder-scheduler's filter scheduler): availability
   * zone, capacity (free ≥ size, thin provisioning over-subscription 20 as the LVM default),
   * the type's extra specs (volume_backend_name, capabilities with `<is> True`, `<in>`, …),
   * the backend's cinder-volume service enabled. Throws NoValidBackend (the caller sets the
   * volume to error and records a user message) when none fits.
   */
  pick(req: { sizeGb: number; type: VolumeType; availabilityZone?: string | undefined; multiattach?: boolean; exclude?: string[] }): Promise<VolumeBackend>;
  /** GiB allocated on each backend (by backend name), from the volumes placed there. */
  allocated(): Promise<Map<string, number>>;
  /** The backend a volume's host names ("stackbox@simulated-1#simulated-1" → its backend). */
  backendOfHost(host: string | null): VolumeBackend | undefined;
}

export class NoValidBackend extends Error {
  constructor(reason = "No valid backend was found.") {
    super(reason);
  }
}
