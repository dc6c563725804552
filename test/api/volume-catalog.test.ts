/**
 * Cinder's catalog/admin area: volume types (CRUD, visibility, extra specs, access, default
 * types), QoS specs, quotas and quota classes (limits, usage, 413s), limits, services,
 * pools, capabilities, hosts, availability zones, user messages, extensions and resource
 * filters, with the error bodies Cinder answers.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import { assertVolumeError, volumeApi, waitStatus } from "../support/volume.js";

const tc = await startTestCloud();
after(() => tc.close());

const admin = await tc.adminToken();
const adminProject = (await tc.request("GET", "/identity/v3/auth/tokens", { token: admin, headers: { "x-subject-token": admin } })).body.token.project.id as string;
const A = volumeApi(tc, adminProject, "3.0");

async function member() {
  const p = await persona(tc, "member");
  return { ...p, api: volumeApi(tc, p.projectId, "3.0") };
}

async function createType(body: Record<string, unknown>): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await A.post(admin, "/types", { volume_type: { name: unique("type"), ...body } });
  assert.equal(r.status, 200, r.text);
  return r.body.volume_type;
}

test("types: create/show/list/update/delete as Cinder answers them", async () => {
  const t = await createType({ description: "desc", extra_specs: { volume_backend_name: "simulated-1", multiattach: "<is> True" } });
  assert.equal(t.is_public, true);
  assert.equal(t["os-volume-type-access:is_public"], true);
  assert.deepEqual(t.extra_specs, { volume_backend_name: "simulated-1", multiattach: "<is> True" });
  // types_manage answers create with the v2 view: no qos_specs_id (show has it).
  assert.equal("qos_specs_id" in t, false);
  assert.equal(t.description, "desc");

  const shown = await A.get(admin, `/types/${t.id}`);
  assert.equal(shown.status, 200);
  assert.deepEqual(shown.body.volume_type, { ...t, qos_specs_id: null });

  const list = await A.get(admin, "/types");
  assert.equal(list.status, 200);
  assert.ok(list.body.volume_types.some((x: { id: string }) => x.id === t.id));
  assert.ok(list.body.volume_types.some((x: { name: string }) => x.name === "__DEFAULT__"));

  const up = await A.put(admin, `/types/${t.id}`, { volume_type: { name: `${t.name}-new`, description: "", is_public: "false" } });
  assert.equal(up.status, 200, up.text);
  assert.equal(up.body.volume_type.name, `${t.name}-new`);
  assert.equal(up.body.volume_type.description, "");
  assert.equal(up.body.volume_type.is_public, false);
  // The access extension decorates show/index/create, not update.
  assert.equal(up.body.volume_type["os-volume-type-access:is_public"], undefined);

  assertVolumeError(await A.put(admin, `/types/${t.id}`, { volume_type: {} }), 400, "Specify volume type name, description, is_public or a combination thereof.");
  assertVolumeError(await A.put(admin, `/types/${t.id}`, { volume_type: { name: "  " } }), 400, "Volume type name can not be empty.");

  const del = await A.del(admin, `/types/${t.id}`);
  assert.equal(del.status, 202);
  assertVolumeError(await A.get(admin, `/types/${t.id}`), 404, `Volume type ${t.id} could not be found.`);
  assertVolumeError(await A.del(admin, `/types/${t.id}`), 404, `Volume type ${t.id} could not be found.`);
});

test("types: validation, duplicates, default type and in-use refusals", async () => {
  assertVolumeError(await A.post(admin, "/types", { volume_type: { name: "" } }), 400, "An invalid 'name' value was provided. The 'name' can not be None.");
  assertVolumeError(await A.post(admin, "/types", { volume_type: { name: "   " } }), 400, "An invalid 'name' value was provided. The 'name' can not be empty.");
  assertVolumeError(await A.post(admin, "/types", { volume_type: {} }), 400, "Invalid input for field/attribute volume_type. Value: {}. 'name' is a required property");
  assertVolumeError(await A.post(admin, "/types", {}), 400, "'volume_type' is a required property");
  assertVolumeError(
    await A.post(admin, "/types", { volume_type: { name: "x", bogus: 1 } }),
    400,
    "Invalid input for field/attribute volume_type. Value: {'name': 'x', 'bogus': 1}. Additional properties are not allowed ('bogus' was unexpected)",
  );
  assertVolumeError(await A.post(admin, "/types", { volume_type: { name: "x", "os-volume-type-access:is_public": "maybe" } }), 400, /is not one of/);

  const t = await createType({});
  assertVolumeError(await A.post(admin, "/types", { volume_type: { name: t.name } }), 409, `Volume Type ${t.name} already exists.`);

  const def = await A.get(admin, "/types/default");
  assert.equal(def.status, 200);
  assert.equal(def.body.volume_type.name, "__DEFAULT__");
  assertVolumeError(await A.del(admin, `/types/${def.body.volume_type.id}`), 400, `The volume type ${def.body.volume_type.id} is a default volume type and cannot be deleted.`);

  // A volume of the type: the type cannot be deleted nor its extra specs changed.
  const vol = await A.post(admin, "/volumes", { volume: { size: 1, volume_type: t.id } });
  assert.equal(vol.status, 202, vol.text);
  await waitStatus(() => A.get(admin, `/volumes/${vol.body.volume.id}`), "volume", "available");
  assertVolumeError(await A.del(admin, `/types/${t.id}`), 400, "Target volume type is still in use.");
  assertVolumeError(await A.post(admin, `/types/${t.id}/extra_specs`, { extra_specs: { k: "v" } }), 400, "Volume Type is currently in use.");
  assert.equal((await A.del(admin, `/volumes/${vol.body.volume.id}`)).status, 202);
});

test("types: a member sees public and accessible private types, only user-visible extra specs, no qos id", async () => {
  const m = await member();
  const pub = await createType({ extra_specs: { volume_backend_name: "simulated-1", multiattach: "<is> True" } });
  const priv = await createType({ "os-volume-type-access:is_public": false });
  const shown = await m.api.get(m.token, `/types/${pub.id}`);
  assert.equal(shown.status, 200);
  assert.deepEqual(shown.body.volume_type.extra_specs, { multiattach: "<is> True" });
  assert.equal("qos_specs_id" in shown.body.volume_type, false);
  assert.equal(shown.body.volume_type["os-volume-type-access:is_public"], true);
  assertVolumeError(await m.api.get(m.token, `/types/${priv.id}`), 404, `Volume type ${priv.id} could not be found.`);
  let list = await m.api.get(m.token, "/types?is_public=false");
  assert.ok(!list.body.volume_types.some((x: { id: string }) => x.id === priv.id));

  // Access: list, add (202, then 409 on repeat), the member sees it, remove (404 on repeat).
  assertVolumeError(await A.get(admin, `/types/${pub.id}/os-volume-type-access`), 404, "Access list not available for public volume types.");
  assertVolumeError(await A.post(admin, `/types/${pub.id}/action`, { addProjectAccess: { project: m.projectId } }), 400, "Invalid volume type: Type access modification is not applicable to public volume type.");
  assert.equal((await A.post(admin, `/types/${priv.id}/action`, { addProjectAccess: { project: m.projectId } })).status, 202);
  assertVolumeError(await A.post(admin, `/types/${priv.id}/action`, { addProjectAccess: { project: m.projectId } }), 409, `Volume type access for ${priv.id} / ${m.projectId} combination already exists.`);
  assertVolumeError(await A.post(admin, `/types/${priv.id}/action`, { addProjectAccess: { project: "not-a-uuid" } }), 400, "Invalid input for field/attribute project. Value: not-a-uuid. 'not-a-uuid' is not a 'uuid'");
  const access = await A.get(admin, `/types/${priv.id}/os-volume-type-access`);
  assert.deepEqual(access.body, { volume_type_access: [{ volume_type_id: priv.id, project_id: m.projectId }] });
  assert.equal((await m.api.get(m.token, `/types/${priv.id}`)).status, 200);
  list = await m.api.get(m.token, "/types");
  assert.ok(list.body.volume_types.some((x: { id: string }) => x.id === priv.id));
  assertVolumeError(await m.api.post(m.token, `/types/${priv.id}/action`, { removeProjectAccess: { project: m.projectId } }), 403);
  assert.equal((await A.post(admin, `/types/${priv.id}/action`, { removeProjectAccess: { project: m.projectId } })).status, 202);
  assertVolumeError(await A.post(admin, `/types/${priv.id}/action`, { removeProjectAccess: { project: m.projectId } }), 404, `Volume type access not found for ${priv.id} / ${m.projectId} combination.`);

  // Policy: members cannot create/update/delete types.
  assertVolumeError(await m.api.post(m.token, "/types", { volume_type: { name: unique("x") } }), 403, "Policy doesn't allow volume_extension:type_create to be performed.");
  assertVolumeError(await m.api.del(m.token, `/types/${pub.id}`), 403);
});

test("extra specs: CRUD, key checks and not-found answers", async () => {
  const t = await createType({});
  const c = await A.post(admin, `/types/${t.id}/extra_specs`, { extra_specs: { k1: "v1", k2: "v2" } });
  assert.equal(c.status, 200, c.text);
  assert.deepEqual(c.body, { extra_specs: { k1: "v1", k2: "v2" } });
  assert.deepEqual((await A.get(admin, `/types/${t.id}/extra_specs`)).body, { extra_specs: { k1: "v1", k2: "v2" } });
  assert.deepEqual((await A.get(admin, `/types/${t.id}/extra_specs/k1`)).body, { k1: "v1" });
  const u = await A.put(admin, `/types/${t.id}/extra_specs/k1`, { k1: "new" });
  assert.equal(u.status, 200);
  assert.deepEqual(u.body, { k1: "new" });
  assertVolumeError(await A.put(admin, `/types/${t.id}/extra_specs/k1`, { k2: "x" }), 400, "Request body and URI mismatch");
  assertVolumeError(await A.put(admin, `/types/${t.id}/extra_specs/k1`, { k1: "x", k2: "y" }), 400, "{'k1': 'x', 'k2': 'y'} has too many properties");
  assertVolumeError(await A.put(admin, `/types/${t.id}/extra_specs/k1`, {}), 400, "{} does not have enough properties");
  assertVolumeError(await A.post(admin, `/types/${t.id}/extra_specs`, { extra_specs: { "bad key": "x" } }), 400, /Additional properties are not allowed \('bad key' was unexpected\)/);
  assertVolumeError(await A.post(admin, `/types/${t.id}/extra_specs`, {}), 400, "'extra_specs' is a required property");
  assertVolumeError(await A.post(admin, `/types/${t.id}/extra_specs`, { extra_specs: { multiattach: "<is> True", cacheable: "<is> True" } }), 400, "cacheable cannot be set with multiattach.");
  assert.equal((await A.del(admin, `/types/${t.id}/extra_specs/k2`)).status, 202);
  assertVolumeError(await A.del(admin, `/types/${t.id}/extra_specs/k2`), 404, `Volume Type ${t.id} has no extra specs with key k2.`);
  assertVolumeError(await A.get(admin, `/types/${t.id}/extra_specs/k2`), 404, `Volume Type ${t.id} has no extra specs with key k2.`);
  const missing = "00000000-0000-4000-8000-000000000000";
  assertVolumeError(await A.get(admin, `/types/${missing}/extra_specs`), 404, `Volume type ${missing} could not be found.`);
  assertVolumeError(await A.post(admin, `/types/${missing}/extra_specs`, { extra_specs: { a: "b" } }), 404, `Volume type ${missing} could not be found.`);
  // A member reads only the user-visible keys.
  const m = await member();
  assert.deepEqual((await m.api.get(m.token, `/types/${t.id}/extra_specs`)).body, { extra_specs: {} });
  assertVolumeError(await m.api.get(m.token, `/types/${t.id}/extra_specs/k1`), 404, `Volume Type ${t.id} has no extra specs with key k1.`);
});

test("default types (3.62): set, show, list, unset; unknown type is a 400; before 3.62 a 404", async () => {
  const m = await member();
  const t = await createType({});
  const A62 = volumeApi(tc, adminProject, "3.62");
  assertVolumeError(await A.get(admin, `/default-types/${m.projectId}`), 404);
  const set = await A62.put(admin, `/default-types/${m.projectId}`, { default_type: { volume_type: t.name } });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(set.body, { default_type: { project_id: m.projectId, volume_type_id: t.id } });
  assert.deepEqual((await A62.get(admin, `/default-types/${m.projectId}`)).body, set.body);
  assert.ok((await A62.get(admin, "/default-types")).body.default_types.some((d: { project_id: string }) => d.project_id === m.projectId));
  assertVolumeError(await A62.put(admin, `/default-types/${m.projectId}`, { default_type: { volume_type: "nope" } }), 400, "Volume type with name nope could not be found.");
  // The member's /types/default and new volumes get it; the type cannot be deleted.
  const md = await volumeApi(tc, m.projectId, "3.62").get(m.token, "/types/default");
  assert.equal(md.body.volume_type.id, t.id);
  assertVolumeError(await A.del(admin, `/types/${t.id}`), 400, `The volume type ${t.id} is a default volume type and cannot be deleted.`);
  assertVolumeError(await volumeApi(tc, m.projectId, "3.62").get(m.token, "/default-types"), 403, "You are not authorized to perform this operation.");
  assertVolumeError(await volumeApi(tc, m.projectId, "3.62").put(m.token, `/default-types/${m.projectId}`, { default_type: { volume_type: t.name } }), 403, "You are not authorized to perform this operation.");
  assert.equal((await A62.del(admin, `/default-types/${m.projectId}`)).status, 204);
  assertVolumeError(await A62.get(admin, `/default-types/${m.projectId}`), 404, `Default type for project ${m.projectId} not found.`);
});

test("qos specs: create, set/unset keys, associate with a type, delete in use", async () => {
  const name = unique("qos");
  const c = await A.post(admin, "/qos-specs", { qos_specs: { name, consumer: "front-end", read_iops_sec: "100" } });
  assert.equal(c.status, 200, c.text);
  const q = c.body.qos_specs;
  assert.deepEqual(q, { id: q.id, name, consumer: "front-end", specs: { read_iops_sec: "100" } });
  assert.equal(c.body.links.length, 2);
  assertVolumeError(await A.post(admin, "/qos-specs", { qos_specs: { name } }), 409, `QoS Specs ${name} already exists.`);
  assertVolumeError(await A.post(admin, "/qos-specs", { qos_specs: { name: unique("q"), consumer: "nowhere" } }), 400, /^Invalid qos specs: Valid consumer of QoS specs are/);
  assertVolumeError(await A.post(admin, "/qos-specs", { qos_specs: { name: "  " } }), 400, "An invalid 'name' value was provided. The 'name' can not be empty.");
  const s = await A.put(admin, `/qos-specs/${q.id}`, { qos_specs: { write_iops_sec: "5", consumer: "both" } });
  assert.equal(s.status, 200);
  assert.deepEqual(s.body, { qos_specs: { write_iops_sec: "5", consumer: "both" } });
  let shown = (await A.get(admin, `/qos-specs/${q.id}`)).body.qos_specs;
  assert.equal(shown.consumer, "both");
  assert.deepEqual(shown.specs, { read_iops_sec: "100", write_iops_sec: "5" });
  assert.equal((await A.put(admin, `/qos-specs/${q.id}/delete_keys`, { keys: ["read_iops_sec"] })).status, 202);
  assertVolumeError(await A.put(admin, `/qos-specs/${q.id}/delete_keys`, { keys: ["nope"] }), 404, `QoS spec ${q.id} has no spec with key nope.`);
  shown = (await A.get(admin, `/qos-specs/${q.id}`)).body.qos_specs;
  assert.deepEqual(shown.specs, { write_iops_sec: "5" });

  const t = await createType({});
  assertVolumeError(await A.get(admin, `/qos-specs/${q.id}/associate`), 400, "Volume Type id must not be None.");
  assert.equal((await A.get(admin, `/qos-specs/${q.id}/associate?vol_type_id=${t.id}`)).status, 202);
  assert.deepEqual((await A.get(admin, `/qos-specs/${q.id}/associations`)).body, { qos_associations: [{ association_type: "volume_type", name: t.name, id: t.id }] });
  assert.equal((await A.get(admin, `/types/${t.id}`)).body.volume_type.qos_specs_id, q.id);
  const other = (await A.post(admin, "/qos-specs", { qos_specs: { name: unique("qos") } })).body.qos_specs;
  assert.equal(other.consumer, "back-end");
  assertVolumeError(await A.get(admin, `/qos-specs/${other.id}/associate?vol_type_id=${t.id}`), 400, `Invalid volume type: Type ${t.id} is already associated with another qos specs: ${q.id}`);
  assertVolumeError(await A.del(admin, `/qos-specs/${q.id}`), 400, "Qos specs still in use.");
  assert.equal((await A.get(admin, `/qos-specs/${q.id}/disassociate?vol_type_id=${t.id}`)).status, 202);
  assert.deepEqual((await A.get(admin, `/qos-specs/${q.id}/associations`)).body, { qos_associations: [] });
  assert.equal((await A.get(admin, `/qos-specs/${q.id}/associate?vol_type_id=${t.id}`)).status, 202);
  assert.equal((await A.get(admin, `/qos-specs/${q.id}/disassociate_all`)).status, 202);
  assert.equal((await A.get(admin, `/qos-specs/${q.id}/associate?vol_type_id=${t.id}`)).status, 202);
  assert.equal((await A.del(admin, `/qos-specs/${q.id}?force=True`)).status, 202);
  assert.equal((await A.get(admin, `/types/${t.id}`)).body.volume_type.qos_specs_id, null);
  assertVolumeError(await A.get(admin, `/qos-specs/${q.id}`), 404, `No such QoS spec ${q.id}.`);
  assertVolumeError(await A.del(admin, `/qos-specs/${other.id}?force=maybe`), 400, "Value 'maybe' for 'force' is not a boolean.");
  const list = await A.get(admin, "/qos-specs");
  assert.ok(list.body.qos_specs.some((x: { id: string }) => x.id === other.id));
  const m = await member();
  assertVolumeError(await m.api.get(m.token, "/qos-specs"), 403, "Policy doesn't allow volume_extension:qos_specs_manage:get_all to be performed.");
});

test("quotas: show, usage, update (validation, below usage), delete, defaults; 413s on create", async () => {
  const m = await member();
  const t = await createType({});
  const show = await m.api.get(m.token, `/os-quota-sets/${m.projectId}`);
  assert.equal(show.status, 200);
  assert.equal(show.body.quota_set.id, m.projectId);
  assert.equal(show.body.quota_set.volumes, 10);
  assert.equal(show.body.quota_set[`volumes_${t.name}`], -1);
  assertVolumeError(await m.api.get(m.token, `/os-quota-sets/${adminProject}`), 403);
  assertVolumeError(await m.api.put(m.token, `/os-quota-sets/${m.projectId}`, { quota_set: { volumes: 5 } }), 403);

  assertVolumeError(await A.put(admin, `/os-quota-sets/${m.projectId}`, { quota_set: { bogus: 1 } }), 400, "Invalid input received: Bad key(s) in quota set: bogus");
  assertVolumeError(await A.put(admin, `/os-quota-sets/${m.projectId}`, { quota_set: { volumes: -2 } }), 400, "volumes must be >= -1");
  assertVolumeError(await A.put(admin, `/os-quota-sets/${m.projectId}`, { quota_set: { volumes: "x" } }), 400, "volumes must be an integer");
  assertVolumeError(await A.put(admin, `/os-quota-sets/${m.projectId}`, { quota_set: {} }), 400, "Invalid input for field/attribute quota_set. Value: {}. {} does not have enough properties");
  const up = await A.put(admin, `/os-quota-sets/${m.projectId}`, { quota_set: { volumes: 2, gigabytes: 3, [`volumes_${t.name}`]: 1, tenant_id: "ignored" } });
  assert.equal(up.status, 200, up.text);
  assert.equal(up.body.quota_set.volumes, 2);
  assert.equal(up.body.quota_set.id, undefined);

  const v1 = await m.api.post(m.token, "/volumes", { volume: { size: 1, volume_type: t.name } });
  assert.equal(v1.status, 202, v1.text);
  const over = await m.api.post(m.token, "/volumes", { volume: { size: 1, volume_type: t.name } });
  assertVolumeError(over, 413, `Maximum number of volumes allowed (1) exceeded for quota 'volumes_${t.name}'.`);
  assert.equal(over.headers.get("retry-after"), "0");
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 3 } }), 413, "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 3G, quota is 3G and 1G has been consumed.");
  const v2 = await m.api.post(m.token, "/volumes", { volume: { size: 1 } });
  assert.equal(v2.status, 202, v2.text);
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 1 } }), 413, "Maximum number of volumes allowed (2) exceeded for quota 'volumes'.");

  const usage = await m.api.get(m.token, `/os-quota-sets/${m.projectId}?usage=True`);
  assert.deepEqual(usage.body.quota_set.volumes, { limit: 2, in_use: 2, reserved: 0 });
  assert.deepEqual(usage.body.quota_set.gigabytes, { limit: 3, in_use: 2, reserved: 0 });
  assert.deepEqual(usage.body.quota_set[`volumes_${t.name}`], { limit: 1, in_use: 1, reserved: 0 });
  assertVolumeError(await m.api.get(m.token, `/os-quota-sets/${m.projectId}?usage=maybe`), 400, "Value 'maybe' for 'usage' is not a boolean.");
  assertVolumeError(
    await A.put(admin, `/os-quota-sets/${m.projectId}`, { quota_set: { volumes: 1 } }),
    400,
    "Quota volumes limit must be equal or greater than existing resources. Current usage is 2 and the requested limit is 1.",
  );

  const lim = await m.api.get(m.token, "/limits");
  assert.equal(lim.status, 200);
  assert.deepEqual(lim.body.limits.rate, []);
  assert.equal(lim.body.limits.absolute.maxTotalVolumes, 2);
  assert.equal(lim.body.limits.absolute.totalVolumesUsed, 2);
  assert.equal(lim.body.limits.absolute.totalGigabytesUsed, 2);
  assert.equal(lim.body.limits.absolute.maxTotalBackupGigabytes, 1000);

  const del = await A.del(admin, `/os-quota-sets/${m.projectId}`);
  assert.equal(del.status, 200);
  assert.equal((await m.api.get(m.token, `/os-quota-sets/${m.projectId}`)).body.quota_set.volumes, 10);
  const defaults = await m.api.get(m.token, `/os-quota-sets/${m.projectId}/defaults`);
  assert.equal(defaults.body.quota_set.id, m.projectId);
  assert.equal(defaults.body.quota_set.backup_gigabytes, 1000);
  // per_volume_gigabytes.
  await A.put(admin, `/os-quota-sets/${m.projectId}`, { quota_set: { per_volume_gigabytes: 2 } });
  assertVolumeError(await m.api.post(m.token, "/volumes", { volume: { size: 3 } }), 413, "Requested volume size 3G is larger than maximum allowed limit 2G.");
  for (const v of [v1, v2]) {
    await waitStatus(() => m.api.get(m.token, `/volumes/${v.body.volume.id}`), "volume", "available");
    assert.equal((await m.api.del(m.token, `/volumes/${v.body.volume.id}`)).status, 202);
  }
});

test("quota classes: default class drives every project's defaults", async () => {
  const shown = await A.get(admin, "/os-quota-class-sets/default");
  assert.equal(shown.status, 200);
  assert.equal(shown.body.quota_class_set.id, "default");
  const before = shown.body.quota_class_set.snapshots as number;
  const up = await A.put(admin, "/os-quota-class-sets/default", { quota_class_set: { snapshots: before + 1 } });
  assert.equal(up.status, 200, up.text);
  assert.equal(up.body.quota_class_set.snapshots, before + 1);
  assert.equal(up.body.quota_class_set.id, undefined);
  const m = await member();
  assert.equal((await m.api.get(m.token, `/os-quota-sets/${m.projectId}/defaults`)).body.quota_set.snapshots, before + 1);
  assertVolumeError(await A.put(admin, "/os-quota-class-sets/default", { quota_class_set: { nope: 1 } }), 400, "Invalid input received: Bad key(s) in quota class set: nope");
  assertVolumeError(await A.put(admin, "/os-quota-class-sets/default", { quota_class_set: { snapshots: "x" } }), 400, "Invalid input for field/attribute snapshots. Value: x. 'x' does not match '^[0-9]*$'");
  assertVolumeError(await m.api.get(m.token, "/os-quota-class-sets/default"), 403);
  await A.put(admin, "/os-quota-class-sets/default", { quota_class_set: { snapshots: before } });
});

test("services: list with filters and microversion fields, enable/disable, freeze/thaw", async () => {
  const list = await A.get(admin, "/os-services");
  assert.equal(list.status, 200);
  const binaries = list.body.services.map((s: { binary: string }) => s.binary).sort();
  assert.deepEqual(binaries, ["cinder-backup", "cinder-scheduler", "cinder-volume", "cinder-volume"]);
  const vol = list.body.services.find((s: { binary: string }) => s.binary === "cinder-volume");
  assert.equal(vol.state, "up");
  assert.equal(vol.status, "enabled");
  assert.equal(vol.frozen, false);
  assert.equal(vol.disabled_reason, null);
  assert.match(vol.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  assert.equal("cluster" in vol, false);
  const v49 = await A.get(admin, "/os-services?binary=cinder-volume", "3.49");
  assert.equal(v49.body.services.length, 2);
  assert.equal(v49.body.services[0].backend_state, "up");
  assert.equal(v49.body.services[0].cluster, null);
  const byHost = await A.get(admin, "/os-services?host=stackbox");
  assert.equal(byHost.body.services.length, 4);

  const host = vol.host as string;
  const dis = await A.put(admin, "/os-services/disable-log-reason", { host, binary: "cinder-volume", disabled_reason: "maintenance" });
  assert.equal(dis.status, 200, dis.text);
  assert.deepEqual(dis.body, { disabled_reason: "maintenance", disabled: true, host, service: "", binary: "cinder-volume", status: "disabled" });
  const after1 = (await A.get(admin, `/os-services?host=${encodeURIComponent(host)}`)).body.services[0];
  assert.equal(after1.status, "disabled");
  assert.equal(after1.disabled_reason, "maintenance");
  const en = await A.put(admin, "/os-services/enable", { host, binary: "cinder-volume" });
  assert.deepEqual(en.body, { disabled: false, host, service: "", binary: "cinder-volume", status: "enabled" });
  assertVolumeError(await A.put(admin, "/os-services/enable", { host: "invalid_host", binary: "cinder-volume" }), 404, "Service cinder-volume could not be found on host invalid_host.");
  assertVolumeError(await A.put(admin, "/os-services/disable", { host, binary: "invalid_binary" }), 404, `Service invalid_binary could not be found on host ${host}.`);
  assertVolumeError(await A.put(admin, "/os-services/disable-log-reason", { host, binary: "cinder-volume", disabled_reason: null }), 400, "Invalid input for field/attribute disabled_reason. Value: None. None is not of type 'string'");
  assertVolumeError(await A.put(admin, "/os-services/disable", { binary: "cinder-volume" }), 400, "Invalid input received: Host field is missing.");
  assertVolumeError(await A.put(admin, "/os-services/nothing", {}), 400, "Invalid input received: Unknown action");

  assert.equal((await A.put(admin, "/os-services/freeze", { host })).status, 200);
  assert.equal((await A.get(admin, `/os-services?host=${encodeURIComponent(host)}`)).body.services[0].frozen, true);
  assertVolumeError(await A.put(admin, "/os-services/freeze", { host }), 400, `Invalid input received: No service could be changed: frozen in ['${host}'] must be False to failover.`);
  assert.equal((await A.put(admin, "/os-services/thaw", { host })).status, 200);
  assertVolumeError(await A.put(admin, "/os-services/freeze", { host: "invalid_host" }), 400, "No service found with host=invalid_host");
  assertVolumeError(await A.put(admin, "/os-services/thaw", { host: "invalid_host" }), 400, "No service found with host=invalid_host");
  const m = await member();
  assertVolumeError(await m.api.get(m.token, "/os-services"), 403, "Policy doesn't allow volume_extension:services:index to be performed.");
});

test("pools, capabilities, hosts and availability zones", async () => {
  const pools = await A.get(admin, "/scheduler-stats/get_pools");
  assert.deepEqual(pools.body, { pools: [{ name: "stackbox@simulated-1#simulated-1" }, { name: "stackbox@simulated-2#simulated-2" }] });
  const detail = await A.get(admin, "/scheduler-stats/get_pools?detail=true");
  const caps = detail.body.pools[0].capabilities;
  assert.equal(caps.volume_backend_name, "simulated-1");
  assert.equal(caps.total_capacity_gb, 1000);
  assert.equal(typeof caps.allocated_capacity_gb, "number");
  assert.equal(caps.storage_protocol, "iSCSI");
  assert.equal(caps.vendor_name, "Open Source");
  // 3.28 filters by pool name, 3.35 by volume type; unknown filters are refused from 3.33.
  const A70 = volumeApi(tc, adminProject, "3.70");
  const byName = await A70.get(admin, "/scheduler-stats/get_pools?name=stackbox@simulated-2%23simulated-2");
  assert.deepEqual(byName.body.pools, [{ name: "stackbox@simulated-2#simulated-2" }]);
  const t = await createType({ extra_specs: { volume_backend_name: "simulated-2" } });
  const byType = await A70.get(admin, `/scheduler-stats/get_pools?volume_type=${t.name}`);
  assert.deepEqual(byType.body.pools, [{ name: "stackbox@simulated-2#simulated-2" }]);
  assertVolumeError(await A70.get(admin, "/scheduler-stats/get_pools?bogus=1"), 400, "Invalid filters bogus are found in query options.");
  assert.equal((await A.get(admin, "/scheduler-stats/get_pools?name=nothing")).body.pools.length, 2);

  const cap = await A.get(admin, "/capabilities/stackbox@simulated-1");
  assert.equal(cap.status, 200);
  assert.equal(cap.body.namespace, "OS::Storage::Capabilities::stackbox@simulated-1");
  assert.equal(cap.body.volume_backend_name, "simulated-1");
  assert.equal(cap.body.properties.thin_provisioning.type, "boolean");
  assertVolumeError(await A.get(admin, "/capabilities/nowhere"), 404, "Can't find service: nowhere");

  const hosts = await A.get(admin, "/os-hosts");
  assert.equal(hosts.body.hosts.length, 4);
  const h = hosts.body.hosts.find((x: { service: string }) => x.service === "cinder-volume");
  assert.equal(h["service-status"], "available");
  const shown = await A.get(admin, `/os-hosts/${h.host_name}`);
  assert.equal(shown.status, 200);
  assert.equal(shown.body.host[0].resource.project, "(total)");
  assert.equal(typeof shown.body.host[0].resource.volume_count, "string");
  assertVolumeError(await A.get(admin, "/os-hosts/nowhere"), 404, "Service cinder-volume could not be found on host nowhere.");

  const m = await member();
  const az = await m.api.get(m.token, "/os-availability-zone");
  assert.deepEqual(az.body, { availabilityZoneInfo: [{ zoneName: "nova", zoneState: { available: true } }] });
  assertVolumeError(await m.api.get(m.token, "/scheduler-stats/get_pools"), 403);
});

test("messages (3.3+): a failed create leaves a user message; show, list paging, delete; 404 for others", async () => {
  const m = await member();
  const api = volumeApi(tc, m.projectId, "3.5");
  const t = await createType({ extra_specs: { storage_protocol: unique("proto"), vendor_name: unique("vendor") } });
  const vol = await api.post(m.token, "/volumes", { volume: { size: 1, volume_type: t.id } });
  assert.equal(vol.status, 202, vol.text);
  await waitStatus(() => api.get(m.token, `/volumes/${vol.body.volume.id}`), "volume", "error");
  const list = await api.get(m.token, "/messages");
  assert.equal(list.status, 200);
  const msg = list.body.messages.find((x: { resource_uuid?: string }) => x.resource_uuid === vol.body.volume.id);
  assert.ok(msg, list.text);
  assert.equal(msg.event_id, "VOLUME_VOLUME_001_003");
  assert.equal(msg.user_message, "schedule allocate volume:Could not find any available weighted backend.");
  assert.equal(msg.message_level, "ERROR");
  assert.equal(msg.resource_type, "VOLUME");
  assert.match(msg.guaranteed_until, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  const shown = await api.get(m.token, `/messages/${msg.id}`);
  assert.deepEqual(shown.body.message, msg);
  const page = await api.get(m.token, "/messages?limit=1");
  assert.equal(page.body.messages.length, 1);
  assert.match(page.body.messages_links[0].href, /marker=/);
  assertVolumeError(await volumeApi(tc, m.projectId, "3.2").get(m.token, "/messages"), 404);
  const other = await member();
  assertVolumeError(await volumeApi(tc, other.projectId, "3.3").get(other.token, `/messages/${msg.id}`), 404, `Message ${msg.id} could not be found.`);
  assertVolumeError(await volumeApi(tc, m.projectId, "3.40").get(m.token, "/messages?bogus=1"), 400, "Invalid filters bogus are found in query options.");
  assert.equal((await api.del(m.token, `/messages/${msg.id}`)).status, 204);
  assertVolumeError(await api.get(m.token, `/messages/${msg.id}`), 404, `Message ${msg.id} could not be found.`);
});

test("extensions and resource filters", async () => {
  const ext = await A.get(admin, "/extensions");
  assert.equal(ext.status, 200);
  const aliases = ext.body.extensions.map((e: { alias: string }) => e.alias);
  for (const a of ["os-hosts", "os-quota-sets", "qos-specs", "os-volume-type-access", "os-types-manage", "scheduler-stats"]) assert.ok(aliases.includes(a), a);
  // Volume type encryption (metadata) is served: api/type-encryption.ts.
  assert.ok(aliases.includes("encryption"));
  assert.ok(ext.body.extensions.some((e: { name: string }) => e.name === "Hosts"));
  const rf = await volumeApi(tc, adminProject, "3.33").get(admin, "/resource_filters?resource=volume_type");
  assert.deepEqual(rf.body, { resource_filters: [{ resource: "volume_type", filters: ["is_public", "extra_specs"] }] });
  assert.equal((await volumeApi(tc, adminProject, "3.33").get(admin, "/resource_filters")).body.resource_filters.length, 9);
  assertVolumeError(await A.get(admin, "/resource_filters"), 404);
});

test("type list filters: admin by extra_specs and is_public; 3.52 resource filters for members", async () => {
  const key = unique("k").replace(/-/g, "_");
  const t = await createType({ extra_specs: { [key]: "yes", multiattach: "<is> True" } });
  const priv = await createType({ "os-volume-type-access:is_public": false });
  const q = encodeURIComponent(`{'${key}': 'yes'}`);
  const byspec = await A.get(admin, `/types?extra_specs=${q}`);
  assert.deepEqual(byspec.body.volume_types.map((x: { id: string }) => x.id), [t.id]);
  const privOnly = await A.get(admin, "/types?is_public=false");
  assert.ok(privOnly.body.volume_types.some((x: { id: string }) => x.id === priv.id));
  assert.ok(privOnly.body.volume_types.every((x: { is_public: boolean }) => !x.is_public));
  assert.ok(!(await A.get(admin, "/types")).body.volume_types.some((x: { id: string }) => x.id === priv.id));
  assert.ok((await A.get(admin, "/types?is_public=None")).body.volume_types.some((x: { id: string }) => x.id === priv.id));
  assert.deepEqual((await A.get(admin, "/types?bogus=1")).body.volume_types, []);
  const paged = await A.get(admin, "/types?limit=1");
  assert.equal(paged.body.volume_types.length, 1);
  assert.match(paged.body.volume_type_links[0].href, /marker=/);

  const m = await member();
  const m52 = volumeApi(tc, m.projectId, "3.52");
  assertVolumeError(await m52.get(m.token, "/types?name=x"), 400, "Invalid filters name are found in query options.");
  // A sensitive key in a member's filter: an empty list, not an error.
  assert.deepEqual((await m52.get(m.token, `/types?extra_specs=${q}`)).body.volume_types, []);
  const visible = await m52.get(m.token, `/types?extra_specs=${encodeURIComponent("{'multiattach': '<is> True'}")}`);
  assert.ok(visible.body.volume_types.some((x: { id: string }) => x.id === t.id));
  // Before 3.52 a member's other filters are dropped.
  assert.ok((await m.api.get(m.token, "/types?name=x")).body.volume_types.length >= 1);
});

test("limits: an admin names another project from 3.39; usage follows the quota rows", async () => {
  const m = await member();
  await A.put(admin, `/os-quota-sets/${m.projectId}`, { quota_set: { snapshots: 7 } });
  assert.equal((await volumeApi(tc, adminProject, "3.39").get(admin, `/limits?project_id=${m.projectId}`)).body.limits.absolute.maxTotalSnapshots, 7);
  assert.notEqual((await volumeApi(tc, adminProject, "3.38").get(admin, `/limits?project_id=${m.projectId}`)).body.limits.absolute.maxTotalSnapshots, 7);
  // A member's project_id is ignored.
  const own = await volumeApi(tc, m.projectId, "3.39").get(m.token, `/limits?project_id=${adminProject}`);
  assert.equal(own.body.limits.absolute.maxTotalSnapshots, 7);
});

test("quota check is serialised per project: concurrent creates never pass the limit", async () => {
  const m = await member();
  await A.put(admin, `/os-quota-sets/${m.projectId}`, { quota_set: { volumes: 2 } });
  const results = await Promise.all(Array.from({ length: 6 }, () => m.api.post(m.token, "/volumes", { volume: { size: 1 } })));
  const ok = results.filter((r) => r.status === 202);
  assert.equal(ok.length, 2, results.map((r) => r.status).join(","));
  for (const r of results.filter((x) => x.status !== 202)) assertVolumeError(r, 413, "Maximum number of volumes allowed (2) exceeded for quota 'volumes'.");
  const usage = await m.api.get(m.token, `/os-quota-sets/${m.projectId}?usage=true`);
  assert.equal(usage.body.quota_set.volumes.in_use, 2);
});
