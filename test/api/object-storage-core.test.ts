import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud } from "../support/cloud.js";
import type { SwiftApi } from "../support/swift.js";
import { swiftUser } from "../support/swift.js";

/**
 * The core of Swift over real HTTP: accounts, containers, objects, listings, metadata,
 * ranges, conditional requests, copies and the owner's counters, as Swift 2.30 answers them.
 */
let tc: TestCloud;
let api: SwiftApi;
let ownToken = "";
before(async () => {
  tc = await startTestCloud();
  const me = await swiftUser(tc);
  api = me.api;
  ownToken = me.token;
});
after(() => tc.close());

const md5 = (s: string | Buffer): string => createHash("md5").update(s).digest("hex");
let seq = 0;
const cname = (): string => `c${++seq}-${Date.now().toString(36)}`;

async function containerWith(names: string[]): Promise<string> {
  const c = cname();
  assert.equal((await api.put(`/${c}`)).status, 201);
  for (const n of names) assert.equal((await api.put(`/${c}/${n}`, { body: Buffer.from(n) })).status, 201);
  return c;
}

describe("containers and listings", () => {
  test("PUT creates (201), again accepts (202), HEAD counts, DELETE of a non-empty one is 409", async () => {
    const c = cname();
    const p1 = await api.put(`/${c}`);
    assert.equal(p1.status, 201);
    assert.equal(p1.text, "");
    const p2 = await api.put(`/${c}`);
    assert.equal(p2.status, 202);
    assert.equal(p2.text, "<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>");
    await api.put(`/${c}/o`, { body: "12345" });
    const h = await api.head(`/${c}`);
    assert.equal(h.status, 204);
    assert.equal(h.headers.get("x-container-object-count"), "1");
    assert.equal(h.headers.get("x-container-bytes-used"), "5");
    assert.equal(h.headers.get("x-storage-policy"), "Policy-0");
    const d = await api.del(`/${c}`);
    assert.equal(d.status, 409);
    assert.equal(d.text, "<html><h1>Conflict</h1><p>There was a conflict when trying to complete your request.</p></html>");
    assert.equal((await api.del(`/${c}/o`)).status, 204);
    assert.equal((await api.del(`/${c}`)).status, 204);
    const gone = await api.get(`/${c}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.text, "<html><h1>Not Found</h1><p>The resource could not be found.</p></html>");
  });

  test("container name too long is 400 with Swift's message", async () => {
    const r = await api.put(`/${"x".repeat(257)}`);
    assert.equal(r.status, 400);
    assert.equal(r.text, "Container name length of 257 longer than 256");
  });

  test("plain, JSON and XML listings", async () => {
    const c = await containerWith(["a", "b&<c>", "d/e"]);
    const plain = await api.get(`/${c}`);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(plain.headers.get("vary"), "Accept");
    assert.equal(plain.text, "a\nb&<c>\nd/e\n");
    const json = await api.get(`/${c}`, { query: { format: "json" } });
    assert.equal(json.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(json.headers.get("vary"), null);
    assert.deepEqual(
      json.json.map((o: { name: string; bytes: number; hash: string }) => [o.name, o.bytes, o.hash]),
      ["a", "b&<c>", "d/e"].map((n) => [n, n.length, md5(n)]),
    );
    // Python's json.dumps spacing, keys in the container server's order.
    assert.match(json.text, /^\[\{"bytes": 1, "hash": "[0-9a-f]{32}", "name": "a", "content_type": "application\/octet-stream", "last_modified": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}"\}, /);
    const xml = await api.get(`/${c}`, { headers: { accept: "application/xml" } });
    assert.equal(xml.headers.get("content-type"), "application/xml; charset=utf-8");
    assert.ok(xml.text.startsWith(`<?xml version="1.0" encoding="UTF-8"?>\n<container name="${c}"><object><name>a</name><hash>${md5("a")}</hash><bytes>1</bytes>`), xml.text);
    assert.ok(xml.text.includes("<name>b&amp;&lt;c&gt;</name>"));
    const empty = cname();
    await api.put(`/${empty}`);
    const ex = await api.get(`/${empty}`, { query: { format: "xml" } });
    assert.equal(ex.status, 200);
    assert.equal(ex.text, `<?xml version="1.0" encoding="UTF-8"?>\n<container name="${empty}" />`);
    const ep = await api.get(`/${empty}`);
    assert.equal(ep.status, 204);
    const ej = await api.get(`/${empty}`, { query: { format: "json" } });
    assert.equal(ej.status, 200);
    assert.equal(ej.text, "[]");
    const head = await api.head(`/${c}`, { query: { format: "json" } });
    assert.equal(head.headers.get("content-type"), "application/json; charset=utf-8");
    const bad = await api.get(`/${c}`, { headers: { accept: "image/png" } });
    assert.equal(bad.status, 406);
    assert.equal(bad.text, "<html><h1>Not Acceptable</h1><p>The resource is not available in a format acceptable to your browser.</p></html>");
    // The format is settled before the container is looked for.
    assert.equal((await api.get(`/${cname()}`, { headers: { accept: "image/png" } })).status, 406);
  });

  test("prefix, delimiter, marker, end_marker, limit and reverse", async () => {
    const c = await containerWith(["a/1", "a/2", "b", "c/x/1", "c/y", "d"]);
    const list = async (q: Record<string, string>) => (await api.get(`/${c}`, { query: q })).text.split("\n").filter(Boolean);
    assert.deepEqual(await list({ prefix: "c/" }), ["c/x/1", "c/y"]);
    assert.deepEqual(await list({ delimiter: "/" }), ["a/", "b", "c/", "d"]);
    assert.deepEqual(await list({ prefix: "c/", delimiter: "/" }), ["c/x/", "c/y"]);
    assert.deepEqual(await list({ marker: "b" }), ["c/x/1", "c/y", "d"]);
    assert.deepEqual(await list({ end_marker: "c" }), ["a/1", "a/2", "b"]);
    assert.deepEqual(await list({ marker: "a/1", end_marker: "c/y" }), ["a/2", "b", "c/x/1"]);
    assert.deepEqual(await list({ limit: "2" }), ["a/1", "a/2"]);
    assert.deepEqual(await list({ reverse: "true" }), ["d", "c/y", "c/x/1", "b", "a/2", "a/1"]);
    assert.deepEqual(await list({ reverse: "on", marker: "c/x/1", limit: "2" }), ["b", "a/2"]);
    assert.deepEqual(await list({ reverse: "1", delimiter: "/" }), ["d", "c/", "b", "a/"]);
    // Paging on a subdir (what swift list does) does not list it again.
    assert.deepEqual(await list({ delimiter: "/", marker: "a/" }), ["b", "c/", "d"]);
    assert.deepEqual(await list({ delimiter: "/", limit: "1", marker: "a/" }), ["b"]);
    // A multi-character delimiter works (Swift 2.30).
    assert.deepEqual(await list({ delimiter: "/x" }), ["a/1", "a/2", "b", "c/x", "c/y", "d"]);
    // A limit that is not a number is ignored; above the maximum is a 412.
    assert.equal((await list({ limit: "abc" })).length, 6);
    const over = await api.get(`/${c}`, { query: { limit: "10001" } });
    assert.equal(over.status, 412);
    assert.equal(over.text, "Maximum limit is 10000");
    const zero = await api.get(`/${c}`, { query: { limit: "0" } });
    assert.equal(zero.status, 204);
  });

  test("metadata: add, change, remove (X-Remove-… and empty value); too long is 400", async () => {
    const c = cname();
    assert.equal((await api.put(`/${c}`, { headers: { "x-container-meta-color": "red", "x-container-meta-size": "big" } })).status, 201);
    assert.equal((await api.post(`/${c}`, { headers: { "x-container-meta-color": "blue", "x-remove-container-meta-size": "x" } })).status, 204);
    let h = await api.head(`/${c}`);
    assert.equal(h.headers.get("x-container-meta-color"), "blue");
    assert.equal(h.headers.get("x-container-meta-size"), null);
    assert.equal((await api.post(`/${c}`, { headers: { "x-container-meta-color": "" } })).status, 204);
    h = await api.head(`/${c}`);
    assert.equal(h.headers.get("x-container-meta-color"), null);
    const long = await api.post(`/${c}`, { headers: { "x-container-meta-k": "v".repeat(257) } });
    assert.equal(long.status, 400);
    assert.match(long.text, /^Metadata value longer than 256: X-Container-Meta-K$/i);
    const missing = await api.post(`/${cname()}`, { headers: { "x-container-meta-a": "b" } });
    assert.equal(missing.status, 404);
  });

  test("account HEAD/GET: counts, metadata, listing of containers", async () => {
    const me = await swiftUser(tc);
    const a = me.api;
    const empty = await a.get("");
    assert.equal(empty.status, 204);
    assert.equal(empty.headers.get("x-account-container-count"), "0");
    await a.put("/one");
    await a.put("/two");
    await a.put("/one/x", { body: "abc" });
    const h = await a.head("");
    assert.equal(h.status, 204);
    assert.equal(h.headers.get("x-account-container-count"), "2");
    assert.equal(h.headers.get("x-account-object-count"), "1");
    assert.equal(h.headers.get("x-account-bytes-used"), "3");
    // keystoneauth recorded the project's domain when the account came to be.
    assert.equal(h.headers.get("x-account-project-domain-id"), "default");
    assert.equal(empty.headers.get("x-account-project-domain-id"), null);
    const j = await a.get("", { query: { format: "json" } });
    assert.deepEqual(
      j.json.map((x: { name: string; count: number; bytes: number }) => [x.name, x.count, x.bytes]),
      [
        ["one", 1, 3],
        ["two", 0, 0],
      ],
    );
    const xml = await a.get("", { query: { format: "xml" } });
    assert.ok(xml.text.startsWith(`<?xml version="1.0" encoding="UTF-8"?>\n<account name="AUTH_${me.projectId}">\n<container><name>one</name><count>1</count><bytes>3</bytes><last_modified>`), xml.text);
    assert.deepEqual((await a.get("", { query: { marker: "one" } })).text, "two\n");
    assert.equal((await a.post("", { headers: { "x-account-meta-team": "blue" } })).status, 204);
    assert.equal((await a.head("")).headers.get("x-account-meta-team"), "blue");
    assert.equal((await a.post("", { headers: { "x-remove-account-meta-team": "1" } })).status, 204);
    assert.equal((await a.head("")).headers.get("x-account-meta-team"), null);
    const put = await a.put("");
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "HEAD, GET, POST");
  });
});

describe("objects", () => {
  let c: string;
  before(async () => {
    c = cname();
    await api.put(`/${c}`);
  });

  test("PUT/GET/HEAD/DELETE with metadata and headers", async () => {
    const put = await api.put(`/${c}/dir/obj.txt`, {
      body: "hello",
      headers: { "content-type": "text/x-test", "x-object-meta-color": "red", "content-disposition": "attachment", "x-object-meta-under_score": "u" },
    });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get("etag"), md5("hello"));
    assert.equal(put.text, "");
    const get = await api.get(`/${c}/dir/obj.txt`);
    assert.equal(get.status, 200);
    assert.equal(get.text, "hello");
    assert.equal(get.headers.get("content-type"), "text/x-test");
    assert.equal(get.headers.get("content-length"), "5");
    assert.equal(get.headers.get("x-object-meta-color"), "red");
    // An underscore in a header name reaches Swift as a hyphen (WSGI).
    assert.equal(get.headers.get("x-object-meta-under-score"), "u");
    assert.equal(get.headers.get("content-disposition"), "attachment");
    assert.equal(get.headers.get("accept-ranges"), "bytes");
    assert.match(get.headers.get("x-timestamp") ?? "", /^\d{10}\.\d{5}$/);
    const head = await api.head(`/${c}/dir/obj.txt`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "5");
    assert.equal(head.headers.get("etag"), md5("hello"));
    assert.equal((await api.del(`/${c}/dir/obj.txt`)).status, 204);
    const again = await api.del(`/${c}/dir/obj.txt`);
    assert.equal(again.status, 404);
    assert.equal(again.text, "<html><h1>Not Found</h1><p>The resource could not be found.</p></html>");
    assert.equal((await api.get(`/${c}/dir/obj.txt`)).status, 404);
  });

  test("PUT into a missing container is 404; without length is 411", async () => {
    assert.equal((await api.put(`/${cname()}/o`, { body: "x" })).status, 404);
    const raw = await rawSocket(api.storageUrl + `/${c}/nolen`, `PUT {path} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${await token()}\r\nConnection: close\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 411 /);
    assert.ok(raw.endsWith("\r\n\r\nMissing Content-Length header."), raw);
  });

  test("content type is guessed from the name when not given", async () => {
    await api.put(`/${c}/pic.png`, { body: Buffer.from("x") });
    assert.equal((await api.head(`/${c}/pic.png`)).headers.get("content-type"), "image/png");
    // Python's mimetypes, as the proxy uses it: a compressed tarball is a tar file, .gz alone unknown.
    for (const [n, t] of [
      ["app.js", "text/javascript"],
      ["dump.tar.gz", "application/x-tar"],
      ["dump.tgz", "application/x-tar"],
      ["blob.gz", "application/octet-stream"],
      ["README", "application/octet-stream"],
    ] as const) {
      await api.put(`/${c}/${n}`, { body: Buffer.from("x") });
      assert.equal((await api.head(`/${c}/${n}`)).headers.get("content-type"), t, n);
    }
    await api.put(`/${c}/forced.png`, { body: Buffer.from("x"), headers: { "content-type": "text/plain", "x-detect-content-type": "yes" } });
    assert.equal((await api.head(`/${c}/forced.png`)).headers.get("content-type"), "image/png");
  });

  test("ETag mismatch is 422 and nothing is written; matching ETag (quoted too) is accepted", async () => {
    const bad = await api.put(`/${c}/etag`, { body: "data", headers: { etag: md5("other") } });
    assert.equal(bad.status, 422);
    assert.equal(bad.text, "<html><h1>Unprocessable Entity</h1><p>Unable to process the contained instructions</p></html>");
    assert.equal((await api.head(`/${c}/etag`)).status, 404);
    assert.equal((await api.put(`/${c}/etag`, { body: "data", headers: { etag: `"${md5("data")}"` } })).status, 201);
  });

  test("POST replaces the user metadata; an empty value stays as empty", async () => {
    await api.put(`/${c}/meta`, { body: "m", headers: { "x-object-meta-a": "1", "x-object-meta-b": "2" } });
    const p = await api.post(`/${c}/meta`, { headers: { "x-object-meta-a": "9", "x-object-meta-e": "" } });
    assert.equal(p.status, 202);
    assert.equal(p.text, "<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>");
    const h = await api.head(`/${c}/meta`);
    assert.equal(h.headers.get("x-object-meta-a"), "9");
    assert.equal(h.headers.get("x-object-meta-b"), null);
    assert.equal(h.headers.get("x-object-meta-e"), "");
    assert.equal((await api.post(`/${c}/nothere`, { headers: { "x-object-meta-a": "1" } })).status, 404);
    const long = await api.post(`/${c}/meta`, { headers: { [`x-object-meta-${"n".repeat(129)}`]: "v" } });
    assert.equal(long.status, 400);
    assert.match(long.text, /^Metadata name too long: x-object-meta-n+$/i);
  });

  test("If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since", async () => {
    await api.put(`/${c}/cond`, { body: "conditional" });
    const etag = md5("conditional");
    const lm = (await api.head(`/${c}/cond`)).headers.get("last-modified")!;
    const g = (h: Record<string, string>) => api.get(`/${c}/cond`, { headers: h });
    assert.equal((await g({ "if-match": etag })).status, 200);
    assert.equal((await g({ "if-match": `"${etag}"` })).status, 200);
    const pf = await g({ "if-match": "nope" });
    assert.equal(pf.status, 412);
    assert.equal(pf.text, "");
    assert.equal(pf.headers.get("etag"), etag);
    const nm = await g({ "if-none-match": etag });
    assert.equal(nm.status, 304);
    assert.equal(nm.headers.get("etag"), etag);
    assert.equal((await g({ "if-none-match": "other" })).status, 200);
    assert.equal((await g({ "if-modified-since": lm })).status, 304);
    assert.equal((await g({ "if-modified-since": "Thu, 01 Jan 2015 00:00:00 GMT" })).status, 200);
    assert.equal((await g({ "if-unmodified-since": "Thu, 01 Jan 2015 00:00:00 GMT" })).status, 412);
    assert.equal((await g({ "if-unmodified-since": lm })).status, 200);
    assert.equal((await api.get(`/${c}/absent`, { headers: { "if-match": "*" } })).status, 412);
    // PUT If-None-Match: * refuses to overwrite; another value is 400.
    const inm = await api.put(`/${c}/cond`, { body: "x", headers: { "if-none-match": "*" } });
    assert.equal(inm.status, 412);
    assert.equal((await api.get(`/${c}/cond`)).text, "conditional");
    const bad = await api.put(`/${c}/cond`, { body: "x", headers: { "if-none-match": etag } });
    assert.equal(bad.status, 400);
    assert.equal(bad.text, "If-None-Match only supports *");
    assert.equal((await api.put(`/${c}/fresh`, { body: "x", headers: { "if-none-match": "*" } })).status, 201);
  });

  test("single, suffix, multiple and unsatisfiable ranges", async () => {
    const data = "0123456789abcdefghij";
    await api.put(`/${c}/range`, { body: data, headers: { "content-type": "text/plain" } });
    const r = (range: string) => api.get(`/${c}/range`, { headers: { range } });
    const one = await r("bytes=2-5");
    assert.equal(one.status, 206);
    assert.equal(one.text, "2345");
    assert.equal(one.headers.get("content-range"), "bytes 2-5/20");
    assert.equal(one.headers.get("content-length"), "4");
    assert.equal((await r("bytes=-3")).text, "hij");
    assert.equal((await r("bytes=15-")).text, "fghij");
    assert.equal((await r("bytes=18-100")).text, "ij");
    const multi = await r("bytes=0-1,10-11");
    assert.equal(multi.status, 206);
    const ct = multi.headers.get("content-type") ?? "";
    const m = /^multipart\/byteranges;boundary=([0-9a-f]{32})$/.exec(ct);
    assert.ok(m, ct);
    const b = m[1]!;
    assert.equal(
      multi.text,
      `--${b}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/20\r\n\r\n01\r\n--${b}\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-11/20\r\n\r\nab\r\n--${b}--`,
    );
    assert.equal(multi.headers.get("content-length"), String(multi.body.length));
    const no = await r("bytes=30-40");
    assert.equal(no.status, 416);
    assert.equal(no.headers.get("content-range"), "bytes */20");
    assert.equal(no.text, "<html><h1>Requested Range Not Satisfiable</h1><p>The Range requested is not available.</p></html>");
    // Syntactically invalid: ignored, the whole object.
    for (const bad of ["bytes=5-3", "bytes=x-1", "chars=0-1", "bytes=-"]) {
      const w = await r(bad);
      assert.equal(w.status, 200, bad);
      assert.equal(w.text, data);
    }
    // More than two overlapping ranges: unsatisfiable (swob's denial-of-service guard).
    assert.equal((await r("bytes=0-10,1-11,2-12,3-13")).status, 416);
    // A suffix range of an empty object: the (empty) object, 200.
    await api.put(`/${c}/empty`, { body: "" });
    assert.equal((await api.get(`/${c}/empty`, { headers: { range: "bytes=-5" } })).status, 200);
    assert.equal((await api.get(`/${c}/empty`, { headers: { range: "bytes=0-5" } })).status, 416);
  });

  test("ranges of a large object (read from the blob store)", async () => {
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251;
    await api.put(`/${c}/bigrange`, { body: big });
    const one = await api.get(`/${c}/bigrange`, { headers: { range: "bytes=100000-199999" } });
    assert.equal(one.status, 206);
    assert.ok(one.body.equals(big.subarray(100000, 200000)));
    assert.equal(one.headers.get("content-range"), "bytes 100000-199999/300000");
    const tail = await api.get(`/${c}/bigrange`, { headers: { range: "bytes=-10" } });
    assert.ok(tail.body.equals(big.subarray(299990)));
    const two = await api.get(`/${c}/bigrange`, { headers: { range: "bytes=0-9,299990-" } });
    assert.equal(two.status, 206);
    assert.equal(two.headers.get("content-length"), String(two.body.length));
    assert.ok(two.body.includes(big.subarray(299990)));
    const whole = await api.get(`/${c}/bigrange`);
    assert.ok(whole.body.equals(big));
  });

  test("chunked upload (Transfer-Encoding: chunked)", async () => {
    const tok = await token();
    const parts = ["chunk-one|", "chunk-two|", "x".repeat(100_000)];
    const res = await rawRequest(api.storageUrl + `/${c}/chunked`, "PUT", { "x-auth-token": tok, "transfer-encoding": "chunked" }, parts);
    assert.equal(res.status, 201, res.body.toString());
    const all = parts.join("");
    assert.equal(res.headers["etag"], md5(all));
    const get = await api.get(`/${c}/chunked`);
    assert.equal(get.text, all);
    assert.equal(get.headers.get("content-length"), String(all.length));
  });

  test("X-Delete-After hides the object; bad values are 400", async () => {
    const bad = await api.put(`/${c}/exp`, { body: "x", headers: { "x-delete-at": "1" } });
    assert.equal(bad.status, 400);
    assert.equal(bad.text, "X-Delete-At in past");
    const nonint = await api.put(`/${c}/exp`, { body: "x", headers: { "x-delete-after": "soon" } });
    assert.equal(nonint.status, 400);
    assert.equal(nonint.text, "Non-integer X-Delete-After");
    const ok = await api.put(`/${c}/exp`, { body: "x", headers: { "x-delete-after": "1000" } });
    assert.equal(ok.status, 201);
    assert.match((await api.head(`/${c}/exp`)).headers.get("x-delete-at") ?? "", /^\d{10}$/);
  });
});

