import type { Clock } from "../../common/clock.js";
import type { Config } from "../../config/config.js";
import type { Database } from "../../db/database.js";
import type { ServiceDefinition } from "../../http/service.js";
import { placementFaults } from "./faults.js";
import { placementMicroversions } from "./microversions.js";
import { placementMigrations } from "./migrations/index.js";
import { placementPolicies } from "./policies.js";
import { placementRoutesAll } from "./routes.js";

export { placementMigrations };

/** Placement's managers over the migrated database. */
export interface Placement {
  database: Database;
  config: Config;
  clock: Clock;
}

export function createPlacement(database: Database, config: Config, clock: Clock): Placement {
  return { database, config, clock };
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
