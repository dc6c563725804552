import type { Route } from "../../../http/context.js";
import { NeutronError, invalidInput } from "../errors.js";
import {
  convertCidrToCanonical,
  convertIpToCanonical,
  pyStr,
  validateHostRoutes,
  validateIpAddress,
  validateIpPools,
  validateIpv6Mode,
  validateNameservers,
  validateSubnetCidr,
} from "../ipam/index.js";
import type { SubnetManager } from "../manager/subnets.js";
import type { Doc } from "../store/docs.js";
import { callerOf } from "./caller.js";
import type { Network } from "./deps.js";
import type { Converter, ResourceDef, Validator } from "./resource.js";
import { OWNER_ATTRS, resourceRoutes, toBoolean, toInt } from "./resource.js";
import { isString, isUuid, isUuidOrNone, isValues } from "./validators.js";

/** convert_cidr_to_canonical_format: its failure is an InvalidInput of its own, not "Invalid input for cidr". */
const toCanonicalCidr: Converter = (v) => {
  if (v === null) return null;
  if (typeof v !== "string") throw invalidInput(`${pyStr(v)} is not in a CIDR format`);
  const r = convertCidrToCanonical(v);
  if (typeof r !== "string") throw new NeutronError(r.status, r.type, r.message);
  return r;
};

const toCanonicalIp: Converter = (v) => (typeof v === "string" ? convertIpToCanonical(v) : v);

const noneToEmptyList: Converter = (v) => (v === null ? [] : v);

/**
 * dns_nameservers: None is []; Neutron's validate_nameservers and _validate_subnet iterate
 * whatever came (a dict's keys, a string's characters), so those become the list they iterate
 * rather than reaching the subnet checks as a non-list (a 500 here).
 */
const toNameserverList: Converter = (v) => {
  if (v === null) return [];
  if (typeof v === "string") return [...v];
  if (typeof v === "object" && !Array.isArray(v)) return Object.keys(v);
  return v;
};

/** validate_non_negative (after convert_to_int). */
export const isNonNegative: Validator = (v) => (typeof v === "number" && v < 0 ? `'${v}' should be non-negative` : undefined);

/** validate_subnetpool_id_or_none: a uuid, "prefix_delegation" or null. */
const isSubnetpoolIdOrNone: Validator = (v) => (v === null || v === "prefix_delegation" ? undefined : isUuid(v));

/**
 * validate_subnet_service_types: each a device owner ("network:", "neutron:" prefixes, and —
 * Neutron adds "compute:" to its prefix list character by character — anything starting with one
 * of c, o, m, p, u, t, e or ":"). It raises rather than returning a reason, hence a converter.
 */
const SERVICE_TYPE_PREFIXES = ["network:", "neutron:", ..."compute:"];
const toServiceTypes: Converter = (v) => {
  if (v === null || v === undefined || v === false || v === 0 || v === "" || (Array.isArray(v) && v.length === 0)) return [];
  if (!Array.isArray(v)) throw new NeutronError(400, "HTTPBadRequest", "Subnet service types must be a list.");
  for (const t of v) {
    if (typeof t !== "string") {
      throw new NeutronError(400, "InvalidInputSubnetServiceType", `Subnet service type ${pyStr(t)} is not a string.`);
    }
    if (!SERVICE_TYPE_PREFIXES.some((p) => t.startsWith(p))) {
      throw new NeutronError(400, "InvalidSubnetServiceType", `Subnet service type ${t} does not correspond to a valid device owner.`);
    }
  }
  return v;
};

/** neutron_lib subnet.py + subnet_allocation, default-subnetpools, subnet-service-types, segment. */
export const SUBNET: ResourceDef = {
  singular: "subnet",
  plural: "subnets",
  path: "/v2.0/subnets",
  attrs: {
    id: { filter: true, sort: true },
    name: { post: true, put: true, default: "", validate: isString(255), filter: true, sort: true },
    ip_version: { post: true, convert: toInt, validate: isValues([4, 6]), filter: true, sort: true, filterConvert: (v) => Number(v) },
    network_id: { post: true, validate: isUuid, filter: true, sort: true },
    subnetpool_id: { post: true, default: undefined, validate: isSubnetpoolIdOrNone, filter: true, sort: true },
    prefixlen: { post: true, default: undefined, convert: toInt, validate: isNonNegative, visible: false },
    cidr: { post: true, default: undefined, convert: toCanonicalCidr, validate: (v) => (v === null ? undefined : validateSubnetCidr(v)), filter: true, sort: true },
    gateway_ip: {
      post: true,
      put: true,
      default: undefined,
      convert: toCanonicalIp,
      validate: (v) => (v === null ? undefined : validateIpAddress(v)),
      filter: true,
      sort: true,
    },
    allocation_pools: { post: true, put: true, default: undefined, validate: validateIpPools },
    dns_nameservers: { post: true, put: true, default: undefined, convert: toNameserverList, validate: validateNameservers },
    host_routes: { post: true, put: true, default: undefined, convert: noneToEmptyList, validate: validateHostRoutes },
    ...OWNER_ATTRS,
    enable_dhcp: { post: true, put: true, default: true, convert: toBoolean, filter: true, sort: true },
    ipv6_ra_mode: { post: true, default: undefined, validate: validateIpv6Mode, filter: true, sort: true },
    ipv6_address_mode: { post: true, default: undefined, validate: validateIpv6Mode, filter: true, sort: true },
    shared: { visible: false, filter: true },
    use_default_subnetpool: { post: true, default: false, convert: toBoolean, visible: false },
    service_types: { post: true, put: true, default: [], convert: toServiceTypes, policy: true },
    segment_id: { post: true, default: null, validate: isUuidOrNone, filter: true, sort: true, policy: true },
  },
};

/** /v2.0/subnets */
export function subnetRoutes(n: Network): Route[] {
  const m = n.subnets as SubnetManager;
  const db = n.core.db;
  // The network owner of each document the controller asks about (`network:tenant_id` in
  // the policy target), looked up once per list rather than once per subnet.
  const owners = new WeakMap<object, string>();
  const remember = async <T extends Doc | undefined>(docs: T[]): Promise<T[]> => {
    const present = docs.filter((d): d is NonNullable<T> => d !== undefined);
    const map = await m.networkOwners(db, present.map((d) => String(d["network_id"])));
    for (const d of present) {
      const o = map.get(String(d["network_id"]));
      if (o !== undefined) owners.set(d, o);
    }
    return docs;
  };
  return resourceRoutes(SUBNET, {
    list: async (ctx, q) => remember(await m.list(callerOf(ctx), q.filters)),
    get: async (ctx, id) => (await remember([await m.get(callerOf(ctx), id)]))[0],
    target: async (ctx, doc) => {
      let owner: string | undefined;
      if (!("id" in doc)) owner = await m.createTarget(callerOf(ctx), doc);
      else owner = owners.get(doc) ?? (await m.networkOwners(db, [String(doc["network_id"])])).get(String(doc["network_id"]));
      return owner === undefined ? {} : { "network:tenant_id": owner, "network:project_id": owner };
    },
    create: async (ctx, items) => remember(await m.create(callerOf(ctx), items)),
    update: async (ctx, id, changes, rev) => (await remember([await m.update(callerOf(ctx), id, changes, rev)]))[0] as Doc,
    delete: (_ctx, id, rev) => m.delete(id, rev),
  });
}
