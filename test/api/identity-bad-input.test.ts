/**
 * Bad input against EVERY identity route, generated from the route table the server is built
 * from (identityRoutes over the running cloud's Identity), so routes added later are covered
 * without touching this file.
 *
 * Keystone's contract for bad input (keystone/server/flask/request_processing/json_body.py,
 * common/validation, the sizelimit middleware, the auth context middleware): a 4xx in the
 * identity error shape {"error": {"code", "title", "message"}}, never a 500, and nothing
 * written. Cases per route:
 *   - malformed JSON body → 400 (Keystone parses a body on any method)
 *   - for routes with a body schema: a JSON array / a string, each property given a wrong
 *     type, each required property removed, a nested garbage object in place of a field → 400
 *   - a body over max_request_body_size (114688) → 413
 *   - an unknown id in each path parameter → 404 (a few documented exceptions)
 *   - no X-Auth-Token on a token route → 401 with WWW-Authenticate: Keystone uri="…/identity"
 *   - an undecodable X-Auth-Token → 401
 * "Nothing written" is checked by fingerprinting every table of the database before and after
 * each route's battery of cases.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { after, test } from "node:test";
import { Ajv } from "ajv";
import type { ValidateFunction } from "ajv";
import { sql } from "kysely";
import type { Route } from "../../src/http/context.js";
import { identityRoutes } from "../../src/services/identity/routes.js";
import { startTestCloud, unique } from "../support/cloud.js";
import { sample } from "../support/schema-sample.js";
import type { Schema } from "../support/schema-sample.js";

const tc = await startTestCloud();
after(() => tc.close());
const routes: Route[] = identityRoutes(tc.cloud.identity);
const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false });
const BODY_LIMIT = tc.cloud.identity.core.config.identity.maxRequestBodySize;

// ---------------------------------------------------------------- raw HTTP (fetch refuses GET/HEAD bodies)

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function send(method: string, path: string, o: { token?: string; body?: string; contentType?: string } = {}): Promise<Res> {
  const u = new URL(`${tc.url}/identity${path}`);
  const headers: Record<string, string> = {};
  if (o.token) headers["x-auth-token"] = o.token;
  if (o.body !== undefined) {
    headers["content-type"] = o.contentType ?? "application/json";
    headers["content-length"] = String(Buffer.byteLength(o.body));
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
      res.on("error", reject);
    });
    // A server answering 413 early may reset the connection while we still write.
    req.on("error", (e) => {
      if (!answered) reject(e);
    });
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

// ---------------------------------------------------------------- fixtures

const admin = await tc.adminToken();
async function adminJson(method: string, path: string, body?: unknown): Promise<Res> {
  return send(method, path, { token: admin, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
}
async function must(method: string, path: string, body?: unknown): Promise<Res> {
  const r = await adminJson(method, path, body);
  if (r.status >= 300) throw new Error(`fixture ${method} ${path}: ${r.status} ${r.text}`);
  return r;
}

const domain = (await must("POST", "/v3/domains", { domain: { name: unique("bd") } })).body.domain.id as string;
const project = (await must("POST", "/v3/projects", { project: { name: unique("bp"), domain_id: "default", tags: ["t1"] } })).body.project
  .id as string;
const userPassword = unique("pw");
const user = (await must("POST", "/v3/users", { user: { name: unique("bu"), domain_id: "default", password: userPassword } })).body.user
  .id as string;
const role = (await must("POST", "/v3/roles", { role: { name: unique("br") } })).body.role.id as string;
await must("PUT", `/v3/projects/${project}/users/${user}/roles/${role}`);
const groupRes = await adminJson("POST", "/v3/groups", { group: { name: unique("bg"), domain_id: "default" } });
const group = groupRes.status === 201 ? (groupRes.body.group.id as string) : undefined;
if (group) await adminJson("PUT", `/v3/groups/${group}/users/${user}`);
// A domain-specific configuration to aim the domain-config routes at (ignored when absent).
await adminJson("PUT", `/v3/domains/${domain}/config`, { config: { identity: { driver: "sql" } } });

function unknownId(): string {
  return randomBytes(16).toString("hex");
}

/** Last literal segment before index i of a path's segments (the collection a param indexes). */
function collectionOf(segs: string[], i: number): string {
  for (let j = i - 1; j >= 0; j--) if (!segs[j]!.startsWith(":")) return segs[j]!;
  return "";
}

/**
 * A real value for each path parameter: well-known fixtures by name, else the first item
 * of the collection the parameter indexes, listed as admin (so later routes such as
 * /v3/regions/:region_id resolve on their own). Undefined when nothing exists.
 */
