/**
 * Ports: CRUD and bulk, MAC allocation and uniqueness, binding and status, visibility of the
 * binding internals, port security with security groups, allowed address pairs, extra DHCP
 * options, fixed IPs through IPAM, filters/fields/sorting/pagination, and the NeutronError
 * types of the refusals.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { TestContext } from "node:test";
import { assertNeutronError, persona, startTestCloud, unique } from "../support/cloud.js";
import type { Response } from "../support/cloud.js";
import type { PortManager } from "../../src/services/network/manager/ports.js";

const tc = await startTestCloud();
after(() => tc.close());
const N = "/networking/v2.0";


// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;

async function network(token: string, extra: Record<string, unknown> = {}): Promise<Body> {
  const r = await tc.request("POST", `${N}/networks`, { token, body: { network: { name: unique("net"), ...extra } } });
  assert.equal(r.status, 201, r.text);
  return r.body.network;
}

async function port(token: string, body: Record<string, unknown>): Promise<Body> {
  const r = await tc.request("POST", `${N}/ports`, { token, body: { port: body } });
  assert.equal(r.status, 201, r.text);
  return r.body.port;
}

/** A subnet, or a skipped test while the subnets API is not there. */
async function subnet(t: TestContext, token: string, networkId: string, cidr: string, extra: Record<string, unknown> = {}): Promise<Body | undefined> {
  const r = await tc.request("POST", `${N}/subnets`, { token, body: { subnet: { network_id: networkId, cidr, ip_version: cidr.includes(":") ? 6 : 4, ...extra } } });
  if (r.status === 404 && r.body?.NeutronError?.type !== "NetworkNotFound") {
    t.skip("subnets API not available");
    return undefined;
  }
  assert.equal(r.status, 201, r.text);
  return r.body.subnet;
}

test("create, show, update and delete a port as a member", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const name = unique("port");
  const p = await port(m.token, { network_id: net.id, name });
  assert.match(p.id, /^[0-9a-f-]{36}$/);
  assert.equal(p.name, name);
  assert.equal(p.network_id, net.id);
  assert.equal(p.project_id, m.projectId);
  assert.equal(p.tenant_id, m.projectId);
  assert.equal(p.admin_state_up, true);
  assert.equal(p.status, "DOWN", "an unbound port is DOWN");
  assert.match(p.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
  assert.deepEqual(p.fixed_ips, []);
  assert.equal(p.device_id, "");
  assert.equal(p.device_owner, "");
  assert.deepEqual(p.allowed_address_pairs, []);
  assert.deepEqual(p.extra_dhcp_opts, []);
  assert.equal(p.port_security_enabled, true);
  assert.equal(p.security_groups.length, 1, "the project's default security group");
  assert.equal(p["binding:vnic_type"], "normal");
  assert.equal(p.ip_allocation, "immediate");
  assert.equal(p.description, "");
  assert.deepEqual(p.tags, []);
  assert.equal(p.revision_number, 0);
  for (const k of ["binding:host_id", "binding:vif_type", "binding:vif_details", "binding:profile"]) {
    assert.equal(k in p, false, `${k} is admin-only`);
  }

  const sgs = await tc.request("GET", `${N}/security-groups?name=default`, { token: m.token });
  assert.equal(sgs.body.security_groups[0].id, p.security_groups[0]);

  const show = await tc.request("GET", `${N}/ports/${p.id}`, { token: m.token });
  assert.equal(show.status, 200);
  assert.deepEqual(show.body.port, p, "show answers what create did");

  const u = await tc.request("PUT", `${N}/ports/${p.id}`, {
    token: m.token,
    body: { port: { name: `${name}-2`, admin_state_up: false, device_id: "vm-1", device_owner: "compute:nova", description: "d" } },
  });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.body.port.name, `${name}-2`);
  assert.equal(u.body.port.admin_state_up, false);
  assert.equal(u.body.port.device_id, "vm-1");
  assert.equal(u.body.port.device_owner, "compute:nova");
  assert.equal(u.body.port.description, "d");
  assert.equal(u.body.port.status, "DOWN");
  assert.equal(u.body.port.revision_number, 1);

  assertNeutronError(await tc.request("PUT", `${N}/ports/${p.id}`, { token: m.token, body: { port: { network_id: net.id } } }), 400, "HTTPBadRequest", "Cannot update read-only attribute network_id");
  assertNeutronError(await tc.request("PUT", `${N}/ports/${p.id}`, { token: m.token, body: { port: { status: "ACTIVE" } } }), 400, "HTTPBadRequest");

  const d = await tc.request("DELETE", `${N}/ports/${p.id}`, { token: m.token });
  assert.equal(d.status, 204);
  assertNeutronError(await tc.request("GET", `${N}/ports/${p.id}`, { token: m.token }), 404, "PortNotFound", `Port ${p.id} could not be found.`);
  assertNeutronError(await tc.request("DELETE", `${N}/ports/${p.id}`, { token: m.token }), 404, "PortNotFound");
});

