import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud } from "../support/cloud.js";
import type { SwiftApi } from "../support/swift.js";
import { swiftApi, swiftUser } from "../support/swift.js";

let tc: TestCloud;
let api: SwiftApi;
let anon: SwiftApi;
before(async () => {
  tc = await startTestCloud();
  const u = await swiftUser(tc);
  api = u.api;
  anon = swiftApi(tc, u.projectId);
  await api.put("/web", {
    headers: {
      "x-container-meta-access-control-allow-origin": "http://a.example https://b.example",
      "x-container-meta-access-control-max-age": "600",
      "x-container-meta-access-control-expose-headers": "X-Foo x-bar",
    },
  });
  await api.put("/web/page", { body: "hi", headers: { "x-object-meta-color": "red" } });
  await api.put("/open", { headers: { "x-container-meta-access-control-allow-origin": "*" } });
  await api.put("/open/o", { body: "x" });
  await api.put("/closed");
  await api.put("/closed/o", { body: "x" });
});
after(() => tc.close());

const OBJECT_METHODS = "GET, HEAD, PUT, POST, DELETE, OPTIONS";

test("OPTIONS without Origin: 200 with Allow, no auth needed", async () => {
  const obj = await anon.call("OPTIONS", "/closed/o");
  assert.equal(obj.status, 200);
  assert.equal(obj.headers.get("allow"), `${OBJECT_METHODS}, COPY`);
  assert.equal(obj.headers.get("content-length"), "0");
  assert.equal((await anon.call("OPTIONS", "/closed")).headers.get("allow"), OBJECT_METHODS);
  assert.equal((await anon.call("OPTIONS", "")).headers.get("allow"), "GET, HEAD, POST, OPTIONS");
  // The account has no CORS settings: a preflight there just gets Allow.
  const account = await anon.call("OPTIONS", "", { headers: { origin: "http://a.example", "access-control-request-method": "GET" } });
  assert.equal(account.status, 200);
  assert.equal(account.headers.get("access-control-allow-origin"), null);
});

test("a preflight from an allowed origin gets the Access-Control-Allow-* answer", async () => {
  const res = await anon.call("OPTIONS", "/web/page", {
    headers: { origin: "https://b.example", "access-control-request-method": "PUT", "access-control-request-headers": "x-auth-token, content-type, x-auth-token" },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), "https://b.example");
  assert.equal(res.headers.get("access-control-allow-methods"), `${OBJECT_METHODS}, COPY`);
  assert.equal(res.headers.get("access-control-allow-headers"), "x-auth-token, content-type");
  assert.equal(res.headers.get("access-control-max-age"), "600");
  assert.equal(res.headers.get("vary"), "Origin, Access-Control-Request-Headers");
  assert.equal(res.headers.get("allow"), `${OBJECT_METHODS}, COPY`);

  const star = await anon.call("OPTIONS", "/open", { headers: { origin: "http://anywhere.example", "access-control-request-method": "GET" } });
  assert.equal(star.status, 200);
  assert.equal(star.headers.get("access-control-allow-origin"), "*");
  assert.equal(star.headers.get("vary"), null);
  assert.equal(star.headers.get("access-control-max-age"), null);
});

test("a preflight is 401 for an origin, a method or a container that is not allowed", async () => {
  const cases: Array<[string, Record<string, string>]> = [
    ["/web/page", { origin: "http://evil.example", "access-control-request-method": "GET" }],
    ["/web/page", { origin: "http://a.example", "access-control-request-method": "COPY" }],
    ["/web/page", { origin: "http://a.example" }],
    ["/closed/o", { origin: "http://a.example", "access-control-request-method": "GET" }],
    ["/missing/o", { origin: "http://a.example", "access-control-request-method": "GET" }],
  ];
  for (const [path, headers] of cases) {
    const res = await anon.call("OPTIONS", path, { headers });
    assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    assert.equal(res.headers.get("allow"), OBJECT_METHODS);
    assert.match(res.text, /<h1>Unauthorized<\/h1>/);
  }
});

test("actual requests from an allowed origin expose headers; others get nothing (strict CORS)", async () => {
  const res = await api.get("/web/page", { headers: { origin: "http://a.example" } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), "http://a.example");
  assert.equal(res.headers.get("vary"), "Origin");
  const exposed = (res.headers.get("access-control-expose-headers") ?? "").split(", ");
  for (const h of ["cache-control", "content-language", "content-type", "expires", "last-modified", "pragma", "etag", "x-timestamp", "x-trans-id", "x-openstack-request-id", "x-object-meta-color", "x-foo", "x-bar"]) {
    assert.ok(exposed.includes(h), h);
  }
  const listing = await api.get("/open", { headers: { origin: "http://z.example" } });
  assert.equal(listing.headers.get("access-control-allow-origin"), "*");
  // Errors from the proxy are decorated too (a browser can read the 404).
  const missing = await api.get("/web/nothing", { headers: { origin: "http://a.example" } });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("access-control-allow-origin"), "http://a.example");

  for (const [path, origin] of [["/web/page", "http://evil.example"], ["/closed/o", "http://a.example"], ["", "http://a.example"]] as const) {
    const r = await api.get(path, { headers: { origin } });
    assert.equal(r.headers.get("access-control-allow-origin"), null, path);
    assert.equal(r.headers.get("access-control-expose-headers"), null, path);
  }
});

test("GET /object-storage/crossdomain.xml serves crossdomain.py's default policy", async () => {
  const res = await fetch(`${tc.url}/object-storage/crossdomain.xml`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/xml");
  assert.match(res.headers.get("x-trans-id") ?? "", /^tx[0-9a-f]{21}-[0-9a-f]{10}$/);
  assert.equal(
    await res.text(),
    '<?xml version="1.0"?>\n<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n<cross-domain-policy>\n<allow-access-from domain="*" secure="false" />\n</cross-domain-policy>',
  );
  const info = (await (await fetch(`${tc.url}/object-storage/info`)).json()) as Record<string, unknown>;
  assert.deepEqual(info["crossdomain"], {});
});
