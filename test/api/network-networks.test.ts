/**
 * Networks, and through them the generic Neutron controller (api/resource.ts): validation
 * messages, attribute policies, per-project visibility, fields/filters/sorting/pagination,
 * If-Match, bulk create, quotas, extensions and version documents.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { assertNeutronError, persona, startTestCloud, unique } from "../support/cloud.js";

const tc = await startTestCloud();
after(() => tc.close());
const N = "/networking/v2.0";


test("version documents", async () => {
  const root = await tc.request("GET", "/networking/");
  assert.equal(root.status, 200);
  assert.equal(root.body.versions[0].id, "v2.0");
  assert.equal(root.body.versions[0].status, "CURRENT");
  const v2 = await tc.request("GET", "/networking/v2.0/");
  assert.ok(v2.body.resources.some((r: { name: string }) => r.name === "network"));
});

test("the public network exists at first start, external, admin-owned", async () => {
  const admin = await tc.adminToken();
  const r = await tc.request("GET", `${N}/networks?router:external=true`, { token: admin });
  assert.equal(r.status, 200);
  const pub = r.body.networks.find((n: { name: string }) => n.name === "public");
  assert.ok(pub);
  assert.equal(pub["provider:network_type"], "flat");
  const m = await persona(tc, "member");
  const seen = await tc.request("GET", `${N}/networks/${pub.id}`, { token: m.token });
  assert.equal(seen.status, 200, "external networks are visible to every project");
  assert.equal(seen.body.network["router:external"], true);
  assert.equal(seen.body.network["provider:network_type"], undefined, "provider attributes are admin-only");
});

test("create, show, update, delete a network as a member", async () => {
  const m = await persona(tc, "member");
  const name = unique("net");
  const c = await tc.request("POST", `${N}/networks`, { token: m.token, body: { network: { name } } });
  assert.equal(c.status, 201);
  const net = c.body.network;
  assert.equal(net.name, name);
  assert.equal(net.admin_state_up, true);
  assert.equal(net.status, "ACTIVE");
  assert.equal(net.shared, false);
  assert.equal(net.mtu, 1450);
  assert.equal(net.project_id, m.projectId);
  assert.equal(net.tenant_id, m.projectId);
  assert.equal(net.revision_number, 0);
  assert.deepEqual(net.subnets, []);
  assert.deepEqual(net.tags, []);
  assert.match(net.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(net["provider:network_type"], undefined);

  const u = await tc.request("PUT", `${N}/networks/${net.id}`, { token: m.token, body: { network: { name: `${name}-2`, admin_state_up: "false" } } });
  assert.equal(u.status, 200);
  assert.equal(u.body.network.name, `${name}-2`);
  assert.equal(u.body.network.admin_state_up, false, "Neutron converts 'false' to a boolean");
  assert.equal(u.body.network.revision_number, 1);

  const d = await tc.request("DELETE", `${N}/networks/${net.id}`, { token: m.token });
  assert.equal(d.status, 204);
  assertNeutronError(await tc.request("GET", `${N}/networks/${net.id}`, { token: m.token }), 404, "NetworkNotFound");
});

test("bad input answers 400 in the Neutron shape and writes nothing", async () => {
  const m = await persona(tc, "member");
  const cases: Array<[unknown, string]> = [
    [{ network: { name: "x", bogus: 1 } }, "Unrecognized attribute(s) 'bogus'"],
    [{ network: { status: "DOWN" } }, "Attribute 'status' not allowed in POST"],
    [{ network: { admin_state_up: "maybe" } }, "Invalid input for admin_state_up."],
    [{ network: { name: 5 } }, "Invalid input for name."],
    [{ network: { name: "x".repeat(256) } }, "exceeds maximum length of 255"],
    [{ network: { mtu: "big" } }, "Invalid input for mtu."],
    [{ nothing: {} }, "Unable to find 'network' in request body"],
    [{ network: "x" }, "Unable to find 'network' in request body"],
    [{ networks: [] }, "Resources required"],
  ];
  for (const [body, msg] of cases) {
    const r = await tc.request("POST", `${N}/networks`, { token: m.token, body });
    assertNeutronError(r, 400);
    assert.ok(r.body.NeutronError.message.includes(msg), `${JSON.stringify(body)} → ${r.body.NeutronError.message}`);
  }
  const list = await tc.request("GET", `${N}/networks?project_id=${m.projectId}`, { token: m.token });
  assert.equal(list.body.networks.length, 0);
  const bad = await fetch(`${tc.url}${N}/networks`, { method: "POST", headers: { "x-auth-token": m.token, "content-type": "application/json" }, body: "{nope" });
  assertNeutronError({ status: bad.status, body: await bad.json() }, 400);
});

test("attribute policies: members cannot create shared, external or provider networks", async () => {
  const m = await persona(tc, "member");
  for (const extra of [{ shared: true }, { "router:external": true }, { "provider:network_type": "vxlan" }]) {
    const r = await tc.request("POST", `${N}/networks`, { token: m.token, body: { network: { name: unique("n"), ...extra } } });
    assertNeutronError(r, 403, "PolicyNotAuthorized");
  }
  // Giving an attribute its default value is not "setting" it (Neutron's _is_attribute_explicitly_set).
  const ok = await tc.request("POST", `${N}/networks`, { token: m.token, body: { network: { name: unique("n"), shared: false } } });
  assert.equal(ok.status, 201);
  const other = await tc.request("POST", `${N}/networks`, { token: m.token, body: { network: { name: "x", project_id: "someone-else" } } });
  assertNeutronError(other, 400);
});

test("a reader sees the project's networks but cannot change them; other projects get 404", async () => {
  const m = await persona(tc, "member");
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  const stranger = await persona(tc, "member");
  const net = (await tc.request("POST", `${N}/networks`, { token: m.token, body: { network: { name: unique("n") } } })).body.network;
  assert.equal((await tc.request("GET", `${N}/networks/${net.id}`, { token: reader.token })).status, 200);
  assertNeutronError(await tc.request("PUT", `${N}/networks/${net.id}`, { token: reader.token, body: { network: { name: "y" } } }), 403);
  assertNeutronError(await tc.request("DELETE", `${N}/networks/${net.id}`, { token: reader.token }), 403);
  assertNeutronError(await tc.request("GET", `${N}/networks/${net.id}`, { token: stranger.token }), 404, "NetworkNotFound");
  assertNeutronError(await tc.request("PUT", `${N}/networks/${net.id}`, { token: stranger.token, body: { network: { name: "y" } } }), 404);
  assertNeutronError(await tc.request("DELETE", `${N}/networks/${net.id}`, { token: stranger.token }), 404);
  const list = await tc.request("GET", `${N}/networks`, { token: stranger.token });
  assert.ok(!list.body.networks.some((n: { id: string }) => n.id === net.id));
});

test("admin: provider networks, shared networks, segmentation conflicts", async () => {
  const admin = await tc.adminToken();
  const vlan = await tc.request("POST", `${N}/networks`, {
    token: admin,
    body: { network: { name: unique("v"), "provider:network_type": "vlan", "provider:physical_network": "public", "provider:segmentation_id": 1234 } },
  });
  assert.equal(vlan.status, 201, JSON.stringify(vlan.body));
  assert.equal(vlan.body.network.mtu, 1500);
  assert.equal(vlan.body.network["provider:segmentation_id"], 1234);
  const dup = await tc.request("POST", `${N}/networks`, {
    token: admin,
    body: { network: { name: unique("v"), "provider:network_type": "vlan", "provider:physical_network": "public", "provider:segmentation_id": 1234 } },
  });
  assertNeutronError(dup, 409, "SegmentationIdInUse");
  assertNeutronError(
    await tc.request("POST", `${N}/networks`, { token: admin, body: { network: { "provider:network_type": "vlan", "provider:physical_network": "nope", "provider:segmentation_id": 5 } } }),
    400,
  );
  const shared = await tc.request("POST", `${N}/networks`, { token: admin, body: { network: { name: unique("s"), shared: true } } });
  assert.equal(shared.body.network.shared, true);
  const m = await persona(tc, "member");
  const seen = await tc.request("GET", `${N}/networks/${shared.body.network.id}`, { token: m.token });
  assert.equal(seen.status, 200);
  assert.equal(seen.body.network.shared, true);
  assertNeutronError(await tc.request("PUT", `${N}/networks/${shared.body.network.id}`, { token: m.token, body: { network: { name: "mine" } } }), 403);
  const unshare = await tc.request("PUT", `${N}/networks/${shared.body.network.id}`, { token: admin, body: { network: { shared: false } } });
  assert.equal(unshare.body.network.shared, false);
  assertNeutronError(await tc.request("GET", `${N}/networks/${shared.body.network.id}`, { token: m.token }), 404);
  assertNeutronError(await tc.request("POST", `${N}/networks`, { token: admin, body: { network: { mtu: 9000 } } }), 400);
});

test("fields, filters, sorting and pagination with links", async () => {
  const m = await persona(tc, "member");
  const names = ["c", "a", "e", "b", "d"].map((x) => `${x}-${unique("p")}`);
  const made = await tc.request("POST", `${N}/networks`, { token: m.token, body: { networks: names.map((name, i) => ({ name, admin_state_up: i % 2 === 0 })) } });
  assert.equal(made.status, 201);
  assert.equal(made.body.networks.length, 5);
  const f = await tc.request("GET", `${N}/networks?fields=id&fields=name&project_id=${m.projectId}`, { token: m.token });
  assert.deepEqual(Object.keys(f.body.networks[0]).sort(), ["id", "name"]);
  const down = await tc.request("GET", `${N}/networks?admin_state_up=False&project_id=${m.projectId}`, { token: m.token });
  assert.equal(down.body.networks.length, 2);
  const two = await tc.request("GET", `${N}/networks?name=${names[0]}&name=${names[1]}`, { token: m.token });
  assert.equal(two.body.networks.length, 2);
  const sorted = await tc.request("GET", `${N}/networks?sort_key=name&sort_dir=desc&project_id=${m.projectId}`, { token: m.token });
  assert.deepEqual(sorted.body.networks.map((n: { name: string }) => n.name), [...names].sort().reverse());
  const p1 = await tc.request("GET", `${N}/networks?sort_key=name&sort_dir=asc&limit=2&project_id=${m.projectId}`, { token: m.token });
  assert.deepEqual(p1.body.networks.map((n: { name: string }) => n.name), [...names].sort().slice(0, 2));
  const next = p1.body.networks_links.find((l: { rel: string }) => l.rel === "next");
  assert.ok(next);
  const p2 = await tc.request("GET", new URL(next.href).pathname + new URL(next.href).search, { token: m.token });
  assert.deepEqual(p2.body.networks.map((n: { name: string }) => n.name), [...names].sort().slice(2, 4));
  const prev = p2.body.networks_links.find((l: { rel: string }) => l.rel === "previous");
  const back = await tc.request("GET", new URL(prev.href).pathname + new URL(prev.href).search, { token: m.token });
  assert.deepEqual(back.body.networks.map((n: { name: string }) => n.name), [...names].sort().slice(0, 2));
  assertNeutronError(await tc.request("GET", `${N}/networks?bogus=1`, { token: m.token }), 400);
  assertNeutronError(await tc.request("GET", `${N}/networks?sort_key=subnets&sort_dir=asc`, { token: m.token }), 400);
  assertNeutronError(await tc.request("GET", `${N}/networks?sort_key=name`, { token: m.token }), 400);
  assertNeutronError(await tc.request("GET", `${N}/networks?limit=-1`, { token: m.token }), 400);
});

test("If-Match: revision_number precondition", async () => {
  const m = await persona(tc, "member");
  const net = (await tc.request("POST", `${N}/networks`, { token: m.token, body: { network: { name: unique("n") } } })).body.network;
  const stale = await tc.request("PUT", `${N}/networks/${net.id}`, { token: m.token, headers: { "if-match": "revision_number=7" }, body: { network: { name: "x" } } });
  assertNeutronError(stale, 412, "RevisionNumberConstraintFailed");
  const ok = await tc.request("PUT", `${N}/networks/${net.id}`, { token: m.token, headers: { "if-match": "revision_number=0" }, body: { network: { name: "x" } } });
  assert.equal(ok.status, 200);
  assertNeutronError(await tc.request("DELETE", `${N}/networks/${net.id}`, { token: m.token, headers: { "if-match": "revision_number=0" } }), 412);
  assert.equal((await tc.request("DELETE", `${N}/networks/${net.id}`, { token: m.token, headers: { "if-match": "revision_number=1" } })).status, 204);
});

test("quotas: own project readable, enforced, admin updates", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const own = await tc.request("GET", `${N}/quotas/${m.projectId}`, { token: m.token });
  assert.equal(own.status, 200);
  assert.equal(own.body.quota.network, 100);
  assertNeutronError(await tc.request("PUT", `${N}/quotas/${m.projectId}`, { token: m.token, body: { quota: { network: 1 } } }), 403);
  const other = await persona(tc, "member");
  assertNeutronError(await tc.request("GET", `${N}/quotas/${m.projectId}`, { token: other.token }), 403);
  const set = await tc.request("PUT", `${N}/quotas/${m.projectId}`, { token: admin, body: { quota: { network: 1 } } });
  assert.equal(set.status, 200);
  assert.equal(set.body.quota.network, 1);
  assert.equal((await tc.request("POST", `${N}/networks`, { token: m.token, body: { network: { name: unique("q") } } })).status, 201);
  assertNeutronError(await tc.request("POST", `${N}/networks`, { token: m.token, body: { network: { name: unique("q") } } }), 409, "OverQuota");
  const details = await tc.request("GET", `${N}/quotas/${m.projectId}/details`, { token: m.token });
  assert.deepEqual(details.body.quota.network, { limit: 1, used: 1, reserved: 0 });
  assertNeutronError(await tc.request("PUT", `${N}/quotas/${m.projectId}`, { token: admin, body: { quota: { network: "lots" } } }), 400);
  assert.equal((await tc.request("DELETE", `${N}/quotas/${m.projectId}`, { token: admin })).status, 204);
  assert.equal((await tc.request("GET", `${N}/quotas/${m.projectId}`, { token: m.token })).body.quota.network, 100);
});

test("extensions list and show; unknown alias 404", async () => {
  const m = await persona(tc, "member");
  const list = await tc.request("GET", `${N}/extensions`, { token: m.token });
  assert.equal(list.status, 200);
  assert.ok(list.body.extensions.some((e: { alias: string }) => e.alias === "external-net"));
  const one = await tc.request("GET", `${N}/extensions/external-net`, { token: m.token });
  assert.equal(one.body.extension.alias, "external-net");
  assertNeutronError(await tc.request("GET", `${N}/extensions/nope`, { token: m.token }), 404);
  const noauth = await tc.request("GET", `${N}/networks`);
  assertNeutronError(noauth, 401);
});
