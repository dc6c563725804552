import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud } from "../support/cloud.js";
import { swiftUser } from "../support/swift.js";
import type { SwiftApi } from "../support/swift.js";

const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");

let tc: TestCloud;
let api: SwiftApi;
const parts = ["alpha-", "beta-", "gamma-", "delta"];
const all = parts.join("");

before(async () => {
  tc = await startTestCloud();
  ({ api } = await swiftUser(tc));
  assert.equal((await api.put("/c")).status, 201);
  assert.equal((await api.put("/segs")).status, 201);
  for (const [i, p] of parts.entries()) assert.equal((await api.put(`/segs/lo/${i}`, { body: p })).status, 201);
  assert.equal((await api.put("/c/lo", { body: "", headers: { "x-object-manifest": "segs/lo/" } })).status, 201);
});
after(() => tc.close());

test("GET and HEAD of a manifest concatenate the prefix's objects, ETag the quoted md5 of their etags", async () => {
  const etag = `"${md5(parts.map((p) => md5(p)).join(""))}"`;
  const head = await api.head("/c/lo");
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(all.length));
  assert.equal(head.headers.get("etag"), etag);
  assert.equal(head.headers.get("x-object-manifest"), "segs/lo/");
  const get = await api.get("/c/lo");
  assert.equal(get.status, 200);
  assert.equal(get.text, all);
  assert.equal(get.headers.get("etag"), etag);
  assert.equal((await api.get("/c/lo", { headers: { "if-none-match": etag } })).status, 304);
  assert.equal((await api.get("/c/lo", { headers: { "if-match": etag } })).status, 200);
  assert.equal((await api.get("/c/lo", { headers: { "if-match": '"other"' } })).status, 412);
});

test("ranges: one range across segments; several ranges give the whole object", async () => {
  const r = await api.get("/c/lo", { headers: { range: "bytes=3-8" } });
  assert.equal(r.status, 206);
  assert.equal(r.text, all.slice(3, 9));
  assert.equal(r.headers.get("content-range"), `bytes 3-8/${all.length}`);
  const s = await api.get("/c/lo", { headers: { range: "bytes=-4" } });
  assert.equal(s.text, all.slice(-4));
  const m = await api.get("/c/lo", { headers: { range: "bytes=0-1,4-5" } });
  assert.equal(m.status, 200);
  assert.equal(m.text, all);
  const bad = await api.get("/c/lo", { headers: { range: "bytes=100-" } });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers.get("content-range"), `bytes */${all.length}`);
});

test("?multipart-manifest=get returns the manifest object itself", async () => {
  const r = await api.get("/c/lo", { query: { "multipart-manifest": "get" } });
  assert.equal(r.status, 200);
  assert.equal(r.text, "");
  assert.equal(r.headers.get("etag"), md5(""));
  assert.equal(r.headers.get("x-object-manifest"), "segs/lo/");
});

test("a POST can make an object a manifest; a bad X-Object-Manifest on PUT is a 400", async () => {
  await api.put("/c/p", { body: "" });
  assert.equal((await api.post("/c/p", { headers: { "x-object-manifest": "segs/lo/" } })).status, 202);
  assert.equal((await api.get("/c/p")).text, all);
  for (const v of ["segs", "segs/", "/segs/x", "segs//x", "segs/x?y"]) {
    const r = await api.put("/c/bad", { body: "", headers: { "x-object-manifest": v } });
    assert.equal(r.status, 400, v);
    assert.equal(r.text, "X-Object-Manifest must be in the format container/prefix");
  }
});

test("a manifest whose prefix matches nothing is empty; a missing segment container is a 404", async () => {
  await api.put("/c/none", { body: "", headers: { "x-object-manifest": "segs/zzz" } });
  const r = await api.get("/c/none");
  assert.equal(r.status, 200);
  assert.equal(r.text, "");
  assert.equal(r.headers.get("etag"), `"${md5("")}"`);
  await api.put("/c/gone", { body: "", headers: { "x-object-manifest": "nocontainer/x" } });
  assert.equal((await api.get("/c/gone")).status, 404);
});

test("a copy of a DLO holds the data; with multipart-manifest=get it is the manifest", async () => {
  assert.equal((await api.put("/c/copy", { headers: { "x-copy-from": "c/lo", "content-length": "0" } })).status, 201);
  const c = await api.get("/c/copy");
  assert.equal(c.text, all);
  assert.equal(c.headers.get("x-object-manifest"), null);
  assert.equal((await api.put("/c/mcopy", { headers: { "x-copy-from": "c/lo", "content-length": "0" }, query: { "multipart-manifest": "get" } })).status, 201);
  const m = await api.get("/c/mcopy");
  assert.equal(m.headers.get("x-object-manifest"), "segs/lo/");
  assert.equal(m.text, all);
});
