/**
 * Nova's legacy proxy APIs (deprecated at 2.36): images and image metadata over Glance,
 * security groups / rules, floating IPs, pools, networks over Neutron (as the caller),
 * os-hosts, the server actions add/remove SecurityGroup and FloatingIp, the removed APIs
 * (410), and the volume/bare-metal proxies without those services. Bodies are checked
 * against Tempest's response schemas when Tempest is installed.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, test } from "node:test";
import { Ajv } from "ajv";
import { persona, startTestCloud, unique } from "../support/cloud.js";
import type { Response } from "../support/cloud.js";
import { assertComputeError, computeApi, makeFlavor, makeImage, makeNetwork, waitStatus } from "../support/compute.js";

const tc = await startTestCloud({ compute: { hosts: 2 } as never });
after(() => tc.close());
const api = computeApi(tc, "2.1");

// ---- Tempest's response schemas (tempest/lib/api_schema/response/compute/v2_1), when installed ----
const SCHEMAS: Record<string, string> = {
  get_image: "images",
  list_images: "images",
  list_images_details: "images",
  image_metadata: "images",
  image_meta_item: "images",
  list_security_groups: "security_groups",
  get_security_group: "security_groups",
  create_security_group_rule: "security_groups",
  list_floating_ips: "floating_ips",
  create_get_floating_ip: "floating_ips",
  list_floating_ip_pools: "floating_ips",
  list_hosts: "hosts",
  get_host_detail: "hosts",
  list_tenant_networks: "tenant_networks",
  get_tenant_network: "tenant_networks",
};
const tempest: Record<string, { status_code: number[]; response_body?: object }> | undefined = (() => {
  const code = `import json, importlib
out = {}
for name, mod in ${JSON.stringify(SCHEMAS)}.items():
    out[name] = getattr(importlib.import_module("tempest.lib.api_schema.response.compute.v2_1." + mod), name)
print(json.dumps(out))`;
  try {
    return JSON.parse(execFileSync("/usr/bin/python3", ["-c", code], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
  } catch {
    return undefined;
  }
})();
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat("iso8601-date-time", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/);
ajv.addFormat("uri", /^\w+:\/\//);
ajv.addFormat("ipv4", { validate: (s: string) => /^(\d{1,3}\.){3}\d{1,3}$/.test(s) });
ajv.addFormat("ipv6", { validate: (s: string) => s.includes(":") });

/** Status and body as Tempest's compute client checks them. */
function tempestValid(name: keyof typeof SCHEMAS, res: Response): void {
  if (!tempest) return;
  const s = tempest[name]!;
  assert.ok(s.status_code.includes(res.status), `${name}: status ${res.status} not in ${s.status_code}: ${res.text}`);
  if (!s.response_body) return;
  const ok = ajv.validate(s.response_body, res.body);
  assert.ok(ok, `${name}: ${ajv.errorsText()} in ${res.text}`);
}

const C = "/compute/v2.1";

// ---------------------------------------------------------------- images

test("images: list, detail, show and delete through Glance; statuses and links as Nova's view", async () => {
  const m = await persona(tc, "member");
  const admin = await tc.adminToken();
  const pub = await makeImage(tc, { min_ram: 128, min_disk: 2, auto_disk_config: "True", instance_uuid: "11111111-2222-3333-4444-555555555555" });
  const own = await tc.request("POST", "/image/v2/images", { token: m.token, body: { name: unique("queued"), disk_format: "raw", container_format: "bare", color: "blue" } });
  assert.equal(own.status, 201, own.text);
  const l = await api.get(m.token, "/images");
  tempestValid("list_images", l);
  const ids = l.body.images.map((i: { id: string }) => i.id);
  assert.ok(ids.includes(pub) && ids.includes(own.body.id), l.text);
  const d = await api.get(m.token, "/images/detail");
  tempestValid("list_images_details", d);
  const s = await api.get(m.token, `/images/${pub}`);
  tempestValid("get_image", s);
  const img = s.body.image;
  assert.equal(img.status, "ACTIVE");
  assert.equal(img.progress, 100);
  assert.equal(img.minRam, 128);
  assert.equal(img.minDisk, 2);
  assert.equal(img["OS-EXT-IMG-SIZE:size"], "stackbox test image".length);
  assert.equal(img["OS-DCF:diskConfig"], "AUTO");
  assert.equal(img.metadata.auto_disk_config, "True");
  assert.equal(img.metadata.visibility, undefined, "base attributes are not metadata");
  assert.equal(img.server.id, "11111111-2222-3333-4444-555555555555");
  assert.match(img.created, /Z$/);
  assert.deepEqual(img.links.map((x: { rel: string }) => x.rel), ["self", "bookmark", "alternate"]);
  assert.ok(img.links[0].href.endsWith(`/compute/v2.1/images/${pub}`));
  assert.ok(img.links[2].href.endsWith(`/image/images/${pub}`));
  const q = await api.get(m.token, `/images/${own.body.id}`);
  assert.equal(q.body.image.status, "SAVING");
  assert.equal(q.body.image.progress, 25);
  assert.equal(q.body.image.metadata.color, "blue");
  assert.equal(q.body.image["OS-EXT-IMG-SIZE:size"], 0);
  // Filters: name, status (any case), server, minRam; property-*.
  const byName = await api.get(m.token, `/images/detail?name=${encodeURIComponent(q.body.image.name)}`);
  assert.deepEqual(byName.body.images.map((i: { id: string }) => i.id), [own.body.id]);
  const byStatus = await api.get(m.token, `/images?status=QUEUED`);
  assert.ok(byStatus.body.images.some((i: { id: string }) => i.id === own.body.id));
  assert.ok(!byStatus.body.images.some((i: { id: string }) => i.id === pub));
  const byServer = await api.get(m.token, `/images?server=http://x/servers/11111111-2222-3333-4444-555555555555`);
  assert.deepEqual(byServer.body.images.map((i: { id: string }) => i.id), [pub]);
  const byProp = await api.get(m.token, `/images?property-color=blue`);
  assert.deepEqual(byProp.body.images.map((i: { id: string }) => i.id), [own.body.id]);
  const since = await api.get(m.token, `/images?changes-since=2000-01-01T00:00:00Z`);
  assert.ok(since.body.images.some((i: { id: string }) => i.id === pub), since.text);
  assert.deepEqual((await api.get(m.token, `/images?changes-since=2999-01-01T00:00:00Z`)).body.images, []);
  // Pagination: a full page has a next link with the marker.
  const p1 = await api.get(m.token, "/images?limit=1");
  assert.equal(p1.body.images.length, 1);
  assert.match(p1.body.images_links[0].href, new RegExp(`/compute/v2.1/images\\?limit=1&marker=${p1.body.images[0].id}$`));
  const p2 = await api.get(m.token, `/images?limit=1&marker=${p1.body.images[0].id}`);
  assert.notEqual(p2.body.images[0].id, p1.body.images[0].id);
  // Another project does not see the member's private image (Glance decides, with the caller's token).
  const other = await persona(tc, "member");
  assertComputeError(await api.get(other.token, `/images/${own.body.id}`), 404, "Image not found.");
  assert.ok(!(await api.get(other.token, "/images")).body.images.some((i: { id: string }) => i.id === own.body.id));
  assertComputeError(await api.del(other.token, `/images/${own.body.id}`), 404, "Image not found.");
  // The public image belongs to admin: a member may not delete it.
  assertComputeError(await api.del(m.token, `/images/${pub}`), 403, "You are not allowed to delete the image.");
  const del = await api.del(m.token, `/images/${own.body.id}`);
  assert.equal(del.status, 204, del.text);
  assertComputeError(await api.get(m.token, `/images/${own.body.id}`), 404, "Image not found.");
  assertComputeError(await api.get(m.token, "/images/not-a-uuid"), 404, "Image not found.");
  assert.equal((await api.get(admin, `/images/${pub}`)).status, 200);
});

