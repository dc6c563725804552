/**
 * Cinder volumes: create (creating → available through the scheduler task, from a source
 * volume, from an image, failures → error + user message), show/list/detail (views per
 * microversion, filters, sort, paging, count), update, delete (status rules, cascade),
 * summary, metadata, and validation errors worded as Cinder's.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { uuid } from "../../src/common/ids.js";
import type { SimulatedVolumeDriver } from "../../src/drivers/volume/simulated/simulated.js";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import { glanceClient } from "../support/image.js";
import { assertVolumeError, volumeApi, waitStatus } from "../support/volume.js";

const tc = await startTestCloud();
/** Admin calls go to the project-less URL (the URL's project must be the token's). */
const A = volumeApi(tc, "", "3.0", true);
after(() => tc.close());

async function* chunks(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text);
}

async function member() {
  const p = await persona(tc, "member");
  return { ...p, api: volumeApi(tc, p.projectId, "3.0") };
}

async function created(api: ReturnType<typeof volumeApi>, token: string, body: Record<string, unknown>, v?: string) {
  const r = await api.post(token, "/volumes", { volume: body }, v);
  assert.equal(r.status, 202, r.text);
  return r.body.volume;
}

test("create → creating then available on a backend; show has the v3 fields by microversion", async () => {
  const m = await member();
  const vol = await created(m.api, m.token, { size: 1, name: "  first  ", description: "d", metadata: { a: "b" } });
  assert.equal(vol.status, "creating");
  assert.equal(vol.name, "first");
  assert.equal(vol.bootable, "false");
  assert.equal(vol.volume_type, "__DEFAULT__");
  assert.equal(vol.availability_zone, "nova");
  assert.deepEqual(vol.metadata, { a: "b" });
  assert.deepEqual(vol.attachments, []);
  assert.equal(vol.updated_at, null);
  assert.equal("os-vol-tenant-attr:tenant_id" in vol, false);
  assert.equal("group_id" in vol, false);
  assert.match(vol.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  const done = await waitStatus(() => m.api.get(m.token, `/volumes/${vol.id}`), "volume", "available");
  assert.equal(done["os-vol-tenant-attr:tenant_id"], m.projectId);
  assert.equal("os-vol-host-attr:host" in done, false, "host attribute is admin-only");
  assert.equal("migration_status" in done, false);
  const admin = await tc.adminToken();
  const asAdmin = await A.get(admin, `/volumes/${vol.id}`, "3.70");
  const a = asAdmin.body.volume;
  assert.match(a["os-vol-host-attr:host"], /^.+@simulated-\d#simulated-\d$/);
  assert.equal(a.migration_status, null);
  assert.equal(a.group_id, null);
  assert.equal(a.provider_id, null);
  assert.equal(a.shared_targets, false);
  assert.match(a.service_uuid, /^[0-9a-f-]{36}$/);
  assert.equal(a.cluster_name, null);
  assert.match(a.volume_type_id, /^[0-9a-f-]{36}$/);
  assert.equal(a.consumes_quota, true);
  assert.equal(a.links[0].rel, "self");
});

test("another project's volume is not found; bad ids too", async () => {
  const m = await member();
  const o = await member();
  const vol = await created(m.api, m.token, { size: 1 });
  assertVolumeError(await o.api.get(o.token, `/volumes/${vol.id}`), 404, `Volume ${vol.id} could not be found.`);
  assertVolumeError(await o.api.del(o.token, `/volumes/${vol.id}`), 404, `Volume ${vol.id} could not be found.`);
  assertVolumeError(await m.api.get(m.token, "/volumes/nope"), 404, "Volume nope could not be found.");
});

test("create validation: Cinder's jsonschema messages", async () => {
  const m = await member();
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: "abc" } }), 400, "Invalid input for field/attribute size. Value: abc. 'abc' does not match '^[0-9]+$'");
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 0 } }), 400, "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1");
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: -1 } }), 400, "Invalid input for field/attribute size. Value: -1. -1 is less than the minimum of 1");
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 1.5 } }), 400, "Invalid input for field/attribute size. Value: 1.5. 1.5 is not of type 'integer', 'string', 'null'");
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: {} }), 400, "Invalid input received: Volume size 'None' must be an integer and greater than 0");
  assertVolumeError(await m.api.post(m.token, "/volumes", { size: 1 }), 400, "'volume' is a required property");
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 1, snapshot_id: "x" } }), 400, "Invalid input for field/attribute snapshot_id. Value: x. 'x' is not valid under any of the given schemas");
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 1, name: "n".repeat(256) } }), 400, "Invalid input received: name has 256 characters, more than 255.");
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 1, metadata: { "a%b": "c" } } }), 400, /does not match any of the regexes/);
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 1, volume_type: "no-such-type" } }), 404);
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 1, availability_zone: "elsewhere" } }), 400, "Availability zone 'elsewhere' is invalid.");
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 1, snapshot_id: uuid() } }), 404, /^Snapshot .* could not be found\.$/);
  const srcMissing = uuid();
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 1, source_volid: srcMissing } }), 404, `Volume ${srcMissing} could not be found.`);
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 1, imageRef: uuid() } }), 400, "Invalid image identifier or unable to access requested image.");
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 1, multiattach: true } }), 400, /^multiattach parameter has been removed/);
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 1, bogus: 1 } }, "3.53"), 400, "Invalid input for field/attribute volume. Value: {'size': 1, 'bogus': 1}. Additional properties are not allowed ('bogus' was unexpected)");
  // Before 3.53 unknown keys are accepted.
  const ok = await m.api.post(m.token, "/volumes", { volume: { size: 1, bogus: 1 } }, "3.52");
  assert.equal(ok.status, 202, ok.text);
  // Nothing half-made by the refusals.
  const list = await m.api.get(m.token, "/volumes");
  assert.equal(list.body.volumes.length, 1);
});

