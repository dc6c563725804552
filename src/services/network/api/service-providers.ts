import type { Route } from "../../../http/context.js";
import { simpleList } from "./availability-zones.js";

/**
 * The L3 service providers the router plugin registers (neutron/services/l3_router/
 * service_providers/driver_controller.py, _LegacyPlusProviderConfiguration), none default.
 * No other plugin here uses service providers.
 */
const PROVIDERS: ReadonlyArray<{ service_type: string; name: string; driver: string; default: boolean }> = [
  { service_type: "L3_ROUTER_NAT", name: "dvrha", driver: "neutron.services.l3_router.service_providers.dvrha.DvrHaDriver", default: false },
  { service_type: "L3_ROUTER_NAT", name: "dvr", driver: "neutron.services.l3_router.service_providers.dvr.DvrDriver", default: false },
  { service_type: "L3_ROUTER_NAT", name: "ha", driver: "neutron.services.l3_router.service_providers.ha.HaDriver", default: false },
  { service_type: "L3_ROUTER_NAT", name: "single_node", driver: "neutron.services.l3_router.service_providers.single_node.SingleNodeDriver", default: false },
];

/**
 * GET /v2.0/service-providers (the service-type extension). ServiceTypeManager does not
 * validate filters; it matches service_type, name, driver and default, comparing the query's
 * strings as they are (so `default=False` matches nothing, as in Neutron). `driver` is not
 * an attribute of the resource, so it is never shown.
 */
export function serviceProviderRoutes(): Route[] {
  return [
    {
      method: "GET",
      path: "/v2.0/service-providers",
      operation: "listServiceProviders",
      policy: "get_service_provider",
      handler: (ctx) =>
        simpleList(ctx, {
          plural: "service_providers",
          rule: "get_service_provider",
          filters: ["service_type", "name", "driver", "default"],
          validate: false,
          items: async () => PROVIDERS.map((p) => ({ service_type: p.service_type, name: p.name, default: p.default })),
          matches: (item, key, values) => {
            if (key === "driver") return values.includes(PROVIDERS.find((p) => p.name === item["name"])?.driver ?? "");
            return values.some((v) => v === item[key]);
          },
        }),
    },
  ];
}
