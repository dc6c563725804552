/**
 * Cinder snapshots: create (status rules, force, 3.66 in-use), the creating → available task,
 * show / list / detail (filters, sort, paging, links, count), update, delete (deleting → gone),
 * metadata, the admin and status actions, visibility across projects, and validation errors.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { uuid } from "../../src/common/ids.js";
import { persona, startTestCloud } from "../support/cloud.js";
import { assertVolumeError, volumeApi, waitStatus, makeVolume } from "../support/volume.js";

const tc = await startTestCloud();
after(() => tc.close());


const member = await persona(tc, "member");
const adminToken = await tc.adminToken();
const adminProject = (await tc.request("GET", "/identity/v3/auth/tokens", { token: adminToken, headers: { "x-subject-token": adminToken } })).body.token.project.id as string;
/** The admin calls with its own project in the URL (Cinder refuses another project's URL). */
const adm = volumeApi(tc, adminProject, "3.0");
const api = volumeApi(tc, member.projectId, "3.0");
const snap = (id: string) => () => api.get(member.token, `/snapshots/${id}`);

async function createSnapshot(volumeId: string, extra: Record<string, unknown> = {}, version = "3.0") {
  const r = await api.post(member.token, "/snapshots", { snapshot: { volume_id: volumeId, ...extra } }, version);
  assert.equal(r.status, 202, r.text);
  return r.body.snapshot;
}

