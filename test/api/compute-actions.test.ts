/**
 * Server actions: state machines (legal and illegal states → 409 with Nova's message), locks,
 * policy personas, resize/migrate with allocations in Placement, live migration, shelve,
 * evacuation, driver failures, instance actions.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { SimulatedHypervisorDriver } from "../../src/drivers/compute/simulated/simulated.js";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import type { Body } from "../support/compute.js";
import { assertComputeError, computeApi, makeFlavor, makeImage, makeNetwork, waitStatus } from "../support/compute.js";

const tc = await startTestCloud({ compute: { hosts: 4 } as never });
after(() => tc.close());
const api = computeApi(tc, "2.1");
const driver = tc.cloud.compute.driver as SimulatedHypervisorDriver;

async function boot(token: string, opts: { flavor?: string; net?: string; version?: string } = {}): Promise<Body> {
  const image = await makeImage(tc);
  const flavor = opts.flavor ?? (await makeFlavor(tc));
  const server: Record<string, unknown> = { name: unique("vm"), imageRef: image, flavorRef: flavor, networks: opts.net ? [{ uuid: opts.net }] : "none" };
  const r = await api.post(token, "/servers", { server }, opts.version ?? "2.37");
  assert.equal(r.status, 202, r.text);
  return waitStatus(tc, token, r.body.server.id, ["ACTIVE"]);
}

const act = (token: string, id: string, body: unknown, v?: string) => api.post(token, `/servers/${id}/action`, body, v);

/** Poll until no task runs on the server (ACTIVE covers image_uploading too). */
async function waitIdle(token: string, id: string): Promise<Body> {
  for (let i = 0; i < 400; i++) {
    const cur = await api.get(token, `/servers/${id}`);
    if (cur.body.server["OS-EXT-STS:task_state"] === null) return cur.body.server;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`server ${id} never became idle`);
}

async function adminShow(id: string): Promise<Body> {
  const r = await api.get(await tc.adminToken(), `/servers/${id}`, "2.1");
  assert.equal(r.status, 200, r.text);
  return r.body.server;
}

async function allocations(consumer: string): Promise<Record<string, { resources: Record<string, number> }>> {
  const r = await tc.request("GET", `/placement/allocations/${consumer}`, { token: await tc.adminToken(), headers: { "openstack-api-version": "placement 1.28" } });
  assert.equal(r.status, 200, r.text);
  return r.body.allocations;
}

async function providerOf(host: string): Promise<string> {
  const r = await tc.request("GET", `/placement/resource_providers?name=${host}`, { token: await tc.adminToken() });
  return r.body.resource_providers[0].uuid;
}

