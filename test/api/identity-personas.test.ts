/**
 * Policy personas against the identity route table, generated from the route table the server
 * is built from (identityRoutes over the running cloud) and the policy table (policies.ts).
 *
 * Personas: a project admin (admin on a project of its own), a member and a reader of project P1,
 * a member of ANOTHER project P2, and a system reader (reader on the system, system-scoped token).
 *
 * Every GET/HEAD route with a policy is called by each persona on its own project / its own user
 * (and by the other-project member and the admin on the member's), and every create route whose
 * rule does not depend on the target (the admin-only ones) plus PATCH/DELETE on a fresh victim.
 * The expected answer (allowed, or 403) comes from evaluating the route's rule with the policy
 * engine (src/auth/policy.ts) on the caller's credentials and the target Keystone builds; a
 * hand-written table (Keystone 22's documented defaults) pins the important routes so a wrong
 * engine or a wrong policy table fails the test too.
 *
 * Run twice: Stackbox's defaults (enforce_scope and enforce_new_defaults off, as Keystone 22) and
 * a cloud with both on.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { PolicyRule } from "../../src/auth/policy.js";
import { flattenTarget, PolicyEngine } from "../../src/auth/policy.js";
import type { Route } from "../../src/http/context.js";
import { identityPolicies } from "../../src/services/identity/policies.js";
import { identityRoutes } from "../../src/services/identity/routes.js";
import type { Response, TestCloud } from "../support/cloud.js";
import { sample } from "../support/schema-sample.js";
import type { Schema } from "../support/schema-sample.js";
import { passwordToken, persona, startTestCloud, unique } from "../support/cloud.js";

type Who = "admin" | "member" | "reader" | "other" | "sysreader";
const PERSONAS: readonly Who[] = ["admin", "member", "reader", "other", "sysreader"];

interface Persona {
  who: Who;
  userId: string;
  token: string;
  /** The project the persona works in (the system reader looks at the member's). */
  projectId: string;
  /** The role the persona holds there (what check-grant routes look for). */
  roleId: string;
}

/** A cell: persona `who` acting on `owner`'s project and user. */
interface Cell {
  who: Who;
  owner: Who;
}
const CELLS: readonly Cell[] = [
  ...PERSONAS.map((who) => ({ who, owner: who })),
  { who: "other", owner: "member" },
  { who: "admin", owner: "member" },
];
const cellName = (c: Cell): string => (c.who === c.owner ? c.who : `${c.who}→${c.owner}'s`);

// ---------------------------------------------------------------- hand-written expectations

type Expect = Partial<Record<string, boolean>>;
const Y = true;
const N = false;
/** Same answer for every own-resource cell, and the given answers for the cross cells. */
function own(v: boolean, cross: { other?: boolean; admin?: boolean } = {}): Expect {
  const e: Expect = {};
  for (const p of PERSONAS) e[p] = v;
  if (cross.other !== undefined) e["other→member's"] = cross.other;
  if (cross.admin !== undefined) e["admin→member's"] = cross.admin;
  return e;
}
function only(allowed: readonly Who[], cross: { other?: boolean; admin?: boolean } = {}): Expect {
  const e: Expect = {};
  for (const p of PERSONAS) e[p] = allowed.includes(p);
  if (cross.other !== undefined) e["other→member's"] = cross.other;
  if (cross.admin !== undefined) e["admin→member's"] = cross.admin;
  return e;
}

/**
 * Keystone 22 defaults (keystone/common/policies/*.py), enforce_new_defaults and enforce_scope
 * off: a rule is its new check string OR its deprecated one, and any scope is accepted.
 */
