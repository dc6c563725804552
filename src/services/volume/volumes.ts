import type { Route } from "../../http/context.js";
import type { Volume } from "./api/deps.js";
import { registerVolumeActions } from "./api/volume-actions.js";
import { volumeMetadataRoutes } from "./api/volume-metadata.js";
import { volumeCrudRoutes } from "./api/volumes.js";
import { Scheduler } from "./manager/scheduler.js";
import { registerVolumeTasks } from "./manager/volume-tasks.js";
import { VolumeManager } from "./manager/volumes.js";

/** One manager per bag: the routes and the actions share it. */
const managers = new WeakMap<Volume, VolumeManager>();

function managerOf(v: Volume): VolumeManager {
  let m = managers.get(v);
  if (!m) {
    const s = v.scheduler instanceof Scheduler ? v.scheduler : new Scheduler(v);
    managers.set(v, (m = new VolumeManager(v, s)));
  }
  return m;
}

/** Set the contracts this area implements on the bag and register its actions and tasks. */
export function attachVolumes(v: Volume): void {
  const scheduler = new Scheduler(v);
  v.scheduler = scheduler;
  const mgr = managerOf(v);
  registerVolumeTasks(v, scheduler);
  registerVolumeActions(v, mgr);
}

/** This area's routes, relative to /v3 (api/common.ts v3() adds the project forms). */
export function volumesRoutes(v: Volume): Route[] {
  const mgr = managerOf(v);
  // /volumes/detail and /volumes/summary before /volumes/:volume_id (find-my-way prefers static segments anyway).
  return [...volumeCrudRoutes(v, mgr), ...volumeMetadataRoutes(mgr)];
}
