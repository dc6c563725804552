import type { RequestContext, Route } from "../../../http/context.js";
import type { NetworkProxy } from "../manager/proxies-network.js";
import { MAX_PROXY } from "./images.js";
import { gone, goneAction } from "./removed-apis.js";
import { serverCaller } from "./server-common.js";

/** networks.py network_dict: nova-network's fields, all null now but id and label (admins see more). */
const FIELDS = ["id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6", "label", "netmask_v6"];
const ADMIN_FIELDS = [
  "created_at", "updated_at", "deleted_at", "deleted", "injected", "bridge", "vlan", "vpn_public_address", "vpn_public_port",
  "vpn_private_address", "dhcp_start", "project_id", "host", "bridge_interface", "multi_host", "priority", "rxtx_base", "mtu",
  "dhcp_server", "enable_dhcp", "share_address",
];

function networkDict(admin: boolean, net: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of admin ? [...FIELDS, ...ADMIN_FIELDS] : FIELDS) {
    out[f] = f === "id" ? net["id"] : f === "label" ? net["name"] : null;
  }
  return out;
}

/** os-networks (networks.py): list/show through Neutron up to 2.35; nova-network's writes are gone (410). */
export function networkRoutes(net: NetworkProxy): Route[] {
  const own = (ctx: RequestContext) => ({ project_id: ctx.caller.projectId });
  return [
    {
      method: "GET",
      path: "/v2.1/os-networks",
      operation: "listNetworks",
      policy: "os_compute_api:os-networks:list",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-networks:list", own(ctx));
        const caller = serverCaller(ctx);
        return { body: { networks: (await net.listNetworks(caller)).map((n) => networkDict(caller.admin, n)) } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-networks/:id",
      operation: "showNetwork",
      policy: "os_compute_api:os-networks:show",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-networks:show", own(ctx));
        const caller = serverCaller(ctx);
        return { body: { network: networkDict(caller.admin, await net.getNetwork(caller, ctx.params["id"]!)) } };
      },
    },
    gone("POST", "/v2.1/os-networks", "createNetwork"),
    gone("POST", "/v2.1/os-networks/add", "addNetwork"),
    gone("DELETE", "/v2.1/os-networks/:id", "deleteNetwork"),
    goneAction("/v2.1/os-networks/:id/action", "networkAction", ["disassociate", "disassociate_host", "disassociate_project", "associate_host"]),
  ];
}
