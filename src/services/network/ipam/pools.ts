/**
 * Allocation pools and gateways of a subnet: Neutron's defaults and checks. Sources:
 * neutron/ipam/utils.py, neutron/db/ipam_backend_mixin.py and
 * neutron/db/ipam_pluggable_backend.py (allocate_subnet).
 */
import { badRequestError, conflictError } from "./errors.js";
import type { IpamError } from "./errors.js";
import {
  cidrContainsIp,
  cidrFirst,
  cidrLast,
  formatCidr,
  formatIp,
  mergeRanges,
  parseIp,
  rangeContains,
  rangeSize,
  rangesOverlap,
  subtractRanges,
} from "./ip.js";
import type { Cidr, Ip, IpRange } from "./ip.js";
import { pyRepr } from "./py.js";

/** An allocation pool as the API carries it. */
export interface PoolSpec {
  readonly start: string;
  readonly end: string;
}

/** netaddr's str(IPRange): "10.0.0.2-10.0.0.254". Neutron's pool messages print this. */
export const formatRange = (r: IpRange): string =>
  `${formatIp({ version: r.version, value: r.first })}-${formatIp({ version: r.version, value: r.last })}`;

export const toPoolSpec = (r: IpRange): PoolSpec => ({
  start: formatIp({ version: r.version, value: r.first }),
  end: formatIp({ version: r.version, value: r.last }),
});

/** netaddr.IPRange(start, end): both valid, the same version, and start <= end. */
export function parsePool(pool: PoolSpec): IpRange | undefined {
  const start = parseIp(pool.start);
  const end = parseIp(pool.end);
  if (!start || !end || start.version !== end.version || start.value > end.value) return undefined;
  return { version: start.version, first: start.value, last: end.value };
}

/**
 * pools_to_ip_range. A pool netaddr cannot turn into an IPRange (start > end, mixed
 * versions) is InvalidAllocationPool. Its message prints the request's dict.
 */
export function parsePools(pools: readonly PoolSpec[]): IpRange[] | IpamError {
  const out: IpRange[] = [];
  for (const pool of pools) {
    const range = parsePool(pool);
    if (!range) return invalidAllocationPool(pyRepr(pool));
    out.push(range);
  }
  return out;
}

const invalidAllocationPool = (pool: string): IpamError =>
  badRequestError("InvalidAllocationPool", `The allocation pool ${pool} is not valid.`);

/**
 * The addresses pools may use. IPv4 leaves out the network and broadcast addresses, except on
 * /31 and /32 (RFC 3021). IPv6 leaves out only the first address, the subnet-router anycast
 * address, so an IPv6 /128 has no room for any pool.
 */
export function usableRange(cidr: Cidr): IpRange {
  const first = cidrFirst(cidr).value;
  const last = cidrLast(cidr).value;
  if (cidr.version === 6) return { version: 6, first: first + 1n, last };
  if (cidr.prefixLen <= 30) return { version: 4, first: first + 1n, last: last - 1n };
  return { version: 4, first, last };
}

/**
 * IpamBackendMixin.validate_allocation_pools plus validate_gw_out_of_pools, as
 * _prepare_allocation_pools runs them when a subnet is created with explicit pools. Checks
 * run in Neutron's order, and the first failure is returned:
 * - InvalidAllocationPool (400): not a valid range, or the wrong IP version
 * - OutOfBoundsAllocationPool (400): reaches outside usableRange(cidr)
 * - OverlappingAllocationPools (409): two pools share an address
 * - GatewayConflictWithAllocationPools (409): the gateway is inside a pool
 * Pass as `gatewayIp` the gateway Neutron ends up with: the request's, or defaultGateway()
 * when none was given. Pass nothing when the subnet has no gateway. On update, Neutron checks
 * the gateway only when it or the pools change. Call validateGatewayOutOfPools for that.
 */
export function validateAllocationPools(
  pools: readonly PoolSpec[],
  cidr: Cidr,
  gatewayIp?: string | null,
): IpamError | undefined {
  const ranges = parsePools(pools);
  if (!Array.isArray(ranges)) return ranges;
  const subnetCidr = formatCidr(cidr);
  const usable = usableRange(cidr);
  for (const r of ranges) {
    if (r.version !== cidr.version) return invalidAllocationPool(formatRange(r));
    if (r.first < usable.first || r.last > usable.last) {
      return badRequestError(
        "OutOfBoundsAllocationPool",
        `The allocation pool ${formatRange(r)} spans beyond the subnet cidr ${subnetCidr}.`,
      );
    }
  }
  const overlap = findOverlap(ranges);
  if (overlap) {
    return conflictError(
      "OverlappingAllocationPools",
      `Found overlapping allocation pools: ${formatRange(overlap[0])} ${formatRange(overlap[1])} for subnet ${subnetCidr}.`,
    );
  }
  return gatewayIp ? validateGatewayOutOfPools(gatewayIp, ranges) : undefined;
}

