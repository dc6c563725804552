import { isUniqueViolation } from "../../../db/database.js";
import type { FixedIp, FixedIpRequest, IpamApi, Network } from "../api/deps.js";
import { NeutronError, conflict, invalidInput, notFound } from "../errors.js";
import {
  PROVISIONAL_IPV6_PD_PREFIX,
  checkSubnetIp,
  eui64Address,
  formatIp,
  isAutoAddressSubnet,
  isEui64Address,
  lowestFree,
  parseCidr,
  parseIp,
  parsePool,
  poolsSize,
  randomCandidates,
} from "../ipam/index.js";
import type { Cidr, Ip, IpRange } from "../ipam/index.js";
import type { Doc } from "../store/docs.js";
import { findDocs, getDoc } from "../store/docs.js";
import type { NetworkTrx, Q } from "../store/tables.js";

/** neutron_lib constants: the device owners IPAM treats specially. */
export const DEVICE_OWNER_DHCP = "network:dhcp";
export const DEVICE_OWNER_DISTRIBUTED = "network:distributed";
export const ROUTER_INTERFACE_OWNERS: readonly string[] = [
  "network:router_interface",
  "network:ha_router_replicated_interface",
  "network:router_interface_distributed",
];
export const ROUTER_INTERFACE_OWNERS_SNAT: readonly string[] = [...ROUTER_INTERFACE_OWNERS, "network:router_centralized_snat"];
/** neutron/common/_constants.py AUTO_DELETE_PORT_OWNERS: ports the cloud removes by itself. */
export const AUTO_DELETE_PORT_OWNERS: readonly string[] = [DEVICE_OWNER_DHCP, DEVICE_OWNER_DISTRIBUTED, "network:floatingip_agent_gateway"];
/** l3_router_plugin IP_UPDATE_NOT_ALLOWED_LIST: router ports whose IPv4 address is fixed. */
const IP_UPDATE_NOT_ALLOWED: readonly string[] = [
  "network:router_interface",
  "network:ha_router_replicated_interface",
  "network:router_ha_interface",
  "network:router_centralized_snat",
  "network:router_interface_distributed",
];

/** Pools up to this many addresses are scanned for their lowest free address; larger ones are probed at random. */
const SCAN_THRESHOLD = 1024n;
const PROBES = 16;

/** A subnet document read for address work. */
export interface SubnetView {
  readonly doc: Doc;
  readonly id: string;
  readonly networkId: string;
  readonly cidr: Cidr;
  readonly cidrText: string;
  readonly pools: IpRange[];
  /** SLAAC or DHCPv6-stateless: every port gets its EUI-64 address (ipv6_utils.is_auto_address_subnet). */
  readonly auto: boolean;
  readonly serviceTypes: readonly string[];
  readonly enableDhcp: boolean;
}

export function subnetView(doc: Doc): SubnetView {
  const cidrText = String(doc["cidr"]);
  const parsed = parseCidr(cidrText);
  if (!parsed) throw new Error(`stored subnet ${doc.id} has a bad cidr ${cidrText}`);
  const pools: IpRange[] = [];
  for (const p of (doc["allocation_pools"] as Array<{ start: string; end: string }> | undefined) ?? []) {
    const r = parsePool(p);
    if (r) pools.push(r);
  }
  return {
    doc,
    id: doc.id,
    networkId: String(doc["network_id"]),
    cidr: parsed.cidr,
    cidrText,
    pools,
    auto: doc["ip_version"] === 6 && isAutoAddressSubnet(doc["ipv6_ra_mode"] as string | null, doc["ipv6_address_mode"] as string | null),
    serviceTypes: (doc["service_types"] as string[] | undefined) ?? [],
    enableDhcp: doc["enable_dhcp"] === true,
  };
}

