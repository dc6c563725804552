import type { Route } from "../../http/context.js";
import { allocationCandidateRoutes } from "./api/allocation-candidates.js";
import { allocationRoutes } from "./api/allocations.js";
import { catalogueRoutes } from "./api/catalogue.js";
import { resourceProviderRoutes } from "./api/resource-providers.js";
import { rootRoutes } from "./api/root.js";
import type { Placement } from "./index.js";

/** Every Placement route; each api/ file owns one URL collection. */
export function placementRoutesAll(p: Placement): Route[] {
  return [...rootRoutes(), ...resourceProviderRoutes(p), ...catalogueRoutes(p), ...allocationRoutes(p), ...allocationCandidateRoutes(p)];
}