test("bad input: 400 in the Neutron shape, nothing created", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const cases: Array<[Record<string, unknown>, string, string | RegExp]> = [
    [{}, "HTTPBadRequest", "Failed to parse request. Required attribute 'network_id' not specified"],
    [{ network_id: "nope" }, "HTTPBadRequest", "Invalid input for network_id. Reason: 'nope' is not a valid UUID."],
    [{ network_id: net.id, bogus: 1 }, "HTTPBadRequest", "Unrecognized attribute(s) 'bogus'"],
    [{ network_id: net.id, mac_address: "zz:16:3e:00:00:01" }, "HTTPBadRequest", "Invalid input for mac_address. Reason: 'zz:16:3e:00:00:01' is not a valid MAC address."],
    [{ network_id: net.id, mac_address: "00:00:00:00:00:00" }, "HTTPBadRequest", /is not a valid MAC address/],
    [{ network_id: net.id, admin_state_up: "maybe" }, "HTTPBadRequest", "Invalid input for admin_state_up. Reason: 'maybe' cannot be converted to boolean."],
    [{ network_id: net.id, fixed_ips: "10.0.0.1" }, "HTTPBadRequest", "Invalid input for fixed_ips. Reason: Invalid data format for fixed IP: '10.0.0.1'."],
    [{ network_id: net.id, fixed_ips: [{ ip_address: "10.0.0.300" }] }, "HTTPBadRequest", /Invalid input for fixed_ips. Reason: '10.0.0.300' is not a valid IP address/],
    [{ network_id: net.id, fixed_ips: [{ ip_address: "10.0.0.3" }, { ip_address: "10.0.0.3" }] }, "HTTPBadRequest", "Invalid input for fixed_ips. Reason: Duplicate IP address '10.0.0.3'."],
    [{ network_id: net.id, fixed_ips: [{ subnet_id: "x" }] }, "HTTPBadRequest", "Invalid input for fixed_ips. Reason: 'x' is not a valid UUID."],
    [{ network_id: net.id, "binding:vnic_type": "fancy" }, "HTTPBadRequest", "Invalid input for binding:vnic_type. Reason: fancy is not in valid_values."],
    [{ network_id: net.id, security_groups: "x" }, "HTTPBadRequest", "Invalid input for security_groups. Reason: 'x' is not a list."],
    [{ network_id: net.id, name: "x".repeat(256) }, "HTTPBadRequest", /exceeds maximum length of 255/],
    [{ network_id: net.id, status: "ACTIVE" }, "HTTPBadRequest", "Attribute 'status' not allowed in POST"],
  ];
  for (const [body, type, message] of cases) {
    assertNeutronError(await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: body } }), 400, type, message);
  }
  const list = await tc.request("GET", `${N}/ports?network_id=${net.id}`, { token: m.token });
  assert.deepEqual(list.body.ports, []);
});

test("ports need a network the caller may use", async () => {
  const m = await persona(tc, "member");
  const other = await persona(tc, "member");
  const admin = await tc.adminToken();
  const missing = "6b2c1a8e-0000-4000-8000-000000000001";
  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: missing } } }),
    404,
    "NetworkNotFound",
    `Network ${missing} could not be found.`,
  );
  assertNeutronError(await tc.request("POST", `${N}/ports`, { token: admin, body: { port: { network_id: missing } } }), 404, "NetworkNotFound");
  const theirs = await network(other.token);
  assertNeutronError(await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: theirs.id } } }), 404, "NetworkNotFound");

  // The public network is visible but not shared: only its owner (and admins) put ports on it.
  const pub = (await tc.request("GET", `${N}/networks?router:external=true&name=public`, { token: admin })).body.networks[0];
  assert.ok(pub);
  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: pub.id } } }),
    403,
    "HTTPForbidden",
    `Tenant ${m.projectId} not allowed to create port on this network`,
  );

  // A shared network takes anyone's ports.
  const shared = await network(admin, { shared: true });
  const p = await port(m.token, { network_id: shared.id });
  assert.equal(p.project_id, m.projectId);
  // An admin creates ports for another project.
  const forOther = await port(admin, { network_id: theirs.id, project_id: other.projectId });
  assert.equal(forOther.tenant_id, other.projectId);
  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: shared.id, project_id: other.projectId } } }),
    400,
    "HTTPBadRequest",
    /requires admin or advsvc privileges/,
  );
});

test("another project's port is not found; admins see every port", async () => {
  const m = await persona(tc, "member");
  const other = await persona(tc, "member");
  const admin = await tc.adminToken();
  const p = await port(other.token, { network_id: (await network(other.token)).id });
  assertNeutronError(await tc.request("GET", `${N}/ports/${p.id}`, { token: m.token }), 404, "PortNotFound");
  assertNeutronError(await tc.request("PUT", `${N}/ports/${p.id}`, { token: m.token, body: { port: { name: "x" } } }), 404, "PortNotFound");
  assertNeutronError(await tc.request("DELETE", `${N}/ports/${p.id}`, { token: m.token }), 404, "PortNotFound");
  const mine = await tc.request("GET", `${N}/ports`, { token: m.token });
  assert.equal(mine.body.ports.some((x: Body) => x.id === p.id), false);
  const all = await tc.request("GET", `${N}/ports?id=${p.id}`, { token: admin });
  assert.equal(all.body.ports.length, 1);
  // A reader of the owning project sees it but may not change it.
  const reader = await persona(tc, "reader", { projectId: other.projectId });
  assert.equal((await tc.request("GET", `${N}/ports/${p.id}`, { token: reader.token })).status, 200);
  assertNeutronError(await tc.request("PUT", `${N}/ports/${p.id}`, { token: reader.token, body: { port: { name: "x" } } }), 403, "PolicyNotAuthorized");
  assertNeutronError(await tc.request("DELETE", `${N}/ports/${p.id}`, { token: reader.token }), 403, "PolicyNotAuthorized");
});

