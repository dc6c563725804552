import type { ServiceDefinition } from "../../http/service.js";
import { ActionRegistry } from "./api/actions.js";
import type { Volume } from "./api/deps.js";
import { attachAttachments } from "./attachments.js";
import { bootstrapVolumeService } from "./bootstrap.js";
import { attachCatalog } from "./catalog.js";
import { VolumeCore } from "./core.js";
import { volumeFaults } from "./faults.js";
import { attachGroups } from "./groups.js";
import { volumeMicroversions } from "./microversions.js";
import { volumeMigrations } from "./migrations/index.js";
import { volumePolicies } from "./policies.js";
import { volumeRoutesAll } from "./routes.js";
import { attachSnapshots } from "./snapshots.js";
import { attachVolumes } from "./volumes.js";

export { volumeMigrations };
export type { Volume };

export type VolumeParts = Omit<Volume, "core" | "actions" | "types" | "quotas" | "messages" | "scheduler">;

/** Build the volume managers over the shared parts (database, clients, driver, tasks, blobs). */
export function createVolume(parts: VolumeParts): Volume {
  const v = { ...parts, core: new VolumeCore(parts.database, parts.clock), actions: new ActionRegistry() } as Volume;
  // Each area sets its contracts on the bag and registers its actions and tasks.
  attachCatalog(v);
  attachVolumes(v);
  attachSnapshots(v);
  attachAttachments(v);
  attachGroups(v);
  return v;
}

/** Every start: the cinder services of the configured backends and the default volume type exist. */
export async function bootstrapVolume(v: Volume): Promise<void> {
  await bootstrapVolumeService(v);
}

export function volumeService(v: Volume): ServiceDefinition {
  return {
    name: "cinder",
    type: "block-storage",
    prefix: "/volume",
    // DevStack registers Cinder under both types, at the project's URL.
    catalog: [
      { type: "block-storage", name: "cinder", path: "/v3/$(project_id)s" },
      { type: "volumev3", name: "cinderv3", path: "/v3/$(project_id)s" },
    ],
    routes: volumeRoutesAll(v),
    faults: volumeFaults,
    policies: volumePolicies,
    migrations: volumeMigrations,
    microversions: volumeMicroversions,
    // Cinder's routes mapper maps only the methods it serves: anything else is a 404.
    wrongMethod: 404,
  };
}
