import type { RequestContext, Route } from "../../../http/context.js";
import { badRequest, invalidInput, notFound } from "../errors.js";
import { pyRepr, pyStr, validateHostRoutes, validateIpAddress } from "../ipam/index.js";
import { RouterManager } from "../manager/routers.js";
import type { Route as ExtraRoute } from "../manager/routers.js";
import type { Doc } from "../store/docs.js";
import { callerOf } from "./caller.js";
import type { Network } from "./deps.js";
import type { Attr, ResourceDef } from "./resource.js";
import { OWNER_ATTRS, allAttrs, guard, resourceRoutes, toBoolean } from "./resource.js";
import { isString, isStringList, isUuid } from "./validators.js";

/** neutron_lib validate_fixed_ips */
export function validateFixedIps(data: unknown): string | undefined {
  if (!Array.isArray(data)) return `Invalid data format for fixed IP: '${pyStr(data)}'`;
  const ips: unknown[] = [];
  for (const fixedIp of data) {
    if (fixedIp === null || typeof fixedIp !== "object" || Array.isArray(fixedIp)) return `Invalid data format for fixed IP: '${pyStr(fixedIp)}'`;
    const f = fixedIp as Record<string, unknown>;
    if ("ip_address" in f) {
      const msg = ips.includes(f["ip_address"]) ? `Duplicate IP address '${pyStr(f["ip_address"])}'` : validateIpAddress(f["ip_address"]);
      if (msg) return msg;
      ips.push(f["ip_address"]);
    }
    if ("subnet_id" in f) {
      const msg = isUuid(f["subnet_id"]);
      if (msg) return msg;
    }
  }
  return undefined;
}

/** convert_to_boolean, raising InvalidInput as neutron_lib's converter does. */
function convertBoolean(v: unknown): boolean {
  try {
    return toBoolean(v);
  } catch {
    throw invalidInput(`'${pyStr(v)}' cannot be converted to boolean`);
  }
}

const GATEWAY_KEYS = ["network_id", "enable_snat", "external_fixed_ips"];

/**
 * external_gateway_info: type:dict_or_nodata with network_id required, enable_snat converted
 * to a boolean and external_fixed_ips as fixed IPs. A falsy value (null, {}) means no gateway.
 */
function convertGateway(v: unknown): unknown {
  // Python's truth: None, {}, "", 0, False and [] are "no data".
  if (!v || (typeof v === "object" && Object.keys(v).length === 0)) return v;
  if (typeof v !== "object" || Array.isArray(v)) throw `'${pyStr(v)}' is not a dictionary`;
  const d = { ...(v as Record<string, unknown>) };
  if (!("network_id" in d)) {
    throw `Validation of dictionary's keys failed. Expected keys: {'network_id'} Provided keys: ${pyRepr(new Set(Object.keys(d)))}`;
  }
  const unexpected = Object.keys(d).filter((k) => !GATEWAY_KEYS.includes(k));
  if (unexpected.length) throw `Unexpected keys supplied: ${unexpected.join(", ")}`;
  const bad = isUuid(d["network_id"]);
  if (bad) throw bad;
  if ("enable_snat" in d) d["enable_snat"] = convertBoolean(d["enable_snat"]);
  if ("external_fixed_ips" in d) {
    const msg = validateFixedIps(d["external_fixed_ips"]);
    if (msg) throw msg;
  }
  return d;
}

const booleanOrNone = (v: unknown): unknown => (v === null ? null : toBoolean(v));

/**
 * routers: l3 + ext-gw-mode (external_gateway_info.enable_snat), extraroute (routes), dvr
 * (distributed), l3-ha (ha), router_availability_zone. flavor_id (l3-flavors) is not served.
 */
export const ROUTER: ResourceDef = {
  singular: "router",
  plural: "routers",
  path: "/v2.0/routers",
  attrs: {
    id: { filter: true, sort: true },
    name: { post: true, put: true, default: "", validate: isString(255), filter: true, sort: true },
    admin_state_up: { post: true, put: true, default: true, convert: toBoolean, filter: true, sort: true },
    status: { sort: true },
    ...OWNER_ATTRS,
    external_gateway_info: { post: true, put: true, default: null, convert: convertGateway, policy: true },
    routes: { put: true, convert: (v) => (v === null ? [] : v), validate: validateHostRoutes },
    distributed: { post: true, put: true, default: undefined, convert: booleanOrNone, policy: true },
    ha: { post: true, put: true, default: undefined, convert: booleanOrNone, policy: true },
    availability_zone_hints: { post: true, default: [], validate: isStringList(255) },
    availability_zones: {},
    gw_port_id: { visible: false },
  },
};

function routerManager(n: Network): RouterManager {
  const m = n.routers;
  if (!(m instanceof RouterManager)) throw new Error("the routers manager is not a RouterManager");
  return m;
}

