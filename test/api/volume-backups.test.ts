/**
 * Cinder backups: create (volume status rules, force, backing-up and back), data that really
 * moves (chunks with sha256 in the blob store, zero chunks skipped, incremental chains),
 * restore into a volume or a new one with byte-equal data, list / detail / show / update,
 * delete rules (dependent backups), the admin actions, and validation errors.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, test } from "node:test";
import { uuid } from "../../src/common/ids.js";
import { GiB } from "../../src/drivers/volume/driver.js";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import { assertVolumeError, volumeApi, waitStatus, makeVolume } from "../support/volume.js";

// 4 MiB chunks: a 1 GiB volume is 256 chunks.
const tc = await startTestCloud({ volume: { backupChunkMb: 4 } } as never);
after(() => tc.close());
const CHUNK = 4 * 1024 * 1024;



const member = await persona(tc, "member");
const api = volumeApi(tc, member.projectId, "3.0");
const adminToken = await tc.adminToken();
const adminProject = (await tc.request("GET", "/identity/v3/auth/tokens", { token: adminToken, headers: { "x-subject-token": adminToken } })).body.token.project.id as string;
const adm = volumeApi(tc, adminProject, "3.0");
const v = tc.cloud.volume;
// this file makes many volumes for one project
await v.core.db.insertInto("vol_quota").values({ project_id: member.projectId, resource: "volumes", hard_limit: 100 }).execute();
const backend = v.driver.backends()[0]!.name;
const getBackup = (id: string) => () => api.get(member.token, `/backups/${id}`);
const WAIT = 3000;
const getVolume = async (id: string) => v.core.volume(v.core.db, id);

async function write(volumeId: string, offset: number, data: Buffer): Promise<void> {
  await v.driver.write(backend, volumeId, (async function* () {
    yield data;
  })(), offset);
}
async function read(volumeId: string, start: number, length: number, on?: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  const be = on ?? (await getVolume(volumeId))?.backend ?? backend;
  for await (const p of await v.driver.read(be, volumeId, { start, length })) parts.push(Buffer.from(p as Buffer));
  return Buffer.concat(parts);
}
async function createBackup(volumeId: string, extra: Record<string, unknown> = {}, version = "3.0") {
  const r = await api.post(member.token, "/backups", { backup: { volume_id: volumeId, ...extra } }, version);
  assert.equal(r.status, 202, r.text);
  return r.body.backup;
}
async function waitGone(get: () => Promise<{ status: number }>) {
  for (let i = 0; i < WAIT; i++) {
    if ((await get()).status === 404) return;
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.fail("never went away");
}

test("backup → restore into a new volume and into an existing one: byte-equal, zero chunks not stored", async () => {
  const vol = await makeVolume(tc, member.projectId, member.userId);
  const a = randomBytes(CHUNK + 12345);
  const b = randomBytes(777);
  await write(vol, 0, a);
  await write(vol, 200 * CHUNK + 5, b);
  const created = await createBackup(vol, { name: "full", container: "c1", description: "d" });
  assert.deepEqual(Object.keys(created).sort(), ["id", "links", "name"]);
  assert.equal(created.name, "full");
  assert.match(created.links[0].href, new RegExp(`/volume/v3/${member.projectId}/backups/${created.id}$`));
  const bk = await waitStatus(getBackup(created.id), "backup", "available", WAIT);
  // it went through backing-up (Cinder leaves that as previous_status) and back, with the backup
  assert.equal((await getVolume(vol))!.status, "available");
  assert.equal((await getVolume(vol))!.previous_status, "backing-up");
  assert.equal(bk.container, "c1");
  assert.equal(bk.size, 1);
  assert.equal(bk.is_incremental, false);
  assert.equal(bk.has_dependent_backups, false);
  assert.equal(bk.object_count, 3, "two chunks of data at the start, one at 200");
  assert.equal(bk.availability_zone, "nova");
  assert.equal(bk.snapshot_id, null);
  assert.equal(bk.fail_reason, null);
  assert.equal(bk.data_timestamp, bk.created_at);
  assert.ok(await v.blobs.stat(`backup/${created.id}/0`));
  assert.ok(await v.blobs.stat(`backup/${created.id}/200`));
  assert.equal(await v.blobs.stat(`backup/${created.id}/2`), undefined);

  // into a new volume
  let r = await api.post(member.token, `/backups/${created.id}/restore`, { restore: { name: "restored" } });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.body.restore.backup_id, created.id);
  assert.equal(r.body.restore.volume_name, "restored");
  const newVol = r.body.restore.volume_id as string;
  await waitStatus(getBackup(created.id), "backup", "available", WAIT);
  for (let i = 0; i < WAIT && (await getVolume(newVol))!.status !== "available"; i++) await new Promise((res) => setTimeout(res, 10));
  const nv = (await getVolume(newVol))!;
  assert.equal(nv.status, "available");
  assert.equal(nv.project_id, member.projectId);
  assert.equal(nv.size, 1);
  assert.equal(nv.description, "auto-created_from_restore_from_backup");
  assert.ok((await read(newVol, 0, GiB)).equals(await read(vol, 0, GiB)));

  // default name restore_backup_<id>
  r = await api.post(member.token, `/backups/${created.id}/restore`, { restore: null });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.body.restore.volume_name, `restore_backup_${created.id}`);
  await waitStatus(getBackup(created.id), "backup", "available", WAIT);

  // into an existing volume holding other data: overwritten, including chunks zero in the backup
  const target = await makeVolume(tc, member.projectId, member.userId, { size: 2 });
  await write(target, 3 * CHUNK, randomBytes(1000));
  r = await api.post(member.token, `/backups/${created.id}/restore`, { restore: { volume_id: target } });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.body.restore.volume_id, target);
  for (let i = 0; i < WAIT && (await getVolume(target))!.status !== "available"; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal((await getVolume(target))!.status, "available");
  assert.ok((await read(target, 0, GiB)).equals(await read(vol, 0, GiB)));
});

test("3.47: a volume created from a backup gets its data and metadata (the volumes area calls restoreBackupIntoVolume)", async () => {
  const vol = await makeVolume(tc, member.projectId, member.userId);
  await v.core.setVolume(v.core.db, vol, { metadata: JSON.stringify({ from: "backup" }) });
  const data = randomBytes(CHUNK + 99);
  await write(vol, 7 * CHUNK, data);
  const b = await createBackup(vol);
  await waitStatus(getBackup(b.id), "backup", "available", WAIT);
  const r = await api.post(member.token, "/volumes", { volume: { backup_id: b.id, name: unique("fromb") } }, "3.47");
  assert.equal(r.status, 202, r.text);
  const nv = await waitStatus(() => api.get(member.token, `/volumes/${r.body.volume.id}`, "3.47"), "volume", "available", WAIT);
  assert.equal(nv.size, 1);
  assert.deepEqual(nv.metadata, { from: "backup" });
  assert.ok((await read(nv.id, 0, GiB)).equals(await read(vol, 0, GiB)));
});

test("incremental: only changed chunks, the parent chain on restore, dependent backups", async () => {
  const vol = await makeVolume(tc, member.projectId, member.userId);
  let r = await api.post(member.token, "/backups", { backup: { volume_id: vol, incremental: true } });
  assertVolumeError(r, 400, "Invalid backup: No backups available to do an incremental backup.");
  await write(vol, 0, randomBytes(3 * CHUNK));
  const full = await createBackup(vol);
  await waitStatus(getBackup(full.id), "backup", "available", WAIT);
  // change chunk 1 only, and zero chunk 2
  await write(vol, CHUNK + 10, randomBytes(100));
  await write(vol, 2 * CHUNK, Buffer.alloc(CHUNK));
  const inc = await createBackup(vol, { incremental: true });
  const ib = await waitStatus(getBackup(inc.id), "backup", "available", WAIT);
  assert.equal(ib.is_incremental, true);
  assert.equal(ib.object_count, 1);
  const row = await v.core.db.selectFrom("vol_backup").select(["chunks", "parent_id"]).where("id", "=", inc.id).executeTakeFirstOrThrow();
  assert.equal(row.parent_id, full.id);
  const chunks = JSON.parse(row.chunks) as Array<{ index: number; sha256: string | null; key: string | null }>;
  assert.deepEqual(chunks.map((c) => [c.index, c.key !== null]), [[1, true], [2, false]]);
  assert.match(chunks[0]!.sha256!, /^[0-9a-f]{64}$/);
  r = await api.get(member.token, `/backups/${full.id}`);
  assert.equal(r.body.backup.has_dependent_backups, true);
  // a second incremental chains on the first
  await write(vol, 5 * CHUNK, randomBytes(10));
  const inc2 = await createBackup(vol, { incremental: "true" });
  await waitStatus(getBackup(inc2.id), "backup", "available", WAIT);
  const row2 = await v.core.db.selectFrom("vol_backup").select(["parent_id", "object_count"]).where("id", "=", inc2.id).executeTakeFirstOrThrow();
  assert.equal(row2.parent_id, inc.id);
  assert.equal(row2.object_count, 1);
  // restore the chain: equal to the volume now
  const target = await makeVolume(tc, member.projectId, member.userId);
  await write(target, 2 * CHUNK, randomBytes(50));
  r = await api.post(member.token, `/backups/${inc2.id}/restore`, { restore: { volume_id: target } });
  assert.equal(r.status, 202, r.text);
  for (let i = 0; i < WAIT && (await getVolume(target))!.status !== "available"; i++) await new Promise((res) => setTimeout(res, 10));
  assert.ok((await read(target, 0, 8 * CHUNK)).equals(await read(vol, 0, 8 * CHUNK)));
  // deleting a backup others depend on is refused; leaves first
  r = await api.del(member.token, `/backups/${full.id}`);
  assertVolumeError(r, 400, "Invalid backup: Incremental backups exist for this backup.");
  r = await api.del(member.token, `/backups/${inc2.id}`);
  assert.equal(r.status, 202, r.text);
  await waitGone(getBackup(inc2.id));
  assert.equal(await v.blobs.stat(`backup/${inc2.id}/5`), undefined);
  r = await api.get(member.token, `/backups/${inc.id}`);
  assert.equal(r.body.backup.has_dependent_backups, false);
  r = await api.del(member.token, `/backups/${inc.id}`);
  assert.equal(r.status, 202);
  await waitGone(getBackup(inc.id));
  r = await api.del(member.token, `/backups/${full.id}`);
  assert.equal(r.status, 202);
  await waitGone(getBackup(full.id));
  assert.equal(await v.blobs.stat(`backup/${full.id}/0`), undefined);
});

test("create: volume status rules, force, snapshot source, validation", async () => {
  const inUse = await makeVolume(tc, member.projectId, member.userId, { status: "in-use" });
  let r = await api.post(member.token, "/backups", { backup: { volume_id: inUse } });
  assertVolumeError(r, 400, "Invalid volume: Backing up an in-use volume must use the force flag.");
  const b = await createBackup(inUse, { force: true });
  for (let i = 0; i < WAIT && (await getVolume(inUse))!.status !== "in-use"; i++) await new Promise((res) => setTimeout(res, 10));
  const vrow = (await getVolume(inUse))!;
  assert.equal(vrow.status, "in-use");
  assert.equal(vrow.previous_status, "backing-up");
  await waitStatus(getBackup(b.id), "backup", "available", WAIT);
  const creating = await makeVolume(tc, member.projectId, member.userId, { status: "creating" });
  r = await api.post(member.token, "/backups", { backup: { volume_id: creating } });
  assertVolumeError(r, 400, 'Invalid volume: Volume to be backed up must be available or in-use, but the current status is "creating".');
  const missing = uuid();
  r = await api.post(member.token, "/backups", { backup: { volume_id: missing } });
  assertVolumeError(r, 404, `Volume ${missing} could not be found.`);
  r = await api.post(member.token, "/backups", { backup: { volume_id: "nope" } });
  assertVolumeError(r, 400, "Invalid input for field/attribute volume_id. Value: nope. 'nope' is not a 'uuid'");
  r = await api.post(member.token, "/backups", { backup: { volume_id: inUse, metadata: { a: "b" } } });
  assertVolumeError(r, 400, /Additional properties are not allowed \('metadata' was unexpected\)/);
  r = await api.post(member.token, "/backups", { backup: {} });
  assertVolumeError(r, 400, /'volume_id' is a required property/);

  // from a snapshot: the snapshot goes backing-up and back, data_timestamp is the snapshot's
  const vol = await makeVolume(tc, member.projectId, member.userId);
  await write(vol, 0, randomBytes(1000));
  const s = await api.post(member.token, "/snapshots", { snapshot: { volume_id: vol } });
  const sid = s.body.snapshot.id as string;
  await waitStatus(() => api.get(member.token, `/snapshots/${sid}`), "snapshot", "available");
  await write(vol, 0, randomBytes(1000));
  const other = await makeVolume(tc, member.projectId, member.userId);
  r = await api.post(member.token, "/backups", { backup: { volume_id: other, snapshot_id: sid } });
  assertVolumeError(r, 400, `Invalid volume: Volume ${other} does not match with snapshot.volume_id ${vol}.`);
  const sb = await createBackup(vol, { snapshot_id: sid, metadata: { k: "v" }, availability_zone: "nova" }, "3.51");
  const done = await waitStatus(() => api.get(member.token, `/backups/${sb.id}`, "3.51"), "backup", "available", WAIT);
  assert.equal(done.snapshot_id, sid);
  assert.deepEqual(done.metadata, { k: "v" });
  assert.equal(done.data_timestamp, s.body.snapshot.created_at);
  r = await api.get(member.token, `/snapshots/${sid}`);
  assert.equal(r.body.snapshot.status, "available");
  // restored data is the snapshot's, not the volume's current data
  r = await api.post(member.token, `/backups/${sb.id}/restore`, { restore: {} });
  assert.equal(r.status, 202, r.text);
  const nv = r.body.restore.volume_id as string;
  for (let i = 0; i < WAIT && (await getVolume(nv))!.status !== "available"; i++) await new Promise((res) => setTimeout(res, 10));
  assert.ok((await read(nv, 0, 4096)).equals(await read(`snap-${sid}`, 0, 4096, backend)));
  assert.ok(!(await read(nv, 0, 4096)).equals(await read(vol, 0, 4096)));
});

test("driver failure: backup error with fail_reason, volume back to available", async () => {
  const vol = await makeVolume(tc, member.projectId, member.userId);
  (v.driver as unknown as { failNext(op: string): void }).failNext("backup");
  const b = await createBackup(vol);
  let last;
  for (let i = 0; i < WAIT; i++) {
    last = (await api.get(member.token, `/backups/${b.id}`)).body.backup;
    if (last.status === "error") break;
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.equal(last.status, "error");
  assert.equal(last.fail_reason, "Simulated backup failure");
  assert.equal((await getVolume(vol))!.status, "available");
  // a user message says what failed (message_field BACKUP_CREATE / BACKUP_CREATE_DRIVER_ERROR)
  const msgs = await api.get(member.token, "/messages", "3.3");
  assert.equal(msgs.status, 200, msgs.text);
  const m = msgs.body.messages.find((x: { resource_uuid: string }) => x.resource_uuid === b.id);
  assert.ok(m, msgs.text);
  assert.equal(m.resource_type, "VOLUME_BACKUP");
  assert.equal(m.user_message, "create backup:Backup driver failed to create backup.");
  const r = await api.post(member.token, `/backups/${b.id}/restore`, { restore: {} });
  assertVolumeError(r, 400, "Invalid backup: Backup status must be available");
  assert.equal((await api.del(member.token, `/backups/${b.id}`)).status, 202);
});

test("restore: checks on the target volume", async () => {
  const vol = await makeVolume(tc, member.projectId, member.userId, { size: 2 });
  const b = await createBackup(vol);
  await waitStatus(getBackup(b.id), "backup", "available", WAIT);
  const small = await makeVolume(tc, member.projectId, member.userId, { size: 1 });
  let r = await api.post(member.token, `/backups/${b.id}/restore`, { restore: { volume_id: small } });
  assertVolumeError(r, 400, "Invalid volume: volume size 1 is too small to restore backup of size 2.");
  const busy = await makeVolume(tc, member.projectId, member.userId, { size: 2, status: "in-use" });
  r = await api.post(member.token, `/backups/${b.id}/restore`, { restore: { volume_id: busy } });
  assertVolumeError(r, 400, "Invalid volume: Volume to be restored to must be available");
  r = await api.post(member.token, `/backups/${b.id}/restore`, { bogus: {} });
  assertVolumeError(r, 400);
  r = await api.post(member.token, `/backups/${uuid()}/restore`, { restore: {} });
  assertVolumeError(r, 404);
});

test("list, detail, show, update (3.9), project attributes, paging", async () => {
  const p = await persona(tc, "member");
  const a = volumeApi(tc, p.projectId, "3.0");
  const vol = await makeVolume(tc, p.projectId, p.userId);
  const ids: string[] = [];
  for (const name of ["b", "a", "c"]) {
    const r = await a.post(p.token, "/backups", { backup: { volume_id: vol, name } });
    assert.equal(r.status, 202, r.text);
    ids.push(r.body.backup.id);
    await waitStatus(() => a.get(p.token, `/backups/${r.body.backup.id}`), "backup", "available", WAIT);
  }
  let r = await a.get(p.token, "/backups");
  assert.equal(r.body.backups.length, 3);
  assert.deepEqual(Object.keys(r.body.backups[0]).sort(), ["id", "links", "name"]);
  r = await a.get(p.token, "/backups/detail?name=a");
  assert.deepEqual(r.body.backups.map((x: { name: string }) => x.name), ["a"]);
  assert.equal(r.body.backups[0]["os-backup-project-attr:project_id"], undefined);
  r = await a.get(p.token, "/backups/detail?sort=name:asc&limit=2", "3.37");
  assert.deepEqual(r.body.backups.map((x: { name: string }) => x.name), ["a", "b"]);
  assert.match(r.body.backups_links[0].href, /\/backups\/detail\?/);
  r = await a.get(p.token, "/backups?with_count=1&limit=1", "3.45");
  assert.equal(r.body.count, 3);
  r = await a.get(p.token, "/backups?all_tenants=maybe");
  assertVolumeError(r, 400, "all_tenants must be a boolean, got 'maybe'.");
  r = await adm.get(adminToken, `/backups/${ids[0]}`, "3.56");
  assert.equal(r.body.backup["os-backup-project-attr:project_id"], p.projectId);
  assert.equal(r.body.backup.user_id, p.userId);
  r = await adm.get(adminToken, "/backups/detail?all_tenants=true", "3.18");
  assert.ok(ids.every((id) => r.body.backups.some((x: { id: string }) => x.id === id)));
  // update
  r = await a.put(p.token, `/backups/${ids[0]}`, { backup: { name: "new" } });
  assertVolumeError(r, 404);
  r = await a.put(p.token, `/backups/${ids[0]}`, { backup: { name: " new ", description: "dd" } }, "3.9");
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(Object.keys(r.body.backup).sort(), ["id", "links", "name"]);
  assert.equal(r.body.backup.name, "new");
  r = await a.put(p.token, `/backups/${ids[0]}`, { backup: { metadata: { x: "y" } } }, "3.43");
  assert.equal(r.status, 200, r.text);
  r = await a.get(p.token, `/backups/${ids[0]}`, "3.43");
  assert.equal(r.body.backup.description, "dd");
  assert.deepEqual(r.body.backup.metadata, { x: "y" });
  // visibility
  r = await api.get(member.token, `/backups/${ids[0]}`);
  assertVolumeError(r, 404, `Backup ${ids[0]} could not be found.`);
  // export_record is admin only
  r = await a.get(p.token, `/backups/${ids[0]}/export_record`);
  assertVolumeError(r, 403);
});

test("export_record / import_record (admin): the imported backup restores the same data", async () => {
  const vol = await makeVolume(tc, member.projectId, member.userId);
  await v.core.setVolume(v.core.db, vol, { metadata: JSON.stringify({ k1: "v1" }) });
  const data = randomBytes(5000);
  await write(vol, 0, data);
  const b = await createBackup(vol);
  await waitStatus(getBackup(b.id), "backup", "available", WAIT);
  let r = await adm.get(adminToken, `/backups/${b.id}/export_record`);
  assert.equal(r.status, 200, r.text);
  const rec = r.body["backup-record"];
  assert.match(rec.backup_service, /^cinder\.backup\.drivers\./);
  const decoded = JSON.parse(Buffer.from(rec.backup_url, "base64").toString());
  assert.equal(decoded.id, b.id);
  const newId = uuid();
  const url = Buffer.from(JSON.stringify({ ...decoded, id: newId })).toString("base64");
  r = await adm.post(adminToken, "/backups/import_record", { "backup-record": { backup_service: rec.backup_service, backup_url: rec.backup_url } });
  assertVolumeError(r, 400, "Invalid backup: Backup already exists in database.");
  r = await adm.post(adminToken, "/backups/import_record", { "backup-record": { backup_service: rec.backup_service, backup_url: "!!" } });
  assertVolumeError(r, 400, "Invalid input for field/attribute backup_url. Value: !!. '!!' is not a 'base64'");
  r = await adm.post(adminToken, "/backups/import_record", { "backup-record": { backup_service: rec.backup_service, backup_url: Buffer.from("{}").toString("base64") } });
  assertVolumeError(r, 400, "Invalid input received: Provided backup record is missing an id");
  r = await api.post(member.token, "/backups/import_record", { "backup-record": { backup_service: rec.backup_service, backup_url: url } });
  assertVolumeError(r, 403);
  r = await adm.post(adminToken, "/backups/import_record", { "backup-record": { backup_service: rec.backup_service, backup_url: url } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.backup.id, newId);
  const imported = await waitStatus(() => adm.get(adminToken, `/backups/${newId}`), "backup", "available", WAIT);
  assert.equal(imported.volume_id, vol);
  // restore the imported one into a new volume: same bytes, metadata restored
  r = await adm.post(adminToken, `/backups/${newId}/restore`, { restore: {} });
  assert.equal(r.status, 202, r.text);
  const nv = r.body.restore.volume_id as string;
  for (let i = 0; i < WAIT && (await getVolume(nv))!.status !== "available"; i++) await new Promise((res) => setTimeout(res, 10));
  assert.ok((await read(nv, 0, 5000)).equals(data));
  assert.deepEqual(JSON.parse((await getVolume(nv))!.metadata), { k1: "v1" });
  r = await adm.get(adminToken, `/backups/${b.id}/export_record`.replace(b.id, uuid()));
  assertVolumeError(r, 404);
});

test("actions: reset_status and force_delete (admin only)", async () => {
  const vol = await makeVolume(tc, member.projectId, member.userId);
  const b = await createBackup(vol);
  await waitStatus(getBackup(b.id), "backup", "available", WAIT);
  let r = await api.post(member.token, `/backups/${b.id}/action`, { "os-reset_status": { status: "error" } });
  assertVolumeError(r, 403);
  r = await adm.post(adminToken, `/backups/${b.id}/action`, { "os-reset_status": { status: "creating" } });
  assertVolumeError(r, 400, "Invalid input for field/attribute status. Value: creating. 'creating' is not a 'backup_status'");
  r = await adm.post(adminToken, `/backups/${b.id}/action`, { "os-reset_status": { status: "error" } });
  assert.equal(r.status, 202, r.text);
  r = await api.get(member.token, `/backups/${b.id}`);
  assert.equal(r.body.backup.status, "error");
  await v.core.db.updateTable("vol_backup").set({ status: "creating" }).where("id", "=", b.id).execute();
  r = await api.del(member.token, `/backups/${b.id}`);
  assertVolumeError(r, 400, "Invalid backup: Backup status must be available or error");
  r = await api.post(member.token, `/backups/${b.id}/action`, { "os-force_delete": {} });
  assertVolumeError(r, 403);
  r = await adm.post(adminToken, `/backups/${b.id}/action`, { "os-force_delete": {} });
  assert.equal(r.status, 202, r.text);
  await waitGone(getBackup(b.id));
});