async function resolveParams(route: Route): Promise<Record<string, string | undefined>> {
  const segs = route.path.split("/");
  const out: Record<string, string | undefined> = {};
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    if (!s.startsWith(":")) continue;
    const name = s.slice(1);
    const coll = collectionOf(segs, i);
    let v: string | undefined;
    if (coll === "projects") v = project;
    else if (coll === "users") v = user;
    else if (coll === "groups") v = group;
    else if (coll === "domains") v = domain;
    else if (coll === "roles") v = role;
    else if (coll === "tags") v = "t1";
    else if (name === "group" && route.path.includes("/config")) v = "identity";
    else if (name === "option" && route.path.includes("/config")) v = "driver";
    else {
      const prefix = fill(segs.slice(0, i).join("/"), out);
      if (prefix && !prefix.includes("/:")) {
        const r = await adminJson("GET", prefix);
        const key = Object.keys(r.body ?? {}).find((k) => Array.isArray(r.body[k]));
        const first: unknown = key ? r.body[key][0] : undefined;
        if (typeof first === "string") v = first;
        else if (first && typeof first === "object" && typeof (first as { id?: unknown }).id === "string") v = (first as { id: string }).id;
      }
    }
    out[name] = v;
  }
  return out;
}

function fill(path: string, params: Record<string, string | undefined>): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, (m, n: string) => (params[n] !== undefined ? encodeURIComponent(params[n]!) : m));
}

