import { BadRequest, Gone } from "../../../common/errors.js";
import type { HttpMethod, Route } from "../../../http/context.js";
import { isObject } from "./fleet-validate.js";

/** webob's HTTPGone explanation, which Nova's fault wrapper puts in {"computeFault": {"code": 410, …}}. */
export const GONE_MESSAGE = "This resource is no longer available.  No forwarding address is given.";

/**
 * A removed Nova API (the controller raises HTTPGone for every method, at every microversion,
 * with no policy check): agents, cells, certificates, cloudpipe, fixed IPs, floating IP DNS and
 * bulk, fping, security group default rules, nova-network's network writes, virtual interfaces.
 */
export function gone(method: HttpMethod, path: string, operation: string): Route {
  return {
    method,
    path,
    operation,
    handler: async () => {
      throw new Gone(GONE_MESSAGE);
    },
  };
}

/** POST …/action of a removed controller: its actions are gone, any other is unknown (wsgi action_peek). */
export function goneAction(path: string, operation: string, actions: readonly string[]): Route {
  return {
    method: "POST",
    path,
    operation,
    handler: async (ctx) => {
      const b = ctx.body;
      if (!isObject(b) || Object.keys(b).length !== 1) throw new BadRequest("Malformed request body");
      const name = Object.keys(b)[0]!;
      if (!actions.includes(name)) throw new BadRequest(`There is no such action: ${name}`);
      throw new Gone(GONE_MESSAGE);
    },
  };
}

/** Every removed proxy API but os-networks/os-tenant-networks writes (in os-networks.ts). */
export function removedRoutes(): Route[] {
  return [
    gone("GET", "/v2.1/os-agents", "listAgents"),
    gone("POST", "/v2.1/os-agents", "createAgent"),
    gone("PUT", "/v2.1/os-agents/:id", "updateAgent"),
    gone("DELETE", "/v2.1/os-agents/:id", "deleteAgent"),
    gone("GET", "/v2.1/os-cells", "listCells"),
    gone("POST", "/v2.1/os-cells", "createCell"),
    gone("GET", "/v2.1/os-cells/capacities", "showCellCapacities"),
    gone("GET", "/v2.1/os-cells/detail", "listCellsDetail"),
    gone("GET", "/v2.1/os-cells/info", "infoCell"),
    gone("POST", "/v2.1/os-cells/sync_instances", "syncInstancesCell"),
    gone("GET", "/v2.1/os-cells/:id", "showCell"),
    gone("PUT", "/v2.1/os-cells/:id", "updateCell"),
    gone("DELETE", "/v2.1/os-cells/:id", "deleteCell"),
    gone("GET", "/v2.1/os-cells/:id/capacities", "showCellCapacities"),
    gone("POST", "/v2.1/os-certificates", "createRootCertificate"),
    gone("GET", "/v2.1/os-certificates/:id", "showRootCertificate"),
    gone("GET", "/v2.1/os-cloudpipe", "listCloudpipes"),
    gone("POST", "/v2.1/os-cloudpipe", "createCloudpipe"),
    gone("PUT", "/v2.1/os-cloudpipe/:id", "updateCloudpipe"),
    gone("GET", "/v2.1/os-fixed-ips/:id", "showFixedIp"),
    goneAction("/v2.1/os-fixed-ips/:id/action", "fixedIpAction", ["reserve", "unreserve"]),
    gone("GET", "/v2.1/os-floating-ip-dns", "listDNSDomains"),
    gone("PUT", "/v2.1/os-floating-ip-dns/:id", "createOrUpdateDNSDomain"),
    gone("DELETE", "/v2.1/os-floating-ip-dns/:id", "deleteDNSDomain"),
    gone("GET", "/v2.1/os-floating-ip-dns/:domain_id/entries/:id", "showDNSEntry"),
    gone("PUT", "/v2.1/os-floating-ip-dns/:domain_id/entries/:id", "createOrUpdateDNSEntry"),
    gone("DELETE", "/v2.1/os-floating-ip-dns/:domain_id/entries/:id", "deleteDNSEntry"),
    gone("GET", "/v2.1/os-floating-ips-bulk", "listFloatingIpsBulk"),
    gone("POST", "/v2.1/os-floating-ips-bulk", "createFloatingIpsBulk"),
    gone("GET", "/v2.1/os-floating-ips-bulk/:id", "showFloatingIpsBulk"),
    gone("PUT", "/v2.1/os-floating-ips-bulk/:id", "deleteFloatingIpsBulk"),
    gone("GET", "/v2.1/os-fping", "fpingInstances"),
    gone("GET", "/v2.1/os-fping/:id", "fpingInstance"),
    gone("GET", "/v2.1/os-security-group-default-rules", "listSecurityGroupDefaultRules"),
    gone("POST", "/v2.1/os-security-group-default-rules", "createSecurityGroupDefaultRule"),
    gone("GET", "/v2.1/os-security-group-default-rules/:id", "showSecurityGroupDefaultRule"),
    gone("DELETE", "/v2.1/os-security-group-default-rules/:id", "deleteSecurityGroupDefaultRule"),
    gone("GET", "/v2.1/servers/:server_id/os-virtual-interfaces", "listVirtualInterfaces"),
  ];
}
