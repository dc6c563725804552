import type { Route } from "../../http/context.js";
import type { Compute } from "./api/deps.js";
import { fleetRoutes } from "./fleet.js";
import { serversRoutes } from "./servers.js";
import { actionsRoutes } from "./actions.js";
import { proxiesRoutes, volumesBootAlias } from "./manager/proxies.js";

/** Every Nova route; each api/ file owns one URL collection. */
export function computeRoutesAll(c: Compute): Route[] {
  const all = [...fleetRoutes(c), ...serversRoutes(c), ...actionsRoutes(c), ...proxiesRoutes(c)];
  return [...all, ...volumesBootAlias(all)];
}
