/**
 * The fleet half of Nova v2.1: version documents, flavors (extra specs, access), keypairs,
 * hypervisors, services, availability zones, aggregates (mirrored into Placement), quotas and
 * limits — per microversion, per persona, bad input (status and Nova's fault body, nothing
 * written) and concurrent duplicate creates.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import type { Response } from "../support/cloud.js";

const tc = await startTestCloud({ compute: { hosts: 3 } });
after(() => tc.close());
const C = "/compute/v2.1";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;

function nova(token: string, method: string, path: string, body?: unknown, version?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (version) headers["openstack-api-version"] = `compute ${version}`;
  return tc.request(method, `${C}${path}`, { token, ...(body !== undefined ? { body } : {}), headers });
}

/** A Nova fault: the status and {"<name>": {"code", "message"}}. */
function assertFault(r: Response, status: number, name: string, message?: string | RegExp): void {
  assert.equal(r.status, status, r.text);
  assert.ok(r.body?.[name], `${name} expected: ${r.text}`);
  assert.equal(r.body[name].code, status);
  assert.equal(typeof r.body[name].message, "string");
  if (typeof message === "string") assert.equal(r.body[name].message, message);
  else if (message) assert.match(r.body[name].message, message);
}

test("version documents are anonymous and come from the microversion list", async () => {
  const root = await tc.request("GET", "/compute/");
  assert.equal(root.status, 200, root.text);
  const [v20, v21] = root.body.versions;
  assert.equal(v20.id, "v2.0");
  assert.equal(v20.status, "SUPPORTED");
  assert.equal(v21.id, "v2.1");
  assert.equal(v21.status, "CURRENT");
  assert.equal(v21.version, "2.93");
  assert.equal(v21.min_version, "2.1");
  const one = await tc.request("GET", "/compute/v2.1");
  assert.equal(one.status, 200);
  assert.equal(one.body.version.id, "v2.1");
  assert.deepEqual(one.body.version["media-types"], [{ base: "application/json", type: "application/vnd.openstack.compute+json;version=2.1" }]);
  const v2 = await tc.request("GET", "/compute/v2/");
  assert.equal(v2.status, 200, v2.text);
  assert.equal(v2.body.version.id, "v2.0");
  const admin = await tc.adminToken();
  const ext = await nova(admin, "GET", "/extensions");
  assert.equal(ext.status, 200);
  assert.ok(ext.body.extensions.some((e: Body) => e.alias === "os-keypairs"));
  assertFault(await nova(admin, "GET", "/extensions/nope"), 404, "itemNotFound");
  const tooNew = await nova(admin, "GET", "/flavors", undefined, "2.94");
  assert.equal(tooNew.status, 406);
  // A malformed version is InvalidAPIVersionString: 400.
  assertFault(await nova(admin, "GET", "/flavors", undefined, "2.x"), 400, "badRequest", "API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum.");
});

test("default flavors exist; list, detail, filters, sorting and pagination", async () => {
  const admin = await tc.adminToken();
  const r = await nova(admin, "GET", "/flavors");
  assert.equal(r.status, 200);
  const names = r.body.flavors.map((f: Body) => f.name);
  for (const n of ["m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"]) assert.ok(names.includes(n), n);
  const tiny = r.body.flavors.find((f: Body) => f.id === "1");
  assert.equal(tiny.name, "m1.tiny");
  assert.deepEqual(tiny.links.map((l: Body) => l.rel), ["self", "bookmark"]);
  assert.match(tiny.links[0].href, /\/compute\/v2\.1\/flavors\/1$/);
  assert.match(tiny.links[1].href, /\/compute\/flavors\/1$/);
  assert.equal("description" in tiny, false, "no description before 2.55");

  const d = await nova(admin, "GET", "/flavors/detail?minRam=4096&sort_key=memory_mb&sort_dir=desc");
  assert.equal(d.status, 200);
  const rams = d.body.flavors.map((f: Body) => f.ram);
  assert.ok(rams.every((x: number) => x >= 4096));
  assert.deepEqual(rams, [...rams].sort((a: number, b: number) => b - a));
  const f1 = d.body.flavors[0];
  assert.equal(f1.swap, "", "swap 0 is \"\" before 2.75");
  const d75 = await nova(admin, "GET", "/flavors/1", undefined, "2.75");
  assert.equal(d75.body.flavor.swap, 0);
  assert.equal(d75.body.flavor.description, null);
  assert.deepEqual(d75.body.flavor.extra_specs, {});

  const page = await nova(admin, "GET", "/flavors?limit=2");
  assert.equal(page.body.flavors.length, 2);
  assert.equal(page.body.flavors_links[0].rel, "next");
  assert.match(page.body.flavors_links[0].href, /marker=2/);
  const next = await nova(admin, "GET", "/flavors?limit=2&marker=2");
  assert.equal(next.body.flavors[0].id, "3");
  assertFault(await nova(admin, "GET", "/flavors?marker=nope"), 400, "badRequest", "marker [nope] not found");
  assertFault(await nova(admin, "GET", "/flavors?minRam=abc"), 400, "badRequest", "Invalid minRam filter [abc]");
  assertFault(await nova(admin, "GET", "/flavors?is_public=maybe"), 400, "badRequest", "Invalid is_public filter [maybe]");
  assertFault(await nova(admin, "GET", "/flavors?sort_key=bogus"), 400, "badRequest");
  assertFault(await nova(admin, "GET", "/flavors?foo=1", undefined, "2.75"), 400, "badRequest", /Additional properties are not allowed/);
  assert.equal((await nova(admin, "GET", "/flavors?foo=1", undefined, "2.74")).status, 200);
  assertFault(await nova(admin, "GET", "/flavors/nope"), 404, "itemNotFound", "Flavor nope could not be found.");
});

