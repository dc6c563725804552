/**
 * Subnet pools: reading a pool's prefixes and bounds, and carving subnets out of it.
 * Follows neutron/ipam/subnet_alloc.py (SubnetAllocator, SubnetPoolReader, SubnetPoolHelper)
 * and _update_subnetpool_dict in neutron/db/db_base_plugin_v2.py.
 */
import { badRequestError, conflictError } from "./errors.js";
import type { IpamError } from "./errors.js";
import { cidrContainsCidr, cidrRange, formatCidr, makeCidr, maxPrefix, mergeRanges, rangeToCidrs, subtractRanges } from "./ip.js";
import type { Cidr, Ip, IpRange, IpVersion } from "./ip.js";
import { netaddrNetwork } from "./netaddr.js";
import { firstHostIp, generatePools } from "./pools.js";

/** SubnetPoolHelper defaults: the smallest prefix length a pool hands out unless told otherwise. */
export const DEFAULT_MIN_PREFIXLEN: Readonly<Record<IpVersion, number>> = { 4: 8, 6: 64 };

/** Quota is counted in /32s for IPv4 and /64s for IPv6. */
export const QUOTA_UNIT_PREFIXLEN: Readonly<Record<IpVersion, number>> = { 4: 32, 6: 64 };

/** IPSet(cidrs).compact().iter_cidrs(): merged, minimal, ascending. */
export function compactCidrs(cidrs: readonly Cidr[]): Cidr[] {
  return mergeRanges(cidrs.map(cidrRange)).flatMap(rangeToCidrs);
}

/**
 * SubnetPoolReader._read_prefix_info: the pool's prefixes, one IP version, compacted (host
 * bits cleared, overlaps and neighbours merged: 10.0.0.0/25 + 10.0.0.128/25 → 10.0.0.0/24).
 * Texts are read the way netaddr.IPNetwork reads them. The API has validated them with
 * validate_subnet already.
 */
export function readPoolPrefixes(prefixes: readonly string[]): { version: IpVersion; prefixes: Cidr[] } | IpamError {
  if (prefixes.length === 0) return badRequestError("EmptySubnetPoolPrefixList", "Empty subnet pool prefix list.");
  const cidrs: Cidr[] = [];
  for (const text of prefixes) {
    const net = netaddrNetwork(text);
    // netaddr's AddrFormatError, which FAULT_MAP answers with 400.
    if (!net) return badRequestError("AddrFormatError", `invalid IPNetwork ${text}`);
    cidrs.push(makeCidr(net.version, net.value, net.prefixLen));
  }
  const version = cidrs[0]!.version;
  if (cidrs.some((c) => c.version !== version)) {
    return badRequestError("PrefixVersionMismatch", "Cannot mix IPv4 and IPv6 prefixes in a subnet pool.");
  }
  return { version, prefixes: compactCidrs(cidrs) };
}

export interface PrefixBounds {
  readonly minPrefixlen: number;
  readonly maxPrefixlen: number;
  readonly defaultPrefixlen: number;
}

const illegalBounds = (type: string, len: number, baseType: string, baseLen: number): IpamError =>
  badRequestError(
    "IllegalSubnetPoolPrefixBounds",
    `Illegal prefix bounds: ${type}=${len}, ${baseType}=${baseLen}.`,
  );

/**
 * SubnetPoolReader._read_prefix_bounds: fill in the defaults (min 8 or 64, max 32 or 128,
 * default = min), then check min ≥ 0, min ≤ max, max ≤ the address width, and
 * min ≤ default ≤ max. UnsupportedMinSubnetPoolPrefix always says "IPv4", as Neutron's does.
 */
