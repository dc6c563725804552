/**
 * Cinder generic volume groups: group types (3.11) and their specs, groups (3.13: create →
 * scheduled → available, show/list/detail per microversion, update with add/remove volumes,
 * delete with and without delete-volumes, reset_status 3.20), group snapshots (3.14: one
 * snapshot per member, delete, reset_status 3.19) and groups created from a group snapshot or
 * a source group; errors worded as Cinder's.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { uuid } from "../../src/common/ids.js";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import type { Body } from "../support/volume.js";
import { assertVolumeError, volumeApi, waitStatus as waitShort } from "../support/volume.js";

// One backend: where a volume created into a group lands is the volumes area's scheduling
// (it must follow the group's backend); these tests are about the groups themselves.
const tc = await startTestCloud({ volume: { backends: [{ name: "simulated-1", capacityGb: 1000 }] } } as Parameters<typeof startTestCloud>[0]);
after(() => tc.close());

const V = "3.70";

async function admin() {
  const token = await tc.adminToken();
  const me = await tc.request("GET", "/identity/v3/auth/tokens", { token, headers: { "x-subject-token": token } });
  const projectId = me.body.token.project.id as string;
  return { token, projectId, api: volumeApi(tc, projectId, V) };
}

async function member() {
  const p = await persona(tc, "member");
  return { ...p, api: volumeApi(tc, p.projectId, V) };
}

async function groupType(specs: Record<string, string> = {}, isPublic = true): Promise<Body> {
  const a = await admin();
  const r = await a.api.post(a.token, "/group_types", { group_type: { name: unique("gt"), group_specs: specs, is_public: isPublic } });
  assert.equal(r.status, 202, r.text);
  return r.body.group_type;
}

async function volumeType(): Promise<Body> {
  const a = await admin();
  const r = await a.api.post(a.token, "/types", { volume_type: { name: unique("vt") } });
  assert.equal(r.status, 200, r.text);
  return r.body.volume_type;
}

type Api = ReturnType<typeof volumeApi>;

/** Snapshots and copies move real (sparse) data on the simulated backend: allow them time. */
function waitStatus(get: Parameters<typeof waitShort>[0], key: string, status: string): Promise<Body> {
  return waitShort(get, key, status, 6000);
}

async function group(api: Api, token: string, gt: string, vts: string[], extra: Record<string, unknown> = {}): Promise<Body> {
  const r = await api.post(token, "/groups", { group: { group_type: gt, volume_types: vts, name: unique("g"), ...extra } });
  assert.equal(r.status, 202, r.text);
  assert.deepEqual(Object.keys(r.body.group).sort(), ["id", "name"]);
  return waitStatus(() => api.get(token, `/groups/${r.body.group.id}`), "group", "available");
}

async function volumeIn(api: Api, token: string, groupId: string, typeId: string): Promise<Body> {
  const r = await api.post(token, "/volumes", { volume: { size: 1, volume_type: typeId, group_id: groupId } });
  assert.equal(r.status, 202, r.text);
  return waitStatus(() => api.get(token, `/volumes/${r.body.volume.id}`), "volume", "available");
}

async function gone(get: () => Promise<{ status: number; text: string }>): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    const r = await get();
    if (r.status === 404) return;
    assert.equal(r.status, 200, r.text);
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.fail("never went away");
}

// ---- group types ------------------------------------------------------------------------

test("group types: create/show/list/update/delete as admin, views and is_public filter", async () => {
  const a = await admin();
  const name = unique("gt");
  const c = await a.api.post(a.token, "/group_types", { group_type: { name, description: "d", group_specs: { consistent_group_snapshot_enabled: "<is> False" }, is_public: "false" } });
  assert.equal(c.status, 202, c.text);
  const t = c.body.group_type;
  assert.deepEqual(t, { id: t.id, name, description: "d", is_public: false, group_specs: { consistent_group_snapshot_enabled: "<is> False" } });

  const shown = await a.api.get(a.token, `/group_types/${t.id}`);
  assert.equal(shown.status, 200);
  assert.deepEqual(shown.body.group_type, t);

  // Admins list public types unless they ask (is_public=None lists both).
  const pub = await a.api.get(a.token, "/group_types");
  assert.equal(pub.body.group_types.some((x: Body) => x.id === t.id), false);
  const priv = await a.api.get(a.token, "/group_types?is_public=false");
  assert.equal(priv.body.group_types.some((x: Body) => x.id === t.id), true);
  const both = await a.api.get(a.token, "/group_types?is_public=None&sort=name:asc");
  assert.equal(both.body.group_types.some((x: Body) => x.id === t.id), true);
  const names = both.body.group_types.map((x: Body) => x.name as string);
  assert.deepEqual(names, [...names].sort());
  assertVolumeError(await a.api.get(a.token, "/group_types?is_public=maybe"), 400, "Invalid is_public filter [maybe]");

  const u = await a.api.put(a.token, `/group_types/${t.id}`, { group_type: { name: `${name}-x`, description: "new", is_public: true } });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.body.group_type.name, `${name}-x`);
  assert.equal(u.body.group_type.description, "new");
  assert.equal(u.body.group_type.is_public, true);

  const d = await a.api.del(a.token, `/group_types/${t.id}`);
  assert.equal(d.status, 202);
  assertVolumeError(await a.api.get(a.token, `/group_types/${t.id}/group_specs`), 404, `Group type ${t.id} could not be found.`);
  assertVolumeError(await a.api.get(a.token, `/group_types/${t.id}`), 404, `Group type ${t.id} could not be found.`);
  assertVolumeError(await a.api.del(a.token, `/group_types/${t.id}`), 404, `Group type ${t.id} could not be found.`);
});

