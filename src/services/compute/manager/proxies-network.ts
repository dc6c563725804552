import { isIP } from "node:net";
import { BadRequest, CloudError, Conflict, Forbidden, NotFound } from "../../../common/errors.js";
import type { TransportResponse } from "../../../clients/transport.js";
import { ServiceCallError } from "../../../clients/transport.js";
import type { Compute } from "../api/deps.js";
import { serversOf } from "../servers.js";
import type { Instance } from "../store/servers.js";
import type { ServerCaller } from "./instance-state.js";

/*
 * The network proxy APIs (security groups, floating IPs, networks) as Nova 26 answers them
 * by calling Neutron as the user (nova/network/security_group_api.py, nova/network/neutron.py).
 * Every call goes with the caller's token, so Neutron's own visibility rules decide what a
 * project sees, exactly as with Nova's neutronclient built from the request context.
 */

type Doc = Record<string, unknown> & { id: string };

/** neutronclient's UUID_PATTERN (find_resource_by_id only searches by id when it matches). */
const NEUTRON_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;
/** oslo uuidutils.is_uuid_like: hyphens optional, any case. */
const UUID_LIKE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

export function isUuidLike(v: unknown): v is string {
  return typeof v === "string" && UUID_LIKE.test(v);
}

/** What neutronclient puts in str(e): Neutron's message, then the request id line. */
export function neutronMessage(res: TransportResponse): string {
  const b = res.body as { NeutronError?: { message?: unknown } } | string | undefined;
  let msg: string;
  if (typeof b === "object" && b !== null && b.NeutronError && typeof b.NeutronError.message === "string") msg = b.NeutronError.message;
  else if (typeof b === "string" && b !== "") msg = b;
  else msg = `${res.status}`;
  const rid = res.headers["x-openstack-request-id"];
  return typeof rid === "string" && rid ? `${msg}\nNeutron server returns request_ids: ['${rid}']` : msg;
}

function neutronType(res: TransportResponse): string | undefined {
  const b = res.body as { NeutronError?: { type?: unknown } } | undefined;
  return typeof b === "object" && b !== null && typeof b.NeutronError?.type === "string" ? b.NeutronError.type : undefined;
}

function ok(res: TransportResponse): boolean {
  return res.status >= 200 && res.status < 300;
}

/** An answer Nova does not expect from Neutron: re-raised (a 500 in Nova's shape). */
function unexpected(method: string, path: string, res: TransportResponse): never {
  throw new ServiceCallError(method, path, res.status, res.body);
}

/** Nova's security group (security_group_api._convert_to_nova_security_group_format). */
export interface NovaGroup {
  id: string;
  name: string;
  description: string;
  project_id: string;
  rules: NovaRule[];
}

export interface NovaRule {
  id: string;
  parent_group_id: string;
  protocol: string | null;
  from_port: number | null;
  to_port: number | null;
  group_id: string | null;
  cidr: string;
}

/** A rule as the API shows it (security_groups.py _format_security_group_rule). */
export interface RuleView {
  id: string;
  parent_group_id: string;
  ip_protocol: string | null;
  from_port: number | null;
  to_port: number | null;
  group: { name?: unknown; tenant_id?: unknown };
  ip_range: { cidr?: string };
}

export interface GroupView {
  id: string;
  description: string;
  name: string;
  tenant_id: string;
  rules: RuleView[];
}

/** A floating IP with the network and port details Nova's views read. */
export interface FloatingIpView {
  id: string;
  ip: unknown;
  pool: unknown;
  fixed_ip: unknown;
  instance_id: unknown;
}

/** oslo netutils.is_valid_cidr: an address, a "/" and a prefix netaddr accepts. */
function validCidr(cidr: string): boolean {
  const i = cidr.indexOf("/");
  if (i < 0 || i === cidr.length - 1) return false;
  const ip = cidr.slice(0, i);
  const len = cidr.slice(i + 1);
  const family = isIP(ip);
  if (family === 0) return false;
  if (!/^\d+$/.test(len)) {
    // netaddr also takes a netmask (IPv4) after the slash.
    return family === 4 && isIP(len) === 4;
  }
  const n = Number(len);
  return n >= 0 && n <= (family === 4 ? 32 : 128);
}

