/**
 * Domain configuration, security compliance (lockout, expiry, history, minimum age, first-use
 * change, inactivity, user options), revocation events and the users API, checked against
 * what Keystone 22 answers (keystone/api/domains.py, resource/core.py DomainConfigManager,
 * identity/backends/sql.py, api/users.py, api/os_revoke.py).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { ManualClock } from "../../src/common/clock.js";
import type { PartialConfig } from "../../src/config/config.js";
import type { Response, TestCloud } from "../support/cloud.js";
import { passwordToken, persona, startTestCloud, unique, adminDomainToken, assertIdentityError as assertError } from "../support/cloud.js";

const V3 = "/identity/v3";


async function newDomain(tc: TestCloud, token: string): Promise<string> {
  const r = await tc.request("POST", `${V3}/domains`, { token, body: { domain: { name: unique("dom") } } });
  assert.equal(r.status, 201, r.text);
  return r.body.domain.id as string;
}

async function newUser(tc: TestCloud, token: string, extra: Record<string, unknown> = {}): Promise<{ id: string; password: string; body: any }> {
  const password = unique("Pw1");
  const r = await tc.request("POST", `${V3}/users`, { token, body: { user: { name: unique("u"), password, ...extra } } });
  assert.equal(r.status, 201, r.text);
  return { id: r.body.user.id as string, password, body: r.body.user };
}

/** Password auth by user id; the raw response. */
function auth(tc: TestCloud, userId: string, password: string): Promise<Response> {
  return tc.request("POST", `${V3}/auth/tokens`, {
    body: { auth: { identity: { methods: ["password"], password: { user: { id: userId, password } } } } },
  });
}

function changePassword(tc: TestCloud, userId: string, original: string, password: string, token?: string): Promise<Response> {
  return tc.request("POST", `${V3}/users/${userId}/password`, {
    ...(token ? { token } : {}),
    body: { user: { original_password: original, password } },
  });
}

async function cloud(over: PartialConfig = {}, clock?: ManualClock): Promise<{ tc: TestCloud; admin: string }> {
  const tc = await startTestCloud(over, clock ? { clock } : {});
  return { tc, admin: await tc.adminToken() };
}

