/**
 * Unified limits (/v3/registered_limits, /v3/limits, /v3/limits/model; keystone/api/
 * registered_limits.py, limits.py, limit/core.py, limit/backends/sql.py) and OS-OAUTH1
 * (keystone/api/os_oauth1.py, oauth1/, auth/plugins/oauth1.py, the access-token routes of
 * api/users.py): consumers as tempest's test_oauth_consumers.py drives them, and the whole
 * three-legged flow signed here the way tempest's OAUTHTokenClient signs it (HMAC-SHA1, RFC 5849).
 */
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import type { Response, TestCloud } from "../support/cloud.js";
import { passwordToken, persona, startTestCloud, unique, assertIdentityError } from "../support/cloud.js";

let tc: TestCloud;
let admin: string;
let system: string;
before(async () => {
  tc = await startTestCloud();
  admin = await tc.adminToken();
  system = await passwordToken(tc, { name: "admin", password: tc.adminPassword, system: true });
});
after(async () => {
  await tc.close();
});

const V3 = "/identity/v3";
const RL = `${V3}/registered_limits`;
const LIMITS = `${V3}/limits`;
const OAUTH = `${V3}/OS-OAUTH1`;


async function ok<T = any>(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> }, status: number): Promise<T> {
  const r = await tc.request(method, path, opts);
  assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
  return r.body as T;
}

async function createService(): Promise<string> {
  const b = await ok("POST", `${V3}/services`, { token: admin, body: { service: { type: unique("svc"), name: unique("svc") } } }, 201);
  return b.service.id;
}

async function createProject(domainId = "default"): Promise<string> {
  const b = await ok("POST", `${V3}/projects`, { token: admin, body: { project: { name: unique("p"), domain_id: domainId } } }, 201);
  return b.project.id;
}

async function createDomain(): Promise<string> {
  const b = await ok("POST", `${V3}/domains`, { token: admin, body: { domain: { name: unique("d") } } }, 201);
  return b.domain.id;
}

async function roleId(name: string): Promise<string> {
  const b = await ok("GET", `${V3}/roles?name=${name}`, { token: admin }, 200);
  return b.roles[0].id;
}

async function registered(serviceId: string, resource: string, extra: Record<string, unknown> = {}): Promise<any> {
  const b = await ok("POST", RL, { token: admin, body: { registered_limits: [{ service_id: serviceId, resource_name: resource, default_limit: 10, ...extra }] } }, 201);
  return b.registered_limits[0];
}

// ============================================================== registered limits

test("registered limits: create a list, show, filter, update, delete", async () => {
  const svc = await createService();
  const created = await ok(
    "POST",
    RL,
    {
      token: admin,
      body: {
        registered_limits: [
          { service_id: svc, resource_name: "cores", default_limit: 10, region_id: "RegionOne", description: "cores" },
          { service_id: svc, resource_name: "ram", default_limit: -1 },
        ],
      },
    },
    201,
  );
  assert.equal(created.links, undefined, "a created collection carries no collection links");
  assert.equal(created.registered_limits.length, 2);
  const [cores, ram] = created.registered_limits;
  assert.match(cores.id, /^[0-9a-f]{32}$/);
  assert.deepEqual(
    { ...cores, id: undefined, links: undefined },
    { id: undefined, links: undefined, service_id: svc, region_id: "RegionOne", resource_name: "cores", default_limit: 10, description: "cores" },
  );
  assert.equal(cores.links.self, `${tc.identity}/registered_limits/${cores.id}`);
  assert.equal(ram.region_id, null);
  assert.equal(ram.description, null);
  assert.equal(ram.default_limit, -1);

  const shown = await ok("GET", `${RL}/${cores.id}`, { token: admin }, 200);
  assert.deepEqual(shown.registered_limit, cores);

  const byService = await ok("GET", `${RL}?service_id=${svc}`, { token: admin }, 200);
  assert.deepEqual(byService.registered_limits.map((r: any) => r.id).sort(), [cores.id, ram.id].sort());
  assert.equal(byService.links.self, `${tc.url}${RL}?service_id=${svc}`);
  const byName = await ok("GET", `${RL}?service_id=${svc}&resource_name=ram`, { token: admin }, 200);
  assert.deepEqual(byName.registered_limits.map((r: any) => r.id), [ram.id]);
  const byRegion = await ok("GET", `${RL}?service_id=${svc}&region_id=RegionOne`, { token: admin }, 200);
  assert.deepEqual(byRegion.registered_limits.map((r: any) => r.id), [cores.id]);

  const upd = await ok("PATCH", `${RL}/${cores.id}`, { token: admin, body: { registered_limit: { default_limit: 20, description: null } } }, 200);
  assert.equal(upd.registered_limit.default_limit, 20);
  assert.equal(upd.registered_limit.description, null);
  // Moving to a free (service, region, resource) is allowed.
  const moved = await ok("PATCH", `${RL}/${ram.id}`, { token: admin, body: { registered_limit: { resource_name: "ram_mb" } } }, 200);
  assert.equal(moved.registered_limit.resource_name, "ram_mb");

  await ok("DELETE", `${RL}/${ram.id}`, { token: admin }, 204);
  assertIdentityError(await tc.request("GET", `${RL}/${ram.id}`, { token: admin }), 404, new RegExp(`Could not find registered limit for ${ram.id}`));
  assertIdentityError(await tc.request("DELETE", `${RL}/${ram.id}`, { token: admin }), 404);
  assertIdentityError(await tc.request("PATCH", `${RL}/${ram.id}`, { token: admin, body: { registered_limit: { default_limit: 1 } } }), 404);
});

