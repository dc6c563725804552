import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { passwordToken, persona, startTestCloud, unique, adminDomainToken, assertIdentityError } from "../support/cloud.js";

let tc: TestCloud;
before(async () => {
  tc = await startTestCloud();
});
after(async () => {
  await tc.close();
});

const AUTH = "/identity/v3/auth/tokens";


test("version discovery: root is 300 with v3, /v3 is 200", async () => {
  const root = await tc.request("GET", "/identity");
  assert.equal(root.status, 300);
  assert.ok(root.body.versions.values.some((v: any) => v.id.startsWith("v3")));
  const v3 = await tc.request("GET", "/identity/v3/");
  assert.equal(v3.status, 200);
  assert.equal(v3.body.version.status, "stable");
  assert.ok(v3.headers.get("x-openstack-request-id")?.startsWith("req-"));
});

test("password auth by name+domain and by id; project scope carries roles and catalog", async () => {
  const t = await tc.request("POST", AUTH, {
    body: {
      auth: {
        identity: { methods: ["password"], password: { user: { name: "admin", domain: { name: "Default" }, password: tc.adminPassword } } },
        scope: { project: { name: "admin", domain: { name: "Default" } } },
      },
    },
  });
  assert.equal(t.status, 201);
  const tok = t.body.token;
  assert.ok(t.headers.get("x-subject-token"));
  assert.deepEqual(tok.methods, ["password"]);
  assert.equal(tok.project.name, "admin");
  assert.deepEqual(tok.roles.map((r: any) => r.name).sort(), ["admin", "member", "reader"]);
  assert.ok(tok.catalog.some((s: any) => s.type === "identity" && s.endpoints.some((e: any) => e.region === "RegionOne")));
  assert.match(tok.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.ok(tok.expires_at > tok.issued_at);

  const byId = await tc.request("POST", `${AUTH}?nocatalog`, {
    body: { auth: { identity: { methods: ["password"], password: { user: { id: tok.user.id, password: tc.adminPassword } } }, scope: { project: { id: tok.project.id } } } },
  });
  assert.equal(byId.status, 201);
  assert.equal(byId.body.token.catalog, undefined);
});

test("unscoped, domain and system scopes", async () => {
  const p = await persona(tc, "member");
  const unscoped = await tc.request("POST", AUTH, {
    body: { auth: { identity: { methods: ["password"], password: { user: { id: p.userId, password: p.password } } } } },
  });
  assert.equal(unscoped.status, 201);
  assert.equal(unscoped.body.token.roles, undefined);
  assert.equal(unscoped.body.token.project, undefined);
  assert.equal(unscoped.body.token.catalog, undefined);

  const sys = await passwordToken(tc, { name: "admin", password: tc.adminPassword, system: true });
  const v = await tc.request("GET", AUTH, { token: sys, headers: { "x-subject-token": sys } });
  assert.equal(v.status, 200);
  assert.deepEqual(v.body.token.system, { all: true });

  const dom = await adminDomainToken(tc);
  const dv = await tc.request("GET", AUTH, { token: dom, headers: { "x-subject-token": dom } });
  assert.equal(dv.body.token.domain.id, "default");

  // No role on the domain: 401.
  const denied = await tc.request("POST", AUTH, {
    body: { auth: { identity: { methods: ["password"], password: { user: { id: p.userId, password: p.password } } }, scope: { domain: { id: "default" } } } },
  });
  assertIdentityError(denied, 401);
});

test("bad credentials are 401 in identity shape and say nothing more", async () => {
  for (const user of [
    { name: "admin", domain: { id: "default" }, password: "wrong" },
    { name: unique("nobody"), domain: { id: "default" }, password: "x" },
    { id: "0".repeat(32), password: "x" },
    { name: "admin", domain: { id: "no-such-domain" }, password: "x" },
  ]) {
    const r = await tc.request("POST", AUTH, { body: { auth: { identity: { methods: ["password"], password: { user } } } } });
    assertIdentityError(r, 401);
  }
  const r = await tc.request("POST", AUTH, { body: { auth: { identity: { methods: ["password"] } } } });
  assertIdentityError(r, 400);
  const broken = await tc.request("POST", AUTH, { raw: "{not json" });
  assertIdentityError(broken, 400);
});

test("rescope keeps expiry and user; revoking the child leaves the parent valid", async () => {
  const p = await persona(tc, "member");
  const t0 = await tc.request("POST", AUTH, {
    body: { auth: { identity: { methods: ["password"], password: { user: { id: p.userId, password: p.password } } } } },
  });
  const id0 = t0.headers.get("x-subject-token")!;
  const t1 = await tc.request("POST", AUTH, {
    body: { auth: { identity: { methods: ["token"], token: { id: id0 } }, scope: { project: { id: p.projectId } } } },
  });
  assert.equal(t1.status, 201);
  assert.equal(t1.body.token.expires_at, t0.body.token.expires_at);
  assert.deepEqual(t1.body.token.user, t0.body.token.user);
  assert.deepEqual(new Set(t1.body.token.methods), new Set(["password", "token"]));
  assert.equal(t1.body.token.audit_ids[1], t0.body.token.audit_ids[0]);
  const id1 = t1.headers.get("x-subject-token")!;
  const admin = await tc.adminToken();
  const del = await tc.request("DELETE", AUTH, { token: admin, headers: { "x-subject-token": id1 } });
  assert.equal(del.status, 204);
  assert.equal((await tc.request("HEAD", AUTH, { token: admin, headers: { "x-subject-token": id1 } })).status, 404);
  assert.equal((await tc.request("HEAD", AUTH, { token: admin, headers: { "x-subject-token": id0 } })).status, 200);
});

test("validate returns the same body as issue; own token may be checked, others' may not", async () => {
  const a = await persona(tc, "member");
  const b = await persona(tc, "member");
  const issued = await tc.request("POST", AUTH, {
    body: { auth: { identity: { methods: ["password"], password: { user: { id: a.userId, password: a.password } } } } },
  });
  const tid = issued.headers.get("x-subject-token")!;
  const v = await tc.request("GET", AUTH, { token: tid, headers: { "x-subject-token": tid } });
  assert.equal(v.status, 200);
  assert.deepEqual(v.body.token, issued.body.token);
  const other = await tc.request("GET", AUTH, { token: b.token, headers: { "x-subject-token": tid } });
  assertIdentityError(other, 403);
  const garbage = await tc.request("GET", AUTH, { token: tid, headers: { "x-subject-token": "x".repeat(60) } });
  assertIdentityError(garbage, 404);
});

test("a missing or bad X-Auth-Token is 401 with WWW-Authenticate", async () => {
  for (const token of [undefined, "garbage"]) {
    const r = await tc.request("GET", "/identity/v3/projects", token ? { token } : {});
    assertIdentityError(r, 401);
    assert.match(r.headers.get("www-authenticate") ?? "", /^Keystone uri="http:\/\/127\.0\.0\.1:\d+\/identity"$/);
  }
});

test("disabling a user, changing a password, removing the role, deleting the project end tokens", async () => {
  const admin = await tc.adminToken();
  const check = async (t: string) => (await tc.request("HEAD", AUTH, { token: admin, headers: { "x-subject-token": t } })).status;

  const u1 = await persona(tc, "member");
  assert.equal(await check(u1.token), 200);
  await tc.request("PATCH", `/identity/v3/users/${u1.userId}`, { token: admin, body: { user: { enabled: false } } });
  assert.equal(await check(u1.token), 404);

  const u2 = await persona(tc, "member");
  const pw = await tc.request("POST", `/identity/v3/users/${u2.userId}/password`, {
    token: u2.token,
    body: { user: { original_password: u2.password, password: "n3w-pass" } },
  });
  assert.equal(pw.status, 204);
  assert.equal(await check(u2.token), 404);
  await passwordToken(tc, { id: u2.userId, password: "n3w-pass" });

  const u3 = await persona(tc, "member");
  const roles = await tc.request("GET", "/identity/v3/roles?name=member", { token: admin });
  const rid = roles.body.roles[0].id;
  const rm = await tc.request("DELETE", `/identity/v3/projects/${u3.projectId}/users/${u3.userId}/roles/${rid}`, { token: admin });
  assert.equal(rm.status, 204);
  assert.equal(await check(u3.token), 404);

  const u4 = await persona(tc, "member");
  assert.equal((await tc.request("DELETE", `/identity/v3/projects/${u4.projectId}`, { token: admin })).status, 204);
  assert.equal(await check(u4.token), 404);
});

test("auth/projects, auth/domains, auth/system, auth/catalog", async () => {
  const p = await persona(tc, "reader");
  const projects = await tc.request("GET", "/identity/v3/auth/projects", { token: p.token });
  assert.equal(projects.status, 200);
  assert.deepEqual(projects.body.projects.map((x: any) => x.id), [p.projectId]);
  const domains = await tc.request("GET", "/identity/v3/auth/domains", { token: p.token });
  assert.deepEqual(domains.body.domains, []);
  const system = await tc.request("GET", "/identity/v3/auth/system", { token: p.token });
  assert.deepEqual(system.body.system, []);
  const cat = await tc.request("GET", "/identity/v3/auth/catalog", { token: p.token });
  assert.equal(cat.status, 200);
  assert.ok(cat.body.catalog.some((s: any) => s.type === "identity"));
});

test("an expired token validates only with allow_expired", async () => {
  const short = await startTestCloud({ identity: { tokenExpiration: 1 } });
  try {
    const admin = await passwordToken(short, { name: "admin", password: short.adminPassword, project: "admin" });
    const sub = await passwordToken(short, { name: "admin", password: short.adminPassword });
    await new Promise((r) => setTimeout(r, 2100));
    const fresh = await passwordToken(short, { name: "admin", password: short.adminPassword, project: "admin" });
    assert.equal((await short.request("GET", AUTH, { token: fresh, headers: { "x-subject-token": sub } })).status, 404);
    const ok = await short.request("GET", `${AUTH}?allow_expired=1`, { token: fresh, headers: { "x-subject-token": sub } });
    assert.equal(ok.status, 200);
    assert.equal((await short.request("GET", "/identity/v3/projects", { token: admin })).status, 401);
  } finally {
    await short.close();
  }
});

test("MFA rules: password alone gets a receipt (401), password + receipt + token gets the token", async () => {
  const admin = await tc.adminToken();
  const p = await persona(tc, "member");
  const set = await tc.request("PATCH", `/identity/v3/users/${p.userId}`, {
    token: admin,
    body: { user: { options: { multi_factor_auth_enabled: true, multi_factor_auth_rules: [["password", "token"]] } } },
  });
  assert.equal(set.status, 200, set.text);
  const pwBody = { auth: { identity: { methods: ["password"], password: { user: { id: p.userId, password: p.password } } } } };
  const first = await tc.request("POST", AUTH, { body: pwBody });
  assert.equal(first.status, 401);
  const receipt = first.headers.get("openstack-auth-receipt");
  assert.ok(receipt);
  assert.deepEqual(first.body.required_auth_methods, [["password", "token"]]);
  assert.deepEqual(first.body.receipt.methods, ["password"]);
  assert.equal(first.body.receipt.user.id, p.userId);
  // A receipt is not a token.
  assert.equal((await tc.request("GET", "/identity/v3/auth/projects", { token: receipt })).status, 401);
  // A garbage receipt is refused.
  const bad = await tc.request("POST", AUTH, { body: pwBody, headers: { "openstack-auth-receipt": "garbage-receipt-value-0123456789abcdef" } });
  assertIdentityError(bad, 401);
  // The second factor: an existing token of the user (issued before the rule), with the receipt.
  const second = await tc.request("POST", AUTH, {
    body: { auth: { identity: { methods: ["token"], token: { id: p.token } } } },
    headers: { "openstack-auth-receipt": receipt },
  });
  assert.equal(second.status, 201, second.text);
  assert.deepEqual(new Set(second.body.token.methods), new Set(["password", "token"]));
  // Turning the rules off lets password alone through again.
  await tc.request("PATCH", `/identity/v3/users/${p.userId}`, { token: admin, body: { user: { options: { multi_factor_auth_enabled: false } } } });
  assert.equal((await tc.request("POST", AUTH, { body: pwBody })).status, 201);
});

test("tokens from an app credential with access rules validate only for validators that enforce them", async () => {
  const p = await persona(tc, "member");
  const ac = await tc.request("POST", `/identity/v3/users/${p.userId}/application_credentials`, {
    token: p.token,
    body: { application_credential: { name: unique("ac"), access_rules: [{ service: "identity", method: "GET", path: "/v3/projects" }] } },
  });
  assert.equal(ac.status, 201, ac.text);
  const t = await tc.request("POST", AUTH, {
    body: { auth: { identity: { methods: ["application_credential"], application_credential: { id: ac.body.application_credential.id, secret: ac.body.application_credential.secret } } } },
  });
  assert.equal(t.status, 201, t.text);
  const sub = t.headers.get("x-subject-token")!;
  const admin = await tc.adminToken();
  assertIdentityError(await tc.request("GET", AUTH, { token: admin, headers: { "x-subject-token": sub } }), 404);
  const ok = await tc.request("GET", AUTH, { token: admin, headers: { "x-subject-token": sub, "openstack-identity-access-rules": "1.0" } });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.token.application_credential.access_rules.length, 1);
});

test("explicit unscoped forms and Vary", async () => {
  const p = await persona(tc, "member");
  const admin = await tc.adminToken();
  await tc.request("PATCH", `/identity/v3/users/${p.userId}`, { token: admin, body: { user: { default_project_id: p.projectId } } });
  const user = { id: p.userId, password: p.password };
  const def = await tc.request("POST", AUTH, { body: { auth: { identity: { methods: ["password"], password: { user } } } } });
  assert.equal(def.body.token.project.id, p.projectId, "no scope → default project");
  for (const scope of ["unscoped", { unscoped: {} }]) {
    const r = await tc.request("POST", AUTH, { body: { auth: { identity: { methods: ["password"], password: { user } }, scope } } });
    assert.equal(r.status, 201);
    assert.equal(r.body.token.project, undefined);
  }
  assert.match(def.headers.get("vary") ?? "", /X-Auth-Token/);
});
