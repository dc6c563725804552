import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud } from "../support/cloud.js";
import { swiftApi, swiftUser } from "../support/swift.js";

let tc: TestCloud;
before(async () => {
  tc = await startTestCloud();
});
after(() => tc.close());

const DM = "application/x-deleted;swift_versions_deleted=1";

describe("legacy versioned writes (X-Versions-Location / X-History-Location)", () => {
  test("/info advertises versioned_writes with both flags", async () => {
    const r = await fetch(`${tc.url}/info`);
    const info = (await r.json()) as Record<string, unknown>;
    assert.deepEqual(info["versioned_writes"], { allowed_flags: ["x-versions-location", "x-history-location"] });
  });

  test("stack mode: an overwrite archives the old copy, DELETE restores it, then removes it", async () => {
    const { api } = await swiftUser(tc);
    assert.equal((await api.put("/vers")).status, 201);
    assert.equal((await api.put("/cont", { headers: { "X-Versions-Location": "vers" } })).status, 201);
    const head = await api.head("/cont");
    assert.equal(head.headers.get("x-versions-location"), "vers");
    assert.equal(head.headers.get("x-history-location"), null);
    assert.equal((await api.head("/vers")).headers.get("x-versions-location"), null);

    assert.equal((await api.put("/cont/obj", { body: "one", headers: { "x-object-meta-n": "1", "content-type": "text/x-one" } })).status, 201);
    assert.equal((await api.put("/cont/obj", { body: "two!" })).status, 201);
    assert.equal((await api.get("/cont/obj")).text, "two!");
    const listing = await api.get("/vers", { query: { format: "json" } });
    assert.equal(listing.json.length, 1);
    assert.match(listing.json[0].name, /^003obj\/\d{10}\.\d{5}$/);
    assert.equal(listing.json[0].bytes, 3);
    assert.equal(listing.json[0].content_type, "text/x-one");
    const archived = await api.get(`/vers/${listing.json[0].name}`);
    assert.equal(archived.text, "one");
    assert.equal(archived.headers.get("x-object-meta-n"), "1");

    assert.equal((await api.del("/cont/obj")).status, 204);
    const restored = await api.get("/cont/obj");
    assert.equal(restored.status, 200);
    assert.equal(restored.text, "one");
    assert.equal(restored.headers.get("x-object-meta-n"), "1");
    assert.equal(restored.headers.get("content-type"), "text/x-one");
    assert.equal((await api.head("/vers")).headers.get("x-container-object-count"), "0");
    const c = await api.head("/cont");
    assert.equal(c.headers.get("x-container-object-count"), "1");
    assert.equal(c.headers.get("x-container-bytes-used"), "3");

    assert.equal((await api.del("/cont/obj")).status, 204);
    assert.equal((await api.get("/cont/obj")).status, 404);
    assert.equal((await api.del("/cont/obj")).status, 404);
  });

  test("history mode: DELETE archives the current version and writes a delete marker", async () => {
    const { api } = await swiftUser(tc);
    await api.put("/hist");
    assert.equal((await api.put("/c", { headers: { "X-History-Location": "hist" } })).status, 201);
    const head = await api.head("/c");
    assert.equal(head.headers.get("x-history-location"), "hist");
    assert.equal(head.headers.get("x-versions-location"), null);
    await api.put("/c/o", { body: "1" });
    await api.put("/c/o", { body: "22" });
    assert.equal((await api.del("/c/o")).status, 204);
    assert.equal((await api.get("/c/o")).status, 404);
    const l = (await api.get("/hist", { query: { format: "json" } })).json as Array<{ name: string; bytes: number; content_type: string }>;
    assert.equal(l.length, 3);
    assert.deepEqual(l.map((i) => i.bytes), [1, 2, 0]);
    assert.equal(l[2]!.content_type, DM);
    assert.ok(l.every((i) => i.name.startsWith("001o/")));
    // a DELETE of a missing object still leaves a marker, and answers 404
    assert.equal((await api.del("/c/o")).status, 404);
    assert.equal(((await api.get("/hist", { query: { format: "json" } })).json as unknown[]).length, 4);
  });

  test("switching a history container to stack mode: DELETE after a marker restores the newest version", async () => {
    const { api } = await swiftUser(tc);
    await api.put("/h2");
    await api.put("/c2", { headers: { "X-History-Location": "h2" } });
    await api.put("/c2/o", { body: "v1" });
    await api.del("/c2/o");
    assert.equal((await api.post("/c2", { headers: { "X-Versions-Location": "h2" } })).status, 204);
    assert.equal((await api.head("/c2")).headers.get("x-versions-location"), "h2");
    assert.equal((await api.head("/c2")).headers.get("x-history-location"), null);
    assert.equal((await api.del("/c2/o")).status, 204);
    assert.equal((await api.get("/c2/o")).text, "v1");
    assert.equal((await api.head("/h2")).headers.get("x-container-object-count"), "0");
  });

  test("both headers at once is 400; slashes are 412; removal headers clear the location", async () => {
    const { api } = await swiftUser(tc);
    await api.put("/x");
    const both = await api.put("/x", { headers: { "X-Versions-Location": "a", "X-History-Location": "b" } });
    assert.equal(both.status, 400);
    assert.equal(both.text, "Only one of x-versions-location or x-history-location may be specified");
    assert.equal((await api.head("/x")).headers.get("x-versions-location"), null);
    // an empty one defers to the other
    assert.equal((await api.post("/x", { headers: { "X-Versions-Location": "a", "X-History-Location": "" } })).status, 204);
    assert.equal((await api.head("/x")).headers.get("x-versions-location"), "a");
    const slash = await api.post("/x", { headers: { "X-Versions-Location": "a/b" } });
    assert.equal(slash.status, 412);
    assert.equal(slash.text, "Container name cannot contain slashes");
    assert.equal((await api.post("/x", { headers: { "X-Remove-Versions-Location": "x" } })).status, 204);
    assert.equal((await api.head("/x")).headers.get("x-versions-location"), null);
    await api.post("/x", { headers: { "X-History-Location": "h" } });
    assert.equal((await api.head("/x")).headers.get("x-history-location"), "h");
    assert.equal((await api.post("/x", { headers: { "X-Remove-History-Location": "1" } })).status, 204);
    assert.equal((await api.head("/x")).headers.get("x-history-location"), null);
    await api.post("/x", { headers: { "X-Versions-Location": "a" } });
    assert.equal((await api.post("/x", { headers: { "X-Versions-Location": "" } })).status, 204);
    assert.equal((await api.head("/x")).headers.get("x-versions-location"), null);
  });

  test("a missing archive container makes an overwrite 412 and keeps the object", async () => {
    const { api } = await swiftUser(tc);
    await api.put("/m", { headers: { "X-Versions-Location": "nowhere" } });
    assert.equal((await api.put("/m/o", { body: "first" })).status, 201);
    const r = await api.put("/m/o", { body: "second" });
    assert.equal(r.status, 412);
    assert.equal((await api.get("/m/o")).text, "first");
  });

  test("a caller who may not write the container gets 403 and nothing is archived", async () => {
    const owner = await swiftUser(tc);
    await owner.api.put("/v");
    await owner.api.put("/w", { headers: { "X-Versions-Location": "v", "X-Container-Read": "*:*" } });
    await owner.api.put("/w/o", { body: "keep" });
    const other = await swiftUser(tc);
    const api = swiftApi(tc, owner.projectId, other.token);
    assert.equal((await api.put("/w/o", { body: "nope" })).status, 403);
    assert.equal((await api.del("/w/o")).status, 403);
    assert.equal((await owner.api.head("/v")).headers.get("x-container-object-count"), "0");
    assert.equal((await owner.api.get("/w/o")).text, "keep");
  });
});

