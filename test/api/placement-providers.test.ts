/**
 * Placement: the version document, resource providers (trees, generations, names), inventories
 * and their validation, resource classes, traits, aggregates, microversion gating, the error
 * body and its codes, content negotiation, and policy.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import { assertPlacementError, placementApi } from "../support/placement.js";

const tc = await startTestCloud();
after(() => tc.close());
const api = placementApi(tc, () => tc.adminToken());
const { call } = api;

test("the version document needs no token and advertises 1.0 to 1.39", async () => {
  for (const path of ["/placement/", "/placement"]) {
    const r = await tc.request("GET", path);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { versions: [{ id: "v1.0", max_version: "1.39", min_version: "1.0", status: "CURRENT", links: [{ rel: "self", href: "" }] }] });
  }
  const r = await tc.request("GET", "/placement/", { headers: { "openstack-api-version": "placement 1.15" } });
  assert.equal(r.headers.get("cache-control"), "no-cache");
  assert.ok(r.headers.get("last-modified"));
  assert.equal(r.headers.get("openstack-api-version"), "placement 1.15");
});

test("microversions: out of range is 406 with min/max, default is 1.0", async () => {
  const r = await call("GET", "/resource_providers", undefined, "1.40");
  const e = assertPlacementError(r, 406, null, "Unacceptable version header: 1.40");
  assert.equal(e.max_version, "1.39");
  assert.equal(e.min_version, "1.0");
  // A malformed version is microversion_parse's TypeError: 400, no min/max.
  const bad = assertPlacementError(await call("GET", "/resource_providers", undefined, "1.a"), 400, null, "Invalid microversion: invalid version string: 1.a");
  assert.equal(bad.max_version, undefined);
  const d = await tc.request("GET", "/placement/resource_providers", { token: await tc.adminToken() });
  assert.equal(d.status, 200);
  assert.equal(d.headers.get("openstack-api-version"), "placement 1.0");
  // Routes younger than the requested version are 404; DELETE of all inventories is 405 before 1.5.
  const young = await call("GET", "/traits", undefined, "1.5");
  assertPlacementError(young, 404);
  assert.equal(young.headers.get("openstack-api-version"), "placement 1.5", "errors carry the version too");
  assertPlacementError(await call("GET", "/resource_classes", undefined, "1.1"), 404);
  const rp = await api.provider();
  assertPlacementError(await call("DELETE", `/resource_providers/${rp}/inventories`, undefined, "1.4"), 405);
});

test("create, show, update, list and delete a provider", async () => {
  const name = unique("cn");
  const r = await call("POST", "/resource_providers", { name });
  assert.equal(r.status, 200, r.text);
  const p = r.body;
  assert.match(p.uuid, /^[0-9a-f-]{36}$/);
  assert.equal(p.name, name);
  assert.equal(p.generation, 0);
  assert.equal(p.parent_provider_uuid, null);
  assert.equal(p.root_provider_uuid, p.uuid);
  assert.deepEqual(p.links.map((l: { rel: string }) => l.rel), ["self", "inventories", "usages", "aggregates", "traits", "allocations"]);
  assert.equal(r.headers.get("location"), `${tc.url}/placement/resource_providers/${p.uuid}`);
  assert.equal(r.headers.get("cache-control"), "no-cache");

  const old = await call("POST", "/resource_providers", { name: unique("cn") }, "1.19");
  assert.equal(old.status, 201);
  assert.equal(old.text, "");

  const s = await call("GET", `/resource_providers/${p.uuid}`);
  assert.equal(s.status, 200);
  assert.deepEqual(s.body, p);
  const s10 = await call("GET", `/resource_providers/${p.uuid}`, undefined, "1.0");
  assert.equal(s10.body.root_provider_uuid, undefined);
  assert.deepEqual(s10.body.links.map((l: { rel: string }) => l.rel), ["self", "inventories", "usages"]);

  const u = await call("PUT", `/resource_providers/${p.uuid}`, { name: `${name}-x` });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.body.name, `${name}-x`);

  const byName = await call("GET", `/resource_providers?name=${name}-x`);
  assert.deepEqual(byName.body.resource_providers.map((x: { uuid: string }) => x.uuid), [p.uuid]);
  const byUuid = await call("GET", `/resource_providers?uuid=${p.uuid}`);
  assert.equal(byUuid.body.resource_providers.length, 1);

  assert.equal((await call("DELETE", `/resource_providers/${p.uuid}`)).status, 204);
  assertPlacementError(await call("GET", `/resource_providers/${p.uuid}`), 404, "placement.undefined_code", `No resource provider with uuid ${p.uuid} found`);
  assertPlacementError(await call("DELETE", `/resource_providers/${p.uuid}`), 404, undefined, `No resource provider with uuid ${p.uuid} found for delete`);
});

test("provider names and uuids are unique (409 placement.duplicate_name)", async () => {
  const name = unique("dup");
  const uuid = api.uuid();
  assert.equal((await call("POST", "/resource_providers", { name, uuid })).status, 200);
  assertPlacementError(await call("POST", "/resource_providers", { name }), 409, "placement.duplicate_name", `name: ${name}`);
  assertPlacementError(await call("POST", "/resource_providers", { name: unique("o"), uuid }), 409, "placement.duplicate_name", `uuid: ${uuid}`);
  const other = await api.provider();
  assertPlacementError(await call("PUT", `/resource_providers/${other}`, { name }), 409, "placement.duplicate_name");
  // Error codes appear from 1.23 only.
  assertPlacementError(await call("POST", "/resource_providers", { name }, "1.22"), 409, null);
});

test("bad bodies are 400 with jsonschema wording and 415 without JSON", async () => {
  assertPlacementError(await call("POST", "/resource_providers", {}), 400, undefined, "JSON does not validate: 'name' is a required property");
  assertPlacementError(await call("POST", "/resource_providers", { name: "x", foo: 1 }), 400, undefined, "Additional properties are not allowed ('foo' was unexpected)");
  assertPlacementError(await call("POST", "/resource_providers", { name: "x", uuid: "nope" }), 400, undefined, "'nope' is not a 'uuid'");
  assertPlacementError(await call("POST", "/resource_providers", { name: "x".repeat(201) }), 400, undefined, "is too long");
  const raw = await tc.request("POST", "/placement/resource_providers", { token: await tc.adminToken(), raw: "{bad", headers: { "openstack-api-version": "placement 1.39" } });
  assertPlacementError(raw, 400, undefined, "Malformed JSON");
  const text = await tc.request("POST", "/placement/resource_providers", { token: await tc.adminToken(), raw: "name=x", headers: { "content-type": "text/plain", "openstack-api-version": "placement 1.39" } });
  assertPlacementError(text, 415, undefined, "The media type text/plain is not supported, use application/json");
});

test("406 when Accept excludes JSON", async () => {
  const r = await call("GET", "/resource_providers", undefined, "1.39", { accept: "text/html" });
  assertPlacementError(r, 406, undefined, "Only application/json is provided");
  assert.equal((await call("GET", "/resource_providers", undefined, "1.39", { accept: "*/*" })).status, 200);
});

