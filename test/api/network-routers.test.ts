/**
 * Routers, floating IPs and port forwardings: the gateway port and its policies, interfaces
 * by subnet and by port with Neutron's conflicts, extra routes, DVR/HA flags, floating IP
 * allocation and association (the reachability rule), port details, port forwardings under
 * their parent's ownership, floating IP pools, and what other projects get (404).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { assertNeutronError, persona, startTestCloud, unique } from "../support/cloud.js";
import { networkApi } from "../support/network.js";
import type { Body } from "../support/network.js";

const tc = await startTestCloud();
after(() => tc.close());

const { get, post, put, del, ok } = networkApi(tc);

async function network(token: string, extra: Record<string, unknown> = {}): Promise<Body> {
  return (await ok(post(token, "/networks", { network: { name: unique("net"), ...extra } }), 201)).network;
}

async function subnet(token: string, networkId: string, cidr: string, extra: Record<string, unknown> = {}): Promise<Body> {
  const body = { subnet: { network_id: networkId, cidr, ip_version: cidr.includes(":") ? 6 : 4, name: unique("sub"), ...extra } };
  return (await ok(post(token, "/subnets", body), 201)).subnet;
}

async function port(token: string, body: Record<string, unknown>): Promise<Body> {
  return (await ok(post(token, "/ports", { port: body }), 201)).port;
}

async function router(token: string, body: Record<string, unknown> = {}): Promise<Body> {
  return (await ok(post(token, "/routers", { router: { name: unique("r"), ...body } }), 201)).router;
}

let octet = 0;
/** A fresh private /24 per call, so routers' overlap rules never meet another test's subnet. */
function cidr(): string {
  octet += 1;
  return `10.${100 + Math.floor(octet / 250)}.${octet % 250}.0/24`;
}

const admin = await tc.adminToken();
// An external network of our own, with a roomy IPv4 subnet (the bootstrap one is left alone).
const ext = await network(admin, { "router:external": true });
const extSubnet = await subnet(admin, ext.id, "172.30.0.0/22", { enable_dhcp: false });

/** A member's network with one subnet, attached to a router with a gateway on `ext`. */
async function routedSubnet(token: string): Promise<{ net: Body; sub: Body; router: Body }> {
  const net = await network(token);
  const sub = await subnet(token, net.id, cidr());
  const r = await router(token, { external_gateway_info: { network_id: ext.id } });
  await ok(put(token, `/routers/${r.id}/add_router_interface`, { subnet_id: sub.id }));
  return { net, sub, router: r };
}

test("router CRUD: gateway port, defaults, admin-only attributes, update, clear, delete", async () => {
  const m = await persona(tc, "member");
  const r = await router(m.token, { external_gateway_info: { network_id: ext.id } });
  assert.equal(r.status, "ACTIVE");
  assert.equal(r.admin_state_up, true);
  assert.equal(r.project_id, m.projectId);
  assert.equal(r.tenant_id, m.projectId);
  assert.deepEqual(r.routes, []);
  assert.deepEqual(r.availability_zone_hints, []);
  assert.deepEqual(r.availability_zones, ["nova"]);
  assert.equal(r.description, "");
  assert.deepEqual(r.tags, []);
  assert.equal(r.distributed, undefined, "distributed is admin-only");
  assert.equal(r.ha, undefined, "ha is admin-only");
  assert.equal(r.gw_port_id, undefined);
  assert.equal(r.external_gateway_info.network_id, ext.id);
  assert.equal(r.external_gateway_info.enable_snat, true);
  assert.equal(r.external_gateway_info.external_fixed_ips.length, 1);
  assert.equal(r.external_gateway_info.external_fixed_ips[0].subnet_id, extSubnet.id);
  assert.match(r.external_gateway_info.external_fixed_ips[0].ip_address, /^172\.30\./);

  const seenByAdmin = (await ok(get(admin, `/routers/${r.id}`))).router;
  assert.equal(seenByAdmin.distributed, false);
  assert.equal(seenByAdmin.ha, false);

  const gw = (await ok(get(admin, `/ports?device_id=${r.id}&device_owner=network:router_gateway`))).ports;
  assert.equal(gw.length, 1);
  assert.equal(gw[0].project_id, "", "the gateway port belongs to no project");
  assert.equal(gw[0].network_id, ext.id);
  assert.deepEqual(gw[0].fixed_ips, r.external_gateway_info.external_fixed_ips);

  const listed = (await ok(get(m.token, "/routers"))).routers;
  assert.deepEqual(listed.map((x: Body) => x.id), [r.id]);
  const filtered = (await ok(get(m.token, `/routers?name=${r.name}&fields=id&fields=name`))).routers;
  assert.deepEqual(filtered, [{ id: r.id, name: r.name }]);

  const u = (await ok(put(m.token, `/routers/${r.id}`, { router: { name: "renamed", admin_state_up: false } }))).router;
  assert.equal(u.name, "renamed");
  assert.equal(u.admin_state_up, false);
  assert.equal(u.revision_number, r.revision_number + 1);
  assert.equal(u.external_gateway_info.network_id, ext.id, "the gateway stays when not in the request");

  const cleared = (await ok(put(m.token, `/routers/${r.id}`, { router: { external_gateway_info: {} } }))).router;
  assert.equal(cleared.external_gateway_info, null);
  assert.equal((await ok(get(admin, `/ports?device_id=${r.id}`))).ports.length, 0, "the gateway port is gone");

  const again = (await ok(put(m.token, `/routers/${r.id}`, { router: { external_gateway_info: { network_id: ext.id } } }))).router;
  assert.equal(again.external_gateway_info.network_id, ext.id);
  const nulled = (await ok(put(m.token, `/routers/${r.id}`, { router: { external_gateway_info: null } }))).router;
  assert.equal(nulled.external_gateway_info, null);

  assert.equal((await del(m.token, `/routers/${r.id}`)).status, 204);
  assertNeutronError(await get(m.token, `/routers/${r.id}`), 404, "RouterNotFound", `Router ${r.id} could not be found`);
  assertNeutronError(await del(m.token, `/routers/${r.id}`), 404, "RouterNotFound");
});

