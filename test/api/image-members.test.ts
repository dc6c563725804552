/**
 * Glance v2 sharing: visibility (private/shared/public/community) across projects, image
 * members (only the owner adds, only the member sets its status), member_status listing,
 * image tags, and metadata definitions (namespaces and their contents).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import { assertGlanceError, glanceClient } from "../support/image.js";
import type { Body } from "../support/image.js";

const tc = await startTestCloud();
after(() => tc.close());
const g = glanceClient(tc);

const listed = async (token: string, q = ""): Promise<string[]> => (await g.req("GET", `/images${q}`, { token })).body.images.map((i: Body) => i.id);

test("visibility: who sees private, shared, public and community images", async () => {
  const owner = await persona(tc, "member");
  const other = await persona(tc, "member");
  const admin = await tc.adminToken();
  const priv = await g.create(owner.token, { visibility: "private" });
  const shared = await g.create(owner.token, { visibility: "shared" });
  const comm = await g.create(owner.token, { visibility: "community" });
  const pub = await g.create(admin, { visibility: "public" });
  const seen = await listed(other.token);
  assert.ok(seen.includes(pub.id));
  for (const hidden of [priv.id, shared.id, comm.id]) assert.ok(!seen.includes(hidden));
  assert.ok((await listed(other.token, "?visibility=community")).includes(comm.id), "community images are listed when asked for");
  assert.equal((await g.req("GET", `/images/${comm.id}`, { token: other.token })).status, 200);
  assertGlanceError(await g.req("GET", `/images/${priv.id}`, { token: other.token }), 404);
  assertGlanceError(await g.req("GET", `/images/${shared.id}`, { token: other.token }), 404);
  const mine = await listed(owner.token);
  for (const id of [priv.id, shared.id, comm.id, pub.id]) assert.ok(mine.includes(id));
  // An admin sees every project's images.
  const all = await listed(admin, "?limit=1000");
  for (const id of [priv.id, shared.id]) assert.ok(all.includes(id));
  // Another project may not change a public image: 403 (it can see it).
  assertGlanceError(await g.patch(other.token, pub.id, [{ op: "replace", path: "/name", value: "x" }]), 403, "You are not authorized to complete modify_image action.");
});

test("members: the owner shares, the member accepts, then sees it listed", async () => {
  const owner = await persona(tc, "member");
  const member = await persona(tc, "member");
  const img = await g.create(owner.token, { visibility: "shared" });
  const add = await g.req("POST", `/images/${img.id}/members`, { token: owner.token, body: { member: member.projectId } });
  assert.equal(add.status, 200, add.text);
  assert.equal(add.body.status, "pending");
  assert.equal(add.body.member_id, member.projectId);
  assert.equal(add.body.image_id, img.id);
  assert.equal(add.body.schema, "/v2/schemas/member");
  assertGlanceError(await g.req("POST", `/images/${img.id}/members`, { token: owner.token, body: { member: member.projectId } }), 409, `Member ${member.projectId} is duplicated for image ${img.id}`);
  // Pending: visible by id, not in the default list, listed with member_status=pending.
  assert.equal((await g.req("GET", `/images/${img.id}`, { token: member.token })).status, 200);
  assert.ok(!(await listed(member.token)).includes(img.id));
  assert.ok((await listed(member.token, "?member_status=pending")).includes(img.id));
  assert.ok((await listed(member.token, "?member_status=all")).includes(img.id));
  // Only the member changes its status; the owner cannot, an invalid status is a 400.
  assertGlanceError(await g.req("PUT", `/images/${img.id}/members/${member.projectId}`, { token: owner.token, body: { status: "accepted" } }), 403, "You are not authorized to complete modify_member action.");
  assertGlanceError(await g.req("PUT", `/images/${img.id}/members/${member.projectId}`, { token: member.token, body: { status: "bogus" } }), 400, 'Incorrect request: Status must be "pending", "accepted" or "rejected".');
  assertGlanceError(await g.req("PUT", `/images/${img.id}/members/${member.projectId}`, { token: member.token, body: {} }), 400, "Status not specified");
  const acc = await g.req("PUT", `/images/${img.id}/members/${member.projectId}`, { token: member.token, body: { status: "accepted" } });
  assert.equal(acc.status, 200, acc.text);
  assert.equal(acc.body.status, "accepted");
  assert.ok((await listed(member.token)).includes(img.id));
  // Lists: the owner sees all members, the member itself only.
  const third = await persona(tc, "member");
  assert.equal((await g.req("POST", `/images/${img.id}/members`, { token: owner.token, body: { member: third.projectId } })).status, 200);
  const ownerList = await g.req("GET", `/images/${img.id}/members`, { token: owner.token });
  assert.equal(ownerList.body.members.length, 2);
  assert.equal(ownerList.body.schema, "/v2/schemas/members");
  const memberList = await g.req("GET", `/images/${img.id}/members`, { token: member.token });
  assert.deepEqual(memberList.body.members.map((x: Body) => x.member_id), [member.projectId]);
  assert.equal((await g.req("GET", `/images/${img.id}/members/${member.projectId}`, { token: member.token })).body.status, "accepted");
  assertGlanceError(await g.req("GET", `/images/${img.id}/members/${third.projectId}`, { token: member.token }), 404);
  // A member cannot add members or download-modify the image; it may download.
  assertGlanceError(await g.req("POST", `/images/${img.id}/members`, { token: member.token, body: { member: unique("p") } }), 403, "You are not authorized to complete add_member action.");
  assertGlanceError(await g.patch(member.token, img.id, [{ op: "replace", path: "/name", value: "x" }]), 403);
  // Unsharing: the owner removes the member, which then no longer sees the image.
  assert.equal((await g.req("DELETE", `/images/${img.id}/members/${member.projectId}`, { token: owner.token })).status, 204);
  assertGlanceError(await g.req("GET", `/images/${img.id}`, { token: member.token }), 404);
  assertGlanceError(await g.req("DELETE", `/images/${img.id}/members/${member.projectId}`, { token: owner.token }), 404);
});

test("members: only shared images have them; bad bodies", async () => {
  const owner = await persona(tc, "member");
  const img = await g.create(owner.token, { visibility: "private" });
  assertGlanceError(await g.req("POST", `/images/${img.id}/members`, { token: owner.token, body: { member: "x" } }), 403, `Not allowed to create members for image ${img.id}.`);
  assertGlanceError(await g.req("GET", `/images/${img.id}/members`, { token: owner.token }), 403, `Not allowed to list members for image ${img.id}: Only shared images have members.`);
  const shared = await g.create(owner.token);
  assertGlanceError(await g.req("POST", `/images/${shared.id}/members`, { token: owner.token, body: {} }), 400, "Member to be added not specified");
  assertGlanceError(await g.req("POST", `/images/${shared.id}/members`, { token: owner.token, body: { member: "" } }), 400, "Member can't be empty");
  assertGlanceError(await g.req("POST", `/images/${shared.id}/members`, { token: owner.token, body: { member: 5 } }), 400, 'Expected a member in the form: {"member": "image_id"}');
  assertGlanceError(await g.req("POST", `/images/00000000-0000-0000-0000-000000000000/members`, { token: owner.token, body: { member: "x" } }), 404, "Image 00000000-0000-0000-0000-000000000000 not found.");
  assert.deepEqual((await g.req("GET", `/images/${shared.id}/members`, { token: owner.token })).body.members, []);
});

test("tags: add (idempotent) and delete; unknown tag and image are 404", async () => {
  const m = await persona(tc, "member");
  const img = await g.create(m.token);
  assert.equal((await g.req("PUT", `/images/${img.id}/tags/blue`, { token: m.token })).status, 204);
  assert.equal((await g.req("PUT", `/images/${img.id}/tags/blue`, { token: m.token })).status, 204);
  assert.deepEqual((await g.req("GET", `/images/${img.id}`, { token: m.token })).body.tags, ["blue"]);
  assert.ok((await listed(m.token, "?tag=blue")).includes(img.id));
  assert.equal((await g.req("DELETE", `/images/${img.id}/tags/blue`, { token: m.token })).status, 204);
  assertGlanceError(await g.req("DELETE", `/images/${img.id}/tags/blue`, { token: m.token }), 404);
  assertGlanceError(await g.req("PUT", `/images/00000000-0000-0000-0000-000000000000/tags/x`, { token: m.token }), 404, "Image 00000000-0000-0000-0000-000000000000 not found.");
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  assertGlanceError(await g.req("PUT", `/images/${img.id}/tags/red`, { token: reader.token }), 403, `Not allowed to update tags for image ${img.id}.`);
});

test("metadefs: namespace lifecycle with objects, properties, tags and resource types", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const rts = await g.req("GET", "/metadefs/resource_types", { token: admin });
  assert.ok(rts.body.resource_types.some((r: Body) => r.name === "OS::Glance::Image"));
  const name = unique("ns");
  assertGlanceError(await g.req("POST", "/metadefs/namespaces", { token: m.token, body: { namespace: name } }), 403, "You are not authorized to complete add_metadef_namespace action.");
  assertGlanceError(await g.req("POST", "/metadefs/namespaces", { token: admin, body: { display_name: "x" } }), 400, "Provided object does not match schema 'namespace': 'namespace' is a required property");
  const ns = await g.req("POST", "/metadefs/namespaces", {
    token: admin,
    body: { namespace: name, visibility: "public", protected: true, description: "d", resource_type_associations: [{ name: "OS::Glance::Image", prefix: "hw_" }] },
  });
  assert.equal(ns.status, 201, ns.text);
  assert.equal(ns.body.self, `/v2/metadefs/namespaces/${name}`);
  assert.equal(ns.body.resource_type_associations[0].name, "OS::Glance::Image");
  assertGlanceError(await g.req("POST", "/metadefs/namespaces", { token: admin, body: { namespace: name } }), 409);
  const obj = await g.req("POST", `/metadefs/namespaces/${name}/objects`, { token: admin, body: { name: "obj1", properties: { cpu: { type: "integer", title: "CPU" } } } });
  assert.equal(obj.status, 201, obj.text);
  const prop = await g.req("POST", `/metadefs/namespaces/${name}/properties`, { token: admin, body: { name: "mode", title: "Mode", type: "string", enum: ["a", "b"] } });
  assert.equal(prop.status, 201, prop.text);
  const tags = await g.req("POST", `/metadefs/namespaces/${name}/tags`, { token: admin, body: { tags: [{ name: "t1" }, { name: "t2" }] } });
  assert.equal(tags.status, 201, tags.text);
  // A member of another project sees the public namespace and its contents.
  const shown = await g.req("GET", `/metadefs/namespaces/${name}?resource_type=OS::Glance::Image`, { token: m.token });
  assert.equal(shown.status, 200, shown.text);
  assert.deepEqual(Object.keys(shown.body.properties), ["hw_mode"]);
  assert.equal(shown.body.objects[0].name, "obj1");
  assert.deepEqual(shown.body.tags.map((t: Body) => t.name).sort(), ["t1", "t2"]);
  assert.ok((await g.req("GET", "/metadefs/namespaces", { token: m.token })).body.namespaces.some((x: Body) => x.namespace === name));
  assertGlanceError(await g.req("DELETE", `/metadefs/namespaces/${name}`, { token: m.token }), 403, "You are not authorized to complete delete_metadef_namespace action.");
  assertGlanceError(await g.req("DELETE", `/metadefs/namespaces/${name}`, { token: admin }), 403, `Namespace ${name} is protected and cannot be deleted.`);
  const upd = await g.req("PUT", `/metadefs/namespaces/${name}`, { token: admin, body: { namespace: name, visibility: "private", protected: false } });
  assert.equal(upd.status, 200, upd.text);
  assert.equal(upd.body.visibility, "private");
  // Private now: the other project's member no longer sees it.
  assertGlanceError(await g.req("GET", `/metadefs/namespaces/${name}`, { token: m.token }), 404);
  const tagUpd = await g.req("PUT", `/metadefs/namespaces/${name}/tags/t1`, { token: admin, body: { name: "t9" } });
  assert.equal(tagUpd.body.name, "t9");
  assert.equal((await g.req("DELETE", `/metadefs/namespaces/${name}/resource_types/OS::Glance::Image`, { token: admin })).status, 204);
  assert.equal((await g.req("DELETE", `/metadefs/namespaces/${name}`, { token: admin })).status, 204);
  assertGlanceError(await g.req("GET", `/metadefs/namespaces/${name}`, { token: admin }), 404);
  const schema = await g.req("GET", "/schemas/metadefs/namespace", { token: m.token });
  assert.equal(schema.body.name, "namespace");
});

test("concurrent adds of one member: one 200, one 409, one row", async () => {
  const owner = await persona(tc, "member");
  const img = await g.create(owner.token);
  const member = unique("proj");
  const rs = await Promise.all([1, 2, 3].map(() => g.req("POST", `/images/${img.id}/members`, { token: owner.token, body: { member } })));
  assert.deepEqual(rs.map((r) => r.status).sort(), [200, 409, 409]);
  assert.equal((await g.req("GET", `/images/${img.id}/members`, { token: owner.token })).body.members.length, 1);
});