test("nested providers: parents, roots, in_tree, re-parenting at 1.37, delete refused for parents", async () => {
  const root = await api.provider();
  const child = await api.provider({ parent: root });
  const grand = await api.provider({ parent: child });
  const g = await call("GET", `/resource_providers/${grand}`);
  assert.equal(g.body.parent_provider_uuid, child);
  assert.equal(g.body.root_provider_uuid, root);
  const tree = await call("GET", `/resource_providers?in_tree=${child}`);
  assert.deepEqual(new Set(tree.body.resource_providers.map((x: { uuid: string }) => x.uuid)), new Set([root, child, grand]));
  assert.deepEqual((await call("GET", `/resource_providers?in_tree=${api.uuid()}`)).body.resource_providers, []);

  assertPlacementError(await call("DELETE", `/resource_providers/${child}`), 409, "placement.resource_provider.cannot_delete_parent");
  assertPlacementError(await call("POST", "/resource_providers", { name: unique("o"), parent_provider_uuid: api.uuid() }), 400, undefined, "parent provider UUID does not exist");

  // Un-parenting: refused before 1.37, then the subtree gets a new root.
  assertPlacementError(await call("PUT", `/resource_providers/${child}`, { name: unique("c"), parent_provider_uuid: null }, "1.36"), 400, undefined, "un-parenting a provider is not currently allowed");
  const loop = await call("PUT", `/resource_providers/${child}`, { name: unique("c"), parent_provider_uuid: grand });
  assertPlacementError(loop, 400, undefined, "creating loop in the provider tree is not allowed");
  const un = await call("PUT", `/resource_providers/${child}`, { name: unique("c"), parent_provider_uuid: null });
  assert.equal(un.status, 200, un.text);
  assert.equal(un.body.root_provider_uuid, child);
  assert.equal((await call("GET", `/resource_providers/${grand}`)).body.root_provider_uuid, child);
  // Parenting a root under another provider is allowed at any version from 1.14.
  const re = await call("PUT", `/resource_providers/${child}`, { name: unique("c"), parent_provider_uuid: root }, "1.14");
  assert.equal(re.status, 200, re.text);
  assert.equal((await call("GET", `/resource_providers/${grand}`)).body.root_provider_uuid, root);
});

