import { uuid } from "../../../common/ids.js";
import type { FixedIp, FixedIpRequest, InternalPortSpec, Network, PortsApi } from "../api/deps.js";
import { assertRevision } from "../api/resource.js";
import type { Caller } from "../core.js";
import { NeutronError, badRequest, conflict, notFound } from "../errors.js";
import { isEui64Address, normalizeMac, parseIp, randomMac } from "../ipam/index.js";
import type { Doc, DocSpec } from "../store/docs.js";
import { deleteDoc, getDoc, updateDoc } from "../store/docs.js";
import type { NetworkTrx, Q } from "../store/tables.js";

export const PORT_SPEC: DocSpec<"net_port"> = {
  table: "net_port",
  columns: (d) => ({
    project_id: String(d["project_id"] ?? ""),
    network_id: String(d["network_id"]),
    device_id: String(d["device_id"] ?? ""),
    device_owner: String(d["device_owner"] ?? ""),
    mac_address: String(d["mac_address"]),
  }),
};

/** neutron_lib constants.ROUTER_INTERFACE_OWNERS */
const ROUTER_INTERFACE_OWNERS = new Set([
  "network:router_interface",
  "network:ha_router_replicated_interface",
  "network:router_interface_distributed",
]);

/**
 * Ports the DHCP and L3 agents take on their host: ML2 binds them there and the agent
 * reports them up. Floating IP ports are never bound (status N/A), DVR ports are
 * distributed.
 */
const AGENT_OWNERS = new Set([
  "network:dhcp",
  "network:router_interface",
  "network:router_gateway",
  "network:ha_router_replicated_interface",
  "network:router_centralized_snat",
]);

const UNPLUGGED = new Set(["unbound", "binding_failed"]);

/** The binding profile column is VARCHAR(4095) in ML2 (models.BINDING_PROFILE_LEN). */
const BINDING_PROFILE_LEN = 4095;

/** neutron.conf mac_generation_retries */
const MAC_GENERATION_RETRIES = 16;

export interface AddressPair {
  ip_address: string;
  mac_address?: string;
}

export interface DhcpOpt {
  opt_name: string;
  opt_value: string | null;
  ip_version?: number;
}

/** The list filters a database query can apply (the controller re-checks every one). */
export interface PortQuery {
  ids?: string[];
  networkIds?: string[];
  deviceIds?: string[];
  deviceOwners?: string[];
  projectIds?: string[];
  macs?: string[];
  fixedIps?: { ip_address?: string[]; subnet_id?: string[]; ip_address_substr?: string[] };
}

/** Whether a device owner marks a port the cloud trusts (neutron_lib utils.net.is_port_trusted). */
export const isTrusted = (owner: unknown): boolean => typeof owner === "string" && owner.startsWith("network:");

/**
 * Ports: ML2's create/update/delete with IPAM, MAC allocation, port security, security
 * group bindings, allowed address pairs, extra DHCP options and port binding through the
 * backend driver. The stored document is the API document, so reads never join.
 */
export class PortManager implements PortsApi {
  constructor(private readonly n: Network) {}

  /** Where generated MACs come from: base_mac plus random octets (tests force collisions here). */
  nextMac: () => string = () => randomMac(this.n.core.config.baseMac);

  // ---------------------------------------------------------------- reads

  async load(q: Q, id: string, lock = false): Promise<Doc | undefined> {
    return getDoc(q, "net_port", id, lock && this.n.core.rowLocks);
  }