/** security_group_api.parse_cidr. */
export function parseCidr(cidr: unknown): string {
  if (cidr === null || cidr === undefined || cidr === "" || cidr === false || cidr === 0) return "0.0.0.0/0";
  let s: string;
  try {
    if (typeof cidr !== "string") throw new Error("not a string");
    s = decodeURIComponent(cidr.replace(/%(?![0-9a-fA-F]{2})/g, "%25"));
  } catch {
    throw new BadRequest(`${String(cidr)} is not a valid IP network.`);
  }
  if (!validCidr(s)) throw new BadRequest(`${s} is not a valid IP network.`);
  return s;
}

function toNovaRule(r: Record<string, unknown>): NovaRule {
  const protocol = (r["protocol"] as string | null | undefined) ?? null;
  let from = (r["port_range_min"] as number | null | undefined) ?? null;
  let to = (r["port_range_max"] as number | null | undefined) ?? null;
  if (protocol && from === null && to === null) {
    if (["TCP", "UDP"].includes(protocol.toUpperCase())) [from, to] = [1, 65535];
    else [from, to] = [-1, -1];
  }
  return {
    id: String(r["id"]),
    parent_group_id: String(r["security_group_id"]),
    protocol,
    from_port: from,
    to_port: to,
    group_id: (r["remote_group_id"] as string | null | undefined) ?? null,
    cidr: parseCidr(r["remote_ip_prefix"]),
  };
}

function toNovaGroup(sg: Record<string, unknown>): NovaGroup {
  const rules = ((sg["security_group_rules"] as Array<Record<string, unknown>> | undefined) ?? []).filter((r) => r["direction"] === "ingress");
  return {
    id: String(sg["id"]),
    name: sg["name"] as string,
    description: sg["description"] as string,
    project_id: (sg["tenant_id"] ?? sg["project_id"]) as string,
    rules: rules.map(toNovaRule),
  };
}

/** Python int() of a JSON value: integers, digit strings, floats truncated; else undefined. */
function pyInt(v: unknown): number | undefined {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === "string" && /^\s*[-+]?\d+\s*$/.test(v)) return Number.parseInt(v.trim(), 10);
  return undefined;
}

function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

function pyStr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** security_group_api._new_ingress_rule: undefined when a cidr rule lacks protocol or ports. */
function newIngressRule(
  ipProtocol: unknown,
  fromPort: unknown,
  toPort: unknown,
  groupId: string | undefined,
  cidr: string | undefined,
): Record<string, unknown> | undefined {
  const values: Record<string, unknown> = {};
  let from = fromPort;
  let to = toPort;
  if (groupId) {
    values["group_id"] = groupId;
    const upper = pyTruthy(ipProtocol) ? pyStr(ipProtocol).toUpperCase() : "";
    if (upper === "ICMP" && (from === null || from === undefined) && (to === null || to === undefined)) [from, to] = [-1, -1];
    else if ((upper === "TCP" || upper === "UDP") && (from === null || from === undefined) && (to === null || to === undefined)) [from, to] = [1, 65535];
  } else if (cidr) {
    values["cidr"] = cidr;
  }
  if (pyTruthy(ipProtocol) && from !== null && from !== undefined && to !== null && to !== undefined) {
    const proto = pyStr(ipProtocol);
    const f = pyInt(from);
    const t = pyInt(to);
    if (f === undefined || t === undefined) {
      if (proto.toUpperCase() === "ICMP") throw new BadRequest("Invalid input received: Type and Code must be integers for ICMP protocol type");
      throw new BadRequest("Invalid input received: To and From ports must be integers");
    }
    const up = proto.toUpperCase();
    if (!["TCP", "UDP", "ICMP"].includes(up)) throw new BadRequest(`Invalid IP protocol ${proto}.`);
    if ((up === "TCP" || up === "UDP") && f > t) throw new BadRequest(`Invalid port range ${f}:${t}. Former value cannot be greater than the later`);
    if ((up === "TCP" || up === "UDP") && (f < 1 || t > 65535)) throw new BadRequest(`Invalid port range ${f}:${t}. Valid ${up} ports should be between 1-65535`);
    if (up === "ICMP" && (f < -1 || f > 255 || t < -1 || t > 255)) throw new BadRequest(`Invalid port range ${f}:${t}. For ICMP, the type:code must be valid`);
    values["protocol"] = proto;
    values["from_port"] = f;
    values["to_port"] = t;
  } else if (cidr) {
    return undefined;
  }
  return values;
}