test("a reader cannot create; a member may; quota applies", async () => {
  const m = await member();
  const r = await persona(tc, "reader", { projectId: m.projectId });
  assertVolumeError(await m.api.post(r.token, "/volumes", { volume: { size: 1 } }), 403, "Policy doesn't allow volume:create to be performed.");
  const big = await m.api.post(m.token, "/volumes", { volume: { size: 1001 } });
  assertVolumeError(big, 413);
});

test("clone: same backend as the source, size ≥ source, data copied", async () => {
  const m = await member();
  const admin = await tc.adminToken();
  const src = await created(m.api, m.token, { size: 1 });
  const srcDone = await waitStatus(() => A.get(admin, `/volumes/${src.id}`), "volume", "available");
  const backend = srcDone["os-vol-host-attr:host"].split("@")[1].split("#")[0];
  await tc.cloud.volume.driver.write(backend, src.id, chunks("hello clone"));
  assertVolumeError(
    await m.api.post(m.token, "/volumes", { volume: { source_volid: src.id, size: 1 } }).then(async () => m.api.post(m.token, "/volumes", { volume: { source_volid: src.id, size: 0 } })),
    400,
  );
  const clone = await created(m.api, m.token, { source_volid: src.id });
  assert.equal(clone.size, 1);
  assert.equal(clone.source_volid, src.id);
  const c = await waitStatus(() => A.get(admin, `/volumes/${clone.id}`), "volume", "available");
  assert.equal(c["os-vol-host-attr:host"], srcDone["os-vol-host-attr:host"]);
  const data = tc.cloud.volume.driver.read(backend, clone.id, { start: 0, length: 11 });
  let text = "";
  for await (const chunk of await data) text += Buffer.from(chunk as Buffer).toString();
  assert.equal(text, "hello clone");
});

