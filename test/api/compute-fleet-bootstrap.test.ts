/**
 * Compute bootstrap: every driver host becomes a nova-compute service, a hypervisor and a
 * resource provider (inventories with allocation ratios, traits, zone aggregates); a second
 * run changes nothing; the HostsApi cache follows changes.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { bootstrapCompute } from "../../src/services/compute/index.js";
import { startTestCloud } from "../support/cloud.js";

const tc = await startTestCloud({ compute: { hosts: 4, availabilityZones: ["az1", "az2"], defaultAvailabilityZone: "nova" } });
after(() => tc.close());

test("hosts are registered as services, hypervisors and resource providers", async () => {
  const c = tc.cloud.compute;
  const hosts = await c.hosts.all();
  assert.deepEqual(hosts.map((h) => h.name), ["compute-00001", "compute-00002", "compute-00003", "compute-00004"]);
  assert.deepEqual(hosts.map((h) => h.availabilityZone), ["az1", "az2", "az1", "az2"]);
  assert.deepEqual(await c.hosts.zones(), ["az1", "az2"]);
  for (const h of hosts) {
    assert.equal(h.up, true);
    assert.equal(h.disabled, false);
    assert.equal(h.providerUuid, h.hypervisorId);
    const rp = await c.placement.getProvider(h.providerUuid);
    assert.equal(rp?.name, h.name);
    const inv = await c.placement.raw("GET", `/resource_providers/${h.providerUuid}/inventories`);
    const body = inv.body as { inventories: Record<string, { total: number; allocation_ratio: number }> };
    assert.equal(body.inventories["VCPU"]?.total, 64);
    assert.equal(body.inventories["VCPU"]?.allocation_ratio, 4);
    assert.equal(body.inventories["MEMORY_MB"]?.total, 262144);
    assert.equal(body.inventories["DISK_GB"]?.total, 4096);
    const traits = await c.placement.raw("GET", `/resource_providers/${h.providerUuid}/traits`);
    assert.ok((traits.body as { traits: string[] }).traits.includes("COMPUTE_NODE"));
    const aggs = await c.hosts.aggregatesOf(h.name);
    assert.equal(aggs.length, 1);
    assert.equal(aggs[0]!.name, h.availabilityZone);
    assert.deepEqual((await c.placement.getAggregates(h.providerUuid)).aggregates, [aggs[0]!.uuid]);
  }
  assert.equal((await c.hosts.byProvider(hosts[1]!.providerUuid))?.name, "compute-00002");
});

test("a second bootstrap is a no-op (restart)", async () => {
  const c = tc.cloud.compute;
  const before = await c.hosts.all();
  const gen = (await c.placement.getProvider(before[0]!.providerUuid))!.generation;
  await bootstrapCompute(c);
  const again = await c.hosts.all();
  assert.deepEqual(again.map((h) => [h.name, h.hypervisorId]), before.map((h) => [h.name, h.hypervisorId]));
  assert.equal((await c.placement.getProvider(before[0]!.providerUuid))!.generation, gen, "providers untouched");
  const admin = await tc.adminToken();
  const svcs = await tc.request("GET", "/compute/v2.1/os-services?binary=nova-compute", { token: admin });
  assert.equal(svcs.body.services.length, 4);
  const flavors = await tc.request("GET", "/compute/v2.1/flavors", { token: admin });
  assert.equal(flavors.body.flavors.filter((f: { name: string }) => f.name === "m1.tiny").length, 1);
  const zones = await tc.request("GET", "/compute/v2.1/os-availability-zone", { token: admin });
  assert.deepEqual(zones.body.availabilityZoneInfo.map((z: { zoneName: string }) => z.zoneName).sort(), ["az1", "az2"]);
});

test("the hosts cache is the same object between changes and refreshed after one", async () => {
  const c = tc.cloud.compute;
  const a = await c.hosts.all();
  const b = await c.hosts.all();
  assert.equal(a, b, "no database read per call");
  const admin = await tc.adminToken();
  const r = await tc.request("PUT", "/compute/v2.1/os-services/disable", { token: admin, body: { host: "compute-00004", binary: "nova-compute" } });
  assert.equal(r.status, 200, r.text);
  const after1 = await c.hosts.all();
  assert.notEqual(after1, a);
  assert.equal(after1.find((h) => h.name === "compute-00004")?.disabled, true);
  await tc.request("PUT", "/compute/v2.1/os-services/enable", { token: admin, body: { host: "compute-00004", binary: "nova-compute" } });
  assert.equal((await c.hosts.byName("compute-00004"))?.disabled, false);
});