test("gateway rules: external networks only, admin-only sub-attributes, fixed IPs and SNAT for admins", async () => {
  const m = await persona(tc, "member");
  const own = await network(m.token);
  await subnet(m.token, own.id, cidr());
  const r = await router(m.token);
  assert.equal(r.external_gateway_info, null);

  assertNeutronError(
    await put(m.token, `/routers/${r.id}`, { router: { external_gateway_info: { network_id: own.id } } }),
    400,
    "BadRequest",
    `Bad router request: Network ${own.id} is not an external network.`,
  );
  assertNeutronError(await put(m.token, `/routers/${r.id}`, { router: { external_gateway_info: { network_id: r.id } } }), 404, "NetworkNotFound");
  assertNeutronError(await put(m.token, `/routers/${r.id}`, { router: { external_gateway_info: "x" } }), 400, undefined, /'x' is not a dictionary/);
  assertNeutronError(
    await put(m.token, `/routers/${r.id}`, { router: { external_gateway_info: { enable_snat: false } } }),
    400,
    undefined,
    /Expected keys: \{'network_id'\}/,
  );
  assertNeutronError(await put(m.token, `/routers/${r.id}`, { router: { external_gateway_info: { network_id: ext.id, bogus: 1 } } }), 400, undefined, /Unexpected keys supplied: bogus/);

  // The policy engine checks each sub-attribute the request sets.
  for (const extra of [{ enable_snat: false }, { external_fixed_ips: [{ subnet_id: extSubnet.id }] }]) {
    const res = await put(m.token, `/routers/${r.id}`, { router: { external_gateway_info: { network_id: ext.id, ...extra } } });
    assertNeutronError(res, 403, "PolicyNotAuthorized");
    assert.match(res.body.NeutronError.message, new RegExp(`update_router:external_gateway_info:${Object.keys(extra)[0]}`));
  }
  assertNeutronError(await post(m.token, "/routers", { router: { external_gateway_info: { network_id: ext.id, enable_snat: true } } }), 403, "PolicyNotAuthorized");
  for (const flag of ["distributed", "ha"]) {
    assertNeutronError(await post(m.token, "/routers", { router: { [flag]: false } }), 403, "PolicyNotAuthorized");
    assertNeutronError(await put(m.token, `/routers/${r.id}`, { router: { [flag]: true } }), 403, "PolicyNotAuthorized");
  }
  assertNeutronError(await post(m.token, "/routers", { router: { routes: [] } }), 400, undefined, "Attribute 'routes' not allowed in POST");

  // Admins choose SNAT and addresses.
  const a = await router(admin, { external_gateway_info: { network_id: ext.id, enable_snat: false, external_fixed_ips: [{ ip_address: "172.30.1.10" }] } });
  assert.equal(a.external_gateway_info.enable_snat, false);
  assert.deepEqual(a.external_gateway_info.external_fixed_ips, [{ subnet_id: extSubnet.id, ip_address: "172.30.1.10" }]);
  assertNeutronError(
    await post(admin, "/routers", { router: { external_gateway_info: { network_id: ext.id, external_fixed_ips: [{ ip_address: "172.30.1.10" }] } } }),
    409,
    "IpAddressAlreadyAllocated",
  );
  assertNeutronError(
    await post(admin, "/routers", { router: { external_gateway_info: { network_id: ext.id, external_fixed_ips: [{ ip_address: extSubnet.gateway_ip }] } } }),
    400,
    "BadRequest",
    `Bad router request: External IP ${extSubnet.gateway_ip} is the same as the gateway IP.`,
  );
  // Same network, new address: the gateway port keeps its place and changes its address.
  const moved = (
    await ok(put(admin, `/routers/${a.id}`, { router: { external_gateway_info: { network_id: ext.id, external_fixed_ips: [{ ip_address: "172.30.1.11" }] } } }))
  ).router;
  assert.deepEqual(moved.external_gateway_info.external_fixed_ips, [{ subnet_id: extSubnet.id, ip_address: "172.30.1.11" }]);
  assert.equal(moved.external_gateway_info.enable_snat, true, "enable_snat falls back to the default when not given");
  // ports of a router are not deleted through the port API
  const gw = (await ok(get(admin, `/ports?device_id=${a.id}`))).ports[0];
  assertNeutronError(await del(admin, `/ports/${gw.id}`), 409, "ServicePortInUse");
  assert.equal((await del(admin, `/routers/${a.id}`)).status, 204);
  assert.equal((await ok(get(admin, `/ports?device_id=${a.id}`))).ports.length, 0);
});

