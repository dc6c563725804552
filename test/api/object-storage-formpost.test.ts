import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, test } from "node:test";
import { ManualClock } from "../../src/common/clock.js";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud, unique } from "../support/cloud.js";
import { swiftUser } from "../support/swift.js";

let tc: TestCloud;
const clock = new ManualClock();
before(async () => {
  tc = await startTestCloud({}, { clock });
});
after(() => tc.close());

const now = (): number => Math.floor(clock.now().getTime() / 1000);
const BOUNDARY = "----fp-boundary";

interface Form {
  path: string;
  key: string;
  redirect?: string;
  maxFileSize?: number;
  maxFileCount?: number;
  expires?: number;
  extra?: Array<[string, string]>;
  files: Array<{ name: string; data: string; type?: string }>;
  algo?: string;
}

function body(f: Form): string {
  const redirect = f.redirect ?? "";
  const mfs = String(f.maxFileSize ?? 1000);
  const mfc = String(f.maxFileCount ?? 10);
  const exp = String(f.expires ?? now() + 600);
  const sig = createHmac(f.algo ?? "sha256", f.key).update([f.path, redirect, mfs, mfc, exp].join("\n")).digest("hex");
  const fields: Array<[string, string]> = [["redirect", redirect], ["max_file_size", mfs], ["max_file_count", mfc], ["expires", exp], ["signature", sig], ...(f.extra ?? [])];
  const parts: string[] = [];
  for (const [k, v] of fields) parts.push(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  f.files.forEach((file, i) => {
    parts.push(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file${i}"; filename="${file.name}"\r\n${file.type ? `Content-Type: ${file.type}\r\n` : ""}\r\n${file.data}\r\n`);
  });
  parts.push(`--${BOUNDARY}--\r\n`);
  return parts.join("");
}

async function post(path: string, payload: string, contentType = `multipart/form-data; boundary=${BOUNDARY}`) {
  const res = await fetch(`${tc.url}/object-storage${path}`, { method: "POST", redirect: "manual", headers: { "content-type": contentType }, body: payload });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function setup() {
  const u = await swiftUser(tc);
  const key = unique("key");
  const c = unique("c");
  await u.api.post("", { headers: { "x-account-meta-temp-url-key": key } });
  assert.equal((await u.api.put(`/${c}`)).status, 201);
  return { ...u, key, c, base: `/v1/AUTH_${u.projectId}/${c}` };
}

test("a signed form uploads its files under the form's path and redirects with the status", async () => {
  const s = await setup();
  const path = `${s.base}/up/`;
  const r = await post(path, body({ path, key: s.key, redirect: "https://example.com/done?x=1", files: [{ name: "a.txt", data: "AAA", type: "text/x-a" }, { name: "b.bin", data: "BBBB" }] }));
  assert.equal(r.status, 303, r.text);
  assert.equal(r.headers.get("location"), "https://example.com/done?x=1&status=201&message=");
  assert.equal(r.text, `<html><body><p><a href="https://example.com/done?x=1&status=201&message=">Click to continue...</a></p></body></html>`);
  const a = await s.api.get(`/${s.c}/up/a.txt`);
  assert.equal(a.text, "AAA");
  assert.equal(a.headers.get("content-type"), "text/x-a");
  assert.equal((await s.api.get(`/${s.c}/up/b.bin`)).text, "BBBB");
});

test("without a redirect the answer is the status line as text; an object path is a name prefix", async () => {
  const s = await setup();
  const path = `${s.base}/pre-`;
  const r = await post(path, body({ path, key: s.key, files: [{ name: "f.txt", data: "hello world" }], algo: "sha1" }));
  assert.equal(r.status, 201);
  assert.equal(r.text, "201 Created");
  assert.equal(r.headers.get("content-type"), "text/plain");
  assert.equal((await s.api.get(`/${s.c}/pre-f.txt`)).text, "hello world");
  // The catalog's path (with the service prefix) may be what was signed.
  const r2 = await post(path, body({ path: `/object-storage${path}`, key: s.key, files: [{ name: "g.txt", data: "g" }] }));
  assert.equal(r2.status, 201);
});

test("an expired form and a bad signature are 401 with formpost's messages", async () => {
  const s = await setup();
  const path = `${s.base}/x`;
  const expired = body({ path, key: s.key, expires: now() + 1, files: [{ name: "f", data: "d" }] });
  clock.advance(2000);
  const r = await post(path, expired);
  assert.equal(r.status, 401);
  assert.equal(r.text, "FormPost: Form Expired");
  const bad = await post(path, body({ path, key: "wrong", files: [{ name: "f", data: "d" }] }));
  assert.equal(bad.status, 401);
  assert.equal(bad.text, "FormPost: Invalid Signature");
  const other = await post(path, body({ path: `${s.base}/y`, key: s.key, files: [{ name: "f", data: "d" }] }));
  assert.equal(other.status, 401);
  assert.equal((await s.api.get(`/${s.c}`)).status, 204, "nothing was written");
});

test("limits: file count, file size, no files, bad integers, bad boundary", async () => {
  const s = await setup();
  const path = `${s.base}/`;
  const count = await post(path, body({ path, key: s.key, maxFileCount: 1, files: [{ name: "1", data: "1" }, { name: "2", data: "2" }] }));
  assert.equal(count.status, 400);
  assert.equal(count.text, "400 Bad Request\r\nFormPost: Max File Count Exceeded");
  const size = await post(path, body({ path, key: s.key, maxFileSize: 5, files: [{ name: "big", data: "0123456789" }] }));
  assert.equal(size.status, 400);
  assert.equal(size.text, "FormPost: max_file_size exceeded");
  assert.equal((await s.api.head(`/${s.c}/big`)).status, 404);
  const none = await post(path, body({ path, key: s.key, files: [] }));
  assert.equal(none.status, 400);
  assert.equal(none.text, "400 Bad Request\r\nFormPost: No Files To Process");
  const noneRedirect = await post(path, body({ path, key: s.key, redirect: "http://x/", files: [] }));
  assert.equal(noneRedirect.status, 303);
  assert.equal(noneRedirect.headers.get("location"), "http://x/?status=400&message=no%20files%20to%20process");
  const delAfter = await post(path, body({ path, key: s.key, extra: [["x_delete_after", "soon"]], files: [{ name: "f", data: "d" }] }));
  assert.equal(delAfter.status, 400);
  assert.equal(delAfter.text, "FormPost: x_delete_after not an integer: Number of seconds required.");
  const garbage = await post(path, "not a form");
  assert.equal(garbage.status, 400);
  assert.equal(garbage.text, "FormPost: invalid starting boundary");
  // Only file "1" of the count-limited form was stored.
  const list = await s.api.get(`/${s.c}`);
  assert.equal(list.text, "1\n");
});

test("x_delete_after makes the uploads expire", async () => {
  const s = await setup();
  const path = `${s.base}/`;
  const r = await post(path, body({ path, key: s.key, extra: [["x_delete_after", "60"]], files: [{ name: "tmp", data: "t" }] }));
  assert.equal(r.status, 201, r.text);
  const h = await s.api.head(`/${s.c}/tmp`);
  assert.equal(h.headers.get("x-delete-at"), String(now() + 60));
  clock.advance(61_000);
  assert.equal((await s.api.head(`/${s.c}/tmp`)).status, 404);
});

test("a POST that is not a form is an ordinary metadata POST; /info has formpost", async () => {
  const s = await setup();
  await s.api.put(`/${s.c}/o`, { body: "x" });
  const r = await s.api.post(`/${s.c}/o`, { headers: { "x-object-meta-k": "v" } });
  assert.equal(r.status, 202);
  const info = (await (await fetch(`${tc.url}/info`)).json()) as Record<string, unknown>;
  assert.deepEqual(info["formpost"], { allowed_digests: ["sha1", "sha256", "sha512"], deprecated_digests: ["sha1"] });
});