test("registered limits: duplicates are 409 and a failed batch creates nothing", async () => {
  const svc = await createService();
  await registered(svc, "disk");
  const dup = await tc.request("POST", RL, { token: admin, body: { registered_limits: [{ service_id: svc, resource_name: "disk", default_limit: 1 }] } });
  assertIdentityError(dup, 409, /Conflict occurred attempting to store registered_limit - Duplicate entry/);
  // The same resource in another region is another registered limit.
  await registered(svc, "disk", { region_id: "RegionOne" });

  const batch = await tc.request("POST", RL, {
    token: admin,
    body: {
      registered_limits: [
        { service_id: svc, resource_name: "fresh", default_limit: 1 },
        { service_id: svc, resource_name: "fresh", default_limit: 2 },
      ],
    },
  });
  assertIdentityError(batch, 409);
  const after = await ok("GET", `${RL}?service_id=${svc}&resource_name=fresh`, { token: admin }, 200);
  assert.equal(after.registered_limits.length, 0);
});

test("registered limits: unknown service or region is 400, bad bodies are 400", async () => {
  const svc = await createService();
  assertIdentityError(
    await tc.request("POST", RL, { token: admin, body: { registered_limits: [{ service_id: "nope", resource_name: "x", default_limit: 1 }] } }),
    400,
    /Expecting to find service_id in registered_limit/,
  );
  assertIdentityError(
    await tc.request("POST", RL, { token: admin, body: { registered_limits: [{ service_id: svc, region_id: "Atlantis", resource_name: "x", default_limit: 1 }] } }),
    400,
    /Expecting to find region_id in registered_limit/,
  );
  for (const body of [
    { registered_limits: [] },
    { registered_limits: [{ service_id: svc, resource_name: "x" }] },
    { registered_limits: [{ service_id: svc, resource_name: "x", default_limit: -2 }] },
    { registered_limits: [{ service_id: svc, resource_name: "x", default_limit: 2 ** 31 }] },
    { registered_limits: [{ service_id: svc, resource_name: "x", default_limit: 1, bogus: 1 }] },
    { registered_limit: { service_id: svc, resource_name: "x", default_limit: 1 } },
  ]) {
    assertIdentityError(await tc.request("POST", RL, { token: admin, body }), 400);
  }
  const r = await registered(svc, "y");
  assertIdentityError(await tc.request("PATCH", `${RL}/${r.id}`, { token: admin, body: { registered_limit: { id: "other" } } }), 400);
  assertIdentityError(
    await tc.request("PATCH", `${RL}/${r.id}`, { token: admin, body: { registered_limit: { service_id: "nope" } } }),
    400,
    /service_id/,
  );
});

test("registered limits: an update that names its own service/region/resource conflicts, as Keystone's check counts the row itself", async () => {
  const svc = await createService();
  const a = await registered(svc, "a");
  await registered(svc, "b");
  assertIdentityError(await tc.request("PATCH", `${RL}/${a.id}`, { token: admin, body: { registered_limit: { resource_name: "b" } } }), 409);
  assertIdentityError(await tc.request("PATCH", `${RL}/${a.id}`, { token: admin, body: { registered_limit: { service_id: svc } } }), 409);
  // Only default_limit / description: no uniqueness check.
  await ok("PATCH", `${RL}/${a.id}`, { token: admin, body: { registered_limit: { default_limit: 3 } } }, 200);
});

test("registered limits: readable by anyone with a token, writable by admins only", async () => {
  const svc = await createService();
  const r = await registered(svc, "volumes");
  const member = await persona(tc, "member");
  await ok("GET", `${RL}/${r.id}`, { token: member.token }, 200);
  const list = await ok("GET", RL, { token: member.token }, 200);
  assert.ok(list.registered_limits.some((x: any) => x.id === r.id));
  assertIdentityError(
    await tc.request("POST", RL, { token: member.token, body: { registered_limits: [{ service_id: svc, resource_name: "z", default_limit: 1 }] } }),
    403,
  );
  assertIdentityError(await tc.request("PATCH", `${RL}/${r.id}`, { token: member.token, body: { registered_limit: { default_limit: 1 } } }), 403);
  assertIdentityError(await tc.request("DELETE", `${RL}/${r.id}`, { token: member.token }), 403);
  assertIdentityError(await tc.request("GET", RL), 401);
});

// ============================================================== limits

test("limits: model", async () => {
  const member = await persona(tc, "reader");
  const b = await ok("GET", `${LIMITS}/model`, { token: member.token }, 200);
  assert.deepEqual(b, {
    model: { name: "flat", description: "Limit enforcement and validation does not take project hierarchy into consideration." },
  });
});

