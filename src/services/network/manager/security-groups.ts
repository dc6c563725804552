import { uuid } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { Network, SecurityGroupsApi } from "../api/deps.js";
import { assertRevision } from "../api/resource.js";
import type { Caller } from "../core.js";
import { NeutronError, conflict, notFound } from "../errors.js";
import { formatIp, netMask, netaddrNetwork } from "../ipam/index.js";
import { pyInt } from "../ipam/py.js";
import type { Doc, DocSpec } from "../store/docs.js";
import { deleteDoc, findDocs, getDoc, insertDoc, updateDoc } from "../store/docs.js";
import type { NetworkTrx, Q } from "../store/tables.js";

export const SECURITY_GROUP_SPEC: DocSpec<"net_security_group"> = {
  table: "net_security_group",
  columns: (d) => ({ project_id: String(d["project_id"]) }),
};

export const SECURITY_GROUP_RULE_SPEC: DocSpec<"net_security_group_rule"> = {
  table: "net_security_group_rule",
  columns: (d) => ({
    project_id: String(d["project_id"]),
    security_group_id: String(d["security_group_id"]),
    remote_group_id: typeof d["remote_group_id"] === "string" ? d["remote_group_id"] : null,
    fingerprint: ruleFingerprint(d),
  }),
};

/** neutron_lib constants.IP_PROTOCOL_MAP, in its order (the order error messages list it in). */
export const IP_PROTOCOL_MAP: ReadonlyMap<string, number> = new Map([
  ["ah", 51],
  ["dccp", 33],
  ["egp", 8],
  ["esp", 50],
  ["gre", 47],
  ["hopopt", 0],
  ["icmp", 1],
  ["igmp", 2],
  ["ip", 0],
  ["ipip", 4],
  ["ipv6-encap", 41],
  ["ipv6-frag", 44],
  ["ipv6-icmp", 58],
  // Kept for backward compatibility of the security group rule API.
  ["icmpv6", 58],
  ["ipv6-nonxt", 59],
  ["ipv6-opts", 60],
  ["ipv6-route", 43],
  ["ospf", 89],
  ["pgm", 113],
  ["rsvp", 46],
  ["sctp", 132],
  ["tcp", 6],
  ["udp", 17],
  ["udplite", 136],
  ["vrrp", 112],
]);

/** IP_PROTOCOL_NUM_TO_NAME_MAP: "0" ends up as "ip" (the later key wins in the dict). */
const PROTOCOL_NUM_TO_NAME: ReadonlyMap<string, string> = new Map(
  [...IP_PROTOCOL_MAP].filter(([name]) => name !== "icmpv6").map(([name, num]) => [String(num), name] as const),
);

/** neutron/common/_constants.py SG_PORT_PROTO_NUMS: the protocols whose rules take ports. */
const PORT_PROTOCOLS = new Set([33, 132, 6, 17, 136]);
const PORT_PROTOCOL_NAMES = "DCCP, SCTP, TCP, UDP, UDPLITE";
/** Protocols only IPv6 carries (_validate_ethertype_and_protocol). */
const IPV6_ONLY_PROTOCOLS = new Set(["ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route", "41", "44", "58", "59", "60", "43"]);
/** IPV6_ICMP_LEGACY_PROTO_LIST */
const IPV6_ICMP_LEGACY = new Set(["icmp", "icmpv6"]);

export const ETHERTYPES = ["IPv4", "IPv6"] as const;
const DEFAULT_SG_DESCRIPTION = "Default security group";

/**
 * neutron securitygroups_db._get_ip_proto_name_and_num: the name and the number of a rule's
 * protocol (legacy IPv6 ICMP spellings folded into ipv6-icmp/58 for IPv6 rules).
 */
function protocolNameAndNum(protocol: string, ethertype: unknown): [string, string] {
  let p = protocol;
  if (ethertype === "IPv6") {
    if (IPV6_ICMP_LEGACY.has(p)) p = "ipv6-icmp";
    else if (p === "1") p = "58";
  }
  const num = IP_PROTOCOL_MAP.get(p);
  if (num !== undefined) return [p, String(num)];
  const name = PROTOCOL_NUM_TO_NAME.get(p);
  if (name !== undefined) return [name, p];
  return [p, p];
}

