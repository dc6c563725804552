/**
 * Subnet checks that Neutron's plugin runs after the API validators have passed:
 * NeutronDbPluginV2._validate_subnet and its helpers (neutron/db/db_base_plugin_v2.py), and
 * _validate_subnet_cidr (neutron/db/ipam_backend_mixin.py). What needs the database (is the
 * gateway in use by a router port) is left to the caller.
 */
import { badRequestError, badResourceRequestError, invalidInputError } from "./errors.js";
import type { IpamError } from "./errors.js";
import { cidrsOverlap, formatCidr, parseCidr, parseIp } from "./ip.js";
import type { Cidr, IpVersion } from "./ip.js";
import { netaddrNetwork, netaddrVersion } from "./netaddr.js";
import { checkGatewayInvalidInSubnet } from "./pools.js";
import { pyRepr } from "./py.js";
import { DHCPV6_STATELESS, IPV6_SLAAC } from "./validators.js";
import type { HostRoute } from "./validators.js";

/** neutron.conf defaults: max_dns_nameservers and max_subnet_host_routes. */
export const MAX_DNS_NAMESERVERS = 5;
export const MAX_SUBNET_HOST_ROUTES = 20;

/** neutron_lib constants.PROVISIONAL_IPV6_PD_PREFIX: the placeholder cidr of a PD subnet. */
export const PROVISIONAL_IPV6_PD_PREFIX = "::/64";

/** validators.is_attr_set: neither missing nor null. */
const isSet = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;

/** _validate_ip_version: "<name> '<addr>' does not match the ip_version '<v>'". */
export function validateIpVersionMatch(ipVersion: IpVersion, addr: string, name: string): IpamError | undefined {
  if (netaddrVersion(addr) === ipVersion) return undefined;
  return invalidInputError(`${name} '${addr}' does not match the ip_version '${ipVersion}'`);
}

/**
 * The DHCP checks of _validate_subnet. They run when enable_dhcp is being switched on (on
 * create, or on an update from false). They reject prefixes too long to leave DHCP an
 * address (IPv4 > /30, IPv6 > /126), multicast and IPv4 loopback networks, and IPv4
 * networks that start at 0.0.0.0.
 */
export function validateDhcpSubnet(cidr: Cidr): IpamError | undefined {
  if ((cidr.version === 4 && cidr.prefixLen > 30) || (cidr.version === 6 && cidr.prefixLen > 126)) {
    return invalidInputError("Subnet has a prefix length that is incompatible with DHCP service enabled");
  }
  if (isMulticastNetwork(cidr)) return invalidInputError("Multicast IP subnet is not supported if enable_dhcp is True");
  if (cidr.version === 4 && cidr.prefixLen >= 8 && cidr.network >> 24n === 127n) {
    // netaddr's IPv6 is_loopback() is never true for a network, so only IPv4 is checked.
    return invalidInputError("Loopback IP subnet is not supported if enable_dhcp is True");
  }
  if (cidr.version === 4 && cidr.network === 0n) {
    return invalidInputError("First IP '0.0.0.0' of network is not supported if enable_dhcp is True.");
  }
  return undefined;
}

/** netaddr is_multicast() on a network: inside 224.0.0.0/4 or ff00::/8. */
function isMulticastNetwork(cidr: Cidr): boolean {
  if (cidr.version === 4) return cidr.prefixLen >= 4 && cidr.network >> 28n === 0xen;
  return cidr.prefixLen >= 8 && cidr.network >> 120n === 0xffn;
}

/** The gateway checks of _validate_subnet: same version, and not the IPv4 network or broadcast address. */
export function validateSubnetGateway(ipVersion: IpVersion, cidr: Cidr, gatewayIp: string): IpamError | undefined {
  const mismatch = validateIpVersionMatch(ipVersion, gatewayIp, "gateway_ip");
  if (mismatch) return mismatch;
  const gw = parseIp(gatewayIp);
  if (gw && checkGatewayInvalidInSubnet(cidr, gw)) return invalidInputError("Gateway is not valid on subnet");
  return undefined;
}

/** The dns_nameservers checks of _validate_subnet: how many there are, and their version. */
export function validateSubnetNameservers(
  ipVersion: IpVersion,
  nameservers: readonly string[],
  opts: { max?: number; subnetId?: string } = {},
): IpamError | undefined {
  const max = opts.max ?? MAX_DNS_NAMESERVERS;
  if (nameservers.length > max) {
    return badRequestError(
      "DNSNameServersExhausted",
      `Unable to complete operation for ${opts.subnetId ?? "new subnet"}. The number of DNS nameservers exceeds the limit ${max}.`,
    );
  }
  for (const dns of nameservers) {
    if (!parseIp(dns)) return invalidInputError(`Error parsing dns address ${dns}`);
    const mismatch = validateIpVersionMatch(ipVersion, dns, "dns_nameserver");
    if (mismatch) return mismatch;
  }
  return undefined;
}

