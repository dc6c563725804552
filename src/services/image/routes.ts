import type { Route } from "../../http/context.js";
import type { Image } from "./index.js";

/** Every Glance v2 route; each api/ file owns one URL collection. */
export function imageRoutesAll(_i: Image): Route[] {
  return [];
}