test("images: bad paging input is a 400; above 2.35 every images route is 404", async () => {
  const m = await persona(tc, "member");
  assertComputeError(await api.get(m.token, "/images?limit=abc"), 400, "limit must be an integer");
  assertComputeError(await api.get(m.token, "/images/detail?limit=-1"), 400, "limit must be >= 0");
  const id = await makeImage(tc);
  for (const path of ["/images", "/images/detail", `/images/${id}`]) assertComputeError(await api.get(m.token, path, "2.36"), 404, "The resource could not be found.");
  assertComputeError(await api.del(m.token, `/images/${id}`, "2.36"), 404);
  assert.equal((await api.get(m.token, `/images/${id}`, "2.35")).status, 200);
  // Nothing was deleted by the refused call.
  assert.equal((await tc.request("GET", `/image/v2/images/${id}`, { token: m.token })).status, 200);
});

test("image metadata: CRUD mapped to Glance properties (purge on replace), up to 2.38", async () => {
  const m = await persona(tc, "member");
  const r = await tc.request("POST", "/image/v2/images", { token: m.token, body: { name: unique("md"), disk_format: "raw", container_format: "bare", a: "1" } });
  const id = r.body.id as string;
  const list = await api.get(m.token, `/images/${id}/metadata`);
  tempestValid("image_metadata", list);
  assert.deepEqual(list.body.metadata, { a: "1" });
  const add = await api.post(m.token, `/images/${id}/metadata`, { metadata: { b: "2" } });
  tempestValid("image_metadata", add);
  assert.deepEqual(add.body.metadata, { a: "1", b: "2" });
  const put1 = await api.put(m.token, `/images/${id}/metadata/c`, { meta: { c: "3" } });
  tempestValid("image_meta_item", put1);
  assert.deepEqual(put1.body, { meta: { c: "3" } });
  const one = await api.get(m.token, `/images/${id}/metadata/c`);
  tempestValid("image_meta_item", one);
  assert.deepEqual(one.body, { meta: { c: "3" } });
  const del = await api.del(m.token, `/images/${id}/metadata/a`);
  assert.equal(del.status, 204, del.text);
  assertComputeError(await api.del(m.token, `/images/${id}/metadata/a`), 404, "Invalid metadata key");
  assertComputeError(await api.get(m.token, `/images/${id}/metadata/a`), 404);
  const all = await api.put(m.token, `/images/${id}/metadata`, { metadata: { only: "x" } });
  assert.deepEqual(all.body, { metadata: { only: "x" } });
  const g = await tc.request("GET", `/image/v2/images/${id}`, { token: m.token });
  assert.equal(g.body.only, "x");
  assert.equal(g.body.b, undefined, "replace purges the other properties");
  // Bad input: nothing written.
  assertComputeError(await api.put(m.token, `/images/${id}/metadata/k`, { meta: { other: "v" } }), 400, "Request body and URI mismatch");
  assertComputeError(await api.put(m.token, `/images/${id}/metadata/k`, { meta: { k: "v", l: "w" } }), 400, /has too many properties/);
  assertComputeError(await api.post(m.token, `/images/${id}/metadata`, { metadata: { k: 1 } }), 400, /is not of type 'string'/);
  assertComputeError(await api.post(m.token, `/images/${id}/metadata`, { meta: {} }), 400, "'metadata' is a required property");
  assertComputeError(await api.post(m.token, `/images/${id}/metadata`, { metadata: { "bad/key": "v" } }), 400, /Additional properties are not allowed/);
  const tooMany: Record<string, string> = {};
  for (let i = 0; i < 129; i++) tooMany[`k${i}`] = "v";
  assertComputeError(await api.put(m.token, `/images/${id}/metadata`, { metadata: tooMany }), 403, "Image metadata limit exceeded");
  assert.deepEqual((await api.get(m.token, `/images/${id}/metadata`)).body.metadata, { only: "x" });
  // Another project: the image is not found; a public image of admin's is not theirs to change.
  const other = await persona(tc, "member");
  assertComputeError(await api.get(other.token, `/images/${id}/metadata`), 404, "Image not found.");
  const pub = await makeImage(tc);
  assertComputeError(await api.post(other.token, `/images/${pub}/metadata`, { metadata: { x: "y" } }), 403, `Not authorized for image ${pub}.`);
  // Version range: 2.38 yes, 2.39 no.
  assert.equal((await api.get(m.token, `/images/${id}/metadata`, "2.38")).status, 200);
  assertComputeError(await api.get(m.token, `/images/${id}/metadata`, "2.39"), 404);
  assertComputeError(await api.post(m.token, `/images/${id}/metadata`, { metadata: { z: "1" } }, "2.39"), 404);
  assert.deepEqual((await api.get(m.token, `/images/${id}/metadata`)).body.metadata, { only: "x" });
});