/** _validate_host_route, for each route, after the HostRoutesExhausted count check. */
export function validateSubnetHostRoutes(
  ipVersion: IpVersion,
  routes: readonly HostRoute[],
  opts: { max?: number; subnetId?: string } = {},
): IpamError | undefined {
  const max = opts.max ?? MAX_SUBNET_HOST_ROUTES;
  if (routes.length > max) {
    return badRequestError(
      "HostRoutesExhausted",
      `Unable to complete operation for ${opts.subnetId ?? "new subnet"}. The number of host routes exceeds the limit ${max}.`,
    );
  }
  for (const route of routes) {
    if (!netaddrNetwork(route.destination) || !parseIp(route.nexthop)) {
      return invalidInputError(`Invalid route: ${pyRepr(route)}`);
    }
    const mismatch =
      validateIpVersionMatch(ipVersion, route.nexthop, "nexthop") ??
      validateIpVersionMatch(ipVersion, route.destination, "destination");
    if (mismatch) return mismatch;
  }
  return undefined;
}

/** ipv6_utils.is_auto_address_subnet: either mode is slaac or dhcpv6-stateless. */
export function isAutoAddressSubnet(raMode?: string | null, addressMode?: string | null): boolean {
  const auto = [IPV6_SLAAC, DHCPV6_STATELESS];
  return auto.includes(addressMode ?? "") || auto.includes(raMode ?? "");
}

/**
 * _validate_ipv6_combination. When both modes are set they must be equal. Neutron used to
 * allow some mixed pairs (ra_mode unset with address_mode set is still fine), but with both
 * set, any difference is rejected.
 */
export function validateIpv6Combination(raMode: string, addressMode: string): IpamError | undefined {
  if (raMode === addressMode) return undefined;
  return invalidInputError(
    `ipv6_ra_mode set to '${raMode}' with ipv6_address_mode set to '${addressMode}' is not valid. ` +
      "If both attributes are set, they must be the same value",
  );
}

/**
 * _validate_eui64_applicable. An auto-address subnet (SLAAC or DHCPv6-stateless, in either
 * mode) must be exactly /64. Neutron only builds EUI-64 interface identifiers, and RFC 4862
 * needs prefix plus identifier to make 128 bits. dhcpv6-stateful has no such rule.
 */
export function validateEui64Applicable(cidr: Cidr, raMode?: string | null, addressMode?: string | null): IpamError | undefined {
  if (!isAutoAddressSubnet(raMode, addressMode) || cidr.prefixLen === 64) return undefined;
  return invalidInputError(
    `Invalid CIDR ${formatCidr(cidr)} for IPv6 address mode. OpenStack uses the EUI-64 address format, ` +
      "which requires the prefix to be /64",
  );
}

export interface Ipv6Attributes {
  readonly ipv6RaMode?: string | null;
  readonly ipv6AddressMode?: string | null;
  readonly enableDhcp?: boolean;
}

/**
 * _validate_ipv6_attributes for a create: modes need DHCP enabled, must agree with each
 * other, and need a /64 when they mean SLAAC. `cidr` is undefined for a subnet-pool request
 * without a cidr. Neutron's eui64 check would read the pool's prefix there, so the caller
 * re-checks once the cidr is allocated.
 */
export function validateIpv6Attributes(attrs: Ipv6Attributes, cidr?: Cidr): IpamError | undefined {
  const ra = attrs.ipv6RaMode;
  const addr = attrs.ipv6AddressMode;
  if ((isSet(ra) || isSet(addr)) && attrs.enableDhcp === false) {
    return invalidInputError("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False");
  }
  if (isSet(ra) && isSet(addr)) {
    const bad = validateIpv6Combination(ra, addr);
    if (bad) return bad;
  }
  return cidr && (isSet(ra) || isSet(addr)) ? validateEui64Applicable(cidr, ra, addr) : undefined;
}

/** _validate_ipv6_update_dhcp: DHCP can't be switched off while IPv6 modes are set. */
export function validateIpv6UpdateDhcp(update: Ipv6Attributes, current: Ipv6Attributes): IpamError | undefined {
  if (update.enableDhcp !== false) return undefined;
  const modes = [update.ipv6RaMode, update.ipv6AddressMode, current.ipv6RaMode, current.ipv6AddressMode];
  return modes.some(isSet) ? invalidInputError("Cannot disable enable_dhcp with ipv6 attributes set") : undefined;
}

