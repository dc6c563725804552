/**
 * Subnets, IPAM, subnet pools and address scopes: Neutron's create/update/delete rules
 * (cidr, gateway, allocation pools, DNS, host routes, IPv6 modes), who may add a subnet to
 * which network, the DHCP port, address allocation for ports (specific, next free, EUI-64,
 * service types, exhaustion, concurrency), pools and scopes.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { FixedIp } from "../../src/services/network/api/deps.js";
import { assertNeutronError, persona, startTestCloud, unique } from "../support/cloud.js";

const tc = await startTestCloud();
after(() => tc.close());
const N = "/networking/v2.0";
const admin = await tc.adminToken();
const member = await persona(tc, "member");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;


async function network(token: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await tc.request("POST", `${N}/networks`, { token, body: { network: { name: unique("net"), ...extra } } });
  assert.equal(r.status, 201, r.text);
  return r.body.network.id as string;
}

async function postSubnet(token: string, body: Record<string, unknown>): Promise<{ status: number; body: Body; text: string }> {
  return tc.request("POST", `${N}/subnets`, { token, body: { subnet: { ip_version: 4, ...body } } });
}

async function subnet(token: string, body: Record<string, unknown>): Promise<Body> {
  const r = await postSubnet(token, body);
  assert.equal(r.status, 201, r.text);
  return r.body.subnet;
}

async function postPort(token: string, body: Record<string, unknown>): Promise<{ status: number; body: Body; text: string }> {
  return tc.request("POST", `${N}/ports`, { token, body: { port: body } });
}

async function dhcpPorts(networkId: string): Promise<Body[]> {
  const r = await tc.request("GET", `${N}/ports?network_id=${networkId}&device_owner=network:dhcp`, { token: admin });
  assert.equal(r.status, 200, r.text);
  return r.body.ports;
}

// ---------------------------------------------------------------- create: defaults and shape

test("an IPv4 subnet: Neutron's defaults, the network lists it, the DHCP port takes the first address", async () => {
  const net = await network(member.token);
  const s = await subnet(member.token, { network_id: net, cidr: "10.20.0.0/24", name: "s1" });
  assert.equal(s.name, "s1");
  assert.equal(s.cidr, "10.20.0.0/24");
  assert.equal(s.ip_version, 4);
  assert.equal(s.gateway_ip, "10.20.0.1");
  assert.deepEqual(s.allocation_pools, [{ start: "10.20.0.2", end: "10.20.0.254" }]);
  assert.equal(s.enable_dhcp, true);
  assert.deepEqual(s.dns_nameservers, []);
  assert.deepEqual(s.host_routes, []);
  assert.equal(s.ipv6_ra_mode, null);
  assert.equal(s.ipv6_address_mode, null);
  assert.equal(s.subnetpool_id, null);
  assert.deepEqual(s.service_types, []);
  assert.equal(s.project_id, member.projectId);
  assert.equal(s.tenant_id, member.projectId);
  assert.equal(s.network_id, net);
  assert.equal(s.revision_number, 0);
  assert.equal(s.description, "");
  assert.deepEqual(s.tags, []);
  assert.ok(s.created_at && s.updated_at);
  for (const hidden of ["shared", "prefixlen", "use_default_subnetpool"]) assert.ok(!(hidden in s), `${hidden} is not shown`);
  assert.ok(!("segment_id" in s), "segment_id is admin-only");
  const asAdmin = await tc.request("GET", `${N}/subnets/${s.id}`, { token: admin });
  assert.equal(asAdmin.body.subnet.segment_id, null);

  const n = await tc.request("GET", `${N}/networks/${net}`, { token: member.token });
  assert.deepEqual(n.body.network.subnets, [s.id]);

  const dhcp = await dhcpPorts(net);
  assert.equal(dhcp.length, 1);
  assert.equal(dhcp[0].project_id, member.projectId);
  assert.match(dhcp[0].device_id, new RegExp(`^dhcp[0-9a-f-]{36}-${net}$`));
  assert.deepEqual(dhcp[0].fixed_ips, [{ subnet_id: s.id, ip_address: "10.20.0.2" }]);
});

test("cidr: host bits cleared, IPv6 canonical, bad ones refused, /0 refused, overlaps refused", async () => {
  const net = await network(member.token);
  const s = await subnet(member.token, { network_id: net, cidr: "10.21.3.7/24" });
  assert.equal(s.cidr, "10.21.3.0/24");
  const v6 = await subnet(member.token, { network_id: net, cidr: "2001:DB8:21::/64", ip_version: 6 });
  assert.equal(v6.cidr, "2001:db8:21::/64");
  assert.equal(v6.gateway_ip, "2001:db8:21::", "Neutron 21 gives IPv6 subnets the subnet-router anycast address");
  assert.deepEqual(v6.allocation_pools, [{ start: "2001:db8:21::1", end: "2001:db8:21:0:ffff:ffff:ffff:ffff" }]);

  assertNeutronError(await postSubnet(member.token, { network_id: net, cidr: "nope" }), 400, "InvalidInput", /nope is not in a CIDR format/);
  assertNeutronError(await postSubnet(member.token, { network_id: net, cidr: "10.21.0.0/33" }), 400, "InvalidInput");
  assertNeutronError(
    await postSubnet(member.token, { network_id: net, cidr: "10.21.3.128/25" }),
    400,
    "InvalidInput",
    new RegExp(`Requested subnet with cidr: 10.21.3.128/25 for network: ${net} overlaps with another subnet`),
  );
  assertNeutronError(await postSubnet(member.token, { network_id: net, cidr: "10.0.0.0/8" }), 400, "InvalidInput", /overlaps/);
  assertNeutronError(await postSubnet(admin, { network_id: net, cidr: "0.0.0.0/0", enable_dhcp: false }), 400, "InvalidInput", /0 is not allowed as CIDR prefix length/);
  assertNeutronError(
    await postSubnet(member.token, { network_id: net, cidr: "2001:db8:99::/64", ip_version: 4 }),
    400,
    "InvalidInput",
    /cidr '2001:db8:99::\/64' does not match the ip_version '4'/,
  );
  assertNeutronError(await postSubnet(member.token, { network_id: net }), 400, "BadRequest", /a subnetpool must be specified in the absence of a cidr/);
  assertNeutronError(await postSubnet(member.token, { network_id: net, cidr: "10.22.0.0/24", prefixlen: 24 }), 400, "BadRequest", /cidr and prefixlen must not be supplied together/);
  assertNeutronError(await postSubnet(member.token, { cidr: "10.22.0.0/24" }), 400, "HTTPBadRequest", /Required attribute 'network_id'/);
  assertNeutronError(await postSubnet(member.token, { network_id: net, cidr: "10.22.0.0/24", ip_version: 5 }), 400, "HTTPBadRequest", /Invalid input for ip_version/);
});

test("/32 and /128 subnets are accepted without DHCP; with DHCP the prefix is refused", async () => {
  const net = await network(member.token);
  const s32 = await subnet(member.token, { network_id: net, cidr: "10.23.0.5/32", enable_dhcp: false });
  assert.equal(s32.cidr, "10.23.0.5/32");
  assert.deepEqual(s32.allocation_pools, [{ start: "10.23.0.5", end: "10.23.0.5" }]);
  const s128 = await subnet(member.token, { network_id: net, cidr: "2001:db8:23::5/128", ip_version: 6, enable_dhcp: false });
  assert.equal(s128.cidr, "2001:db8:23::5/128");
  const net2 = await network(member.token);
  assertNeutronError(
    await postSubnet(member.token, { network_id: net2, cidr: "10.23.1.0/31" }),
    400,
    "InvalidInput",
    /Subnet has a prefix length that is incompatible with DHCP service enabled/,
  );
  assertNeutronError(await postSubnet(member.token, { network_id: net2, cidr: "224.0.0.0/24" }), 400, "InvalidInput", /Multicast/);
  assertNeutronError(await postSubnet(member.token, { network_id: net2, cidr: "127.0.0.0/24" }), 400, "InvalidInput", /Loopback/);
});

test("gateway: explicit, none, outside the cidr, and the invalid ones", async () => {
  const net = await network(member.token);
  const g = await subnet(member.token, { network_id: net, cidr: "10.24.0.0/24", gateway_ip: "10.24.0.254" });
  assert.equal(g.gateway_ip, "10.24.0.254");
  assert.deepEqual(g.allocation_pools, [{ start: "10.24.0.1", end: "10.24.0.253" }]);
  const none = await subnet(member.token, { network_id: net, cidr: "10.24.1.0/24", gateway_ip: null });
  assert.equal(none.gateway_ip, null);
  assert.deepEqual(none.allocation_pools, [{ start: "10.24.1.1", end: "10.24.1.254" }]);
  const mid = await subnet(member.token, { network_id: net, cidr: "10.24.2.0/24", gateway_ip: "10.24.2.100" });
  assert.deepEqual(mid.allocation_pools, [
    { start: "10.24.2.1", end: "10.24.2.99" },
    { start: "10.24.2.101", end: "10.24.2.254" },
  ]);
  // Neutron cannot tell which network a gateway outside the cidr is on, so it accepts it.
  const outside = await subnet(member.token, { network_id: net, cidr: "10.24.3.0/24", gateway_ip: "10.99.0.1" });
  assert.equal(outside.gateway_ip, "10.99.0.1");
  assert.deepEqual(outside.allocation_pools, [{ start: "10.24.3.1", end: "10.24.3.254" }]);

  assertNeutronError(await postSubnet(member.token, { network_id: net, cidr: "10.24.4.0/24", gateway_ip: "10.24.4.0" }), 400, "InvalidInput", /Gateway is not valid on subnet/);
  assertNeutronError(await postSubnet(member.token, { network_id: net, cidr: "10.24.4.0/24", gateway_ip: "10.24.4.255" }), 400, "InvalidInput", /Gateway is not valid on subnet/);
  assertNeutronError(
    await postSubnet(member.token, { network_id: net, cidr: "10.24.4.0/24", gateway_ip: "2001:db8::1" }),
    400,
    "InvalidInput",
    /gateway_ip '2001:db8::1' does not match the ip_version '4'/,
  );
  assertNeutronError(await postSubnet(member.token, { network_id: net, cidr: "10.24.4.0/24", gateway_ip: "10.24.4.300" }), 400, "HTTPBadRequest", /Invalid input for gateway_ip/);
});

test("allocation pools: explicit, overlapping, out of range, around the gateway, updated", async () => {
  const net = await network(member.token);
  const pools = [
    { start: "10.25.0.10", end: "10.25.0.19" },
    { start: "10.25.0.100", end: "10.25.0.199" },
  ];
  const s = await subnet(member.token, { network_id: net, cidr: "10.25.0.0/24", allocation_pools: pools, enable_dhcp: false });
  assert.deepEqual(s.allocation_pools, pools);
  const c = (extra: Record<string, unknown>) => postSubnet(member.token, { network_id: net, cidr: "10.25.1.0/24", ...extra });
  assertNeutronError(
    await c({ allocation_pools: [{ start: "10.25.1.10", end: "10.25.1.20" }, { start: "10.25.1.15", end: "10.25.1.30" }] }),
    409,
    "OverlappingAllocationPools",
    /Found overlapping allocation pools: 10.25.1.10-10.25.1.20 10.25.1.15-10.25.1.30 for subnet 10.25.1.0\/24/,
  );
  assertNeutronError(
    await c({ allocation_pools: [{ start: "10.25.1.10", end: "10.25.1.255" }] }),
    400,
    "OutOfBoundsAllocationPool",
    /The allocation pool 10.25.1.10-10.25.1.255 spans beyond the subnet cidr 10.25.1.0\/24/,
  );
  assertNeutronError(
    await c({ allocation_pools: [{ start: "10.25.1.1", end: "10.25.1.20" }] }),
    409,
    "GatewayConflictWithAllocationPools",
    /Gateway ip 10.25.1.1 conflicts with allocation pool 10.25.1.1-10.25.1.20/,
  );
  assertNeutronError(await c({ allocation_pools: [{ start: "10.25.1.20", end: "10.25.1.10" }] }), 400, "InvalidAllocationPool");
  assertNeutronError(await c({ allocation_pools: [{ start: "10.25.1.20" }] }), 400, "HTTPBadRequest", /Invalid input for allocation_pools/);
  assertNeutronError(await c({ allocation_pools: [{ start: "2001:db8::1", end: "2001:db8::5" }] }), 400, "InvalidAllocationPool");

  const u = await tc.request("PUT", `${N}/subnets/${s.id}`, { token: member.token, body: { subnet: { allocation_pools: [{ start: "10.25.0.50", end: "10.25.0.60" }] } } });
  assert.equal(u.status, 200, u.text);
  assert.deepEqual(u.body.subnet.allocation_pools, [{ start: "10.25.0.50", end: "10.25.0.60" }]);
  assert.equal(u.body.subnet.revision_number, 1);
  assertNeutronError(
    await tc.request("PUT", `${N}/subnets/${s.id}`, { token: member.token, body: { subnet: { gateway_ip: "10.25.0.55" } } }),
    409,
    "GatewayConflictWithAllocationPools",
  );
  assertNeutronError(
    await tc.request("PUT", `${N}/subnets/${s.id}`, { token: member.token, body: { subnet: { allocation_pools: [{ start: "10.25.0.1", end: "10.25.0.9" }] } } }),
    409,
    "GatewayConflictWithAllocationPools",
  );
});

test("dns_nameservers and host_routes: kept in order, validated, limited", async () => {
  const net = await network(member.token);
  const s = await subnet(member.token, {
    network_id: net,
    cidr: "10.26.0.0/24",
    dns_nameservers: ["8.8.8.8", "1.1.1.1"],
    host_routes: [{ destination: "10.100.0.0/16", nexthop: "10.26.0.5" }],
  });
  assert.deepEqual(s.dns_nameservers, ["8.8.8.8", "1.1.1.1"]);
  assert.deepEqual(s.host_routes, [{ destination: "10.100.0.0/16", nexthop: "10.26.0.5" }]);
  const c = (extra: Record<string, unknown>) => postSubnet(member.token, { network_id: net, cidr: "10.26.1.0/24", ...extra });
  assertNeutronError(await c({ dns_nameservers: ["8.8.8.8", "8.8.8.8"] }), 400, "HTTPBadRequest", /Duplicate nameserver '8.8.8.8'/);
  assertNeutronError(await c({ dns_nameservers: ["8.8.8"] }), 400, "HTTPBadRequest", /is not a valid nameserver/);
  assertNeutronError(await c({ dns_nameservers: ["2001:4860::8888"] }), 400, "InvalidInput", /dns_nameserver '2001:4860::8888' does not match the ip_version '4'/);
  assertNeutronError(
    await c({ dns_nameservers: ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5", "1.1.1.6"] }),
    400,
    "DNSNameServersExhausted",
    /The number of DNS nameservers exceeds the limit 5/,
  );
  assertNeutronError(await c({ host_routes: [{ destination: "10.100.0.1/16", nexthop: "10.26.1.5" }] }), 400, "HTTPBadRequest", /is not a recognized CIDR/);
  assertNeutronError(await c({ host_routes: [{ destination: "10.100.0.0/16" }] }), 400, "HTTPBadRequest");
  const u = await tc.request("PUT", `${N}/subnets/${s.id}`, {
    token: member.token,
    body: { subnet: { dns_nameservers: ["9.9.9.9"], host_routes: [], name: "renamed", description: "d" } },
  });
  assert.equal(u.status, 200, u.text);
  assert.deepEqual(u.body.subnet.dns_nameservers, ["9.9.9.9"]);
  assert.deepEqual(u.body.subnet.host_routes, []);
  assert.equal(u.body.subnet.name, "renamed");
  assert.equal(u.body.subnet.description, "d");
  for (const ro of [{ cidr: "10.26.9.0/24" }, { ip_version: 6 }, { network_id: net }, { ipv6_ra_mode: "slaac" }]) {
    assertNeutronError(await tc.request("PUT", `${N}/subnets/${s.id}`, { token: member.token, body: { subnet: ro } }), 400, "HTTPBadRequest", /Cannot update read-only attribute/);
  }
});

test("IPv6 modes: the combinations Neutron accepts and its errors", async () => {
  const net = await network(member.token);
  let i = 0;
  const c = (extra: Record<string, unknown>) => postSubnet(member.token, { network_id: net, ip_version: 6, cidr: `2001:db8:27:${++i}::/64`, ...extra });
  for (const mode of ["slaac", "dhcpv6-stateless", "dhcpv6-stateful"]) {
    const r = await c({ ipv6_ra_mode: mode, ipv6_address_mode: mode });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.subnet.ipv6_ra_mode, mode);
    assert.equal(r.body.subnet.ipv6_address_mode, mode);
  }
  for (const mode of ["slaac", "dhcpv6-stateless", "dhcpv6-stateful"]) {
    assert.equal((await c({ ipv6_address_mode: mode })).status, 201);
    assert.equal((await c({ ipv6_ra_mode: mode })).status, 201);
  }
  assertNeutronError(
    await c({ ipv6_ra_mode: "slaac", ipv6_address_mode: "dhcpv6-stateful" }),
    400,
    "InvalidInput",
    /ipv6_ra_mode set to 'slaac' with ipv6_address_mode set to 'dhcpv6-stateful' is not valid. If both attributes are set, they must be the same value/,
  );
  assertNeutronError(await c({ ipv6_ra_mode: "slaac", enable_dhcp: false }), 400, "InvalidInput", /cannot be set when enable_dhcp is set to False/);
  assertNeutronError(await c({ ipv6_address_mode: "slaac", cidr: "2001:db8:27:ff::/80" }), 400, "InvalidInput", /requires the prefix to be \/64/);
  assert.equal((await c({ ipv6_address_mode: "dhcpv6-stateful", cidr: "2001:db8:27:fe::/80" })).status, 201, "stateful needs no /64");
  assertNeutronError(await c({ ipv6_ra_mode: "bogus" }), 400, "HTTPBadRequest", /bogus is not in valid_values/);
  assertNeutronError(
    await postSubnet(member.token, { network_id: net, cidr: "10.27.0.0/24", ipv6_ra_mode: "slaac" }),
    400,
    "InvalidInput",
    /ipv6_ra_mode is not valid when ip_version is 4/,
  );
  const st = await c({ ipv6_ra_mode: "dhcpv6-stateful", ipv6_address_mode: "dhcpv6-stateful" });
  assertNeutronError(
    await tc.request("PUT", `${N}/subnets/${st.body.subnet.id}`, { token: member.token, body: { subnet: { enable_dhcp: false } } }),
    400,
    "InvalidInput",
    /Cannot disable enable_dhcp with ipv6 attributes set/,
  );
});

// ---------------------------------------------------------------- who may add subnets where

test("subnets go on the caller's own networks (network:project_id in the policy target); shared ones are visible", async () => {
  const other = await persona(tc, "member");
  const mine = await network(member.token);
  assertNeutronError(await postSubnet(other.token, { network_id: mine, cidr: "10.28.0.0/24" }), 404, "NetworkNotFound");
  const reader = await persona(tc, "reader", { projectId: member.projectId });
  assert.equal((await postSubnet(reader.token, { network_id: mine, cidr: "10.28.0.0/24" })).status, 403);
  const missing = "4d7e6f2a-1111-4b8c-9d0e-123456789abc";
  assertNeutronError(await postSubnet(admin, { network_id: missing, cidr: "10.28.0.0/24" }), 404, "NetworkNotFound");

  // A shared network: other projects see its subnets, but only its owner (or an admin) adds them.
  const shared = await network(admin, { shared: true });
  assertNeutronError(await postSubnet(other.token, { network_id: shared, cidr: "10.28.1.0/24" }), 403, "PolicyNotAuthorized", /create_subnet/);
  const s = await subnet(admin, { network_id: shared, cidr: "10.28.1.0/24" });
  const seen = await tc.request("GET", `${N}/subnets?network_id=${shared}`, { token: member.token });
  assert.ok(seen.body.subnets.some((x: Body) => x.id === s.id));
  assert.equal((await tc.request("GET", `${N}/subnets/${s.id}`, { token: other.token })).status, 200);
  assertNeutronError(await tc.request("DELETE", `${N}/subnets/${s.id}`, { token: other.token }), 403, "PolicyNotAuthorized");

  const pub = (await tc.request("GET", `${N}/networks?router:external=true&name=public`, { token: admin })).body.networks[0];
  assertNeutronError(await postSubnet(member.token, { network_id: pub.id, cidr: "10.28.2.0/24" }), 404, "HTTPNotFound");
  const pubSubnets = await tc.request("GET", `${N}/subnets?network_id=${pub.id}`, { token: member.token });
  assert.deepEqual(pubSubnets.body.subnets, [], "a non-shared external network's subnets are not shown to projects");

  // A subnet an admin put on the member's network for another project is that project's: the
  // network owner does not even see it (Neutron filters subnets by their own project).
  const onMine = await subnet(admin, { network_id: mine, cidr: "10.28.3.0/24", tenant_id: other.projectId });
  const upd = await tc.request("PUT", `${N}/subnets/${onMine.id}`, { token: member.token, body: { subnet: { name: "by-net-owner" } } });
  assertNeutronError(upd, 404, "SubnetNotFound");
});

test("the public network has DevStack's subnets", async () => {
  const pub = (await tc.request("GET", `${N}/networks?router:external=true&name=public`, { token: admin })).body.networks[0];
  const r = await tc.request("GET", `${N}/subnets?network_id=${pub.id}`, { token: admin });
  const byName = Object.fromEntries(r.body.subnets.map((s: Body) => [s.name, s]));
  assert.equal(byName["public-subnet"].cidr, "172.24.4.0/24");
  assert.equal(byName["public-subnet"].gateway_ip, "172.24.4.1");
  assert.equal(byName["public-subnet"].enable_dhcp, false);
  assert.deepEqual(byName["public-subnet"].allocation_pools, [{ start: "172.24.4.2", end: "172.24.4.254" }]);
  // The configured IPv6 range (outside tempest's 2001:db8::/48), gateway network+2 as DevStack sets it.
  const v6 = tc.cloud.network.core.config.publicSubnetV6Cidr;
  assert.equal(byName["ipv6-public-subnet"].cidr, v6);
  assert.equal(byName["ipv6-public-subnet"].gateway_ip, v6.replace("::/64", "::2"));
  assert.equal(byName["ipv6-public-subnet"].enable_dhcp, false);
  assert.deepEqual(await dhcpPorts(pub.id), []);
});

test("filters: ip_version, cidr, enable_dhcp, gateway_ip, ipv6 modes; bad filters refused", async () => {
  const net = await network(member.token);
  const a = await subnet(member.token, { network_id: net, cidr: "10.29.0.0/24", enable_dhcp: false });
  const b = await subnet(member.token, { network_id: net, cidr: "2001:db8:29::/64", ip_version: 6, ipv6_ra_mode: "slaac", ipv6_address_mode: "slaac" });
  const ids = async (q: string): Promise<string[]> => {
    const r = await tc.request("GET", `${N}/subnets?network_id=${net}&${q}`, { token: member.token });
    assert.equal(r.status, 200, r.text);
    return r.body.subnets.map((s: Body) => s.id);
  };
  assert.deepEqual(await ids("ip_version=4"), [a.id]);
  assert.deepEqual(await ids("ip_version=6"), [b.id]);
  assert.deepEqual(await ids("cidr=10.29.0.0/24"), [a.id]);
  assert.deepEqual(await ids("enable_dhcp=false"), [a.id]);
  assert.deepEqual(await ids("gateway_ip=10.29.0.1"), [a.id]);
  assert.deepEqual(await ids("ipv6_address_mode=slaac"), [b.id]);
  assert.deepEqual(await ids("shared=false"), [a.id, b.id].sort());
  const r = await tc.request("GET", `${N}/subnets?allocation_pools=x`, { token: member.token });
  assertNeutronError(r, 400, "HTTPBadRequest", /is invalid attribute for filtering/);
  const f = await tc.request("GET", `${N}/subnets/${a.id}?fields=cidr&fields=id`, { token: member.token });
  assert.deepEqual(f.body.subnet, { cidr: "10.29.0.0/24", id: a.id });
});

// ---------------------------------------------------------------- IPAM through ports

test("ports: next free address, a requested one, and Neutron's errors", async () => {
  const net = await network(member.token);
  const s = await subnet(member.token, { network_id: net, cidr: "10.30.0.0/24" });
  const p1 = await postPort(member.token, { network_id: net });
  assert.equal(p1.status, 201, p1.text);
  assert.deepEqual(p1.body.port.fixed_ips, [{ subnet_id: s.id, ip_address: "10.30.0.3" }], "after the DHCP port's .2");
  const p2 = await postPort(member.token, { network_id: net, fixed_ips: [{ subnet_id: s.id, ip_address: "10.30.0.50" }] });
  assert.equal(p2.status, 201, p2.text);
  assert.deepEqual(p2.body.port.fixed_ips, [{ subnet_id: s.id, ip_address: "10.30.0.50" }]);
  const p3 = await postPort(member.token, { network_id: net, fixed_ips: [{ ip_address: "10.30.0.51" }] });
  assert.deepEqual(p3.body.port.fixed_ips, [{ subnet_id: s.id, ip_address: "10.30.0.51" }]);
  const p4 = await postPort(member.token, { network_id: net, fixed_ips: [{ subnet_id: s.id }] });
  assert.deepEqual(p4.body.port.fixed_ips, [{ subnet_id: s.id, ip_address: "10.30.0.4" }]);

  assertNeutronError(
    await postPort(member.token, { network_id: net, fixed_ips: [{ subnet_id: s.id, ip_address: "10.30.0.50" }] }),
    409,
    "IpAddressAlreadyAllocated",
    new RegExp(`IP address 10.30.0.50 already allocated in subnet ${s.id}`),
  );
  assertNeutronError(
    await postPort(member.token, { network_id: net, fixed_ips: [{ subnet_id: s.id, ip_address: "10.31.0.5" }] }),
    400,
    "InvalidIpForSubnet",
    /IP address 10.31.0.5 is not a valid IP for the specified subnet/,
  );
  assertNeutronError(await postPort(member.token, { network_id: net, fixed_ips: [{ subnet_id: s.id, ip_address: "10.30.0.255" }] }), 400, "InvalidIpForSubnet");
  assertNeutronError(
    await postPort(member.token, { network_id: net, fixed_ips: [{ ip_address: "10.31.0.5" }] }),
    400,
    "InvalidIpForNetwork",
    /IP address 10.31.0.5 is not a valid IP for any of the subnets on the specified network/,
  );
  const otherNet = await network(member.token);
  const otherSubnet = await subnet(member.token, { network_id: otherNet, cidr: "10.32.0.0/24", enable_dhcp: false });
  assertNeutronError(
    await postPort(member.token, { network_id: net, fixed_ips: [{ subnet_id: otherSubnet.id }] }),
    400,
    "InvalidInput",
    /because fixed_ips included invalid subnet/,
  );
  // Outside the pools but inside the subnet: allowed when asked for by address.
  const u = await tc.request("PUT", `${N}/subnets/${s.id}`, { token: member.token, body: { subnet: { allocation_pools: [{ start: "10.30.0.100", end: "10.30.0.110" }] } } });
  assert.equal(u.status, 200, u.text);
  const p5 = await postPort(member.token, { network_id: net, fixed_ips: [{ ip_address: "10.30.0.200" }] });
  assert.equal(p5.status, 201, p5.text);
  const p6 = await postPort(member.token, { network_id: net });
  assert.equal(p6.body.port.fixed_ips[0].ip_address, "10.30.0.100");

  // Changing a port's addresses: keep one, add one, drop one.
  const upd = await tc.request("PUT", `${N}/ports/${p2.body.port.id}`, {
    token: member.token,
    body: { port: { fixed_ips: [{ subnet_id: s.id, ip_address: "10.30.0.50" }, { subnet_id: s.id, ip_address: "10.30.0.60" }] } },
  });
  assert.equal(upd.status, 200, upd.text);
  assert.deepEqual(
    upd.body.port.fixed_ips.map((f: FixedIp) => f.ip_address),
    ["10.30.0.50", "10.30.0.60"],
  );
  const upd2 = await tc.request("PUT", `${N}/ports/${p2.body.port.id}`, { token: member.token, body: { port: { fixed_ips: [{ subnet_id: s.id, ip_address: "10.30.0.60" }] } } });
  assert.deepEqual(upd2.body.port.fixed_ips, [{ subnet_id: s.id, ip_address: "10.30.0.60" }]);
  const again = await postPort(member.token, { network_id: net, fixed_ips: [{ ip_address: "10.30.0.50" }] });
  assert.equal(again.status, 201, "the address the update released is free again");
});

test("a full subnet: 409 IpAddressGenerationFailure", async () => {
  const net = await network(member.token);
  await subnet(member.token, { network_id: net, cidr: "10.33.0.0/29", enable_dhcp: false });
  for (let i = 0; i < 5; i++) assert.equal((await postPort(member.token, { network_id: net })).status, 201);
  assertNeutronError(await postPort(member.token, { network_id: net }), 409, "IpAddressGenerationFailure", new RegExp(`No more IP addresses available on network ${net}\\.`));
});

test("IPv4 plus IPv6: one address from each, SLAAC from the MAC, never by hand", async () => {
  const net = await network(member.token);
  const v4 = await subnet(member.token, { network_id: net, cidr: "10.34.0.0/24" });
  const slaac = await subnet(member.token, { network_id: net, cidr: "2001:db8:34::/64", ip_version: 6, ipv6_ra_mode: "slaac", ipv6_address_mode: "slaac" });
  const stateful = await subnet(member.token, { network_id: net, cidr: "2001:db8:35::/64", ip_version: 6, ipv6_ra_mode: "dhcpv6-stateful", ipv6_address_mode: "dhcpv6-stateful" });
  const mac = "fa:16:3e:12:34:56";
  const p = await postPort(admin, { network_id: net, mac_address: mac, tenant_id: member.projectId });
  assert.equal(p.status, 201, p.text);
  const bySubnet = Object.fromEntries(p.body.port.fixed_ips.map((f: FixedIp) => [f.subnet_id, f.ip_address]));
  assert.equal(Object.keys(bySubnet).length, 3);
  assert.match(bySubnet[v4.id], /^10\.34\.0\.\d+$/);
  assert.equal(bySubnet[slaac.id], "2001:db8:34:0:f816:3eff:fe12:3456");
  assert.match(bySubnet[stateful.id], /^2001:db8:35:0:/);
  assertNeutronError(
    await postPort(member.token, { network_id: net, fixed_ips: [{ subnet_id: slaac.id, ip_address: "2001:db8:34::99" }] }),
    400,
    "AllocationOnAutoAddressSubnet",
    /cannot be directly assigned to a port on subnet .* as the subnet is configured for automatic addresses/,
  );
  // Naming only the IPv4 subnet still gives the SLAAC address (auto-address subnets apply to all ports).
  const q = await postPort(member.token, { network_id: net, fixed_ips: [{ subnet_id: v4.id }] });
  assert.deepEqual(new Set(q.body.port.fixed_ips.map((f: FixedIp) => f.subnet_id)), new Set([v4.id, slaac.id]));
  // Router interfaces get no automatic address.
  const r = await postPort(admin, { network_id: net, device_owner: "network:router_interface", fixed_ips: [{ subnet_id: v4.id }] });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.body.port.fixed_ips.map((f: FixedIp) => f.subnet_id), [v4.id]);

  // A SLAAC subnet added later reaches the existing ports (router interfaces aside).
  const later = await subnet(member.token, { network_id: net, cidr: "2001:db8:36::/64", ip_version: 6, ipv6_ra_mode: "slaac", ipv6_address_mode: "slaac" });
  const after1 = await tc.request("GET", `${N}/ports/${p.body.port.id}`, { token: admin });
  assert.ok(after1.body.port.fixed_ips.some((f: FixedIp) => f.subnet_id === later.id && f.ip_address === "2001:db8:36:0:f816:3eff:fe12:3456"));
  const routerPort = await tc.request("GET", `${N}/ports/${r.body.port.id}`, { token: admin });
  assert.ok(!routerPort.body.port.fixed_ips.some((f: FixedIp) => f.subnet_id === later.id));

  // A SLAAC subnet can be deleted under ports: its addresses go with it.
  const del = await tc.request("DELETE", `${N}/subnets/${later.id}`, { token: member.token });
  assert.equal(del.status, 204, del.text);
  const after2 = await tc.request("GET", `${N}/ports/${p.body.port.id}`, { token: admin });
  assert.ok(!after2.body.port.fixed_ips.some((f: FixedIp) => f.subnet_id === later.id));
});

test("service_types: ports take addresses from the subnets meant for their device owner", async () => {
  const net = await network(admin);
  const forCompute = await subnet(admin, { network_id: net, cidr: "10.37.0.0/24", service_types: ["compute:nova"], enable_dhcp: false });
  const plain = await subnet(admin, { network_id: net, cidr: "10.37.1.0/24", enable_dhcp: false });
  assert.deepEqual(forCompute.service_types, ["compute:nova"]);
  const vm = await postPort(admin, { network_id: net, device_owner: "compute:nova" });
  assert.equal(vm.body.port.fixed_ips[0].subnet_id, forCompute.id);
  const other = await postPort(admin, { network_id: net });
  assert.equal(other.body.port.fixed_ips[0].subnet_id, plain.id);
  assertNeutronError(
    await postSubnet(admin, { network_id: net, cidr: "10.37.2.0/24", service_types: ["bogus"] }),
    400,
    "InvalidSubnetServiceType",
    /Subnet service type bogus does not correspond to a valid device owner/,
  );
  const mnet = await network(member.token);
  assert.equal((await postSubnet(member.token, { network_id: mnet, cidr: "10.37.3.0/24", service_types: ["compute:nova"] })).status, 403, "admin only");
});

// ---------------------------------------------------------------- delete and DHCP

test("delete: refused while ports use the subnet; the DHCP port goes with the last DHCP subnet", async () => {
  const net = await network(member.token);
  const a = await subnet(member.token, { network_id: net, cidr: "10.38.0.0/24" });
  const b = await subnet(member.token, { network_id: net, cidr: "10.38.1.0/24" });
  let dhcp = await dhcpPorts(net);
  assert.equal(dhcp.length, 1);
  assert.deepEqual(dhcp[0].fixed_ips.map((f: FixedIp) => f.ip_address).sort(), ["10.38.0.2", "10.38.1.2"]);
  const p = await postPort(member.token, { network_id: net, fixed_ips: [{ subnet_id: a.id }] });
  assertNeutronError(
    await tc.request("DELETE", `${N}/subnets/${a.id}`, { token: member.token }),
    409,
    "SubnetInUse",
    new RegExp(`Unable to complete operation on subnet ${a.id}: One or more ports have an IP allocation from this subnet\\.`),
  );
  assert.equal((await tc.request("DELETE", `${N}/ports/${p.body.port.id}`, { token: member.token })).status, 204);
  assert.equal((await tc.request("DELETE", `${N}/subnets/${a.id}`, { token: member.token })).status, 204);
  dhcp = await dhcpPorts(net);
  assert.deepEqual(dhcp[0].fixed_ips, [{ subnet_id: b.id, ip_address: "10.38.1.2" }]);
  // Disabling DHCP on the last DHCP subnet releases the port; enabling it again brings one back.
  const off = await tc.request("PUT", `${N}/subnets/${b.id}`, { token: member.token, body: { subnet: { enable_dhcp: false } } });
  assert.equal(off.status, 200, off.text);
  assert.deepEqual(await dhcpPorts(net), []);
  const on = await tc.request("PUT", `${N}/subnets/${b.id}`, { token: member.token, body: { subnet: { enable_dhcp: true } } });
  assert.equal(on.status, 200, on.text);
  assert.equal((await dhcpPorts(net)).length, 1);
  assert.equal((await tc.request("DELETE", `${N}/subnets/${b.id}`, { token: member.token })).status, 204);
  assert.deepEqual(await dhcpPorts(net), []);
  assertNeutronError(await tc.request("GET", `${N}/subnets/${b.id}`, { token: member.token }), 404, "SubnetNotFound");
  assertNeutronError(await tc.request("DELETE", `${N}/subnets/${b.id}`, { token: member.token }), 404, "SubnetNotFound");
  assert.equal((await tc.request("DELETE", `${N}/networks/${net}`, { token: member.token })).status, 204);
});

test("gateway update refused while a router port holds the old gateway address", async () => {
  const net = await network(admin);
  const s = await subnet(admin, { network_id: net, cidr: "10.39.0.0/24", enable_dhcp: false });
  const rp = await postPort(admin, { network_id: net, device_owner: "network:router_interface", fixed_ips: [{ subnet_id: s.id, ip_address: "10.39.0.1" }] });
  assert.equal(rp.status, 201, rp.text);
  assertNeutronError(
    await tc.request("PUT", `${N}/subnets/${s.id}`, { token: admin, body: { subnet: { gateway_ip: "10.39.0.254" } } }),
    409,
    "GatewayIpInUse",
    new RegExp(`Current gateway ip 10.39.0.1 already in use by port ${rp.body.port.id}\\. Unable to update\\.`),
  );
});

test("bulk create is all or nothing", async () => {
  const net = await network(member.token);
  const ok = await tc.request("POST", `${N}/subnets`, {
    token: member.token,
    body: { subnets: [{ network_id: net, ip_version: 4, cidr: "10.40.0.0/24" }, { network_id: net, ip_version: 6, cidr: "2001:db8:40::/64" }] },
  });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.subnets.length, 2);
  const bad = await tc.request("POST", `${N}/subnets`, {
    token: member.token,
    body: { subnets: [{ network_id: net, ip_version: 4, cidr: "10.40.1.0/24" }, { network_id: net, ip_version: 4, cidr: "10.40.1.128/25" }] },
  });
  assertNeutronError(bad, 400, "InvalidInput", /overlaps/);
  const list = await tc.request("GET", `${N}/subnets?network_id=${net}`, { token: member.token });
  assert.equal(list.body.subnets.length, 2);
});

// ---------------------------------------------------------------- concurrency and scale

test("32 concurrent port creates on a /27: no address twice, the extras get 409 IpAddressGenerationFailure", async () => {
  const net = await network(member.token);
  const s = await subnet(member.token, { network_id: net, cidr: "10.41.0.0/27", enable_dhcp: false });
  const size = 29; // .2-.30: the /27 less network, broadcast and gateway
  const results = await Promise.all(Array.from({ length: 32 }, () => postPort(member.token, { network_id: net })));
  const ok = results.filter((r) => r.status === 201);
  const failed = results.filter((r) => r.status !== 201);
  assert.equal(ok.length, size, results.map((r) => r.status).join(","));
  for (const f of failed) assertNeutronError(f, 409, "IpAddressGenerationFailure");
  const addrs = ok.map((r) => r.body.port.fixed_ips[0].ip_address as string);
  assert.equal(new Set(addrs).size, size, "no duplicate address");
  for (const r of ok) assert.equal(r.body.port.fixed_ips[0].subnet_id, s.id);
});

test("10,000 allocations on a /16 stay unique (IPAM directly; speed is measured by npm run bench)", async () => {
  const n = tc.cloud.network;
  const net = await network(admin);
  const s = await subnet(admin, { network_id: net, cidr: "10.42.0.0/16", enable_dhcp: false });
  const seen = new Set<string>();
  for (let batch = 0; batch < 10; batch++) {
    await n.core.write(async (trx) => {
      for (let i = 0; i < 1000; i++) {
        const id = `${batch}-${i}`;
        const ips = await n.ipam.allocate(trx, { id, network_id: net, mac_address: "fa:16:3e:00:00:01", device_owner: "compute:nova" }, undefined);
        assert.equal(ips.length, 1);
        assert.equal(ips[0]!.subnet_id, s.id);
        seen.add(ips[0]!.ip_address);
      }
    });
  }
  assert.equal(seen.size, 10000);
  await n.core.write((trx) => trx.deleteFrom("net_ip_allocation").where("subnet_id", "=", s.id).execute());
});

// ---------------------------------------------------------------- subnet pools

test("subnet pools: create, defaults, compaction, bounds, update, prefix operations, delete", async () => {
  const r = await tc.request("POST", `${N}/subnetpools`, {
    token: member.token,
    body: { subnetpool: { name: unique("sp"), prefixes: ["10.50.0.0/17", "10.50.128.0/17", "10.51.0.0/16"] } },
  });
  assert.equal(r.status, 201, r.text);
  const sp = r.body.subnetpool;
  assert.deepEqual(sp.prefixes, ["10.50.0.0/15"]);
  assert.equal(sp.ip_version, 4);
  assert.equal(sp.min_prefixlen, 8);
  assert.equal(sp.max_prefixlen, 32);
  assert.equal(sp.default_prefixlen, 8);
  assert.equal(sp.default_quota, null);
  assert.equal(sp.is_default, false);
  assert.equal(sp.shared, false);
  assert.equal(sp.address_scope_id, null);
  assert.equal(sp.project_id, member.projectId);
  assert.equal(sp.revision_number, 0);

  const c = (body: Record<string, unknown>) => tc.request("POST", `${N}/subnetpools`, { token: member.token, body: { subnetpool: { name: unique("sp"), ...body } } });
  assertNeutronError(await c({ prefixes: [] }), 400, "EmptySubnetPoolPrefixList");
  assertNeutronError(await c({ prefixes: ["10.0.0.0/8", "2001:db8::/32"] }), 400, "PrefixVersionMismatch");
  assertNeutronError(await c({ prefixes: ["10.0.0.0/8"], min_prefixlen: 24, max_prefixlen: 16 }), 400, "IllegalSubnetPoolPrefixBounds", /min_prefixlen=24, max_prefixlen=16/);
  assertNeutronError(await c({ prefixes: ["10.0.0.0/8"], max_prefixlen: 33 }), 400, "IllegalSubnetPoolPrefixBounds", /max_prefixlen=33, ip_version_max=32/);
  assertNeutronError(await c({ prefixes: ["10.0.0.0/8"], min_prefixlen: 16, default_prefixlen: 8 }), 400, "IllegalSubnetPoolPrefixBounds");
  assertNeutronError(await c({ prefixes: ["10.0.0.0/8"], min_prefixlen: -1 }), 400, "HTTPBadRequest", /should be non-negative/);
  assertNeutronError(await c({ prefixes: ["10.0.0.0/8"], name: "  " }), 400, "HTTPBadRequest", /Blank strings are not permitted/);
  assertNeutronError(await c({ prefixes: ["10.0.0.0/8"], shared: true }), 403, "PolicyNotAuthorized");
  assertNeutronError(await tc.request("POST", `${N}/subnetpools`, { token: member.token, body: { subnetpool: { prefixes: ["10.0.0.0/8"] } } }), 400, "HTTPBadRequest", /Required attribute 'name'/);

  const u = await tc.request("PUT", `${N}/subnetpools/${sp.id}`, { token: member.token, body: { subnetpool: { min_prefixlen: 20, default_prefixlen: 24, max_prefixlen: 28 } } });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.body.subnetpool.default_prefixlen, 24);
  assert.equal(u.body.subnetpool.revision_number, 1);
  assertNeutronError(
    await tc.request("PUT", `${N}/subnetpools/${sp.id}`, { token: member.token, body: { subnetpool: { prefixes: ["10.50.0.0/16"] } } }),
    400,
    "IllegalSubnetPoolPrefixUpdate",
    /Existing prefixes must be a subset of the new prefixes/,
  );
  const add = await tc.request("PUT", `${N}/subnetpools/${sp.id}/add_prefixes`, { token: member.token, body: { prefixes: ["10.52.0.0/16"] } });
  assert.equal(add.status, 200, add.text);
  assert.deepEqual(add.body, { prefixes: ["10.50.0.0/15", "10.52.0.0/16"] });
  const rm = await tc.request("PUT", `${N}/subnetpools/${sp.id}/remove_prefixes`, { token: member.token, body: { prefixes: ["10.51.0.0/16"] } });
  assert.equal(rm.status, 200, rm.text);
  assert.deepEqual(rm.body, { prefixes: ["10.50.0.0/16", "10.52.0.0/16"] });
  assertNeutronError(await tc.request("PUT", `${N}/subnetpools/${sp.id}/add_prefixes`, { token: member.token, body: { nope: 1 } }), 400, "HTTPBadRequest", /Request body contains invalid data/);
  const stranger = await persona(tc, "member");
  assertNeutronError(await tc.request("PUT", `${N}/subnetpools/${sp.id}/add_prefixes`, { token: stranger.token, body: { prefixes: ["10.60.0.0/16"] } }), 404, "SubnetPoolNotFound");

  // Subnets from the pool.
  const net = await network(member.token);
  const any = await subnet(member.token, { network_id: net, subnetpool_id: sp.id });
  assert.equal(any.cidr, "10.50.0.0/24");
  assert.equal(any.gateway_ip, "10.50.0.1");
  assert.deepEqual(any.allocation_pools, [{ start: "10.50.0.2", end: "10.50.0.254" }]);
  assert.equal(any.subnetpool_id, sp.id);
  const sized = await subnet(member.token, { network_id: net, subnetpool_id: sp.id, prefixlen: 26 });
  assert.equal(sized.cidr, "10.50.1.0/26");
  const specific = await subnet(member.token, { network_id: net, subnetpool_id: sp.id, cidr: "10.52.7.0/24" });
  assert.equal(specific.cidr, "10.52.7.0/24");
  assertNeutronError(await postSubnet(member.token, { network_id: net, subnetpool_id: sp.id, prefixlen: 30 }), 400, "MaxPrefixSubnetAllocationError");
  assertNeutronError(await postSubnet(member.token, { network_id: net, subnetpool_id: sp.id, prefixlen: 16 }), 400, "MinPrefixSubnetAllocationError");
  assertNeutronError(await postSubnet(member.token, { network_id: net, subnetpool_id: sp.id, ip_version: 6 }), 400, "BadRequest", /Cannot allocate IPv6 subnet from IPv4 subnet pool/);
  assertNeutronError(
    await postSubnet(member.token, { network_id: net, subnetpool_id: sp.id, allocation_pools: [{ start: "10.50.9.1", end: "10.50.9.5" }] }),
    400,
    "BadRequest",
    /allocation_pools allowed only for specific subnet requests/,
  );
  // Neutron answers a cidr the pool cannot give with a bare SubnetAllocationError (a 500); Stackbox: 409.
  assertNeutronError(await postSubnet(member.token, { network_id: net, subnetpool_id: sp.id, cidr: "192.168.0.0/24" }), 409, "SubnetAllocationError", /Cannot allocate requested subnet/);
  const net2 = await network(member.token);
  assert.equal((await subnet(member.token, { network_id: net2, cidr: "10.70.0.0/24" })).subnetpool_id, null);
  assertNeutronError(await postSubnet(member.token, { network_id: net2, subnetpool_id: sp.id }), 400, "NetworkSubnetPoolAffinityError");
  assertNeutronError(
    await tc.request("PUT", `${N}/subnetpools/${sp.id}/remove_prefixes`, { token: member.token, body: { prefixes: ["10.52.0.0/16"] } }),
    400,
    "IllegalSubnetPoolPrefixUpdate",
    /in use by a subnet/,
  );
  assertNeutronError(
    await tc.request("DELETE", `${N}/subnetpools/${sp.id}`, { token: member.token }),
    400,
    "SubnetPoolDeleteError",
    /Unable to delete subnet pool: Subnet pool has existing allocations\./,
  );
  for (const s of [any, sized, specific]) assert.equal((await tc.request("DELETE", `${N}/subnets/${s.id}`, { token: member.token })).status, 204);
  assert.equal((await tc.request("DELETE", `${N}/subnetpools/${sp.id}`, { token: member.token })).status, 204);
  assertNeutronError(await tc.request("GET", `${N}/subnetpools/${sp.id}`, { token: member.token }), 404, "SubnetPoolNotFound");
});

test("subnet pools: quotas, exhaustion, default pools and use_default_subnetpool", async () => {
  const small = await tc.request("POST", `${N}/subnetpools`, {
    token: member.token,
    body: { subnetpool: { name: unique("sp"), prefixes: ["10.80.0.0/23"], default_prefixlen: 24, default_quota: 256 } },
  });
  assert.equal(small.status, 201, small.text);
  const net = await network(member.token);
  await subnet(member.token, { network_id: net, subnetpool_id: small.body.subnetpool.id });
  assertNeutronError(await postSubnet(member.token, { network_id: net, subnetpool_id: small.body.subnetpool.id }), 409, "SubnetPoolQuotaExceeded");
  const tiny = await tc.request("POST", `${N}/subnetpools`, { token: member.token, body: { subnetpool: { name: unique("sp"), prefixes: ["10.81.0.0/24"], default_prefixlen: 24 } } });
  const net2 = await network(member.token);
  await subnet(member.token, { network_id: net2, subnetpool_id: tiny.body.subnetpool.id });
  assertNeutronError(
    await postSubnet(member.token, { network_id: net2, subnetpool_id: tiny.body.subnetpool.id }),
    409,
    "SubnetAllocationError",
    /Insufficient prefix space to allocate subnet size \/24/,
  );

  const net3 = await network(member.token);
  assertNeutronError(await postSubnet(member.token, { network_id: net3, use_default_subnetpool: true, ip_version: 6 }), 400, "BadRequest", /No default subnetpool found for IPv6/);
  const def = await tc.request("POST", `${N}/subnetpools`, {
    token: admin,
    body: { subnetpool: { name: unique("sp"), prefixes: ["2001:db8:8000::/48"], is_default: true, shared: true } },
  });
  assert.equal(def.status, 201, def.text);
  assert.equal(def.body.subnetpool.default_prefixlen, 64);
  assert.equal(def.body.subnetpool.shared, true);
  assertNeutronError(
    await tc.request("POST", `${N}/subnetpools`, { token: admin, body: { subnetpool: { name: unique("sp"), prefixes: ["2001:db8:9000::/48"], is_default: true } } }),
    400,
    "InvalidInput",
    /A default subnetpool for this IP family has already been set/,
  );
  const seen = await tc.request("GET", `${N}/subnetpools/${def.body.subnetpool.id}`, { token: member.token });
  assert.equal(seen.status, 200, "a shared pool is visible to every project");
  assert.equal(seen.body.subnetpool.shared, true);
  const v6 = await subnet(member.token, { network_id: net3, use_default_subnetpool: true, ip_version: 6, ipv6_ra_mode: "slaac", ipv6_address_mode: "slaac" });
  assert.equal(v6.cidr, "2001:db8:8000::/64");
  assert.equal(v6.gateway_ip, "2001:db8:8000::1", "pool subnets get network+1 in IPv6 too");
  assert.equal(v6.subnetpool_id, def.body.subnetpool.id);
  assertNeutronError(
    await postSubnet(member.token, { network_id: net3, use_default_subnetpool: true, subnetpool_id: def.body.subnetpool.id, ip_version: 6 }),
    400,
    "BadRequest",
    /subnetpool_id and use_default_subnetpool cannot both be specified/,
  );
  // The default is released so other tests are unaffected.
  await tc.request("DELETE", `${N}/subnets/${v6.id}`, { token: member.token });
  const un = await tc.request("PUT", `${N}/subnetpools/${def.body.subnetpool.id}`, { token: admin, body: { subnetpool: { is_default: false } } });
  assert.equal(un.status, 200, un.text);
});

// ---------------------------------------------------------------- address scopes

test("address scopes: CRUD, pools join them, prefixes unique within, in use, no unsharing", async () => {
  const r = await tc.request("POST", `${N}/address-scopes`, { token: member.token, body: { address_scope: { name: "as1", ip_version: 4 } } });
  assert.equal(r.status, 201, r.text);
  const as = r.body.address_scope;
  assert.deepEqual(Object.keys(as).sort(), ["id", "ip_version", "name", "project_id", "shared", "tenant_id"]);
  assert.equal(as.shared, false);
  assertNeutronError(await tc.request("POST", `${N}/address-scopes`, { token: member.token, body: { address_scope: { name: "x", ip_version: 5 } } }), 400, "HTTPBadRequest");
  assertNeutronError(await tc.request("POST", `${N}/address-scopes`, { token: member.token, body: { address_scope: { name: "x" } } }), 400, "HTTPBadRequest", /Required attribute 'ip_version'/);
  const pool = (prefixes: string[], scope: string) =>
    tc.request("POST", `${N}/subnetpools`, {
      token: member.token,
      body: { subnetpool: { name: unique("sp"), prefixes, address_scope_id: scope, ...(prefixes[0]?.includes(":") ? {} : { default_prefixlen: 24 }) } },
    });
  const p1 = await pool(["10.90.0.0/16"], as.id);
  assert.equal(p1.status, 201, p1.text);
  assert.equal(p1.body.subnetpool.address_scope_id, as.id);
  assertNeutronError(await pool(["10.90.128.0/17"], as.id), 409, "AddressScopePrefixConflict");
  assertNeutronError(await pool(["2001:db8:90::/48"], as.id), 400, "IllegalSubnetPoolIpVersionAssociationToAddressScope");
  assertNeutronError(await pool(["10.91.0.0/16"], "8f3e6a0c-2222-4b8c-9d0e-123456789abc"), 404, "AddressScopeNotFound");

  const net = await network(member.token);
  await subnet(member.token, { network_id: net, subnetpool_id: p1.body.subnetpool.id });
  const shown = await tc.request("GET", `${N}/networks/${net}`, { token: member.token });
  assert.equal(shown.body.network.ipv4_address_scope, as.id);
  assert.equal(shown.body.network.ipv6_address_scope, null);

  assertNeutronError(
    await tc.request("DELETE", `${N}/address-scopes/${as.id}`, { token: member.token }),
    409,
    "AddressScopeInUse",
    new RegExp(`Unable to complete operation on address scope ${as.id}\\. There are one or more subnet pools in use on the address scope\\.`),
  );
  const ren = await tc.request("PUT", `${N}/address-scopes/${as.id}`, { token: member.token, body: { address_scope: { name: "as1b" } } });
  assert.equal(ren.status, 200, ren.text);
  assert.equal(ren.body.address_scope.name, "as1b");
  assert.equal((await tc.request("PUT", `${N}/address-scopes/${as.id}`, { token: member.token, body: { address_scope: { shared: true } } })).status, 403);
  const sh = await tc.request("PUT", `${N}/address-scopes/${as.id}`, { token: admin, body: { address_scope: { shared: true } } });
  assert.equal(sh.status, 200, sh.text);
  assert.equal(sh.body.address_scope.shared, true);
  assertNeutronError(
    await tc.request("PUT", `${N}/address-scopes/${as.id}`, { token: admin, body: { address_scope: { shared: false } } }),
    400,
    "AddressScopeUpdateError",
    /Shared address scope can't be unshared/,
  );
  const other = await persona(tc, "member");
  assert.equal((await tc.request("GET", `${N}/address-scopes/${as.id}`, { token: other.token })).status, 200, "shared scopes are visible");

  const scope6 = await tc.request("POST", `${N}/address-scopes`, { token: member.token, body: { address_scope: { name: "as6", ip_version: 6 } } });
  assert.equal((await tc.request("DELETE", `${N}/address-scopes/${scope6.body.address_scope.id}`, { token: member.token })).status, 204);
  assertNeutronError(await tc.request("GET", `${N}/address-scopes/${scope6.body.address_scope.id}`, { token: member.token }), 404, "AddressScopeNotFound");
});

test("extensions: subnet allocation, pools and scopes are advertised", async () => {
  const r = await tc.request("GET", `${N}/extensions`, { token: member.token });
  const aliases = new Set(r.body.extensions.map((e: Body) => e.alias));
  for (const a of ["subnet_allocation", "default-subnetpools", "subnetpool-prefix-ops", "address-scope", "subnet-service-types"]) {
    assert.ok(aliases.has(a), a);
  }
});
