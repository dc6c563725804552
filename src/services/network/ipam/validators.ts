/**
 * The API-level validators of neutron_lib.api.validators that deal with addresses. Each one
 * returns undefined when the value is good, or the message neutron_lib returns. The API
 * layer wraps a message as Neutron's attribute code does: "Invalid input for <attr>.
 * Reason: <message>." inside InvalidInput (400). Inputs are `unknown` because they come
 * straight from request JSON, and neutron_lib gives a message for wrong types too.
 */
import { formatCidr, formatIp, formatIpv4, makeCidr, parseIpv6 } from "./ip.js";
import { netaddrNetwork, zerofillIpv4 } from "./netaddr.js";
import { hasWhitespace, pyRepr, pyStr } from "./py.js";

/** validate_ip_address. Rejects whitespace, "1.1.1", "1.2.3.4:80" and "fe80::1%eth0". */
export function validateIpAddress(data: unknown): string | undefined {
  const invalid = `'${pyStr(data)}' is not a valid IP address`;
  if (typeof data !== "string" || hasWhitespace(data)) return invalid;
  if (data.includes(":")) return parseIpv6(data) === undefined ? invalid : undefined;
  // Without a colon, netaddr reads the text with ZEROFILL and inet_aton. Neutron rejects
  // short forms such as "1.1.1" by counting the dots. Then it rejects leading zeros
  // ("01.1.1.1" may mean octal) by comparing the text with netaddr's canonical print.
  const value = data.split(".").length === 4 ? zerofillIpv4(data) : undefined;
  if (value === undefined) return invalid;
  const canonical = formatIpv4(value);
  return canonical === data ? undefined : `'${data}' is not an accepted IP address, '${canonical}' is recommended`;
}

/**
 * validate_subnet (the `cidr` of a subnet, `prefixes` of a subnet pool). Host bits are NOT
 * rejected: "10.0.0.1/24" passes, because netaddr prints an IPNetwork with its host bits and
 * the check compares that print with the input. create_subnet later masks it to 10.0.0.0/24.
 * IPv6 only needs to parse. An IPv4 text that netaddr has to reinterpret ("10/8",
 * "010.0.0.0/24", "10.0.0.0/255.255.255.0") or a bare address gets the "recommended" message.
 */
export function validateSubnetCidr(data: unknown): string | undefined {
  if (typeof data !== "string" || hasWhitespace(data)) return `'${pyStr(data)}' is not a valid IP subnet`;
  const net = netaddrNetwork(data);
  if (!net) return `'${data}' is not a valid IP subnet`;
  const asPrinted = `${formatIp({ version: net.version, value: net.value })}/${net.prefixLen}`;
  if (!data.includes("/") || (net.version === 4 && asPrinted !== data)) {
    const cidr = formatCidr(makeCidr(net.version, net.value, net.prefixLen));
    return `'${data}' isn't a recognized IP subnet cidr, '${cidr}' is recommended`;
  }
  return undefined;
}

/**
 * validate_route_cidr (host route destinations). Unlike validate_subnet, this one rejects host
 * bits, in IPv6 as well. It also rejects IPv4 loopback. netaddr's IPv6 is_loopback() is never
 * true for a network, so "::1/128" passes.
 */
export function validateRouteCidr(data: unknown): string | undefined {
  if (typeof data !== "string" || hasWhitespace(data)) return `'${pyStr(data)}' is not a valid CIDR`;
  const net = netaddrNetwork(data);
  if (!net) return `'${data}' is not a valid CIDR`;
  const cidr = makeCidr(net.version, net.value, net.prefixLen);
  if (!data.includes("/") || cidr.network !== net.value) {
    return `'${data}' is not a recognized CIDR, '${formatCidr(cidr)}' is recommended`;
  }
  if (net.version === 4 && net.prefixLen >= 8 && net.value >> 24n === 127n) return `'${data}' is not a routable CIDR`;
  return undefined;
}

