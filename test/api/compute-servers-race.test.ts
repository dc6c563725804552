/**
 * Servers racing for the last capacity: hosts that hold one server each, more boots than
 * hosts at once — Placement's claims decide, nothing is oversubscribed, the losers end in
 * ERROR (NoValidHost). Time is a ManualClock: builds run only when the test drains the tasks.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { ManualClock } from "../../src/common/clock.js";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import { computeApi, makeFlavor, makeImage } from "../support/compute.js";

const clock = new ManualClock();
// 1536 MB hosts: 512 MB reserved, room for exactly one 1024 MB server each.
const tc = await startTestCloud({ compute: { hosts: 3, hostMemoryMb: 1536, latencyMs: { spawn: 5000 } } as never }, { clock });
after(() => tc.close());
const api = computeApi(tc, "2.37");

test("concurrent boots racing for the last capacity: no oversubscription", async () => {
  const m = await persona(tc, "member");
  const admin = await tc.adminToken();
  await api.put(admin, `/os-quota-sets/${m.projectId}`, { quota_set: { instances: 50, cores: 50, ram: -1 } });
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc, { ram: 1024 });
  const boots = await Promise.all(
    Array.from({ length: 6 }, () => api.post(m.token, "/servers", { server: { name: unique("race"), imageRef: image, flavorRef: flavor, networks: "none" } })),
  );
  for (const b of boots) assert.equal(b.status, 202, b.text);
  // Scheduling and claims run now; the spawns wait for the driver's latency on the clock.
  await tc.cloud.tasks.drain();
  let d = await api.get(m.token, "/servers/detail");
  const building = d.body.servers.filter((s: { status: string }) => s.status === "BUILD").length;
  assert.equal(building, 3, "three claimed a host and wait for the spawn");
  clock.advance(5000);
  await tc.cloud.tasks.drain();
  d = await api.get(admin, `/servers/detail?all_tenants=1&project_id=${m.projectId}`);
  const active = d.body.servers.filter((s: { status: string }) => s.status === "ACTIVE");
  const errors = d.body.servers.filter((s: { status: string }) => s.status === "ERROR");
  assert.equal(active.length, 3);
  assert.equal(errors.length, 3);
  assert.equal(new Set(active.map((s: Record<string, string>) => s["OS-EXT-SRV-ATTR:host"])).size, 3);
  for (const e of errors) assert.match(e.fault.message, /^No valid host was found/);
  const rps = await tc.request("GET", "/placement/resource_providers", { token: admin });
  for (const rp of rps.body.resource_providers) {
    const u = await tc.request("GET", `/placement/resource_providers/${rp.uuid}/usages`, { token: admin });
    assert.ok(u.body.usages.MEMORY_MB <= 1024, JSON.stringify(u.body));
  }
  for (const s of d.body.servers) assert.equal((await api.del(m.token, `/servers/${s.id}`)).status, 204);
  clock.advance(60_000);
  await tc.cloud.tasks.drain();
});

test("delete while building: nothing is left claimed or bound once the build's tasks run", async () => {
  const m = await persona(tc, "member");
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc, { ram: 256 });
  const net = await tc.request("POST", "/networking/v2.0/networks", { token: m.token, body: { network: { name: unique("n") } } });
  await tc.request("POST", "/networking/v2.0/subnets", { token: m.token, body: { subnet: { network_id: net.body.network.id, cidr: "10.9.0.0/24", ip_version: 4 } } });
  const r = await api.post(m.token, "/servers", { server: { name: unique("del"), imageRef: image, flavorRef: flavor, networks: [{ uuid: net.body.network.id }] } });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id;
  // Scheduled and networked; the spawn waits on the clock. Delete now.
  await tc.cloud.tasks.drain();
  const mid = await api.get(m.token, `/servers/${id}`);
  assert.equal(mid.body.server.status, "BUILD");
  assert.equal((await api.del(m.token, `/servers/${id}`)).status, 204);
  clock.advance(10_000);
  await tc.cloud.tasks.drain();
  assert.equal((await api.get(m.token, `/servers/${id}`)).status, 404);
  const admin = await tc.adminToken();
  const alloc = await tc.request("GET", `/placement/allocations/${id}`, { token: admin });
  assert.deepEqual(alloc.body.allocations, {});
  const ports = await tc.request("GET", `/networking/v2.0/ports?device_id=${id}`, { token: admin });
  assert.equal(ports.body.ports.length, 0);
});

test("multiple create: min/max count, names, reservation id; quota refusal", async () => {
  const m = await persona(tc, "member");
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc, { ram: 128 });
  const r = await api.post(m.token, "/servers", { server: { name: "multi", imageRef: image, flavorRef: flavor, networks: "none", min_count: 2, max_count: 3, return_reservation_id: true } });
  assert.equal(r.status, 202, r.text);
  assert.match(r.body.reservation_id, /^r-[0-9a-z]{8}$/);
  const l = await api.get(m.token, `/servers?reservation_id=${r.body.reservation_id}`);
  assert.deepEqual(l.body.servers.map((s: { name: string }) => s.name).sort(), ["multi-1", "multi-2", "multi-3"]);
  // Default quota: 10 instances; 3 used, 8 more is over.
  const over = await api.post(m.token, "/servers", { server: { name: "over", imageRef: image, flavorRef: flavor, networks: "none", min_count: 8 } });
  assert.equal(over.status, 403, over.text);
  assert.match(over.body.forbidden.message, /^Quota exceeded for instances/);
  await tc.cloud.tasks.drain();
});

test("a build task run again after a crash reuses its claim (no double allocation)", async () => {
  const m = await persona(tc, "member");
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc, { ram: 128 });
  const r = await api.post(m.token, "/servers", { server: { name: unique("crash"), imageRef: image, flavorRef: flavor, networks: "none" } });
  assert.equal(r.status, 202, r.text);
  const id = r.body.server.id as string;
  clock.advance(10_000);
  await tc.cloud.tasks.drain();
  // As if the first run claimed, then died before recording the host: the claim stays in
  // Placement, the instance is back at scheduling and the task runs again.
  const db = tc.cloud.database.db;
  await db.updateTable("cmp_instance").set({ vm_state: "building", task_state: "scheduling", host: null, node: null, launched_at: null }).where("uuid", "=", id).execute();
  await tc.cloud.tasks.enqueue("compute.build", { instance_uuid: id, request_id: "req-rerun" }, 0);
  await tc.cloud.tasks.drain();
  clock.advance(10_000);
  await tc.cloud.tasks.drain();
  const admin = await tc.adminToken();
  const s = await api.get(admin, `/servers/${id}`);
  assert.equal(s.body.server.status, "ACTIVE");
  const alloc = await tc.request("GET", `/placement/allocations/${id}`, { token: admin });
  const rp = (await tc.request("GET", `/placement/resource_providers?name=${s.body.server["OS-EXT-SRV-ATTR:host"]}`, { token: admin })).body.resource_providers[0];
  assert.deepEqual(Object.keys(alloc.body.allocations), [rp.uuid], "one claim, on the host the build recorded");
});