test("interfaces by subnet: gateway IP, conflicts, overlap, in use, removal", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const c = cidr();
  const sub = await subnet(m.token, net.id, c);
  const r = await router(m.token);

  const noGw = await subnet(m.token, (await network(m.token)).id, cidr(), { gateway_ip: null });
  assertNeutronError(
    await put(m.token, `/routers/${r.id}/add_router_interface`, { subnet_id: noGw.id }),
    400,
    "BadRequest",
    "Bad router request: Subnet for router interface must have a gateway IP.",
  );
  assertNeutronError(await put(m.token, `/routers/${r.id}/add_router_interface`, {}), 400, "BadRequest", "Bad router request: Either subnet_id or port_id must be specified.");
  assertNeutronError(
    await put(m.token, `/routers/${r.id}/add_router_interface`, { subnet_id: sub.id, port_id: sub.id }),
    400,
    "BadRequest",
    "Bad router request: Cannot specify both subnet-id and port-id.",
  );
  assertNeutronError(await put(m.token, `/routers/${r.id}/add_router_interface`, { subnet_id: "nope" }), 400, "BadRequest", "Bad router request: 'nope' is not a valid UUID.");

  const info = await ok(put(m.token, `/routers/${r.id}/add_router_interface`, { subnet_id: sub.id }));
  assert.deepEqual(Object.keys(info).sort(), ["id", "network_id", "port_id", "project_id", "subnet_id", "subnet_ids", "tenant_id"]);
  assert.equal(info.id, r.id);
  assert.equal(info.tenant_id, m.projectId);
  assert.equal(info.subnet_id, sub.id);
  assert.deepEqual(info.subnet_ids, [sub.id]);
  assert.equal(info.network_id, net.id);
  const p = (await ok(get(m.token, `/ports/${info.port_id}`))).port;
  assert.equal(p.device_id, r.id);
  assert.equal(p.device_owner, "network:router_interface");
  assert.deepEqual(p.fixed_ips, [{ subnet_id: sub.id, ip_address: sub.gateway_ip }]);
  assert.equal(p.project_id, m.projectId);

  assertNeutronError(
    await put(m.token, `/routers/${r.id}/add_router_interface`, { subnet_id: sub.id }),
    400,
    "BadRequest",
    `Bad router request: Router already has a port on subnet ${sub.id}.`,
  );
  const twin = await subnet(m.token, (await network(m.token)).id, c);
  assertNeutronError(
    await put(m.token, `/routers/${r.id}/add_router_interface`, { subnet_id: twin.id }),
    400,
    "BadRequest",
    `Bad router request: Cidr ${c} of subnet ${twin.id} overlaps with cidr ${c} of subnet ${sub.id}.`,
  );

  assertNeutronError(await del(m.token, `/routers/${r.id}`), 409, "RouterInUse", `Router ${r.id} has ports still attached: ${info.port_id}`);
  assertNeutronError(await del(m.token, `/ports/${info.port_id}`), 409, "ServicePortInUse");

  const removed = await ok(put(m.token, `/routers/${r.id}/remove_router_interface`, { subnet_id: sub.id }));
  assert.equal(removed.port_id, info.port_id);
  assert.equal(removed.subnet_id, sub.id);
  assertNeutronError(await get(m.token, `/ports/${info.port_id}`), 404, "PortNotFound");
  assertNeutronError(
    await put(m.token, `/routers/${r.id}/remove_router_interface`, { subnet_id: sub.id }),
    404,
    "RouterInterfaceNotFoundForSubnet",
    `Router ${r.id} has no interface on subnet ${sub.id}`,
  );
  assert.equal((await del(m.token, `/routers/${r.id}`)).status, 204);
});

test("interfaces by port: free ports with addresses only, PortInUse, removal by port", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const sub = await subnet(m.token, net.id, cidr());
  const r = await router(m.token);
  const r2 = await router(m.token);
  const p = await port(m.token, { network_id: net.id });

  const info = await ok(put(m.token, `/routers/${r.id}/add_router_interface`, { port_id: p.id }));
  assert.equal(info.port_id, p.id);
  assert.equal(info.subnet_id, sub.id);
  const attached = (await ok(get(m.token, `/ports/${p.id}`))).port;
  assert.equal(attached.device_id, r.id);
  assert.equal(attached.device_owner, "network:router_interface");
  assertNeutronError(
    await put(m.token, `/routers/${r2.id}/add_router_interface`, { port_id: p.id }),
    409,
    "PortInUse",
    `Unable to complete operation on port ${p.id} for network ${net.id}. Port already has an attached device ${r.id}.`,
  );

  const bare = await port(m.token, { network_id: net.id, fixed_ips: [] });
  assertNeutronError(
    await put(m.token, `/routers/${r2.id}/add_router_interface`, { port_id: bare.id }),
    400,
    "BadRequest",
    "Bad router request: Router port must have at least one fixed IP.",
  );
  const other = await persona(tc, "member");
  const foreign = await port(other.token, { network_id: (await network(other.token)).id });
  assertNeutronError(await put(m.token, `/routers/${r2.id}/add_router_interface`, { port_id: foreign.id }), 404, "PortNotFound");

  assertNeutronError(
    await put(m.token, `/routers/${r.id}/remove_router_interface`, { port_id: bare.id }),
    404,
    "RouterInterfaceNotFound",
    `Router ${r.id} does not have an interface with id ${bare.id}`,
  );
  assertNeutronError(
    await put(m.token, `/routers/${r.id}/remove_router_interface`, { port_id: p.id, subnet_id: r.id }),
    400,
    "SubnetMismatchForPort",
  );
  const removed = await ok(put(m.token, `/routers/${r.id}/remove_router_interface`, { port_id: p.id }));
  assert.deepEqual(removed.subnet_ids, [sub.id]);
  assertNeutronError(await get(m.token, `/ports/${p.id}`), 404, "PortNotFound", undefined);
});