// ---------------------------------------------------------------- security groups

test("security groups: create, show, update, list, delete through Neutron as the caller", async () => {
  const m = await persona(tc, "member");
  const name = unique("sg");
  const c = await api.post(m.token, "/os-security-groups", { security_group: { name, description: "web" } });
  assert.equal(c.status, 200, c.text);
  tempestValid("get_security_group", c);
  assert.deepEqual(c.body.security_group.rules, []);
  assert.equal(c.body.security_group.tenant_id, m.projectId);
  const id = c.body.security_group.id;
  const l = await api.get(m.token, "/os-security-groups");
  tempestValid("list_security_groups", l);
  const names = l.body.security_groups.map((g: { name: string }) => g.name);
  assert.ok(names.includes("default") && names.includes(name), l.text);
  assert.deepEqual(names, [...names].sort(), "sorted by (tenant_id, name)");
  assert.equal((await api.get(m.token, "/os-security-groups?limit=1")).body.security_groups.length, 1);
  assert.equal((await api.get(m.token, "/os-security-groups?offset=1&limit=5")).body.security_groups.length, l.body.security_groups.length - 1);
  const u = await api.put(m.token, `/os-security-groups/${id}`, { security_group: { name: `${name}-2`, description: "d2" } });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.body.security_group.name, `${name}-2`);
  const s = await api.get(m.token, `/os-security-groups/${id}`);
  tempestValid("get_security_group", s);
  assert.equal(s.body.security_group.description, "d2");
  // Another project neither sees nor touches it.
  const other = await persona(tc, "member");
  assertComputeError(await api.get(other.token, `/os-security-groups/${id}`), 404, /Security group .* does not exist/);
  assertComputeError(await api.del(other.token, `/os-security-groups/${id}`), 404);
  assert.ok(!(await api.get(other.token, "/os-security-groups")).body.security_groups.some((g: { id: string }) => g.id === id));
  const d = await api.del(m.token, `/os-security-groups/${id}`);
  assert.equal(d.status, 202, d.text);
  assertComputeError(await api.get(m.token, `/os-security-groups/${id}`), 404);
});

test("security groups: bad input, default group, personas and the 2.36 cut-off", async () => {
  const m = await persona(tc, "member");
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  const before = (await api.get(m.token, "/os-security-groups")).body.security_groups.length;
  assertComputeError(await api.post(m.token, "/os-security-groups", {}), 400, "The request body can't be empty");
  assertComputeError(await api.post(m.token, "/os-security-groups", { x: 1 }), 400, "Missing parameter security_group");
  assertComputeError(await api.post(m.token, "/os-security-groups", { security_group: { description: "d" } }), 400, "name is not a string or unicode");
  assertComputeError(await api.post(m.token, "/os-security-groups", { security_group: { name: "n" } }), 400, "description is not a string or unicode");
  assertComputeError(await api.post(m.token, "/os-security-groups", { security_group: { name: "x".repeat(256), description: "d" } }), 400, "name has 256 characters, more than 255.");
  assertComputeError(await api.get(m.token, "/os-security-groups/123"), 400, "Security group id should be uuid");
  assertComputeError(await api.get(m.token, "/os-security-groups?limit=x"), 400, "Invalid input for query parameters limit. Value: x. 'x' does not match '^[0-9]*$'");
  assertComputeError(await api.post(reader.token, "/os-security-groups", { security_group: { name: "r", description: "d" } }), 403, "Policy doesn't allow os_compute_api:os-security-groups:create to be performed.");
  assert.equal((await api.get(reader.token, "/os-security-groups")).status, 200);
  assert.equal((await api.get(m.token, "/os-security-groups")).body.security_groups.length, before, "nothing created");
  const def = (await api.get(m.token, "/os-security-groups")).body.security_groups.find((g: { name: string }) => g.name === "default");
  assertComputeError(await api.del(m.token, `/os-security-groups/${def.id}`), 400);
  assertComputeError(await api.get(m.token, "/os-security-groups", "2.36"), 404, "The resource could not be found.");
  assertComputeError(await api.post(m.token, "/os-security-groups", { security_group: { name: "n", description: "d" } }, "2.36"), 404);
  assertComputeError(await api.post(m.token, "/os-security-group-rules", { security_group_rule: {} }, "2.36"), 404);
  assert.equal((await api.get(m.token, "/os-security-groups")).body.security_groups.length, before);
});