/** A subnet request or update, after conversion, as _validate_subnet sees it. */
export interface SubnetSpec extends Ipv6Attributes {
  readonly ipVersion: IpVersion;
  /** The cidr as given; undefined for a subnet-pool request that names none. */
  readonly cidr?: string | null;
  /** undefined: not specified (Neutron computes one); null: no gateway. */
  readonly gatewayIp?: string | null;
  readonly dnsNameservers?: readonly string[] | null;
  readonly hostRoutes?: readonly HostRoute[] | null;
  /** Present on update; named in the *Exhausted messages. */
  readonly id?: string;
}

export interface SubnetLimits {
  readonly maxDnsNameservers?: number;
  readonly maxHostRoutes?: number;
}

/**
 * _validate_subnet, in Neutron's order: cidr version, DHCP, gateway, nameservers, host routes,
 * then the IPv6 modes. For an update, pass the stored subnet as `current`. Its cidr goes in
 * `spec.cidr` (Neutron copies it there), and its enable_dhcp and modes go in `current`.
 */
export function validateSubnet(spec: SubnetSpec, current?: Ipv6Attributes, limits: SubnetLimits = {}): IpamError | undefined {
  const v = spec.ipVersion;
  const parsed = isSet(spec.cidr) ? parseCidr(spec.cidr) : undefined;
  return firstError(
    () => (isSet(spec.cidr) ? validateIpVersionMatch(v, spec.cidr, "cidr") : undefined),
    () => (spec.enableDhcp && !current?.enableDhcp && parsed ? validateDhcpSubnet(parsed.cidr) : undefined),
    () => (isSet(spec.gatewayIp) && parsed ? validateSubnetGateway(v, parsed.cidr, spec.gatewayIp) : undefined),
    () =>
      isSet(spec.dnsNameservers)
        ? validateSubnetNameservers(v, spec.dnsNameservers, optsOf(limits.maxDnsNameservers, spec.id))
        : undefined,
    () =>
      isSet(spec.hostRoutes) ? validateSubnetHostRoutes(v, spec.hostRoutes, optsOf(limits.maxHostRoutes, spec.id)) : undefined,
    () => (v === 4 ? validateNoIpv6ModesOnIpv4(spec) : undefined),
    () => (v === 6 ? (current ? validateIpv6UpdateDhcp(spec, current) : validateIpv6Attributes(spec, parsed?.cidr)) : undefined),
  );
}

/** Builds {max, subnetId} leaving out what is undefined (exactOptionalPropertyTypes). */
function optsOf(max: number | undefined, subnetId: string | undefined): { max?: number; subnetId?: string } {
  return { ...(max !== undefined ? { max } : {}), ...(subnetId !== undefined ? { subnetId } : {}) };
}

function validateNoIpv6ModesOnIpv4(spec: Ipv6Attributes): IpamError | undefined {
  if (isSet(spec.ipv6RaMode)) return invalidInputError("ipv6_ra_mode is not valid when ip_version is 4");
  if (isSet(spec.ipv6AddressMode)) return invalidInputError("ipv6_address_mode is not valid when ip_version is 4");
  return undefined;
}

function firstError(...checks: Array<() => IpamError | undefined>): IpamError | undefined {
  for (const check of checks) {
    const err = check();
    if (err) return err;
  }
  return undefined;
}

/**
 * _validate_subnet_for_pd, for subnetpool_id "prefix_delegation" without a cidr: IPv6 only,
 * and both modes slaac or dhcpv6-stateless.
 */
export function validateSubnetForPd(spec: SubnetSpec): IpamError | undefined {
  if (spec.ipVersion !== 6) return badResourceRequestError("subnets", "Prefix Delegation can only be used with IPv6 subnets.");
  const modes = [IPV6_SLAAC, DHCPV6_STATELESS];
  if (!modes.includes(spec.ipv6RaMode ?? "")) {
    return badResourceRequestError("subnets", "IPv6 RA Mode must be SLAAC or Stateless for Prefix Delegation.");
  }
  if (!modes.includes(spec.ipv6AddressMode ?? "")) {
    return badResourceRequestError("subnets", "IPv6 Address Mode must be SLAAC or Stateless for Prefix Delegation.");
  }
  return undefined;
}

/**
 * IpamBackendMixin._validate_subnet_cidr: a new subnet must not overlap any subnet of its
 * network. The placeholder "::/64" of a prefix-delegation subnet doesn't count. A /0 is
 * refused outright, because dnsmasq fails on it. The message does not name the other subnet.
 */
export function validateSubnetCidrOnNetwork(newCidr: Cidr, existing: readonly Cidr[], networkId: string): IpamError | undefined {
  if (newCidr.prefixLen === 0) return invalidInputError("0 is not allowed as CIDR prefix length");
  const clash = existing.some((c) => formatCidr(c) !== PROVISIONAL_IPV6_PD_PREFIX && cidrsOverlap(c, newCidr));
  if (!clash) return undefined;
  return invalidInputError(
    `Requested subnet with cidr: ${formatCidr(newCidr)} for network: ${networkId} overlaps with another subnet`,
  );
}