describe("object versioning (X-Versions-Enabled)", () => {
  test("/info advertises object_versioning", async () => {
    const info = (await (await fetch(`${tc.url}/info`)).json()) as Record<string, unknown>;
    assert.deepEqual(info["object_versioning"], {});
  });

  test("every PUT and DELETE keeps a version; ?version-id reads them; ?versions lists them", async () => {
    const { api } = await swiftUser(tc);
    assert.equal((await api.put("/ov", { headers: { "X-Versions-Enabled": "true" } })).status, 201);
    assert.equal((await api.head("/ov")).headers.get("x-versions-enabled"), "True");
    const p1 = await api.put("/ov/o", { body: "one", headers: { "content-type": "text/one" } });
    assert.equal(p1.status, 201);
    const v1 = p1.headers.get("x-object-version-id")!;
    assert.match(v1, /^\d{10}\.\d{5}$/);
    const p2 = await api.put("/ov/o", { body: "two!" });
    const v2 = p2.headers.get("x-object-version-id")!;
    assert.ok(v2 > v1);
    const cur = await api.get("/ov/o");
    assert.equal(cur.text, "two!");
    assert.equal(cur.headers.get("x-object-version-id"), v2);
    const old = await api.get("/ov/o", { query: { "version-id": v1 } });
    assert.equal(old.status, 200);
    assert.equal(old.text, "one");
    assert.equal(old.headers.get("x-object-version-id"), v1);
    assert.equal(old.headers.get("content-type"), "text/one");
    assert.equal((await api.head("/ov/o", { query: { "version-id": v2 } })).status, 200);
    // current objects only in a plain listing; every version in ?versions
    const plain = await api.get("/ov", { query: { format: "json" } });
    assert.deepEqual(plain.json.map((i: { name: string; bytes: number }) => [i.name, i.bytes]), [["o", 4]]);
    const head = await api.head("/ov");
    assert.equal(head.headers.get("x-container-object-count"), "1");
    assert.equal(head.headers.get("x-container-bytes-used"), "7");
    let vl = (await api.get("/ov", { query: { versions: "" } })).json as Array<Record<string, unknown>>;
    assert.deepEqual(vl.map((i) => [i["name"], i["version_id"], i["is_latest"], i["bytes"]]), [["o", v2, true, 4], ["o", v1, false, 3]]);

    // DELETE leaves a delete marker
    const del = await api.del("/ov/o");
    assert.equal(del.status, 204);
    const dm = del.headers.get("x-object-version-id")!;
    assert.ok(dm > v2);
    assert.equal((await api.get("/ov/o")).status, 404);
    vl = (await api.get("/ov", { query: { versions: "", format: "json" } })).json as Array<Record<string, unknown>>;
    assert.deepEqual(vl.map((i) => [i["version_id"], i["is_latest"], i["content_type"]]), [[dm, true, DM], [v2, false, "text/plain;charset=UTF-8"], [v1, false, "text/one"]]);
    const gdm = await api.get("/ov/o", { query: { "version-id": dm } });
    assert.equal(gdm.status, 404);
    assert.equal(gdm.headers.get("content-type"), DM);
    assert.equal(gdm.headers.get("x-object-version-id"), dm);
    assert.equal((await api.get("/ov/o", { query: { "version-id": v2 } })).text, "two!");
    // the account listing hides the versions container but counts its bytes
    const acct = await api.get("", { query: { format: "json" } });
    assert.deepEqual(acct.json.map((c: { name: string; bytes: number; count: number }) => [c.name, c.count, c.bytes]), [["ov", 0, 7]]);
    assert.equal((await api.get("")).text, "ov\n");
    // a versioned container can only go once every version is gone
    const c409 = await api.del("/ov");
    assert.equal(c409.status, 409);
    assert.equal(c409.text, "Delete all versions before deleting container.");
    for (const v of [dm, v2, v1]) {
      const r = await api.del("/ov/o", { query: { "version-id": v } });
      assert.equal(r.status, 204);
      assert.equal(r.headers.get("x-object-version-id"), v);
      assert.equal(r.headers.get("x-object-current-version-id"), "null");
    }
    assert.equal((await api.del("/ov/o", { query: { "version-id": v1 } })).status, 404);
    assert.equal((await api.del("/ov")).status, 204);
    assert.equal((await api.get("")).status, 204);
  });

  test("deleting the current version by id leaves no current object; older versions stay", async () => {
    const { api } = await swiftUser(tc);
    await api.put("/ov2", { headers: { "X-Versions-Enabled": "yes" } });
    const v1 = (await api.put("/ov2/o", { body: "a" })).headers.get("x-object-version-id")!;
    const v2 = (await api.put("/ov2/o", { body: "bb" })).headers.get("x-object-version-id")!;
    const r = await api.del("/ov2/o", { query: { "version-id": v1 } });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get("x-object-current-version-id"), v2);
    assert.equal((await api.get("/ov2/o")).text, "bb");
    const r2 = await api.del("/ov2/o", { query: { "version-id": v2 } });
    assert.equal(r2.headers.get("x-object-current-version-id"), "null");
    assert.equal((await api.get("/ov2/o")).status, 404);
    assert.equal((await api.head("/ov2")).headers.get("x-container-bytes-used"), "0");
  });

  test("suspended versioning writes null versions; a versioned current one is kept", async () => {
    const { api } = await swiftUser(tc);
    await api.put("/ov3");
    await api.put("/ov3/o", { body: "null-1" });
    assert.equal((await api.get("/ov3/o")).headers.get("x-object-version-id"), null);
    assert.equal((await api.post("/ov3", { headers: { "X-Versions-Enabled": "true" } })).status, 204);
    assert.equal((await api.get("/ov3/o")).headers.get("x-object-version-id"), "null");
    const v = (await api.put("/ov3/o", { body: "versioned" })).headers.get("x-object-version-id")!;
    let vl = (await api.get("/ov3", { query: { versions: "" } })).json as Array<Record<string, unknown>>;
    assert.equal(vl.length, 2);
    assert.deepEqual(vl[0], { ...vl[0], version_id: v, is_latest: true });
    const archivedNull = String(vl[1]!["version_id"]);
    assert.equal((await api.get("/ov3/o", { query: { "version-id": archivedNull } })).text, "null-1");
    assert.equal((await api.post("/ov3", { headers: { "X-Versions-Enabled": "false" } })).status, 204);
    assert.equal((await api.head("/ov3")).headers.get("x-versions-enabled"), "False");
    const p = await api.put("/ov3/o", { body: "null-2" });
    assert.equal(p.status, 201);
    assert.equal(p.headers.get("x-object-version-id"), null);
    assert.equal((await api.get("/ov3/o")).headers.get("x-object-version-id"), "null");
    assert.equal((await api.get("/ov3/o", { query: { "version-id": "null" } })).text, "null-2");
    assert.equal((await api.get("/ov3/o", { query: { "version-id": v } })).text, "versioned");
    vl = (await api.get("/ov3", { query: { versions: "" } })).json as Array<Record<string, unknown>>;
    assert.deepEqual(vl.map((i) => [i["version_id"], i["is_latest"]]), [["null", true], [v, false], [archivedNull, false]]);
    // PUT ?version-id brings a version back as the current one
    const back = await api.put("/ov3/o", { query: { "version-id": v }, headers: { "content-length": "0" } });
    assert.equal(back.status, 201);
    assert.equal((await api.get("/ov3/o")).text, "versioned");
  });

  test("bad version requests answer as Swift", async () => {
    const { api } = await swiftUser(tc);
    await api.put("/plain");
    await api.put("/plain/o", { body: "x" });
    const r = await api.get("/plain/o", { query: { "version-id": "1700000000.00000" } });
    assert.equal(r.status, 400);
    assert.equal(r.text, "version-aware operations require that the container is versioned");
    assert.equal((await api.get("/plain/o", { query: { "version-id": "null" } })).status, 200);
    assert.equal((await api.post("/plain/o", { query: { "version-id": "null" } })).text, "POST to a specific version is not allowed");
    await api.put("/ov4", { headers: { "X-Versions-Enabled": "true" } });
    assert.equal((await api.get("/ov4/o", { query: { "version-id": "abc" } })).text, "Invalid version parameter");
    assert.equal((await api.get("/ov4/o", { query: { "version-id": "1700000000.00000" } })).status, 404);
    assert.equal((await api.get("/ov4", { query: { versions: "", format: "xml" } })).status, 406);
    assert.equal((await api.get("/ov4", { query: { versions: "", version_marker: "1" } })).text, "version_marker param requires marker");
    assert.equal((await api.get("/ov4", { query: { versions: "", delimiter: "1" } })).text, "invalid delimiter param");
    // legacy and new versioning do not mix
    await api.put("/vl", { headers: { "X-Versions-Location": "x" } });
    const mix = await api.post("/vl", { headers: { "X-Versions-Enabled": "true" } });
    assert.equal(mix.status, 400);
    assert.equal(mix.text, "Cannot enable object versioning on a container that is already using the legacy versioned writes feature.");
  });
});

