import type { RequestContext, Route } from "../../../http/context.js";
import type { NetworkProxy } from "../manager/proxies-network.js";
import { isObject } from "./fleet-validate.js";
import { MAX_PROXY } from "./images.js";
import { serverCaller } from "./server-common.js";

/** os-floating-ips (floating_ips.py FloatingIPController): Neutron floating IPs of the caller's project. */
export function floatingIpRoutes(net: NetworkProxy): Route[] {
  const own = (ctx: RequestContext) => ({ project_id: ctx.caller.projectId });
  return [
    {
      method: "GET",
      path: "/v2.1/os-floating-ips",
      operation: "listFloatingIps",
      policy: "os_compute_api:os-floating-ips:list",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-floating-ips:list", own(ctx));
        return { body: { floating_ips: await net.listFloatingIps(serverCaller(ctx)) } };
      },
    },
    {
      method: "POST",
      path: "/v2.1/os-floating-ips",
      operation: "createAllocateFloatingIp",
      policy: "os_compute_api:os-floating-ips:create",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-floating-ips:create", own(ctx));
        // No schema: {"pool": "<name or id>"}, or no body for the default pool.
        const b = ctx.body;
        const pool = isObject(b) && "pool" in b ? b["pool"] : undefined;
        return { body: { floating_ip: await net.allocateFloatingIp(serverCaller(ctx), pool) } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-floating-ips/:id",
      operation: "showFloatingIp",
      policy: "os_compute_api:os-floating-ips:show",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-floating-ips:show", own(ctx));
        return { body: { floating_ip: await net.showFloatingIp(serverCaller(ctx), ctx.params["id"]!) } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/os-floating-ips/:id",
      operation: "deleteDeallocateFloatingIp",
      policy: "os_compute_api:os-floating-ips:delete",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-floating-ips:delete", own(ctx));
        await net.releaseFloatingIp(serverCaller(ctx), ctx.params["id"]!);
        return { status: 202 };
      },
    },
  ];
}
