/**
 * Server actions on a cloud whose live migrations take long (latency on the Clock): live
 * migrations in progress listed under /servers/{id}/migrations, aborted (allocations back to
 * the source) and force-completed; shelve without offload (shelved_offload_time -1), then
 * shelveOffload and unshelve; a second request while a task runs is a 409.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import type { Body } from "../support/compute.js";
import { assertComputeError, computeApi, makeFlavor, makeImage, waitStatus } from "../support/compute.js";

const tc = await startTestCloud({ compute: { hosts: 3, latencyMs: { live_migrate: 600_000, reboot: 600_000, power_off: 600_000, pause: 600_000, resize: 600_000, migrate: 600_000 }, shelvedOffloadTime: -1 } as never });
after(() => tc.close());
const api = computeApi(tc, "2.1");
const act = (token: string, id: string, body: unknown, v?: string) => api.post(token, `/servers/${id}/action`, body, v);

async function boot(token: string): Promise<Body> {
  const r = await api.post(token, "/servers", { server: { name: unique("vm"), imageRef: await makeImage(tc), flavorRef: await makeFlavor(tc), networks: "none" } }, "2.37");
  assert.equal(r.status, 202, r.text);
  return waitStatus(tc, token, r.body.server.id, ["ACTIVE"]);
}

async function allocations(consumer: string): Promise<Record<string, unknown>> {
  const r = await tc.request("GET", `/placement/allocations/${consumer}`, { token: await tc.adminToken(), headers: { "openstack-api-version": "placement 1.28" } });
  return r.body.allocations;
}

async function hostOf(id: string): Promise<string> {
  return (await api.get(await tc.adminToken(), `/servers/${id}`)).body.server["OS-EXT-SRV-ATTR:host"];
}

async function running(admin: string, id: string): Promise<Body> {
  for (let i = 0; i < 300; i++) {
    const l = await api.get(admin, `/servers/${id}/migrations`, "2.80");
    assert.equal(l.status, 200, l.text);
    if (l.body.migrations[0]?.status === "running") return l.body.migrations[0];
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("live migration never ran");
}

test("live migration in progress: listed, shown, aborted back to the source", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  const admin = await tc.adminToken();
  const src = await hostOf(s.id);
  assert.equal((await act(admin, s.id, { "os-migrateLive": { host: null, block_migration: "auto" } }, "2.25")).status, 202);
  const mig = await running(admin, s.id);
  assert.equal(mig.server_uuid, s.id);
  assert.equal(mig.source_compute, src);
  assert.notEqual(mig.dest_compute, src);
  assert.equal(mig.project_id, m.projectId);
  assert.equal(mig.memory_total_bytes, null);
  const shown = await api.get(admin, `/servers/${s.id}/migrations/${mig.id}`, "2.59");
  assert.equal(shown.status, 200, shown.text);
  assert.equal(shown.body.migration.uuid, mig.uuid);
  assert.equal(shown.body.migration.user_id, undefined);
  assert.equal((await api.get(m.token, `/servers/${s.id}`)).body.server.status, "MIGRATING");
  // Allocations: the migration holds the source, the instance the destination.
  assert.equal(Object.keys(await allocations(mig.uuid)).length, 1);
  const list = await api.get(admin, `/os-migrations?instance_uuid=${s.id}`, "2.23");
  assert.match(list.body.migrations[0].links[0].href, new RegExp(`/servers/${s.id}/migrations/${mig.id}$`));
  assertComputeError(await act(m.token, s.id, { "os-stop": null }), 409, `Cannot 'stop' instance ${s.id} while it is in task_state migrating`);
  assertComputeError(await api.del(admin, `/servers/${s.id}/migrations/${mig.id}`, "2.23"), 404);
  assertComputeError(await api.del(m.token, `/servers/${s.id}/migrations/${mig.id}`, "2.24"), 403);
  const ab = await api.del(admin, `/servers/${s.id}/migrations/${mig.id}`, "2.24");
  assert.equal(ab.status, 202, ab.text);
  const back = await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  assert.equal(await hostOf(back.id), src);
  assert.deepEqual(await allocations(mig.uuid), {});
  const after = (await api.get(admin, `/os-migrations?instance_uuid=${s.id}`, "2.59")).body.migrations[0];
  assert.equal(after.status, "cancelled");
  assertComputeError(await api.get(admin, `/servers/${s.id}/migrations/${mig.id}`, "2.23"), 404, /is not in progress/);
  const acts = (await api.get(admin, `/servers/${s.id}/os-instance-actions`)).body.instanceActions.map((a: Body) => a.action);
  assert.deepEqual(acts.slice(0, 2), ["live_migration_cancel", "live-migration"]);
});

test("force_complete finishes a running live migration now", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  const admin = await tc.adminToken();
  const src = await hostOf(s.id);
  assert.equal((await act(admin, s.id, { "os-migrateLive": { host: null, block_migration: false } }, "2.25")).status, 202);
  const mig = await running(admin, s.id);
  assertComputeError(await api.post(admin, `/servers/${s.id}/migrations/${mig.id}/action`, { force_complete: null }, "2.21"), 404);
  assertComputeError(await api.post(admin, `/servers/${s.id}/migrations/${mig.id}/action`, { force_complete: {} }, "2.22"), 400, /is not of type 'null'/);
  const fc = await api.post(admin, `/servers/${s.id}/migrations/${mig.id}/action`, { force_complete: null }, "2.22");
  assert.equal(fc.status, 202, fc.text);
  await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  assert.notEqual(await hostOf(s.id), src);
  assert.deepEqual(await allocations(mig.uuid), {});
  assertComputeError(await api.post(admin, `/servers/${s.id}/migrations/${mig.id}/action`, { force_complete: null }, "2.22"), 409, /'force_complete'/);
});

test("a task in progress refuses other actions; delete still works", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  assert.equal((await act(m.token, s.id, { reboot: { type: "SOFT" } })).status, 202);
  assert.equal((await api.get(m.token, `/servers/${s.id}`)).body.server.status, "REBOOT");
  assertComputeError(await act(m.token, s.id, { reboot: { type: "SOFT" } }), 409, `Cannot 'reboot' instance ${s.id} while it is in task_state rebooting`);
  assertComputeError(await act(m.token, s.id, { pause: null }), 409, `Cannot 'pause' instance ${s.id} while it is in task_state rebooting`);
  // HARD reboot may take over a soft one (task_states.ALLOW_REBOOT).
  assert.equal((await act(m.token, s.id, { reboot: { type: "HARD" } })).status, 202);
  assert.equal((await api.get(m.token, `/servers/${s.id}`)).body.server.status, "HARD_REBOOT");
  assert.equal((await api.del(m.token, `/servers/${s.id}`)).status, 204);
  await waitStatus(tc, m.token, s.id, ["DELETED"]);
  assert.deepEqual(await allocations(s.id), {});
});

test("shelve without offload (shelved_offload_time -1): SHELVED keeps its host; shelveOffload; unshelve", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  const admin = await tc.adminToken();
  const host = await hostOf(s.id);
  assert.equal((await act(m.token, s.id, { shelve: null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["SHELVED"]);
  assert.equal(await hostOf(s.id), host);
  assert.equal(Object.keys(await allocations(s.id)).length, 1);
  assertComputeError(await act(m.token, s.id, { unshelve: { availability_zone: "nova" } }, "2.77"), 409);
  assertComputeError(await act(m.token, s.id, { shelveOffload: null }), 403);
  assert.equal((await act(admin, s.id, { shelveOffload: null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["SHELVED_OFFLOADED"]);
  assert.equal(await hostOf(s.id), null);
  assert.deepEqual(await allocations(s.id), {});
  assertComputeError(await act(admin, s.id, { unshelve: { host: "no-such-host" } }, "2.91"), 400, "Compute host no-such-host could not be found.");
  assert.equal((await act(admin, s.id, { unshelve: { host } }, "2.91")).status, 202);
  await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  assert.equal(await hostOf(s.id), host);
  // Shelve and unshelve from SHELVED (not offloaded): powers on where it is.
  assert.equal((await act(m.token, s.id, { shelve: null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["SHELVED"]);
  assert.equal((await act(m.token, s.id, { unshelve: null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  assert.equal(await hostOf(s.id), host);
});

test("concurrent actions on one server: exactly one wins, the others are 409 with nothing half-done", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  const admin = await tc.adminToken();
  const flavor = await makeFlavor(tc, { vcpus: 2, ram: 1024, disk: 1 });
  const rs = await Promise.all([
    act(m.token, s.id, { "os-stop": null }),
    act(m.token, s.id, { "os-stop": null }),
    act(m.token, s.id, { pause: null }),
    act(m.token, s.id, { resize: { flavorRef: flavor } }),
    act(admin, s.id, { migrate: null }),
  ]);
  const won = rs.filter((r) => r.status === 202);
  assert.equal(won.length, 1, rs.map((r) => `${r.status} ${r.text}`).join("\n"));
  for (const r of rs.filter((x) => x.status !== 202)) assertComputeError(r, 409);
  // At most one migration record exists and the server settles.
  const migs = (await api.get(admin, `/os-migrations?instance_uuid=${s.id}`, "2.59")).body.migrations;
  assert.ok(migs.length <= 1, JSON.stringify(migs));
  // The winner's task is under way (its driver step takes long here).
  const cur = (await api.get(m.token, `/servers/${s.id}`)).body.server;
  assert.ok(["powering-off", "pausing", "resize_prep", "resize_migrating"].includes(cur["OS-EXT-STS:task_state"]), cur["OS-EXT-STS:task_state"]);
});
