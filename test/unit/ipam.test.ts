import assert from "node:assert/strict";
import { test } from "node:test";
import {
  allocateAnySubnet,
  allocateFromSubnetPool,
  allocateSpecificSubnet,
  availablePrefixes,
  checkGatewayInvalidInSubnet,
  checkPrefixlenBounds,
  checkSubnetIp,
  checkSubnetPoolQuota,
  cidrContainsCidr,
  cidrContainsIp,
  cidrFirst,
  cidrLast,
  cidrSize,
  cidrsOverlap,
  compactCidrs,
  convertCidrToCanonical,
  convertIpToCanonical,
  convertMacToSanitized,
  defaultAllocationPools,
  defaultGateway,
  eui64Address,
  firstHostIp,
  formatCidr,
  formatIp,
  formatRange,
  generatePools,
  inPools,
  isAutoAddressSubnet,
  isEui64Address,
  isIpamError,
  lowestFree,
  maxPrefix,
  netaddrNetwork,
  normalizeIp,
  normalizeMac,
  nthAddress,
  parseCidr,
  parseIp,
  parsePools,
  pickAddress,
  poolsSize,
  quotaUnits,
  randomCandidates,
  randomMac,
  rangeToCidrs,
  readPoolPrefixes,
  resolvePrefixBounds,
  subtractRanges,
  updatePoolPrefixes,
  validateAllocationPools,
  validateDhcpSubnet,
  validateEui64Applicable,
  validateGatewayOutOfPools,
  validateHostRoutes,
  validateIpAddress,
  validateIpPools,
  validateIpv6Attributes,
  validateIpv6Combination,
  validateIpv6Mode,
  validateIpv6UpdateDhcp,
  validateMac,
  validateNameservers,
  validateRouteCidr,
  validateSubnet,
  validateSubnetCidr,
  validateSubnetCidrOnNetwork,
  validateSubnetForPd,
  validateSubnetGateway,
  validateSubnetHostRoutes,
  validateSubnetNameservers,
} from "../../src/services/network/ipam/address.js";
import type { Cidr, IpamError, IpRange, RandomBelow } from "../../src/services/network/ipam/address.js";

/** Parses a CIDR that the test knows to be valid. */
function cidr(s: string): Cidr {
  const parsed = parseCidr(s);
  assert.ok(parsed, `bad test cidr ${s}`);
  return parsed.cidr;
}

function range(start: string, end: string): IpRange {
  const pools = parsePools([{ start, end }]);
  assert.ok(Array.isArray(pools), `bad test range ${start}-${end}`);
  return pools[0]!;
}

const v4 = (s: string): bigint => {
  const ip = parseIp(s);
  assert.ok(ip && ip.version === 4, s);
  return ip.value;
};

function assertError(result: unknown, type: string, status: number, message?: string): void {
  assert.ok(isIpamError(result), `expected ${type}, got ${JSON.stringify(result, (_, v) => (typeof v === "bigint" ? String(v) : v))}`);
  const err = result as IpamError;
  assert.equal(err.type, type);
  assert.equal(err.status, status);
  if (message !== undefined) assert.equal(err.message, message);
}

/** A deterministic RandomBelow from a seed (LCG), for repeatable probing tests. */
function seeded(seed: bigint): RandomBelow {
  let state = seed;
  return (bound) => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    return ((state >> 11n) * bound) >> 53n;
  };
}

// ---------------------------------------------------------------- parsing

test("parseIp accepts dotted quads and returns bigint values", () => {
  assert.deepEqual(parseIp("10.0.0.1"), { version: 4, value: 0x0a000001n });
  assert.deepEqual(parseIp("0.0.0.0"), { version: 4, value: 0n });
  assert.deepEqual(parseIp("255.255.255.255"), { version: 4, value: 0xffffffffn });
});

test("parseIp rejects IPv4 forms inet_pton rejects", () => {
  for (const s of [
    "1.1.1", "1", "01.1.1.1", "1.2.3.04", "00.0.0.0", "0x1.1.1.1", "256.0.0.0", "1.2.3.-1", "+1.2.3.4",
    " 1.2.3.4", "1.2.3.4 ", "1.2.3.4:80", "1.2.3.4/32", "1..2.3", "1.2.3.4.", "", "1.2.3.4\n", "１.2.3.4",
  ]) {
    assert.equal(parseIp(s), undefined, s);
  }
});

test("parseIp accepts every IPv6 textual form", () => {
  const cases: Array<[string, bigint]> = [
    ["::", 0n],
    ["::1", 1n],
    ["1::", 1n << 112n],
    ["2001:db8::1", (0x20010db8n << 96n) | 1n],
    ["2001:DB8::1", (0x20010db8n << 96n) | 1n],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", (0x20010db8n << 96n) | 1n],
    ["::ffff:1.2.3.4", 0xffff01020304n],
    ["::FFFF:1.2.3.4", 0xffff01020304n],
    ["::1.2.3.4", 0x01020304n],
    ["1:2:3:4:5:6:1.2.3.4", 0x0001000200030004000500060102_0304n],
    ["1:2:3:4:5:6:7::", 0x00010002000300040005000600070000n],
    ["::1:2:3:4:5:6:7", 0x00000001000200030004000500060007n],
    ["0001::", 1n << 112n],
  ];
  for (const [s, value] of cases) assert.deepEqual(parseIp(s), { version: 6, value }, s);
});

test("parseIp rejects IPv6 forms glibc inet_pton rejects", () => {
  for (const s of [
    "1::2::3", ":1::", "1::2:", ":::", "12345::", "1:2:3:4:5:6:7:8:9", "1::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8::",
    "1:2:3:4:5:6:7:1.2.3.4", "::ffff:01.2.3.4", "::1.2.3", "1.2.3.4::", "::1.2.3.4:5", "::ffff:1.2.3.4.5",
    "fe80::1%eth0", "[::1]", "::g", "1:2:3:4:5:6:7", ":", "2001:db8::/64",
  ]) {
    assert.equal(parseIp(s), undefined, s);
  }
});

// ---------------------------------------------------------------- formatting

