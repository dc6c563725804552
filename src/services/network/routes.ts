import type { Route } from "../../http/context.js";
import type { Network } from "./api/deps.js";
import { extensionRoutes } from "./api/extensions.js";
import { meteringRoutes } from "./api/metering.js";
import { networkRoutes } from "./api/networks.js";
import { quotaRoutes } from "./api/quotas.js";
import { versionRoutes } from "./api/versions.js";

/** Every Neutron route; each api/ file owns one URL collection. */
export function networkRoutesAll(n: Network): Route[] {
  return [
    ...versionRoutes(),
    ...extensionRoutes(),
    ...networkRoutes(n),
    ...meteringRoutes(n),
    ...quotaRoutes(n),
  ];
}