test("inventories: set, show, update, add, delete, generations and validation", async () => {
  const rp = await api.provider();
  const put = await call("PUT", `/resource_providers/${rp}/inventories`, {
    resource_provider_generation: 0,
    inventories: { VCPU: { total: 8, allocation_ratio: 4, max_unit: 8 }, MEMORY_MB: { total: 2048, reserved: 512 } },
  });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.resource_provider_generation, 1);
  assert.deepEqual(put.body.inventories.MEMORY_MB, { total: 2048, reserved: 512, min_unit: 1, max_unit: 2147483647, step_size: 1, allocation_ratio: 1 });

  assertPlacementError(
    await call("PUT", `/resource_providers/${rp}/inventories`, { resource_provider_generation: 0, inventories: {} }),
    409,
    "placement.concurrent_update",
    "resource provider generation conflict",
  );
  const list = await call("GET", `/resource_providers/${rp}/inventories`);
  assert.equal(list.body.resource_provider_generation, 1);
  assert.deepEqual(Object.keys(list.body.inventories).sort(), ["MEMORY_MB", "VCPU"]);
  const one = await call("GET", `/resource_providers/${rp}/inventories/VCPU`);
  assert.equal(one.body.allocation_ratio, 4);
  assert.equal(one.body.resource_provider_generation, 1);
  assertPlacementError(await call("GET", `/resource_providers/${rp}/inventories/DISK_GB`), 404, undefined, `No inventory of class DISK_GB for ${rp}`);

  const upd = await call("PUT", `/resource_providers/${rp}/inventories/VCPU`, { resource_provider_generation: 1, total: 16 });
  assert.equal(upd.status, 200, upd.text);
  assert.equal(upd.body.total, 16);
  assert.equal(upd.body.resource_provider_generation, 2);

  const add = await call("POST", `/resource_providers/${rp}/inventories`, { resource_class: "DISK_GB", total: 100 });
  assert.equal(add.status, 201, add.text);
  assert.equal(add.headers.get("location"), `${tc.url}/placement/resource_providers/${rp}/inventories/DISK_GB`);
  assertPlacementError(await call("POST", `/resource_providers/${rp}/inventories`, { resource_class: "DISK_GB", total: 100 }), 409, "placement.concurrent_update");

  // Validation: reserved ≥ total before 1.26, > total after; bounds; unknown classes.
  const bad = async (inv: Record<string, number>, v = "1.39") => {
    const g = (await call("GET", `/resource_providers/${rp}`)).body.generation;
    return call("PUT", `/resource_providers/${rp}/inventories/DISK_GB`, { resource_provider_generation: g, ...inv }, v);
  };
  assertPlacementError(await bad({ total: 10, reserved: 10 }, "1.25"), 400, undefined, "The reserved value is greater than or equal to total.");
  assert.equal((await bad({ total: 10, reserved: 10 })).status, 200);
  assertPlacementError(await bad({ total: 10, reserved: 11 }), 400, undefined, "The reserved value is greater than total.");
  assertPlacementError(await bad({ total: 0 }), 400, undefined, "0 is less than the minimum of 1");
  assertPlacementError(await bad({ total: 2147483648 }), 400, undefined, "is greater than the maximum of 2147483647");
  const gen = (await call("GET", `/resource_providers/${rp}/inventories`)).body.resource_provider_generation;
  assertPlacementError(
    await call("PUT", `/resource_providers/${rp}/inventories`, { resource_provider_generation: gen, inventories: { CUSTOM_NOPE: { total: 1 } } }),
    400,
    undefined,
    "Unknown resource class in inventory",
  );

  assertPlacementError(await call("DELETE", `/resource_providers/${rp}/inventories/CUSTOM_NOPE`), 404, undefined, "No inventory of class CUSTOM_NOPE found for delete: No such resource class CUSTOM_NOPE.");
  // Two writers with the same generation: exactly one wins, the other gets placement.concurrent_update.
  const g2 = (await call("GET", `/resource_providers/${rp}`)).body.generation;
  const racing = await Promise.all(
    [1, 2, 3, 4].map((n) => call("PUT", `/resource_providers/${rp}/inventories/VCPU`, { resource_provider_generation: g2, total: 16 + n })),
  );
  assert.equal(racing.filter((r) => r.status === 200).length, 1, racing.map((r) => r.status).join());
  for (const r of racing) if (r.status !== 200) assertPlacementError(r, 409, "placement.concurrent_update");
  assert.equal((await call("DELETE", `/resource_providers/${rp}/inventories/DISK_GB`)).status, 204);
  assertPlacementError(await call("DELETE", `/resource_providers/${rp}/inventories/DISK_GB`), 404);
  assert.equal((await call("DELETE", `/resource_providers/${rp}/inventories`)).status, 204);
  assert.deepEqual((await call("GET", `/resource_providers/${rp}/inventories`)).body.inventories, {});
});

