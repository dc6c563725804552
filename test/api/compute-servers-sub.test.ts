/**
 * Sub-resources of a server: metadata, tags (2.26), ips, os-interface, server groups, simple
 * tenant usage — their bodies, limits and refusals.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import { assertComputeError, computeApi, makeFlavor, makeImage, makeNetwork, waitStatus } from "../support/compute.js";

const tc = await startTestCloud({ compute: { hosts: 2 } as never });
after(() => tc.close());
const api = computeApi(tc, "2.1");

async function boot(token: string, extra: Record<string, unknown> = {}): Promise<string> {
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc);
  const r = await api.post(token, "/servers", { server: { name: unique("vm"), imageRef: image, flavorRef: flavor, ...extra } });
  assert.equal(r.status, 202, r.text);
  await waitStatus(tc, token, r.body.server.id, ["ACTIVE"]);
  return r.body.server.id;
}

test("server metadata: CRUD, URI mismatch, not found, quota", async () => {
  const m = await persona(tc, "member");
  const id = await boot(m.token, { metadata: { a: "1" } });
  assert.deepEqual((await api.get(m.token, `/servers/${id}/metadata`)).body, { metadata: { a: "1" } });
  const c = await api.post(m.token, `/servers/${id}/metadata`, { metadata: { b: "2" } });
  assert.deepEqual(c.body, { metadata: { a: "1", b: "2" } });
  const u = await api.put(m.token, `/servers/${id}/metadata`, { metadata: { c: "3" } });
  assert.deepEqual(u.body, { metadata: { c: "3" } });
  assert.deepEqual((await api.put(m.token, `/servers/${id}/metadata/d`, { meta: { d: "4" } })).body, { meta: { d: "4" } });
  assert.deepEqual((await api.get(m.token, `/servers/${id}/metadata/d`)).body, { meta: { d: "4" } });
  assertComputeError(await api.put(m.token, `/servers/${id}/metadata/x`, { meta: { d: "4" } }), 400, "Request body and URI mismatch");
  assertComputeError(await api.put(m.token, `/servers/${id}/metadata/x`, { meta: { x: "1", y: "2" } }), 400);
  assertComputeError(await api.get(m.token, `/servers/${id}/metadata/nope`), 404, "Metadata item was not found");
  assert.equal((await api.del(m.token, `/servers/${id}/metadata/d`)).status, 204);
  assertComputeError(await api.del(m.token, `/servers/${id}/metadata/d`), 404, "Metadata item was not found");
  const many: Record<string, string> = {};
  for (let i = 0; i < 129; i++) many[`k${i}`] = "v";
  assertComputeError(await api.put(m.token, `/servers/${id}/metadata`, { metadata: many }), 403, "Maximum number of metadata items exceeds 128");
  assertComputeError(await api.post(m.token, `/servers/${id}/metadata`, { metadata: { "bad/key": "v" } }), 400);
  const other = await persona(tc, "member");
  assertComputeError(await api.get(other.token, `/servers/${id}/metadata`), 404);
});

test("server tags (2.26): add, check, replace, delete; limits and bad tags", async () => {
  const m = await persona(tc, "member");
  const id = await boot(m.token);
  const v = "2.26";
  assertComputeError(await api.get(m.token, `/servers/${id}/tags`, "2.25"), 404);
  const add = await api.put(m.token, `/servers/${id}/tags/t1`, undefined, v);
  assert.equal(add.status, 201, add.text);
  assert.ok(add.headers.get("location")?.endsWith(`/servers/${id}/tags/t1`));
  assert.equal((await api.put(m.token, `/servers/${id}/tags/t1`, undefined, v)).status, 204);
  assert.equal((await api.get(m.token, `/servers/${id}/tags/t1`, v)).status, 204);
  assertComputeError(await api.get(m.token, `/servers/${id}/tags/none`, v), 404, `Server ${id} has no tag 'none'`);
  const all = await api.put(m.token, `/servers/${id}/tags`, { tags: ["x", "y"] }, v);
  assert.deepEqual(all.body, { tags: ["x", "y"] });
  assertComputeError(await api.put(m.token, `/servers/${id}/tags`, { tags: ["a,b"] }, v), 400);
  assertComputeError(await api.put(m.token, `/servers/${id}/tags`, { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, v), 400);
  assert.equal((await api.del(m.token, `/servers/${id}/tags/x`, v)).status, 204);
  assertComputeError(await api.del(m.token, `/servers/${id}/tags/x`, v), 404);
  assert.equal((await api.del(m.token, `/servers/${id}/tags`, v)).status, 204);
  assert.deepEqual((await api.get(m.token, `/servers/${id}/tags`, v)).body, { tags: [] });
});

test("ips and os-interface: list, attach a network and a port, detach", async () => {
  const m = await persona(tc, "member");
  const n1 = await makeNetwork(tc, m.token, "10.50.0.0/24");
  const n2 = await makeNetwork(tc, m.token, "10.51.0.0/24");
  const id = await boot(m.token, { networks: [{ uuid: n1.id }] });
  const ips = await api.get(m.token, `/servers/${id}/ips`);
  assert.equal(ips.status, 200, ips.text);
  assert.deepEqual(Object.keys(ips.body.addresses), [n1.name]);
  assert.deepEqual(Object.keys(ips.body.addresses[n1.name][0]).sort(), ["addr", "version"]);
  const one = await api.get(m.token, `/servers/${id}/ips/${n1.name}`);
  assert.equal(one.body[n1.name].length, 1);
  assertComputeError(await api.get(m.token, `/servers/${id}/ips/nonet`), 404, "Instance is not a member of specified network");
  const list = await api.get(m.token, `/servers/${id}/os-interface`);
  assert.equal(list.body.interfaceAttachments.length, 1);
  assert.equal(list.body.interfaceAttachments[0].net_id, n1.id);
  const att = await api.post(m.token, `/servers/${id}/os-interface`, { interfaceAttachment: { net_id: n2.id, fixed_ips: [{ ip_address: "10.51.0.77" }] } });
  assert.equal(att.status, 200, att.text);
  assert.equal(att.body.interfaceAttachment.fixed_ips[0].ip_address, "10.51.0.77");
  const s = await api.get(m.token, `/servers/${id}`);
  assert.equal(s.body.server.addresses[n2.name][0].addr, "10.51.0.77");
  assertComputeError(await api.post(m.token, `/servers/${id}/os-interface`, { interfaceAttachment: { net_id: n2.id, port_id: att.body.interfaceAttachment.port_id } }), 400, "Must not input both network_id and port_id");
  const p = await tc.request("POST", "/networking/v2.0/ports", { token: m.token, body: { port: { network_id: n2.id } } });
  const att2 = await api.post(m.token, `/servers/${id}/os-interface`, { interfaceAttachment: { port_id: p.body.port.id } });
  assert.equal(att2.status, 200, att2.text);
  const shown = await api.get(m.token, `/servers/${id}/os-interface/${p.body.port.id}`);
  assert.equal(shown.body.interfaceAttachment.port_id, p.body.port.id);
  assert.equal((await api.del(m.token, `/servers/${id}/os-interface/${p.body.port.id}`)).status, 202);
  const after1 = await tc.request("GET", `/networking/v2.0/ports/${p.body.port.id}`, { token: m.token });
  assert.equal(after1.body.port.device_id, "", "a user's port is unbound, not deleted");
  assert.equal((await api.del(m.token, `/servers/${id}/os-interface/${att.body.interfaceAttachment.port_id}`)).status, 202);
  const gone = await tc.request("GET", `/networking/v2.0/ports/${att.body.interfaceAttachment.port_id}`, { token: m.token });
  assert.equal(gone.status, 404, "a port Nova created is deleted");
  assertComputeError(await api.del(m.token, `/servers/${id}/os-interface/${p.body.port.id}`), 404);
  const final = await api.get(m.token, `/servers/${id}/ips`);
  assert.deepEqual(Object.keys(final.body.addresses), [n1.name]);
});

test("server groups: create per microversion, list, show, delete, bad policy, quota", async () => {
  const m = await persona(tc, "member");
  const g1 = await api.post(m.token, "/os-server-groups", { server_group: { name: "g1", policies: ["affinity"] } }, "2.13");
  assert.equal(g1.status, 200, g1.text);
  assert.deepEqual(Object.keys(g1.body.server_group).sort(), ["id", "members", "metadata", "name", "policies", "project_id", "user_id"]);
  const g2 = await api.post(m.token, "/os-server-groups", { server_group: { name: "g2", policy: "anti-affinity", rules: { max_server_per_host: 2 } } }, "2.64");
  assert.equal(g2.status, 200, g2.text);
  assert.deepEqual(g2.body.server_group.rules, { max_server_per_host: 2 });
  assertComputeError(await api.post(m.token, "/os-server-groups", { server_group: { name: "x", policy: "affinity", rules: { max_server_per_host: 2 } } }, "2.64"), 400, "Only anti-affinity policy supports rules.");
  assertComputeError(await api.post(m.token, "/os-server-groups", { server_group: { name: "x", policies: ["soft-affinity"] } }, "2.14"), 400);
  assertComputeError(await api.post(m.token, "/os-server-groups", { server_group: { name: "x", policies: ["affinity", "anti-affinity"] } }), 400);
  const l = await api.get(m.token, "/os-server-groups");
  assert.equal(l.body.server_groups.length, 2);
  const other = await persona(tc, "member");
  assert.equal((await api.get(other.token, "/os-server-groups")).body.server_groups.length, 0);
  assertComputeError(await api.get(other.token, `/os-server-groups/${g1.body.server_group.id}`), 403);
  assert.equal((await api.del(m.token, `/os-server-groups/${g1.body.server_group.id}`)).status, 204);
  assertComputeError(await api.get(m.token, `/os-server-groups/${g1.body.server_group.id}`), 404);
  for (let i = 0; i < 9; i++) await api.post(m.token, "/os-server-groups", { server_group: { name: `q${i}`, policies: ["affinity"] } });
  assertComputeError(await api.post(m.token, "/os-server-groups", { server_group: { name: "over", policies: ["affinity"] } }), 403, "Quota exceeded, too many server groups.");
});

test("simple tenant usage: a project's instance hours; listing is admin-only", async () => {
  const m = await persona(tc, "member");
  const start = new Date(Date.now() - 3600_000).toISOString().replace("Z", "");
  await boot(m.token);
  const end = new Date(Date.now() + 3600_000).toISOString().replace("Z", "");
  const s = await api.get(m.token, `/os-simple-tenant-usage/${m.projectId}?start=${start}&end=${end}`);
  assert.equal(s.status, 200, s.text);
  assert.equal(s.body.tenant_usage.tenant_id, m.projectId);
  assert.equal(s.body.tenant_usage.server_usages.length, 1);
  assert.equal(s.body.tenant_usage.server_usages[0].state, "active");
  assertComputeError(await api.get(m.token, `/os-simple-tenant-usage?start=${start}&end=${end}`), 403);
  const admin = await tc.adminToken();
  const l = await api.get(admin, `/os-simple-tenant-usage?start=${start}&end=${end}&detailed=1`);
  assert.ok(l.body.tenant_usages.some((u: { tenant_id: string }) => u.tenant_id === m.projectId));
  assertComputeError(await api.get(admin, `/os-simple-tenant-usage?start=${end}&end=${start}`), 400, "Invalid start time. The start time cannot occur after the end time.");
});

test("a floating IP associated in Neutron shows in the server's addresses (show and lists)", async () => {
  const m = await persona(tc, "member");
  const admin = await tc.adminToken();
  const n = await makeNetwork(tc, m.token, "10.52.0.0/24");
  const pub = await tc.request("GET", "/networking/v2.0/networks?router:external=true", { token: admin });
  const publicId = pub.body.networks[0].id;
  const router = await tc.request("POST", "/networking/v2.0/routers", { token: m.token, body: { router: { name: unique("r"), external_gateway_info: { network_id: publicId } } } });
  assert.equal(router.status, 201, router.text);
  const itf = await tc.request("PUT", `/networking/v2.0/routers/${router.body.router.id}/add_router_interface`, { token: m.token, body: { subnet_id: n.subnetId } });
  assert.equal(itf.status, 200, itf.text);
  const id = await boot(m.token, { networks: [{ uuid: n.id }] });
  const ports = await tc.request("GET", `/networking/v2.0/ports?device_id=${id}`, { token: m.token });
  const fip = await tc.request("POST", "/networking/v2.0/floatingips", { token: m.token, body: { floatingip: { floating_network_id: publicId, port_id: ports.body.ports[0].id } } });
  assert.equal(fip.status, 201, fip.text);
  const addr = fip.body.floatingip.floating_ip_address;
  const d = await api.get(m.token, "/servers/detail");
  const s = d.body.servers.find((x: { id: string }) => x.id === id);
  const floating = s.addresses[n.name].filter((a: Record<string, string>) => a["OS-EXT-IPS:type"] === "floating");
  assert.deepEqual(floating.map((a: { addr: string }) => a.addr), [addr]);
  const shown = await api.get(m.token, `/servers/${id}`);
  assert.equal(shown.body.server.addresses[n.name].length, 2);
});

test("a requested availability zone places the server on a host of that zone (placement member_of)", async () => {
  const admin = await tc.adminToken();
  const agg = await api.post(admin, "/os-aggregates", { aggregate: { name: unique("agg"), availability_zone: "zz" } });
  assert.equal(agg.status, 200, agg.text);
  const add = await api.post(admin, `/os-aggregates/${agg.body.aggregate.id}/action`, { add_host: { host: "compute-00002" } });
  assert.equal(add.status, 200, add.text);
  const m = await persona(tc, "member");
  for (let i = 0; i < 2; i++) {
    const id = await boot(m.token, { availability_zone: "zz" });
    const s = await api.get(admin, `/servers/${id}`);
    assert.equal(s.body.server["OS-EXT-SRV-ATTR:host"], "compute-00002");
    assert.equal(s.body.server["OS-EXT-AZ:availability_zone"], "zz");
  }
});

test("personality files (≤ 2.56): base64 contents, injected_files quota (403), refused from 2.57; nothing is created on refusal", async () => {
  const m = await persona(tc, "member");
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc);
  const body = (personality: unknown): Record<string, unknown> => ({ server: { name: unique("pers"), imageRef: image, flavorRef: flavor, personality } });
  const count = async (): Promise<number> => (await api.get(m.token, "/servers")).body.servers.length;
  const before = await count();
  assertComputeError(await api.post(m.token, "/servers", body([{ path: "/etc/f.txt", contents: "This is a test file." }])), 400, "Personality content for /etc/f.txt cannot be decoded");
  assertComputeError(await api.post(m.token, "/servers", body([{ path: "/a", contents: "aGk=", mode: "0644" }])), 400);
  const six = Array.from({ length: 6 }, (_, i) => ({ path: `/f${i}`, contents: Buffer.from(`file ${i}`).toString("base64") }));
  assertComputeError(await api.post(m.token, "/servers", body(six)), 403, "Personality file limit exceeded");
  assertComputeError(await api.post(m.token, "/servers", body([{ path: `/${"p".repeat(300)}`, contents: "aGk=" }])), 403, "Personality file path exceeds maximum 255");
  assertComputeError(await api.post(m.token, "/servers", body([{ path: "/big", contents: Buffer.alloc(10241).toString("base64") }])), 403, "Personality file content exceeds maximum 10240");
  assert.equal(await count(), before);
  assertComputeError(await api.post(m.token, "/servers", body([{ path: "/a", contents: "aGk=" }]), "2.57"), 400);
  const ok = await api.post(m.token, "/servers", body(six.slice(0, 5)));
  assert.equal(ok.status, 202, ok.text);
  await waitStatus(tc, m.token, ok.body.server.id, ["ACTIVE"]);
});