// ---------------------------------------------------------------------------------------------
describe("domain configuration", () => {
  let tc: TestCloud;
  let admin: string;
  before(async () => {
    ({ tc, admin } = await cloud());
    // Set after bootstrap: the test cloud's admin password would not pass it (Keystone's
    // bootstrap refuses such a password just the same).
    Object.assign(tc.cloud.identity.core.config.identity, { passwordRegex: "^(?=.*\\d).{7,}$", passwordRegexDescription: "7+ chars with a digit" });
  });
  after(() => tc.close());

  const custom = {
    identity: { driver: "ldap" },
    ldap: { url: "ldap://myldap.com:389/", user_tree_dn: "ou=Users,dc=my_new_root,dc=org" },
  };

  test("PUT creates (201), replaces (200), sensitive options are stored but never shown", async () => {
    const d = await newDomain(tc, admin);
    const withSecret = { ...custom, ldap: { ...custom.ldap, password: "s3cret" } };
    let r = await tc.request("PUT", `${V3}/domains/${d}/config`, { token: admin, body: { config: withSecret } });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.body, { config: custom });
    r = await tc.request("PUT", `${V3}/domains/${d}/config`, { token: admin, body: { config: custom } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { config: custom });
    r = await tc.request("GET", `${V3}/domains/${d}/config`, { token: admin });
    assert.deepEqual(r.body, { config: custom });
    for (const [g, opts] of Object.entries(custom)) {
      r = await tc.request("GET", `${V3}/domains/${d}/config/${g}`, { token: admin });
      assert.deepEqual(r.body, { config: { [g]: opts } });
      for (const [o, v] of Object.entries(opts)) {
        r = await tc.request("GET", `${V3}/domains/${d}/config/${g}/${o}`, { token: admin });
        assert.deepEqual(r.body, { config: { [o]: v } });
      }
    }
    // The password goes in, never out.
    r = await tc.request("PUT", `${V3}/domains/${d}/config`, { token: admin, body: { config: withSecret } });
    assert.equal(r.status, 200);
    assert.equal(r.text.includes("s3cret"), false);
    assertError(
      await tc.request("GET", `${V3}/domains/${d}/config/ldap/password`, { token: admin }),
      404,
      `Could not find option password in group ldap in domain configuration for domain ${d}.`,
    );
    r = await tc.request("GET", `${V3}/domains/${d}/config/ldap`, { token: admin });
    assert.equal(r.text.includes("s3cret"), false);
  });

  test("PATCH config, group and option answer the whole config; numbers round-trip", async () => {
    const d = await newDomain(tc, admin);
    await tc.request("PUT", `${V3}/domains/${d}/config`, { token: admin, body: { config: custom } });
    const updated = { ...custom, ldap: { ...custom.ldap, url: "ldap://other" } };
    let r = await tc.request("PATCH", `${V3}/domains/${d}/config`, { token: admin, body: { config: updated } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.config, updated);
    r = await tc.request("PATCH", `${V3}/domains/${d}/config/identity`, {
      token: admin,
      body: { config: { identity: { driver: "sql", list_limit: 42 } } },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.config, { identity: { driver: "sql", list_limit: 42 }, ldap: updated.ldap });
    r = await tc.request("PATCH", `${V3}/domains/${d}/config/identity/driver`, { token: admin, body: { config: { driver: "ldap" } } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.config.identity, { driver: "ldap", list_limit: 42 });
    // Group and option updates may only touch that group or option, and it must exist.
    assertError(
      await tc.request("PATCH", `${V3}/domains/${d}/config/identity`, { token: admin, body: { config: { ldap: { url: "x" } } } }),
      403,
      "Invalid domain specific configuration: request to update group identity, but config provided contains group ldap instead.",
    );
    assertError(
      await tc.request("PATCH", `${V3}/domains/${d}/config/identity/driver`, { token: admin, body: { config: { driver: "a", list_limit: 1 } } }),
      403,
      /and only that, option must be specified/,
    );
    assertError(
      await tc.request("PATCH", `${V3}/domains/${d}/config/ldap/user_filter`, { token: admin, body: { config: { user_filter: "x" } } }),
      404,
      `Could not find option user_filter in group ldap in domain configuration for domain ${d}.`,
    );
  });

  test("DELETE option, group and config; then 404 with Keystone's wording", async () => {
    const d = await newDomain(tc, admin);
    await tc.request("PUT", `${V3}/domains/${d}/config`, { token: admin, body: { config: custom } });
    let r = await tc.request("DELETE", `${V3}/domains/${d}/config/identity/driver`, { token: admin });
    assert.equal(r.status, 204, r.text);
    assertError(
      await tc.request("GET", `${V3}/domains/${d}/config/identity/driver`, { token: admin }),
      404,
      `Could not find option driver in group identity in domain configuration for domain ${d}.`,
    );
    assertError(await tc.request("DELETE", `${V3}/domains/${d}/config/identity`, { token: admin }), 404, /group identity/);
    r = await tc.request("DELETE", `${V3}/domains/${d}/config/ldap`, { token: admin });
    assert.equal(r.status, 204);
    assertError(await tc.request("GET", `${V3}/domains/${d}/config/ldap`, { token: admin }), 404, /group ldap/);
    r = await tc.request("DELETE", `${V3}/domains/${d}/config`, { token: admin });
    assert.equal(r.status, 204);
    assertError(
      await tc.request("GET", `${V3}/domains/${d}/config`, { token: admin }),
      404,
      `Could not find any options in domain configuration for domain ${d}.`,
    );
  });

  test("unknown groups and options, empty configs → 403 InvalidDomainConfig; unknown domain → 404", async () => {
    const d = await newDomain(tc, admin);
    assertError(
      await tc.request("PUT", `${V3}/domains/${d}/config`, { token: admin, body: { config: { nova: { x: 1 } } } }),
      403,
      "Invalid domain specific configuration: Group nova is not supported for domain specific configurations.",
    );
    assertError(
      await tc.request("PUT", `${V3}/domains/${d}/config`, { token: admin, body: { config: { ldap: { nope: 1 } } } }),
      403,
      "Invalid domain specific configuration: Option nope in group ldap is not supported for domain specific configurations.",
    );
    assertError(
      await tc.request("PUT", `${V3}/domains/${d}/config`, { token: admin, body: { config: {} } }),
      403,
      "Invalid domain specific configuration: No options specified.",
    );
    assertError(
      await tc.request("PUT", `${V3}/domains/${d}/config`, { token: admin, body: { config: { ldap: {} } } }),
      403,
      /The value of group ldap specified in the config should be a dictionary of options/,
    );
    assertError(await tc.request("GET", `${V3}/domains/${d}/config/nova`, { token: admin }), 403);
    assertError(await tc.request("GET", `${V3}/domains/${d}/config/identity/nope`, { token: admin }), 403);
    assertError(await tc.request("PUT", `${V3}/domains/${unique("nodom")}/config`, { token: admin, body: { config: custom } }), 404, /Could not find domain/);
    // Nothing was stored by the refused requests.
    assertError(await tc.request("GET", `${V3}/domains/${d}/config`, { token: admin }), 404);
  });

  test("policy: a member may not read or write a domain config", async () => {
    const m = await persona(tc, "member");
    assertError(await tc.request("GET", `${V3}/domains/default/config`, { token: m.token }), 403);
    assertError(await tc.request("PUT", `${V3}/domains/default/config`, { token: m.token, body: { config: custom } }), 403);
    assertError(await tc.request("GET", `${V3}/domains/config/default`, { token: m.token }), 403);
    assertError(await tc.request("GET", `${V3}/domains/default/config`), 401);
  });

  test("defaults: every whitelisted group and option, never the sensitive ones", async () => {
    let r = await tc.request("GET", `${V3}/domains/config/default`, { token: admin });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body.config).sort(), ["identity", "ldap"]);
    r = await tc.request("GET", `${V3}/domains/config/identity/default`, { token: admin });
    assert.deepEqual(r.body, { config: { identity: { driver: "sql", list_limit: null } } });
    r = await tc.request("GET", `${V3}/domains/config/identity/driver/default`, { token: admin });
    assert.deepEqual(r.body, { config: { driver: "sql" } });
    r = await tc.request("GET", `${V3}/domains/config/ldap/default`, { token: admin });
    const ldap = r.body.config.ldap as Record<string, unknown>;
    assert.equal(ldap["url"], "ldap://localhost");
    assert.equal("password" in ldap, false);
    for (const [k, v] of Object.entries(ldap)) {
      r = await tc.request("GET", `${V3}/domains/config/ldap/${k}/default`, { token: admin });
      assert.equal(r.status, 200, k);
      assert.deepEqual(r.body, { config: { [k]: v } });
    }
    assertError(
      await tc.request("GET", `${V3}/domains/config/ldap/password/default`, { token: admin }),
      403,
      "Invalid domain specific configuration: Reading the default for option password in group ldap is not supported.",
    );
    assertError(await tc.request("GET", `${V3}/domains/config/nova/default`, { token: admin }), 403);
  });

  test("security_compliance: readable by any user for the default domain only", async () => {
    const m = await persona(tc, "member");
    let r = await tc.request("GET", `${V3}/domains/default/config/security_compliance`, { token: m.token });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, {
      config: { security_compliance: { password_regex: "^(?=.*\\d).{7,}$", password_regex_description: "7+ chars with a digit" } },
    });
    r = await tc.request("GET", `${V3}/domains/default/config/security_compliance/password_regex_description`, { token: m.token });
    assert.deepEqual(r.body, { config: { password_regex_description: "7+ chars with a digit" } });
    assertError(
      await tc.request("GET", `${V3}/domains/default/config/security_compliance/lockout_duration`, { token: m.token }),
      403,
      /Reading security compliance values other than password_regex and password_regex_description is not allowed/,
    );
    const d = await newDomain(tc, admin);
    assertError(
      await tc.request("GET", `${V3}/domains/${d}/config/security_compliance`, { token: admin }),
      403,
      /any domain other than the default domain/,
    );
    // It is read-only.
    assertError(
      await tc.request("PATCH", `${V3}/domains/default/config/security_compliance`, {
        token: admin,
        body: { config: { security_compliance: { password_regex: "x" } } },
      }),
      403,
    );
  });

  test("deleting a domain deletes its config", async () => {
    const id = randomUUID().replaceAll("-", "");
    let r = await tc.request("POST", `${V3}/domains`, { token: admin, body: { domain: { name: unique("dom"), explicit_domain_id: id } } });
    assert.equal(r.status, 201, r.text);
    await tc.request("PUT", `${V3}/domains/${id}/config`, { token: admin, body: { config: custom } });
    await tc.request("PATCH", `${V3}/domains/${id}`, { token: admin, body: { domain: { enabled: false } } });
    r = await tc.request("DELETE", `${V3}/domains/${id}`, { token: admin });
    assert.equal(r.status, 204, r.text);
    r = await tc.request("POST", `${V3}/domains`, { token: admin, body: { domain: { name: unique("dom"), explicit_domain_id: id } } });
    assert.equal(r.status, 201, r.text);
    assertError(await tc.request("GET", `${V3}/domains/${id}/config`, { token: admin }), 404, /any options/);
  });

  test("password_regex applies to create, admin reset and self-service change", async () => {
    assertError(
      await tc.request("POST", `${V3}/users`, { token: admin, body: { user: { name: unique("u"), password: "short" } } }),
      400,
      "The password does not match the requirements: 7+ chars with a digit.",
    );
    const u = await newUser(tc, admin);
    assertError(
      await tc.request("PATCH", `${V3}/users/${u.id}`, { token: admin, body: { user: { password: "nodigitshere" } } }),
      400,
      /does not match the requirements/,
    );
    assertError(await changePassword(tc, u.id, u.password, "nodigitshere"), 400, /does not match the requirements/);
    assert.equal((await auth(tc, u.id, u.password)).status, 201);
  });
});

