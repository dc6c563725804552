/**
 * Cinder attachments: the v3 attachments API (reserve → update with a connector → os-complete
 * → delete), the legacy attach actions (reserve/unreserve, attach/detach, begin/roll detaching,
 * initialize/terminate connection, force detach), multiattach and read-only rules, visibility,
 * bad input.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, test } from "node:test";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import { assertVolumeError, volumeApi, waitStatus } from "../support/volume.js";

const tc = await startTestCloud();
after(() => tc.close());

const CONNECTOR = { initiator: "iqn.1993-08.org.debian:01:test", ip: "192.0.2.10", platform: "x86_64", host: "compute-00001", os_type: "linux", multipath: false, mountpoint: "/dev/vdb" };

async function member() {
  const m = await persona(tc, "member");
  return { ...m, api: volumeApi(tc, m.projectId, "3.54") };
}

async function makeVolume(m: Awaited<ReturnType<typeof member>>, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await m.api.post(m.token, "/volumes", { volume: { size: 1, name: unique("vol"), ...extra } });
  assert.equal(r.status, 202, r.text);
  await waitStatus(() => m.api.get(m.token, `/volumes/${r.body.volume.id}`), "volume", "available");
  return r.body.volume.id;
}

const volume = async (m: Awaited<ReturnType<typeof member>>, id: string) => (await m.api.get(m.token, `/volumes/${id}`)).body.volume;

test("v3 attachments: reserve, connect, complete, list, delete → volume back to available", async () => {
  const m = await member();
  const vid = await makeVolume(m);
  const server = randomUUID();
  const c = await m.api.post(m.token, "/attachments", { attachment: { volume_uuid: vid, instance_uuid: server } });
  assert.equal(c.status, 200, c.text);
  const att = c.body.attachment;
  assert.equal(att.status, "reserved");
  assert.equal(att.instance, server);
  assert.equal(att.volume_id, vid);
  assert.deepEqual(att.connection_info, {});
  assert.equal(att.attach_mode, "null");
  assert.equal(att.attached_at, "");
  assert.equal((await volume(m, vid)).status, "reserved");

  const u = await m.api.put(m.token, `/attachments/${att.id}`, { attachment: { connector: CONNECTOR } });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.body.attachment.status, "attaching");
  assert.equal(u.body.attachment.connection_info.attachment_id, att.id);
  assert.equal(typeof u.body.attachment.connection_info.driver_volume_type, "string");
  assert.equal(u.body.attachment.attach_mode, "rw");
  assert.match(u.body.attachment.attached_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  assert.equal((await volume(m, vid)).status, "attaching");

  const done = await m.api.post(m.token, `/attachments/${att.id}/action`, { "os-complete": null });
  assert.equal(done.status, 204, done.text);
  const v = await volume(m, vid);
  assert.equal(v.status, "in-use");
  assert.equal(v.attachments.length, 1);
  assert.equal(v.attachments[0].server_id, server);
  assert.equal(v.attachments[0].attachment_id, att.id);
  assert.equal(v.attachments[0].device, "/dev/vdb");

  const list = await m.api.get(m.token, "/attachments");
  assert.deepEqual(list.body.attachments, [{ id: att.id, status: "attached", instance: server, volume_id: vid }]);
  const detail = await m.api.get(m.token, `/attachments/detail?volume_id=${vid}`);
  assert.equal(detail.body.attachments[0].connection_info.attachment_id, att.id);
  const show = await m.api.get(m.token, `/attachments/${att.id}`);
  assert.equal(show.body.attachment.status, "attached");

  const d = await m.api.del(m.token, `/attachments/${att.id}`);
  assert.equal(d.status, 200, d.text);
  assert.deepEqual(d.body, { attachments: [] });
  const after = await volume(m, vid);
  assert.equal(after.status, "available");
  assert.deepEqual(after.attachments, []);
  assertVolumeError(await m.api.get(m.token, `/attachments/${att.id}`), 404, `Volume attachment could not be found with filter: attachment_id = ${att.id}.`);
});

test("v3 attachments: a connector at create attaches at once; mode ro at 3.54", async () => {
  const m = await member();
  const vid = await makeVolume(m);
  const c = await m.api.post(m.token, "/attachments", { attachment: { volume_uuid: vid, instance_uuid: randomUUID(), connector: CONNECTOR, mode: "ro" } });
  assert.equal(c.status, 200, c.text);
  assert.equal(c.body.attachment.status, "attaching");
  assert.equal(c.body.attachment.attach_mode, "ro");
  assert.equal(c.body.attachment.connection_info.attachment_id, c.body.attachment.id);
  assert.equal((await volume(m, vid)).status, "attaching");
  // mode is unknown before 3.54
  const old = volumeApi(tc, m.projectId, "3.44");
  assertVolumeError(await old.post(m.token, "/attachments", { attachment: { volume_uuid: vid, mode: "rw" } }), 400, /Additional properties are not allowed \('mode' was unexpected\)/);
});

test("v3 attachments: a second attach of a non-multiattach volume is refused; multiattach allows it", async () => {
  const m = await member();
  const vid = await makeVolume(m);
  const a = await m.api.post(m.token, "/attachments", { attachment: { volume_uuid: vid, instance_uuid: randomUUID(), connector: CONNECTOR } });
  assert.equal(a.status, 200, a.text);
  await m.api.post(m.token, `/attachments/${a.body.attachment.id}/action`, { "os-complete": null });
  assertVolumeError(
    await m.api.post(m.token, "/attachments", { attachment: { volume_uuid: vid, instance_uuid: randomUUID() } }),
    400,
    `Invalid volume: Volume ${vid} status must be available or downloading to reserve, but the current status is in-use.`,
  );

  // multiattach through the volume row (the type area decides who may create them).
  const mv = await makeVolume(m);
  await tc.cloud.volume.core.setVolume(tc.cloud.volume.core.db, mv, { multiattach: 1 });
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await m.api.post(m.token, "/attachments", { attachment: { volume_uuid: mv, instance_uuid: randomUUID(), connector: { ...CONNECTOR, host: `h${i}` } } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await m.api.post(m.token, `/attachments/${r.body.attachment.id}/action`, { "os-complete": null })).status, 204);
    ids.push(r.body.attachment.id);
  }
  const v = await volume(m, mv);
  assert.equal(v.status, "in-use");
  assert.equal(v.attachments.length, 2);
  const d = await m.api.del(m.token, `/attachments/${ids[0]}`);
  assert.equal(d.body.attachments.length, 1);
  assert.equal((await volume(m, mv)).status, "in-use", "one attachment left");
  await m.api.del(m.token, `/attachments/${ids[1]}`);
  assert.equal((await volume(m, mv)).status, "available");
});

test("v3 attachments: bad input, versions, visibility, error-state volumes", async () => {
  const m = await member();
  const other = await member();
  const vid = await makeVolume(m);
  assertVolumeError(await m.api.post(m.token, "/attachments", {}), 400, "'attachment' is a required property");
  assertVolumeError(await m.api.post(m.token, "/attachments", { attachment: { instance_uuid: randomUUID() } }), 400, /'volume_uuid' is a required property/);
  assertVolumeError(await m.api.post(m.token, "/attachments", { attachment: { volume_uuid: "nope" } }), 400, "Invalid input for field/attribute volume_uuid. Value: nope. 'nope' is not a 'uuid'".replace("Value: nope", "Value: 'nope'"));
  assertVolumeError(await m.api.post(m.token, "/attachments", { attachment: { volume_uuid: vid, connector: 3 } }), 400, /is not of type 'object', 'null'/);
  const missing = randomUUID();
  assertVolumeError(await m.api.post(m.token, "/attachments", { attachment: { volume_uuid: missing } }), 404, `Volume ${missing} could not be found.`);
  // Another project's volume is not found.
  assertVolumeError(await other.api.post(other.token, "/attachments", { attachment: { volume_uuid: vid } }), 404, `Volume ${vid} could not be found.`);
  // Below 3.27 the resource does not exist.
  const v0 = volumeApi(tc, m.projectId, "3.26");
  assert.equal((await v0.get(m.token, "/attachments")).status, 404);
  const a = await m.api.post(m.token, "/attachments", { attachment: { volume_uuid: vid, instance_uuid: randomUUID() } });
  assert.equal(a.status, 200, a.text);
  assertVolumeError(await other.api.get(other.token, `/attachments/${a.body.attachment.id}`), 404);
  assert.deepEqual((await other.api.get(other.token, "/attachments")).body.attachments, []);
  assertVolumeError(await m.api.put(m.token, `/attachments/${a.body.attachment.id}`, { attachment: { connector: {} } }), 400, /does not have enough properties/);
  assertVolumeError(await m.api.post(m.token, `/attachments/${a.body.attachment.id}/action`, { "os-nothing": null }), 400, /There is no such action: os-nothing/);
  assert.equal((await volumeApi(tc, m.projectId, "3.43").post(m.token, `/attachments/${a.body.attachment.id}/action`, { "os-complete": null })).status, 404);
  await m.api.del(m.token, `/attachments/${a.body.attachment.id}`);
  // A volume in error cannot be attached.
  await tc.cloud.volume.core.setVolume(tc.cloud.volume.core.db, vid, { status: "error" });
  assertVolumeError(
    await m.api.post(m.token, "/attachments", { attachment: { volume_uuid: vid, instance_uuid: randomUUID() } }),
    400,
    `Invalid volume: Volume attachments can not be created if the volume is in an error state. The Volume ${vid} currently has a status of: error `,
  );
});

test("legacy actions: reserve/unreserve, attach/detach, begin/roll detaching, connections", async () => {
  const m = await member();
  const vid = await makeVolume(m);
  const act = (body: unknown) => m.api.post(m.token, `/volumes/${vid}/action`, body, "3.0");
  assert.equal((await act({ "os-reserve": {} })).status, 202);
  assert.equal((await volume(m, vid)).status, "attaching");
  assertVolumeError(await act({ "os-reserve": {} }), 400, "Invalid volume: Volume status must be available to reserve, but the status is attaching.");
  assert.equal((await act({ "os-unreserve": {} })).status, 202);
  assert.equal((await volume(m, vid)).status, "available");

  assertVolumeError(await act({ "os-begin_detaching": {} }), 400, "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.");
  const server = randomUUID();
  assertVolumeError(await act({ "os-attach": { instance_uuid: server } }), 400, /'mountpoint' is a required property/);
  assertVolumeError(await act({ "os-attach": { mountpoint: "/dev/vdb" } }), 400, /is not valid under any of the given schemas/);
  assert.equal((await act({ "os-attach": { instance_uuid: server, mountpoint: "/dev/vdb" } })).status, 202);
  let v = await volume(m, vid);
  assert.equal(v.status, "in-use");
  assert.equal(v.attachments[0].server_id, server);
  assert.equal(v.attachments[0].device, "/dev/vdb");
  assert.equal(v.metadata.attached_mode, "rw");
  assert.equal(v.metadata.readonly, "False");
  assertVolumeError(await act({ "os-attach": { instance_uuid: randomUUID(), mountpoint: "/dev/vdc" } }), 400, "Error attaching volume - InvalidVolume: Invalid volume: volume is already attached and multiple attachments are not enabled");

  assert.equal((await act({ "os-begin_detaching": {} })).status, 202);
  assert.equal((await volume(m, vid)).status, "detaching");
  assert.equal((await act({ "os-roll_detaching": {} })).status, 202);
  assert.equal((await volume(m, vid)).status, "in-use");

  const ic = await act({ "os-initialize_connection": { connector: CONNECTOR } });
  assert.equal(ic.status, 200, ic.text);
  assert.equal(typeof ic.body.connection_info.driver_volume_type, "string");
  assert.equal(typeof ic.body.connection_info.data, "object");
  assertVolumeError(await act({ "os-initialize_connection": {} }), 400, /'connector' is a required property/);

  assert.equal((await act({ "os-detach": {} })).status, 202);
  v = await volume(m, vid);
  assert.equal(v.status, "available");
  assert.deepEqual(v.attachments, []);
  assert.equal(v.metadata.attached_mode, undefined);

  const missing = randomUUID();
  assertVolumeError(await m.api.post(m.token, `/volumes/${missing}/action`, { "os-reserve": {} }), 404, `Volume ${missing} could not be found.`);
  assertVolumeError(await m.api.post(m.token, "/volumes/xxx/action", { "os-detach": {} }), 404);
  assertVolumeError(await act({ "os-detach": { attachment_id: "bad" } }), 400, /is not a 'uuid'/);
});

test("legacy actions: read-only volumes attach ro only; force detach is for admins", async () => {
  const m = await member();
  const vid = await makeVolume(m);
  const act = (body: unknown) => m.api.post(m.token, `/volumes/${vid}/action`, body, "3.0");
  assert.equal((await act({ "os-update_readonly_flag": { readonly: true } })).status, 202);
  assertVolumeError(await act({ "os-attach": { instance_uuid: randomUUID(), mountpoint: "/dev/vdb" } }), 400, `Invalid attaching mode 'rw' for volume ${vid}.`);
  const a = await m.api.post(m.token, "/attachments", { attachment: { volume_uuid: vid, instance_uuid: randomUUID() } });
  assert.equal(a.body.attachment.attach_mode, "ro", "read-only admin metadata wins");
  await m.api.del(m.token, `/attachments/${a.body.attachment.id}`);
  assert.equal((await act({ "os-attach": { instance_uuid: randomUUID(), mountpoint: "/dev/vdb", mode: "ro" } })).status, 202);
  const att = (await volume(m, vid)).attachments[0];
  assertVolumeError(await act({ "os-force_detach": { attachment_id: att.attachment_id } }), 403, /Policy doesn't allow volume_extension:volume_admin_actions:force_detach to be performed/);
  const admin = await tc.adminToken();
  await tc.cloud.volume.core.setVolume(tc.cloud.volume.core.db, vid, { status: "error" });
  const fd = await volumeApi(tc, "", "3.0", true).post(admin, `/volumes/${vid}/action`, { "os-force_detach": { attachment_id: att.attachment_id, connector: null } });
  assert.equal(fd.status, 202, fd.text);
  const v = await volume(m, vid);
  assert.equal(v.status, "available");
  assert.deepEqual(v.attachments, []);
});