export function resolvePrefixBounds(
  version: IpVersion,
  given: { minPrefixlen?: number; maxPrefixlen?: number; defaultPrefixlen?: number },
): PrefixBounds | IpamError {
  const min = given.minPrefixlen ?? DEFAULT_MIN_PREFIXLEN[version];
  const max = given.maxPrefixlen ?? maxPrefix(version);
  const def = given.defaultPrefixlen ?? min;
  if (min < 0) {
    return badRequestError("UnsupportedMinSubnetPoolPrefix", `Prefix '${min}' not supported in IPv4 pool.`);
  }
  if (min > max) return illegalBounds("min_prefixlen", min, "max_prefixlen", max);
  if (max > maxPrefix(version)) return illegalBounds("max_prefixlen", max, "ip_version_max", maxPrefix(version));
  if (def < min) return illegalBounds("default_prefixlen", def, "min_prefixlen", min);
  if (def > max) return illegalBounds("default_prefixlen", def, "max_prefixlen", max);
  return { minPrefixlen: min, maxPrefixlen: max, defaultPrefixlen: def };
}

/**
 * _update_subnetpool_dict: new prefixes may only grow the pool. The result is compacted.
 * Pass the existing prefixes as stored.
 */
export function updatePoolPrefixes(existing: readonly Cidr[], requested: readonly string[]): Cidr[] | IpamError {
  const read = readPoolPrefixes(requested);
  if ("type" in read) return read;
  const added = read.prefixes.map(cidrRange);
  const missing = subtractRanges(existing.map(cidrRange), added);
  if (missing.length > 0 || existing.some((c) => c.version !== read.version)) {
    return badRequestError(
      "IllegalSubnetPoolPrefixUpdate",
      "Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.",
    );
  }
  return read.prefixes;
}

/**
 * SubnetAllocator._get_available_prefix_list: pool prefixes minus allocated subnets,
 * compacted, sorted by prefix length from longest to shortest (smallest blocks first),
 * ascending address within a length. Sorting this way makes "any" allocations best fit:
 * a small request fills a small hole before it breaks a big block.
 */
export function availablePrefixes(poolPrefixes: readonly Cidr[], allocated: readonly Cidr[]): Cidr[] {
  const free: IpRange[] = subtractRanges(poolPrefixes.map(cidrRange), allocated.map(cidrRange));
  return free.flatMap(rangeToCidrs).sort((a, b) => b.prefixLen - a.prefixLen);
}

/** SubnetAllocator.allocate_subnet's bound checks: max first, then min. */
export function checkPrefixlenBounds(prefixLen: number, bounds: Pick<PrefixBounds, "minPrefixlen" | "maxPrefixlen">): IpamError | undefined {
  if (prefixLen > bounds.maxPrefixlen) {
    return badRequestError(
      "MaxPrefixSubnetAllocationError",
      `Unable to allocate subnet with prefix length ${prefixLen}, maximum allowed prefix is ${bounds.maxPrefixlen}.`,
    );
  }
  if (prefixLen < bounds.minPrefixlen) {
    return badRequestError(
      "MinPrefixSubnetAllocationError",
      `Unable to allocate subnet with prefix length ${prefixLen}, minimum allowed prefix is ${bounds.minPrefixlen}.`,
    );
  }
  return undefined;
}

/** What an "any subnet" allocation yields, as SubnetAllocator's IpamSubnet carries it. */
export interface AllocatedSubnet {
  readonly cidr: Cidr;
  /** network + 1, for both IP versions, unlike defaultGateway for explicit cidrs. */
  readonly gatewayIp: Ip;
  readonly allocationPools: IpRange[];
}

/**
 * SubnetAllocator._allocate_any_subnet: the first block of the requested length in the first
 * (smallest) available prefix that can hold it. Its gateway is network + 1 and its pools are
 * generate_pools around that. Neutron raises SubnetAllocationError as a bare NeutronException
 * (a 500); an exhausted pool is the client's conflict, not a server fault, so Stackbox
 * answers 409 with the same type and message.
 */