/** _get_ip_proto_number: the protocol as a number (icmpv6 is ipv6-icmp). */
function protocolNumber(protocol: string): number {
  const p = protocol === "icmpv6" ? "ipv6-icmp" : protocol;
  const known = IP_PROTOCOL_MAP.get(p);
  if (known !== undefined) return known;
  const n = pyInt(p);
  return n === undefined ? Number.NaN : Number(n);
}

/**
 * Neutron's _rule_to_key: what makes two rules of a group the same rule. "0.0.0.0/0" and
 * "::/0" are the same as no prefix; "tcp" and "6" are the same protocol. Stored in the
 * unique (security_group_id, fingerprint) column so that concurrent creators cannot both add
 * one rule.
 */
export function ruleFingerprint(rule: Record<string, unknown>): string {
  const none = "+";
  const v = (x: unknown): string => (x === null || x === undefined ? none : String(x));
  const prefix = rule["remote_ip_prefix"];
  const protocol = rule["protocol"];
  return [
    v(rule["direction"]),
    v(rule["ethertype"]),
    v(rule["port_range_max"]),
    v(rule["port_range_min"]),
    protocol === null || protocol === undefined ? none : protocolNameAndNum(String(protocol), rule["ethertype"]).join("/"),
    // An empty remote group id is stored as null (insertRule): the same rule, the same print,
    // or the duplicate check misses it and the unique key answers with a 500.
    v(emptyToNull(rule["remote_group_id"])),
    v(emptyToNull(rule["remote_address_group_id"])),
    prefix === "0.0.0.0/0" || prefix === "::/0" ? none : v(prefix),
  ].join("\n");
}

/** The network of a prefix as str(netaddr.IPNetwork(prefix).cidr) prints it (normalized_cidr). */
export function normalizedCidr(prefix: unknown): string | null {
  if (typeof prefix !== "string" || prefix === "") return null;
  const net = netaddrNetwork(prefix);
  if (!net) return null;
  return `${formatIp({ version: net.version, value: net.value & netMask(net.version, net.prefixLen) })}/${net.prefixLen}`;
}

const invalid = (type: string, message: string): NeutronError => new NeutronError(400, type, message);

/**
 * The checks of _validate_security_group_rule that need no database, in Neutron's order,
 * after the canonical forms it applies first (legacy IPv6 ICMP names, the whole port range
 * meaning no range). Mutates and returns the rule.
 */
function canonicalRule(rule: Record<string, unknown>): Record<string, unknown> {
  // _make_canonical_ipv6_icmp_protocol
  if (rule["ethertype"] === "IPv6") {
    if (typeof rule["protocol"] === "string" && IPV6_ICMP_LEGACY.has(rule["protocol"])) rule["protocol"] = "ipv6-icmp";
    else if (rule["protocol"] === "1") rule["protocol"] = "58";
  }
  // _make_canonical_port_range
  if (rule["port_range_min"] === 1 && rule["port_range_max"] === 65535) {
    rule["port_range_min"] = null;
    rule["port_range_max"] = null;
  }
  validatePortRange(rule);
  // _validate_ip_prefix
  const prefix = rule["remote_ip_prefix"];
  if (typeof prefix === "string" && prefix !== "") {
    const net = netaddrNetwork(prefix);
    if (net && rule["ethertype"] !== `IPv${net.version}`) {
      throw invalid("SecurityGroupRuleParameterConflict", `Conflicting value ethertype ${String(rule["ethertype"])} for CIDR ${prefix}`);
    }
  }
  // _validate_ethertype_and_protocol
  if (typeof rule["protocol"] === "string" && IPV6_ONLY_PROTOCOLS.has(rule["protocol"]) && rule["ethertype"] === "IPv4") {
    throw invalid("SecurityGroupEthertypeConflictWithProtocol", `Invalid ethertype IPv4 for protocol ${rule["protocol"]}.`);
  }
  let remote = false;
  for (const key of ["remote_ip_prefix", "remote_group_id", "remote_address_group_id"]) {
    const set = rule[key] !== null && rule[key] !== undefined && rule[key] !== "";
    if (remote && set) {
      throw invalid("SecurityGroupMultipleRemoteEntites", "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.");
    }
    remote ||= set;
  }
  return rule;
}