  /**
   * Ports the caller may see before policy: everything for an admin; otherwise its own
   * ports and the ports on networks it owns (db_base_plugin_v2 _port_filter_hook).
   */
  async list(caller: Caller, f: PortQuery): Promise<Doc[]> {
    const db = this.n.core.db;
    let query = db.selectFrom("net_port").select("doc");
    if (!caller.admin) {
      const pid = caller.projectId ?? "";
      query = query.where((eb) =>
        eb.or([eb("project_id", "=", pid), eb("network_id", "in", eb.selectFrom("net_network").select("id").where("project_id", "=", pid))]),
      );
    }
    const cols: Array<[keyof PortQuery, "id" | "network_id" | "device_id" | "device_owner" | "project_id" | "mac_address"]> = [
      ["ids", "id"],
      ["networkIds", "network_id"],
      ["deviceIds", "device_id"],
      ["deviceOwners", "device_owner"],
      ["projectIds", "project_id"],
      ["macs", "mac_address"],
    ];
    for (const [key, col] of cols) {
      const v = f[key] as string[] | undefined;
      if (v === undefined) continue;
      if (v.length === 0) return [];
      query = query.where(col, "in", v);
    }
    const fx = f.fixedIps;
    if (fx?.ip_address?.length) {
      const ips = fx.ip_address;
      query = query.where("id", "in", (eb) => eb.selectFrom("net_ip_allocation").select("port_id").where("ip_address", "in", ips));
    }
    if (fx?.subnet_id?.length) {
      const subnets = fx.subnet_id;
      query = query.where("id", "in", (eb) => eb.selectFrom("net_ip_allocation").select("port_id").where("subnet_id", "in", subnets));
    }
    // LIKE has no portable escape: substrings with wildcards are left to the controller's check.
    const subs = fx?.ip_address_substr;
    if (subs?.length && subs.every((s) => !/[\\%_]/.test(s))) {
      query = query.where("id", "in", (eb) =>
        eb
          .selectFrom("net_ip_allocation")
          .select("port_id")
          .where((e) => e.or(subs.map((s) => e("ip_address", "like", `%${s}%`)))),
      );
    }
    const rows = await query.execute();
    const out: Doc[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = JSON.parse((rows[i] as { doc: string }).doc) as Doc;
    return out;
  }

  /** One port as the caller may see it before policy (same rule as list). */
  async get(caller: Caller, id: string): Promise<Doc | undefined> {
    const doc = await this.load(this.n.core.db, id);
    if (!doc) return undefined;
    if (caller.admin || doc["project_id"] === caller.projectId) return doc;
    const net = await this.n.core.db.selectFrom("net_network").select("project_id").where("id", "=", String(doc["network_id"])).executeTakeFirst();
    return net && net.project_id === caller.projectId ? doc : undefined;
  }

  // ---------------------------------------------------------------- create

  /** API create: every item in one transaction (bulk is all or nothing). */
  async create(caller: Caller, items: Array<Record<string, unknown>>): Promise<Doc[]> {
    const docs = await this.n.core.write(async (trx) => {
      const out: Doc[] = [];
      for (const item of items) out.push(await this.createOne(trx, item, caller));
      return out;
    });
    for (const d of docs) await this.n.driver.realize("port", d.id, "create");
    return docs;
  }

  async createInternal(trx: NetworkTrx, spec: InternalPortSpec): Promise<Doc> {
    const item: Record<string, unknown> = {
      network_id: spec.network_id,
      project_id: spec.project_id,
      tenant_id: spec.project_id,
      name: spec.name ?? "",
      description: "",
      admin_state_up: spec.admin_state_up ?? true,
      device_id: spec.device_id,
      device_owner: spec.device_owner,
      fixed_ips: spec.fixed_ips,
      "binding:vnic_type": "normal",
      extra_dhcp_opts: null,
    };
    const doc = await this.createOne(trx, item, undefined);
    await this.n.driver.realize("port", doc.id, "create");
    return doc;
  }

  /**
   * ML2 create_port for one item: `caller` undefined for the cloud's own ports (no quota,
   * no ownership rules). Neutron's order: MAC, addresses, port security and security
   * groups, binding, address pairs, DHCP options.
   */
  private async createOne(trx: NetworkTrx, item: Record<string, unknown>, caller: Caller | undefined): Promise<Doc> {
    const core = this.n.core;
    const networkId = String(item["network_id"]);
    const projectId = String(item["project_id"] ?? "");
    const owner = String(item["device_owner"] ?? "");
    const deviceId = String(item["device_id"] ?? "");
    // PostgreSQL: a key-share lock on the network makes a concurrent network delete (which locks
    // the row for update) wait for this port and then refuse with NetworkInUse, instead of
    // leaving the port on a network that is gone (Neutron's delete_network re-checks its ports
    // inside the transaction that removes the network).
    let netQuery = trx.selectFrom("net_network").select("doc").where("id", "=", networkId);
    if (core.rowLocks) netQuery = netQuery.forKeyShare();
    const netRow = await netQuery.executeTakeFirst();
    if (!netRow) throw notFound("network", networkId);
    const net = JSON.parse(netRow.doc) as Doc;
    if (caller) {
      await this.assertDeviceIdOwned(trx, caller, owner, deviceId, projectId);
      await this.n.quotas.check(trx, projectId, "port");
    }
    // Neutron's BEFORE_CREATE handler makes the project's default group exist, whatever the port.
    let defaultSg: string | undefined;
    if (projectId !== "" && (caller === undefined || caller.admin || caller.projectId === projectId)) {
      defaultSg = await this.n.securityGroups.ensureDefault(trx, projectId);
    }

    const id = uuid();
    const requestedMac = item["mac_address"] as string | undefined;
    if (requestedMac !== undefined && (await this.macInUse(trx, networkId, requestedMac))) throw macInUse(networkId, requestedMac);
    const fixedIps = item["fixed_ips"] as FixedIpRequest[] | undefined;

    // Port security (ML2 port_security extension driver + _portsec_ext_port_create_processing).
    const trusted = isTrusted(owner);
    const psGiven = item["port_security_enabled"] as boolean | undefined;
    const portSecurity = trusted ? false : psGiven !== undefined ? psGiven : net["port_security_enabled"] !== false;
    const pairsIn = item["allowed_address_pairs"] as AddressPair[] | undefined;
    if (pairsIn !== undefined && pairsIn.length > 0 && !portSecurity) throw addressPairNeedsPortSecurity();
    const sgGiven = item["security_groups"] as string[] | undefined;
    let securityGroups: string[] = [];
    if (portSecurity) {
      if (sgGiven === undefined) securityGroups = defaultSg ? [defaultSg] : [];
      else securityGroups = sgGiven;
    } else if (sgGiven !== undefined && sgGiven.length > 0) {
      throw portSecurityRequiredForSg();
    }
    if (sgGiven !== undefined && sgGiven.length > 0 && !trusted && caller) {
      await this.n.securityGroups.assertUsable(trx, caller, projectId, sgGiven);
    }

    // Binding: the requested host, or the agent's host for the ports agents own.
    const vnicType = String(item["binding:vnic_type"] ?? "normal");
    const profile = profileOf(item["binding:profile"]);
    let host = typeof item["binding:host_id"] === "string" ? (item["binding:host_id"] as string) : "";
    if (caller === undefined && host === "" && AGENT_OWNERS.has(owner)) host = this.n.core.config.hosts[0] ?? "";
    const adminUp = item["admin_state_up"] !== false;

    const doc: Doc = core.stamp({
      id,
      name: item["name"] ?? "",
      network_id: networkId,
      tenant_id: projectId,
      project_id: projectId,
      mac_address: "",
      admin_state_up: adminUp,
      status: owner === "network:floatingip" ? "N/A" : "DOWN",
      device_id: deviceId,
      device_owner: owner,
      fixed_ips: [] as FixedIp[],
      allowed_address_pairs: [] as AddressPair[],
      extra_dhcp_opts: [] as DhcpOpt[],
      security_groups: securityGroups,
      description: item["description"] ?? "",
      "binding:host_id": host,
      "binding:profile": profile,
      "binding:vif_type": "unbound",
      "binding:vif_details": {},
      "binding:vnic_type": vnicType,
      port_security_enabled: portSecurity,
      ip_allocation: Array.isArray(fixedIps) && fixedIps.length === 0 ? "none" : "immediate",
    });
    if (host !== "") await this.bind(doc, net);

    // A generated MAC that another port took meanwhile is replaced (with its SLAAC
    // addresses); a requested one is refused.
    for (let attempt = 1; ; attempt++) {
      const mac = requestedMac ?? this.nextMac();
      doc["mac_address"] = mac;
      const ipamPort = { id, network_id: networkId, mac_address: mac, device_owner: owner, device_id: deviceId };
      const ips = await this.n.ipam.allocate(trx, ipamPort, fixedIps);
      doc["fixed_ips"] = ips;
      doc["allowed_address_pairs"] = pairsIn ? withPairMacs(pairsIn, mac) : [];
      doc["extra_dhcp_opts"] = createDhcpOpts(item["extra_dhcp_opts"] as DhcpOpt[] | null | undefined);
      const inserted = await trx
        .insertInto("net_port")
        .values({ id, doc: JSON.stringify(doc), ...PORT_SPEC.columns(doc) })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) break;
      if (requestedMac !== undefined) throw macInUse(networkId, requestedMac);
      if (ips.length) await this.n.ipam.release(trx, id);
      if (attempt >= MAC_GENERATION_RETRIES) {
        throw new NeutronError(503, "MacAddressGenerationFailure", `Unable to generate unique mac on network ${networkId}.`);
      }
    }
    if (securityGroups.length) {
      await trx
        .insertInto("net_port_security_group")
        .values(securityGroups.map((sg) => ({ port_id: id, security_group_id: sg })))
        .execute();
    }
    return doc;
  }