const DEFAULT_EXPECT: Record<string, Expect> = {
  // get_project: deprecated admin_required or project_id match; new adds the system reader.
  "GET /v3/projects/:project_id": own(Y, { other: N, admin: Y }),
  "GET /v3/projects/:project_id/tags": own(Y, { other: N, admin: Y }),
  // get_user / list_user_projects / list_groups_for_user: admin, system reader, or the user itself.
  "GET /v3/users/:user_id": own(Y, { other: N, admin: Y }),
  "GET /v3/users/:user_id/projects": own(Y, { other: N, admin: Y }),
  "GET /v3/users/:user_id/groups": own(Y, { other: N, admin: Y }),
  // auth.py: no check string.
  "GET /v3/auth/projects": own(Y),
  "GET /v3/auth/domains": own(Y),
  "GET /v3/auth/catalog": own(Y),
  "GET /v3/auth/system": own(Y),
  // validate/check own token: token_subject.
  "GET /v3/auth/tokens": own(Y),
  "HEAD /v3/auth/tokens": own(Y),
  // admin_required or system reader.
  "GET /v3/projects": only(["admin", "sysreader"]),
  "GET /v3/users": only(["admin", "sysreader"]),
  "GET /v3/domains": only(["admin", "sysreader"]),
  "GET /v3/roles": only(["admin", "sysreader"]),
  "GET /v3/roles/:role_id": only(["admin", "sysreader"]),
  "GET /v3/services": only(["admin", "sysreader"]),
  "GET /v3/endpoints": only(["admin", "sysreader"]),
  "GET /v3/role_assignments": only(["admin", "sysreader"]),
  "GET /v3/system/users/:actor_id/roles": only(["admin", "sysreader"]),
  "GET /v3/projects/:target_id/users/:actor_id/roles": only(["admin", "sysreader"], { other: N, admin: Y }),
  // get_domain: token.project.domain.id matches for every project-scoped persona here.
  "GET /v3/domains/:domain_id": own(Y),
  // regions: empty check string.
  "GET /v3/regions": own(Y),
  // admin_required only.
  "POST /v3/projects": only(["admin"]),
  "POST /v3/users": only(["admin"]),
  "POST /v3/roles": only(["admin"]),
  "POST /v3/domains": only(["admin"]),
  "POST /v3/groups": only(["admin"]),
  "POST /v3/regions": only(["admin"]),
  "POST /v3/services": only(["admin"]),
  "PATCH /v3/projects/:project_id": only(["admin"]),
  "DELETE /v3/projects/:project_id": only(["admin"]),
  "PATCH /v3/users/:user_id": only(["admin"]),
  "DELETE /v3/users/:user_id": only(["admin"]),
  "DELETE /v3/roles/:role_id": only(["admin"]),
};

/**
 * enforce_scope and enforce_new_defaults on: only new check strings, and the token's scope must
 * be one of the rule's scope_types.
 */
const STRICT_EXPECT: Record<string, Expect> = {
  // get_project's new check has no admin_required: a project admin may not read another project.
  "GET /v3/projects/:project_id": own(Y, { other: N, admin: N }),
  "GET /v3/users/:user_id": own(Y, { other: N, admin: Y }),
  "GET /v3/users/:user_id/projects": own(Y, { other: N, admin: Y }),
  "GET /v3/auth/projects": own(Y),
  "GET /v3/auth/catalog": own(Y),
  "GET /v3/auth/tokens": own(Y),
  "GET /v3/projects": only(["admin", "sysreader"]),
  "GET /v3/users": only(["admin", "sysreader"]),
  "GET /v3/domains": only(["admin", "sysreader"]),
  "GET /v3/roles": only(["admin", "sysreader"]),
  "GET /v3/domains/:domain_id": own(Y),
  "POST /v3/projects": only(["admin"]),
  "POST /v3/users": only(["admin"]),
  "POST /v3/roles": only(["admin"]),
  "POST /v3/domains": only(["admin"]),
  "PATCH /v3/projects/:project_id": only(["admin"]),
  "DELETE /v3/users/:user_id": only(["admin"]),
};

/**
 * 403s that are not policy decisions (the rule allows; the handler refuses), in both modes.
 * keystone/api/auth.py AuthCatalogResource: "A project-scoped token is required to produce a
 * service catalog."
 */