/** Default pool for POST /os-floating-ips without one (CONF.neutron.default_floating_pool as DevStack sets it). */
export const DEFAULT_FLOATING_POOL = "public";

export class NetworkProxy {
  constructor(private readonly c: Compute) {}

  private n(method: "GET" | "POST" | "PUT" | "DELETE", path: string, caller: ServerCaller, body?: unknown): Promise<TransportResponse> {
    return this.c.network.raw(method, path, body, caller.tokenId);
  }

  private async list<T = Doc>(caller: ServerCaller, path: string, key: string): Promise<T[]> {
    const res = await this.n("GET", path, caller);
    if (!ok(res)) unexpected("GET", path, res);
    return (res.body as Record<string, T[]>)[key] ?? [];
  }

  // ---- security groups ----

  /** security_group_api.validate_id. */
  validateId(id: unknown): string {
    if (!isUuidLike(id)) throw new BadRequest("Security group id should be uuid");
    return id;
  }

  /** security_group_api.get: 404 with Neutron's words. */
  async getGroup(caller: ServerCaller, id: string): Promise<NovaGroup> {
    const path = `/security-groups/${encodeURIComponent(id)}`;
    const res = await this.n("GET", path, caller);
    if (res.status === 404) throw new NotFound(neutronMessage(res));
    if (!ok(res)) unexpected("GET", path, res);
    return toNovaGroup((res.body as { security_group: Doc }).security_group);
  }

  async listGroups(caller: ServerCaller, allTenants: boolean): Promise<NovaGroup[]> {
    const q = allTenants && caller.admin ? "" : `?tenant_id=${encodeURIComponent(caller.projectId)}`;
    return (await this.list(caller, `/security-groups${q}`, "security_groups")).map(toNovaGroup);
  }

  async createGroup(caller: ServerCaller, name: string, description: string): Promise<NovaGroup> {
    const res = await this.n("POST", "/security-groups", caller, { security_group: { name, description } });
    if (res.status === 400) throw new BadRequest(neutronMessage(res));
    if (res.status === 401) throw new BadRequest("The server could not comply with the request since it is either malformed or otherwise incorrect.");
    if (res.status === 409) throw new Forbidden(neutronMessage(res));
    if (!ok(res)) unexpected("POST", "/security-groups", res);
    return toNovaGroup((res.body as { security_group: Doc }).security_group);
  }

  async updateGroup(caller: ServerCaller, group: NovaGroup, name: string, description: string): Promise<NovaGroup> {
    const path = `/security-groups/${group.id}`;
    const res = await this.n("PUT", path, caller, { security_group: { name, description } });
    if (res.status === 404) throw new NotFound(neutronMessage(res));
    if (res.status === 401) throw new BadRequest("The server could not comply with the request since it is either malformed or otherwise incorrect.");
    if (res.status === 400) throw new BadRequest(neutronMessage(res));
    if (!ok(res)) unexpected("PUT", path, res);
    return toNovaGroup((res.body as { security_group: Doc }).security_group);
  }

  /** security_group_api.destroy: 409 (in use, default group) is Invalid → 400. */
  async deleteGroup(caller: ServerCaller, group: NovaGroup): Promise<void> {
    const path = `/security-groups/${group.id}`;
    const res = await this.n("DELETE", path, caller);
    if (res.status === 404) throw new NotFound(neutronMessage(res));
    if (res.status === 409) throw new BadRequest(neutronMessage(res));
    if (!ok(res)) unexpected("DELETE", path, res);
  }

  /**
   * The {name, tenant_id} of the groups rules point at (remote groups): in-scope groups
   * first, the others fetched in one call; a group the caller cannot see is absent
   * (its rules are skipped, as Nova's SG_NOT_FOUND sentinel does).
   */
  async remoteGroupData(caller: ServerCaller, groups: NovaGroup[]): Promise<Map<string, { name: unknown; tenant_id: unknown }>> {
    const out = new Map<string, { name: unknown; tenant_id: unknown }>();
    for (const g of groups) out.set(g.id, { name: g.name, tenant_id: g.project_id });
    const missing = new Set<string>();
    for (const g of groups) for (const r of g.rules) if (r.group_id && !out.has(r.group_id)) missing.add(r.group_id);
    const ids = [...missing];
    for (let i = 0; i < ids.length; i += 150) {
      const chunk = ids.slice(i, i + 150);
      const q = chunk.map((id) => `id=${encodeURIComponent(id)}`).join("&");
      for (const sg of await this.list(caller, `/security-groups?${q}&fields=id&fields=name&fields=tenant_id`, "security_groups")) {
        out.set(String(sg.id), { name: sg["name"], tenant_id: sg["tenant_id"] ?? sg["project_id"] });
      }
    }
    return out;
  }