test("from image: bootable, volume_image_metadata, image checks", async () => {
  const m = await member();
  const g = glanceClient(tc);
  const img = await g.create(m.token, { name: unique("img"), min_disk: 0, hw_disk_bus: "scsi" });
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 1, imageRef: img.id } }), 400, `Invalid input received: Image ${img.id} is not active.`);
  const put = await g.put(m.token, `/images/${img.id}/file`, Buffer.from("bootable bits"));
  assert.equal(put.status, 204, put.text);
  const vol = await created(m.api, m.token, { size: 1, imageRef: img.id });
  const done = await waitStatus(() => m.api.get(m.token, `/volumes/${vol.id}`), "volume", "available");
  assert.equal(done.bootable, "true");
  assert.equal(done.volume_image_metadata.image_id, img.id);
  assert.equal(done.volume_image_metadata.image_name, img.name);
  assert.equal(done.volume_image_metadata.hw_disk_bus, "scsi");
  assert.equal(done.volume_image_metadata.size, "13");
  const shown = await m.api.post(m.token, `/volumes/${vol.id}/action`, { "os-show_image_metadata": null });
  assert.equal(shown.status, 200, shown.text);
  assert.equal(shown.body.metadata.image_id, img.id);
  const set = await m.api.post(m.token, `/volumes/${vol.id}/action`, { "os-set_image_metadata": { metadata: { k1: "v1" } } });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.body.metadata.k1, "v1");
  const unset = await m.api.post(m.token, `/volumes/${vol.id}/action`, { "os-unset_image_metadata": { key: "k1" } });
  assert.equal(unset.status, 200, unset.text);
  assertVolumeError(await m.api.post(m.token, `/volumes/${vol.id}/action`, { "os-unset_image_metadata": { key: "k1" } }), 404, `Glance metadata for volume/snapshot ${vol.id} cannot be found.`);
  const data = await tc.cloud.volume.driver.read(tc.cloud.volume.scheduler.backendOfHost((await A.get(await tc.adminToken(), `/volumes/${vol.id}`)).body.volume["os-vol-host-attr:host"])!.name, vol.id, { start: 0, length: 13 });
  let text = "";
  for await (const chunk of data) text += Buffer.from(chunk as Buffer).toString();
  assert.equal(text, "bootable bits");
});

test("no valid backend → error and a user message; driver failure → error", async () => {
  const m = await member();
  const admin = await tc.adminToken();
  const adminApi = volumeApi(tc, "", "3.3", true);
  const t = await adminApi.post(admin, "/types", { volume_type: { name: unique("nowhere"), extra_specs: { volume_backend_name: "does-not-exist" } } });
  assert.equal(t.status, 200, t.text);
  const vol = await created(m.api, m.token, { size: 1, volume_type: t.body.volume_type.name });
  await waitStatus(() => m.api.get(m.token, `/volumes/${vol.id}`), "volume", "error");
  const msgs = await volumeApi(tc, m.projectId, "3.3").get(m.token, `/messages?resource_uuid=${vol.id}`);
  if (msgs.status === 200) {
    const mine = msgs.body.messages.filter((x: { resource_uuid: string }) => x.resource_uuid === vol.id);
    assert.equal(mine.length, 1, msgs.text);
    assert.equal(mine[0].event_id, "VOLUME_VOLUME_001_003");
  }
  // A volume that never reached a backend is deleted at once.
  assert.equal((await m.api.del(m.token, `/volumes/${vol.id}`)).status, 202);
  assertVolumeError(await m.api.get(m.token, `/volumes/${vol.id}`), 404);
  (tc.cloud.volume.driver as SimulatedVolumeDriver).failNext("create");
  const bad = await created(m.api, m.token, { size: 1 });
  await waitStatus(() => m.api.get(m.token, `/volumes/${bad.id}`), "volume", "error");
});