test("other projects get 404; readers may look but not change", async () => {
  const m = await persona(tc, "member");
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  const other = await persona(tc, "member");
  const net = await network(m.token);
  const sub = await subnet(m.token, net.id, cidr());
  const r = await router(m.token);

  assertNeutronError(await get(other.token, `/routers/${r.id}`), 404, "RouterNotFound");
  assert.equal((await ok(get(other.token, "/routers"))).routers.some((x: Body) => x.id === r.id), false);
  assertNeutronError(await put(other.token, `/routers/${r.id}`, { router: { name: "x" } }), 404, "RouterNotFound");
  assertNeutronError(await del(other.token, `/routers/${r.id}`), 404, "RouterNotFound");
  assertNeutronError(await put(other.token, `/routers/${r.id}/add_router_interface`, { subnet_id: sub.id }), 404, "RouterNotFound");
  // another project's subnet is not found, either
  const r3 = await router(other.token);
  assertNeutronError(await put(other.token, `/routers/${r3.id}/add_router_interface`, { subnet_id: sub.id }), 404, "SubnetNotFound");

  assert.equal((await ok(get(reader.token, `/routers/${r.id}`))).router.id, r.id);
  assertNeutronError(await put(reader.token, `/routers/${r.id}/add_router_interface`, { subnet_id: sub.id }), 403, "PolicyNotAuthorized");
  assertNeutronError(await put(reader.token, `/routers/${r.id}`, { router: { name: "x" } }), 403, "PolicyNotAuthorized");
  assertNeutronError(await post(reader.token, "/routers", { router: { name: "x" } }), 403, "PolicyNotAuthorized");
});

test("extra routes: nexthops on connected subnets, atomic add/remove, interface in use by a route", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const sub = await subnet(m.token, net.id, cidr());
  const r = await router(m.token);
  await ok(put(m.token, `/routers/${r.id}/add_router_interface`, { subnet_id: sub.id }));
  const base = sub.cidr.replace(/\.0\/24$/, "");
  const routes = [
    { destination: "192.168.1.0/24", nexthop: `${base}.5` },
    { destination: "192.168.0.0/24", nexthop: `${base}.6` },
  ];
  const u = (await ok(put(m.token, `/routers/${r.id}`, { router: { routes } }))).router;
  assert.deepEqual(u.routes, [routes[1], routes[0]]);

  assertNeutronError(
    await put(m.token, `/routers/${r.id}`, { router: { routes: [{ destination: "192.168.2.0/24", nexthop: "10.255.255.1" }] } }),
    400,
    "InvalidRoutes",
    "Invalid format for routes: [{'destination': '192.168.2.0/24', 'nexthop': '10.255.255.1'}], the nexthop is not connected with router",
  );
  assertNeutronError(
    await put(m.token, `/routers/${r.id}`, { router: { routes: [{ destination: "192.168.2.0/24", nexthop: sub.gateway_ip }] } }),
    400,
    "InvalidRoutes",
    /the nexthop is used by router$/,
  );
  assertNeutronError(await put(m.token, `/routers/${r.id}`, { router: { routes: [{ destination: "192.168.2.1/24", nexthop: `${base}.5` }] } }), 400);

  const added = (await ok(put(m.token, `/routers/${r.id}/add_extraroutes`, { router: { routes: [{ destination: "192.168.9.0/24", nexthop: `${base}.7` }, routes[0]] } }))).router;
  assert.equal(added.routes.length, 3);
  assert.equal(added.distributed, undefined, "the action's answer is filtered by policy too");
  const left = (await ok(put(m.token, `/routers/${r.id}/remove_extraroutes`, { router: { routes: [routes[0], { destination: "10.9.9.0/24", nexthop: `${base}.9` }] } }))).router;
  assert.deepEqual(
    left.routes.map((x: Body) => x.destination),
    ["192.168.0.0/24", "192.168.9.0/24"],
  );

  assertNeutronError(
    await put(m.token, `/routers/${r.id}/remove_router_interface`, { subnet_id: sub.id }),
    409,
    "RouterInterfaceInUseByRoute",
    `Router interface for subnet ${sub.id} on router ${r.id} cannot be deleted, as it is required by one or more routes.`,
  );
  const none = (await ok(put(m.token, `/routers/${r.id}`, { router: { routes: null } }))).router;
  assert.deepEqual(none.routes, []);
  await ok(put(m.token, `/routers/${r.id}/remove_router_interface`, { subnet_id: sub.id }));
});

