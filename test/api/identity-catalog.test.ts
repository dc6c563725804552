/**
 * The service catalog: regions, services, endpoints, OS-EP-FILTER endpoint groups and project
 * associations (and the catalog narrowing they cause), v3 policies and OS-ENDPOINT-POLICY.
 * Behaviour follows keystone/api/{regions,services,endpoints,os_ep_filter,policy}.py and
 * tempest's identity admin v3 tests for these resources.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Response, TestCloud } from "../support/cloud.js";
import { adminDomainToken, persona, startTestCloud, unique, assertIdentityError as assertError } from "../support/cloud.js";

let tc: TestCloud;
let admin: string;
const V3 = "/identity/v3";

before(async () => {
  tc = await startTestCloud();
  admin = await tc.adminToken();
});
after(() => tc.close());

const req = (method: string, path: string, body?: unknown, token?: string, headers?: Record<string, string>): Promise<Response> =>
  tc.request(method, `${V3}${path}`, { token: token ?? admin, ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });


async function createService(extra: Record<string, unknown> = {}): Promise<any> {
  const r = await req("POST", "/services", { service: { type: unique("type"), name: unique("svc"), ...extra } });
  assert.equal(r.status, 201, r.text);
  return r.body.service;
}

async function createEndpoint(body: Record<string, unknown>): Promise<any> {
  const r = await req("POST", "/endpoints", { endpoint: { interface: "public", url: "https://ep.example.com/v1", ...body } });
  assert.equal(r.status, 201, r.text);
  return r.body.endpoint;
}

async function createProject(): Promise<string> {
  const r = await req("POST", "/projects", { project: { name: unique("p"), domain_id: "default" } });
  assert.equal(r.status, 201, r.text);
  return r.body.project.id as string;
}

describe("regions", () => {
  test("create with a generated id, list and show render the same dict", async () => {
    const r = await req("POST", "/regions", { region: { description: "d1" } });
    assert.equal(r.status, 201, r.text);
    const reg = r.body.region;
    assert.match(reg.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(Object.keys(reg).sort(), ["description", "id", "links", "parent_region_id"]);
    assert.equal(reg.parent_region_id, null);
    assert.ok(reg.links.self.endsWith(`/v3/regions/${reg.id}`));
    const list = await req("GET", "/regions");
    assert.equal(list.status, 200);
    assert.ok(list.body.regions.some((x: unknown) => JSON.stringify(x) === JSON.stringify(reg)));
    const show = await req("GET", `/regions/${reg.id}`);
    assert.deepEqual(show.body.region, reg);
  });

  test("PUT creates with the client's id; conflicts and duplicates", async () => {
    const rid = crypto.randomUUID();
    const r = await req("PUT", `/regions/${rid}`, { region: { description: "mine" } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.region.id, rid);
    assert.equal(r.body.region.description, "mine");
    assertError(await req("PUT", `/regions/${rid}`, { region: {} }), 409, /Duplicate ID, /);
    assertError(await req("POST", "/regions", { region: { id: rid } }), 409);
    assertError(await req("PUT", `/regions/${unique("r")}`, { region: { id: "other" } }), 400, /Conflicting region IDs/);
  });

  test("parent_region_id: unknown parent 404, filter, re-parent, cycles refused", async () => {
    assertError(await req("POST", "/regions", { region: { parent_region_id: unique("nope") } }), 404, /Could not find region/);
    const a = (await req("POST", "/regions", { region: {} })).body.region;
    const b = (await req("POST", "/regions", { region: {} })).body.region;
    const c = await req("POST", "/regions", { region: { description: "child", parent_region_id: a.id } });
    assert.equal(c.status, 201);
    assert.equal(c.body.region.parent_region_id, a.id);
    const filtered = await req("GET", `/regions?parent_region_id=${a.id}`);
    assert.deepEqual(filtered.body.regions, [c.body.region]);
    const moved = await req("PATCH", `/regions/${c.body.region.id}`, { region: { description: "d2", parent_region_id: b.id } });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.region.parent_region_id, b.id);
    assert.equal(moved.body.region.description, "d2");
    assert.deepEqual((await req("GET", `/regions/${c.body.region.id}`)).body.region, moved.body.region);
    // b → c would close a loop; so would a region parenting itself.
    assertError(await req("PATCH", `/regions/${b.id}`, { region: { parent_region_id: c.body.region.id } }), 400, /circular/);
    assertError(await req("PATCH", `/regions/${b.id}`, { region: { parent_region_id: b.id } }), 400, /circular/);
    assertError(await req("PATCH", `/regions/${b.id}`, { region: { parent_region_id: "missing-parent" } }), 404);
    assertError(await req("PATCH", `/regions/${b.id}`, { region: { id: "other" } }), 400, /Cannot change ID/);
    assertError(await req("PATCH", `/regions/${unique("r")}`, { region: { description: "x" } }), 404);
  });

  test("delete removes child regions, but not while any has endpoints", async () => {
    const top = (await req("POST", "/regions", { region: {} })).body.region;
    const kid = (await req("POST", "/regions", { region: { parent_region_id: top.id } })).body.region;
    const svc = await createService();
    const ep = await createEndpoint({ service_id: svc.id, region_id: kid.id });
    assertError(await req("DELETE", `/regions/${top.id}`), 403, /child regions have associated endpoints/);
    assert.equal((await req("DELETE", `/endpoints/${ep.id}`)).status, 204);
    assert.equal((await req("DELETE", `/regions/${top.id}`)).status, 204);
    assertError(await req("GET", `/regions/${kid.id}`), 404);
    assertError(await req("DELETE", `/regions/${top.id}`), 404, /Could not find region/);
  });

  test("policy: anyone may read, only admin may write", async () => {
    const member = await persona(tc, "member");
    assert.equal((await req("GET", "/regions", undefined, member.token)).status, 200);
    assert.equal((await req("GET", "/regions/RegionOne", undefined, member.token)).status, 200);
    assertError(await req("POST", "/regions", { region: {} }, member.token), 403);
    assertError(await req("DELETE", "/regions/RegionOne", undefined, member.token), 403);
  });
});

describe("services", () => {
  test("create, update, show; description optional; extras kept", async () => {
    const s = await createService({ description: "first", "x-extra": 1 });
    assert.equal(s.enabled, true);
    assert.equal(s.description, "first");
    assert.equal(s.x_extra, 1, "keystone normalizes '-' in attribute names");
    const u = await req("PATCH", `/services/${s.id}`, { service: { description: "second" } });
    assert.equal(u.status, 200);
    const show = await req("GET", `/services/${s.id}`);
    assert.deepEqual(show.body.service, u.body.service);
    assert.equal(show.body.service.description, "second");
    const bare = await req("POST", "/services", { service: { type: unique("t"), name: "bare" } });
    assert.equal(bare.status, 201);
    assert.equal(bare.body.service.name, "bare");
    assert.ok(!("description" in bare.body.service));
    const noName = await req("POST", "/services", { service: { type: unique("t") } });
    assert.equal(noName.body.service.name, "");
    assertError(await req("POST", "/services", { service: { name: "x" } }), 400);
    assertError(await req("POST", "/services", { service: { type: "t", enabled: "True" } }), 400);
    assertError(await req("PATCH", `/services/${s.id}`, { service: { id: "x" } }), 400, /Cannot change ID/);
  });

  test("list filters by type and name", async () => {
    const made = [await createService(), await createService(), await createService()];
    const all = await req("GET", "/services");
    for (const s of made) assert.ok(all.body.services.some((x: any) => x.id === s.id));
    for (const s of made) {
      const byType = await req("GET", `/services?type=${s.type}`);
      assert.equal(byType.body.services.length, 1);
      assert.equal(byType.body.services[0].type, s.type);
      const byName = await req("GET", `/services?name=${s.name}`);
      assert.deepEqual(
        byName.body.services.map((x: any) => x.id),
        [s.id],
      );
    }
  });

  test("delete cascades to its endpoints; then 404", async () => {
    const s = await createService();
    const e = await createEndpoint({ service_id: s.id, region_id: "RegionOne" });
    assert.equal((await req("DELETE", `/services/${s.id}`)).status, 204);
    assertError(await req("GET", `/services/${s.id}`), 404, new RegExp(`Could not find service: ${s.id}`));
    assertError(await req("GET", `/endpoints/${e.id}`), 404);
  });

  test("policy: members may not list or read services", async () => {
    const member = await persona(tc, "member");
    assertError(await req("GET", "/services", undefined, member.token), 403);
    // Enforcement comes before the lookup, so an unknown id is also 403.
    assertError(await req("GET", `/services/${unique("s")}`, undefined, member.token), 403);
  });
});

describe("endpoints", () => {
  let svc: any;
  before(async () => {
    svc = await createService();
  });

  test("legacy region auto-creates the region, on create and on update", async () => {
    const r1 = unique("legacy");
    const e = await createEndpoint({ service_id: svc.id, region: r1, enabled: true });
    assert.equal(e.region, r1);
    assert.equal(e.region_id, r1);
    assert.equal(e.enabled, true);
    assert.equal((await req("GET", `/regions/${r1}`)).status, 200);
    const svc2 = await createService();
    const r2 = unique("legacy");
    const u = await req("PATCH", `/endpoints/${e.id}`, {
      endpoint: { service_id: svc2.id, interface: "internal", url: "https://two.example.com", region: r2, enabled: false },
    });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.body.endpoint.region, r2);
    assert.equal(u.body.endpoint.service_id, svc2.id);
    assert.equal(u.body.endpoint.interface, "internal");
    assert.equal(u.body.endpoint.enabled, false);
    assert.equal((await req("GET", `/regions/${r2}`)).status, 200);
    const show = await req("GET", `/endpoints/${e.id}`);
    assert.deepEqual(show.body.endpoint, u.body.endpoint);
    assert.ok(!("legacy_endpoint_id" in show.body.endpoint));
  });

  test("enabled must be a JSON boolean and nothing leaks on failure", async () => {
    for (const enabled of ["True", "False"]) {
      const region = unique("leak");
      assertError(
        await req("POST", "/endpoints", { endpoint: { service_id: svc.id, interface: "public", url: "https://x.example", region, enabled } }),
        400,
      );
      assertError(await req("GET", `/regions/${region}`), 404);
    }
    const e = await createEndpoint({ service_id: svc.id, region: unique("r") });
    for (const enabled of ["True", "False"]) assertError(await req("PATCH", `/endpoints/${e.id}`, { endpoint: { enabled } }), 400);
  });

  test("validation: interface, url, region_id and service_id must be valid", async () => {
    const base = { service_id: svc.id, interface: "public", url: "https://x.example" };
    assertError(await req("POST", "/endpoints", { endpoint: { ...base, interface: "private" } }), 400);
    assertError(await req("POST", "/endpoints", { endpoint: { ...base, url: "not a url" } }), 400);
    assertError(await req("POST", "/endpoints", { endpoint: { ...base, url: "https://x/$(bogus)s" } }), 400, /invalid URL/);
    assertError(await req("POST", "/endpoints", { endpoint: { ...base, url: "https://x/%20" } }), 400, /invalid URL/);
    assertError(await req("POST", "/endpoints", { endpoint: { ...base, region_id: unique("none") } }), 400, /endpoint region_id in region table/);
    assertError(await req("POST", "/endpoints", { endpoint: { ...base, service_id: unique("none") } }), 400, /endpoint service_id in service table/);
    const { interface: _i, ...noIface } = base;
    assertError(await req("POST", "/endpoints", { endpoint: noIface }), 400);
    const ok = await createEndpoint({ ...base, url: "https://x.example/v1/$(project_id)s" });
    assert.equal(ok.url, "https://x.example/v1/$(project_id)s");
    assert.equal(ok.region_id, null);
    assert.equal(ok.region, null);
    assertError(await req("PATCH", `/endpoints/${ok.id}`, { endpoint: { region_id: unique("none") } }), 400);
    assertError(await req("PATCH", `/endpoints/${ok.id}`, { endpoint: { id: "x" } }), 400, /Cannot change ID/);
  });

  test("list filters interface, service_id and region_id", async () => {
    const s0 = await createService();
    const s1 = await createService();
    const region = unique("r");
    const e0 = await createEndpoint({ service_id: s0.id, interface: "public", region });
    const e1 = await createEndpoint({ service_id: s1.id, interface: "internal", region_id: region });
    const all = await req("GET", "/endpoints");
    assert.ok(all.body.endpoints.some((e: any) => e.id === e0.id));
    assert.deepEqual(
      (await req("GET", `/endpoints?service_id=${s0.id}`)).body.endpoints.map((e: any) => e.id),
      [e0.id],
    );
    assert.deepEqual(
      (await req("GET", `/endpoints?service_id=${s1.id}`)).body.endpoints.map((e: any) => e.id),
      [e1.id],
    );
    const pub = (await req("GET", "/endpoints?interface=public")).body.endpoints;
    assert.ok(pub.some((e: any) => e.id === e0.id) && pub.every((e: any) => e.interface === "public"));
    const internal = (await req("GET", "/endpoints?interface=internal")).body.endpoints;
    assert.ok(internal.some((e: any) => e.id === e1.id));
    const byRegion = (await req("GET", `/endpoints?region_id=${region}`)).body.endpoints;
    assert.deepEqual(byRegion.map((e: any) => e.id).sort(), [e0.id, e1.id].sort());
  });

  test("delete, then 404; unknown endpoint is 404 even for a member", async () => {
    const e = await createEndpoint({ service_id: svc.id });
    assert.equal((await req("DELETE", `/endpoints/${e.id}`)).status, 204);
    assertError(await req("GET", `/endpoints/${e.id}`), 404, new RegExp(`Could not find endpoint: ${e.id}`));
    const member = await persona(tc, "member");
    assertError(await req("GET", `/endpoints/${e.id}`, undefined, member.token), 404);
    const live = await createEndpoint({ service_id: svc.id });
    assertError(await req("GET", `/endpoints/${live.id}`, undefined, member.token), 403);
    assertError(await req("GET", "/endpoints", undefined, member.token), 403);
  });
});

describe("OS-EP-FILTER", () => {
  test("endpoint group CRUD, HEAD 200, list equality, validation", async () => {
    const s = await createService();
    const made = await req("POST", "/OS-EP-FILTER/endpoint_groups", {
      endpoint_group: { name: unique("eg"), description: "d", filters: { service_id: s.id } },
    });
    assert.equal(made.status, 201, made.text);
    const g = made.body.endpoint_group;
    assert.ok(g.links.self.endsWith(`/v3/OS-EP-FILTER/endpoint_groups/${g.id}`));
    const list = await req("GET", "/OS-EP-FILTER/endpoint_groups");
    assert.ok(list.body.endpoint_groups.some((x: unknown) => JSON.stringify(x) === JSON.stringify(g)));
    const byName = await req("GET", `/OS-EP-FILTER/endpoint_groups?name=${g.name}`);
    assert.deepEqual(byName.body.endpoint_groups, [g]);
    const show = await req("GET", `/OS-EP-FILTER/endpoint_groups/${g.id}`);
    assert.deepEqual(show.body.endpoint_group, g);
    const head = await req("HEAD", `/OS-EP-FILTER/endpoint_groups/${g.id}`);
    assert.equal(head.status, 200);
    assert.equal(head.text, "");
    const s2 = await createService();
    const upd = await req("PATCH", `/OS-EP-FILTER/endpoint_groups/${g.id}`, {
      endpoint_group: { name: "n2", description: "d2", filters: { service_id: s2.id } },
    });
    assert.equal(upd.status, 200);
    assert.deepEqual(upd.body.endpoint_group.filters, { service_id: s2.id });
    assert.equal(upd.body.endpoint_group.name, "n2");
    assertError(
      await req("POST", "/OS-EP-FILTER/endpoint_groups", { endpoint_group: { name: "x", filters: {} } }),
      400,
      /filters field is required/,
    );
    assertError(
      await req("POST", "/OS-EP-FILTER/endpoint_groups", { endpoint_group: { name: "x", filters: { url: "y" } } }),
      400,
      /service_id or region_id or interface/,
    );
    assertError(await req("POST", "/OS-EP-FILTER/endpoint_groups", { endpoint_group: { filters: { interface: "public" } } }), 400);
    assert.equal((await req("DELETE", `/OS-EP-FILTER/endpoint_groups/${g.id}`)).status, 204);
    assertError(await req("GET", `/OS-EP-FILTER/endpoint_groups/${g.id}`), 404, /Could not find Endpoint Group/);
    const after = await req("GET", "/OS-EP-FILTER/endpoint_groups");
    assert.ok(!after.body.endpoint_groups.some((x: any) => x.id === g.id));
  });

  test("project ↔ endpoint associations narrow the project's catalog", async () => {
    const member = await persona(tc, "member");
    const pid = member.projectId;
    const before = await req("GET", "/auth/catalog", undefined, member.token);
    assert.equal(before.status, 200);
    assert.ok(before.body.catalog.some((s: any) => s.type === "identity"));

    const s = await createService();
    const e = await createEndpoint({ service_id: s.id, region_id: "RegionOne", url: "https://svc.example/$(project_id)s" });
    const put = await req("PUT", `/OS-EP-FILTER/projects/${pid}/endpoints/${e.id}`);
    assert.equal(put.status, 204);
    assert.equal(put.text, "");
    assertError(await req("PUT", `/OS-EP-FILTER/projects/${pid}/endpoints/${e.id}`), 409);
    const head = await req("HEAD", `/OS-EP-FILTER/projects/${pid}/endpoints/${e.id}`);
    assert.equal(head.status, 204);
    assert.equal((await req("GET", `/OS-EP-FILTER/projects/${pid}/endpoints/${e.id}`)).status, 204);

    const eps = await req("GET", `/OS-EP-FILTER/projects/${pid}/endpoints`);
    assert.deepEqual(
      eps.body.endpoints.map((x: any) => x.id),
      [e.id],
    );
    assert.equal(eps.body.endpoints[0].region, "RegionOne");
    const projects = await req("GET", `/OS-EP-FILTER/endpoints/${e.id}/projects`);
    assert.deepEqual(
      projects.body.projects.map((x: any) => x.id),
      [pid],
    );
    assert.ok(projects.body.projects[0].links.self.endsWith(`/v3/projects/${pid}`));

    // Only the associated endpoint remains, with its URL template filled in.
    const cat = await req("GET", "/auth/catalog", undefined, member.token);
    assert.equal(cat.body.catalog.length, 1);
    assert.equal(cat.body.catalog[0].id, s.id);
    assert.deepEqual(
      cat.body.catalog[0].endpoints.map((x: any) => [x.id, x.url, x.region]),
      [[e.id, `https://svc.example/${pid}`, "RegionOne"]],
    );
    const tok = await tc.request("POST", `${V3}/auth/tokens`, {
      body: {
        auth: {
          identity: { methods: ["password"], password: { user: { id: member.userId, password: member.password } } },
          scope: { project: { id: pid } },
        },
      },
    });
    assert.equal(tok.status, 201);
    assert.deepEqual(
      tok.body.token.catalog.map((x: any) => x.id),
      [s.id],
    );
    // Other projects keep the full catalog.
    const adminCat = await req("GET", "/auth/catalog");
    assert.ok(adminCat.body.catalog.some((x: any) => x.type === "identity"));

    assert.equal((await req("DELETE", `/OS-EP-FILTER/projects/${pid}/endpoints/${e.id}`)).status, 204);
    assertError(await req("DELETE", `/OS-EP-FILTER/projects/${pid}/endpoints/${e.id}`), 404, /not found in project/);
    assert.equal((await req("HEAD", `/OS-EP-FILTER/projects/${pid}/endpoints/${e.id}`)).status, 404);
    const restored = await req("GET", "/auth/catalog", undefined, member.token);
    assert.ok(restored.body.catalog.some((x: any) => x.type === "identity"));
  });

  test("association lookups: unknown endpoint, project; member forbidden", async () => {
    const s = await createService();
    const e = await createEndpoint({ service_id: s.id });
    const pid = await createProject();
    assertError(await req("PUT", `/OS-EP-FILTER/projects/${pid}/endpoints/${unique("e")}`), 404, /Could not find endpoint/);
    assertError(await req("PUT", `/OS-EP-FILTER/projects/${unique("p")}/endpoints/${e.id}`), 404, /Could not find project/);
    assertError(await req("GET", `/OS-EP-FILTER/projects/${unique("p")}/endpoints`), 404, /Could not find project/);
    assertError(await req("GET", `/OS-EP-FILTER/endpoints/${unique("e")}/projects`), 404);
    const member = await persona(tc, "member");
    assertError(await req("PUT", `/OS-EP-FILTER/projects/${member.projectId}/endpoints/${e.id}`, undefined, member.token), 403);
  });

  test("endpoint groups associated with a project filter its catalog", async () => {
    const member = await persona(tc, "member");
    const pid = member.projectId;
    const s = await createService();
    const pub = await createEndpoint({ service_id: s.id, interface: "public", region_id: "RegionOne" });
    const adm = await createEndpoint({ service_id: s.id, interface: "admin", region_id: "RegionOne" });
    const g = (
      await req("POST", "/OS-EP-FILTER/endpoint_groups", {
        endpoint_group: { name: unique("eg"), filters: { service_id: s.id, interface: "public" } },
      })
    ).body.endpoint_group;
    const inGroup = await req("GET", `/OS-EP-FILTER/endpoint_groups/${g.id}/endpoints`);
    assert.deepEqual(
      inGroup.body.endpoints.map((x: any) => x.id),
      [pub.id],
    );
    assertError(await req("GET", `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${pid}`), 404, /Association not found/);
    assert.equal((await req("PUT", `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${pid}`)).status, 204);
    assertError(await req("PUT", `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${pid}`), 409);
    const assoc = await req("GET", `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${pid}`);
    assert.equal(assoc.status, 200);
    assert.deepEqual(assoc.body.project_endpoint_group, {
      endpoint_group_id: g.id,
      project_id: pid,
      links: { self: `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${pid}` },
    });
    assert.equal((await req("HEAD", `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${pid}`)).status, 200);
    const projects = await req("GET", `/OS-EP-FILTER/endpoint_groups/${g.id}/projects`);
    assert.deepEqual(
      projects.body.projects.map((x: any) => x.id),
      [pid],
    );
    const groups = await req("GET", `/OS-EP-FILTER/projects/${pid}/endpoint_groups`);
    assert.deepEqual(groups.body.endpoint_groups, [g]);
    const eps = await req("GET", `/OS-EP-FILTER/projects/${pid}/endpoints`);
    assert.deepEqual(
      eps.body.endpoints.map((x: any) => x.id),
      [pub.id],
    );
    const cat = await req("GET", "/auth/catalog", undefined, member.token);
    assert.deepEqual(
      cat.body.catalog.map((x: any) => [x.id, x.endpoints.map((y: any) => y.id)]),
      [[s.id, [pub.id]]],
    );
    assert.ok(!cat.body.catalog[0].endpoints.some((y: any) => y.id === adm.id));

    assertError(await req("PUT", `/OS-EP-FILTER/endpoint_groups/${unique("g")}/projects/${pid}`), 404, /Endpoint Group/);
    assertError(await req("PUT", `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${unique("p")}`), 404, /project/);
    assert.equal((await req("DELETE", `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${pid}`)).status, 204);
    assertError(await req("DELETE", `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${pid}`), 404);
    assert.deepEqual((await req("GET", `/OS-EP-FILTER/projects/${pid}/endpoint_groups`)).body.endpoint_groups, []);
  });

  test("deleting a project or endpoint group drops its associations", async () => {
    const pid = await createProject();
    const s = await createService();
    const e = await createEndpoint({ service_id: s.id });
    const g = (await req("POST", "/OS-EP-FILTER/endpoint_groups", { endpoint_group: { name: unique("eg"), filters: { service_id: s.id } } }))
      .body.endpoint_group;
    assert.equal((await req("PUT", `/OS-EP-FILTER/projects/${pid}/endpoints/${e.id}`)).status, 204);
    assert.equal((await req("PUT", `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${pid}`)).status, 204);
    assert.equal((await req("DELETE", `/projects/${pid}`)).status, 204);
    assert.deepEqual((await req("GET", `/OS-EP-FILTER/endpoints/${e.id}/projects`)).body.projects, []);
    assert.deepEqual((await req("GET", `/OS-EP-FILTER/endpoint_groups/${g.id}/projects`)).body.projects, []);
    const pid2 = await createProject();
    assert.equal((await req("PUT", `/OS-EP-FILTER/endpoint_groups/${g.id}/projects/${pid2}`)).status, 204);
    assert.equal((await req("DELETE", `/OS-EP-FILTER/endpoint_groups/${g.id}`)).status, 204);
    assert.deepEqual((await req("GET", `/OS-EP-FILTER/projects/${pid2}/endpoint_groups`)).body.endpoint_groups, []);
  });
});

describe("policies", () => {
  test("CRUD, list with type filter", async () => {
    const type = unique("application/json");
    const made = [];
    for (let i = 0; i < 3; i++) {
      const r = await req("POST", "/policies", { policy: { blob: unique("blob"), type } });
      assert.equal(r.status, 201, r.text);
      made.push(r.body.policy);
    }
    const p = made[0];
    assert.deepEqual(Object.keys(p).sort(), ["blob", "id", "links", "type"]);
    const list = await req("GET", "/policies");
    for (const m of made) assert.ok(list.body.policies.some((x: any) => x.id === m.id));
    assert.equal((await req("GET", `/policies?type=${type}`)).body.policies.length, 3);
    const u = await req("PATCH", `/policies/${p.id}`, { policy: { type: "text/plain" } });
    assert.equal(u.status, 200);
    assert.equal(u.body.policy.type, "text/plain");
    const show = await req("GET", `/policies/${p.id}`);
    assert.equal(show.body.policy.blob, p.blob);
    assert.equal(show.body.policy.type, "text/plain");
    assertError(await req("PATCH", `/policies/${p.id}`, { policy: { id: "other" } }), 400, /Cannot change policy ID/);
    assertError(await req("POST", "/policies", { policy: { type: "x" } }), 400);
    assertError(await req("POST", "/policies", { policy: { blob: {}, type: "x" } }), 400);
    assert.equal((await req("DELETE", `/policies/${p.id}`)).status, 204);
    assertError(await req("GET", `/policies/${p.id}`), 404, /Could not find policy/);
    const member = await persona(tc, "member");
    assertError(await req("GET", "/policies", undefined, member.token), 403);
  });

  test("OS-ENDPOINT-POLICY: endpoint beats region chain beats service", async () => {
    const pol = async (): Promise<string> => (await req("POST", "/policies", { policy: { blob: "{}", type: "json" } })).body.policy.id;
    const [pEndpoint, pRegion, pService] = [await pol(), await pol(), await pol()];
    const parent = (await req("POST", "/regions", { region: {} })).body.region.id as string;
    const child = (await req("POST", "/regions", { region: { parent_region_id: parent } })).body.region.id as string;
    const s = await createService();
    const e1 = await createEndpoint({ service_id: s.id, region_id: child });
    const e2 = await createEndpoint({ service_id: s.id, region_id: child, interface: "admin" });
    const e3 = await createEndpoint({ service_id: s.id });

    assertError(await req("GET", `/endpoints/${e1.id}/OS-ENDPOINT-POLICY/policy`), 404, /No policy is associated/);
    const svcPut = await req("PUT", `/policies/${pService}/OS-ENDPOINT-POLICY/services/${s.id}`);
    assert.equal(svcPut.status, 204);
    assert.equal((await req("GET", `/policies/${pService}/OS-ENDPOINT-POLICY/services/${s.id}`)).status, 204);
    assertError(await req("GET", `/policies/${pRegion}/OS-ENDPOINT-POLICY/services/${s.id}`), 404, /policy association/);
    assert.equal((await req("PUT", `/policies/${pRegion}/OS-ENDPOINT-POLICY/services/${s.id}/regions/${parent}`)).status, 204);
    assert.equal((await req("GET", `/policies/${pRegion}/OS-ENDPOINT-POLICY/services/${s.id}/regions/${parent}`)).status, 204);
    assert.equal((await req("PUT", `/policies/${pEndpoint}/OS-ENDPOINT-POLICY/endpoints/${e1.id}`)).status, 204);
    assert.equal((await req("HEAD", `/policies/${pEndpoint}/OS-ENDPOINT-POLICY/endpoints/${e1.id}`)).status, 204);

    const policyOf = async (eid: string): Promise<any> => {
      const r = await req("GET", `/endpoints/${eid}/OS-ENDPOINT-POLICY/policy`);
      assert.equal(r.status, 200, r.text);
      return r.body.policy;
    };
    assert.equal((await policyOf(e1.id)).id, pEndpoint);
    assert.equal((await policyOf(e2.id)).id, pRegion, "found through the parent region");
    assert.equal((await policyOf(e3.id)).id, pService);

    const forRegion = await req("GET", `/policies/${pRegion}/OS-ENDPOINT-POLICY/endpoints`);
    assert.deepEqual(forRegion.body.endpoints.map((x: any) => x.id).sort(), [e1.id, e2.id].sort());
    const forService = await req("GET", `/policies/${pService}/OS-ENDPOINT-POLICY/endpoints`);
    assert.deepEqual(forService.body.endpoints.map((x: any) => x.id).sort(), [e1.id, e2.id, e3.id].sort());
    const forEndpoint = await req("GET", `/policies/${pEndpoint}/OS-ENDPOINT-POLICY/endpoints`);
    assert.deepEqual(
      forEndpoint.body.endpoints.map((x: any) => x.id),
      [e1.id],
    );

    assert.equal((await req("DELETE", `/policies/${pEndpoint}/OS-ENDPOINT-POLICY/endpoints/${e1.id}`)).status, 204);
    assert.equal((await policyOf(e1.id)).id, pRegion);
    assertError(await req("PUT", `/policies/${unique("p")}/OS-ENDPOINT-POLICY/endpoints/${e1.id}`), 404, /Could not find policy/);
    assertError(await req("PUT", `/policies/${pService}/OS-ENDPOINT-POLICY/endpoints/${unique("e")}`), 404, /Could not find endpoint/);
    assertError(await req("PUT", `/policies/${pService}/OS-ENDPOINT-POLICY/services/${unique("s")}`), 404, /Could not find service/);
    assertError(
      await req("PUT", `/policies/${pService}/OS-ENDPOINT-POLICY/services/${s.id}/regions/${unique("r")}`),
      404,
      /Could not find region/,
    );
    assertError(await req("GET", `/endpoints/${unique("e")}/OS-ENDPOINT-POLICY/policy`), 404, /Could not find endpoint/);
    // Deleting the policy drops its associations.
    assert.equal((await req("DELETE", `/policies/${pRegion}`)).status, 204);
    assert.equal((await policyOf(e1.id)).id, pService);
  });
});

test("catalog: disabled services and endpoints are left out; domain tokens skip project templates", async () => {
  const s = await createService();
  const e = await createEndpoint({ service_id: s.id, region_id: "RegionOne" });
  const tmpl = await createEndpoint({ service_id: s.id, region_id: "RegionOne", url: "https://t.example/$(tenant_id)s" });
  const find = async (token: string): Promise<any> =>
    (await req("GET", "/auth/catalog", undefined, token)).body.catalog.find((x: any) => x.id === s.id);
  const entry = await find(admin);
  assert.deepEqual(entry.endpoints.map((x: any) => x.id).sort(), [e.id, tmpl.id].sort());
  assert.equal(entry.name, s.name);
  assert.equal(entry.type, s.type);
  const domainTok = await adminDomainToken(tc);
  if (domainTok) {
    // /auth/catalog wants a project-scoped token (403 otherwise, as Keystone); a domain
    // token's own catalog is in its validation body.
    assert.equal((await req("GET", "/auth/catalog", undefined, domainTok)).status, 403);
    const v = await req("GET", "/auth/tokens", undefined, domainTok, { "x-subject-token": domainTok });
    const d = v.body.token.catalog.find((x: any) => x.id === s.id);
    assert.deepEqual(
      d.endpoints.map((x: any) => x.id),
      [e.id],
    );
  }
  await req("PATCH", `/endpoints/${e.id}`, { endpoint: { enabled: false } });
  assert.deepEqual(
    (await find(admin)).endpoints.map((x: any) => x.id),
    [tmpl.id],
  );
  await req("PATCH", `/services/${s.id}`, { service: { enabled: false } });
  assert.equal(await find(admin), undefined);
});

test("a service or region still used by a registered limit is refused (403), never a 500", async (t) => {
  const s = await createService();
  const region = (await req("POST", "/regions", { region: {} })).body.region.id as string;
  const rl = await req("POST", "/registered_limits", {
    registered_limits: [{ service_id: s.id, region_id: region, resource_name: unique("res"), default_limit: 3 }],
  });
  if (rl.status !== 201) {
    t.skip(`registered limits not available (${rl.status})`);
    return;
  }
  assertError(await req("DELETE", `/services/${s.id}`), 403);
  assertError(await req("DELETE", `/regions/${region}`), 403);
  assert.equal((await req("GET", `/services/${s.id}`)).status, 200);
  assert.equal((await req("DELETE", `/registered_limits/${rl.body.registered_limits[0].id}`)).status, 204);
  assert.equal((await req("DELETE", `/services/${s.id}`)).status, 204);
  assert.equal((await req("DELETE", `/regions/${region}`)).status, 204);
});
