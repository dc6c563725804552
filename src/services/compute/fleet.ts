import type { Route } from "../../http/context.js";
import type { Compute } from "./api/deps.js";
import { extensionRoutes } from "./api/extensions.js";
import { flavorAccessRoutes } from "./api/flavor-access.js";
import { flavorExtraSpecRoutes } from "./api/flavor-extra-specs.js";
import { flavorRoutes } from "./api/flavors.js";
import { keypairRoutes } from "./api/keypairs.js";
import { limitRoutes } from "./api/limits.js";
import { aggregateRoutes } from "./api/os-aggregates.js";
import { availabilityZoneRoutes } from "./api/os-availability-zone.js";
import { hypervisorRoutes } from "./api/os-hypervisors.js";
import { quotaClassRoutes } from "./api/os-quota-class-sets.js";
import { quotaSetRoutes } from "./api/os-quota-sets.js";
import { serviceRoutes } from "./api/os-services.js";
import { versionRoutes } from "./api/versions.js";
import { AggregateManager } from "./manager/aggregates.js";
import { FlavorManager } from "./manager/flavors.js";
import { HostManager } from "./manager/hosts.js";
import { KeypairManager } from "./manager/keypairs.js";
import { QuotaManager } from "./manager/quotas.js";
import { FleetStore } from "./store/fleet.js";

/** The fleet half of compute: flavors, keypairs, hosts/hypervisors/services, zones, aggregates, quotas. */
export interface Fleet {
  store: FleetStore;
  flavors: FlavorManager;
  keypairs: KeypairManager;
  hosts: HostManager;
  aggregates: AggregateManager;
  quotas: QuotaManager;
}

const fleets = new WeakMap<Compute, Fleet>();

/** Build the fleet managers and set the contracts they implement on the compute bag. */
export function attachFleet(c: Compute): Fleet {
  const store = new FleetStore(c.database, c.clock);
  const servers = () => (c as Partial<Compute>).servers;
  const hosts = new HostManager(store, c.config, c.driver, c.placement, c.log);
  let quotas: QuotaManager | undefined;
  const keypairs = new KeypairManager(store, async (projectId, userId) => (await quotas!.limits(projectId, userId))["key_pairs"] ?? -1);
  quotas = new QuotaManager(store, c.config, servers, (u) => keypairs.count(u));
  const fleet: Fleet = {
    store,
    flavors: new FlavorManager(store),
    keypairs,
    hosts,
    aggregates: new AggregateManager(store, hosts, c.placement, servers, c.log),
    quotas,
  };
  c.flavors = fleet.flavors;
  c.keypairs = fleet.keypairs;
  c.hosts = fleet.hosts;
  c.quotas = fleet.quotas;
  fleets.set(c, fleet);
  return fleet;
}

export function fleetOf(c: Compute): Fleet {
  return fleets.get(c) ?? attachFleet(c);
}

export function fleetRoutes(c: Compute): Route[] {
  const f = fleetOf(c);
  return [
    ...versionRoutes(),
    ...extensionRoutes(),
    ...flavorRoutes(f.flavors),
    ...flavorExtraSpecRoutes(f.flavors),
    ...flavorAccessRoutes(f.flavors),
    ...keypairRoutes(f.keypairs),
    ...hypervisorRoutes(c, f.hosts),
    ...serviceRoutes(c, f.hosts),
    ...availabilityZoneRoutes(f.hosts),
    ...aggregateRoutes(f.aggregates),
    ...quotaSetRoutes(f.quotas),
    ...quotaClassRoutes(f.quotas),
    ...limitRoutes(f.quotas),
  ];
}

/** Every start: default flavors and the driver's hosts as services, compute nodes and resource providers. */
export async function bootstrapFleet(c: Compute): Promise<void> {
  const f = fleetOf(c);
  await f.flavors.ensureDefaults();
  const t0 = Date.now();
  const r = await f.hosts.bootstrap();
  c.log.info({ hosts: c.driver.hosts().length, created: r.created, registered: r.synced, ms: Date.now() - t0 }, "compute hosts bootstrapped");
}