const HANDLER_FORBIDS: Record<string, readonly string[]> = {
  "GET /v3/auth/catalog": ["sysreader"],
};

// ---------------------------------------------------------------- world

interface World {
  tc: TestCloud;
  routes: Route[];
  engine: PolicyEngine;
  rules: Map<string, PolicyRule>;
  personas: Record<Who, Persona>;
  group: string | undefined;
  roleIds: Record<string, string>;
}

async function build(over: { enforceScope: boolean; enforceNewDefaults: boolean }): Promise<World> {
  const tc = await startTestCloud(over);
  const admin = await tc.adminToken();
  const roles = await tc.request("GET", "/identity/v3/roles", { token: admin });
  const roleIds: Record<string, string> = {};
  for (const r of roles.body.roles as Array<{ id: string; name: string }>) roleIds[r.name] = r.id;

  const a = await persona(tc, "admin");
  const m = await persona(tc, "member");
  const r = await persona(tc, "reader", { projectId: m.projectId });
  const o = await persona(tc, "member");
  const sysPw = unique("pw");
  const su = await tc.request("POST", "/identity/v3/users", { token: admin, body: { user: { name: unique("sys"), domain_id: "default", password: sysPw } } });
  const sysId = su.body.user.id as string;
  const g = await tc.request("PUT", `/identity/v3/system/users/${sysId}/roles/${roleIds["reader"]!}`, { token: admin });
  assert.equal(g.status, 204, g.text);
  const sysTok = await passwordToken(tc, { id: sysId, password: sysPw, system: true });

  const personas: Record<Who, Persona> = {
    admin: { who: "admin", userId: a.userId, token: a.token, projectId: a.projectId, roleId: roleIds["admin"]! },
    member: { who: "member", userId: m.userId, token: m.token, projectId: m.projectId, roleId: roleIds["member"]! },
    reader: { who: "reader", userId: r.userId, token: r.token, projectId: m.projectId, roleId: roleIds["reader"]! },
    other: { who: "other", userId: o.userId, token: o.token, projectId: o.projectId, roleId: roleIds["member"]! },
    sysreader: { who: "sysreader", userId: sysId, token: sysTok, projectId: m.projectId, roleId: roleIds["reader"]! },
  };
  // A tag on every project, for the tag routes.
  for (const p of new Set(Object.values(personas).map((x) => x.projectId))) {
    await tc.request("PUT", `/identity/v3/projects/${p}/tags/t1`, { token: admin });
  }
  // A group holding every persona (when groups exist).
  let group: string | undefined;
  const gr = await tc.request("POST", "/identity/v3/groups", { token: admin, body: { group: { name: unique("g"), domain_id: "default" } } });
  if (gr.status === 201) {
    group = gr.body.group.id as string;
    for (const p of Object.values(personas)) await tc.request("PUT", `/identity/v3/groups/${group}/users/${p.userId}`, { token: admin });
  }

  const engine = new PolicyEngine([], { enforceScope: over.enforceScope, enforceNewDefaults: over.enforceNewDefaults });
  engine.register(identityPolicies);
  const rules = new Map(identityPolicies.map((x) => [x.name, x]));
  return { tc, routes: identityRoutes(tc.cloud.identity), engine, rules, personas, group, roleIds };
}

// ---------------------------------------------------------------- requests and targets

function segsOf(path: string): string[] {
  return path.split("/");
}
function collectionBefore(segs: string[], i: number): string {
  for (let j = i - 1; j >= 0; j--) if (!segs[j]!.startsWith(":")) return segs[j]!;
  return "";
}

/** Keystone's view_args name for one of our path parameters (grants use target_id/actor_id). */
function keystoneName(coll: string, name: string): string {
  if (name === "target_id") return coll === "domains" ? "domain_id" : "project_id";
  if (name === "actor_id") return coll === "groups" ? "group_id" : "user_id";
  return name;
}