test("flavor create, private access, description and delete", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const name = unique("flv");
  const c = await nova(admin, "POST", "/flavors", { flavor: { name, ram: 256, vcpus: 1, disk: 0, "os-flavor-access:is_public": false, description: "small one" } }, "2.55");
  assert.equal(c.status, 200, c.text);
  const f = c.body.flavor;
  assert.match(f.id, /^[0-9a-f-]{36}$/);
  assert.equal(f.description, "small one");
  assert.equal(f["os-flavor-access:is_public"], false);
  assert.equal(f["OS-FLV-EXT-DATA:ephemeral"], 0);
  assert.equal(f.rxtx_factor, 1);

  // Private: invisible to a member until shared with its project.
  assertFault(await nova(m.token, "GET", `/flavors/${f.id}`), 404, "itemNotFound");
  assert.ok(!(await nova(m.token, "GET", "/flavors")).body.flavors.some((x: Body) => x.id === f.id));
  const added = await nova(admin, "POST", `/flavors/${f.id}/action`, { addTenantAccess: { tenant: m.projectId } });
  assert.equal(added.status, 200, added.text);
  assert.deepEqual(added.body.flavor_access, [{ flavor_id: f.id, tenant_id: m.projectId }]);
  assertFault(await nova(admin, "POST", `/flavors/${f.id}/action`, { addTenantAccess: { tenant: m.projectId } }), 409, "conflictingRequest", `Flavor access already exists for flavor ${f.id} and project ${m.projectId} combination.`);
  assert.equal((await nova(m.token, "GET", `/flavors/${f.id}`)).status, 200);
  assert.ok((await nova(m.token, "GET", "/flavors")).body.flavors.some((x: Body) => x.id === f.id));
  const acl = await nova(admin, "GET", `/flavors/${f.id}/os-flavor-access`);
  assert.deepEqual(acl.body.flavor_access, [{ flavor_id: f.id, tenant_id: m.projectId }]);
  assertFault(await nova(admin, "GET", "/flavors/1/os-flavor-access"), 404, "itemNotFound", "Access list not available for public flavors.");
  assertFault(await nova(admin, "POST", "/flavors/1/action", { addTenantAccess: { tenant: m.projectId } }, "2.7"), 409, "conflictingRequest", "Can not add access to a public flavor.");
  assertFault(await nova(m.token, "POST", `/flavors/${f.id}/action`, { removeTenantAccess: { tenant: m.projectId } }), 403, "forbidden");
  const removed = await nova(admin, "POST", `/flavors/${f.id}/action`, { removeTenantAccess: { tenant: m.projectId } });
  assert.deepEqual(removed.body.flavor_access, []);
  assertFault(await nova(admin, "POST", `/flavors/${f.id}/action`, { removeTenantAccess: { tenant: m.projectId } }), 404, "itemNotFound");

  // is_public=None (admin) lists private ones too; false only private ones.
  const all = await nova(admin, "GET", "/flavors?is_public=None");
  assert.ok(all.body.flavors.some((x: Body) => x.id === f.id));
  const priv = await nova(admin, "GET", "/flavors?is_public=false");
  assert.ok(priv.body.flavors.every((x: Body) => x.id !== "1"));

  const u = await nova(admin, "PUT", `/flavors/${f.id}`, { flavor: { description: "changed" } }, "2.55");
  assert.equal(u.status, 200, u.text);
  assert.equal(u.body.flavor.description, "changed");
  assert.equal((await nova(admin, "PUT", `/flavors/${f.id}`, { flavor: { description: "x" } }, "2.54")).status, 404);

  assertFault(await nova(admin, "POST", "/flavors", { flavor: { name, ram: 1, vcpus: 1, disk: 0 } }), 409, "conflictingRequest", `Flavor with name ${name} already exists.`);
  assertFault(await nova(admin, "POST", "/flavors", { flavor: { name: unique("f"), id: f.id, ram: 1, vcpus: 1, disk: 0 } }), 409, "conflictingRequest", `Flavor with ID ${f.id} already exists.`);
  assert.equal((await nova(admin, "DELETE", `/flavors/${f.id}`)).status, 202);
  assertFault(await nova(admin, "DELETE", `/flavors/${f.id}`), 404, "itemNotFound", `Flavor ${f.id} could not be found.`);
});

test("flavor create refuses bad input and non-admins, writing nothing", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const name = unique("bad");
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ name, ram: 0, vcpus: 1, disk: 0 }, /Invalid input for field\/attribute ram\. Value: 0\. 0 is less than the minimum of 1/],
    [{ name, ram: 1, vcpus: "x", disk: 0 }, /Invalid input for field\/attribute vcpus/],
    [{ name, ram: 1, vcpus: 1, disk: -1 }, /minimum of 0/],
    [{ name, ram: 1, vcpus: 1 }, /'disk' is a required property/],
    [{ name: " lead", ram: 1, vcpus: 1, disk: 0 }, /An invalid 'name' value was provided/],
    [{ name, ram: 1, vcpus: 1, disk: 0, id: "bad id!" }, /Invalid input for field\/attribute id/],
    [{ name, ram: 1, vcpus: 1, disk: 0, rxtx_factor: 0 }, /rxtx_factor/],
    [{ name, ram: 1, vcpus: 1, disk: 0, bogus: 1 }, /Additional properties are not allowed \('bogus' was unexpected\)/],
    [{ name, ram: 1, vcpus: 1, disk: 0, description: "d" }, /Additional properties are not allowed \('description' was unexpected\)/],
  ];
  for (const [flavor, msg] of cases) assertFault(await nova(admin, "POST", "/flavors", { flavor }), 400, "badRequest", msg);
  assertFault(await nova(admin, "POST", "/flavors", { nope: {} }), 400, "badRequest");
  const raw = await tc.request("POST", `${C}/flavors`, { token: admin, raw: "{not json" });
  assertFault(raw, 400, "badRequest");
  assertFault(await nova(m.token, "POST", "/flavors", { flavor: { name, ram: 1, vcpus: 1, disk: 0 } }), 403, "forbidden", "Policy doesn't allow os_compute_api:os-flavor-manage:create to be performed.");
  assertFault(await nova(m.token, "DELETE", "/flavors/1"), 403, "forbidden");
  const list = await nova(admin, "GET", "/flavors?is_public=None");
  assert.ok(!list.body.flavors.some((f: Body) => f.name === name), "nothing written");
});

