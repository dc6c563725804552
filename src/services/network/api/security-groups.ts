import type { RequestContext, Route } from "../../../http/context.js";
import { NeutronError, conflict, invalidInput, notFound } from "../errors.js";
import { formatIp, netaddrNetwork } from "../ipam/index.js";
import { pyInt, pyStr } from "../ipam/py.js";
import { ETHERTYPES, IP_PROTOCOL_MAP } from "../manager/security-groups.js";
import { callerOf } from "./caller.js";
import type { Network } from "./deps.js";
import type { Attr, ListQuery, ResourceDef, Validator } from "./resource.js";
import { OWNER_ATTRS, STANDARD_ATTRS, resourceRoutes } from "./resource.js";
import { isString } from "./validators.js";

/**
 * /v2.0/security-groups and /v2.0/security-group-rules: the attribute maps of
 * neutron/extensions/securitygroup.py with stateful-security-group and
 * security-groups-normalized-cidr. Rules cannot be updated (Neutron has no
 * update_security_group_rule), so that collection has no PUT.
 */

/** validate_string, then _validate_name_not_default, which raises instead of returning. */
const nameNotDefault: Validator = (v) => {
  const reason = isString(255)(v);
  if (reason !== undefined) return reason;
  if ((v as string).toLowerCase() === "default") throw conflict("SecurityGroupDefaultAlreadyExists", "Default security group already exists.");
  return undefined;
};

/** converters.convert_to_boolean (oslo strutils.bool_from_string, strict). */
function convertToBoolean(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  const s = (typeof v === "string" ? v : pyStr(v)).trim().toLowerCase();
  if (["1", "t", "true", "on", "y", "yes"].includes(s)) return true;
  if (["0", "f", "false", "off", "n", "no"].includes(s)) return false;
  throw invalidInput(`'${pyStr(v)}' cannot be converted to boolean`);
}

/** Python's int() of a JSON value, or undefined where int() raises. */
function pythonInt(v: unknown): number | undefined {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v === "string") {
    const n = pyInt(v);
    return n === undefined ? undefined : Number(n);
  }
  return undefined;
}

const SUPPORTED_PROTOCOLS = `[None, ${[...IP_PROTOCOL_MAP.keys()].map((p) => `'${p}'`).join(", ")}]`;

/**
 * securitygroup.convert_protocol: a number 0-255 (kept as the string given, bug 1381379) or a
 * protocol name, lower-cased.
 */
export function convertProtocol(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const bad = (): NeutronError =>
    new NeutronError(
      400,
      "SecurityGroupRuleInvalidProtocol",
      `Security group rule protocol ${pyStr(v)} not supported. Only protocol values ${SUPPORTED_PROTOCOLS} and integer representations [0 to 255] are supported.`,
    );
  if (typeof v === "boolean" || (typeof v === "number" && !Number.isInteger(v))) throw bad();
  const n = pythonInt(v);
  if (n !== undefined) {
    if (n >= 0 && n <= 255) return String(v);
    throw bad();
  }
  if (typeof v === "string" && IP_PROTOCOL_MAP.has(v.toLowerCase())) return v.toLowerCase();
  throw bad();
}

/** securitygroup.convert_validate_port_value: 0-65535 (oslo netutils.is_valid_port). */
export function convertPort(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = pythonInt(v);
  if (n === undefined || n < 0 || n > 65535) throw new NeutronError(400, "SecurityGroupInvalidPortValue", `Invalid value for port ${pyStr(v)}`);
  return n;
}

/** securitygroup.convert_ethertype_to_case_insensitive */
export function convertEthertype(v: unknown): string {
  if (typeof v === "string") {
    const e = ETHERTYPES.find((x) => x.toLowerCase() === v.toLowerCase());
    if (e) return e;
  }
  throw new NeutronError(
    400,
    "SecurityGroupRuleInvalidEtherType",
    `Security group rule for ethertype '${pyStr(v)}' not supported. Allowed values are ['IPv4', 'IPv6'].`,
  );
}

/**
 * securitygroup.convert_ip_prefix_to_cidr: str(netaddr.IPNetwork(prefix)), which keeps host
 * bits ("10.0.0.1/24") and adds the full mask to an address ("10.0.0.1" → "10.0.0.1/32").
 */
export function convertIpPrefix(v: unknown): string | null {
  if (v === null || v === undefined || v === "" || v === false || v === 0) return null;
  const net = typeof v === "string" ? netaddrNetwork(v) : undefined;
  if (!net) throw new NeutronError(400, "InvalidCIDR", `Invalid CIDR ${pyStr(v)} given as IP prefix.`);
  return `${formatIp({ version: net.version, value: net.value })}/${net.prefixLen}`;
}

/**
 * remote_group_id has no validator in Neutron: any scalar is looked up (and not found, 404).
 * A list or an object would reach the database as such there; here it is refused up front.
 */
const remoteGroupId: Validator = (v) => (v !== null && typeof v === "object" ? `'${pyStr(v)}' is not a valid string` : undefined);

const directionValues: Validator = (v) => (v === "ingress" || v === "egress" ? undefined : `${pyStr(v)} is not in valid_values`);

export const SECURITY_GROUP: ResourceDef = {
  singular: "security_group",
  plural: "security_groups",
  path: "/v2.0/security-groups",
  attrs: {
    id: { filter: true, sort: true },
    name: { post: true, put: true, default: "", validate: nameNotDefault, filter: true, sort: true },
    ...OWNER_ATTRS,
    security_group_rules: {},
    stateful: { post: true, put: true, default: true, convert: convertToBoolean },
  },
};