test("security group rules: cidr and group rules, duplicates, validation, delete", async () => {
  const m = await persona(tc, "member");
  const g = (await api.post(m.token, "/os-security-groups", { security_group: { name: unique("sg"), description: "" } })).body.security_group;
  const src = (await api.post(m.token, "/os-security-groups", { security_group: { name: unique("src"), description: "" } })).body.security_group;
  const rule = (body: Record<string, unknown>) => api.post(m.token, "/os-security-group-rules", { security_group_rule: { parent_group_id: g.id, ...body } });
  const r1 = await rule({ ip_protocol: "tcp", from_port: 22, to_port: 22, cidr: "10.0.0.0/8" });
  assert.equal(r1.status, 200, r1.text);
  tempestValid("create_security_group_rule", r1);
  assert.deepEqual(r1.body.security_group_rule.ip_range, { cidr: "10.0.0.0/8" });
  assert.deepEqual(r1.body.security_group_rule.group, {});
  const r2 = await rule({ ip_protocol: "icmp", from_port: -1, to_port: -1, group_id: src.id });
  assert.equal(r2.status, 200, r2.text);
  assert.deepEqual(r2.body.security_group_rule.group, { name: src.name, tenant_id: m.projectId });
  assert.equal(r2.body.security_group_rule.from_port, -1);
  const r3 = await rule({ ip_protocol: "udp", from_port: "53", to_port: "53" });
  assert.equal(r3.status, 200, r3.text);
  assert.deepEqual(r3.body.security_group_rule.ip_range, { cidr: "0.0.0.0/0" });
  // Neutron holds the ingress rules with Nova's mapping (ports, ethertype).
  const n = await tc.request("GET", `/networking/v2.0/security-group-rules/${r3.body.security_group_rule.id}`, { token: m.token });
  assert.equal(n.body.security_group_rule.direction, "ingress");
  assert.equal(n.body.security_group_rule.port_range_min, 53);
  const shown = (await api.get(m.token, `/os-security-groups/${g.id}`)).body.security_group;
  assert.equal(shown.rules.length, 3);
  const count = async () => (await api.get(m.token, `/os-security-groups/${g.id}`)).body.security_group.rules.length;
  assertComputeError(await rule({ ip_protocol: "tcp", from_port: 22, to_port: 22, cidr: "10.0.0.0/8" }), 400, `This rule already exists in group ${g.id}`);
  assertComputeError(await rule({ ip_protocol: "xyz", from_port: 1, to_port: 2 }), 400, "Invalid IP protocol xyz.");
  assertComputeError(await rule({ ip_protocol: "tcp", from_port: 30, to_port: 20 }), 400, "Invalid port range 30:20. Former value cannot be greater than the later");
  assertComputeError(await rule({ ip_protocol: "tcp", from_port: 0, to_port: 20 }), 400, "Invalid port range 0:20. Valid TCP ports should be between 1-65535");
  assertComputeError(await rule({ ip_protocol: "icmp", from_port: 256, to_port: 0 }), 400, "Invalid port range 256:0. For ICMP, the type:code must be valid");
  assertComputeError(await rule({ ip_protocol: "tcp", from_port: "a", to_port: 2 }), 400, "Invalid input received: To and From ports must be integers");
  assertComputeError(await rule({ ip_protocol: "tcp", from_port: 1, to_port: 2, cidr: "10.0.0.0/33" }), 400, "10.0.0.0/33 is not a valid IP network.");
  assertComputeError(await rule({ ip_protocol: "tcp", from_port: 1, to_port: 2, cidr: "10.0.0.1/0" }), 400, "Bad prefix for network in cidr 10.0.0.1/0");
  assertComputeError(await rule({ cidr: "10.0.0.0/8" }), 400, "Not enough parameters to build a valid rule.");
  assertComputeError(await api.post(m.token, "/os-security-group-rules", { security_group_rule: { parent_group_id: "x", ip_protocol: "tcp" } }), 400, "Security group id should be uuid");
  assertComputeError(await api.post(m.token, "/os-security-group-rules", { security_group_rule: { parent_group_id: "00000000-0000-0000-0000-000000000000", ip_protocol: "tcp", from_port: 1, to_port: 2 } }), 404);
  assertComputeError(await rule({ ip_protocol: "tcp", from_port: 1, to_port: 2, group_id: "00000000-0000-0000-0000-000000000000" }), 404);
  assertComputeError(await api.post(m.token, "/os-security-group-rules", {}), 400, "The request body can't be empty");
  assert.equal(await count(), 3, "nothing written by bad input");
  // Delete: 202, then 404; a bad id 400.
  const d = await api.del(m.token, `/os-security-group-rules/${r1.body.security_group_rule.id}`);
  assert.equal(d.status, 202, d.text);
  assertComputeError(await api.del(m.token, `/os-security-group-rules/${r1.body.security_group_rule.id}`), 404);
  assertComputeError(await api.del(m.token, "/os-security-group-rules/zzz"), 400, "Security group id should be uuid");
  const other = await persona(tc, "member");
  assertComputeError(await api.del(other.token, `/os-security-group-rules/${r2.body.security_group_rule.id}`), 404);
  assert.equal(await count(), 2);
});

// ---------------------------------------------------------------- floating IPs, pools, networks

