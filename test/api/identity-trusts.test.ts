/**
 * OS-TRUST: the trust CRUD that tempest's test_trusts.py drives, Keystone's create rules
 * (keystone/api/trusts.py, trust/core.py), trust-scoped tokens (scope "OS-TRUST:trust"),
 * remaining uses, redelegation and the ways a trust or its tokens stop working.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { passwordToken, startTestCloud, unique, assertIdentityError } from "../support/cloud.js";

let tc: TestCloud;
let admin: string;
before(async () => {
  tc = await startTestCloud();
  admin = await tc.adminToken();
});
after(async () => {
  await tc.close();
});

const V3 = "/identity/v3";
const TRUSTS = `${V3}/OS-TRUST/trusts`;
const AUTH = `${V3}/auth/tokens`;

/** Keystone hides the reason of a plain Forbidden/Unauthorized (SecurityError) outside insecure_debug. */
const GENERIC_403 = /^You are not authorized to perform the requested action\.$/;
const GENERIC_401 = /^The request you have made requires authentication\.$/;


async function ok<T = any>(method: string, path: string, opts: { token?: string; body?: unknown }, status: number): Promise<T> {
  const r = await tc.request(method, path, opts);
  assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
  return r.body as T;
}

async function createUser(opts: { projectId?: string } = {}): Promise<{ id: string; name: string; password: string }> {
  const password = unique("pw");
  const name = unique("u");
  const body: Record<string, unknown> = { name, domain_id: "default", password };
  if (opts.projectId) body["project_id"] = opts.projectId;
  const u = await ok("POST", `${V3}/users`, { token: admin, body: { user: body } }, 201);
  return { id: u.user.id, name, password };
}

async function createRole(): Promise<{ id: string; name: string }> {
  const name = unique("role");
  const r = await ok("POST", `${V3}/roles`, { token: admin, body: { role: { name } } }, 201);
  return { id: r.role.id, name };
}

async function grant(projectId: string, userId: string, roleId: string): Promise<void> {
  await ok("PUT", `${V3}/projects/${projectId}/users/${userId}/roles/${roleId}`, { token: admin }, 204);
}

/** tempest's setUp: a project, a trustor holding a delegated and a not-delegated role, a trustee. */
interface World {
  projectId: string;
  projectName: string;
  trustor: { id: string; name: string; password: string };
  trustee: { id: string; name: string; password: string };
  dr: { id: string; name: string };
  nr: { id: string; name: string };
  trustorToken: string;
  trusteeToken: string;
}

async function world(): Promise<World> {
  const projectName = unique("p");
  const p = await ok("POST", `${V3}/projects`, { token: admin, body: { project: { name: projectName, domain_id: "default" } } }, 201);
  const projectId = p.project.id as string;
  const trustor = await createUser({ projectId });
  const trustee = await createUser();
  const dr = await createRole();
  const nr = await createRole();
  await grant(projectId, trustor.id, dr.id);
  await grant(projectId, trustor.id, nr.id);
  // The trustor logs in by names, exactly as tempest does; it holds neither member nor reader.
  const trustorToken = await passwordToken(tc, { name: trustor.name, password: trustor.password, project: projectName });
  const trusteeToken = await passwordToken(tc, { id: trustee.id, password: trustee.password });
  return { projectId, projectName, trustor, trustee, dr, nr, trustorToken, trusteeToken };
}

function trustBody(w: World, over: Record<string, unknown> = {}): { trust: Record<string, unknown> } {
  return {
    trust: {
      trustor_user_id: w.trustor.id,
      trustee_user_id: w.trustee.id,
      project_id: w.projectId,
      roles: [{ name: w.dr.name }],
      impersonation: true,
      expires_at: null,
      ...over,
    },
  };
}

async function createTrust(w: World, over: Record<string, unknown> = {}, token = w.trustorToken): Promise<any> {
  return (await ok("POST", TRUSTS, { token, body: trustBody(w, over) }, 201)).trust;
}

function trustAuth(user: { id: string; password: string }, trustId: string): unknown {
  return {
    auth: {
      identity: { methods: ["password"], password: { user: { id: user.id, password: user.password } } },
      scope: { "OS-TRUST:trust": { id: trustId } },
    },
  };
}

async function trustToken(user: { id: string; password: string }, trustId: string): Promise<{ id: string; token: any }> {
  const r = await tc.request("POST", AUTH, { body: trustAuth(user, trustId) });
  assert.equal(r.status, 201, r.text);
  return { id: r.headers.get("x-subject-token")!, token: r.body.token };
}

