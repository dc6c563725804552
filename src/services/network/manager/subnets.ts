import { createHash } from "node:crypto";
import { uuid } from "../../../common/ids.js";
import type { FixedIp, Network, SubnetsApi } from "../api/deps.js";
import { assertRevision } from "../api/resource.js";
import type { Caller } from "../core.js";
import { NeutronError, badRequest, inUse, notFound } from "../errors.js";
import {
  PROVISIONAL_IPV6_PD_PREFIX,
  ROUTER_PORT_OWNERS,
  checkPrefixlenBounds,
  checkSubnetPoolQuota,
  cidrFromGateway,
  defaultGateway,
  formatCidr,
  formatIp,
  generatePools,
  parseCidr,
  parseIp,
  parsePools,
  toPoolSpec,
  allocateFromSubnetPool,
  validateAllocationPools,
  validateGatewayOutOfPools,
  validateSubnet,
  validateSubnetCidrOnNetwork,
  validateSubnetForPd,
} from "../ipam/index.js";
import type { Cidr, HostRoute, Ip, IpRange, IpVersion, PoolSpec, SubnetSpec } from "../ipam/index.js";
import type { Doc, DocSpec } from "../store/docs.js";
import { deleteDoc, findDocs, getDoc, insertDoc, updateDoc } from "../store/docs.js";
import { rbacEntriesOf, rbacGrants } from "../store/rbac.js";
import type { NetworkTrx, Q } from "../store/tables.js";
import { AUTO_DELETE_PORT_OWNERS, DEVICE_OWNER_DHCP, IpamManager, ROUTER_INTERFACE_OWNERS, orderSubnets, sortFixedIps, subnetView } from "./ipam.js";
import { PORT_SPEC } from "./ports.js";
import { SubnetPoolManager, poolPrefixes, raise } from "./subnetpools.js";

export const SUBNET_SPEC: DocSpec<"net_subnet"> = {
  table: "net_subnet",
  columns: (d) => ({
    project_id: String(d["project_id"]),
    network_id: String(d["network_id"]),
    subnetpool_id: (d["subnetpool_id"] as string | null | undefined) ?? null,
    ip_version: Number(d["ip_version"]),
    cidr: String(d["cidr"]),
  }),
};

/** neutron_lib constants.IPV6_PD_POOL_ID */
const IPV6_PD_POOL_ID = "prefix_delegation";
/** RBAC actions that make a network's subnets visible to a project (model_query's rbac filter). */
const VISIBLE_ACTIONS = new Set(["access_as_shared", "access_as_readonly"]);

const NAMESPACE_DNS = "6ba7b8109dad11d180b400c04fd430c8";

