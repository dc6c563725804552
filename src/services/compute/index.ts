import type { ServiceDefinition } from "../../http/service.js";
import type { Compute } from "./api/deps.js";
import { computeFaults } from "./faults.js";
import { attachFleet, bootstrapFleet } from "./fleet.js";
import { InstanceOps } from "./manager/instance-state.js";
import { computeMicroversions } from "./microversions.js";
import { computeMigrations } from "./migrations/index.js";
import { computePolicies } from "./policies.js";
import { computeRoutesAll } from "./routes.js";
import { attachServers } from "./servers.js";
import { attachActions } from "./actions.js";

export { computeMigrations };
export type { Compute };

export type ComputeParts = Omit<Compute, "flavors" | "keypairs" | "hosts" | "quotas" | "servers" | "instances">;

/** Build the compute managers over the shared parts (database, clients, driver, tasks). */
export function createCompute(parts: ComputeParts): Compute {
  const c = { ...parts } as Compute;
  // Each area sets its field here (one line each): c.flavors = new FlavorManager(c); …
  attachFleet(c);
  c.instances = new InstanceOps(c);
  attachServers(c);
  attachActions(c);
  return c;
}

/** First start and every start: the simulated hosts exist as compute services, hypervisors and resource providers. */
export async function bootstrapCompute(c: Compute): Promise<void> {
  await bootstrapFleet(c);
}

export function computeService(c: Compute): ServiceDefinition {
  return {
    name: "nova",
    type: "compute",
    prefix: "/compute",
    routes: computeRoutesAll(c),
    faults: computeFaults,
    policies: computePolicies,
    migrations: computeMigrations,
    microversions: computeMicroversions,
    requestIdHeaders: ["x-compute-request-id"],
    wrongMethod: 404,
  };
}