const std = (name: string): Attr => STANDARD_ATTRS[name] ?? {};

export const SECURITY_GROUP_RULE: ResourceDef = {
  singular: "security_group_rule",
  plural: "security_group_rules",
  path: "/v2.0/security-group-rules",
  // Rules have standard attributes but no tags (the model has no tag_support).
  standard: false,
  attrs: {
    id: { filter: true, sort: true },
    security_group_id: { post: true, validate: isString(36), filter: true, sort: true },
    remote_group_id: { post: true, default: null, validate: remoteGroupId, filter: true, sort: true },
    direction: { post: true, validate: directionValues, filter: true, sort: true },
    protocol: { post: true, default: null, convert: convertProtocol, filter: true, sort: true },
    port_range_min: { post: true, default: null, convert: convertPort, filter: true, sort: true, filterConvert: (v) => convertPort(v) },
    port_range_max: { post: true, default: null, convert: convertPort, filter: true, sort: true, filterConvert: (v) => convertPort(v) },
    ethertype: { post: true, default: "IPv4", convert: convertEthertype, filter: true, sort: true },
    remote_ip_prefix: { post: true, default: null, convert: convertIpPrefix, filter: true, sort: true },
    ...OWNER_ATTRS,
    description: std("description"),
    normalized_cidr: { filter: true, sort: true },
    created_at: std("created_at"),
    updated_at: std("updated_at"),
    revision_number: std("revision_number"),
  },
  // Filter values go through the attribute's converter first, as Neutron's get_filters does.
  filters: {
    protocol: (doc, values) => values.some((x) => convertProtocol(x) === doc["protocol"]),
    ethertype: (doc, values) => values.some((x) => convertEthertype(x) === doc["ethertype"]),
    remote_ip_prefix: (doc, values) => values.some((x) => convertIpPrefix(x) === doc["remote_ip_prefix"]),
  },
};

/** Owners of the groups the rules of one request belong to: the policy's security_group:project_id. */
const groupOwners = new WeakMap<RequestContext, Map<string, string | null>>();
function ownersOf(ctx: RequestContext): Map<string, string | null> {
  let m = groupOwners.get(ctx);
  if (!m) groupOwners.set(ctx, (m = new Map()));
  return m;
}

function fieldsOf(ctx: RequestContext): string[] {
  const v = ctx.query["fields"];
  return (v === undefined ? [] : Array.isArray(v) ? v : [v]).filter((x) => x !== "");
}

/** Filter values are converted (and refused) before any row is read. */
function checkRuleFilters(q: ListQuery): void {
  const conv: Record<string, (v: unknown) => unknown> = {
    protocol: convertProtocol,
    ethertype: convertEthertype,
    remote_ip_prefix: convertIpPrefix,
    port_range_min: convertPort,
    port_range_max: convertPort,
  };
  for (const [key, values] of Object.entries(q.filters)) {
    const f = conv[key];
    if (f) for (const v of values) f(v);
  }
}

export function securityGroupRoutes(n: Network): Route[] {
  const sg = n.securityGroups;
  const groups = resourceRoutes(SECURITY_GROUP, {
    list: (ctx, q) => {
      const fields = fieldsOf(ctx);
      const withRules = fields.length === 0 || fields.includes("security_group_rules");
      return sg.list(callerOf(ctx), q.filters["project_id"] ?? q.filters["tenant_id"], withRules);
    },
    get: (ctx, id) => sg.get(callerOf(ctx), id),
    create: (ctx, items) => sg.create(callerOf(ctx), items),
    update: (_ctx, id, changes, rev) => sg.update(id, changes, rev),
    delete: (ctx, id, rev) => sg.delete(callerOf(ctx), id, rev),
  });
  const rules = resourceRoutes(SECURITY_GROUP_RULE, {
    list: async (ctx, q) => {
      checkRuleFilters(q);
      const rows = await sg.listRules(callerOf(ctx), q.filters);
      const owners = ownersOf(ctx);
      for (const r of rows) owners.set(String(r.doc["security_group_id"]), r.sgOwner);
      return rows.map((r) => r.doc);
    },
    get: async (ctx, id) => {
      const r = await sg.getRule(id);
      if (!r) return undefined;
      ownersOf(ctx).set(String(r.doc["security_group_id"]), r.sgOwner);
      return r.doc;
    },
    target: async (ctx, doc) => {
      const sgId = String(doc["security_group_id"]);
      const owners = ownersOf(ctx);
      let owner = owners.get(sgId);
      if (owner === undefined) {
        owner = await sg.ownerOf(sgId);
        owners.set(sgId, owner);
      }
      const creating = !("id" in doc);
      // Neutron's policy check fetches the parent group; a group that does not exist is
      // SecurityGroupNotFound.
      if (owner === null) {
        if (creating) throw notFound("security_group", sgId);
        return {};
      }
      const extra = { "security_group:project_id": owner, "security_group:tenant_id": owner };
      if (creating) {
        // Neutron's policy hook on POST: a caller who may neither create the rule nor see it
        // learns nothing about the group (404, not 403).
        const t = { ...doc, ...extra };
        if (!ctx.allowed("create_security_group_rule", t) && !ctx.allowed("get_security_group_rule", t)) {
          throw new NeutronError(404, "HTTPNotFound", "The resource could not be found.");
        }
      }
      return extra;
    },
    create: (ctx, items) => sg.createRules(callerOf(ctx), items),
    delete: (_ctx, id, rev) => sg.deleteRule(id, rev),
  });
  return [...groups, ...rules];
}