  // ---------------------------------------------------------------- update

  async update(caller: Caller, id: string, changes: Record<string, unknown>, ifRevision: number | undefined): Promise<Doc> {
    const doc = await this.n.core.write(async (trx) => {
      const doc = await this.load(trx, id, true);
      if (!doc) throw notFound("port", id);
      assertRevision(doc, ifRevision);
      await this.applyUpdate(trx, caller, doc, changes);
      this.n.core.touch(doc);
      await updateDoc(trx, PORT_SPEC, doc);
      return doc;
    });
    await this.n.driver.realize("port", id, "update");
    return doc;
  }

  private async applyUpdate(trx: NetworkTrx, caller: Caller, doc: Doc, changes: Record<string, unknown>): Promise<void> {
    const networkId = String(doc["network_id"]);
    const net = await getDoc(trx, "net_network", networkId);
    const oldMac = String(doc["mac_address"]);
    const newMac = changes["mac_address"] as string | undefined;
    const macChanged = newMac !== undefined && newMac !== oldMac;

    // ML2 _check_mac_update_allowed, then db_base_plugin _validate_port_for_update.
    if (macChanged && !UNPLUGGED.has(String(doc["binding:vif_type"]))) {
      throw conflict(
        "PortBound",
        `Unable to complete operation on port ${doc.id}, port is already bound, port type: ${String(doc["binding:vif_type"])}, old_mac ${oldMac}, new_mac ${newMac}.`,
      );
    }
    const currentOwner = (changes["device_owner"] as string | undefined) || String(doc["device_owner"] ?? "");
    const currentDevice = (changes["device_id"] as string | undefined) || String(doc["device_id"] ?? "");
    const deviceChanged = changes["device_id"] !== doc["device_id"];
    if ((currentOwner && deviceChanged) || "device_owner" in changes) {
      await this.assertDeviceIdOwned(trx, caller, currentOwner, currentDevice, String(doc["project_id"]));
    }
    if (macChanged && isTrusted(currentOwner)) {
      throw conflict("UnsupportedPortDeviceOwner", `Operation mac address update is not supported for device_owner ${currentOwner} on port ${doc.id}.`);
    }
    if (macChanged && (await this.macInUse(trx, networkId, newMac))) throw macInUse(networkId, newMac);

    // Addresses: the requested set. A new MAC moves the port's EUI-64 (SLAAC) addresses:
    // they are released first, then their subnets are asked again with the new MAC
    // (ipam_pluggable_backend update_port_with_ips).
    const mac = macChanged ? newMac : oldMac;
    const ipamPort = { id: doc.id, network_id: networkId, mac_address: mac, device_owner: currentOwner, device_id: currentDevice };
    let current = doc["fixed_ips"] as FixedIp[];
    let requested = changes["fixed_ips"] as FixedIpRequest[] | undefined;
    if (macChanged) {
      const eui = current.filter((ip) => isEuiAddress(ip.ip_address));
      if (eui.length) {
        const subnets = new Set(eui.map((ip) => ip.subnet_id));
        const euiIps = new Set(eui.map((ip) => ip.ip_address));
        const base = (requested ?? current).filter(
          (ip) => !(ip.subnet_id !== undefined && subnets.has(ip.subnet_id)) && !(ip.ip_address !== undefined && euiIps.has(ip.ip_address)),
        );
        current = await this.n.ipam.reallocate(trx, { ...ipamPort, fixed_ips: current }, base);
        requested = [...base, ...[...subnets].map((s) => ({ subnet_id: s }))];
      }
    }
    doc["fixed_ips"] = requested !== undefined ? await this.n.ipam.reallocate(trx, { ...ipamPort, fixed_ips: current }, requested) : current;
    if (macChanged) doc["mac_address"] = newMac;

    for (const k of ["name", "description", "admin_state_up", "device_id", "device_owner"]) {
      if (k in changes) doc[k] = changes[k];
    }
    if ("port_security_enabled" in changes) doc["port_security_enabled"] = changes["port_security_enabled"];

    // ML2 _portsec_ext_port_update_processing.
    const pairs = changes["allowed_address_pairs"] as AddressPair[] | undefined;
    const sgs = changes["security_groups"] as string[] | undefined;
    if (doc["port_security_enabled"] === false) {
      if (pairs !== undefined && pairs.length > 0) throw addressPairNeedsPortSecurity();
      if (pairs === undefined && (doc["allowed_address_pairs"] as AddressPair[]).length > 0) throw addressPairNeedsPortSecurity();
      if (sgs !== undefined && sgs.length > 0) throw portSecurityRequiredForSg();
      if (sgs === undefined && (doc["security_groups"] as string[]).length > 0) {
        throw conflict(
          "PortSecurityPortHasSecurityGroup",
          "Port has security group associated. Cannot disable port security or IP address until security group is removed.",
        );
      }
    }
    if (pairs !== undefined && JSON.stringify(pairs) !== JSON.stringify(doc["allowed_address_pairs"])) {
      doc["allowed_address_pairs"] = withPairMacs(pairs, String(doc["mac_address"]));
    }
    if (sgs !== undefined && !sameElements(sgs, doc["security_groups"] as string[])) {
      if (sgs.length) await this.n.securityGroups.assertUsable(trx, caller, String(doc["project_id"]), sgs);
      await trx.deleteFrom("net_port_security_group").where("port_id", "=", doc.id).execute();
      if (sgs.length) {
        await trx
          .insertInto("net_port_security_group")
          .values(sgs.map((sg) => ({ port_id: doc.id, security_group_id: sg })))
          .execute();
      }
      doc["security_groups"] = [...sgs];
    }
    if (Array.isArray(changes["extra_dhcp_opts"]) && changes["extra_dhcp_opts"].length) {
      doc["extra_dhcp_opts"] = updateDhcpOpts(doc["extra_dhcp_opts"] as DhcpOpt[], changes["extra_dhcp_opts"] as DhcpOpt[]);
    }

    // ML2 _process_port_binding: a changed host, vnic type or profile unbinds the port;
    // _bind_port_if_needed binds it again on its host.
    let rebind = false;
    if ("binding:host_id" in changes) {
      const host = (changes["binding:host_id"] as string | null) || "";
      if (host !== doc["binding:host_id"]) {
        doc["binding:host_id"] = host;
        rebind = true;
      }
    }
    if ("binding:vnic_type" in changes && changes["binding:vnic_type"] !== doc["binding:vnic_type"]) {
      doc["binding:vnic_type"] = changes["binding:vnic_type"];
      rebind = true;
    }
    if ("binding:profile" in changes) {
      const profile = profileOf(changes["binding:profile"]);
      if (JSON.stringify(profile) !== JSON.stringify(doc["binding:profile"])) {
        doc["binding:profile"] = profile;
        rebind = true;
      }
    }
    if (rebind) unbind(doc);
    const bound = !UNPLUGGED.has(String(doc["binding:vif_type"]));
    const adminChanged = "admin_state_up" in changes;
    if (net && doc["binding:host_id"] !== "" && (rebind || (bound && adminChanged))) await this.bind(doc, net);
  }