// ---------------------------------------------------------------------------------------------
describe("security compliance (tempest's settings: lockout 2 / 5 s, unique_last_password_count 2)", () => {
  const clock = new ManualClock(Date.parse("2030-01-01T00:00:00Z"));
  let tc: TestCloud;
  let admin: string;
  before(async () => {
    ({ tc, admin } = await cloud({ identity: { lockoutFailureAttempts: 2, lockoutDuration: 5, uniqueLastPasswordCount: 2 } }, clock));
  });
  after(() => tc.close());

  test("lockout after 2 failures, for 5 seconds", async () => {
    const u = await newUser(tc, admin);
    assert.equal((await auth(tc, u.id, u.password)).status, 201);
    for (let i = 0; i < 2; i++) assertError(await auth(tc, u.id, "wrong"), 401, "The request you have made requires authentication.");
    assertError(await auth(tc, u.id, u.password), 401, "The request you have made requires authentication.");
    // A locked account stays locked whatever is tried, and trying does not extend the lock.
    assertError(await auth(tc, u.id, "wrong"), 401, "The request you have made requires authentication.");
    clock.advance(6000);
    assert.equal((await auth(tc, u.id, u.password)).status, 201);
    // The count starts over once the lock is gone.
    assertError(await auth(tc, u.id, "wrong"), 401);
    assert.equal((await auth(tc, u.id, u.password)).status, 201);
  });

  test("an admin re-enabling the user clears the lock; ignore_lockout_failure_attempts never locks", async () => {
    const u = await newUser(tc, admin);
    for (let i = 0; i < 2; i++) await auth(tc, u.id, "wrong");
    assertError(await auth(tc, u.id, u.password), 401, "The request you have made requires authentication.");
    const r = await tc.request("PATCH", `${V3}/users/${u.id}`, { token: admin, body: { user: { enabled: true } } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await auth(tc, u.id, u.password)).status, 201);

    const v = await newUser(tc, admin, { options: { ignore_lockout_failure_attempts: true } });
    assert.deepEqual(v.body.options, { ignore_lockout_failure_attempts: true });
    for (let i = 0; i < 4; i++) assertError(await auth(tc, v.id, "wrong"), 401);
    assert.equal((await auth(tc, v.id, v.password)).status, 201);
  });

  test("self-service change: 204, revokes the user's tokens, old password refused", async () => {
    const u = await newUser(tc, admin);
    const old = await passwordToken(tc, { id: u.id, password: u.password });
    const next = unique("Pw2");
    // The caller's own token is sent, as tempest's client does; the proof is the original password.
    let r = await changePassword(tc, u.id, u.password, next, old);
    assert.equal(r.status, 204, r.text);
    assert.equal(r.text, "");
    clock.advance(1000);
    r = await tc.request("POST", `${V3}/auth/tokens`, { body: { auth: { identity: { methods: ["token"], token: { id: old } } } } });
    assert.equal([200, 201, 204, 401, 403].includes(r.status), false, `old token still usable: ${r.status}`);
    assertError(await tc.request("GET", `${V3}/auth/tokens`, { token: admin, headers: { "x-subject-token": old } }), 404);
    assertError(await auth(tc, u.id, u.password), 401);
    assert.equal((await auth(tc, u.id, next)).status, 201);
    // Wrong original, unknown user: the same 401.
    assertError(await changePassword(tc, u.id, "not-it", unique("Pw3")), 401, "The request you have made requires authentication.");
    assertError(await changePassword(tc, unique("nouser"), "x", unique("Pw3")), 401);
    // Schema: both fields, nothing else.
    assertError(await tc.request("POST", `${V3}/users/${u.id}/password`, { body: { user: { password: "x" } } }), 400);
    assertError(
      await tc.request("POST", `${V3}/users/${u.id}/password`, { body: { user: { password: "x", original_password: next, extra: 1 } } }),
      400,
    );
  });

  test("password history: the last 2 passwords cannot be reused by self-service", async () => {
    const u = await newUser(tc, admin);
    const p1 = unique("Pw1");
    const p2 = unique("Pw2");
    assert.equal((await changePassword(tc, u.id, u.password, p1)).status, 204);
    assertError(
      await changePassword(tc, u.id, p1, p1),
      400,
      "The new password cannot be identical to a previous password. The total number which includes the new password must be unique is 2.",
    );
    assertError(await changePassword(tc, u.id, p1, u.password), 400, /cannot be identical to a previous password/);
    assert.equal((await changePassword(tc, u.id, p1, p2)).status, 204);
    // tempest's _restore_password: two random passwords, then the original again.
    const r1 = unique("Pw3");
    const r2 = unique("Pw4");
    assert.equal((await changePassword(tc, u.id, p2, r1)).status, 204);
    assert.equal((await changePassword(tc, u.id, r1, r2)).status, 204);
    assert.equal((await changePassword(tc, u.id, r2, u.password)).status, 204);
    clock.advance(1000);
    assert.equal((await auth(tc, u.id, u.password)).status, 201);
  });

  test("admin reset does not enforce password history", async () => {
    const u = await newUser(tc, admin);
    const np = unique("Pw1");
    for (const pw of [np, np, u.password]) {
      const r = await tc.request("PATCH", `${V3}/users/${u.id}`, { token: admin, body: { user: { password: pw, id: u.id } } });
      assert.equal(r.status, 200, r.text);
      assert.equal("password" in r.body.user, false);
    }
    clock.advance(1000);
    assert.equal((await auth(tc, u.id, u.password)).status, 201);
  });

  test("lock_password refuses self-service changes, not admin resets", async () => {
    const u = await newUser(tc, admin, { options: { lock_password: true } });
    assertError(
      await changePassword(tc, u.id, u.password, unique("Pw9")),
      400,
      "You cannot change your password at this time due to password policy disallowing password changes. Please contact your administrator to reset your password.",
    );
    const r = await tc.request("PATCH", `${V3}/users/${u.id}`, { token: admin, body: { user: { password: unique("Pw8") } } });
    assert.equal(r.status, 200, r.text);
  });

  test("user options: known names only, booleans, MFA rules validated; null unsets", async () => {
    assertError(
      await tc.request("POST", `${V3}/users`, { token: admin, body: { user: { name: unique("u"), options: { bogus: true } } } }),
      400,
      /bogus/,
    );
    assertError(
      await tc.request("POST", `${V3}/users`, { token: admin, body: { user: { name: unique("u"), options: { lock_password: "yes" } } } }),
      400,
    );
    for (const rules of ["totp", [[]], [["password", "password"]], [["password"], ["password"]], [[1]]]) {
      assertError(
        await tc.request("POST", `${V3}/users`, { token: admin, body: { user: { name: unique("u"), options: { multi_factor_auth_rules: rules } } } }),
        400,
        undefined,
      );
    }
    const rules = [["password", "totp"], ["password", "application_credential"]];
    const u = await newUser(tc, admin, { options: { multi_factor_auth_enabled: true, multi_factor_auth_rules: rules } });
    assert.deepEqual(u.body.options, { multi_factor_auth_enabled: true, multi_factor_auth_rules: rules });
    const r = await tc.request("PATCH", `${V3}/users/${u.id}`, {
      token: admin,
      body: { user: { options: { multi_factor_auth_rules: null, ignore_password_expiry: true } } },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.user.options, { multi_factor_auth_enabled: true, ignore_password_expiry: true });
  });
});

// ---------------------------------------------------------------------------------------------
describe("password expiry, first use, minimum age, inactivity", () => {
  const clock = new ManualClock(Date.parse("2030-06-01T12:00:00Z"));
  let tc: TestCloud;
  let admin: string;
  before(async () => {
    ({ tc, admin } = await cloud(
      { identity: { passwordExpiresDays: 10, minimumPasswordAge: 1, disableUserAccountDaysInactive: 30 } },
      clock,
    ));
    // The bootstrap admin is subject to the same rules; exempt it so the test can travel in time.
    const me = await tc.request("GET", `${V3}/auth/tokens`, { token: admin, headers: { "x-subject-token": admin } });
    const r = await tc.request("PATCH", `${V3}/users/${me.body.token.user.id as string}`, {
      token: admin,
      body: { user: { options: { ignore_password_expiry: true, ignore_user_inactivity: true } } },
    });
    assert.equal(r.status, 200, r.text);
  });
  /** Move the clock and get an admin token valid at the new time. */
  const travel = async (ms: number) => {
    clock.advance(ms);
    admin = await passwordToken(tc, { name: "admin", password: tc.adminPassword, project: "admin" });
  };
  after(() => tc.close());

  test("password_expires_at is set, shown in Keystone's format, and enforced", async () => {
    const u = await newUser(tc, admin);
    assert.equal(u.body.password_expires_at, "2030-06-11T12:00:00.000000");
    const exempt = await newUser(tc, admin, { options: { ignore_password_expiry: true } });
    assert.equal(exempt.body.password_expires_at, null);
    await travel(11 * 86400_000);
    assertError(await auth(tc, u.id, u.password), 401, `The password is expired and needs to be changed for user: ${u.id}.`);
    assert.equal((await auth(tc, exempt.id, exempt.password)).status, 201);
    // An expired password may still be changed by its owner.
    const np = unique("Pw1");
    assert.equal((await changePassword(tc, u.id, u.password, np)).status, 204);
    clock.advance(1000);
    assert.equal((await auth(tc, u.id, np)).status, 201);
  });

  test("minimum_password_age applies to a self-set password only", async () => {
    const u = await newUser(tc, admin);
    const p1 = unique("Pw1");
    // The admin-set password can be changed at once.
    assert.equal((await changePassword(tc, u.id, u.password, p1)).status, 204);
    clock.advance(1000);
    assertError(
      await changePassword(tc, u.id, p1, unique("Pw2")),
      400,
      "You cannot change your password at this time due to the minimum password age. Once you change your password, it must be used for 1 day(s) before it can be changed. Please try again in 0 day(s) or contact your administrator to reset your password.",
    );
    await travel(86400_000 + 1000);
    assert.equal((await changePassword(tc, u.id, p1, unique("Pw2"))).status, 204);
  });

  test("?password_expires_at filters by operator; bad operator or timestamp → 400", async () => {
    const u = await newUser(tc, admin);
    const exp = Date.parse(`${u.body.password_expires_at as string}Z`);
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
    const ids = async (q: string) => {
      const r = await tc.request("GET", `${V3}/users?password_expires_at=${encodeURIComponent(q)}`, { token: admin });
      assert.equal(r.status, 200, r.text);
      return (r.body.users as Array<{ id: string }>).map((x) => x.id);
    };
    assert.ok((await ids(`lt:${iso(exp + 1000)}`)).includes(u.id));
    assert.ok(!(await ids(`lt:${iso(exp)}`)).includes(u.id));
    assert.ok((await ids(`lte:${iso(exp)}`)).includes(u.id));
    assert.ok((await ids(iso(exp))).includes(u.id));
    assert.ok(!(await ids(`gt:${iso(exp)}`)).includes(u.id));
    assert.ok((await ids(`neq:${iso(exp + 5000)}`)).includes(u.id));
    assertError(
      await tc.request("GET", `${V3}/users?password_expires_at=xx:${iso(exp)}`, { token: admin }),
      400,
      "The given operator xx is not valid. It must be one of the following: 'eq', 'neq', 'lt', 'lte', 'gt', or 'gte'.",
    );
    assertError(await tc.request("GET", `${V3}/users?password_expires_at=lt:yesterday`, { token: admin }), 400, /Timestamp not in expected format/);
  });

  test("disable_user_account_days_inactive: inactive users read as disabled and cannot authenticate", async () => {
    const u = await newUser(tc, admin);
    const exempt = await newUser(tc, admin, { options: { ignore_user_inactivity: true, ignore_password_expiry: true } });
    const tok = await passwordToken(tc, { id: u.id, password: u.password });
    await travel(31 * 86400_000);
    assertError(await auth(tc, u.id, u.password), 401, "The request you have made requires authentication.");
    let r = await tc.request("GET", `${V3}/users/${u.id}`, { token: admin });
    assert.equal(r.body.user.enabled, false);
    assertError(await tc.request("GET", `${V3}/auth/tokens`, { token: admin, headers: { "x-subject-token": tok } }), 404);
    assert.equal((await auth(tc, exempt.id, exempt.password)).status, 201);
    // Re-enabling restarts the clock.
    r = await tc.request("PATCH", `${V3}/users/${u.id}`, { token: admin, body: { user: { enabled: true, password: unique("Pw7") } } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.user.enabled, true);
  });
});

describe("change_password_upon_first_use", () => {
  let tc: TestCloud;
  let admin: string;
  before(async () => {
    // Turned on after bootstrap, as an operator would: with it on from the start the bootstrap
    // admin's own password is born expired, exactly as keystone-manage bootstrap leaves it.
    ({ tc } = await cloud({}));
    admin = await tc.adminToken();
    tc.cloud.identity.core.config.identity.changePasswordUponFirstUse = true;
  });
  after(() => tc.close());

  test("an admin-set password must be changed before it can be used", async () => {
    const u = await newUser(tc, admin);
    assertError(await auth(tc, u.id, u.password), 401, `The password is expired and needs to be changed for user: ${u.id}.`);
    const np = unique("Pw1");
    assert.equal((await changePassword(tc, u.id, u.password, np)).status, 204);
    assert.equal((await auth(tc, u.id, np)).status, 201);
    const exempt = await newUser(tc, admin, { options: { ignore_change_password_upon_first_use: true } });
    assert.equal((await auth(tc, exempt.id, exempt.password)).status, 201);
    // An admin reset expires it again.
    const r = await tc.request("PATCH", `${V3}/users/${u.id}`, { token: admin, body: { user: { password: unique("Pw2") } } });
    assert.notEqual(r.body.user.password_expires_at, null);
  });
});

// ---------------------------------------------------------------------------------------------
describe("revocation events", () => {
  let tc: TestCloud;
  let admin: string;
  before(async () => {
    ({ tc, admin } = await cloud());
  });
  after(() => tc.close());

  test("GET /v3/OS-REVOKE/events lists events in Keystone's shape; ?since filters", async () => {
    const u = await newUser(tc, admin);
    const t = await passwordToken(tc, { id: u.id, password: u.password });
    let r = await tc.request("DELETE", `${V3}/auth/tokens`, { token: admin, headers: { "x-subject-token": t } });
    assert.equal(r.status, 204);
    r = await tc.request("PATCH", `${V3}/users/${u.id}`, { token: admin, body: { user: { enabled: false } } });
    assert.equal(r.status, 200);
    r = await tc.request("GET", `${V3}/OS-REVOKE/events`, { token: admin });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body.links).sort(), ["next", "previous", "self"]);
    assert.ok(r.body.links.self.endsWith("/v3/OS-REVOKE/events"));
    const mine = (r.body.events as Array<Record<string, string>>).filter((e) => e["user_id"] === u.id);
    assert.equal(mine.length, 1);
    const ev = mine[0]!;
    assert.match(ev["issued_before"]!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000000Z$/);
    assert.match(ev["revoked_at"]!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000000Z$/);
    assert.deepEqual(Object.keys(ev).sort(), ["issued_before", "revoked_at", "user_id"]);
    const byAudit = (r.body.events as Array<Record<string, string>>).find((e) => e["audit_id"] !== undefined);
    assert.ok(byAudit);
    assert.match(byAudit["expires_at"]!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    r = await tc.request("GET", `${V3}/OS-REVOKE/events?since=2999-01-01T00:00:00Z`, { token: admin });
    assert.deepEqual(r.body.events, []);
    r = await tc.request("GET", `${V3}/OS-REVOKE/events?since=2000-01-01T00:00:00`, { token: admin });
    assert.ok(r.body.events.length >= 2);
    assertError(await tc.request("GET", `${V3}/OS-REVOKE/events?since=garbage`, { token: admin }), 400, "invalidate date format garbage");
    const m = await persona(tc, "member");
    assertError(await tc.request("GET", `${V3}/OS-REVOKE/events`, { token: m.token }), 403);
  });

  test("GET /v3/auth/tokens/OS-PKI/revoked is 403, as Keystone 22 answers", async () => {
    assertError(await tc.request("GET", `${V3}/auth/tokens/OS-PKI/revoked`, { token: admin }), 403, "You are not authorized to perform the requested action.");
    assertError(await tc.request("GET", `${V3}/auth/tokens/OS-PKI/revoked`), 403);
  });
});

// ---------------------------------------------------------------------------------------------
describe("users API", () => {
  let tc: TestCloud;
  let admin: string;
  before(async () => {
    ({ tc, admin } = await cloud());
  });
  after(() => tc.close());

  test("list filters: name, domain_id, enabled (Keystone's false strings); unknown filters ignored", async () => {
    const d = await newDomain(tc, admin);
    const email = `${unique("e")}@example.com`;
    const u1 = await newUser(tc, admin, { domain_id: d, email });
    const u2 = await newUser(tc, admin, { enabled: false, email });
    assert.equal(u1.body.email, email);
    const list = async (q: string) => {
      const r = await tc.request("GET", `${V3}/users${q}`, { token: admin });
      assert.equal(r.status, 200, r.text);
      return r.body.users as Array<Record<string, unknown>>;
    };
    let us = await list(`?domain_id=${d}`);
    assert.deepEqual(us.map((u) => u["id"]), [u1.id]);
    us = await list(`?name=${u1.body.name as string}`);
    assert.deepEqual(us.map((u) => u["id"]), [u1.id]);
    for (const f of ["False", "0", "f", "no"]) {
      us = await list(`?enabled=${f}`);
      assert.ok(us.some((u) => u["id"] === u2.id), f);
      assert.ok(us.every((u) => u["enabled"] === false), f);
    }
    us = await list(`?domain_id=${d}&bogus_filter=1`);
    assert.deepEqual(us.map((u) => u["id"]), [u1.id]);
    const all = await list("");
    const shown = all.find((u) => u["id"] === u1.id);
    assert.deepEqual(shown, u1.body);
    assert.ok(all.some((u) => u["id"] === u2.id));
  });

  test("user body: links, options, no password, no default_project_id when unset", async () => {
    const u = await newUser(tc, admin, { description: "d" });
    assert.deepEqual(Object.keys(u.body).sort(), ["description", "domain_id", "enabled", "id", "links", "name", "options", "password_expires_at"]);
    assert.match(u.body.links.self, new RegExp(`/v3/users/${u.id}$`));
    const r = await tc.request("GET", `${V3}/users/${u.id}`, { token: admin });
    assert.deepEqual(r.body.user, u.body);
  });

  test("update: id must match, domain_id immutable, name trimmed, extras kept", async () => {
    const u = await newUser(tc, admin);
    assertError(
      await tc.request("PATCH", `${V3}/users/${u.id}`, { token: admin, body: { user: { id: "other", name: "x" } } }),
      400,
      "Cannot change ID",
    );
    const d = await newDomain(tc, admin);
    assertError(
      await tc.request("PATCH", `${V3}/users/${u.id}`, { token: admin, body: { user: { domain_id: d } } }),
      400,
      "Cannot change Domain ID",
    );
    const p = await tc.request("POST", `${V3}/projects`, { token: admin, body: { project: { name: unique("p") } } });
    const name = unique("n");
    const r = await tc.request("PATCH", `${V3}/users/${u.id}`, {
      token: admin,
      body: { user: { id: u.id, name: `  ${name} `, email: "a@b.c", project_id: p.body.project.id, description: "x", enabled: false } },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.user.name, name);
    assert.equal(r.body.user.email, "a@b.c");
    assert.equal(r.body.user.project_id, p.body.project.id);
    assert.equal(r.body.user.enabled, false);
    assertError(await tc.request("PATCH", `${V3}/users/${u.id}`, { token: admin, body: { user: {} } }), 400);
  });

  test("default_project_id may not be a domain; a missing project is accepted", async () => {
    const d = await newDomain(tc, admin);
    assertError(
      await tc.request("POST", `${V3}/users`, { token: admin, body: { user: { name: unique("u"), default_project_id: d } } }),
      400,
      `User's default project ID cannot be a domain ID: ${d}`,
    );
    const missing = unique("p").replace("-", "");
    const u = await newUser(tc, admin, { default_project_id: missing });
    assert.equal(u.body.default_project_id, missing);
    assertError(await tc.request("PATCH", `${V3}/users/${u.id}`, { token: admin, body: { user: { default_project_id: d } } }), 400);
    assertError(
      await tc.request("POST", `${V3}/users`, { token: admin, body: { user: { name: unique("u"), domain_id: unique("nodom").replace("-", "") } } }),
      404,
      /Could not find domain/,
    );
  });

  test("disabling a user revokes its tokens; re-enabling does not revive them", async () => {
    const u = await newUser(tc, admin);
    const t = await passwordToken(tc, { id: u.id, password: u.password });
    let r = await tc.request("PATCH", `${V3}/users/${u.id}`, { token: admin, body: { user: { enabled: false, id: u.id } } });
    assert.equal(r.status, 200);
    assertError(await auth(tc, u.id, u.password), 401);
    r = await tc.request("PATCH", `${V3}/users/${u.id}`, { token: admin, body: { user: { enabled: true } } });
    assert.equal(r.status, 200);
    assertError(await tc.request("GET", `${V3}/auth/tokens`, { token: admin, headers: { "x-subject-token": t } }), 404);
    assert.equal((await auth(tc, u.id, u.password)).status, 201);
  });

  test("a caller the policy refuses gets 403 even for a missing user; admin gets 404", async () => {
    const m = await persona(tc, "member");
    assertError(await tc.request("GET", `${V3}/users/${unique("x")}`, { token: m.token }), 403);
    assertError(await tc.request("GET", `${V3}/users/${unique("x")}`, { token: admin }), 404, /Could not find user/);
    // Owners read themselves; members do not list users.
    const r = await tc.request("GET", `${V3}/users/${m.userId}`, { token: m.token });
    assert.equal(r.status, 200);
    assertError(await tc.request("GET", `${V3}/users`, { token: m.token }), 403);
  });

  test("GET /users/{id}/groups marks memberships with membership_expires_at: null", async () => {
    const u = await newUser(tc, admin);
    const g = await tc.request("POST", `${V3}/groups`, { token: admin, body: { group: { name: unique("g") } } });
    if (g.status === 404) return; // groups are another area's; nothing to check without them
    assert.equal(g.status, 201, g.text);
    await tc.request("PUT", `${V3}/groups/${g.body.group.id}/users/${u.id}`, { token: admin });
    const r = await tc.request("GET", `${V3}/users/${u.id}/groups`, { token: admin });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.groups, [{ ...g.body.group, membership_expires_at: null }]);
  });
});

// ---------------------------------------------------------------------------------------------
describe("projects and domains API (keystone/api/projects.py, domains.py, resource/core.py)", () => {
  let tc: TestCloud;
  let admin: string;
  before(async () => {
    ({ tc, admin } = await cloud());
  });
  after(() => tc.close());

  const createProject = (body: Record<string, unknown>, token = admin) => tc.request("POST", `${V3}/projects`, { token, body: { project: body } });

  test("domain create: explicit_domain_id must be a uuid hex; a body id is ignored", async () => {
    assertError(
      await tc.request("POST", `${V3}/domains`, { token: admin, body: { domain: { name: unique("d"), explicit_domain_id: "not-a-uuid" } } }),
      400,
      "Domain ID does not conform to required UUID format.",
    );
    const r = await tc.request("POST", `${V3}/domains`, { token: admin, body: { domain: { name: unique("d"), id: "chosen" } } });
    assert.equal(r.status, 201, r.text);
    assert.match(r.body.domain.id, /^[0-9a-f]{32}$/);
    const name = unique("d");
    await tc.request("POST", `${V3}/domains`, { token: admin, body: { domain: { name } } });
    assertError(
      await tc.request("POST", `${V3}/domains`, { token: admin, body: { domain: { name } } }),
      409,
      `Conflict occurred attempting to store project - it is not permitted to have two projects acting as domains with the same name: ${name}.`,
    );
  });

  test("GET a missing domain or project: 403 for a refused caller, 404 for admin", async () => {
    const m = await persona(tc, "member");
    const missing = randomUUID().replaceAll("-", "");
    assertError(await tc.request("GET", `${V3}/domains/${missing}`, { token: m.token }), 403);
    assertError(await tc.request("GET", `${V3}/domains/${missing}`, { token: admin }), 404, `Could not find domain: ${missing}.`);
    assertError(await tc.request("GET", `${V3}/projects/${missing}`, { token: m.token }), 403);
    assertError(await tc.request("DELETE", `${V3}/projects/${missing}`, { token: m.token }), 403);
    assertError(await tc.request("GET", `${V3}/projects/${missing}`, { token: admin }), 404, `Could not find project: ${missing}.`);
    // A member may read its own domain and project.
    assert.equal((await tc.request("GET", `${V3}/domains/default`, { token: m.token })).status, 200);
    assert.equal((await tc.request("GET", `${V3}/projects/${m.projectId}`, { token: m.token })).status, 200);
  });

  test("project create: missing domain or parent is 400; disabled branches and domain mismatches refused", async () => {
    const missing = randomUUID().replaceAll("-", "");
    assertError(await createProject({ name: unique("p"), domain_id: missing }), 400, `Could not find domain: ${missing}.`);
    assertError(await createProject({ name: unique("p"), parent_id: missing }), 400, `Could not find project: ${missing}.`);
    const d = await newDomain(tc, admin);
    const parent = (await createProject({ name: unique("p"), domain_id: d })).body.project;
    assert.equal(parent.parent_id, d);
    assertError(
      await createProject({ name: unique("p"), domain_id: "default", parent_id: parent.id }),
      400,
      `Cannot create project, since it specifies its domain_id default, but specifies a parent in a different domain (${d}).`,
    );
    // No domain_id: the default domain is assumed, so a parent elsewhere is refused too.
    assertError(await createProject({ name: unique("p"), parent_id: parent.id }), 400, /specifies a parent in a different domain/);
    const child = await createProject({ name: unique("p"), domain_id: d, parent_id: parent.id });
    assert.equal(child.status, 201, child.text);
    assert.equal(child.body.project.parent_id, parent.id);
    await tc.request("PATCH", `${V3}/projects/${child.body.project.id}`, { token: admin, body: { project: { enabled: false } } });
    assertError(
      await createProject({ name: unique("p"), domain_id: d, parent_id: child.body.project.id }),
      400,
      `cannot create a project in a branch containing a disabled project: ${child.body.project.id}`,
    );
    await tc.request("PATCH", `${V3}/domains/${d}`, { token: admin, body: { domain: { enabled: false } } });
    assertError(await createProject({ name: unique("p"), domain_id: d }), 400, `cannot create a project in a branch containing a disabled project: ${d}`);
    assertError(
      await createProject({ name: unique("p"), is_domain: true, parent_id: parent.id }),
      400,
      "only root projects are allowed to act as domains.",
    );
    const name = unique("p");
    const first = await createProject({ name: `  ${name}  ` });
    assert.equal(first.body.project.name, name);
    assertError(await createProject({ name }), 409, /it is not permitted to have two projects with either the same name or same id in the same domain: name is /);
  });

  test("project update: id and domain_id are fixed; the hierarchy's enabled rules", async () => {
    const p = (await createProject({ name: unique("p") })).body.project;
    const c = (await createProject({ name: unique("p"), parent_id: p.id })).body.project;
    assertError(await tc.request("PATCH", `${V3}/projects/${p.id}`, { token: admin, body: { project: { id: "x" } } }), 400, "Cannot change ID");
    const d = await newDomain(tc, admin);
    assertError(await tc.request("PATCH", `${V3}/projects/${p.id}`, { token: admin, body: { project: { domain_id: d } } }), 400, "Cannot change Domain ID");
    assertError(
      await tc.request("PATCH", `${V3}/projects/${p.id}`, { token: admin, body: { project: { enabled: false } } }),
      403,
      `Cannot disable project ${p.id} since its subtree contains enabled projects.`,
    );
    assert.equal((await tc.request("PATCH", `${V3}/projects/${c.id}`, { token: admin, body: { project: { enabled: false } } })).status, 200);
    assert.equal((await tc.request("PATCH", `${V3}/projects/${p.id}`, { token: admin, body: { project: { enabled: false } } })).status, 200);
    assertError(
      await tc.request("PATCH", `${V3}/projects/${c.id}`, { token: admin, body: { project: { enabled: true } } }),
      403,
      `Cannot enable project ${c.id} since it has disabled parents`,
    );
    assertError(
      await tc.request("PATCH", `${V3}/projects/${c.id}`, { token: admin, body: { project: { parent_id: d } } }),
      403,
      "Update of `parent_id` is not allowed.",
    );
  });

  test("immutable projects and domains refuse changes until the option is unset", async () => {
    const p = (await createProject({ name: unique("p"), options: { immutable: true } })).body.project;
    assert.deepEqual(p.options, { immutable: true });
    assertError(
      await tc.request("PATCH", `${V3}/projects/${p.id}`, { token: admin, body: { project: { name: unique("n") } } }),
      403,
      `Unable to update immutable project resource: \`${p.id}. Set resource option "immutable" to false first.`,
    );
    assertError(await tc.request("DELETE", `${V3}/projects/${p.id}`, { token: admin }), 403, /Unable to delete immutable project resource/);
    assertError(await tc.request("PUT", `${V3}/projects/${p.id}/tags/t1`, { token: admin }), 403, /project is immutable/);
    let r = await tc.request("PATCH", `${V3}/projects/${p.id}`, { token: admin, body: { project: { options: { immutable: false } } } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await tc.request("DELETE", `${V3}/projects/${p.id}`, { token: admin })).status, 204);
    assertError(await createProject({ name: unique("p"), options: { bogus: true } }), 400);

    r = await tc.request("POST", `${V3}/domains`, { token: admin, body: { domain: { name: unique("d"), options: { immutable: true } } } });
    const d = r.body.domain;
    assertError(
      await tc.request("PATCH", `${V3}/domains/${d.id}`, { token: admin, body: { domain: { enabled: false } } }),
      403,
      `Unable to update immutable domain resource: \`${d.id}. Set resource option "immutable" to false first.`,
    );
    r = await tc.request("PATCH", `${V3}/domains/${d.id}`, { token: admin, body: { domain: { options: { immutable: null } } } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.domain.options, {});
  });

  test("tags: links on the collection, Location on create, duplicates and unknown tags", async () => {
    const p = (await createProject({ name: unique("p") })).body.project;
    let r = await tc.request("PUT", `${V3}/projects/${p.id}/tags/alpha`, { token: admin, body: {} });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get("location"), `${tc.identity}/${p.id}/tags/alpha`);
    assertError(await tc.request("PUT", `${V3}/projects/${p.id}/tags/alpha`, { token: admin }), 400, /non-unique/);
    r = await tc.request("PUT", `${V3}/projects/${p.id}/tags`, { token: admin, body: { tags: ["b", "a", "c"] } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([...r.body.tags].sort(), ["a", "b", "c"]);
    assert.equal(r.body.links.self, tc.identity);
    r = await tc.request("GET", `${V3}/projects/${p.id}/tags`, { token: admin });
    assert.deepEqual([...r.body.tags].sort(), ["a", "b", "c"]);
    assertError(await tc.request("GET", `${V3}/projects/${p.id}/tags/zzz`, { token: admin }), 404, "Could not find project tag: zzz.");
    assertError(await tc.request("DELETE", `${V3}/projects/${p.id}/tags/zzz`, { token: admin }), 404, "Could not find project tag: zzz.");
    assertError(await tc.request("PUT", `${V3}/projects/${p.id}/tags/a,b`, { token: admin }), 400);
  });

  test("hierarchy: parents_as_ids reaches the domain; *_as_list keeps the caller's projects; no cascade delete", async () => {
    const d = await newDomain(tc, admin);
    const a = (await createProject({ name: unique("a"), domain_id: d })).body.project;
    const b = (await createProject({ name: unique("b"), domain_id: d, parent_id: a.id })).body.project;
    const c = (await createProject({ name: unique("c"), domain_id: d, parent_id: b.id })).body.project;
    let r = await tc.request("GET", `${V3}/projects/${c.id}?parents_as_ids`, { token: admin });
    assert.deepEqual(r.body.project.parents, { [b.id]: { [a.id]: { [d]: null } } });
    r = await tc.request("GET", `${V3}/projects/${a.id}?subtree_as_ids`, { token: admin });
    assert.deepEqual(r.body.project.subtree, { [b.id]: { [c.id]: null } });
    // The admin has no role on these projects: the lists are empty, as in Keystone.
    r = await tc.request("GET", `${V3}/projects/${c.id}?parents_as_list`, { token: admin });
    assert.deepEqual(r.body.project.parents, []);
    const role = (await tc.request("GET", `${V3}/roles?name=reader`, { token: admin })).body.roles[0].id as string;
    const me = (await tc.request("GET", `${V3}/auth/tokens`, { token: admin, headers: { "x-subject-token": admin } })).body.token.user.id as string;
    await tc.request("PUT", `${V3}/projects/${a.id}/users/${me}/roles/${role}`, { token: admin });
    r = await tc.request("GET", `${V3}/projects/${c.id}?parents_as_list`, { token: admin });
    assert.deepEqual(r.body.project.parents.map((x: { project: { id: string } }) => x.project.id), [a.id]);
    assertError(await tc.request("GET", `${V3}/projects/${c.id}?parents_as_list&parents_as_ids`, { token: admin }), 400);
    assertError(await tc.request("DELETE", `${V3}/projects/${a.id}?cascade`, { token: admin }), 403, /is not a leaf in the hierarchy/);
  });

  test("a domain-scoped token lists only its domain's projects and users", async () => {
    const d = await newDomain(tc, admin);
    await createProject({ name: unique("p"), domain_id: d });
    await newUser(tc, admin, { domain_id: d });
    const scoped = await adminDomainToken(tc);
    let r = await tc.request("GET", `${V3}/projects`, { token: scoped });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.projects.length > 0);
    assert.ok(r.body.projects.every((p: { domain_id: string }) => p.domain_id === "default"));
    r = await tc.request("GET", `${V3}/projects?domain_id=${d}`, { token: scoped });
    assert.deepEqual(r.body.projects, []);
    r = await tc.request("GET", `${V3}/users?domain_id=${d}`, { token: scoped });
    assert.deepEqual(r.body.users, []);
    r = await tc.request("GET", `${V3}/projects?domain_id=${d}`, { token: admin });
    assert.equal(r.body.projects.length, 1);
  });

  test("a project acting as a domain is listed as a project (is_domain=true) and as a domain", async () => {
    const r = await createProject({ name: unique("pd"), description: "x", domain_id: null, is_domain: true });
    assert.equal(r.status, 201, r.text);
    const p = r.body.project;
    assert.equal(p.is_domain, true);
    assert.equal(p.domain_id, null);
    const asProjects = await tc.request("GET", `${V3}/projects?is_domain=True`, { token: admin });
    assert.ok(asProjects.body.projects.some((x: { id: string }) => x.id === p.id));
    const plain = await tc.request("GET", `${V3}/projects`, { token: admin });
    assert.ok(!plain.body.projects.some((x: { id: string }) => x.id === p.id));
    const domains = await tc.request("GET", `${V3}/domains`, { token: admin });
    assert.ok(domains.body.domains.some((x: { id: string }) => x.id === p.id));
    assertError(await tc.request("DELETE", `${V3}/projects/${p.id}`, { token: admin }), 403, "Cannot delete a domain that is enabled, please disable it first.");
    assert.equal((await tc.request("PATCH", `${V3}/projects/${p.id}`, { token: admin, body: { project: { enabled: false } } })).status, 200);
    assert.equal((await tc.request("DELETE", `${V3}/projects/${p.id}`, { token: admin })).status, 204);
  });
});

describe("inexact list filters (name__contains, name__istartswith, …)", () => {
  let tc: TestCloud;
  let admin: string;
  before(async () => {
    ({ tc, admin } = await cloud());
  });
  after(() => tc.close());

  test("users, projects and domains honour Keystone's inexact filters", async () => {
    const tag = unique("Inx");
    const u = await newUser(tc, admin, { name: `${tag}-user` });
    await tc.request("POST", `${V3}/projects`, { token: admin, body: { project: { name: `${tag}-proj` } } });
    await tc.request("POST", `${V3}/domains`, { token: admin, body: { domain: { name: `${tag}-dom` } } });
    const names = async (path: string, key: string) =>
      ((await tc.request("GET", `${V3}/${path}`, { token: admin })).body[key] as Array<{ name: string }>).map((x) => x.name);
    assert.deepEqual(await names(`users?name__contains=${tag}`, "users"), [`${tag}-user`]);
    assert.deepEqual(await names(`users?name__contains=${tag.toLowerCase()}`, "users"), []);
    assert.deepEqual(await names(`users?name__icontains=${tag.toLowerCase()}`, "users"), [`${tag}-user`]);
    assert.deepEqual(await names(`users?name__startswith=${tag}&name__endswith=-user`, "users"), [`${tag}-user`]);
    assert.deepEqual(await names(`projects?name__istartswith=${tag.toUpperCase()}`, "projects"), [`${tag}-proj`]);
    assert.deepEqual(await names(`domains?name__endswith=${tag}-dom`, "domains"), [`${tag}-dom`]);
    // Filters on attributes a list does not support are ignored.
    assert.ok((await names(`users?email__contains=nothing-like-this`, "users")).includes(u.body.name));
  });

  test("renaming a user onto another's name is 409 in Keystone's words", async () => {
    const a = await newUser(tc, admin);
    const b = await newUser(tc, admin);
    assertError(
      await tc.request("PATCH", `${V3}/users/${b.id}`, { token: admin, body: { user: { name: a.body.name } } }),
      409,
      `Conflict occurred attempting to store user - Duplicate entry found with name ${a.body.name as string}.`,
    );
  });
});