test("binding attributes: admin-only, and binding drives the status", async () => {
  const m = await persona(tc, "member");
  const admin = await tc.adminToken();
  const net = await network(m.token);
  const p = await port(m.token, { network_id: net.id });

  const a = (await tc.request("GET", `${N}/ports/${p.id}`, { token: admin })).body.port;
  assert.equal(a["binding:host_id"], "");
  assert.equal(a["binding:vif_type"], "unbound");
  assert.deepEqual(a["binding:vif_details"], {});
  assert.deepEqual(a["binding:profile"], {});
  assert.equal(a["binding:vnic_type"], "normal");

  assertNeutronError(
    await tc.request("PUT", `${N}/ports/${p.id}`, { token: m.token, body: { port: { "binding:host_id": "stackbox" } } }),
    403,
    "PolicyNotAuthorized",
    "(rule:update_port:binding:host_id) is disallowed by policy",
  );
  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.id, "binding:profile": { a: 1 } } } }),
    403,
    "PolicyNotAuthorized",
  );
  // A member may choose the vnic type of its own port.
  const direct = await port(m.token, { network_id: net.id, "binding:vnic_type": "direct" });
  assert.equal(direct["binding:vnic_type"], "direct");

  // Admin-down stays DOWN while unbound.
  let u = await tc.request("PUT", `${N}/ports/${p.id}`, { token: admin, body: { port: { admin_state_up: false } } });
  assert.equal(u.body.port.status, "DOWN");
  u = await tc.request("PUT", `${N}/ports/${p.id}`, { token: admin, body: { port: { admin_state_up: true, "binding:host_id": "compute-1" } } });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.body.port["binding:host_id"], "compute-1");
  assert.equal(u.body.port["binding:vif_type"], "ovs");
  assert.equal(u.body.port["binding:vif_details"].port_filter, true);
  assert.equal(u.body.port.status, "ACTIVE");
  u = await tc.request("PUT", `${N}/ports/${p.id}`, { token: admin, body: { port: { admin_state_up: false } } });
  assert.equal(u.body.port.status, "DOWN", "admin_state_up false takes a bound port down");
  u = await tc.request("PUT", `${N}/ports/${p.id}`, { token: m.token, body: { port: { admin_state_up: true } } });
  assert.equal(u.body.port.status, "ACTIVE");
  assert.equal("binding:host_id" in u.body.port, false);
  // The member lists its bound port without the binding internals.
  const listed = (await tc.request("GET", `${N}/ports?id=${p.id}`, { token: m.token })).body.ports[0];
  assert.equal(listed.status, "ACTIVE");
  assert.equal("binding:vif_type" in listed, false);
  const adminListed = (await tc.request("GET", `${N}/ports?binding:host_id=compute-1&id=${p.id}`, { token: admin })).body.ports;
  assert.equal(adminListed.length, 1);
  assert.equal(adminListed[0]["binding:vif_type"], "ovs");

  // Clearing the host unbinds it.
  u = await tc.request("PUT", `${N}/ports/${p.id}`, { token: admin, body: { port: { "binding:host_id": null } } });
  assert.equal(u.body.port["binding:host_id"], "");
  assert.equal(u.body.port["binding:vif_type"], "unbound");
  assert.equal(u.body.port.status, "DOWN");

  // Created bound; created admin-down.
  const b = await port(admin, { network_id: net.id, "binding:host_id": "compute-2" });
  assert.equal(b.status, "ACTIVE");
  const down = await port(admin, { network_id: net.id, "binding:host_id": "compute-2", admin_state_up: false });
  assert.equal(down.status, "DOWN");
  assert.equal(down["binding:vif_type"], "ovs");

  // binding:profile belongs to the service role (Nova), not even to admins.
  assertNeutronError(
    await tc.request("PUT", `${N}/ports/${b.id}`, { token: admin, body: { port: { "binding:profile": { pci_slot: "0000:05:00.1" } } } }),
    403,
    "PolicyNotAuthorized",
    "(rule:update_port:binding:profile) is disallowed by policy",
  );
  const nova = await persona(tc, "service");
  let s = await tc.request("PUT", `${N}/ports/${b.id}`, { token: nova.token, body: { port: { "binding:profile": { pci_slot: "0000:05:00.1" } } } });
  assert.equal(s.status, 200, s.text);
  assert.deepEqual(s.body.port["binding:profile"], { pci_slot: "0000:05:00.1" });
  s = await tc.request("PUT", `${N}/ports/${b.id}`, { token: nova.token, body: { port: { "binding:profile": null } } });
  assert.deepEqual(s.body.port["binding:profile"], {});
  assert.equal(s.body.port.status, "ACTIVE", "rebound on its host");
});

test("MAC addresses: random from base_mac, unique per network, admin-only updates", async () => {
  const m = await persona(tc, "member");
  const admin = await tc.adminToken();
  const net = await network(m.token);
  const net2 = await network(m.token);
  const p = await port(m.token, { network_id: net.id });
  const mac = p.mac_address as string;

  const dup = await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.id, mac_address: mac.toUpperCase() } } });
  assertNeutronError(dup, 409, "MacAddressInUse", `Unable to complete operation for network ${net.id}. The mac address ${mac} is in use.`);
  // Another network may use it.
  const same = await port(m.token, { network_id: net2.id, mac_address: mac.toUpperCase().replaceAll(":", "-") });
  assert.equal(same.mac_address, mac, "stored in Neutron's form");
  // Free again once its port is gone.
  assert.equal((await tc.request("DELETE", `${N}/ports/${p.id}`, { token: m.token })).status, 204);
  const again = await port(m.token, { network_id: net.id, mac_address: mac });
  assert.equal(again.mac_address, mac);

  // mac_address filter, in any form.
  const f = await tc.request("GET", `${N}/ports?mac_address=${encodeURIComponent(mac.toUpperCase())}`, { token: m.token });
  assert.deepEqual(f.body.ports.map((x: Body) => x.id).sort(), [again.id, same.id].sort());

  // Updates: admin only, only while unbound, never to a MAC in use.
  assertNeutronError(
    await tc.request("PUT", `${N}/ports/${again.id}`, { token: m.token, body: { port: { mac_address: "fa:16:3e:00:00:01" } } }),
    403,
    "PolicyNotAuthorized",
    "(rule:update_port:mac_address) is disallowed by policy",
  );
  const other = await port(m.token, { network_id: net.id });
  assertNeutronError(
    await tc.request("PUT", `${N}/ports/${again.id}`, { token: admin, body: { port: { mac_address: other.mac_address } } }),
    409,
    "MacAddressInUse",
  );
  const moved = await tc.request("PUT", `${N}/ports/${again.id}`, { token: admin, body: { port: { mac_address: "FA:16:3E:AB:CD:EF" } } });
  assert.equal(moved.status, 200, moved.text);
  assert.equal(moved.body.port.mac_address, "fa:16:3e:ab:cd:ef");
  await tc.request("PUT", `${N}/ports/${again.id}`, { token: admin, body: { port: { "binding:host_id": "compute-1" } } });
  assertNeutronError(
    await tc.request("PUT", `${N}/ports/${again.id}`, { token: admin, body: { port: { mac_address: "fa:16:3e:ab:cd:e0" } } }),
    409,
    "PortBound",
    `Unable to complete operation on port ${again.id}, port is already bound, port type: ovs, old_mac fa:16:3e:ab:cd:ef, new_mac fa:16:3e:ab:cd:e0.`,
  );
});