  /** Bind a port on its host through the driver (status from the simulated agent). */
  private async bind(doc: Doc, net: Doc): Promise<void> {
    const b = await this.n.driver.bindPort({
      portId: doc.id,
      networkId: String(doc["network_id"]),
      networkType: String(net["provider:network_type"] ?? "local"),
      host: String(doc["binding:host_id"]),
      vnicType: String(doc["binding:vnic_type"] ?? "normal"),
      deviceOwner: String(doc["device_owner"] ?? ""),
      adminStateUp: doc["admin_state_up"] !== false,
    });
    doc["binding:vif_type"] = b.vifType;
    doc["binding:vif_details"] = b.vifDetails;
    if (doc["status"] !== "N/A") doc["status"] = UNPLUGGED.has(b.vifType) ? "DOWN" : b.status;
  }

  async setDevice(trx: NetworkTrx, id: string, deviceId: string, deviceOwner: string): Promise<Doc> {
    const doc = await this.load(trx, id, true);
    if (!doc) throw notFound("port", id);
    const wasAgentPort = AGENT_OWNERS.has(String(doc["device_owner"]));
    doc["device_id"] = deviceId;
    doc["device_owner"] = deviceOwner;
    if (AGENT_OWNERS.has(deviceOwner) && doc["binding:host_id"] === "") {
      const net = await getDoc(trx, "net_network", String(doc["network_id"]));
      doc["binding:host_id"] = this.n.core.config.hosts[0] ?? "";
      if (net && doc["binding:host_id"] !== "") await this.bind(doc, net);
    } else if (wasAgentPort && !AGENT_OWNERS.has(deviceOwner)) {
      doc["binding:host_id"] = "";
      unbind(doc);
    }
    this.n.core.touch(doc);
    await updateDoc(trx, PORT_SPEC, doc);
    return doc;
  }