/** _verify_dict_keys(expected, target, strict=True). */
function verifyDictKeys(expected: readonly string[], target: unknown): string | undefined {
  if (typeof target !== "object" || target === null || Array.isArray(target)) {
    return `Invalid input. '${pyStr(target)}' must be a dictionary with keys: ${pyRepr(expected)}`;
  }
  const provided = Object.keys(target);
  const same = provided.length === expected.length && expected.every((k) => provided.includes(k));
  if (same) return undefined;
  return (
    `Validation of dictionary's keys failed. Expected keys: ${pyRepr(new Set(expected))} ` +
    `Provided keys: ${pyRepr(new Set(provided))}`
  );
}

const field = (obj: unknown, key: string): unknown => (obj as Record<string, unknown>)[key];

/** validate_ip_pools (allocation_pools): a list of {start, end} dicts of valid addresses. */
export function validateIpPools(data: unknown): string | undefined {
  if (!Array.isArray(data)) return `Invalid data format for IP pool: '${pyStr(data)}'`;
  for (const pool of data) {
    const msg =
      verifyDictKeys(["start", "end"], pool) ??
      validateIpAddress(field(pool, "start")) ??
      validateIpAddress(field(pool, "end"));
    if (msg) return msg;
  }
  return undefined;
}

/** Iterates like Python's `for x in data` does for JSON values: str → chars, dict → keys. */
function pyIterable(data: unknown): unknown[] | undefined {
  if (typeof data === "string") return [...data];
  if (Array.isArray(data)) return data;
  if (typeof data === "object" && data !== null) return Object.keys(data);
  return undefined;
}

/**
 * validate_nameservers (dns_nameservers): valid, unique addresses. Neutron compares the texts
 * for uniqueness, so "1.1.1.1" and "::ffff:1.1.1.1" both pass.
 */
export function validateNameservers(data: unknown): string | undefined {
  const hosts = pyIterable(data);
  if (!hosts) return `Invalid data format for nameserver: '${pyStr(data)}'`;
  const seen: unknown[] = [];
  for (const host of hosts) {
    const msg = validateIpAddress(host);
    if (msg) return `'${pyStr(host)}' is not a valid nameserver. ${msg}`;
    if (seen.includes(host)) return `Duplicate nameserver '${pyStr(host)}'`;
    seen.push(host);
  }
  return undefined;
}

export interface HostRoute {
  readonly destination: string;
  readonly nexthop: string;
}

/** validate_hostroutes (host_routes): {destination, nexthop} dicts, no duplicates. */
export function validateHostRoutes(data: unknown): string | undefined {
  if (!Array.isArray(data)) return `Invalid data format for hostroute: '${pyStr(data)}'`;
  const seen: string[] = [];
  for (const route of data) {
    const msg =
      verifyDictKeys(["destination", "nexthop"], route) ??
      validateRouteCidr(field(route, "destination")) ??
      validateIpAddress(field(route, "nexthop"));
    if (msg) return msg;
    // Python compares the dicts; both have exactly these two keys by now.
    const key = pyRepr([field(route, "destination"), field(route, "nexthop")]);
    if (seen.includes(key)) return `Duplicate hostroute '${pyRepr(route)}'`;
    seen.push(key);
  }
  return undefined;
}

export const IPV6_SLAAC = "slaac";
export const DHCPV6_STATEFUL = "dhcpv6-stateful";
export const DHCPV6_STATELESS = "dhcpv6-stateless";
/** neutron_lib constants.IPV6_MODES. */
export const IPV6_MODES: readonly string[] = [DHCPV6_STATEFUL, DHCPV6_STATELESS, IPV6_SLAAC];

/**
 * validate_values(data, IPV6_MODES), for ipv6_ra_mode and ipv6_address_mode. The subnet
 * definition gives no display text, so the message really says "valid_values".
 */
export function validateIpv6Mode(data: unknown): string | undefined {
  return typeof data === "string" && IPV6_MODES.includes(data) ? undefined : `${pyStr(data)} is not in valid_values`;
}