interface Built {
  path: string;
  headers: Record<string, string>;
  /** The policy dict Keystone would build: view args beside target. */
  target: Record<string, unknown>;
  /** Unresolvable: why. */
  skip?: string;
}

/** Target keys we know how to build; a rule reading anything else is not evaluated here. */
const KNOWN_TARGET = /^(target\.(project|user|domain|role|group|token)\.|target\.domain_id$|(project_id|user_id|domain_id|role_id|group_id|tag)$)/;

async function buildRequest(w: World, route: Route, cell: Cell): Promise<Built> {
  const owner = w.personas[cell.owner];
  const segs = segsOf(route.path);
  const viewArgs: Record<string, string> = {};
  const target: Record<string, Record<string, unknown>> = {};
  const out: string[] = [];
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    if (!s.startsWith(":")) {
      out.push(s);
      continue;
    }
    const name = s.slice(1);
    const coll = collectionBefore(segs, i);
    let v: string | undefined;
    if (coll === "projects") {
      v = owner.projectId;
      target["project"] = { id: v, domain_id: "default" };
    } else if (coll === "users") {
      v = owner.userId;
      target["user"] = { id: v, domain_id: "default" };
    } else if (coll === "groups") {
      v = w.group;
      if (v) target["group"] = { id: v, domain_id: "default" };
    } else if (coll === "domains") {
      v = "default";
      target["domain"] = { id: v, name: "Default" };
    } else if (coll === "roles") {
      v = owner.roleId;
      target["role"] = { id: v, domain_id: null };
    } else if (coll === "tags") {
      v = "t1";
    } else if (route.path.includes("/config") && (name === "group" || name === "option")) {
      v = name === "group" ? "identity" : "driver";
    } else {
      // Anything else: the first of the collection, as the admin lists it (nested, then top-level).
      for (const listPath of [out.join("/"), `/v3/${coll}`]) {
        const r = await w.tc.request("GET", `/identity${listPath}`, { token: await w.tc.adminToken() });
        const key = Object.keys(r.body ?? {}).find((k) => Array.isArray(r.body[k]));
        const first: unknown = key ? r.body[key][0] : undefined;
        if (typeof first === "string") v = first;
        else if (first && typeof first === "object") v = (first as { id?: string }).id;
        if (v !== undefined) break;
      }
    }
    if (v === undefined) return { path: "", headers: {}, target: {}, skip: `no value for :${name}` };
    viewArgs[keystoneName(coll, name)] = v;
    out.push(encodeURIComponent(v));
  }
  const headers: Record<string, string> = {};
  if (route.path === "/v3/auth/tokens") {
    headers["x-subject-token"] = owner.token;
    target["token"] = { user_id: owner.userId };
  }
  return { path: out.join("/"), headers, target: { ...viewArgs, target } };
}

/** The check strings a rule evaluates to under the engine's options (deprecated ORed in). */
function ruleText(w: World, name: string, seen = new Set<string>()): string {
  const r = w.rules.get(name);
  if (!r || seen.has(name)) return "";
  seen.add(name);
  const texts = [r.check, r.deprecated ?? ""];
  const refs = [...texts.join(" ").matchAll(/rule:([\w:]+)/g)].map((m) => ruleText(w, m[1]!, seen));
  return [...texts, ...refs].join(" ");
}

function targetKeys(w: World, rule: string): string[] {
  return [...ruleText(w, rule).matchAll(/%\(([^)]+)\)s/g)].map((m) => m[1]!);
}

async function expected(w: World, rule: string, token: string, target: Record<string, unknown>): Promise<boolean> {
  const caller = await w.tc.cloud.identity.tokens.authenticate(token);
  return w.engine.scopeAllowed(rule, caller.scope) && w.engine.check(rule, flattenTarget(target), caller.creds);
}

