/**
 * Core IP arithmetic for IPAM: addresses, CIDRs and ranges as bigints.
 *
 * Parsing here is strict, with the same rules as inet_pton(3) in glibc. netaddr uses
 * inet_pton too, and Neutron stores and compares addresses through netaddr. The lenient
 * netaddr parsing that Neutron's validators need for their error messages is in netaddr.ts.
 */
import { randomBytes } from "node:crypto";

export type IpVersion = 4 | 6;

export interface Ip {
  readonly version: IpVersion;
  readonly value: bigint;
}

/** A network. `network` never has host bits set. */
export interface Cidr {
  readonly version: IpVersion;
  readonly network: bigint;
  readonly prefixLen: number;
}

/** An inclusive address range (netaddr.IPRange), e.g. an allocation pool. */
export interface IpRange {
  readonly version: IpVersion;
  readonly first: bigint;
  readonly last: bigint;
}

/** Returns a uniformly distributed bigint in [0, bound). */
export type RandomBelow = (bound: bigint) => bigint;

export const maxPrefix = (version: IpVersion): number => (version === 4 ? 32 : 128);

/** The largest address value of the family (all ones). */
export const maxValue = (version: IpVersion): bigint => (1n << BigInt(maxPrefix(version))) - 1n;

/** Host bits of a prefix length as a mask, e.g. /24 → 0xff. */
export const hostMask = (version: IpVersion, prefixLen: number): bigint =>
  (1n << BigInt(maxPrefix(version) - prefixLen)) - 1n;

export const netMask = (version: IpVersion, prefixLen: number): bigint =>
  maxValue(version) ^ hostMask(version, prefixLen);

// ---------------------------------------------------------------- parsing

/** One octet as inet_pton(AF_INET) takes it: decimal, at most 255, no leading zero. */
const V4_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;

/** inet_pton(AF_INET): exactly four dotted decimal octets. Rejects "1.1.1", "01.1.1.1", hex. */
export function parseIpv4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!V4_OCTET.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function hexDigit(ch: string): number {
  const c = ch.charCodeAt(0);
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * inet_pton(AF_INET6), following glibc's algorithm: 1 to 4 hex digits per group, at most
 * one "::", and an embedded dotted IPv4 address only as the last 32 bits. "::" must stand
 * for at least one group, so "1::2:3:4:5:6:7:8" is rejected, as glibc rejects it.
 */
export function parseIpv6(s: string): bigint | undefined {
  let i = 0;
  if (s.startsWith(":")) {
    if (s[1] !== ":") return undefined;
    i = 1;
  }
  const words: number[] = [];
  let gap = -1; // index in `words` where "::" sits
  let tokenStart = i;
  let val = 0;
  let digits = 0;
  for (; i < s.length; i++) {
    const ch = s.charAt(i);
    const d = hexDigit(ch);
    if (d >= 0) {
      if (++digits > 4) return undefined;
      val = val * 16 + d;
      continue;
    }
    if (ch === ":") {
      tokenStart = i + 1;
      if (digits === 0) {
        if (gap >= 0) return undefined;
        gap = words.length;
        continue;
      }
      if (i + 1 === s.length || words.length >= 8) return undefined;
      words.push(val);
      val = 0;
      digits = 0;
      continue;
    }
    if (ch === "." && words.length + 2 <= 8) {
      const v4 = parseIpv4(s.slice(tokenStart));
      if (v4 === undefined) return undefined;
      words.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      digits = 0;
      break;
    }
    return undefined;
  }
  if (digits > 0) {
    if (words.length >= 8) return undefined;
    words.push(val);
  }
  if (gap >= 0) {
    if (words.length === 8) return undefined;
    words.splice(gap, 0, ...new Array<number>(8 - words.length).fill(0));
  }
  if (words.length !== 8) return undefined;
  return words.reduce((acc, w) => (acc << 16n) | BigInt(w), 0n);
}

/** Strict address parse: IPv6 if the text has a colon, else a dotted quad. */
export function parseIp(s: string): Ip | undefined {
  if (s.includes(":")) {
    const value = parseIpv6(s);
    return value === undefined ? undefined : { version: 6, value };
  }
  const value = parseIpv4(s);
  return value === undefined ? undefined : { version: 4, value };
}

// ---------------------------------------------------------------- formatting

export function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
}

