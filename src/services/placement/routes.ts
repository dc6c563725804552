import type { Route } from "../../http/context.js";
import type { Placement } from "./index.js";

/** Every Placement route; each api/ file owns one URL collection. */
export function placementRoutesAll(_p: Placement): Route[] {
  return [];
}