test("floating IPs: allocate from the public pool, list, show, release; pools; other projects see nothing", async () => {
  const m = await persona(tc, "member");
  const pools = await api.get(m.token, "/os-floating-ip-pools");
  tempestValid("list_floating_ip_pools", pools);
  assert.ok(pools.body.floating_ip_pools.some((p: { name: string }) => p.name === "public"), pools.text);
  const a = await api.post(m.token, "/os-floating-ips", { pool: "public" });
  assert.equal(a.status, 200, a.text);
  tempestValid("create_get_floating_ip", a);
  assert.equal(a.body.floating_ip.pool, "public");
  assert.equal(a.body.floating_ip.instance_id, null);
  assert.equal(a.body.floating_ip.fixed_ip, null);
  const b = await api.post(m.token, "/os-floating-ips", undefined);
  assert.equal(b.status, 200, b.text);
  const l = await api.get(m.token, "/os-floating-ips");
  tempestValid("list_floating_ips", l);
  assert.deepEqual(new Set(l.body.floating_ips.map((f: { id: string }) => f.id)), new Set([a.body.floating_ip.id, b.body.floating_ip.id]));
  const s = await api.get(m.token, `/os-floating-ips/${a.body.floating_ip.id}`);
  tempestValid("create_get_floating_ip", s);
  assert.deepEqual(s.body, a.body);
  const other = await persona(tc, "member");
  assert.deepEqual((await api.get(other.token, "/os-floating-ips")).body, { floating_ips: [] });
  assertComputeError(await api.get(other.token, `/os-floating-ips/${a.body.floating_ip.id}`), 404, `Floating IP not found for ID ${a.body.floating_ip.id}`);
  assertComputeError(await api.del(other.token, `/os-floating-ips/${a.body.floating_ip.id}`), 404);
  assertComputeError(await api.post(m.token, "/os-floating-ips", { pool: "no-such-pool" }), 404, "Floating IP pool not found.");
  assertComputeError(await api.get(m.token, "/os-floating-ips/not-an-id"), 404, "Floating IP not found for ID not-an-id");
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  assertComputeError(await api.post(reader.token, "/os-floating-ips", { pool: "public" }), 403);
  assert.equal((await api.get(reader.token, "/os-floating-ips")).body.floating_ips.length, 2);
  assertComputeError(await api.get(m.token, "/os-floating-ips", "2.36"), 404);
  assertComputeError(await api.post(m.token, "/os-floating-ips", { pool: "public" }, "2.36"), 404);
  assertComputeError(await api.get(m.token, "/os-floating-ip-pools", "2.36"), 404);
  assert.equal((await api.get(m.token, "/os-floating-ips")).body.floating_ips.length, 2, "nothing allocated by refused calls");
  const d = await api.del(m.token, `/os-floating-ips/${a.body.floating_ip.id}`);
  assert.equal(d.status, 202, d.text);
  assertComputeError(await api.get(m.token, `/os-floating-ips/${a.body.floating_ip.id}`), 404);
  assert.equal((await api.get(m.token, "/os-floating-ips")).body.floating_ips.length, 1);
});

test("os-networks and os-tenant-networks: Neutron's networks in nova-network's shape; writes are gone", async () => {
  const m = await persona(tc, "member");
  const admin = await tc.adminToken();
  const net = await makeNetwork(tc, m.token, "10.61.0.0/24");
  const l = await api.get(m.token, "/os-networks");
  assert.equal(l.status, 200, l.text);
  const mine = l.body.networks.find((n: { id: string }) => n.id === net.id);
  assert.deepEqual(Object.keys(mine).length, 11, "non-admins see the eleven basic fields");
  assert.equal(mine.label, net.name);
  assert.equal(mine.cidr, null);
  const s = await api.get(admin, `/os-networks/${net.id}`);
  assert.equal(s.status, 200, s.text);
  assert.equal(Object.keys(s.body.network).length, 32, "admins see the nova-network admin fields too");
  assertComputeError(await api.get(m.token, "/os-networks/00000000-0000-0000-0000-000000000000"), 404, "Network not found");
  const t = await api.get(m.token, "/os-tenant-networks");
  tempestValid("list_tenant_networks", t);
  assert.deepEqual(
    t.body.networks.find((n: { id: string }) => n.id === net.id),
    { id: net.id, cidr: "None", label: net.name },
  );
  const ts = await api.get(m.token, `/os-tenant-networks/${net.id}`);
  tempestValid("get_tenant_network", ts);
  const other = await persona(tc, "member");
  assertComputeError(await api.get(other.token, `/os-tenant-networks/${net.id}`), 404, "Network not found");
  assertComputeError(await api.get(m.token, "/os-networks", "2.36"), 404);
  assertComputeError(await api.get(m.token, `/os-tenant-networks/${net.id}`, "2.36"), 404);
  const gone = "This resource is no longer available.  No forwarding address is given.";
  for (const [method, path, body] of [
    ["POST", "/os-networks", { network: { label: "x" } }],
    ["POST", "/os-networks/add", { id: net.id }],
    ["DELETE", `/os-networks/${net.id}`, undefined],
    ["POST", `/os-networks/${net.id}/action`, { disassociate: null }],
    ["POST", `/os-networks/${net.id}/action`, { associate_host: "h" }],
    ["POST", "/os-tenant-networks", { network: { label: "x" } }],
    ["DELETE", `/os-tenant-networks/${net.id}`, undefined],
  ] as const) {
    const r = await tc.request(method, `${C}${path}`, { token: admin, body, headers: { "openstack-api-version": "compute 2.1" } });
    assertComputeError(r, 410, gone);
    assert.deepEqual(Object.keys(r.body), ["computeFault"]);
  }
  assertComputeError(await api.post(admin, `/os-networks/${net.id}/action`, { other: null }), 400, "There is no such action: other");
  assert.equal((await tc.request("GET", `/networking/v2.0/networks/${net.id}`, { token: m.token })).status, 200, "still there");
});

// ---------------------------------------------------------------- server actions