test("list, detail: filters, sort, paging, links, count, all_tenants", async () => {
  const m = await member();
  const names = ["la", "lb", "lc"];
  const ids: string[] = [];
  for (const [i, n] of names.entries()) {
    const v = await created(m.api, m.token, { size: i + 1, name: n, metadata: { k: n } });
    ids.push(v.id);
    await waitStatus(() => m.api.get(m.token, `/volumes/${v.id}`), "volume", "available");
  }
  const all = await m.api.get(m.token, "/volumes");
  assert.equal(all.body.volumes.length, 3);
  assert.deepEqual(Object.keys(all.body.volumes[0]).sort(), ["id", "links", "name"]);
  const byName = await m.api.get(m.token, "/volumes/detail?name=lb");
  assert.deepEqual(byName.body.volumes.map((v: { id: string }) => v.id), [ids[1]]);
  const byMeta = await m.api.get(m.token, `/volumes/detail?metadata=${encodeURIComponent('{"k":"lc"}')}`);
  assert.deepEqual(byMeta.body.volumes.map((v: { id: string }) => v.id), [ids[2]]);
  const bySize = await m.api.get(m.token, "/volumes?size=2");
  assert.deepEqual(bySize.body.volumes.map((v: { id: string }) => v.id), [ids[1]]);
  const sorted = await m.api.get(m.token, "/volumes?sort=name:asc");
  assert.deepEqual(sorted.body.volumes.map((v: { name: string }) => v.name), names);
  const sortedOld = await m.api.get(m.token, "/volumes?sort_key=size&sort_dir=desc");
  assert.deepEqual(sortedOld.body.volumes.map((v: { name: string }) => v.name), ["lc", "lb", "la"]);
  const page = await m.api.get(m.token, "/volumes?sort=name:asc&limit=2");
  assert.equal(page.body.volumes.length, 2);
  assert.equal(page.body.volumes_links[0].rel, "next");
  assert.match(page.body.volumes_links[0].href, new RegExp(`marker=${ids[1]}`));
  const next = await m.api.get(m.token, `/volumes?sort=name:asc&limit=2&marker=${ids[1]}`);
  assert.deepEqual(next.body.volumes.map((v: { name: string }) => v.name), ["lc"]);
  const off = await m.api.get(m.token, "/volumes?sort=name:asc&offset=1");
  assert.deepEqual(off.body.volumes.map((v: { name: string }) => v.name), ["lb", "lc"]);
  const counted = await m.api.get(m.token, "/volumes?with_count=true&limit=1", "3.45");
  assert.equal(counted.body.count, 3);
  const like = await m.api.get(m.token, "/volumes?name~=l", "3.34");
  assert.equal(like.body.volumes.length, 3);
  assertVolumeError(await m.api.get(m.token, "/volumes?bogus=1", "3.31"), 400, "Invalid filters bogus are found in query options.");
  assert.equal((await m.api.get(m.token, "/volumes?bogus=1", "3.30")).body.volumes.length, 3);
  assertVolumeError(await m.api.get(m.token, "/volumes?bootable=maybe", "3.2"), 400, "Invalid input received: 'bootable = maybe'");
  assertVolumeError(await m.api.get(m.token, "/volumes?sort=nope:asc"), 400);
  assertVolumeError(await m.api.get(m.token, "/volumes?limit=x"), 400);
  assertVolumeError(await m.api.get(m.token, `/volumes?marker=${uuid()}`), 404);
  const future = await m.api.get(m.token, "/volumes?created_at=gt:2999-01-01T00:00:00", "3.60");
  assert.equal(future.body.volumes.length, 0);
  const past = await m.api.get(m.token, "/volumes?created_at=gt:2000-01-01T00:00:00", "3.60");
  assert.equal(past.body.volumes.length, 3);
  // all_tenants is silently ignored for a member; an admin sees every project.
  assert.equal((await m.api.get(m.token, "/volumes?all_tenants=1", "3.31")).body.volumes.length, 3);
  const admin = await tc.adminToken();
  const everything = await A.get(admin, "/volumes/detail?all_tenants=1&name=lb");
  assert.ok(everything.body.volumes.some((v: { id: string }) => v.id === ids[1]));
  const adminOwn = await A.get(admin, "/volumes/detail?name=lb");
  assert.ok(!adminOwn.body.volumes.some((v: { id: string }) => v.id === ids[1]));
  const summary = await m.api.get(m.token, "/volumes/summary", "3.36");
  assert.deepEqual(summary.body, { "volume-summary": { total_count: 3, total_size: 6, metadata: { k: ["la", "lb", "lc"] } } });
  assertVolumeError(await m.api.get(m.token, "/volumes/summary", "3.11"), 404);
});

