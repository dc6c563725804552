/**
 * Servers: boot onto simulated hosts through Placement and Neutron, show/list with Nova's
 * views and filters, update, delete (allocations and ports released), personas, bad input.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import { assertComputeError, computeApi, makeFlavor, makeImage, makeNetwork, waitStatus } from "../support/compute.js";

const tc = await startTestCloud({ compute: { hosts: 4 } as never });
after(() => tc.close());
const api = computeApi(tc, "2.1");

test("boot a server: BUILD → ACTIVE on a host, port on the network, address shown", async () => {
  const m = await persona(tc, "member");
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc);
  const net = await makeNetwork(tc, m.token);
  const r = await api.post(m.token, "/servers", { server: { name: unique("vm"), imageRef: image, flavorRef: flavor, networks: [{ uuid: net.id }] } });
  assert.equal(r.status, 202, r.text);
  assert.match(r.body.server.id, /^[0-9a-f-]{36}$/);
  assert.equal(typeof r.body.server.adminPass, "string");
  assert.deepEqual(r.body.server.security_groups, [{ name: "default" }]);
  assert.ok(r.headers.get("location")?.endsWith(`/compute/v2.1/servers/${r.body.server.id}`));
  const s = await waitStatus(tc, m.token, r.body.server.id, ["ACTIVE", "ERROR"]);
  assert.equal(s.status, "ACTIVE", JSON.stringify(s));
  const addrs = s.addresses[net.name];
  assert.equal(addrs.length, 1, JSON.stringify(s.addresses));
  assert.match(addrs[0].addr, /^10\.20\.0\.\d+$/);
  assert.equal(addrs[0]["OS-EXT-IPS:type"], "fixed");
  assert.equal(s["OS-EXT-STS:vm_state"], "active");
  assert.equal(s["OS-EXT-STS:power_state"], 1);
  assert.equal(s["OS-EXT-SRV-ATTR:host"], undefined, "extended attributes are admin-only");
  const ports = await tc.request("GET", `/networking/v2.0/ports?device_id=${s.id}`, { token: m.token });
  assert.equal(ports.body.ports.length, 1);
  assert.equal(ports.body.ports[0].project_id, m.projectId);
  assert.match(ports.body.ports[0].device_owner, /^compute:/);
});

async function bootOne(token: string, extra: Record<string, unknown> = {}, version = "2.1"): Promise<string> {
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc);
  const r = await api.post(token, "/servers", { server: { name: unique("vm"), imageRef: image, flavorRef: flavor, ...extra } }, version);
  assert.equal(r.status, 202, r.text);
  return r.body.server.id as string;
}

test("list, detail, pagination and filters; another project sees nothing", async () => {
  const m = await persona(tc, "member");
  const net = await makeNetwork(tc, m.token, "10.30.0.0/24");
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(await bootOne(m.token, { networks: [{ uuid: net.id }], name: `lst-${i}` }));
  for (const id of ids) await waitStatus(tc, m.token, id, ["ACTIVE"]);
  const l = await api.get(m.token, "/servers");
  assert.equal(l.status, 200, l.text);
  assert.deepEqual(new Set(l.body.servers.map((s: { id: string }) => s.id)), new Set(ids));
  assert.deepEqual(Object.keys(l.body.servers[0]).sort(), ["id", "links", "name"]);
  // Newest first (created_at desc), then a page of 2 with a next link, then the rest.
  const p1 = await api.get(m.token, "/servers?limit=2");
  assert.equal(p1.body.servers.length, 2);
  assert.match(p1.body.servers_links[0].href, /marker=/);
  const marker = p1.body.servers[1].id;
  const p2 = await api.get(m.token, `/servers?limit=2&marker=${marker}`);
  assert.equal(p2.body.servers.length, 1);
  assert.equal(p2.body.servers_links, undefined);
  const bad = await api.get(m.token, "/servers?marker=00000000-0000-0000-0000-000000000000");
  assertComputeError(bad, 400, "marker [00000000-0000-0000-0000-000000000000] not found");
  const byName = await api.get(m.token, "/servers?name=lst-1");
  assert.deepEqual(byName.body.servers.map((s: { name: string }) => s.name), ["lst-1"]);
  const byStatus = await api.get(m.token, "/servers?status=SHUTOFF");
  assert.equal(byStatus.body.servers.length, 0);
  const badStatus = await api.get(m.token, "/servers?status=NOPE", "2.38");
  assertComputeError(badStatus, 400, "Invalid status value");
  const d = await api.get(m.token, "/servers/detail?status=ACTIVE");
  assert.equal(d.body.servers.length, 3);
  assert.equal(d.body.servers[0].status, "ACTIVE");
  assert.ok(d.body.servers[0].addresses[net.name][0].addr.startsWith("10.30.0."));
  const byIp = await api.get(m.token, `/servers?ip=${d.body.servers[0].addresses[net.name][0].addr.replaceAll(".", "\\.")}$`);
  assert.deepEqual(byIp.body.servers.map((s: { id: string }) => s.id), [d.body.servers[0].id]);
  const other = await persona(tc, "member");
  const ol = await api.get(other.token, "/servers/detail");
  assert.equal(ol.body.servers.length, 0);
  assertComputeError(await api.get(other.token, `/servers/${ids[0]}`), 404, `Instance ${ids[0]} could not be found.`);
  assertComputeError(await api.del(other.token, `/servers/${ids[0]}`), 404);
  // Admin: all_tenants with a project filter sees them, with the extended attributes.
  const admin = await tc.adminToken();
  const al = await api.get(admin, `/servers/detail?all_tenants=1&project_id=${m.projectId}`);
  assert.equal(al.body.servers.length, 3);
  assert.match(al.body.servers[0]["OS-EXT-SRV-ATTR:host"], /^compute-/);
  assertComputeError(await api.get(m.token, "/servers?all_tenants=1"), 403);
});

test("microversioned views: 2.47 flavor, 2.26 tags, 2.19 description, 2.9 locked, 2.73 locked_reason", async () => {
  const m = await persona(tc, "member");
  const id = await bootOne(m.token, { networks: "none", tags: ["a", "b"], description: "hello" }, "2.73");
  const s = await waitStatus(tc, m.token, id, ["ACTIVE"], { version: "2.73" });
  assert.deepEqual(s.tags, ["a", "b"]);
  assert.equal(s.description, "hello");
  assert.equal(s.locked, false);
  assert.equal(s.locked_reason, null);
  assert.equal(typeof s.flavor.vcpus, "number");
  assert.equal(s.flavor.id, undefined);
  assert.deepEqual(s.addresses, {});
  const old = await api.get(m.token, `/servers/${id}`, "2.1");
  assert.equal(old.body.server.tags, undefined);
  assert.equal(typeof old.body.server.flavor.id, "string");
  const tagged = await api.get(m.token, "/servers?tags=a,b", "2.26");
  assert.deepEqual(tagged.body.servers.map((x: { id: string }) => x.id), [id]);
  const notTagged = await api.get(m.token, "/servers?not-tags-any=b", "2.26");
  assert.equal(notTagged.body.servers.length, 0);
  const up = await api.put(m.token, `/servers/${id}`, { server: { name: "renamed", description: null } }, "2.19");
  assert.equal(up.status, 200, up.text);
  assert.equal(up.body.server.name, "renamed");
  assert.equal(up.body.server.description, null);
  assert.equal(up.body.server["OS-EXT-STS:vm_state"], undefined, "PUT before 2.75 shows the base view");
});

test("a reader cannot create; bad input is refused with nothing written", async () => {
  const m = await persona(tc, "member");
  const r = await persona(tc, "reader", { projectId: m.projectId });
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc);
  const deny = await api.post(r.token, "/servers", { server: { name: "x", imageRef: image, flavorRef: flavor } });
  assertComputeError(deny, 403, /os_compute_api:servers:create/);
  assertComputeError(await api.post(m.token, "/servers", { server: { name: "x", imageRef: image } }), 400, /'flavorRef' is a required property/);
  assertComputeError(await api.post(m.token, "/servers", { server: { name: "x", imageRef: image, flavorRef: "nope" } }), 400, "Flavor nope could not be found.");
  assertComputeError(await api.post(m.token, "/servers", { server: { name: "x", imageRef: "6b8d6a6e-0a1e-4d59-9a5c-5d1f8c1b2a3c", flavorRef: flavor } }), 400, "Can not find requested image");
  assertComputeError(await api.post(m.token, "/servers", { server: { name: "x", imageRef: image, flavorRef: flavor, networks: [{ uuid: "6b8d6a6e-0a1e-4d59-9a5c-5d1f8c1b2a3c" }] } }), 400, "Network 6b8d6a6e-0a1e-4d59-9a5c-5d1f8c1b2a3c could not be found.");
  assertComputeError(await api.post(m.token, "/servers", { server: { name: "x", imageRef: image, flavorRef: flavor, key_name: "nokey" } }), 400, "Invalid key_name provided.");
  assertComputeError(await api.post(m.token, "/servers", { server: { name: "x", imageRef: image, flavorRef: flavor, bogus: 1 } }), 400, /Additional properties are not allowed/);
  assertComputeError(await api.post(m.token, "/servers", { server: { name: "x", imageRef: image, flavorRef: flavor } }, "2.37"), 400, /'networks' is a required property/);
  assertComputeError(await api.post(m.token, "/servers", { server: { name: "x", imageRef: image, flavorRef: flavor, availability_zone: "nowhere" } }), 400, "The requested availability zone is not available");
  assertComputeError(await api.post(m.token, "/servers", { server: { name: "x", flavorRef: flavor, block_device_mapping_v2: [{ source_type: "volume", destination_type: "volume", uuid: "6b8d6a6e-0a1e-4d59-9a5c-5d1f8c1b2a3c", boot_index: 0 }] } }), 400, /failed to get volume/);
  const l = await api.get(m.token, "/servers");
  assert.equal(l.body.servers.length, 0);
});

test("NoValidHost: a flavor no host can hold ends in ERROR with the fault", async () => {
  const m = await persona(tc, "member");
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc, { ram: 10_000_000 });
  const admin = await tc.adminToken();
  // Quota would refuse it first: lift the project's ram/cores quota.
  await api.put(admin, `/os-quota-sets/${m.projectId}`, { quota_set: { ram: -1 } });
  const r = await api.post(m.token, "/servers", { server: { name: unique("big"), imageRef: image, flavorRef: flavor, networks: "none" } }, "2.37");
  assert.equal(r.status, 202, r.text);
  const s = await waitStatus(tc, m.token, r.body.server.id, ["ERROR", "ACTIVE"]);
  assert.equal(s.status, "ERROR");
  assert.equal(s.fault.code, 500);
  assert.equal(s.fault.message, "No valid host was found. There are not enough hosts available.");
  assert.equal(s.fault.details, undefined, "details of a 500 fault are admin-only");
  const del = await api.del(m.token, `/servers/${s.id}`);
  assert.equal(del.status, 204);
  assertComputeError(await api.get(m.token, `/servers/${s.id}`), 404);
});

test("a spawn failure reschedules to another host; three failures end in ERROR", async () => {
  const driver = tc.cloud.compute.driver as unknown as { failNext(op: string, host?: string, message?: string, count?: number): void };
  const m = await persona(tc, "member");
  driver.failNext("spawn", "*", "Simulated spawn failure", 1);
  const id = await bootOne(m.token, { networks: "none" }, "2.37");
  const s = await waitStatus(tc, m.token, id, ["ACTIVE", "ERROR"]);
  assert.equal(s.status, "ACTIVE");
  const faults = await tc.cloud.database.db.selectFrom("cmp_instance_fault").selectAll().where("instance_uuid", "=", id).execute();
  assert.equal(faults.length, 1);
  assert.equal(faults[0]!.message, "Simulated spawn failure");
  const admin = await tc.adminToken();
  const shown = await api.get(admin, `/servers/${id}`);
  assert.notEqual(shown.body.server["OS-EXT-SRV-ATTR:host"], faults[0]!.host, "rescheduled to another host");

  driver.failNext("spawn", "*", "Simulated spawn failure", 3);
  const id2 = await bootOne(m.token, { networks: "none" }, "2.37");
  const e = await waitStatus(tc, m.token, id2, ["ACTIVE", "ERROR"]);
  assert.equal(e.status, "ERROR");
  assert.match(e.fault.message, /^Exceeded maximum number of retries\. Exhausted all hosts available for retrying build failures for instance/);
  const alloc = await tc.request("GET", `/placement/allocations/${id2}`, { token: admin });
  assert.deepEqual(alloc.body.allocations, {}, "no allocation left behind");
});

test("delete releases the allocations and the ports Nova made; a user port is unbound", async () => {
  const m = await persona(tc, "member");
  const net = await makeNetwork(tc, m.token, "10.40.0.0/24");
  const up = await tc.request("POST", "/networking/v2.0/ports", { token: m.token, body: { port: { network_id: net.id, name: "mine" } } });
  assert.equal(up.status, 201, up.text);
  const id = await bootOne(m.token, { networks: [{ uuid: net.id }, { port: up.body.port.id }] });
  const s = await waitStatus(tc, m.token, id, ["ACTIVE"]);
  assert.equal(s.addresses[net.name].length, 2);
  const admin = await tc.adminToken();
  const alloc = await tc.request("GET", `/placement/allocations/${id}`, { token: admin });
  assert.equal(Object.keys(alloc.body.allocations).length, 1);
  const ports = await tc.request("GET", `/networking/v2.0/ports?device_id=${id}`, { token: m.token });
  assert.equal(ports.body.ports.length, 2);
  const d = await api.del(m.token, `/servers/${id}`);
  assert.equal(d.status, 204, d.text);
  await waitStatus(tc, m.token, id, ["DELETED"]);
  const after = await tc.request("GET", `/placement/allocations/${id}`, { token: admin });
  assert.deepEqual(after.body.allocations, {});
  const left = await tc.request("GET", `/networking/v2.0/ports?network_id=${net.id}&device_owner=compute:nova`, { token: m.token });
  assert.equal(left.body.ports.length, 0);
  const mine = await tc.request("GET", `/networking/v2.0/ports/${up.body.port.id}`, { token: m.token });
  assert.equal(mine.status, 200);
  assert.equal(mine.body.port.device_id, "");
  // changes-since still shows the deleted server.
  const since = await api.get(m.token, `/servers/detail?changes-since=${encodeURIComponent(s.created)}`);
  const gone = since.body.servers.find((x: { id: string }) => x.id === id);
  assert.equal(gone?.status, "DELETED");
});

test("anti-affinity spreads members over hosts and refuses one more than hosts", async () => {
  const m = await persona(tc, "member");
  const admin = await tc.adminToken();
  await api.put(admin, `/os-quota-sets/${m.projectId}`, { quota_set: { instances: 20, cores: 40, server_group_members: 20 } });
  const g = await api.post(m.token, "/os-server-groups", { server_group: { name: unique("g"), policies: ["anti-affinity"] } });
  assert.equal(g.status, 200, g.text);
  assert.deepEqual(g.body.server_group.policies, ["anti-affinity"]);
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc);
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await api.post(m.token, "/servers", { server: { name: unique("aa"), imageRef: image, flavorRef: flavor }, "os:scheduler_hints": { group: g.body.server_group.id } });
    assert.equal(r.status, 202, r.text);
    ids.push(r.body.server.id);
  }
  const hosts = new Set<string>();
  for (const id of ids) {
    await waitStatus(tc, m.token, id, ["ACTIVE"]);
    hosts.add((await api.get(admin, `/servers/${id}`)).body.server["OS-EXT-SRV-ATTR:host"]);
  }
  assert.equal(hosts.size, 4);
  const r = await api.post(m.token, "/servers", { server: { name: unique("aa"), imageRef: image, flavorRef: flavor }, "os:scheduler_hints": { group: g.body.server_group.id } });
  const e = await waitStatus(tc, m.token, r.body.server.id, ["ACTIVE", "ERROR"]);
  assert.equal(e.status, "ERROR");
  assert.match(e.fault.message, /^No valid host was found/);
  const shown = await api.get(m.token, `/os-server-groups/${g.body.server_group.id}`, "2.64");
  assert.equal(shown.body.server_group.policy, "anti-affinity");
  assert.equal(shown.body.server_group.members.length, 5);
});

test("networks auto/none (2.37), ambiguity, and security groups by name", async () => {
  const m = await persona(tc, "member");
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc);
  const none = await api.post(m.token, "/servers", { server: { name: "a", imageRef: image, flavorRef: flavor, networks: "auto" } }, "2.37");
  assertComputeError(none, 400, `Unable to automatically allocate a network for project ${m.projectId}`);
  const net = await makeNetwork(tc, m.token, "10.60.0.0/24");
  const sg = await tc.request("POST", "/networking/v2.0/security-groups", { token: m.token, body: { security_group: { name: "web" } } });
  assert.equal(sg.status, 201, sg.text);
  const r = await api.post(m.token, "/servers", { server: { name: "b", imageRef: image, flavorRef: flavor, networks: "auto", security_groups: [{ name: "web" }] } }, "2.37");
  assert.equal(r.status, 202, r.text);
  assert.deepEqual(r.body.server.security_groups, [{ name: "web" }]);
  const s = await waitStatus(tc, m.token, r.body.server.id, ["ACTIVE"]);
  assert.ok(s.addresses[net.name]);
  assert.deepEqual(s.security_groups, [{ name: "web" }]);
  assertComputeError(await api.post(m.token, "/servers", { server: { name: "c", imageRef: image, flavorRef: flavor, security_groups: [{ name: "nope" }] } }), 400, "Security group nope not found.");
  await makeNetwork(tc, m.token, "10.61.0.0/24");
  assertComputeError(await api.post(m.token, "/servers", { server: { name: "d", imageRef: image, flavorRef: flavor } }), 409, /^More than one possible network found/);
  const n = await api.post(m.token, "/servers", { server: { name: "e", imageRef: image, flavorRef: flavor, networks: "none" } }, "2.37");
  assert.equal(n.status, 202, n.text);
  const e = await waitStatus(tc, m.token, n.body.server.id, ["ACTIVE"]);
  assert.deepEqual(e.addresses, {});
});

test("Neutron's port quota is checked before anything is created", async () => {
  const m = await persona(tc, "member");
  const admin = await tc.adminToken();
  const net = await makeNetwork(tc, m.token, "10.70.0.0/24");
  const q = await tc.request("PUT", `/networking/v2.0/quotas/${m.projectId}`, { token: admin, body: { quota: { port: 2 } } });
  // The DHCP port of the subnet counts too: one port is free.
  assert.equal(q.status, 200, q.text);
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc);
  const r = await api.post(m.token, "/servers", { server: { name: "p", imageRef: image, flavorRef: flavor, networks: [{ uuid: net.id }], min_count: 2 } });
  assertComputeError(r, 403, "Maximum number of ports exceeded");
  assert.equal((await api.get(m.token, "/servers")).body.servers.length, 0);
  const two = await api.post(m.token, "/servers", { server: { name: "p", imageRef: image, flavorRef: flavor, networks: [{ uuid: net.id }], max_count: 2, return_reservation_id: true } });
  assert.equal(two.status, 202, two.text);
  const l = await api.get(m.token, `/servers?reservation_id=${two.body.reservation_id}`);
  assert.equal(l.body.servers.length, 1, "as many as the free ports allow");
});