/** _validate_port_range */
function validatePortRange(rule: Record<string, unknown>): void {
  const min = rule["port_range_min"] as number | null;
  const max = rule["port_range_max"] as number | null;
  if (min === null && max === null) return;
  const protocol = rule["protocol"];
  if (protocol === null || protocol === undefined || protocol === "") {
    throw invalid("SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.");
  }
  const num = protocolNumber(String(protocol));
  if (PORT_PROTOCOLS.has(num)) {
    if (min === 0 || max === 0) throw invalid("SecurityGroupInvalidPortValue", "Invalid value for port 0");
    if (min === null || max === null || min > max) {
      throw invalid("SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max");
    }
  } else if (num === 1 || num === 58) {
    for (const [attr, field, value] of [["port_range_min", "type", min], ["port_range_max", "code", max]] as const) {
      if (value !== null && !(value >= 0 && value <= 255)) {
        throw invalid("SecurityGroupInvalidIcmpValue", `Invalid value for ICMP ${field} (${attr}) ${value}. It must be 0 to 255.`);
      }
    }
    if (min === null && max !== null) {
      throw invalid("SecurityGroupMissingIcmpType", `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`);
    }
  } else {
    throw invalid(
      "SecurityGroupInvalidProtocolForPort",
      `Ports cannot be specified for protocol ${Number.isNaN(num) ? String(protocol) : num}. Ports are only supported for ${PORT_PROTOCOL_NAMES}.`,
    );
  }
}

/** A rule row joined with the project owning its group (the policy's security_group:project_id). */
export interface OwnedRule {
  doc: Doc;
  sgOwner: string | null;
}

/**
 * Security groups and their rules (neutron/db/securitygroups_db.py): each project's default
 * group made on first need, two egress rules in every new group, rule validation and
 * de-duplication, groups in use by ports kept.
 */
export class SecurityGroupManager implements SecurityGroupsApi {
  constructor(private readonly n: Network) {}

  // ---- contract with the other areas -------------------------------------------------

  /**
   * Neutron's _ensure_default_security_group. The default group of a project is the row of
   * net_default_security_group (primary key project_id): creators race for that row with
   * INSERT … ON CONFLICT DO NOTHING, so exactly one of them writes the group and its rules,
   * the others read the winner (on PostgreSQL the insert waits for the winner to commit;
   * nothing is aborted, so the caller's transaction stays usable).
   */
  async ensureDefault(trx: NetworkTrx, projectId: string): Promise<string> {
    const locks = this.n.core.rowLocks;
    const existing = await this.defaultOf(trx, projectId, locks);
    if (existing) return existing;
    const id = uuid();
    const inserted = await trx
      .insertInto("net_default_security_group")
      .values({ project_id: projectId, security_group_id: id })
      .onConflict((oc) => oc.column("project_id").doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) {
      const winner = await this.defaultOf(trx, projectId, locks);
      if (winner) return winner;
      throw conflict("SecurityGroupConflict", "Error default security group creation raced with its deletion while attempting the operation.");
    }
    // create_security_group(default_sg=True): room for the four rules, no group quota check.
    await this.n.quotas.check(trx, projectId, "security_group_rule", 4);
    await this.insertGroup(trx, { id, name: "default", description: DEFAULT_SG_DESCRIPTION, stateful: true, project_id: projectId }, true);
    return id;
  }