describe("object versioning listings", () => {
  test("?versions pages with marker and version_marker, filters by prefix and rolls up with a delimiter", async () => {
    const { api } = await swiftUser(tc);
    await api.put("/pv", { headers: { "X-Versions-Enabled": "true" } });
    const ids: Record<string, string[]> = { a: [], "d/x": [], b: [] };
    for (const n of ["a", "d/x", "b", "a", "b"]) ids[n]!.unshift((await api.put(`/pv/${n}`, { body: n })).headers.get("x-object-version-id")!);
    const all = (await api.get("/pv", { query: { versions: "" } })).json as Array<Record<string, unknown>>;
    assert.deepEqual(all.map((i) => [i["name"], i["version_id"], i["is_latest"]]), [
      ["a", ids["a"]![0], true],
      ["a", ids["a"]![1], false],
      ["b", ids["b"]![0], true],
      ["b", ids["b"]![1], false],
      ["d/x", ids["d/x"]![0], true],
    ]);
    const page2 = (await api.get("/pv", { query: { versions: "", marker: "a", version_marker: ids["a"]![0]!, limit: "2" } })).json as Array<Record<string, unknown>>;
    assert.deepEqual(page2.map((i) => [i["name"], i["version_id"]]), [["a", ids["a"]![1]], ["b", ids["b"]![0]]]);
    const afterA = (await api.get("/pv", { query: { versions: "", marker: "a" } })).json as Array<Record<string, unknown>>;
    assert.deepEqual(afterA.map((i) => i["name"]), ["b", "b", "d/x"]);
    const pre = (await api.get("/pv", { query: { versions: "", prefix: "b" } })).json as Array<Record<string, unknown>>;
    assert.deepEqual(pre.map((i) => i["version_id"]), ids["b"]);
    const rolled = (await api.get("/pv", { query: { versions: "", delimiter: "/" } })).json as Array<Record<string, unknown>>;
    assert.deepEqual(rolled.map((i) => i["subdir"] ?? i["name"]), ["a", "a", "b", "b", "d/"]);
  });

  test("a reader with a container read ACL reads the current object but not older versions", async () => {
    const owner = await swiftUser(tc);
    await owner.api.put("/acl", { headers: { "X-Versions-Enabled": "true", "X-Container-Read": "*:*" } });
    const v1 = (await owner.api.put("/acl/o", { body: "1" })).headers.get("x-object-version-id")!;
    await owner.api.put("/acl/o", { body: "2" });
    const other = await swiftUser(tc);
    const api = swiftApi(tc, owner.projectId, other.token);
    assert.equal((await api.get("/acl/o")).text, "2");
    assert.equal((await api.get("/acl/o", { query: { "version-id": v1 } })).status, 403);
    assert.equal((await owner.api.get("/acl/o", { query: { "version-id": v1 } })).text, "1");
  });
});