function verdict(res: Response): "allowed" | "forbidden" | "other" {
  if (res.status === 403) return "forbidden";
  // Allowed: a success, or a 404 for what the caller may look at but is not there (check-grant).
  if ((res.status >= 200 && res.status < 300) || res.status === 404) return "allowed";
  return "other";
}

function shapeOk(res: Response, method: string): boolean {
  if (method === "HEAD") return true;
  const e = res.body?.error;
  return e?.code === 403 && typeof e.title === "string" && typeof e.message === "string";
}

// ---------------------------------------------------------------- schema bodies

/** The entity key of a wrapped body schema ({"project": {...}} → "project"). */
function entityKey(s: Schema | undefined): string | undefined {
  const req = (s?.["required"] ?? []) as string[];
  return req.length === 1 ? req[0] : undefined;
}

// ---------------------------------------------------------------- the suites

function check(
  w: World,
  hand: Record<string, Expect>,
  key: string,
  cell: Cell,
  rule: string,
  engineSays: boolean,
  res: Response,
  method: string,
  problems: string[],
): void {
  const name = cellName(cell);
  const got = verdict(res);
  const tag = `${key} as ${name} (${rule})`;
  if (HANDLER_FORBIDS[key]?.includes(name)) {
    if (res.status !== 403) problems.push(`${tag}: expected 403 from the handler (not policy), got ${res.status} ${res.text.slice(0, 160)}`);
    return;
  }
  const handSays = hand[key]?.[name];
  if (handSays !== undefined && handSays !== engineSays) {
    problems.push(`${tag}: policy engine says ${engineSays ? "allowed" : "403"} but Keystone's defaults say ${handSays ? "allowed" : "403"}`);
  }
  const want = handSays ?? engineSays;
  if (got === "other") {
    problems.push(`${tag}: expected ${want ? "allowed" : "403"}, got ${res.status} ${res.text.slice(0, 160)}`);
  } else if ((got === "allowed") !== want) {
    problems.push(`${tag}: expected ${want ? "allowed" : "403"}, got ${res.status} ${res.text.slice(0, 160)}`);
  } else if (got === "forbidden" && !shapeOk(res, method)) {
    problems.push(`${tag}: 403 body is not the identity error shape: ${res.text.slice(0, 160)}`);
  }
  void w;
}