test("group types: before 3.11 there are none; default is not configured", async () => {
  const a = await admin();
  assertVolumeError(await a.api.get(a.token, "/group_types", "3.10"), 404);
  assertVolumeError(await a.api.get(a.token, "/group_types/default"), 404, "Default group type can not be found.");
});

test("group types: members see public types without specs and cannot change them", async () => {
  const pubType = await groupType({ k: "v" });
  const privType = await groupType({}, false);
  const m = await member();
  const l = await m.api.get(m.token, "/group_types");
  assert.equal(l.status, 200);
  const mine = l.body.group_types.find((x: Body) => x.id === pubType.id);
  assert.deepEqual(mine, { id: pubType.id, name: pubType.name, description: null, is_public: true });
  assert.equal(
    l.body.group_types.some((x: Body) => x.id === privType.id),
    false,
  );
  // A member's is_public is ignored (only public types).
  const l2 = await m.api.get(m.token, "/group_types?is_public=false");
  assert.equal(
    l2.body.group_types.some((x: Body) => x.id === privType.id),
    false,
  );
  assertVolumeError(await m.api.get(m.token, `/group_types/${privType.id}`), 404, `Group type ${privType.id} could not be found.`);
  assertVolumeError(await m.api.post(m.token, "/group_types", { group_type: { name: unique("gt") } }), 403, "Policy doesn't allow group:group_types:create to be performed.");
  assertVolumeError(await m.api.put(m.token, `/group_types/${pubType.id}`, { group_type: { name: "x" } }), 403);
  assertVolumeError(await m.api.del(m.token, `/group_types/${pubType.id}`), 403);
  assertVolumeError(await m.api.get(m.token, `/group_types/${pubType.id}/group_specs`), 403);
});