// ---------------------------------------------------------------------------------- CRUD

test("create (roles by name, expires_at null) answers Keystone's trust body; show, roles, delete", async () => {
  const w = await world();
  const t = await createTrust(w);
  assert.match(t.id, /^[0-9a-f]{32}$/);
  assert.equal(t.trustor_user_id, w.trustor.id);
  assert.equal(t.trustee_user_id, w.trustee.id);
  assert.equal(t.project_id, w.projectId);
  assert.equal(t.impersonation, true);
  assert.equal(t.expires_at, null);
  assert.equal(t.remaining_uses, null);
  assert.equal(t.deleted_at, null);
  assert.equal(t.redelegated_trust_id, null);
  assert.equal(t.redelegation_count, 0);
  assert.equal("allow_redelegation" in t, false);
  assert.equal(t.roles.length, 1);
  assert.equal(t.roles[0].id, w.dr.id);
  assert.equal(t.roles[0].name, w.dr.name);
  assert.ok(t.roles[0].links.self.endsWith(`/v3/roles/${w.dr.id}`));
  assert.deepEqual(t.roles_links, { self: `${tc.url}/identity/v3/${t.id}/roles`, next: null, previous: null });
  assert.equal(t.links.self, `${tc.url}/identity/v3/OS-TRUST/trusts/${t.id}`);

  // The trustor and the trustee may read it; HEAD works too.
  const shown = (await ok("GET", `${TRUSTS}/${t.id}`, { token: w.trustorToken }, 200)).trust;
  assert.deepEqual(shown, t);
  assert.equal((await ok("GET", `${TRUSTS}/${t.id}`, { token: w.trusteeToken }, 200)).trust.id, t.id);
  const head = await tc.request("HEAD", `${TRUSTS}/${t.id}`, { token: w.trustorToken });
  assert.equal(head.status, 200);
  assert.equal(head.text, "");

  const roles = await ok("GET", `${TRUSTS}/${t.id}/roles`, { token: w.trustorToken }, 200);
  assert.deepEqual(roles.roles.map((r: any) => r.id), [w.dr.id]);
  assert.deepEqual(roles.links, t.roles_links);
  const role = await ok("GET", `${TRUSTS}/${t.id}/roles/${w.dr.id}`, { token: w.trustorToken }, 200);
  assert.equal(role.role.name, w.dr.name);
  assert.ok(role.role.links.self.endsWith(`/v3/roles/${w.dr.id}`));
  const h = await tc.request("HEAD", `${TRUSTS}/${t.id}/roles/${w.dr.id}`, { token: w.trustorToken });
  assert.equal(h.status, 200);
  assertIdentityError(await tc.request("GET", `${TRUSTS}/${t.id}/roles/${w.nr.id}`, { token: w.trustorToken }), 404, /Could not find role/);
  assert.equal((await tc.request("HEAD", `${TRUSTS}/${t.id}/roles/${w.nr.id}`, { token: w.trustorToken })).status, 404);

  // Trusts are immutable: there is no PATCH (Keystone answers 405; the kernel's 405 only
  // knows static paths, so accept its 404 too).
  const patch = await tc.request("PATCH", `${TRUSTS}/${t.id}`, { token: w.trustorToken, body: trustBody(w) });
  assertIdentityError(patch, patch.status === 405 ? 405 : 404);

  await ok("DELETE", `${TRUSTS}/${t.id}`, { token: w.trustorToken }, 204);
  assertIdentityError(await tc.request("GET", `${TRUSTS}/${t.id}`, { token: w.trustorToken }), 404, /Could not find trust/);
  assertIdentityError(await tc.request("DELETE", `${TRUSTS}/${t.id}`, { token: w.trustorToken }), 404);
});

