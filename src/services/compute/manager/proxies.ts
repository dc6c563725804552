import { NotFound } from "../../../common/errors.js";
import type { HttpMethod, Route } from "../../../http/context.js";
import type { Compute } from "../api/deps.js";
import { imageMetadataRoutes } from "../api/image-metadata.js";
import { imageRoutes } from "../api/images.js";
import { baremetalNodeRoutes } from "../api/os-baremetal-nodes.js";
import { floatingIpPoolRoutes } from "../api/os-floating-ip-pools.js";
import { floatingIpRoutes } from "../api/os-floating-ips.js";
import { hostRoutes } from "../api/os-hosts.js";
import { networkRoutes } from "../api/os-networks.js";
import { securityGroupRuleRoutes } from "../api/os-security-group-rules.js";
import { securityGroupRoutes } from "../api/os-security-groups.js";
import { tenantNetworkRoutes } from "../api/os-tenant-networks.js";
import { volumeAttachmentRoutes, volumeProxyRoutes } from "../api/os-volumes.js";
import type { ServerActionHandler } from "../api/proxy-server-actions.js";
import { proxyServerActions } from "../api/proxy-server-actions.js";
import { removedRoutes } from "../api/removed-apis.js";
import { ImageProxy } from "./proxies-images.js";
import { NetworkProxy } from "./proxies-network.js";

/**
 * The legacy proxy APIs of Nova v2.1 (deprecated at 2.36): images and image metadata through
 * Glance; security groups, floating IPs and networks through Neutron; os-hosts over the fleet;
 * the removed nova-network/cells/agents APIs (410); the Cinder and Ironic proxies as Nova
 * answers without those services.
 */
export interface ProxiesArea {
  images: ImageProxy;
  network: NetworkProxy;
}

const areas = new WeakMap<Compute, ProxiesArea>();

export function proxiesOf(c: Compute): ProxiesArea {
  let a = areas.get(c);
  if (!a) areas.set(c, (a = { images: new ImageProxy(c), network: new NetworkProxy(c) }));
  return a;
}

export function proxiesRoutes(c: Compute): Route[] {
  const a = proxiesOf(c);
  return novaNotFoundFill([
    ...imageRoutes(a.images),
    ...imageMetadataRoutes(a.images),
    ...securityGroupRoutes(c, a.network),
    ...securityGroupRuleRoutes(a.network),
    ...floatingIpRoutes(a.network),
    ...floatingIpPoolRoutes(a.network),
    ...networkRoutes(a.network),
    ...tenantNetworkRoutes(a.network),
    ...hostRoutes(c),
    ...baremetalNodeRoutes(),
    ...volumeProxyRoutes(c),
    ...volumeAttachmentRoutes(c),
    ...removedRoutes(),
  ]);
}

/**
 * os-volumes_boot: Nova's routes.py maps it to the servers controller itself (index, detail,
 * create, show, update, delete, action), a leftover of the volumes extension. The same route
 * objects under the other prefix.
 */
export function volumesBootAlias(all: readonly Route[]): Route[] {
  const paths = new Set(["/v2.1/servers", "/v2.1/servers/detail", "/v2.1/servers/:server_id", "/v2.1/servers/:server_id/action"]);
  return all
    .filter((r) => paths.has(r.path))
    .map((r) => ({ ...r, path: r.path.replace("/v2.1/servers", "/v2.1/os-volumes_boot"), operation: `${r.operation}VolumesBoot` }));
}

/**
 * Nova's router (routes.Mapper) has no 405: a method a path does not map is a plain 404. The
 * kernel answers 405 when another method exists, so each of these paths gets explicit 404
 * routes for the methods it lacks (Tempest deletes "/images/" and "/os-security-groups/"
 * expecting 404).
 */
function novaNotFoundFill(routes: Route[]): Route[] {
  const methods = new Map<string, Set<HttpMethod>>();
  for (const r of routes) {
    let m = methods.get(r.path);
    if (!m) methods.set(r.path, (m = new Set()));
    m.add(r.method);
  }
  // A static segment beside a parameter ("/os-cells/info" and "/os-cells/:id"): a method the
  // static path lacks falls to the parameter route, as in Nova's mapper, so leave it unfilled.
  const shadowed = (path: string, method: HttpMethod): boolean => {
    const parent = path.slice(0, path.lastIndexOf("/"));
    for (const [other, have] of methods) {
      if (other !== path && other.slice(0, other.lastIndexOf("/")) === parent && other.slice(other.lastIndexOf("/") + 1).startsWith(":") && have.has(method)) return true;
    }
    return false;
  };
  const out = [...routes];
  for (const [path, have] of methods) {
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"] as const) {
      if (have.has(method) || shadowed(path, method)) continue;
      out.push({
        method,
        path,
        operation: "notFound",
        handler: async () => {
          throw new NotFound("The resource could not be found.");
        },
      });
    }
  }
  return out;
}

/** The server actions of the proxy APIs, for POST /servers/{id}/action's dispatch table. */
export function proxiesServerActions(c: Compute): Record<string, ServerActionHandler> {
  return proxyServerActions(proxiesOf(c).network);
}
