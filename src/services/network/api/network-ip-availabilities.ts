import type { RequestContext, Reply, Route } from "../../../http/context.js";
import { notFound } from "../errors.js";
import type { Network } from "./deps.js";
import type { ResourceDef } from "./resource.js";
import { resourceRoutes } from "./resource.js";

/** network-ip-availabilities (neutron_lib api/definitions/network_ip_availability.py). */
export const NETWORK_IP_AVAILABILITY: ResourceDef = {
  singular: "network_ip_availability",
  plural: "network_ip_availabilities",
  path: "/v2.0/network-ip-availabilities",
  standard: false,
  attrs: {
    network_id: { filter: true, sort: true },
    network_name: { filter: true },
    tenant_id: { filter: true },
    project_id: { filter: true },
    total_ips: {},
    used_ips: {},
    subnet_ip_availability: {},
    // A filter only: it selects subnets (and networks having one), it is never shown.
    ip_version: { visible: false, filter: true },
  },
  filters: { ip_version: () => true },
};

/** JSON with exact big integers (Neutron prints Python ints; an IPv6 pool exceeds 2^53). */
function bigJson(body: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(body, (_k, v: unknown) => {
    if (typeof v !== "bigint") return v;
    marks.push(v.toString());
    return `\u0000big${marks.length - 1}\u0000`;
  });
  return text.replace(/"\\u0000big(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)] ?? "0");
}

/**
 * The controller's documents carry `id` (= network_id) for markers and sorting; Neutron's
 * have no id, so it is dropped from what is shown.
 */
function present(reply: Reply): Reply {
  const body = reply.body as Record<string, unknown> | undefined;
  if (!body) return reply;
  const strip = (d: unknown): unknown => {
    if (!d || typeof d !== "object") return d;
    const { id: _id, ...rest } = d as Record<string, unknown>;
    return rest;
  };
  const list = body["network_ip_availabilities"];
  const out: Record<string, unknown> = { ...body };
  if (Array.isArray(list)) out["network_ip_availabilities"] = list.map(strip);
  if (body["network_ip_availability"]) out["network_ip_availability"] = strip(body["network_ip_availability"]);
  return { ...reply, body: undefined, text: bigJson(out), headers: { ...reply.headers, "content-type": "application/json" } };
}

export function networkIpAvailabilityRoutes(n: Network): Route[] {
  const routes = resourceRoutes(NETWORK_IP_AVAILABILITY, {
    list: (_ctx, q) => {
      const f = q.filters;
      return n.ipAvailability.list({
        ...(f["network_id"] ? { network_id: f["network_id"] } : {}),
        ...(f["network_name"] ? { network_name: f["network_name"] } : {}),
        ...(f["project_id"] || f["tenant_id"] ? { project_id: [...(f["project_id"] ?? []), ...(f["tenant_id"] ?? [])] } : {}),
        ...(f["ip_version"] ? { ip_version: f["ip_version"] } : {}),
      });
    },
    get: async (_ctx, id) => {
      const [doc] = await n.ipAvailability.list({ network_id: [id] });
      // get_network_ip_availability: NetworkNotFound when the network has no row.
      if (!doc) throw notFound("network", id);
      return doc;
    },
  });
  return routes.map((r) => ({ ...r, handler: async (ctx: RequestContext) => present(await r.handler(ctx)) }));
}
