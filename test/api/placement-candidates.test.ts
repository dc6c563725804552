/**
 * GET /allocation_candidates: single providers, traits (required, forbidden, any-of),
 * aggregates, in_tree, nested trees, sharing providers, granular groups with group_policy,
 * root_required, same_subtree, limit, and the response shape per microversion.
 * Each test scopes its search with a custom trait or aggregate of its own, so tests do not
 * see each other's providers.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { startTestCloud, unique } from "../support/cloud.js";
import { assertPlacementError, placementApi } from "../support/placement.js";

const tc = await startTestCloud();
after(() => tc.close());
const api = placementApi(tc, () => tc.adminToken());
const { call } = api;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;
const trait = (): string => `CUSTOM_${unique("T").toUpperCase().replaceAll("-", "_")}`;
const cands = async (qs: string, v = "1.39"): Promise<Body> => {
  const r = await call("GET", `/allocation_candidates?${qs}`, undefined, v);
  assert.equal(r.status, 200, r.text);
  return r.body;
};
/** Each allocation request as {provider: {rc: n}} with provider uuids replaced by names. */
const shapes = (body: Body, names: Record<string, string>): Array<Record<string, Record<string, number>>> =>
  body.allocation_requests
    .map((ar: Body) => Object.fromEntries(Object.entries(ar.allocations as Record<string, Body>).map(([u, a]) => [names[u] ?? u, a.resources])))
    .sort((a: object, b: object) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

test("single providers: capacity, traits, forbidden traits, summaries and mappings", async () => {
  const t = trait();
  const big = await api.provider({ inventories: { VCPU: { total: 16 }, MEMORY_MB: { total: 8192 }, DISK_GB: { total: 100 } }, traits: [t, "HW_CPU_X86_AVX"] });
  const small = await api.provider({ inventories: { VCPU: { total: 1 }, MEMORY_MB: { total: 8192 }, DISK_GB: { total: 100 } }, traits: [t] });
  const body = await cands(`resources=VCPU:2,MEMORY_MB:512&required=${t}`);
  assert.deepEqual(shapes(body, { [big]: "big" }), [{ big: { VCPU: 2, MEMORY_MB: 512 } }]);
  assert.deepEqual(body.allocation_requests[0].mappings, { "": [big] });
  const sum = body.provider_summaries[big];
  assert.deepEqual(sum.resources, { VCPU: { capacity: 16, used: 0 }, MEMORY_MB: { capacity: 8192, used: 0 }, DISK_GB: { capacity: 100, used: 0 } });
  assert.deepEqual(sum.traits.sort(), [t, "HW_CPU_X86_AVX"].sort());
  assert.equal(sum.parent_provider_uuid, null);
  assert.equal(sum.root_provider_uuid, big);

  const both = await cands(`resources=VCPU:1&required=${t}`);
  assert.equal(both.allocation_requests.length, 2);
  const notAvx = await cands(`resources=VCPU:1&required=${t},!HW_CPU_X86_AVX`);
  assert.deepEqual(Object.keys(notAvx.provider_summaries), [small]);
  // Old shapes: a list before 1.12, only requested classes before 1.27, no traits before 1.17.
  const v11 = await cands(`resources=VCPU:2,MEMORY_MB:512`, "1.11");
  const mine = v11.allocation_requests.find((ar: Body) => ar.allocations.some((a: Body) => a.resource_provider.uuid === big));
  assert.deepEqual(mine, { allocations: [{ resource_provider: { uuid: big }, resources: { VCPU: 2, MEMORY_MB: 512 } }] });
  assert.deepEqual(v11.provider_summaries[big], { resources: { VCPU: { capacity: 16, used: 0 }, MEMORY_MB: { capacity: 8192, used: 0 } } });
  const v26 = await cands(`resources=VCPU:2&required=${t}`, "1.26");
  assert.deepEqual(v26.provider_summaries[big], { resources: { VCPU: { capacity: 16, used: 0 } }, traits: v26.provider_summaries[big].traits });
  assert.equal(v26.allocation_requests[0].mappings, undefined);

  // Used capacity is taken into account.
  assert.equal((await api.allocate(api.uuid(), { [big]: { VCPU: 15 } })).status, 204);
  assert.deepEqual((await cands(`resources=VCPU:2&required=${t}`)).allocation_requests, []);
  assert.equal((await cands(`resources=VCPU:1&required=${t}`)).provider_summaries[big].resources.VCPU.used, 15);
});

test("limit, member_of and in_tree", async () => {
  const t = trait();
  const agg = api.uuid();
  const a = await api.provider({ inventories: { VCPU: { total: 4 } }, traits: [t], aggregates: [agg] });
  const b = await api.provider({ inventories: { VCPU: { total: 4 } }, traits: [t] });
  assert.equal((await cands(`resources=VCPU:1&required=${t}&limit=1`)).allocation_requests.length, 1);
  assert.deepEqual(Object.keys((await cands(`resources=VCPU:1&required=${t}&member_of=${agg}`)).provider_summaries), [a]);
  assert.deepEqual(Object.keys((await cands(`resources=VCPU:1&required=${t}&member_of=in:${agg},${api.uuid()}`)).provider_summaries), [a]);
  assert.deepEqual(Object.keys((await cands(`resources=VCPU:1&required=${t}&member_of=!${agg}`)).provider_summaries), [b]);
  assert.deepEqual(Object.keys((await cands(`resources=VCPU:1&in_tree=${b}`)).provider_summaries), [b]);
  assert.deepEqual((await cands(`resources=VCPU:1&in_tree=${api.uuid()}`)).allocation_requests, []);
  assertPlacementError(await call("GET", `/allocation_candidates?resources=VCPU:1&limit=0`), 400, undefined, "Invalid query string parameters");
  assertPlacementError(await call("GET", `/allocation_candidates?resources=VCPU:1&in_tree=${b}`, undefined, "1.30"), 400, undefined, "Additional properties are not allowed");
});

test("bad requests: missing resources, unknown classes and traits, orphans, conflicts", async () => {
  assertPlacementError(await call("GET", "/allocation_candidates?resources=VCPU:1", undefined, "1.9"), 404);
  assertPlacementError(await call("GET", "/allocation_candidates", undefined, "1.10"), 400, undefined, "'resources' is a required property");
  assertPlacementError(await call("GET", "/allocation_candidates", undefined, "1.35"), 400, undefined, "At least one request group");
  assertPlacementError(await call("GET", "/allocation_candidates?required=HW_CPU_X86_AVX"), 400, "placement.query.missing_value", "There must be at least one resources or resources[$S] parameter.");
  assertPlacementError(await call("GET", "/allocation_candidates?resources=CUSTOM_NOPE:1"), 400, undefined, "Invalid resource class in resources parameter: No such resource class CUSTOM_NOPE.");
  assertPlacementError(await call("GET", "/allocation_candidates?resources=VCPU:1&required=CUSTOM_NOPE_T"), 400, undefined, "No such trait(s): CUSTOM_NOPE_T.");
  assertPlacementError(await call("GET", "/allocation_candidates?resources=VCPU:1&required=HW_CPU_X86_AVX,!HW_CPU_X86_AVX"), 400, undefined, "Conflicting required and forbidden traits");
  assertPlacementError(await call("GET", "/allocation_candidates?resources1=VCPU:1&resources2=VCPU:1"), 400, undefined, 'The "group_policy" parameter is required');
  assertPlacementError(await call("GET", "/allocation_candidates?resources=VCPU:1&required1=HW_CPU_X86_AVX", undefined, "1.35"), 400, undefined, "orphaned traits keys: required1");
  assertPlacementError(await call("GET", "/allocation_candidates?resources=VCPU:1&root_required=HW_CPU_X86_AVX&root_required=HW_CPU_X86_AVX2"), 400, "placement.query.duplicate_key");
  assertPlacementError(await call("GET", "/allocation_candidates?resources=VCPU:1&same_subtree=,1"), 400, "placement.query.bad_value");
  assertPlacementError(await call("GET", "/allocation_candidates?resources=VCPU:1&resources_x=VCPU:1&group_policy=none", undefined, "1.32"), 400, undefined, "Invalid query string parameters");
});

test("nested trees: resources spread over a tree, granular groups, isolate, same_subtree, root_required", async () => {
  const t = trait();
  const root = await api.provider({ inventories: { VCPU: { total: 8 }, MEMORY_MB: { total: 4096 } }, traits: [t] });
  const numa0 = await api.provider({ parent: root, inventories: { PCPU: { total: 4 } } });
  const numa1 = await api.provider({ parent: root, inventories: { PCPU: { total: 4 } } });
  const pf = await api.provider({ parent: numa0, inventories: { SRIOV_NET_VF: { total: 8 } }, traits: ["HW_NIC_SRIOV"] });
  const names = { [root]: "root", [numa0]: "numa0", [numa1]: "numa1", [pf]: "pf" };

  // A provider that is a tree by itself answers beside the trees (the one-query path).
  const flat = await api.provider({ inventories: { VCPU: { total: 2 }, PCPU: { total: 2 } }, traits: [t] });
  names[flat] = "flat";

  // Unnumbered group: any providers of one tree.
  const spread = await cands(`resources=VCPU:1,PCPU:2&root_required=${t}`);
  assert.deepEqual(shapes(spread, names), [{ flat: { VCPU: 1, PCPU: 2 } }, { root: { VCPU: 1 }, numa0: { PCPU: 2 } }, { root: { VCPU: 1 }, numa1: { PCPU: 2 } }]);
  assert.deepEqual(Object.keys(spread.provider_summaries).sort(), [root, numa0, numa1, pf, flat].sort());
  assert.equal((await cands(`resources=VCPU:1,PCPU:2&root_required=${t}&limit=1`)).allocation_requests.length, 1);
  assert.deepEqual(shapes(await cands(`resources=VCPU:1,PCPU:2&root_required=${t}&in_tree=${flat}`), names), [{ flat: { VCPU: 1, PCPU: 2 } }]);
  assert.equal(spread.provider_summaries[pf].parent_provider_uuid, numa0);
  assert.equal(spread.provider_summaries[pf].root_provider_uuid, root);
  assert.deepEqual(spread.provider_summaries[root].resources.VCPU, { capacity: 8, used: 0 });

  // Before 1.29 a request may not span providers of one tree.
  assert.deepEqual(shapes(await cands(`resources=VCPU:1,PCPU:2&required=${t}`, "1.28"), names), [{ flat: { VCPU: 1, PCPU: 2 } }]);

  // Granular groups: isolate puts them on different providers; none allows the same one.
  const iso = await cands(`resources=VCPU:1&root_required=${t}&resources1=PCPU:1&resources2=PCPU:1&group_policy=isolate&in_tree=${root}`);
  const one = { root: { VCPU: 1 }, numa0: { PCPU: 1 }, numa1: { PCPU: 1 } };
  assert.deepEqual(shapes(iso, names), [one, one], "groups 1 and 2 swap providers: two requests, two mappings");
  const none = await cands(`resources=VCPU:1&root_required=${t}&resources1=PCPU:1&resources2=PCPU:1&group_policy=none&in_tree1=${root}&in_tree2=${root}`);
  assert.equal(none.allocation_requests.length, 4);
  assert.ok(shapes(none, names).some((s) => JSON.stringify(s) === JSON.stringify({ root: { VCPU: 1 }, numa0: { PCPU: 2 } })));
  const m = iso.allocation_requests[0].mappings;
  assert.deepEqual(m[""], [root]);
  assert.equal(m["1"].length, 1);

  // Traits in granular groups are per provider.
  const vf = await cands(`resources=VCPU:1&root_required=${t}&resources_NET=SRIOV_NET_VF:1&required_NET=HW_NIC_SRIOV&group_policy=none`);
  assert.deepEqual(shapes(vf, names), [{ root: { VCPU: 1 }, pf: { SRIOV_NET_VF: 1 } }]);
  assert.deepEqual(vf.allocation_requests[0].mappings, { "": [root], _NET: [pf] });

  // same_subtree: the VF and the PCPU must come from one subtree (numa0's).
  const st = await cands(`resources=VCPU:1&root_required=${t}&resources_CPU=PCPU:1&resources_NET=SRIOV_NET_VF:1&same_subtree=_CPU,_NET&group_policy=none`);
  // (the flat provider has no VF: it cannot satisfy _NET)
  assert.deepEqual(shapes(st, names), [{ root: { VCPU: 1 }, numa0: { PCPU: 1 }, pf: { SRIOV_NET_VF: 1 } }]);
  // Resourceless groups are allowed inside same_subtree (1.36).
  const rl = await cands(`resources=VCPU:1&root_required=${t}&required_SW=HW_NIC_SRIOV&resources_CPU=PCPU:1&same_subtree=_CPU,_SW&group_policy=none&in_tree=${root}`);
  assert.deepEqual(shapes(rl, names), [{ root: { VCPU: 1 }, numa0: { PCPU: 1 } }]);

  // root_required/forbidden filter on the root's traits.
  assert.deepEqual((await cands(`resources=PCPU:1&root_required=!${t}&in_tree=${root}`)).allocation_requests, []);
});

test("sharing providers lend their inventory to trees in the same aggregate", async () => {
  const t = trait();
  const agg = api.uuid();
  const cn = await api.provider({ inventories: { VCPU: { total: 8 } }, traits: [t], aggregates: [agg] });
  const nfs = await api.provider({ inventories: { DISK_GB: { total: 1000 } }, traits: ["MISC_SHARES_VIA_AGGREGATE"], aggregates: [agg] });
  const body = await cands(`resources=VCPU:1,DISK_GB:100&root_required=${t}`);
  assert.deepEqual(shapes(body, { [cn]: "cn", [nfs]: "nfs" }), [{ cn: { VCPU: 1 }, nfs: { DISK_GB: 100 } }]);
  assert.ok(body.provider_summaries[nfs]);
  // The sharing provider alone satisfies a DISK_GB-only request, anchored to itself.
  const disk = await cands(`resources=DISK_GB:100&member_of=${agg}`);
  assert.ok(disk.allocation_requests.some((ar: Body) => Object.keys(ar.allocations).join() === nfs));
});

test("summaries follow re-parenting and inventory changes (no stale cache)", async () => {
  const t = trait();
  const a = await api.provider({ inventories: { VCPU: { total: 4 } }, traits: [t] });
  const b = await api.provider({ inventories: { MEMORY_MB: { total: 1024 } }, traits: [t] });
  const before = await cands(`resources=VCPU:1&required=${t}`);
  assert.equal(before.provider_summaries[a].root_provider_uuid, a);
  const r = await call("PUT", `/resource_providers/${a}`, { name: unique("a"), parent_provider_uuid: b });
  assert.equal(r.status, 200, r.text);
  const after = await cands(`resources=VCPU:1&root_required=${t}`);
  assert.equal(after.provider_summaries[a].root_provider_uuid, b);
  assert.equal(after.provider_summaries[a].parent_provider_uuid, b);
  const gen = (await call("GET", `/resource_providers/${a}`)).body.generation;
  assert.equal((await call("PUT", `/resource_providers/${a}/inventories/VCPU`, { resource_provider_generation: gen, total: 8 })).status, 200);
  assert.equal((await cands(`resources=VCPU:1&root_required=${t}`)).provider_summaries[a].resources.VCPU.capacity, 8);
});