test("update: name, description, metadata; validation", async () => {
  const m = await member();
  const vol = await created(m.api, m.token, { size: 1, metadata: { a: "1" } });
  const up = await m.api.put(m.token, `/volumes/${vol.id}`, { volume: { name: "renamed", description: "new", metadata: { b: "2" } } });
  assert.equal(up.status, 200, up.text);
  assert.equal(up.body.volume.name, "renamed");
  assert.deepEqual(up.body.volume.metadata, { b: "2" });
  assertVolumeError(await m.api.put(m.token, `/volumes/${vol.id}`, { volume: {} }, "3.53"), 400, "Invalid input for field/attribute volume. Value: {}. {} is not valid under any of the given schemas");
  assertVolumeError(await m.api.put(m.token, `/volumes/${vol.id}`, { volume: { size: 2 } }), 400, "Invalid input for field/attribute volume. Value: {'size': 2}. Additional properties are not allowed ('size' was unexpected)");
  assertVolumeError(await m.api.put(m.token, `/volumes/${uuid()}`, { volume: { name: "x" } }), 404);
});

test("metadata API: list, create (merge), replace, item get/put/delete", async () => {
  const m = await member();
  const vol = await created(m.api, m.token, { size: 1, metadata: { a: "1" } });
  const p = `/volumes/${vol.id}/metadata`;
  const merged = await m.api.post(m.token, p, { metadata: { b: "2" } });
  assert.equal(merged.status, 200, merged.text);
  assert.deepEqual(merged.body, { metadata: { a: "1", b: "2" } });
  const replaced = await m.api.put(m.token, p, { metadata: { c: "3" } });
  assert.deepEqual(replaced.body, { metadata: { c: "3" } });
  assert.deepEqual((await m.api.get(m.token, p)).body, { metadata: { c: "3" } });
  assert.deepEqual((await m.api.get(m.token, `${p}/c`)).body, { meta: { c: "3" } });
  assertVolumeError(await m.api.get(m.token, `${p}/zz`), 404, `Volume ${vol.id} has no metadata with key zz.`);
  const item = await m.api.put(m.token, `${p}/d`, { meta: { d: "4" } });
  assert.deepEqual(item.body, { meta: { d: "4" } });
  assertVolumeError(await m.api.put(m.token, `${p}/e`, { meta: { d: "4" } }), 400, "Request body and URI mismatch");
  assertVolumeError(await m.api.put(m.token, `${p}/e`, { meta: { e: "1", f: "2" } }), 400, "Invalid input for field/attribute meta. Value: {'e': '1', 'f': '2'}. {'e': '1', 'f': '2'} has too many properties");
  assertVolumeError(await m.api.post(m.token, p, { metadata: { k: "v".repeat(256) } }), 400, /is too long$/);
  assertVolumeError(await m.api.post(m.token, p, { meta: {} }), 400, "'metadata' is a required property");
  assert.equal((await m.api.del(m.token, `${p}/d`)).status, 200);
  assertVolumeError(await m.api.del(m.token, `${p}/d`), 404, `Volume ${vol.id} has no metadata with key d.`);
  const etag = await m.api.get(m.token, p, "3.15");
  assert.match(etag.headers.get("etag") ?? "", /^[0-9a-f]{32}$/);
});

