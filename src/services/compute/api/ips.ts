import { NotFound } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { ServerManager } from "../manager/servers.js";
import { addressesOf } from "../views/servers.js";
import type { Compute } from "./deps.js";
import { serverCaller } from "./server-common.js";

/** ips.py: /servers/{id}/ips and /ips/{network_label} (addresses without the extended attributes). */
export function ipRoutes(c: Compute, mgr: ServerManager): Route[] {
  return [
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/ips",
      operation: "listIps",
      policy: "os_compute_api:ips:index",
      handler: async (ctx) => {
        const inst = await mgr.refreshNetworkInfo(await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!));
        ctx.enforce("os_compute_api:ips:index", { project_id: inst.project_id });
        return { body: { addresses: addressesOf(inst.network_info, false) } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/ips/:network_label",
      operation: "showIpDetails",
      policy: "os_compute_api:ips:show",
      handler: async (ctx) => {
        const inst = await mgr.refreshNetworkInfo(await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!));
        ctx.enforce("os_compute_api:ips:show", { project_id: inst.project_id });
        const label = ctx.params["network_label"]!;
        const all = addressesOf(inst.network_info, false);
        if (!(label in all)) throw new NotFound("Instance is not a member of specified network");
        return { body: { [label]: all[label] } };
      },
    },
  ];
}
