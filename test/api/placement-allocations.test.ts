/**
 * Placement allocations: PUT/GET/DELETE per consumer across microversions, POST for several
 * consumers, consumer generations and types, capacity and unit refusals, usages, the
 * reshaper, and 32 concurrent writers racing for the last capacity.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { startTestCloud } from "../support/cloud.js";
import { assertPlacementError, placementApi } from "../support/placement.js";

const tc = await startTestCloud();
after(() => tc.close());
const api = placementApi(tc, () => tc.adminToken());
const { call } = api;

test("PUT, GET and DELETE a consumer's allocations; generations move", async () => {
  const rp = await api.provider({ inventories: { VCPU: { total: 8 }, MEMORY_MB: { total: 4096 } } });
  const c = api.uuid();
  assert.equal((await api.allocate(c, { [rp]: { VCPU: 2, MEMORY_MB: 1024 } })).status, 204);
  const g = await call("GET", `/allocations/${c}`);
  assert.equal(g.status, 200);
  assert.deepEqual(g.body, {
    allocations: { [rp]: { generation: 2, resources: { VCPU: 2, MEMORY_MB: 1024 } } },
    project_id: "proj",
    user_id: "user",
    consumer_generation: 1,
    consumer_type: "INSTANCE",
  });
  assert.ok(g.headers.get("last-modified"));
  const g27 = await call("GET", `/allocations/${c}`, undefined, "1.27");
  assert.equal(g27.body.consumer_generation, undefined);
  assert.equal(g27.body.consumer_type, undefined);
  const g11 = await call("GET", `/allocations/${c}`, undefined, "1.11");
  assert.equal(g11.body.project_id, undefined);

  const byRp = await call("GET", `/resource_providers/${rp}/allocations`);
  assert.deepEqual(byRp.body, { allocations: { [c]: { resources: { VCPU: 2, MEMORY_MB: 1024 }, consumer_generation: 1 } }, resource_provider_generation: 2 });
  assert.deepEqual((await call("GET", `/resource_providers/${rp}/usages`)).body, { resource_provider_generation: 2, usages: { VCPU: 2, MEMORY_MB: 1024 } });

  // Replace: the consumer's old allocations do not count against the new ones.
  assert.equal((await api.allocate(c, { [rp]: { VCPU: 8 } }, 1)).status, 204);
  assert.deepEqual((await call("GET", `/resource_providers/${rp}/usages`)).body.usages, { VCPU: 8, MEMORY_MB: 0 });

  assert.equal((await call("DELETE", `/allocations/${c}`)).status, 204);
  assert.deepEqual((await call("GET", `/allocations/${c}`)).body, { allocations: {} });
  assertPlacementError(await call("DELETE", `/allocations/${c}`), 404, undefined, `No allocations for consumer '${c}'`);
  assert.deepEqual((await call("GET", `/resource_providers/${rp}/usages`)).body.usages, { VCPU: 0, MEMORY_MB: 0 });
});

test("consumer generations (1.28+): null for new consumers, then the current one", async () => {
  const rp = await api.provider({ inventories: { VCPU: { total: 8 } } });
  const c = api.uuid();
  assertPlacementError(await api.allocate(c, { [rp]: { VCPU: 1 } }, 3), 409, "placement.concurrent_update", "consumer generation conflict - expected null but got 3");
  assert.equal((await api.allocate(c, { [rp]: { VCPU: 1 } }, null)).status, 204);
  assertPlacementError(await api.allocate(c, { [rp]: { VCPU: 1 } }, null), 409, "placement.concurrent_update", "consumer generation conflict - expected 1 but got None");
  assert.equal((await api.allocate(c, { [rp]: { VCPU: 2 } }, 1)).status, 204);
  // Empty allocations remove them (1.28+).
  assert.equal((await api.allocate(c, {}, 2)).status, 204);
  assert.deepEqual((await call("GET", `/allocations/${c}`)).body.allocations, {});
  // Before 1.28 the generation is neither required nor checked.
  const old = await call("PUT", `/allocations/${c}`, { allocations: { [rp]: { resources: { VCPU: 1 } } }, project_id: "p", user_id: "u" }, "1.12");
  assert.equal(old.status, 204, old.text);
  const missing = await call("PUT", `/allocations/${c}`, { allocations: { [rp]: { resources: { VCPU: 1 } } }, project_id: "p", user_id: "u" }, "1.28");
  assertPlacementError(missing, 400, undefined, "'consumer_generation' is a required property");
  const noType = await call("PUT", `/allocations/${c}`, { allocations: { [rp]: { resources: { VCPU: 1 } } }, project_id: "p", user_id: "u", consumer_generation: 1 }, "1.38");
  assertPlacementError(noType, 400, undefined, "'consumer_type' is a required property");
});

test("old body forms: a list before 1.12, project/user required from 1.8", async () => {
  const rp = await api.provider({ inventories: { DISK_GB: { total: 100 } } });
  const c = api.uuid();
  const r = await call("PUT", `/allocations/${c}`, { allocations: [{ resource_provider: { uuid: rp }, resources: { DISK_GB: 10 } }] }, "1.0");
  assert.equal(r.status, 204, r.text);
  assertPlacementError(await call("PUT", `/allocations/${c}`, { allocations: [{ resource_provider: { uuid: rp }, resources: { DISK_GB: 10 } }] }, "1.8"), 400, undefined, "'project_id' is a required property");
  assertPlacementError(await call("PUT", "/allocations/not-a-uuid", { allocations: {}, project_id: "p", user_id: "u", consumer_generation: null, consumer_type: "INSTANCE" }), 400, undefined, "Malformed consumer_uuid: not-a-uuid");
});

test("capacity: (total − reserved) × ratio, min_unit, max_unit, step_size; unknown providers and classes", async () => {
  const rp = await api.provider({ inventories: { VCPU: { total: 4, reserved: 1, allocation_ratio: 2, max_unit: 4 }, MEMORY_MB: { total: 1024, min_unit: 256, step_size: 256 } } });
  const ok = api.uuid();
  assert.equal((await api.allocate(ok, { [rp]: { VCPU: 4 } })).status, 204);
  const over = await api.allocate(api.uuid(), { [rp]: { VCPU: 3 } });
  assertPlacementError(over, 409, "placement.undefined_code", `Unable to create allocation for 'VCPU' on resource provider '${rp}'. The requested amount would exceed the capacity.`);
  assert.equal((await api.allocate(api.uuid(), { [rp]: { VCPU: 2 } })).status, 204, "6 of (4-1)*2 = 6");
  assertPlacementError(await api.allocate(api.uuid(), { [rp]: { VCPU: 1 } }), 409);
  assertPlacementError(await api.allocate(api.uuid(), { [rp]: { MEMORY_MB: 100 } }), 409, undefined, "would violate inventory constraints");
  assertPlacementError(await api.allocate(api.uuid(), { [rp]: { MEMORY_MB: 300 } }), 409, undefined, "would violate inventory constraints");
  assert.equal((await api.allocate(api.uuid(), { [rp]: { MEMORY_MB: 512 } })).status, 204);
  assertPlacementError(await api.allocate(api.uuid(), { [rp]: { DISK_GB: 1 } }), 409, undefined, `Inventory for 'DISK_GB' on resource provider '${rp}' invalid.`);
  const ghost = api.uuid();
  assertPlacementError(await api.allocate(api.uuid(), { [ghost]: { VCPU: 1 } }), 400, undefined, `Allocation for resource provider '${ghost}' that does not exist.`);
  assertPlacementError(await api.allocate(api.uuid(), { [rp]: { CUSTOM_NOPE: 1 } }), 400, undefined, "No such resource class CUSTOM_NOPE.");
  assertPlacementError(await api.allocate(api.uuid(), { [rp]: { VCPU: 0 } }), 400, undefined, "0 is less than the minimum of 1");
  // A refused write changed nothing.
  assert.deepEqual((await call("GET", `/resource_providers/${rp}/usages`)).body.usages, { VCPU: 6, MEMORY_MB: 512 });
});

test("allocations across several providers are written atomically", async () => {
  const a = await api.provider({ inventories: { VCPU: { total: 4 } } });
  const b = await api.provider({ inventories: { DISK_GB: { total: 10 } } });
  const c = api.uuid();
  assertPlacementError(await api.allocate(c, { [a]: { VCPU: 2 }, [b]: { DISK_GB: 11 } }), 409);
  assert.deepEqual((await call("GET", `/resource_providers/${a}/usages`)).body.usages, { VCPU: 0 });
  assert.equal((await api.allocate(c, { [a]: { VCPU: 2 }, [b]: { DISK_GB: 10 } })).status, 204);
  const g = await call("GET", `/allocations/${c}`);
  assert.deepEqual(Object.keys(g.body.allocations).sort(), [a, b].sort());
});

test("POST /allocations moves allocations between consumers in one go (1.13+)", async () => {
  const src = await api.provider({ inventories: { VCPU: { total: 4 } } });
  const dst = await api.provider({ inventories: { VCPU: { total: 4 } } });
  const instance = api.uuid();
  const migration = api.uuid();
  assert.equal((await api.allocate(instance, { [src]: { VCPU: 4 } })).status, 204);
  const body = {
    [instance]: { allocations: { [dst]: { resources: { VCPU: 4 } } }, project_id: "proj", user_id: "user", consumer_generation: 1, consumer_type: "INSTANCE" },
    [migration]: { allocations: { [src]: { resources: { VCPU: 4 } } }, project_id: "proj", user_id: "user", consumer_generation: null, consumer_type: "MIGRATION" },
  };
  const r = await call("POST", "/allocations", body);
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(Object.keys((await call("GET", `/allocations/${instance}`)).body.allocations), [dst]);
  assert.equal((await call("GET", `/allocations/${migration}`)).body.consumer_type, "MIGRATION");
  assertPlacementError(await call("POST", "/allocations", body, "1.12"), 404);
  assertPlacementError(await call("POST", "/allocations", {}), 400, undefined, "does not have enough properties");
  // Stale generation for one consumer: nothing of the request is written.
  const again = { ...body, [migration]: { ...body[migration]!, allocations: {}, consumer_generation: 1 }, [instance]: { ...body[instance]!, consumer_generation: 1 } };
  assertPlacementError(await call("POST", "/allocations", again), 409, "placement.concurrent_update");
  assert.deepEqual(Object.keys((await call("GET", `/allocations/${migration}`)).body.allocations), [src]);
});

test("usages per project and user, grouped by consumer type at 1.38", async () => {
  const rp = await api.provider({ inventories: { VCPU: { total: 64 }, MEMORY_MB: { total: 65536 } } });
  const project = api.uuid();
  const put = (c: string, user: string, type: string, res: Record<string, number>) =>
    call("PUT", `/allocations/${c}`, { allocations: { [rp]: { resources: res } }, project_id: project, user_id: user, consumer_generation: null, consumer_type: type });
  assert.equal((await put(api.uuid(), "u1", "INSTANCE", { VCPU: 2, MEMORY_MB: 512 })).status, 204);
  assert.equal((await put(api.uuid(), "u2", "INSTANCE", { VCPU: 1 })).status, 204);
  assert.equal((await put(api.uuid(), "u2", "MIGRATION", { VCPU: 4 })).status, 204);
  assert.deepEqual((await call("GET", `/usages?project_id=${project}`, undefined, "1.37")).body, { usages: { VCPU: 7, MEMORY_MB: 512 } });
  assert.deepEqual((await call("GET", `/usages?project_id=${project}&user_id=u2`, undefined, "1.9")).body, { usages: { VCPU: 5 } });
  const byType = await call("GET", `/usages?project_id=${project}`);
  assert.deepEqual(byType.body, { usages: { INSTANCE: { VCPU: 3, MEMORY_MB: 512, consumer_count: 2 }, MIGRATION: { VCPU: 4, consumer_count: 1 } } });
  assert.deepEqual((await call("GET", `/usages?project_id=${project}&consumer_type=all`)).body, { usages: { all: { VCPU: 7, MEMORY_MB: 512, consumer_count: 3 } } });
  assert.deepEqual((await call("GET", `/usages?project_id=${project}&consumer_type=MIGRATION`)).body, { usages: { MIGRATION: { VCPU: 4, consumer_count: 1 } } });
  assertPlacementError(await call("GET", "/usages"), 400, undefined, "'project_id' is a required property");
  assertPlacementError(await call("GET", `/usages?project_id=${project}`, undefined, "1.8"), 404);
});

test("reshaper (1.30): inventories and allocations move together", async () => {
  const root = await api.provider({ inventories: { VCPU: { total: 8 }, VGPU: { total: 4 } } });
  const child = await api.provider({ parent: root });
  const c = api.uuid();
  assert.equal((await api.allocate(c, { [root]: { VCPU: 1, VGPU: 2 } })).status, 204);
  const rootGen = (await call("GET", `/resource_providers/${root}`)).body.generation;
  const body = {
    inventories: {
      [root]: { resource_provider_generation: rootGen, inventories: { VCPU: { total: 8 } } },
      [child]: { resource_provider_generation: 0, inventories: { VGPU: { total: 4 } } },
    },
    allocations: {
      [c]: { allocations: { [root]: { resources: { VCPU: 1 } }, [child]: { resources: { VGPU: 2 } } }, project_id: "proj", user_id: "user", consumer_generation: 1, consumer_type: "INSTANCE" },
    },
  };
  assertPlacementError(await call("POST", "/reshaper", body, "1.29"), 404);
  const stale = structuredClone(body);
  stale.inventories[root]!.resource_provider_generation = 99;
  assertPlacementError(await call("POST", "/reshaper", stale), 409, "placement.concurrent_update");
  const r = await call("POST", "/reshaper", body);
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(Object.keys((await call("GET", `/resource_providers/${root}/inventories`)).body.inventories), ["VCPU"]);
  assert.deepEqual((await call("GET", `/resource_providers/${child}/usages`)).body.usages, { VGPU: 2 });
  const ghost = structuredClone(body);
  ghost.inventories = { [api.uuid()]: { resource_provider_generation: 0, inventories: {} } } as typeof body.inventories;
  assertPlacementError(await call("POST", "/reshaper", ghost), 400, "placement.resource_provider.not_found");
});

test("reshaper with inventories only (no allocations) sets them in one call; racing writers get 409, not 500", async () => {
  const a = await api.provider();
  const b = await api.provider();
  const inv = (gen: number) => ({ resource_provider_generation: gen, inventories: { VCPU: { total: 4 }, MEMORY_MB: { total: 2048 } } });
  const r = await call("POST", "/reshaper", { inventories: { [a]: inv(0), [b]: inv(0) }, allocations: {} });
  assert.equal(r.status, 204, r.text);
  assert.deepEqual(Object.keys((await call("GET", `/resource_providers/${b}/inventories`)).body.inventories).sort(), ["MEMORY_MB", "VCPU"]);
  // Two writers of a fresh provider's inventories at once, both from generation 0: one wins.
  const c = await api.provider();
  const both = await Promise.all([0, 1].map(() => call("PUT", `/resource_providers/${c}/inventories`, { resource_provider_generation: 0, inventories: { VCPU: { total: 2 } } })));
  assert.deepEqual(both.map((x) => x.status).sort(), [200, 409], both.map((x) => x.text).join("\n"));
  assertPlacementError(both.find((x) => x.status === 409)!, 409, "placement.concurrent_update");
});

test("32 concurrent PUT /allocations race for the last 5 VCPU: no oversubscription", async () => {
  const rp = await api.provider({ inventories: { VCPU: { total: 5 } } });
  const results = await Promise.all(Array.from({ length: 32 }, () => api.allocate(api.uuid(), { [rp]: { VCPU: 1 } })));
  const ok = results.filter((r) => r.status === 204).length;
  for (const r of results) if (r.status !== 204) assertPlacementError(r, 409);
  assert.ok(ok <= 5, `${ok} allocations succeeded`);
  const usage = (await call("GET", `/resource_providers/${rp}/usages`)).body.usages.VCPU;
  assert.equal(usage, ok);
  const listed = (await call("GET", `/resource_providers/${rp}/allocations`)).body.allocations;
  assert.equal(Object.keys(listed).length, ok);
  // Retrying the losers fills the provider exactly.
  let used = ok;
  while (used < 5) {
    const r = await api.allocate(api.uuid(), { [rp]: { VCPU: 1 } });
    if (r.status === 204) used++;
  }
  assertPlacementError(await api.allocate(api.uuid(), { [rp]: { VCPU: 1 } }), 409);
  assert.equal((await call("GET", `/resource_providers/${rp}/usages`)).body.usages.VCPU, 5);
});

test("concurrent replaces and deletes keep each inventory's usage equal to its allocations", async () => {
  const a = await api.provider({ inventories: { VCPU: { total: 1000 }, MEMORY_MB: { total: 100000 } } });
  const b = await api.provider({ inventories: { VCPU: { total: 1000 }, MEMORY_MB: { total: 100000 } } });
  const consumers = Array.from({ length: 24 }, () => api.uuid());
  await Promise.all(consumers.map((c, i) => api.allocate(c, i % 2 ? { [a]: { VCPU: 1 }, [b]: { MEMORY_MB: 64 } } : { [b]: { VCPU: 2 }, [a]: { MEMORY_MB: 32 } })));
  // Replace (pre-1.28: no generation check, so writers of one consumer really race), move and delete at once.
  const answers = await Promise.all(
    consumers.flatMap((c, i) => [
      call("PUT", `/allocations/${c}`, { allocations: { [i % 3 ? a : b]: { resources: { VCPU: 3, MEMORY_MB: 128 } } }, project_id: "p", user_id: "u" }, "1.27"),
      call("PUT", `/allocations/${c}`, { allocations: { [i % 3 ? b : a]: { resources: { VCPU: 1 } } }, project_id: "p", user_id: "u" }, "1.27"),
      i % 4 === 0 ? call("DELETE", `/allocations/${c}`) : Promise.resolve(undefined),
    ]),
  );
  for (const r of answers) if (r && r.status !== 204) assertPlacementError(r, r.status === 404 ? 404 : 409);
  for (const rp of [a, b]) {
    const allocs = (await call("GET", `/resource_providers/${rp}/allocations`)).body.allocations as Record<string, { resources: Record<string, number> }>;
    const sum: Record<string, number> = { VCPU: 0, MEMORY_MB: 0 };
    for (const x of Object.values(allocs)) for (const [rc, n] of Object.entries(x.resources)) sum[rc] = (sum[rc] ?? 0) + n;
    assert.deepEqual((await call("GET", `/resource_providers/${rp}/usages`)).body.usages, sum);
  }
});