  // ---------------------------------------------------------------- delete

  async delete(id: string, ifRevision: number | undefined): Promise<void> {
    await this.n.core.write(async (trx) => {
      const doc = await this.load(trx, id, true);
      if (!doc) throw notFound("port", id);
      assertRevision(doc, ifRevision);
      // l3_db prevent_l3_port_deletion: router and floating IP ports go through their APIs.
      await this.n.routers.preventPortDeletion(trx, doc);
      await this.deleteInternal(trx, id);
    });
    await this.n.driver.realize("port", id, "delete");
  }

  async deleteInternal(trx: NetworkTrx, id: string): Promise<void> {
    await this.n.floatingips.onPortDeleted(trx, id);
    await this.n.ipam.release(trx, id);
    await trx.deleteFrom("net_port_security_group").where("port_id", "=", id).execute();
    await deleteDoc(trx, "net_port", id);
  }

  // ---------------------------------------------------------------- helpers

  async updateFixedIps(trx: NetworkTrx, id: string, fixedIps: FixedIpRequest[]): Promise<Doc> {
    const doc = await this.load(trx, id, true);
    if (!doc) throw notFound("port", id);
    const port = {
      id,
      network_id: String(doc["network_id"]),
      mac_address: String(doc["mac_address"]),
      device_owner: String(doc["device_owner"] ?? ""),
      device_id: String(doc["device_id"] ?? ""),
      fixed_ips: doc["fixed_ips"] as FixedIp[],
    };
    doc["fixed_ips"] = await this.n.ipam.reallocate(trx, port, fixedIps);
    this.n.core.touch(doc);
    await updateDoc(trx, PORT_SPEC, doc);
    return doc;
  }