test("floating IPs: allocate, associate through a router, conflicts, disassociate, port deletion", async () => {
  const m = await persona(tc, "member");
  const other = await persona(tc, "member");
  const priv = await network(m.token);
  assertNeutronError(
    await post(m.token, "/floatingips", { floatingip: { floating_network_id: priv.id } }),
    400,
    "BadRequest",
    `Bad floatingip request: Network ${priv.id} is not a valid external network.`,
  );

  const fip = (await ok(post(m.token, "/floatingips", { floatingip: { floating_network_id: ext.id, description: "d" } }), 201)).floatingip;
  assert.equal(fip.status, "DOWN");
  assert.equal(fip.port_id, null);
  assert.equal(fip.fixed_ip_address, null);
  assert.equal(fip.router_id, null);
  assert.equal(fip.port_details, null);
  assert.deepEqual(fip.port_forwardings, []);
  assert.equal(fip.project_id, m.projectId);
  assert.equal(fip.description, "d");
  assert.equal(fip.subnet_id, undefined);
  assert.equal(fip.floating_port_id, undefined);
  assert.match(fip.floating_ip_address, /^172\.30\./);
  const fport = (await ok(get(admin, `/ports?device_id=${fip.id}`))).ports;
  assert.equal(fport.length, 1);
  assert.equal(fport[0].device_owner, "network:floatingip");
  assert.equal(fport[0].project_id, "");
  assert.equal(fport[0].fixed_ips[0].ip_address, fip.floating_ip_address);

  // A port on a subnet no router connects to the external network.
  const lonely = await network(m.token);
  const lonelySub = await subnet(m.token, lonely.id, cidr());
  const lp = await port(m.token, { network_id: lonely.id });
  assertNeutronError(
    await put(m.token, `/floatingips/${fip.id}`, { floatingip: { port_id: lp.id } }),
    404,
    "ExternalGatewayForFloatingIPNotFound",
    `External network ${ext.id} is not reachable from subnet ${lonelySub.id}.  Therefore, cannot associate Port ${lp.id} with a Floating IP.`,
  );

  const { net, router: r, sub } = await routedSubnet(m.token);
  const vm = await port(m.token, { network_id: net.id, name: "vm", device_owner: "compute:nova", device_id: "x" });
  const vmIp = vm.fixed_ips[0].ip_address;
  assertNeutronError(
    await put(m.token, `/floatingips/${fip.id}`, { floatingip: { port_id: vm.id, fixed_ip_address: "10.255.0.1" } }),
    400,
    "BadRequest",
    `Bad floatingip request: Port ${vm.id} does not have fixed ip 10.255.0.1.`,
  );
  assertNeutronError(
    await put(m.token, `/floatingips/${fip.id}`, { floatingip: { fixed_ip_address: vmIp } }),
    400,
    "BadRequest",
    "Bad floatingip request: fixed_ip_address cannot be specified without a port_id.",
  );
  const assoc = (await ok(put(m.token, `/floatingips/${fip.id}`, { floatingip: { port_id: vm.id } }))).floatingip;
  assert.equal(assoc.port_id, vm.id);
  assert.equal(assoc.fixed_ip_address, vmIp);
  assert.equal(assoc.router_id, r.id);
  assert.equal(assoc.status, "ACTIVE");
  assert.deepEqual(assoc.port_details, {
    name: "vm",
    network_id: net.id,
    mac_address: vm.mac_address,
    admin_state_up: true,
    status: vm.status,
    device_id: "x",
    device_owner: "compute:nova",
  });
  assert.equal(assoc.revision_number, fip.revision_number + 1);

  // One floating IP per fixed IP and external network.
  const second = await post(m.token, "/floatingips", { floatingip: { floating_network_id: ext.id, port_id: vm.id } });
  assertNeutronError(second, 409, "FloatingIPPortAlreadyAssociated", new RegExp(`with port ${vm.id} using fixed IP ${vmIp.replaceAll(".", "\\.")}, as that fixed IP already has a floating IP on external network ${ext.id}\\.$`));
  // ...and the refused create left no address behind.
  assert.equal((await ok(get(m.token, "/floatingips"))).floatingips.length, 1);

  // The router is needed while the floating IP uses it.
  assertNeutronError(
    await put(m.token, `/routers/${r.id}/remove_router_interface`, { subnet_id: sub.id }),
    409,
    "RouterInterfaceInUseByFloatingIP",
    `Router interface for subnet ${sub.id} on router ${r.id} cannot be deleted, as it is required by one or more floating IPs.`,
  );
  assertNeutronError(
    await put(m.token, `/routers/${r.id}`, { router: { external_gateway_info: {} } }),
    409,
    "RouterExternalGatewayInUseByFloatingIp",
    `Gateway cannot be updated for router ${r.id}, since a gateway to external network ${ext.id} is required by one or more floating IPs.`,
  );

  // Filters.
  const byPort = (await ok(get(m.token, `/floatingips?port_id=${vm.id}`))).floatingips;
  assert.deepEqual(byPort.map((f: Body) => f.id), [fip.id]);
  assert.equal((await ok(get(m.token, `/floatingips?router_id=${r.id}&status=ACTIVE`))).floatingips.length, 1);
  assert.equal((await ok(get(m.token, `/floatingips?floating_ip_address=${fip.floating_ip_address}`))).floatingips.length, 1);
  assert.equal((await ok(get(m.token, `/floatingips?fixed_ip_address=${vmIp}`))).floatingips.length, 1);
  assert.equal((await ok(get(m.token, "/floatingips?status=DOWN"))).floatingips.length, 0);
  assertNeutronError(await get(m.token, "/floatingips?subnet_id=x"), 400);

  // Other projects do not see it.
  assertNeutronError(await get(other.token, `/floatingips/${fip.id}`), 404, "FloatingIPNotFound", `Floating IP ${fip.id} could not be found`);
  assert.equal((await ok(get(other.token, "/floatingips"))).floatingips.length, 0);
  assertNeutronError(await put(other.token, `/floatingips/${fip.id}`, { floatingip: { port_id: null } }), 404, "FloatingIPNotFound");
  // ...nor may they associate their floating IP with this project's port.
  const theirs = (await ok(post(other.token, "/floatingips", { floatingip: { floating_network_id: ext.id } }), 201)).floatingip;
  assertNeutronError(await put(other.token, `/floatingips/${theirs.id}`, { floatingip: { port_id: vm.id } }), 404, "PortNotFound");

  const dis = (await ok(put(m.token, `/floatingips/${fip.id}`, { floatingip: { port_id: null } }))).floatingip;
  assert.equal(dis.port_id, null);
  assert.equal(dis.fixed_ip_address, null);
  assert.equal(dis.router_id, null);
  assert.equal(dis.status, "DOWN");
  assert.equal(dis.port_details, null);

  // Deleting the port disassociates.
  await ok(put(m.token, `/floatingips/${fip.id}`, { floatingip: { port_id: vm.id, fixed_ip_address: vmIp } }));
  assert.equal((await del(m.token, `/ports/${vm.id}`)).status, 204);
  const after = (await ok(get(m.token, `/floatingips/${fip.id}`))).floatingip;
  assert.equal(after.port_id, null);
  assert.equal(after.router_id, null);
  assert.equal(after.fixed_ip_address, null);

  // The floating IP's port is not the port API's to delete; deleting the floating IP frees it.
  assertNeutronError(await del(admin, `/ports/${fport[0].id}`), 409, "ServicePortInUse");
  assert.equal((await del(m.token, `/floatingips/${fip.id}`)).status, 204);
  assertNeutronError(await get(admin, `/ports/${fport[0].id}`), 404, "PortNotFound");
  assertNeutronError(await get(m.token, `/floatingips/${fip.id}`), 404, "FloatingIPNotFound");
});

