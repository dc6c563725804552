import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { after, before, test } from "node:test";
import * as tar from "tar-stream";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud } from "../support/cloud.js";
import { swiftApi, swiftUser } from "../support/swift.js";

let tc: TestCloud;
before(async () => {
  tc = await startTestCloud();
});
after(() => tc.close());

interface Member {
  name: string;
  body?: string;
  type?: "file" | "directory" | "symlink";
  pax?: Record<string, string>;
}

/** A tar archive of these members (ustar, pax headers where asked). */
async function makeTar(members: Member[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const m of members) {
    const header: Parameters<typeof pack.entry>[0] = { name: m.name, type: m.type ?? "file" };
    if (m.type === "symlink") header.linkname = "target";
    if (m.pax) header.pax = m.pax;
    await new Promise<void>((resolve, reject) => {
      if (m.type === "file" || m.type === undefined) pack.entry(header, m.body ?? "", (err) => (err ? reject(err) : resolve()));
      else pack.entry(header, (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

const PLAIN = { "content-type": "text/plain" };

test("/info advertises bulk_delete and bulk_upload with Swift's defaults", async () => {
  const res = await fetch(`${tc.url}/object-storage/info`);
  const info = (await res.json()) as Record<string, unknown>;
  assert.deepEqual(info["bulk_delete"], { max_deletes_per_request: 10000, max_failed_deletes: 1000 });
  assert.deepEqual(info["bulk_upload"], { max_containers_per_extraction: 10000, max_failed_extractions: 1000 });
});

test("extract-archive to the account creates containers and objects; top-level files and non-files are skipped", async () => {
  const { api } = await swiftUser(tc);
  const body = await makeTar([
    { name: "photos", type: "directory" },
    { name: "photos/a.jpg", body: "jpeg" },
    { name: "./photos/b/c.txt", body: "hello" },
    { name: "docs/readme.md", body: "# hi" },
    { name: "top.txt", body: "ignored" },
    { name: "photos/link", type: "symlink" },
  ]);
  const res = await api.put("", { query: { "extract-archive": "tar" }, body });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain");
  assert.equal(res.text, "Number Files Created: 3\nResponse Body: \nResponse Status: 201 Created\nErrors:\n");
  const containers = await api.get("", { query: { format: "json" } });
  assert.deepEqual(
    (containers.json as Array<{ name: string }>).map((c) => c.name),
    ["docs", "photos"],
  );
  const photos = await api.get("/photos", { query: { format: "json" } });
  assert.deepEqual(
    (photos.json as Array<{ name: string; bytes: number; content_type: string }>).map((o) => [o.name, o.bytes, o.content_type]),
    [
      ["a.jpg", 4, "image/jpeg"],
      ["b/c.txt", 5, "text/plain"],
    ],
  );
  assert.equal((await api.get("/docs/readme.md")).text, "# hi");
});

test("extract-archive tar.gz into a container prefix: request metadata, X-Delete-After and pax xattrs reach each object; JSON and XML reports", async () => {
  const { api } = await swiftUser(tc);
  assert.equal((await api.put("/dest")).status, 201);
  const archive = gzipSync(
    await makeTar([
      { name: "x/one.bin", body: "1", pax: { "SCHILY.xattr.user.mime_type": "application/x-one", "SCHILY.xattr.user.meta.lunch": "burger", "SCHILY.xattr.user.stuff": "no" } },
      { name: "two.txt", body: "22", pax: { "LIBARCHIVE.xattr.user.meta.dinner": "ziti" } },
    ]),
  );
  const res = await api.put("/dest/pre/", {
    query: { "extract-archive": ".TAR.GZ" },
    body: archive,
    headers: { accept: "application/json", "x-object-meta-color": "red", "x-delete-after": "3600" },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.text, '{"Response Status": "201 Created", "Response Body": "", "Number Files Created": 2, "Errors": []}');
  const one = await api.head("/dest/pre/x/one.bin");
  assert.equal(one.status, 200);
  assert.equal(one.headers.get("content-type"), "application/x-one");
  assert.equal(one.headers.get("x-object-meta-lunch"), "burger");
  assert.equal(one.headers.get("x-object-meta-color"), "red");
  assert.equal(one.headers.get("x-object-meta-stuff"), null);
  assert.match(one.headers.get("x-delete-at") ?? "", /^\d+$/);
  const two = await api.head("/dest/pre/two.txt");
  assert.equal(two.headers.get("x-object-meta-dinner"), "ziti");

  const xml = await api.put("/dest?extract-archive=tar", { body: await makeTar([{ name: "a&b.txt", body: "x" }]), headers: { accept: "text/xml" } });
  assert.equal(xml.headers.get("content-type"), "text/xml");
  assert.equal(
    xml.text,
    "<extract>\n<number_files_created>1</number_files_created>\n<response_body></response_body>\n<response_status>201 Created</response_status>\n<errors>\n</errors>\n</extract>\n",
  );
  assert.equal((await api.get("/dest/a&b.txt")).text, "x");
});

test("extract-archive refusals: unknown formats (tar.bz2 too) are 400; bad archives report Invalid Tar File", async () => {
  const { api } = await swiftUser(tc);
  for (const fmt of ["zip", "tar.bz2", "", "constructor"]) {
    const res = await api.put("", { query: { "extract-archive": fmt }, body: "x" });
    assert.equal(res.status, 400, fmt);
    assert.equal(res.text, "Unsupported archive format");
  }
  const cases: Array<[string, string | Buffer, string]> = [
    ["tar", "", "Invalid Tar File: empty file"],
    ["tar", "short", "Invalid Tar File: truncated header"],
    ["tar", Buffer.alloc(1024, 0x41), "Invalid Tar File: invalid header"],
    ["tar.gz", "not gzip", "Invalid Tar File: not a gzip file"],
    ["tar", Buffer.alloc(1024, 0), "Invalid Tar File: No Valid Files"],
  ];
  for (const [fmt, body, message] of cases) {
    const res = await api.put("", { query: { "extract-archive": fmt }, body, headers: { accept: "application/json" } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { "Response Status": "400 Bad Request", "Response Body": message, "Number Files Created": 0, Errors: [] }, message);
  }
  const notAcceptable = await api.put("", { query: { "extract-archive": "tar" }, body: await makeTar([{ name: "c/o", body: "x" }]), headers: { accept: "image/png" } });
  assert.equal(notAcceptable.status, 200);
  assert.equal(notAcceptable.headers.get("content-type"), "text/html; charset=UTF-8");
  assert.match(notAcceptable.text, /Response Status: 406 Not Acceptable\n/);
  assert.equal((await api.get("/c/o")).status, 404);
});

test("extract-archive files are PUT as the caller: quotas and ACLs apply to each, anonymous is 401", async () => {
  const owner = await swiftUser(tc);
  assert.equal((await owner.api.put("/q", { headers: { "x-container-meta-quota-count": "1" } })).status, 201);
  const res = await owner.api.put("/q", { query: { "extract-archive": "tar" }, body: await makeTar([{ name: "a", body: "1" }, { name: "b", body: "2" }, { name: "c", body: "3" }]) });
  assert.equal(res.text, "Number Files Created: 1\nResponse Body: \nResponse Status: 400 Bad Request\nErrors:\nq/b, 413 Request Entity Too Large\nq/c, 413 Request Entity Too Large\n");
  assert.equal((await owner.api.head("/q")).headers.get("x-container-object-count"), "1");

  const reader = await swiftUser(tc, "reader", { projectId: owner.projectId });
  const denied = await reader.api.put("", { query: { "extract-archive": "tar" }, body: await makeTar([{ name: "newc/x", body: "1" }]) });
  assert.equal(denied.text, "Number Files Created: 0\nResponse Body: \nResponse Status: 400 Bad Request\nErrors:\n/v1/AUTH_" + owner.projectId + "/newc, 403 Forbidden\nnewc/x, 403 Forbidden\n");

  const anon = swiftApi(tc, owner.projectId);
  const unauth = await anon.put("/q", { query: { "extract-archive": "tar" }, body: await makeTar([{ name: "z", body: "1" }]) });
  assert.equal(unauth.status, 200);
  // The container check is already refused: the whole extraction stops there.
  assert.equal(unauth.text, "Number Files Created: 0\nResponse Body: \nResponse Status: 401 Unauthorized\nErrors:\n");
});

test("bulk-delete by DELETE and POST: objects first, then containers; not found counted; failures listed", async () => {
  const { api } = await swiftUser(tc);
  await api.put("/c1");
  await api.put("/c1/a b", { body: "1" });
  await api.put("/c1/dir/x", { body: "22" });
  await api.put("/c2");
  await api.put("/c2/keep", { body: "3" });
  // Containers listed before their objects still go after them; names are URL-encoded.
  const res = await api.del("", { query: { "bulk-delete": "" }, headers: PLAIN, body: "c1\n/c1/a%20b\nc1/dir/x\nc1/missing\n\nc2\n%FF\n" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain");
  assert.equal(res.text, "Number Deleted: 3\nNumber Not Found: 1\nResponse Body: \nResponse Status: 400 Bad Request\nErrors:\n%FF, 412 Precondition Failed\nc2, 409 Conflict\n");
  assert.equal((await api.head("/c1")).status, 404);
  assert.equal((await api.head("/c2")).headers.get("x-container-object-count"), "1");

  const post = await api.post("", { query: { "bulk-delete": "" }, headers: { accept: "application/json" }, body: "c2/keep\nc2" });
  assert.equal(post.status, 200);
  assert.equal(post.headers.get("content-type"), "application/json");
  assert.equal(post.text, '{"Response Status": "200 OK", "Response Body": "", "Number Deleted": 2, "Number Not Found": 0, "Errors": []}');
  const account = await api.head("");
  assert.equal(account.headers.get("x-account-container-count"), "0");
  assert.equal(account.headers.get("x-account-object-count"), "0");
  assert.equal(account.headers.get("x-account-bytes-used"), "0");

  const xml = await api.post("/anything/here", { query: { "bulk-delete": "" }, headers: { accept: "application/xml" }, body: "gone/1\n" });
  assert.equal(xml.text, "<delete>\n<number_deleted>0</number_deleted>\n<number_not_found>1</number_not_found>\n<response_body></response_body>\n<response_status>200 OK</response_status>\n<errors>\n</errors>\n</delete>\n");
});

test("bulk-delete refusals are reported in the body of a 200", async () => {
  const { api, projectId } = await swiftUser(tc);
  const report = async (o: Parameters<typeof api.del>[1]): Promise<unknown> => {
    const res = await api.del("", { ...o, query: { "bulk-delete": "" }, headers: { accept: "application/json", ...o?.headers } });
    assert.equal(res.status, 200);
    return res.json;
  };
  const r = (status: string, body = "", deleted = 0, notFound = 0, errors: unknown[] = []): unknown => ({ "Response Status": status, "Response Body": body, "Number Deleted": deleted, "Number Not Found": notFound, Errors: errors });
  assert.deepEqual(await report({ body: " \n" }), r("400 Bad Request", "Invalid bulk delete."));
  assert.deepEqual(await report({}), r("411 Length Required"));
  assert.deepEqual(await report({ body: "c/o", headers: { "content-type": "application/json" } }), r("406 Not Acceptable"));
  assert.deepEqual(await report({ body: "x\n".repeat(10001) }), r("413 Request Entity Too Large", "Maximum Bulk Deletes: 10000 per request"));
  assert.deepEqual(await report({ body: "a".repeat(3000) }), r("400 Bad Request", "Invalid File Name"));
  const bad = await api.del("", { query: { "bulk-delete": "" }, headers: { accept: "text/plain;q=1;q=2" }, body: "c/o" });
  assert.equal(bad.headers.get("content-type"), "text/html; charset=UTF-8");
  assert.match(bad.text, /Response Status: 406 Not Acceptable/);
  // Anonymous: each delete is refused by auth.
  await api.put("/mine");
  await api.put("/mine/o", { body: "x" });
  const anon = swiftApi(tc, projectId);
  const res = await anon.del("", { query: { "bulk-delete": "" }, headers: { accept: "application/json" }, body: "mine/o\nmine" });
  assert.deepEqual(res.json, r("400 Bad Request", "", 0, 0, [["mine/o", "401 Unauthorized"], ["mine", "401 Unauthorized"]]));
  assert.equal((await api.head("/mine/o")).status, 200);
});

test("requests without bulk parameters pass through", async () => {
  const { api } = await swiftUser(tc);
  assert.equal((await api.put("/plain")).status, 201);
  assert.equal((await api.put("/plain/o", { query: { "bulk-delete": "" }, body: "x" })).status, 201);
  assert.equal((await api.get("/plain/o", { query: { "extract-archive": "tar" } })).text, "x");
});
