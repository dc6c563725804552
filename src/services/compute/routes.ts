import type { Route } from "../../http/context.js";
import type { Compute } from "./api/deps.js";

/** Every Nova route; each api/ file owns one URL collection. */
export function computeRoutesAll(_c: Compute): Route[] {
  return [];
}