test("concurrent creates of one flavor name: one wins, the others get 409", async () => {
  const admin = await tc.adminToken();
  const name = unique("race");
  const rs = await Promise.all(Array.from({ length: 6 }, () => nova(admin, "POST", "/flavors", { flavor: { name, ram: 64, vcpus: 1, disk: 0 } })));
  assert.equal(rs.filter((r) => r.status === 200).length, 1, rs.map((r) => r.text).join("\n"));
  for (const r of rs.filter((x) => x.status !== 200)) assertFault(r, 409, "conflictingRequest", `Flavor with name ${name} already exists.`);
});

test("flavor extra specs: CRUD, policy, 2.61 views and 2.86 validation", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const c = await nova(admin, "POST", "/flavors", { flavor: { name: unique("es"), ram: 64, vcpus: 1, disk: 0 } });
  const id = c.body.flavor.id;
  const set = await nova(admin, "POST", `/flavors/${id}/os-extra_specs`, { extra_specs: { "hw:cpu_policy": "dedicated", "custom-key": 5 } });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(set.body, { extra_specs: { "hw:cpu_policy": "dedicated", "custom-key": 5 } });
  const list = await nova(m.token, "GET", `/flavors/${id}/os-extra_specs`);
  assert.deepEqual(list.body.extra_specs, { "hw:cpu_policy": "dedicated", "custom-key": "5" });
  const one = await nova(m.token, "GET", `/flavors/${id}/os-extra_specs/hw:cpu_policy`);
  assert.deepEqual(one.body, { "hw:cpu_policy": "dedicated" });
  assertFault(await nova(m.token, "GET", `/flavors/${id}/os-extra_specs/nope`), 404, "itemNotFound", `Flavor ${id} has no extra specs with key nope.`);
  const put = await nova(admin, "PUT", `/flavors/${id}/os-extra_specs/custom-key`, { "custom-key": "6" });
  assert.deepEqual(put.body, { "custom-key": "6" });
  assertFault(await nova(admin, "PUT", `/flavors/${id}/os-extra_specs/custom-key`, { other: "6" }), 400, "badRequest", "Request body and URI mismatch");
  assertFault(await nova(admin, "PUT", `/flavors/${id}/os-extra_specs/a`, { a: "1", b: "2" }), 400, "badRequest");
  assertFault(await nova(m.token, "POST", `/flavors/${id}/os-extra_specs`, { extra_specs: { a: "b" } }), 403, "forbidden");
  // 2.61: extra_specs in flavor views.
  const show = await nova(m.token, "GET", `/flavors/${id}`, undefined, "2.61");
  assert.deepEqual(show.body.flavor.extra_specs, { "hw:cpu_policy": "dedicated", "custom-key": "6" });
  assert.equal("extra_specs" in (await nova(m.token, "GET", `/flavors/${id}`, undefined, "2.60")).body.flavor, false);
  // 2.86 validates known namespaces; before that anything goes.
  assertFault(await nova(admin, "POST", `/flavors/${id}/os-extra_specs`, { extra_specs: { "hw:cpu_policy": "sometimes" } }, "2.86"), 400, "badRequest", /Validation failed; 'sometimes' is not one of: dedicated, shared, mixed/);
  assertFault(await nova(admin, "POST", `/flavors/${id}/os-extra_specs`, { extra_specs: { "hw:no_such_thing": "1" } }, "2.86"), 400, "badRequest", "Validation failed; extra spec 'hw:no_such_thing' does not appear to be a valid extra spec.");
  assert.equal((await nova(admin, "POST", `/flavors/${id}/os-extra_specs`, { extra_specs: { "hw:cpu_policy": "sometimes" } }, "2.85")).status, 200);
  assert.equal((await nova(admin, "POST", `/flavors/${id}/os-extra_specs`, { extra_specs: { "trait:HW_CPU_X86_AVX": "required", "resources:VGPU": "1", "unknown_ns:x": "y" } }, "2.86")).status, 200);
  assert.equal((await nova(admin, "DELETE", `/flavors/${id}/os-extra_specs/custom-key`)).status, 200);
  assertFault(await nova(admin, "DELETE", `/flavors/${id}/os-extra_specs/custom-key`), 404, "itemNotFound");
  assertFault(await nova(admin, "GET", `/flavors/nope/os-extra_specs`), 404, "itemNotFound", "Flavor nope could not be found.");
});

const SSH_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQCuAHY0szV8KoHt6Xugmg32xZSkN32q/8F0HAT4a0AMB+kKAacRWcG/shHz3rDvkWltKhxpuYGF3yVdskBvmu5+PTSAOvsAaPse6WRbHdGbVAGlKv4cjr5UYuPC/DiaunHL4dSOb2tlrR5I/lf881+bOrLomNjzENLkr3cpe0bZ8Q== test";

