import type { Route } from "../../../http/context.js";
import { badRequest } from "../errors.js";
import { validateIpAddress } from "../ipam/index.js";
import { FloatingIpManager } from "../manager/floatingips.js";
import { callerOf } from "./caller.js";
import type { Network } from "./deps.js";
import type { ResourceDef, Validator } from "./resource.js";
import { OWNER_ATTRS, resourceRoutes } from "./resource.js";
import { isUuid, isUuidOrNone } from "./validators.js";

const ipOrNone: Validator = (v) => (v === null ? undefined : validateIpAddress(v));

/** floatingips: l3 + fip-port-details (port_details) + expose-port-forwarding-in-fip. */
export const FLOATINGIP: ResourceDef = {
  singular: "floatingip",
  plural: "floatingips",
  path: "/v2.0/floatingips",
  attrs: {
    id: { filter: true, sort: true },
    floating_ip_address: { post: true, default: null, validate: ipOrNone, filter: true, sort: true, policy: true },
    // Input only: the external subnet to take the address from.
    subnet_id: { post: true, default: null, validate: isUuidOrNone, visible: false },
    floating_network_id: { post: true, validate: isUuid, filter: true, sort: true },
    router_id: { filter: true, sort: true },
    port_id: { post: true, put: true, default: null, validate: isUuidOrNone, filter: true },
    fixed_ip_address: { post: true, put: true, default: null, validate: ipOrNone, filter: true, sort: true },
    ...OWNER_ATTRS,
    status: { filter: true, sort: true },
    port_details: {},
    port_forwardings: {},
    floating_port_id: { visible: false },
  },
};

export function floatingIpManager(n: Network): FloatingIpManager {
  const m = n.floatingips;
  if (!(m instanceof FloatingIpManager)) throw new Error("the floating IPs manager is not a FloatingIpManager");
  return m;
}

const POOL_FIELDS = new Set(["subnet_id", "subnet_name", "network_id", "cidr", "project_id"]);
const PAGING = new Set(["fields", "limit", "marker", "page_reverse", "sort_dir"]);

export function floatingIpRoutes(n: Network): Route[] {
  const m = (): FloatingIpManager => floatingIpManager(n);
  const routes = resourceRoutes(FLOATINGIP, {
    list: (ctx, q) => m().list(callerOf(ctx), q.filters),
    get: (ctx, id) => m().get(callerOf(ctx), id),
    create: (ctx, items) => m().create(callerOf(ctx), items),
    update: (ctx, id, changes, rev) => m().update(callerOf(ctx), id, changes, rev),
    delete: (ctx, id, rev) => m().delete(callerOf(ctx), id, rev),
  });
  // floatingip-pools: a read-only collection with no filter or sort keys.
  routes.push({
    method: "GET",
    path: "/v2.0/floatingip_pools",
    operation: "listFloatingIPPools",
    policy: "get_floatingip_pool",
    handler: async (ctx) => {
      const invalid = Object.keys(ctx.query).filter((k) => !PAGING.has(k) && k !== "sort_key");
      if (invalid.length) throw badRequest(`[${invalid.map((k) => `'${k}'`).join(", ")}] is invalid attribute for filtering`);
      const sortKeys = ([] as string[]).concat(ctx.query["sort_key"] ?? []);
      if (sortKeys.length) throw badRequest(`[${sortKeys.map((k) => `'${k}'`).join(", ")}] is invalid attribute for sort_keys`);
      const fields = ([] as string[]).concat(ctx.query["fields"] ?? []).filter((f) => f !== "");
      const pools = (await m().pools(callerOf(ctx))).filter((p) => ctx.allowed("get_floatingip_pool", p));
      const shown = pools.map((p) => {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(p)) if (POOL_FIELDS.has(k) && (fields.length === 0 || fields.includes(k))) out[k] = v;
        return out;
      });
      return { body: { floatingip_pools: shown } };
    },
  });
  return routes;
}