test("inventory in use: removing an allocated class is 409 placement.inventory.inuse; lowering total is allowed", async () => {
  const rp = await api.provider({ inventories: { VCPU: { total: 4 }, DISK_GB: { total: 10 } } });
  const c = api.uuid();
  assert.equal((await api.allocate(c, { [rp]: { VCPU: 2 } })).status, 204);
  const gen = (await call("GET", `/resource_providers/${rp}`)).body.generation;
  const r = await call("PUT", `/resource_providers/${rp}/inventories`, { resource_provider_generation: gen, inventories: { DISK_GB: { total: 10 } } });
  assertPlacementError(r, 409, "placement.inventory.inuse", `Inventory for 'VCPU' on resource provider '${rp}' in use.`);
  assertPlacementError(await call("DELETE", `/resource_providers/${rp}/inventories`), 409, "placement.inventory.inuse");
  const lower = await call("PUT", `/resource_providers/${rp}/inventories`, { resource_provider_generation: gen, inventories: { VCPU: { total: 1 }, DISK_GB: { total: 10 } } });
  assert.equal(lower.status, 200, lower.text);
  assertPlacementError(await call("DELETE", `/resource_providers/${rp}`), 409, "placement.resource_provider.inuse");
});

test("resource classes: standard list, custom create/show/rename/delete", async () => {
  const list = await call("GET", "/resource_classes");
  const names = list.body.resource_classes.map((r: { name: string }) => r.name);
  for (const n of ["VCPU", "MEMORY_MB", "DISK_GB", "PCPU", "SRIOV_NET_VF", "VGPU"]) assert.ok(names.includes(n), n);
  const name = `CUSTOM_${unique("RC").toUpperCase().replaceAll("-", "_")}`;
  const c = await call("POST", "/resource_classes", { name });
  assert.equal(c.status, 201, c.text);
  assert.equal(c.headers.get("location"), `${tc.url}/placement/resource_classes/${name}`);
  assertPlacementError(await call("POST", "/resource_classes", { name }), 409, undefined, `Conflicting resource class already exists: ${name}`);
  assertPlacementError(await call("POST", "/resource_classes", { name: "VCPU" }), 400, undefined, "does not match");
  const s = await call("GET", `/resource_classes/${name}`);
  assert.deepEqual(s.body, { name, links: [{ rel: "self", href: `/placement/resource_classes/${name}` }] });
  assertPlacementError(await call("GET", "/resource_classes/CUSTOM_NOT_THERE"), 404, undefined, "No such resource class CUSTOM_NOT_THERE.");
  // 1.2–1.6: PUT renames; 1.7+: PUT creates without a body.
  const renamed = `${name}_B`;
  const r = await call("PUT", `/resource_classes/${name}`, { name: renamed }, "1.6");
  assert.equal(r.status, 200, r.text);
  assert.equal((await call("PUT", `/resource_classes/${renamed}`)).status, 204);
  assert.equal((await call("PUT", `/resource_classes/${name}`)).status, 201);
  assertPlacementError(await call("DELETE", "/resource_classes/VCPU"), 400, undefined, "Cannot delete standard resource class VCPU.");
  // In use by an inventory: 409.
  const rp = await api.provider({ inventories: { [renamed]: { total: 1 } } });
  assertPlacementError(await call("DELETE", `/resource_classes/${renamed}`), 409, undefined, "Class is in use in inventory.");
  assert.equal((await call("DELETE", `/resource_providers/${rp}`)).status, 204);
  assert.equal((await call("DELETE", `/resource_classes/${renamed}`)).status, 204);
  assert.equal((await call("DELETE", `/resource_classes/${name}`)).status, 204);
});