test("server actions: add/removeSecurityGroup and add/removeFloatingIp on a booted server", async () => {
  const m = await persona(tc, "member");
  const admin = await tc.adminToken();
  const net = await makeNetwork(tc, m.token, "10.62.0.0/24");
  // A router to the public network, so floating IPs can reach the subnet.
  const pub = (await tc.request("GET", "/networking/v2.0/networks?router:external=True&name=public", { token: admin })).body.networks[0];
  const router = await tc.request("POST", "/networking/v2.0/routers", { token: m.token, body: { router: { name: unique("r"), external_gateway_info: { network_id: pub.id } } } });
  assert.equal(router.status, 201, router.text);
  const ri = await tc.request("PUT", `/networking/v2.0/routers/${router.body.router.id}/add_router_interface`, { token: m.token, body: { subnet_id: net.subnetId } });
  assert.equal(ri.status, 200, ri.text);
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc);
  const boot = await api.post(m.token, "/servers", { server: { name: unique("vm"), imageRef: image, flavorRef: flavor, networks: [{ uuid: net.id }] } });
  assert.equal(boot.status, 202, boot.text);
  const sid = boot.body.server.id as string;
  await waitStatus(tc, m.token, sid, ["ACTIVE"]);
  const sg = (await api.post(m.token, "/os-security-groups", { security_group: { name: unique("web"), description: "" } })).body.security_group;
  const act = (body: unknown, v?: string) => api.post(m.token, `/servers/${sid}/action`, body, v);

  // Security groups.
  const add = await act({ addSecurityGroup: { name: sg.name } });
  assert.equal(add.status, 202, add.text);
  const groups = await api.get(m.token, `/servers/${sid}/os-security-groups`);
  tempestValid("list_security_groups", groups);
  assert.deepEqual(groups.body.security_groups.map((g: { name: string }) => g.name).sort(), ["default", sg.name].sort());
  const shown = (await api.get(m.token, `/servers/${sid}`)).body.server;
  assert.ok(shown.security_groups.some((g: { name: string }) => g.name === sg.name), JSON.stringify(shown.security_groups));
  assertComputeError(await act({ addSecurityGroup: { name: "no-such-group" } }), 404, `Security group no-such-group is not found for project ${m.projectId}`);
  assertComputeError(await act({ addSecurityGroup: { name: " " } }), 400, "Security group name cannot be empty");
  assertComputeError(await act({ addSecurityGroup: {} }), 400, "Security group not specified");
  assertComputeError(await act({ addSecurityGroup: null }), 400, "Missing parameter dict");
  assert.equal((await act({ removeSecurityGroup: { name: sg.id } })).status, 202);
  assertComputeError(await act({ removeSecurityGroup: { name: sg.name } }), 404, `Security group ${sg.name} not associated with the instance ${sid}`);
  // The server's security groups list works at any microversion (no cap).
  assert.equal((await api.get(m.token, `/servers/${sid}/os-security-groups`, "2.90")).status, 200);

  // Floating IPs.
  const fip = (await api.post(m.token, "/os-floating-ips", { pool: "public" })).body.floating_ip;
  assertComputeError(await act({ addFloatingIp: { address: "not-ip" } }), 400, "Invalid input for field/attribute address. Value: not-ip. 'not-ip' is not valid under any of the given schemas");
  assertComputeError(await act({ addFloatingIp: {} }), 400, /'address' is a required property/);
  assertComputeError(await act({ addFloatingIp: { address: fip.ip, fixed_address: "10.99.0.1" } }), 400, "Specified fixed address not assigned to instance");
  assertComputeError(await act({ addFloatingIp: { address: "192.0.2.77" } }), 404, "floating IP not found");
  assertComputeError(await act({ addFloatingIp: { address: fip.ip } }, "2.44"), 404, "The resource could not be found.");
  assert.equal((await api.get(m.token, `/os-floating-ips/${fip.id}`)).body.floating_ip.instance_id, null, "nothing associated by refused calls");
  const assoc = await act({ addFloatingIp: { address: fip.ip } });
  assert.equal(assoc.status, 202, assoc.text);
  const after1 = (await api.get(m.token, `/os-floating-ips/${fip.id}`)).body.floating_ip;
  assert.equal(after1.instance_id, sid);
  assert.match(after1.fixed_ip, /^10\.62\.0\./);
  const addrs = (await api.get(m.token, `/servers/${sid}`)).body.server.addresses[net.name];
  assert.ok(addrs.some((a: Record<string, unknown>) => a["addr"] === fip.ip && a["OS-EXT-IPS:type"] === "floating"), JSON.stringify(addrs));
  const other = await persona(tc, "member");
  assertComputeError(await api.post(other.token, `/servers/${sid}/action`, { removeFloatingIp: { address: fip.ip } }), 404, `Floating IP not found for address ${fip.ip}.`);
  assert.equal((await act({ removeFloatingIp: { address: fip.ip } })).status, 202);
  // Unassociated: Nova checks the rule against an empty target, which only an admin passes.
  assertComputeError(await act({ removeFloatingIp: { address: fip.ip } }), 403, "Policy doesn't allow os_compute_api:os-floating-ips:remove to be performed.");
  assertComputeError(await api.post(admin, `/servers/${sid}/action`, { removeFloatingIp: { address: fip.ip } }), 409, `Floating IP ${fip.ip} is not associated with instance ${sid}.`);
  assert.equal((await api.get(m.token, `/os-floating-ips/${fip.id}`)).body.floating_ip.instance_id, null);
  // Release of an associated address disassociates it.
  assert.equal((await act({ addFloatingIp: { address: fip.ip } })).status, 202);
  assert.equal((await api.del(m.token, `/os-floating-ips/${fip.id}`)).status, 202);
  assert.equal((await tc.request("GET", `/networking/v2.0/floatingips/${fip.id}`, { token: m.token })).status, 404);
  // Another project's server is not found.
  assertComputeError(await api.post(other.token, `/servers/${sid}/action`, { addSecurityGroup: { name: "default" } }), 404, `Instance ${sid} could not be found.`);
  assertComputeError(await api.get(other.token, `/servers/${sid}/os-security-groups`), 404);
});

// ---------------------------------------------------------------- os-hosts

