import type { Route } from "../../http/context.js";
import type { Network } from "./api/deps.js";
import { agentRoutes } from "./api/agents.js";
import { availabilityZoneRoutes } from "./api/availability-zones.js";
import { extensionRoutes } from "./api/extensions.js";
import { meteringRoutes } from "./api/metering.js";
import { networkIpAvailabilityRoutes } from "./api/network-ip-availabilities.js";
import { networkRoutes } from "./api/networks.js";
import { portRoutes } from "./api/ports.js";
import { routerRoutes } from "./api/routers.js";
import { floatingIpRoutes } from "./api/floatingips.js";
import { portForwardingRoutes } from "./api/port-forwardings.js";
import { quotaRoutes } from "./api/quotas.js";
import { rbacPolicyRoutes } from "./api/rbac-policies.js";
import { securityGroupRoutes } from "./api/security-groups.js";
import { serviceProviderRoutes } from "./api/service-providers.js";
import { subnetRoutes } from "./api/subnets.js";
import { subnetpoolRoutes } from "./api/subnetpools.js";
import { addressScopeRoutes } from "./api/address-scopes.js";
import { tagRoutes } from "./api/tags.js";
import { versionRoutes } from "./api/versions.js";

/** Every Neutron route; each api/ file owns one URL collection. */
export function networkRoutesAll(n: Network): Route[] {
  return [
    ...versionRoutes(),
    ...extensionRoutes(),
    ...networkRoutes(n),
    ...subnetRoutes(n),
    ...subnetpoolRoutes(n),
    ...addressScopeRoutes(n),
    ...portRoutes(n),
    ...routerRoutes(n),
    ...floatingIpRoutes(n),
    ...portForwardingRoutes(n),
    ...meteringRoutes(n),
    ...securityGroupRoutes(n),
    ...quotaRoutes(n),
    ...rbacPolicyRoutes(n),
    ...agentRoutes(n),
    ...availabilityZoneRoutes(n),
    ...tagRoutes(n),
    ...networkIpAvailabilityRoutes(n),
    ...serviceProviderRoutes(),
  ];
}