test("roles by id, expires_at echoed with microseconds, extra attributes kept", async () => {
  const w = await world();
  const future = new Date(Date.now() + 3600_000);
  future.setUTCMilliseconds(0);
  const expires = future.toISOString().replace(".000Z", "Z");
  const t = await createTrust(w, { roles: [{ id: w.dr.id }], impersonation: false, expires_at: expires, remaining_uses: 3, colour: "blue" });
  assert.equal(t.expires_at, expires.replace("Z", ".000000Z"));
  assert.equal(t.expires_at.replace(/\.\d{6}/, ""), expires);
  assert.equal(t.impersonation, false);
  assert.equal(t.remaining_uses, 3);
  assert.equal(t.colour, "blue");
  const precise = await createTrust(w, { expires_at: "2099-01-02T03:04:05.123456Z" });
  assert.equal(precise.expires_at, "2099-01-02T03:04:05.123456Z");
  const naive = await createTrust(w, { expires_at: "2099-01-02T03:04:05" });
  assert.equal(naive.expires_at, "2099-01-02T03:04:05.000000Z");
  // Keystone's duplicate_trust_constraint: same trustor, trustee, project, impersonation, expiry.
  assertIdentityError(
    await tc.request("POST", TRUSTS, { token: w.trustorToken, body: trustBody(w, { expires_at: "2099-01-02T03:04:05.123456Z" }) }),
    409,
    /Duplicate entry/,
  );
});

test("create: policy and validation answer as Keystone (403 before 400, 404 for unknown things)", async () => {
  const w = await world();
  // Not the trustor: policy (user_id:%(target.trust.trustor_user_id)s).
  assertIdentityError(await tc.request("POST", TRUSTS, { token: w.trusteeToken, body: trustBody(w) }), 403, /identity:create_trust/);
  assertIdentityError(await tc.request("POST", TRUSTS, { token: admin, body: trustBody(w) }), 403);
  // Policy runs before schema validation (bug 1133435): an empty trust is 403.
  assertIdentityError(await tc.request("POST", TRUSTS, { token: w.trustorToken, body: { trust: {} } }), 403);
  assertIdentityError(await tc.request("POST", TRUSTS, { token: w.trustorToken, body: {} }), 403);

  const bad: Array<Record<string, unknown>> = [
    { impersonation: undefined },
    { trustee_user_id: undefined },
    { impersonation: "yes" },
    { remaining_uses: 0 },
    { remaining_uses: -1 },
    { remaining_uses: 7.2 },
    { remaining_uses: "a bad value" },
    { expires_at: "bad.123Z" },
    { expires_at: "bad" },
    { expires_at: "" },
    { expires_at: "Z" },
    { expires_at: "2010-06-04T08:44:31.999999Z" },
    { expires_at: "2099-13-40T00:00:00Z" },
    { roles: [{ name: w.dr.name, fake_key: "fake_value" }] },
    { roles: [{ id: w.dr.id, name: w.dr.name }] },
    { project_id: "" },
    { redelegation_count: -1 },
  ];
  for (const over of bad) {
    const body = trustBody(w, over);
    for (const [k, v] of Object.entries(over)) if (v === undefined) delete body.trust[k];
    assertIdentityError(await tc.request("POST", TRUSTS, { token: w.trustorToken, body }), 400);
  }
  assertIdentityError(
    await tc.request("POST", TRUSTS, { token: w.trustorToken, body: trustBody(w, { expires_at: "2010-06-04T08:44:31.999999Z" }) }),
    400,
    /must not be before now/,
  );

  // A project without roles is refused.
  assertIdentityError(await tc.request("POST", TRUSTS, { token: w.trustorToken, body: trustBody(w, { roles: [] }) }), 403, /At least one role/);
  // Unknown trustee, project, role id, role name: 404.
  assertIdentityError(await tc.request("POST", TRUSTS, { token: w.trustorToken, body: trustBody(w, { trustee_user_id: "f".repeat(32) }) }), 404, /Could not find user/);
  assertIdentityError(await tc.request("POST", TRUSTS, { token: w.trustorToken, body: trustBody(w, { project_id: "f".repeat(32) }) }), 404, /Could not find project/);
  assertIdentityError(await tc.request("POST", TRUSTS, { token: w.trustorToken, body: trustBody(w, { roles: [{ id: "f".repeat(32) }] }) }), 404, /Could not find role/);
  assertIdentityError(await tc.request("POST", TRUSTS, { token: w.trustorToken, body: trustBody(w, { roles: [{ name: unique("nope") }] }) }), 404, /is not defined/);
  // A role the trustor does not hold on the project: 404 (RoleNotFound), as in Keystone.
  const other = await createRole();
  assertIdentityError(await tc.request("POST", TRUSTS, { token: w.trustorToken, body: trustBody(w, { roles: [{ id: other.id }] }) }), 404, /Could not find role/);
  // An ambiguous role name (a domain role with the same name) is 400.
  await ok("POST", `${V3}/roles`, { token: admin, body: { role: { name: w.dr.name, domain_id: "default" } } }, 201);
  assertIdentityError(await tc.request("POST", TRUSTS, { token: w.trustorToken, body: trustBody(w) }), 400, /multiple role entities/);
  // Nothing was created by any of the above.
  const mine = await ok("GET", `${TRUSTS}?trustor_user_id=${w.trustor.id}`, { token: w.trustorToken }, 200);
  assert.equal(mine.trusts.length, 0);
});