function suite(title: string, opts: { enforceScope: boolean; enforceNewDefaults: boolean }, hand: Record<string, Expect>): void {
  describe(title, async () => {
    const w = await build(opts);
    after(() => w.tc.close());
    const covered = new Set<string>();

    for (const route of w.routes) {
      const key = `${route.method} ${route.path}`;
      const rule = route.policy;
      if (!rule) continue;

      if (route.method === "GET" || route.method === "HEAD") {
        test(`read: ${key} (${rule})`, async (t) => {
          const unknown = targetKeys(w, rule).filter((k) => !KNOWN_TARGET.test(k));
          if (unknown.length > 0 && !hand[key]) {
            t.skip(`rule reads ${unknown.join(", ")}, which this suite does not build`);
            return;
          }
          const problems: string[] = [];
          let ran = 0;
          for (const cell of CELLS) {
            if (cell.who !== cell.owner && !/:(project_id|user_id|target_id|actor_id)/.test(route.path)) continue;
            const b = await buildRequest(w, route, cell);
            if (b.skip) {
              t.diagnostic(`${cellName(cell)}: ${b.skip}`);
              continue;
            }
            const token = w.personas[cell.who].token;
            const res = await w.tc.request(route.method, `/identity${b.path}`, { token, headers: b.headers });
            check(w, hand, key, cell, rule, await expected(w, rule, token, b.target), res, route.method, problems);
            ran++;
          }
          if (ran > 0) covered.add(key);
          assert.deepEqual(problems, [], problems.join("\n"));
        });
        continue;
      }

      // Writes: only rules that do not depend on the target (the admin-only ones), so the engine's
      // answer is exact; creates on a collection, updates and deletes on a fresh victim.
      if (targetKeys(w, rule).length > 0) continue;
      const segs = segsOf(route.path);
      const params = segs.filter((s) => s.startsWith(":"));
      const isCreate = route.method === "POST" && params.length === 0 && route.body !== undefined;
      const isItem = (route.method === "PATCH" || route.method === "DELETE") && params.length === 1 && segs[segs.length - 1]!.startsWith(":");
      if (!isCreate && !isItem) continue;
      const collPath = isCreate ? route.path : segs.slice(0, -1).join("/");
      const create = w.routes.find((r) => r.method === "POST" && r.path === collPath && r.body !== undefined);
      if (!create) continue;

      test(`write: ${key} (${rule})`, async (t) => {
        const admin = await w.tc.adminToken();
        const problems: string[] = [];
        for (const who of PERSONAS) {
          const cell: Cell = { who, owner: who };
          const token = w.personas[who].token;
          const want = await expected(w, rule, token, {});
          let path = collPath;
          let body: unknown;
          if (isCreate) {
            body = sample(route.body as Schema);
          } else {
            // A victim made by the admin, disabled where it can be (Keystone deletes only disabled domains).
            const vbody = sample(create.body as Schema) as Record<string, Record<string, unknown>>;
            const k = entityKey(create.body as Schema);
            const ent = k ? ((create.body as Schema)["properties"]?.[k] as Schema | undefined) : undefined;
            if (k && ent?.["properties"]?.["enabled"]) vbody[k]!["enabled"] = false;
            const v = await w.tc.request("POST", `/identity${collPath}`, { token: admin, body: vbody });
            const id = k ? (v.body?.[k]?.id as string | undefined) : undefined;
            if (v.status !== 201 || !id) {
              t.diagnostic(`could not create a victim for ${key}: ${v.status} ${v.text.slice(0, 120)}`);
              return;
            }
            path = `${collPath}/${encodeURIComponent(id)}`;
            if (route.method === "PATCH") body = sample(route.body as Schema);
          }
          const res = await w.tc.request(route.method, `/identity${path}`, { token, ...(body !== undefined ? { body } : {}) });
          if (want && (res.status === 400 || res.status === 409) && !hand[key]) {
            t.diagnostic(`${who}: allowed, but the generated body was refused (${res.status}); not judged`);
            continue;
          }
          check(w, hand, key, cell, rule, want, res, route.method, problems);
        }
        covered.add(key);
        assert.deepEqual(problems, [], problems.join("\n"));
      });
    }

    test("every hand-written expectation was exercised (or its route is not built yet)", (t) => {
      const present = new Set(w.routes.map((r) => `${r.method} ${r.path}`));
      const missingRoute = Object.keys(hand).filter((k) => !present.has(k));
      if (missingRoute.length > 0) t.diagnostic(`routes not built yet: ${missingRoute.join(", ")}`);
      const unexercised = Object.keys(hand).filter((k) => present.has(k) && !covered.has(k));
      assert.deepEqual(unexercised, []);
    });

    test("the persona tokens carry the roles and scopes the matrix assumes", async () => {
      for (const p of Object.values(w.personas)) {
        const c = await w.tc.cloud.identity.tokens.authenticate(p.token);
        const names = c.roles.map((r) => r.name).sort();
        if (p.who === "sysreader") {
          assert.equal(c.scope, "system");
          assert.deepEqual(names, ["reader"]);
        } else {
          assert.equal(c.scope, "project");
          assert.equal(c.projectId, p.projectId);
          const want = { admin: ["admin", "member", "reader"], member: ["member", "reader"], reader: ["reader"], other: ["member", "reader"] }[p.who];
          assert.deepEqual(names, want);
        }
      }
    });
  });
}

suite("personas, Keystone's default policy settings", { enforceScope: false, enforceNewDefaults: false }, DEFAULT_EXPECT);
suite("personas, enforce_scope and enforce_new_defaults on", { enforceScope: true, enforceNewDefaults: true }, STRICT_EXPECT);