  formatRule(rule: NovaRule, groupData: { name: unknown; tenant_id: unknown } | undefined): RuleView | undefined {
    const view: RuleView = {
      id: rule.id,
      parent_group_id: rule.parent_group_id,
      ip_protocol: rule.protocol,
      from_port: rule.from_port,
      to_port: rule.to_port,
      group: {},
      ip_range: {},
    };
    if (rule.group_id) {
      if (!groupData) return undefined;
      view.group = { name: groupData.name, tenant_id: groupData.tenant_id };
    } else {
      view.ip_range = { cidr: rule.cidr };
    }
    return view;
  }

  formatGroup(group: NovaGroup, data: Map<string, { name: unknown; tenant_id: unknown }>): GroupView {
    const rules: RuleView[] = [];
    for (const r of group.rules) {
      const v = this.formatRule(r, r.group_id ? data.get(r.group_id) : undefined);
      if (v) rules.push(v);
    }
    return { id: group.id, description: group.description, name: group.name, tenant_id: group.project_id, rules };
  }

  async formatGroups(caller: ServerCaller, groups: NovaGroup[]): Promise<GroupView[]> {
    const data = await this.remoteGroupData(caller, groups);
    return groups.map((g) => this.formatGroup(g, data));
  }

  /** POST /os-security-group-rules after the body is read (SecurityGroupRulesController.create). */
  async createRule(
    caller: ServerCaller,
    r: { parent_group_id: unknown; group_id: unknown; ip_protocol: unknown; from_port: unknown; to_port: unknown; cidr: unknown },
  ): Promise<RuleView> {
    const parentId = this.validateId(r.parent_group_id);
    const parent = await this.getGroup(caller, parentId);
    let groupId: string | undefined;
    let source: NovaGroup | undefined;
    if (r.group_id !== undefined && r.group_id !== null) {
      groupId = this.validateId(r.group_id);
      source = await this.getGroup(caller, groupId);
    }
    const rule = groupId !== undefined ? newIngressRule(r.ip_protocol, r.from_port, r.to_port, groupId, undefined) : newIngressRule(r.ip_protocol, r.from_port, r.to_port, undefined, parseCidr(r.cidr));
    if (!rule) throw new BadRequest("Not enough parameters to build a valid rule.");
    rule["parent_group_id"] = parent.id;
    if (typeof rule["cidr"] === "string") {
      const cidr = rule["cidr"];
      const [net, len] = [cidr.slice(0, cidr.indexOf("/")), cidr.slice(cidr.indexOf("/") + 1)];
      const prefix = /^\d+$/.test(len) ? String(Number(len)) : len;
      if (net !== "0.0.0.0" && net !== "::" && prefix === "0") throw new BadRequest(`Bad prefix for network in cidr ${cidr}`);
    }
    // _rule_exists: the same group/cidr/ports/protocol already in the group.
    const keys = ["group_id", "cidr", "from_port", "to_port", "protocol"] as const;
    for (const existing of parent.rules) {
      if (keys.every((k) => (existing[k] ?? null) === (rule[k] ?? null))) throw new BadRequest(`This rule already exists in group ${parent.id}`);
    }
    const cidr = rule["cidr"] as string | undefined;
    const body: Record<string, unknown> = {
      direction: "ingress",
      protocol: rule["protocol"] ?? null,
      ethertype: cidr && isIP(cidr.slice(0, cidr.indexOf("/"))) === 6 ? "IPv6" : "IPv4",
      remote_ip_prefix: cidr ?? null,
      security_group_id: parent.id,
      remote_group_id: rule["group_id"] ?? null,
    };
    if ("from_port" in rule && rule["from_port"] !== -1) body["port_range_min"] = rule["from_port"];
    if ("to_port" in rule && rule["to_port"] !== -1) body["port_range_max"] = rule["to_port"];
    const res = await this.n("POST", "/security-group-rules", caller, { security_group_rules: [body] });
    if (res.status === 404) throw new NotFound(neutronMessage(res));
    if (res.status === 409) throw new Forbidden(neutronMessage(res));
    if (res.status === 400) throw new BadRequest(neutronMessage(res));
    if (!ok(res)) unexpected("POST", "/security-group-rules", res);
    const created = toNovaRule((res.body as { security_group_rules: Doc[] }).security_group_rules[0]!);
    const data = source ? { name: source.name, tenant_id: source.project_id } : undefined;
    return this.formatRule(created, data)!;
  }