/** uuid.uuid5(uuid.NAMESPACE_DNS, name), as Python computes it. */
export function uuid5Dns(name: string): string {
  const h = createHash("sha1").update(Buffer.from(NAMESPACE_DNS, "hex")).update(name, "utf8").digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** neutron.common.utils.get_dhcp_agent_device_id: the device_id the DHCP agent gives its port. */
export function dhcpDeviceId(networkId: string, host: string): string {
  return `dhcp${uuid5Dns(host.split(".")[0] ?? host)}-${networkId}`;
}

const bad = (msg: string): NeutronError => badRequest(`Bad subnets request: ${msg}.`, "BadRequest");
const isSet = (v: unknown): boolean => v !== undefined && v !== null;

/**
 * Subnets (db_base_plugin_v2.py, ipam_backend_mixin.py, ipam_pluggable_backend.py): creation
 * from a cidr or from a subnet pool, the gateway and allocation-pool rules, DNS servers, host
 * routes and IPv6 modes, in-use checks on delete, and what the DHCP agent does with a subnet:
 * the network's DHCP port holds one address on each DHCP-enabled subnet, and goes away with the
 * last of them.
 */
export class SubnetManager implements SubnetsApi {
  private readonly pools: SubnetPoolManager;
  private readonly ipam: IpamManager;
  constructor(private readonly n: Network) {
    this.pools = new SubnetPoolManager(n);
    this.ipam = new IpamManager(n);
  }

  async load(q: Q, id: string, lock = false): Promise<Doc | undefined> {
    return getDoc(q, "net_subnet", id, lock && this.n.core.rowLocks);
  }

  async ofNetwork(q: Q, networkId: string): Promise<Doc[]> {
    return orderSubnets(await findDocs(q, "net_subnet", { network_id: networkId }));
  }

  // ---------------------------------------------------------------- reading

  /**
   * Subnets the caller may see before policy: an admin all of them; a project its own and those
   * of networks shared with it (Neutron's RBAC query filter joins the network's entries).
   */
  async list(caller: Caller, filters: Record<string, string[]>): Promise<Doc[]> {
    const db = this.n.core.db;
    const where: Record<string, readonly string[]> = {};
    if (filters["network_id"]?.length) where["network_id"] = filters["network_id"];
    if (filters["id"]?.length) where["id"] = filters["id"];
    let docs: Doc[];
    if (caller.admin) {
      const projects = filters["project_id"] ?? filters["tenant_id"];
      docs = await findDocs(db, "net_subnet", { ...where, ...(projects?.length ? { project_id: projects } : {}) });
    } else {
      const own = await findDocs(db, "net_subnet", { ...where, project_id: caller.projectId ?? "" });
      const grants = (await rbacGrants(db, "network", caller.projectId)).filter((g) => VISIBLE_ACTIONS.has(g.action));
      let nets = [...new Set(grants.map((g) => g.object_id))];
      if (where["network_id"]) nets = nets.filter((id) => where["network_id"]?.includes(id));
      const shared = nets.length ? await findDocs(db, "net_subnet", { ...where, network_id: nets }) : [];
      const seen = new Set(own.map((d) => d.id));
      docs = own.concat(shared.filter((d) => !seen.has(d.id)));
    }
    return this.present(db, caller, docs);
  }

  async get(caller: Caller, id: string): Promise<Doc | undefined> {
    const db = this.n.core.db;
    const doc = await getDoc(db, "net_subnet", id);
    if (!doc) return undefined;
    if (!caller.admin && doc["project_id"] !== caller.projectId) {
      const grants = await rbacGrants(db, "network", caller.projectId, [String(doc["network_id"])]);
      if (!grants.some((g) => VISIBLE_ACTIONS.has(g.action))) return undefined;
    }
    return (await this.present(db, caller, [doc]))[0];
  }

  /** `shared` (not shown, used by policy and filters): the network is shared with the caller. */
  async present(q: Q, caller: Caller, docs: Doc[]): Promise<Doc[]> {
    if (docs.length === 0) return docs;
    const entries = await rbacEntriesOf(q, "network", [...new Set(docs.map((d) => String(d["network_id"])))]);
    const shared = new Set(
      entries
        .filter((e) => e.action === "access_as_shared" && (e.target_project === "*" || e.target_project === caller.projectId))
        .map((e) => e.object_id),
    );
    return docs.map((d) => ({ ...d, shared: shared.has(String(d["network_id"])) }));
  }

  /** The owners of networks, for the `network:tenant_id` policy target. */
  async networkOwners(q: Q, networkIds: readonly string[]): Promise<Map<string, string>> {
    if (networkIds.length === 0) return new Map();
    const rows = await q.selectFrom("net_network").select(["id", "project_id"]).where("id", "in", [...new Set(networkIds)]).execute();
    return new Map(rows.map((r) => [r.id, r.project_id]));
  }

  /**
   * What the API checks before the create policy (base.py _validate_network_tenant_ownership and
   * the policy engine's network lookup): the network exists and the caller sees it; a project
   * other than the owner may only add subnets to a network shared with it. Returns the owner.
   */
  async createTarget(caller: Caller, item: Record<string, unknown>): Promise<string> {
    const db = this.n.core.db;
    const netId = String(item["network_id"]);
    const net = await this.n.networks.load(db, netId);
    if (!net) throw notFound("network", netId);
    const owner = String(net["project_id"]);
    if (caller.admin) return owner;
    const grants = owner === caller.projectId ? [] : await rbacGrants(db, "network", caller.projectId, [netId]);
    if (owner !== caller.projectId && grants.length === 0) throw notFound("network", netId);
    const shared = grants.some((g) => g.action === "access_as_shared");
    if (!shared && owner !== item["project_id"]) throw new NeutronError(404, "HTTPNotFound", "The resource could not be found.");
    return owner;
  }

  // ---------------------------------------------------------------- create

  async create(caller: Caller, items: Array<Record<string, unknown>>): Promise<Doc[]> {
    return this.n.core.write(async (trx) => {
      const out: Doc[] = [];
      for (const item of items) out.push(await this.createOne(trx, caller, item));
      return this.present(trx, caller, out);
    });
  }

  private async createOne(trx: NetworkTrx, caller: Caller, item: Record<string, unknown>): Promise<Doc> {
    const projectId = String(item["project_id"]);
    const ipVersion = Number(item["ip_version"]) as IpVersion;
    const cidrGiven = isSet(item["cidr"]);
    const prefixlen = item["prefixlen"] as number | undefined;
    // _create_subnet_precommit
    if (cidrGiven && prefixlen !== undefined) throw bad("cidr and prefixlen must not be supplied together");
    let cidr: Cidr | undefined;
    if (cidrGiven) {
      const parsed = parseCidr(String(item["cidr"]));
      if (!parsed) throw badRequest(`Invalid input for cidr. Reason: '${String(item["cidr"])}' is not a valid IP subnet.`);
      cidr = parsed.cidr;
    }
    let poolId = await this.resolvePoolId(trx, caller, item, cidr);
    if (!poolId && !cidr) throw bad("a subnetpool must be specified in the absence of a cidr");
    const spec = (c: Cidr | undefined): SubnetSpec => ({
      ipVersion,
      ...(c ? { cidr: formatCidr(c) } : {}),
      ...(item["gateway_ip"] !== undefined ? { gatewayIp: item["gateway_ip"] as string | null } : {}),
      ...(item["dns_nameservers"] !== undefined ? { dnsNameservers: item["dns_nameservers"] as string[] } : {}),
      ...(item["host_routes"] !== undefined ? { hostRoutes: item["host_routes"] as HostRoute[] } : {}),
      ...(item["ipv6_ra_mode"] !== undefined ? { ipv6RaMode: item["ipv6_ra_mode"] as string } : {}),
      ...(item["ipv6_address_mode"] !== undefined ? { ipv6AddressMode: item["ipv6_address_mode"] as string } : {}),
      enableDhcp: item["enable_dhcp"] === true,
    });
    if (poolId) {
      // validate_pools_with_subnetpool; Neutron runs none of _validate_subnet for pool requests.
      if (item["allocation_pools"] !== undefined && !cidr) throw bad("allocation_pools allowed only for specific subnet requests");
      if (poolId === IPV6_PD_POOL_ID) {
        if (cidr) {
          poolId = undefined;
          const e = validateSubnet(spec(cidr));
          if (e) raise(e);
        } else {
          const e = validateSubnetForPd(spec(undefined));
          if (e) raise(e);
          cidr = parseCidr(PROVISIONAL_IPV6_PD_PREFIX)?.cidr;
        }
      }
    } else {
      const e = validateSubnet(spec(cidr));
      if (e) raise(e);
    }

    await this.n.quotas.check(trx, projectId, "subnet");
    const net = await this.n.networks.load(trx, String(item["network_id"]), true);
    if (!net) throw notFound("network", String(item["network_id"]));

    // IpamPluggableBackend.allocate_subnet
    const pool = poolId && poolId !== IPV6_PD_POOL_ID ? await this.pools.visible(trx, caller, poolId, true) : undefined;
    if (poolId && poolId !== IPV6_PD_POOL_ID && !pool) throw notFound("subnetpool", poolId);
    if (pool && ipVersion !== pool["ip_version"]) {
      throw bad(`Cannot allocate IPv${ipVersion} subnet from IPv${String(pool["ip_version"])} subnet pool`);
    }
    let gateway: string | null | undefined;
    let ranges: IpRange[] | undefined;
    if (cidr) {
      gateway = item["gateway_ip"] === undefined ? formatIp(ipVersion === 6 ? { version: cidr.version, value: cidr.network } : defaultGateway(cidr)) : (item["gateway_ip"] as string | null);
      ranges = this.preparePools(item["allocation_pools"] as PoolSpec[] | undefined, cidr, gateway);
    } else {
      gateway = isSet(item["gateway_ip"]) ? String(item["gateway_ip"]) : undefined;
    }
    if (pool) {
      const allocated = await this.fromPool(trx, pool, cidr, gateway ?? undefined, prefixlen);
      cidr = allocated.cidr;
      if (allocated.gateway !== undefined) gateway = allocated.gateway;
      ranges ??= generatePools(cidr, gateway ? parseIp(gateway) : null);
    }
    if (!cidr) throw bad("A cidr must be specified in the absence of a subnet pool");
    ranges ??= generatePools(cidr, gateway ? parseIp(gateway) : null);

    // _save_subnet
    const siblings = (await this.ofNetwork(trx, net.id)).map(subnetView);
    const overlap = validateSubnetCidrOnNetwork(cidr, siblings.map((s) => s.cidr), net.id);
    if (overlap) raise(overlap);
    await this.assertPoolAffinity(trx, net.id, ipVersion, poolId ?? null, pool);
    if (isSet(item["segment_id"])) {
      throw new NeutronError(404, "SegmentNotFound", `Segment ${String(item["segment_id"])} could not be found.`);
    }
    const dhcp = item["enable_dhcp"] === true;
    const doc: Doc = this.n.core.stamp({
      id: uuid(),
      name: item["name"] ?? "",
      tenant_id: projectId,
      project_id: projectId,
      network_id: net.id,
      ip_version: ipVersion,
      subnetpool_id: poolId ?? null,
      enable_dhcp: dhcp,
      ipv6_ra_mode: ipVersion === 6 && dhcp && isSet(item["ipv6_ra_mode"]) ? item["ipv6_ra_mode"] : null,
      ipv6_address_mode: ipVersion === 6 && dhcp && isSet(item["ipv6_address_mode"]) ? item["ipv6_address_mode"] : null,
      gateway_ip: gateway ?? null,
      cidr: formatCidr(cidr),
      allocation_pools: ranges.map(toPoolSpec),
      host_routes: normalizeRoutes((item["host_routes"] as HostRoute[] | undefined) ?? []),
      dns_nameservers: (item["dns_nameservers"] as string[] | undefined) ?? [],
      description: item["description"] ?? "",
      service_types: (item["service_types"] as string[] | undefined) ?? [],
      segment_id: null,
    });
    await insertDoc(trx, SUBNET_SPEC, doc);

    // _create_subnet_postcommit: auto-address subnets reach every port of the network.
    const view = subnetView(doc);
    if (view.auto) await this.addAutoAddresses(trx, view);
    await this.syncDhcp(trx, net);
    await this.n.driver.realize("subnet", doc.id, "create");
    return doc;
  }

  /** _get_subnetpool_id */
  private async resolvePoolId(q: Q, caller: Caller, item: Record<string, unknown>, cidr: Cidr | undefined): Promise<string | undefined> {
    const useDefault = item["use_default_subnetpool"] === true;
    const poolId = (item["subnetpool_id"] as string | null | undefined) ?? undefined;
    if (useDefault && poolId) throw bad("subnetpool_id and use_default_subnetpool cannot both be specified");
    if (poolId) return poolId;
    if (!useDefault) return undefined;
    const version = cidr ? cidr.version : Number(item["ip_version"]);
    const pool = await this.pools.defaultPool(q, caller, version);
    if (pool) return pool.id;
    throw bad(`No default subnetpool found for IPv${version}`);
  }

  /** _prepare_allocation_pools: the pools given (validated) or the default ones around the gateway. */
  private preparePools(given: PoolSpec[] | undefined, cidr: Cidr, gateway: string | null): IpRange[] {
    if (given === undefined) return generatePools(cidr, gateway ? parseIp(gateway) : null);
    const e = validateAllocationPools(given, cidr, gateway);
    if (e) raise(e);
    const ranges = parsePools(given);
    if (!Array.isArray(ranges)) raise(ranges);
    return ranges;
  }

  /**
   * SubnetRequestFactory + SubnetAllocator: an "any" request (no cidr, no gateway) takes a
   * block of prefixlen (default_prefixlen) from the pool; a specific one must fit in its free
   * space. The pool row is locked, so two allocations from one pool cannot overlap.
   */
  private async fromPool(
    trx: NetworkTrx,
    pool: Doc,
    cidr: Cidr | undefined,
    gateway: string | undefined,
    prefixlen: number | undefined,
  ): Promise<{ cidr: Cidr; gateway?: string }> {
    const len = prefixlen ?? Number(pool["default_prefixlen"]);
    let request: { prefixLen: number } | { cidr: Cidr };
    if (cidr) request = { cidr };
    else if (gateway) {
      const gw = parseIp(gateway);
      if (!gw) throw badRequest(`Invalid input for gateway_ip. Reason: '${gateway}' is not a valid IP address.`);
      request = { cidr: cidrFromGateway(gw, len) };
    } else request = { prefixLen: len };
    const bounds = { minPrefixlen: Number(pool["min_prefixlen"]), maxPrefixlen: Number(pool["max_prefixlen"]) };
    const requestedLen = "cidr" in request ? request.cidr.prefixLen : request.prefixLen;
    const outOfBounds = checkPrefixlenBounds(requestedLen, bounds);
    if (outOfBounds) raise(outOfBounds);
    const rows = await trx.selectFrom("net_subnet").select(["cidr", "project_id"]).where("subnetpool_id", "=", pool.id).execute();
    const allocated = rows.map((r) => parseCidr(r.cidr)?.cidr).filter((c): c is Cidr => c !== undefined);
    const version = Number(pool["ip_version"]) as IpVersion;
    // Neutron counts the pool owner's allocations (SubnetAllocator._allocations_used_by_tenant).
    const ownerLens = rows.filter((r) => r.project_id === pool["project_id"]).map((r) => parseCidr(r.cidr)?.cidr.prefixLen ?? 0);
    const overQuota = checkSubnetPoolQuota(version, pool["default_quota"] as number | null, ownerLens, requestedLen);
    if (overQuota) raise(overQuota);
    const got = allocateFromSubnetPool({ prefixes: poolPrefixes(pool), ...bounds }, allocated, request);
    if ("type" in got) raise(got);
    if ("gatewayIp" in got) return { cidr: got.cidr, gateway: formatIp(got.gatewayIp) };
    return { cidr: got };
  }

  /** _validate_network_subnetpools with the network's address scope. */
  private async assertPoolAffinity(q: Q, networkId: string, ipVersion: number, poolId: string | null, pool: Doc | undefined): Promise<void> {
    const siblings = await q
      .selectFrom("net_subnet")
      .leftJoin("net_subnetpool", "net_subnetpool.id", "net_subnet.subnetpool_id")
      .select(["net_subnet.subnetpool_id as pool", "net_subnet.ip_version as version", "net_subnetpool.address_scope_id as scope"])
      .where("net_subnet.network_id", "=", networkId)
      .execute();
    const networkScope = siblings.find((s) => s.version === ipVersion && s.scope)?.scope ?? null;
    if (networkScope && (poolId === IPV6_PD_POOL_ID || (pool && pool["address_scope_id"] !== networkScope))) {
      throw badRequest(
        "Subnets of the same address family hosted on the same network must all participate in the same address scope.",
        "NetworkAddressScopeAffinityError",
      );
    }
    const affinity = (): NeutronError =>
      badRequest("Subnets hosted on the same network must be allocated from the same subnet pool.", "NetworkSubnetPoolAffinityError");
    for (const s of siblings) {
      if (poolId === IPV6_PD_POOL_ID) {
        if (s.version === 6 && s.pool !== IPV6_PD_POOL_ID) throw affinity();
      } else if (pool) {
        if (s.pool !== pool.id && s.version === pool["ip_version"] && !networkScope) throw affinity();
      } else if (s.pool && s.version === ipVersion) {
        throw affinity();
      }
    }
  }

  // ---------------------------------------------------------------- update

  async update(caller: Caller, id: string, changes: Record<string, unknown>, ifRevision: number | undefined): Promise<Doc> {
    return this.n.core.write(async (trx) => {
      const doc = await this.load(trx, id, true);
      if (!doc) throw notFound("subnet", id);
      assertRevision(doc, ifRevision);
      const cur = subnetView(doc);
      const ipVersion = Number(doc["ip_version"]) as IpVersion;
      // _validate_subnet(s, cur_subnet)
      const e = validateSubnet(
        {
          ipVersion,
          cidr: cur.cidrText,
          id,
          ...("gateway_ip" in changes ? { gatewayIp: changes["gateway_ip"] as string | null } : {}),
          ...("dns_nameservers" in changes ? { dnsNameservers: changes["dns_nameservers"] as string[] } : {}),
          ...("host_routes" in changes ? { hostRoutes: changes["host_routes"] as HostRoute[] } : {}),
          ...("enable_dhcp" in changes ? { enableDhcp: changes["enable_dhcp"] as boolean } : {}),
        },
        {
          enableDhcp: doc["enable_dhcp"] === true,
          ipv6RaMode: doc["ipv6_ra_mode"] as string | null,
          ipv6AddressMode: doc["ipv6_address_mode"] as string | null,
        },
      );
      if (e) raise(e);
      const oldGateway = (doc["gateway_ip"] as string | null) ?? null;
      const newGateway = "gateway_ip" in changes ? canonical(changes["gateway_ip"] as string | null) : oldGateway;
      if (isSet(changes["gateway_ip"]) && newGateway !== oldGateway && oldGateway) {
        const used = await trx
          .selectFrom("net_ip_allocation")
          .innerJoin("net_port", "net_port.id", "net_ip_allocation.port_id")
          .select("net_ip_allocation.port_id as port_id")
          .where("net_ip_allocation.subnet_id", "=", id)
          .where("net_ip_allocation.ip_address", "=", oldGateway)
          .where("net_port.device_owner", "in", ROUTER_PORT_OWNERS)
          .executeTakeFirst();
        if (used) {
          throw inUse("GatewayIpInUse", `Current gateway ip ${oldGateway} already in use by port ${used.port_id}. Unable to update.`);
        }
      }
      let ranges: IpRange[] | undefined;
      if (changes["allocation_pools"] !== undefined && changes["allocation_pools"] !== null) {
        const pools = changes["allocation_pools"] as PoolSpec[];
        const invalid = validateAllocationPools(pools, cur.cidr);
        if (invalid) raise(invalid);
        const parsed = parsePools(pools);
        if (!Array.isArray(parsed)) raise(parsed);
        ranges = parsed;
      }
      if ((newGateway !== oldGateway || ranges) && newGateway) {
        const conflictWithPools = validateGatewayOutOfPools(newGateway, ranges ?? cur.pools);
        if (conflictWithPools) raise(conflictWithPools);
      }
      const dhcpBefore = doc["enable_dhcp"] === true;
      for (const key of ["name", "description", "enable_dhcp", "dns_nameservers", "service_types"]) {
        if (key in changes) doc[key] = changes[key];
      }
      if ("gateway_ip" in changes) doc["gateway_ip"] = newGateway;
      if ("host_routes" in changes) doc["host_routes"] = normalizeRoutes(changes["host_routes"] as HostRoute[]);
      if (ranges) doc["allocation_pools"] = ranges.map(toPoolSpec);
      delete doc["shared"];
      this.n.core.touch(doc);
      await updateDoc(trx, SUBNET_SPEC, doc);
      if ((doc["enable_dhcp"] === true) !== dhcpBefore) {
        const net = await this.n.networks.load(trx, cur.networkId, true);
        if (net) await this.syncDhcp(trx, net);
      }
      await this.n.driver.realize("subnet", id, "update");
      return (await this.present(trx, caller, [doc]))[0] as Doc;
    });
  }

  // ---------------------------------------------------------------- delete

  /**
   * delete_subnet: refused while a router interface or (unless addresses are automatic) any
   * port but the cloud's own holds an address on it; the remaining addresses go with it.
   */
  async delete(id: string, ifRevision: number | undefined): Promise<void> {
    await this.n.core.write(async (trx) => {
      const doc = await this.load(trx, id, true);
      if (!doc) throw notFound("subnet", id);
      assertRevision(doc, ifRevision);
      const view = subnetView(doc);
      const allocs = await trx
        .selectFrom("net_ip_allocation")
        .leftJoin("net_port", "net_port.id", "net_ip_allocation.port_id")
        .select(["net_ip_allocation.port_id as port_id", "net_port.device_owner as owner"])
        .where("net_ip_allocation.subnet_id", "=", id)
        .execute();
      const busy = (): NeutronError =>
        inUse("SubnetInUse", `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`);
      if (allocs.some((a) => ROUTER_INTERFACE_OWNERS.includes(a.owner ?? ""))) throw busy();
      if (!view.auto && allocs.some((a) => !AUTO_DELETE_PORT_OWNERS.includes(a.owner ?? ""))) throw busy();
      if (allocs.length) {
        await this.n.ports.onSubnetDeleted(trx, id);
        await trx.deleteFrom("net_ip_allocation").where("subnet_id", "=", id).execute();
      }
      await deleteDoc(trx, "net_subnet", id);
      const net = await this.n.networks.load(trx, view.networkId, true);
      if (net) await this.syncDhcp(trx, net);
      await this.n.driver.realize("subnet", id, "delete");
    });
  }

  // ---------------------------------------------------------------- ports the subnet touches

  private async addAutoAddresses(trx: NetworkTrx, subnet: ReturnType<typeof subnetView>): Promise<void> {
    const ports = await findDocs(trx, "net_port", { network_id: subnet.networkId });
    if (ports.length === 0) return;
    const added = await this.ipam.addAutoAddresses(
      trx,
      subnet,
      ports.map((p) => ({
        id: p.id,
        network_id: subnet.networkId,
        mac_address: String(p["mac_address"]),
        device_owner: String(p["device_owner"] ?? ""),
      })),
    );
    for (const port of ports) {
      const ip = added.get(port.id);
      if (!ip) continue;
      await this.savePortFixedIps(trx, port, [...((port["fixed_ips"] as FixedIp[] | undefined) ?? []), ip]);
    }
  }

  /** A port's addresses changed under it: its document (fixed_ips, revision) follows. */
  private async savePortFixedIps(trx: NetworkTrx, port: Doc, fixed: FixedIp[]): Promise<void> {
    port["fixed_ips"] = sortFixedIps(fixed);
    this.n.core.touch(port);
    await updateDoc(trx, PORT_SPEC, port);
  }

  /**
   * What the DHCP agent does when a network's subnets change: with DHCP on any subnet the
   * network has one DHCP port (device_id from the agent's host, owned by the network's
   * project) holding an address on each DHCP-enabled subnet, the first of its pool; with DHCP
   * on none, the agent releases its port.
   */
  async syncDhcp(trx: NetworkTrx, net: Doc): Promise<void> {
    const subnets = (await this.ofNetwork(trx, net.id)).map(subnetView);
    const dhcp = subnets.filter((s) => s.enableDhcp);
    const ports = await trx.selectFrom("net_port").select("id").where("network_id", "=", net.id).where("device_owner", "=", DEVICE_OWNER_DHCP).execute();
    if (dhcp.length === 0) {
      for (const p of ports) await this.n.ports.deleteInternal(trx, p.id);
      return;
    }
    const host = this.n.core.config.hosts[0] ?? "stackbox";
    if (ports.length === 0) {
      await this.n.ports.createInternal(trx, {
        network_id: net.id,
        project_id: String(net["project_id"]),
        device_owner: DEVICE_OWNER_DHCP,
        device_id: dhcpDeviceId(net.id, host),
        fixed_ips: dhcp.map((s) => ({ subnet_id: s.id })),
        name: "",
        admin_state_up: true,
      });
      return;
    }
    const wanted = new Set(dhcp.map((s) => s.id));
    for (const p of ports) {
      const current = await trx.selectFrom("net_ip_allocation").select(["subnet_id", "ip_address"]).where("port_id", "=", p.id).execute();
      const have = new Set(current.map((c) => c.subnet_id));
      const missing = dhcp.filter((s) => !have.has(s.id));
      const dropped = current.filter((c) => !wanted.has(c.subnet_id));
      if (missing.length === 0 && dropped.length === 0) continue;
      const requested = [
        ...current.filter((c) => wanted.has(c.subnet_id)).map((c) => ({ subnet_id: c.subnet_id, ip_address: c.ip_address })),
        ...missing.map((s) => ({ subnet_id: s.id })),
      ];
      await this.n.ports.updateFixedIps?.(trx, p.id, requested);
    }
  }
}

/** Host routes as Neutron stores them: canonical destination network and next hop. */
function normalizeRoutes(routes: readonly HostRoute[]): HostRoute[] {
  return routes.map((r) => {
    const dest = parseCidr(r.destination);
    return { destination: dest ? formatCidr(dest.cidr) : r.destination, nexthop: canonical(r.nexthop) ?? r.nexthop };
  });
}

function canonical(ip: string | null): string | null {
  if (ip === null) return null;
  const p: Ip | undefined = parseIp(ip);
  return p ? formatIp(p) : ip;
}
