import type { Route } from "../../http/context.js";
import type { Volume } from "./api/deps.js";
import { v3 } from "./api/common.js";
import { versionRoutes } from "./api/versions.js";
import { attachmentsRoutes } from "./attachments.js";
import { catalogRoutes } from "./catalog.js";
import { groupsRoutes } from "./groups.js";
import { snapshotsRoutes } from "./snapshots.js";
import { volumesRoutes } from "./volumes.js";

/** Every Cinder route; each api/ file owns one URL collection. */
export function volumeRoutesAll(v: Volume): Route[] {
  const actions: Route[] = [
    v.actions.route("volumes", "volume_id", "volumeAction"),
    v.actions.route("snapshots", "snapshot_id", "snapshotAction"),
    v.actions.route("backups", "backup_id", "backupAction"),
    v.actions.route("types", "type_id", "volumeTypeAction"),
    v.actions.route("groups", "group_id", "groupAction"),
    v.actions.route("group_snapshots", "group_snapshot_id", "groupSnapshotAction"),
  ];
  return [
    ...versionRoutes(),
    ...v3([...catalogRoutes(v), ...volumesRoutes(v), ...snapshotsRoutes(v), ...attachmentsRoutes(v), ...groupsRoutes(v), ...actions]),
  ];
}