  /** Neutron's _get_security_groups_on_port and _validate_sgs_for_port. */
  async assertUsable(q: Q, caller: Caller, projectId: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    let query = q.selectFrom("net_security_group").select(["id", "project_id", "doc"]).where("id", "in", [...ids]);
    // Keeps a concurrent delete of the group waiting until the port's bindings are committed.
    if (this.n.core.rowLocks) query = query.forKeyShare();
    const rows = await query.execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const missing = ids.filter((id) => {
      const r = byId.get(id);
      return !r || !(caller.admin || r.project_id === projectId);
    });
    if (missing.length) throw notFound("security_group", missing.join(", "));
    const statefulness = new Set(rows.map((r) => (JSON.parse(r.doc) as Doc)["stateful"] !== false));
    if (statefulness.size > 1) {
      throw conflict(
        "SecurityGroupConflict",
        "Error Cannot apply both stateful and stateless security groups on the same port at the same time while attempting the operation.",
      );
    }
  }

  // ---- security groups -----------------------------------------------------------------

  /** The default group of a project as the API lists it: made first when it may be (see below). */
  async ensureDefaultFor(caller: Caller, projectId: string | undefined): Promise<void> {
    // "Do not allow a tenant to create a default SG for another one" (bug 1987410).
    if (!projectId || (projectId !== caller.projectId && !caller.admin)) return;
    if (await this.defaultOf(this.n.core.db, projectId)) return;
    await this.n.core.write((trx) => this.ensureDefault(trx, projectId));
  }

  async list(caller: Caller, projectFilter: readonly string[] | undefined, withRules: boolean): Promise<Doc[]> {
    await this.ensureDefaultFor(caller, projectFilter?.[0] ?? caller.projectId);
    const db = this.n.core.db;
    let docs: Doc[];
    if (caller.admin) docs = await findDocs(db, "net_security_group", projectFilter ? { project_id: projectFilter } : {});
    else docs = await findDocs(db, "net_security_group", { project_id: caller.projectId ?? "" });
    return withRules ? this.withRules(db, docs) : docs;
  }

  async get(caller: Caller, id: string): Promise<Doc | undefined> {
    const doc = await getDoc(this.n.core.db, "net_security_group", id);
    if (!doc || !(caller.admin || doc["project_id"] === caller.projectId)) return undefined;
    return (await this.withRules(this.n.core.db, [doc]))[0];
  }

  /** The project owning a group (null when there is no such group). */
  async ownerOf(id: string): Promise<string | null> {
    const row = await this.n.core.db.selectFrom("net_security_group").select("project_id").where("id", "=", id).executeTakeFirst();
    return row ? row.project_id : null;
  }

  async create(caller: Caller, items: Array<Record<string, unknown>>): Promise<Doc[]> {
    return this.n.core.write(async (trx) => {
      const out: Doc[] = [];
      for (const item of items) {
        const projectId = String(item["project_id"]);
        await this.n.quotas.check(trx, projectId, "security_group");
        if (projectId === caller.projectId || caller.admin) await this.ensureDefault(trx, projectId);
        await this.n.quotas.check(trx, projectId, "security_group_rule", ETHERTYPES.length);
        const group = { ...item, id: uuid(), project_id: projectId, stateful: item["stateful"] !== false };
        out.push(await this.insertGroup(trx, group, false));
      }
      return this.withRules(trx, out);
    });
  }

  async update(id: string, changes: Record<string, unknown>, ifRevision: number | undefined): Promise<Doc> {
    return this.n.core.write(async (trx) => {
      const doc = await getDoc(trx, "net_security_group", id, this.n.core.rowLocks);
      if (!doc) throw notFound("security_group", id);
      assertRevision(doc, ifRevision);
      if ("stateful" in changes && changes["stateful"] !== doc["stateful"] && (await this.inUse(trx, id))) {
        throw inUseError(id);
      }
      if (doc["name"] === "default" && "name" in changes) {
        throw conflict("SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.");
      }
      Object.assign(doc, changes);
      this.n.core.touch(doc);
      await updateDoc(trx, SECURITY_GROUP_SPEC, doc);
      return (await this.withRules(trx, [doc]))[0] as Doc;
    });
  }