test("os-hosts: list (zone filter), show resources, update/power actions as the libvirt driver answers", async () => {
  const admin = await tc.adminToken();
  const l = await api.get(admin, "/os-hosts");
  tempestValid("list_hosts", l);
  const compute = l.body.hosts.filter((h: { service: string }) => h.service === "compute");
  assert.equal(compute.length, 2, l.text);
  assert.ok(l.body.hosts.some((h: { service: string; zone: string }) => h.service === "scheduler" && h.zone === "internal"));
  const z = await api.get(admin, `/os-hosts?zone=${compute[0].zone}`);
  assert.ok(z.body.hosts.every((h: { zone: string }) => h.zone === compute[0].zone));
  assert.deepEqual((await api.get(admin, "/os-hosts?zone=nowhere")).body, { hosts: [] });
  const name = compute[0].host_name as string;
  const s = await api.get(admin, `/os-hosts/${name}`);
  tempestValid("get_host_detail", s);
  assert.deepEqual(s.body.host.slice(0, 3).map((r: { resource: { project: string } }) => r.resource.project), ["(total)", "(used_now)", "(used_max)"]);
  assertComputeError(await api.get(admin, "/os-hosts/nowhere"), 404, "Host 'nowhere' is not mapped to any cell");
  assertComputeError(await api.put(admin, `/os-hosts/${name}`, { status: "enable" }), 501, "The requested functionality is not supported.");
  assertComputeError(await api.put(admin, "/os-hosts/nowhere", { status: "disable" }), 404, "Host 'nowhere' is not mapped to any cell");
  assertComputeError(await api.put(admin, `/os-hosts/${name}`, { status: "bogus" }), 400, /Invalid input for field\/attribute status\. Value: bogus\. 'bogus' is not one of/);
  assertComputeError(await api.put(admin, `/os-hosts/${name}`, { status: null, maintenance_mode: null }), 400, "Invalid input for field/attribute status. Value: None. None is not of type 'string'");
  assertComputeError(await api.put(admin, `/os-hosts/${name}`, { other: 1 }), 400, "Additional properties are not allowed ('other' was unexpected)");
  assert.deepEqual((await api.put(admin, `/os-hosts/${name}`, {})).body, { host: name });
  for (const p of ["reboot", "shutdown", "startup"]) {
    assertComputeError(await api.get(admin, `/os-hosts/${name}/${p}`), 501, "The requested functionality is not supported.");
    assertComputeError(await api.get(admin, `/os-hosts/nowhere/${p}`), 404);
  }
  const m = await persona(tc, "member");
  assertComputeError(await api.get(m.token, "/os-hosts"), 403, "Policy doesn't allow os_compute_api:os-hosts:list to be performed.");
  assertComputeError(await api.get(m.token, `/os-hosts/${name}/reboot`), 403);
  assertComputeError(await api.put(m.token, `/os-hosts/${name}`, { status: "enable" }), 403);
  assert.equal((await api.get(admin, "/os-hosts", "2.42")).status, 200);
  assertComputeError(await api.get(admin, "/os-hosts", "2.43"), 404);
  assertComputeError(await api.get(admin, `/os-hosts/${name}`, "2.43"), 404);
});

// ---------------------------------------------------------------- removed and absent services

test("removed APIs answer 410 at every microversion; bare metal 501/400; volume proxies reach Cinder", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const gone = "This resource is no longer available.  No forwarding address is given.";
  const cases: Array<[string, string, unknown?]> = [
    ["GET", "/os-agents"],
    ["POST", "/os-agents", { agent: {} }],
    ["PUT", "/os-agents/1", { para: {} }],
    ["DELETE", "/os-agents/1"],
    ["GET", "/os-cells"],
    ["GET", "/os-cells/detail"],
    ["GET", "/os-cells/capacities"],
    ["GET", "/os-cells/cell1"],
    ["POST", "/os-certificates"],
    ["GET", "/os-certificates/root"],
    ["GET", "/os-cloudpipe"],
    ["GET", "/os-fixed-ips/10.0.0.1"],
    ["POST", "/os-fixed-ips/10.0.0.1/action", { reserve: null }],
    ["GET", "/os-floating-ip-dns"],
    ["GET", "/os-floating-ips-bulk"],
    ["GET", "/os-fping"],
    ["GET", "/os-security-group-default-rules"],
    ["GET", "/servers/00000000-0000-0000-0000-000000000000/os-virtual-interfaces"],
  ];
  for (const v of ["2.1", "2.93"]) {
    for (const [method, path, body] of cases) {
      const r = await tc.request(method, `${C}${path}`, { token: m.token, body, headers: { "openstack-api-version": `compute ${v}` } });
      assertComputeError(r, 410, gone);
    }
  }
  assertComputeError(await api.post(m.token, "/os-fixed-ips/10.0.0.1/action", { nope: null }), 400, "There is no such action: nope");
  assert.equal((await tc.request("GET", `${C}/os-agents`)).status, 401, "a token is still required");
  // Bare metal: no Ironic.
  assertComputeError(await api.get(admin, "/os-baremetal-nodes"), 501, "The requested functionality is not supported.");
  assertComputeError(await api.get(m.token, "/os-baremetal-nodes"), 403);
  assertComputeError(await api.post(admin, "/os-baremetal-nodes", { node: {} }), 400, "Command Not supported. Please use Ironic command node-create to perform this action.");
  assertComputeError(await api.post(admin, "/os-baremetal-nodes/x/action", { add_interface: {} }), 400, "Command Not supported. Please use Ironic command port-create to perform this action.");
  assertComputeError(await api.get(admin, "/os-baremetal-nodes", "2.36"), 404);
  // Volumes: the Cinder proxies (policy, then Cinder).
  assert.deepEqual((await api.get(m.token, "/os-volumes")).body, { volumes: [] });
  assertComputeError(await api.post(m.token, "/os-snapshots", { snapshot: {} }), 400, /'volume_id' is a required property/);
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  assertComputeError(await api.post(reader.token, "/os-volumes", { volume: { size: 1 } }), 403);
  assertComputeError(await api.get(m.token, "/os-volumes", "2.36"), 404);
});