  /** Subnet going away: its addresses leave the ports' documents (IPAM frees the rows). */
  async onSubnetDeleted(trx: NetworkTrx, subnetId: string): Promise<void> {
    const rows = await trx
      .selectFrom("net_port")
      .select("doc")
      .where("id", "in", (eb) => eb.selectFrom("net_ip_allocation").select("port_id").where("subnet_id", "=", subnetId))
      .execute();
    for (const r of rows) {
      const doc = JSON.parse(r.doc) as Doc;
      doc["fixed_ips"] = (doc["fixed_ips"] as FixedIp[]).filter((ip) => ip.subnet_id !== subnetId);
      this.n.core.touch(doc);
      await updateDoc(trx, PORT_SPEC, doc);
    }
  }

  private async macInUse(q: Q, networkId: string, mac: string): Promise<boolean> {
    const row = await q.selectFrom("net_port").select("id").where("network_id", "=", networkId).where("mac_address", "=", mac).executeTakeFirst();
    return row !== undefined;
  }

  /**
   * db_base_plugin _enforce_device_owner_not_router_intf_or_device_id: a project may not
   * present its port as another project's router interface.
   */
  private async assertDeviceIdOwned(q: Q, caller: Caller, owner: string, deviceId: string, projectId: string): Promise<void> {
    if (!ROUTER_INTERFACE_OWNERS.has(owner) || caller.admin || !deviceId) return;
    const router = await q.selectFrom("net_router").select("project_id").where("id", "=", deviceId).executeTakeFirst();
    if (router && router.project_id !== projectId) {
      throw conflict("DeviceIDNotOwnedByTenant", `The following device_id ${deviceId} is not owned by your tenant or matches another tenants router.`);
    }
  }
}