test("limits: project and domain limits, create/show/update/delete", async () => {
  const svc = await createService();
  await registered(svc, "cores", { region_id: "RegionOne" });
  await registered(svc, "ram");
  const project = await createProject();
  const domain = await createDomain();
  const created = await ok(
    "POST",
    LIMITS,
    {
      token: admin,
      body: {
        limits: [
          { project_id: project, service_id: svc, region_id: "RegionOne", resource_name: "cores", resource_limit: 5, description: "five" },
          { domain_id: domain, service_id: svc, resource_name: "ram", resource_limit: 1024 },
        ],
      },
    },
    201,
  );
  assert.equal(created.links, undefined);
  const [pl, dl] = created.limits;
  assert.deepEqual(
    { ...pl, id: undefined, links: undefined },
    {
      id: undefined,
      links: undefined,
      project_id: project,
      domain_id: null,
      service_id: svc,
      region_id: "RegionOne",
      resource_name: "cores",
      resource_limit: 5,
      description: "five",
    },
  );
  assert.equal(pl.links.self, `${tc.identity}/limits/${pl.id}`);
  assert.equal(dl.project_id, null);
  assert.equal(dl.domain_id, domain);
  assert.equal(dl.region_id, null);
  assert.equal(dl.description, null);

  assert.deepEqual((await ok("GET", `${LIMITS}/${pl.id}`, { token: admin }, 200)).limit, pl);

  const upd = await ok("PATCH", `${LIMITS}/${pl.id}`, { token: admin, body: { limit: { resource_limit: 7, description: "seven" } } }, 200);
  assert.equal(upd.limit.resource_limit, 7);
  assert.equal(upd.limit.description, "seven");
  // Keystone applies only truthy values: 0 and "" leave the limit as it was.
  const kept = await ok("PATCH", `${LIMITS}/${pl.id}`, { token: admin, body: { limit: { resource_limit: 0, description: "" } } }, 200);
  assert.equal(kept.limit.resource_limit, 7);
  assert.equal(kept.limit.description, "seven");
  assertIdentityError(await tc.request("PATCH", `${LIMITS}/${pl.id}`, { token: admin, body: { limit: { project_id: project } } }), 400);

  await ok("DELETE", `${LIMITS}/${pl.id}`, { token: admin }, 204);
  assertIdentityError(await tc.request("GET", `${LIMITS}/${pl.id}`, { token: admin }), 404, new RegExp(`Could not find limit for ${pl.id}`));
  assertIdentityError(await tc.request("DELETE", `${LIMITS}/${pl.id}`, { token: admin }), 404);
});

test("limits: a project id that is a domain makes a domain limit", async () => {
  const svc = await createService();
  await registered(svc, "things");
  const domain = await createDomain();
  const b = await ok("POST", LIMITS, { token: admin, body: { limits: [{ project_id: domain, service_id: svc, resource_name: "things", resource_limit: 3 }] } }, 201);
  assert.equal(b.limits[0].project_id, null);
  assert.equal(b.limits[0].domain_id, domain);
});

test("limits: no registered limit is 403, duplicates 409, unknown references 400", async () => {
  const svc = await createService();
  await registered(svc, "cores");
  const project = await createProject();
  assertIdentityError(
    await tc.request("POST", LIMITS, { token: admin, body: { limits: [{ project_id: project, service_id: svc, resource_name: "gpus", resource_limit: 1 }] } }),
    403,
    /Unable to create a limit that has no corresponding registered limit/,
  );
  // The registered limit has no region: a limit naming one has no reference either.
  assertIdentityError(
    await tc.request("POST", LIMITS, {
      token: admin,
      body: { limits: [{ project_id: project, service_id: svc, region_id: "RegionOne", resource_name: "cores", resource_limit: 1 }] },
    }),
    403,
  );
  await ok("POST", LIMITS, { token: admin, body: { limits: [{ project_id: project, service_id: svc, resource_name: "cores", resource_limit: 1 }] } }, 201);
  assertIdentityError(
    await tc.request("POST", LIMITS, { token: admin, body: { limits: [{ project_id: project, service_id: svc, resource_name: "cores", resource_limit: 2 }] } }),
    409,
    /Conflict occurred attempting to store limit - Duplicate entry/,
  );
  assertIdentityError(
    await tc.request("POST", LIMITS, { token: admin, body: { limits: [{ project_id: "nope", service_id: svc, resource_name: "cores", resource_limit: 2 }] } }),
    400,
    /Expecting to find project_id in limit/,
  );
  assertIdentityError(
    await tc.request("POST", LIMITS, { token: admin, body: { limits: [{ domain_id: "nope", service_id: svc, resource_name: "cores", resource_limit: 2 }] } }),
    400,
    /Expecting to find domain_id in limit/,
  );
  assertIdentityError(
    await tc.request("POST", LIMITS, { token: admin, body: { limits: [{ project_id: project, service_id: "nope", resource_name: "cores", resource_limit: 2 }] } }),
    400,
    /Expecting to find service_id in limit/,
  );
  // Exactly one of project_id and domain_id; region_id may not be null on a limit.
  for (const item of [
    { project_id: project, domain_id: "default", service_id: svc, resource_name: "cores", resource_limit: 2 },
    { service_id: svc, resource_name: "cores", resource_limit: 2 },
    { project_id: project, service_id: svc, region_id: null, resource_name: "cores", resource_limit: 2 },
    { project_id: project, service_id: svc, resource_name: "cores", resource_limit: "2" },
  ]) {
    assertIdentityError(await tc.request("POST", LIMITS, { token: admin, body: { limits: [item] } }), 400);
  }
});

test("limits: a registered limit in use cannot be updated or deleted (403)", async () => {
  const svc = await createService();
  const r = await registered(svc, "cores");
  const project = await createProject();
  const l = await ok("POST", LIMITS, { token: admin, body: { limits: [{ project_id: project, service_id: svc, resource_name: "cores", resource_limit: 1 }] } }, 201);
  const msg = new RegExp(`Unable to update or delete registered limit ${r.id} because there are project limits associated with it`);
  assertIdentityError(await tc.request("PATCH", `${RL}/${r.id}`, { token: admin, body: { registered_limit: { default_limit: 5 } } }), 403, msg);
  assertIdentityError(await tc.request("DELETE", `${RL}/${r.id}`, { token: admin }), 403, msg);
  await ok("DELETE", `${LIMITS}/${l.limits[0].id}`, { token: admin }, 204);
  await ok("DELETE", `${RL}/${r.id}`, { token: admin }, 204);
});

