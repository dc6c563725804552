import type { Route } from "../../../http/context.js";
import type { NetworkProxy } from "../manager/proxies-network.js";
import { MAX_PROXY } from "./images.js";
import { serverCaller } from "./server-common.js";

/** os-floating-ip-pools (floating_ip_pools.py): the external networks by name. */
export function floatingIpPoolRoutes(net: NetworkProxy): Route[] {
  return [
    {
      method: "GET",
      path: "/v2.1/os-floating-ip-pools",
      operation: "listFloatingIpPools",
      policy: "os_compute_api:os-floating-ip-pools",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-floating-ip-pools", {});
        return { body: { floating_ip_pools: await net.pools(serverCaller(ctx)) } };
      },
    },
  ];
}