  async delete(caller: Caller, id: string, ifRevision: number | undefined): Promise<void> {
    await this.n.core.write(async (trx) => {
      const locks = this.n.core.rowLocks;
      const doc = await getDoc(trx, "net_security_group", id, locks);
      if (!doc) throw notFound("security_group", id);
      assertRevision(doc, ifRevision);
      // Lock the default-group row too: a port being created takes it in ensureDefault, so
      // the bindings check below sees that port's bindings once it has committed.
      let defaults = trx.selectFrom("net_default_security_group").select("project_id").where("security_group_id", "=", id);
      if (locks) defaults = defaults.forUpdate();
      await defaults.execute();
      if (await this.inUse(trx, id)) throw inUseError(id);
      if (doc["name"] === "default" && !caller.admin) {
        throw conflict("SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group.");
      }
      // The group's rules, and (ON DELETE CASCADE in Neutron) other groups' rules naming it.
      await trx.deleteFrom("net_security_group_rule").where("security_group_id", "=", id).execute();
      await trx.deleteFrom("net_security_group_rule").where("remote_group_id", "=", id).execute();
      await trx.deleteFrom("net_default_security_group").where("security_group_id", "=", id).execute();
      await deleteDoc(trx, "net_security_group", id);
    });
  }

  // ---- rules ---------------------------------------------------------------------------

  /**
   * Rules the caller may see before policy: an admin all; a project the rules of its groups
   * and the rules it made in other groups. Each comes with its group's owner.
   */
  async listRules(caller: Caller, filters: Record<string, string[]>): Promise<OwnedRule[]> {
    const projectFilter = filters["project_id"] ?? filters["tenant_id"];
    await this.ensureDefaultFor(caller, projectFilter?.[0] ?? caller.projectId);
    const db = this.n.core.db;
    const groupFilter = filters["security_group_id"]?.filter((x) => x !== "");
    const base = () => {
      let query = db
        .selectFrom("net_security_group_rule as r")
        .leftJoin("net_security_group as g", "g.id", "r.security_group_id")
        .select(["r.doc as doc", "g.project_id as sg_owner"]);
      if (groupFilter?.length) query = query.where("r.security_group_id", "in", groupFilter);
      return query;
    };
    let rows: Array<{ doc: string; sg_owner: string | null }>;
    if (caller.admin) {
      rows = await base().execute();
    } else {
      const projectId = caller.projectId ?? "";
      const [inGroups, made] = await Promise.all([base().where("g.project_id", "=", projectId).execute(), base().where("r.project_id", "=", projectId).execute()]);
      const seen = new Set<string>();
      rows = [];
      for (const r of inGroups.concat(made)) {
        const doc = JSON.parse(r.doc) as Doc;
        if (seen.has(doc.id)) continue;
        seen.add(doc.id);
        rows.push(r);
      }
    }
    return rows.map((r) => ({ doc: JSON.parse(r.doc) as Doc, sgOwner: r.sg_owner }));
  }

  /** Any rule by id (Neutron reads rules with an admin context; policy decides who sees it). */
  async getRule(id: string): Promise<OwnedRule | undefined> {
    const row = await this.n.core.db
      .selectFrom("net_security_group_rule as r")
      .leftJoin("net_security_group as g", "g.id", "r.security_group_id")
      .select(["r.doc as doc", "g.project_id as sg_owner"])
      .where("r.id", "=", id)
      .executeTakeFirst();
    return row ? { doc: JSON.parse(row.doc) as Doc, sgOwner: row.sg_owner } : undefined;
  }