describe("server-side copy", () => {
  let c: string;
  before(async () => {
    c = cname();
    await api.put(`/${c}`);
    await api.put(`/${c}/src obj`, { body: "source-bytes", headers: { "content-type": "text/x-src", "x-object-meta-src": "s" } });
  });

  test("COPY keeps the metadata, adds the request's, and answers the copy headers", async () => {
    const r = await api.call("COPY", `/${c}/src%20obj`, { headers: { destination: `${c}/dst`, "x-object-meta-new": "n" } });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get("x-copied-from"), `${c}/src%20obj`);
    assert.match(r.headers.get("x-copied-from-account") ?? "", /^AUTH_[0-9a-f]+$/);
    assert.ok(r.headers.get("x-copied-from-last-modified"));
    assert.equal(r.headers.get("x-object-meta-src"), "s");
    assert.equal(r.headers.get("x-object-meta-new"), "n");
    assert.equal(r.headers.get("etag"), md5("source-bytes"));
    const g = await api.get(`/${c}/dst`);
    assert.equal(g.text, "source-bytes");
    assert.equal(g.headers.get("content-type"), "text/x-src");
    assert.equal(g.headers.get("x-object-meta-src"), "s");
    assert.equal(g.headers.get("x-object-meta-new"), "n");
  });

  test("PUT with X-Copy-From; X-Fresh-Metadata starts clean; content type may change", async () => {
    const r = await api.put(`/${c}/dst2`, { body: "", headers: { "x-copy-from": `/${c}/src%20obj`, "x-fresh-metadata": "true", "content-type": "text/other" } });
    assert.equal(r.status, 201);
    const g = await api.get(`/${c}/dst2`);
    assert.equal(g.text, "source-bytes");
    assert.equal(g.headers.get("x-object-meta-src"), null);
    assert.equal(g.headers.get("content-type"), "text/other");
  });

  test("copy errors: missing source 404, bad header 412, body 400, no Destination 412", async () => {
    assert.equal((await api.put(`/${c}/d`, { body: "", headers: { "x-copy-from": `${c}/missing` } })).status, 404);
    const bad = await api.put(`/${c}/d`, { body: "", headers: { "x-copy-from": "justone" } });
    assert.equal(bad.status, 412);
    assert.equal(bad.text, "X-Copy-From header must be of the form <container name>/<object name>");
    const body = await api.put(`/${c}/d`, { body: "abc", headers: { "x-copy-from": `${c}/src%20obj` } });
    assert.equal(body.status, 400);
    assert.equal(body.text, "Copy requests require a zero byte body");
    const nodest = await api.call("COPY", `/${c}/src%20obj`);
    assert.equal(nodest.status, 412);
    assert.equal(nodest.text, "Destination header required");
    const baddest = await api.call("COPY", `/${c}/src%20obj`, { headers: { destination: "nocontainer" } });
    assert.equal(baddest.status, 412);
    assert.equal(baddest.text, "Destination header must be of the form <container name>/<object name>");
    assert.equal((await api.head(`/${c}/d`)).status, 404);
  });

  test("a copy with a Range copies that range", async () => {
    const r = await api.put(`/${c}/part`, { body: "", headers: { "x-copy-from": `${c}/src%20obj`, range: "bytes=0-5" } });
    assert.equal(r.status, 201);
    assert.equal((await api.get(`/${c}/part`)).text, "source");
  });
});