  /** DELETE /os-security-group-rules/{id}. */
  async deleteRule(caller: ServerCaller, id: string): Promise<void> {
    this.validateId(id);
    const path = `/security-group-rules/${encodeURIComponent(id)}`;
    const res = await this.n("GET", path, caller);
    if (res.status === 404) throw new NotFound(neutronMessage(res));
    if (!ok(res)) unexpected("GET", path, res);
    const rule = toNovaRule((res.body as { security_group_rule: Doc }).security_group_rule);
    await this.getGroup(caller, rule.parent_group_id);
    const del = await this.n("DELETE", `/security-group-rules/${rule.id}`, caller);
    if (!ok(del)) {
      if (del.status === 404) throw new NotFound(neutronMessage(del));
      unexpected("DELETE", path, del);
    }
  }

  private async instancePorts(caller: ServerCaller, uuid: string): Promise<Doc[]> {
    return this.list(caller, `/ports?device_id=${encodeURIComponent(uuid)}`, "ports");
  }

  /** security_group_api.get_instance_security_groups(detailed=True), one entry per port and group. */
  async instanceGroups(caller: ServerCaller, inst: Instance): Promise<GroupView[]> {
    const ports = await this.instancePorts(caller, inst.uuid);
    const ids = [...new Set(ports.flatMap((p) => (p["security_groups"] as string[] | undefined) ?? []))];
    const byId = new Map<string, NovaGroup>();
    for (let i = 0; i < ids.length; i += 150) {
      const q = ids.slice(i, i + 150).map((id) => `id=${encodeURIComponent(id)}`).join("&");
      for (const sg of await this.list(caller, `/security-groups?${q}`, "security_groups")) byId.set(String(sg.id), toNovaGroup(sg));
    }
    const groups: NovaGroup[] = [];
    for (const p of ports) for (const id of (p["security_groups"] as string[] | undefined) ?? []) {
      const g = byId.get(id);
      if (g) groups.push(g);
    }
    const views = await this.formatGroups(caller, groups);
    return sortGroups(views);
  }

  /** neutronclient find_resourceid_by_name_or_id for security groups, as Nova maps its errors. */
  private async findGroupId(caller: ServerCaller, name: string): Promise<string> {
    if (NEUTRON_UUID.test(name)) {
      const byId = await this.list(caller, `/security-groups?id=${encodeURIComponent(name)}&fields=id`, "security_groups");
      if (byId[0]) return String(byId[0].id);
    }
    const byName = await this.list(caller, `/security-groups?name=${encodeURIComponent(name)}&fields=id&tenant_id=${encodeURIComponent(caller.projectId)}`, "security_groups");
    if (byName.length > 1) throw new Conflict(`Multiple security_group matches found for name '${name}', use an ID to be more specific.`);
    if (byName.length === 0) throw new NotFound(`Security group ${name} is not found for project ${caller.projectId}`);
    return String(byName[0]!.id);
  }

  /** security_group_api.add_to_instance. */
  async addToInstance(caller: ServerCaller, inst: Instance, name: string): Promise<void> {
    const sgId = await this.findGroupId(caller, name);
    const ports = await this.instancePorts(caller, inst.uuid);
    if (ports.length === 0) throw new NotFound(`instance_id ${inst.uuid} could not be found as device id on any ports`);
    for (const port of ports) {
      const hasIp = pyTruthy(port["fixed_ips"]) || port["ip_allocation"] === "deferred";
      const secured = port["port_security_enabled"] ?? true;
      if (!hasIp || !secured) throw new BadRequest("Network requires port_security_enabled and subnet associated in order to apply security groups.");
      const groups = [...((port["security_groups"] as string[] | undefined) ?? []), sgId];
      const res = await this.n("PUT", `/ports/${port.id}`, caller, { port: { security_groups: groups } });
      if (res.status === 400) throw new BadRequest(neutronMessage(res));
      if (!ok(res)) unexpected("PUT", `/ports/${port.id}`, res);
    }
    await this.refresh(inst);
  }

