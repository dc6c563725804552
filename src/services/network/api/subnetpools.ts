import type { RequestContext, Route } from "../../../http/context.js";
import { NeutronError, badRequest, notFound } from "../errors.js";
import { pyStr, validateSubnetCidr } from "../ipam/index.js";
import { SubnetPoolManager } from "../manager/subnetpools.js";
import { callerOf } from "./caller.js";
import type { Network } from "./deps.js";
import type { ResourceDef, Validator } from "./resource.js";
import { OWNER_ATTRS, guard, resourceRoutes, toBoolean, toInt } from "./resource.js";
import { isNonNegative } from "./subnets.js";
import { isUuidOrNone } from "./validators.js";

/** validate_not_empty_string */
const isNotEmptyString: Validator = (v) => {
  if (typeof v !== "string") return `'${pyStr(v)}' is not a valid string`;
  if (v.trim() === "") return `'${v}' Blank strings are not permitted`;
  return undefined;
};

/** validate_subnet_list: a list, no duplicates, each a subnet cidr. */
const isSubnetList: Validator = (v) => {
  if (!Array.isArray(v)) return `'${pyStr(v)}' is not a list`;
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const x of v) {
    const k = JSON.stringify(x);
    if (seen.has(k) && !dups.includes(pyStr(x))) dups.push(pyStr(x));
    seen.add(k);
  }
  if (dups.length) return `Duplicate items in the list: '${dups.join(", ")}'`;
  for (const x of v) {
    const r = validateSubnetCidr(x);
    if (r) return r;
  }
  return undefined;
};

const intOrUnset = (v: unknown): unknown => toInt(v);

/** neutron_lib subnetpool.py + address-scope's address_scope_id. */
export const SUBNETPOOL: ResourceDef = {
  singular: "subnetpool",
  plural: "subnetpools",
  path: "/v2.0/subnetpools",
  attrs: {
    id: { filter: true, sort: true },
    name: { post: true, put: true, validate: isNotEmptyString, filter: true, sort: true },
    ...OWNER_ATTRS,
    prefixes: { post: true, put: true, validate: isSubnetList },
    default_quota: { post: true, put: true, default: undefined, convert: intOrUnset, validate: isNonNegative, filter: true, sort: true, filterConvert: Number },
    ip_version: { filter: true, sort: true, filterConvert: Number },
    default_prefixlen: { post: true, put: true, default: undefined, convert: intOrUnset, validate: isNonNegative, filter: true, sort: true, filterConvert: Number },
    min_prefixlen: { post: true, put: true, default: undefined, convert: intOrUnset, validate: isNonNegative, filter: true, sort: true, filterConvert: Number },
    max_prefixlen: { post: true, put: true, default: undefined, convert: intOrUnset, validate: isNonNegative, filter: true, sort: true, filterConvert: Number },
    is_default: { post: true, put: true, default: false, convert: toBoolean, filter: true, sort: true, policy: true },
    shared: { post: true, default: false, convert: toBoolean, filter: true, sort: true, policy: true },
    address_scope_id: { post: true, put: true, default: undefined, validate: isUuidOrNone, filter: true, sort: true },
  },
};

/** subnetpool_prefix_ops.get_operation_request_body */
function prefixesOf(ctx: RequestContext): string[] {
  const body = ctx.body;
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw badRequest("Request body contains invalid data");
  const prefixes = (body as Record<string, unknown>)["prefixes"];
  if (!Array.isArray(prefixes) || prefixes.length === 0) throw badRequest("Request body contains invalid data");
  return prefixes.map((p) => (typeof p === "string" ? p : JSON.stringify(p)));
}

/** /v2.0/subnetpools and the subnetpool-prefix-ops actions. */
export function subnetpoolRoutes(n: Network): Route[] {
  const m = new SubnetPoolManager(n);
  const action = (name: "add_prefixes" | "remove_prefixes"): Route => ({
    method: "PUT",
    path: `/v2.0/subnetpools/:id/${name}`,
    operation: name === "add_prefixes" ? "addSubnetpoolPrefixes" : "removeSubnetpoolPrefixes",
    policy: name,
    handler: async (ctx) => {
      // Neutron's _handle_action: the pool (404 unless visible), the rule (403), then the body.
      const id = ctx.params["id"] ?? "";
      const caller = callerOf(ctx);
      const pool = await m.get(caller, id);
      if (!pool) throw notFound("subnetpool", id);
      if (!ctx.allowed("get_subnetpool", pool)) throw new NeutronError(404, "HTTPNotFound", "The resource could not be found.");
      guard(ctx, SUBNETPOOL, id, name, pool);
      const prefixes = prefixesOf(ctx);
      const out = name === "add_prefixes" ? await m.addPrefixes(caller, id, prefixes) : await m.removePrefixes(caller, id, prefixes);
      return { body: { prefixes: out } };
    },
  });
  return [
    ...resourceRoutes(SUBNETPOOL, {
      list: (ctx, q) => m.list(callerOf(ctx), q.filters["project_id"] ?? q.filters["tenant_id"]),
      get: (ctx, id) => m.get(callerOf(ctx), id),
      create: (ctx, items) => m.create(callerOf(ctx), items),
      update: (ctx, id, changes, rev) => m.update(callerOf(ctx), id, changes, rev),
      delete: (_ctx, id, rev) => m.delete(id, rev),
    }),
    action("add_prefixes"),
    action("remove_prefixes"),
  ];
}