test("power cycle: stop, start, reboot, pause, suspend, with illegal states refused", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  assertComputeError(await act(m.token, s.id, { "os-start": null }), 409, `Cannot 'start' instance ${s.id} while it is in vm_state active`);
  assert.equal((await act(m.token, s.id, { "os-stop": null })).status, 202);
  const stopped = await waitStatus(tc, m.token, s.id, ["SHUTOFF"]);
  assert.equal(stopped["OS-EXT-STS:power_state"], 4);
  assertComputeError(await act(m.token, s.id, { pause: null }), 409, `Cannot 'pause' instance ${s.id} while it is in vm_state stopped`);
  assertComputeError(await act(m.token, s.id, { reboot: { type: "SOFT" } }), 409, `Cannot 'reboot' instance ${s.id} while it is in vm_state stopped`);
  assert.equal((await act(m.token, s.id, { reboot: { type: "HARD" } })).status, 202);
  await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  assert.equal((await act(m.token, s.id, { pause: null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["PAUSED"]);
  assertComputeError(await act(m.token, s.id, { suspend: null }), 409, `Cannot 'suspend' instance ${s.id} while it is in vm_state paused`);
  assert.equal((await act(m.token, s.id, { unpause: null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  assert.equal((await act(m.token, s.id, { suspend: null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["SUSPENDED"]);
  assert.equal((await act(m.token, s.id, { resume: null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  // Bad bodies: schema messages, nothing changed.
  assertComputeError(await act(m.token, s.id, { reboot: { type: "WARM" } }), 400, /Invalid input for field\/attribute type\. Value: WARM\./);
  assertComputeError(await act(m.token, s.id, { reboot: {} }), 400, /'type' is a required property/);
  assertComputeError(await act(m.token, s.id, { nope: null }), 400, "There is no such action: nope");
  assertComputeError(await act(m.token, s.id, { pause: null, unpause: null }), 400, "Malformed request body");
  assertComputeError(await act(m.token, s.id, { trigger_crash_dump: null }, "2.16"), 404);
  assert.equal((await act(m.token, s.id, { trigger_crash_dump: null }, "2.17")).status, 202);
});

test("instance actions: list and show with events; personas", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  const st = await act(m.token, s.id, { "os-stop": null });
  assert.equal(st.status, 202);
  const rid = st.headers.get("x-compute-request-id")!;
  await waitStatus(tc, m.token, s.id, ["SHUTOFF"]);
  const l = await api.get(m.token, `/servers/${s.id}/os-instance-actions`);
  assert.equal(l.status, 200, l.text);
  assert.deepEqual(l.body.instanceActions.map((a: Body) => a.action), ["stop", "create"]);
  assert.deepEqual(Object.keys(l.body.instanceActions[0]).sort(), ["action", "instance_uuid", "message", "project_id", "request_id", "start_time", "user_id"]);
  assert.match(l.body.instanceActions[0].start_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  const sh = await api.get(m.token, `/servers/${s.id}/os-instance-actions/${rid}`);
  assert.equal(sh.status, 200, sh.text);
  assert.equal(sh.body.instanceAction.events, undefined, "no events for non-admins before 2.51");
  const sh51 = await api.get(m.token, `/servers/${s.id}/os-instance-actions/${rid}`, "2.51");
  assert.deepEqual(sh51.body.instanceAction.events.map((e: Body) => [e.event, e.result]), [["compute_stop_instance", "Success"]]);
  assert.equal(sh51.body.instanceAction.events[0].traceback, undefined);
  const adm = await api.get(await tc.adminToken(), `/servers/${s.id}/os-instance-actions/${rid}`, "2.62");
  assert.equal(adm.body.instanceAction.events[0].host, s["OS-EXT-SRV-ATTR:host"] ?? (await adminShow(s.id))["OS-EXT-SRV-ATTR:host"]);
  assert.equal(typeof adm.body.instanceAction.events[0].hostId, "string");
  assertComputeError(await api.get(m.token, `/servers/${s.id}/os-instance-actions/req-nope`), 404, "Action req-nope not found");
  assertComputeError(await api.get(m.token, `/servers/${s.id}/os-instance-actions?foo=1`, "2.58"), 400, /Additional properties are not allowed \('foo' was unexpected\)/);
  assert.equal((await api.get(m.token, `/servers/${s.id}/os-instance-actions?foo=1`, "2.57")).status, 200);
  const p1 = await api.get(m.token, `/servers/${s.id}/os-instance-actions?limit=1`, "2.58");
  assert.equal(p1.body.instanceActions.length, 1);
  assert.match(p1.body.links[0].href, /marker=/);
  const other = await persona(tc, "member");
  assertComputeError(await api.get(other.token, `/servers/${s.id}/os-instance-actions`), 404);
  assertComputeError(await act(other.token, s.id, { "os-start": null }), 404, `Instance ${s.id} could not be found.`);
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  assertComputeError(await act(reader.token, s.id, { "os-start": null }), 403);
  assert.equal((await api.get(reader.token, `/servers/${s.id}/os-instance-actions`)).status, 200);
  // Deleted servers: 404 before 2.21, listed from 2.21.
  assert.equal((await api.del(m.token, `/servers/${s.id}`)).status, 204);
  await waitStatus(tc, m.token, s.id, ["DELETED"]);
  assertComputeError(await api.get(m.token, `/servers/${s.id}/os-instance-actions`), 404);
  const del = await api.get(m.token, `/servers/${s.id}/os-instance-actions`, "2.21");
  assert.equal(del.status, 200, del.text);
  assert.equal(del.body.instanceActions[0].action, "delete");
});

test("lock: owner and admin locks, unlock_override, locked_reason at 2.73", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  assert.equal((await act(m.token, s.id, { lock: { locked_reason: "maintenance" } }, "2.73")).status, 202);
  const shown = await api.get(m.token, `/servers/${s.id}`, "2.73");
  assert.equal(shown.body.server.locked, true);
  assert.equal(shown.body.server.locked_reason, "maintenance");
  assertComputeError(await act(m.token, s.id, { "os-stop": null }), 409, `Instance ${s.id} is locked`);
  assertComputeError(await act(m.token, s.id, { lock: { bogus: 1 } }, "2.73"), 400, /Additional properties are not allowed/);
  // An admin may act on a locked server and unlock it.
  const admin = await tc.adminToken();
  assert.equal((await act(admin, s.id, { "os-stop": null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["SHUTOFF"]);
  assert.equal((await act(m.token, s.id, { unlock: null })).status, 202);
  // Admin lock: the owner may not unlock it (unlock_override is admin-only).
  assert.equal((await act(admin, s.id, { lock: null })).status, 202);
  assertComputeError(await act(m.token, s.id, { unlock: null }), 403, /os_compute_api:os-lock-server:unlock:unlock_override/);
  assert.equal((await act(admin, s.id, { unlock: null })).status, 202);
  assert.equal((await act(m.token, s.id, { "os-start": null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
});

test("rescue / unrescue, rebuild, console output, remote consoles, changePassword", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  const r = await act(m.token, s.id, { rescue: { adminPass: "Secret-123" } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, { adminPass: "Secret-123" });
  await waitStatus(tc, m.token, s.id, ["RESCUE"]);
  assertComputeError(await act(m.token, s.id, { rescue: null }), 409, `Cannot 'rescue' instance ${s.id} while it is in vm_state rescued`);
  assert.equal((await act(m.token, s.id, { unrescue: null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  const img2 = await makeImage(tc);
  const rb = await act(m.token, s.id, { rebuild: { imageRef: img2, name: "rebuilt", metadata: { a: "b" } } });
  assert.equal(rb.status, 202, rb.text);
  assert.equal(rb.body.server.image.id, img2);
  assert.equal(rb.body.server.name, "rebuilt");
  assert.equal(typeof rb.body.server.adminPass, "string");
  assert.ok(rb.headers.get("location")?.endsWith(`/servers/${s.id}`));
  const after = await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  assert.deepEqual(after.metadata, { a: "b" });
  assertComputeError(await act(m.token, s.id, { rebuild: { imageRef: "00000000-0000-0000-0000-000000000000" } }), 400, "Cannot find image for rebuild");
  assertComputeError(await act(m.token, s.id, { rebuild: { imageRef: "nope" } }), 400, /is not a 'uuid'/);
  const co = await act(m.token, s.id, { "os-getConsoleOutput": { length: 2 } });
  assert.equal(co.status, 200, co.text);
  assert.equal(co.body.output.split("\n").length, 2);
  assert.equal((await act(m.token, s.id, { "os-getConsoleOutput": {} })).body.output.split("\n").length, 4);
  const rc = await api.post(m.token, `/servers/${s.id}/remote-consoles`, { remote_console: { protocol: "vnc", type: "novnc" } }, "2.6");
  assertComputeError(rc, 400, "Unavailable console type novnc.");
  assertComputeError(await act(m.token, s.id, { "os-getVNCConsole": { type: "novnc" } }), 400, "Unavailable console type novnc.");
  assertComputeError(await act(m.token, s.id, { "os-getVNCConsole": { type: "novnc" } }, "2.6"), 404);
  assertComputeError(await act(m.token, s.id, { changePassword: { adminPass: "x" } }), 501, "Unable to set password on instance");
  // Deferred delete is not configured: restore is a state conflict; forceDelete deletes.
  assertComputeError(await act(m.token, s.id, { restore: null }), 409, `Cannot 'restore' instance ${s.id} while it is in vm_state active`);
  assert.equal((await act(m.token, s.id, { forceDelete: null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["DELETED"]);
});

test("resize: VERIFY_RESIZE with allocations split between migration and instance; confirm and revert", async () => {
  const m = await persona(tc, "member");
  const f1 = await makeFlavor(tc, { vcpus: 1, ram: 512, disk: 1 });
  const f2 = await makeFlavor(tc, { vcpus: 2, ram: 1024, disk: 2 });
  const s = await boot(m.token, { flavor: f1 });
  assertComputeError(await act(m.token, s.id, { resize: { flavorRef: f1 } }), 400, "When resizing, instances must change flavor!");
  assertComputeError(await act(m.token, s.id, { resize: { flavorRef: "nope-flavor" } }), 400, "Flavor nope-flavor could not be found.");
  const src = (await adminShow(s.id))["OS-EXT-SRV-ATTR:host"];
  assert.equal((await act(m.token, s.id, { resize: { flavorRef: f2 } })).status, 202);
  const v = await waitStatus(tc, m.token, s.id, ["VERIFY_RESIZE", "ERROR"]);
  assert.equal(v.status, "VERIFY_RESIZE", JSON.stringify(v));
  assert.equal(v.flavor.id, f2);
  const admin = await tc.adminToken();
  const migs = await api.get(admin, `/os-migrations?instance_uuid=${s.id}`, "2.23");
  assert.equal(migs.status, 200, migs.text);
  const mig = migs.body.migrations[0];
  assert.equal(mig.migration_type, "resize");
  assert.equal(mig.status, "finished");
  assert.equal(mig.source_compute, src);
  assert.notEqual(mig.dest_compute, src);
  assert.equal(typeof mig.old_instance_type_id, "number");
  const withUuid = await api.get(admin, `/os-migrations?instance_uuid=${s.id}`, "2.59");
  const migUuid = withUuid.body.migrations[0].uuid;
  const srcAlloc = await allocations(migUuid);
  assert.deepEqual(Object.values(srcAlloc)[0]!.resources, { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 });
  assert.equal(Object.keys(srcAlloc)[0], await providerOf(src));
  const dstAlloc = await allocations(s.id);
  assert.deepEqual(Object.values(dstAlloc)[0]!.resources, { VCPU: 2, MEMORY_MB: 1024, DISK_GB: 2 });
  assert.equal(Object.keys(dstAlloc)[0], await providerOf(mig.dest_compute));
  // Revert: back on the source with the old flavor, the migration's allocation returned.
  assert.equal((await act(m.token, s.id, { revertResize: null })).status, 202);
  const rv = await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  assert.equal(rv.flavor.id, f1);
  assert.equal((await adminShow(s.id))["OS-EXT-SRV-ATTR:host"], src);
  assert.deepEqual(await allocations(migUuid), {});
  assert.deepEqual(Object.values(await allocations(s.id))[0]!.resources, { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 });
  assertComputeError(await act(m.token, s.id, { confirmResize: null }), 409, `Cannot 'confirmResize' instance ${s.id} while it is in vm_state active`);
  // Resize again and confirm: the source allocation is gone.
  assert.equal((await act(m.token, s.id, { resize: { flavorRef: f2 } })).status, 202);
  await waitStatus(tc, m.token, s.id, ["VERIFY_RESIZE"]);
  const m2 = (await api.get(admin, `/os-migrations?instance_uuid=${s.id}`, "2.59")).body.migrations[0];
  assert.equal((await act(m.token, s.id, { confirmResize: null })).status, 204);
  await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  assert.deepEqual(await allocations(m2.uuid), {});
  assert.deepEqual(Object.values(await allocations(s.id))[0]!.resources, { VCPU: 2, MEMORY_MB: 1024, DISK_GB: 2 });
  const done = (await api.get(admin, `/os-migrations?instance_uuid=${s.id}`, "2.59")).body.migrations[0];
  assert.equal(done.status, "confirmed");
  // Instance actions recorded with events.
  const acts = (await api.get(m.token, `/servers/${s.id}/os-instance-actions`)).body.instanceActions.map((a: Body) => a.action);
  assert.deepEqual(acts, ["confirmResize", "resize", "revertResize", "resize", "create"]);
  assertComputeError(await api.get(m.token, "/os-migrations"), 403);
  assertComputeError(await api.get(admin, "/os-migrations?foo=1", "2.59"), 400, /Additional properties are not allowed/);
  assert.equal((await api.get(admin, "/os-migrations?foo=1", "2.58")).status, 200);
  const page = await api.get(admin, `/os-migrations?limit=1`, "2.59");
  assert.equal(page.body.migrations.length, 1);
  assert.match(page.body.migrations_links[0].href, /marker=/);
});

test("cold and live migration change host (admin only); migrations listed", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  const admin = await tc.adminToken();
  assertComputeError(await act(m.token, s.id, { migrate: null }), 403);
  const src = (await adminShow(s.id))["OS-EXT-SRV-ATTR:host"];
  assertComputeError(await act(admin, s.id, { migrate: { host: "no-such-host" } }, "2.56"), 400, "Compute host no-such-host could not be found.");
  assert.equal((await act(admin, s.id, { migrate: null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["VERIFY_RESIZE"]);
  assert.equal((await act(admin, s.id, { confirmResize: null })).status, 204);
  await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  const dst = (await adminShow(s.id))["OS-EXT-SRV-ATTR:host"];
  assert.notEqual(dst, src);
  // Live migrate to a named host.
  const target = ["compute-00001", "compute-00002", "compute-00003", "compute-00004"].find((h) => h !== dst)!;
  assertComputeError(await act(admin, s.id, { "os-migrateLive": { host: null } }, "2.25"), 400, /'block_migration' is a required property/);
  const lm = await act(admin, s.id, { "os-migrateLive": { host: target, block_migration: "auto" } }, "2.25");
  assert.equal(lm.status, 202, lm.text);
  for (let i = 0; i < 200; i++) {
    const cur = await adminShow(s.id);
    if (cur["OS-EXT-SRV-ATTR:host"] === target && cur.status === "ACTIVE") break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const moved = await adminShow(s.id);
  assert.equal(moved["OS-EXT-SRV-ATTR:host"], target);
  assert.equal(moved.status, "ACTIVE");
  assert.equal(Object.keys(await allocations(s.id))[0], await providerOf(target));
  const lst = await api.get(admin, `/os-migrations?instance_uuid=${s.id}&migration_type=live-migration`, "2.80");
  assert.equal(lst.body.migrations.length, 1);
  assert.equal(lst.body.migrations[0].status, "completed");
  assert.equal(lst.body.migrations[0].project_id, m.projectId);
  const inprog = await api.get(admin, `/servers/${s.id}/migrations`, "2.23");
  assert.deepEqual(inprog.body, { migrations: [] });
  assertComputeError(await api.get(admin, `/servers/${s.id}/migrations/${lst.body.migrations[0].id}`, "2.23"), 404, /is not in progress/);
  // Paused servers live-migrate; stopped ones may not.
  assert.equal((await act(m.token, s.id, { "os-stop": null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["SHUTOFF"]);
  assertComputeError(await act(admin, s.id, { "os-migrateLive": { host: null, block_migration: false } }, "2.25"), 409, `Cannot 'os-migrateLive' instance ${s.id} while it is in vm_state stopped`);
});

test("shelve offloads at once (allocations released, no host); unshelve schedules again", async () => {
  const m = await persona(tc, "member");
  const net = await makeNetwork(tc, m.token, "10.41.0.0/24");
  const s = await boot(m.token, { net: net.id });
  assert.equal((await act(m.token, s.id, { shelve: null })).status, 202);
  const sh = await waitStatus(tc, m.token, s.id, ["SHELVED_OFFLOADED", "ERROR"]);
  assert.equal(sh.status, "SHELVED_OFFLOADED", JSON.stringify(sh));
  assert.equal((await adminShow(s.id))["OS-EXT-SRV-ATTR:host"], null);
  assert.deepEqual(await allocations(s.id), {});
  const imgs = await tc.request("GET", `/image/v2/images?name=${encodeURIComponent(`${s.name}-shelved`)}`, { token: m.token });
  assert.equal(imgs.body.images.length, 1, imgs.text);
  assert.equal(imgs.body.images[0].status, "active");
  assertComputeError(await act(m.token, s.id, { shelve: null }), 409, `Cannot 'shelve' instance ${s.id} while it is in vm_state shelved_offloaded`);
  assertComputeError(await act(m.token, s.id, { unshelve: { availability_zone: "nowhere" } }, "2.77"), 400, "The requested availability zone is not available");
  assert.equal((await act(m.token, s.id, { unshelve: null })).status, 202);
  const un = await waitStatus(tc, m.token, s.id, ["ACTIVE", "ERROR"]);
  assert.equal(un.status, "ACTIVE", JSON.stringify(un));
  assert.equal(Object.keys(await allocations(s.id)).length, 1);
  assert.equal(un.addresses[net.name].length, 1);
  const gone = await tc.request("GET", `/image/v2/images?name=${encodeURIComponent(`${s.name}-shelved`)}`, { token: m.token });
  assert.equal(gone.body.images.length, 0, "the shelved image is deleted on unshelve");
});

test("deleting a shelved-offloaded server deletes its shelve snapshot image", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  assert.equal((await act(m.token, s.id, { shelve: null })).status, 202);
  assert.equal((await waitStatus(tc, m.token, s.id, ["SHELVED_OFFLOADED", "ERROR"])).status, "SHELVED_OFFLOADED");
  const imgs = await tc.request("GET", `/image/v2/images?name=${encodeURIComponent(`${s.name}-shelved`)}`, { token: m.token });
  assert.equal(imgs.body.images.length, 1, imgs.text);
  const del = await tc.request("DELETE", `/compute/v2.1/servers/${s.id}`, { token: m.token });
  assert.equal(del.status, 204, del.text);
  const img = await tc.request("GET", `/image/v2/images/${imgs.body.images[0].id}`, { token: m.token });
  assert.equal(img.status, 404, "the shelve snapshot outlived its server");
});

test("createImage and createBackup make Glance images from the server", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  const ci = await act(m.token, s.id, { createImage: { name: "snap", metadata: { k: "v" } } });
  assert.equal(ci.status, 202, ci.text);
  const loc = ci.headers.get("location")!;
  assert.match(loc, /\/image\/images\/[0-9a-f-]{36}$/);
  const imageId = loc.split("/").pop()!;
  let img: Body;
  for (let i = 0; i < 200; i++) {
    img = (await tc.request("GET", `/image/v2/images/${imageId}`, { token: m.token })).body;
    if (img.status === "active") break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(img!.status, "active");
  assert.equal(img!.image_type, "snapshot");
  assert.equal(img!.instance_uuid, s.id);
  assert.equal(img!.k, "v");
  assert.equal(img!.owner, m.projectId);
  const c245 = await act(m.token, s.id, { createImage: { name: "snap2" } }, "2.45");
  assert.equal(c245.status, 202);
  assert.match(c245.body.image_id, /^[0-9a-f-]{36}$/);
  await waitIdle(m.token, s.id);
  // Backups rotate: with rotation 1 only the newest backup remains.
  const admin = await tc.adminToken();
  for (const n of ["b1", "b2"]) {
    const b = await act(admin, s.id, { createBackup: { name: n, backup_type: "daily", rotation: 1 } }, "2.45");
    assert.equal(b.status, 202, b.text);
    await waitIdle(m.token, s.id);
  }
  const backups = await tc.request("GET", `/image/v2/images?instance_uuid=${s.id}&image_type=backup`, { token: admin });
  assert.deepEqual(backups.body.images.map((i: Body) => i.name), ["b2"]);
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  assertComputeError(await act(reader.token, s.id, { createBackup: { name: "b", backup_type: "daily", rotation: 1 } }), 403);
  assertComputeError(await act(reader.token, s.id, { createImage: { name: "b" } }), 403);
});

test("evacuate needs the host down; driver failures leave Nova's states", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  const admin = await tc.adminToken();
  const src = (await adminShow(s.id))["OS-EXT-SRV-ATTR:host"];
  assertComputeError(await act(admin, s.id, { evacuate: {} }, "2.29"), 400, `Compute service of ${src} is still in use.`);
  assertComputeError(await act(admin, s.id, { evacuate: { host: src } }, "2.29"), 400, "The target host can't be the same one.");
  driver.setHostDown(src);
  try {
    assertComputeError(await act(admin, s.id, { migrate: null }), 409, "Service is unavailable at this time.");
    const ev = await act(admin, s.id, { evacuate: {} }, "2.29");
    assert.equal(ev.status, 200, ev.text);
    for (let i = 0; i < 200; i++) {
      const cur = await adminShow(s.id);
      if (cur.status === "ACTIVE" && cur["OS-EXT-SRV-ATTR:host"] !== src) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const moved = await adminShow(s.id);
    assert.equal(moved.status, "ACTIVE");
    assert.notEqual(moved["OS-EXT-SRV-ATTR:host"], src);
    const mig = (await api.get(admin, `/os-migrations?instance_uuid=${s.id}`, "2.23")).body.migrations[0];
    assert.equal(mig.migration_type, "evacuation");
    assert.equal(mig.status, "done");
  } finally {
    driver.setHostDown(src, false);
  }
  // Reboot failure → ERROR with a fault; the action and its event are errors.
  const host = (await adminShow(s.id))["OS-EXT-SRV-ATTR:host"];
  driver.failNext("reboot", host, "Simulated reboot failure");
  const rb = await act(m.token, s.id, { reboot: { type: "SOFT" } });
  assert.equal(rb.status, 202);
  const err = await waitStatus(tc, m.token, s.id, ["ERROR"]);
  assert.equal(err.fault.message, "Simulated reboot failure");
  const a = await api.get(admin, `/servers/${s.id}/os-instance-actions/${rb.headers.get("x-compute-request-id")}`);
  assert.equal(a.body.instanceAction.message, "Error");
  assert.equal(a.body.instanceAction.events[0].result, "Error");
  // Reset state back to active (admin only).
  assertComputeError(await act(m.token, s.id, { "os-resetState": { state: "active" } }), 403);
  assertComputeError(await act(admin, s.id, { "os-resetState": { state: "bogus" } }), 400, /is not one of \['active', 'error'\]/);
  assert.equal((await act(admin, s.id, { "os-resetState": { state: "active" } })).status, 202);
  await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  // A live migration whose driver step fails: migration "error", the instance ACTIVE on the source.
  const before = (await adminShow(s.id))["OS-EXT-SRV-ATTR:host"];
  driver.failNext("live_migrate", before, "Simulated live migration failure");
  assert.equal((await act(admin, s.id, { "os-migrateLive": { host: null, block_migration: "auto" } }, "2.25")).status, 202);
  let lm: Body;
  for (let i = 0; i < 200; i++) {
    lm = (await api.get(admin, `/os-migrations?instance_uuid=${s.id}&migration_type=live-migration`, "2.59")).body.migrations[0];
    if (lm && lm.status === "error") break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(lm!.status, "error");
  const back = await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  assert.equal((await adminShow(back.id))["OS-EXT-SRV-ATTR:host"], before);
  assert.deepEqual(await allocations(lm!.uuid), {});
  assert.equal(Object.keys(await allocations(s.id))[0], await providerOf(before));
});

test("os-server-external-events: 200, 207 with per-event codes, 404 when none found; admin only", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  const admin = await tc.adminToken();
  const ok = await api.post(admin, "/os-server-external-events", { events: [{ name: "network-changed", server_uuid: s.id }] });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body, { events: [{ name: "network-changed", server_uuid: s.id, status: "completed", code: 200 }] });
  const missing = "11111111-2222-3333-4444-555555555555";
  const mixed = await api.post(admin, "/os-server-external-events", { events: [{ name: "network-vif-plugged", server_uuid: s.id, tag: "p1" }, { name: "network-vif-plugged", server_uuid: missing }] });
  assert.equal(mixed.status, 207, mixed.text);
  assert.deepEqual(mixed.body.events.map((e: Body) => e.code), [200, 404]);
  const none = await api.post(admin, "/os-server-external-events", { events: [{ name: "network-changed", server_uuid: missing, status: "completed" }] });
  assert.equal(none.status, 207, none.text);
  assert.deepEqual(none.body.events, [{ name: "network-changed", server_uuid: missing, status: "failed", code: 404 }]);
  const untagged = await api.post(admin, "/os-server-external-events", { events: [{ name: "power-update", server_uuid: s.id }] }, "2.76");
  assert.equal(untagged.status, 207, untagged.text);
  assert.equal(untagged.body.events[0].code, 400);
  const off = await api.post(admin, "/os-server-external-events", { events: [{ name: "power-update", server_uuid: s.id, tag: "POWER_OFF" }] }, "2.76");
  assert.equal(off.status, 200, off.text);
  await waitStatus(tc, m.token, s.id, ["SHUTOFF"]);
  assertComputeError(await api.post(admin, "/os-server-external-events", { events: [{ name: "bogus", server_uuid: s.id }] }), 400, /is not one of/);
  assertComputeError(await api.post(m.token, "/os-server-external-events", { events: [{ name: "network-changed", server_uuid: s.id }] }), 403);
});

test("multinic (≤2.43): addFixedIp adds an address on the network's port, removeFixedIp takes it away", async () => {
  const m = await persona(tc, "member");
  const net = await makeNetwork(tc, m.token, "10.42.0.0/24");
  const s = await boot(m.token, { net: net.id });
  assert.equal((await act(m.token, s.id, { addFixedIp: { networkId: net.id } })).status, 202);
  let addrs: Body[] = [];
  for (let i = 0; i < 200; i++) {
    addrs = (await api.get(m.token, `/servers/${s.id}`)).body.server.addresses[net.name];
    if (addrs.length === 2) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(addrs.length, 2);
  assert.equal((await act(m.token, s.id, { removeFixedIp: { address: addrs[1].addr } })).status, 202);
  for (let i = 0; i < 200; i++) {
    addrs = (await api.get(m.token, `/servers/${s.id}`)).body.server.addresses[net.name];
    if (addrs.length === 1) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(addrs.length, 1);
  assertComputeError(await act(m.token, s.id, { removeFixedIp: { address: "nope" } }), 400, /Invalid input for field\/attribute address/);
  assertComputeError(await act(m.token, s.id, { addFixedIp: { networkId: net.id } }, "2.44"), 404);
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  assertComputeError(await act(reader.token, s.id, { addFixedIp: { networkId: net.id } }), 403);
});

test("a resize whose driver step fails: ERROR with a fault, migration error, the source allocation back on the instance", async () => {
  const m = await persona(tc, "member");
  const f1 = await makeFlavor(tc, { vcpus: 1, ram: 512, disk: 1 });
  const f2 = await makeFlavor(tc, { vcpus: 1, ram: 768, disk: 1 });
  const s = await boot(m.token, { flavor: f1 });
  const src = (await adminShow(s.id))["OS-EXT-SRV-ATTR:host"];
  driver.failNext("resize", src, "Simulated resize failure");
  assert.equal((await act(m.token, s.id, { resize: { flavorRef: f2 } })).status, 202);
  const e = await waitStatus(tc, m.token, s.id, ["ERROR", "VERIFY_RESIZE"]);
  assert.equal(e.status, "ERROR");
  assert.equal(e.fault.message, "Simulated resize failure");
  assert.equal(e.flavor.id, f1);
  const admin = await tc.adminToken();
  const mig = (await api.get(admin, `/os-migrations?instance_uuid=${s.id}`, "2.59")).body.migrations[0];
  assert.equal(mig.status, "error");
  assert.deepEqual(await allocations(mig.uuid), {});
  const mine = await allocations(s.id);
  assert.equal(Object.keys(mine)[0], await providerOf(src));
  assert.deepEqual(Object.values(mine)[0]!.resources, { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 });
  // Shrinking the root disk is refused by the compute (rolled back, not ERROR).
  assert.equal((await act(admin, s.id, { "os-resetState": { state: "active" } })).status, 202);
  const small = await makeFlavor(tc, { vcpus: 1, ram: 512, disk: 2 });
  assert.equal((await act(m.token, s.id, { resize: { flavorRef: small } })).status, 202);
  await waitStatus(tc, m.token, s.id, ["VERIFY_RESIZE"]);
  assert.equal((await act(m.token, s.id, { confirmResize: null })).status, 204);
  await waitStatus(tc, m.token, s.id, ["ACTIVE"]);
  assert.equal((await act(m.token, s.id, { resize: { flavorRef: f1 } })).status, 202);
  let last: Body;
  for (let i = 0; i < 200; i++) {
    last = (await api.get(admin, `/os-migrations?instance_uuid=${s.id}`, "2.59")).body.migrations[0];
    if (last.status === "error") break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(last!.status, "error");
  const back = await waitIdle(m.token, s.id);
  assert.equal(back.status, "ACTIVE");
  assert.equal(back.flavor.id, small);
  assert.equal(back.fault, undefined);
});

test("diagnostics (admin, running only), server password, usage audit log", async () => {
  const m = await persona(tc, "member");
  const s = await boot(m.token);
  const admin = await tc.adminToken();
  assertComputeError(await api.get(m.token, `/servers/${s.id}/diagnostics`), 403);
  const old = await api.get(admin, `/servers/${s.id}/diagnostics`, "2.47");
  assert.equal(old.status, 200, old.text);
  assert.equal(typeof old.body.memory, "number");
  const d = await api.get(admin, `/servers/${s.id}/diagnostics`, "2.48");
  assert.equal(d.body.driver, "libvirt");
  assert.equal(d.body.state, "running");
  assert.equal(d.body.num_cpus, d.body.cpu_details.length);
  assert.deepEqual(Object.keys(d.body.memory_details).sort(), ["maximum", "used"]);
  assert.equal((await act(m.token, s.id, { "os-stop": null })).status, 202);
  await waitStatus(tc, m.token, s.id, ["SHUTOFF"]);
  assertComputeError(await api.get(admin, `/servers/${s.id}/diagnostics`, "2.48"), 409, `Cannot 'get_diagnostics' instance ${s.id} while it is in power state shutdown`);
  const pw = await api.get(m.token, `/servers/${s.id}/os-server-password`);
  assert.deepEqual(pw.body, { password: "" });
  assert.equal((await api.del(m.token, `/servers/${s.id}/os-server-password`)).status, 204);
  const audit = await api.get(admin, "/os-instance_usage_audit_log");
  assert.equal(audit.status, 200, audit.text);
  assert.equal(audit.body.instance_usage_audit_logs.num_hosts, 4);
  assert.equal(audit.body.instance_usage_audit_logs.overall_status, "0 of 4 hosts done. 0 errors.");
  assert.match(audit.body.instance_usage_audit_logs.period_ending, /^\d{4}-\d\d-01 00:00:00$/);
  const at = await api.get(admin, `/os-instance_usage_audit_log/${encodeURIComponent("2020-03-15 10:00:00")}`);
  assert.equal(at.body.instance_usage_audit_log.period_beginning, "2020-02-01 00:00:00");
  assert.equal(at.body.instance_usage_audit_log.period_ending, "2020-03-01 00:00:00");
  assertComputeError(await api.get(admin, "/os-instance_usage_audit_log/nope"), 400, "Invalid timestamp for date nope");
  assertComputeError(await api.get(m.token, "/os-instance_usage_audit_log"), 403);
  // Nova's router has no 405: an unmapped method on these paths is a plain 404.
  assertComputeError(await api.put(admin, "/os-migrations", {}), 404, "The resource could not be found.");
});
