import type { RequestContext, Route } from "../../../http/context.js";
import { NeutronError, badRequest, notFound } from "../errors.js";
import { normalizeMac, pyStr, validateIpAddress, validateMac, validateSubnetCidr } from "../ipam/index.js";
import type { PortManager, PortQuery } from "../manager/ports.js";
import type { Caller } from "../core.js";
import type { Doc } from "../store/docs.js";
import { rbacGrants } from "../store/rbac.js";
import { callerOf } from "./caller.js";
import type { Network } from "./deps.js";
import type { ResourceDef, Validator } from "./resource.js";
import { OWNER_ATTRS, guard, isAdmin, resourceRoutes, toBoolean, toInt } from "./resource.js";
import { isDict, isString, isUuid } from "./validators.js";

/** portbindings.VNIC_TYPES */
const VNIC_TYPES = [
  "normal",
  "direct",
  "macvtap",
  "baremetal",
  "direct-physical",
  "virtio-forwarder",
  "smart-nic",
  "vdpa",
  "accelerator-direct",
  "accelerator-direct-physical",
  "remote-managed",
];

/** cfg.CONF.max_allowed_address_pair */
const MAX_ALLOWED_ADDRESS_PAIRS = 10;

/** neutron_lib validate_values: no valid_values_display is passed, so it says "valid_values". */
const isVnicType: Validator = (v) => (typeof v === "string" && VNIC_TYPES.includes(v) ? undefined : `${pyStr(v)} is not in valid_values`);

/** validate_fixed_ips */
const isFixedIps: Validator = (v) => {
  if (!Array.isArray(v)) return `Invalid data format for fixed IP: '${pyStr(v)}'`;
  const ips: unknown[] = [];
  for (const ip of v) {
    if (ip === null || typeof ip !== "object" || Array.isArray(ip)) return `Invalid data format for fixed IP: '${pyStr(ip)}'`;
    const e = ip as Record<string, unknown>;
    if ("ip_address" in e) {
      const addr = e["ip_address"];
      const msg = ips.includes(addr) ? `Duplicate IP address '${pyStr(addr)}'` : validateIpAddress(addr);
      if (msg) return msg;
      ips.push(addr);
    }
    if ("subnet_id" in e) {
      const msg = isUuid(e["subnet_id"]);
      if (msg) return msg;
    }
  }
  return undefined;
};

/** neutron_lib _validate_list_of_items' duplicate check (dict equality). */
function duplicates(list: readonly unknown[]): unknown[] {
  const seen: string[] = [];
  const dups: unknown[] = [];
  const dupKeys: string[] = [];
  for (const x of list) {
    const k = canonical(x);
    if (seen.includes(k)) {
      if (!dupKeys.includes(k)) {
        dupKeys.push(k);
        dups.push(x);
      }
    } else seen.push(k);
  }
  return dups;
}