test("many ports on one network all get distinct MACs", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const r = await tc.request("POST", `${N}/ports`, { token: m.token, body: { ports: Array.from({ length: 60 }, () => ({ network_id: net.id })) } });
  assert.equal(r.status, 201, r.text);
  const macs = new Set(r.body.ports.map((p: Body) => p.mac_address));
  assert.equal(macs.size, 60);
});

test("a generated MAC another port holds is replaced, never a 500", async (t) => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const sub = await tc.request("POST", `${N}/subnets`, { token: m.token, body: { subnet: { network_id: net.id, cidr: "10.44.0.0/24", ip_version: 4 } } });
  const first = await port(m.token, { network_id: net.id });
  const ports = tc.cloud.network.ports as PortManager;
  const random = ports.nextMac;
  const queue = [first.mac_address, first.mac_address, "fa:16:3e:77:77:01"];
  ports.nextMac = () => queue.shift() ?? random();
  t.after(() => {
    ports.nextMac = random;
  });
  const second = await port(m.token, { network_id: net.id });
  assert.equal(second.mac_address, "fa:16:3e:77:77:01");
  assert.equal(queue.length, 0, "both colliding MACs were tried");
  if (sub.status === 201) {
    // The addresses taken by the failed attempts were given back.
    assert.equal(second.fixed_ips.length, 1);
    const all = await tc.request("GET", `${N}/ports?network_id=${net.id}`, { token: m.token });
    const used = all.body.ports.flatMap((p: Body) => p.fixed_ips.map((ip: Body) => ip.ip_address));
    assert.equal(new Set(used).size, used.length);
  }
});

test("port security and security groups", async () => {
  const m = await persona(tc, "member");
  const other = await persona(tc, "member");
  const net = await network(m.token);

  const none = await port(m.token, { network_id: net.id, security_groups: [] });
  assert.deepEqual(none.security_groups, []);
  assert.equal(none.port_security_enabled, true);

  const sg = await tc.request("POST", `${N}/security-groups`, { token: m.token, body: { security_group: { name: unique("sg") } } });
  assert.equal(sg.status, 201, sg.text);
  const sgId = sg.body.security_group.id as string;
  const withSg = await port(m.token, { network_id: net.id, security_groups: [sgId] });
  assert.deepEqual(withSg.security_groups, [sgId]);
  // The group is in use now.
  assertNeutronError(await tc.request("DELETE", `${N}/security-groups/${sgId}`, { token: m.token }), 409);

  const missing = "6b2c1a8e-0000-4000-8000-0000000000ff";
  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.id, security_groups: [missing] } } }),
    404,
    "SecurityGroupNotFound",
  );
  const theirs = await tc.request("POST", `${N}/security-groups`, { token: other.token, body: { security_group: { name: unique("sg") } } });
  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.id, security_groups: [theirs.body.security_group.id] } } }),
    404,
    "SecurityGroupNotFound",
  );

  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.id, port_security_enabled: false, security_groups: [sgId] } } }),
    400,
    "PortSecurityAndIPRequiredForSecurityGroups",
    "Port security must be enabled and port must have an IP address in order to use security groups.",
  );
  const open = await port(m.token, { network_id: net.id, port_security_enabled: false });
  assert.equal(open.port_security_enabled, false);
  assert.deepEqual(open.security_groups, []);

  // Disabling port security needs the groups gone first (or in the same request).
  assertNeutronError(
    await tc.request("PUT", `${N}/ports/${withSg.id}`, { token: m.token, body: { port: { port_security_enabled: false } } }),
    409,
    "PortSecurityPortHasSecurityGroup",
    "Port has security group associated. Cannot disable port security or IP address until security group is removed.",
  );
  const off = await tc.request("PUT", `${N}/ports/${withSg.id}`, { token: m.token, body: { port: { port_security_enabled: false, security_groups: [] } } });
  assert.equal(off.status, 200, off.text);
  assert.deepEqual(off.body.port.security_groups, []);
  assertNeutronError(
    await tc.request("PUT", `${N}/ports/${withSg.id}`, { token: m.token, body: { port: { security_groups: [sgId] } } }),
    400,
    "PortSecurityAndIPRequiredForSecurityGroups",
  );
  const on = await tc.request("PUT", `${N}/ports/${withSg.id}`, { token: m.token, body: { port: { port_security_enabled: true, security_groups: [sgId] } } });
  assert.equal(on.status, 200, on.text);
  assert.deepEqual(on.body.port.security_groups, [sgId]);
  // security_groups filter
  const f = await tc.request("GET", `${N}/ports?security_groups=${sgId}`, { token: m.token });
  assert.deepEqual(f.body.ports.map((p: Body) => p.id), [withSg.id]);
  // Released by the update, the group can go.
  await tc.request("PUT", `${N}/ports/${withSg.id}`, { token: m.token, body: { port: { security_groups: [] } } });
  assert.equal((await tc.request("DELETE", `${N}/security-groups/${sgId}`, { token: m.token })).status, 204);

  // The network's setting is the default.
  const insecure = await network(m.token, { port_security_enabled: false });
  const p = await port(m.token, { network_id: insecure.id });
  assert.equal(p.port_security_enabled, false);
  assert.deepEqual(p.security_groups, []);

  // Only network owners (and admins) set port_security_enabled.
  const admin = await tc.adminToken();
  const shared = await network(admin, { shared: true });
  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: shared.id, port_security_enabled: false } } }),
    403,
    "PolicyNotAuthorized",
    "(rule:create_port:port_security_enabled) is disallowed by policy",
  );
});

