import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud } from "../support/cloud.js";
import { swiftUser } from "../support/swift.js";
import type { SwiftApi } from "../support/swift.js";

const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");

let tc: TestCloud;
let api: SwiftApi;
const seg1 = randomBytes(1000);
const seg2 = randomBytes(1500);
const seg3 = randomBytes(10);

before(async () => {
  tc = await startTestCloud();
  ({ api } = await swiftUser(tc));
  assert.equal((await api.put("/c")).status, 201);
  assert.equal((await api.put("/c/s1", { body: seg1 })).status, 201);
  assert.equal((await api.put("/c/s2", { body: seg2 })).status, 201);
  assert.equal((await api.put("/c/s3", { body: seg3 })).status, 201);
});
after(() => tc.close());

const manifest = (extra: Array<Record<string, unknown>> = []) =>
  JSON.stringify([{ path: "/c/s1", etag: md5(seg1), size_bytes: seg1.length }, { path: "c/s2", etag: null, size_bytes: null }, ...extra]);
const sloEtag = () => md5(md5(seg1) + md5(seg2));

test("/info advertises slo with Swift's keys", async () => {
  const info = (await (await fetch(`${tc.url}/info`)).json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(info["slo"], { max_manifest_segments: 1000, max_manifest_size: 8388608, yield_frequency: 10, min_segment_size: 1, allow_async_delete: false });
});

test("a manifest PUT stores the SLO; GET and HEAD serve the segments with the quoted etag", async () => {
  const put = await api.put("/c/big", { body: manifest(), query: { "multipart-manifest": "put" }, headers: { "content-type": "text/x-big" } });
  assert.equal(put.status, 201, put.text);
  assert.equal(put.headers.get("etag"), `"${sloEtag()}"`);
  const head = await api.head("/c/big");
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(seg1.length + seg2.length));
  assert.equal(head.headers.get("etag"), `"${sloEtag()}"`);
  assert.equal(head.headers.get("x-static-large-object"), "True");
  assert.equal(head.headers.get("content-type"), "text/x-big");
  const get = await api.get("/c/big");
  assert.equal(get.status, 200);
  assert.deepEqual(get.body, Buffer.concat([seg1, seg2]));
  assert.equal(get.headers.get("etag"), `"${sloEtag()}"`);
  // The listing shows the whole size and the manifest's own etag, and slo_etag.
  const list = await api.get("/c", { query: { format: "json", prefix: "big" } });
  assert.equal(list.json[0].bytes, seg1.length + seg2.length);
  assert.equal(list.json[0].slo_etag, `"${sloEtag()}"`);
  assert.equal(list.json[0].content_type, "text/x-big");
  assert.equal(list.json[0].hash, head.headers.get("x-manifest-etag"));
});

test("ranges cross segments; conditional requests compare the SLO etag", async () => {
  await api.put("/c/rng", { body: manifest(), query: { "multipart-manifest": "put" } });
  const all = Buffer.concat([seg1, seg2]);
  const r = await api.get("/c/rng", { headers: { range: "bytes=990-1009" } });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get("content-range"), `bytes 990-1009/${all.length}`);
  assert.deepEqual(r.body, all.subarray(990, 1010));
  const suffix = await api.get("/c/rng", { headers: { range: "bytes=-5" } });
  assert.deepEqual(suffix.body, all.subarray(all.length - 5));
  const multi = await api.get("/c/rng", { headers: { range: "bytes=0-1,2000-2001" } });
  assert.equal(multi.status, 206);
  assert.match(multi.headers.get("content-type") ?? "", /^multipart\/byteranges;boundary=/);
  assert.equal(Number(multi.headers.get("content-length")), multi.body.length);
  const bad = await api.get("/c/rng", { headers: { range: "bytes=9999-" } });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers.get("content-range"), `bytes */${all.length}`);
  assert.equal((await api.get("/c/rng", { headers: { "if-none-match": `"${sloEtag()}"` } })).status, 304);
  assert.equal((await api.get("/c/rng", { headers: { "if-match": `"${sloEtag()}"` } })).status, 200);
  assert.equal((await api.get("/c/rng", { headers: { "if-match": "nope" } })).status, 412);
  assert.equal((await api.head("/c/rng", { headers: { "if-match": `"${sloEtag()}"` } })).status, 200);
});

