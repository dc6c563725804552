import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { FastifyInstance } from "fastify";
import pino from "pino";
import { PolicyEngine } from "../../src/auth/policy.js";
import { Unauthorized } from "../../src/common/errors.js";
import type { AuthContext, Route } from "../../src/http/context.js";
import { buildKernel } from "../../src/http/kernel.js";
import type { ServiceDefinition } from "../../src/http/service.js";

/**
 * The kernel with a made-up microversioned service of its own error shape (as compute will
 * be): negotiation, per-route version ranges, 406, echoed headers and Vary, the auth hook,
 * per-service faults, request ids, 405 and schema validation.
 */
const caller: AuthContext = {
  tokenId: "t",
  userId: "u1",
  userName: "u",
  userDomainId: "default",
  userDomainName: "Default",
  projectId: "p1",
  system: false,
  scope: "project",
  roles: [{ id: "r", name: "member" }],
  methods: ["password"],
  auditIds: ["a"],
  issuedAt: new Date(),
  expiresAt: new Date(Date.now() + 3600_000),
  isAdminProject: true,
  creds: { roles: ["member"], project_id: "p1", user_id: "u1" },
};

const routes: Route[] = [
  { method: "GET", path: "/", operation: "versions", auth: "none", handler: async () => ({ body: { versions: [] } }) },
  {
    method: "GET",
    path: "/v2.1/things",
    operation: "listThings",
    policy: "fake:list",
    handler: async (ctx) => {
      ctx.enforce("fake:list", { target: { project_id: ctx.caller.projectId } });
      return { body: { things: [], version: ctx.version?.toString() } };
    },
  },
  {
    method: "GET",
    path: "/v2.1/things/new",
    operation: "listNewThings",
    minVersion: "2.3",
    handler: async (ctx) => ({ body: { new: true, atLeast25: ctx.version?.atLeast("2.5") ?? false } }),
  },
  {
    method: "POST",
    path: "/v2.1/things",
    operation: "createThing",
    body: { type: "object", required: ["thing"], properties: { thing: { type: "object", required: ["name"], properties: { name: { type: "string" } } } } } as never,
    handler: async () => ({ status: 202, body: { ok: true } }),
  },
  { method: "GET", path: "/v2.1/admin", operation: "adminOnly", handler: async (ctx) => (ctx.enforce("fake:admin"), { body: {} }) },
];

const fake: ServiceDefinition = {
  name: "fake",
  type: "compute",
  prefix: "/fake",
  routes,
  faults: (err) => ({ body: { [err.status === 404 ? "itemNotFound" : "computeFault"]: { code: err.status, message: err.message } } }),
  policies: [
    { name: "fake:list", check: "project_id:%(target.project_id)s", scopes: ["project"] },
    { name: "fake:admin", check: "role:admin", scopes: ["project"] },
  ],
  migrations: {},
  microversions: { serviceType: "compute", versions: ["2.1", "2.2", "2.3", "2.4", "2.5"], legacyHeaders: ["x-openstack-nova-api-version"] },
  requestIdHeaders: ["x-compute-request-id"],
};

let app: FastifyInstance;
before(async () => {
  const policy = new PolicyEngine(fake.policies, { enforceScope: false, enforceNewDefaults: false });
  app = await buildKernel({
    services: [fake],
    authenticator: {
      authenticate: async (t) => {
        if (t !== "good") throw new Unauthorized();
        return caller;
      },
    },
    policyFor: () => policy,
    logger: pino({ level: "silent" }),
    baseUrl: () => "http://127.0.0.1:1",
    bodyLimit: 1024,
  });
});
after(async () => {
  await app.close();
});

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: "GET", url, headers: { "x-auth-token": "good", ...headers } });

test("negotiates the version, echoes it and varies on it; request ids on every response", async () => {
  const r = await get("/fake/v2.1/things", { "openstack-api-version": "compute 2.4" });
  assert.equal(r.statusCode, 200);
  assert.equal(r.json().version, "2.4");
  assert.equal(r.headers["openstack-api-version"], "compute 2.4");
  assert.match(String(r.headers["vary"]), /OpenStack-API-Version/);
  assert.ok(String(r.headers["x-openstack-request-id"]).startsWith("req-"));
  assert.equal(r.headers["x-compute-request-id"], r.headers["x-openstack-request-id"]);
  assert.equal((await get("/fake/v2.1/things")).json().version, "2.1", "no header means the minimum");
  assert.equal((await get("/fake/v2.1/things", { "x-openstack-nova-api-version": "2.2" })).json().version, "2.2");
});

test("per-route version ranges: below the route's minimum the URL does not exist", async () => {
  const low = await get("/fake/v2.1/things/new", { "openstack-api-version": "compute 2.2" });
  assert.equal(low.statusCode, 404);
  assert.equal(low.json().itemNotFound.code, 404, "in the service's own fault shape");
  const ok = await get("/fake/v2.1/things/new", { "openstack-api-version": "compute latest" });
  assert.deepEqual(ok.json(), { new: true, atLeast25: true });
});

test("an unsupported version is 406 in the service's shape", async () => {
  const r = await get("/fake/v2.1/things", { "openstack-api-version": "compute 2.99" });
  assert.equal(r.statusCode, 406);
  assert.equal(r.json().computeFault.code, 406);
});

test("the auth hook: no token or a bad one is 401 with WWW-Authenticate; policy 403", async () => {
  const none = await app.inject({ method: "GET", url: "/fake/v2.1/things" });
  assert.equal(none.statusCode, 401);
  assert.equal(none.headers["www-authenticate"], 'Keystone uri="http://127.0.0.1:1/identity"');
  assert.equal((await get("/fake/v2.1/things", { "x-auth-token": "bad" })).statusCode, 401);
  const denied = await get("/fake/v2.1/admin");
  assert.equal(denied.statusCode, 403);
  assert.equal(denied.json().computeFault.code, 403);
  assert.equal((await app.inject({ method: "GET", url: "/fake/" })).statusCode, 200, "anonymous route");
});

test("validation, body limit, 405 and unknown URLs", async () => {
  const post = (payload: string) =>
    app.inject({ method: "POST", url: "/fake/v2.1/things", headers: { "x-auth-token": "good", "content-type": "application/json" }, payload });
  assert.equal((await post('{"thing":{"name":"a"}}')).statusCode, 202);
  const bad = await post('{"thing":{}}');
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().computeFault.message, /'name' is a required property/);
  assert.equal((await post("{nope")).statusCode, 400);
  assert.equal((await post(JSON.stringify({ thing: { name: "x".repeat(2000) } }))).statusCode, 413);
  const wrongMethod = await app.inject({ method: "DELETE", url: "/fake/v2.1/things", headers: { "x-auth-token": "good" } });
  assert.equal(wrongMethod.statusCode, 405);
  const unknown = await get("/fake/v2.1/nothing");
  assert.equal(unknown.statusCode, 404);
  assert.ok(unknown.json().itemNotFound);
  assert.equal((await get("/elsewhere")).statusCode, 404);
});
