import type { RequestContext, Route } from "../../../http/context.js";
import type { NetworkProxy } from "../manager/proxies-network.js";
import { MAX_PROXY } from "./images.js";
import { gone } from "./removed-apis.js";
import { serverCaller } from "./server-common.js";

/** os-tenant-networks (tenant_networks.py): {id, cidr: "None", label} per visible network up to 2.35. */
export function tenantNetworkRoutes(net: NetworkProxy): Route[] {
  const own = (ctx: RequestContext) => ({ project_id: ctx.caller.projectId });
  const dict = (n: Record<string, unknown>) => ({ id: n["id"], cidr: "None", label: n["name"] });
  return [
    {
      method: "GET",
      path: "/v2.1/os-tenant-networks",
      operation: "listProjectNetworks",
      policy: "os_compute_api:os-tenant-networks:list",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-tenant-networks:list", own(ctx));
        return { body: { networks: (await net.listNetworks(serverCaller(ctx))).map(dict) } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-tenant-networks/:id",
      operation: "showProjectNetwork",
      policy: "os_compute_api:os-tenant-networks:show",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-tenant-networks:show", own(ctx));
        return { body: { network: dict(await net.getNetwork(serverCaller(ctx), ctx.params["id"]!)) } };
      },
    },
    gone("POST", "/v2.1/os-tenant-networks", "createProjectNetwork"),
    gone("DELETE", "/v2.1/os-tenant-networks/:id", "deleteProjectNetwork"),
  ];
}
