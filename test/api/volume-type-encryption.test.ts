/**
 * Cinder's volume type encryption API (metadata only: no key manager): /types/{id}/encryption
 * create/show/show-one-field/update/delete, admin only, one per type, refused while volumes of
 * the type exist, gone with the type; request validation as Cinder's jsonschema words it.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import { assertVolumeError, volumeApi, waitStatus } from "../support/volume.js";
import type { Body } from "../support/volume.js";

const tc = await startTestCloud();
after(() => tc.close());

const admin = await tc.adminToken();
const adminProject = (await tc.request("GET", "/identity/v3/auth/tokens", { token: admin, headers: { "x-subject-token": admin } })).body.token.project.id as string;
const A = volumeApi(tc, adminProject, "3.0");
const CINDER_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function createType(): Promise<Body> {
  const r = await A.post(admin, "/types", { volume_type: { name: unique("enc") } });
  assert.equal(r.status, 200, r.text);
  return r.body.volume_type;
}

const LUKS = { provider: "luks", key_size: 256, cipher: "aes-xts-plain64", control_location: "front-end" };

test("create, show, show one field, update, delete (Tempest's flow and the bodies Cinder answers)", async () => {
  const t = await createType();
  const none = await A.get(admin, `/types/${t.id}/encryption`);
  assert.equal(none.status, 200);
  assert.deepEqual(none.body, {});

  const c = await A.post(admin, `/types/${t.id}/encryption`, { encryption: LUKS });
  assert.equal(c.status, 200, c.text);
  const encId = c.body.encryption.encryption_id;
  assert.match(encId, UUID);
  assert.deepEqual(c.body, { encryption: { ...LUKS, volume_type_id: t.id, encryption_id: encId } });

  const s = await A.get(admin, `/types/${t.id}/encryption`);
  assert.equal(s.status, 200);
  assert.match(s.body.created_at, CINDER_TIME);
  assert.deepEqual(s.body, { ...LUKS, volume_type_id: t.id, encryption_id: encId, deleted: false, deleted_at: null, updated_at: null, created_at: s.body.created_at });

  // One field of the encryption; any key of the index, else 404.
  assert.deepEqual((await A.get(admin, `/types/${t.id}/encryption/cipher`)).body, { cipher: "aes-xts-plain64" });
  assert.deepEqual((await A.get(admin, `/types/${t.id}/encryption/key_size`)).body, { key_size: 256 });
  assert.deepEqual((await A.get(admin, `/types/${t.id}/encryption/deleted`)).body, { deleted: false });
  assertVolumeError(await A.get(admin, `/types/${t.id}/encryption/bogus`), 404, `Volume type encryption for type ${t.id} does not exist.`);

  // One encryption per type: VolumeTypeEncryptionExists is an Invalid (400).
  assertVolumeError(await A.post(admin, `/types/${t.id}/encryption`, { encryption: LUKS }), 400, `Volume type encryption for type ${t.id} already exists.`);

  // Update answers the request body (key_size as an integer); the id in the URL is not looked at.
  const upd = { key_size: "128", provider: "SomeProvider", cipher: null, control_location: "back-end" };
  const u = await A.put(admin, `/types/${t.id}/encryption/provider`, { encryption: upd });
  assert.equal(u.status, 200, u.text);
  assert.deepEqual(u.body, { encryption: { ...upd, key_size: 128 } });
  const s2 = (await A.get(admin, `/types/${t.id}/encryption`)).body;
  assert.deepEqual([s2.provider, s2.key_size, s2.cipher, s2.control_location, s2.encryption_id], ["SomeProvider", 128, null, "back-end", encId]);
  assert.match(s2.updated_at, CINDER_TIME);
  // Partial update: only what is given changes.
  const p = await A.put(admin, `/types/${t.id}/encryption/${encId}`, { encryption: { key_size: null } });
  assert.deepEqual(p.body, { encryption: { key_size: null } });
  const s3 = (await A.get(admin, `/types/${t.id}/encryption`)).body;
  assert.deepEqual([s3.provider, s3.key_size, s3.control_location], ["SomeProvider", null, "back-end"]);
  assert.deepEqual((await A.put(admin, `/types/${t.id}/encryption/x`, { encryption: {} })).body, { encryption: {} });

  const d = await A.del(admin, `/types/${t.id}/encryption/provider`);
  assert.equal(d.status, 202);
  assert.deepEqual((await A.get(admin, `/types/${t.id}/encryption`)).body, {});
  assertVolumeError(await A.get(admin, `/types/${t.id}/encryption/cipher`), 404, `Volume type encryption for type ${t.id} does not exist.`);
  assertVolumeError(await A.del(admin, `/types/${t.id}/encryption/provider`), 404, `Volume type encryption for type ${t.id} does not exist.`);
  assertVolumeError(await A.put(admin, `/types/${t.id}/encryption/provider`, { encryption: { provider: "p" } }), 404, `Volume type encryption for type ${t.id} does not exist.`);
  // Created again after a delete; the extension is advertised.
  assert.equal((await A.post(admin, `/types/${t.id}/encryption`, { encryption: { provider: "luks", control_location: "back-end" } })).status, 200);
  const again = (await A.get(admin, `/types/${t.id}/encryption`)).body;
  assert.deepEqual([again.cipher, again.key_size], [null, null]);
  const ext = await A.get(admin, "/extensions");
  assert.ok(ext.body.extensions.some((e: Body) => e.alias === "encryption" && e.name === "VolumeTypeEncryption"));
});

test("request validation: Cinder's schema messages, nothing written", async () => {
  const t = await createType();
  const url = `/types/${t.id}/encryption`;
  const bad = async (body: unknown, msg: string) => assertVolumeError(await A.post(admin, url, body), 400, msg);
  await bad({ encryption: { control_location: "front-end" } }, "Invalid input for field/attribute encryption. Value: {'control_location': 'front-end'}. 'provider' is a required property");
  await bad({ encryption: { provider: "luks" } }, "Invalid input for field/attribute encryption. Value: {'provider': 'luks'}. 'control_location' is a required property");
  await bad({ encryption: { provider: "luks", control_location: "middle" } }, "Invalid input for field/attribute control_location. Value: middle. 'middle' is not one of ['front-end', 'back-end']");
  await bad({ encryption: { ...LUKS, key_size: "abc" } }, "Invalid input received: key_size must be an integer.");
  await bad({ encryption: { ...LUKS, key_size: "-1" } }, "Invalid input for field/attribute key_size. Value: -1. -1 is less than the minimum of 0");
  await bad({ encryption: { ...LUKS, key_size: "1e10" } }, "Invalid input for field/attribute key_size. Value: 1e10. 10000000000.0 is greater than the maximum of 2147483647");
  await bad({ encryption: { ...LUKS, key_size: -1 } }, "Invalid input for field/attribute key_size. Value: -1. -1 is less than the minimum of 0");
  await bad({ encryption: { ...LUKS, key_size: 2147483648 } }, "Invalid input for field/attribute key_size. Value: 2147483648. 2147483648 is greater than the maximum of 2147483647");
  await bad({ encryption: { ...LUKS, key_size: 1.5 } }, "Invalid input for field/attribute key_size. Value: 1.5. 1.5 is not of type 'string', 'integer', 'null'");
  await bad({ encryption: { ...LUKS, key_size: true } }, "Invalid input for field/attribute key_size. Value: True. True is not of type 'string', 'integer', 'null'");
  await bad({ encryption: { ...LUKS, provider: 5 } }, "Invalid input for field/attribute provider. Value: 5. 5 is not of type 'string'");
  await bad({ encryption: { ...LUKS, provider: "p".repeat(256) } }, `Invalid input for field/attribute provider. Value: ${"p".repeat(256)}. '${"p".repeat(256)}' is too long`);
  await bad({ encryption: { ...LUKS, cipher: 7 } }, "Invalid input for field/attribute cipher. Value: 7. 7 is not of type 'string', 'null'");
  await bad({ encryption: "luks" }, "Invalid input for field/attribute encryption. Value: luks. 'luks' is not of type 'object'");
  await bad({}, "'encryption' is a required property");
  await bad({ encryption: LUKS, extra: 1 }, "Additional properties are not allowed ('extra' was unexpected)");
  await bad([1], "[1] is not of type 'object'");
  assert.deepEqual((await A.get(admin, url)).body, {});

  // Update: nothing required, the same field checks.
  assert.equal((await A.post(admin, url, { encryption: { provider: "luks", control_location: "front-end", key_size: "0" } })).status, 200);
  assertVolumeError(await A.put(admin, `${url}/provider`, { encryption: { control_location: null } }), 400, "Invalid input for field/attribute control_location. Value: None. None is not one of ['front-end', 'back-end']");
  assertVolumeError(await A.put(admin, `${url}/provider`, { encryption: { provider: null } }), 400, "Invalid input for field/attribute provider. Value: None. None is not of type 'string'");
  assertVolumeError(await A.put(admin, `${url}/provider`, { encryption: { key_size: "012" } }), 400, "Invalid input received: key_size must be an integer.");
  assertVolumeError(await A.put(admin, `${url}/provider`, {}), 400, "'encryption' is a required property");
  const s = (await A.get(admin, url)).body;
  assert.deepEqual([s.provider, s.control_location, s.key_size, s.updated_at], ["luks", "front-end", 0, null]);
});

test("an absent type: 404 VolumeTypeNotFound (delete: VolumeTypeEncryptionNotFound)", async () => {
  const id = "5e9bd3a4-0f44-4b8a-9a0a-3c8f2f1d6e11";
  const msg = `Volume type ${id} could not be found.`;
  assertVolumeError(await A.get(admin, `/types/${id}/encryption`), 404, msg);
  assertVolumeError(await A.get(admin, `/types/${id}/encryption/cipher`), 404, msg);
  assertVolumeError(await A.post(admin, `/types/${id}/encryption`, { encryption: LUKS }), 404, msg);
  assertVolumeError(await A.put(admin, `/types/${id}/encryption/provider`, { encryption: { provider: "x" } }), 404, msg);
  assertVolumeError(await A.del(admin, `/types/${id}/encryption/provider`), 404, `Volume type encryption for type ${id} does not exist.`);
});

test("admin only: members get 403 (after body validation), nothing changes", async () => {
  const t = await createType();
  assert.equal((await A.post(admin, `/types/${t.id}/encryption`, { encryption: LUKS })).status, 200);
  const m = await persona(tc, "member");
  const M = volumeApi(tc, m.projectId, "3.0");
  const denied = (rule: string) => `Policy doesn't allow volume_extension:volume_type_encryption:${rule} to be performed.`;
  assertVolumeError(await M.get(m.token, `/types/${t.id}/encryption`), 403, denied("get"));
  assertVolumeError(await M.get(m.token, `/types/${t.id}/encryption/cipher`), 403, denied("get"));
  assertVolumeError(await M.post(m.token, `/types/${t.id}/encryption`, { encryption: LUKS }), 403, denied("create"));
  assertVolumeError(await M.post(m.token, `/types/${t.id}/encryption`, { encryption: {} }), 400, /'provider' is a required property/);
  assertVolumeError(await M.put(m.token, `/types/${t.id}/encryption/provider`, { encryption: { provider: "x" } }), 403, denied("update"));
  assertVolumeError(await M.del(m.token, `/types/${t.id}/encryption/provider`), 403, denied("delete"));
  const s = (await A.get(admin, `/types/${t.id}/encryption`)).body;
  assert.equal(s.provider, "luks");
});

test("volumes of the type: create/update/delete refused; the type's deletion removes its encryption", async () => {
  const t = await createType();
  assert.equal((await A.post(admin, `/types/${t.id}/encryption`, { encryption: LUKS })).status, 200);
  const vol = await A.post(admin, "/volumes", { volume: { size: 1, volume_type: t.id } });
  assert.equal(vol.status, 202, vol.text);
  const v = await waitStatus(() => A.get(admin, `/volumes/${vol.body.volume.id}`), "volume", "available");
  // No key manager: the volume is not encrypted.
  assert.equal(v.encrypted, false);
  assertVolumeError(await A.put(admin, `/types/${t.id}/encryption/provider`, { encryption: { provider: "x" } }), 400, "Cannot update encryption specs. Volume type in use.");
  assertVolumeError(await A.del(admin, `/types/${t.id}/encryption/provider`), 400, "Cannot delete encryption specs. Volume type in use.");
  // Reads still work.
  assert.equal((await A.get(admin, `/types/${t.id}/encryption/provider`)).body.provider, "luks");

  const t2 = await createType();
  const vol2 = await A.post(admin, "/volumes", { volume: { size: 1, volume_type: t2.id } });
  assert.equal(vol2.status, 202, vol2.text);
  await waitStatus(() => A.get(admin, `/volumes/${vol2.body.volume.id}`), "volume", "available");
  assertVolumeError(await A.post(admin, `/types/${t2.id}/encryption`, { encryption: LUKS }), 400, "Cannot create encryption specs. Volume type in use.");
  assert.deepEqual((await A.get(admin, `/types/${t2.id}/encryption`)).body, {});

  // Without its volumes the type's encryption changes again, and goes with the type.
  for (const id of [vol.body.volume.id, vol2.body.volume.id]) {
    assert.equal((await A.del(admin, `/volumes/${id}`)).status, 202);
    for (let i = 0; i < 400 && (await A.get(admin, `/volumes/${id}`)).status !== 404; i++) await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal((await A.put(admin, `/types/${t.id}/encryption/provider`, { encryption: { provider: "x" } })).status, 200);
  assert.equal((await A.del(admin, `/types/${t.id}`)).status, 202);
  const rows = await tc.cloud.database.db.selectFrom("vol_type_encryption" as never).selectAll().where("volume_type_id" as never, "=", t.id as never).execute();
  assert.equal(rows.length, 0);
  assertVolumeError(await A.get(admin, `/types/${t.id}/encryption`), 404, `Volume type ${t.id} could not be found.`);
});