test("allowed address pairs", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const p = await port(m.token, {
    network_id: net.id,
    allowed_address_pairs: [{ ip_address: "10.0.0.5" }, { ip_address: "10.0.1.0/24", mac_address: "fa:16:3e:11:22:33" }],
  });
  assert.deepEqual(p.allowed_address_pairs, [
    { ip_address: "10.0.0.5", mac_address: p.mac_address },
    { ip_address: "10.0.1.0/24", mac_address: "fa:16:3e:11:22:33" },
  ]);
  const u = await tc.request("PUT", `${N}/ports/${p.id}`, { token: m.token, body: { port: { allowed_address_pairs: [{ ip_address: "2001:db8::5" }] } } });
  assert.equal(u.status, 200, u.text);
  assert.deepEqual(u.body.port.allowed_address_pairs, [{ ip_address: "2001:db8::5", mac_address: p.mac_address }]);
  const cleared = await tc.request("PUT", `${N}/ports/${p.id}`, { token: m.token, body: { port: { allowed_address_pairs: null } } });
  assert.deepEqual(cleared.body.port.allowed_address_pairs, []);

  const bad = (pairs: unknown): Promise<Response> => tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.id, allowed_address_pairs: pairs } } });
  assertNeutronError(await bad([{ mac_address: "fa:16:3e:00:00:01" }]), 400, "AllowedAddressPairsMissingIP", "AllowedAddressPair must contain ip_address");
  assertNeutronError(
    await bad([{ ip_address: "10.0.0.5" }, { ip_address: "10.0.0.5" }]),
    400,
    "DuplicateAddressPairInRequest",
    "Request contains duplicate address pair: mac_address None ip_address 10.0.0.5.",
  );
  assertNeutronError(await bad([{ ip_address: "10.0.0.500" }]), 400, "HTTPBadRequest", "'10.0.0.500' is not a valid IP address");
  assertNeutronError(await bad([{ ip_address: "10.0.0.5", mac_address: "nope" }]), 400, "HTTPBadRequest", "'nope' is not a valid MAC address");
  assertNeutronError(await bad([{ ip_address: "10.0.0.5", foo: 1 }]), 400, "HTTPBadRequest", "Unrecognized attribute(s) 'foo'");
  assertNeutronError(await bad("10.0.0.5"), 400, "HTTPBadRequest", "Allowed address pairs must be a list.");
  assertNeutronError(await bad(["10.0.0.5"]), 400, "HTTPBadRequest", "Invalid input for allowed_address_pairs. Reason: '10.0.0.5' is not a dictionary.");
  assertNeutronError(
    await bad(Array.from({ length: 11 }, (_, i) => ({ ip_address: `10.0.0.${i + 1}` }))),
    400,
    "AllowedAddressPairExhausted",
    "The number of allowed address pair exceeds the maximum 10.",
  );
  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.id, port_security_enabled: false, allowed_address_pairs: [{ ip_address: "10.0.0.5" }] } } }),
    409,
    "AddressPairAndPortSecurityRequired",
    "Port Security must be enabled in order to have allowed address pairs on a port.",
  );
  const withPairs = await port(m.token, { network_id: net.id, allowed_address_pairs: [{ ip_address: "10.0.0.7" }] });
  assertNeutronError(
    await tc.request("PUT", `${N}/ports/${withPairs.id}`, { token: m.token, body: { port: { port_security_enabled: false, security_groups: [] } } }),
    409,
    "AddressPairAndPortSecurityRequired",
  );

  // On someone else's (shared) network, address pairs need the network owner.
  const admin = await tc.adminToken();
  const shared = await network(admin, { shared: true });
  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: shared.id, allowed_address_pairs: [{ ip_address: "10.0.0.5" }] } } }),
    403,
    "PolicyNotAuthorized",
  );
});

