import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { flattenTarget, loadPolicyFile, parseCheck, PolicyEngine, PolicySyntaxError } from "../../src/auth/policy.js";
import type { Credentials, PolicyRule } from "../../src/auth/policy.js";
import { identityPolicies } from "../../src/services/identity/policies.js";

const rules: PolicyRule[] = [
  { name: "admin_required", check: "role:admin or is_admin:1", scopes: [] },
  { name: "owner", check: "user_id:%(user_id)s", scopes: [] },
  { name: "always", check: "@", scopes: [] },
  { name: "never", check: "!", scopes: [] },
  { name: "empty", check: "", scopes: [] },
  { name: "sys_reader", check: "role:reader and system_scope:all", scopes: ["system"] },
  { name: "nested", check: "(role:reader and system_scope:all) or (role:member and project_id:%(target.project.id)s)", scopes: ["system", "project"] },
  { name: "negated", check: "not role:admin", scopes: [] },
  { name: "precedence", check: "role:a or role:b and role:c", scopes: [] },
  { name: "literal_none", check: "None:%(target.role.domain_id)s", scopes: [] },
  { name: "token_field", check: "token.project.domain.id:%(target.domain.id)s", scopes: [] },
  { name: "chain", check: "rule:admin_required or rule:owner", scopes: [] },
  { name: "new", check: "role:reader and system_scope:all", scopes: ["system"], deprecated: "rule:admin_required" },
];

const creds = (over: Partial<Credentials> & Record<string, unknown> = {}): Credentials => ({
  roles: [],
  user_id: "u1",
  project_id: "p1",
  system_scope: null,
  ...over,
});

const engine = (o: Partial<ConstructorParameters<typeof PolicyEngine>[1]> = {}) =>
  new PolicyEngine(rules, { enforceScope: false, enforceNewDefaults: false, ...o });

test("@, ! and the empty check", () => {
  const e = engine();
  assert.equal(e.check("always", {}, creds()), true);
  assert.equal(e.check("never", {}, creds()), false);
  assert.equal(e.check("empty", {}, creds()), true);
});

test("role checks are case-insensitive; is_admin:1 needs the string 1", () => {
  const e = engine();
  assert.equal(e.check("admin_required", {}, creds({ roles: ["Admin"] })), true);
  assert.equal(e.check("admin_required", {}, creds({ roles: ["member"] })), false);
  assert.equal(e.check("admin_required", {}, creds({ is_admin: true })), false);
  assert.equal(e.check("admin_required", {}, creds({ is_admin: 1 })), true);
});

test("target substitution and missing keys", () => {
  const e = engine();
  assert.equal(e.check("owner", { user_id: "u1" }, creds()), true);
  assert.equal(e.check("owner", { user_id: "u2" }, creds()), false);
  assert.equal(e.check("owner", {}, creds()), false);
});

test("parentheses, and/or/not, precedence", () => {
  const e = engine();
  const t = flattenTarget({ target: { project: { id: "p1" } } });
  assert.equal(e.check("nested", t, creds({ roles: ["member"] })), true);
  assert.equal(e.check("nested", t, creds({ roles: ["member"], project_id: "p2" })), false);
  assert.equal(e.check("nested", t, creds({ roles: ["reader"], system_scope: "all" })), true);
  assert.equal(e.check("negated", {}, creds({ roles: ["admin"] })), false);
  assert.equal(e.check("negated", {}, creds({ roles: ["reader"] })), true);
  // and binds tighter than or: a or (b and c)
  assert.equal(e.check("precedence", {}, creds({ roles: ["a"] })), true);
  assert.equal(e.check("precedence", {}, creds({ roles: ["b"] })), false);
  assert.equal(e.check("precedence", {}, creds({ roles: ["b", "c"] })), true);
});

test("literal None on the left matches a null target value", () => {
  const e = engine();
  assert.equal(e.check("literal_none", flattenTarget({ target: { role: { domain_id: null } } }), creds()), true);
  assert.equal(e.check("literal_none", flattenTarget({ target: { role: { domain_id: "d1" } } }), creds()), false);
});

test("dotted credential paths", () => {
  const e = engine();
  const t = flattenTarget({ target: { domain: { id: "d1" } } });
  assert.equal(e.check("token_field", t, creds({ token: { project: { domain: { id: "d1" } } } })), true);
  assert.equal(e.check("token_field", t, creds({ token: { project: { domain: { id: "d2" } } } })), false);
  assert.equal(e.check("token_field", t, creds()), false);
});

