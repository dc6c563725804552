import type { Route } from "../../http/context.js";
import type { Volume } from "./api/deps.js";

/** Set the contracts this area implements on the bag and register its actions and tasks. */
export function attachGroups(_v: Volume): void {}

/** This area's routes, relative to /v3 (api/common.ts v3() adds the project forms). */
export function groupsRoutes(_v: Volume): Route[] {
  return [];
}
