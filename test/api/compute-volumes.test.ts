/**
 * Nova's volumes: attach and detach through Cinder's attachments (os-volume_attachments),
 * swap (admin), boot from volume (block_device_mapping_v2: volume, blank, image → volume),
 * delete_on_termination at server delete, the os-volumes/os-snapshots proxies, bad input.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, test } from "node:test";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import { assertComputeError, computeApi, makeFlavor, makeImage, makeNetwork, waitStatus } from "../support/compute.js";
import { volumeApi, waitStatus as waitVolume } from "../support/volume.js";

const tc = await startTestCloud({ compute: { hosts: 2 } as never });
after(() => tc.close());

type Member = Awaited<ReturnType<typeof persona>> & { vol: ReturnType<typeof volumeApi>; net: { id: string } };

async function member(): Promise<Member> {
  const m = await persona(tc, "member");
  const net = await makeNetwork(tc, m.token);
  return { ...m, vol: volumeApi(tc, m.projectId, "3.0"), net };
}

async function makeVolume(m: Member, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await m.vol.post(m.token, "/volumes", { volume: { size: 1, name: unique("vol"), ...extra } });
  assert.equal(r.status, 202, r.text);
  await waitVolume(() => m.vol.get(m.token, `/volumes/${r.body.volume.id}`), "volume", "available");
  return r.body.volume.id;
}

const volume = async (m: Member, id: string) => (await m.vol.get(m.token, `/volumes/${id}`)).body.volume;
const waitVol = (m: Member, id: string, status: string) => waitVolume(() => m.vol.get(m.token, `/volumes/${id}`), "volume", status);

async function boot(m: Member, body: Record<string, unknown>, version = "2.1"): Promise<string> {
  const api = computeApi(tc, version);
  const r = await api.post(m.token, "/servers", { server: { name: unique("vm"), networks: [{ uuid: m.net.id }], ...body } });
  assert.equal(r.status, 202, r.text);
  return r.body.server.id;
}

const image = await makeImage(tc);
const flavor = await makeFlavor(tc);
const zeroDisk = await makeFlavor(tc, { disk: 0 });

test("attach and detach a volume: device chosen, Cinder in-use, server views, instance actions", async () => {
  const m = await member();
  const api = computeApi(tc, "2.89");
  const sid = await boot(m, { imageRef: image, flavorRef: flavor });
  await waitStatus(tc, m.token, sid, ["ACTIVE"]);
  const vid = await makeVolume(m);
  const r = await api.post(m.token, `/servers/${sid}/os-volume_attachments`, { volumeAttachment: { volumeId: vid, tag: "data", delete_on_termination: true } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.volumeAttachment, { id: vid, serverId: sid, volumeId: vid, device: "/dev/vdb", tag: "data", delete_on_termination: true });
  const v = await waitVol(m, vid, "in-use");
  assert.equal(v.attachments[0].server_id, sid);
  assert.equal(v.attachments[0].device, "/dev/vdb");
  const show = await api.get(m.token, `/servers/${sid}/os-volume_attachments/${vid}`);
  assert.equal(show.status, 200, show.text);
  assert.equal(show.body.volumeAttachment.attachment_id, v.attachments[0].attachment_id);
  assert.equal(show.body.volumeAttachment.device, "/dev/vdb");
  const srv = await api.get(m.token, `/servers/${sid}`);
  assert.deepEqual(srv.body.server["os-extended-volumes:volumes_attached"], [{ id: vid, delete_on_termination: true }]);

  // Already attached: Nova's own check.
  assertComputeError(await api.post(m.token, `/servers/${sid}/os-volume_attachments`, { volumeAttachment: { volumeId: vid } }), 400, `Invalid volume: volume ${vid} is already attached to instances: ${sid}`);
  // Cinder refuses a user's delete of the attachment Nova uses.
  const cinder = volumeApi(tc, m.projectId, "3.44");
  const del = await cinder.del(m.token, `/attachments/${v.attachments[0].attachment_id}`);
  assert.equal(del.status, 409, del.text);
  assert.equal(del.body.conflictingRequest.message, `Detach volume from instance ${sid} using the Compute API`);

  const d = await api.del(m.token, `/servers/${sid}/os-volume_attachments/${vid}`);
  assert.equal(d.status, 202, d.text);
  const after = await waitVol(m, vid, "available");
  assert.deepEqual(after.attachments, []);
  assertComputeError(await api.get(m.token, `/servers/${sid}/os-volume_attachments/${vid}`), 404, `Instance ${sid} is not attached to volume ${vid}`);
  const actions = await api.get(m.token, `/servers/${sid}/os-instance-actions`);
  const names = actions.body.instanceActions.map((a: { action: string }) => a.action);
  assert.ok(names.includes("attach_volume") && names.includes("detach_volume"), JSON.stringify(names));
});

test("attach/detach refusals: missing volume, another project's, not attached, multiattach below 2.60", async () => {
  const m = await member();
  const other = await member();
  const api = computeApi(tc, "2.1");
  const sid = await boot(m, { imageRef: image, flavorRef: flavor });
  await waitStatus(tc, m.token, sid, ["ACTIVE"]);
  const missing = randomUUID();
  assertComputeError(await api.post(m.token, `/servers/${sid}/os-volume_attachments`, { volumeAttachment: { volumeId: missing } }), 404, `Volume ${missing} could not be found.`);
  const theirs = await makeVolume(other);
  assertComputeError(await api.post(m.token, `/servers/${sid}/os-volume_attachments`, { volumeAttachment: { volumeId: theirs } }), 404, `Volume ${theirs} could not be found.`);
  assertComputeError(await api.post(m.token, `/servers/${sid}/os-volume_attachments`, { volumeAttachment: { volumeId: "x" } }), 400, /is not a 'uuid'/);
  const mine = await makeVolume(m);
  assertComputeError(await api.del(m.token, `/servers/${sid}/os-volume_attachments/${mine}`), 404, `Instance ${sid} is not attached to volume ${mine}`);
  // A volume Cinder will not reserve (in an error state) is refused with Cinder's reason.
  await tc.cloud.volume.core.setVolume(tc.cloud.volume.core.db, mine, { status: "error" });
  assertComputeError(await api.post(m.token, `/servers/${sid}/os-volume_attachments`, { volumeAttachment: { volumeId: mine } }), 400, /^Invalid volume: Invalid input received: Invalid volume: Volume attachments can not be created if the volume is in an error state/);
  assert.deepEqual((await api.get(m.token, `/servers/${sid}/os-volume_attachments`)).body.volumeAttachments, []);
  // multiattach needs 2.60
  const multi = await makeVolume(m);
  await tc.cloud.volume.core.setVolume(tc.cloud.volume.core.db, multi, { multiattach: 1 });
  assertComputeError(await api.post(m.token, `/servers/${sid}/os-volume_attachments`, { volumeAttachment: { volumeId: multi } }), 400, "Multiattach volumes are only supported starting with compute API version 2.60.");
  assert.equal((await volume(m, multi)).status, "available", "nothing reserved");
  const sid2 = await boot(m, { imageRef: image, flavorRef: flavor });
  await waitStatus(tc, m.token, sid2, ["ACTIVE"]);
  const v260 = computeApi(tc, "2.60");
  for (const s of [sid, sid2]) {
    const r = await v260.post(m.token, `/servers/${s}/os-volume_attachments`, { volumeAttachment: { volumeId: multi } });
    assert.equal(r.status, 200, r.text);
    // Cinder reserves a multiattach volume only when it is available or in-use.
    await waitVol(m, multi, "in-use");
  }
  await waitVolume(async () => {
    const r = await m.vol.get(m.token, `/volumes/${multi}`);
    if (r.body.volume.attachments.length < 2) r.body.volume.status = "waiting";
    return r;
  }, "volume", "in-use");
  // Other project's server: not found.
  assertComputeError(await api.post(other.token, `/servers/${sid}/os-volume_attachments`, { volumeAttachment: { volumeId: theirs } }), 404, `Instance ${sid} could not be found.`);
});

test("swap volume (admin, ≤2.84) and delete_on_termination update (2.85)", async () => {
  const m = await member();
  const admin = await tc.adminToken();
  const sid = await boot(m, { imageRef: image, flavorRef: flavor });
  await waitStatus(tc, m.token, sid, ["ACTIVE"]);
  const v1 = await makeVolume(m);
  const v2 = await makeVolume(m);
  const api = computeApi(tc, "2.1");
  assert.equal((await api.post(m.token, `/servers/${sid}/os-volume_attachments`, { volumeAttachment: { volumeId: v1 } })).status, 200);
  await waitVol(m, v1, "in-use");
  assertComputeError(await api.put(m.token, `/servers/${sid}/os-volume_attachments/${v1}`, { volumeAttachment: { volumeId: v2 } }), 403);
  const r = await api.put(admin, `/servers/${sid}/os-volume_attachments/${v1}`, { volumeAttachment: { volumeId: v2 } });
  assert.equal(r.status, 202, r.text);
  await waitVol(m, v1, "available");
  await waitVol(m, v2, "in-use");
  const list = await api.get(m.token, `/servers/${sid}/os-volume_attachments`);
  assert.deepEqual(list.body.volumeAttachments.map((a: { volumeId: string }) => a.volumeId), [v2]);

  const v285 = computeApi(tc, "2.85");
  assertComputeError(await v285.put(m.token, `/servers/${sid}/os-volume_attachments/${v2}`, { volumeAttachment: { volumeId: v2, device: "/dev/vdz" } }), 400, "The device property is not mutable");
  assert.equal((await v285.put(m.token, `/servers/${sid}/os-volume_attachments/${v2}`, { volumeAttachment: { volumeId: v2, delete_on_termination: true } })).status, 202);
  const shown = await v285.get(m.token, `/servers/${sid}/os-volume_attachments/${v2}`);
  assert.equal(shown.body.volumeAttachment.delete_on_termination, true);
  // delete_on_termination: deleting the server deletes v2, v1 stays.
  assert.equal((await api.del(m.token, `/servers/${sid}`)).status, 204);
  await waitStatus(tc, m.token, sid, ["DELETED"]);
  for (let i = 0; i < 400 && (await m.vol.get(m.token, `/volumes/${v2}`)).status !== 404; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal((await m.vol.get(m.token, `/volumes/${v2}`)).status, 404);
  assert.equal((await volume(m, v1)).status, "available");
});

test("boot from volume: existing bootable volume on a zero-disk flavor, blank data volume, delete_on_termination", async () => {
  const m = await member();
  const root = await makeVolume(m);
  assert.equal((await m.vol.post(m.token, `/volumes/${root}/action`, { "os-set_bootable": { bootable: true } })).status, 200);
  const api = computeApi(tc, "2.1");
  const sid = await boot(m, {
    imageRef: "",
    flavorRef: zeroDisk,
    block_device_mapping_v2: [
      { source_type: "volume", destination_type: "volume", uuid: root, boot_index: 0, delete_on_termination: true },
      { source_type: "blank", destination_type: "volume", volume_size: 1, boot_index: -1 },
    ],
  });
  const s = await waitStatus(tc, m.token, sid, ["ACTIVE", "ERROR"]);
  assert.equal(s.status, "ACTIVE", JSON.stringify(s.fault ?? s));
  assert.equal(s.image, "");
  const attached = s["os-extended-volumes:volumes_attached"] as Array<{ id: string }>;
  assert.equal(attached.length, 2);
  assert.equal(attached[0]!.id, root);
  const rv = await volume(m, root);
  assert.equal(rv.status, "in-use");
  assert.equal(rv.attachments[0].device, "/dev/vda");
  const blank = attached[1]!.id;
  const bv = await volume(m, blank);
  assert.equal(bv.status, "in-use");
  assert.equal(bv.attachments[0].device, "/dev/vdb");
  assertComputeError(await api.del(m.token, `/servers/${sid}/os-volume_attachments/${root}`), 400, "Cannot detach a root device volume");
  assert.equal((await api.del(m.token, `/servers/${sid}`)).status, 204);
  await waitStatus(tc, m.token, sid, ["DELETED"]);
  for (let i = 0; i < 400 && (await m.vol.get(m.token, `/volumes/${root}`)).status !== 404; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal((await m.vol.get(m.token, `/volumes/${root}`)).status, 404, "delete_on_termination");
  assert.equal((await volume(m, blank)).status, "available", "kept and detached");
});

test("boot from volume: image → volume made by Nova", async () => {
  const m = await member();
  const sid = await boot(m, {
    flavorRef: zeroDisk,
    block_device_mapping_v2: [{ source_type: "image", destination_type: "volume", uuid: image, volume_size: 1, boot_index: 0, delete_on_termination: true }],
  });
  const s = await waitStatus(tc, m.token, sid, ["ACTIVE", "ERROR"]);
  assert.equal(s.status, "ACTIVE", JSON.stringify(s.fault ?? s));
  const vid = (s["os-extended-volumes:volumes_attached"] as Array<{ id: string }>)[0]!.id;
  const v = await volume(m, vid);
  assert.equal(v.status, "in-use");
  assert.equal(v.bootable, "true");
});

test("boot from volume refusals: missing volume, not bootable, sizes, zero disk without a volume", async () => {
  const m = await member();
  const api = computeApi(tc, "2.1");
  const post = (server: Record<string, unknown>) => api.post(m.token, "/servers", { server: { name: unique("vm"), networks: [{ uuid: m.net.id }], ...server } });
  const missing = randomUUID();
  assertComputeError(
    await post({ flavorRef: flavor, block_device_mapping_v2: [{ source_type: "volume", destination_type: "volume", uuid: missing, boot_index: 0 }] }),
    400,
    `Block Device Mapping is Invalid: failed to get volume ${missing}.`,
  );
  assertComputeError(
    await post({ imageRef: image, flavorRef: flavor, block_device_mapping_v2: [{ source_type: "volume", destination_type: "volume", uuid: missing, boot_index: 1 }] }),
    400,
    `Volume ${missing} could not be found.`,
  );
  const plain = await makeVolume(m);
  assertComputeError(await post({ flavorRef: flavor, block_device_mapping_v2: [{ source_type: "volume", destination_type: "volume", uuid: plain, boot_index: 0 }] }), 400, `Block Device ${plain} is not bootable.`);
  assertComputeError(
    await post({ flavorRef: flavor, block_device_mapping_v2: [{ source_type: "image", destination_type: "volume", uuid: image, boot_index: 0 }] }),
    400,
    "Images with destination_type 'volume' need to have a non-zero size specified",
  );
  assertComputeError(
    await post({ imageRef: image, flavorRef: flavor, block_device_mapping_v2: [{ source_type: "blank", destination_type: "volume", boot_index: -1 }] }),
    400,
    "Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size",
  );
  assertComputeError(await post({ flavorRef: flavor, block_device_mapping_v2: [{ source_type: "volume", destination_type: "volume", boot_index: 0 }] }), 400, "Block Device Mapping is Invalid: Missing device UUID.");
  assertComputeError(await post({ imageRef: image, flavorRef: zeroDisk }), 403, "Only volume-backed servers are allowed for flavors with zero disk.");
  assert.equal((await volume(m, plain)).status, "available", "nothing reserved by refused creates");
});

test("os-volumes and os-snapshots proxies (≤2.35)", async () => {
  const m = await member();
  const api = computeApi(tc, "2.1");
  const c = await api.post(m.token, "/os-volumes", { volume: { size: 1, display_name: "proxied", metadata: { a: "b" } } });
  assert.equal(c.status, 200, c.text);
  const id = c.body.volume.id;
  assert.equal(c.body.volume.displayName, "proxied");
  assert.deepEqual(c.body.volume.attachments, [{}]);
  await waitVol(m, id, "available");
  const g = await api.get(m.token, `/os-volumes/${id}`);
  assert.equal(g.status, 200, g.text);
  assert.deepEqual(Object.keys(g.body.volume).sort(), ["attachments", "availabilityZone", "createdAt", "displayDescription", "displayName", "id", "metadata", "size", "snapshotId", "status", "volumeType"]);
  assert.equal(g.body.volume.status, "available");
  assert.deepEqual(g.body.volume.metadata, { a: "b" });
  const l = await api.get(m.token, "/os-volumes/detail");
  assert.deepEqual(l.body.volumes.map((v: { id: string }) => v.id), [id]);
  assertComputeError(await api.post(m.token, "/os-volumes", { volume: { size: 0 } }), 400, /less than the minimum of 1/);
  assertComputeError(await api.post(m.token, "/os-volumes", { volume: {} }), 400, /'size' is a required property/);
  assertComputeError(await api.post(m.token, "/os-snapshots", { snapshot: {} }), 400, /'volume_id' is a required property/);
  const missing = randomUUID();
  assertComputeError(await api.get(m.token, `/os-volumes/${missing}`), 404, `Volume ${missing} could not be found.`);
  assertComputeError(await api.get(m.token, `/os-snapshots/${missing}`), 404, `Snapshot ${missing} could not be found.`);
  assert.equal((await api.get(m.token, "/os-volumes", "2.36")).status, 404);
});

test("extending an attached volume (3.42) tells Nova: extend_volume action with compute_extend_volume", async () => {
  const m = await member();
  const admin = await tc.adminToken();
  const sid = await boot(m, { imageRef: image, flavorRef: flavor });
  await waitStatus(tc, m.token, sid, ["ACTIVE"]);
  const vid = await makeVolume(m);
  const api = computeApi(tc, "2.51");
  assert.equal((await api.post(m.token, `/servers/${sid}/os-volume_attachments`, { volumeAttachment: { volumeId: vid } })).status, 200);
  await waitVol(m, vid, "in-use");
  const ext = await m.vol.post(m.token, `/volumes/${vid}/action`, { "os-extend": { new_size: 2 } }, "3.42");
  assert.equal(ext.status, 202, ext.text);
  let action: { request_id: string } | undefined;
  for (let i = 0; i < 400 && !action; i++) {
    const l = await api.get(m.token, `/servers/${sid}/os-instance-actions`);
    action = l.body.instanceActions.find((a: { action: string }) => a.action === "extend_volume");
    if (!action) await new Promise((res) => setTimeout(res, 10));
  }
  assert.ok(action, "extend_volume recorded");
  assert.equal((await volume(m, vid)).size, 2);
  const shown = await api.get(admin, `/servers/${sid}/os-instance-actions/${action.request_id}`);
  const ev = shown.body.instanceAction.events.find((e: { event: string }) => e.event === "compute_extend_volume");
  assert.equal(ev?.result, "Success", JSON.stringify(shown.body));
});

test("legacy block_device_mapping: a volume on vda is the root; unshelve reconnects volumes attached while offloaded", async () => {
  const m = await member();
  const root = await makeVolume(m);
  assert.equal((await m.vol.post(m.token, `/volumes/${root}/action`, { "os-set_bootable": { bootable: true } })).status, 200);
  const sid = await boot(m, { flavorRef: zeroDisk, block_device_mapping: [{ volume_id: root, device_name: "vda", delete_on_termination: false }] });
  const s = await waitStatus(tc, m.token, sid, ["ACTIVE", "ERROR"]);
  assert.equal(s.status, "ACTIVE", JSON.stringify(s.fault ?? s));
  assert.equal((await volume(m, root)).attachments[0].device, "/dev/vda");
  // Shelve (offloaded at once), attach while offloaded (no device yet), unshelve: /dev/vdb, in-use.
  const api = computeApi(tc, "2.20");
  assert.equal((await api.post(m.token, `/servers/${sid}/action`, { shelve: null })).status, 202);
  await waitStatus(tc, m.token, sid, ["SHELVED_OFFLOADED"]);
  const data = await makeVolume(m);
  const a = await api.post(m.token, `/servers/${sid}/os-volume_attachments`, { volumeAttachment: { volumeId: data } });
  assert.equal(a.status, 200, a.text);
  assert.equal(a.body.volumeAttachment.device, null);
  assertComputeError(await computeApi(tc, "2.19").post(m.token, `/servers/${sid}/os-volume_attachments`, { volumeAttachment: { volumeId: data } }), 409, `Cannot 'attach_volume' instance ${sid} while it is in vm_state shelved_offloaded`);
  assert.equal((await api.post(m.token, `/servers/${sid}/action`, { unshelve: null })).status, 202);
  await waitStatus(tc, m.token, sid, ["ACTIVE"]);
  const shown = await api.get(m.token, `/servers/${sid}/os-volume_attachments/${data}`);
  assert.equal(shown.body.volumeAttachment.device, "/dev/vdb");
  assert.equal((await volume(m, data)).status, "in-use");
});
