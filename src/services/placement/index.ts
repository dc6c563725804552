import type { Clock } from "../../common/clock.js";
import type { Config } from "../../config/config.js";
import type { Database } from "../../db/database.js";
import type { ServiceDefinition } from "../../http/service.js";
import { placementFaults } from "./faults.js";
import { placementMicroversions } from "./microversions.js";
import { placementMigrations } from "./migrations/index.js";
import { placementPolicies } from "./policies.js";
import { placementRoutesAll } from "./routes.js";
import { AllocationManager } from "./manager/allocations.js";
import { CandidateManager } from "./manager/candidates.js";
import { ProviderManager } from "./manager/providers.js";
import { PlacementCore } from "./store/core.js";
import type { PDB } from "./store/core.js";

export { placementMigrations };

/** Placement's managers over the migrated database. */
export interface Placement {
  database: Database;
  config: Config;
  clock: Clock;
  core: PlacementCore;
  providers: ProviderManager;
  allocations: AllocationManager;
  candidates: CandidateManager;
}

export function createPlacement(database: Database, config: Config, clock: Clock): Placement {
  const core = new PlacementCore(database.db as PDB, clock, config.placement, database.dialect);
  const providers = new ProviderManager(core);
  return { database, config, clock, core, providers, allocations: new AllocationManager(core, providers), candidates: new CandidateManager(core) };
}

export function placementService(p: Placement): ServiceDefinition {
  return {
    name: "placement",
    type: "placement",
    prefix: "/placement",
    routes: placementRoutesAll(p),
    faults: placementFaults,
    policies: placementPolicies,
    migrations: placementMigrations,
    microversions: placementMicroversions,
  };
}