test("extra DHCP options", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const p = await port(m.token, {
    network_id: net.id,
    extra_dhcp_opts: [
      { opt_name: "bootfile-name", opt_value: "pxelinux.0" },
      { opt_name: "tftp-server", opt_value: "192.168.0.3", ip_version: "4" },
      { opt_name: "dns-server", opt_value: "2001:db8::1", ip_version: 6 },
      { opt_name: "router", opt_value: "" },
    ],
  });
  assert.deepEqual(p.extra_dhcp_opts, [
    { opt_name: "bootfile-name", opt_value: "pxelinux.0", ip_version: 4 },
    { opt_name: "tftp-server", opt_value: "192.168.0.3", ip_version: 4 },
    { opt_name: "dns-server", opt_value: "2001:db8::1", ip_version: 6 },
    { opt_name: "router", opt_value: "", ip_version: 4 },
  ]);
  const u = await tc.request("PUT", `${N}/ports/${p.id}`, {
    token: m.token,
    body: {
      port: {
        extra_dhcp_opts: [
          { opt_name: "bootfile-name", opt_value: "changed.0" },
          { opt_name: "tftp-server", opt_value: null },
          { opt_name: "server-ip-address", opt_value: "10.0.0.1" },
        ],
      },
    },
  });
  assert.equal(u.status, 200, u.text);
  assert.deepEqual(u.body.port.extra_dhcp_opts, [
    { opt_name: "bootfile-name", opt_value: "changed.0", ip_version: 4 },
    { opt_name: "dns-server", opt_value: "2001:db8::1", ip_version: 6 },
    { opt_name: "router", opt_value: "", ip_version: 4 },
    { opt_name: "server-ip-address", opt_value: "10.0.0.1", ip_version: 4 },
  ]);
  const bad = (opts: unknown): Promise<Response> => tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.id, extra_dhcp_opts: opts } } });
  assertNeutronError(
    await bad([{ opt_name: "bootfile-name" }]),
    400,
    "InvalidInput",
    "Invalid input for operation: No valid key specs matched for: {'opt_name': 'bootfile-name'}.",
  );
  assertNeutronError(await bad([{ opt_name: "a", opt_value: "b", ip_version: 5 }]), 400, "InvalidInput", /No valid key specs matched/);
  assertNeutronError(await bad([{ opt_name: "a", opt_value: "b", ip_version: "x" }]), 400, "InvalidInput", "Invalid input for operation: 'x' is not an integer.");
  assertNeutronError(await bad([{ opt_name: "a", opt_value: "line\nbreak" }]), 400, "InvalidInput");
  assertNeutronError(await bad({ opt_name: "a" }), 400, "InvalidInput", /is not a list/);
});

test("filters, fields, sorting and pagination", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const other = await network(m.token);
  const names = ["p-c", "p-a", "p-b", "p-e", "p-d"];
  const created: Body[] = [];
  for (const name of names) created.push(await port(m.token, { network_id: net.id, name, device_id: name === "p-a" ? "dev-1" : "", device_owner: name === "p-a" ? "compute:nova" : "" }));
  await port(m.token, { network_id: other.id, name: "p-other" });

  let r = await tc.request("GET", `${N}/ports?network_id=${net.id}&sort_key=name&sort_dir=asc`, { token: m.token });
  assert.deepEqual(r.body.ports.map((p: Body) => p.name), ["p-a", "p-b", "p-c", "p-d", "p-e"]);
  r = await tc.request("GET", `${N}/ports?device_id=dev-1`, { token: m.token });
  assert.deepEqual(r.body.ports.map((p: Body) => p.name), ["p-a"]);
  r = await tc.request("GET", `${N}/ports?device_owner=compute:nova&network_id=${net.id}`, { token: m.token });
  assert.deepEqual(r.body.ports.map((p: Body) => p.name), ["p-a"]);
  r = await tc.request("GET", `${N}/ports?network_id=${other.id}&fields=id&fields=name`, { token: m.token });
  assert.deepEqual(Object.keys(r.body.ports[0]).sort(), ["id", "name"]);
  r = await tc.request("GET", `${N}/ports/${created[0].id}?fields=mac_address`, { token: m.token });
  assert.deepEqual(r.body.port, { mac_address: created[0].mac_address });
  r = await tc.request("GET", `${N}/ports?name=p-b&name=p-c&network_id=${net.id}`, { token: m.token });
  assert.equal(r.body.ports.length, 2);
  r = await tc.request("GET", `${N}/ports?admin_state_up=true&status=DOWN&network_id=${net.id}`, { token: m.token });
  assert.equal(r.body.ports.length, 5);
  r = await tc.request("GET", `${N}/ports?ip_allocation=immediate&network_id=${net.id}`, { token: m.token });
  assert.equal(r.body.ports.length, 5);

  // Pages of two, by name, following the links.
  const seen: string[] = [];
  let url: string | undefined = `${N}/ports?network_id=${net.id}&sort_key=name&sort_dir=desc&limit=2`;
  for (let i = 0; url && i < 5; i++) {
    const page: Response = await tc.request("GET", url, { token: m.token });
    assert.equal(page.status, 200, page.text);
    seen.push(...page.body.ports.map((p: Body) => p.name));
    const next: Body = page.body.ports_links.find((l: Body) => l.rel === "next");
    url = page.body.ports.length === 2 && next ? next.href : undefined;
  }
  assert.deepEqual(seen, ["p-e", "p-d", "p-c", "p-b", "p-a"]);

  assertNeutronError(await tc.request("GET", `${N}/ports?bogus=1`, { token: m.token }), 400, "HTTPBadRequest", "['bogus'] is invalid attribute for filtering");
  assertNeutronError(await tc.request("GET", `${N}/ports?fixed_ips=nonsense`, { token: m.token }), 400, "InvalidInput", "Invalid input for operation: 'nonsense' is not of the form <key>=[value].");
  assertNeutronError(await tc.request("GET", `${N}/ports?sort_key=fixed_ips&sort_dir=asc`, { token: m.token }), 400, "HTTPBadRequest");
  r = await tc.request("GET", `${N}/ports?fixed_ips=ip_address=10.9.9.9`, { token: m.token });
  assert.deepEqual(r.body.ports, []);
});