  /** security_group_api.remove_from_instance. */
  async removeFromInstance(caller: ServerCaller, inst: Instance, name: string): Promise<void> {
    const sgId = await this.findGroupId(caller, name);
    const ports = await this.instancePorts(caller, inst.uuid);
    if (ports.length === 0) throw new NotFound(`instance_id ${inst.uuid} could not be found as device id on any ports`);
    let found = false;
    for (const port of ports) {
      const groups = [...((port["security_groups"] as string[] | undefined) ?? [])];
      const i = groups.indexOf(sgId);
      if (i < 0) continue;
      groups.splice(i, 1);
      const res = await this.n("PUT", `/ports/${port.id}`, caller, { port: { security_groups: groups } });
      if (!ok(res)) unexpected("PUT", `/ports/${port.id}`, res);
      found = true;
    }
    if (!found) throw new NotFound(`Security group ${name} not associated with the instance ${inst.uuid}`);
    await this.refresh(inst);
  }

  private async refresh(inst: Instance): Promise<void> {
    await serversOf(this.c).servers.refreshNetworkInfo(inst);
  }

  // ---- floating IPs ----

  private async networksById(caller: ServerCaller, ids: string[]): Promise<Map<string, Doc>> {
    const out = new Map<string, Doc>();
    const uniq = [...new Set(ids)];
    for (let i = 0; i < uniq.length; i += 150) {
      const q = uniq.slice(i, i + 150).map((id) => `id=${encodeURIComponent(id)}`).join("&");
      for (const n of await this.list(caller, `/networks?${q}`, "networks")) out.set(String(n.id), n);
    }
    return out;
  }

  private fipView(fip: Doc, net: Doc | undefined): FloatingIpView {
    const details = fip["port_details"] as Record<string, unknown> | null | undefined;
    return {
      id: fip.id,
      ip: fip["floating_ip_address"],
      pool: (net?.["name"] as string | undefined) || (net?.id ?? fip["floating_network_id"]),
      fixed_ip: fip["fixed_ip_address"] ?? null,
      instance_id: details ? (details["device_id"] ?? null) : null,
    };
  }

  /** neutron.API.get_floating_ips_by_project. */
  async listFloatingIps(caller: ServerCaller): Promise<FloatingIpView[]> {
    const fips = await this.list(caller, `/floatingips?tenant_id=${encodeURIComponent(caller.projectId)}`, "floatingips");
    if (fips.length === 0) return [];
    const nets = await this.networksById(caller, fips.map((f) => String(f["floating_network_id"])));
    return fips.map((f) => {
      const net = nets.get(String(f["floating_network_id"]));
      if (!net) throw new NotFound(`Network ${String(f["floating_network_id"])} could not be found.`);
      return this.fipView(f, net);
    });
  }

  private async withNetwork(caller: ServerCaller, fip: Doc, notFound: () => CloudError): Promise<FloatingIpView> {
    const netId = String(fip["floating_network_id"]);
    const res = await this.n("GET", `/networks/${encodeURIComponent(netId)}`, caller);
    if (res.status === 404) throw notFound();
    if (!ok(res)) unexpected("GET", `/networks/${netId}`, res);
    return this.fipView(fip, (res.body as { network: Doc }).network);
  }

  /** GET /os-floating-ips/{id}: 404 "Floating IP not found for ID x" for anything not visible. */
  async showFloatingIp(caller: ServerCaller, id: string): Promise<FloatingIpView> {
    const fip = await this.fipById(caller, id);
    return this.withNetwork(caller, fip, () => new NotFound(`Floating IP not found for ID ${id}`));
  }

  private async fipById(caller: ServerCaller, id: string): Promise<Doc> {
    const path = `/floatingips/${encodeURIComponent(id)}`;
    const res = await this.n("GET", path, caller);
    if (res.status === 404 || res.status === 400) throw new NotFound(`Floating IP not found for ID ${id}`);
    if (!ok(res)) unexpected("GET", path, res);
    return (res.body as { floatingip: Doc }).floatingip;
  }