test("limits: listing follows the token's scope, with filters", async () => {
  const svc = await createService();
  await registered(svc, "cores");
  await registered(svc, "ram");
  const reader = await persona(tc, "reader");
  const other = await createProject();
  const domain = await createDomain();
  const b = await ok(
    "POST",
    LIMITS,
    {
      token: admin,
      body: {
        limits: [
          { project_id: reader.projectId, service_id: svc, resource_name: "cores", resource_limit: 1 },
          { project_id: reader.projectId, service_id: svc, resource_name: "ram", resource_limit: 2 },
          { project_id: other, service_id: svc, resource_name: "cores", resource_limit: 3 },
          { domain_id: domain, service_id: svc, resource_name: "cores", resource_limit: 4 },
        ],
      },
    },
    201,
  );
  const ids = b.limits.map((l: any) => l.id);
  const listed = async (token: string, q = ""): Promise<string[]> =>
    (await ok("GET", `${LIMITS}?service_id=${svc}${q}`, { token }, 200)).limits.map((l: any) => l.id).sort();

  // System scope sees every limit; filters narrow it.
  assert.deepEqual(await listed(system), [...ids].sort());
  assert.deepEqual(await listed(system, `&project_id=${other}`), [ids[2]]);
  assert.deepEqual(await listed(system, `&domain_id=${domain}`), [ids[3]]);
  assert.deepEqual(await listed(system, "&resource_name=ram"), [ids[1]]);
  // A project-scoped token, admin or not, sees only its own project's limits.
  assert.deepEqual(await listed(reader.token), [ids[0], ids[1]].sort());
  assert.deepEqual(await listed(reader.token, "&resource_name=cores"), [ids[0]]);
  assert.deepEqual(await listed(reader.token, `&project_id=${other}`), []);
  assert.deepEqual(await listed(admin), []);

  // Showing one: the project's own members may, others may not; admins may.
  await ok("GET", `${LIMITS}/${ids[0]}`, { token: reader.token }, 200);
  assertIdentityError(await tc.request("GET", `${LIMITS}/${ids[2]}`, { token: reader.token }), 403);
  assertIdentityError(await tc.request("GET", `${LIMITS}/${ids[3]}`, { token: reader.token }), 403);
  await ok("GET", `${LIMITS}/${ids[2]}`, { token: admin }, 200);
  // Writes are admin only.
  assertIdentityError(await tc.request("PATCH", `${LIMITS}/${ids[0]}`, { token: reader.token, body: { limit: { resource_limit: 9 } } }), 403);
  assertIdentityError(await tc.request("DELETE", `${LIMITS}/${ids[0]}`, { token: reader.token }), 403);
  assertIdentityError(
    await tc.request("POST", LIMITS, { token: reader.token, body: { limits: [{ project_id: reader.projectId, service_id: svc, resource_name: "cores", resource_limit: 1 }] } }),
    403,
  );
});

test("limits: deleting a project or a domain deletes its limits", async () => {
  const svc = await createService();
  await registered(svc, "cores");
  const domain = await createDomain();
  const projectInDomain = await createProject(domain);
  const project = await createProject();
  const b = await ok(
    "POST",
    LIMITS,
    {
      token: admin,
      body: {
        limits: [
          { project_id: project, service_id: svc, resource_name: "cores", resource_limit: 1 },
          { project_id: projectInDomain, service_id: svc, resource_name: "cores", resource_limit: 2 },
          { domain_id: domain, service_id: svc, resource_name: "cores", resource_limit: 3 },
        ],
      },
    },
    201,
  );
  await ok("DELETE", `${V3}/projects/${project}`, { token: admin }, 204);
  assertIdentityError(await tc.request("GET", `${LIMITS}/${b.limits[0].id}`, { token: admin }), 404);
  await ok("PATCH", `${V3}/domains/${domain}`, { token: admin, body: { domain: { enabled: false } } }, 200);
  await ok("DELETE", `${V3}/domains/${domain}`, { token: admin }, 204);
  assertIdentityError(await tc.request("GET", `${LIMITS}/${b.limits[1].id}`, { token: admin }), 404);
  assertIdentityError(await tc.request("GET", `${LIMITS}/${b.limits[2].id}`, { token: admin }), 404);
  const left = await ok("GET", `${LIMITS}?service_id=${svc}`, { token: system }, 200);
  assert.equal(left.limits.length, 0);
});

// ============================================================== OAuth1 consumers (tempest test_oauth_consumers.py)

test("consumers: create shows the secret once; show, list, update, delete", async () => {
  const description = unique("test_create_consumer");
  const created = (await ok("POST", `${OAUTH}/consumers`, { token: admin, body: { consumer: { description } } }, 201)).consumer;
  assert.match(created.id, /^[0-9a-f]{32}$/);
  assert.match(created.secret, /^[0-9a-f]{32}$/);
  assert.equal(created.description, description);
  assert.equal(created.links.self, `${tc.identity}/OS-OAUTH1/consumers/${created.id}`);

  const shown = (await ok("GET", `${OAUTH}/consumers/${created.id}`, { token: admin }, 200)).consumer;
  for (const k of ["description", "id", "links"]) assert.deepEqual(shown[k], created[k]);
  assert.equal(shown.secret, undefined);

  const second = (await ok("POST", `${OAUTH}/consumers`, { token: admin, body: { consumer: { description: unique("c") } } }, 201)).consumer;
  const list = await ok("GET", `${OAUTH}/consumers`, { token: admin }, 200);
  const listed = list.consumers.map((c: any) => c.id);
  assert.ok(listed.includes(created.id) && listed.includes(second.id));
  assert.ok(list.consumers.every((c: any) => c.secret === undefined));

  const newDescription = unique("test_update_consumer");
  const upd = (await ok("PATCH", `${OAUTH}/consumers/${created.id}`, { token: admin, body: { consumer: { description: newDescription } } }, 200)).consumer;
  assert.equal(upd.description, newDescription);
  assert.equal(upd.secret, undefined);
  assert.equal((await ok("GET", `${OAUTH}/consumers/${created.id}`, { token: admin }, 200)).consumer.description, newDescription);

  await ok("DELETE", `${OAUTH}/consumers/${created.id}`, { token: admin }, 204);
  assertIdentityError(await tc.request("GET", `${OAUTH}/consumers/${created.id}`, { token: admin }), 404, /Consumer not found/);
  assertIdentityError(await tc.request("DELETE", `${OAUTH}/consumers/${created.id}`, { token: admin }), 404);
  await ok("DELETE", `${OAUTH}/consumers/${second.id}`, { token: admin }, 204);
});