  /**
   * create_security_group_rule(_bulk_native): one group and one project per request, every
   * rule validated, duplicates refused (in the request, then against the group's rules).
   */
  async createRules(caller: Caller, items: Array<Record<string, unknown>>): Promise<Doc[]> {
    const groups = new Set(items.map((i) => String(i["security_group_id"])));
    if (groups.size > 1) throw invalid("SecurityGroupNotSingleGroupRules", "Only allowed to update rules for one security profile at a time");
    const projects = new Set(items.map((i) => String(i["project_id"])));
    if (projects.size > 1) throw invalid("SecurityGroupRulesNotSingleTenant", "Multiple tenant_ids in bulk security group rule create not allowed");
    const sgId = [...groups][0] ?? "";
    const projectId = [...projects][0] ?? "";
    try {
      return await this.n.core.write(async (trx) => {
        await this.n.quotas.check(trx, projectId, "security_group_rule", items.length);
        const rules = items.map((item) => canonicalRule({ ...item }));
        for (const rule of rules) {
          const remote = rule["remote_group_id"];
          if (remote !== null && remote !== undefined && remote !== "") await this.checkGroup(trx, caller, String(remote), projectId);
          await this.checkGroup(trx, caller, sgId, projectId);
        }
        const keys = rules.map(ruleFingerprint);
        if (new Set(keys).size !== keys.length) throw conflict("DuplicateSecurityGroupRuleInPost", "Duplicate Security Group Rule in POST.");
        await this.assertNoDuplicate(trx, sgId, keys);
        const group = await getDoc(trx, "net_security_group", sgId, this.n.core.rowLocks);
        if (!group) throw notFound("security_group", sgId);
        const out: Doc[] = [];
        for (const rule of rules) {
          out.push(await this.insertRule(trx, { ...rule, id: uuid() }));
          this.n.core.touch(group);
        }
        await updateDoc(trx, SECURITY_GROUP_SPEC, group);
        return out;
      });
    } catch (e) {
      // A concurrent request added the same rule first: the unique (group, fingerprint) key.
      if (isUniqueViolation(e)) {
        const keys = items.map((item) => ruleFingerprint(canonicalRule({ ...item })));
        await this.assertNoDuplicate(this.n.core.db, sgId, keys);
      }
      throw e;
    }
  }

  async deleteRule(id: string, ifRevision: number | undefined): Promise<void> {
    await this.n.core.write(async (trx) => {
      const locks = this.n.core.rowLocks;
      const rule = await getDoc(trx, "net_security_group_rule", id, locks);
      if (!rule) throw notFound("security_group_rule", id);
      assertRevision(rule, ifRevision);
      await deleteDoc(trx, "net_security_group_rule", id);
      // A rule's change revises its group (revises_on_change = ('security_group',)).
      const group = await getDoc(trx, "net_security_group", String(rule["security_group_id"]), locks);
      if (group) {
        this.n.core.touch(group);
        await updateDoc(trx, SECURITY_GROUP_SPEC, group);
      }
    });
  }

  // ---- helpers -------------------------------------------------------------------------

  private async defaultOf(q: Q, projectId: string, lock = false): Promise<string | undefined> {
    let query = q.selectFrom("net_default_security_group").select("security_group_id").where("project_id", "=", projectId);
    if (lock) query = query.forKeyShare();
    return (await query.executeTakeFirst())?.security_group_id;
  }

  private async inUse(q: Q, id: string): Promise<boolean> {
    return (await q.selectFrom("net_port_security_group").select("port_id").where("security_group_id", "=", id).executeTakeFirst()) !== undefined;
  }

  /** _check_security_group: the group exists and (admin aside) belongs to the rule's project. */
  private async checkGroup(q: Q, caller: Caller, id: string, projectId: string): Promise<void> {
    const row = await q.selectFrom("net_security_group").select("project_id").where("id", "=", id).executeTakeFirst();
    if (!row || !(caller.admin || row.project_id === projectId)) throw notFound("security_group", id);
  }

  private async assertNoDuplicate(q: Q, sgId: string, keys: string[]): Promise<void> {
    const dup = await q
      .selectFrom("net_security_group_rule")
      .select("id")
      .where("security_group_id", "=", sgId)
      .where("fingerprint", "in", keys)
      .orderBy("id")
      .executeTakeFirst();
    if (dup) throw conflict("SecurityGroupRuleExists", `Security group rule already exists. Rule id is ${dup.id}.`);
  }