export function allocateAnySubnet(
  poolPrefixes: readonly Cidr[],
  allocated: readonly Cidr[],
  prefixLen: number,
): AllocatedSubnet | IpamError {
  for (const block of availablePrefixes(poolPrefixes, allocated)) {
    if (prefixLen < block.prefixLen || prefixLen > maxPrefix(block.version)) continue;
    const cidr = makeCidr(block.version, block.network, prefixLen);
    const gatewayIp = firstHostIp(cidr);
    return { cidr, gatewayIp, allocationPools: generatePools(cidr, gatewayIp) };
  }
  return conflictError(
    "SubnetAllocationError",
    `Failed to allocate subnet: Insufficient prefix space to allocate subnet size /${prefixLen}.`,
  );
}

/**
 * SubnetAllocator._allocate_specific_subnet: the requested cidr must lie entirely in the free
 * space of the pool, that is, inside one of its prefixes and clear of every allocated subnet.
 */
export function allocateSpecificSubnet(
  poolPrefixes: readonly Cidr[],
  allocated: readonly Cidr[],
  cidr: Cidr,
): Cidr | IpamError {
  const fits = availablePrefixes(poolPrefixes, allocated).some((free) => cidrContainsCidr(free, cidr));
  if (fits) return cidr;
  return conflictError(
    "SubnetAllocationError",
    "Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.",
  );
}

export type SubnetPoolRequest = { readonly prefixLen: number } | { readonly cidr: Cidr };

/**
 * SubnetAllocator.allocate_subnet: prefix bounds, then an "any" or a specific allocation.
 * The tenant quota check (checkSubnetPoolQuota) comes between the two in Neutron. The caller
 * runs it because it needs the tenant's subnets.
 */
export function allocateFromSubnetPool(
  pool: { readonly prefixes: readonly Cidr[] } & Pick<PrefixBounds, "minPrefixlen" | "maxPrefixlen">,
  allocated: readonly Cidr[],
  request: SubnetPoolRequest,
): AllocatedSubnet | Cidr | IpamError {
  const prefixLen = "cidr" in request ? request.cidr.prefixLen : request.prefixLen;
  const bad = checkPrefixlenBounds(prefixLen, pool);
  if (bad) return bad;
  if ("cidr" in request) return allocateSpecificSubnet(pool.prefixes, allocated, request.cidr);
  return allocateAnySubnet(pool.prefixes, allocated, prefixLen);
}

/**
 * _num_quota_units_in_prefixlen: how many /32s (IPv4) or /64s (IPv6) a prefix is worth.
 * Longer IPv6 prefixes are worth a fraction, as in Neutron's math.pow.
 */
export const quotaUnits = (version: IpVersion, prefixLen: number): number =>
  2 ** (QUOTA_UNIT_PREFIXLEN[version] - prefixLen);

/**
 * _check_subnetpool_tenant_quota: the tenant's subnets from this pool plus the new one must
 * fit in default_quota units. No quota (null/undefined/0) means unlimited.
 */
export function checkSubnetPoolQuota(
  version: IpVersion,
  quota: number | null | undefined,
  tenantPrefixLens: readonly number[],
  requestedPrefixLen: number,
): IpamError | undefined {
  if (!quota) return undefined;
  const used = tenantPrefixLens.reduce((n, len) => n + quotaUnits(version, len), 0);
  if (used + quotaUnits(version, requestedPrefixLen) <= quota) return undefined;
  return conflictError("SubnetPoolQuotaExceeded", "Per-tenant subnet pool prefix quota exceeded.");
}

/** The cidr of a subnet-pool request that gives a gateway but no cidr (SubnetRequestFactory). */
export const cidrFromGateway = (gateway: Ip, prefixLen: number): Cidr => makeCidr(gateway.version, gateway.value, prefixLen);

/** Prefixes as text, for API responses. */
export const formatPrefixes = (prefixes: readonly Cidr[]): string[] => prefixes.map(formatCidr);
