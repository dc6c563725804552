import { BadRequest } from "../../common/errors.js";
import type { Route } from "../../http/context.js";
import type { Compute } from "./api/deps.js";
import { fleetRoutes } from "./fleet.js";
import { serversRoutes } from "./servers.js";
import { actionsRoutes } from "./actions.js";
import { proxiesRoutes, volumesBootAlias } from "./manager/proxies.js";

/**
 * Nova also serves every v2.1 URL with the project id after the version
 * (`/v2.1/{project_id}/servers`, the catalog form of clouds registered before 2.18 made it
 * optional). The URL's project must be the token's, else 400 as nova/api/openstack/wsgi.py says.
 */
function withProjectId(routes: readonly Route[]): Route[] {
  return routes
    .filter((r) => r.path.startsWith("/v2.1/"))
    .map((r) => {
      const handler = r.handler;
      return {
        ...r,
        path: r.path.replace("/v2.1/", "/v2.1/:url_project_id/"),
        handler: async (ctx) => {
          const url = ctx.params["url_project_id"];
          if (ctx.auth && url !== ctx.auth.projectId) {
            throw new BadRequest(`Malformed request URL: URL's project_id '${url}' doesn't match Context's project_id '${ctx.auth.projectId ?? "None"}'`);
          }
          return handler(ctx);
        },
      };
    });
}

/** Every Nova route; each api/ file owns one URL collection. */
export function computeRoutesAll(c: Compute): Route[] {
  const all = [...fleetRoutes(c), ...serversRoutes(c), ...actionsRoutes(c), ...proxiesRoutes(c)];
  const withAlias = [...all, ...volumesBootAlias(all)];
  return [...withAlias, ...withProjectId(withAlias)];
}