test("consumers: extra attributes, no body, and what an update may not do", async () => {
  const bare = (await ok("POST", `${OAUTH}/consumers`, { token: admin }, 201)).consumer;
  assert.equal(bare.description, null);
  const extra = (await ok("POST", `${OAUTH}/consumers`, { token: admin, body: { consumer: { description: "x", "color:ful": "blue" } } }, 201)).consumer;
  assert.equal(extra.color_ful, "blue");
  assert.equal((await ok("GET", `${OAUTH}/consumers/${extra.id}`, { token: admin }, 200)).consumer.color_ful, "blue");

  assertIdentityError(await tc.request("PATCH", `${OAUTH}/consumers/${extra.id}`, { token: admin, body: { consumer: { secret: "mine" } } }), 400);
  assertIdentityError(await tc.request("PATCH", `${OAUTH}/consumers/${extra.id}`, { token: admin, body: { consumer: {} } }), 400);
  assertIdentityError(await tc.request("PATCH", `${OAUTH}/consumers/${extra.id}`, { token: admin, body: { consumer: { id: "other" } } }), 400, /Cannot change ID/);
  assertIdentityError(await tc.request("PATCH", `${OAUTH}/consumers/${extra.id}`, { token: admin, body: { consumer: { description: 5 } } }), 400);
  assertIdentityError(await tc.request("POST", `${OAUTH}/consumers`, { token: admin, body: { consumer: { description: 5 } } }), 400);
  assertIdentityError(await tc.request("PATCH", `${OAUTH}/consumers/nope`, { token: admin, body: { consumer: { description: "y" } } }), 404);
});

test("consumers: admin only", async () => {
  const member = await persona(tc, "member");
  const c = (await ok("POST", `${OAUTH}/consumers`, { token: admin, body: { consumer: { description: "x" } } }, 201)).consumer;
  assertIdentityError(await tc.request("POST", `${OAUTH}/consumers`, { token: member.token, body: { consumer: {} } }), 403);
  assertIdentityError(await tc.request("GET", `${OAUTH}/consumers`, { token: member.token }), 403);
  assertIdentityError(await tc.request("GET", `${OAUTH}/consumers/${c.id}`, { token: member.token }), 403);
  assertIdentityError(await tc.request("PATCH", `${OAUTH}/consumers/${c.id}`, { token: member.token, body: { consumer: { description: "y" } } }), 403);
  assertIdentityError(await tc.request("DELETE", `${OAUTH}/consumers/${c.id}`, { token: member.token }), 403);
});

// ============================================================== OAuth1 flow