test("a method a proxy path does not map is Nova's plain 404 (its router has no 405)", async () => {
  const m = await persona(tc, "member");
  assertComputeError(await api.del(m.token, "/images/"), 404, "The resource could not be found.");
  assertComputeError(await api.del(m.token, "/os-security-groups/"), 404, "The resource could not be found.");
  assertComputeError(await api.put(m.token, "/os-floating-ips", {}), 404);
  // A static path beside a parameter one falls through to it, as Nova's mapper does.
  assertComputeError(await api.get(m.token, "/os-cells/sync_instances"), 410);
});

test("volume attachments: listing reads Nova's BDMs; attach/swap/detach validate, then ask Cinder", async () => {
  const m = await persona(tc, "member");
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc);
  const boot = await api.post(m.token, "/servers", { server: { name: unique("vm"), imageRef: image, flavorRef: flavor, networks: "none" } }, "2.37");
  assert.equal(boot.status, 202, boot.text);
  const sid = boot.body.server.id as string;
  await waitStatus(tc, m.token, sid, ["ACTIVE"]);
  const base = `/servers/${sid}/os-volume_attachments`;
  assert.deepEqual((await api.get(m.token, base)).body, { volumeAttachments: [] });
  assert.deepEqual((await api.get(m.token, `${base}?limit=5&other=1`)).body, { volumeAttachments: [] });
  assertComputeError(await api.get(m.token, `${base}?other=1`, "2.75"), 400, "Additional properties are not allowed ('other' was unexpected)");
  assertComputeError(await api.get(m.token, `${base}?limit=-1`), 400, /Invalid input for query parameters limit/);
  const vol = "00000000-0000-0000-0000-0000000000aa";
  assertComputeError(await api.get(m.token, `${base}/${vol}`), 404, `Instance ${sid} is not attached to volume ${vol}`);
  assertComputeError(await api.post(m.token, base, { volumeAttachment: {} }), 400, /'volumeId' is a required property/);
  assertComputeError(await api.post(m.token, base, { volumeAttachment: { volumeId: "x" } }), 400, "Invalid input for field/attribute volumeId. Value: x. 'x' is not a 'uuid'");
  assertComputeError(await api.post(m.token, base, { volumeAttachment: { volumeId: vol, tag: "t" } }), 400, /Additional properties are not allowed \('tag' was unexpected\)/);
  assertComputeError(await api.post(m.token, base, { volumeAttachment: { volumeId: vol, device: "sdb" } }), 400, /does not match/);
  assertComputeError(await api.post(m.token, base, { volumeAttachment: { volumeId: vol, tag: "t" } }, "2.49"), 404, `Volume ${vol} could not be found.`);
  assertComputeError(await api.post(m.token, base, { volumeAttachment: { volumeId: vol } }), 404, `Volume ${vol} could not be found.`);
  assertComputeError(await api.put(m.token, `${base}/${vol}`, { volumeAttachment: { volumeId: vol } }), 403, /os-volumes-attachments:swap/);
  assertComputeError(await api.put(m.token, `${base}/${vol}`, { volumeAttachment: { volumeId: vol, tag: "x" } }, "2.85"), 404, `No volume Block Device Mapping with id ${vol}.`);
  assertComputeError(await api.del(m.token, `${base}/${vol}`), 404, `Volume ${vol} could not be found.`);
  const other = await persona(tc, "member");
  assertComputeError(await api.get(other.token, base), 404, `Instance ${sid} could not be found.`);
  assertComputeError(await api.post(other.token, base, { volumeAttachment: { volumeId: vol } }), 404);
  // os-volumes / os-snapshots: query checked first, then policy, then Cinder.
  assertComputeError(await api.get(m.token, "/os-volumes/detail?limit=x"), 400, /Invalid input for query parameters limit/);
  assert.deepEqual((await api.get(m.token, "/os-volumes/detail")).body, { volumes: [] });
  assertComputeError(await api.del(m.token, `/os-snapshots/${vol}`), 404, `Snapshot ${vol} could not be found.`);
  assertComputeError(await api.get(m.token, "/os-snapshots", "2.36"), 404);
});

test("os-volumes_boot is Nova's alias of /servers (the servers controller under another path)", async () => {
  const m = await persona(tc, "member");
  const image = await makeImage(tc);
  const flavor = await makeFlavor(tc);
  const boot = await api.post(m.token, "/os-volumes_boot", { server: { name: unique("vb"), imageRef: image, flavorRef: flavor, networks: "none" } }, "2.37");
  assert.equal(boot.status, 202, boot.text);
  const sid = boot.body.server.id as string;
  await waitStatus(tc, m.token, sid, ["ACTIVE"]);
  const s = await api.get(m.token, `/os-volumes_boot/${sid}`);
  assert.equal(s.status, 200, s.text);
  assert.equal(s.body.server.id, sid);
  assert.ok((await api.get(m.token, "/os-volumes_boot/detail")).body.servers.some((x: { id: string }) => x.id === sid));
  const stop = await api.post(m.token, `/os-volumes_boot/${sid}/action`, { "os-stop": null });
  assert.equal(stop.status, 202, stop.text);
  await waitStatus(tc, m.token, sid, ["SHUTOFF"]);
  const del = await api.del(m.token, `/os-volumes_boot/${sid}`);
  assert.equal(del.status, 204, del.text);
  await waitStatus(tc, m.token, sid, ["DELETED"]);
});
