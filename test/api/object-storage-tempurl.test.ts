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

function sign(key: string, method: string, expires: number | string, path: string, o: { algo?: string; ip?: string; prefix?: boolean } = {}): string {
  const parts = [method, String(expires), `${o.prefix ? "prefix:" : ""}${path}`];
  if (o.ip) parts.unshift(`ip=${o.ip}`);
  return createHmac(o.algo ?? "sha256", key).update(parts.join("\n")).digest("hex");
}

/** A raw call (no token) to a storage path with a query string as given. */
async function raw(method: string, url: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const res = await fetch(url, { method, redirect: "manual", ...(init.headers ? { headers: init.headers } : {}), ...(init.body !== undefined ? { body: init.body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

async function setup() {
  const u = await swiftUser(tc);
  const key = unique("key");
  const c = unique("c");
  assert.equal((await u.api.post("", { headers: { "x-account-meta-temp-url-key": key } })).status, 204);
  assert.equal((await u.api.put(`/${c}`)).status, 201);
  assert.equal((await u.api.put(`/${c}/dir/obj.txt`, { body: "secret data", headers: { "x-object-meta-color": "red", "x-object-meta-public-shade": "dark" } })).status, 201);
  const account = `AUTH_${u.projectId}`;
  const path = `/v1/${account}/${c}/dir/obj.txt`;
  const url = (q: string): string => `${tc.url}/object-storage${path}?${q}`;
  return { ...u, key, c, account, path, url };
}

test("a signed GET URL downloads the object without a token, as an attachment with Expires", async () => {
  const s = await setup();
  const exp = now() + 600;
  const r = await raw("GET", s.url(`temp_url_sig=${sign(s.key, "GET", exp, s.path)}&temp_url_expires=${exp}`));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, "secret data");
  assert.equal(r.headers.get("content-disposition"), `attachment; filename="obj.txt"; filename*=UTF-8''obj.txt`);
  assert.equal(r.headers.get("expires"), new Date(exp * 1000).toUTCString());
  // Private metadata stays private; X-Object-Meta-Public-* goes out.
  assert.equal(r.headers.get("x-object-meta-color"), null);
  assert.equal(r.headers.get("x-object-meta-public-shade"), "dark");
});

test("SHA1, SHA512 and <algo>:<base64> signatures; the path may carry the service prefix", async () => {
  const s = await setup();
  const exp = now() + 600;
  for (const algo of ["sha1", "sha512"]) {
    const r = await raw("GET", s.url(`temp_url_sig=${sign(s.key, "GET", exp, s.path, { algo })}&temp_url_expires=${exp}`));
    assert.equal(r.status, 200, algo);
  }
  const b64 = createHmac("sha512", s.key).update(`GET\n${exp}\n${s.path}`).digest("base64url");
  assert.equal((await raw("GET", s.url(`temp_url_sig=sha512:${b64}&temp_url_expires=${exp}`))).status, 200);
  const prefixed = sign(s.key, "GET", exp, `/object-storage${s.path}`);
  assert.equal((await raw("GET", s.url(`temp_url_sig=${prefixed}&temp_url_expires=${exp}`))).status, 200);
});

test("bad, foreign-method and expired signatures are 401 'Temp URL invalid'", async () => {
  const s = await setup();
  const exp = now() + 100;
  const good = sign(s.key, "GET", exp, s.path);
  const cases = [
    `temp_url_sig=${"0".repeat(64)}&temp_url_expires=${exp}`,
    `temp_url_sig=${sign(s.key, "PUT", exp, s.path)}&temp_url_expires=${exp}`,
    `temp_url_sig=${sign("other", "GET", exp, s.path)}&temp_url_expires=${exp}`,
    `temp_url_sig=${good}`,
    `temp_url_expires=${exp}`,
    `temp_url_sig=${good}&temp_url_expires=soon`,
    `temp_url_sig=md5:${Buffer.from(good, "hex").toString("base64")}&temp_url_expires=${exp}`,
    `temp_url_sig=${good.slice(0, 20)}&temp_url_expires=${exp}`,
  ];
  for (const q of cases) {
    const r = await raw("GET", s.url(q));
    assert.equal(r.status, 401, q);
    assert.equal(r.text, "401 Unauthorized: Temp URL invalid\n", q);
    assert.equal(r.headers.get("www-authenticate"), `Swift realm="${s.account}"`);
  }
  assert.equal((await raw("GET", s.url(`temp_url_sig=${good}&temp_url_expires=${exp}`))).status, 200);
  clock.advance(101_000);
  const r = await raw("GET", s.url(`temp_url_sig=${good}&temp_url_expires=${exp}`));
  assert.equal(r.status, 401);
  assert.equal(r.text, "401 Unauthorized: Temp URL invalid\n");
  const h = await raw("HEAD", s.url(`temp_url_sig=${good}&temp_url_expires=${exp}`));
  assert.equal(h.status, 401);
  assert.equal(h.text, "");
});

test("ISO 8601 expiry works (the signature covers the unix time); a URL without a signature is an ordinary (anonymous) request", async () => {
  const s = await setup();
  const exp = now() + 600;
  const iso = new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const r = await raw("GET", s.url(`temp_url_sig=${sign(s.key, "GET", exp, s.path)}&temp_url_expires=${iso}`));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get("expires"), new Date(exp * 1000).toUTCString());
  assert.equal((await raw("GET", s.url("a=b"))).status, 401);
});

test("HEAD is allowed by a GET or PUT signature; PUT uploads and DELETE removes", async () => {
  const s = await setup();
  const exp = now() + 600;
  for (const m of ["GET", "PUT", "HEAD"]) {
    const r = await raw("HEAD", s.url(`temp_url_sig=${sign(s.key, m, exp, s.path)}&temp_url_expires=${exp}`));
    assert.equal(r.status, 200, m);
  }
  const put = await raw("PUT", s.url(`temp_url_sig=${sign(s.key, "PUT", exp, s.path)}&temp_url_expires=${exp}`), { body: "new", headers: { "x-object-meta-a": "1", "x-timestamp": "1" } });
  assert.equal(put.status, 201, put.text);
  const got = await s.api.get(`/${s.c}/dir/obj.txt`);
  assert.equal(got.text, "new");
  assert.equal(got.headers.get("x-object-meta-a"), "1");
  // A GET signature does not allow a PUT.
  const no = await raw("PUT", s.url(`temp_url_sig=${sign(s.key, "GET", exp, s.path)}&temp_url_expires=${exp}`), { body: "x" });
  assert.equal(no.status, 401);
  const del = await raw("DELETE", s.url(`temp_url_sig=${sign(s.key, "DELETE", exp, s.path)}&temp_url_expires=${exp}`));
  assert.equal(del.status, 204);
  assert.equal((await s.api.head(`/${s.c}/dir/obj.txt`)).status, 404);
});

test("a temp URL PUT may not carry X-Object-Manifest or X-Copy-From (400)", async () => {
  const s = await setup();
  const exp = now() + 600;
  const q = `temp_url_sig=${sign(s.key, "PUT", exp, s.path)}&temp_url_expires=${exp}`;
  const r = await raw("PUT", s.url(q), { body: "", headers: { "x-object-manifest": "c/p" } });
  assert.equal(r.status, 400);
  assert.equal(r.text, "The header 'X-Object-Manifest' is not allowed in this tempurl");
  const r2 = await raw("PUT", s.url(q), { body: "", headers: { "x-copy-from": "c/o" } });
  assert.equal(r2.status, 400);
  assert.equal(r2.text, "The header 'X-Copy-From' is not allowed in this tempurl");
  assert.equal((await s.api.get(`/${s.c}/dir/obj.txt`)).text, "secret data");
});

test("filename and inline set the Content-Disposition", async () => {
  const s = await setup();
  const exp = now() + 600;
  const q = `temp_url_sig=${sign(s.key, "GET", exp, s.path)}&temp_url_expires=${exp}`;
  assert.equal((await raw("GET", s.url(`${q}&inline`))).headers.get("content-disposition"), "inline");
  assert.equal((await raw("GET", s.url(`${q}&filename=my%20file.txt`))).headers.get("content-disposition"), `attachment; filename="my file.txt"; filename*=UTF-8''my%20file.txt`);
  assert.equal((await raw("GET", s.url(`${q}&inline&filename=a.txt`))).headers.get("content-disposition"), `inline; filename="a.txt"; filename*=UTF-8''a.txt`);
  // A stored Content-Disposition wins over the default.
  await s.api.post(`/${s.c}/dir/obj.txt`, { headers: { "content-disposition": "attachment; filename=x.bin" } });
  assert.equal((await raw("GET", s.url(q))).headers.get("content-disposition"), "attachment; filename=x.bin");
});

test("prefix URLs sign every object under a prefix", async () => {
  const s = await setup();
  const exp = now() + 600;
  const sig = sign(s.key, "GET", exp, `/v1/${s.account}/${s.c}/dir/`, { prefix: true });
  const q = `temp_url_sig=${sig}&temp_url_expires=${exp}&temp_url_prefix=dir/`;
  assert.equal((await raw("GET", s.url(q))).status, 200);
  await s.api.put(`/${s.c}/other.txt`, { body: "o" });
  const out = await raw("GET", `${tc.url}/object-storage/v1/${s.account}/${s.c}/other.txt?${q}`);
  assert.equal(out.status, 401);
});

test("an IP range limits who may use the URL", async () => {
  const s = await setup();
  const exp = now() + 600;
  for (const [ip, status] of [["127.0.0.0/8", 200], ["127.0.0.1", 200], ["10.0.0.0/8", 401], ["127.0.0.1/8", 401], ["bogus", 401]] as const) {
    const q = `temp_url_sig=${sign(s.key, "GET", exp, s.path, { ip })}&temp_url_expires=${exp}&temp_url_ip_range=${encodeURIComponent(ip)}`;
    assert.equal((await raw("GET", s.url(q))).status, status, ip);
  }
});

test("container keys sign for their container only; no key at all is 401", async () => {
  const u = await swiftUser(tc);
  const c1 = unique("c");
  const c2 = unique("c");
  await u.api.put(`/${c1}`, { headers: { "x-container-meta-temp-url-key": "ckey" } });
  await u.api.put(`/${c2}`);
  await u.api.put(`/${c1}/o`, { body: "one" });
  await u.api.put(`/${c2}/o`, { body: "two" });
  const exp = now() + 600;
  const p1 = `/v1/AUTH_${u.projectId}/${c1}/o`;
  const p2 = `/v1/AUTH_${u.projectId}/${c2}/o`;
  const r1 = await raw("GET", `${tc.url}/object-storage${p1}?temp_url_sig=${sign("ckey", "GET", exp, p1)}&temp_url_expires=${exp}`);
  assert.equal(r1.status, 200);
  assert.equal(r1.text, "one");
  const r2 = await raw("GET", `${tc.url}/object-storage${p2}?temp_url_sig=${sign("ckey", "GET", exp, p2)}&temp_url_expires=${exp}`);
  assert.equal(r2.status, 401);
  // The key is owner-only metadata: the owner sees it.
  assert.equal((await u.api.head(`/${c1}`)).headers.get("x-container-meta-temp-url-key"), "ckey");
});

test("/info advertises tempurl as Swift 2.30 does", async () => {
  const r = await fetch(`${tc.url}/info`);
  const info = (await r.json()) as Record<string, unknown>;
  assert.deepEqual(info["tempurl"], {
    methods: ["GET", "HEAD", "PUT", "POST", "DELETE"],
    incoming_remove_headers: ["x-timestamp"],
    incoming_allow_headers: [],
    outgoing_remove_headers: ["x-object-meta-*"],
    outgoing_allow_headers: ["x-object-meta-public-*"],
    allowed_digests: ["sha1", "sha256", "sha512"],
    deprecated_digests: ["sha1"],
  });
});