test("a trust without project or roles can be created (and gives no usable token)", async () => {
  const w = await world();
  const t = await createTrust(w, { project_id: undefined, roles: undefined });
  assert.equal(t.project_id, null);
  assert.deepEqual(t.roles, []);
  const r = await tc.request("POST", AUTH, { body: trustAuth(w.trustee, t.id) });
  assertIdentityError(r, 404);
});

test("list: by trustor / trustee with their own policies; unfiltered is admin only; no roles in entries", async () => {
  const w = await world();
  const t = await createTrust(w);
  // tempest requests the collection with a trailing slash.
  const mine = await ok("GET", `${TRUSTS}/?trustor_user_id=${w.trustor.id}`, { token: w.trustorToken }, 200);
  assert.equal(mine.trusts.length, 1);
  assert.equal(mine.trusts[0].id, t.id);
  assert.equal("roles" in mine.trusts[0], false);
  assert.equal(mine.trusts[0].links.self, t.links.self);
  assert.deepEqual(mine.links, { self: `${tc.url}${TRUSTS}/?trustor_user_id=${w.trustor.id}`, previous: null, next: null });
  const theirs = await ok("GET", `${TRUSTS}?trustee_user_id=${w.trustee.id}`, { token: w.trusteeToken }, 200);
  assert.deepEqual(theirs.trusts.map((x: any) => x.id), [t.id]);
  // Listing trusts where I am trustee, as the trustor: allowed only for one's own id.
  assert.equal((await ok("GET", `${TRUSTS}?trustee_user_id=${w.trustor.id}`, { token: w.trustorToken }, 200)).trusts.length, 0);
  assertIdentityError(await tc.request("GET", `${TRUSTS}?trustor_user_id=${w.trustor.id}`, { token: w.trusteeToken }), 403, /list_trusts_for_trustor/);
  assertIdentityError(await tc.request("GET", `${TRUSTS}?trustee_user_id=${w.trustee.id}`, { token: w.trustorToken }), 403, /list_trusts_for_trustee/);
  assertIdentityError(await tc.request("GET", TRUSTS, { token: w.trustorToken }), 403, /identity:list_trusts/);
  const all = await ok("GET", `${TRUSTS}/`, { token: admin }, 200);
  assert.equal(all.trusts.filter((x: any) => x.id === t.id).length, 1);
  // Any other query lists nothing (keystone only lists all with no query at all).
  assert.equal((await ok("GET", `${TRUSTS}?name=${t.id}`, { token: admin }, 200)).trusts.length, 0);
  assert.equal((await tc.request("HEAD", `${TRUSTS}?trustor_user_id=${w.trustor.id}`, { token: w.trustorToken })).status, 200);
});

test("show / roles / delete: strangers get 403, admin may read and delete, unknown ids 404", async () => {
  const w = await world();
  const t = await createTrust(w);
  const stranger = await createUser();
  const st = await passwordToken(tc, { id: stranger.id, password: stranger.password });
  assertIdentityError(await tc.request("GET", `${TRUSTS}/${t.id}`, { token: st }), 403, /identity:get_trust/);
  assertIdentityError(await tc.request("GET", `${TRUSTS}/${t.id}/roles`, { token: st }), 403);
  assertIdentityError(await tc.request("GET", `${TRUSTS}/${t.id}/roles/${w.dr.id}`, { token: st }), 403);
  assertIdentityError(await tc.request("DELETE", `${TRUSTS}/${t.id}`, { token: st }), 403);
  // The trustee may read but not delete.
  assertIdentityError(await tc.request("DELETE", `${TRUSTS}/${t.id}`, { token: w.trusteeToken }), 403, /identity:delete_trust/);
  assertIdentityError(await tc.request("GET", `${TRUSTS}/${"0".repeat(32)}`, { token: st }), 404, /Could not find trust/);
  assertIdentityError(await tc.request("GET", `${TRUSTS}/${"0".repeat(32)}/roles`, { token: admin }), 404);
  assert.equal((await ok("GET", `${TRUSTS}/${t.id}`, { token: admin }, 200)).trust.id, t.id);
  await ok("DELETE", `${TRUSTS}/${t.id}`, { token: admin }, 204);
});