function canonical(v: unknown): string {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/** validate_uuid_list (security_groups on ports) */
const isUuidList: Validator = (v) => {
  if (!Array.isArray(v)) return `'${pyStr(v)}' is not a list`;
  const dups = duplicates(v);
  if (dups.length) return `Duplicate items in the list: '${dups.map(pyStr).join(", ")}'`;
  for (const x of v) {
    const msg = isUuid(x);
    if (msg) return msg;
  }
  return undefined;
};

/**
 * _validate_allowed_address_pairs: some failures are returned (and wrapped by the API as
 * "Invalid input for allowed_address_pairs"), others raised as their own exceptions.
 */
const isAddressPairs: Validator = (v) => {
  if (!Array.isArray(v)) throw badRequest("Allowed address pairs must be a list.");
  if (v.length > MAX_ALLOWED_ADDRESS_PAIRS) {
    throw badRequest(`The number of allowed address pair exceeds the maximum ${MAX_ALLOWED_ADDRESS_PAIRS}.`, "AllowedAddressPairExhausted");
  }
  const seen = new Set<string>();
  for (const pair of v) {
    const msg = isDict(pair);
    if (msg) return `'${pyStr(pair)}' is not a dictionary`;
    const p = pair as Record<string, unknown>;
    if ("mac_address" in p) {
      const m = validateMac(p["mac_address"]);
      if (m) throw badRequest(m);
    }
    if (!("ip_address" in p)) throw badRequest("AllowedAddressPair must contain ip_address", "AllowedAddressPairsMissingIP");
    const key = `${pyStr(p["mac_address"] ?? null)}\n${pyStr(p["ip_address"])}`;
    if (seen.has(key)) {
      throw badRequest(
        `Request contains duplicate address pair: mac_address ${pyStr(p["mac_address"] ?? null)} ip_address ${pyStr(p["ip_address"])}.`,
        "DuplicateAddressPairInRequest",
      );
    }
    seen.add(key);
    const extra = Object.keys(p).filter((k) => k !== "mac_address" && k !== "ip_address");
    if (extra.length) throw badRequest(`Unrecognized attribute(s) '${extra.join(", ")}'`);
    const ip = p["ip_address"];
    const bad = typeof ip === "string" && ip.includes("/") ? validateSubnetCidr(ip) : validateIpAddress(ip);
    if (bad) throw badRequest(bad);
  }
  return undefined;
};

const invalidInput = (msg: string): NeutronError => badRequest(`Invalid input for operation: ${msg}.`, "InvalidInput");

/** Python's str.splitlines(): a final line break does not start another line. */
function splitlines(s: string): string[] {
  const parts = s.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/);
  if (parts.length > 1 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** validate_oneline_not_empty_string */
const oneLineNotEmpty = (v: unknown, max: number): string | undefined => {
  if (typeof v !== "string") return `'${pyStr(v)}' is not a valid string`;
  if (v.length > max) return `'${v}' exceeds maximum length of ${max}`;
  if (!v.trim()) return `'${v}' Blank strings are not permitted`;
  if (splitlines(v).length > 1) return `Multi-line string is not allowed: '${v}'`;
  return undefined;
};

type KeySpec = Record<string, { required: boolean; check: (v: unknown) => string | undefined; convert?: (v: unknown) => unknown }>;

const ipVersionSpec = {
  required: false,
  convert: (v: unknown): unknown => {
    try {
      return toInt(v);
    } catch (reason) {
      throw invalidInput(String(reason));
    }
  },
  check: (v: unknown): string | undefined => (v === 4 || v === 6 ? undefined : `${pyStr(v)} is not in valid_values`),
};

/** extra_dhcp_opt EXTRA_DHCP_OPT_KEY_SPECS */
const DHCP_OPT_SPECS: KeySpec[] = [
  {
    opt_name: { required: true, check: (v) => (v === "router" || v === "classless-static-route" ? undefined : `${pyStr(v)} is not in valid_values`) },
    opt_value: { required: true, check: (v) => (v === null ? undefined : isString(255)(v)) },
    ip_version: ipVersionSpec,
  },
  {
    opt_name: { required: true, check: (v) => oneLineNotEmpty(v, 64) },
    opt_value: { required: true, check: (v) => (v === null ? undefined : oneLineNotEmpty(v, 255)) },
    ip_version: ipVersionSpec,
  },
];

/** validate_dict against one key spec (converting in place, as neutron_lib does). */
function validateDict(data: Record<string, unknown>, spec: KeySpec): string | undefined {
  const required = Object.keys(spec).filter((k) => spec[k]?.required);
  if (!required.every((k) => k in data)) {
    return `Validation of dictionary's keys failed. Expected keys: ${pySet(required)} Provided keys: ${pySet(Object.keys(data))}`;
  }
  const unexpected = Object.keys(data).filter((k) => !(k in spec));
  if (unexpected.length) return `Unexpected keys supplied: ${unexpected.join(", ")}`;
  for (const [k, s] of Object.entries(spec)) {
    if (!(k in data)) continue;
    if (s.convert) data[k] = s.convert(data[k]);
    const msg = s.check(data[k]);
    if (msg) return msg;
  }
  return undefined;
}

function pySet(keys: readonly string[]): string {
  return keys.length ? `{${keys.map((k) => `'${k}'`).join(", ")}}` : "set()";
}

/** validate_list_of_any_key_specs_or_none: every failure is an InvalidInput of its own. */
const toDhcpOpts = (v: unknown): unknown => {
  if (v === null) return null;
  if (!Array.isArray(v)) throw invalidInput(`'${pyStr(v)}' is not a list`);
  const dups = duplicates(v);
  if (dups.length) throw invalidInput(`Duplicate items in the list: '${dups.map(pyStr).join(", ")}'`);
  const out: unknown[] = [];
  for (const item of v) {
    if (item === null || typeof item !== "object" || Array.isArray(item)) throw invalidInput(`No valid key specs matched for: ${pyStr(item)}`);
    const data = { ...(item as Record<string, unknown>) };
    if (!DHCP_OPT_SPECS.some((spec) => validateDict(data, spec) === undefined)) {
      throw invalidInput(`No valid key specs matched for: ${pyStr(item)}`);
    }
    out.push(data);
  }
  return out;
};

/** convert_to_sanitized_mac_address: the canonical form, or the value unchanged when invalid. */
const sanitizeMac = (v: unknown): unknown => (typeof v === "string" ? (normalizeMac(v) ?? v) : v);

const noneToEmptyList = (v: unknown): unknown => (v === null ? [] : v);

/**
 * ports: core attributes + binding, port-security, security-group, allowed-address-pairs,
 * extra_dhcp_opt and ip_allocation. `policy` marks neutron_lib's enforce_policy attributes;
 * the controller checks their `<action>_port:<attr>` rules, this file the sub-attribute ones.
 */
export const PORT: ResourceDef = {
  singular: "port",
  plural: "ports",
  path: "/v2.0/ports",
  attrs: {
    id: { filter: true, sort: true },
    name: { post: true, put: true, default: "", validate: isString(255), filter: true, sort: true },
    network_id: { post: true, validate: isUuid, filter: true, sort: true },
    admin_state_up: { post: true, put: true, default: true, convert: toBoolean, filter: true, sort: true },
    mac_address: { post: true, put: true, default: undefined, convert: sanitizeMac, validate: validateMac, filter: true, sort: true, policy: true },
    fixed_ips: { post: true, put: true, default: undefined, validate: isFixedIps, filter: true, policy: true },
    device_id: { post: true, put: true, default: "", validate: isString(255), filter: true, sort: true },
    device_owner: { post: true, put: true, default: "", validate: isString(255), filter: true, sort: true, policy: true },
    ...OWNER_ATTRS,
    status: { filter: true, sort: true },
    "binding:vif_type": { policy: true },
    "binding:vif_details": { policy: true },
    "binding:vnic_type": { post: true, put: true, default: "normal", validate: isVnicType, policy: true },
    "binding:host_id": { post: true, put: true, default: undefined, validate: (v) => (v === null ? undefined : isString(255)(v)), filter: true, policy: true },
    "binding:profile": { post: true, put: true, default: undefined, validate: (v) => (v === null ? undefined : isDict(v)), policy: true },
    port_security_enabled: { post: true, put: true, default: undefined, convert: toBoolean, policy: true },
    security_groups: { post: true, put: true, default: undefined, convert: noneToEmptyList, validate: isUuidList, filter: true },
    allowed_address_pairs: { post: true, put: true, default: undefined, convert: noneToEmptyList, validate: isAddressPairs, policy: true },
    extra_dhcp_opts: { post: true, put: true, default: null, convert: toDhcpOpts },
    ip_allocation: { filter: true, sort: true },
  },
  filters: {
    fixed_ips: (doc, values) => fixedIpsMatch(doc, parseFixedIpsFilter(values)),
    mac_address: (doc, values) => values.some((v) => String(sanitizeMac(v)).toLowerCase() === doc["mac_address"]),
  },
};

/**
 * Sub-attribute rules (policy._build_list_of_subattrs_rule): for a list attribute set in the
 * request, one `<action>_port:<attr>:<key>` rule per key of each entry, on top of the
 * attribute's own rule (which the controller checks). On create a value equal to the default
 * counts as not set (policy._is_attribute_explicitly_set).
 */
const SUBATTR_RULES = ["fixed_ips", "allowed_address_pairs"];

function enforceSubattrRules(ctx: RequestContext, action: "create" | "update", target: Record<string, unknown>, names: Iterable<string>): void {
  for (const name of names) {
    if (!SUBATTR_RULES.includes(name)) continue;
    const v = target[name];
    if (!Array.isArray(v)) continue;
    for (const entry of v) {
      if (entry === null || typeof entry !== "object" || Array.isArray(entry)) continue;
      for (const k of Object.keys(entry)) {
        const rule = `${action}_port:${name}:${k}`;
        if (ctx.hasRule(rule)) ctx.enforce(rule, target);
      }
    }
  }
}

interface FixedIpsFilter {
  ip_address?: string[];
  subnet_id?: string[];
  ip_address_substr?: string[];
}

const parsedFilters = new WeakMap<readonly string[], FixedIpsFilter>();

/** `fixed_ips=ip_address=10.0.0.5&fixed_ips=subnet_id=…` (convert_kvp_list_to_dict). */
function parseFixedIpsFilter(values: readonly string[]): FixedIpsFilter {
  const hit = parsedFilters.get(values);
  if (hit) return hit;
  const out: Record<string, string[]> = {};
  if (!(values.length === 1 && values[0] === "True")) {
    for (const raw of values) {
      const at = raw.indexOf("=");
      const key = (at < 0 ? raw : raw.slice(0, at)).trim();
      if (at < 0 || !key) throw invalidInput(`'${raw}' is not of the form <key>=[value]`);
      (out[key] ??= []).push(raw.slice(at + 1).trim());
    }
  }
  parsedFilters.set(values, out);
  return out;
}

function fixedIpsMatch(doc: Doc, f: FixedIpsFilter): boolean {
  const ips = (doc["fixed_ips"] as Array<{ subnet_id: string; ip_address: string }> | undefined) ?? [];
  if (f.ip_address && !ips.some((ip) => f.ip_address?.includes(ip.ip_address))) return false;
  if (f.subnet_id && !ips.some((ip) => f.subnet_id?.includes(ip.subnet_id))) return false;
  if (f.ip_address_substr && !ips.some((ip) => f.ip_address_substr?.some((s) => ip.ip_address.includes(s)))) return false;
  return true;
}

/**
 * Who sees every port (neutron_lib model_query_scope_is_project is false): admins, advanced
 * services and the service role (Nova binding ports). Others see their own ports and the
 * ports on their networks.
 */
function viewer(ctx: RequestContext): Caller {
  const elevated = isAdmin(ctx) || ctx.allowed("context_is_advsvc") || (ctx.hasRule("service_api") && ctx.allowed("service_api"));
  return { projectId: ctx.caller.projectId, admin: elevated };
}

/** What one request learned about networks: owner, and for writes how the caller reaches it. */
interface NetInfo {
  projectId: string;
  shared?: boolean;
  visible?: boolean;
}

export function portRoutes(n: Network): Route[] {
  const db = n.core.db;
  // index.ts puts the PortManager in the bag; other areas see it through PortsApi only.
  const ports = (): PortManager => n.ports as PortManager;
  const caches = new WeakMap<RequestContext, Map<string, NetInfo | null>>();
  const cacheOf = (ctx: RequestContext): Map<string, NetInfo | null> => {
    let m = caches.get(ctx);
    if (!m) caches.set(ctx, (m = new Map()));
    return m;
  };

  const netInfo = async (ctx: RequestContext, networkId: string, access: boolean): Promise<NetInfo | null> => {
    const cache = cacheOf(ctx);
    let info = cache.get(networkId);
    if (info === undefined) {
      const row = await db.selectFrom("net_network").select("project_id").where("id", "=", networkId).executeTakeFirst();
      info = row ? { projectId: row.project_id } : null;
      cache.set(networkId, info);
    }
    if (info && access && info.shared === undefined) {
      const pid = ctx.caller.projectId;
      const grants = await rbacGrants(db, "network", pid, [networkId]);
      info.shared = grants.some((g) => g.action === "access_as_shared");
      info.visible = info.projectId === pid || grants.length > 0;
    }
    return info;
  };

  /** Network owners of a page of ports in one query (the `network:tenant_id` of each target). */
  const prefetch = async (ctx: RequestContext, docs: readonly Doc[]): Promise<void> => {
    const cache = cacheOf(ctx);
    const ids = [...new Set(docs.map((d) => String(d["network_id"])))].filter((id) => !cache.has(id));
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = await db.selectFrom("net_network").select(["id", "project_id"]).where("id", "in", chunk).execute();
      for (const id of chunk) cache.set(id, null);
      for (const r of rows) cache.set(r.id, { projectId: r.project_id });
    }
  };

  /**
   * Policy target extras: the network's owner (OwnerCheck on `network:tenant_id`) and, for
   * writes, `shared` (FieldCheck `networks:shared`). For a new port this is also Neutron's
   * OwnershipValidationHook: the network must be visible, and a project may only put ports
   * on its own or shared networks.
   */
  const target = async (ctx: RequestContext, doc: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const networkId = String(doc["network_id"]);
    const write = ctx.method !== "GET";
    const info = await netInfo(ctx, networkId, write);
    if (!("id" in doc)) {
      const elevated = viewer(ctx).admin;
      if (!info || (!elevated && !info.visible)) throw notFound("network", networkId);
      if (!elevated && !info.shared && info.projectId !== doc["project_id"]) {
        throw new NeutronError(403, "HTTPForbidden", `Tenant ${String(doc["tenant_id"])} not allowed to create port on this network`);
      }
    }
    const out: Record<string, unknown> = { "network:tenant_id": info?.projectId, "network:project_id": info?.projectId };
    if (write) out["shared"] = info?.shared ?? false;
    return out;
  };

  const listQuery = (filters: Record<string, string[]>): PortQuery => {
    const q: PortQuery = {};
    const set = (key: keyof PortQuery, name: string): void => {
      const v = filters[name];
      if (v !== undefined && v.length) (q as Record<string, unknown>)[key] = v;
    };
    set("ids", "id");
    set("networkIds", "network_id");
    set("deviceIds", "device_id");
    set("deviceOwners", "device_owner");
    set("projectIds", filters["project_id"] ? "project_id" : "tenant_id");
    if (filters["mac_address"]?.length) q.macs = filters["mac_address"].map((m) => String(sanitizeMac(m)).toLowerCase());
    if (filters["fixed_ips"]?.length) q.fixedIps = parseFixedIpsFilter(filters["fixed_ips"]);
    return q;
  };

  return resourceRoutes(PORT, {
    list: async (ctx, q) => {
      const docs = await ports().list(viewer(ctx), listQuery(q.filters));
      await prefetch(ctx, docs);
      return docs;
    },
    get: (ctx, id) => ports().get(viewer(ctx), id),
    target,
    create: async (ctx, items) => {
      for (const item of items) enforceSubattrRules(ctx, "create", { ...item, ...(await target(ctx, item)) }, SUBATTR_RULES);
      return ports().create(callerOf(ctx), items);
    },
    update: async (ctx, id, changes, rev) => {
      if (SUBATTR_RULES.some((k) => Array.isArray(changes[k]) && changes[k].length > 0)) {
        const doc = await ports().get(viewer(ctx), id);
        if (!doc) throw notFound("port", id);
        const merged = { ...doc, ...changes };
        const t = { ...merged, ...(await target(ctx, merged)) };
        guard(ctx, PORT, id, "update_port", t, () => enforceSubattrRules(ctx, "update", t, Object.keys(changes)));
      }
      return ports().update(callerOf(ctx), id, changes, rev);
    },
    delete: (_ctx, id, rev) => ports().delete(id, rev),
  });
}