function unbind(doc: Doc): void {
  doc["binding:vif_type"] = "unbound";
  doc["binding:vif_details"] = {};
  if (doc["status"] !== "N/A") doc["status"] = "DOWN";
}

/** ML2 treats a null profile as {} and refuses one past the column size. */
function profileOf(v: unknown): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  const profile = v as Record<string, unknown>;
  if (JSON.stringify(profile).length > BINDING_PROFILE_LEN) {
    throw badRequest("Invalid input for operation: binding:profile value too large.", "InvalidInput");
  }
  return profile;
}

function isEuiAddress(text: string): boolean {
  const ip = parseIp(text);
  return ip !== undefined && isEui64Address(ip);
}

function sameElements(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");
}

function macInUse(networkId: string, mac: string): NeutronError {
  return conflict("MacAddressInUse", `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`);
}

function addressPairNeedsPortSecurity(): NeutronError {
  return conflict("AddressPairAndPortSecurityRequired", "Port Security must be enabled in order to have allowed address pairs on a port.");
}

function portSecurityRequiredForSg(): NeutronError {
  return badRequest(
    "Port security must be enabled and port must have an IP address in order to use security groups.",
    "PortSecurityAndIPRequiredForSecurityGroups",
  );
}

/**
 * allowedaddresspairs_db: a pair without a MAC takes the port's; the (mac, ip) pairs are
 * unique per port. The values are kept as the client wrote them.
 */
function withPairMacs(pairs: readonly AddressPair[], portMac: string): AddressPair[] {
  const seen = new Set<string>();
  const out: AddressPair[] = [];
  for (const p of pairs) {
    const mac = p.mac_address ?? portMac;
    const key = `${normalizeMac(mac) ?? mac}\n${p.ip_address}`;
    if (seen.has(key)) {
      throw badRequest(`Request contains duplicate address pair: mac_address ${mac} ip_address ${p.ip_address}.`, "DuplicateAddressPairInRequest");
    }
    seen.add(key);
    out.push({ mac_address: mac, ip_address: p.ip_address });
  }
  return out;
}

/** extradhcpopt_db: options whose value is empty (None for the blank-able ones) are not stored. */
const BLANK_OPTS = new Set(["router", "classless-static-route"]);
function validOptValue(name: string, value: string | null): boolean {
  return BLANK_OPTS.has(name) ? value !== null : Boolean(value);
}

function createDhcpOpts(opts: readonly DhcpOpt[] | null | undefined): DhcpOpt[] {
  const out: DhcpOpt[] = [];
  for (const o of opts ?? []) {
    if (!validOptValue(o.opt_name, o.opt_value)) continue;
    const ipVersion = o.ip_version ?? 4;
    if (out.some((x) => x.opt_name === o.opt_name && x.ip_version === ipVersion)) {
      throw conflict(
        "NeutronDbObjectDuplicateEntry",
        `Failed to create a duplicate ExtraDhcpOpt: for attribute(s) ['port_id', 'opt_name', 'ip_version'] with value(s) None`,
      );
    }
    out.push({ opt_name: o.opt_name, opt_value: o.opt_value, ip_version: ipVersion });
  }
  return out;
}

/** _update_extra_dhcp_opts_on_port: match by (name, ip_version); a null value deletes. */
function updateDhcpOpts(current: readonly DhcpOpt[], updates: readonly DhcpOpt[]): DhcpOpt[] {
  const out = current.map((o) => ({ ...o }));
  for (const u of updates) {
    const ipVersion = u.ip_version ?? 4;
    const at = out.findIndex((o) => o.opt_name === u.opt_name && o.ip_version === ipVersion);
    if (at >= 0) {
      if (u.opt_value === null) out.splice(at, 1);
      else if (validOptValue(u.opt_name, u.opt_value)) (out[at] as DhcpOpt).opt_value = u.opt_value;
    } else if (validOptValue(u.opt_name, u.opt_value)) {
      out.push({ opt_name: u.opt_name, opt_value: u.opt_value, ip_version: ipVersion });
    }
  }
  return out;
}
