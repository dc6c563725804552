/**
 * Glance v2 images: version documents, create (reserved/read-only attributes, schema
 * errors), show, list filters/sorting/pagination and links, JSON-patch updates and their
 * refusals, delete (protected), deactivate/reactivate, and Glance's webob error shapes.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import { assertGlanceError, glanceClient } from "../support/image.js";
import type { Body } from "../support/image.js";

const tc = await startTestCloud();
after(() => tc.close());
const g = glanceClient(tc);

test("version documents: 300 at /image/, 200 at /image/versions, v2 links", async () => {
  const root = await tc.request("GET", "/image/");
  assert.equal(root.status, 300);
  const cur = root.body.versions.filter((v: Body) => v.status === "CURRENT");
  assert.equal(cur.length, 1);
  assert.equal(cur[0].id, "v2.16", "the image cache is on, as DevStack configures it");
  assert.ok(root.body.versions.some((v: Body) => v.id === "v2.14"));
  assert.ok(root.body.versions.some((v: Body) => v.id === "v2.0" && v.status === "SUPPORTED"));
  assert.equal(cur[0].links[0].href, `${tc.url}/image/v2/`);
  const explicit = await tc.request("GET", "/image/versions");
  assert.equal(explicit.status, 200);
  assert.deepEqual(explicit.body, root.body);
});

test("401 without a token, in keystonemiddleware's shape", async () => {
  const r = await tc.request("GET", "/image/v2/images");
  assert.equal(r.status, 401);
  assert.equal(r.body.error.code, 401);
  assert.match(r.headers.get("www-authenticate") ?? "", /Keystone uri=/);
});

test("create, show and the image view", async () => {
  const m = await persona(tc, "member");
  const name = unique("img");
  const r = await g.req("POST", "/images", { token: m.token, body: { name, disk_format: "qcow2", container_format: "bare", tags: ["a", "b", "a"], min_ram: 512, foo: "bar" } });
  assert.equal(r.status, 201, r.text);
  const img = r.body;
  assert.match(img.id, /^[0-9a-f-]{36}$/);
  assert.equal(r.headers.get("location"), `${tc.url}/v2/images/${img.id}`, "webob's join drops the /image prefix, as Glance under DevStack answers");
  assert.equal(r.headers.get("openstack-image-import-methods"), "glance-direct,web-download,glance-download");
  assert.equal(r.headers.get("openstack-image-store-ids"), "local");
  assert.equal(img.status, "queued");
  assert.equal(img.visibility, "shared", "Glance's default visibility");
  assert.equal(img.owner, m.projectId);
  assert.equal(img.protected, false);
  assert.equal(img.os_hidden, false);
  assert.equal(img.size, null);
  assert.equal(img.checksum, null);
  assert.equal(img.min_ram, 512);
  assert.equal(img.min_disk, 0);
  assert.equal(img.foo, "bar");
  assert.deepEqual([...img.tags].sort(), ["a", "b"]);
  assert.equal(img.self, `/v2/images/${img.id}`);
  assert.equal(img.file, `/v2/images/${img.id}/file`);
  assert.equal(img.schema, "/v2/schemas/image");
  assert.match(img.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  const s = await g.req("GET", `/images/${img.id}`, { token: m.token });
  assert.equal(s.status, 200);
  assert.deepEqual(s.body, img);
  // A caller-chosen id, then a duplicate of it.
  const id = "0b6a1f0e-45b6-4c8c-9d4e-8f3b2d0a7c11";
  const withId = await g.req("POST", "/images", { token: m.token, body: { id } });
  assert.equal(withId.status, 201);
  assertGlanceError(await g.req("POST", "/images", { token: m.token, body: { id } }), 409, `Image with identifier ${id} already exists!`);
});

test("create refusals: read-only, reserved, schema, owner; nothing is written", async () => {
  const m = await persona(tc, "member");
  const before = (await g.req("GET", "/images", { token: m.token })).body.images.length;
  assertGlanceError(await g.req("POST", "/images", { token: m.token, body: { self: "x" } }), 403, "Attribute 'self' is read-only.");
  assertGlanceError(await g.req("POST", "/images", { token: m.token, body: { status: "active" } }), 403, "Attribute 'status' is read-only.");
  assertGlanceError(await g.req("POST", "/images", { token: m.token, body: { os_glance_foo: "x" } }), 403, "Attribute 'os_glance_foo' is reserved.");
  assertGlanceError(await g.req("POST", "/images", { token: m.token, body: { location: "x" } }), 403, "Attribute 'location' is reserved.");
  assertGlanceError(await g.req("POST", "/images", { token: m.token, body: { disk_format: "bogus" } }), 400, /^Provided object does not match schema 'image': 'bogus' is not one of \[None, 'ami'/);
  assertGlanceError(await g.req("POST", "/images", { token: m.token, body: { container_format: "nope" } }), 400, /'nope' is not one of/);
  assertGlanceError(await g.req("POST", "/images", { token: m.token, body: { foo: 5 } }), 400, "Provided object does not match schema 'image': 5 is not of type 'string'");
  assertGlanceError(await g.req("POST", "/images", { token: m.token, body: { min_ram: -1 } }), 400, "Invalid value '-1' for parameter 'min_ram': Cannot be a negative value");
  assertGlanceError(await g.req("POST", "/images", { token: m.token, body: { owner: "someone-else" } }), 403, "You are not permitted to create images owned by 'someone-else'");
  assertGlanceError(await g.req("POST", "/images", { token: m.token, body: { visibility: "public" } }), 403, "You are not authorized to complete publicize_image action.");
  const bad = await g.req("POST", "/images", { token: m.token, raw: "{not json" });
  assertGlanceError(bad, 400);
  const after_ = (await g.req("GET", "/images", { token: m.token })).body.images.length;
  assert.equal(after_, before);
  // An admin may create for another owner and publicize.
  const admin = await tc.adminToken();
  const other = unique("owner");
  const a = await g.create(admin, { owner: other, visibility: "public" });
  assert.equal(a.owner, other);
  assert.equal(a.visibility, "public");
});

test("a reader cannot create; another project's private image is a 404", async () => {
  const m = await persona(tc, "member");
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  assertGlanceError(await g.req("POST", "/images", { token: reader.token, body: { name: "x" } }), 403, "You are not authorized to complete add_image action.");
  const img = await g.create(m.token, { visibility: "private" });
  // The reader of the same project sees it but cannot change it.
  assert.equal((await g.req("GET", `/images/${img.id}`, { token: reader.token })).status, 200);
  assertGlanceError(await g.patch(reader.token, img.id, [{ op: "replace", path: "/name", value: "x" }]), 403, "You are not authorized to complete modify_image action.");
  assertGlanceError(await g.req("DELETE", `/images/${img.id}`, { token: reader.token }), 403);
  const stranger = await persona(tc, "member");
  assertGlanceError(await g.req("GET", `/images/${img.id}`, { token: stranger.token }), 404, `No image found with ID ${img.id}`);
  assertGlanceError(await g.req("DELETE", `/images/${img.id}`, { token: stranger.token }), 404);
  assertGlanceError(await g.patch(stranger.token, img.id, [{ op: "replace", path: "/name", value: "x" }]), 404);
  const list = await g.req("GET", "/images", { token: stranger.token });
  assert.ok(!list.body.images.some((i: Body) => i.id === img.id));
});

test("list: filters, operators, tags, properties, hidden, and the collection keys", async () => {
  const m = await persona(tc, "member");
  const t = unique("tag");
  const a = await g.create(m.token, { name: unique("alpha"), disk_format: "qcow2", tags: [t], arch: "x86_64", protected: true });
  const b = await g.create(m.token, { name: unique("beta"), disk_format: "raw", tags: [t, "other"], arch: "aarch64" });
  const c = await g.create(m.token, { name: unique("gamma"), disk_format: "iso", os_hidden: true, tags: [t] });
  const ids = async (q: string): Promise<string[]> => {
    const r = await g.req("GET", `/images?${q}`, { token: m.token });
    assert.equal(r.status, 200, r.text);
    return r.body.images.map((i: Body) => i.id);
  };
  assert.deepEqual((await ids(`tag=${t}`)).sort(), [a.id, b.id].sort(), "hidden images are not listed by default");
  assert.deepEqual(await ids(`tag=${t}&os_hidden=true`), [c.id]);
  assert.deepEqual(await ids(`tag=${t}&tag=other`), [b.id]);
  assert.deepEqual(await ids(`tag=${t}&disk_format=qcow2`), [a.id]);
  assert.deepEqual((await ids(`tag=${t}&disk_format=in:qcow2,raw`)).sort(), [a.id, b.id].sort());
  assert.deepEqual(await ids(`name=${a.name}`), [a.id]);
  assert.deepEqual(await ids(`tag=${t}&arch=aarch64`), [b.id]);
  assert.deepEqual(await ids(`tag=${t}&protected=true`), [a.id]);
  assert.deepEqual(await ids(`tag=${t}&status=active`), []);
  assert.deepEqual((await ids(`tag=${t}&owner=${m.projectId}`)).length, 2);
  assert.deepEqual(await ids(`tag=${t}&created_at=gte:${encodeURIComponent(a.created_at)}&disk_format=qcow2`), [a.id]);
  assert.deepEqual(await ids(`tag=${t}&created_at=lt:2000-01-01T00:00:00Z`), []);
  const r = await g.req("GET", `/images?tag=${t}&limit=1`, { token: m.token });
  assert.equal(r.body.first, `/v2/images?tag=${t}&limit=1`);
  assert.equal(r.body.schema, "/v2/schemas/images");
  assert.match(r.body.next, new RegExp(`^/v2/images\\?tag=${t}&limit=1&marker=${r.body.images[0].id}$`));
  // Refusals.
  assertGlanceError(await g.req("GET", "/images?limit=x", { token: m.token }), 400, "limit param must be an integer");
  assertGlanceError(await g.req("GET", "/images?limit=-1", { token: m.token }), 400, "limit param must be positive");
  assertGlanceError(await g.req("GET", "/images?sort_key=bogus", { token: m.token }), 400, /^Invalid sort key: bogus\. It must be one of the following: name, status/);
  assertGlanceError(await g.req("GET", "/images?sort_dir=up", { token: m.token }), 400, "Invalid sort direction: up");
  assertGlanceError(await g.req("GET", "/images?sort=name&sort_key=id", { token: m.token }), 400, "Old and new sorting syntax cannot be combined");
  assertGlanceError(await g.req("GET", "/images?visibility=everyone", { token: m.token }), 400, "Invalid visibility value: everyone");
  assertGlanceError(await g.req("GET", "/images?member_status=x", { token: m.token }), 400, "Invalid status: x");
  assertGlanceError(await g.req("GET", "/images?os_hidden=maybe", { token: m.token }), 400, "Invalid value 'maybe' for 'os_hidden' filter. Valid values are 'true' or 'false'.");
  assertGlanceError(await g.req("GET", "/images?size_min=big", { token: m.token }), 400, "Unable to filter on a range with a non-numeric value.");
  assertGlanceError(await g.req("GET", "/images?created_at=gte:yesterday", { token: m.token }), 400, 'Bad "created_at" query filter format. Use ISO 8601 DateTime notation.');
  assertGlanceError(await g.req("GET", "/images?marker=00000000-0000-0000-0000-000000000000", { token: m.token }), 400, "No image found with ID 00000000-0000-0000-0000-000000000000");
  assertGlanceError(await g.req("GET", "/images?changes-since=2020-01-01", { token: m.token }), 400, 'The "changes-since" filter is no longer available on v2.');
});

test("list: sorting both syntaxes and marker pagination visit every image once", async () => {
  const m = await persona(tc, "member");
  const t = unique("page");
  const made: Body[] = [];
  for (let i = 0; i < 7; i++) made.push(await g.create(m.token, { name: `${t}-${String.fromCharCode(103 - i)}`, tags: [t] }));
  const names = async (q: string): Promise<string[]> => (await g.req("GET", `/images?tag=${t}&${q}`, { token: m.token })).body.images.map((i: Body) => i.name);
  const sorted = made.map((x) => x.name).sort();
  assert.deepEqual(await names("sort=name:asc"), sorted);
  assert.deepEqual(await names("sort_key=name&sort_dir=desc"), [...sorted].reverse());
  assert.deepEqual(await names("sort=status:asc,name"), [...sorted].reverse(), "a key without a direction is desc");
  const seen: string[] = [];
  let url = `/images?tag=${t}&sort=name:asc&limit=3`;
  for (let guard = 0; guard < 10; guard++) {
    const r = await g.req("GET", url, { token: m.token });
    seen.push(...r.body.images.map((i: Body) => i.name));
    if (!r.body.next) break;
    url = r.body.next.replace(/^\/v2/, "");
  }
  assert.deepEqual(seen, sorted);
});

test("JSON-patch: add/replace/remove, 2.0 patch type, and refusals", async () => {
  const m = await persona(tc, "member");
  const img = await g.create(m.token, { foo: "1" });
  let r = await g.patch(m.token, img.id, [
    { op: "replace", path: "/name", value: "renamed" },
    { op: "add", path: "/bar", value: "2" },
    { op: "replace", path: "/foo", value: "3" },
    { op: "add", path: "/min_disk", value: 5 },
    { op: "replace", path: "/tags", value: ["x", "y"] },
    { op: "replace", path: "/protected", value: true },
  ]);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.name, "renamed");
  assert.equal(r.body.bar, "2");
  assert.equal(r.body.foo, "3");
  assert.equal(r.body.min_disk, 5);
  assert.equal(r.body.protected, true);
  assert.deepEqual([...r.body.tags].sort(), ["x", "y"]);
  r = await g.patch(m.token, img.id, [{ op: "remove", path: "/bar" }]);
  assert.equal(r.status, 200);
  assert.equal(r.body.bar, undefined);
  // Draft 4 (v2.0) syntax.
  r = await g.patch(m.token, img.id, [{ add: "/baz", value: "q" }], "application/openstack-images-v2.0-json-patch");
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.baz, "q");
  assertGlanceError(await g.patch(m.token, img.id, [{ add: "/baz", value: "again" }], "application/openstack-images-v2.0-json-patch"), 409, "Property baz already present.");
  // Refusals change nothing.
  const before = (await g.req("GET", `/images/${img.id}`, { token: m.token })).body;
  const wrong = await g.req("PATCH", `/images/${img.id}`, { token: m.token, body: [{ op: "add", path: "/x", value: "y" }] });
  assert.equal(wrong.status, 415);
  assert.equal(wrong.headers.get("accept-patch"), "application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch");
  assertGlanceError(await g.patch(m.token, img.id, [{ op: "move", path: "/x" }]), 400, "Invalid operation: `move`. It must be one of the following: add, remove, replace.");
  assertGlanceError(await g.patch(m.token, img.id, [{ path: "/x" }]), 400, "Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.");
  assertGlanceError(await g.patch(m.token, img.id, [{ op: "add", path: "x", value: "1" }]), 400, 'Pointer `x` does not start with "/".');
  assertGlanceError(await g.patch(m.token, img.id, [{ op: "add", path: "/x" }]), 400, 'Operation "add" requires a member named "value".');
  assertGlanceError(await g.patch(m.token, img.id, [{ op: "add", path: "/a/b", value: "1" }]), 400, "Invalid JSON pointer for this resource: '/a/b'");
  assertGlanceError(await g.patch(m.token, img.id, { op: "add" } as unknown as unknown[]), 400, "Request body must be a JSON array of operation objects.");
  assertGlanceError(await g.patch(m.token, img.id, [{ op: "replace", path: "/status", value: "active" }]), 403, "Attribute 'status' is read-only.");
  assertGlanceError(await g.patch(m.token, img.id, [{ op: "add", path: "/os_glance_foo", value: "bar" }]), 403, "Attribute 'os_glance_foo' is reserved.");
  assertGlanceError(await g.patch(m.token, img.id, [{ op: "remove", path: "/name" }]), 403, "Property name may not be removed.");
  assertGlanceError(await g.patch(m.token, img.id, [{ op: "remove", path: "/nope" }]), 409, "Property nope does not exist.");
  assertGlanceError(await g.patch(m.token, img.id, [{ op: "replace", path: "/nope", value: "1" }]), 409, "Property nope does not exist.");
  assertGlanceError(await g.patch(m.token, img.id, [{ op: "replace", path: "/owner", value: "x" }]), 403, "Owner can't be updated by non admin.");
  assertGlanceError(await g.patch(m.token, img.id, [{ op: "replace", path: "/visibility", value: "public" }]), 403, "You are not authorized to complete publicize_image action.");
  assertGlanceError(await g.patch(m.token, img.id, [{ op: "replace", path: "/visibility", value: "open" }]), 400, /'open' is not one of \['community', 'public', 'private', 'shared'\]/);
  assertGlanceError(await g.patch(m.token, img.id, [{ op: "add", path: "/name", value: "ok" }, { op: "remove", path: "/nope" }]), 409);
  const afterPatch = (await g.req("GET", `/images/${img.id}`, { token: m.token })).body;
  assert.deepEqual(afterPatch, before, "a refused patch writes nothing, even its valid first operation");
  // The owner may make its image community; an admin may change the owner.
  r = await g.patch(m.token, img.id, [{ op: "replace", path: "/visibility", value: "community" }]);
  assert.equal(r.body.visibility, "community");
  const admin = await tc.adminToken();
  r = await g.patch(admin, img.id, [{ op: "replace", path: "/owner", value: "new-owner" }]);
  assert.equal(r.body.owner, "new-owner");
});

test("delete: protected refuses, then 204 and 404", async () => {
  const m = await persona(tc, "member");
  const img = await g.create(m.token, { protected: true });
  assertGlanceError(await g.req("DELETE", `/images/${img.id}`, { token: m.token }), 403, `Image ${img.id} is protected and cannot be deleted.`);
  assert.equal((await g.patch(m.token, img.id, [{ op: "replace", path: "/protected", value: false }])).status, 200);
  assert.equal((await g.req("DELETE", `/images/${img.id}`, { token: m.token })).status, 204);
  assertGlanceError(await g.req("GET", `/images/${img.id}`, { token: m.token }), 404);
  assertGlanceError(await g.req("DELETE", `/images/${img.id}`, { token: m.token }), 404);
  assertGlanceError(await g.req("GET", "/images/", { token: m.token }), 404);
  assertGlanceError(await g.req("DELETE", "/images/", { token: m.token }), 404);
});

test("deactivate and reactivate: only active images; data of a deactivated image is forbidden", async () => {
  const m = await persona(tc, "member");
  const img = await g.create(m.token);
  assertGlanceError(await g.req("POST", `/images/${img.id}/actions/deactivate`, { token: m.token }), 403, "Not allowed to deactivate image in status 'queued'");
  assert.equal((await g.put(m.token, `/images/${img.id}/file`, Buffer.from("hello"))).status, 204);
  assert.equal((await g.req("POST", `/images/${img.id}/actions/deactivate`, { token: m.token })).status, 204);
  assert.equal((await g.req("GET", `/images/${img.id}`, { token: m.token })).body.status, "deactivated");
  const dl = await g.req("GET", `/images/${img.id}/file`, { token: m.token });
  assertGlanceError(dl, 403, "The requested image has been deactivated. Image data download is forbidden.");
  const admin = await tc.adminToken();
  assert.equal((await g.get(admin, `/images/${img.id}/file`)).data.toString(), "hello");
  assert.equal((await g.req("POST", `/images/${img.id}/actions/reactivate`, { token: m.token })).status, 204);
  assert.equal((await g.req("GET", `/images/${img.id}`, { token: m.token })).body.status, "active");
});

test("errors are negotiated as webob does: JSON, HTML or plain text", async () => {
  const m = await persona(tc, "member");
  const id = "11111111-2222-3333-4444-555555555555";
  const html = await tc.request("GET", `/image/v2/images/${id}`, { token: m.token });
  assert.equal(html.status, 404);
  assert.match(html.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(html.text, /<h1>404 Not Found<\/h1>/);
  assert.match(html.text, new RegExp(`No image found with ID ${id}<br /><br />`));
  const plain = await tc.request("GET", `/image/v2/images/${id}`, { token: m.token, headers: { accept: "text/plain" } });
  assert.match(plain.headers.get("content-type") ?? "", /^text\/plain/);
  assert.equal(plain.text, `404 Not Found\n\nNo image found with ID ${id}\n\n   `);
  const json = await tc.request("GET", `/image/v2/images/${id}`, { token: m.token, headers: { accept: "application/json" } });
  assert.deepEqual(json.body, { message: `No image found with ID ${id}<br /><br />\n\n\n`, code: "404 Not Found", title: "Not Found" });
});

test("schemas: image, images, member, members; tasks are not served", async () => {
  const m = await persona(tc, "member");
  const image = await g.req("GET", "/schemas/image", { token: m.token });
  assert.equal(image.status, 200);
  assert.equal(image.body.name, "image");
  assert.deepEqual(image.body.additionalProperties, { type: "string" });
  assert.ok(image.body.properties.os_hash_value);
  const images = await g.req("GET", "/schemas/images", { token: m.token });
  assert.equal(images.body.name, "images");
  assert.equal((await g.req("GET", "/schemas/member", { token: m.token })).body.name, "member");
  assert.equal((await g.req("GET", "/schemas/members", { token: m.token })).body.name, "members");
  assert.equal((await g.req("GET", "/schemas/task", { token: m.token })).status, 404);
  assert.equal((await g.req("GET", "/tasks", { token: m.token })).status, 404);
});
