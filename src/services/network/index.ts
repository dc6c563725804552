import type { Clock } from "../../common/clock.js";
import type { Config } from "../../config/config.js";
import type { Database } from "../../db/database.js";
import type { NetworkDriver } from "../../drivers/network/driver.js";
import type { ServiceDefinition } from "../../http/service.js";
import type { Network } from "./api/deps.js";
import { NetworkCore } from "./core.js";
import { networkFaults } from "./faults.js";
import { AgentManager } from "./manager/agents.js";
import { IpAvailabilityManager } from "./manager/ip-availability.js";
import { MeteringManager } from "./manager/metering.js";
import { RbacManager } from "./manager/rbac.js";
import { TagManager } from "./manager/tags.js";
import { NetworkManager } from "./manager/networks.js";
import { PortManager } from "./manager/ports.js";
import { QuotaManager } from "./manager/quotas.js";
import { RouterManager } from "./manager/routers.js";
import { FloatingIpManager } from "./manager/floatingips.js";
import { SecurityGroupManager } from "./manager/security-groups.js";
import { IpamManager } from "./manager/ipam.js";
import { SubnetManager } from "./manager/subnets.js";
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
  n.rbac = new RbacManager(n);
  n.agents = new AgentManager(n);
  n.tags = new TagManager(n);
  n.ipAvailability = new IpAvailabilityManager(n);
  n.subnets = new SubnetManager(n);
  n.ipam = new IpamManager(n);
  n.ports = new PortManager(n);
  n.metering = new MeteringManager(n);
  n.securityGroups = new SecurityGroupManager(n);
  n.routers = new RouterManager(n);
  n.floatingips = new FloatingIpManager(n);
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