/** RFC 5849 encoding, as tempest's OAUTHTokenClient._escape (urllib quote, safe '~'). */
function esc(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

interface SignOpts {
  consumerKey: string;
  consumerSecret: string;
  token?: string;
  tokenSecret?: string;
  callback?: string;
  verifier?: string;
  timestamp?: number;
  signatureMethod?: string;
  tamper?: boolean;
}

/** tempest's _generate_params_with_signature + _generate_oauth_header. */
function oauthHeader(method: string, url: string, o: SignOpts): string {
  const ts = String(o.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = String(BigInt(`0x${randomBytes(8).toString("hex")}`)) + ts;
  const params: Array<[string, string]> = [
    ["oauth_nonce", nonce],
    ["oauth_timestamp", ts],
    ["oauth_version", "1.0"],
    ["oauth_signature_method", o.signatureMethod ?? "HMAC-SHA1"],
    ["oauth_consumer_key", o.consumerKey],
  ];
  if (o.token) params.push(["oauth_token", o.token]);
  if (o.callback) params.push(["oauth_callback", o.callback]);
  if (o.verifier) params.push(["oauth_verifier", o.verifier]);
  const norm = params
    .map(([k, v]) => [esc(k), esc(v)] as const)
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const u = new URL(url);
  const base = `${esc(method)}&${esc(`${u.protocol}//${u.host}${u.pathname}`)}&${esc(norm)}`;
  const key = `${esc(o.consumerSecret)}&${esc(o.tokenSecret ?? "")}`;
  let signature = createHmac("sha1", key).update(base).digest("base64");
  // Change the first character to a different one (replacing with a fixed letter would sometimes change nothing).
  if (o.tamper) signature = `${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`;
  params.push(["oauth_signature", signature]);
  return `OAuth ${params.map(([k, v]) => `${esc(k)}="${esc(v)}"`).join(", ")}`;
}

function form(r: Response): Record<string, string> {
  assert.match(r.headers.get("content-type") ?? "", /application\/x-www-form-urlencoded/);
  return Object.fromEntries(r.text.split("&").map((kv) => kv.split("=") as [string, string]));
}

async function consumer(): Promise<{ id: string; secret: string }> {
  const c = (await ok("POST", `${OAUTH}/consumers`, { token: admin, body: { consumer: { description: unique("c") } } }, 201)).consumer;
  return { id: c.id, secret: c.secret };
}

async function requestToken(c: { id: string; secret: string }, projectId: string): Promise<Response> {
  const url = `${tc.identity}/OS-OAUTH1/request_token`;
  return tc.request("POST", url, {
    headers: {
      "Requested-Project-Id": projectId,
      Authorization: oauthHeader("POST", url, { consumerKey: c.id, consumerSecret: c.secret, callback: "oob" }),
    },
  });
}

async function accessToken(c: { id: string; secret: string }, rt: { key: string; secret: string }, verifier: string): Promise<Response> {
  const url = `${tc.identity}/OS-OAUTH1/access_token`;
  return tc.request("POST", url, {
    headers: {
      Authorization: oauthHeader("POST", url, { consumerKey: c.id, consumerSecret: c.secret, token: rt.key, tokenSecret: rt.secret, verifier }),
    },
  });
}

async function oauthAuth(c: { id: string; secret: string }, at: { key: string; secret: string }, o: Partial<SignOpts> = {}): Promise<Response> {
  const url = `${tc.identity}/auth/tokens`;
  return tc.request("POST", url, {
    headers: { Authorization: oauthHeader("POST", url, { consumerKey: c.id, consumerSecret: c.secret, token: at.key, tokenSecret: at.secret, ...o }) },
    body: { auth: { identity: { methods: ["oauth1"], oauth1: {} } } },
  });
}

/** An authorizer (admin on a fresh project), a consumer, and an access token delegating `role`. */
async function delegated(role = "member"): Promise<{
  who: Awaited<ReturnType<typeof persona>>;
  c: { id: string; secret: string };
  at: { key: string; secret: string };
  memberId: string;
}> {
  const who = await persona(tc, "admin");
  const c = await consumer();
  const rt = form(await requestToken(c, who.projectId));
  const memberId = await roleId(role);
  const v = await ok("PUT", `${OAUTH}/authorize/${rt["oauth_token"]}`, { token: who.token, body: { roles: [{ id: memberId }] } }, 200);
  const at = form(await accessToken(c, { key: rt["oauth_token"]!, secret: rt["oauth_token_secret"]! }, v.token.oauth_verifier));
  return { who, c, at: { key: at["oauth_token"]!, secret: at["oauth_token_secret"]! }, memberId };
}

test("oauth1: request token → authorize → access token → oauth1 token carrying only the delegated roles", async () => {
  const who = await persona(tc, "admin");
  const c = await consumer();
  const rtRes = await requestToken(c, who.projectId);
  assert.equal(rtRes.status, 201, rtRes.text);
  const rt = form(rtRes);
  assert.match(rt["oauth_token"]!, /^[0-9a-f]{32}$/);
  assert.match(rt["oauth_token_secret"]!, /^[0-9a-f]{32}$/);
  assert.match(rt["oauth_expires_at"]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

  const memberId = await roleId("member");
  const auth = await ok("PUT", `${OAUTH}/authorize/${rt["oauth_token"]}`, { token: who.token, body: { roles: [{ name: "member" }] } }, 200);
  assert.match(auth.token.oauth_verifier, /^[a-zA-Z0-9]{8}$/);

  const atRes = await accessToken(c, { key: rt["oauth_token"]!, secret: rt["oauth_token_secret"]! }, auth.token.oauth_verifier);
  assert.equal(atRes.status, 201, atRes.text);
  const at = form(atRes);
  // A request token is exchanged once.
  assertIdentityError(await accessToken(c, { key: rt["oauth_token"]!, secret: rt["oauth_token_secret"]! }, auth.token.oauth_verifier), 404);

  const tokRes = await oauthAuth(c, { key: at["oauth_token"]!, secret: at["oauth_token_secret"]! });
  assert.equal(tokRes.status, 201, tokRes.text);
  const token = tokRes.body.token;
  assert.deepEqual(token.methods, ["oauth1"]);
  assert.equal(token.user.id, who.userId);
  assert.equal(token.project.id, who.projectId);
  assert.deepEqual(token["OS-OAUTH1"], { access_token_id: at["oauth_token"], consumer_id: c.id });
  // member and what it implies (reader); not the admin role the authorizer holds.
  const roleNames = token.roles.map((r: any) => r.name).sort();
  assert.ok(roleNames.includes("member"));
  assert.ok(!roleNames.includes("admin"), JSON.stringify(roleNames));
  const oauthToken = tokRes.headers.get("x-subject-token")!;
  const validated = await ok("GET", `${V3}/auth/tokens`, { token: admin, headers: { "X-Subject-Token": oauthToken } }, 200);
  assert.deepEqual(validated.token["OS-OAUTH1"], token["OS-OAUTH1"]);
  // The delegated token cannot do admin things.
  assertIdentityError(await tc.request("GET", `${OAUTH}/consumers`, { token: oauthToken }), 403);

  // The user's access tokens.
  const base = `${V3}/users/${who.userId}/OS-OAUTH1/access_tokens`;
  const list = await ok("GET", base, { token: who.token }, 200);
  assert.equal(list.access_tokens.length, 1);
  const entry = list.access_tokens[0];
  assert.deepEqual(
    { ...entry, expires_at: undefined },
    {
      id: at["oauth_token"],
      authorizing_user_id: who.userId,
      project_id: who.projectId,
      consumer_id: c.id,
      expires_at: undefined,
      links: { self: `${tc.identity}/users/${who.userId}/OS-OAUTH1/access_tokens/${at["oauth_token"]}`, roles: `${tc.identity}/users/${who.userId}/OS-OAUTH1/access_tokens/${at["oauth_token"]}/roles` },
    },
  );
  assert.equal(entry.expires_at, at["oauth_expires_at"]);
  assert.deepEqual((await ok("GET", `${base}/${at["oauth_token"]}`, { token: who.token }, 200)).access_token, entry);
  const roles = await ok("GET", `${base}/${at["oauth_token"]}/roles`, { token: who.token }, 200);
  assert.deepEqual(roles.roles.map((r: any) => r.id), [memberId]);
  assert.equal(roles.roles[0].description, undefined);
  assert.equal(roles.roles[0].links.self, `${tc.identity}/roles/${memberId}`);
  const role = await ok("GET", `${base}/${at["oauth_token"]}/roles/${memberId}`, { token: who.token }, 200);
  assert.equal(role.role.id, memberId);
  assertIdentityError(await tc.request("GET", `${base}/${at["oauth_token"]}/roles/${await roleId("admin")}`, { token: who.token }), 404, /Could not find role/);
  // Under another user the token is not found.
  assertIdentityError(await tc.request("GET", `${V3}/users/${(await persona(tc, "member")).userId}/OS-OAUTH1/access_tokens/${at["oauth_token"]}`, { token: admin }), 404);

  // Revoking the access token ends the tokens made from it, and new ones.
  await ok("DELETE", `${base}/${at["oauth_token"]}`, { token: who.token }, 204);
  assertIdentityError(await tc.request("GET", `${V3}/auth/tokens`, { token: admin, headers: { "X-Subject-Token": oauthToken } }), 404);
  assertIdentityError(await oauthAuth(c, { key: at["oauth_token"]!, secret: at["oauth_token_secret"]! }), 404, /Access token not found/);
  assert.equal((await ok("GET", base, { token: who.token }, 200)).access_tokens.length, 0);
});

test("oauth1: request token errors", async () => {
  const who = await persona(tc, "admin");
  const c = await consumer();
  const url = `${tc.identity}/OS-OAUTH1/request_token`;
  const post = (headers: Record<string, string>) => tc.request("POST", url, { headers });
  const sign = (o: Partial<SignOpts> = {}) => oauthHeader("POST", url, { consumerKey: c.id, consumerSecret: c.secret, callback: "oob", ...o });

  assertIdentityError(await post({ "Requested-Project-Id": who.projectId }), 400, /Authorization/);
  assertIdentityError(await post({ Authorization: sign() }), 400, /Expecting to find Requested-Project-Id in request/);
  assertIdentityError(await post({ Authorization: "OAuth oauth_nonce=\"1\"", "Requested-Project-Id": who.projectId }), 400, /Expecting to find oauth_consumer_key in request/);
  assertIdentityError(await post({ Authorization: sign(), "Requested-Project-Id": "nope" }), 404, /Could not find project: nope/);
  assertIdentityError(await post({ Authorization: sign({ consumerKey: "0".repeat(32) }), "Requested-Project-Id": who.projectId }), 404, /Consumer not found/);
  assertIdentityError(await post({ Authorization: sign({ tamper: true }), "Requested-Project-Id": who.projectId }), 401);
  assertIdentityError(await post({ Authorization: sign({ consumerSecret: "wrong" }), "Requested-Project-Id": who.projectId }), 401);
  assertIdentityError(
    await post({ Authorization: sign({ timestamp: Math.floor(Date.now() / 1000) - 3600 }), "Requested-Project-Id": who.projectId }),
    400,
    /Validation failed with errors: invalid_request, detail message is: Timestamp given is invalid/,
  );
  assertIdentityError(
    await post({ Authorization: sign({ callback: "" }), "Requested-Project-Id": who.projectId }),
    400,
    /Missing callback URI/,
  );
  assertIdentityError(
    await post({ Authorization: sign({ signatureMethod: "HMAC-MD5" }), "Requested-Project-Id": who.projectId }),
    400,
    /invalid_signature_method/,
  );
  // Other supported signature methods verify too.
  const r256 = await post({ Authorization: sign({ signatureMethod: "HMAC-SHA256" }), "Requested-Project-Id": who.projectId });
  assert.equal(r256.status, 401, "a SHA-1 digest under the HMAC-SHA256 name does not verify");
  assertIdentityError(await tc.request("GET", url, {}), 405);
});

test("oauth1: authorize and access token errors", async () => {
  const who = await persona(tc, "admin");
  const c = await consumer();
  const rt = form(await requestToken(c, who.projectId));
  const rtk = { key: rt["oauth_token"]!, secret: rt["oauth_token_secret"]! };

  // Not yet authorized: the verifier cannot match.
  assertIdentityError(await accessToken(c, rtk, "abcdefgh"), 401);
  // Roles the authorizer does not hold on the project.
  const foreign = (await ok("POST", `${V3}/roles`, { token: admin, body: { role: { name: unique("r") } } }, 201)).role.id;
  assertIdentityError(await tc.request("PUT", `${OAUTH}/authorize/${rtk.key}`, { token: who.token, body: { roles: [{ id: foreign }] } }), 401);
  assertIdentityError(await tc.request("PUT", `${OAUTH}/authorize/${rtk.key}`, { token: who.token, body: { roles: [{ name: unique("none") }] } }), 404);
  assertIdentityError(await tc.request("PUT", `${OAUTH}/authorize/${rtk.key}`, { token: who.token, body: { roles: [{ id: "a", name: "b" }] } }), 400);
  assertIdentityError(await tc.request("PUT", `${OAUTH}/authorize/${"f".repeat(32)}`, { token: who.token, body: { roles: [] } }), 404, /Request token not found/);
  const member = await persona(tc, "member", { projectId: who.projectId });
  assertIdentityError(await tc.request("PUT", `${OAUTH}/authorize/${rtk.key}`, { token: member.token, body: { roles: [] } }), 403);

  const v = (await ok("PUT", `${OAUTH}/authorize/${rtk.key}`, { token: who.token, body: { roles: [{ name: "reader" }] } }, 200)).token.oauth_verifier;
  assertIdentityError(await accessToken(c, rtk, v === "abcdefgh" ? "abcdefgk" : "abcdefgh"), 401);
  assertIdentityError(await accessToken(c, { ...rtk, secret: "wrong" }, v), 401);
  assertIdentityError(await accessToken(c, rtk, "short"), 400, /Invalid verifier format/);
  const other = await consumer();
  assertIdentityError(await accessToken(other, rtk, v), 401);
  const url = `${tc.identity}/OS-OAUTH1/access_token`;
  assertIdentityError(
    await tc.request("POST", url, { headers: { Authorization: oauthHeader("POST", url, { consumerKey: c.id, consumerSecret: c.secret, verifier: v }) } }),
    400,
    /Expecting to find oauth_token in request/,
  );
  assertIdentityError(
    await tc.request("POST", url, { headers: { Authorization: oauthHeader("POST", url, { consumerKey: c.id, consumerSecret: c.secret, token: rtk.key, tokenSecret: rtk.secret }) } }),
    400,
    /Expecting to find oauth_verifier in request/,
  );
  const at = await accessToken(c, rtk, v);
  assert.equal(at.status, 201, at.text);
});

test("oauth1: delegated tokens cannot re-delegate, re-scope or manage access tokens", async () => {
  const { who, c, at } = await delegated();
  const tokRes = await oauthAuth(c, at);
  assert.equal(tokRes.status, 201, tokRes.text);
  const oauthToken = tokRes.headers.get("x-subject-token")!;
  // Re-scoping through the token method.
  assertIdentityError(
    await tc.request("POST", `${V3}/auth/tokens`, { body: { auth: { identity: { methods: ["token"], token: { id: oauthToken } }, scope: { project: { id: who.projectId } } } } }),
    403,
    /OAuth-scoped token/,
  );
  // A bad signature over the auth request.
  assertIdentityError(await oauthAuth(c, at, { tamper: true }), 401);
  assertIdentityError(await oauthAuth(c, { ...at, secret: "wrong" }), 401);
  assertIdentityError(await oauthAuth(c, { key: "f".repeat(32), secret: at.secret }), 404);
  assertIdentityError(
    await tc.request("POST", `${V3}/auth/tokens`, { body: { auth: { identity: { methods: ["oauth1"], oauth1: {} } } } }),
    400,
  );

  // Even with admin delegated, an OAuth1 token may not authorize request tokens or manage
  // access tokens (Keystone's delegation guards), though admin policy would allow it.
  const d = await delegated("admin");
  const adminOauth = (await oauthAuth(d.c, d.at)).headers.get("x-subject-token")!;
  await ok("GET", `${OAUTH}/consumers`, { token: adminOauth }, 200);
  const rt = form(await requestToken(d.c, d.who.projectId));
  assertIdentityError(await tc.request("PUT", `${OAUTH}/authorize/${rt["oauth_token"]}`, { token: adminOauth, body: { roles: [] } }), 403);
  const base = `${V3}/users/${d.who.userId}/OS-OAUTH1/access_tokens`;
  assertIdentityError(await tc.request("GET", base, { token: adminOauth }), 403);
  assertIdentityError(await tc.request("GET", `${base}/${d.at.key}`, { token: adminOauth }), 403);
  assertIdentityError(await tc.request("DELETE", `${base}/${d.at.key}`, { token: adminOauth }), 403);
  await ok("GET", `${base}/${d.at.key}/roles`, { token: adminOauth }, 200);
});

test("oauth1: deleting the consumer, the user or the project ends the delegation", async () => {
  {
    const { c, at } = await delegated();
    const t = (await oauthAuth(c, at)).headers.get("x-subject-token")!;
    await ok("DELETE", `${OAUTH}/consumers/${c.id}`, { token: admin }, 204);
    assertIdentityError(await tc.request("GET", `${V3}/auth/tokens`, { token: admin, headers: { "X-Subject-Token": t } }), 404);
    assertIdentityError(await oauthAuth(c, at), 404);
  }
  {
    const { who, at } = await delegated();
    await ok("DELETE", `${V3}/users/${who.userId}`, { token: admin }, 204);
    const list = await ok("GET", `${V3}/users/${who.userId}/OS-OAUTH1/access_tokens`, { token: admin }, 200);
    assert.equal(list.access_tokens.length, 0);
    assertIdentityError(await tc.request("GET", `${V3}/users/${who.userId}/OS-OAUTH1/access_tokens/${at.key}`, { token: admin }), 404);
  }
  {
    const { who, c, at } = await delegated();
    await ok("DELETE", `${V3}/projects/${who.projectId}`, { token: admin }, 204);
    assertIdentityError(await oauthAuth(c, at), 404);
  }
});

test("oauth1: a token keeps only delegated roles the user still holds", async () => {
  const { who, c, at } = await delegated();
  const t = (await oauthAuth(c, at)).headers.get("x-subject-token")!;
  await ok("GET", `${V3}/auth/tokens`, { token: admin, headers: { "X-Subject-Token": t } }, 200);
  // The authorizer held member only through admin; without admin nothing delegated is left.
  await ok("DELETE", `${V3}/projects/${who.projectId}/users/${who.userId}/roles/${await roleId("admin")}`, { token: admin }, 204);
  assertIdentityError(await tc.request("GET", `${V3}/auth/tokens`, { token: admin, headers: { "X-Subject-Token": t } }), 404);
  assertIdentityError(await oauthAuth(c, at), 401);
});
