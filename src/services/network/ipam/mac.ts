/**
 * MAC addresses: validation, the stored form, random generation from base_mac, and the
 * EUI-64 interface identifier SLAAC builds from a MAC.
 */
import { randomBytes as cryptoRandomBytes } from "node:crypto";
import { formatIpv6, maxValue } from "./ip.js";
import type { Cidr, Ip } from "./ip.js";
import { hasWhitespace, pyInt, pyStr } from "./py.js";

const hexWords = (size: string, count: number, sep: string): RegExp =>
  new RegExp(`^${Array<string>(count).fill(`([0-9A-F]{${size}})`).join(sep)}\\n?$`, "i");

/**
 * netaddr's EUI-48 text formats (strategy/eui48.py RE_MAC_FORMATS), in its order. Each
 * entry has its word width in hex digits. The optional "\n" copies Python's `$`, which also
 * matches before a final newline. It only matters for the converter, because the
 * validator rejects whitespace first.
 */
const MAC_FORMATS: ReadonlyArray<readonly [RegExp, number]> = [
  [hexWords("1,2", 6, ":"), 2], // fa:16:3e:00:00:01, and 1:2:3:4:5:6
  [hexWords("1,2", 6, "-"), 2], // FA-16-3E-00-00-01 (Windows, IEEE)
  [hexWords("1,4", 3, ":"), 4], // fa16:3e00:0001
  [hexWords("1,4", 3, "-"), 4],
  [hexWords("1,4", 3, "\\."), 4], // fa16.3e00.0001 (Cisco)
  [hexWords("5,6", 2, "-"), 6], // fa163e-000001 (PostgreSQL)
  [hexWords("5,6", 2, ":"), 6],
  [/^([0-9A-F]{12})\n?$/i, 12], // fa163e000001 (bare)
  [/^([0-9A-F]{11})\n?$/i, 12], // a163e000001: a bare MAC whose leading zero was dropped
];

/** A 48-bit MAC in any format netaddr accepts, as an integer. */
export function parseMac(s: string): bigint | undefined {
  for (const [re, digits] of MAC_FORMATS) {
    const m = re.exec(s);
    if (!m) continue;
    const hex = m
      .slice(1)
      .map((w) => (w ?? "").padStart(digits, "0"))
      .join("");
    return BigInt(`0x${hex}`);
  }
  return undefined;
}

/** Lowercase, colon separated, two digits per octet (netaddr's mac_unix_expanded). */
export function formatMac(value: bigint): string {
  return value
    .toString(16)
    .padStart(12, "0")
    .match(/../g)!
    .join(":");
}

/**
 * The form Neutron stores and returns: convert_to_sanitized_mac_address, which the port API
 * runs before validating. "FA-16-3E-00-00-01" → "fa:16:3e:00:00:01".
 */
export function normalizeMac(s: string): string | undefined {
  const value = parseMac(s);
  return value === undefined ? undefined : formatMac(value);
}

/**
 * neutron_lib convert_to_sanitized_mac_address exactly, quirks included. Port create and
 * update run it before validate_mac_address. It is normalizeMac, except for text that is no
 * MAC format: netaddr.EUI then tries Python's int(), so "55" becomes 00:00:00:00:00:37.
 * Anything else comes back unchanged, and the validator rejects it.
 */
export function convertMacToSanitized(s: string): string {
  const value = parseMac(s) ?? pyInt(s);
  return value !== undefined && value >= 0n && value <= 0xffffffffffffn ? formatMac(value) : s;
}

/** neutron_lib constants.INVALID_MAC_ADDRESSES: all zeros and broadcast. */
const INVALID_MACS: readonly bigint[] = [0n, 0xffffffffffffn];

/**
 * validate_mac_address: no whitespace, a format netaddr accepts, and neither all zeros nor
 * broadcast. Multicast MACs (odd first octet, e.g. 01:00:5e:00:00:01) are accepted, as in
 * Neutron. Only base_mac's config check demands a unicast first octet.
 */
export function validateMac(data: unknown): string | undefined {
  const invalid = `'${pyStr(data)}' is not a valid MAC address`;
  if (typeof data !== "string" || hasWhitespace(data)) return invalid;
  const value = parseMac(data);
  return value === undefined || INVALID_MACS.includes(value) ? invalid : undefined;
}

/** neutron_lib validators.MAC_PATTERN, which neutron/common/config.py applies to base_mac. */
const BASE_MAC_PATTERN = /^[0-9A-Fa-f][aceACE02468](:[0-9A-Fa-f]{2}){5}$/;

/**
 * A random MAC from base_mac, as neutron_lib.utils.net.get_random_mac builds it. The first
 * three octets come from the base. So does the fourth, unless it is "00". The rest is random.
 * The base's first octet is kept as it is. With the default fa:16:3e that octet has the
 * locally administered bit set and the multicast bit clear. Neutron refuses to start with
 * a base that fails MAC_PATTERN, so we throw.
 */
export function randomMac(
  base = "fa:16:3e:00:00:00",
  randomBytes: (n: number) => Uint8Array = cryptoRandomBytes,
): string {
  if (!BASE_MAC_PATTERN.test(base)) throw new Error(`Base MAC: '${base}' is not a valid MAC address pattern`);
  const octets = base.toLowerCase().split(":");
  const fixed = octets[3] !== "00" ? 4 : 3;
  const random = randomBytes(6 - fixed);
  const tail = Array.from(random, (b) => b.toString(16).padStart(2, "0"));
  return [...octets.slice(0, fixed), ...tail].join(":");
}

/** The modified EUI-64 identifier of a MAC, without the U/L flip: MAC with ff:fe in the middle. */
export function macToEui64(mac: bigint): bigint {
  return ((mac >> 24n) << 40n) | (0xfffen << 24n) | (mac & 0xffffffn);
}

/**
 * The SLAAC address of a MAC on an IPv6 prefix: oslo_utils.netutils.get_ipv6_addr_by_EUI64,
 * which neutron's ipam requests use for slaac/dhcpv6-stateless subnets. It computes
 * `(prefix.first + eui64) ^ (1 << 57)`. The XOR flips the universal/local bit, 0x02 of the
 * first identifier octet. For a /64 prefix the sum is just a concatenation. Throws, as oslo
 * does, for an IPv4 prefix or a bad MAC.
 */
export function eui64Address(prefix: Cidr, mac: string): string {
  if (prefix.version !== 6) throw new Error("Unable to generate IP address by EUI64 for IPv4 prefix");
  const value = parseMac(mac);
  if (value === undefined) throw new Error(`Bad prefix or mac format for generating IPv6 address by EUI-64: ${mac}`);
  const address = (prefix.network + macToEui64(value)) ^ (1n << 57n);
  if (address > maxValue(6)) throw new Error("EUI-64 address overflows the IPv6 space");
  return formatIpv6(address);
}

/** neutron.common.ipv6_utils.is_eui64_address: ff:fe sits in the middle of the identifier. */
export const isEui64Address = (ip: Ip): boolean => ip.version === 6 && ((ip.value >> 24n) & 0xffffn) === 0xfffen;
