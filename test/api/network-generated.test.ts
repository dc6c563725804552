/**
 * Bad input and personas against EVERY Neutron route, generated from what the server is built
 * from: the resource definitions (attribute maps) registered by api/resource.ts and the route
 * table (networkRoutesAll), so resources added later are covered without touching this file.
 *
 * Neutron's contract for bad input: a 4xx in its error shape
 * {"NeutronError": {"type", "message", "detail"}}, never a 500, and nothing written.
 *   - malformed JSON, a body that is not an object, a missing resource key → 400
 *   - an unknown attribute, an attribute not allowed in POST/PUT, each attribute given a
 *     value of the wrong shape, each required attribute left out → 400
 *   - an unknown id in each path parameter → 404; no token → 401
 *   - an unknown filter, sort key or a bad limit on each list → 400
 * "Nothing written" is checked by fingerprinting every network table before and after each
 * resource's battery. Personas: a member of another project gets 404 (never 403, never the
 * resource) for each project-owned resource, and never sees it in a list; a reader of the
 * owning project can read but not change it.
 */
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { after, test } from "node:test";
import { sql } from "kysely";
import type { Route } from "../../src/http/context.js";
import { RESOURCES, allAttrs } from "../../src/services/network/api/resource.js";
import type { ResourceDef } from "../../src/services/network/api/resource.js";
import { networkRoutesAll } from "../../src/services/network/routes.js";
import { persona, startTestCloud, unique } from "../support/cloud.js";

const tc = await startTestCloud();
after(() => tc.close());
const routes: Route[] = networkRoutesAll(tc.cloud.network);
const BASE = "/networking";
const GARBAGE = [["stackbox-garbage"]];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;

function isNeutronError(res: { status: number; body: Body; text: string }, what: string, statuses: number[]): void {
  assert.ok(res.status !== 500, `${what}: 500 ${res.text}`);
  assert.ok(statuses.includes(res.status), `${what}: expected ${statuses.join("/")}, got ${res.status} ${res.text}`);
  assert.ok(res.body?.NeutronError, `${what}: NeutronError body expected, got ${res.text}`);
  assert.equal(typeof res.body.NeutronError.type, "string", what);
  assert.equal(typeof res.body.NeutronError.message, "string", what);
}

async function raw(method: string, path: string, o: { token?: string; body?: string } = {}): Promise<{ status: number; body: Body; text: string }> {
  const headers: Record<string, string> = {};
  if (o.token) headers["x-auth-token"] = o.token;
  if (o.body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(`${tc.url}${BASE}${path}`, { method, headers, ...(o.body !== undefined ? { body: o.body } : {}) });
  const text = await r.text();
  let body: Body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: r.status, body, text };
}

