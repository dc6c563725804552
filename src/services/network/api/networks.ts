import type { Route } from "../../../http/context.js";
import type { Network } from "./deps.js";
import { callerOf } from "./caller.js";
import type { ResourceDef } from "./resource.js";
import { OWNER_ATTRS, resourceRoutes, toBoolean, toInt } from "./resource.js";
import { isIntRange, isString, isStringList, isStringOrNone } from "./validators.js";

/** networks: core attributes + provider, external-net, mtu, port-security, AZ hints, l2_adjacency. */
export const NETWORK: ResourceDef = {
  singular: "network",
  plural: "networks",
  path: "/v2.0/networks",
  attrs: {
    id: { filter: true, sort: true },
    name: { post: true, put: true, default: "", validate: isString(255), filter: true, sort: true },
    subnets: {},
    admin_state_up: { post: true, put: true, default: true, convert: toBoolean, filter: true, sort: true },
    status: { filter: true, sort: true },
    ...OWNER_ATTRS,
    shared: { post: true, put: true, default: false, convert: toBoolean, filter: true, policy: true },
    mtu: { post: true, put: true, default: null, convert: (v) => (v === null ? null : toInt(v)), validate: (v) => (v === null ? undefined : isIntRange(68, 65535)(v)), filter: true, sort: true },
    port_security_enabled: { post: true, put: true, default: true, convert: toBoolean, filter: true, policy: true },
    "router:external": { post: true, put: true, default: false, convert: toBoolean, filter: true, policy: true },
    "provider:network_type": { post: true, put: true, validate: isString(255), filter: true, policy: true, default: undefined },
    "provider:physical_network": { post: true, put: true, validate: isStringOrNone(64), filter: true, policy: true, default: undefined },
    "provider:segmentation_id": { post: true, put: true, convert: toInt, filter: true, policy: true, default: undefined },
    availability_zone_hints: { post: true, default: [], validate: isStringList(255) },
    availability_zones: {},
    ipv4_address_scope: {},
    ipv6_address_scope: {},
    l2_adjacency: {},
  },
};

export function networkRoutes(n: Network): Route[] {
  return resourceRoutes(NETWORK, {
    list: (ctx, q) => {
      const projects = q.filters["project_id"] ?? q.filters["tenant_id"];
      return n.networks.list(callerOf(ctx), projects);
    },
    get: (ctx, id) => n.networks.get(callerOf(ctx), id),
    create: (ctx, items) => n.networks.create(callerOf(ctx), items),
    update: (ctx, id, changes, rev) => n.networks.update(callerOf(ctx), id, changes, rev),
    delete: (_ctx, id, rev) => n.networks.delete(id, rev),
  });
}