test("traits: catalogue filters, custom traits, provider traits with generations", async () => {
  const all = await call("GET", "/traits");
  assert.ok(all.body.traits.includes("COMPUTE_STATUS_DISABLED"));
  assert.ok(all.body.traits.includes("HW_CPU_X86_AVX2"));
  const t = `CUSTOM_${unique("T").toUpperCase().replaceAll("-", "_")}`;
  const c = await call("PUT", `/traits/${t}`);
  assert.equal(c.status, 201);
  assert.equal(c.headers.get("location"), `${tc.url}/placement/traits/${t}`);
  assert.equal((await call("PUT", `/traits/${t}`)).status, 204);
  assert.equal((await call("GET", `/traits/${t}`)).status, 204);
  assertPlacementError(await call("PUT", "/traits/NOT_CUSTOM"), 400, undefined, 'start with the prefix "CUSTOM_"');
  assertPlacementError(await call("GET", "/traits/CUSTOM_NOPE_NOPE"), 404, undefined, "No such trait(s): CUSTOM_NOPE_NOPE.");
  assert.deepEqual((await call("GET", `/traits?name=in:${t},HW_CPU_X86_AVX`)).body.traits.sort(), [t, "HW_CPU_X86_AVX"].sort());
  assert.deepEqual((await call("GET", `/traits?name=startswith:${t}`)).body.traits, [t]);
  assertPlacementError(await call("GET", "/traits?name=foo"), 400, undefined, "Badly formatted name parameter");
  assertPlacementError(await call("GET", "/traits?associated=maybe"), 400, undefined, 'The query parameter "associated" only accepts "true" or "false"');

  const rp = await api.provider();
  const set = await call("PUT", `/resource_providers/${rp}/traits`, { resource_provider_generation: 0, traits: [t, "HW_CPU_X86_AVX"] });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.body.resource_provider_generation, 1);
  assertPlacementError(await call("PUT", `/resource_providers/${rp}/traits`, { resource_provider_generation: 0, traits: [] }), 409, "placement.concurrent_update");
  assertPlacementError(await call("PUT", `/resource_providers/${rp}/traits`, { resource_provider_generation: 1, traits: ["CUSTOM_NOT_THERE"] }), 400, undefined, "No such trait CUSTOM_NOT_THERE");
  const got = await call("GET", `/resource_providers/${rp}/traits`);
  assert.deepEqual(got.body.traits.sort(), [t, "HW_CPU_X86_AVX"].sort());
  assert.ok((await call("GET", `/traits?associated=true&name=in:${t}`)).body.traits.includes(t));
  assertPlacementError(await call("DELETE", `/traits/${t}`), 409, undefined, `The trait ${t} is in use by a resource provider.`);
  assertPlacementError(await call("DELETE", "/traits/HW_CPU_X86_AVX"), 400, undefined, "Cannot delete standard trait HW_CPU_X86_AVX.");
  assert.equal((await call("DELETE", `/resource_providers/${rp}/traits`)).status, 204);
  assert.deepEqual((await call("GET", `/resource_providers/${rp}/traits`)).body, { traits: [], resource_provider_generation: 2 });
  assert.equal((await call("DELETE", `/traits/${t}`)).status, 204);
});