describe("counters under concurrency", () => {
  test("50 concurrent PUTs (and overwrites) leave exact container and account counts", async () => {
    const me = await swiftUser(tc);
    const a = me.api;
    await a.put("/busy");
    const puts = Array.from({ length: 50 }, (_, i) => a.put(`/busy/o${i % 40}`, { body: "x".repeat(i % 40 + 1) }));
    const res = await Promise.all(puts);
    assert.deepEqual(
      res.map((r) => r.status),
      res.map(() => 201),
    );
    const expectedBytes = Array.from({ length: 40 }, (_, i) => i + 1).reduce((s, n) => s + n, 0);
    const h = await a.head("/busy");
    assert.equal(h.headers.get("x-container-object-count"), "40");
    assert.equal(h.headers.get("x-container-bytes-used"), String(expectedBytes));
    const acc = await a.head("");
    assert.equal(acc.headers.get("x-account-object-count"), "40");
    assert.equal(acc.headers.get("x-account-bytes-used"), String(expectedBytes));
    await Promise.all(Array.from({ length: 20 }, (_, i) => a.del(`/busy/o${i}`)));
    const h2 = await a.head("/busy");
    assert.equal(h2.headers.get("x-container-object-count"), "20");
    const list = await a.get("/busy", { query: { format: "json" } });
    assert.equal(list.json.length, 20);
  });
});

// ---------------------------------------------------------------- helpers
async function token(): Promise<string> {
  return ownToken;
}

function rawRequest(url: string, method: string, headers: Record<string, string>, chunks?: string[]): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const out: Buffer[] = [];
      res.on("data", (d: Buffer) => out.push(d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(out) }));
    });
    req.on("error", reject);
    for (const c of chunks ?? []) req.write(c);
    req.end();
  });
}

/** A request written by hand (no Content-Length, no chunking: what fetch and node:http never send). */
function rawSocket(url: string, text: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname, () => sock.write(text.replace("{path}", u.pathname)));
    const out: Buffer[] = [];
    sock.on("data", (d: Buffer) => out.push(d));
    sock.on("end", () => resolve(Buffer.concat(out).toString()));
    sock.on("error", reject);
  });
}