test("floating IPs: chosen addresses are admin-only, one holder per address, quota", async () => {
  const m = await persona(tc, "member");
  assertNeutronError(
    await post(m.token, "/floatingips", { floatingip: { floating_network_id: ext.id, floating_ip_address: "172.30.2.50" } }),
    403,
    "PolicyNotAuthorized",
  );
  const chosen = (
    await ok(post(admin, "/floatingips", { floatingip: { floating_network_id: ext.id, floating_ip_address: "172.30.2.50", project_id: m.projectId } }), 201)
  ).floatingip;
  assert.equal(chosen.floating_ip_address, "172.30.2.50");
  assert.equal(chosen.project_id, m.projectId);
  assert.equal((await ok(get(m.token, `/floatingips/${chosen.id}`))).floatingip.id, chosen.id, "created for the member's project");
  assertNeutronError(
    await post(admin, "/floatingips", { floatingip: { floating_network_id: ext.id, floating_ip_address: "172.30.2.50" } }),
    409,
    "IpAddressAlreadyAllocated",
  );
  assert.equal((await del(m.token, `/floatingips/${chosen.id}`)).status, 204);
  const reused = (await ok(post(admin, "/floatingips", { floatingip: { floating_network_id: ext.id, floating_ip_address: "172.30.2.50" } }), 201)).floatingip;
  assert.equal(reused.floating_ip_address, "172.30.2.50", "a deleted floating IP frees its address");
  assert.equal((await del(admin, `/floatingips/${reused.id}`)).status, 204);

  await ok(put(admin, `/quotas/${m.projectId}`, { quota: { floatingip: 1 } }));
  await ok(post(m.token, "/floatingips", { floatingip: { floating_network_id: ext.id } }), 201);
  assertNeutronError(await post(m.token, "/floatingips", { floatingip: { floating_network_id: ext.id } }), 409, "OverQuota");
});