/**
 * Neutron's policy engine adds a rule per sub-attribute of a dict attribute the request sets:
 * `create_router:external_gateway_info:enable_snat` and so on.
 */
function enforceGatewayRules(ctx: RequestContext, action: "create" | "update", target: Record<string, unknown>, info: unknown): void {
  if (!info || typeof info !== "object") return;
  for (const key of GATEWAY_KEYS) {
    if (key in info) ctx.enforce(`${action}_router:external_gateway_info:${key}`, target);
  }
}

/** What a router response shows the caller (hidden attributes and get_router:<attr> rules). */
export function showRouter(ctx: RequestContext, doc: Doc): Record<string, unknown> {
  const attrs: Record<string, Attr> = allAttrs(ROUTER);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    const a = attrs[k];
    if (a?.visible === false) continue;
    // Checked with might_not_exist: an attribute without a get rule stays visible.
    if (a?.policy && ctx.hasRule(`get_router:${k}`) && !ctx.allowed(`get_router:${k}`, doc)) continue;
    out[k] = v;
  }
  return out;
}

export function routerRoutes(n: Network): Route[] {
  const m = (): RouterManager => routerManager(n);
  const routes = resourceRoutes(ROUTER, {
    list: (ctx, q) => m().list(callerOf(ctx), q.filters["project_id"] ?? q.filters["tenant_id"]),
    get: (ctx, id) => m().get(callerOf(ctx), id),
    create: (ctx, items) => {
      for (const item of items) enforceGatewayRules(ctx, "create", item, item["external_gateway_info"]);
      return m().create(callerOf(ctx), items);
    },
    update: async (ctx, id, changes, rev) => {
      if ("external_gateway_info" in changes) {
        const doc = await m().get(callerOf(ctx), id);
        if (!doc) throw notFound("router", id);
        enforceGatewayRules(ctx, "update", { ...doc, ...changes }, changes["external_gateway_info"]);
      }
      return m().update(callerOf(ctx), id, changes, rev);
    },
    delete: (ctx, id, rev) => m().delete(callerOf(ctx), id, rev),
  });

  /** A member action on a router the caller can see (RouterNotFound otherwise), then its rule. */
  const action = async (ctx: RequestContext, rule: string): Promise<string> => {
    const id = ctx.params["id"] ?? "";
    const doc = await m().get(callerOf(ctx), id);
    if (!doc) throw notFound("router", id);
    guard(ctx, ROUTER, id, rule, doc);
    return id;
  };
  /** The body of add_extraroutes/remove_extraroutes: {"router": {"routes": [...]}}. */
  const extraRoutes = (ctx: RequestContext): ExtraRoute[] => {
    const body = ctx.body;
    const router = body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>)["router"] : undefined;
    if (!router || typeof router !== "object" || Array.isArray(router) || !("routes" in router)) {
      throw badRequest("Unable to find 'routes' in request body");
    }
    const list = (router as Record<string, unknown>)["routes"];
    const reason = validateHostRoutes(list);
    if (reason) throw badRequest(`Invalid input for routes. Reason: ${reason}.`);
    return list as ExtraRoute[];
  };

  routes.push(
    {
      method: "PUT",
      path: "/v2.0/routers/:id/add_router_interface",
      operation: "addRouterInterface",
      policy: "add_router_interface",
      handler: async (ctx) => {
        const id = await action(ctx, "add_router_interface");
        return { body: await m().addInterface(callerOf(ctx), id, ctx.body ?? null) };
      },
    },
    {
      method: "PUT",
      path: "/v2.0/routers/:id/remove_router_interface",
      operation: "removeRouterInterface",
      policy: "remove_router_interface",
      handler: async (ctx) => {
        const id = await action(ctx, "remove_router_interface");
        return { body: await m().removeInterface(callerOf(ctx), id, ctx.body ?? null) };
      },
    },
    {
      method: "PUT",
      path: "/v2.0/routers/:id/add_extraroutes",
      operation: "addExtraRoutesToRouter",
      policy: "add_extraroutes",
      handler: async (ctx) => {
        const id = await action(ctx, "add_extraroutes");
        const doc = await m().editRoutes(callerOf(ctx), id, extraRoutes(ctx), true);
        return { body: { router: showRouter(ctx, doc) } };
      },
    },
    {
      method: "PUT",
      path: "/v2.0/routers/:id/remove_extraroutes",
      operation: "removeExtraRoutesFromRouter",
      policy: "remove_extraroutes",
      handler: async (ctx) => {
        const id = await action(ctx, "remove_extraroutes");
        const doc = await m().editRoutes(callerOf(ctx), id, extraRoutes(ctx), false);
        return { body: { router: showRouter(ctx, doc) } };
      },
    },
  );
  return routes;
}