/** Stable order of a network's subnets: creation order (then id), as they were added. */
export function orderSubnets<T extends Doc>(docs: T[]): T[] {
  return docs.sort((a, b) => {
    const ca = String(a["created_at"] ?? "");
    const cb = String(b["created_at"] ?? "");
    return ca < cb ? -1 : ca > cb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

/**
 * SubnetServiceType.query_filter_service_subnets: a port may take addresses from subnets with
 * no service types, from those naming its device owner, and a DHCP port from any subnet with
 * DHCP enabled. Subnets naming the owner come first (_ipam_get_subnets).
 */
export function candidateSubnets(subnets: readonly SubnetView[], deviceOwner: string): SubnetView[] {
  const ok = subnets.filter(
    (s) => s.serviceTypes.length === 0 || s.serviceTypes.includes(deviceOwner) || (s.enableDhcp && deviceOwner === DEVICE_OWNER_DHCP),
  );
  return [...ok.filter((s) => s.serviceTypes.length > 0), ...ok.filter((s) => s.serviceTypes.length === 0)];
}

type Want =
  | { kind: "ip"; subnet: SubnetView; ip: Ip }
  | { kind: "eui64"; subnet: SubnetView }
  | { kind: "any"; subnets: SubnetView[] };

interface PortInfo {
  id: string;
  network_id: string;
  mac_address: string;
  device_owner: string;
  device_id?: string;
}

/**
 * Neutron's pluggable IPAM with its DB driver (ipam_pluggable_backend.py, ipam_backend_mixin.py,
 * ipam/drivers/neutrondb_ipam): which subnets a port's addresses come from, and which address.
 * An address is taken when net_ip_allocation has a row for (subnet_id, ip_address); that primary
 * key is what makes a double allocation impossible. Everything runs in the caller's transaction;
 * on PostgreSQL the subnets involved are locked first (in id order, so concurrent allocations
 * cannot deadlock), which serialises allocations per subnet, so the free-address check before the
 * insert is never stale. SQLite serialises writers by itself.
 */
export class IpamManager implements IpamApi {
  constructor(private readonly n: Network) {}

  /** The subnets of a network, in creation order. */
  async subnetsOf(q: Q, networkId: string): Promise<SubnetView[]> {
    return orderSubnets(await findDocs(q, "net_subnet", { network_id: networkId })).map(subnetView);
  }

  async allocate(trx: NetworkTrx, port: PortInfo, requested: FixedIpRequest[] | undefined): Promise<FixedIp[]> {
    const all = await this.subnetsOf(trx, port.network_id);
    const candidates = this.candidates(all, port);
    const v4 = candidates.filter((s) => s.cidr.version === 4);
    const v6Stateful = candidates.filter((s) => s.cidr.version === 6 && !s.auto);
    const v6Auto = candidates.filter((s) => s.auto);
    let wants: Want[];
    if (requested !== undefined) {
      wants = await this.testFixedIps(trx, port, requested, candidates);
    } else {
      wants = [];
      if (v4.length) wants.push({ kind: "any", subnets: v4 });
      if (v6Stateful.length) wants.push({ kind: "any", subnets: v6Stateful });
    }
    wants.push(...this.autoAddressWants(v6Auto, port.device_owner, new Set()));
    return sortFixedIps(await this.take(trx, port, wants));
  }

  async reallocate(
    trx: NetworkTrx,
    port: PortInfo & { fixed_ips: FixedIp[] },
    requested: FixedIpRequest[],
  ): Promise<FixedIp[]> {
    const all = await this.subnetsOf(trx, port.network_id);
    const byId = new Map(all.map((s) => [s.id, s]));
    const changes = this.changedIps(port.fixed_ips, requested, port.device_owner, byId);
    if (IP_UPDATE_NOT_ALLOWED.includes(port.device_owner) && port.device_id) {
      const router = await trx.selectFrom("net_router").select("id").where("id", "=", port.device_id).executeTakeFirst();
      if (router) {
        const v4Changed = [...changes.remove, ...changes.add].some((ip) => {
          if (ip.ip_address !== undefined) return parseIp(ip.ip_address)?.version === 4;
          return ip.subnet_id !== undefined && byId.get(ip.subnet_id)?.cidr.version === 4;
        });
        if (v4Changed) throw new NeutronError(400, "IPAddressChangeNotAllowed", `IP updates for port ${port.id} are not allowed`);
      }
    }
    const candidates = this.candidates(all, port);
    const wants = await this.testFixedIps(trx, port, changes.add, candidates);
    for (const ip of changes.remove) {
      await trx.deleteFrom("net_ip_allocation").where("subnet_id", "=", ip.subnet_id).where("ip_address", "=", ip.ip_address).execute();
    }
    const handled = new Set<string>([
      ...wants.map((w) => (w.kind === "any" ? w.subnets[0]?.id ?? "" : w.subnet.id)),
      ...changes.original.map((ip) => ip.subnet_id),
      ...changes.remove.map((ip) => ip.subnet_id),
    ]);
    wants.push(...this.autoAddressWants(candidates.filter((s) => s.auto), port.device_owner, handled));
    const added = await this.take(trx, port, wants);
    return sortFixedIps([...changes.original, ...added]);
  }

  async release(trx: NetworkTrx, portId: string): Promise<void> {
    await trx.deleteFrom("net_ip_allocation").where("port_id", "=", portId).execute();
  }

  /**
   * add_auto_addrs_on_network_ports: a new SLAAC/DHCPv6-stateless subnet gives every port of
   * its network (router interfaces aside, and only where the subnet's service types allow) its
   * EUI-64 address. Returns the ports that got one, with the address.
   */
  async addAutoAddresses(trx: NetworkTrx, subnet: SubnetView, ports: readonly PortInfo[]): Promise<Map<string, FixedIp>> {
    const out = new Map<string, FixedIp>();
    for (const port of ports) {
      if (ROUTER_INTERFACE_OWNERS_SNAT.includes(port.device_owner)) continue;
      if (!candidateSubnets([subnet], port.device_owner).length) continue;
      const ip = eui64Address(subnet.cidr, port.mac_address);
      if (await this.isTaken(trx, subnet.id, ip)) continue;
      await this.insert(trx, port, subnet.id, ip);
      out.set(port.id, { subnet_id: subnet.id, ip_address: ip });
    }
    return out;
  }

  // ---------------------------------------------------------------- choosing subnets

  /** _ipam_get_subnets: the service-type candidates, or why there are none. */
  private candidates(all: readonly SubnetView[], port: PortInfo): SubnetView[] {
    const candidates = candidateSubnets(all, port.device_owner);
    if (candidates.length === 0 && all.length > 0) {
      throw new NeutronError(
        409,
        "IpAddressGenerationFailureNoMatchingSubnet",
        `No valid service subnet for the given device owner, network ${port.network_id}, service type ${port.device_owner}.`,
      );
    }
    return candidates;
  }

  /** _test_fixed_ips_for_port: what each requested fixed IP asks of which subnet. */
  private async testFixedIps(q: Q, port: PortInfo, fixedIps: readonly FixedIpRequest[], subnets: readonly SubnetView[]): Promise<Want[]> {
    const wants: Want[] = [];
    for (const fixed of fixedIps) {
      const subnet = await this.subnetForFixedIp(q, port, fixed, subnets);
      if (fixed.ip_address !== undefined && subnet.cidrText !== PROVISIONAL_IPV6_PD_PREFIX) {
        if (subnet.auto && !ROUTER_INTERFACE_OWNERS.includes(port.device_owner)) {
          throw new NeutronError(
            400,
            "AllocationOnAutoAddressSubnet",
            `IPv6 address ${fixed.ip_address} cannot be directly assigned to a port on subnet ${subnet.id} as the subnet is configured for automatic addresses`,
          );
        }
        const ip = parseIp(fixed.ip_address);
        if (!ip) throw invalidIpForSubnet(fixed.ip_address);
        wants.push({ kind: "ip", subnet, ip });
      } else if (ROUTER_INTERFACE_OWNERS_SNAT.includes(port.device_owner) || !subnet.auto) {
        // Auto-address subnets are added for every port below, named or not.
        wants.push({ kind: "any", subnets: [subnet] });
      }
    }
    return wants;
  }

  /** _get_subnet_for_fixed_ip */
  private async subnetForFixedIp(q: Q, port: PortInfo, fixed: FixedIpRequest, subnets: readonly SubnetView[]): Promise<SubnetView> {
    if (subnets.length === 0) throw invalidInput("IP allocation requires subnets for network");
    const ip = fixed.ip_address !== undefined ? parseIp(fixed.ip_address) : undefined;
    if (fixed.subnet_id !== undefined) {
      const subnet = subnets.find((s) => s.id === fixed.subnet_id);
      if (!subnet) {
        if (!(await getDoc(q, "net_subnet", fixed.subnet_id))) throw notFound("subnet", fixed.subnet_id);
        throw invalidInput(`Failed to create port on network ${port.network_id}, because fixed_ips included invalid subnet ${fixed.subnet_id}`);
      }
      if (fixed.ip_address !== undefined && (!ip || !checkSubnetIp(subnet.cidr, ip, port.device_owner))) {
        throw invalidIpForSubnet(fixed.ip_address);
      }
      return subnet;
    }
    if (fixed.ip_address === undefined) throw invalidInput("IP allocation requires subnet_id or ip_address");
    const subnet = ip && subnets.find((s) => checkSubnetIp(s.cidr, ip, port.device_owner));
    if (!subnet) {
      throw new NeutronError(400, "InvalidIpForNetwork", `IP address ${fixed.ip_address} is not a valid IP for any of the subnets on the specified network.`);
    }
    return subnet;
  }

  /** _get_auto_address_ips: the EUI-64 address on each auto-address subnet (router ports excepted). */
  private autoAddressWants(subnets: readonly SubnetView[], deviceOwner: string, exclude: ReadonlySet<string>): Want[] {
    if (ROUTER_INTERFACE_OWNERS_SNAT.includes(deviceOwner)) return [];
    return subnets.filter((s) => !exclude.has(s.id)).map((subnet) => ({ kind: "eui64" as const, subnet }));
  }

  /**
   * _get_changed_ips_for_port: which of the port's addresses stay, which go, which are new.
   * Requested addresses are matched first, then subnet-only requests reuse an address the port
   * already has there (EUI-64 ones are recomputed). Auto-address subnets keep their address
   * even when the request leaves it out (router ports aside).
   */
  private changedIps(
    original: readonly FixedIp[],
    requested: readonly FixedIpRequest[],
    deviceOwner: string,
    subnets: ReadonlyMap<string, SubnetView>,
  ): { add: FixedIpRequest[]; original: FixedIp[]; remove: FixedIp[] } {
    const add: FixedIpRequest[] = [];
    const kept: FixedIp[] = [];
    const removeCandidates: FixedIp[] = [];
    const origByIp = new Map(original.map((ip) => [ip.ip_address, ip]));
    for (const ip of requested) {
      if (ip.ip_address === undefined) continue;
      const text = canonicalIp(ip.ip_address);
      const orig = origByIp.get(text);
      if (orig) {
        origByIp.delete(text);
        kept.push(orig);
      } else {
        add.push({ ...ip, ip_address: text });
      }
    }
    const origBySubnet = new Map<string, FixedIp[]>();
    for (const ip of origByIp.values()) origBySubnet.set(ip.subnet_id, [...(origBySubnet.get(ip.subnet_id) ?? []), ip]);
    for (const ip of requested) {
      if (ip.ip_address !== undefined) continue;
      const orig = ip.subnet_id !== undefined ? origBySubnet.get(ip.subnet_id) : undefined;
      const o = orig?.pop();
      if (!o) {
        add.push(ip);
        continue;
      }
      const parsed = parseIp(o.ip_address);
      if (parsed && isEui64Address(parsed)) {
        add.push(ip);
        removeCandidates.push(o);
      } else {
        kept.push(o);
      }
    }
    const remove: FixedIp[] = [];
    for (const ip of [...[...origBySubnet.values()].flat(), ...removeCandidates]) {
      const subnet = subnets.get(ip.subnet_id);
      const required = ROUTER_INTERFACE_OWNERS_SNAT.includes(deviceOwner) || !subnet || !subnet.auto;
      if (required) remove.push(ip);
      else kept.push(ip);
    }
    return { add, original: kept, remove };
  }

  // ---------------------------------------------------------------- taking addresses

  private async take(trx: NetworkTrx, port: PortInfo, wants: Want[]): Promise<FixedIp[]> {
    if (wants.length === 0) return [];
    // Specific addresses first: they may be next in line for the open requests (_ipam_allocate_ips).
    let ordered = [...wants.filter((w) => w.kind === "ip"), ...wants.filter((w) => w.kind !== "ip")];
    const locked = await this.lockSubnets(trx, ordered);
    if (locked) {
      // The subnets were read before the lock: one deleted meanwhile must not get an address
      // (a port holding an allocation on a subnet that no longer exists). Neutron's IPAM fails
      // such a request with SubnetNotFound.
      ordered = ordered.map((w) => (w.kind === "any" ? { ...w, subnets: w.subnets.filter((s) => locked.has(s.id)) } : w));
      for (const w of ordered) if (w.kind !== "any" && !locked.has(w.subnet.id)) throw notFound("subnet", w.subnet.id);
    }
    const preferNext = port.device_owner === DEVICE_OWNER_DHCP || port.device_owner === DEVICE_OWNER_DISTRIBUTED;
    const takenCache = new Map<string, Set<bigint>>();
    const out: FixedIp[] = [];
    for (const w of ordered) {
      if (w.kind === "any") {
        let got: FixedIp | undefined;
        for (const subnet of w.subnets) {
          const ip = await this.pick(trx, subnet, preferNext, takenCache);
          if (ip === undefined) continue;
          const text = formatIp({ version: subnet.cidr.version, value: ip });
          await this.insert(trx, port, subnet.id, text);
          takenCache.get(subnet.id)?.add(ip);
          got = { subnet_id: subnet.id, ip_address: text };
          break;
        }
        if (!got) throw conflict("IpAddressGenerationFailure", `No more IP addresses available on network ${port.network_id}.`);
        out.push(got);
        continue;
      }
      const text = w.kind === "ip" ? formatIp(w.ip) : eui64Address(w.subnet.cidr, port.mac_address);
      if (await this.isTaken(trx, w.subnet.id, text)) throw alreadyAllocated(text, w.subnet.id);
      await this.insert(trx, port, w.subnet.id, text);
      const parsed = parseIp(text);
      if (parsed) takenCache.get(w.subnet.id)?.add(parsed.value);
      out.push({ subnet_id: w.subnet.id, ip_address: text });
    }
    return out;
  }

  /**
   * PostgreSQL: take the subnets' row locks, in id order, before looking for free addresses.
   * Returns the ids still there once locked (undefined on SQLite, where nothing can change).
   */
  private async lockSubnets(trx: NetworkTrx, wants: readonly Want[]): Promise<Set<string> | undefined> {
    if (!this.n.core.rowLocks) return undefined;
    const ids = new Set<string>();
    for (const w of wants) {
      if (w.kind === "any") for (const s of w.subnets) ids.add(s.id);
      else ids.add(w.subnet.id);
    }
    if (ids.size === 0) return ids;
    const rows = await trx
      .selectFrom("net_subnet")
      .select("id")
      .where("id", "in", [...ids].sort())
      .orderBy("id")
      .forUpdate()
      .execute();
    return new Set(rows.map((r) => r.id));
  }

  /**
   * A free address of the subnet's pools. Small pools (and DHCP ports, which Neutron gives the
   * start of the pool): the lowest free address, from the subnet's allocations loaded once.
   * Large pools: random candidates, checked in one query by primary key, so a crowded /16 costs
   * the same as an empty one; the lowest free address is the fallback when they are all taken.
   */
  private async pick(trx: NetworkTrx, subnet: SubnetView, preferNext: boolean, cache: Map<string, Set<bigint>>): Promise<bigint | undefined> {
    const total = poolsSize(subnet.pools);
    if (total === 0n) return undefined;
    if (!preferNext && total > SCAN_THRESHOLD) {
      for (let round = 0; round < 3; round++) {
        const candidates = randomCandidates(subnet.pools, PROBES);
        const texts = candidates.map((v) => formatIp({ version: subnet.cidr.version, value: v }));
        const rows = await trx
          .selectFrom("net_ip_allocation")
          .select("ip_address")
          .where("subnet_id", "=", subnet.id)
          .where("ip_address", "in", texts)
          .execute();
        const used = new Set(rows.map((r) => r.ip_address));
        const i = texts.findIndex((t) => !used.has(t));
        if (i >= 0) return candidates[i];
      }
    }
    let taken = cache.get(subnet.id);
    if (!taken) {
      const rows = await trx.selectFrom("net_ip_allocation").select("ip_address").where("subnet_id", "=", subnet.id).execute();
      taken = new Set();
      for (const r of rows) {
        const ip = parseIp(r.ip_address);
        if (ip) taken.add(ip.value);
      }
      cache.set(subnet.id, taken);
    }
    return lowestFree(subnet.pools, taken);
  }

  private async isTaken(q: Q, subnetId: string, ip: string): Promise<boolean> {
    const row = await q
      .selectFrom("net_ip_allocation")
      .select("port_id")
      .where("subnet_id", "=", subnetId)
      .where("ip_address", "=", ip)
      .executeTakeFirst();
    return row !== undefined;
  }

  private async insert(trx: NetworkTrx, port: PortInfo, subnetId: string, ip: string): Promise<void> {
    try {
      await trx.insertInto("net_ip_allocation").values({ subnet_id: subnetId, ip_address: ip, network_id: port.network_id, port_id: port.id }).execute();
    } catch (e) {
      // Only reachable if the locks above were bypassed; never a 500.
      if (isUniqueViolation(e)) throw alreadyAllocated(ip, subnetId);
      throw e;
    }
  }
}

/** The order Neutron returns a port's fixed_ips in: by address text, then subnet (models_v2.Port.fixed_ips). */
export function sortFixedIps(ips: FixedIp[]): FixedIp[] {
  return ips.sort((a, b) =>
    a.ip_address < b.ip_address ? -1 : a.ip_address > b.ip_address ? 1 : a.subnet_id < b.subnet_id ? -1 : a.subnet_id > b.subnet_id ? 1 : 0,
  );
}

function canonicalIp(text: string): string {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : text;
}

const invalidIpForSubnet = (ip: string): NeutronError =>
  new NeutronError(400, "InvalidIpForSubnet", `IP address ${ip} is not a valid IP for the specified subnet.`);

const alreadyAllocated = (ip: string, subnetId: string): NeutronError =>
  conflict("IpAddressAlreadyAllocated", `IP address ${ip} already allocated in subnet ${subnetId}`);