test("deprecated defaults are ORed in unless enforce_new_defaults", () => {
  const admin = creds({ roles: ["admin"] });
  assert.equal(engine().check("new", {}, admin), true);
  assert.equal(engine({ enforceNewDefaults: true }).check("new", {}, admin), false);
});

test("enforce_scope rejects a token whose scope the rule does not list", () => {
  const sysReader = creds({ roles: ["reader"], system_scope: "all" });
  const e = engine({ enforceScope: true });
  assert.equal(e.scopeAllowed("sys_reader", "system"), true);
  assert.equal(e.scopeAllowed("sys_reader", "project"), false);
  assert.throws(() => e.enforce("sys_reader", {}, sysReader, "project"), /not authorized/);
  assert.doesNotThrow(() => e.enforce("sys_reader", {}, sysReader, "system"));
  assert.doesNotThrow(() => engine().enforce("sys_reader", {}, sysReader, "project"));
});

test("operator overrides replace a rule by name (YAML and JSON)", () => {
  const dir = mkdtempSync(join(tmpdir(), "pol-"));
  writeFileSync(join(dir, "p.yaml"), '"owner": "role:auditor"\n');
  writeFileSync(join(dir, "p.json"), '{"never": "@"}');
  const e = new PolicyEngine(rules, {
    enforceScope: false,
    enforceNewDefaults: false,
    overrides: { ...loadPolicyFile(join(dir, "p.yaml")), ...loadPolicyFile(join(dir, "p.json")) },
  });
  assert.equal(e.check("owner", { user_id: "u1" }, creds()), false);
  assert.equal(e.check("owner", {}, creds({ roles: ["auditor"] })), true);
  assert.equal(e.check("never", {}, creds()), true);
});

test("syntax errors are reported, not silently allowed", () => {
  assert.throws(() => parseCheck("(role:a or"), PolicySyntaxError);
  assert.throws(() => parseCheck("role:a )"), PolicySyntaxError);
  assert.throws(() => parseCheck("nonsense"), PolicySyntaxError);
});

test("every registered Keystone default parses and every rule: reference resolves", () => {
  const names = new Set(identityPolicies.map((r) => r.name));
  for (const r of identityPolicies) {
    for (const check of [r.check, r.deprecated ?? ""]) {
      parseCheck(check);
      for (const m of check.matchAll(/rule:([\w:]+)/g)) assert.ok(names.has(m[1]!), `${r.name} refers to ${m[1]!}`);
    }
  }
});

test("Neutron's field checks: literal values and ~regular expressions", () => {
  const e = new PolicyEngine(
    [
      { name: "shared", check: "field:networks:shared=True", scopes: [] },
      { name: "external", check: "field:networks:router:external=True", scopes: [] },
      { name: "net_owner_port", check: "field:port:device_owner=~^network:", scopes: [] },
      { name: "not_net_port", check: "not field:port:device_owner=~^network:", scopes: [] },
    ],
    { enforceScope: false, enforceNewDefaults: false },
  );
  const c: Credentials = { roles: ["member"] };
  assert.equal(e.check("shared", { shared: true }, c), true);
  assert.equal(e.check("shared", { shared: false }, c), false);
  assert.equal(e.check("shared", {}, c), false);
  assert.equal(e.check("external", { "router:external": true }, c), true);
  assert.equal(e.check("net_owner_port", { device_owner: "network:dhcp" }, c), true);
  assert.equal(e.check("net_owner_port", { device_owner: "compute:nova" }, c), false);
  assert.equal(e.check("net_owner_port", { device_owner: "my-network:x" }, c), false, "anchored at the start");
  assert.equal(e.check("not_net_port", { device_owner: "compute:nova" }, c), true);
});

test("checkTracked tells whether the answer depended on the target", () => {
  const e = new PolicyEngine(
    [
      { name: "admin_only", check: "role:admin", scopes: [] },
      { name: "get_port", check: "rule:admin_only or project_id:%(project_id)s", scopes: [] },
    ],
    { enforceScope: false, enforceNewDefaults: false },
  );
  assert.deepEqual(e.checkTracked("get_port", { project_id: "p" }, { roles: ["admin"], project_id: "q" }), { ok: true, targetRead: false });
  assert.deepEqual(e.checkTracked("get_port", { project_id: "p" }, { roles: ["member"], project_id: "p" }), { ok: true, targetRead: true });
  assert.deepEqual(e.checkTracked("get_port", { project_id: "p" }, { roles: ["member"], project_id: "q" }), { ok: false, targetRead: true });
});