test("aggregates: plain list before 1.19, generation-checked after", async () => {
  const rp = await api.provider();
  const a1 = api.uuid();
  const a2 = api.uuid();
  const old = await call("PUT", `/resource_providers/${rp}/aggregates`, [a1], "1.1");
  assert.equal(old.status, 200, old.text);
  assert.deepEqual(old.body, { aggregates: [a1] });
  const gen = (await call("GET", `/resource_providers/${rp}`)).body.generation;
  assert.equal(gen, 0, "before 1.19 aggregates do not move the generation");
  const r = await call("PUT", `/resource_providers/${rp}/aggregates`, { resource_provider_generation: 0, aggregates: [a1, a2] });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.resource_provider_generation, 1);
  assertPlacementError(await call("PUT", `/resource_providers/${rp}/aggregates`, { resource_provider_generation: 0, aggregates: [] }), 409, "placement.concurrent_update");
  assertPlacementError(await call("PUT", `/resource_providers/${rp}/aggregates`, { resource_provider_generation: 1, aggregates: ["x"] }), 400, undefined, "'x' is not a 'uuid'");
  const got = await call("GET", `/resource_providers/${rp}/aggregates`);
  assert.deepEqual(got.body.aggregates.sort(), [a1, a2].sort());
  assert.deepEqual((await call("GET", `/resource_providers?member_of=${a2}`)).body.resource_providers.map((x: { uuid: string }) => x.uuid), [rp]);
  assert.deepEqual((await call("GET", `/resource_providers?member_of=in:${a2},${api.uuid()}`)).body.resource_providers.map((x: { uuid: string }) => x.uuid), [rp]);
  assert.ok(!(await call("GET", `/resource_providers?member_of=!${a2}`)).body.resource_providers.some((x: { uuid: string }) => x.uuid === rp));
  assertPlacementError(await call("GET", `/resource_providers?member_of=!${a2}`, undefined, "1.31"), 400, undefined, "Forbidden member_of parameters are not supported");
  assertPlacementError(await call("GET", `/resource_providers?member_of=${a1},${a2}`), 400, undefined, "must be prefixed with the 'in:' or '!in:' keyword");
});