test("delete: status rules, cascade with snapshots, force (3.23, admin)", async () => {
  const m = await member();
  const vol = await created(m.api, m.token, { size: 1 });
  await waitStatus(() => m.api.get(m.token, `/volumes/${vol.id}`), "volume", "available");
  const admin = await tc.adminToken();
  const reset = await A.post(admin, `/volumes/${vol.id}/action`, { "os-reset_status": { status: "in-use" } });
  assertVolumeError(reset, 400, "Cannot reset-state to in-use because volume does not have any attachments.");
  assert.equal((await A.post(admin, `/volumes/${vol.id}/action`, { "os-reset_status": { status: "maintenance" } })).status, 202);
  assertVolumeError(
    await m.api.del(m.token, `/volumes/${vol.id}`),
    400,
    "Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.",
  );
  assertVolumeError(await m.api.del(m.token, `/volumes/${vol.id}?force=true`, "3.23"), 403);
  assert.equal((await A.del(admin, `/volumes/${vol.id}?force=true`, "3.23")).status, 202);
  for (let i = 0; i < 400; i++) {
    const r = await m.api.get(m.token, `/volumes/${vol.id}`);
    if (r.status === 404) break;
    await new Promise((res) => setTimeout(res, 10));
  }
  assertVolumeError(await m.api.get(m.token, `/volumes/${vol.id}`), 404);
  // cascade
  const v2 = await created(m.api, m.token, { size: 1 });
  await waitStatus(() => m.api.get(m.token, `/volumes/${v2.id}`), "volume", "available");
  const snap = await m.api.post(m.token, "/snapshots", { snapshot: { volume_id: v2.id } });
  if (snap.status === 202) {
    await waitStatus(() => m.api.get(m.token, `/snapshots/${snap.body.snapshot.id}`), "snapshot", "available");
    assertVolumeError(await m.api.del(m.token, `/volumes/${v2.id}`), 400);
    assert.equal((await m.api.del(m.token, `/volumes/${v2.id}?cascade=true`)).status, 202);
    for (let i = 0; i < 400; i++) {
      const r = await m.api.get(m.token, `/volumes/${v2.id}`);
      if (r.status === 404) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    assertVolumeError(await m.api.get(m.token, `/snapshots/${snap.body.snapshot.id}`), 404);
  }
});

test("actions: extend, bootable, readonly, reset_status validation, retype, migrate", async () => {
  const m = await member();
  const admin = await tc.adminToken();
  const vol = await created(m.api, m.token, { size: 1 });
  await waitStatus(() => m.api.get(m.token, `/volumes/${vol.id}`), "volume", "available");
  const act = (tok: string, body: unknown, v?: string) => (tok === admin ? A : m.api).post(tok, `/volumes/${vol.id}/action`, body, v);
  assertVolumeError(await act(m.token, { "os-extend": { new_size: 1 } }), 400, "Invalid input received: New size for extend must be greater than current size. (current: 1, extended: 1).");
  assertVolumeError(await act(m.token, { "os-extend": { new_size: "x" } }), 400, "Invalid input for field/attribute new_size. Value: x. 'x' does not match '^[0-9]+$'");
  assertVolumeError(await act(m.token, { "os-extend": {} }), 400, "Invalid input for field/attribute os-extend. Value: {}. 'new_size' is a required property");
  assert.equal((await act(m.token, { "os-extend": { new_size: 2 } })).status, 202);
  const ext = await waitStatus(() => m.api.get(m.token, `/volumes/${vol.id}`), "volume", "available");
  assert.equal(ext.size, 2);
  assert.equal((await act(m.token, { "os-set_bootable": { bootable: true } })).status, 200);
  assert.equal((await m.api.get(m.token, `/volumes/${vol.id}`)).body.volume.bootable, "true");
  assertVolumeError(await act(m.token, { "os-set_bootable": { bootable: "maybe" } }), 400, /^Invalid input for field\/attribute bootable\. Value: maybe\. 'maybe' is not one of \[True, 'True'/);
  assert.equal((await act(m.token, { "os-update_readonly_flag": { readonly: true } })).status, 202);
  assert.equal((await m.api.get(m.token, `/volumes/${vol.id}`)).body.volume.metadata.readonly, "True");
  assertVolumeError(await act(m.token, { "os-reset_status": { status: "error" } }), 403);
  assertVolumeError(await act(admin, { "os-reset_status": {} }), 400, "Must specify 'status', 'attach_status' or 'migration_status' for update.");
  assertVolumeError(await act(admin, { "os-reset_status": { status: "bogus" } }), 400, /^Volume status: bogus is invalid, valid statuses are: \['creating'/);
  assertVolumeError(await act(m.token, { "os-nothing": {} }), 400, "There is no such action: os-nothing. Verify the request body and Content-Type header and try again.");
  // retype to a type on another backend: migrates (on-demand) and keeps the data.
  const cur = (await A.get(admin, `/volumes/${vol.id}`)).body.volume["os-vol-host-attr:host"] as string;
  const other = cur.includes("simulated-1") ? "simulated-2" : "simulated-1";
  const tApi = volumeApi(tc, "", "3.3", true);
  const t = await tApi.post(admin, "/types", { volume_type: { name: unique("other"), extra_specs: { volume_backend_name: other } } });
  assert.equal(t.status, 200, t.text);
  assertVolumeError(await act(m.token, { "os-retype": { new_type: "nope-type" } }), 404, "Volume type with name nope-type could not be found.");
  assertVolumeError(await act(m.token, { "os-retype": { new_type: t.body.volume_type.name, migration_policy: "sometimes" } }), 400, /is not one of \['on-demand', 'never'\]/);
  assert.equal((await act(m.token, { "os-retype": { new_type: t.body.volume_type.name, migration_policy: "on-demand" } })).status, 202);
  const retyped = await waitStatus(() => A.get(admin, `/volumes/${vol.id}`), "volume", "available");
  assert.equal(retyped.volume_type, t.body.volume_type.name);
  assert.match(retyped["os-vol-host-attr:host"], new RegExp(`@${other}#`));
  // migrate (admin) back to the first backend
  assertVolumeError(await act(m.token, { "os-migrate_volume": { host: cur } }), 403);
  assertVolumeError(await act(admin, { "os-migrate_volume": { host: "nowhere@x#x" } }), 400, "Invalid host: No available service named 'nowhere@x#x'");
  assert.equal((await act(admin, { "os-migrate_volume": { host: cur } })).status, 202);
  for (let i = 0; i < 400; i++) {
    const r = (await A.get(admin, `/volumes/${vol.id}`)).body.volume;
    if (r.migration_status === "success") break;
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.equal((await A.get(admin, `/volumes/${vol.id}`)).body.volume["os-vol-host-attr:host"], cur);
});

test("upload to image: uploading → available, image gets the data", async () => {
  const m = await member();
  const vol = await created(m.api, m.token, { size: 1 });
  const admin = await tc.adminToken();
  const done = await waitStatus(() => A.get(admin, `/volumes/${vol.id}`), "volume", "available");
  const backend = tc.cloud.volume.scheduler.backendOfHost(done["os-vol-host-attr:host"])!.name;
  await tc.cloud.volume.driver.write(backend, vol.id, chunks("volume data"));
  const r = await m.api.post(m.token, `/volumes/${vol.id}/action`, { "os-volume_upload_image": { image_name: unique("up"), disk_format: "raw" } }, "3.1");
  assert.equal(r.status, 202, r.text);
  const u = r.body["os-volume_upload_image"];
  assert.equal(u.status, "uploading");
  assert.equal(u.visibility, "private");
  assert.equal(u.container_format, "bare");
  // The whole GiB goes to Glance (hashed and written there): allow a busy machine its time.
  await waitStatus(() => m.api.get(m.token, `/volumes/${vol.id}`), "volume", "available", 6000);
  const g = glanceClient(tc);
  const img = await g.waitStatus(m.token, u.image_id, "active");
  assert.equal(img.size, 1024 * 1024 * 1024);
  assertVolumeError(await m.api.post(m.token, `/volumes/${vol.id}/action`, { "os-volume_upload_image": {} }), 400, "Invalid input for field/attribute os-volume_upload_image. Value: {}. 'image_name' is a required property");
});

test("the project-less URL (3.67 form) serves the token's project", async () => {
  const m = await member();
  const vol = await created(m.api, m.token, { size: 1 });
  const api = volumeApi(tc, m.projectId, "3.67", true);
  assert.equal((await api.get(m.token, `/volumes/${vol.id}`)).status, 200);
});

test("revert to the latest snapshot (3.40): data back, checks worded as Cinder's", async () => {
  const m = await member();
  const admin = await tc.adminToken();
  const api = volumeApi(tc, m.projectId, "3.40");
  const vol = await created(api, m.token, { size: 1 });
  const done = await waitStatus(() => A.get(admin, `/volumes/${vol.id}`), "volume", "available");
  const backend = tc.cloud.volume.scheduler.backendOfHost(done["os-vol-host-attr:host"])!.name;
  const act = (body: unknown, v?: string) => api.post(m.token, `/volumes/${vol.id}/action`, body, v);
  assertVolumeError(await act({ revert: { snapshot_id: uuid() } }, "3.39"), 404);
  assertVolumeError(await act({ revert: { snapshot_id: uuid() } }), 400, `Volume ${vol.id} doesn't have any snapshots.`);
  await tc.cloud.volume.driver.write(backend, vol.id, chunks("before"));
  const snap = await api.post(m.token, "/snapshots", { snapshot: { volume_id: vol.id } });
  assert.equal(snap.status, 202, snap.text);
  await waitStatus(() => api.get(m.token, `/snapshots/${snap.body.snapshot.id}`), "snapshot", "available");
  await tc.cloud.volume.driver.write(backend, vol.id, chunks("after!"));
  const other = uuid();
  assertVolumeError(await act({ revert: { snapshot_id: other } }), 400, `Specified snapshot ${other} is None or not the latest one of volume ${vol.id}.`);
  assertVolumeError(await act({ revert: "x" }), 400, "Missing required element 'revert' in request body.");
  assert.equal((await act({ revert: { snapshot_id: snap.body.snapshot.id } })).status, 202);
  await waitStatus(() => api.get(m.token, `/volumes/${vol.id}`), "volume", "available");
  let text = "";
  for await (const chunk of await tc.cloud.volume.driver.read(backend, vol.id, { start: 0, length: 6 })) text += Buffer.from(chunk as Buffer).toString();
  assert.equal(text, "before");
});

test("scheduler: extra spec operators as cinder's extra_specs_ops, capability scoping", async () => {
  const { specMatches, satisfiesExtraSpecs } = await import("../../src/services/volume/manager/scheduler.js");
  assert.equal(specMatches(true, "<is> True"), true);
  assert.equal(specMatches(false, "<is> True"), false);
  assert.equal(specMatches("iSCSI", "<in> SCSI"), true);
  assert.equal(specMatches("b", "<or> a <or> b"), true);
  assert.equal(specMatches("c", "<or> a <or> b"), false);
  assert.equal(specMatches(1000, ">= 500"), true);
  assert.equal(specMatches(1000, "= 2000"), false);
  assert.equal(specMatches("abc", "s< abd"), true);
  assert.equal(specMatches("x", "x"), true);
  assert.equal(specMatches(true, "True"), false, "a plain value compares as Python's ==");
  const caps = { volume_backend_name: "simulated-1", storage_protocol: "iSCSI", multiattach: true };
  assert.equal(satisfiesExtraSpecs(caps, { volume_backend_name: "simulated-1" }), true);
  assert.equal(satisfiesExtraSpecs(caps, { "capabilities:volume_backend_name": "simulated-2" }), false);
  assert.equal(satisfiesExtraSpecs(caps, { "other:scoped": "anything" }), true);
  assert.equal(satisfiesExtraSpecs(caps, { unknown_cap: "x" }), false);
  assert.equal(satisfiesExtraSpecs(caps, { multiattach: "<is> True" }), true);
});