/** The first overlapping pair, in the order Neutron's nested loop finds it. */
function findOverlap(ranges: readonly IpRange[]): [IpRange, IpRange] | undefined {
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i]!;
      const b = ranges[j]!;
      if (rangesOverlap(a, b)) return [a, b];
    }
  }
  return undefined;
}

/** validate_gw_out_of_pools: GatewayConflictWithAllocationPools (InUse, 409). */
export function validateGatewayOutOfPools(gatewayIp: string, pools: readonly IpRange[]): IpamError | undefined {
  const gw = parseIp(gatewayIp);
  const pool = gw && pools.find((p) => rangeContains(p, gw));
  if (!pool) return undefined;
  return conflictError(
    "GatewayConflictWithAllocationPools",
    `Gateway ip ${gatewayIp} conflicts with allocation pool ${formatRange(pool)}.`,
  );
}

/**
 * ipam/utils.generate_pools: the pools a subnet gets when the request names none. The
 * usable range, minus the gateway, which splits it in two when it falls inside. A
 * single-address network (/32, /128) keeps its one address whatever the gateway.
 */
export function generatePools(cidr: Cidr, gateway?: Ip | null): IpRange[] {
  const first = cidrFirst(cidr).value;
  const last = cidrLast(cidr).value;
  if (first === last) return [{ version: cidr.version, first, last }];
  const usable = usableRange(cidr);
  if (!gateway || gateway.version !== cidr.version) return [usable];
  return subtractRanges([usable], [{ version: gateway.version, first: gateway.value, last: gateway.value }]);
}

/** generatePools with the API's strings: [{start, end}], addresses in canonical form. */
export function defaultAllocationPools(cidr: Cidr, gatewayIp?: string | null): PoolSpec[] {
  const gateway = gatewayIp ? parseIp(gatewayIp) : undefined;
  return generatePools(cidr, gateway ?? null).map(toPoolSpec);
}

/**
 * The gateway Neutron picks when a subnet is created with a cidr but without gateway_ip
 * (IpamBackendMixin._gateway_ip_str). IPv4 gets the first address after the network
 * address. This is done even for /31, where that is the last address, and for /32, where it
 * lies outside the network. IPv6 gets the network address itself, the subnet-router anycast
 * address. Neutron 21 does this, and its unit tests expect "2001::" for 2001::/64.
 * Subnets allocated from a subnet pool use firstHostIp instead.
 */
export function defaultGateway(cidr: Cidr): Ip {
  const network = cidrFirst(cidr);
  return cidr.version === 6 ? network : { version: 4, value: network.value + 1n };
}

/**
 * neutron.common.utils.get_first_host_ip: network + 1, for both versions. This is the gateway of
 * a subnet allocated from a subnet pool (SubnetAllocator._allocate_any_subnet) or renumbered
 * by prefix delegation.
 */
export const firstHostIp = (cidr: Cidr): Ip => ({ version: cidr.version, value: cidrFirst(cidr).value + 1n });

export const poolsSize = (pools: readonly IpRange[]): bigint => pools.reduce((n, p) => n + rangeSize(p), 0n);

/** Whether an address is in any pool. A bare bigint matches a pool of either version. */
export function inPools(ip: Ip | bigint, pools: readonly IpRange[]): boolean {
  if (typeof ip === "bigint") return pools.some((p) => ip >= p.first && ip <= p.last);
  return pools.some((p) => rangeContains(p, ip));
}

/** Sorted, merged copy of pools. Many callers want them in address order. */
export const sortPools = (pools: readonly IpRange[]): IpRange[] => mergeRanges(pools);

/** Device owners that may take an IPv6 subnet's network address (ROUTER_PORT_OWNERS). */
export const ROUTER_PORT_OWNERS: readonly string[] = [
  "network:router_interface",
  "network:ha_router_replicated_interface",
  "network:router_interface_distributed",
  "network:router_centralized_snat",
  "network:router_gateway",
];

/**
 * ipam/utils.check_subnet_ip: whether a fixed IP may be used on the subnet. IPv4 may not use
 * the network or broadcast address. IPv6 may not use the network address either, unless the
 * owner is a router port or unknown (""). Note that IPv4 /31 and /32 have no usable
 * address by this rule, as in Neutron.
 */
export function checkSubnetIp(cidr: Cidr, ip: Ip, portOwner = ""): boolean {
  if (!cidrContainsIp(cidr, ip)) return false;
  const network = cidrFirst(cidr).value;
  if (cidr.version === 6) return portOwner === "" || ROUTER_PORT_OWNERS.includes(portOwner) || ip.value !== network;
  return ip.value !== network && ip.value !== cidrLast(cidr).value;
}

/**
 * ipam/utils.check_gateway_invalid_in_subnet: an IPv4 gateway inside the subnet must not be
 * its network or broadcast address. A gateway outside the subnet passes, because Neutron
 * can't tell which network it is on. The caller's message is "Gateway is not valid on subnet".
 */
export function checkGatewayInvalidInSubnet(cidr: Cidr, ip: Ip): boolean {
  if (!cidrContainsIp(cidr, ip) || cidr.version !== 4) return false;
  return ip.value === cidrFirst(cidr).value || ip.value === cidrLast(cidr).value;
}