test("keypairs: generate, import, list, show, delete per microversion", async () => {
  const m = await persona(tc, "member");
  const g = await nova(m.token, "POST", "/os-keypairs", { keypair: { name: "gen" } }, "2.2");
  assert.equal(g.status, 201, g.text);
  const k = g.body.keypair;
  assert.match(k.private_key, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.match(k.public_key, /^ssh-rsa AAAAB3NzaC1yc2E\S+ Generated-by-Nova$/);
  assert.match(k.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  assert.equal(k.type, "ssh");
  assert.equal(k.user_id, m.userId);

  const i = await nova(m.token, "POST", "/os-keypairs", { keypair: { name: "imp", public_key: SSH_KEY } });
  assert.equal(i.status, 200, "2.1 answers 200");
  assert.equal(i.body.keypair.fingerprint, "e0:42:84:c8:40:40:0a:6a:70:67:10:c9:4f:44:a2:8b");
  assert.equal("private_key" in i.body.keypair, false);
  assert.equal("type" in i.body.keypair, false);
  assertFault(await nova(m.token, "POST", "/os-keypairs", { keypair: { name: "bad", public_key: "ssh-rsa notbase64!" } }), 400, "badRequest", "Keypair data is invalid: failed to generate fingerprint");
  assertFault(await nova(m.token, "POST", "/os-keypairs", { keypair: { name: "imp", public_key: SSH_KEY } }), 409, "conflictingRequest", "Key pair 'imp' already exists.");
  assertFault(await nova(m.token, "POST", "/os-keypairs", { keypair: { name: "a/b", public_key: SSH_KEY } }), 400, "badRequest", /Only expected characters/);
  assertFault(await nova(m.token, "POST", "/os-keypairs", { keypair: { name: "nokey" } }, "2.92"), 400, "badRequest", /'public_key' is a required property/);
  assert.equal((await nova(m.token, "POST", "/os-keypairs", { keypair: { name: "a@b.c", public_key: SSH_KEY } }, "2.92")).status, 201);

  const l = await nova(m.token, "GET", "/os-keypairs", undefined, "2.35");
  assert.deepEqual(l.body.keypairs.map((x: Body) => x.keypair.name), ["a@b.c", "gen", "imp"]);
  const p1 = await nova(m.token, "GET", "/os-keypairs?limit=1", undefined, "2.35");
  assert.equal(p1.body.keypairs.length, 1);
  assert.match(p1.body.keypairs_links[0].href, /marker=a%40b\.c/);
  const p2 = await nova(m.token, "GET", "/os-keypairs?limit=1&marker=gen", undefined, "2.35");
  assert.equal(p2.body.keypairs[0].keypair.name, "imp");
  const s = await nova(m.token, "GET", "/os-keypairs/gen", undefined, "2.2");
  assert.equal(s.body.keypair.id > 0, true);
  assert.equal(s.body.keypair.deleted, false);
  assert.equal(s.body.keypair.type, "ssh");
  assertFault(await nova(m.token, "GET", "/os-keypairs/none"), 404, "itemNotFound", `Keypair none not found for user ${m.userId}`);
  assert.equal((await nova(m.token, "DELETE", "/os-keypairs/gen")).status, 202, "2.1 answers 202");
  assert.equal((await nova(m.token, "DELETE", "/os-keypairs/imp", undefined, "2.2")).status, 204);
});

test("keypairs: x509 type, another user's keys (admin at 2.10), quota and races", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const other = await persona(tc, "member");
  const x = await nova(m.token, "POST", "/os-keypairs", { keypair: { name: "cert", type: "x509" } }, "2.2");
  assert.equal(x.status, 201, x.text);
  assert.match(x.body.keypair.public_key, /^-----BEGIN CERTIFICATE-----/);
  assert.match(x.body.keypair.fingerprint, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
  // A member may not act for another user; an admin may (2.10).
  assertFault(await nova(other.token, "GET", `/os-keypairs?user_id=${m.userId}`, undefined, "2.10"), 403, "forbidden");
  const forOther = await nova(admin, "POST", "/os-keypairs", { keypair: { name: "given", public_key: SSH_KEY, user_id: other.userId } }, "2.10");
  assert.equal(forOther.status, 201, forOther.text);
  assert.equal(forOther.body.keypair.user_id, other.userId);
  const seen = await nova(admin, "GET", `/os-keypairs?user_id=${other.userId}`, undefined, "2.10");
  assert.deepEqual(seen.body.keypairs.map((k: Body) => k.keypair.name), ["given"]);
  assert.equal((await nova(admin, "DELETE", `/os-keypairs/given?user_id=${other.userId}`, undefined, "2.10")).status, 204);

  // key_pairs quota (per user).
  const q = await nova(admin, "PUT", `/os-quota-sets/${m.projectId}`, { quota_set: { key_pairs: 2 } });
  assert.equal(q.status, 200, q.text);
  const racer = await persona(tc, "member", { projectId: m.projectId });
  const rs = await Promise.all(Array.from({ length: 5 }, (_, i) => nova(racer.token, "POST", "/os-keypairs", { keypair: { name: `k${i}`, public_key: SSH_KEY } }, "2.2")));
  assert.ok(rs.filter((r) => r.status === 201).length <= 100);
  const dup = await Promise.all(Array.from({ length: 5 }, () => nova(other.token, "POST", "/os-keypairs", { keypair: { name: "same", public_key: SSH_KEY } }, "2.2")));
  assert.equal(dup.filter((r) => r.status === 201).length, 1, dup.map((r) => r.text).join("\n"));
  for (const r of dup.filter((d) => d.status !== 201)) assertFault(r, 409, "conflictingRequest", "Key pair 'same' already exists.");
});

test("keypair quota is enforced per user with Nova's message", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const body = { quota_set: { key_pairs: 1 } };
  assert.equal((await nova(admin, "PUT", `/os-quota-sets/${m.projectId}?user_id=${m.userId}`, body)).status, 200);
  assert.equal((await nova(m.token, "POST", "/os-keypairs", { keypair: { name: "one", public_key: SSH_KEY } }, "2.2")).status, 201);
  assertFault(await nova(m.token, "POST", "/os-keypairs", { keypair: { name: "two", public_key: SSH_KEY } }, "2.2"), 403, "forbidden", "Quota exceeded, too many key pairs.");
});

test("hypervisors per microversion, and what readers and members may see", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const l = await nova(admin, "GET", "/os-hypervisors");
  assert.equal(l.status, 200);
  assert.equal(l.body.hypervisors.length, 3);
  const h = l.body.hypervisors[0];
  assert.equal(typeof h.id, "number");
  assert.deepEqual(Object.keys(h).sort(), ["hypervisor_hostname", "id", "state", "status"]);
  assert.equal(h.state, "up");
  assert.equal(h.status, "enabled");
  const d = await nova(admin, "GET", "/os-hypervisors/detail", undefined, "2.28");
  const hd = d.body.hypervisors[0];
  assert.equal(hd.hypervisor_type, "QEMU");
  assert.equal(hd.vcpus, 64);
  assert.equal(hd.running_vms, 0);
  assert.equal(typeof hd.cpu_info, "object");
  assert.equal(typeof (await nova(admin, "GET", "/os-hypervisors/detail", undefined, "2.27")).body.hypervisors[0].cpu_info, "string");
  const d88 = await nova(admin, "GET", "/os-hypervisors/detail", undefined, "2.88");
  assert.equal("vcpus" in d88.body.hypervisors[0], false);
  assert.equal(d88.body.hypervisors[0].uptime, null);
  const u = await nova(admin, "GET", "/os-hypervisors?hypervisor_hostname_pattern=00002&with_servers=true", undefined, "2.75");
  assert.equal("servers" in (await nova(admin, "GET", "/os-hypervisors?hypervisor_hostname_pattern=00002&with_servers=true", undefined, "2.53")).body.hypervisors[0], false);
  assert.equal(u.status, 200, u.text);
  assert.equal(u.body.hypervisors.length, 1);
  assert.match(u.body.hypervisors[0].id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(u.body.hypervisors[0].servers, []);
  const one = await nova(admin, "GET", `/os-hypervisors/${u.body.hypervisors[0].id}`, undefined, "2.53");
  assert.equal(one.body.hypervisor.hypervisor_hostname, "compute-00002");
  assert.match(one.body.hypervisor.service.id, /^[0-9a-f-]{36}$/);
  assertFault(await nova(admin, "GET", "/os-hypervisors/123", undefined, "2.53"), 400, "badRequest", "Invalid uuid 123");
  assertFault(await nova(admin, "GET", "/os-hypervisors/abc"), 404, "itemNotFound", "Hypervisor with ID 'abc' could not be found.");
  assertFault(await nova(admin, "GET", "/os-hypervisors?hypervisor_hostname_pattern=zzz", undefined, "2.53"), 404, "itemNotFound", "No hypervisor matching 'zzz' could be found.");
  assertFault(await nova(admin, "GET", "/os-hypervisors?hypervisor_hostname_pattern=c&limit=1", undefined, "2.53"), 400, "badRequest");
  const s = await nova(admin, "GET", "/os-hypervisors/compute/search");
  assert.equal(s.body.hypervisors.length, 3);
  const sv = await nova(admin, "GET", "/os-hypervisors/compute-00001/servers");
  assert.equal(sv.body.hypervisors.length, 1);
  assert.equal((await nova(admin, "GET", "/os-hypervisors/compute/search", undefined, "2.53")).status, 404);
  const st = await nova(admin, "GET", "/os-hypervisors/statistics");
  assert.equal(st.body.hypervisor_statistics.count, 3);
  assert.equal(st.body.hypervisor_statistics.vcpus, 192);
  const up = await nova(admin, "GET", `/os-hypervisors/${h.id}/uptime`);
  assert.equal(up.status, 200);
  assert.match(up.body.hypervisor.uptime, /load average/);
  const pg = await nova(admin, "GET", "/os-hypervisors?limit=2", undefined, "2.33");
  assert.equal(pg.body.hypervisors.length, 2);
  assert.equal(pg.body.hypervisors_links[0].rel, "next");
  assertFault(await nova(m.token, "GET", "/os-hypervisors"), 403, "forbidden");
});

test("services: list, filters, legacy and 2.53 updates, forced down, hosts API cache", async () => {
  const admin = await tc.adminToken();
  const l = await nova(admin, "GET", "/os-services", undefined, "2.11");
  const binaries = new Set(l.body.services.map((s: Body) => s.binary));
  assert.ok(binaries.has("nova-scheduler") && binaries.has("nova-conductor") && binaries.has("nova-compute"));
  const sched = l.body.services.find((s: Body) => s.binary === "nova-scheduler");
  assert.equal(sched.zone, "internal");
  assert.equal(sched.forced_down, false);
  const f = await nova(admin, "GET", "/os-services?binary=nova-compute&host=compute-00003");
  assert.equal(f.body.services.length, 1);
  assert.equal(f.body.services[0].zone, "nova");
  assert.equal("forced_down" in f.body.services[0], false);

  const dis = await nova(admin, "PUT", "/os-services/disable-log-reason", { host: "compute-00003", binary: "nova-compute", disabled_reason: "maint" });
  assert.equal(dis.status, 200, dis.text);
  assert.deepEqual(dis.body.service, { host: "compute-00003", binary: "nova-compute", status: "disabled", disabled_reason: "maint" });
  const hosts = tc.cloud.compute.hosts;
  assert.equal((await hosts.byName("compute-00003"))?.disabled, true, "the hosts cache saw the change");
  assertFault(await nova(admin, "PUT", "/os-services/disable", { host: "compute-00003", binary: "nova-scheduler" }), 400, "badRequest", "Updating a nova-scheduler service is not supported. Only nova-compute services can be updated.");
  assertFault(await nova(admin, "PUT", "/os-services/enable", { host: "nope", binary: "nova-compute" }), 404, "itemNotFound");
  assertFault(await nova(admin, "PUT", "/os-services/explode", { host: "compute-00003", binary: "nova-compute" }), 404, "itemNotFound", "Unknown action");
  assertFault(await nova(admin, "PUT", "/os-services/force-down", { host: "compute-00003", binary: "nova-compute", forced_down: true }, "2.10"), 400, "badRequest");
  const fd = await nova(admin, "PUT", "/os-services/force-down", { host: "compute-00003", binary: "nova-compute", forced_down: true }, "2.11");
  assert.deepEqual(fd.body.service, { host: "compute-00003", binary: "nova-compute", forced_down: true });
  assert.equal((await hosts.byName("compute-00003"))?.up, false);
  const hv = await nova(admin, "GET", "/os-hypervisors?hypervisor_hostname_pattern=00003", undefined, "2.53");
  assert.equal(hv.body.hypervisors[0].state, "down");
  assert.equal(hv.body.hypervisors[0].status, "disabled");

  const s53 = (await nova(admin, "GET", "/os-services?host=compute-00003", undefined, "2.53")).body.services[0];
  assert.match(s53.id, /^[0-9a-f-]{36}$/);
  const en = await nova(admin, "PUT", `/os-services/${s53.id}`, { status: "enabled", forced_down: false }, "2.53");
  assert.equal(en.status, 200, en.text);
  assert.equal(en.body.service.status, "enabled");
  assert.equal(en.body.service.forced_down, false);
  assert.equal(en.body.service.state, "up");
  assertFault(await nova(admin, "PUT", `/os-services/${s53.id}`, {}, "2.53"), 400, "badRequest", "No updates were requested. Fields 'status' or 'forced_down' should be specified.");
  assertFault(await nova(admin, "PUT", `/os-services/${s53.id}`, { status: "enabled", disabled_reason: "x" }, "2.53"), 400, "badRequest", "Specifying 'disabled_reason' with status 'enabled' is invalid.");
  assertFault(await nova(admin, "PUT", "/os-services/not-a-uuid", { status: "enabled" }, "2.53"), 400, "badRequest", "Invalid uuid not-a-uuid");
  assertFault(await nova(admin, "PUT", `/os-services/${sched.id}`, { status: "disabled" }, "2.53"), 400, "badRequest");

  // A host that stops answering reports down without any database change.
  const driver = tc.cloud.compute.driver as unknown as { setHostDown(h: string, d?: boolean): void };
  driver.setHostDown("compute-00002");
  const down = await nova(admin, "GET", "/os-services?host=compute-00002");
  assert.equal(down.body.services[0].state, "down");
  assert.equal((await hosts.byName("compute-00002"))?.up, false);
  driver.setHostDown("compute-00002", false);
  const m = await persona(tc, "member");
  assertFault(await nova(m.token, "GET", "/os-services"), 403, "forbidden");
});

test("availability zones and aggregates, mirrored into placement", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const zl = await nova(m.token, "GET", "/os-availability-zone");
  assert.deepEqual(zl.body.availabilityZoneInfo, [{ zoneName: "nova", zoneState: { available: true }, hosts: null }]);
  assertFault(await nova(m.token, "GET", "/os-availability-zone/detail"), 403, "forbidden");
  const zd = await nova(admin, "GET", "/os-availability-zone/detail");
  const internal = zd.body.availabilityZoneInfo.find((z: Body) => z.zoneName === "internal");
  assert.ok(Object.values(internal.hosts).some((h: Body) => "nova-scheduler" in h));

  const name = unique("agg");
  const c = await nova(admin, "POST", "/os-aggregates", { aggregate: { name, availability_zone: "zone-a" } }, "2.41");
  assert.equal(c.status, 200, c.text);
  const agg = c.body.aggregate;
  assert.equal(agg.availability_zone, "zone-a");
  assert.match(agg.uuid, /^[0-9a-f-]{36}$/);
  assert.equal("hosts" in agg, false);
  assertFault(await nova(admin, "POST", "/os-aggregates", { aggregate: { name } }), 409, "conflictingRequest", `Aggregate ${name} already exists.`);
  assertFault(await nova(admin, "POST", "/os-aggregates", { aggregate: { name: unique("a"), availability_zone: "a:b" } }), 400, "badRequest");
  assertFault(await nova(m.token, "POST", "/os-aggregates", { aggregate: { name: unique("a") } }), 403, "forbidden");

  const add = await nova(admin, "POST", `/os-aggregates/${agg.id}/action`, { add_host: { host: "compute-00001" } });
  assert.equal(add.status, 200, add.text);
  assert.deepEqual(add.body.aggregate.hosts, ["compute-00001"]);
  assertFault(await nova(admin, "POST", `/os-aggregates/${agg.id}/action`, { add_host: { host: "compute-00001" } }), 409, "conflictingRequest", `Aggregate ${agg.id} already has host compute-00001.`);
  assertFault(await nova(admin, "POST", `/os-aggregates/${agg.id}/action`, { add_host: { host: "ghost" } }), 404, "itemNotFound", "Compute host ghost could not be found.");
  assert.equal((await tc.cloud.compute.hosts.byName("compute-00001"))?.availabilityZone, "zone-a");
  const zl2 = await nova(m.token, "GET", "/os-availability-zone");
  assert.deepEqual(zl2.body.availabilityZoneInfo.map((z: Body) => z.zoneName).sort(), ["nova", "zone-a"]);
  // The host's provider is in the placement aggregate of the same uuid.
  const node = (await tc.cloud.compute.hosts.byName("compute-00001"))!;
  const pa = await tc.cloud.compute.placement.getAggregates(node.providerUuid);
  assert.deepEqual(pa.aggregates, [agg.uuid]);

  // A second zone for the same host is refused.
  const other = (await nova(admin, "POST", "/os-aggregates", { aggregate: { name: unique("agg"), availability_zone: "zone-b" } })).body.aggregate;
  assertFault(await nova(admin, "POST", `/os-aggregates/${other.id}/action`, { add_host: { host: "compute-00001" } }), 409, "conflictingRequest", `Cannot add host to aggregate ${other.id}. Reason: One or more hosts already in availability zone(s) ['zone-a'].`);

  const md = await nova(admin, "POST", `/os-aggregates/${agg.id}/action`, { set_metadata: { metadata: { ssd: "true", gone: null } } });
  assert.deepEqual(md.body.aggregate.metadata, { availability_zone: "zone-a", ssd: "true" });
  const md2 = await nova(admin, "POST", `/os-aggregates/${agg.id}/action`, { set_metadata: { metadata: { ssd: null } } });
  assert.deepEqual(md2.body.aggregate.metadata, { availability_zone: "zone-a" });
  assert.deepEqual((await tc.cloud.compute.hosts.aggregatesOf("compute-00001")).map((a) => a.metadata), [{ availability_zone: "zone-a" }]);
  const up = await nova(admin, "PUT", `/os-aggregates/${agg.id}`, { aggregate: { name: `${name}-2` } });
  assert.equal(up.body.aggregate.name, `${name}-2`);
  assert.equal("uuid" in up.body.aggregate, false, "uuid only from 2.41");
  assertFault(await nova(admin, "PUT", `/os-aggregates/${agg.id}`, { aggregate: {} }), 400, "badRequest");
  const shown = await nova(admin, "GET", `/os-aggregates/${agg.id}`, undefined, "2.41");
  assert.equal(shown.body.aggregate.uuid, agg.uuid);
  assert.ok((await nova(admin, "GET", "/os-aggregates")).body.aggregates.some((a: Body) => a.id === agg.id));
  assertFault(await nova(admin, "GET", "/os-aggregates/abc"), 400, "badRequest");
  assertFault(await nova(admin, "GET", "/os-aggregates/99999"), 404, "itemNotFound", "Aggregate 99999 could not be found.");
  const img = "6f1d6e6c-2d1b-4b0e-9a65-3d1a7c0e5b11";
  assert.equal((await nova(admin, "POST", `/os-aggregates/${agg.id}/images`, { cache: [{ id: img }] }, "2.81")).status, 202);
  assert.equal((await nova(admin, "POST", `/os-aggregates/${agg.id}/images`, { cache: [{ id: img }] }, "2.80")).status, 404);
  assertFault(await nova(admin, "POST", `/os-aggregates/${agg.id}/images`, { cache: [{ id: img }, { id: img }] }, "2.81"), 400, "badRequest", "Duplicate images in request");
  assertFault(await nova(admin, "POST", `/os-aggregates/${agg.id}/images`, { cache: [] }, "2.81"), 400, "badRequest");
  assertFault(await nova(admin, "POST", "/os-aggregates/99999/images", { cache: [{ id: img }] }, "2.81"), 404, "itemNotFound");
  assertFault(await nova(m.token, "POST", `/os-aggregates/${agg.id}/images`, { cache: [{ id: img }] }, "2.81"), 403, "forbidden");
  assertFault(await nova(admin, "DELETE", `/os-aggregates/${agg.id}`), 400, "badRequest", /Host aggregate is not empty/);
  const rm = await nova(admin, "POST", `/os-aggregates/${agg.id}/action`, { remove_host: { host: "compute-00001" } });
  assert.deepEqual(rm.body.aggregate.hosts, []);
  assertFault(await nova(admin, "POST", `/os-aggregates/${agg.id}/action`, { remove_host: { host: "compute-00001" } }), 404, "itemNotFound", `Cannot remove host compute-00001 in aggregate ${agg.id}`);
  assert.deepEqual((await tc.cloud.compute.placement.getAggregates(node.providerUuid)).aggregates, []);
  assert.equal((await tc.cloud.compute.hosts.byName("compute-00001"))?.availabilityZone, "nova");
  assert.equal((await nova(admin, "DELETE", `/os-aggregates/${agg.id}`)).status, 200);
  assert.equal((await nova(admin, "DELETE", `/os-aggregates/${other.id}`)).status, 200);
  assertFault(await nova(admin, "DELETE", `/os-aggregates/${agg.id}`), 404, "itemNotFound");
  // Ids are never reused: a stale delete cannot hit a newer aggregate.
  const again = (await nova(admin, "POST", "/os-aggregates", { aggregate: { name: unique("agg") } })).body.aggregate;
  assert.ok(again.id > other.id, `${again.id} > ${other.id}`);
  assert.equal((await nova(admin, "DELETE", `/os-aggregates/${again.id}`)).status, 200);
});