  /** _get_floating_ip_by_address: 404 none, 409 several. */
  private async fipByAddress(caller: ServerCaller, address: string): Promise<Doc> {
    if (!address) throw new NotFound(`Floating IP not found for address ${address}.`);
    const fips = await this.list(caller, `/floatingips?floating_ip_address=${encodeURIComponent(address)}`, "floatingips");
    if (fips.length === 0) throw new NotFound(`Floating IP not found for address ${address}.`);
    if (fips.length > 1) throw new Conflict(`Multiple floating IPs are found for address ${address}.`);
    return fips[0]!;
  }

  /** POST /os-floating-ips: allocate from a pool (an external network, by name or id). */
  async allocateFloatingIp(caller: ServerCaller, pool: unknown): Promise<FloatingIpView> {
    const given = pyTruthy(pool);
    const name = given ? pyStr(pool) : DEFAULT_FLOATING_POOL;
    const q = isUuidLike(name) ? `id=${encodeURIComponent(name)}` : `name=${encodeURIComponent(name)}`;
    const nets = await this.list(caller, `/networks?router:external=True&fields=id&${q}`, "networks");
    if (nets.length === 0) throw new NotFound("Floating IP pool not found.");
    if (nets.length > 1) throw new BadRequest(`Multiple floating IP pools matches found for name '${name}'`);
    const res = await this.n("POST", "/floatingips", caller, { floatingip: { floating_network_id: nets[0]!.id } });
    if (!ok(res)) {
      const type = neutronType(res);
      if (type === "IpAddressGenerationFailure" || type === "ExternalIpAddressExhausted") {
        throw new NotFound(given ? `No more floating IPs in pool ${name}.` : "No more floating IPs available.");
      }
      if (type === "OverQuota") throw new Forbidden(given ? `IP allocation over quota in pool ${name}.` : "IP allocation over quota.");
      if (res.status === 400) throw new BadRequest(neutronMessage(res));
      unexpected("POST", "/floatingips", res);
    }
    const address = String((res.body as { floatingip: Doc }).floatingip["floating_ip_address"]);
    const fip = await this.fipByAddress(caller, address);
    return this.withNetwork(caller, fip, () => new NotFound(`Network ${String(fip["floating_network_id"])} could not be found.`));
  }

  /** The instance a floating IP's port belongs to (floating_ips.get_instance_by_floating_ip_addr). */
  private async instanceOfAddress(caller: ServerCaller, address: string): Promise<Instance | undefined> {
    const fip = await this.fipByAddress(caller, address);
    if (!fip["port_id"]) return undefined;
    const res = await this.n("GET", `/ports/${encodeURIComponent(String(fip["port_id"]))}`, caller);
    if (res.status === 404) return undefined;
    if (!ok(res)) unexpected("GET", `/ports/${String(fip["port_id"])}`, res);
    const deviceId = (res.body as { port: Doc }).port["device_id"];
    if (!deviceId) return undefined;
    return this.c.instances.get(caller, String(deviceId));
  }

  /** DELETE /os-floating-ips/{id}: disassociate (if associated) and release. */
  async releaseFloatingIp(caller: ServerCaller, id: string): Promise<void> {
    const fip = await this.fipById(caller, id);
    const address = String(fip["floating_ip_address"]);
    const inst = await this.instanceOfAddress(caller, address);
    const current = await this.fipByAddress(caller, address);
    const res = await this.n("DELETE", `/floatingips/${current.id}`, caller);
    if (res.status === 404) throw new NotFound(`Floating IP not found for address ${address}.`);
    if (res.status === 403) throw new Forbidden("Access was denied to this resource.");
    if (!ok(res)) unexpected("DELETE", `/floatingips/${current.id}`, res);
    if (inst) await this.refresh(inst);
  }