test("port forwardings: under a floating IP, collisions, reachability, parent ownership", async () => {
  const m = await persona(tc, "member");
  const other = await persona(tc, "member");
  const { net, router: r } = await routedSubnet(m.token);
  const vm = await port(m.token, { network_id: net.id });
  const vmIp = vm.fixed_ips[0].ip_address;
  const fip = (await ok(post(m.token, "/floatingips", { floatingip: { floating_network_id: ext.id } }), 201)).floatingip;
  const base = `/floatingips/${fip.id}/port_forwardings`;
  const pfBody = { protocol: "tcp", internal_ip_address: vmIp, internal_port: 22, external_port: 2222, internal_port_id: vm.id, description: "ssh" };

  const pf = (await ok(post(m.token, base, { port_forwarding: pfBody }), 201)).port_forwarding;
  assert.deepEqual(Object.keys(pf).sort(), [
    "description",
    "external_port",
    "external_port_range",
    "id",
    "internal_ip_address",
    "internal_port",
    "internal_port_id",
    "internal_port_range",
    "protocol",
  ]);
  assert.equal(pf.external_port, 2222);
  assert.equal(pf.external_port_range, "2222:2222");
  assert.equal(pf.internal_port_range, "22:22");
  const withPf = (await ok(get(m.token, `/floatingips/${fip.id}`))).floatingip;
  assert.equal(withPf.router_id, r.id, "the floating IP now goes through the router");
  assert.equal(withPf.port_id, null);
  assert.deepEqual(withPf.port_forwardings, [
    { id: pf.id, internal_ip_address: vmIp, protocol: "tcp", internal_port: 22, external_port: 2222, internal_port_id: vm.id },
  ]);

  assertNeutronError(
    await post(m.token, base, { port_forwarding: { ...pfBody, internal_port: 23 } }),
    400,
    "BadRequest",
    "Bad port_forwarding request: There is a port collision with the external_port_range. The following ranges collides: 2222:2222 and 2222:2222.",
  );
  const udp = (await ok(post(m.token, base, { port_forwarding: { ...pfBody, protocol: "udp" } }), 201)).port_forwarding;
  const ranged = (
    await ok(post(m.token, base, { port_forwarding: { ...pfBody, internal_port: null, external_port: null, internal_port_range: "3000:3010", external_port_range: "4000:4010" } }), 201)
  ).port_forwarding;
  assert.equal(ranged.external_port, null);
  assert.equal(ranged.external_port_range, "4000:4010");
  assertNeutronError(
    await post(m.token, base, { port_forwarding: { ...pfBody, internal_port: null, external_port: null, internal_port_range: "5000:5002", external_port_range: "6000:6010" } }),
    400,
    "BadRequest",
    /must be N-N or 1-N/,
  );
  assertNeutronError(await post(m.token, base, { port_forwarding: { ...pfBody, protocol: "gre", external_port: 1 } }), 400);
  assertNeutronError(await post(m.token, base, { port_forwarding: { ...pfBody, external_port: 70000 } }), 400);
  assertNeutronError(
    await post(m.token, base, { port_forwarding: { ...pfBody, external_port: 2300, internal_ip_address: "10.255.1.1" } }),
    400,
    "BadRequest",
    /is not suitable for internal neutron port/,
  );
  // An internal port no router connects to the floating IP's network.
  const lonely = await network(m.token);
  await subnet(m.token, lonely.id, cidr());
  const lp = await port(m.token, { network_id: lonely.id });
  assertNeutronError(
    await post(m.token, base, { port_forwarding: { ...pfBody, external_port: 2301, internal_port_id: lp.id, internal_ip_address: lp.fixed_ips[0].ip_address } }),
    400,
    "BadRequest",
    /is not reachable from subnet .* Cannot set Port forwarding for port/,
  );

  // list, filters, show, update
  const all = (await ok(get(m.token, base))).port_forwardings;
  assert.equal(all.length, 3);
  assert.deepEqual((await ok(get(m.token, `${base}?protocol=udp`))).port_forwardings.map((x: Body) => x.id), [udp.id]);
  assert.deepEqual((await ok(get(m.token, `${base}?external_port=2222&protocol=tcp`))).port_forwardings.map((x: Body) => x.id), [pf.id]);
  assertNeutronError(await get(m.token, `${base}?internal_port=22`), 400);
  const paged = await ok(get(m.token, `${base}?limit=1`));
  assert.equal(paged.port_forwardings.length, 1);
  assert.ok(paged.port_forwardings_links[0].href.includes(`/floatingips/${fip.id}/port_forwardings?`), JSON.stringify(paged.port_forwardings_links));
  assert.equal((await ok(get(m.token, `${base}/${pf.id}`))).port_forwarding.description, "ssh");
  const upd = (await ok(put(m.token, `${base}/${pf.id}`, { port_forwarding: { internal_port: 2022, description: "moved" } }))).port_forwarding;
  assert.equal(upd.internal_port, 2022);
  assert.equal(upd.internal_port_range, "2022:2022");
  assert.equal(upd.external_port, 2222);
  assertNeutronError(await put(m.token, `${base}/${pf.id}`, { port_forwarding: { external_port: 4005 } }), 400, "BadRequest", /port collision with the external_port_range/);
  assertNeutronError(await get(m.token, `${base}/${fip.id}`), 404, "PortForwardingNotFound", `Port Forwarding ${fip.id} could not be found.`);

  // A floating IP serving forwardings cannot be associated with a port nor deleted.
  assertNeutronError(await put(m.token, `/floatingips/${fip.id}`, { floatingip: { port_id: vm.id } }), 409, "FipInUseByPortForwarding");
  assertNeutronError(await del(m.token, `/floatingips/${fip.id}`), 409, "FipInUseByPortForwarding", `Floating IP ${fip.id} in use by Port Forwarding resources.`);
  // A port with a floating IP of its own takes no forwarding; an associated floating IP gives none.
  const assoc = (await ok(post(m.token, "/floatingips", { floatingip: { floating_network_id: ext.id, port_id: vm.id } }), 201)).floatingip;
  assertNeutronError(await post(m.token, base, { port_forwarding: { ...pfBody, external_port: 2400 } }), 409, "PortHasBindingFloatingIP");
  const vm2 = await port(m.token, { network_id: net.id });
  assertNeutronError(
    await post(m.token, `/floatingips/${assoc.id}/port_forwardings`, {
      port_forwarding: { ...pfBody, internal_port_id: vm2.id, internal_ip_address: vm2.fixed_ips[0].ip_address },
    }),
    409,
    "FloatingIPPortAlreadyAssociated",
  );

  // The parent's owner decides: other projects get 404 for the floating IP.
  assertNeutronError(await get(other.token, base), 404, "FloatingIPNotFound");
  assertNeutronError(await get(other.token, `${base}/${pf.id}`), 404, "FloatingIPNotFound");
  assertNeutronError(await post(other.token, base, { port_forwarding: { ...pfBody, external_port: 2500 } }), 404, "FloatingIPNotFound");
  assertNeutronError(await del(other.token, `${base}/${pf.id}`), 404);
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  assert.equal((await ok(get(reader.token, base))).port_forwardings.length, 3, "the parent's project reads its forwardings");

  // Deleting the port takes its forwardings; the last one gone releases the router.
  for (const id of [pf.id, udp.id]) assert.equal((await del(m.token, `${base}/${id}`)).status, 204);
  assertNeutronError(await del(m.token, `${base}/${pf.id}`), 404, "PortForwardingNotFound");
  assert.equal((await ok(get(m.token, `/floatingips/${fip.id}`))).floatingip.router_id, r.id);
  await ok(put(m.token, `/floatingips/${assoc.id}`, { floatingip: { port_id: null } }));
  assert.equal((await del(m.token, `/ports/${vm.id}`)).status, 204);
  const released = (await ok(get(m.token, `/floatingips/${fip.id}`))).floatingip;
  assert.deepEqual(released.port_forwardings, []);
  assert.equal(released.router_id, null);
  assert.equal(released.status, "DOWN");
  assert.equal((await del(m.token, `/floatingips/${fip.id}`)).status, 204);
});