/** The longest run of zero words, the first one on a tie; runs shorter than 2 don't count. */
function longestZeroRun(words: readonly number[]): { base: number; len: number } {
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i <= words.length; i++) {
    if (i < words.length && words[i] === 0) {
      cur = cur.base === -1 ? { base: i, len: 1 } : { base: cur.base, len: cur.len + 1 };
    } else if (cur.base !== -1) {
      if (best.base === -1 || cur.len > best.len) best = cur;
      cur = { base: -1, len: 0 };
    }
  }
  return best.len < 2 ? { base: -1, len: 0 } : best;
}

/**
 * IPv6 text as glibc's inet_ntop prints it. netaddr's str() calls inet_ntop: lowercase, the
 * longest zero run compressed, and the last 32 bits dotted for IPv4-compatible ("::1.2.3.4")
 * and IPv4-mapped ("::ffff:1.2.3.4") addresses.
 */
export function formatIpv6(value: bigint): string {
  const words = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  const best = longestZeroRun(words);
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && words[5] === 0xffff))) {
      return out + formatIpv4(value & 0xffffffffn);
    }
    out += (words[i] ?? 0).toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ":";
  return out;
}

export const formatIp = (ip: Ip): string => (ip.version === 4 ? formatIpv4(ip.value) : formatIpv6(ip.value));

/** The canonical text of an address (what Neutron stores and returns), or undefined. */
export function normalizeIp(s: string): string | undefined {
  const ip = parseIp(s);
  return ip && formatIp(ip);
}

// ---------------------------------------------------------------- CIDRs

/** Builds a CIDR, clearing host bits. */
export function makeCidr(version: IpVersion, value: bigint, prefixLen: number): Cidr {
  return { version, network: value & netMask(version, prefixLen), prefixLen };
}

const PREFIX_LEN = /^(?:0|[1-9][0-9]{0,2})$/;

/**
 * Strict CIDR parse: "address/prefixlen" with a decimal prefix length. A bare address is a
 * host network (/32 or /128), the way netaddr.IPNetwork reads it. Host bits are cleared in
 * the result; `hostBitsSet` says whether the text had any.
 *
 * Neutron's validate_subnet rejects a bare address ("'10.0.0.1' isn't a recognized IP subnet
 * cidr, '10.0.0.1/32' is recommended"). But the API runs convert_cidr_to_canonical_format
 * first, and that converter turns "10.0.0.1" into "10.0.0.1/32", so a bare address sent to
 * POST /v2.0/subnets ends up as a /32. See validateSubnetCidr and convertCidrToCanonical.
 */
export function parseCidr(s: string): { cidr: Cidr; hostBitsSet: boolean; address: Ip } | undefined {
  const slash = s.indexOf("/");
  const address = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!address) return undefined;
  let prefixLen = maxPrefix(address.version);
  if (slash >= 0) {
    const text = s.slice(slash + 1);
    if (!PREFIX_LEN.test(text)) return undefined;
    prefixLen = Number(text);
    if (prefixLen > maxPrefix(address.version)) return undefined;
  }
  const cidr = makeCidr(address.version, address.value, prefixLen);
  return { cidr, hostBitsSet: cidr.network !== address.value, address };
}

export const formatCidr = (c: Cidr): string => `${formatIp({ version: c.version, value: c.network })}/${c.prefixLen}`;

export const cidrFirst = (c: Cidr): Ip => ({ version: c.version, value: c.network });

export const cidrLast = (c: Cidr): Ip => ({ version: c.version, value: c.network | hostMask(c.version, c.prefixLen) });