test("segment ranges and inline data segments", async () => {
  const body = JSON.stringify([{ path: "/c/s1", range: "10-19" }, { data: Buffer.from("hi").toString("base64") }, { path: "/c/s2", range: "-3" }]);
  const put = await api.put("/c/parts", { body, query: { "multipart-manifest": "put" } });
  assert.equal(put.status, 201, put.text);
  const expectEtag = md5(`${md5(seg1)}:10-19;${md5("hi")}${md5(seg2)}:1497-1499;`);
  assert.equal(put.headers.get("etag"), `"${expectEtag}"`);
  const get = await api.get("/c/parts");
  assert.deepEqual(get.body, Buffer.concat([seg1.subarray(10, 20), Buffer.from("hi"), seg2.subarray(1497)]));
  const raw = await api.get("/c/parts", { query: { "multipart-manifest": "get", format: "raw" } });
  assert.deepEqual(raw.json, [
    { etag: md5(seg1), path: "/c/s1", range: "10-19", size_bytes: 1000 },
    { data: "aGk=" },
    { etag: md5(seg2), path: "/c/s2", range: "1497-1499", size_bytes: 1500 },
  ]);
});

test("?multipart-manifest=get returns the stored manifest as JSON", async () => {
  await api.put("/c/m", { body: manifest(), query: { "multipart-manifest": "put" } });
  const r = await api.get("/c/m", { query: { "multipart-manifest": "get" } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(r.headers.get("etag"), md5(r.body));
  assert.equal(r.json.length, 2);
  assert.deepEqual(Object.keys(r.json[0]), ["name", "bytes", "hash", "content_type", "last_modified"]);
  assert.equal(r.json[1].name, "/c/s2");
  assert.equal(r.json[1].hash, md5(seg2));
});

test("bad manifests: Swift's 400 bodies", async () => {
  const put = (body: string, headers: Record<string, string> = {}) => api.put("/c/bad", { body, headers, query: { "multipart-manifest": "put" } });
  let r = await put("nope");
  assert.equal(r.status, 400);
  assert.equal(r.text, "Manifest must be valid JSON.\n");
  r = await put("{}");
  assert.equal(r.text, "Manifest must be a list.\n");
  r = await put(JSON.stringify([{ path: "/c" }, { path: "/c/s1", foo: 1 }, 5, { path: "/c/s1", size_bytes: "x" }, { path: "/c/s1", range: "1-2,4-5" }, { path: "/c/bad" }]));
  assert.equal(r.status, 400);
  assert.equal(
    r.text,
    [
      "Index 0: path does not refer to an object. Path must be of the form /container/object.",
      'Index 1: extraneous keys "foo"',
      "Index 2: not a JSON object",
      "Index 3: invalid size_bytes",
      "Index 4: multiple ranges (only one allowed)",
      "Index 5: manifest must not include itself as a segment",
      "",
    ].join("\n"),
  );
  r = await put(JSON.stringify([{ path: "/c/nothere" }, { path: "/c/s1", etag: "0", size_bytes: 5 }, { path: "/c/s3", range: "20-30" }]));
  assert.equal(r.status, 400);
  assert.equal(r.text, "Errors:\n/c/nothere, 404 Not Found\n/c/s1, Size Mismatch\n/c/s1, Etag Mismatch\n/c/s3, Unsatisfiable Range\n");
  r = await put(JSON.stringify([{ path: "/c/nothere" }]), { accept: "application/json" });
  assert.equal(r.headers.get("content-type"), "application/json");
  assert.deepEqual(r.json, { Errors: [["/c/nothere", "404 Not Found"]] });
  r = await put(manifest(), { etag: "abc" });
  assert.equal(r.status, 422);
  r = await put(JSON.stringify([{ data: "aGk=" }]));
  assert.equal(r.text, "Inline data segments require at least one object-backed segment.\n");
  assert.equal((await api.head("/c/bad")).status, 404);
  const tooMany = JSON.stringify(Array.from({ length: 1001 }, () => ({ path: "/c/s1" })));
  r = await put(tooMany);
  assert.equal(r.status, 413);
  assert.equal(r.text, "Number of object-backed segments must be <= 1000");
  r = await api.put("/c/x", { body: "data", headers: { "x-static-large-object": "True" } });
  assert.equal(r.status, 400);
  assert.match(r.text, /^X-Static-Large-Object is a reserved header/);
});

test("DELETE ?multipart-manifest=delete removes the segments and the manifest", async () => {
  await api.put("/d");
  await api.put("/d/a", { body: seg1 });
  await api.put("/d/b", { body: seg2 });
  await api.put("/d/m", { body: JSON.stringify([{ path: "/d/a" }, { path: "/d/b" }]), query: { "multipart-manifest": "put" } });
  const r = await api.del("/d/m", { query: { "multipart-manifest": "delete" } });
  assert.equal(r.status, 200);
  assert.equal(r.text, "Number Deleted: 3\nNumber Not Found: 0\nResponse Body: \nResponse Status: 200 OK\nErrors:\n");
  const list = await api.get("/d");
  assert.equal(list.status, 204);
  await api.put("/d/plain", { body: "x" });
  const j = await api.del("/d/plain", { query: { "multipart-manifest": "delete" }, headers: { accept: "application/json" } });
  assert.equal(j.status, 200);
  assert.deepEqual(j.json, { "Response Status": "400 Bad Request", "Response Body": "", "Number Deleted": 0, "Number Not Found": 0, Errors: [["/d/plain", "Not an SLO manifest"]] });
  assert.equal((await api.head("/d/plain")).status, 200);
});

test("nested SLOs, copies of an SLO, and a broken first segment", async () => {
  const inner = await api.put("/c/inner", { body: manifest(), query: { "multipart-manifest": "put" } });
  const outer = await api.put("/c/outer", {
    body: JSON.stringify([{ path: "/c/s3" }, { path: "/c/inner", etag: inner.headers.get("etag")!.slice(1, -1), size_bytes: seg1.length + seg2.length }]),
    query: { "multipart-manifest": "put" },
  });
  assert.equal(outer.status, 201, outer.text);
  const all = Buffer.concat([seg3, seg1, seg2]);
  assert.deepEqual((await api.get("/c/outer")).body, all);
  assert.deepEqual((await api.get("/c/outer", { headers: { range: "bytes=5-1015" } })).body, all.subarray(5, 1016));
  // A copy of an SLO holds the whole data; with multipart-manifest=get it is a new manifest.
  assert.equal((await api.put("/c/copy", { headers: { "x-copy-from": "c/inner", "content-length": "0" } })).status, 201);
  const copy = await api.head("/c/copy");
  assert.equal(copy.headers.get("x-static-large-object"), null);
  assert.equal(copy.headers.get("content-length"), String(seg1.length + seg2.length));
  const mcopy = await api.put("/c/mcopy", { headers: { "x-copy-from": "c/inner", "content-length": "0" }, query: { "multipart-manifest": "get" } });
  assert.equal(mcopy.status, 201, mcopy.text);
  assert.equal((await api.head("/c/mcopy")).headers.get("x-static-large-object"), "True");
  assert.deepEqual((await api.get("/c/mcopy")).body, Buffer.concat([seg1, seg2]));
  // The first segment changed since the manifest was made: 409.
  await api.put("/c/t1", { body: "aaaa" });
  await api.put("/c/tm", { body: JSON.stringify([{ path: "/c/t1" }]), query: { "multipart-manifest": "put" } });
  await api.put("/c/t1", { body: "bbbb" });
  assert.equal((await api.get("/c/tm")).status, 409);
});

test("heartbeat=on answers 202 and the outcome in the body", async () => {
  const r = await api.put("/c/hb", { body: manifest(), query: { "multipart-manifest": "put", heartbeat: "on" }, headers: { accept: "application/json" } });
  assert.equal(r.status, 202);
  const out = JSON.parse(r.text.trim());
  assert.equal(out["Response Status"], "201 Created");
  assert.equal(out["Etag"], `"${sloEtag()}"`);
  assert.deepEqual(out["Errors"], []);
});
