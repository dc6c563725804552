/**
 * The lenient parsing of python-netaddr 0.8, the version Neutron 21 runs with. Neutron's
 * validators and converters call netaddr and then decide from what it made of the text.
 * Their messages and their canonical forms depend on this leniency: validate_subnet says
 * "'10/8' isn't a recognized IP subnet cidr, '10.0.0.0/8' is recommended" because netaddr
 * reads "10/8" as 10.0.0.0/8. Only the validators use these functions. Stored addresses go
 * through the strict parsers in ip.ts.
 */
import { invalidInputError } from "./errors.js";
import type { IpamError } from "./errors.js";
import { formatIp, formatIpv6, maxPrefix, maxValue, parseIpv4, parseIpv6 } from "./ip.js";
import type { IpVersion } from "./ip.js";
import { pyInt } from "./py.js";

/** What netaddr.IPNetwork(text) holds: the address as typed (host bits kept) and a prefix. */
export interface NetaddrNetwork {
  readonly version: IpVersion;
  readonly value: bigint;
  readonly prefixLen: number;
}

/** Each dotted token through Python's int(), then every token must be an octet. */
function decimalOctets(tokens: readonly string[]): bigint | undefined {
  let value = 0n;
  for (const token of tokens) {
    const n = pyInt(token);
    if (n === undefined || n < 0n || n > 255n) return undefined;
    value = (value << 8n) | n;
  }
  return value;
}

/**
 * netaddr's ipv4.expand_partial_address, for when inet_pton fails in IPNetwork: "10" →
 * 10.0.0.0, "10.1" → 10.1.0.0, and each token goes through int(), so "010" is 10, in decimal.
 */
function expandPartialIpv4(text: string): bigint | undefined {
  if (text.includes(":")) return undefined;
  const tokens = text.split(".");
  if (tokens.length > 4) return undefined;
  while (tokens.length < 4) tokens.push("0");
  return decimalOctets(tokens);
}

const log2 = (v: bigint): number => v.toString(2).length - 1;
const isPowerOfTwo = (v: bigint): boolean => v > 0n && (v & (v - 1n)) === 0n;

/** The part after "/": an int() prefix length, or else a netmask or hostmask address. */
function parsePrefix(text: string, version: IpVersion): number | undefined {
  const width = maxPrefix(version);
  const n = pyInt(text);
  if (n !== undefined) return n >= 0n && n <= BigInt(width) ? Number(n) : undefined;
  const mask = version === 4 ? parseIpv4(text) : parseIpv6(text);
  if (mask === undefined) return undefined;
  const inverted = (mask ^ maxValue(version)) + 1n;
  if (isPowerOfTwo(inverted)) return width - log2(inverted); // netmask, e.g. 255.255.255.0
  if (isPowerOfTwo(mask + 1n)) return width - log2(mask + 1n); // hostmask, e.g. 0.0.0.255
  return undefined;
}

/** netaddr.IPNetwork(text): IPv4 is tried first, then IPv6. */
export function netaddrNetwork(text: string): NetaddrNetwork | undefined {
  const slash = text.indexOf("/");
  const addr = slash < 0 ? text : text.slice(0, slash);
  const prefix = slash < 0 ? undefined : text.slice(slash + 1);
  for (const version of [4, 6] as const) {
    const value = version === 4 ? (parseIpv4(addr) ?? expandPartialIpv4(addr)) : parseIpv6(addr);
    if (value === undefined) continue;
    const prefixLen = prefix === undefined ? maxPrefix(version) : parsePrefix(prefix, version);
    if (prefixLen === undefined) continue;
    return { version, value, prefixLen };
  }
  return undefined;
}

/**
 * netaddr.IPAddress(text, flags=ZEROFILL) for IPv4, the way validate_ip_address reads it: each
 * dotted token goes through int() and the result through inet_aton. Only the four-token form
 * matters, because the validator rejects anything without exactly three dots.
 */
export function zerofillIpv4(text: string): bigint | undefined {
  const tokens = text.split(".");
  return tokens.length === 4 ? decimalOctets(tokens) : undefined;
}

/** The IP version netaddr.IPNetwork(text) reports, as _validate_ip_version reads it. */
export const netaddrVersion = (text: string): IpVersion | undefined => netaddrNetwork(text)?.version;

/**
 * neutron_lib converters.convert_cidr_to_canonical_format. It runs before validate_subnet on
 * a subnet's cidr. The address keeps its host bits; IPv6 is compacted; lenient forms are
 * spelled out: "10/8" → "10.0.0.0/8", "10.0.0.1" → "10.0.0.1/32",
 * "2001:DB8::/64" → "2001:db8::/64".
 */
export function convertCidrToCanonical(value: string): string | IpamError {
  const net = netaddrNetwork(value);
  if (!net) return invalidInputError(`${value} is not in a CIDR format`);
  return `${formatIp({ version: net.version, value: net.value })}/${net.prefixLen}`;
}

/**
 * neutron_lib converters.convert_ip_to_canonical_format. An IPv6 address comes back
 * compacted. IPv4 and anything that doesn't parse come back as they were.
 */
export function convertIpToCanonical(value: string): string {
  const v6 = value.includes(":") ? parseIpv6(value) : undefined;
  return v6 === undefined ? value : formatIpv6(v6);
}
