/**
 * Cinder volume transfers at /os-volume-transfer and /volume-transfers (3.55+): create (auth key
 * once, only a hash kept), show / list, delete, accept by another project (volume and
 * snapshots move, quotas checked), the microversion fields, and validation errors.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { uuid } from "../../src/common/ids.js";
import { persona, startTestCloud } from "../support/cloud.js";
import { assertVolumeError, volumeApi, waitStatus, makeVolume } from "../support/volume.js";

const tc = await startTestCloud();
after(() => tc.close());



const owner = await persona(tc, "member");
const receiver = await persona(tc, "member");
const oapi = volumeApi(tc, owner.projectId, "3.0");
const rapi = volumeApi(tc, receiver.projectId, "3.0");
const v = tc.cloud.volume;
const volRow = (id: string) => v.core.volume(v.core.db, id);

for (const [coll, version] of [["os-volume-transfer", "3.0"], ["volume-transfers", "3.57"]] as const) {
  test(`${coll}: create → show / list → accept by another project moves the volume and its snapshots`, async () => {
    const vol = await makeVolume(tc, owner.projectId, owner.userId, { size: 2 });
    const s = await oapi.post(owner.token, "/snapshots", { snapshot: { volume_id: vol } });
    await waitStatus(() => oapi.get(owner.token, `/snapshots/${s.body.snapshot.id}`), "snapshot", "available", 3000);
    let r = await oapi.post(owner.token, `/${coll}`, { transfer: { volume_id: vol, name: " t1 " } }, version);
    assert.equal(r.status, 202, r.text);
    const t = r.body.transfer;
    const keys = ["auth_key", "created_at", "id", "links", "name", "volume_id"];
    if (version === "3.57") keys.push("accepted", "destination_project_id", "no_snapshots", "source_project_id");
    assert.deepEqual(Object.keys(t).sort(), keys.sort());
    assert.equal(t.name, "t1");
    assert.match(t.auth_key, /^[0-9a-f]{16}$/);
    assert.match(t.links[0].href, new RegExp(`/${coll}/${t.id}$`));
    if (version === "3.57") {
      assert.equal(t.source_project_id, owner.projectId);
      assert.equal(t.destination_project_id, null);
      assert.equal(t.accepted, false);
      assert.equal(t.no_snapshots, false);
    }
    assert.equal((await volRow(vol))!.status, "awaiting-transfer");
    // the key is not kept
    const stored = await v.core.db.selectFrom("vol_transfer").selectAll().where("id", "=", t.id).executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(stored).includes(t.auth_key));
    r = await oapi.get(owner.token, `/${coll}/${t.id}`, version);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.transfer.auth_key, undefined);
    r = await oapi.get(owner.token, `/${coll}`, version);
    assert.deepEqual(r.body.transfers.map((x: { id: string }) => x.id), [t.id]);
    assert.deepEqual(Object.keys(r.body.transfers[0]).sort(), ["id", "links", "name", "volume_id"]);
    r = await oapi.get(owner.token, `/${coll}/detail?name=t1`, version);
    assert.equal(r.body.transfers.length, 1);
    assert.ok(r.body.transfers[0].created_at);
    // the receiver cannot see it, but can accept with the key
    r = await rapi.get(receiver.token, `/${coll}/${t.id}`, version);
    assertVolumeError(r, 404, `Transfer ${t.id} could not be found.`);
    r = await rapi.get(receiver.token, `/${coll}`, version);
    assert.deepEqual(r.body.transfers, []);
    r = await rapi.post(receiver.token, `/${coll}/${t.id}/accept`, { accept: { auth_key: "wrong" } }, version);
    assertVolumeError(r, 400, `Invalid auth key: Attempt to transfer ${t.id} with invalid auth key.`);
    r = await rapi.post(receiver.token, `/${coll}/${t.id}/accept`, { accept: {} }, version);
    assertVolumeError(r, 400, /'auth_key' is a required property/);
    r = await rapi.post(receiver.token, `/${coll}/${t.id}/accept`, { accept: { auth_key: t.auth_key } }, version);
    assert.equal(r.status, 202, r.text);
    assert.deepEqual(Object.keys(r.body.transfer).sort(), ["id", "links", "name", "volume_id"]);
    assert.equal(r.body.transfer.volume_id, vol);
    const moved = (await volRow(vol))!;
    assert.equal(moved.status, "available");
    assert.equal(moved.project_id, receiver.projectId);
    assert.equal(moved.user_id, receiver.userId);
    const snap = await v.core.db.selectFrom("vol_snapshot").selectAll().where("volume_id", "=", vol).executeTakeFirstOrThrow();
    assert.equal(snap.project_id, receiver.projectId);
    // the transfer is gone for everybody; twice is 404
    r = await oapi.get(owner.token, `/${coll}/${t.id}`, version);
    assertVolumeError(r, 404);
    r = await rapi.post(receiver.token, `/${coll}/${t.id}/accept`, { accept: { auth_key: t.auth_key } }, version);
    assertVolumeError(r, 404, `Transfer ${t.id} could not be found.`);
    if (version === "3.57") {
      const row = await v.core.db.selectFrom("vol_transfer").selectAll().where("id", "=", t.id).executeTakeFirstOrThrow();
      assert.equal(row.accepted, 1);
      assert.equal(row.destination_project_id, receiver.projectId);
    }
    r = await rapi.get(receiver.token, `/snapshots/${snap.id}`);
    assert.equal(r.status, 200);
    r = await oapi.get(owner.token, `/snapshots/${snap.id}`);
    assertVolumeError(r, 404);
  });
}

test("delete puts the volume back; status rules; validation", async () => {
  const vol = await makeVolume(tc, owner.projectId, owner.userId);
  let r = await oapi.post(owner.token, "/volume-transfers", { transfer: { volume_id: vol } }, "3.55");
  assert.equal(r.status, 202, r.text);
  const t = r.body.transfer;
  assert.equal(t.name, null);
  r = await oapi.post(owner.token, "/volume-transfers", { transfer: { volume_id: vol } }, "3.55");
  assertVolumeError(r, 400, "Invalid volume: status must be available");
  r = await rapi.del(receiver.token, `/volume-transfers/${t.id}`);
  assertVolumeError(r, 404);
  r = await oapi.del(owner.token, `/volume-transfers/${t.id}`);
  assert.equal(r.status, 202, r.text);
  assert.equal((await volRow(vol))!.status, "available");
  r = await oapi.get(owner.token, `/volume-transfers/${t.id}`);
  assertVolumeError(r, 404, `Transfer ${t.id} could not be found.`);
  // validation
  r = await oapi.post(owner.token, "/os-volume-transfer", { transfer: { volume_id: vol, no_snapshots: true } });
  assertVolumeError(r, 400, /Additional properties are not allowed \('no_snapshots' was unexpected\)/);
  r = await oapi.post(owner.token, "/os-volume-transfer", { transfer: { volume_id: "x" } });
  assertVolumeError(r, 400, "Invalid input for field/attribute volume_id. Value: x. 'x' is not a 'uuid'");
  r = await oapi.post(owner.token, "/os-volume-transfer", { transfer: { volume_id: vol, name: "   " } });
  assertVolumeError(r, 400, /The 'name' can not be None\./);
  const missing = uuid();
  r = await oapi.post(owner.token, "/os-volume-transfer", { transfer: { volume_id: missing } });
  assertVolumeError(r, 404, `Volume ${missing} could not be found.`);
  // a snapshot not available blocks a transfer with snapshots, not one without
  const s = await oapi.post(owner.token, "/snapshots", { snapshot: { volume_id: vol } });
  await v.core.db.updateTable("vol_snapshot").set({ status: "error" }).where("id", "=", s.body.snapshot.id).execute();
  r = await oapi.post(owner.token, "/os-volume-transfer", { transfer: { volume_id: vol } });
  assertVolumeError(r, 400, `Invalid snapshot: snapshot: ${s.body.snapshot.id} status must be available`);
  r = await oapi.post(owner.token, "/volume-transfers", { transfer: { volume_id: vol, no_snapshots: true } }, "3.55");
  assert.equal(r.status, 202, r.text);
  assert.equal(r.body.transfer.no_snapshots, true);
  r = await rapi.post(receiver.token, `/volume-transfers/${r.body.transfer.id}/accept`, { accept: { auth_key: r.body.transfer.auth_key } }, "3.55");
  assert.equal(r.status, 202, r.text);
  assert.equal((await volRow(vol))!.project_id, receiver.projectId);
  const snap = await v.core.db.selectFrom("vol_snapshot").select("project_id").where("id", "=", s.body.snapshot.id).executeTakeFirstOrThrow();
  assert.equal(snap.project_id, owner.projectId);
});

test("accept checks the receiver's quota; paging at 3.59", async () => {
  const p = await persona(tc, "member");
  const pa = volumeApi(tc, p.projectId, "3.59");
  const vol = await makeVolume(tc, owner.projectId, owner.userId, { size: 5 });
  let r = await oapi.post(owner.token, "/volume-transfers", { transfer: { volume_id: vol } }, "3.55");
  const t = r.body.transfer;
  await v.core.db.insertInto("vol_quota").values({ project_id: p.projectId, resource: "gigabytes", hard_limit: 4 }).execute();
  r = await pa.post(p.token, `/volume-transfers/${t.id}/accept`, { accept: { auth_key: t.auth_key } });
  assertVolumeError(r, 413, /gigabytes quota/);
  assert.equal((await volRow(vol))!.project_id, owner.projectId);
  assert.equal((await volRow(vol))!.status, "awaiting-transfer");
  // paging over the owner's transfers
  const vols = [await makeVolume(tc, owner.projectId, owner.userId), await makeVolume(tc, owner.projectId, owner.userId)];
  for (const x of vols) assert.equal((await oapi.post(owner.token, "/volume-transfers", { transfer: { volume_id: x } }, "3.55")).status, 202);
  r = await oapi.get(owner.token, "/volume-transfers?limit=2&sort=created_at:asc", "3.59");
  assert.equal(r.body.transfers.length, 2);
  assert.match(r.body.transfers_links[0].href, /volume-transfers\?.*marker=/);
  r = await oapi.get(owner.token, `/volume-transfers?limit=2&sort=created_at:asc&marker=${r.body.transfers[1].id}`, "3.59");
  assert.equal(r.body.transfers.length, 1);
});