test("floating IP pools list the external IPv4 subnets as the caller's", async () => {
  const m = await persona(tc, "member");
  const pools = (await ok(get(m.token, "/floatingip_pools"))).floatingip_pools;
  const mine = pools.find((p: Body) => p.subnet_id === extSubnet.id);
  assert.deepEqual(mine, { subnet_id: extSubnet.id, subnet_name: extSubnet.name, network_id: ext.id, cidr: "172.30.0.0/22", project_id: m.projectId });
  const own = await network(m.token);
  const ownSub = await subnet(m.token, own.id, cidr());
  assert.equal(pools.some((p: Body) => p.subnet_id === ownSub.id), false);
  const fields = (await ok(get(m.token, "/floatingip_pools?fields=cidr"))).floatingip_pools;
  assert.ok(fields.every((p: Body) => Object.keys(p).join() === "cidr"));
  assertNeutronError(await get(m.token, "/floatingip_pools?cidr=x"), 400);
});

test("distributed and HA routers: interface owners, SNAT ports, admin-state-down migrations", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const sub = await subnet(m.token, net.id, cidr());
  const dvr = await router(admin, { distributed: true, project_id: m.projectId, external_gateway_info: { network_id: ext.id } });
  assert.equal(dvr.distributed, true);
  assert.equal(dvr.ha, false);
  const info = await ok(put(m.token, `/routers/${dvr.id}/add_router_interface`, { subnet_id: sub.id }));
  const owners = async (): Promise<string[]> => ((await ok(get(admin, `/ports?device_id=${dvr.id}`))).ports as Body[]).map((p) => p.device_owner).sort();
  assert.deepEqual(await owners(), ["network:router_centralized_snat", "network:router_gateway", "network:router_interface_distributed"]);
  assert.equal((await ok(get(m.token, `/ports/${info.port_id}`))).port.device_owner, "network:router_interface_distributed");

  assertNeutronError(
    await put(admin, `/routers/${dvr.id}`, { router: { distributed: false } }),
    400,
    "BadRequest",
    "Bad router request: Cannot change the 'distributed' attribute of active routers. Please set router admin_state_up to False prior to upgrade.",
  );
  assertNeutronError(await put(admin, `/routers/${dvr.id}`, { router: { distributed: false, admin_state_up: false } }), 400, "BadRequest");
  await ok(put(admin, `/routers/${dvr.id}`, { router: { admin_state_up: false } }));
  const legacy = (await ok(put(admin, `/routers/${dvr.id}`, { router: { distributed: false } }))).router;
  assert.equal(legacy.distributed, false);
  assert.deepEqual(await owners(), ["network:router_gateway", "network:router_interface"]);

  assertNeutronError(await put(admin, `/routers/${dvr.id}`, { router: { ha: true, admin_state_up: true } }), 400, "BadRequest", /Cannot change HA attribute of active routers/);
  const ha = (await ok(put(admin, `/routers/${dvr.id}`, { router: { ha: true } }))).router;
  assert.equal(ha.ha, true);
  assert.deepEqual(await owners(), ["network:ha_router_replicated_interface", "network:router_gateway"]);
  await ok(put(m.token, `/routers/${dvr.id}/remove_router_interface`, { subnet_id: sub.id }));
  assert.equal((await del(m.token, `/routers/${dvr.id}`)).status, 204);
  assert.deepEqual(await owners(), []);
});

test("the L3 extensions are advertised", async () => {
  const m = await persona(tc, "member");
  const aliases = ((await ok(get(m.token, "/extensions"))).extensions as Body[]).map((e) => e.alias);
  for (const a of [
    "router",
    "ext-gw-mode",
    "extraroute",
    "extraroute-atomic",
    "dvr",
    "l3-ha",
    "router_availability_zone",
    "floatingip-pools",
    "fip-port-details",
    "floating-ip-port-forwarding",
    "expose-port-forwarding-in-fip",
  ]) {
    assert.ok(aliases.includes(a), a);
  }
});

test("concurrent requests: one floating IP per fixed IP, one forwarding per outside port", async () => {
  const m = await persona(tc, "member");
  const { net } = await routedSubnet(m.token);
  const vm = await port(m.token, { network_id: net.id });
  const creates = await Promise.all(
    Array.from({ length: 8 }, () => post(m.token, "/floatingips", { floatingip: { floating_network_id: ext.id, port_id: vm.id } })),
  );
  assert.deepEqual(creates.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409], creates.map((r) => r.text).join("\n"));
  for (const r of creates.filter((x) => x.status !== 201)) assertNeutronError(r, 409, "FloatingIPPortAlreadyAssociated");
  assert.equal((await ok(get(m.token, "/floatingips"))).floatingips.length, 1, "the refused creates kept no address");

  const vm2 = await port(m.token, { network_id: net.id });
  const fip = (await ok(post(m.token, "/floatingips", { floatingip: { floating_network_id: ext.id } }), 201)).floatingip;
  const pfs = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      post(m.token, `/floatingips/${fip.id}/port_forwardings`, {
        port_forwarding: { protocol: "tcp", internal_ip_address: vm2.fixed_ips[0].ip_address, internal_port: 100 + i, external_port: 8080, internal_port_id: vm2.id },
      }),
    ),
  );
  assert.equal(pfs.filter((r) => r.status === 201).length, 1, pfs.map((r) => r.text).join("\n"));
  for (const r of pfs.filter((x) => x.status !== 201)) assertNeutronError(r, 400, "BadRequest");
  assert.equal((await ok(get(m.token, `/floatingips/${fip.id}/port_forwardings`))).port_forwardings.length, 1);
});