// ---------------------------------------------------------------------------------- tokens

test("trust-scoped token with impersonation: user is the trustor, roles are the trust's", async () => {
  const w = await world();
  const t = await createTrust(w);
  const { id, token } = await trustToken(w.trustee, t.id);
  assert.equal(token.user.id, w.trustor.id);
  assert.equal(token.user.name, w.trustor.name);
  assert.deepEqual(token.user.domain, { id: "default", name: "Default" });
  assert.deepEqual(token["OS-TRUST:trust"], {
    id: t.id,
    trustor_user: { id: w.trustor.id },
    trustee_user: { id: w.trustee.id },
    impersonation: true,
  });
  assert.equal(token.project.id, w.projectId);
  assert.equal(token.project.name, w.projectName);
  assert.deepEqual(token.roles.map((r: any) => r.id), [w.dr.id]);
  assert.deepEqual(token.methods, ["password"]);
  assert.ok(Array.isArray(token.catalog));

  const v = await tc.request("GET", AUTH, { token: admin, headers: { "x-subject-token": id } });
  assert.equal(v.status, 200, v.text);
  assert.deepEqual(v.body.token["OS-TRUST:trust"], token["OS-TRUST:trust"]);
  assert.equal(v.body.token.user.id, w.trustor.id);
  // The token acts as the trustor: it can list the trustor's trusts, not the trustee's.
  assert.equal((await ok("GET", `${TRUSTS}?trustor_user_id=${w.trustor.id}`, { token: id }, 200)).trusts.length, 1);
  assertIdentityError(await tc.request("GET", `${TRUSTS}?trustee_user_id=${w.trustee.id}`, { token: id }), 403);
  // It can read its own token.
  assert.equal((await tc.request("GET", AUTH, { token: id, headers: { "x-subject-token": id } })).status, 200);
});

test("trust-scoped token without impersonation: user is the trustee; trustee reads the trust's roles", async () => {
  const w = await world();
  const t = await createTrust(w, { impersonation: false });
  const { id, token } = await trustToken(w.trustee, t.id);
  assert.equal(token.user.id, w.trustee.id);
  assert.equal(token["OS-TRUST:trust"].impersonation, false);
  assert.deepEqual(token.roles.map((r: any) => r.name), [w.dr.name]);
  assert.equal((await ok("GET", `${TRUSTS}/${t.id}/roles`, { token: id }, 200)).roles.length, 1);
  assert.equal((await tc.request("HEAD", `${TRUSTS}/${t.id}/roles/${w.dr.id}`, { token: id })).status, 200);
  // Also reachable by exchanging a plain token of the trustee (token method + trust scope).
  const viaToken = await tc.request("POST", AUTH, {
    body: { auth: { identity: { methods: ["token"], token: { id: w.trusteeToken } }, scope: { "OS-TRUST:trust": { id: t.id } } } },
  });
  assert.equal(viaToken.status, 201, viaToken.text);
  assert.equal(viaToken.body.token["OS-TRUST:trust"].id, t.id);
});

test("implied roles of delegated roles are in the token", async () => {
  const w = await world();
  const implied = await createRole();
  await ok("PUT", `${V3}/roles/${w.dr.id}/implies/${implied.id}`, { token: admin }, 201);
  const t = await createTrust(w);
  const { token } = await trustToken(w.trustee, t.id);
  assert.deepEqual(token.roles.map((r: any) => r.id).sort(), [w.dr.id, implied.id].sort());
});

test("only the trustee may use a trust; bad trust scopes are rejected; the use is not consumed", async () => {
  const w = await world();
  const t = await createTrust(w, { remaining_uses: 3 });
  const stranger = await createUser();
  assertIdentityError(await tc.request("POST", AUTH, { body: trustAuth(stranger, t.id) }), 403, GENERIC_403);
  assertIdentityError(await tc.request("POST", AUTH, { body: trustAuth(w.trustor, t.id) }), 403, GENERIC_403);
  assert.equal((await ok("GET", `${TRUSTS}/${t.id}`, { token: w.trustorToken }, 200)).trust.remaining_uses, 3);
  assertIdentityError(await tc.request("POST", AUTH, { body: trustAuth(w.trustee, "0".repeat(32)) }), 401, GENERIC_401);
  const noId = { auth: { identity: { methods: ["password"], password: { user: { id: w.trustee.id, password: w.trustee.password } } }, scope: { "OS-TRUST:trust": "" } } };
  assertIdentityError(await tc.request("POST", AUTH, { body: noId }), 400);
  const both = {
    auth: {
      identity: { methods: ["password"], password: { user: { id: w.trustee.id, password: w.trustee.password } } },
      scope: { "OS-TRUST:trust": { id: t.id }, project: { id: w.projectId } },
    },
  };
  assertIdentityError(await tc.request("POST", AUTH, { body: both }), 400);
  assert.equal((await ok("GET", `${TRUSTS}/${t.id}`, { token: w.trustorToken }, 200)).trust.remaining_uses, 3);
});