/** Number of addresses in the network, network and broadcast included. */
export const cidrSize = (c: Cidr): bigint => 1n << BigInt(maxPrefix(c.version) - c.prefixLen);

export const cidrRange = (c: Cidr): IpRange => ({ version: c.version, first: c.network, last: cidrLast(c).value });

export const cidrContainsIp = (c: Cidr, ip: Ip): boolean =>
  c.version === ip.version && (ip.value & netMask(c.version, c.prefixLen)) === c.network;

export const cidrContainsCidr = (outer: Cidr, inner: Cidr): boolean =>
  outer.version === inner.version &&
  inner.prefixLen >= outer.prefixLen &&
  (inner.network & netMask(outer.version, outer.prefixLen)) === outer.network;

/** Two CIDRs overlap exactly when one contains the other. */
export const cidrsOverlap = (a: Cidr, b: Cidr): boolean => cidrContainsCidr(a, b) || cidrContainsCidr(b, a);

export const cidrEquals = (a: Cidr, b: Cidr): boolean =>
  a.version === b.version && a.network === b.network && a.prefixLen === b.prefixLen;

// ---------------------------------------------------------------- ranges

export const rangeSize = (r: IpRange): bigint => r.last - r.first + 1n;

export const rangeContains = (r: IpRange, ip: Ip): boolean =>
  r.version === ip.version && ip.value >= r.first && ip.value <= r.last;

export const rangesOverlap = (a: IpRange, b: IpRange): boolean =>
  a.version === b.version && a.first <= b.last && b.first <= a.last;

/** Sorts and merges overlapping or adjacent ranges of one version (an IPSet, compacted). */
export function mergeRanges(ranges: readonly IpRange[]): IpRange[] {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const out: IpRange[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev && prev.version === r.version && r.first <= prev.last + 1n) {
      if (r.last > prev.last) out[out.length - 1] = { ...prev, last: r.last };
    } else {
      out.push(r);
    }
  }
  return out;
}

/** Set difference of two range lists (IPSet.difference), merged and sorted. */
export function subtractRanges(from: readonly IpRange[], remove: readonly IpRange[]): IpRange[] {
  let current = mergeRanges(from);
  for (const cut of mergeRanges(remove)) {
    const next: IpRange[] = [];
    for (const r of current) {
      if (!rangesOverlap(r, cut)) {
        next.push(r);
        continue;
      }
      if (r.first < cut.first) next.push({ ...r, last: cut.first - 1n });
      if (r.last > cut.last) next.push({ ...r, first: cut.last + 1n });
    }
    current = next;
  }
  return current;
}

/** The unique minimal list of aligned CIDRs covering a range, ascending (IPSet.iter_cidrs). */
export function rangeToCidrs(r: IpRange): Cidr[] {
  const width = maxPrefix(r.version);
  const out: Cidr[] = [];
  let start = r.first;
  while (start <= r.last) {
    let bits = 0;
    // Grow the block while it stays aligned at `start` and inside the range.
    while (bits < width && (start & ((1n << BigInt(bits + 1)) - 1n)) === 0n && start + (1n << BigInt(bits + 1)) - 1n <= r.last) {
      bits++;
    }
    out.push({ version: r.version, network: start, prefixLen: width - bits });
    start += 1n << BigInt(bits);
  }
  return out;
}

// ---------------------------------------------------------------- randomness

/** Uniform bigint in [0, bound) from crypto.randomBytes, by rejection sampling. */
export const cryptoRandomBelow: RandomBelow = (bound) => {
  if (bound <= 0n) throw new RangeError("bound must be positive");
  if (bound === 1n) return 0n;
  const bits = (bound - 1n).toString(2).length;
  const bytes = Math.ceil(bits / 8);
  const mask = (1n << BigInt(bits)) - 1n;
  for (;;) {
    const buf = randomBytes(bytes);
    let v = 0n;
    for (const b of buf) v = (v << 8n) | BigInt(b);
    v &= mask;
    if (v < bound) return v;
  }
};
