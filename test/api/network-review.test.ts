/**
 * Regression tests for the security and robustness review of the network service: a list
 * marker naming another project's resource, ports racing the delete of their network or
 * subnet (PostgreSQL row locks), and request bodies that reached the managers as the wrong
 * type (500s). Run on SQLite and, with STACKBOX_TEST_PG, on PostgreSQL.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { assertNeutronError, persona, startTestCloud, unique } from "../support/cloud.js";
import { networkApi } from "../support/network.js";
import type { Body } from "../support/network.js";

const tc = await startTestCloud();
after(() => tc.close());

const { get, post, put, del, ok } = networkApi(tc);

async function network(token: string): Promise<Body> {
  return (await ok(post(token, "/networks", { network: { name: unique("net") } }), 201)).network;
}

async function subnet(token: string, networkId: string, cidr: string, extra: Record<string, unknown> = {}): Promise<Body> {
  return (await ok(post(token, "/subnets", { subnet: { network_id: networkId, cidr, ip_version: 4, name: unique("sub"), ...extra } }), 201)).subnet;
}

const admin = await tc.adminToken();

test("a list marker naming another project's security group rule is not found, like an unknown one", async () => {
  const a = await persona(tc, "member");
  const b = await persona(tc, "member");
  const sg = (await ok(post(a.token, "/security-groups", { security_group: { name: unique("sg") } }), 201)).security_group;
  const rule = sg.security_group_rules[0];
  await ok(post(b.token, "/security-groups", { security_group: { name: unique("sg") } }), 201);
  // Before the fix B got a page placed after A's rule: proof that it exists, and its place in
  // any sort order B asks for.
  for (const q of [`limit=1&marker=${rule.id}`, `limit=1&marker=${rule.id}&sort_key=port_range_min&sort_dir=asc`]) {
    assertNeutronError(await get(b.token, `/security-group-rules?${q}`), 404, "SecurityGroupRuleNotFound");
  }
  assertNeutronError(await get(b.token, `/security-group-rules?limit=1&marker=${crypto.randomUUID()}`), 404, "SecurityGroupRuleNotFound");
  // The owner pages from it as before.
  const page = await ok(get(a.token, `/security-group-rules?limit=1&marker=${rule.id}`));
  assert.ok(Array.isArray(page.security_group_rules));
});

test("a list marker naming another project's network or port is not found", async () => {
  const a = await persona(tc, "member");
  const b = await persona(tc, "member");
  const net = await network(a.token);
  await subnet(a.token, net.id, "10.61.0.0/24");
  const port = (await ok(post(a.token, "/ports", { port: { network_id: net.id } }), 201)).port;
  await network(b.token);
  assertNeutronError(await get(b.token, `/networks?limit=1&marker=${net.id}`), 404, "NetworkNotFound");
  assertNeutronError(await get(b.token, `/ports?limit=1&marker=${port.id}`), 404, "PortNotFound");
});

/** Ports racing the delete of their network or subnet: never a port on something gone, never a 500. */
for (const target of ["network", "subnet"] as const) {
  test(`port creates racing a ${target} delete leave no port on a deleted ${target}`, async () => {
    const m = await persona(tc, "member");
    for (let round = 0; round < 12; round++) {
      const net = await network(m.token);
      const sub = await subnet(m.token, net.id, "10.62.0.0/24");
      // Ports on a second subnet that ask for an address on the first one (port update: no
      // network lock, only IPAM's subnet locks stand between it and the delete).
      const other = await subnet(m.token, net.id, "10.64.0.0/24");
      const movers: Body[] = [];
      for (let i = 0; target === "subnet" && i < 2; i++) movers.push((await ok(post(m.token, "/ports", { port: { network_id: net.id, fixed_ips: [{ subnet_id: other.id }] } }), 201)).port);
      const path = target === "network" ? `/networks/${net.id}` : `/subnets/${sub.id}`;
      const results = await Promise.all([
        del(m.token, path),
        ...Array.from({ length: 4 }, async (_, k) => {
          await new Promise((r) => setTimeout(r, k * (round % 4)));
          return post(m.token, "/ports", { port: { network_id: net.id } });
        }),
        ...movers.map(async (p, k) => {
          await new Promise((r) => setTimeout(r, k * (round % 3)));
          return put(m.token, `/ports/${p.id}`, { port: { fixed_ips: [...p.fixed_ips, { subnet_id: sub.id }] } });
        }),
      ]);
      for (const r of results) assert.ok(r.status < 500, r.text);
      const deleted = results[0]!.status === 204;
      const ports = (await ok(get(admin, `/ports?network_id=${net.id}`))).ports as Body[];
      if (target === "network") {
        // Either the network went (and no port of the user is left on it) or it refused with NetworkInUse.
        if (deleted) assert.equal(ports.length, 0, JSON.stringify(ports));
        else assertNeutronError(results[0]!, 409, "NetworkInUse");
        if (deleted) assertNeutronError(await get(admin, `/networks/${net.id}`), 404, "NetworkNotFound");
      } else if (deleted) {
        assertNeutronError(await get(admin, `/subnets/${sub.id}`), 404, "SubnetNotFound");
        for (const p of ports) assert.ok(!p.fixed_ips.some((ip: Body) => ip.subnet_id === sub.id), JSON.stringify(p));
      } else {
        assertNeutronError(results[0]!, 409, "SubnetInUse");
      }
      for (const p of ports) await del(m.token, `/ports/${p.id}`);
      await del(m.token, `/networks/${net.id}`);
    }
  });
}

test("dns_nameservers as an object is iterated like Neutron does (its keys), not a 500", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const sub = (await ok(post(m.token, "/subnets", { subnet: { network_id: net.id, cidr: "10.63.0.0/24", ip_version: 4, dns_nameservers: {} } }), 201)).subnet;
  assert.deepEqual(sub.dns_nameservers, []);
  const updated = (await ok(put(m.token, `/subnets/${sub.id}`, { subnet: { dns_nameservers: { "10.63.0.53": 1 } } }))).subnet;
  assert.deepEqual(updated.dns_nameservers, ["10.63.0.53"]);
  assertNeutronError(await put(m.token, `/subnets/${sub.id}`, { subnet: { dns_nameservers: { x: 1 } } }), 400, "HTTPBadRequest");
});

test("a duplicate security group rule with an empty remote_group_id is SecurityGroupRuleExists, not a 500", async () => {
  const m = await persona(tc, "member");
  const sg = (await ok(post(m.token, "/security-groups", { security_group: { name: unique("sg") } }), 201)).security_group;
  const body = { security_group_rule: { security_group_id: sg.id, direction: "ingress", protocol: "tcp", port_range_min: 80, port_range_max: 80, remote_group_id: "" } };
  const first = (await ok(post(m.token, "/security-group-rules", body), 201)).security_group_rule;
  assert.equal(first.remote_group_id, null);
  assertNeutronError(await post(m.token, "/security-group-rules", body), 409, "SecurityGroupRuleExists");
  const nullBody = { security_group_rule: { ...body.security_group_rule, remote_group_id: null } };
  assertNeutronError(await post(m.token, "/security-group-rules", nullBody), 409, "SecurityGroupRuleExists");
});
