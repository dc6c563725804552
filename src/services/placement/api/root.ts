import type { Route } from "../../../http/context.js";
import { placementMicroversions } from "../microversions.js";
import { cacheHeaders, route } from "./common.js";

/** GET /placement/: the version document, no token needed. */
export function rootRoutes(): Route[] {
  const vs = placementMicroversions.versions;
  const doc = { versions: [{ id: `v${vs[0]}`, max_version: vs[vs.length - 1], min_version: vs[0], status: "CURRENT", links: [{ rel: "self", href: "" }] }] };
  return [
    route({
      method: "GET", path: "/", operation: "getVersions", auth: "none",
      handler: async (ctx) => ({ status: 200, body: doc, headers: cacheHeaders(ctx) }),
    }),
  ];
}
