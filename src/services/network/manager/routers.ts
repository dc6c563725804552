import { uuid } from "../../../common/ids.js";
import type { FixedIp, FixedIpRequest, InternalPortSpec, Network, RoutersApi } from "../api/deps.js";
import { assertRevision } from "../api/resource.js";
import type { Caller } from "../core.js";
import { NeutronError, notFound } from "../errors.js";
import { cidrContainsIp, cidrsOverlap, formatCidr, normalizeIp, parseCidr, parseIp, pyRepr } from "../ipam/index.js";
import type { Cidr } from "../ipam/index.js";
import type { Doc, DocSpec } from "../store/docs.js";
import { deleteDoc, findDocs, getDoc, insertDoc, updateDoc } from "../store/docs.js";
import { rbacGrants } from "../store/rbac.js";
import type { NetworkTrx, Q } from "../store/tables.js";

/** neutron_lib device owners of the ports L3 creates. */
export const OWNER = {
  interface: "network:router_interface",
  dvrInterface: "network:router_interface_distributed",
  haInterface: "network:ha_router_replicated_interface",
  gateway: "network:router_gateway",
  snat: "network:router_centralized_snat",
  haPort: "network:router_ha_interface",
  floatingip: "network:floatingip",
  dhcp: "network:dhcp",
} as const;
/** constants.ROUTER_INTERFACE_OWNERS */
export const INTERFACE_OWNERS: readonly string[] = [OWNER.interface, OWNER.haInterface, OWNER.dvrInterface];
/** Ports a router holds (RouterPort rows): interfaces, gateway, SNAT and HA ports. */
const ROUTER_PORT_OWNERS: readonly string[] = [...INTERFACE_OWNERS, OWNER.gateway, OWNER.snat, OWNER.haPort];

/** extraroute_db max_routes default. */
const MAX_ROUTES = 30;

export const ROUTER_SPEC: DocSpec<"net_router"> = {
  table: "net_router",
  columns: (d) => ({
    project_id: String(d["project_id"]),
    gw_network_id: (d["external_gateway_info"] as GatewayState | null)?.network_id ?? null,
  }),
};

/** What the router stores of its gateway; the addresses are read from the gateway port. */
interface GatewayState {
  network_id: string;
  enable_snat: boolean;
}

/** A validated external_gateway_info body (dict_or_nodata: a falsy value clears the gateway). */
export interface GatewayRequest {
  network_id?: string;
  enable_snat?: boolean;
  external_fixed_ips?: FixedIpRequest[];
}

export interface InterfaceInfo {
  id: string;
  tenant_id: string;
  project_id: string;
  port_id: string;
  network_id: string;
  subnet_id: string;
  subnet_ids: string[];
}

export interface Route {
  destination: string;
  nexthop: string;
}

/** neutron_lib BadRequest: "Bad <resource> request: <msg>." */
export function badResource(resource: string, msg: string): NeutronError {
  return new NeutronError(400, "BadRequest", `Bad ${resource} request: ${msg}.`);
}

export function fixedIpsOf(port: Doc): FixedIp[] {
  const ips = port["fixed_ips"];
  return Array.isArray(ips) ? (ips as FixedIp[]) : [];
}

function ipVersion(addr: string): 4 | 6 {
  return addr.includes(":") ? 6 : 4;
}

function cidrOf(subnet: Doc): Cidr | undefined {
  return parseCidr(String(subnet["cidr"]))?.cidr;
}

/** Whether an address is inside a subnet's CIDR (netaddr's `ip in IPNetwork(cidr)`). */
export function inCidr(addr: string, cidr: string): boolean {
  const c = parseCidr(cidr)?.cidr;
  const ip = parseIp(addr);
  return c !== undefined && ip !== undefined && cidrContainsIp(c, ip);
}

/**
 * A network as _get_network shows it to the caller (own, admin, or granted through RBAC,
 * external ones included), read inside the caller's transaction; NetworkNotFound otherwise.
 */