test("remaining_uses: each token takes one; an exhausted trust is 404 to read and 401 to use", async () => {
  const w = await world();
  const t = await createTrust(w, { remaining_uses: 2 });
  const first = await trustToken(w.trustee, t.id);
  assert.equal((await ok("GET", `${TRUSTS}/${t.id}`, { token: w.trustorToken }, 200)).trust.remaining_uses, 1);
  const last = await trustToken(w.trustee, t.id);
  assertIdentityError(await tc.request("GET", `${TRUSTS}/${t.id}`, { token: w.trustorToken }), 404);
  assertIdentityError(await tc.request("POST", AUTH, { body: trustAuth(w.trustee, t.id) }), 401, GENERIC_401);
  // Tokens already issued stay valid.
  for (const tok of [first.id, last.id]) {
    assert.equal((await tc.request("GET", AUTH, { token: admin, headers: { "x-subject-token": tok } })).status, 200);
  }
  // An exhausted trust is still listed (Keystone lists every live trust).
  const mine = await ok("GET", `${TRUSTS}?trustor_user_id=${w.trustor.id}`, { token: w.trustorToken }, 200);
  assert.equal(mine.trusts[0].remaining_uses, 0);
});

test("a trust-scoped token cannot be rescoped or used to get another token", async () => {
  const w = await world();
  const t = await createTrust(w, { impersonation: false });
  const { id } = await trustToken(w.trustee, t.id);
  for (const scope of [undefined, { project: { id: w.projectId } }, { "OS-TRUST:trust": { id: t.id } }]) {
    const r = await tc.request("POST", AUTH, {
      body: { auth: { identity: { methods: ["token"], token: { id } }, ...(scope ? { scope } : {}) } },
    });
    assertIdentityError(r, 403);
  }
});

test("a trust token may not create trusts unless the trust allows redelegation", async () => {
  const w = await world();
  const t = await createTrust(w);
  const { id } = await trustToken(w.trustee, t.id);
  const third = await createUser();
  const r = await tc.request("POST", TRUSTS, { token: id, body: trustBody(w, { trustee_user_id: third.id }) });
  assertIdentityError(r, 403, GENERIC_403);
});

test("redelegation: depth, roles subset, expiry, remaining_uses, impersonation", async () => {
  const w = await world();
  const third = await createUser();
  const parentExpiry = new Date(Date.now() + 600_000).toISOString();
  const parent = await createTrust(w, { allow_redelegation: true, expires_at: parentExpiry, roles: [{ id: w.dr.id }, { id: w.nr.id }] });
  assert.equal(parent.redelegation_count, 3);
  // remaining_uses is refused with redelegation.
  assertIdentityError(
    await tc.request("POST", TRUSTS, { token: w.trustorToken, body: trustBody(w, { allow_redelegation: true, remaining_uses: 2 }) }),
    400,
    /remaining_uses must not be set/,
  );
  assertIdentityError(
    await tc.request("POST", TRUSTS, { token: w.trustorToken, body: trustBody(w, { allow_redelegation: true, redelegation_count: 4 }) }),
    403,
    GENERIC_403,
  );
  const { id: tok } = await trustToken(w.trustee, parent.id);
  const chained = (over: Record<string, unknown>) => tc.request("POST", TRUSTS, { token: tok, body: trustBody(w, { trustee_user_id: third.id, ...over }) });

  assertIdentityError(await chained({ expires_at: new Date(Date.now() + 3600_000).toISOString() }), 403, GENERIC_403);
  assertIdentityError(await chained({ allow_redelegation: true, redelegation_count: 1 }), 403, GENERIC_403);
  assertIdentityError(await chained({ remaining_uses: 1 }), 403, GENERIC_403);
  const extra = await createRole();
  await grant(w.projectId, w.trustor.id, extra.id);
  assertIdentityError(await chained({ roles: [{ id: extra.id }] }), 403, GENERIC_403);

  const child = (await chained({ allow_redelegation: true, roles: [{ id: w.dr.id }] })).body.trust;
  assert.equal(child.redelegated_trust_id, parent.id);
  assert.equal(child.redelegation_count, 2);
  assert.equal(child.trustor_user_id, w.trustor.id);
  // The child inherits the parent's expiry.
  assert.equal(child.expires_at, parentExpiry.replace("Z", "000Z"));
  assert.deepEqual(child.roles.map((r: any) => r.id), [w.dr.id]);
  const childTok = await trustToken(third, child.id);
  assert.equal(childTok.token.user.id, w.trustor.id);
  assert.deepEqual(childTok.token.roles.map((r: any) => r.id), [w.dr.id]);

  // Deleting the parent takes the child (and its tokens) with it.
  await ok("DELETE", `${TRUSTS}/${parent.id}`, { token: w.trustorToken }, 204);
  assertIdentityError(await tc.request("GET", `${TRUSTS}/${child.id}`, { token: admin }), 404);
  assert.equal((await tc.request("GET", AUTH, { token: admin, headers: { "x-subject-token": childTok.id } })).status, 404);
});