  /**
   * A new group with the rules Neutron gives it: egress to anywhere for IPv4 and IPv6, and
   * for a default group also ingress from its own members. Neutron writes them in one flush,
   * which revises the group once: a new group shows revision_number 1.
   */
  private async insertGroup(trx: NetworkTrx, g: { id: string; project_id: string; [k: string]: unknown }, isDefault: boolean): Promise<Doc> {
    const core = this.n.core;
    const doc: Doc = core.stamp({
      id: g.id,
      name: g["name"] ?? "",
      description: g["description"] ?? "",
      stateful: g["stateful"] !== false,
      project_id: g.project_id,
      tenant_id: g.project_id,
      tags: [],
    });
    doc["revision_number"] = 1;
    await insertDoc(trx, SECURITY_GROUP_SPEC, doc);
    for (const ethertype of ETHERTYPES) {
      const base = { security_group_id: g.id, ethertype, project_id: g.project_id, description: null };
      if (isDefault) await this.insertRule(trx, { ...base, id: uuid(), direction: "ingress", remote_group_id: g.id });
      await this.insertRule(trx, { ...base, id: uuid(), direction: "egress" });
    }
    return doc;
  }

  private async insertRule(trx: NetworkTrx, r: Record<string, unknown> & { id: string }): Promise<Doc> {
    const prefix = (r["remote_ip_prefix"] as string | null | undefined) ?? null;
    const project = String(r["project_id"]);
    const doc: Doc = this.n.core.stamp({
      id: r.id,
      security_group_id: r["security_group_id"],
      remote_group_id: emptyToNull(r["remote_group_id"]),
      direction: r["direction"],
      protocol: r["protocol"] ?? null,
      port_range_min: r["port_range_min"] ?? null,
      port_range_max: r["port_range_max"] ?? null,
      ethertype: r["ethertype"],
      remote_ip_prefix: prefix,
      normalized_cidr: normalizedCidr(prefix),
      project_id: project,
      tenant_id: project,
      description: r["description"] === undefined ? "" : r["description"],
    });
    // Rules carry no tags of their own (no tag_support on the model).
    delete doc["tags"];
    await insertDoc(trx, SECURITY_GROUP_RULE_SPEC, doc);
    return doc;
  }

  /** security_group_rules of each group: one query for all of them, rules in id order. */
  private async withRules(q: Q, groups: Doc[]): Promise<Doc[]> {
    if (groups.length === 0) return groups;
    const byGroup = new Map<string, Doc[]>();
    const ids = groups.map((g) => g.id);
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await q
        .selectFrom("net_security_group_rule")
        .select(["security_group_id", "doc"])
        .where("security_group_id", "in", ids.slice(i, i + 500))
        .orderBy("id")
        .execute();
      for (const row of rows) {
        const list = byGroup.get(row.security_group_id) ?? [];
        list.push(embeddedRule(JSON.parse(row.doc) as Doc));
        byGroup.set(row.security_group_id, list);
      }
    }
    return groups.map((g) => ({ ...g, security_group_rules: byGroup.get(g.id) ?? [] }));
  }
}

function emptyToNull(v: unknown): unknown {
  return v === undefined || v === "" ? null : v;
}

function inUseError(id: string): NeutronError {
  return conflict("SecurityGroupInUse", `Security Group ${id} in use.`);
}

/**
 * A rule as a group embeds it: _make_security_group_rule_dict plus the standard-attribute
 * extenders, with none of the API layer's filtering (so remote_address_group_id and tags show).
 */
function embeddedRule(r: Doc): Doc {
  return {
    id: r.id,
    tenant_id: r["tenant_id"],
    security_group_id: r["security_group_id"],
    ethertype: r["ethertype"],
    direction: r["direction"],
    protocol: r["protocol"],
    port_range_min: r["port_range_min"],
    port_range_max: r["port_range_max"],
    remote_ip_prefix: r["remote_ip_prefix"],
    remote_address_group_id: null,
    normalized_cidr: r["normalized_cidr"],
    remote_group_id: r["remote_group_id"],
    description: r["description"],
    tags: [],
    created_at: r["created_at"],
    updated_at: r["updated_at"],
    revision_number: r["revision_number"],
    project_id: r["project_id"],
  };
}