export async function visibleNetwork(n: Network, q: Q, caller: Caller, id: string): Promise<Doc> {
  const net = await n.networks.load(q, id);
  if (net && (caller.admin || net["project_id"] === caller.projectId)) return net;
  if (net && (await rbacGrants(q, "network", caller.projectId, [id])).length > 0) return net;
  throw notFound("network", id);
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/**
 * Routers (neutron/db/l3_db.py with l3_gwmode_db, extraroute_db, l3_dvr_db and l3_hamode_db
 * folded in): the gateway port on an external network and its SNAT mode, interfaces on
 * subnets or existing ports with Neutron's conflict rules, extra routes, the distributed and
 * ha flags with their interface device owners and admin-down migrations. Ports are made and
 * removed through PortsApi inside each operation's transaction.
 */
export class RouterManager implements RoutersApi {
  constructor(private readonly n: Network) {}

  // ------------------------------------------------------------------ reads

  async list(caller: Caller, projectFilter?: readonly string[]): Promise<Doc[]> {
    const db = this.n.core.db;
    let docs: Doc[];
    if (caller.admin) docs = await findDocs(db, "net_router", projectFilter ? { project_id: projectFilter } : {});
    else docs = await findDocs(db, "net_router", { project_id: caller.projectId ?? "" });
    return this.present(db, docs);
  }

  async get(caller: Caller, id: string): Promise<Doc | undefined> {
    const doc = await this.visible(this.n.core.db, caller, id);
    return doc && (await this.present(this.n.core.db, [doc]))[0];
  }

  /** The stored router if the caller's project owns it (or the caller is an admin). */
  private async visible(q: Q, caller: Caller, id: string, lock = false): Promise<Doc | undefined> {
    const doc = await getDoc(q, "net_router", id, lock && this.n.core.rowLocks);
    if (!doc) return undefined;
    if (!caller.admin && doc["project_id"] !== caller.projectId) return undefined;
    return doc;
  }

  async load(q: Q, id: string, lock = false): Promise<Doc | undefined> {
    return getDoc(q, "net_router", id, lock && this.n.core.rowLocks);
  }

  /** Computed attributes: external_gateway_info with the gateway port's addresses, AZs. */
  async present(q: Q, docs: Doc[]): Promise<Doc[]> {
    if (docs.length === 0) return docs;
    const gwIds = docs.map((d) => d["gw_port_id"]).filter((x): x is string => typeof x === "string");
    const gwPorts = new Map((gwIds.length ? await findDocs(q, "net_port", { id: gwIds }) : []).map((p) => [p.id, p]));
    const azs = this.n.driver.availabilityZones().filter((a) => a.resource === "router").map((a) => a.name);
    return docs.map((d) => {
      const gw = d["external_gateway_info"] as GatewayState | null;
      const port = typeof d["gw_port_id"] === "string" ? gwPorts.get(d["gw_port_id"]) : undefined;
      const hints = (d["availability_zone_hints"] as string[] | undefined) ?? [];
      return {
        ...d,
        external_gateway_info: gw
          ? {
              network_id: gw.network_id,
              external_fixed_ips: port ? fixedIpsOf(port).map((ip) => ({ subnet_id: ip.subnet_id, ip_address: ip.ip_address })) : [],
              enable_snat: gw.enable_snat,
            }
          : null,
        availability_zones: hints.length ? hints : azs.slice(0, 1),
      };
    });
  }

  /** Every port the router holds (interfaces, gateway, SNAT ports). */
  private async routerPorts(q: Q, routerId: string): Promise<Doc[]> {
    const ports = await findDocs(q, "net_port", { device_id: routerId });
    return ports.filter((p) => ROUTER_PORT_OWNERS.includes(str(p["device_owner"])));
  }

  /** _get_device_owner: DVR routers' interfaces are distributed, HA ones replicated. */
  private interfaceOwner(router: Doc): string {
    if (router["distributed"] === true) return OWNER.dvrInterface;
    if (router["ha"] === true) return OWNER.haInterface;
    return OWNER.interface;
  }

  // ------------------------------------------------------------------ RoutersApi

  /**
   * get_router_for_floatingip: routers with an interface on the subnet and a gateway on the
   * external network; the one whose interface holds the subnet's gateway_ip wins.
   */
  async routerFor(q: Q, subnetId: string, externalNetworkId: string): Promise<string | undefined> {
    const rows = await q
      .selectFrom("net_ip_allocation as a")
      .innerJoin("net_port as p", "p.id", "a.port_id")
      .innerJoin("net_router as r", "r.id", "p.device_id")
      .select(["r.id as router_id", "a.ip_address as ip_address"])
      .where("a.subnet_id", "=", subnetId)
      .where("p.device_owner", "in", INTERFACE_OWNERS)
      .where("r.gw_network_id", "=", externalNetworkId)
      .execute();
    if (rows.length === 0) return undefined;
    const subnet = await this.n.subnets.load(q, subnetId);
    const gatewayIp = subnet?.["gateway_ip"];
    return (rows.find((r) => r.ip_address === gatewayIp) ?? rows[0])?.router_id;
  }

  async preventPortDeletion(q: Q, port: Doc): Promise<void> {
    const owner = str(port["device_owner"]);
    if (!ROUTER_PORT_OWNERS.includes(owner) && owner !== OWNER.floatingip) return;
    // A port without addresses is stale and may go (l3_db.prevent_l3_port_deletion).
    if (fixedIpsOf(port).length === 0) return;
    const deviceId = str(port["device_id"]);
    const table = owner === OWNER.floatingip ? "net_floatingip" : "net_router";
    const owned = await q.selectFrom(table).select("id").where("id", "=", deviceId).executeTakeFirst();
    if (!owned) return;
    throw new NeutronError(409, "ServicePortInUse", `Port ${port.id} cannot be deleted directly via the port API: has device owner ${owner}.`);
  }

  // ------------------------------------------------------------------ create / update / delete

  async create(caller: Caller, items: Array<Record<string, unknown>>): Promise<Doc[]> {
    return this.n.core.write(async (trx) => {
      const out: Doc[] = [];
      for (const item of items) out.push(await this.createOne(trx, caller, item));
      return this.present(trx, out);
    });
  }

  private async createOne(trx: NetworkTrx, caller: Caller, item: Record<string, unknown>): Promise<Doc> {
    const projectId = String(item["project_id"]);
    await this.n.quotas.check(trx, projectId, "router");
    this.checkAzHints((item["availability_zone_hints"] as string[] | undefined) ?? []);
    const doc: Doc = this.n.core.stamp({
      id: uuid(),
      name: item["name"] ?? "",
      admin_state_up: item["admin_state_up"] ?? true,
      status: "ACTIVE",
      project_id: projectId,
      tenant_id: projectId,
      description: item["description"] ?? "",
      external_gateway_info: null,
      gw_port_id: null,
      routes: [],
      // router_distributed and l3_ha are off by default (neutron.conf).
      distributed: typeof item["distributed"] === "boolean" ? item["distributed"] : false,
      ha: typeof item["ha"] === "boolean" ? item["ha"] : false,
      availability_zone_hints: item["availability_zone_hints"] ?? [],
    });
    await insertDoc(trx, ROUTER_SPEC, doc);
    const info = item["external_gateway_info"] as GatewayRequest | null | undefined;
    if (info && Object.keys(info).length > 0) {
      await this.updateGateway(trx, caller, doc, info);
      await updateDoc(trx, ROUTER_SPEC, doc);
    }
    await this.n.driver.realize("router", doc.id, "create");
    return doc;
  }

  private checkAzHints(hints: readonly string[]): void {
    const azs = new Set(this.n.driver.availabilityZones().filter((a) => a.resource === "router").map((a) => a.name));
    for (const hint of hints) {
      if (!azs.has(hint)) throw new NeutronError(404, "AvailabilityZoneNotFound", `AvailabilityZone ${hint} could not be found.`);
    }
  }

  async update(caller: Caller, id: string, changes: Record<string, unknown>, ifRevision: number | undefined): Promise<Doc> {
    return this.n.core.write(async (trx) => {
      const doc = await this.visible(trx, caller, id, true);
      if (!doc) throw notFound("router", id);
      assertRevision(doc, ifRevision);
      const old = { ...doc };
      // extraroute_db.update_router validates routes against the current ports first...
      if ("routes" in changes) {
        const routes = this.normalizeRoutes((changes["routes"] as Route[] | null) ?? []);
        await this.validateRoutes(trx, doc.id, routes);
        doc["routes"] = routes;
      }
      // ...then l3_db updates the gateway...
      if ("external_gateway_info" in changes) {
        const info = changes["external_gateway_info"] as GatewayRequest | null;
        await this.updateGateway(trx, caller, doc, info && Object.keys(info).length > 0 ? info : null);
      }
      for (const k of ["name", "admin_state_up", "description"]) if (k in changes) doc[k] = changes[k];
      // ...and the DVR/HA handlers check and carry out a migration (PRECOMMIT_UPDATE).
      await this.migrate(trx, old, doc, changes);
      this.n.core.touch(doc);
      await updateDoc(trx, ROUTER_SPEC, doc);
      await this.n.driver.realize("router", id, "update");
      return (await this.present(trx, [doc]))[0] as Doc;
    });
  }

  /**
   * l3_dvr_db._validate_router_migration (with router-admin-state-down-before-update) and
   * l3_hamode_db._validate_migration, then the interface owner changes and the SNAT ports a
   * distributed router with a gateway needs.
   */
  private async migrate(trx: NetworkTrx, old: Doc, doc: Doc, changes: Record<string, unknown>): Promise<void> {
    const wantDvr = changes["distributed"];
    const wantHa = changes["ha"];
    const dvrChanged = typeof wantDvr === "boolean" && wantDvr !== old["distributed"];
    const haChanged = typeof wantHa === "boolean" && wantHa !== old["ha"];
    if (dvrChanged) {
      if (old["admin_state_up"] === true || doc["admin_state_up"] === true) {
        throw badResource(
          "router",
          "Cannot change the 'distributed' attribute of active routers. Please set router admin_state_up to False prior to upgrade",
        );
      }
      if (wantDvr) await this.migratePorts(trx, doc.id, old["ha"] === true ? OWNER.haInterface : OWNER.interface, OWNER.dvrInterface);
      else await this.migratePorts(trx, doc.id, OWNER.dvrInterface, wantHa === true ? OWNER.haInterface : OWNER.interface);
      doc["distributed"] = wantDvr;
    }
    if (haChanged) {
      if (doc["admin_state_up"] === true) {
        throw badResource("router", "Cannot change HA attribute of active routers. Please set router admin_state_up to False prior to upgrade");
      }
      if (!(wantDvr === true || old["distributed"] === true)) {
        if (wantHa) await this.migratePorts(trx, doc.id, OWNER.interface, OWNER.haInterface);
        else await this.migratePorts(trx, doc.id, OWNER.haInterface, OWNER.interface);
      }
      doc["ha"] = wantHa;
    }
    const hasGw = typeof doc["gw_port_id"] === "string";
    if (dvrChanged && hasGw && doc["distributed"] === true) await this.createSnatPorts(trx, doc);
    if (dvrChanged && hasGw && doc["distributed"] !== true) await this.deleteSnatPorts(trx, doc.id);
  }

  private async migratePorts(trx: NetworkTrx, routerId: string, from: string, to: string): Promise<void> {
    for (const p of await this.routerPorts(trx, routerId)) {
      if (p["device_owner"] === from) await this.n.ports.setDevice(trx, p.id, routerId, to);
    }
  }

  async delete(caller: Caller, id: string, ifRevision: number | undefined): Promise<void> {
    await this.n.core.write(async (trx) => {
      const doc = await this.visible(trx, caller, id, true);
      if (!doc) throw notFound("router", id);
      assertRevision(doc, ifRevision);
      const owner = this.interfaceOwner(doc);
      const ports = await this.routerPorts(trx, id);
      const attached = ports.filter((p) => p["device_owner"] === owner).map((p) => p.id);
      if (attached.length) {
        throw new NeutronError(409, "RouterInUse", `Router ${id} has ports still attached: ${attached.join(", ")}`);
      }
      const gwPortId = typeof doc["gw_port_id"] === "string" ? doc["gw_port_id"] : undefined;
      const gwPort = gwPortId ? await this.n.ports.load(trx, gwPortId) : undefined;
      await this.deleteGwPort(trx, doc, gwPort, undefined);
      for (const p of await this.routerPorts(trx, id)) await this.n.ports.deleteInternal(trx, p.id);
      await deleteDoc(trx, "net_router", id);
      await this.n.driver.realize("router", id, "delete");
    });
  }

  // ------------------------------------------------------------------ gateway

  /** l3_gwmode_db._update_router_gw_info + l3_db._update_router_gw_info. Mutates `router`. */
  private async updateGateway(trx: NetworkTrx, caller: Caller, router: Doc, info: GatewayRequest | null): Promise<void> {
    const gwPortId = typeof router["gw_port_id"] === "string" ? router["gw_port_id"] : undefined;
    const gwPort = gwPortId ? await this.n.ports.load(trx, gwPortId) : undefined;
    if (gwPortId && !gwPort) router["gw_port_id"] = null;
    const extIps = info?.external_fixed_ips ?? [];
    const ipChange = this.externalIpChange(gwPort, extIps);
    const networkId = await this.validateGwInfo(trx, caller, info, extIps, router, gwPort);
    // enable_snat_by_default: a gateway set without enable_snat gets SNAT.
    const enableSnat = info && info.enable_snat !== undefined ? info.enable_snat : true;
    if (gwPort && ipChange && gwPort["network_id"] === networkId) {
      await this.replaceGatewayIps(trx, router, gwPort, extIps);
    } else {
      await this.deleteGwPort(trx, router, gwPort, networkId);
      await this.createGwPort(trx, router, gwPort, networkId, extIps);
    }
    router["external_gateway_info"] = networkId ? ({ network_id: networkId, enable_snat: enableSnat } satisfies GatewayState) : null;
  }

  /** _check_for_external_ip_change */
  private externalIpChange(gwPort: Doc | undefined, extIps: FixedIpRequest[]): boolean {
    if (extIps.length === 0) return false;
    if (!gwPort) return true;
    const current = fixedIpsOf(gwPort);
    const setEq = (a: Set<string>, b: Set<string>): boolean => a.size === b.size && [...a].every((x) => b.has(x));
    const subnets = new Set(current.map((ip) => ip.subnet_id));
    const newSubnets = new Set(extIps.map((ip) => ip.subnet_id).filter((x): x is string => !!x));
    if (!setEq(subnets, newSubnets)) return true;
    const addrs = new Set(current.map((ip) => ip.ip_address));
    const newAddrs = new Set(extIps.map((ip) => ip.ip_address).filter((x): x is string => !!x));
    return !setEq(addrs, newAddrs);
  }

  /** _validate_gw_info: the network must be visible and external; routes must stay reachable. */
  private async validateGwInfo(
    trx: NetworkTrx,
    caller: Caller,
    info: GatewayRequest | null,
    extIps: FixedIpRequest[],
    router: Doc,
    gwPort: Doc | undefined,
  ): Promise<string | undefined> {
    const networkId = info?.network_id;
    let gwSubnets: Doc[] = [];
    if (networkId) {
      const net = await visibleNetwork(this.n, trx, caller, networkId);
      if (net["router:external"] !== true) throw badResource("router", `Network ${networkId} is not an external network`);
      gwSubnets = await this.n.subnets.ofNetwork(trx, networkId);
      for (const ip of extIps) {
        for (const s of gwSubnets) {
          if (s["gateway_ip"] && ip.ip_address === s["gateway_ip"]) {
            throw badResource("router", `External IP ${ip.ip_address} is the same as the gateway IP`);
          }
        }
      }
    }
    const routes = (router["routes"] as Route[] | undefined) ?? [];
    if (routes.length) {
      const cidrs: string[] = [];
      const ips: string[] = [];
      for (const p of await this.routerPorts(trx, router.id)) {
        if (gwPort && p.id === gwPort.id) continue;
        for (const ip of fixedIpsOf(p)) {
          const s = await this.n.subnets.load(trx, ip.subnet_id);
          if (s) cidrs.push(String(s["cidr"]));
          ips.push(ip.ip_address);
        }
      }
      for (const s of gwSubnets) cidrs.push(String(s["cidr"]));
      this.checkNexthops(routes, cidrs, ips);
    }
    return networkId;
  }

  /** Same network, other addresses (admin's external_fixed_ips): the port's addresses change. */
  private async replaceGatewayIps(trx: NetworkTrx, router: Doc, gwPort: Doc, extIps: FixedIpRequest[]): Promise<void> {
    if (this.n.ports.updateFixedIps) {
      await this.n.ports.updateFixedIps(trx, gwPort.id, extIps);
      return;
    }
    await this.n.ports.deleteInternal(trx, gwPort.id);
    router["gw_port_id"] = null;
    await this.createGwPort(trx, router, undefined, String(gwPort["network_id"]), extIps);
  }

  /** _delete_current_gw_port: refused while floating IPs go through this router. */
  private async deleteGwPort(trx: NetworkTrx, router: Doc, gwPort: Doc | undefined, newNetworkId: string | undefined): Promise<void> {
    if (!gwPort || gwPort["network_id"] === newNetworkId) return;
    const fip = await trx.selectFrom("net_floatingip").select("id").where("router_id", "=", router.id).executeTakeFirst();
    if (fip) {
      throw new NeutronError(
        409,
        "RouterExternalGatewayInUseByFloatingIp",
        `Gateway cannot be updated for router ${router.id}, since a gateway to external network ${String(gwPort["network_id"])} is required by one or more floating IPs.`,
      );
    }
    await this.n.ports.deleteInternal(trx, gwPort.id);
    router["gw_port_id"] = null;
    // l3_dvr_db._delete_dvr_internal_ports: a cleared gateway takes the SNAT ports with it.
    if (router["distributed"] === true && !newNetworkId) await this.deleteSnatPorts(trx, router.id);
  }

  /** _create_gw_port: a port no project owns, on the external network. */
  private async createGwPort(
    trx: NetworkTrx,
    router: Doc,
    gwPort: Doc | undefined,
    networkId: string | undefined,
    extIps: FixedIpRequest[],
  ): Promise<void> {
    if (!networkId || (gwPort && gwPort["network_id"] === networkId)) return;
    const subnets = await this.n.subnets.ofNetwork(trx, networkId);
    await this.checkDuplicateSubnets(trx, router.id, subnets);
    const spec: InternalPortSpec = {
      network_id: networkId,
      project_id: "",
      device_owner: OWNER.gateway,
      device_id: router.id,
      name: "",
      admin_state_up: true,
    };
    if (extIps.length) spec.fixed_ips = extIps;
    const port = await this.n.ports.createInternal(trx, spec);
    router["gw_port_id"] = port.id;
    if (router["distributed"] === true) await this.createSnatPorts(trx, router);
  }

  /**
   * _check_for_dup_router_subnets: a subnet once per router, and no two router subnets
   * overlapping (the gateway counts with every subnet of its network).
   */
  private async checkDuplicateSubnets(trx: NetworkTrx, routerId: string, newSubnets: Doc[], exceptPort?: string): Promise<void> {
    const newIds = new Set(newSubnets.map((s) => s.id));
    const routerSubnetIds: string[] = [];
    for (const p of await this.routerPorts(trx, routerId)) {
      if (p.id === exceptPort) continue;
      for (const ip of fixedIpsOf(p)) {
        if (newIds.has(ip.subnet_id)) throw badResource("router", `Router already has a port on subnet ${ip.subnet_id}`);
        if (p["device_owner"] === OWNER.gateway) {
          for (const s of await this.n.subnets.ofNetwork(trx, String(p["network_id"]))) routerSubnetIds.push(s.id);
        } else {
          routerSubnetIds.push(ip.subnet_id);
        }
      }
    }
    const candidates = newSubnets.filter((s) => s["cidr"] !== "::/64");
    for (const subId of [...new Set(routerSubnetIds)]) {
      const sub = await this.n.subnets.load(trx, subId);
      const cidr = sub && cidrOf(sub);
      if (!sub || !cidr) continue;
      for (const s of candidates) {
        const c = cidrOf(s);
        if (c && cidrsOverlap(c, cidr)) {
          throw badResource("router", `Cidr ${String(s["cidr"])} of subnet ${s.id} overlaps with cidr ${String(sub["cidr"])} of subnet ${sub.id}`);
        }
      }
    }
  }

  // ------------------------------------------------------------------ DVR SNAT ports

  /** _create_snat_intf_ports_if_not_exists: one per IPv4 interface subnet, one for the IPv6 ones. */
  private async createSnatPorts(trx: NetworkTrx, router: Doc): Promise<void> {
    const ports = await this.routerPorts(trx, router.id);
    if (ports.some((p) => p["device_owner"] === OWNER.snat)) return;
    const v6: FixedIpRequest[] = [];
    let v6Network: string | undefined;
    for (const intf of ports.filter((p) => p["device_owner"] === OWNER.dvrInterface)) {
      for (const ip of fixedIpsOf(intf)) {
        if (ipVersion(ip.ip_address) === 4) await this.addSnatPort(trx, router.id, String(intf["network_id"]), [{ subnet_id: ip.subnet_id }]);
        else {
          v6.push({ subnet_id: ip.subnet_id });
          v6Network = String(intf["network_id"]);
        }
      }
    }
    if (v6.length && v6Network) await this.addSnatPort(trx, router.id, v6Network, v6);
  }

  private async addSnatPort(trx: NetworkTrx, routerId: string, networkId: string, fixedIps: FixedIpRequest[]): Promise<void> {
    await this.n.ports.createInternal(trx, {
      network_id: networkId,
      project_id: "",
      device_owner: OWNER.snat,
      device_id: routerId,
      fixed_ips: fixedIps,
      name: "",
      admin_state_up: true,
    });
  }

  /** delete_csnat_router_interface_ports (all of them, or the one on a subnet). */
  private async deleteSnatPorts(trx: NetworkTrx, routerId: string, subnetId?: string): Promise<void> {
    for (const p of await this.routerPorts(trx, routerId)) {
      if (p["device_owner"] !== OWNER.snat) continue;
      const ips = fixedIpsOf(p);
      if (subnetId === undefined || ips.length === 0 || ips[0]?.subnet_id === subnetId) await this.n.ports.deleteInternal(trx, p.id);
    }
  }

  // ------------------------------------------------------------------ interfaces

  /** The interface_info checks of _validate_interface_info. */
  private interfaceKeys(info: unknown, forRemoval: boolean): { portId?: string; subnetId?: string } {
    const body = info !== null && typeof info === "object" && !Array.isArray(info) ? (info as Record<string, unknown>) : undefined;
    const hasPort = body !== undefined && "port_id" in body;
    const hasSubnet = body !== undefined && "subnet_id" in body;
    if (!hasPort && !hasSubnet) throw badResource("router", "Either subnet_id or port_id must be specified");
    const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
    const out: { portId?: string; subnetId?: string } = {};
    for (const key of ["port_id", "subnet_id"] as const) {
      if (!body || !(key in body)) continue;
      const v = body[key];
      if (typeof v !== "string" || !UUID.test(v)) throw badResource("router", `'${typeof v === "string" ? v : pyRepr(v)}' is not a valid UUID`);
      if (key === "port_id") out.portId = v;
      else out.subnetId = v;
    }
    if (!forRemoval && hasPort && hasSubnet) throw badResource("router", "Cannot specify both subnet-id and port-id");
    return out;
  }

  /** Subnet visibility as get_subnet applies it: own, admin, or on a network shared with the project. */
  private async visibleSubnet(q: Q, caller: Caller, id: string): Promise<Doc> {
    const subnet = await this.n.subnets.load(q, id);
    if (subnet && (caller.admin || subnet["project_id"] === caller.projectId)) return subnet;
    if (subnet && (await rbacGrants(q, "network", caller.projectId, [String(subnet["network_id"])])).length > 0) return subnet;
    throw notFound("subnet", id);
  }

  /** Port visibility as get_port applies it: own, admin, or on the caller's network. */
  async visiblePort(q: Q, caller: Caller, id: string, lock = false): Promise<Doc> {
    const port = await this.n.ports.load(q, id, lock);
    if (port && (caller.admin || port["project_id"] === caller.projectId)) return port;
    if (port) {
      const net = await this.n.networks.load(q, String(port["network_id"]));
      if (net && net["project_id"] === caller.projectId) return port;
    }
    throw notFound("port", id);
  }

  /** _validate_subnet_address_mode */
  private checkAddressMode(subnet: Doc): void {
    if (subnet["ip_version"] === 6 && (subnet["ipv6_ra_mode"] ?? null) === null && (subnet["ipv6_address_mode"] ?? null) !== null) {
      throw badResource("router", `IPv6 subnet ${subnet.id} configured to receive RAs from an external router cannot be added to Neutron Router.`);
    }
  }

  async addInterface(caller: Caller, routerId: string, body: unknown): Promise<InterfaceInfo> {
    const { portId, subnetId } = this.interfaceKeys(body, false);
    return this.n.core.write(async (trx) => {
      const router = await this.visible(trx, caller, routerId, true);
      if (!router) throw notFound("router", routerId);
      const owner = this.interfaceOwner(router);
      let port: Doc;
      let subnets: Doc[];
      let isNew = true;
      if (portId) ({ port, subnets } = await this.addByPort(trx, caller, router, portId, owner));
      else ({ port, subnets, isNew } = await this.addBySubnet(trx, caller, router, subnetId ?? "", owner));
      if (isNew && router["distributed"] === true && typeof router["gw_port_id"] === "string") {
        const last = fixedIpsOf(port).at(-1);
        if (last) await this.addSnatPort(trx, router.id, String(port["network_id"]), [{ subnet_id: last.subnet_id }]);
      }
      this.n.core.touch(router);
      await updateDoc(trx, ROUTER_SPEC, router);
      await this.n.driver.realize("router", router.id, "update");
      return interfaceInfo(router.id, port, subnets, subnets.at(-1));
    });
  }

  private async addByPort(trx: NetworkTrx, caller: Caller, router: Doc, portId: string, owner: string): Promise<{ port: Doc; subnets: Doc[] }> {
    const found = await this.visiblePort(trx, caller, portId, true);
    // _check_router_port(port, device_id=''): free, with at least one address.
    if (found["device_id"] !== "") {
      throw new NeutronError(
        409,
        "PortInUse",
        `Unable to complete operation on port ${portId} for network ${String(found["network_id"])}. Port already has an attached device ${String(found["device_id"])}.`,
      );
    }
    const ips = fixedIpsOf(found);
    if (ips.length === 0) throw badResource("router", "Router port must have at least one fixed IP");
    const subnets: Doc[] = [];
    for (const ip of ips) {
      const s = await this.n.subnets.load(trx, ip.subnet_id);
      if (!s) throw notFound("subnet", ip.subnet_id);
      this.checkAddressMode(s);
      subnets.push(s);
    }
    const port = await this.n.ports.setDevice(trx, portId, router.id, owner);
    // Only one router port with IPv6 subnets per network.
    if (ips.some((ip) => ipVersion(ip.ip_address) === 6)) {
      for (const p of await this.routerPorts(trx, router.id)) {
        if (p.id === portId || p["network_id"] !== port["network_id"]) continue;
        if (fixedIpsOf(p).some((ip) => ipVersion(ip.ip_address) === 6)) {
          throw badResource(
            "router",
            `Cannot have multiple router ports with the same network id if both contain IPv6 subnets. Existing port ${p.id} has IPv6 subnet(s) and network id ${String(p["network_id"])}`,
          );
        }
      }
    }
    await this.checkDuplicateSubnets(trx, router.id, subnets, portId);
    if (subnets.filter((s) => s["ip_version"] === 4).length > 1) throw badResource("router", "Cannot have multiple IPv4 subnets on router port");
    // _validate_port_in_range_or_admin
    if (!caller.admin) {
      for (const ip of ips) {
        const s = subnets.find((x) => x.id === ip.subnet_id);
        if (!s || s["project_id"] === caller.projectId) continue;
        const addr = parseIp(ip.ip_address);
        const pools = (s["allocation_pools"] as Array<{ start: string; end: string }> | undefined) ?? [];
        const inPool = pools.some((pool) => {
          const a = parseIp(pool.start);
          const b = parseIp(pool.end);
          return !!addr && !!a && !!b && addr.version === a.version && addr.value >= a.value && addr.value <= b.value;
        });
        if (!inPool) {
          throw badResource(
            "router",
            `Cannot add interface to router because specified port ${portId} has an IP address out of the allocation pool of subnet ${ip.subnet_id}, which is not owned by the project making the request`,
          );
        }
      }
    }
    return { port, subnets };
  }

  private async addBySubnet(
    trx: NetworkTrx,
    caller: Caller,
    router: Doc,
    subnetId: string,
    owner: string,
  ): Promise<{ port: Doc; subnets: Doc[]; isNew: boolean }> {
    const subnet = await this.visibleSubnet(trx, caller, subnetId);
    const gatewayIp = subnet["gateway_ip"];
    if (typeof gatewayIp !== "string" || gatewayIp === "") throw badResource("router", "Subnet for router interface must have a gateway IP");
    if (subnet["project_id"] !== caller.projectId && !caller.admin) {
      // Only a network shared with this very project (RBAC), not one shared with everyone (LP 1757482).
      const grants = await rbacGrants(trx, "network", caller.projectId, [String(subnet["network_id"])]);
      if (!grants.some((g) => g.action === "access_as_shared" && g.target_project === caller.projectId)) {
        throw badResource("router", `Cannot add interface to router because subnet ${subnetId} is not owned by project making the request`);
      }
    }
    this.checkAddressMode(subnet);
    await this.checkDuplicateSubnets(trx, router.id, [subnet]);
    const fixedIp = { ip_address: gatewayIp, subnet_id: subnet.id };
    if (subnet["ip_version"] === 6 && this.n.ports.updateFixedIps) {
      // IPv6 prefixes of one network share the router's port on it.
      const shared = (await this.routerPorts(trx, router.id)).find(
        (p) => p["device_owner"] === owner && p["network_id"] === subnet["network_id"] && fixedIpsOf(p).some((ip) => ipVersion(ip.ip_address) === 6),
      );
      if (shared) {
        const ips: FixedIpRequest[] = fixedIpsOf(shared).map((ip) => ({ subnet_id: ip.subnet_id, ip_address: ip.ip_address }));
        ips.push(fixedIp);
        const port = await this.n.ports.updateFixedIps(trx, shared.id, ips);
        return { port, subnets: [subnet], isNew: false };
      }
    }
    const port = await this.n.ports.createInternal(trx, {
      network_id: String(subnet["network_id"]),
      project_id: String(router["project_id"]),
      device_owner: owner,
      device_id: router.id,
      fixed_ips: [fixedIp],
      name: "",
      admin_state_up: true,
    });
    return { port, subnets: [subnet], isNew: true };
  }

  async removeInterface(caller: Caller, routerId: string, body: unknown): Promise<InterfaceInfo> {
    const { portId, subnetId } = this.interfaceKeys(body, true);
    return this.n.core.write(async (trx) => {
      const router = await this.visible(trx, caller, routerId, true);
      if (!router) throw notFound("router", routerId);
      const owner = this.interfaceOwner(router);
      const { port, subnets } = portId
        ? await this.removeByPort(trx, router, portId, subnetId, owner)
        : await this.removeBySubnet(trx, caller, router, subnetId ?? "", owner);
      if (router["distributed"] === true) {
        const sub = subnetId ?? fixedIpsOf(port)[0]?.subnet_id;
        if (sub) await this.deleteSnatPorts(trx, router.id, sub);
      }
      this.n.core.touch(router);
      await updateDoc(trx, ROUTER_SPEC, router);
      await this.n.driver.realize("router", router.id, "update");
      return interfaceInfo(router.id, port, subnets, subnets[0]);
    });
  }

  private async removeByPort(
    trx: NetworkTrx,
    router: Doc,
    portId: string,
    subnetId: string | undefined,
    owner: string,
  ): Promise<{ port: Doc; subnets: Doc[] }> {
    const port = (await this.routerPorts(trx, router.id)).find((p) => p.id === portId && p["device_owner"] === owner);
    if (!port) throw new NeutronError(404, "RouterInterfaceNotFound", `Router ${router.id} does not have an interface with id ${portId}`);
    const subnetIds = fixedIpsOf(port).map((ip) => ip.subnet_id);
    if (subnetId && !subnetIds.includes(subnetId)) {
      throw new NeutronError(400, "SubnetMismatchForPort", `Subnet on port ${portId} does not match the requested subnet ${subnetId}.`);
    }
    const subnets: Doc[] = [];
    for (const id of subnetIds) {
      const s = await this.n.subnets.load(trx, id);
      if (s) subnets.push(s);
    }
    for (const s of subnets) await this.checkInterfaceNotInUse(trx, router, s);
    await this.n.ports.deleteInternal(trx, port.id);
    return { port, subnets };
  }

  private async removeBySubnet(trx: NetworkTrx, caller: Caller, router: Doc, subnetId: string, owner: string): Promise<{ port: Doc; subnets: Doc[] }> {
    const subnet = await this.visibleSubnet(trx, caller, subnetId);
    const ports = (await this.routerPorts(trx, router.id)).filter((p) => p["device_owner"] === owner && p["network_id"] === subnet["network_id"]);
    if (ports.length) await this.checkInterfaceNotInUse(trx, router, subnet);
    for (const p of ports) {
      const ips = fixedIpsOf(p);
      if (!ips.some((ip) => ip.subnet_id === subnetId)) continue;
      if (ips.length > 1 && this.n.ports.updateFixedIps) {
        // A multi-prefix IPv6 port keeps its other prefixes.
        const rest = ips.filter((ip) => ip.subnet_id !== subnetId).map((ip) => ({ subnet_id: ip.subnet_id, ip_address: ip.ip_address }));
        await this.n.ports.updateFixedIps(trx, p.id, rest);
      } else if (ips.length > 1) {
        const rest = ips.filter((ip) => ip.subnet_id !== subnetId).map((ip) => ({ subnet_id: ip.subnet_id, ip_address: ip.ip_address }));
        await this.n.ports.deleteInternal(trx, p.id);
        await this.n.ports.createInternal(trx, {
          network_id: String(p["network_id"]),
          project_id: String(p["project_id"]),
          device_owner: owner,
          device_id: router.id,
          fixed_ips: rest,
          name: str(p["name"]),
          admin_state_up: p["admin_state_up"] !== false,
        });
      } else {
        await this.n.ports.deleteInternal(trx, p.id);
      }
      return { port: p, subnets: [subnet] };
    }
    throw new NeutronError(404, "RouterInterfaceNotFoundForSubnet", `Router ${router.id} has no interface on subnet ${subnetId}`);
  }

  /**
   * _check_router_interface_not_in_use (floating IPs and port forwardings reaching ports on
   * the subnet through this router) and extraroute's check (a route's nexthop on the subnet).
   */
  private async checkInterfaceNotInUse(trx: NetworkTrx, router: Doc, subnet: Doc): Promise<void> {
    const cidr = String(subnet["cidr"]);
    const fips = await trx.selectFrom("net_floatingip").select(["id", "doc"]).where("router_id", "=", router.id).execute();
    if (fips.length) {
      const onSubnet = new Set(
        (await trx.selectFrom("net_ip_allocation").select("port_id").where("subnet_id", "=", subnet.id).execute()).map((r) => r.port_id),
      );
      const inUse = (): NeutronError =>
        new NeutronError(
          409,
          "RouterInterfaceInUseByFloatingIP",
          `Router interface for subnet ${subnet.id} on router ${router.id} cannot be deleted, as it is required by one or more floating IPs.`,
        );
      const pfs = await trx.selectFrom("net_port_forwarding").select("doc").where("floatingip_id", "in", fips.map((f) => f.id)).execute();
      for (const row of pfs) {
        const pf = JSON.parse(row.doc) as Doc;
        const ip = str(pf["internal_ip_address"]);
        if (ip && inCidr(ip, cidr) && onSubnet.has(str(pf["internal_port_id"]))) throw inUse();
      }
      for (const row of fips) {
        const fip = JSON.parse(row.doc) as Doc;
        const ip = str(fip["fixed_ip_address"]);
        if (ip && inCidr(ip, cidr) && onSubnet.has(str(fip["port_id"]))) throw inUse();
      }
    }
    for (const route of (router["routes"] as Route[] | undefined) ?? []) {
      if (inCidr(route.nexthop, cidr)) {
        throw new NeutronError(
          409,
          "RouterInterfaceInUseByRoute",
          `Router interface for subnet ${subnet.id} on router ${router.id} cannot be deleted, as it is required by one or more routes.`,
        );
      }
    }
  }

  // ------------------------------------------------------------------ extra routes

  /** Routes as Neutron stores and shows them: canonical text, in the table's key order. */
  private normalizeRoutes(routes: Route[]): Route[] {
    const out = routes.map((r) => {
      const c = parseCidr(r.destination);
      return { destination: c ? formatCidr(c.cidr) : r.destination, nexthop: normalizeIp(r.nexthop) ?? r.nexthop };
    });
    const seen = new Set<string>();
    return out
      .filter((r) => {
        const k = `${r.destination} ${r.nexthop}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      })
      .sort((a, b) => (a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : a.nexthop < b.nexthop ? -1 : a.nexthop > b.nexthop ? 1 : 0));
  }

  /** _validate_routes against every port of the router (gateway included). */
  private async validateRoutes(trx: NetworkTrx, routerId: string, routes: Route[]): Promise<void> {
    if (routes.length > MAX_ROUTES) {
      throw new NeutronError(400, "RoutesExhausted", `Unable to complete operation for ${routerId}. The number of routes exceeds the maximum ${MAX_ROUTES}.`);
    }
    const cidrs: string[] = [];
    const ips: string[] = [];
    // Only the router's own ports: anyone may create a port whose device_id names the router.
    for (const p of await findDocs(trx, "net_port", { device_id: routerId, device_owner: ROUTER_PORT_OWNERS })) {
      for (const ip of fixedIpsOf(p)) {
        const s = await this.n.subnets.load(trx, ip.subnet_id);
        if (s) cidrs.push(String(s["cidr"]));
        ips.push(ip.ip_address);
      }
    }
    this.checkNexthops(routes, cidrs, ips);
  }

  private checkNexthops(routes: Route[], cidrs: string[], ips: string[]): void {
    for (const route of routes) {
      const invalid = (reason: string): NeutronError =>
        new NeutronError(400, "InvalidRoutes", `Invalid format for routes: ${pyRepr(routes)}, ${reason}`);
      if (!cidrs.some((c) => inCidr(route.nexthop, c))) throw invalid("the nexthop is not connected with router");
      if (ips.includes(route.nexthop)) throw invalid("the nexthop is used by router");
    }
  }

  /** PUT add_extraroutes / remove_extraroutes (extraroute-atomic): a set union or difference. */
  async editRoutes(caller: Caller, routerId: string, routes: Route[], add: boolean): Promise<Doc> {
    return this.n.core.write(async (trx) => {
      const router = await this.visible(trx, caller, routerId, true);
      if (!router) throw notFound("router", routerId);
      const old = (router["routes"] as Route[] | undefined) ?? [];
      const wanted = this.normalizeRoutes(routes);
      const key = (r: Route): string => `${r.destination} ${r.nexthop}`;
      const next = add ? [...old, ...wanted] : old.filter((r) => !wanted.some((w) => key(w) === key(r)));
      const normalized = this.normalizeRoutes(next);
      await this.validateRoutes(trx, router.id, normalized);
      router["routes"] = normalized;
      this.n.core.touch(router);
      await updateDoc(trx, ROUTER_SPEC, router);
      await this.n.driver.realize("router", router.id, "update");
      return (await this.present(trx, [router]))[0] as Doc;
    });
  }
}

/** The body of add/remove_router_interface (l3_db._make_router_interface_info). */
function interfaceInfo(routerId: string, port: Doc, subnets: Doc[], subnet: Doc | undefined): InterfaceInfo {
  return {
    id: routerId,
    tenant_id: String(port["project_id"]),
    project_id: String(port["project_id"]),
    port_id: port.id,
    network_id: String(port["network_id"]),
    subnet_id: subnet?.id ?? "",
    subnet_ids: subnets.map((s) => s.id),
  };
}
