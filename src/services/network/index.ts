import type { Clock } from "../../common/clock.js";
import type { Config } from "../../config/config.js";
import type { Database } from "../../db/database.js";
import type { NetworkDriver } from "../../drivers/network/driver.js";
import type { ServiceDefinition } from "../../http/service.js";
import type { Network } from "./api/deps.js";
import { NetworkCore } from "./core.js";
import { networkFaults } from "./faults.js";
import { MeteringManager } from "./manager/metering.js";
import { NetworkManager } from "./manager/networks.js";
import { QuotaManager } from "./manager/quotas.js";
import { networkMigrations } from "./migrations/index.js";
import { networkPolicies } from "./policies.js";
import { networkRoutesAll } from "./routes.js";
import type { NetworkDB } from "./store/tables.js";

export { networkMigrations };

/** Build the network managers over an already-migrated database and a backend driver. */
export function createNetwork(database: Database, config: Config, clock: Clock, driver: NetworkDriver): Network {
  const core = new NetworkCore(database.db as unknown as NetworkDB, clock, config.network, database.dialect === "postgres");
  const n = { core, driver } as Network;
  n.quotas = new QuotaManager(core);
  n.networks = new NetworkManager(n);
  n.metering = new MeteringManager(n);
  return n;
}

export function networkService(n: Network): ServiceDefinition {
  return {
    name: "neutron",
    type: "network",
    prefix: "/networking",
    routes: networkRoutesAll(n),
    faults: networkFaults,
    policies: networkPolicies,
    migrations: networkMigrations,
  };
}