test("redelegation: impersonation cannot be added, and a terminator trust ends the chain", async () => {
  const w = await world();
  const third = await createUser();
  const parent = await createTrust(w, { impersonation: false, allow_redelegation: true });
  const { id: tok } = await trustToken(w.trustee, parent.id);
  // Without impersonation the token's user is the trustee. Keystone checks a redelegation
  // against the ORIGINAL trustor's roles (api/trusts.py _get_trustor_roles walks
  // redelegated_trust_id back), so the trustee needs no role of its own.
  const asTrustee = trustBody(w, { trustor_user_id: w.trustee.id, trustee_user_id: third.id, impersonation: false });
  const first = await tc.request("POST", TRUSTS, { token: tok, body: asTrustee });
  assert.equal(first.status, 201, first.text);
  assert.equal(first.body.trust.redelegated_trust_id, parent.id);
  await ok("DELETE", `${TRUSTS}/${first.body.trust.id}`, { token: w.trusteeToken }, 204);
  // The steps below also need the trustee to hold the role.
  await grant(w.projectId, w.trustee.id, w.dr.id);
  const imp = trustBody(w, { trustor_user_id: w.trustee.id, trustee_user_id: third.id, impersonation: true });
  assertIdentityError(await tc.request("POST", TRUSTS, { token: tok, body: imp }), 403, GENERIC_403);
  const term = await tc.request("POST", TRUSTS, { token: tok, body: { trust: { ...asTrustee.trust, allow_redelegation: false, redelegation_count: 1 } } });
  assert.equal(term.status, 201, term.text);
  assert.equal(term.body.trust.redelegation_count, 0);
  const termTok = await trustToken(third, term.body.trust.id);
  const fourth = await createUser();
  // The role check (404) comes before the redelegation rules, so let the third user hold it.
  await grant(w.projectId, third.id, w.dr.id);
  const again = await tc.request("POST", TRUSTS, {
    token: termTok.id,
    body: trustBody(w, { trustor_user_id: third.id, trustee_user_id: fourth.id, impersonation: false }),
  });
  assertIdentityError(again, 403, GENERIC_403);
});

test("deleting a trust revokes its tokens; the trust can no longer be used", async () => {
  const w = await world();
  const t = await createTrust(w, { impersonation: false });
  const { id } = await trustToken(w.trustee, t.id);
  await ok("DELETE", `${TRUSTS}/${t.id}`, { token: w.trustorToken }, 204);
  assertIdentityError(await tc.request("GET", AUTH, { token: admin, headers: { "x-subject-token": id } }), 404);
  assertIdentityError(await tc.request("GET", `${TRUSTS}?trustee_user_id=${w.trustee.id}`, { token: id }), 401);
  assertIdentityError(await tc.request("POST", AUTH, { body: trustAuth(w.trustee, t.id) }), 401);
});