test("list filters: resources, required and forbidden traits, in: traits at 1.39", async () => {
  const t = `CUSTOM_${unique("F").toUpperCase().replaceAll("-", "_")}`;
  const big = await api.provider({ inventories: { VCPU: { total: 64 }, MEMORY_MB: { total: 65536 } }, traits: [t] });
  const small = await api.provider({ inventories: { VCPU: { total: 2 }, MEMORY_MB: { total: 1024 } } });
  const ids = async (qs: string, v = "1.39") => (await call("GET", `/resource_providers?${qs}`, undefined, v)).body.resource_providers.map((x: { uuid: string }) => x.uuid);
  const fit = await ids("resources=VCPU:8,MEMORY_MB:4096");
  assert.ok(fit.includes(big) && !fit.includes(small));
  assert.deepEqual(await ids(`required=${t}`), [big]);
  const notT = await ids(`required=!${t}&resources=VCPU:1`);
  assert.ok(notT.includes(small) && !notT.includes(big));
  const t2 = `${t}_OTHER`;
  assert.equal((await call("PUT", `/traits/${t2}`)).status, 201);
  assert.deepEqual(await ids(`required=in:${t},${t2}`), [big]);
  assert.deepEqual(await ids(`required=in:${t},${t2}&required=${t2}`), []);
  assertPlacementError(await call("GET", `/resource_providers?required=in:${t}`, undefined, "1.38"), 400, undefined, "only supported since microversion 1.39");
  assertPlacementError(await call("GET", `/resource_providers?required=!${t}`, undefined, "1.21"), 400, undefined, "Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC");
  assertPlacementError(await call("GET", "/resource_providers?required=CUSTOM_NOT_A_TRAIT_X"), 400, undefined, "No such trait(s): CUSTOM_NOT_A_TRAIT_X");
  assertPlacementError(await call("GET", "/resource_providers?resources=VCPU"), 400, undefined, "Badly formed resources parameter");
  assertPlacementError(await call("GET", "/resource_providers?resources=VCPU:0"), 400, undefined, "Requested resource VCPU requires amount >= 1. Got: 0.");
  assertPlacementError(await call("GET", "/resource_providers?resources=CUSTOM_NOPE:1"), 400, undefined, "Invalid resource class in resources parameter");
  assertPlacementError(await call("GET", "/resource_providers?bogus=1"), 400, undefined, "Invalid query string parameters: Additional properties are not allowed ('bogus' was unexpected)");
  assertPlacementError(await call("GET", "/resource_providers?resources=VCPU:1", undefined, "1.3"), 400, undefined, "Invalid query string parameters");
});

test("policy: a project member or reader is refused with Placement's 403", async () => {
  const m = await persona(tc, "member");
  const r = await tc.request("GET", "/placement/resource_providers", { token: m.token, headers: { "openstack-api-version": "placement 1.39" } });
  assertPlacementError(r, 403, "placement.undefined_code", "Policy does not allow placement:resource_providers:list to be performed.");
  const w = await tc.request("POST", "/placement/resource_providers", { token: m.token, body: { name: "x" }, headers: { "openstack-api-version": "placement 1.39" } });
  assertPlacementError(w, 403);
  // Usages of one's own project are readable by its reader; another project's are not.
  const reader = await persona(tc, "reader");
  const own = await tc.request("GET", `/placement/usages?project_id=${reader.projectId}`, { token: reader.token, headers: { "openstack-api-version": "placement 1.39" } });
  assert.equal(own.status, 200, own.text);
  const other = await tc.request("GET", `/placement/usages?project_id=${m.projectId}`, { token: reader.token, headers: { "openstack-api-version": "placement 1.39" } });
  assertPlacementError(other, 403);
  const anon = await tc.request("GET", "/placement/resource_providers");
  assert.equal(anon.status, 401);
  assert.deepEqual(anon.body, { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } });
  assert.ok(anon.headers.get("www-authenticate"));
});

test("unknown URLs are 404 and wrong methods 405 in Placement's shape", async () => {
  assertPlacementError(await call("GET", "/nothing_here"), 404);
  assertPlacementError(await call("PATCH", "/resource_providers"), 405);
});