function paramNames(route: Route): string[] {
  return [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
}

// ---------------------------------------------------------------- bodies from the route's schema

const GARBAGE = { garbage: { deeper: [1, { x: null, y: ["z", { w: {} }] }], n: -1 } };
const WRONG: unknown[] = [12345, "wrong-type", true, GARBAGE, [1, 2], null];

interface Case {
  what: string;
  body: string;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Paths (arrays of keys) to every property the schema declares, to depth 3. */
function propertyPaths(s: Schema, prefix: string[] = [], depth = 0): { path: string[]; required: boolean }[] {
  if (depth >= 3 || s["type"] !== "object") return [];
  const out: { path: string[]; required: boolean }[] = [];
  const props = (s["properties"] ?? {}) as Record<string, Schema>;
  const req = (s["required"] ?? []) as string[];
  for (const [k, sub] of Object.entries(props)) {
    out.push({ path: [...prefix, k], required: req.includes(k) });
    out.push(...propertyPaths(sub, [...prefix, k], depth + 1));
  }
  return out;
}

function setAt(obj: unknown, path: string[], v: unknown, del = false): unknown {
  const root = clone(obj) as Record<string, unknown>;
  let cur: Record<string, unknown> = root;
  for (const k of path.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== "object" || Array.isArray(cur[k])) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (del) delete cur[last];
  else cur[last] = v;
  return root;
}

/** Schema-violating bodies (each verified invalid with the same Ajv the kernel uses). */
function invalidBodies(schema: Schema, check: ValidateFunction): Case[] {
  const base = sample(schema);
  const cases: Case[] = [
    { what: "JSON array body", body: "[]" },
    { what: "JSON array of the valid body", body: JSON.stringify([base]) },
    { what: "JSON string body", body: '"just a string"' },
  ];
  for (const { path, required } of propertyPaths(schema)) {
    for (const w of WRONG) {
      const b = setAt(base, path, w);
      if (!check(b)) {
        cases.push({ what: `wrong type at ${path.join(".")} (${JSON.stringify(w).slice(0, 20)})`, body: JSON.stringify(b) });
        break;
      }
    }
    if (required) {
      const b = setAt(base, path, undefined, true);
      if (!check(b)) cases.push({ what: `missing required ${path.join(".")}`, body: JSON.stringify(b) });
    }
    const g = setAt(base, path, GARBAGE);
    if (!check(g)) cases.push({ what: `nested garbage in place of ${path.join(".")}`, body: JSON.stringify(g) });
  }
  return cases;
}

/** Extra nested garbage next to valid fields: invalid only where the schema forbids extras. */
function garbageBodies(schema: Schema): unknown[] {
  const base = sample(schema);
  const out: unknown[] = [{ ...(base as object), ...GARBAGE }];
  for (const { path } of propertyPaths(schema)) {
    const sub = (path.reduce<Schema | undefined>((s, k) => (s?.["properties"] as Record<string, Schema> | undefined)?.[k], schema) ?? {}) as Schema;
    if (sub["type"] === "object") out.push(setAt(base, [...path, "garbage"], GARBAGE.garbage));
  }
  return out;
}

// ---------------------------------------------------------------- state fingerprint

const { db, dialect } = tc.cloud.database;

async function fingerprint(): Promise<Map<string, string>> {
  const tables =
    dialect === "sqlite"
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)).rows
      : (
          await sql<{ name: string }>`select table_name as name from information_schema.tables
            where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db)
        ).rows;
  const out = new Map<string, string>();
  for (const { name } of tables) {
    if (name.startsWith("kysely_")) continue;
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db)).rows;
    const lines = rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).sort();
    out.set(name, `${rows.length}:${createHash("sha256").update(lines.join("\n")).digest("hex")}`);
  }
  return out;
}

function diff(a: Map<string, string>, b: Map<string, string>): string[] {
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names].filter((n) => a.get(n) !== b.get(n)).map((n) => `${n} (${a.get(n)?.split(":")[0] ?? "-"} → ${b.get(n)?.split(":")[0] ?? "-"} rows)`);
}

// ---------------------------------------------------------------- expectations

/**
 * Where an unknown id in a path parameter is not 404 in Keystone 22 (keystone/api/*.py), as
 * [method, path, param, statuses]; "skip": the parameter is a value the request creates.
 * Keystone enforces policy before most lookups and looks some ids up not at all.
 */
const UNKNOWN_ID: Array<[string, RegExp, string, number[] | "skip"]> = [
  // UserChangePasswordResource: authenticating the unknown user fails → 401.
  ["POST", /^\/v3\/users\/:user_id\/password$/, "user_id", [401]],
  // Tags are values: PUT creates the tag.
  ["PUT", /^\/v3\/projects\/:project_id\/tags\/:tag$/, "tag", "skip"],
  // PUT regions/federation entities by id creates them.
  ["PUT", /^\/v3\/regions\/:[^/]+$/, "*", "skip"],
  ["PUT", /^\/v3\/OS-FEDERATION\/(identity_providers|service_providers|mappings)\/:[^/]+$/, "*", "skip"],
  ["PUT", /\/protocols\/:protocol_id$/, "protocol_id", "skip"],
  // list_application_credentials: no user lookup, an empty list.
  ["GET", /^\/v3\/users\/:user_id\/application_credentials$/, "user_id", [200]],
  // create_application_credential is "user_id:%(user_id)s": the admin is not that user.
  ["POST", /^\/v3\/users\/:user_id\/application_credentials$/, "user_id", [403]],
  // access rules: only the owner or a system reader/admin; a project admin is neither.
  ["*", /^\/v3\/users\/:user_id\/access_rules/, "*", [403]],
  // OAuth1 access tokens of a user: no user lookup, an empty list.
  ["GET", /^\/v3\/users\/:user_id\/OS-OAUTH1\/access_tokens$/, "user_id", [200]],
  // os_inherit.py builds the target without the missing user/group, list_grants only checks the domain.
  ["GET", /^\/v3\/OS-INHERIT\/domains\/:target_id\/(users|groups)\/:actor_id\/roles\/inherited_to_projects$/, "actor_id", [200]],
  // os_ep_filter.py: projects of an endpoint group are listed without looking the group up.
  ["GET", /^\/v3\/OS-EP-FILTER\/endpoint_groups\/:endpoint_group_id\/projects$/, "endpoint_group_id", [200]],
];

function expectedUnknown(route: Route, param: string): number[] | "skip" {
  for (const [m, re, p, want] of UNKNOWN_ID) {
    if ((m === "*" || m === route.method) && re.test(route.path) && (p === "*" || p === param)) return want;
  }
  // keystone/resource/config_backends + core.py: a config group or option outside the allowed
  // set is InvalidDomainConfig (403); an allowed one with nothing stored is 404.
  if (route.path.includes("/config") && (param === "group" || param === "option")) return [403, 404];
  return [404];
}

function checkShape(r: Res, method: string, problems: string[], what: string): void {
  if (r.status >= 500) {
    problems.push(`${what}: got ${r.status} (never 5xx) ${r.text.slice(0, 200)}`);
    return;
  }
  if (r.status < 400 || r.status >= 500) {
    problems.push(`${what}: expected 4xx, got ${r.status} ${r.text.slice(0, 200)}`);
    return;
  }
  if (method === "HEAD") return;
  const e = r.body?.error;
  if (!e || typeof e !== "object") {
    problems.push(`${what}: ${r.status} body is not {"error": …}: ${r.text.slice(0, 200)}`);
    return;
  }
  if (e.code !== r.status) problems.push(`${what}: error.code ${String(e.code)} != status ${r.status}`);
  if (typeof e.title !== "string" || e.title === "") problems.push(`${what}: error.title missing`);
  if (typeof e.message !== "string" || e.message === "") problems.push(`${what}: error.message missing`);
  const ct = String(r.headers["content-type"] ?? "");
  if (!ct.startsWith("application/json")) problems.push(`${what}: content-type ${ct}`);
}

function expectStatus(r: Res, method: string, want: number | number[], problems: string[], what: string): void {
  const n = problems.length;
  const ok0 = Array.isArray(want) ? want : [want];
  if (r.status < 400 && ok0.includes(r.status)) return; // a documented Keystone success
  checkShape(r, method, problems, what);
  const ok = Array.isArray(want) ? want : [want];
  if (problems.length === n && !ok.includes(r.status)) problems.push(`${what}: expected ${ok.join("|")}, got ${r.status} ${r.text.slice(0, 200)}`);
}

// ---------------------------------------------------------------- the generated tests

test("the route table is not empty and every route is unique", () => {
  assert.ok(routes.length > 20, `only ${routes.length} routes`);
  const keys = routes.map((r) => `${r.method} ${r.path}`);
  assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), []);
});

for (const route of routes) {
  const label = `${route.method} ${route.path} (${route.operation})`;
  test(`bad input: ${label}`, async () => {
    const problems: string[] = [];
    const params = await resolveParams(route);
    const names = paramNames(route);
    const known: Record<string, string> = {};
    for (const n of names) known[n] = params[n] ?? unknownId();
    const path = fill(route.path, known);
    const token = route.auth === "none" ? undefined : admin;
    const tok = token ? { token } : {};
    const hasBody = route.body !== undefined && route.method !== "GET" && route.method !== "HEAD";
    // Cases about ids and tokens carry an otherwise valid body, so only the id or token is wrong.
    const good = hasBody ? { body: JSON.stringify(sample(route.body as Schema)) } : {};

    const before = await fingerprint();

    // Malformed JSON, on every route (Keystone rejects it whatever the method).
    for (const raw of ['{"broken": ', "{'single': 'quotes'}", "\u0000\u0001garbage"]) {
      const r = await send(route.method, path, { ...tok, body: raw });
      expectStatus(r, route.method, 400, problems, `malformed JSON ${JSON.stringify(raw).slice(0, 16)}`);
    }

    // Schema violations.
    if (hasBody) {
      const check = ajv.compile(route.body as object);
      for (const c of invalidBodies(route.body as Schema, check)) {
        const r = await send(route.method, path, { ...tok, body: c.body });
        expectStatus(r, route.method, 400, problems, c.what);
      }
    }

    // Over the body size limit.
    {
      const big = JSON.stringify({ padding: "a".repeat(BODY_LIMIT + 1024) });
      const r = await send(route.method, path, { ...tok, body: big });
      expectStatus(r, route.method, 413, problems, `body of ${big.length} bytes`);
    }

    // Unknown ids: all at once, then each alone with the others real.
    if (names.length > 0) {
      const all: Record<string, string> = {};
      for (const n of names) all[n] = unknownId();
      const wants = names.map((n) => expectedUnknown(route, n));
      if (!wants.includes("skip")) {
        const wantAll = [...new Set(wants.flatMap((w) => (w === "skip" ? [] : w)))];
        const r = await send(route.method, fill(route.path, all), { ...tok, ...good });
        expectStatus(r, route.method, wantAll, problems, `unknown ids in all of ${names.join(", ")}`);
      }
      for (const n of names) {
        const want = expectedUnknown(route, n);
        if (want === "skip") continue;
        if (names.some((o) => o !== n && params[o] === undefined)) continue; // no real value for the others
        const r = await send(route.method, fill(route.path, { ...known, [n]: unknownId() }), { ...tok, ...good });
        expectStatus(r, route.method, want, problems, `unknown ${n}`);
      }
    }

    // Authentication.
    if ((route.auth ?? "token") === "token") {
      const r = await send(route.method, path, good);
      expectStatus(r, route.method, 401, problems, "no X-Auth-Token");
      const www = r.headers["www-authenticate"];
      if (www !== `Keystone uri="${tc.url}/identity"`) problems.push(`no X-Auth-Token: WWW-Authenticate is ${JSON.stringify(www)}`);
      const r2 = await send(route.method, path, { token: "gAAAAAbogus-token-value", ...good });
      expectStatus(r2, route.method, 401, problems, "undecodable X-Auth-Token");
    }

    const afterState = await fingerprint();
    const changed = diff(before, afterState);
    if (changed.length > 0) problems.push(`bad input changed the database: ${changed.join(", ")}`);

    // Extra nested garbage next to valid fields: Keystone's schemas mostly allow extras (they
    // become "extra" attributes), so only where the schema forbids them is 400 required; any
    // answer must still be well-formed and never a 500. Run last: an allowed one may write.
    if (hasBody) {
      const check = ajv.compile(route.body as object);
      for (const b of garbageBodies(route.body as Schema)) {
        const r = await send(route.method, path, { ...tok, body: JSON.stringify(b) });
        if (!check(b)) expectStatus(r, route.method, 400, problems, `extra nested garbage ${JSON.stringify(b).slice(0, 60)}`);
        else if (r.status >= 500) problems.push(`extra nested garbage (schema-valid): ${r.status} ${r.text.slice(0, 200)}`);
      }
    }

    assert.deepEqual(problems, [], `${label}:\n  ${problems.join("\n  ")}`);
  });
}
