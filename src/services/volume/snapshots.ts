import type { Route } from "../../http/context.js";
import type { Volume } from "./api/deps.js";
import { backupsRoutes, registerBackupActions } from "./api/backups.js";
import { snapshotMetadataRoutes } from "./api/snapshot-metadata.js";
import { registerSnapshotActions, snapshotsRoutes as snapshotRoutes } from "./api/snapshots.js";
import { transfersRoutes } from "./api/transfers.js";
import { BackupManager, restoreInto } from "./manager/backups.js";
import { SnapshotManager } from "./manager/snapshots.js";
import { TransferManager } from "./manager/transfers.js";

/** The snapshots, backups and transfers area (issue #6): its managers, one set per Volume bag. */
interface Area {
  snapshots: SnapshotManager;
  backups: BackupManager;
  transfers: TransferManager;
}

const areas = new WeakMap<Volume, Area>();

function area(v: Volume): Area {
  let a = areas.get(v);
  if (!a) {
    a = { snapshots: new SnapshotManager(v), backups: new BackupManager(v), transfers: new TransferManager(v) };
    areas.set(v, a);
  }
  return a;
}

/** Set the contracts this area implements on the bag and register its actions and tasks. */
export function attachSnapshots(v: Volume): void {
  const a = area(v);
  a.snapshots.registerTasks();
  a.backups.registerTasks();
  registerSnapshotActions(v, a.snapshots);
  registerBackupActions(v, a.backups);
  // 3.47 volume create from backup_id: the volumes area's create task calls this once the empty disk exists.
  v.restoreBackupIntoVolume = async (volumeId, backupId) => {
    const vol = await v.core.volume(v.core.db, volumeId);
    if (!vol) throw new Error(`volume ${volumeId} is gone`);
    await restoreInto(v, { ...vol, backup_id: backupId });
  };
}

/** This area's routes, relative to /v3 (api/common.ts v3() adds the project forms). */
export function snapshotsRoutes(v: Volume): Route[] {
  const a = area(v);
  return [
    ...snapshotRoutes(v, a.snapshots),
    ...snapshotMetadataRoutes(v, a.snapshots),
    ...backupsRoutes(v, a.backups, a.snapshots),
    ...transfersRoutes(v, a.transfers, a.snapshots),
  ];
}