/** A digest of every network table: any write shows up as a different digest. */
async function fingerprint(): Promise<string> {
  const db = tc.cloud.database.db;
  const tables =
    tc.cloud.database.dialect === "sqlite"
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name like 'net\_%' escape '\\'`.execute(db)).rows.map((r) => r.name)
      : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_name like 'net\\_%'`.execute(db)).rows.map((r) => r.name);
  const h = createHash("sha256");
  for (const t of tables.sort()) {
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(t)}`.execute(db)).rows;
    h.update(t);
    for (const r of rows.map((x) => JSON.stringify(x)).sort()) h.update(r);
  }
  return h.digest("hex");
}

// ---------------------------------------------------------------- fixtures

const admin = await tc.adminToken();
const owner = await persona(tc, "member");
const reader = await persona(tc, "reader", { projectId: owner.projectId });
const stranger = await persona(tc, "member");
const publicNet = (await raw("GET", "/v2.0/networks?router:external=True", { token: admin })).body.networks[0]?.id as string;
let seq = 0;

/** A valid create body for each collection (what a client would send), given earlier fixtures. */
async function validBody(def: ResourceDef, token: string): Promise<Record<string, unknown> | undefined> {
  seq++;
  const net = async (): Promise<string> => (await create("/v2.0/networks", "network", { name: unique("gn") }, token))!;
  switch (def.plural) {
    case "networks":
      return { name: unique("gn") };
    case "subnets":
      return { network_id: await net(), cidr: `10.${100 + (seq % 100)}.${seq % 250}.0/24`, ip_version: 4 };
    case "ports":
      return { network_id: await net() };
    case "routers":
      return { name: unique("gr") };
    case "floatingips":
      return { floating_network_id: publicNet };
    case "security_groups":
      return { name: unique("gsg") };
    case "security_group_rules": {
      const sg = await create("/v2.0/security-groups", "security_group", { name: unique("gsg") }, token);
      return sg ? { security_group_id: sg, direction: "ingress", protocol: "tcp", port_range_min: 1000 + seq, port_range_max: 1000 + seq } : undefined;
    }
    case "subnetpools":
      return { name: unique("gsp"), prefixes: [`10.${seq % 200}.0.0/16`], default_prefixlen: 24 };
    case "address_scopes":
      return { name: unique("gas"), ip_version: 4 };
    case "rbac_policies":
      return { object_type: "network", object_id: await net(), action: "access_as_shared", target_tenant: stranger.projectId };
    case "metering_labels":
      return { name: unique("ml") };
    case "metering_label_rules": {
      const l = await create("/v2.0/metering/metering-labels", "metering_label", { name: unique("ml") }, admin);
      return l ? { metering_label_id: l, direction: "ingress", remote_ip_prefix: "10.0.0.0/24" } : undefined;
    }
    default:
      return undefined;
  }
}

async function create(path: string, singular: string, body: Record<string, unknown>, token: string): Promise<string | undefined> {
  const r = await raw("POST", path, { token, body: JSON.stringify({ [singular]: body }) });
  return r.status === 201 ? (r.body[singular].id as string) : undefined;
}

/** Sub-collections (port forwardings under a floating IP) need their parent's id in the path. */
async function concretePath(def: ResourceDef, token: string): Promise<string | undefined> {
  if (!def.path.includes(":")) return def.path;
  if (def.path.includes(":floatingip_id")) {
    const fip = await create("/v2.0/floatingips", "floatingip", { floating_network_id: publicNet }, token);
    return fip ? def.path.replace(":floatingip_id", fip) : undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------- bad input per resource

for (const def of [...RESOURCES.values()]) {
  test(`bad input: ${def.path}`, async () => {
    const path = await concretePath(def, admin);
    if (!path) return; // a sub-collection whose parent this test cannot build
    const attrs = allAttrs(def);
    const body = await validBody(def, admin);
    const existing = body ? await create(path, def.singular, body, admin) : undefined;
    const hasCreate = routes.some((r) => r.method === "POST" && r.path === def.path);
    const hasUpdate = routes.some((r) => r.method === "PUT" && r.path === `${def.path}/:id`);
    const before = await fingerprint();
    const post = (b: string, what: string): Promise<void> =>
      raw("POST", path, { token: admin, body: b }).then((r) => isNeutronError(r, `POST ${def.path} ${what}`, [400]));

    if (hasCreate) {
      await post("{nope", "malformed JSON");
      await post("[]", "a JSON array");
      await post('"x"', "a JSON string");
      await post(JSON.stringify({ other: {} }), "no resource key");
      await post(JSON.stringify({ [def.singular]: "x" }), "resource not an object");
      await post(JSON.stringify({ [def.singular]: { ...body, stackbox_bogus: 1 } }), "unknown attribute");
      for (const [name, a] of Object.entries(attrs)) {
        if (name === "project_id" || name === "tenant_id") continue;
        if (!a.post) {
          await post(JSON.stringify({ [def.singular]: { ...body, [name]: "x" } }), `read-only ${name}`);
          continue;
        }
        await post(JSON.stringify({ [def.singular]: { ...body, [name]: GARBAGE } }), `garbage ${name}`);
        if (body && !("default" in a) && name in body) {
          const { [name]: _drop, ...rest } = body;
          await post(JSON.stringify({ [def.singular]: rest }), `missing required ${name}`);
        }
      }
    }
    if (existing && hasUpdate) {
      const put = (b: string, what: string): Promise<void> =>
        raw("PUT", `${path}/${existing}`, { token: admin, body: b }).then((r) => isNeutronError(r, `PUT ${def.path} ${what}`, [400]));
      await put("{nope", "malformed JSON");
      await put(JSON.stringify({ other: {} }), "no resource key");
      await put(JSON.stringify({ [def.singular]: { stackbox_bogus: 1 } }), "unknown attribute");
      for (const [name, a] of Object.entries(attrs)) {
        if (a.put) await put(JSON.stringify({ [def.singular]: { [name]: GARBAGE } }), `garbage ${name}`);
        else await put(JSON.stringify({ [def.singular]: { [name]: "x" } }), `read-only ${name}`);
      }
    }
    const missing = randomUUID();
    isNeutronError(await raw("GET", `${path}/${missing}`, { token: admin }), `GET unknown ${def.path}`, [404]);
    isNeutronError(await raw("GET", `${path}/not-a-uuid`, { token: admin }), `GET non-uuid ${def.path}`, [404]);
    if (hasUpdate) isNeutronError(await raw("PUT", `${path}/${missing}`, { token: admin, body: JSON.stringify({ [def.singular]: {} }) }), `PUT unknown ${def.path}`, [404]);
    if (routes.some((r) => r.method === "DELETE" && r.path === `${def.path}/:id`)) {
      isNeutronError(await raw("DELETE", `${path}/${missing}`, { token: admin }), `DELETE unknown ${def.path}`, [404]);
    }
    isNeutronError(await raw("GET", `${path}?stackbox_bogus=1`, { token: admin }), `list filter ${def.path}`, [400]);
    // Collections Neutron builds without sorting or pagination ignore those parameters.
    if (def.sorting !== false) isNeutronError(await raw("GET", `${path}?sort_key=stackbox_bogus&sort_dir=asc`, { token: admin }), `sort key ${def.path}`, [400]);
    if (def.pagination !== false) isNeutronError(await raw("GET", `${path}?limit=many`, { token: admin }), `limit ${def.path}`, [400]);
    isNeutronError(await raw("GET", path), `no token ${def.path}`, [401]);
    assert.equal(await fingerprint(), before, `${def.path}: a refused request changed the database`);
  });
}

// ---------------------------------------------------------------- every route: unknown ids, no token

test("every route: unknown ids answer 404 and no token 401, in the Neutron shape", async () => {
  const before = await fingerprint();
  for (const r of routes) {
    if (r.auth === "none") continue;
    const path = r.path.replace(/:([a-z_]+)/g, () => randomUUID());
    const body = r.method === "POST" || r.method === "PUT" ? "{}" : undefined;
    isNeutronError(await raw(r.method, path, body === undefined ? {} : { body }), `${r.method} ${r.path} without a token`, [401]);
    if (!r.path.includes(":")) continue;
    // Neutron answers quotas for any project id (it does not ask Keystone): defaults, not 404.
    if (r.path.startsWith("/v2.0/quotas/")) continue;
    // Neutron lists a network's DHCP agents without looking the network up (an empty list).
    if (r.path === "/v2.0/networks/:id/dhcp-agents") continue;
    // Some action routes validate their body before looking the resource up, as Neutron does.
    const res = await raw(r.method, path, body === undefined ? { token: admin } : { token: admin, body });
    isNeutronError(res, `${r.method} ${r.path} unknown id`, r.method === "PUT" || r.method === "POST" ? [400, 404] : [404]);
  }
  assert.equal(await fingerprint(), before, "a refused request changed the database");
});

// ---------------------------------------------------------------- personas

for (const def of [...RESOURCES.values()]) {
  test(`personas: ${def.path}`, async () => {
    const path = await concretePath(def, owner.token);
    if (!path) return;
    const body = await validBody(def, owner.token);
    const id = body ? await create(path, def.singular, body, owner.token) : undefined;
    if (!id) return; // not creatable by a project member (admin-only resources)
    const mine = await raw("GET", `${path}/${id}`, { token: owner.token });
    assert.equal(mine.status, 200, `${def.path}: the owner reads its own resource`);
    isNeutronError(await raw("GET", `${path}/${id}`, { token: stranger.token }), `stranger GET ${def.path}`, [404]);
    const list = await raw("GET", path, { token: stranger.token });
    assert.equal(list.status, 200);
    assert.ok(!JSON.stringify(list.body).includes(id), `${def.path}: another project's resource listed`);
    if (routes.some((r) => r.method === "PUT" && r.path === `${def.path}/:id`)) {
      isNeutronError(await raw("PUT", `${path}/${id}`, { token: stranger.token, body: JSON.stringify({ [def.singular]: {} }) }), `stranger PUT ${def.path}`, [404]);
    }
    if (routes.some((r) => r.method === "DELETE" && r.path === `${def.path}/:id`)) {
      isNeutronError(await raw("DELETE", `${path}/${id}`, { token: stranger.token }), `stranger DELETE ${def.path}`, [404]);
      const r = await raw("GET", `${path}/${id}`, { token: reader.token });
      if (r.status === 200) {
        isNeutronError(await raw("DELETE", `${path}/${id}`, { token: reader.token }), `reader DELETE ${def.path}`, [403]);
      }
    }
    assert.equal((await raw("GET", `${path}/${id}`, { token: owner.token })).status, 200, `${def.path}: still there`);
  });
}
