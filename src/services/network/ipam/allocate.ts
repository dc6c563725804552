/**
 * Picking a free address from a subnet's allocation pools, for ports created without one.
 *
 * Neutron's DB IPAM driver (ipam/drivers/neutrondb_ipam/driver.py _generate_ips) walks the
 * pools in order. From the first pool that has free addresses it samples one at random
 * among that pool's first 1000 free addresses. DHCP and distributed ports ask for the
 * lowest free address instead (PreferNextAddressRequest). We keep the spirit but bound the
 * work for any subnet size:
 * - small pools (≤ scanThreshold addresses) and preferNext: the lowest free address. Tests
 *   and users get predictable addresses.
 * - large pools (/16, /64): a few uniform random probes over all the pools. A /64 is never
 *   crowded, so the first probe nearly always hits. Then the scan as a fallback.
 * A scan costs O(taken addresses it meets + 1), never O(pool size).
 */
import { cryptoRandomBelow, rangeSize } from "./ip.js";
import type { IpRange, RandomBelow } from "./ip.js";
import { poolsSize, sortPools } from "./pools.js";

export interface PickOptions {
  /** Lowest free address whatever the size: Neutron's PreferNextAddressRequest (DHCP ports). */
  readonly preferNext?: boolean;
  /** Pools up to this many addresses in total are scanned, not probed. Default 4096. */
  readonly scanThreshold?: number;
  /** Random probes before falling back to a scan. Default 32. */
  readonly probes?: number;
  /** Random source, for tests. Default: crypto. */
  readonly random?: RandomBelow;
}

/** The index-th address of the pools taken together, in the order given. */
export function nthAddress(pools: readonly IpRange[], index: bigint): bigint | undefined {
  let rest = index;
  for (const pool of pools) {
    const size = rangeSize(pool);
    if (rest < size) return pool.first + rest;
    rest -= size;
  }
  return undefined;
}

/** The lowest address, over all pools, that isTaken rejects. Undefined when none is free. */
function scanLowest(pools: readonly IpRange[], isTaken: (ip: bigint) => boolean): bigint | undefined {
  for (const pool of sortPools(pools)) {
    for (let ip = pool.first; ip <= pool.last; ip++) {
      if (!isTaken(ip)) return ip;
    }
  }
  return undefined;
}

/** The lowest free address. It looks at no more than taken.size + 1 addresses. */
export function lowestFree(pools: readonly IpRange[], taken: ReadonlySet<bigint>): bigint | undefined {
  return scanLowest(pools, (ip) => taken.has(ip));
}

/**
 * Up to n distinct random addresses drawn uniformly from the pools. Fewer come back when the
 * pools are smaller than n. A caller with the taken addresses in a database can check all of
 * them in one query.
 */
export function randomCandidates(pools: readonly IpRange[], n: number, random: RandomBelow = cryptoRandomBelow): bigint[] {
  const total = poolsSize(pools);
  const want = total < BigInt(n) ? Number(total) : n;
  const out = new Set<bigint>();
  // Draws can repeat in tiny pools, so allow some slack, but stop in bounded time.
  for (let draws = 0; out.size < want && draws < want * 8 + 16; draws++) {
    const ip = nthAddress(pools, random(total));
    if (ip !== undefined) out.add(ip);
  }
  return [...out];
}

/** A free address from the pools, or undefined when they are exhausted (IpAddressGenerationFailure). */
export function pickAddress(
  pools: readonly IpRange[],
  isTaken: (ip: bigint) => boolean,
  opts: PickOptions = {},
): bigint | undefined {
  const total = poolsSize(pools);
  if (total === 0n) return undefined;
  if (opts.preferNext || total <= BigInt(opts.scanThreshold ?? 4096)) return scanLowest(pools, isTaken);
  const random = opts.random ?? cryptoRandomBelow;
  for (let i = 0; i < (opts.probes ?? 32); i++) {
    const ip = nthAddress(pools, random(total));
    if (ip !== undefined && !isTaken(ip)) return ip;
  }
  return scanLowest(pools, isTaken);
}
