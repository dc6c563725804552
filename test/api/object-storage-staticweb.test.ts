import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud, unique } from "../support/cloud.js";
import { swiftUser } from "../support/swift.js";

let tc: TestCloud;
before(async () => {
  tc = await startTestCloud();
});
after(() => tc.close());

/** An anonymous GET (no token), redirects not followed. */
async function anon(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { redirect: "manual", headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function site(meta: Record<string, string>, read = ".r:*,.rlistings") {
  const u = await swiftUser(tc);
  const c = unique("site");
  assert.equal((await u.api.put(`/${c}`, { headers: { "x-container-read": read, ...meta } })).status, 201);
  await u.api.put(`/${c}/index.html`, { body: "<h1>home</h1>", headers: { "content-type": "text/html" } });
  await u.api.put(`/${c}/docs/index.html`, { body: "<h1>docs</h1>", headers: { "content-type": "text/html" } });
  await u.api.put(`/${c}/docs/a b.txt`, { body: "x".repeat(2048), headers: { "content-type": "text/plain" } });
  await u.api.put(`/${c}/files/one.txt`, { body: "1", headers: { "content-type": "text/plain" } });
  await u.api.put(`/${c}/404error.html`, { body: "<p>not here</p>", headers: { "content-type": "text/html" } });
  return { ...u, c, url: `${u.api.storageUrl}/${c}` };
}

test("Web-Index: the container redirects to add the slash, then serves its index", async () => {
  const s = await site({ "x-container-meta-web-index": "index.html" });
  const r = await anon(s.url);
  assert.equal(r.status, 301);
  assert.equal(r.headers.get("location"), `${s.url}/`);
  const home = await anon(`${s.url}/`);
  assert.equal(home.status, 200);
  assert.equal(home.text, "<h1>home</h1>");
  // A pseudo-directory with its own index: redirect, then the index.
  const d = await anon(`${s.url}/docs`);
  assert.equal(d.status, 301);
  assert.equal(d.headers.get("location"), `${s.url}/docs/`);
  assert.equal((await anon(`${s.url}/docs/`)).text, "<h1>docs</h1>");
  // Objects are served as they are.
  assert.equal((await anon(`${s.url}/files/one.txt`)).text, "1");
});

test("Web-Listings: HTML listings of the container and its pseudo-directories, with CSS", async () => {
  const s = await site({ "x-container-meta-web-listings": "true", "x-container-meta-web-listings-css": "style.css" });
  const r = await anon(`${s.url}/`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "text/html; charset=UTF-8");
  assert.match(r.text, /<title>Listing of \/v1\/AUTH_[0-9a-f]+\/site-[0-9a-f]+\/<\/title>/);
  assert.ok(r.text.includes('<link rel="stylesheet" type="text/css" href="style.css" />'));
  assert.ok(r.text.includes('<td class="colname"><a href="docs/">docs/</a></td>'));
  assert.ok(r.text.includes('<tr class="item type-text type-html">\n    <td class="colname"><a href="index.html">index.html</a></td>'));
  const sub = await anon(`${s.url}/docs/`);
  assert.equal(sub.status, 200);
  assert.ok(sub.text.includes('<a href="../">../</a>'));
  assert.ok(sub.text.includes('<td class="colname"><a href="a%20b.txt">a b.txt</a></td>\n    <td class="colsize">2Ki</td>'));
  assert.ok(sub.text.includes('href="../style.css"'));
  // Without the slash: a redirect; a prefix with nothing under it: 404.
  assert.equal((await anon(`${s.url}/files`)).status, 301);
  assert.equal((await anon(`${s.url}/nothing/`)).status, 404);
});

test("Web-Error: a missing object answers 404 with the <status><error> page", async () => {
  const s = await site({ "x-container-meta-web-listings": "true", "x-container-meta-web-error": "error.html" });
  const r = await anon(`${s.url}/missing.html`);
  assert.equal(r.status, 404);
  assert.equal(r.text, "<p>not here</p>");
});

test("listings disabled: the index is missing and the 404 says so", async () => {
  const s = await site({ "x-container-meta-web-index": "nope.html" });
  const r = await anon(`${s.url}/`);
  assert.equal(r.status, 404);
  assert.ok(r.text.includes("<h1>Web Listing Disabled</h1>"));
  assert.ok(r.text.includes("<b>X-Container-Meta-Web-Index: nope.html</b>"));
});

test("token holders get the API unless X-Web-Mode: true; private containers stay private", async () => {
  const s = await site({ "x-container-meta-web-listings": "true" });
  const api = await s.api.get(`/${s.c}`);
  assert.equal(api.status, 200);
  assert.equal(api.headers.get("content-type"), "text/plain; charset=utf-8");
  const web = await s.api.get(`/${s.c}/`, { headers: { "x-web-mode": "true" } });
  assert.equal(web.status, 200);
  assert.ok(web.text.startsWith("<!DOCTYPE HTML"));
  const priv = await site({ "x-container-meta-web-listings": "true" }, "");
  assert.equal((await anon(`${priv.url}/`)).status, 401);
  // Objects only (no .rlistings): the listing is refused, objects are served.
  const objs = await site({ "x-container-meta-web-listings": "true" }, ".r:*");
  assert.equal((await anon(`${objs.url}/`)).status, 401);
  assert.equal((await anon(`${objs.url}/files/one.txt`)).text, "1");
});

test("directory markers are treated as directories; no web metadata leaves the request alone", async () => {
  const s = await site({ "x-container-meta-web-listings": "true" });
  await s.api.put(`/${s.c}/marker`, { body: "", headers: { "content-type": "application/directory" } });
  await s.api.put(`/${s.c}/marker/inside.txt`, { body: "in", headers: { "content-type": "text/plain" } });
  assert.equal((await anon(`${s.url}/marker`)).status, 301);
  const l = await anon(`${s.url}/marker/`);
  assert.equal(l.status, 200);
  assert.ok(l.text.includes("inside.txt"));
  const plain = await site({});
  const r = await anon(plain.url);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "text/plain; charset=utf-8");
  const info = (await (await fetch(`${tc.url}/info`)).json()) as Record<string, unknown>;
  assert.deepEqual(info["staticweb"], {});
});
