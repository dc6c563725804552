/**
 * The smaller Neutron resources: RBAC policies, agents and the DHCP agent scheduler,
 * availability zones, tags on every taggable resource, network IP availability and service
 * providers.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, test } from "node:test";
import { ManualClock } from "../../src/common/clock.js";
import { assertNeutronError, persona, startTestCloud, unique } from "../support/cloud.js";

const clock = new ManualClock();
const tc = await startTestCloud({}, { clock });
after(() => tc.close());
const N = "/networking/v2.0";
const admin = await tc.adminToken();


async function network(token: string, body: Record<string, unknown> = {}): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await tc.request("POST", `${N}/networks`, { token, body: { network: { name: unique("net"), ...body } } });
  assert.equal(r.status, 201, r.text);
  return r.body.network;
}

async function subnet(token: string, networkId: string, cidr: string, extra: Record<string, unknown> = {}): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await tc.request("POST", `${N}/subnets`, { token, body: { subnet: { network_id: networkId, cidr, ip_version: cidr.includes(":") ? 6 : 4, ...extra } } });
  assert.equal(r.status, 201, r.text);
  return r.body.subnet;
}

async function rbac(token: string, body: Record<string, unknown>): Promise<{ status: number; body: any; text: string }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return tc.request("POST", `${N}/rbac-policies`, { token, body: { rbac_policy: { object_type: "network", action: "access_as_shared", ...body } } });
}

// ---------------------------------------------------------------- RBAC policies

test("rbac: sharing a network with one project, who sees it and may put a port on it", async () => {
  const owner = await persona(tc, "member");
  const friend = await persona(tc, "member");
  const other = await persona(tc, "member");
  const net = await network(owner.token);
  assertNeutronError(await tc.request("GET", `${N}/networks/${net.id}`, { token: friend.token }), 404, "NetworkNotFound");

  const c = await rbac(owner.token, { object_id: net.id, target_tenant: friend.projectId });
  assert.equal(c.status, 201, c.text);
  const pol = c.body.rbac_policy;
  assert.deepEqual(Object.keys(pol).sort(), ["action", "id", "object_id", "object_type", "project_id", "target_tenant", "tenant_id"]);
  assert.equal(pol.project_id, owner.projectId);
  assert.equal(pol.tenant_id, owner.projectId);
  assert.equal(pol.target_tenant, friend.projectId);
  assert.equal(pol.object_type, "network");

  const seen = await tc.request("GET", `${N}/networks/${net.id}`, { token: friend.token });
  assert.equal(seen.status, 200);
  assert.equal(seen.body.network.shared, true, "shared as the target project sees it");
  assert.equal((await tc.request("GET", `${N}/networks/${net.id}`, { token: owner.token })).body.network.shared, false);
  assertNeutronError(await tc.request("GET", `${N}/networks/${net.id}`, { token: other.token }), 404, "NetworkNotFound");

  // The owner lists and shows its entry; the target project does not see it (Neutron's query scope).
  const mine = await tc.request("GET", `${N}/rbac-policies`, { token: owner.token });
  assert.deepEqual(mine.body.rbac_policies, [pol]);
  assert.deepEqual((await tc.request("GET", `${N}/rbac-policies/${pol.id}`, { token: owner.token })).body.rbac_policy, pol);
  assert.ok(!(await tc.request("GET", `${N}/rbac-policies`, { token: friend.token })).body.rbac_policies.some((p: { id: string }) => p.id === pol.id));
  assertNeutronError(
    await tc.request("GET", `${N}/rbac-policies/${pol.id}`, { token: friend.token }),
    404,
    "RbacPolicyNotFound",
    `RBAC policy of type unknown with ID ${pol.id} not found`,
  );

  // A port of the target project on the network keeps the entry alive.
  const port = await tc.request("POST", `${N}/ports`, { token: friend.token, body: { port: { network_id: net.id } } });
  assert.equal(port.status, 201, port.text);
  const busy = await tc.request("DELETE", `${N}/rbac-policies/${pol.id}`, { token: owner.token });
  assertNeutronError(busy, 409, "RbacPolicyInUse", new RegExp(`^RBAC policy on object ${net.id} cannot be removed because other objects depend on it\\.\\nDetails: .*Unable to reconfigure sharing settings for network ${net.id}\\. Multiple tenants are using it\\.`));
  const moved = await tc.request("PUT", `${N}/rbac-policies/${pol.id}`, { token: owner.token, body: { rbac_policy: { target_tenant: other.projectId } } });
  assertNeutronError(moved, 409, "RbacPolicyInUse");
  assert.equal((await tc.request("DELETE", `${N}/ports/${port.body.port.id}`, { token: friend.token })).status, 204);
  assert.equal((await tc.request("DELETE", `${N}/rbac-policies/${pol.id}`, { token: owner.token })).status, 204);
  assertNeutronError(await tc.request("GET", `${N}/networks/${net.id}`, { token: friend.token }), 404, "NetworkNotFound");
  assertNeutronError(await tc.request("GET", `${N}/rbac-policies/${pol.id}`, { token: owner.token }), 404, "RbacPolicyNotFound");
});

test("rbac: target update, duplicates, revisions, self-sharing", async () => {
  const owner = await persona(tc, "member");
  const a = await persona(tc, "member");
  const b = await persona(tc, "member");
  const net = await network(owner.token);
  const pol = (await rbac(owner.token, { object_id: net.id, target_tenant: a.projectId })).body.rbac_policy;
  assert.equal((await tc.request("GET", `${N}/networks/${net.id}`, { token: owner.token })).body.network.revision_number, 1, "an entry bumps the network's revision");

  assertNeutronError(await rbac(owner.token, { object_id: net.id, target_tenant: a.projectId }), 409, "DuplicateRbacPolicy", "An RBAC policy already exists with those values.");

  const u = await tc.request("PUT", `${N}/rbac-policies/${pol.id}`, { token: owner.token, body: { rbac_policy: { target_tenant: b.projectId } } });
  assert.equal(u.status, 200, u.text);
  assert.deepEqual(u.body.rbac_policy, { ...pol, target_tenant: b.projectId });
  assert.equal((await tc.request("GET", `${N}/networks/${net.id}`, { token: b.token })).status, 200);
  assert.equal((await tc.request("GET", `${N}/networks/${net.id}`, { token: a.token })).status, 404);
  assertNeutronError(await tc.request("PUT", `${N}/rbac-policies/${pol.id}`, { token: owner.token, body: { rbac_policy: { action: "access_as_external" } } }), 400);

  // Sharing with oneself is allowed, and removing it never conflicts with one's own ports.
  const self = await rbac(owner.token, { object_id: net.id, target_tenant: owner.projectId });
  assert.equal(self.status, 201);
  const port = await tc.request("POST", `${N}/ports`, { token: owner.token, body: { port: { network_id: net.id } } });
  assert.equal(port.status, 201, port.text);
  assert.equal((await tc.request("DELETE", `${N}/rbac-policies/${self.body.rbac_policy.id}`, { token: owner.token })).status, 204);
  assert.equal((await tc.request("DELETE", `${N}/ports/${port.body.port.id}`, { token: owner.token })).status, 204);
});

test("rbac: wildcard entries are admin-only, listed with the shared networks' own, and deleting one unshares", async () => {
  const m = await persona(tc, "member");
  const other = await persona(tc, "member");
  const net = await network(m.token);
  assertNeutronError(await rbac(m.token, { object_id: net.id, target_tenant: "*" }), 403, "PolicyNotAuthorized", "(rule:create_rbac_policy:target_tenant) is disallowed by policy");
  const pol = (await rbac(m.token, { object_id: net.id, target_tenant: other.projectId })).body.rbac_policy;
  assertNeutronError(await tc.request("PUT", `${N}/rbac-policies/${pol.id}`, { token: m.token, body: { rbac_policy: { target_tenant: "*" } } }), 403, "PolicyNotAuthorized");

  // A network created shared has a wildcard entry (owned by the network's project).
  const shared = await network(admin, { shared: true });
  const entries = await tc.request("GET", `${N}/rbac-policies?object_id=${shared.id}`, { token: admin });
  assert.equal(entries.status, 200);
  assert.equal(entries.body.rbac_policies.length, 1);
  const wildcard = entries.body.rbac_policies[0];
  assert.deepEqual(
    { ...wildcard, id: "x" },
    { id: "x", object_type: "network", object_id: shared.id, action: "access_as_shared", target_tenant: "*", project_id: shared.project_id, tenant_id: shared.project_id },
  );
  assert.equal((await tc.request("GET", `${N}/networks/${shared.id}`, { token: other.token })).body.network.shared, true);
  const filtered = await tc.request("GET", `${N}/rbac-policies?target_tenant=*&action=access_as_shared&fields=id&fields=target_tenant`, { token: admin });
  assert.ok(filtered.body.rbac_policies.some((p: { id: string }) => p.id === wildcard.id));
  assert.ok(filtered.body.rbac_policies.every((p: Record<string, unknown>) => Object.keys(p).sort().join() === "id,target_tenant"));

  assert.equal((await tc.request("DELETE", `${N}/rbac-policies/${wildcard.id}`, { token: admin })).status, 204);
  assertNeutronError(await tc.request("GET", `${N}/networks/${shared.id}`, { token: other.token }), 404, "NetworkNotFound");
  assert.equal((await tc.request("GET", `${N}/networks/${shared.id}`, { token: admin })).body.network.shared, false);

  // An admin's wildcard shares it again.
  const again = await rbac(admin, { object_id: shared.id, target_tenant: "*" });
  assert.equal(again.status, 201);
  assert.equal((await tc.request("GET", `${N}/networks/${shared.id}`, { token: other.token })).body.network.shared, true);
});

test("rbac: refusals as Neutron words them", async () => {
  const owner = await persona(tc, "member");
  const other = await persona(tc, "member");
  const net = await network(owner.token);
  // Another project's network, even one shared with it: the plugin's callbacks refuse (400).
  await rbac(owner.token, { object_id: net.id, target_tenant: other.projectId });
  assertNeutronError(await rbac(other.token, { object_id: net.id, target_tenant: other.projectId }), 400, "InvalidInput", /Only admins can manipulate policies on networks they do not own/);
  assertNeutronError(await rbac(other.token, { object_id: randomUUID(), target_tenant: owner.projectId }), 400, "InvalidInput", /Network [0-9a-f-]+ could not be found/);
  assertNeutronError(await rbac(owner.token, { object_type: "bogus", object_id: net.id, target_tenant: other.projectId }), 400, "InvalidInput", "Invalid input for operation: 'bogus' is not a valid RBAC object type.");
  assert.equal((await rbac(owner.token, { object_type: " Network ", object_id: net.id, target_tenant: randomUUID() })).status, 201, "object_type is normalised");
  assertNeutronError(
    await rbac(owner.token, { object_id: net.id, target_tenant: other.projectId, action: "access_as_owner" }),
    400,
    "InvalidActionForType",
    "Invalid action 'access_as_owner' for object type 'network'. Valid actions: ('access_as_shared', 'access_as_external')",
  );
  assertNeutronError(await rbac(owner.token, { object_id: net.id, target_tenant: "1234".repeat(100) }), 400, "InvalidInput", /is not a valid target project ID; expected a UUID or '\*'/);
  assertNeutronError(await rbac(owner.token, { object_id: net.id, target_tenant: null }), 400, "InvalidInput");
  assertNeutronError(await rbac(owner.token, { object_id: "nope", target_tenant: other.projectId }), 400);
  assertNeutronError(await rbac(owner.token, { object_id: net.id }), 400, undefined, "Failed to parse request. Required attribute 'target_tenant' not specified");
  assertNeutronError(await tc.request("GET", `${N}/rbac-policies?sort_key=id&sort_dir=asc`, { token: owner.token }), 400);
  assertNeutronError(await tc.request("GET", `${N}/rbac-policies?bogus=1`, { token: owner.token }), 400);
  // Neutron serves this collection without pagination: limit is ignored, no links.
  const all = await tc.request("GET", `${N}/rbac-policies?limit=1`, { token: owner.token });
  assert.equal(all.status, 200);
  assert.equal(all.body.rbac_policies.length, 2);
  assert.equal(all.body.rbac_policies_links, undefined);
  // Readers see, members change.
  const reader = await persona(tc, "reader", { projectId: owner.projectId });
  const pols = (await tc.request("GET", `${N}/rbac-policies`, { token: reader.token })).body.rbac_policies;
  assert.equal(pols.length, 2);
  assertNeutronError(await tc.request("DELETE", `${N}/rbac-policies/${pols[0].id}`, { token: reader.token }), 403, "PolicyNotAuthorized");
  assertNeutronError(await tc.request("DELETE", `${N}/rbac-policies/${pols[0].id}`, { token: other.token }), 404, "RbacPolicyNotFound");
});

test("rbac: access_as_external makes the network external; removing the last entry makes it internal", async () => {
  const m = await persona(tc, "member");
  const net = await network(admin);
  const c = await rbac(admin, { object_id: net.id, action: "access_as_external", target_tenant: m.projectId });
  assert.equal(c.status, 201, c.text);
  const seen = await tc.request("GET", `${N}/networks/${net.id}`, { token: m.token });
  assert.equal(seen.status, 200);
  assert.equal(seen.body.network["router:external"], true);
  assert.equal(seen.body.network.shared, false);
  assert.equal((await tc.request("DELETE", `${N}/rbac-policies/${c.body.rbac_policy.id}`, { token: admin })).status, 204);
  assert.equal((await tc.request("GET", `${N}/networks/${net.id}`, { token: admin })).body.network["router:external"], false);
  assertNeutronError(await tc.request("GET", `${N}/networks/${net.id}`, { token: m.token }), 404);
});

test("rbac: subnet pools and address scopes are shared the same way", async () => {
  const owner = await persona(tc, "member");
  const other = await persona(tc, "member");
  const pool = (await tc.request("POST", `${N}/subnetpools`, { token: owner.token, body: { subnetpool: { name: unique("sp"), prefixes: ["10.210.0.0/16"], default_prefixlen: 24 } } })).body.subnetpool;
  assertNeutronError(await tc.request("GET", `${N}/subnetpools/${pool.id}`, { token: other.token }), 404);
  const pol = await rbac(owner.token, { object_type: "subnetpool", object_id: pool.id, target_tenant: other.projectId });
  assert.equal(pol.status, 201, pol.text);
  assert.equal((await tc.request("GET", `${N}/subnetpools/${pool.id}`, { token: other.token })).status, 200);
  assertNeutronError(
    await rbac(owner.token, { object_type: "subnetpool", object_id: pool.id, target_tenant: other.projectId, action: "access_as_external" }),
    400,
    "InvalidActionForType",
    "Invalid action 'access_as_external' for object type 'subnetpool'. Valid actions: ('access_as_shared',)",
  );
  // A subnet of the other project allocated from the pool keeps the entry in use.
  const net = await network(other.token);
  const sub = await tc.request("POST", `${N}/subnets`, { token: other.token, body: { subnet: { network_id: net.id, subnetpool_id: pool.id, ip_version: 4 } } });
  assert.equal(sub.status, 201, sub.text);
  assertNeutronError(await tc.request("DELETE", `${N}/rbac-policies/${pol.body.rbac_policy.id}`, { token: owner.token }), 409, "RbacPolicyInUse", /Details: .*project_id=/);
  assert.equal((await tc.request("DELETE", `${N}/subnets/${sub.body.subnet.id}`, { token: other.token })).status, 204);
  assert.equal((await tc.request("DELETE", `${N}/rbac-policies/${pol.body.rbac_policy.id}`, { token: owner.token })).status, 204);
  assertNeutronError(await tc.request("GET", `${N}/subnetpools/${pool.id}`, { token: other.token }), 404);

  const scope = (await tc.request("POST", `${N}/address-scopes`, { token: owner.token, body: { address_scope: { name: unique("as"), ip_version: 4 } } })).body.address_scope;
  const sp = await rbac(owner.token, { object_type: "address_scope", object_id: scope.id, target_tenant: other.projectId });
  assert.equal(sp.status, 201, sp.text);
  const seen = await tc.request("GET", `${N}/address-scopes/${scope.id}`, { token: other.token });
  assert.equal(seen.status, 200);
  assert.equal(seen.body.address_scope.shared, true);
  // Sharing a pool of a scope the target cannot reach is refused.
  const scoped = (await tc.request("POST", `${N}/subnetpools`, { token: owner.token, body: { subnetpool: { name: unique("sp"), prefixes: ["10.211.0.0/16"], address_scope_id: scope.id } } })).body.subnetpool;
  const third = await persona(tc, "member");
  assertNeutronError(
    await rbac(owner.token, { object_type: "subnetpool", object_id: scoped.id, target_tenant: third.projectId }),
    400,
    "InvalidInput",
    /target project doesn't have access to associated address scope/,
  );
  assert.equal((await rbac(owner.token, { object_type: "subnetpool", object_id: scoped.id, target_tenant: other.projectId })).status, 201);
  assertNeutronError(await rbac(owner.token, { object_type: "security_group", object_id: scope.id, target_tenant: other.projectId }), 400, "InvalidInput", "Invalid input for operation: 'security_group' is not a valid RBAC object type.");
});

test("rbac: the rbac_policy quota", async () => {
  const m = await persona(tc, "member");
  const q = await tc.request("PUT", `${N}/quotas/${m.projectId}`, { token: admin, body: { quota: { rbac_policy: 2 } } });
  assert.equal(q.status, 200);
  const net = await network(m.token);
  for (let i = 0; i < 2; i++) assert.equal((await rbac(m.token, { object_id: net.id, target_tenant: randomUUID().replace(/-/g, "") })).status, 201);
  assertNeutronError(await rbac(m.token, { object_id: net.id, target_tenant: randomUUID() }), 409, "OverQuota");
});

// ---------------------------------------------------------------- agents and the DHCP scheduler

test("agents: the backend's agents, admin-only, updates stick", async () => {
  const list = await tc.request("GET", `${N}/agents`, { token: admin });
  assert.equal(list.status, 200);
  const types = list.body.agents.map((a: { agent_type: string }) => a.agent_type).sort();
  assert.deepEqual(types, ["DHCP agent", "L3 agent", "Metadata agent", "Open vSwitch agent"]);
  const dhcp = list.body.agents.find((a: { agent_type: string }) => a.agent_type === "DHCP agent");
  assert.deepEqual(Object.keys(dhcp).sort(), [
    "admin_state_up", "agent_type", "alive", "availability_zone", "binary", "configurations", "created_at", "description",
    "heartbeat_timestamp", "host", "id", "resources_synced", "started_at", "topic",
  ]);
  assert.equal(dhcp.binary, "neutron-dhcp-agent");
  assert.equal(dhcp.topic, "dhcp_agent");
  assert.equal(dhcp.alive, true);
  assert.equal(dhcp.availability_zone, "nova");
  assert.equal(dhcp.description, null);
  assert.match(dhcp.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.match(dhcp.heartbeat_timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  const again = await tc.request("GET", `${N}/agents`, { token: admin });
  assert.deepEqual(again.body.agents.map((a: { id: string }) => a.id).sort(), list.body.agents.map((a: { id: string }) => a.id).sort(), "registered once");

  const byType = await tc.request("GET", `${N}/agents?agent_type=L3%20agent&fields=id&fields=agent_type`, { token: admin });
  assert.equal(byType.body.agents.length, 1);
  assert.deepEqual(Object.keys(byType.body.agents[0]).sort(), ["agent_type", "id"]);
  assert.equal((await tc.request("GET", `${N}/agents?alive=true&admin_state_up=true`, { token: admin })).body.agents.length, 4);
  assertNeutronError(await tc.request("GET", `${N}/agents?bogus=1`, { token: admin }), 400);
  // No pagination or sorting on this collection in Neutron: ignored.
  assert.equal((await tc.request("GET", `${N}/agents?limit=1&sort_key=bogus&sort_dir=asc`, { token: admin })).body.agents.length, 4);

  const metadata = list.body.agents.find((a: { agent_type: string }) => a.agent_type === "Metadata agent");
  const u = await tc.request("PUT", `${N}/agents/${metadata.id}`, { token: admin, body: { agent: { admin_state_up: false, description: "maintenance" } } });
  assert.equal(u.status, 200, u.text);
  assert.equal(u.body.agent.admin_state_up, false);
  assert.equal(u.body.agent.description, "maintenance");
  const shown = await tc.request("GET", `${N}/agents/${metadata.id}`, { token: admin });
  assert.equal(shown.body.agent.admin_state_up, false);
  assert.equal(shown.body.agent.description, "maintenance");
  assertNeutronError(await tc.request("PUT", `${N}/agents/${metadata.id}`, { token: admin, body: { agent: { host: "x" } } }), 400, undefined, "Cannot update read-only attribute host");
  assertNeutronError(await tc.request("POST", `${N}/agents`, { token: admin, body: { agent: {} } }), 405);
  assert.equal((await tc.request("PUT", `${N}/agents/${metadata.id}`, { token: admin, body: { agent: { admin_state_up: true, description: null } } })).status, 200);

  const m = await persona(tc, "member");
  const ml = await tc.request("GET", `${N}/agents`, { token: m.token });
  assert.equal(ml.status, 200);
  assert.deepEqual(ml.body.agents, [], "a member lists no agents (tempest test_list_agents_non_admin)");
  assertNeutronError(await tc.request("GET", `${N}/agents/${metadata.id}`, { token: m.token }), 404, "AgentNotFound");
  assertNeutronError(await tc.request("PUT", `${N}/agents/${metadata.id}`, { token: m.token, body: { agent: { description: "x" } } }), 404);
  assertNeutronError(await tc.request("DELETE", `${N}/agents/${metadata.id}`, { token: m.token }), 404);
  assertNeutronError(await tc.request("GET", `${N}/agents/${randomUUID()}`, { token: admin }), 404, "AgentNotFound");
});

test("agents: a deleted agent that still runs registers again with its next state report", async () => {
  const list = (await tc.request("GET", `${N}/agents?agent_type=Open%20vSwitch%20agent`, { token: admin })).body.agents;
  const ovs = list[0];
  assert.equal((await tc.request("DELETE", `${N}/agents/${ovs.id}`, { token: admin })).status, 204);
  assertNeutronError(await tc.request("GET", `${N}/agents/${ovs.id}`, { token: admin }), 404, "AgentNotFound");
  assertNeutronError(await tc.request("DELETE", `${N}/agents/${ovs.id}`, { token: admin }), 404, "AgentNotFound");
  assert.equal((await tc.request("GET", `${N}/agents?agent_type=Open%20vSwitch%20agent`, { token: admin })).body.agents.length, 0);
  clock.advance(31_000);
  const back = (await tc.request("GET", `${N}/agents?agent_type=Open%20vSwitch%20agent`, { token: admin })).body.agents;
  assert.equal(back.length, 1);
  assert.notEqual(back[0].id, ovs.id);
  assert.equal(back[0].host, ovs.host);
});

test("dhcp agent scheduler: a network with a DHCP subnet is hosted; admins move it", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const dhcpAgent = (await tc.request("GET", `${N}/agents?agent_type=DHCP%20agent`, { token: admin })).body.agents[0];
  const hosting = async (): Promise<string[]> =>
    (await tc.request("GET", `${N}/networks/${net.id}/dhcp-agents`, { token: admin })).body.agents.map((a: { id: string }) => a.id);
  const hosted = async (): Promise<string[]> =>
    (await tc.request("GET", `${N}/agents/${dhcpAgent.id}/dhcp-networks`, { token: admin })).body.networks.map((n: { id: string }) => n.id);
  assert.deepEqual(await hosting(), []);
  await subnet(m.token, net.id, "10.61.0.0/24");
  assert.deepEqual(await hosting(), [dhcpAgent.id]);
  assert.ok((await hosted()).includes(net.id));

  const del = await tc.request("DELETE", `${N}/agents/${dhcpAgent.id}/dhcp-networks/${net.id}`, { token: admin });
  assert.equal(del.status, 204);
  assert.deepEqual(await hosting(), []);
  assert.ok(!(await hosted()).includes(net.id));
  assertNeutronError(await tc.request("DELETE", `${N}/agents/${dhcpAgent.id}/dhcp-networks/${net.id}`, { token: admin }), 409, "NetworkNotHostedByDhcpAgent");

  const add = await tc.request("POST", `${N}/agents/${dhcpAgent.id}/dhcp-networks`, { token: admin, body: { network_id: net.id } });
  assert.equal(add.status, 201, add.text);
  assert.equal(add.text, "");
  assert.deepEqual(await hosting(), [dhcpAgent.id]);
  assertNeutronError(await tc.request("POST", `${N}/agents/${dhcpAgent.id}/dhcp-networks`, { token: admin, body: { network_id: net.id } }), 409, "NetworkHostedByDHCPAgent");

  const l3 = (await tc.request("GET", `${N}/agents?agent_type=L3%20agent`, { token: admin })).body.agents[0];
  assertNeutronError(await tc.request("POST", `${N}/agents/${l3.id}/dhcp-networks`, { token: admin, body: { network_id: net.id } }), 404, "InvalidDHCPAgent");
  assertNeutronError(await tc.request("POST", `${N}/agents/${dhcpAgent.id}/dhcp-networks`, { token: admin, body: { network_id: randomUUID() } }), 404, "NetworkNotFound");
  assertNeutronError(await tc.request("GET", `${N}/agents/${randomUUID()}/dhcp-networks`, { token: admin }), 404, "AgentNotFound");
  assert.deepEqual((await tc.request("GET", `${N}/networks/${randomUUID()}/dhcp-agents`, { token: admin })).body, { agents: [] });

  assertNeutronError(await tc.request("GET", `${N}/networks/${net.id}/dhcp-agents`, { token: m.token }), 403, "PolicyNotAuthorized");
  assertNeutronError(await tc.request("GET", `${N}/agents/${dhcpAgent.id}/dhcp-networks`, { token: m.token }), 403);
  assertNeutronError(await tc.request("POST", `${N}/agents/${dhcpAgent.id}/dhcp-networks`, { token: m.token, body: { network_id: net.id } }), 403);

  // A network without subnets is hosted only once placed.
  const bare = await network(m.token);
  assert.equal((await tc.request("POST", `${N}/agents/${dhcpAgent.id}/dhcp-networks`, { token: admin, body: { network_id: bare.id } })).status, 201);
  assert.ok((await hosted()).includes(bare.id));
  assert.equal((await tc.request("DELETE", `${N}/agents/${dhcpAgent.id}/dhcp-networks/${bare.id}`, { token: admin })).status, 204);
  assert.ok(!(await hosted()).includes(bare.id));
});

// ---------------------------------------------------------------- availability zones, service providers

test("availability zones follow the agents' zones and states", async () => {
  const m = await persona(tc, "member");
  const r = await tc.request("GET", `${N}/availability_zones`, { token: m.token });
  assert.equal(r.status, 200);
  assert.deepEqual(
    [...r.body.availability_zones].sort((a: { resource: string }, b: { resource: string }) => a.resource.localeCompare(b.resource)),
    [
      { name: "nova", resource: "network", state: "available" },
      { name: "nova", resource: "router", state: "available" },
    ],
  );
  assert.deepEqual((await tc.request("GET", `${N}/availability_zones?resource=router&fields=name`, { token: m.token })).body, { availability_zones: [{ name: "nova" }] });
  assertNeutronError(await tc.request("GET", `${N}/availability_zones?bogus=1`, { token: m.token }), 400);

  const dhcp = (await tc.request("GET", `${N}/agents?agent_type=DHCP%20agent`, { token: admin })).body.agents[0];
  await tc.request("PUT", `${N}/agents/${dhcp.id}`, { token: admin, body: { agent: { admin_state_up: false } } });
  try {
    const down = await tc.request("GET", `${N}/availability_zones?state=unavailable`, { token: admin });
    assert.deepEqual(down.body.availability_zones, [{ name: "nova", resource: "network", state: "unavailable" }]);
  } finally {
    await tc.request("PUT", `${N}/agents/${dhcp.id}`, { token: admin, body: { agent: { admin_state_up: true } } });
  }
});

test("service providers: the router plugin's L3 providers", async () => {
  const m = await persona(tc, "member");
  const r = await tc.request("GET", `${N}/service-providers`, { token: m.token });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.service_providers.map((p: { name: string }) => p.name), ["dvrha", "dvr", "ha", "single_node"]);
  assert.deepEqual(r.body.service_providers[0], { service_type: "L3_ROUTER_NAT", name: "dvrha", default: false });
  assert.equal((await tc.request("GET", `${N}/service-providers?name=ha`, { token: m.token })).body.service_providers.length, 1);
  assert.equal((await tc.request("GET", `${N}/service-providers?whatever=1`, { token: m.token })).status, 200, "not filter-validated");
});

// ---------------------------------------------------------------- tags

test("tags: replace, add, confirm, remove, clear on a network; list filters; revisions", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const T = `${N}/networks/${net.id}/tags`;
  const red = unique("red");
  const blue = unique("blue");
  const green = unique("green");

  const put = await tc.request("PUT", T, { token: m.token, body: { tags: [red, blue] } });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.body, { tags: [red, blue] });
  const shown = (await tc.request("GET", `${N}/networks/${net.id}`, { token: m.token })).body.network;
  assert.deepEqual([...shown.tags].sort(), [red, blue].sort());
  assert.equal(shown.revision_number, 1);
  assert.deepEqual([...(await tc.request("GET", T, { token: m.token })).body.tags].sort(), [red, blue].sort());

  const one = await tc.request("PUT", `${T}/${green}`, { token: m.token });
  assert.equal(one.status, 201);
  assert.equal(one.text, "");
  assert.equal((await tc.request("PUT", `${T}/${green}`, { token: m.token })).status, 201, "idempotent");
  assert.equal((await tc.request("GET", `${N}/networks/${net.id}`, { token: m.token })).body.network.revision_number, 2, "no revision for a tag already set");
  assert.equal((await tc.request("GET", `${T}/${green}`, { token: m.token })).status, 204);
  assertNeutronError(await tc.request("GET", `${T}/absent`, { token: m.token }), 404, "TagNotFound", "Tag absent could not be found.");

  // List filters over tags.
  const other = await network(m.token);
  await tc.request("PUT", `${N}/networks/${other.id}/tags`, { token: m.token, body: { tags: [red] } });
  const ids = async (q: string): Promise<string[]> =>
    (await tc.request("GET", `${N}/networks?${q}`, { token: m.token })).body.networks
      .map((n: { id: string }) => n.id)
      .filter((id: string) => id === net.id || id === other.id) // shared and external networks of others are listed too
      .sort();
  assert.deepEqual(await ids(`tags=${red},${blue}`), [net.id]);
  assert.deepEqual(await ids(`tags-any=${red},${blue}`), [net.id, other.id].sort());
  assert.deepEqual(await ids(`not-tags=${red},${blue}`), [other.id]);
  assert.deepEqual(await ids(`not-tags-any=${blue}`), [other.id]);

  assert.equal((await tc.request("DELETE", `${T}/${red}`, { token: m.token })).status, 204);
  assertNeutronError(await tc.request("DELETE", `${T}/${red}`, { token: m.token }), 404, "TagNotFound");
  assert.deepEqual([...(await tc.request("GET", T, { token: m.token })).body.tags].sort(), [blue, green].sort());

  const post = await tc.request("POST", T, { token: m.token, body: { tags: [blue, "new-one"] } });
  assert.equal(post.status, 201, post.text);
  assert.deepEqual(post.body, { tags: [blue, "new-one"] });
  assert.deepEqual([...(await tc.request("GET", T, { token: m.token })).body.tags].sort(), [blue, green, "new-one"].sort());

  assert.equal((await tc.request("DELETE", T, { token: m.token })).status, 204);
  assert.deepEqual((await tc.request("GET", T, { token: m.token })).body, { tags: [] });
});

test("tags: on subnets, ports, security groups and subnet pools too", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const sub = await subnet(m.token, net.id, "10.62.0.0/24");
  const port = (await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.id } } })).body.port;
  const sg = (await tc.request("POST", `${N}/security-groups`, { token: m.token, body: { security_group: { name: unique("sg") } } })).body.security_group;
  const pool = (await tc.request("POST", `${N}/subnetpools`, { token: m.token, body: { subnetpool: { name: unique("sp"), prefixes: ["10.200.0.0/16"] } } })).body.subnetpool;
  for (const [collection, singular, id] of [
    ["subnets", "subnet", sub.id],
    ["ports", "port", port?.id],
    ["security-groups", "security_group", sg?.id],
    ["subnetpools", "subnetpool", pool?.id],
  ] as const) {
    assert.ok(id, `${collection} fixture`);
    const tag = unique("t");
    assert.equal((await tc.request("PUT", `${N}/${collection}/${id}/tags/${tag}`, { token: m.token })).status, 201, collection);
    assert.deepEqual((await tc.request("GET", `${N}/${collection}/${id}/tags`, { token: m.token })).body, { tags: [tag] });
    const shown = await tc.request("GET", `${N}/${collection}/${id}`, { token: m.token });
    assert.deepEqual(shown.body[singular].tags, [tag], collection);
    assert.equal((await tc.request("DELETE", `${N}/${collection}/${id}/tags/${tag}`, { token: m.token })).status, 204);
  }
});

test("tags: validation, missing resources, policy", async () => {
  const m = await persona(tc, "member");
  const stranger = await persona(tc, "member");
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  const net = await network(m.token);
  const T = `${N}/networks/${net.id}/tags`;
  assertNeutronError(await tc.request("PUT", T, { token: m.token, body: { tag: ["x"] } }), 400, "InvalidInput", "Invalid input for operation: Invalid tags body.");
  assertNeutronError(await tc.request("PUT", T, { token: m.token, body: { tags: "x" } }), 400, "InvalidInput", "Invalid input for operation: 'x' is not a list.");
  assertNeutronError(await tc.request("PUT", T, { token: m.token, body: { tags: ["a", "a"] } }), 400, "InvalidInput", "Invalid input for operation: Duplicate items in the list: 'a'.");
  assertNeutronError(await tc.request("PUT", T, { token: m.token, body: { tags: [1] } }), 400, "InvalidInput", "Invalid input for operation: '1' is not a valid string.");
  assertNeutronError(await tc.request("PUT", `${T}/${"x".repeat(256)}`, { token: m.token }), 400, "InvalidInput", /exceeds maximum length of 255/);
  const many = Array.from({ length: 51 }, (_, i) => `t${i}`);
  assertNeutronError(await tc.request("PUT", T, { token: m.token, body: { tags: many } }), 400, "BadRequest", "Bad networks request: The number of tags exceed the per-resource limit of 50.");
  assert.equal((await tc.request("PUT", T, { token: m.token, body: { tags: many.slice(0, 50) } })).status, 200);
  assertNeutronError(await tc.request("PUT", `${T}/one-more`, { token: m.token }), 400, "BadRequest");
  assert.equal((await tc.request("DELETE", T, { token: m.token })).status, 204);

  const missing = randomUUID();
  assertNeutronError(await tc.request("GET", `${N}/networks/${missing}/tags`, { token: m.token }), 404, "TagResourceNotFound", `Resource networks ${missing} could not be found.`);
  assertNeutronError(await tc.request("PUT", `${N}/security-groups/${missing}/tags/x`, { token: m.token }), 404, "TagResourceNotFound", `Resource security_groups ${missing} could not be found.`);

  // `<action>_network:tags` on the network itself: readers read, strangers are refused.
  assert.equal((await tc.request("GET", T, { token: reader.token })).status, 200);
  assertNeutronError(await tc.request("PUT", `${T}/x`, { token: reader.token }), 403, "PolicyNotAuthorized", "(rule:update_network:tags) is disallowed by policy");
  assertNeutronError(await tc.request("GET", T, { token: stranger.token }), 403, "PolicyNotAuthorized");
  assertNeutronError(await tc.request("DELETE", T, { token: stranger.token }), 403, "PolicyNotAuthorized");
  // A network shared with the stranger: its tags are readable, not writable.
  const shared = await network(admin, { shared: true });
  assert.equal((await tc.request("GET", `${N}/networks/${shared.id}/tags`, { token: stranger.token })).status, 200);
  assertNeutronError(await tc.request("PUT", `${N}/networks/${shared.id}/tags/x`, { token: stranger.token }), 403);
});

// ---------------------------------------------------------------- network IP availability

test("network IP availability: pool sizes and allocations per subnet, admin only", async () => {
  const m = await persona(tc, "member");
  const net = await network(m.token);
  const v4 = await subnet(m.token, net.id, "10.63.0.0/24", { allocation_pools: [{ start: "10.63.0.10", end: "10.63.0.19" }], enable_dhcp: false });
  const v6 = await subnet(m.token, net.id, "2001:db8:63::/64", { enable_dhcp: false });
  for (let i = 0; i < 3; i++) {
    const p = await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.id, fixed_ips: [{ subnet_id: v4.id }] } } });
    assert.equal(p.status, 201, p.text);
  }
  const r = await tc.request("GET", `${N}/network-ip-availabilities/${net.id}`, { token: admin });
  assert.equal(r.status, 200, r.text);
  // An IPv6 /64's pools hold about 2^64 addresses: printed exactly, as Python prints an int.
  assert.equal(v6.allocation_pools.length, 1);
  assert.match(v6.allocation_pools[0].end, /:ffff:ffff:ffff:ffff$/);
  const v6total = (1n << 64n) - 1n - BigInt(`0x${(v6.allocation_pools[0].start as string).split(":").pop()}`) + 1n;
  assert.match(r.text, new RegExp(`"total_ips":${(v6total + 10n).toString()}\\b`));
  const a = r.body.network_ip_availability;
  assert.deepEqual(Object.keys(a).sort(), ["network_id", "network_name", "project_id", "subnet_ip_availability", "tenant_id", "total_ips", "used_ips"]);
  assert.equal(a.network_id, net.id);
  assert.equal(a.network_name, net.name);
  assert.equal(a.project_id, m.projectId);
  assert.equal(a.used_ips, 3);
  const s4 = a.subnet_ip_availability.find((s: { subnet_id: string }) => s.subnet_id === v4.id);
  assert.deepEqual(s4, { subnet_id: v4.id, subnet_name: "", cidr: "10.63.0.0/24", ip_version: 4, total_ips: 10, used_ips: 3 });
  assert.match(r.text, new RegExp(`"subnet_id":"${v6.id}"[^}]*"total_ips":${v6total.toString()}\\b`));

  const v4only = await tc.request("GET", `${N}/network-ip-availabilities?network_id=${net.id}&ip_version=4`, { token: admin });
  assert.equal(v4only.body.network_ip_availabilities.length, 1);
  assert.equal(v4only.body.network_ip_availabilities[0].total_ips, 10);
  assert.equal(v4only.body.network_ip_availabilities[0].subnet_ip_availability.length, 1);
  const byName = await tc.request("GET", `${N}/network-ip-availabilities?network_name=${net.name}&fields=used_ips`, { token: admin });
  assert.deepEqual(byName.body, { network_ip_availabilities: [{ used_ips: 3 }] });
  const bare = await network(m.token);
  const empty = await tc.request("GET", `${N}/network-ip-availabilities?network_id=${bare.id}`, { token: admin });
  assert.deepEqual(empty.body.network_ip_availabilities[0].subnet_ip_availability, []);
  assert.equal(empty.body.network_ip_availabilities[0].total_ips, 0);
  assert.equal((await tc.request("GET", `${N}/network-ip-availabilities?network_id=${bare.id}&ip_version=6`, { token: admin })).body.network_ip_availabilities.length, 0);
  const page = await tc.request("GET", `${N}/network-ip-availabilities?limit=1&sort_key=network_id&sort_dir=asc`, { token: admin });
  assert.equal(page.body.network_ip_availabilities.length, 1);
  assert.ok(Array.isArray(page.body.network_ip_availabilities_links));

  assert.deepEqual((await tc.request("GET", `${N}/network-ip-availabilities`, { token: m.token })).body, { network_ip_availabilities: [] });
  assertNeutronError(await tc.request("GET", `${N}/network-ip-availabilities/${net.id}`, { token: m.token }), 404, "NetworkNotFound");
  assertNeutronError(await tc.request("GET", `${N}/network-ip-availabilities/${randomUUID()}`, { token: admin }), 404, "NetworkNotFound");
  assertNeutronError(await tc.request("GET", `${N}/network-ip-availabilities?subnet_id=x`, { token: admin }), 400);
});

test("extensions: the aliases of these resources are advertised", async () => {
  const r = await tc.request("GET", `${N}/extensions`, { token: admin });
  const aliases = r.body.extensions.map((e: { alias: string }) => e.alias);
  for (const a of ["rbac-policies", "agent", "dhcp_agent_scheduler", "availability_zone", "standard-attr-tag", "tag-creation", "network-ip-availability", "service-type"]) {
    assert.ok(aliases.includes(a), a);
  }
  assert.ok(!aliases.includes("l3_agent_scheduler"), "not built");
});
