import type { Filter } from "../core/types.js";
import type { FilterDeps } from "./deps.js";

/** Not built yet: passes every request on and advertises nothing in /info. */
export function formpostFilter(_d: FilterDeps): Filter {
  return { name: "formpost", handle: (req, next) => next(req) };
}