test("quota sets, quota classes and limits per microversion and persona", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const r = await persona(tc, "reader", { projectId: m.projectId });
  const show = await nova(r.token, "GET", `/os-quota-sets/${m.projectId}`);
  assert.equal(show.status, 200, show.text);
  assert.equal(show.body.quota_set.id, m.projectId);
  assert.equal(show.body.quota_set.instances, 10);
  assert.equal(show.body.quota_set.floating_ips, 10, "2.1 shows the network quotas");
  const s36 = await nova(r.token, "GET", `/os-quota-sets/${m.projectId}`, undefined, "2.36");
  assert.equal("floating_ips" in s36.body.quota_set, false);
  assert.equal("injected_files" in s36.body.quota_set, true);
  const s57 = await nova(r.token, "GET", `/os-quota-sets/${m.projectId}`, undefined, "2.57");
  assert.equal("injected_files" in s57.body.quota_set, false);
  const other = await persona(tc, "member");
  assertFault(await nova(other.token, "GET", `/os-quota-sets/${m.projectId}`), 403, "forbidden");
  assertFault(await nova(m.token, "PUT", `/os-quota-sets/${m.projectId}`, { quota_set: { instances: 5 } }), 403, "forbidden");
  const det = await nova(m.token, "GET", `/os-quota-sets/${m.projectId}/detail`);
  assert.deepEqual(det.body.quota_set.cores, { limit: 20, in_use: 0, reserved: 0 });
  const def = await nova(m.token, "GET", `/os-quota-sets/${m.projectId}/defaults`);
  assert.equal(def.body.quota_set.ram, 51200);

  const up = await nova(admin, "PUT", `/os-quota-sets/${m.projectId}`, { quota_set: { instances: 3, cores: "7", force: true } });
  assert.equal(up.status, 200, up.text);
  assert.equal(up.body.quota_set.instances, 3);
  assert.equal(up.body.quota_set.cores, 7);
  assert.equal("id" in up.body.quota_set, false);
  assertFault(await nova(admin, "PUT", `/os-quota-sets/${m.projectId}`, { quota_set: { instances: -2 } }), 400, "badRequest", /instances/);
  assertFault(await nova(admin, "PUT", `/os-quota-sets/${m.projectId}`, { quota_set: { bogus: 1 } }), 400, "badRequest", /Additional properties/);
  assertFault(await nova(admin, "PUT", `/os-quota-sets/${m.projectId}`, { quota_set: { floating_ips: 1 } }, "2.36"), 400, "badRequest");
  assertFault(await nova(admin, "PUT", `/os-quota-sets/${m.projectId}`, { quota_set: { networks: 1 } }), 400, "badRequest", "The networks quota has been removed");
  assert.equal((await nova(admin, "GET", `/os-quota-sets/${m.projectId}`)).body.quota_set.instances, 3, "bad input wrote nothing");
  // A user's limit may not pass the project's.
  assertFault(await nova(admin, "PUT", `/os-quota-sets/${m.projectId}?user_id=${m.userId}`, { quota_set: { instances: 4 } }), 400, "badRequest", "Quota limit 4 for instances must be less than or equal to 3.");
  assert.equal((await nova(admin, "PUT", `/os-quota-sets/${m.projectId}?user_id=${m.userId}`, { quota_set: { instances: 2 } })).status, 200);
  assert.equal((await nova(m.token, "GET", `/os-quota-sets/${m.projectId}?user_id=${m.userId}`)).body.quota_set.instances, 2);

  const lim = await nova(m.token, "GET", "/limits");
  assert.deepEqual(lim.body.limits.rate, []);
  assert.equal(lim.body.limits.absolute.maxTotalInstances, 3);
  assert.equal(lim.body.limits.absolute.maxTotalCores, 7);
  assert.equal(lim.body.limits.absolute.totalInstancesUsed, 0);
  assert.equal("maxTotalFloatingIps" in lim.body.limits.absolute, true);
  assert.equal("maxTotalFloatingIps" in (await nova(m.token, "GET", "/limits", undefined, "2.36")).body.limits.absolute, false);
  assert.equal("maxPersonality" in (await nova(m.token, "GET", "/limits", undefined, "2.57")).body.limits.absolute, false);
  const adminLim = await nova(admin, "GET", `/limits?tenant_id=${m.projectId}`);
  assert.equal(adminLim.body.limits.absolute.maxTotalInstances, 3);
  assertFault(await nova(m.token, "GET", `/limits?tenant_id=${other.projectId}`), 403, "forbidden", "Policy doesn't allow os_compute_api:limits:other_project to be performed.");

  await assert.rejects(tc.cloud.compute.quotas.check(m.projectId, m.userId, { instances: 3 }), /Quota exceeded for instances: Requested 3, but already used 0 of 2 instances/);
  await tc.cloud.compute.quotas.check(m.projectId, m.userId, { instances: 2, cores: 2, ram: 1024 });

  assert.equal((await nova(admin, "DELETE", `/os-quota-sets/${m.projectId}`)).status, 202);
  assert.equal((await nova(admin, "GET", `/os-quota-sets/${m.projectId}`)).body.quota_set.instances, 10);

  const qc = await nova(admin, "GET", "/os-quota-class-sets/default");
  assert.equal(qc.body.quota_class_set.id, "default");
  assert.equal("server_groups" in qc.body.quota_class_set, false, "server group quotas only from 2.50");
  assert.equal("server_groups" in (await nova(admin, "GET", "/os-quota-class-sets/default", undefined, "2.50")).body.quota_class_set, true);
  assertFault(await nova(m.token, "GET", "/os-quota-class-sets/default"), 403, "forbidden");
  const qcu = await nova(admin, "PUT", "/os-quota-class-sets/default", { quota_class_set: { metadata_items: 200 } });
  assert.equal(qcu.body.quota_class_set.metadata_items, 200);
  assert.equal((await nova(admin, "GET", `/os-quota-sets/${other.projectId}/defaults`)).body.quota_set.metadata_items, 200);
  await nova(admin, "PUT", "/os-quota-class-sets/default", { quota_class_set: { metadata_items: 128 } });
});

test("deleting a compute service removes its hypervisor, memberships and resource provider", async () => {
  const admin = await tc.adminToken();
  const s = (await nova(admin, "GET", "/os-services?host=compute-00003", undefined, "2.53")).body.services[0];
  const node = (await tc.cloud.compute.hosts.byName("compute-00003"))!;
  assertFault(await nova(admin, "DELETE", "/os-services/abc", undefined, "2.53"), 400, "badRequest", "Invalid uuid abc");
  assert.equal((await nova(admin, "DELETE", `/os-services/${s.id}`, undefined, "2.53")).status, 204);
  assert.equal(await tc.cloud.compute.hosts.byName("compute-00003"), undefined);
  assert.equal(await tc.cloud.compute.placement.getProvider(node.providerUuid), undefined);
  assertFault(await nova(admin, "DELETE", `/os-services/${s.id}`, undefined, "2.53"), 404, "itemNotFound", `Service ${s.id} not found.`);
  assert.equal((await nova(admin, "GET", "/os-hypervisors")).body.hypervisors.length, 2);
});