test("the trustor losing a delegated role invalidates the trust's tokens (403, as Keystone)", async () => {
  const w = await world();
  const t = await createTrust(w, { impersonation: false });
  const { id } = await trustToken(w.trustee, t.id);
  await ok("DELETE", `${V3}/projects/${w.projectId}/users/${w.trustor.id}/roles/${w.dr.id}`, { token: admin }, 204);
  const v = await tc.request("GET", AUTH, { token: admin, headers: { "x-subject-token": id } });
  assert.ok(v.status === 403 || v.status === 404, v.text);
  assertIdentityError(await tc.request("GET", `${TRUSTS}/${t.id}`, { token: id }), 401);
  assertIdentityError(await tc.request("POST", AUTH, { body: trustAuth(w.trustee, t.id) }), 403, GENERIC_403);
  // Granting it back makes the trust usable again.
  await grant(w.projectId, w.trustor.id, w.dr.id);
  await trustToken(w.trustee, t.id);
});

test("a disabled trustor or trustee stops the trust; a trustor's password change kills its trust tokens", async () => {
  const w = await world();
  const t = await createTrust(w, { impersonation: false });
  const { id } = await trustToken(w.trustee, t.id);
  await ok("PATCH", `${V3}/users/${w.trustor.id}`, { token: admin, body: { user: { enabled: false } } }, 200);
  assertIdentityError(await tc.request("POST", AUTH, { body: trustAuth(w.trustee, t.id) }), 403, GENERIC_403);
  assert.notEqual((await tc.request("GET", AUTH, { token: admin, headers: { "x-subject-token": id } })).status, 200);
  await ok("PATCH", `${V3}/users/${w.trustor.id}`, { token: admin, body: { user: { enabled: true } } }, 200);
  const fresh = await trustToken(w.trustee, t.id);
  await ok("PATCH", `${V3}/users/${w.trustee.id}`, { token: admin, body: { user: { enabled: false } } }, 200);
  assertIdentityError(await tc.request("POST", AUTH, { body: trustAuth(w.trustee, t.id) }), 401);
  assert.notEqual((await tc.request("GET", AUTH, { token: admin, headers: { "x-subject-token": fresh.id } })).status, 200);
  await ok("PATCH", `${V3}/users/${w.trustee.id}`, { token: admin, body: { user: { enabled: true } } }, 200);
  const again = await trustToken(w.trustee, t.id);
  await ok("PATCH", `${V3}/users/${w.trustor.id}`, { token: admin, body: { user: { password: unique("pw") } } }, 200);
  assertIdentityError(await tc.request("GET", AUTH, { token: admin, headers: { "x-subject-token": again.id } }), 404);
});

test("an expired trust is gone: 404 to read, 401 to use, its tokens invalid", async () => {
  const w = await world();
  const t = await createTrust(w, { expires_at: new Date(Date.now() + 3600_000).toISOString() });
  const { id } = await trustToken(w.trustee, t.id);
  // Move the expiry into the past behind the API's back (the clock is the system's here).
  await tc.cloud.identity.core.write((trx) => trx.updateTable("trust").set({ expires_at: "2000-01-01T00:00:00.000000Z" }).where("id", "=", t.id).execute());
  assertIdentityError(await tc.request("GET", `${TRUSTS}/${t.id}`, { token: w.trustorToken }), 404);
  assertIdentityError(await tc.request("POST", AUTH, { body: trustAuth(w.trustee, t.id) }), 401, GENERIC_401);
  assertIdentityError(await tc.request("GET", AUTH, { token: admin, headers: { "x-subject-token": id } }), 404);
  // Still listed, as in Keystone.
  assert.equal((await ok("GET", `${TRUSTS}?trustor_user_id=${w.trustor.id}`, { token: w.trustorToken }, 200)).trusts.length, 1);
});

test("deleting the trustee, the trustor or the project deletes the trust", async () => {
  for (const victim of ["trustee", "trustor", "project"] as const) {
    const w = await world();
    const t = await createTrust(w);
    const { id } = await trustToken(w.trustee, t.id);
    const path = victim === "project" ? `${V3}/projects/${w.projectId}` : `${V3}/users/${victim === "trustee" ? w.trustee.id : w.trustor.id}`;
    if (victim === "project") await ok("PATCH", path, { token: admin, body: { project: { enabled: false } } }, 200);
    await ok("DELETE", path, { token: admin }, 204);
    assertIdentityError(await tc.request("GET", `${TRUSTS}/${t.id}`, { token: admin }), 404);
    const all = await ok("GET", TRUSTS, { token: admin }, 200);
    assert.equal(all.trusts.some((x: any) => x.id === t.id), false, victim);
    assert.notEqual((await tc.request("GET", AUTH, { token: admin, headers: { "x-subject-token": id } })).status, 200);
  }
});