  /** addFloatingIp (FloatingIPActionController._add_floating_ip) after the body schema. */
  async associate(caller: ServerCaller, inst: Instance, serverId: string, address: string, fixedAddress: string | undefined): Promise<void> {
    const fixed = inst.network_info.flatMap((v) => v.fixed_ips.map((ip) => ip.address));
    if (inst.network_info.length === 0) throw new BadRequest("Instance network is not ready yet");
    if (fixed.length === 0) throw new BadRequest("No fixed IPs associated to instance");
    let chosen = fixedAddress;
    if (chosen !== undefined) {
      if (!fixed.includes(chosen)) throw new BadRequest("Specified fixed address not assigned to instance");
    } else {
      chosen = fixed.find((a) => isIP(a) === 4);
      if (chosen === undefined) {
        throw new BadRequest(`Unable to associate floating IP ${address} to any fixed IPs for instance ${serverId}. Instance has no fixed IPv4 addresses to associate.`);
      }
    }
    const failed = (err: string) => new BadRequest(`Unable to associate floating IP ${address} to fixed IP ${chosen} for instance ${serverId}. Error: ${err}`);
    // _get_port_id_by_fixed_address: the instance's compute ports only.
    const ports = (await this.instancePorts(caller, inst.uuid)).filter((p) => String(p["device_owner"] ?? "").startsWith("compute:"));
    const port = ports.find((p) => ((p["fixed_ips"] as Array<{ ip_address: string }> | undefined) ?? []).some((ip) => ip.ip_address === chosen));
    if (!port) throw failed(`Fixed IP not found for address ${chosen}.`);
    let fip: Doc;
    try {
      fip = await this.fipByAddress(caller, address);
    } catch (e) {
      if (e instanceof NotFound) throw new NotFound("floating IP not found");
      throw failed(e instanceof Error ? e.message : String(e));
    }
    const res = await this.n("PUT", `/floatingips/${fip.id}`, caller, { floatingip: { port_id: port.id, fixed_ip_address: chosen } });
    if (res.status === 409) throw new BadRequest(neutronMessage(res));
    if (res.status === 403) throw new Forbidden(neutronMessage(res));
    if (!ok(res)) throw failed(neutronMessage(res));
    await this.refresh(inst);
    // The address may have moved from another server: refresh that one's cache too (best effort).
    if (fip["port_id"] && fip["port_id"] !== port.id) {
      try {
        const prev = await this.c.network.getPort(String(fip["port_id"]));
        const other = prev?.["device_id"] ? await this.c.instances.get({ projectId: "", admin: true }, String(prev["device_id"])) : undefined;
        if (other) await this.refresh(other);
      } catch {
        // As Nova: a failed refresh of the other instance is only logged.
      }
    }
  }

  /** removeFloatingIp (FloatingIPActionController._remove_floating_ip) after the body schema. */
  async disassociate(caller: ServerCaller, serverId: string, address: string, enforce: (target: Record<string, unknown>) => void): Promise<void> {
    const inst = await this.instanceOfAddress(caller, address);
    enforce(inst ? { project_id: inst.project_id } : {});
    let fip: Doc;
    try {
      fip = await this.fipByAddress(caller, address);
    } catch (e) {
      if (e instanceof NotFound) throw new NotFound("floating IP not found");
      throw e;
    }
    if (inst && fip["port_id"] && inst.uuid === serverId) {
      const res = await this.n("PUT", `/floatingips/${fip.id}`, caller, { floatingip: { port_id: null } });
      if (res.status === 403) throw new Forbidden("Access was denied to this resource.");
      if (!ok(res)) unexpected("PUT", `/floatingips/${fip.id}`, res);
      await this.refresh(inst);
      return;
    }
    throw new Conflict(`Floating IP ${address} is not associated with instance ${serverId}.`);
  }

  /** neutron.API.get_floating_ip_pools: the external networks. */
  async pools(caller: ServerCaller): Promise<Array<{ name: string }>> {
    const nets = await this.list(caller, "/networks?router:external=True", "networks");
    return nets.map((n) => ({ name: (n["name"] as string | undefined) || n.id }));
  }

  // ---- networks ----

  async listNetworks(caller: ServerCaller): Promise<Doc[]> {
    return this.list(caller, "/networks", "networks");
  }

  /** neutron.API.get: 404 "Network not found" for anything not visible. */
  async getNetwork(caller: ServerCaller, id: string): Promise<Doc> {
    const path = `/networks/${encodeURIComponent(id)}`;
    const res = await this.n("GET", path, caller);
    if (res.status === 404) throw new NotFound("Network not found");
    if (!ok(res)) unexpected("GET", path, res);
    return (res.body as { network: Doc }).network;
  }
}

/** Nova sorts security group lists by (tenant_id, name). */
export function sortGroups(views: GroupView[]): GroupView[] {
  const key = (v: GroupView) => [String(v.tenant_id ?? ""), String(v.name ?? "")] as const;
  return [...views].sort((a, b) => {
    const [at, an] = key(a);
    const [bt, bn] = key(b);
    return at < bt ? -1 : at > bt ? 1 : an < bn ? -1 : an > bn ? 1 : 0;
  });
}