test("create: 202 with the summary, then available with the detail fields", async () => {
  const vol = await makeVolume(tc, member.projectId, member.userId, { size: 2 });
  const r = await api.post(member.token, "/snapshots", { snapshot: { volume_id: vol, name: "  s1 ", description: "d", metadata: { a: "1" } } });
  assert.equal(r.status, 202, r.text);
  const s = r.body.snapshot;
  assert.deepEqual(Object.keys(s).sort(), ["created_at", "description", "id", "metadata", "name", "size", "status", "updated_at", "volume_id"]);
  assert.equal(s.status, "creating");
  assert.equal(s.name, "s1");
  assert.equal(s.size, 2);
  assert.deepEqual(s.metadata, { a: "1" });
  assert.match(s.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  const done = await waitStatus(snap(s.id), "snapshot", "available", 3000);
  assert.equal(done["os-extended-snapshot-attributes:progress"], "100%");
  assert.equal(done["os-extended-snapshot-attributes:project_id"], member.projectId);
  // v3 fields by microversion
  const r2 = await api.get(member.token, `/snapshots/${s.id}`, "3.65");
  assert.equal(r2.body.snapshot.user_id, member.userId);
  assert.equal(r2.body.snapshot.group_snapshot_id, null);
  assert.equal(r2.body.snapshot.consumes_quota, true);
  // the v3 builder extends detail, not the summary index lists
  const idx = await api.get(member.token, `/snapshots?volume_id=${vol}`, "3.65");
  assert.equal(idx.body.snapshots[0].user_id, undefined);
  const det = await api.get(member.token, `/snapshots/detail?volume_id=${vol}`, "3.65");
  assert.equal(det.body.snapshots[0].user_id, member.userId);
  // a volume with a snapshot keeps it on the driver
  assert.ok((await tc.cloud.volume.driver.size(tc.cloud.volume.driver.backends()[0]!.name, `snap-${s.id}`)) > 0);
});

test("create: volume status rules, force, and 3.66", async () => {
  const inUse = await makeVolume(tc, member.projectId, member.userId, { status: "in-use" });
  let r = await api.post(member.token, "/snapshots", { snapshot: { volume_id: inUse } });
  assertVolumeError(r, 400, `Invalid volume: Volume ${inUse} status must be available, but current status is: in-use.`);
  await createSnapshot(inUse, { force: true });
  await createSnapshot(inUse, {}, "3.66");
  r = await api.post(member.token, "/snapshots", { snapshot: { volume_id: inUse, force: false } }, "3.66");
  assertVolumeError(r, 400, /^Since microversion 3\.66 the 'force' flag is invalid for this request\./);
  await createSnapshot(inUse, { force: "yes" }, "3.66");
  const err = await makeVolume(tc, member.projectId, member.userId, { status: "error" });
  r = await api.post(member.token, "/snapshots", { snapshot: { volume_id: err, force: true } });
  assertVolumeError(r, 400, "Invalid volume: The snapshot cannot be created when the volume is in error status.");
  const creating = await makeVolume(tc, member.projectId, member.userId, { status: "creating" });
  r = await api.post(member.token, "/snapshots", { snapshot: { volume_id: creating, force: true } });
  assertVolumeError(r, 400, `Invalid volume: Volume ${creating} status must be available, in-use, but current status is: creating.`);
});

test("create: validation and missing volumes", async () => {
  const vol = await makeVolume(tc, member.projectId, member.userId);
  const missing = uuid();
  let r = await api.post(member.token, "/snapshots", { snapshot: { volume_id: missing } });
  assertVolumeError(r, 404, `Volume ${missing} could not be found.`);
  r = await api.post(member.token, "/snapshots", { snapshot: { volume_id: null } });
  assertVolumeError(r, 404, "Volume None could not be found.");
  r = await api.post(member.token, "/snapshots", { snapshot: { name: "x" } });
  assertVolumeError(r, 400, /'volume_id' is a required property/);
  r = await api.post(member.token, "/snapshots", { snapshot: { volume_id: "abc" } });
  assertVolumeError(r, 400, "Invalid input for field/attribute volume_id. Value: abc. 'abc' is not valid under any of the given schemas");
  r = await api.post(member.token, "/snapshots", { snapshot: { volume_id: vol, force: "maybe" } });
  assertVolumeError(r, 400, /^Invalid input for field\/attribute force\. Value: maybe\. 'maybe' is not one of \[True, 'True'/);
  r = await api.post(member.token, "/snapshots", { snapshot: { volume_id: vol, name: "x".repeat(256) } });
  assertVolumeError(r, 400, /is too long$/);
  r = await api.post(member.token, "/snapshots", { snapshot: { volume_id: vol, bogus: 1 } });
  assertVolumeError(r, 400, /Additional properties are not allowed \('bogus' was unexpected\)/);
  r = await api.post(member.token, "/snapshots", { snapshot: { volume_id: vol, metadata: { "bad!key": "v" } } });
  assertVolumeError(r, 400, /Additional properties are not allowed \('bad!key' was unexpected\)/);
  r = await api.post(member.token, "/snapshots", { nope: {} });
  assertVolumeError(r, 400, "'snapshot' is a required property");
  // nothing was written
  const list = await api.get(member.token, `/snapshots?volume_id=${vol}`);
  assert.deepEqual(list.body.snapshots, []);
  // another project's volume is not found
  const other = await persona(tc, "member");
  r = await volumeApi(tc, other.projectId).post(other.token, "/snapshots", { snapshot: { volume_id: vol } });
  assertVolumeError(r, 404, `Volume ${vol} could not be found.`);
});

test("list, detail, filters, sort, paging, links and count", async () => {
  const p = await persona(tc, "member");
  const a = volumeApi(tc, p.projectId, "3.0");
  const vol = await makeVolume(tc, p.projectId, p.userId);
  const ids: string[] = [];
  for (const name of ["b", "a", "c"]) {
    const r = await a.post(p.token, "/snapshots", { snapshot: { volume_id: vol, name, metadata: { n: name } } });
    ids.push(r.body.snapshot.id);
    await waitStatus(() => a.get(p.token, `/snapshots/${r.body.snapshot.id}`), "snapshot", "available", 3000);
  }
  let r = await a.get(p.token, "/snapshots");
  assert.equal(r.status, 200);
  assert.equal(r.body.snapshots.length, 3);
  assert.equal(r.body.snapshots[0]["os-extended-snapshot-attributes:progress"], undefined);
  assert.equal(r.body.snapshots_links, undefined);
  r = await a.get(p.token, "/snapshots/detail?name=a");
  assert.deepEqual(r.body.snapshots.map((s: { name: string }) => s.name), ["a"]);
  assert.equal(r.body.snapshots[0]["os-extended-snapshot-attributes:progress"], "100%");
  r = await a.get(p.token, "/snapshots?sort_key=display_name&sort_dir=asc");
  assert.deepEqual(r.body.snapshots.map((s: { name: string }) => s.name), ["a", "b", "c"]);
  r = await a.get(p.token, "/snapshots?sort=name:desc", "3.30");
  assert.deepEqual(r.body.snapshots.map((s: { name: string }) => s.name), ["c", "b", "a"]);
  r = await a.get(p.token, "/snapshots?sort=name:desc");
  assertVolumeError(r, 400, "Invalid input received: Invalid sort key name");
  r = await a.get(p.token, "/snapshots?sort_key=invalid");
  assertVolumeError(r, 400);
  r = await a.get(p.token, "/snapshots?limit=invalid");
  assertVolumeError(r, 400);
  r = await a.get(p.token, `/snapshots?marker=${uuid()}`);
  assertVolumeError(r, 404);
  r = await a.get(p.token, "/snapshots?sort_key=display_name&sort_dir=asc&limit=2");
  assert.deepEqual(r.body.snapshots.map((s: { name: string }) => s.name), ["a", "b"]);
  assert.equal(r.body.snapshots_links[0].rel, "next");
  assert.match(r.body.snapshots_links[0].href, new RegExp(`/volume/v3/${p.projectId}/snapshots\\?.*marker=${r.body.snapshots[1].id}`));
  r = await a.get(p.token, `/snapshots?sort_key=display_name&sort_dir=asc&marker=${r.body.snapshots[1].id}`);
  assert.deepEqual(r.body.snapshots.map((s: { name: string }) => s.name), ["c"]);
  r = await a.get(p.token, "/snapshots?sort_key=display_name&sort_dir=asc&offset=1&limit=1");
  assert.deepEqual(r.body.snapshots.map((s: { name: string }) => s.name), ["b"]);
  r = await a.get(p.token, "/snapshots?limit=0");
  assert.deepEqual(r.body.snapshots, []);
  r = await a.get(p.token, "/snapshots?with_count=true&limit=1", "3.45");
  assert.equal(r.body.count, 3);
  r = await a.get(p.token, `/snapshots?metadata=${encodeURIComponent("{'n': 'c'}")}`, "3.22");
  assert.deepEqual(r.body.snapshots.map((s: { name: string }) => s.name), ["c"]);
  r = await a.get(p.token, "/snapshots?bogus=1", "3.31");
  assertVolumeError(r, 400, "Invalid filters bogus are found in query options.");
  // lists are per project; an admin sees them with all_tenants
  r = await api.get(member.token, "/snapshots");
  assert.ok(!r.body.snapshots.some((s: { id: string }) => ids.includes(s.id)));
  const admin = adminToken;
  const aa = adm;
  r = await aa.get(admin, "/snapshots/detail?all_tenants=1");
  assert.ok(ids.every((id) => r.body.snapshots.some((s: { id: string }) => s.id === id)));
  r = await aa.get(admin, `/snapshots/${ids[0]}`);
  assert.equal(r.status, 200);
});

test("show / update / delete; visibility; a volume with a snapshot", async () => {
  const vol = await makeVolume(tc, member.projectId, member.userId);
  const s = await createSnapshot(vol);
  await waitStatus(snap(s.id), "snapshot", "available", 3000);
  let r = await api.put(member.token, `/snapshots/${s.id}`, { snapshot: { name: "renamed", display_description: "dd" } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.snapshot.name, "renamed");
  assert.equal(r.body.snapshot.description, "dd");
  r = await api.put(member.token, `/snapshots/${s.id}`, { snapshot: {} });
  assertVolumeError(r, 400, /is not valid under any of the given schemas$/);
  const other = await persona(tc, "member");
  const oa = volumeApi(tc, other.projectId);
  r = await oa.get(other.token, `/snapshots/${s.id}`);
  assertVolumeError(r, 404, `Snapshot ${s.id} could not be found.`);
  r = await oa.del(other.token, `/snapshots/${s.id}`);
  assertVolumeError(r, 404, `Snapshot ${s.id} could not be found.`);
  const reader = await persona(tc, "reader", { projectId: member.projectId });
  r = await api.get(reader.token, `/snapshots/${s.id}`);
  assert.equal(r.status, 200);
  r = await api.del(reader.token, `/snapshots/${s.id}`);
  assertVolumeError(r, 403);
  r = await api.del(member.token, `/snapshots/${s.id}`);
  assert.equal(r.status, 202, r.text);
  r = await api.del(member.token, `/snapshots/${s.id}`);
  if (r.status !== 404) assertVolumeError(r, 400, "Invalid snapshot: Snapshot status must be available or error and must not be part of a group.");
  for (let i = 0; i < 3000; i++) {
    r = await api.get(member.token, `/snapshots/${s.id}`);
    if (r.status === 404) break;
    await new Promise((res) => setTimeout(res, 10));
  }
  assertVolumeError(r, 404, `Snapshot ${s.id} could not be found.`);
  r = await api.get(member.token, `/snapshots/${uuid()}`);
  assertVolumeError(r, 404);
});

test("driver failure leaves the snapshot in error; error snapshots can be deleted", async () => {
  const vol = await makeVolume(tc, member.projectId, member.userId);
  (tc.cloud.volume.driver as unknown as { failNext(op: string): void }).failNext("snapshot");
  const s = await createSnapshot(vol);
  await waitStatus(snap(s.id), "snapshot", "error", 3000);
  const r = await api.del(member.token, `/snapshots/${s.id}`);
  assert.equal(r.status, 202, r.text);
});

test("metadata: list, create (merge), replace, item show / update / delete", async () => {
  const vol = await makeVolume(tc, member.projectId, member.userId);
  const s = await createSnapshot(vol, { metadata: { a: "1" } });
  const base = `/snapshots/${s.id}/metadata`;
  let r = await api.get(member.token, base);
  assert.deepEqual(r.body, { metadata: { a: "1" } });
  r = await api.post(member.token, base, { metadata: { b: "2" } });
  assert.deepEqual(r.body, { metadata: { a: "1", b: "2" } });
  r = await api.put(member.token, base, { metadata: { c: "3" } });
  assert.deepEqual(r.body, { metadata: { c: "3" } });
  r = await api.get(member.token, `${base}/c`);
  assert.deepEqual(r.body, { meta: { c: "3" } });
  r = await api.get(member.token, `${base}/zz`);
  assertVolumeError(r, 404, `Snapshot ${s.id} has no metadata with key zz.`);
  r = await api.put(member.token, `${base}/c`, { meta: { c: "4" } });
  assert.deepEqual(r.body, { meta: { c: "4" } });
  r = await api.put(member.token, `${base}/c`, { meta: { d: "4" } });
  assertVolumeError(r, 400, "Request body and URI mismatch");
  r = await api.put(member.token, `${base}/c`, { meta: { c: "4", d: "5" } });
  assertVolumeError(r, 400, "Request body contains too many items");
  r = await api.post(member.token, base, { metadata: "x" });
  assertVolumeError(r, 400, "Missing required element 'metadata' in request body.");
  r = await api.post(member.token, base, { metadata: { k: "v".repeat(256) } });
  assertVolumeError(r, 413, "Invalid metadata size: Metadata property key k value greater than 255 characters.");
  r = await api.del(member.token, `${base}/c`);
  assert.equal(r.status, 200);
  r = await api.del(member.token, `${base}/c`);
  assertVolumeError(r, 404, `Snapshot ${s.id} has no metadata with key c.`);
  r = await api.get(member.token, base);
  assert.deepEqual(r.body, { metadata: {} });
});

test("actions: reset_status and force_delete (admin), update_snapshot_status", async () => {
  const vol = await makeVolume(tc, member.projectId, member.userId);
  const s = await createSnapshot(vol);
  await waitStatus(snap(s.id), "snapshot", "available", 3000);
  const admin = adminToken;
  let r = await api.post(member.token, `/snapshots/${s.id}/action`, { "os-reset_status": { status: "error" } });
  assertVolumeError(r, 403);
  r = await adm.post(admin, `/snapshots/${s.id}/action`, { "os-reset_status": { status: "bogus" } });
  assertVolumeError(r, 400, "Invalid input for field/attribute status. Value: bogus. 'bogus' is not a 'snapshot_status'");
  r = await adm.post(admin, `/snapshots/${s.id}/action`, { "os-reset_status": { status: "creating" } });
  assert.equal(r.status, 202, r.text);
  r = await api.post(member.token, `/snapshots/${s.id}/action`, { "os-update_snapshot_status": { status: "deleting" } });
  assertVolumeError(r, 400, "Provided snapshot status deleting not allowed for snapshot with status creating.");
  r = await api.post(member.token, `/snapshots/${s.id}/action`, { "os-update_snapshot_status": { status: "error", progress: "80%" } });
  assert.equal(r.status, 202, r.text);
  r = await api.get(member.token, `/snapshots/${s.id}`);
  assert.equal(r.body.snapshot.status, "error");
  assert.equal(r.body.snapshot["os-extended-snapshot-attributes:progress"], "80%");
  r = await api.post(member.token, `/snapshots/${s.id}/action`, { "os-update_snapshot_status": { status: "available" } });
  assertVolumeError(r, 400, "Snapshot status error not allowed for update_snapshot_status");
  r = await adm.post(admin, `/snapshots/${s.id}/action`, { "os-reset_status": { status: "creating" } });
  r = await api.post(member.token, `/snapshots/${s.id}/action`, { "os-force_delete": {} });
  assertVolumeError(r, 403);
  r = await adm.post(admin, `/snapshots/${s.id}/action`, { "os-force_delete": {} });
  assert.equal(r.status, 202, r.text);
  r = await adm.post(admin, `/snapshots/${s.id}/action`, { "os-bogus": {} });
  if (r.status !== 404) assertVolumeError(r, 400, /There is no such action: os-bogus/);
});