test("bulk create is all or nothing", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const net2 = await network(m.token);
  const ok = await tc.request("POST", `${N}/ports`, {
    token: m.token,
    body: { ports: [{ network_id: net.id, name: "a", admin_state_up: true }, { network_id: net2.id, admin_state_up: false }] },
  });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.ports.length, 2);
  assert.equal(ok.body.ports[0].network_id, net.id);
  assert.equal(ok.body.ports[1].admin_state_up, false);

  const mac = ok.body.ports[0].mac_address;
  const bad = await tc.request("POST", `${N}/ports`, {
    token: m.token,
    body: { ports: [{ network_id: net.id, name: "kept?" }, { network_id: net.id, mac_address: mac }] },
  });
  assertNeutronError(bad, 409, "MacAddressInUse");
  const list = await tc.request("GET", `${N}/ports?network_id=${net.id}`, { token: m.token });
  assert.deepEqual(list.body.ports.map((p: Body) => p.name), ["a"], "the first item was rolled back");
});

test("port quota", async () => {
  const m = await persona(tc, "member");
  const admin = await tc.adminToken();
  const q = await tc.request("PUT", `${N}/quotas/${m.projectId}`, { token: admin, body: { quota: { port: 2 } } });
  assert.equal(q.status, 200, q.text);
  const net = await network(m.token);
  await port(m.token, { network_id: net.id });
  await port(m.token, { network_id: net.id });
  assertNeutronError(await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.id } } }), 409, "OverQuota", "Quota exceeded for resources: ['port'].");
  const bulk = await tc.request("POST", `${N}/ports`, { token: admin, body: { ports: [{ network_id: net.id, project_id: m.projectId }] } });
  assertNeutronError(bulk, 409, "OverQuota");
});

test("If-Match on port updates and deletes", async () => {
  const m = await persona(tc, "member");
  const p = await port(m.token, { network_id: (await network(m.token)).id });
  const stale = await tc.request("PUT", `${N}/ports/${p.id}`, { token: m.token, body: { port: { name: "x" } }, headers: { "if-match": "revision_number=7" } });
  assertNeutronError(stale, 412, "RevisionNumberConstraintFailed");
  const ok = await tc.request("PUT", `${N}/ports/${p.id}`, { token: m.token, body: { port: { name: "x" } }, headers: { "if-match": "revision_number=0" } });
  assert.equal(ok.status, 200);
  assertNeutronError(await tc.request("DELETE", `${N}/ports/${p.id}`, { token: m.token, headers: { "if-match": "revision_number=0" } }), 412, "RevisionNumberConstraintFailed");
  assert.equal((await tc.request("DELETE", `${N}/ports/${p.id}`, { token: m.token, headers: { "if-match": "revision_number=1" } })).status, 204);
});

test("fixed IPs from the network's subnets", async (t) => {
  const m = await persona(tc, "member");
  const admin = await tc.adminToken();
  const net = await network(m.token);
  const s1 = await subnet(t, m.token, net.id, "10.20.0.0/24");
  if (!s1) return;
  const s2 = await subnet(t, m.token, net.id, "10.21.0.0/24");
  // One IPv4 address, from one of the subnets.
  const p = await port(m.token, { network_id: net.id, fixed_ips: [{ subnet_id: s1.id }] });
  assert.equal(p.fixed_ips.length, 1);
  assert.equal(p.fixed_ips[0].subnet_id, s1.id);
  const ip = p.fixed_ips[0].ip_address as string;
  assert.match(ip, /^10\.20\.0\.\d+$/);
  const auto = await port(m.token, { network_id: net.id });
  assert.equal(auto.fixed_ips.length, 1);
  assert.ok([s1.id, s2.id].includes(auto.fixed_ips[0].subnet_id));
  assert.equal((await tc.request("DELETE", `${N}/ports/${auto.id}`, { token: m.token })).status, 204);

  // A member picks addresses on its own network.
  const chosen = await port(m.token, { network_id: net.id, fixed_ips: [{ subnet_id: s2.id, ip_address: "10.21.0.50" }] });
  assert.deepEqual(chosen.fixed_ips, [{ subnet_id: s2.id, ip_address: "10.21.0.50" }]);
  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.id, fixed_ips: [{ ip_address: "10.21.0.50" }] } } }),
    409,
    "IpAddressAlreadyAllocated",
  );

  // Filters on fixed IPs (device_owner= leaves out the network's DHCP port, if any).
  let r = await tc.request("GET", `${N}/ports?fixed_ips=ip_address=${ip}`, { token: m.token });
  assert.deepEqual(r.body.ports.map((x: Body) => x.id), [p.id]);
  r = await tc.request("GET", `${N}/ports?fixed_ips=subnet_id=${s2.id}&device_owner=`, { token: m.token });
  assert.deepEqual(r.body.ports.map((x: Body) => x.id), [chosen.id]);
  r = await tc.request("GET", `${N}/ports?fixed_ips=ip_address_substr=10.21.0.5&device_owner=`, { token: m.token });
  assert.deepEqual(r.body.ports.map((x: Body) => x.id), [chosen.id]);

  // Update: a second address, then back to one.
  let u = await tc.request("PUT", `${N}/ports/${p.id}`, { token: m.token, body: { port: { fixed_ips: [{ subnet_id: s1.id }, { subnet_id: s2.id }] } } });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.body.port.fixed_ips.length, 2);
  assert.ok(u.body.port.fixed_ips.some((x: Body) => x.ip_address === ip), "the address on s1 is kept");
  u = await tc.request("PUT", `${N}/ports/${p.id}`, { token: m.token, body: { port: { fixed_ips: [{ subnet_id: s2.id }] } } });
  assert.equal(u.body.port.fixed_ips.length, 1);
  assert.equal(u.body.port.fixed_ips[0].subnet_id, s2.id);
  // The released address is free again.
  const reuse = await port(m.token, { network_id: net.id, fixed_ips: [{ ip_address: ip }] });
  assert.equal(reuse.fixed_ips[0].ip_address, ip);
  // fixed_ips: [] is an unaddressed port.
  const bare = await port(m.token, { network_id: net.id, fixed_ips: [] });
  assert.deepEqual(bare.fixed_ips, []);
  assert.equal(bare.ip_allocation, "none");
  // Deleting a port frees its addresses.
  assert.equal((await tc.request("DELETE", `${N}/ports/${chosen.id}`, { token: m.token })).status, 204);
  const after = await port(m.token, { network_id: net.id, fixed_ips: [{ ip_address: "10.21.0.50" }] });
  assert.equal(after.fixed_ips[0].ip_address, "10.21.0.50");

  // On a shared network a project may pick the subnet, not the address.
  const shared = await network(admin, { shared: true });
  const ss = await subnet(t, admin, shared.id, "10.30.0.0/24");
  const bySubnet = await port(m.token, { network_id: shared.id, fixed_ips: [{ subnet_id: ss.id }] });
  assert.equal(bySubnet.fixed_ips[0].subnet_id, ss.id);
  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: shared.id, fixed_ips: [{ ip_address: "10.30.0.77" }] } } }),
    403,
    "PolicyNotAuthorized",
    "(rule:create_port:fixed_ips:ip_address) is disallowed by policy",
  );
  assertNeutronError(
    await tc.request("PUT", `${N}/ports/${bySubnet.id}`, { token: m.token, body: { port: { fixed_ips: [{ subnet_id: ss.id }] } } }),
    403,
    "PolicyNotAuthorized",
    "(rule:update_port:fixed_ips) is disallowed by policy",
  );
});