test("formatIp prints IPv6 the way netaddr (inet_ntop) does", () => {
  const cases: Array<[string, string]> = [
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["2001:0DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["1:0:1:1:1:1:1:1", "1:0:1:1:1:1:1:1"], // a single zero group is not compressed
    ["1:0:0:1:0:0:1:1", "1::1:0:0:1:1"], // first of two equal runs
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"], // longest run
    ["1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["::ffff:1.2.3.4", "::ffff:1.2.3.4"], // IPv4-mapped
    ["::ffff:0:0", "::ffff:0.0.0.0"],
    ["::1.2.3.4", "::1.2.3.4"], // IPv4-compatible
    ["::0.0.0.1", "::1"], // ...but not when only the last word is set
    ["::2", "::2"],
    ["::ffff", "::ffff"],
    ["::fffe:1.2.3.4", "::fffe:102:304"],
    ["64:ff9b::1.2.3.4", "64:ff9b::102:304"],
    ["::1:0:0", "::1:0:0"],
  ];
  for (const [input, printed] of cases) assert.equal(normalizeIp(input), printed, input);
});

test("formatIp and parseIp round trip", () => {
  const random = seeded(42n);
  for (let i = 0; i < 500; i++) {
    // Mostly-zero words exercise the compression rules.
    let value = 0n;
    for (let w = 0; w < 8; w++) value = (value << 16n) | (random(3n) === 0n ? random(0x10000n) : 0n);
    const text = formatIp({ version: 6, value });
    assert.deepEqual(parseIp(text), { version: 6, value }, text);
    const v4value = random(1n << 32n);
    assert.equal(parseIp(formatIp({ version: 4, value: v4value }))?.value, v4value);
  }
});

test("normalizeIp gives the stored form or undefined", () => {
  assert.equal(normalizeIp("2001:DB8:0::0:1"), "2001:db8::1");
  assert.equal(normalizeIp("10.0.0.1"), "10.0.0.1");
  assert.equal(normalizeIp("010.0.0.1"), undefined);
  assert.equal(normalizeIp("garbage"), undefined);
});

// ---------------------------------------------------------------- CIDRs

test("parseCidr masks host bits and reports them", () => {
  assert.deepEqual(parseCidr("10.0.0.0/24")?.cidr, { version: 4, network: 0x0a000000n, prefixLen: 24 });
  assert.equal(parseCidr("10.0.0.0/24")?.hostBitsSet, false);
  const withHost = parseCidr("10.0.0.1/24");
  assert.equal(withHost?.hostBitsSet, true);
  assert.equal(formatCidr(withHost!.cidr), "10.0.0.0/24");
  assert.equal(withHost?.address.value, 0x0a000001n);
  assert.equal(formatCidr(cidr("2001:DB8::1/64")), "2001:db8::/64");
  assert.equal(formatCidr(cidr("0.0.0.0/0")), "0.0.0.0/0");
  assert.equal(formatCidr(cidr("::/0")), "::/0");
});

test("parseCidr reads a bare address as a host network, like netaddr", () => {
  assert.deepEqual(parseCidr("10.0.0.1")?.cidr, { version: 4, network: 0x0a000001n, prefixLen: 32 });
  assert.equal(formatCidr(cidr("2001:db8::1")), "2001:db8::1/128");
});

test("parseCidr is strict about the prefix", () => {
  for (const s of ["10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "/24", "10.0.0.0/024", "10.0.0.0/+24", "10.0.0.0/255.255.255.0", "10/8", "10.0.0.0/8/8", "10.0.0.0/-1", "10.0.0.0/ 24"]) {
    assert.equal(parseCidr(s), undefined, s);
  }
});

test("cidr first, last, size and containment", () => {
  const net = cidr("10.0.0.0/24");
  assert.equal(formatIp(cidrFirst(net)), "10.0.0.0");
  assert.equal(formatIp(cidrLast(net)), "10.0.0.255");
  assert.equal(cidrSize(net), 256n);
  assert.equal(cidrSize(cidr("2001:db8::/64")), 1n << 64n);
  assert.equal(cidrSize(cidr("::/0")), 1n << 128n);
  assert.equal(formatIp(cidrLast(cidr("2001:db8::/64"))), "2001:db8::ffff:ffff:ffff:ffff");
  assert.ok(cidrContainsIp(net, parseIp("10.0.0.255")!));
  assert.ok(!cidrContainsIp(net, parseIp("10.0.1.0")!));
  assert.ok(!cidrContainsIp(cidr("::/0"), parseIp("10.0.0.1")!), "versions never mix");
  assert.ok(cidrContainsCidr(net, cidr("10.0.0.128/25")));
  assert.ok(cidrContainsCidr(net, net));
  assert.ok(!cidrContainsCidr(cidr("10.0.0.128/25"), net));
  assert.ok(cidrsOverlap(cidr("10.0.0.0/8"), cidr("10.1.2.0/24")));
  assert.ok(cidrsOverlap(cidr("10.1.2.0/24"), cidr("10.0.0.0/8")));
  assert.ok(!cidrsOverlap(cidr("10.0.0.0/25"), cidr("10.0.0.128/25")));
  assert.ok(!cidrsOverlap(cidr("0.0.0.0/0"), cidr("::/0")));
  assert.equal(maxPrefix(4), 32);
  assert.equal(maxPrefix(6), 128);
});

test("ranges decompose into the minimal aligned CIDRs", () => {
  assert.deepEqual(rangeToCidrs(range("10.0.0.1", "10.0.0.254")).map(formatCidr), [
    "10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/29", "10.0.0.16/28", "10.0.0.32/27", "10.0.0.64/26",
    "10.0.0.128/26", "10.0.0.192/27", "10.0.0.224/28", "10.0.0.240/29", "10.0.0.248/30", "10.0.0.252/31", "10.0.0.254/32",
  ]);
  assert.deepEqual(rangeToCidrs(range("0.0.0.0", "255.255.255.255")).map(formatCidr), ["0.0.0.0/0"]);
  assert.deepEqual(rangeToCidrs(range("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")).map(formatCidr), ["::/0"]);
  const cut = subtractRanges([range("10.0.0.0", "10.0.0.255")], [range("10.0.0.10", "10.0.0.20"), range("10.0.0.0", "10.0.0.0")]);
  assert.deepEqual(cut.map(formatRange), ["10.0.0.1-10.0.0.9", "10.0.0.21-10.0.0.255"]);
});

// ---------------------------------------------------------------- netaddr leniency and converters

test("netaddrNetwork reads what netaddr 0.8 reads", () => {
  const read = (s: string): string | undefined => {
    const n = netaddrNetwork(s);
    return n && `${formatIp({ version: n.version, value: n.value })}/${n.prefixLen}`;
  };
  assert.equal(read("10/8"), "10.0.0.0/8");
  assert.equal(read("10.1/16"), "10.1.0.0/16");
  assert.equal(read("010.0.0.0/24"), "10.0.0.0/24"); // decimal, not octal
  assert.equal(read("10.0.0.0/024"), "10.0.0.0/24");
  assert.equal(read("10.0.0.0/+24"), "10.0.0.0/24");
  assert.equal(read("10.0.0.0/255.255.255.0"), "10.0.0.0/24");
  assert.equal(read("10.0.0.0/0.0.0.255"), "10.0.0.0/24");
  assert.equal(read("::/ffff::"), "::/16");
  assert.equal(read("10.0.0.1"), "10.0.0.1/32");
  assert.equal(read("10.0.0.0/255.0.255.0"), undefined);
  assert.equal(read("10.0.0.0/33"), undefined);
  assert.equal(read("10.0.0.0/8/8"), undefined);
  assert.equal(read("0x10.0.0.0/8"), undefined);
});

test("convertCidrToCanonical follows neutron_lib's converter", () => {
  assert.equal(convertCidrToCanonical("2001:DB8::/64"), "2001:db8::/64");
  assert.equal(convertCidrToCanonical("10.0.0.1/24"), "10.0.0.1/24"); // host bits survive
  assert.equal(convertCidrToCanonical("10.0.0.1"), "10.0.0.1/32");
  assert.equal(convertCidrToCanonical("10/8"), "10.0.0.0/8");
  assert.equal(convertCidrToCanonical("2001:db8::/064"), "2001:db8::/64");
  assertError(convertCidrToCanonical("10.0.0.0/33"), "InvalidInput", 400, "Invalid input for operation: 10.0.0.0/33 is not in a CIDR format.");
});

test("convertIpToCanonical compacts IPv6 and leaves the rest alone", () => {
  assert.equal(convertIpToCanonical("2001:0DB8::0001"), "2001:db8::1");
  assert.equal(convertIpToCanonical("010.0.0.1"), "010.0.0.1");
  assert.equal(convertIpToCanonical("bogus"), "bogus");
});

// ---------------------------------------------------------------- API validators

test("validateIpAddress words its messages like neutron_lib", () => {
  assert.equal(validateIpAddress("10.0.0.1"), undefined);
  assert.equal(validateIpAddress("::ffff:1.2.3.4"), undefined);
  assert.equal(validateIpAddress("2001:DB8::1"), undefined);
  assert.equal(validateIpAddress("1.1.1"), "'1.1.1' is not a valid IP address");
  assert.equal(validateIpAddress("1.2.3.4:80"), "'1.2.3.4:80' is not a valid IP address");
  assert.equal(validateIpAddress(" 1.2.3.4"), "' 1.2.3.4' is not a valid IP address");
  assert.equal(validateIpAddress("0x1.1.1.1"), "'0x1.1.1.1' is not a valid IP address");
  assert.equal(validateIpAddress("1::2::3"), "'1::2::3' is not a valid IP address");
  assert.equal(validateIpAddress("01.1.1.1"), "'01.1.1.1' is not an accepted IP address, '1.1.1.1' is recommended");
  assert.equal(validateIpAddress("1.2.3.04"), "'1.2.3.04' is not an accepted IP address, '1.2.3.4' is recommended");
  assert.equal(validateIpAddress("+1.2.3.4"), "'+1.2.3.4' is not an accepted IP address, '1.2.3.4' is recommended");
  assert.equal(validateIpAddress(null), "'None' is not a valid IP address");
  assert.equal(validateIpAddress(5), "'5' is not a valid IP address");
});

test("validateSubnetCidr: validate_subnet does not reject host bits", () => {
  assert.equal(validateSubnetCidr("10.0.0.0/24"), undefined);
  assert.equal(validateSubnetCidr("10.0.0.1/24"), undefined, "netaddr prints host bits, so the text matches");
  assert.equal(validateSubnetCidr("2001:db8::1/64"), undefined);
  assert.equal(validateSubnetCidr("10.0.0.1"), "'10.0.0.1' isn't a recognized IP subnet cidr, '10.0.0.1/32' is recommended");
  assert.equal(validateSubnetCidr("2001:db8::"), "'2001:db8::' isn't a recognized IP subnet cidr, '2001:db8::/128' is recommended");
  assert.equal(validateSubnetCidr("10/8"), "'10/8' isn't a recognized IP subnet cidr, '10.0.0.0/8' is recommended");
  assert.equal(
    validateSubnetCidr("10.0.0.1/255.255.255.0"),
    "'10.0.0.1/255.255.255.0' isn't a recognized IP subnet cidr, '10.0.0.0/24' is recommended",
  );
  assert.equal(validateSubnetCidr("10.0.0.0/33"), "'10.0.0.0/33' is not a valid IP subnet");
  assert.equal(validateSubnetCidr("10.0.0.0/ 24"), "'10.0.0.0/ 24' is not a valid IP subnet");
});

test("validateRouteCidr rejects host bits and IPv4 loopback", () => {
  assert.equal(validateRouteCidr("0.0.0.0/0"), undefined);
  assert.equal(validateRouteCidr("::/0"), undefined);
  assert.equal(validateRouteCidr("::1/128"), undefined);
  assert.equal(validateRouteCidr("10.0.0.1/24"), "'10.0.0.1/24' is not a recognized CIDR, '10.0.0.0/24' is recommended");
  assert.equal(validateRouteCidr("2001:db8::1/64"), "'2001:db8::1/64' is not a recognized CIDR, '2001:db8::/64' is recommended");
  assert.equal(validateRouteCidr("10.0.0.1"), "'10.0.0.1' is not a recognized CIDR, '10.0.0.1/32' is recommended");
  assert.equal(validateRouteCidr("127.0.0.0/8"), "'127.0.0.0/8' is not a routable CIDR");
  assert.equal(validateRouteCidr("127.1.0.0/16"), "'127.1.0.0/16' is not a routable CIDR");
  assert.equal(validateRouteCidr("126.0.0.0/7"), undefined);
  assert.equal(validateRouteCidr("nope"), "'nope' is not a valid CIDR");
});

test("validateIpPools, validateNameservers and validateHostRoutes", () => {
  assert.equal(validateIpPools([{ start: "10.0.0.2", end: "10.0.0.9" }]), undefined);
  assert.equal(validateIpPools("x"), "Invalid data format for IP pool: 'x'");
  assert.equal(validateIpPools([5]), "Invalid input. '5' must be a dictionary with keys: ['start', 'end']");
  assert.match(validateIpPools([{ start: "10.0.0.2" }]) ?? "", /^Validation of dictionary's keys failed\. Expected keys: \{/);
  assert.equal(
    validateIpPools([{ start: "10.0.0.2", end: "10.0.0.09" }]),
    "'10.0.0.09' is not an accepted IP address, '10.0.0.9' is recommended",
  );

  assert.equal(validateNameservers(["1.1.1.1", "2001:db8::1"]), undefined);
  assert.equal(validateNameservers(["1.1.1.1", "1.1.1.1"]), "Duplicate nameserver '1.1.1.1'");
  assert.equal(
    validateNameservers(["1.1.1.01"]),
    "'1.1.1.01' is not a valid nameserver. '1.1.1.01' is not an accepted IP address, '1.1.1.1' is recommended",
  );
  assert.equal(validateNameservers(5), "Invalid data format for nameserver: '5'");
  // Python iterates a string character by character.
  assert.equal(validateNameservers("1.1"), "'1' is not a valid nameserver. '1' is not a valid IP address");

  const route = { destination: "10.0.0.0/24", nexthop: "10.0.0.1" };
  assert.equal(validateHostRoutes([route]), undefined);
  assert.equal(
    validateHostRoutes([route, { nexthop: "10.0.0.1", destination: "10.0.0.0/24" }]),
    "Duplicate hostroute '{'nexthop': '10.0.0.1', 'destination': '10.0.0.0/24'}'",
  );
  assert.equal(validateHostRoutes([{ destination: "10.0.0.1/24", nexthop: "10.0.0.1" }]), "'10.0.0.1/24' is not a recognized CIDR, '10.0.0.0/24' is recommended");
  assert.equal(validateHostRoutes([{ destination: "10.0.0.0/24", nexthop: "10.0.0" }]), "'10.0.0' is not a valid IP address");
  assert.equal(validateHostRoutes(null), "Invalid data format for hostroute: 'None'");
});

test("validateIpv6Mode takes only neutron's three modes", () => {
  for (const mode of ["slaac", "dhcpv6-stateful", "dhcpv6-stateless"]) assert.equal(validateIpv6Mode(mode), undefined);
  assert.equal(validateIpv6Mode("SLAAC"), "SLAAC is not in valid_values");
  assert.equal(validateIpv6Mode(null), "None is not in valid_values");
});

// ---------------------------------------------------------------- MAC addresses

test("validateMac accepts netaddr's formats, rejects zero and broadcast, allows multicast", () => {
  for (const mac of [
    "fa:16:3e:00:00:01", "FA-16-3E-00-00-01", "fa16.3e00.0001", "fa16:3e00:0001", "fa163e000001", "a163e000001",
    "fa163e-000001", "fa163e:000001", "1:2:3:4:5:6", "01:00:5e:00:00:01",
  ]) {
    assert.equal(validateMac(mac), undefined, mac);
  }
  for (const mac of ["00:00:00:00:00:00", "0:0:0:0:0:0", "ff:ff:ff:ff:ff:ff", "FF-FF-FF-FF-FF-FF", "fa:16:3e:00:00:01:02", "001:2:3:4:5:6", "fa:16-3e:00:00:01", " fa:16:3e:00:00:01", "fa:16:3e:00:00:01\n", ""]) {
    assert.equal(validateMac(mac), `'${mac}' is not a valid MAC address`, JSON.stringify(mac));
  }
  assert.equal(validateMac(null), "'None' is not a valid MAC address");
});

test("normalizeMac gives the stored lowercase colon form", () => {
  assert.equal(normalizeMac("FA-16-3E-0A-0B-0C"), "fa:16:3e:0a:0b:0c");
  assert.equal(normalizeMac("fa16.3e0a.0b0c"), "fa:16:3e:0a:0b:0c");
  assert.equal(normalizeMac("1:2:3:4:5:6"), "01:02:03:04:05:06");
  assert.equal(normalizeMac("a163e0a0b0c"), "0a:16:3e:0a:0b:0c");
  assert.equal(normalizeMac("zz:16:3e:0a:0b:0c"), undefined);
  // The API converter also reads a decimal integer, as netaddr.EUI does.
  assert.equal(convertMacToSanitized("55"), "00:00:00:00:00:37");
  assert.equal(convertMacToSanitized("FA-16-3E-0A-0B-0C"), "fa:16:3e:0a:0b:0c");
  assert.equal(convertMacToSanitized("not a mac"), "not a mac");
});

test("randomMac keeps base_mac's first octets and randomises the rest", () => {
  const bytes = (...b: number[]) => (n: number) => Uint8Array.from(b.slice(0, n));
  assert.equal(randomMac(undefined, bytes(0xab, 0xcd, 0xef)), "fa:16:3e:ab:cd:ef");
  // A fourth octet other than 00 is kept too.
  assert.equal(randomMac("fa:16:3e:4f:00:00", bytes(0x01, 0x02)), "fa:16:3e:4f:01:02");
  assert.equal(randomMac("FA:16:3E:00:00:00", bytes(1, 2, 3)), "fa:16:3e:01:02:03");
  for (let i = 0; i < 50; i++) {
    const mac = randomMac();
    assert.match(mac, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
    assert.equal(validateMac(mac), undefined);
  }
  // fa = 1111 1010: locally administered bit set, multicast bit clear, as neutron leaves them.
  assert.equal(Number.parseInt(randomMac().slice(0, 2), 16) & 0x03, 0x02);
  assert.throws(() => randomMac("fb:16:3e:00:00:00"), /Base MAC/); // multicast base refused
  assert.throws(() => randomMac("fa:16:3e"), /Base MAC/);
});

// ---------------------------------------------------------------- EUI-64

test("eui64Address matches a hand computed SLAAC address", () => {
  // fa:16:3e:12:34:56 → fa16:3e + ff:fe + 12:3456 = fa16:3eff:fe12:3456. Flipping the U/L bit
  // (0x02 of the first octet) turns fa into f8.
  assert.equal(eui64Address(cidr("2001:db8::/64"), "fa:16:3e:12:34:56"), "2001:db8::f816:3eff:fe12:3456");
  // 00:00:00:00:00:01 → 0000:00ff:fe00:0001, and the flip sets 0x02 → 0200:00ff:fe00:0001.
  assert.equal(eui64Address(cidr("2001:db8:1:2::/64"), "00:00:00:00:00:01"), "2001:db8:1:2:200:ff:fe00:1");
  // Any MAC format works; a locally administered MAC clears the bit instead.
  assert.equal(eui64Address(cidr("fd00::/64"), "02-00-00-00-00-00"), "fd00::ff:fe00:0");
  assert.throws(() => eui64Address(cidr("10.0.0.0/24"), "fa:16:3e:12:34:56"), /IPv4/);
  assert.throws(() => eui64Address(cidr("2001:db8::/64"), "nope"), /mac format/);
});

test("isEui64Address spots ff:fe in the identifier", () => {
  assert.ok(isEui64Address(parseIp("2001:db8::f816:3eff:fe12:3456")!));
  assert.ok(!isEui64Address(parseIp("2001:db8::1")!));
  assert.ok(!isEui64Address(parseIp("10.0.0.1")!));
});

// ---------------------------------------------------------------- default pools and gateway

const pools = (c: string, gw?: string | null): string[] =>
  defaultAllocationPools(cidr(c), gw).map((p) => `${p.start}-${p.end}`);

test("defaultAllocationPools: IPv4 leaves out network and broadcast", () => {
  assert.deepEqual(pools("10.0.0.0/24"), ["10.0.0.1-10.0.0.254"]);
  assert.deepEqual(pools("10.0.0.0/24", "10.0.0.1"), ["10.0.0.2-10.0.0.254"]);
  assert.deepEqual(pools("10.0.0.0/24", "10.0.0.254"), ["10.0.0.1-10.0.0.253"]);
  assert.deepEqual(pools("10.0.0.0/24", "10.0.0.100"), ["10.0.0.1-10.0.0.99", "10.0.0.101-10.0.0.254"]);
  assert.deepEqual(pools("10.0.0.0/24", "192.168.0.1"), ["10.0.0.1-10.0.0.254"], "a gateway outside changes nothing");
  assert.deepEqual(pools("10.0.0.0/24", "10.0.0.255"), ["10.0.0.1-10.0.0.254"]);
  assert.deepEqual(pools("10.0.0.0/30", "10.0.0.1"), ["10.0.0.2-10.0.0.2"]);
  assert.deepEqual(pools("10.0.0.0/30", "10.0.0.2"), ["10.0.0.1-10.0.0.1"]);
});

test("defaultAllocationPools: /31 and /32 edge cases", () => {
  assert.deepEqual(pools("10.0.0.0/31"), ["10.0.0.0-10.0.0.1"]);
  assert.deepEqual(pools("10.0.0.0/31", "10.0.0.1"), ["10.0.0.0-10.0.0.0"]);
  assert.deepEqual(pools("10.0.0.0/31", "10.0.0.0"), ["10.0.0.1-10.0.0.1"]);
  assert.deepEqual(pools("10.0.0.5/32"), ["10.0.0.5-10.0.0.5"]);
  assert.deepEqual(pools("10.0.0.5/32", "10.0.0.5"), ["10.0.0.5-10.0.0.5"], "a single-address subnet keeps its address");
});

test("defaultAllocationPools: IPv6 leaves out only the first address", () => {
  assert.deepEqual(pools("2001:db8::/64"), ["2001:db8::1-2001:db8::ffff:ffff:ffff:ffff"]);
  assert.deepEqual(pools("2001:db8::/64", "2001:db8::"), ["2001:db8::1-2001:db8::ffff:ffff:ffff:ffff"]);
  assert.deepEqual(pools("2001:db8::/64", "2001:db8::1"), ["2001:db8::2-2001:db8::ffff:ffff:ffff:ffff"]);
  assert.deepEqual(pools("2001:db8::/120", "2001:db8::80"), ["2001:db8::1-2001:db8::7f", "2001:db8::81-2001:db8::ff"]);
  assert.deepEqual(pools("2001:db8::/127"), ["2001:db8::1-2001:db8::1"]);
  assert.deepEqual(pools("2001:db8::/127", "2001:db8::1"), []);
  assert.deepEqual(pools("2001:db8::1/128"), ["2001:db8::1-2001:db8::1"]);
});

test("defaultGateway is network + 1 for IPv4 and the network address for IPv6", () => {
  assert.equal(formatIp(defaultGateway(cidr("10.0.0.0/24"))), "10.0.0.1");
  assert.equal(formatIp(defaultGateway(cidr("10.0.0.0/31"))), "10.0.0.1");
  assert.equal(formatIp(defaultGateway(cidr("10.0.0.4/32"))), "10.0.0.5", "neutron does not care that it is outside");
  // Neutron 21's _gateway_ip_str picks the subnet-router anycast address for IPv6.
  assert.equal(formatIp(defaultGateway(cidr("2001::/64"))), "2001::");
  assert.equal(formatIp(firstHostIp(cidr("2001::/64"))), "2001::1");
  // The default pools around the default gateway:
  const net = cidr("2001:db8::/64");
  assert.deepEqual(generatePools(net, defaultGateway(net)).map(formatRange), ["2001:db8::1-2001:db8::ffff:ffff:ffff:ffff"]);
});

// ---------------------------------------------------------------- allocation pool validation

test("validateAllocationPools accepts good pools", () => {
  const net = cidr("10.0.0.0/24");
  assert.equal(validateAllocationPools([{ start: "10.0.0.2", end: "10.0.0.100" }], net, "10.0.0.1"), undefined);
  assert.equal(validateAllocationPools([{ start: "10.0.0.1", end: "10.0.0.254" }], net, null), undefined);
  assert.equal(
    validateAllocationPools([{ start: "10.0.0.10", end: "10.0.0.20" }, { start: "10.0.0.21", end: "10.0.0.30" }], net, "10.0.0.1"),
    undefined,
  );
  assert.equal(validateAllocationPools([{ start: "10.0.0.0", end: "10.0.0.1" }], cidr("10.0.0.0/31")), undefined, "/31 uses both");
  assert.equal(validateAllocationPools([], net, "10.0.0.1"), undefined);
});

test("validateAllocationPools: InvalidAllocationPool (400)", () => {
  const net = cidr("10.0.0.0/24");
  assertError(
    validateAllocationPools([{ start: "10.0.0.9", end: "10.0.0.5" }], net),
    "InvalidAllocationPool",
    400,
    "The allocation pool {'start': '10.0.0.9', 'end': '10.0.0.5'} is not valid.",
  );
  assertError(validateAllocationPools([{ start: "10.0.0.5", end: "::5" }], net), "InvalidAllocationPool", 400);
  assertError(
    validateAllocationPools([{ start: "2001:db8::5", end: "2001:db8::9" }], net),
    "InvalidAllocationPool",
    400,
    "The allocation pool 2001:db8::5-2001:db8::9 is not valid.",
  );
});

test("validateAllocationPools: OutOfBoundsAllocationPool (400)", () => {
  const net = cidr("10.0.0.0/24");
  const message = (pool: string) => `The allocation pool ${pool} spans beyond the subnet cidr 10.0.0.0/24.`;
  assertError(validateAllocationPools([{ start: "10.0.0.0", end: "10.0.0.9" }], net), "OutOfBoundsAllocationPool", 400, message("10.0.0.0-10.0.0.9"));
  assertError(validateAllocationPools([{ start: "10.0.0.9", end: "10.0.0.255" }], net), "OutOfBoundsAllocationPool", 400, message("10.0.0.9-10.0.0.255"));
  assertError(validateAllocationPools([{ start: "10.0.1.9", end: "10.0.1.20" }], net), "OutOfBoundsAllocationPool", 400);
  assertError(validateAllocationPools([{ start: "2001:db8::", end: "2001:db8::9" }], cidr("2001:db8::/64")), "OutOfBoundsAllocationPool", 400);
  assertError(validateAllocationPools([{ start: "2001:db8::1", end: "2001:db8::1" }], cidr("2001:db8::1/128")), "OutOfBoundsAllocationPool", 400);
  // The first bad pool wins, before any overlap check.
  const err = validateAllocationPools([{ start: "10.0.0.2", end: "10.0.0.9" }, { start: "10.0.0.2", end: "10.0.0.9" }, { start: "10.0.0.0", end: "10.0.0.1" }], net);
  assertError(err, "OutOfBoundsAllocationPool", 400);
});

test("validateAllocationPools: OverlappingAllocationPools (409)", () => {
  assertError(
    validateAllocationPools(
      [{ start: "10.0.0.2", end: "10.0.0.10" }, { start: "10.0.0.20", end: "10.0.0.30" }, { start: "10.0.0.10", end: "10.0.0.15" }],
      cidr("10.0.0.0/24"),
    ),
    "OverlappingAllocationPools",
    409,
    "Found overlapping allocation pools: 10.0.0.2-10.0.0.10 10.0.0.10-10.0.0.15 for subnet 10.0.0.0/24.",
  );
});

test("validateAllocationPools: GatewayConflictWithAllocationPools (409)", () => {
  const net = cidr("10.0.0.0/24");
  // Neutron's test: no gateway given, so the default 10.0.0.1 is checked.
  assertError(
    validateAllocationPools([{ start: "10.0.0.1", end: "10.0.0.5" }], net, formatIp(defaultGateway(net))),
    "GatewayConflictWithAllocationPools",
    409,
    "Gateway ip 10.0.0.1 conflicts with allocation pool 10.0.0.1-10.0.0.5.",
  );
  assertError(
    validateAllocationPools([{ start: "10.0.0.2", end: "10.0.0.9" }, { start: "10.0.0.40", end: "10.0.0.60" }], net, "10.0.0.50"),
    "GatewayConflictWithAllocationPools",
    409,
    "Gateway ip 10.0.0.50 conflicts with allocation pool 10.0.0.40-10.0.0.60.",
  );
  assert.equal(validateGatewayOutOfPools("10.0.0.1", [range("10.0.0.2", "10.0.0.9")]), undefined);
  assert.equal(validateGatewayOutOfPools("::1", [range("10.0.0.0", "10.0.0.9")]), undefined);
});

test("poolsSize, inPools and parsePools", () => {
  const p = [range("10.0.0.2", "10.0.0.9"), range("10.0.0.20", "10.0.0.29")];
  assert.equal(poolsSize(p), 18n);
  assert.equal(poolsSize([range("2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff")]), (1n << 64n) - 1n);
  assert.equal(poolsSize([]), 0n);
  assert.ok(inPools(parseIp("10.0.0.2")!, p));
  assert.ok(inPools(v4("10.0.0.29"), p));
  assert.ok(!inPools(parseIp("10.0.0.10")!, p));
  assert.ok(!inPools(parseIp("::ffff:10.0.0.2")!, p), "versions never mix");
  assertError(parsePools([{ start: "10.0.0.2", end: "x" }]), "InvalidAllocationPool", 400);
});

test("checkSubnetIp and checkGatewayInvalidInSubnet", () => {
  const net4 = cidr("10.0.0.0/24");
  assert.ok(checkSubnetIp(net4, parseIp("10.0.0.1")!));
  assert.ok(!checkSubnetIp(net4, parseIp("10.0.0.0")!));
  assert.ok(!checkSubnetIp(net4, parseIp("10.0.0.255")!));
  assert.ok(!checkSubnetIp(net4, parseIp("10.0.1.1")!));
  const net6 = cidr("2001:db8::/64");
  assert.ok(checkSubnetIp(net6, parseIp("2001:db8::")!), "an unknown owner may use the v6 network address");
  assert.ok(checkSubnetIp(net6, parseIp("2001:db8::")!, "network:router_interface"));
  assert.ok(!checkSubnetIp(net6, parseIp("2001:db8::")!, "compute:nova"));
  assert.ok(checkSubnetIp(net6, parseIp("2001:db8::ffff:ffff:ffff:ffff")!, "compute:nova"));
  assert.ok(checkGatewayInvalidInSubnet(net4, parseIp("10.0.0.0")!));
  assert.ok(checkGatewayInvalidInSubnet(net4, parseIp("10.0.0.255")!));
  assert.ok(!checkGatewayInvalidInSubnet(net4, parseIp("10.0.0.1")!));
  assert.ok(!checkGatewayInvalidInSubnet(net4, parseIp("192.168.0.1")!), "outside the subnet is allowed");
  assert.ok(!checkGatewayInvalidInSubnet(net6, parseIp("2001:db8::")!));
});

// ---------------------------------------------------------------- address allocation

test("pickAddress scans small pools for the lowest free address", () => {
  const p = [range("10.0.0.20", "10.0.0.29"), range("10.0.0.2", "10.0.0.9")];
  const taken = new Set([v4("10.0.0.2"), v4("10.0.0.3"), v4("10.0.0.5")]);
  assert.equal(pickAddress(p, (ip) => taken.has(ip)), v4("10.0.0.4"));
  assert.equal(lowestFree(p, taken), v4("10.0.0.4"));
  const full = new Set<bigint>();
  for (let ip = v4("10.0.0.2"); ip <= v4("10.0.0.9"); ip++) full.add(ip);
  assert.equal(lowestFree(p, full), v4("10.0.0.20"), "moves on to the next pool");
  for (let ip = v4("10.0.0.20"); ip <= v4("10.0.0.29"); ip++) full.add(ip);
  assert.equal(lowestFree(p, full), undefined);
  assert.equal(pickAddress(p, (ip) => full.has(ip)), undefined);
  assert.equal(pickAddress([], () => false), undefined);
});

test("pickAddress probes large pools at random and stays inside them", () => {
  const net = cidr("10.0.0.0/16");
  const p = generatePools(net, defaultGateway(net));
  const seen = new Set<bigint>();
  let calls = 0;
  const random = seeded(7n);
  for (let i = 0; i < 200; i++) {
    const ip = pickAddress(p, (x) => (calls++, seen.has(x)), { random });
    assert.ok(ip !== undefined && inPools(ip, p));
    assert.ok(!seen.has(ip));
    seen.add(ip);
  }
  assert.ok(calls < 400, `random probing should rarely collide (${calls} checks)`);
  // The addresses are spread out, not 10.0.0.2, .3, ...
  assert.ok([...seen].some((ip) => ip > v4("10.0.128.0")));
});

test("pickAddress falls back to a scan when probes keep hitting taken addresses", () => {
  const p = [range("10.0.0.1", "10.0.255.254")];
  // Only 10.0.200.7 is free; probing won't find it, the scan will.
  const free = v4("10.0.200.7");
  assert.equal(pickAddress(p, (ip) => ip !== free, { random: seeded(1n), probes: 8 }), free);
});

test("pickAddress handles an IPv6 /64", () => {
  const net = cidr("2001:db8::/64");
  const p = generatePools(net, defaultGateway(net));
  const ip = pickAddress(p, () => false);
  assert.ok(ip !== undefined && inPools(ip, p));
  assert.equal(pickAddress(p, () => false, { preferNext: true }), parseIp("2001:db8::1")!.value, "DHCP ports take the lowest");
  const taken = new Set([parseIp("2001:db8::1")!.value, parseIp("2001:db8::2")!.value]);
  assert.equal(lowestFree(p, taken), parseIp("2001:db8::3")!.value);
});

test("randomCandidates draws distinct addresses from the pools", () => {
  const p = [range("10.0.0.2", "10.0.0.4"), range("10.0.0.10", "10.0.0.10")];
  const all = randomCandidates(p, 10, seeded(3n));
  assert.equal(all.length, 4, "no more than the pools hold");
  assert.deepEqual(new Set(all), new Set([v4("10.0.0.2"), v4("10.0.0.3"), v4("10.0.0.4"), v4("10.0.0.10")]));
  const big = [range("2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff")];
  const some = randomCandidates(big, 16);
  assert.equal(new Set(some).size, 16);
  for (const ip of some) assert.ok(inPools(ip, big));
  assert.deepEqual(randomCandidates([], 5), []);
  assert.equal(nthAddress(p, 3n), v4("10.0.0.10"));
  assert.equal(nthAddress(p, 4n), undefined);
});

// ---------------------------------------------------------------- subnet checks

test("validateSubnet runs neutron's checks in order", () => {
  assert.equal(validateSubnet({ ipVersion: 4, cidr: "10.0.0.0/24", enableDhcp: true, gatewayIp: "10.0.0.1" }), undefined);
  assertError(
    validateSubnet({ ipVersion: 6, cidr: "10.0.0.0/24" }),
    "InvalidInput",
    400,
    "Invalid input for operation: cidr '10.0.0.0/24' does not match the ip_version '6'.",
  );
  assertError(
    validateSubnet({ ipVersion: 4, cidr: "10.0.0.0/24", gatewayIp: "10.0.0.255" }),
    "InvalidInput",
    400,
    "Invalid input for operation: Gateway is not valid on subnet.",
  );
  assertError(
    validateSubnet({ ipVersion: 4, cidr: "10.0.0.0/24", gatewayIp: "::1" }),
    "InvalidInput",
    400,
    "Invalid input for operation: gateway_ip '::1' does not match the ip_version '4'.",
  );
  assertError(
    validateSubnet({ ipVersion: 4, cidr: "10.0.0.0/24", ipv6RaMode: "slaac" }),
    "InvalidInput",
    400,
    "Invalid input for operation: ipv6_ra_mode is not valid when ip_version is 4.",
  );
  assertError(
    validateSubnet({ ipVersion: 4, cidr: "10.0.0.0/24", ipv6AddressMode: "slaac" }),
    "InvalidInput",
    400,
    "Invalid input for operation: ipv6_address_mode is not valid when ip_version is 4.",
  );
  // DHCP checks apply only when DHCP is being turned on.
  assertError(validateSubnet({ ipVersion: 4, cidr: "10.0.0.0/31", enableDhcp: true }), "InvalidInput", 400);
  assert.equal(validateSubnet({ ipVersion: 4, cidr: "10.0.0.0/31", enableDhcp: false }), undefined);
  assert.equal(validateSubnet({ ipVersion: 4, cidr: "10.0.0.0/31", enableDhcp: true }, { enableDhcp: true }), undefined);
});

test("validateDhcpSubnet refuses what dnsmasq cannot serve", () => {
  const msg = (m: string) => `Invalid input for operation: ${m}.`;
  assertError(validateDhcpSubnet(cidr("10.0.0.0/31")), "InvalidInput", 400, msg("Subnet has a prefix length that is incompatible with DHCP service enabled"));
  assertError(validateDhcpSubnet(cidr("2001:db8::/127")), "InvalidInput", 400);
  assert.equal(validateDhcpSubnet(cidr("10.0.0.0/30")), undefined);
  assert.equal(validateDhcpSubnet(cidr("2001:db8::/126")), undefined);
  assertError(validateDhcpSubnet(cidr("224.0.0.0/24")), "InvalidInput", 400, msg("Multicast IP subnet is not supported if enable_dhcp is True"));
  assertError(validateDhcpSubnet(cidr("ff02::/64")), "InvalidInput", 400);
  assert.equal(validateDhcpSubnet(cidr("224.0.0.0/3")), undefined, "only networks inside 224/4 count");
  assertError(validateDhcpSubnet(cidr("127.0.0.0/24")), "InvalidInput", 400, msg("Loopback IP subnet is not supported if enable_dhcp is True"));
  assertError(validateDhcpSubnet(cidr("0.0.0.0/24")), "InvalidInput", 400, msg("First IP '0.0.0.0' of network is not supported if enable_dhcp is True."));
});

test("nameserver and host route checks at plugin level", () => {
  assert.equal(validateSubnetNameservers(4, ["1.1.1.1", "8.8.8.8"]), undefined);
  assertError(
    validateSubnetNameservers(4, ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5", "1.1.1.6"]),
    "DNSNameServersExhausted",
    400,
    "Unable to complete operation for new subnet. The number of DNS nameservers exceeds the limit 5.",
  );
  assertError(validateSubnetNameservers(4, ["1.1.1.1", "1.1.1.2"], { max: 1, subnetId: "abc" }), "DNSNameServersExhausted", 400, "Unable to complete operation for abc. The number of DNS nameservers exceeds the limit 1.");
  assertError(
    validateSubnetNameservers(6, ["1.1.1.1"]),
    "InvalidInput",
    400,
    "Invalid input for operation: dns_nameserver '1.1.1.1' does not match the ip_version '6'.",
  );
  const routes = [{ destination: "0.0.0.0/0", nexthop: "10.0.0.1" }];
  assert.equal(validateSubnetHostRoutes(4, routes), undefined);
  assertError(validateSubnetHostRoutes(4, routes, { max: 0 }), "HostRoutesExhausted", 400);
  assertError(
    validateSubnetHostRoutes(6, routes),
    "InvalidInput",
    400,
    "Invalid input for operation: nexthop '10.0.0.1' does not match the ip_version '6'.",
  );
  assertError(
    validateSubnetHostRoutes(4, [{ destination: "::/0", nexthop: "10.0.0.1" }]),
    "InvalidInput",
    400,
    "Invalid input for operation: destination '::/0' does not match the ip_version '4'.",
  );
  assertError(validateSubnetGateway(6, cidr("2001:db8::/64"), "10.0.0.1"), "InvalidInput", 400);
  assert.equal(validateSubnetGateway(6, cidr("2001:db8::/64"), "fe80::1"), undefined, "link-local outside the cidr is fine");
});

test("IPv6 ra_mode × address_mode combinations", () => {
  const modes = [undefined, "slaac", "dhcpv6-stateful", "dhcpv6-stateless"] as const;
  for (const ra of modes) {
    for (const addr of modes) {
      const err = validateIpv6Attributes({ ipv6RaMode: ra ?? null, ipv6AddressMode: addr ?? null, enableDhcp: true }, cidr("2001:db8::/64"));
      if (ra && addr && ra !== addr) {
        assertError(
          err,
          "InvalidInput",
          400,
          `Invalid input for operation: ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${addr}' is not valid. ` +
            "If both attributes are set, they must be the same value.",
        );
      } else {
        assert.equal(err, undefined, `${ra} × ${addr}`);
      }
    }
  }
  assert.equal(validateIpv6Combination("slaac", "slaac"), undefined);
  assertError(
    validateIpv6Attributes({ ipv6AddressMode: "slaac", enableDhcp: false }),
    "InvalidInput",
    400,
    "Invalid input for operation: ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False.",
  );
});

test("SLAAC and DHCPv6-stateless need a /64; stateful does not", () => {
  const msg =
    "Invalid input for operation: Invalid CIDR 2001:db8::/80 for IPv6 address mode. " +
    "OpenStack uses the EUI-64 address format, which requires the prefix to be /64.";
  assertError(validateEui64Applicable(cidr("2001:db8::/80"), "slaac", null), "InvalidInput", 400, msg);
  assertError(validateEui64Applicable(cidr("2001:db8::/80"), null, "dhcpv6-stateless"), "InvalidInput", 400, msg);
  assertError(validateEui64Applicable(cidr("2001:db8::/48"), "dhcpv6-stateless", "dhcpv6-stateless"), "InvalidInput", 400);
  assert.equal(validateEui64Applicable(cidr("2001:db8::/80"), "dhcpv6-stateful", "dhcpv6-stateful"), undefined);
  assert.equal(validateEui64Applicable(cidr("2001:db8::/64"), "slaac", "slaac"), undefined);
  assertError(validateSubnet({ ipVersion: 6, cidr: "2001:db8::/80", enableDhcp: true, ipv6RaMode: "slaac", ipv6AddressMode: "slaac" }), "InvalidInput", 400);
  assert.ok(isAutoAddressSubnet("slaac", null));
  assert.ok(isAutoAddressSubnet(null, "dhcpv6-stateless"));
  assert.ok(!isAutoAddressSubnet("dhcpv6-stateful", "dhcpv6-stateful"));
});

test("disabling DHCP on an IPv6 subnet with modes is refused", () => {
  const msg = "Invalid input for operation: Cannot disable enable_dhcp with ipv6 attributes set.";
  assertError(validateIpv6UpdateDhcp({ enableDhcp: false }, { ipv6RaMode: "slaac", enableDhcp: true }), "InvalidInput", 400, msg);
  assert.equal(validateIpv6UpdateDhcp({ enableDhcp: false }, { enableDhcp: true }), undefined);
  assert.equal(validateIpv6UpdateDhcp({ enableDhcp: true }, { ipv6RaMode: "slaac" }), undefined);
  assertError(validateSubnet({ ipVersion: 6, cidr: "2001:db8::/64", enableDhcp: false }, { enableDhcp: true, ipv6AddressMode: "slaac" }), "InvalidInput", 400, msg);
});

test("prefix delegation requests and network overlap", () => {
  assert.equal(validateSubnetForPd({ ipVersion: 6, ipv6RaMode: "slaac", ipv6AddressMode: "slaac" }), undefined);
  assertError(validateSubnetForPd({ ipVersion: 4 }), "BadRequest", 400, "Bad subnets request: Prefix Delegation can only be used with IPv6 subnets..");
  assertError(validateSubnetForPd({ ipVersion: 6, ipv6RaMode: "dhcpv6-stateful", ipv6AddressMode: "slaac" }), "BadRequest", 400);

  const existing = [cidr("10.0.0.0/24"), cidr("::/64")];
  assert.equal(validateSubnetCidrOnNetwork(cidr("10.0.1.0/24"), existing, "net1"), undefined);
  assert.equal(validateSubnetCidrOnNetwork(cidr("::/48"), existing, "net1"), undefined, "the PD placeholder doesn't count");
  assertError(
    validateSubnetCidrOnNetwork(cidr("10.0.0.128/25"), existing, "net1"),
    "InvalidInput",
    400,
    "Invalid input for operation: Requested subnet with cidr: 10.0.0.128/25 for network: net1 overlaps with another subnet.",
  );
  assertError(validateSubnetCidrOnNetwork(cidr("0.0.0.0/0"), [], "net1"), "InvalidInput", 400, "Invalid input for operation: 0 is not allowed as CIDR prefix length.");
});

// ---------------------------------------------------------------- subnet pools

test("readPoolPrefixes compacts and checks versions", () => {
  const read = readPoolPrefixes(["10.0.0.0/25", "10.0.0.128/25", "10.0.1.7/24", "192.168.0.0/16", "192.168.4.0/24"]);
  assert.ok(!isIpamError(read));
  assert.equal(read.version, 4);
  assert.deepEqual(read.prefixes.map(formatCidr), ["10.0.0.0/23", "192.168.0.0/16"]);
  assertError(readPoolPrefixes([]), "EmptySubnetPoolPrefixList", 400, "Empty subnet pool prefix list.");
  assertError(readPoolPrefixes(["10.0.0.0/8", "2001:db8::/32"]), "PrefixVersionMismatch", 400, "Cannot mix IPv4 and IPv6 prefixes in a subnet pool.");
  assert.deepEqual(compactCidrs([cidr("10.0.0.0/24"), cidr("10.0.0.0/16")]).map(formatCidr), ["10.0.0.0/16"]);
});

test("resolvePrefixBounds fills neutron's defaults and checks them", () => {
  assert.deepEqual(resolvePrefixBounds(4, {}), { minPrefixlen: 8, maxPrefixlen: 32, defaultPrefixlen: 8 });
  assert.deepEqual(resolvePrefixBounds(6, { defaultPrefixlen: 64 }), { minPrefixlen: 64, maxPrefixlen: 128, defaultPrefixlen: 64 });
  assertError(resolvePrefixBounds(4, { minPrefixlen: 24, maxPrefixlen: 16 }), "IllegalSubnetPoolPrefixBounds", 400, "Illegal prefix bounds: min_prefixlen=24, max_prefixlen=16.");
  assertError(resolvePrefixBounds(4, { maxPrefixlen: 33 }), "IllegalSubnetPoolPrefixBounds", 400, "Illegal prefix bounds: max_prefixlen=33, ip_version_max=32.");
  assertError(resolvePrefixBounds(4, { minPrefixlen: 16, defaultPrefixlen: 8 }), "IllegalSubnetPoolPrefixBounds", 400, "Illegal prefix bounds: default_prefixlen=8, min_prefixlen=16.");
  assertError(resolvePrefixBounds(4, { maxPrefixlen: 24, defaultPrefixlen: 28 }), "IllegalSubnetPoolPrefixBounds", 400, "Illegal prefix bounds: default_prefixlen=28, max_prefixlen=24.");
  assertError(resolvePrefixBounds(6, { minPrefixlen: -1 }), "UnsupportedMinSubnetPoolPrefix", 400, "Prefix '-1' not supported in IPv4 pool.");
});

test("availablePrefixes sorts smallest blocks first", () => {
  const free = availablePrefixes([cidr("10.0.0.0/16")], [cidr("10.0.0.0/24"), cidr("10.0.2.0/24")]);
  assert.deepEqual(free.map(formatCidr), ["10.0.1.0/24", "10.0.3.0/24", "10.0.4.0/22", "10.0.8.0/21", "10.0.16.0/20", "10.0.32.0/19", "10.0.64.0/18", "10.0.128.0/17"]);
});

test("allocateAnySubnet is best fit, first address, gateway network + 1", () => {
  const prefixes = [cidr("10.0.0.0/16")];
  const first = allocateAnySubnet(prefixes, [], 24);
  assert.ok(!isIpamError(first));
  assert.equal(formatCidr(first.cidr), "10.0.0.0/24");
  assert.equal(formatIp(first.gatewayIp), "10.0.0.1");
  assert.deepEqual(first.allocationPools.map(formatRange), ["10.0.0.2-10.0.0.254"]);
  // A /24 hole left between allocations is filled before the big free block is split.
  const hole = allocateAnySubnet(prefixes, [cidr("10.0.0.0/24"), cidr("10.0.2.0/23")], 24);
  assert.ok(!isIpamError(hole));
  assert.equal(formatCidr(hole.cidr), "10.0.1.0/24");
  const v6 = allocateAnySubnet([cidr("2001:db8::/48")], [cidr("2001:db8::/64")], 64);
  assert.ok(!isIpamError(v6));
  assert.equal(formatCidr(v6.cidr), "2001:db8:0:1::/64");
  assert.equal(formatIp(v6.gatewayIp), "2001:db8:0:1::1", "pool subnets get network + 1 even in IPv6");
  assertError(
    allocateAnySubnet([cidr("10.0.0.0/24")], [cidr("10.0.0.0/25")], 24),
    "SubnetAllocationError",
    409,
    "Failed to allocate subnet: Insufficient prefix space to allocate subnet size /24.",
  );
});

test("allocateSpecificSubnet needs the cidr inside free space", () => {
  const prefixes = [cidr("10.0.0.0/16")];
  const allocated = [cidr("10.0.1.0/24")];
  assert.deepEqual(allocateSpecificSubnet(prefixes, allocated, cidr("10.0.2.0/24")), cidr("10.0.2.0/24"));
  const msg = "Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.";
  assertError(allocateSpecificSubnet(prefixes, allocated, cidr("10.0.1.128/25")), "SubnetAllocationError", 409, msg);
  assertError(allocateSpecificSubnet(prefixes, allocated, cidr("10.0.0.0/23")), "SubnetAllocationError", 409, msg);
  assertError(allocateSpecificSubnet(prefixes, allocated, cidr("10.1.0.0/24")), "SubnetAllocationError", 409, msg);
  assertError(allocateSpecificSubnet(prefixes, [], cidr("10.0.0.0/15")), "SubnetAllocationError", 409, msg);
});

test("allocateFromSubnetPool checks prefix bounds first", () => {
  const pool = { prefixes: [cidr("10.0.0.0/16")], minPrefixlen: 20, maxPrefixlen: 28 };
  assertError(
    allocateFromSubnetPool(pool, [], { prefixLen: 29 }),
    "MaxPrefixSubnetAllocationError",
    400,
    "Unable to allocate subnet with prefix length 29, maximum allowed prefix is 28.",
  );
  assertError(
    allocateFromSubnetPool(pool, [], { cidr: cidr("10.0.0.0/16") }),
    "MinPrefixSubnetAllocationError",
    400,
    "Unable to allocate subnet with prefix length 16, minimum allowed prefix is 20.",
  );
  const any = allocateFromSubnetPool(pool, [], { prefixLen: 26 });
  assert.ok(!isIpamError(any) && "gatewayIp" in any && formatCidr(any.cidr) === "10.0.0.0/26");
  assert.equal(checkPrefixlenBounds(24, pool), undefined);
});

test("subnet pool quota and prefix updates", () => {
  assert.equal(quotaUnits(4, 24), 256);
  assert.equal(quotaUnits(6, 64), 1);
  assert.equal(quotaUnits(6, 65), 0.5);
  assert.equal(checkSubnetPoolQuota(4, 512, [24], 24), undefined);
  assertError(checkSubnetPoolQuota(4, 512, [24, 24], 30), "SubnetPoolQuotaExceeded", 409, "Per-tenant subnet pool prefix quota exceeded.");
  assert.equal(checkSubnetPoolQuota(4, null, [8, 8], 8), undefined);

  const grown = updatePoolPrefixes([cidr("10.0.0.0/24")], ["10.0.0.0/24", "10.0.1.0/24"]);
  assert.ok(!isIpamError(grown));
  assert.deepEqual(grown.map(formatCidr), ["10.0.0.0/23"]);
  assertError(
    updatePoolPrefixes([cidr("10.0.0.0/24"), cidr("10.1.0.0/24")], ["10.0.0.0/16"]),
    "IllegalSubnetPoolPrefixUpdate",
    400,
    "Illegal update to prefixes: Existing prefixes must be a subset of the new prefixes.",
  );
});