test("group types: bad input and conflicts", async () => {
  const a = await admin();
  const t = await groupType();
  assertVolumeError(await a.api.post(a.token, "/group_types", { group_type: { name: t.name } }), 409, `Group Type ${t.name} already exists.`);
  assertVolumeError(await a.api.post(a.token, "/group_types", { group_type: {} }), 400, "Invalid input for field/attribute group_type. Value: {}. 'name' is a required property");
  assertVolumeError(await a.api.post(a.token, "/group_types", {}), 400, "'group_type' is a required property");
  assertVolumeError(await a.api.post(a.token, "/group_types", { group_type: { name: "   " } }), 400, "An invalid 'name' value was provided. The 'name' can not be empty.");
  assertVolumeError(await a.api.post(a.token, "/group_types", { group_type: { name: "" } }), 400, "Invalid input for field/attribute name. Value: . '' is too short");
  assertVolumeError(await a.api.post(a.token, "/group_types", { group_type: { name: unique("gt"), is_public: "maybe" } }), 400, /^Invalid input for field\/attribute is_public\. Value: maybe\. 'maybe' is not one of \[True, 'True'/);
  assertVolumeError(await a.api.post(a.token, "/group_types", { group_type: { name: unique("gt"), group_specs: { "bad key!": "x" } } }), 400, "Invalid input for field/attribute group_specs. Value: {'bad key!': 'x'}. Additional properties are not allowed ('bad key!' was unexpected)");
  assertVolumeError(await a.api.post(a.token, "/group_types", { group_type: { name: unique("gt"), bogus: 1 } }), 400, /Additional properties are not allowed \('bogus' was unexpected\)/);
  const other = await groupType();
  assertVolumeError(await a.api.put(a.token, `/group_types/${t.id}`, { group_type: { name: other.name } }), 409, `Group Type ${other.name} already exists.`);
  assertVolumeError(await a.api.put(a.token, `/group_types/${t.id}`, { group_type: {} }), 400, "Specify group type name, description or a combination thereof.");
  assertVolumeError(await a.api.put(a.token, `/group_types/${t.id}`, { group_type: { name: "  " } }), 400, "Group type name can not be empty.");
  assertVolumeError(await a.api.put(a.token, `/group_types/${uuid()}`, { group_type: { name: unique("x") } }), 404, /^Group type .* could not be found\.$/);
  const again = await a.api.get(a.token, `/group_types/${t.id}`);
  assert.equal(again.body.group_type.name, t.name);
});

test("group specs: create, show, update one, list, delete", async () => {
  const a = await admin();
  const t = await groupType();
  const base = `/group_types/${t.id}/group_specs`;
  const c = await a.api.post(a.token, base, { group_specs: { key1: "value1", key2: "value2" } });
  assert.equal(c.status, 202, c.text);
  assert.deepEqual(c.body, { group_specs: { key1: "value1", key2: "value2" } });
  const c2 = await a.api.post(a.token, base, { group_specs: { key2: "value2-updated", key3: "value3" } });
  assert.deepEqual(c2.body, { group_specs: { key2: "value2-updated", key3: "value3" } });
  const s = await a.api.get(a.token, `${base}/key2`);
  assert.equal(s.status, 200);
  assert.deepEqual(s.body, { key2: "value2-updated" });
  const u = await a.api.put(a.token, `${base}/key3`, { key3: "value3-updated" });
  assert.equal(u.status, 200, u.text);
  assert.deepEqual(u.body, { key3: "value3-updated" });
  const l = await a.api.get(a.token, base);
  assert.deepEqual(l.body, { group_specs: { key1: "value1", key2: "value2-updated", key3: "value3-updated" } });
  // Values may be null.
  assert.equal((await a.api.put(a.token, `${base}/nul`, { nul: null })).status, 200);
  assert.deepEqual((await a.api.get(a.token, `${base}/nul`)).body, { nul: null });
  assert.equal((await a.api.del(a.token, `${base}/nul`)).status, 202);
  const shown = await a.api.get(a.token, `/group_types/${t.id}`);
  assert.deepEqual(shown.body.group_type.group_specs, l.body.group_specs);
  for (const k of ["key1", "key2", "key3"]) {
    assert.equal((await a.api.del(a.token, `${base}/${k}`)).status, 202);
    assertVolumeError(await a.api.get(a.token, `${base}/${k}`), 404, `Group Type ${t.id} has no extra spec with key ${k}.`);
  }
  assertVolumeError(await a.api.del(a.token, `${base}/key1`), 404, `Group Type ${t.id} has no specs with key key1.`);
  assertVolumeError(await a.api.put(a.token, `${base}/key1`, { key2: "x" }), 400, "Request body and URI mismatch");
  assertVolumeError(await a.api.put(a.token, `${base}/key1`, { key1: "x", key2: "y" }), 400, "{'key1': 'x', 'key2': 'y'} has too many properties");
  assertVolumeError(await a.api.post(a.token, base, { group_specs: { "a b": "x" } }), 400, "Invalid input for field/attribute group_specs. Value: {'a b': 'x'}. Additional properties are not allowed ('a b' was unexpected)");
  assertVolumeError(await a.api.post(a.token, base, { specs: {} }), 400, "'group_specs' is a required property");
  const missing = uuid();
  assertVolumeError(await a.api.get(a.token, `/group_types/${missing}/group_specs`), 404, `Group type ${missing} could not be found.`);
  assertVolumeError(await a.api.post(a.token, `/group_types/${missing}/group_specs`, { group_specs: { a: "b" } }), 404, `Group type ${missing} could not be found.`);
});

// ---- groups -----------------------------------------------------------------------------

test("groups: create → available on a backend; show, list and detail by microversion", async () => {
  const gt = await groupType();
  const vt = await volumeType();
  const m = await member();
  const g = await group(m.api, m.token, gt.id, [vt.id], { description: "  desc  " });
  assert.equal(g.status, "available");
  assert.equal(g.description, "desc");
  assert.equal(g.availability_zone, "nova");
  assert.equal(g.group_type, gt.id);
  assert.deepEqual(g.volume_types, [vt.id]);
  assert.equal(g.group_snapshot_id, null);
  assert.equal(g.source_group_id, null);
  assert.equal(g.replication_status, "disabled");
  assert.equal("project_id" in g, false, "project_id is for admins");
  assert.equal("volumes" in g, false, "volumes only with list_volume");
  assert.match(g.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);

  const v313 = await m.api.get(m.token, `/groups/${g.id}`, "3.13");
  assert.deepEqual(Object.keys(v313.body.group).sort(), ["availability_zone", "created_at", "description", "group_type", "id", "name", "status", "volume_types"]);
  const lv = await m.api.get(m.token, `/groups/${g.id}?list_volume=true`);
  assert.deepEqual(lv.body.group.volumes, []);
  assertVolumeError(await m.api.get(m.token, `/groups/${g.id}?list_volume=maybe`), 400, "Value 'maybe' for 'list_volume' is not a boolean.");
  assert.equal("volumes" in (await m.api.get(m.token, `/groups/${g.id}?list_volume=true`, "3.24")).body.group, false);
  const a = await admin();
  const asAdmin = await a.api.get(a.token, `/groups/${g.id}`);
  assert.equal(asAdmin.body.group.project_id, m.projectId);

  const l = await m.api.get(m.token, "/groups");
  assert.deepEqual(l.body, { groups: [{ id: g.id, name: g.name }] });
  const d = await m.api.get(m.token, "/groups/detail");
  assert.equal(d.body.groups.length, 1);
  assert.equal(d.body.groups[0].status, "available");
  // Another project's group is not found; the admin's list is the admin's project unless all_tenants.
  const other = await member();
  assertVolumeError(await other.api.get(other.token, `/groups/${g.id}`), 404, `Group ${g.id} could not be found.`);
  assert.deepEqual((await other.api.get(other.token, "/groups")).body, { groups: [] });
  const adminAll = await a.api.get(a.token, "/groups?all_tenants=1");
  assert.equal(
    adminAll.body.groups.some((x: Body) => x.id === g.id),
    true,
  );
  // Filters (3.33+): members may filter on name only.
  assert.equal((await m.api.get(m.token, `/groups?name=${g.name}`)).body.groups.length, 1);
  assert.equal((await m.api.get(m.token, "/groups?name=nope")).body.groups.length, 0);
  assertVolumeError(await m.api.get(m.token, "/groups?status=available"), 400, "Invalid filters status are found in query options.");
  assert.equal((await m.api.get(m.token, "/groups?status=available", "3.32")).body.groups.length, 1);
  // Paging.
  const g2 = await group(m.api, m.token, gt.id, [vt.id]);
  const p1 = await m.api.get(m.token, "/groups?limit=1");
  assert.equal(p1.body.groups.length, 1);
  assert.equal(p1.body.groups[0].id, g2.id, "newest first");
  assert.match(p1.body.group_links[0].href, new RegExp(`marker=${g2.id}`));
  const p2 = await m.api.get(m.token, `/groups?limit=1&marker=${g2.id}`);
  assert.equal(p2.body.groups[0].id, g.id);
  assertVolumeError(await m.api.get(m.token, `/groups?marker=${uuid()}`), 404, /^Group .* could not be found\.$/);
  // Before 3.13 there are no groups.
  assertVolumeError(await m.api.get(m.token, "/groups", "3.12"), 404);
  // Groups go by the delete action; the router's DELETE finds no method.
  assertVolumeError(await m.api.del(m.token, `/groups/${g.id}`), 404, "The resource could not be found.");
});

test("groups: create refused for unknown types, zones and over quota; nothing is written", async () => {
  const gt = await groupType();
  const vt = await volumeType();
  const m = await member();
  const post = (group: Record<string, unknown>) => m.api.post(m.token, "/groups", { group });
  assertVolumeError(await post({ group_type: "no-such", volume_types: [vt.id] }), 404, "Group type with name no-such could not be found.");
  const missing = uuid();
  assertVolumeError(await post({ group_type: missing, volume_types: [vt.id] }), 404, `Group type ${missing} could not be found.`);
  assertVolumeError(await post({ group_type: gt.id, volume_types: ["no-such"] }), 404, "Volume type with name no-such could not be found.");
  assertVolumeError(await post({ group_type: gt.id, volume_types: [missing] }), 404, `Volume type ${missing} could not be found.`);
  assertVolumeError(await post({ group_type: gt.id, volume_types: [vt.id], availability_zone: "mars" }), 400, "Invalid input received: Availability zone 'mars' is invalid.");
  assertVolumeError(await post({ group_type: gt.id, volume_types: [] }), 400, "Invalid input for field/attribute volume_types. Value: []. [] is too short");
  assertVolumeError(await post({ group_type: gt.id, volume_types: [vt.id, vt.id] }), 400, `Invalid input for field/attribute volume_types. Value: ['${vt.id}', '${vt.id}']. ['${vt.id}', '${vt.id}'] has non-unique elements`);
  assertVolumeError(await post({ group_type: "", volume_types: [vt.id] }), 400, "Invalid input for field/attribute group_type. Value: . '' is not a 'group_type'");
  assertVolumeError(await post({ volume_types: [vt.id] }), 400, `Invalid input for field/attribute group. Value: {'volume_types': ['${vt.id}']}. 'group_type' is a required property`);
  assertVolumeError(await post({ group_type: gt.id, volume_types: [vt.id], foo: 1 }), 400, /Additional properties are not allowed \('foo' was unexpected\)/);
  // By name works too.
  const byName = await group(m.api, m.token, gt.name, [vt.name]);
  assert.equal(byName.group_type, gt.id);
  assert.deepEqual(byName.volume_types, [vt.id]);
  // Quota: groups.
  const a = await admin();
  const q = await a.api.put(a.token, `/os-quota-sets/${m.projectId}`, { quota_set: { groups: 1 } });
  assert.equal(q.status, 200, q.text);
  assertVolumeError(await post({ group_type: gt.id, volume_types: [vt.id] }), 413, "Maximum number of groups allowed (1) exceeded");
  assert.equal((await m.api.get(m.token, "/groups")).body.groups.length, 1);
});

test("groups: volumes join at create, leave and rejoin by update; name and description change", async () => {
  const gt = await groupType();
  const vt = await volumeType();
  const m = await member();
  const g = await group(m.api, m.token, gt.id, [vt.id]);
  const v1 = await volumeIn(m.api, m.token, g.id, vt.id);
  const v2 = await volumeIn(m.api, m.token, g.id, vt.id);
  assert.equal(v1.group_id, g.id);
  const withVols = await m.api.get(m.token, `/groups/${g.id}?list_volume=true`);
  assert.deepEqual([...withVols.body.group.volumes].sort(), [v1.id, v2.id].sort());

  const u = await m.api.put(m.token, `/groups/${g.id}`, { group: { name: " new_group ", description: "This is a new group", remove_volumes: v2.id } });
  assert.equal(u.status, 202, u.text);
  assert.equal(u.text, "");
  const after1 = await waitStatus(() => m.api.get(m.token, `/groups/${g.id}?list_volume=true`), "group", "available");
  assert.equal(after1.name, "new_group");
  assert.equal(after1.description, "This is a new group");
  assert.deepEqual(after1.volumes, [v1.id]);
  assert.equal((await m.api.get(m.token, `/volumes/${v2.id}`)).body.volume.group_id, null);

  const add = await m.api.put(m.token, `/groups/${g.id}`, { group: { add_volumes: `${v2.id},` } });
  assert.equal(add.status, 202, add.text);
  const after2 = await waitStatus(() => m.api.get(m.token, `/groups/${g.id}?list_volume=true`), "group", "available");
  assert.deepEqual([...after2.volumes].sort(), [v1.id, v2.id].sort());

  // Bad updates.
  const put = (group: Record<string, unknown>) => m.api.put(m.token, `/groups/${g.id}`, { group });
  assertVolumeError(await put({ name: "new_group" }), 400, `Invalid Group: Cannot update group ${g.id} because no valid name, description, add_volumes, or remove_volumes were provided.`);
  assertVolumeError(await put({ add_volumes: v1.id, remove_volumes: v1.id }), 400, `Invalid volume: UUIDs ['${v1.id}'] are in both add and remove volume list.`);
  const missing = uuid();
  assertVolumeError(await put({ add_volumes: missing }), 400, `Invalid volume: Cannot add volume ${missing} to group ${g.id} because volume cannot be found.`);
  assertVolumeError(await put({ remove_volumes: missing }), 400, `Invalid volume: Cannot remove volume ${missing} from group ${g.id} because it is not in the group.`);
  const otherType = await volumeType();
  const loose = await m.api.post(m.token, "/volumes", { volume: { size: 1, volume_type: otherType.id } });
  const lv = await waitStatus(() => m.api.get(m.token, `/volumes/${loose.body.volume.id}`), "volume", "available");
  assertVolumeError(await put({ add_volumes: lv.id }), 400, `Invalid volume: Cannot add volume ${lv.id} to group ${g.id} because volume type ${otherType.id} is not supported by the group.`);
  assertVolumeError(await put({}), 400, "Invalid input for field/attribute group. Value: {}. {} is not valid under any of the given schemas");
  assertVolumeError(await put({ status: "x" }), 400, /is not valid under any of the given schemas/);
  const other = await member();
  assertVolumeError(await other.api.put(other.token, `/groups/${g.id}`, { group: { name: "x" } }), 404, `Group ${g.id} could not be found.`);
  // A member of a group cannot be deleted on its own (the volumes area's rule).
  assertVolumeError(await m.api.del(m.token, `/volumes/${v1.id}`), 400);

  // Delete: refused with volumes unless delete-volumes, then the volumes go too.
  assertVolumeError(await m.api.post(m.token, `/groups/${g.id}/action`, { delete: {} }), 400, `Invalid Group: Group ${g.id} still contains volumes. The delete-volumes flag is required to delete it.`);
  assertVolumeError(await m.api.post(m.token, `/groups/${g.id}/action`, { delete: { "delete-volumes": "perhaps" } }), 400, /^Invalid input for field\/attribute delete-volumes\. Value: perhaps\./);
  const d = await m.api.post(m.token, `/groups/${g.id}/action`, { delete: { "delete-volumes": true } });
  assert.equal(d.status, 202, d.text);
  await gone(() => m.api.get(m.token, `/groups/${g.id}`));
  await gone(() => m.api.get(m.token, `/volumes/${v1.id}`));
  await gone(() => m.api.get(m.token, `/volumes/${v2.id}`));
  assertVolumeError(await m.api.post(m.token, `/groups/${g.id}/action`, { delete: {} }), 404, `Group ${g.id} could not be found.`);
});

test("groups: an empty group deletes without delete-volumes; its type can go afterwards", async () => {
  const gt = await groupType();
  const vt = await volumeType();
  const m = await member();
  const g = await group(m.api, m.token, gt.id, [vt.id]);
  const a = await admin();
  assertVolumeError(await a.api.del(a.token, `/group_types/${gt.id}`), 400, `Target group type is still in use. Group Type ${gt.id} deletion is not allowed with groups present with the type.`);
  const d = await m.api.post(m.token, `/groups/${g.id}/action`, { delete: { "delete-volumes": false } });
  assert.equal(d.status, 202, d.text);
  await gone(() => m.api.get(m.token, `/groups/${g.id}`));
  assert.equal((await a.api.del(a.token, `/group_types/${gt.id}`)).status, 202);
});

test("groups: reset_status is an admin action (3.20) with Cinder's status check", async () => {
  const gt = await groupType();
  const vt = await volumeType();
  const m = await member();
  const a = await admin();
  const g = await group(m.api, m.token, gt.id, [vt.id]);
  const act = (token: string, body: unknown, v?: string) => (token === a.token ? a.api : m.api).post(token, `/groups/${g.id}/action`, body, v);
  for (const status of ["creating", "available", "error"]) {
    assert.equal((await act(a.token, { reset_status: { status } })).status, 202);
    assert.equal((await m.api.get(m.token, `/groups/${g.id}`)).body.group.status, status);
  }
  assertVolumeError(await act(m.token, { reset_status: { status: "available" } }), 403, "Policy doesn't allow group:reset_status to be performed.");
  assertVolumeError(await act(a.token, { reset_status: { status: "available" } }, "3.19"), 404);
  assertVolumeError(
    await act(a.token, { reset_status: { status: "bogus" } }),
    400,
    "Invalid Group Status: Group status: bogus is invalid, valid status are: ('error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'in-use', 'error_deleting').",
  );
  assertVolumeError(await act(a.token, { reset_status: { status: " " } }), 400, "Invalid Group Status: The 'status' can not be empty.");
  assertVolumeError(await act(a.token, { reset_status: {} }), 400, "Invalid input for field/attribute reset_status. Value: {}. 'status' is a required property");
  assertVolumeError(await act(a.token, { bogus_action: {} }), 400, "There is no such action: bogus_action. Verify the request body and Content-Type header and try again.");
  assertVolumeError(await act(a.token, { reset_status: { status: "error" }, other: 1 }), 400, "Malformed request body");
  // An error group still deletes.
  assert.equal((await act(m.token, { delete: {} })).status, 202);
  await gone(() => m.api.get(m.token, `/groups/${g.id}`));
});

// ---- group snapshots ------------------------------------------------------------------------

test("group snapshots: one snapshot per member; show/list; the group and volumes wait for it; delete", async () => {
  const gt = await groupType();
  const vt = await volumeType();
  const m = await member();
  const g = await group(m.api, m.token, gt.id, [vt.id]);
  const v1 = await volumeIn(m.api, m.token, g.id, vt.id);
  const v2 = await volumeIn(m.api, m.token, g.id, vt.id);
  const c = await m.api.post(m.token, "/group_snapshots", { group_snapshot: { group_id: g.id, name: "gs1", description: "d" } });
  assert.equal(c.status, 202, c.text);
  assert.deepEqual(c.body.group_snapshot, { id: c.body.group_snapshot.id, name: "gs1", group_type_id: gt.id });
  const gs = await waitStatus(() => m.api.get(m.token, `/group_snapshots/${c.body.group_snapshot.id}`), "group_snapshot", "available");
  assert.deepEqual(Object.keys(gs).sort(), ["created_at", "description", "group_id", "group_type_id", "id", "name", "status"]);
  assert.equal(gs.group_id, g.id);
  const sl = await m.api.get(m.token, "/snapshots/detail");
  assert.equal(sl.status, 200, sl.text);
  const snaps = sl.body.snapshots.filter((s: Body) => s.group_snapshot_id === gs.id || [v1.id, v2.id].includes(s.volume_id));
  assert.equal(snaps.length, 2);
  for (const s of snaps) assert.equal(s.status, "available");

  const l = await m.api.get(m.token, "/group_snapshots");
  assert.deepEqual(l.body, { group_snapshots: [{ id: gs.id, name: "gs1" }] });
  const d = await m.api.get(m.token, "/group_snapshots/detail");
  assert.equal(d.body.group_snapshots[0].status, "available");
  assert.equal((await m.api.get(m.token, `/group_snapshots/detail?group_id=${g.id}`)).body.group_snapshots.length, 1);
  assert.equal((await m.api.get(m.token, `/group_snapshots/detail?group_id=${uuid()}`)).body.group_snapshots.length, 0);
  assertVolumeError(await m.api.get(m.token, "/group_snapshots?group_type_id=x"), 400, "Invalid filters group_type_id are found in query options.");
  const a = await admin();
  assert.equal((await a.api.get(a.token, `/group_snapshots/${gs.id}`)).body.group_snapshot.project_id, m.projectId);
  const other = await member();
  assertVolumeError(await other.api.get(other.token, `/group_snapshots/${gs.id}`), 404, `GroupSnapshot ${gs.id} could not be found.`);
  assertVolumeError(await m.api.get(m.token, "/group_snapshots", "3.13"), 404);

  // The group cannot go while it has snapshots; the group snapshot's snapshots cannot go alone.
  assertVolumeError(await m.api.post(m.token, `/groups/${g.id}/action`, { delete: { "delete-volumes": true } }), 400, "Invalid Group: Group has existing snapshots.");

  const del = await m.api.del(m.token, `/group_snapshots/${gs.id}`);
  assert.equal(del.status, 202, del.text);
  await gone(() => m.api.get(m.token, `/group_snapshots/${gs.id}`));
  for (const s of snaps) await gone(() => m.api.get(m.token, `/snapshots/${s.id}`));
  assert.equal((await m.api.post(m.token, `/groups/${g.id}/action`, { delete: { "delete-volumes": true } })).status, 202);
  await gone(() => m.api.get(m.token, `/groups/${g.id}`));
});

test("group snapshots: bad input, reset_status (3.19, admin) and delete only when available or error", async () => {
  const gt = await groupType();
  const vt = await volumeType();
  const m = await member();
  const a = await admin();
  const g = await group(m.api, m.token, gt.id, [vt.id]);
  await volumeIn(m.api, m.token, g.id, vt.id);
  const post = (body: unknown) => m.api.post(m.token, "/group_snapshots", body);
  assertVolumeError(await post({ group_snapshot: { group_id: "nope" } }), 400, "Invalid input for field/attribute group_id. Value: nope. 'nope' is not a 'uuid'");
  assertVolumeError(await post({ group_snapshot: { name: "x" } }), 400, "Invalid input for field/attribute group_snapshot. Value: {'name': 'x'}. 'group_id' is a required property");
  const missing = uuid();
  assertVolumeError(await post({ group_snapshot: { group_id: missing } }), 404, `Group ${missing} could not be found.`);
  // A frozen backend (os-services freeze) takes no group changes.
  const frozen = await a.api.put(a.token, "/os-services/freeze", { host: "stackbox@simulated-1" });
  assert.equal(frozen.status, 200, frozen.text);
  assertVolumeError(await post({ group_snapshot: { group_id: g.id } }), 400, "Invalid input received: Modification operations are not allowed on frozen storage backends.");
  assertVolumeError(await m.api.post(m.token, `/groups/${g.id}/action`, { delete: { "delete-volumes": true } }), 400, "Invalid input received: Modification operations are not allowed on frozen storage backends.");
  assert.equal((await a.api.put(a.token, "/os-services/thaw", { host: "stackbox@simulated-1" })).status, 200);
  const c = await post({ group_snapshot: { group_id: g.id } });
  assert.equal(c.status, 202, c.text);
  assert.equal(c.body.group_snapshot.name, null);
  const id = c.body.group_snapshot.id as string;
  await waitStatus(() => m.api.get(m.token, `/group_snapshots/${id}`), "group_snapshot", "available");
  const act = (token: string, body: unknown, v?: string) => (token === a.token ? a.api : m.api).post(token, `/group_snapshots/${id}/action`, body, v);
  for (const status of ["creating", "available", "error"]) {
    assert.equal((await act(a.token, { reset_status: { status } })).status, 202);
    assert.equal((await m.api.get(m.token, `/group_snapshots/${id}`)).body.group_snapshot.status, status);
  }
  assertVolumeError(await act(m.token, { reset_status: { status: "available" } }), 403, "Policy doesn't allow group:reset_group_snapshot_status to be performed.");
  assertVolumeError(await act(a.token, { reset_status: { status: "available" } }, "3.18"), 404);
  assertVolumeError(
    await act(a.token, { reset_status: { status: "in-use" } }),
    400,
    "Invalid GroupSnapshot Status: Group snapshot status: in-use is invalid, valid statuses are: ('error', 'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting').",
  );
  assert.equal((await act(a.token, { reset_status: { status: "creating" } })).status, 202);
  assertVolumeError(await m.api.del(m.token, `/group_snapshots/${id}`), 400, "Invalid GroupSnapshot: GroupSnapshot status must be available or error, and no Group can be currently using it as source for its creation.");
  assert.equal((await act(a.token, { reset_status: { status: "error" } })).status, 202);
  assert.equal((await m.api.del(m.token, `/group_snapshots/${id}`)).status, 202);
  await gone(() => m.api.get(m.token, `/group_snapshots/${id}`));
});

test("create-from-src: a group from a group snapshot and from a source group, volumes available", async () => {
  const gt = await groupType();
  const vt = await volumeType();
  const m = await member();
  const g = await group(m.api, m.token, gt.id, [vt.id]);
  const vol = await volumeIn(m.api, m.token, g.id, vt.id);
  const c = await m.api.post(m.token, "/group_snapshots", { group_snapshot: { group_id: g.id, name: "gs" } });
  const gs = await waitStatus(() => m.api.get(m.token, `/group_snapshots/${c.body.group_snapshot.id}`), "group_snapshot", "available");

  const fromSnap = await m.api.post(m.token, "/groups/action", { "create-from-src": { group_snapshot_id: gs.id, name: " from-snap " } });
  assert.equal(fromSnap.status, 202, fromSnap.text);
  assert.deepEqual(Object.keys(fromSnap.body.group).sort(), ["id", "name"]);
  assert.equal(fromSnap.body.group.name, "from-snap");
  const g2 = await waitStatus(() => m.api.get(m.token, `/groups/${fromSnap.body.group.id}?list_volume=true`), "group", "available");
  assert.equal(g2.group_snapshot_id, gs.id);
  assert.equal(g2.source_group_id, null);
  assert.equal(g2.group_type, gt.id);
  assert.deepEqual(g2.volume_types, [vt.id]);
  assert.equal(g2.volumes.length, 1);
  const nv = (await m.api.get(m.token, `/volumes/${g2.volumes[0]}`)).body.volume;
  assert.equal(nv.status, "available");
  assert.equal(nv.group_id, g2.id);
  assert.equal(nv.size, vol.size);
  assert.notEqual(nv.snapshot_id, null);

  const fromGroup = await m.api.post(m.token, "/groups/action", { "create-from-src": { source_group_id: g.id, name: "from-group" } });
  assert.equal(fromGroup.status, 202, fromGroup.text);
  const g3 = await waitStatus(() => m.api.get(m.token, `/groups/${fromGroup.body.group.id}?list_volume=true`), "group", "available");
  assert.equal(g3.source_group_id, g.id);
  assert.equal(g3.volumes.length, 1);
  assert.equal((await m.api.get(m.token, `/volumes/${g3.volumes[0]}`)).body.volume.source_volid, vol.id);

  // Bad requests.
  const src = (body: Record<string, unknown>, v?: string) => m.api.post(m.token, "/groups/action", { "create-from-src": body }, v);
  assertVolumeError(await src({ name: "x" }), 400, "Invalid input for field/attribute create-from-src. Value: {'name': 'x'}. {'name': 'x'} is not valid under any of the given schemas");
  assertVolumeError(await src({ group_snapshot_id: gs.id, source_group_id: g.id }), 400, /is valid under each of/);
  const missing = uuid();
  assertVolumeError(await src({ group_snapshot_id: missing }), 404, `GroupSnapshot ${missing} could not be found.`);
  assertVolumeError(await src({ source_group_id: missing }), 404, `Group ${missing} could not be found.`);
  assertVolumeError(await src({ source_group_id: g.id }, "3.13"), 404);
  assertVolumeError(await m.api.post(m.token, "/groups/action", {}), 400, "Malformed request body");
  assertVolumeError(await m.api.post(m.token, "/groups/action", { "create-from-src": { source_group_id: g.id }, other: {} }), 400, "Malformed request body");
  assertVolumeError(await m.api.post(m.token, "/groups/action", { clone: {} }), 400, "There is no such action: clone. Verify the request body and Content-Type header and try again.");
  const empty = await group(m.api, m.token, gt.id, [vt.id]);
  assertVolumeError(await src({ source_group_id: empty.id }), 400, "Invalid Group: Source Group is empty. No group will be created.");

  // Cleanup order as Tempest's: new groups, the group snapshot, then the source group.
  for (const id of [g2.id, g3.id, empty.id]) {
    assert.equal((await m.api.post(m.token, `/groups/${id}/action`, { delete: { "delete-volumes": true } })).status, 202);
    await gone(() => m.api.get(m.token, `/groups/${id}`));
  }
  assert.equal((await m.api.del(m.token, `/group_snapshots/${gs.id}`)).status, 202);
  await gone(() => m.api.get(m.token, `/group_snapshots/${gs.id}`));
  assert.equal((await m.api.post(m.token, `/groups/${g.id}/action`, { delete: { "delete-volumes": true } })).status, 202);
  await gone(() => m.api.get(m.token, `/groups/${g.id}`));
});

test("group replication (3.38): only for replication group types; the simulated backends replicate nothing", async () => {
  const vt = await volumeType();
  const m = await member();
  const plain = await group(m.api, m.token, (await groupType()).id, [vt.id]);
  const act = (id: string, body: unknown, v?: string) => m.api.post(m.token, `/groups/${id}/action`, body, v);
  for (const action of ["enable_replication", "disable_replication", "failover_replication", "list_replication_targets"]) {
    assertVolumeError(await act(plain.id, { [action]: {} }), 400, `Invalid group type: Group ${plain.id} is not a replication group type.`);
    assertVolumeError(await act(plain.id, { [action]: {} }, "3.37"), 404);
  }
  assertVolumeError(await act(plain.id, { failover_replication: { allow_attached_volume: "x" } }), 400, /^Invalid input for field\/attribute allow_attached_volume\. Value: x\./);
  const repType = await groupType({ consistent_group_replication_enabled: "<is> True" });
  const g = await group(m.api, m.token, repType.id, [vt.id]);
  assertVolumeError(await act(g.id, { enable_replication: {} }), 400, `Invalid volume type: Volume type ${vt.id} does not have 'replication_enabled' spec key set to '<is> True'.`);
});

test("group scheduling: one backend must hold every volume type; none → error, and an unplaced group deletes at once", async () => {
  const tc2 = await startTestCloud();
  try {
    const token = await tc2.adminToken();
    const me = await tc2.request("GET", "/identity/v3/auth/tokens", { token, headers: { "x-subject-token": token } });
    const api = volumeApi(tc2, me.body.token.project.id as string, V);
    const typeOn = async (backend: string) => {
      const t = await api.post(token, "/types", { volume_type: { name: unique("vt"), extra_specs: { volume_backend_name: backend } } });
      assert.equal(t.status, 200, t.text);
      return t.body.volume_type.id as string;
    };
    const a = await typeOn("simulated-1");
    const b = await typeOn("simulated-2");
    const gt = (await api.post(token, "/group_types", { group_type: { name: unique("gt") } })).body.group_type.id as string;
    const ok = await group(api, token, gt, [a]);
    assert.equal(ok.status, "available");
    const r = await api.post(token, "/groups", { group: { group_type: gt, volume_types: [a, b], name: "split" } });
    assert.equal(r.status, 202, r.text);
    const bad = await waitStatus(() => api.get(token, `/groups/${r.body.group.id}`), "group", "error");
    assert.equal(bad.status, "error");
    // Never placed: Cinder drops it from the database at once.
    assert.equal((await api.post(token, `/groups/${bad.id}/action`, { delete: {} })).status, 202);
    assertVolumeError(await api.get(token, `/groups/${bad.id}`), 404, `Group ${bad.id} could not be found.`);
  } finally {
    await tc2.close();
  }
});

test("group policies: a reader of the project sees groups and group snapshots but changes nothing", async () => {
  const gt = await groupType();
  const vt = await volumeType();
  const m = await member();
  const g = await group(m.api, m.token, gt.id, [vt.id]);
  const r = await persona(tc, "reader", { projectId: m.projectId });
  assert.equal((await m.api.get(r.token, `/groups/${g.id}`)).status, 200);
  assert.equal((await m.api.get(r.token, "/groups/detail")).body.groups.length, 1);
  assert.equal((await m.api.get(r.token, "/group_snapshots")).status, 200);
  assertVolumeError(await m.api.post(r.token, "/groups", { group: { group_type: gt.id, volume_types: [vt.id] } }), 403, "Policy doesn't allow group:create to be performed.");
  assertVolumeError(await m.api.put(r.token, `/groups/${g.id}`, { group: { name: "x" } }), 403, "Policy doesn't allow group:update to be performed.");
  assertVolumeError(await m.api.post(r.token, `/groups/${g.id}/action`, { delete: {} }), 403, "Policy doesn't allow group:delete to be performed.");
  assertVolumeError(await m.api.post(r.token, "/group_snapshots", { group_snapshot: { group_id: g.id } }), 403, "Policy doesn't allow group:create_group_snapshot to be performed.");
  assert.equal((await m.api.get(m.token, `/groups/${g.id}`)).body.group.name, g.name);
});