test("router and floating IP ports: bound on the agent's host, deleted only through their APIs", async (t) => {
  const m = await persona(tc, "member");
  const admin = await tc.adminToken();
  const net = await network(m.token);
  const sub = await subnet(t, m.token, net.id, "10.40.0.0/24");
  if (!sub) return;
  const r = await tc.request("POST", `${N}/routers`, { token: m.token, body: { router: { name: unique("r") } } });
  if (r.status === 404) return t.skip("routers API not available");
  assert.equal(r.status, 201, r.text);
  const router = r.body.router;
  const add = await tc.request("PUT", `${N}/routers/${router.id}/add_router_interface`, { token: m.token, body: { subnet_id: sub.id } });
  assert.equal(add.status, 200, add.text);
  const intf = (await tc.request("GET", `${N}/ports/${add.body.port_id}`, { token: admin })).body.port;
  assert.equal(intf.device_owner, "network:router_interface");
  assert.equal(intf.device_id, router.id);
  assert.equal(intf.project_id, m.projectId);
  assert.equal(intf.status, "ACTIVE", "the L3 agent's host binds it");
  assert.notEqual(intf["binding:host_id"], "");
  assert.equal(intf["binding:vif_type"], "ovs");
  assert.equal(intf.port_security_enabled, false);
  assert.deepEqual(intf.security_groups, []);
  assertNeutronError(
    await tc.request("DELETE", `${N}/ports/${intf.id}`, { token: m.token }),
    409,
    "ServicePortInUse",
    `Port ${intf.id} cannot be deleted directly via the port API: has device owner network:router_interface.`,
  );

  // A DHCP port, if the subnet made one, is the DHCP agent's: bound and ACTIVE.
  const dhcp = (await tc.request("GET", `${N}/ports?network_id=${net.id}&device_owner=network:dhcp`, { token: admin })).body.ports;
  for (const d of dhcp) {
    assert.equal(d.status, "ACTIVE");
    assert.notEqual(d["binding:host_id"], "");
  }

  // Deleting a port disassociates its floating IP.
  const pub = (await tc.request("GET", `${N}/networks?router:external=true&name=public`, { token: admin })).body.networks[0];
  const gw = await tc.request("PUT", `${N}/routers/${router.id}`, { token: m.token, body: { router: { external_gateway_info: { network_id: pub.id } } } });
  assert.equal(gw.status, 200, gw.text);
  const vm = await port(m.token, { network_id: net.id });
  const fip = await tc.request("POST", `${N}/floatingips`, { token: m.token, body: { floatingip: { floating_network_id: pub.id, port_id: vm.id } } });
  if (fip.status === 404) return t.skip("floating IPs API not available");
  assert.equal(fip.status, 201, fip.text);
  assert.equal(fip.body.floatingip.port_id, vm.id);
  const fipPort = (await tc.request("GET", `${N}/ports?device_id=${fip.body.floatingip.id}`, { token: admin })).body.ports[0];
  assert.equal(fipPort.device_owner, "network:floatingip");
  assert.equal(fipPort.status, "N/A");
  assert.equal(fipPort.project_id, "");
  assertNeutronError(await tc.request("GET", `${N}/ports/${fipPort.id}`, { token: m.token }), 404, "PortNotFound");
  assertNeutronError(await tc.request("DELETE", `${N}/ports/${fipPort.id}`, { token: admin }), 409, "ServicePortInUse");
  assert.equal((await tc.request("DELETE", `${N}/ports/${vm.id}`, { token: m.token })).status, 204);
  const after = await tc.request("GET", `${N}/floatingips/${fip.body.floatingip.id}`, { token: m.token });
  assert.equal(after.body.floatingip.port_id, null);
  assert.equal(after.body.floatingip.fixed_ip_address, null);
});
