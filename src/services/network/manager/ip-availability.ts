import type { Network } from "../api/deps.js";
import { cidrSize, parseCidr, rangeSize } from "../ipam/ip.js";
import { parsePool } from "../ipam/pools.js";
import type { PoolSpec } from "../ipam/pools.js";
import type { Doc } from "../store/docs.js";

/** The filters IpAvailabilityMixin applies in its queries (others are the controller's business). */
export interface IpAvailabilityFilters {
  network_id?: readonly string[];
  network_name?: readonly string[];
  project_id?: readonly string[];
  ip_version?: readonly string[];
}

/**
 * Network IP availability (neutron/db/network_ip_availability_db.py): per network and per
 * subnet, the addresses of the allocation pools (the whole CIDR when a subnet has none) and
 * those allocated. Counts are bigints: an IPv6 /64 pool holds 2^64 - 2 addresses, and Neutron
 * prints the exact integer.
 */
export class IpAvailabilityManager {
  constructor(private readonly n: Network) {}

  async list(filters: IpAvailabilityFilters): Promise<Doc[]> {
    const db = this.n.core.db;
    let nets = db.selectFrom("net_network").select(["id", "project_id", "doc"]);
    if (filters.network_id?.length) nets = nets.where("id", "in", filters.network_id);
    if (filters.project_id?.length) nets = nets.where("project_id", "in", filters.project_id);
    const networks = (await nets.execute()).map((r) => ({ id: r.id, project_id: r.project_id, name: String((JSON.parse(r.doc) as Doc)["name"] ?? "") }));
    const wanted = filters.network_name?.length ? networks.filter((n) => filters.network_name?.includes(n.name)) : networks;
    if (wanted.length === 0) return [];
    const ids = wanted.map((n) => n.id);

    let subs = db.selectFrom("net_subnet").select(["id", "network_id", "ip_version", "cidr", "doc"]).where("network_id", "in", ids);
    const versions = (filters.ip_version ?? []).map(Number).filter((v) => Number.isInteger(v));
    if (filters.ip_version?.length) subs = subs.where("ip_version", "in", versions.length ? versions : [-1]);
    const subnets = await subs.execute();
    const used = new Map<string, number>();
    if (subnets.length) {
      const counts = await db
        .selectFrom("net_ip_allocation")
        .select((eb) => ["subnet_id", eb.fn.countAll<number | string>().as("n")])
        .where("subnet_id", "in", subnets.map((s) => s.id))
        .groupBy("subnet_id")
        .execute();
      for (const c of counts) used.set(c.subnet_id, Number(c.n));
    }

    const bySubnetNet = new Map<string, Array<Record<string, unknown>>>();
    for (const s of subnets) {
      const doc = JSON.parse(s.doc) as Doc;
      const entry = {
        subnet_id: s.id,
        ip_version: s.ip_version,
        cidr: s.cidr,
        subnet_name: doc["name"] ?? "",
        used_ips: used.get(s.id) ?? 0,
        total_ips: totalIps(s.cidr, doc["allocation_pools"]),
      };
      bySubnetNet.set(s.network_id, [...(bySubnetNet.get(s.network_id) ?? []), entry]);
    }
    const out: Doc[] = [];
    for (const net of wanted) {
      const entries = bySubnetNet.get(net.id) ?? [];
      // An ip_version filter joins subnets: networks without a matching one drop out.
      if (filters.ip_version?.length && entries.length === 0) continue;
      let total = 0n;
      let usedIps = 0;
      for (const e of entries) {
        total += e["total_ips"] as bigint;
        usedIps += e["used_ips"] as number;
      }
      out.push({
        id: net.id,
        network_id: net.id,
        network_name: net.name,
        tenant_id: net.project_id,
        project_id: net.project_id,
        subnet_ip_availability: entries,
        used_ips: usedIps,
        total_ips: total,
      });
    }
    return out;
  }
}

/** The sizes of the subnet's pools; a subnet without pools counts its whole CIDR, as the outer join does. */
function totalIps(cidr: string, pools: unknown): bigint {
  const list = Array.isArray(pools) ? (pools as PoolSpec[]) : [];
  if (list.length === 0) {
    const c = parseCidr(cidr);
    return c ? cidrSize(c.cidr) : 0n;
  }
  let total = 0n;
  for (const p of list) {
    const r = parsePool(p);
    if (r) total += rangeSize(r);
  }
  return total;
}
