/**
 * Security groups and their rules: each project's default group (made once, even under
 * concurrent first requests), rule validation as Neutron words it, duplicates, groups in use,
 * per-project visibility and the member/reader split.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { assertNeutronError, persona, startTestCloud, unique } from "../support/cloud.js";

const tc = await startTestCloud();
after(() => tc.close());
const N = "/networking/v2.0";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;


async function newGroup(token: string, extra: Record<string, unknown> = {}): Promise<Body> {
  const r = await tc.request("POST", `${N}/security-groups`, { token, body: { security_group: { name: unique("sg"), ...extra } } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.security_group;
}

function rule(token: string, body: Record<string, unknown>) {
  return tc.request("POST", `${N}/security-group-rules`, { token, body: { security_group_rule: body } });
}

async function newRule(token: string, body: Record<string, unknown>): Promise<Body> {
  const r = await rule(token, body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.security_group_rule;
}

test("a project's default group: made on first list, four rules, exact shapes", async () => {
  const m = await persona(tc, "member");
  const r = await tc.request("GET", `${N}/security-groups`, { token: m.token });
  assert.equal(r.status, 200);
  assert.equal(r.body.security_groups.length, 1);
  const sg = r.body.security_groups[0];
  assert.deepEqual(Object.keys(sg).sort(), [
    "created_at",
    "description",
    "id",
    "name",
    "project_id",
    "revision_number",
    "security_group_rules",
    "stateful",
    "tags",
    "tenant_id",
    "updated_at",
  ]);
  assert.equal(sg.name, "default");
  assert.equal(sg.description, "Default security group");
  assert.equal(sg.stateful, true);
  assert.equal(sg.project_id, m.projectId);
  assert.equal(sg.tenant_id, m.projectId);
  assert.equal(sg.revision_number, 1);
  assert.deepEqual(sg.tags, []);
  const rules = sg.security_group_rules as Body[];
  assert.equal(rules.length, 4);
  assert.deepEqual(
    rules.map((x) => x.id),
    rules.map((x) => x.id).sort(),
    "embedded rules come in id order",
  );
  const shape = (x: Body) => `${x.direction}/${x.ethertype}/${x.remote_group_id === sg.id ? "self" : x.remote_group_id}`;
  assert.deepEqual(rules.map(shape).sort(), ["egress/IPv4/null", "egress/IPv6/null", "ingress/IPv4/self", "ingress/IPv6/self"]);
  for (const x of rules) {
    assert.deepEqual(Object.keys(x).sort(), [
      "created_at",
      "description",
      "direction",
      "ethertype",
      "id",
      "normalized_cidr",
      "port_range_max",
      "port_range_min",
      "project_id",
      "protocol",
      "remote_address_group_id",
      "remote_group_id",
      "remote_ip_prefix",
      "revision_number",
      "security_group_id",
      "tags",
      "tenant_id",
      "updated_at",
    ]);
    assert.equal(x.security_group_id, sg.id);
    assert.equal(x.protocol, null);
    assert.equal(x.port_range_min, null);
    assert.equal(x.port_range_max, null);
    assert.equal(x.remote_ip_prefix, null);
    assert.equal(x.normalized_cidr, null);
    assert.equal(x.remote_address_group_id, null);
    assert.equal(x.description, null, "rules Neutron makes itself have no description");
    assert.equal(x.project_id, m.projectId);
    assert.equal(x.revision_number, 0);
  }
  // The same rules as a collection: the API's attribute map (no tags, no address groups).
  const listed = await tc.request("GET", `${N}/security-group-rules?security_group_id=${sg.id}`, { token: m.token });
  assert.equal(listed.status, 200);
  assert.equal(listed.body.security_group_rules.length, 4);
  assert.deepEqual(Object.keys(listed.body.security_group_rules[0]).sort(), [
    "created_at",
    "description",
    "direction",
    "ethertype",
    "id",
    "normalized_cidr",
    "port_range_max",
    "port_range_min",
    "project_id",
    "protocol",
    "remote_group_id",
    "remote_ip_prefix",
    "revision_number",
    "security_group_id",
    "tenant_id",
    "updated_at",
  ]);
  // Listed again: still one default group.
  const again = await tc.request("GET", `${N}/security-groups`, { token: m.token });
  assert.deepEqual(again.body.security_groups.map((g: Body) => g.id), [sg.id]);
});

test("concurrent first requests of a fresh project make exactly one default group", async () => {
  const m = await persona(tc, "member");
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      i % 2 === 0 ? tc.request("GET", `${N}/security-groups`, { token: m.token }) : tc.request("GET", `${N}/security-group-rules`, { token: m.token }),
    ),
  );
  for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
  const groups = await tc.request("GET", `${N}/security-groups`, { token: m.token });
  assert.equal(groups.body.security_groups.length, 1);
  const id = groups.body.security_groups[0].id;
  for (const [i, r] of results.entries()) {
    if (i % 2 === 0) assert.deepEqual(r.body.security_groups.map((g: Body) => g.id), [id]);
    else assert.ok(r.body.security_group_rules.every((x: Body) => x.security_group_id === id) && r.body.security_group_rules.length === 4);
  }
  const rules = await tc.request("GET", `${N}/security-group-rules`, { token: m.token });
  assert.equal(rules.body.security_group_rules.length, 4);
});

test("concurrent port creations in a fresh project share one default group", async () => {
  const m = await persona(tc, "member");
  const net = await tc.request("POST", `${N}/networks`, { token: m.token, body: { network: { name: unique("net") } } });
  assert.equal(net.status, 201);
  const ports = await Promise.all(
    Array.from({ length: 8 }, () => tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.body.network.id } } })),
  );
  for (const p of ports) assert.equal(p.status, 201, JSON.stringify(p.body));
  const groups = await tc.request("GET", `${N}/security-groups`, { token: m.token });
  assert.equal(groups.body.security_groups.length, 1);
  const id = groups.body.security_groups[0].id;
  for (const p of ports) assert.deepEqual(p.body.port.security_groups, [id]);
});

test("an admin listing another project's groups makes that project's default group", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const r = await tc.request("GET", `${N}/security-groups?project_id=${m.projectId}`, { token: admin });
  assert.equal(r.status, 200);
  assert.equal(r.body.security_groups.length, 1);
  assert.equal(r.body.security_groups[0].project_id, m.projectId);
  const own = await tc.request("GET", `${N}/security-groups`, { token: m.token });
  assert.deepEqual(own.body.security_groups.map((g: Body) => g.id), [r.body.security_groups[0].id]);
  // A member asking for another project's groups makes nothing and sees nothing.
  const other = await persona(tc, "member");
  const peek = await tc.request("GET", `${N}/security-groups?project_id=${other.projectId}`, { token: m.token });
  assert.deepEqual(peek.body.security_groups, []);
  const check = await tc.request("GET", `${N}/security-groups?project_id=${other.projectId}&fields=id`, { token: admin });
  assert.equal(check.body.security_groups.length, 1, "the admin's own list made it, not the member's");
});

test("create, show, update, delete a group; its two egress rules; name 'default' refused", async () => {
  const m = await persona(tc, "member");
  const name = unique("sg");
  const c = await tc.request("POST", `${N}/security-groups`, { token: m.token, body: { security_group: { name, description: "web" } } });
  assert.equal(c.status, 201);
  const sg = c.body.security_group;
  assert.equal(sg.name, name);
  assert.equal(sg.description, "web");
  assert.equal(sg.stateful, true);
  assert.equal(sg.revision_number, 1);
  assert.deepEqual(
    sg.security_group_rules.map((x: Body) => `${x.direction}/${x.ethertype}/${x.remote_group_id}/${x.description}`).sort(),
    ["egress/IPv4/null/null", "egress/IPv6/null/null"],
  );
  const all = await tc.request("GET", `${N}/security-groups?fields=id&fields=name`, { token: m.token });
  assert.deepEqual(all.body.security_groups.map((g: Body) => g.name).sort(), ["default", name].sort(), "the default group came too");
  assert.deepEqual(Object.keys(all.body.security_groups[0]).sort(), ["id", "name"]);

  const shown = await tc.request("GET", `${N}/security-groups/${sg.id}`, { token: m.token });
  assert.equal(shown.status, 200);
  assert.deepEqual(shown.body.security_group, sg);

  const u = await tc.request("PUT", `${N}/security-groups/${sg.id}`, { token: m.token, body: { security_group: { name: `${name}-2`, description: "d2", stateful: "false" } } });
  assert.equal(u.status, 200, JSON.stringify(u.body));
  assert.equal(u.body.security_group.name, `${name}-2`);
  assert.equal(u.body.security_group.stateful, false);
  assert.equal(u.body.security_group.revision_number, 2);

  for (const bad of ["default", "Default", "DEFAULT"]) {
    assertNeutronError(
      await tc.request("POST", `${N}/security-groups`, { token: m.token, body: { security_group: { name: bad } } }),
      409,
      "SecurityGroupDefaultAlreadyExists",
      "Default security group already exists.",
    );
    assertNeutronError(
      await tc.request("PUT", `${N}/security-groups/${sg.id}`, { token: m.token, body: { security_group: { name: bad } } }),
      409,
      "SecurityGroupDefaultAlreadyExists",
    );
  }
  assertNeutronError(
    await tc.request("POST", `${N}/security-groups`, { token: m.token, body: { security_group: { name: "x", stateful: "maybe" } } }),
    400,
    "InvalidInput",
    "Invalid input for operation: 'maybe' cannot be converted to boolean.",
  );
  assertNeutronError(
    await tc.request("POST", `${N}/security-groups`, { token: m.token, body: { security_group: { name: "x", security_group_rules: [] } } }),
    400,
    "HTTPBadRequest",
    "Attribute 'security_group_rules' not allowed in POST",
  );
  assertNeutronError(await tc.request("GET", `${N}/security-groups?stateful=true`, { token: m.token }), 400, "HTTPBadRequest", "['stateful'] is invalid attribute for filtering");

  const d = await tc.request("DELETE", `${N}/security-groups/${sg.id}`, { token: m.token });
  assert.equal(d.status, 204);
  assertNeutronError(await tc.request("GET", `${N}/security-groups/${sg.id}`, { token: m.token }), 404, "SecurityGroupNotFound", `Security group ${sg.id} does not exist`);
  assertNeutronError(await tc.request("DELETE", `${N}/security-groups/${sg.id}`, { token: m.token }), 404, "SecurityGroupNotFound");
  const rules = await tc.request("GET", `${N}/security-group-rules?security_group_id=${sg.id}`, { token: m.token });
  assert.deepEqual(rules.body.security_group_rules, [], "the group's rules went with it");
});

test("the default group: not renamed, not deleted by its project, deleted by an admin and made again", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const list = await tc.request("GET", `${N}/security-groups?name=default`, { token: m.token });
  const def = list.body.security_groups[0];
  assertNeutronError(
    await tc.request("PUT", `${N}/security-groups/${def.id}`, { token: m.token, body: { security_group: { name: "other" } } }),
    409,
    "SecurityGroupCannotUpdateDefault",
    "Updating default security group not allowed.",
  );
  const u = await tc.request("PUT", `${N}/security-groups/${def.id}`, { token: m.token, body: { security_group: { description: "mine" } } });
  assert.equal(u.status, 200);
  assert.equal(u.body.security_group.description, "mine");
  assertNeutronError(
    await tc.request("DELETE", `${N}/security-groups/${def.id}`, { token: m.token }),
    409,
    "SecurityGroupCannotRemoveDefault",
    "Insufficient rights for removing default security group.",
  );
  assert.equal((await tc.request("DELETE", `${N}/security-groups/${def.id}`, { token: admin })).status, 204);
  const next = await tc.request("GET", `${N}/security-groups?name=default`, { token: m.token });
  assert.equal(next.body.security_groups.length, 1);
  assert.notEqual(next.body.security_groups[0].id, def.id);
});

test("protocols by name (any case) and by number; legacy IPv6 ICMP names folded", async () => {
  const m = await persona(tc, "member");
  const sg = await newGroup(m.token);
  const cases: Array<[unknown, string, string, string]> = [
    ["TCP", "IPv4", "tcp", "ingress"],
    [17, "IPv4", "17", "ingress"],
    ["132", "IPv4", "132", "ingress"],
    ["gre", "IPv4", "gre", "ingress"],
    ["vrrp", "IPv6", "vrrp", "ingress"],
    ["icmpv6", "ipv6", "ipv6-icmp", "ingress"],
    ["icmp", "IPv6", "ipv6-icmp", "egress"],
    ["ipv6-route", "IPv6", "ipv6-route", "ingress"],
    [0, "IPv4", "0", "ingress"],
  ];
  for (const [protocol, ethertype, stored, direction] of cases) {
    const r = await newRule(m.token, { security_group_id: sg.id, direction, protocol, ethertype });
    assert.equal(r.protocol, stored, `${String(protocol)}/${ethertype}`);
    assert.equal(r.ethertype, ethertype.toLowerCase() === "ipv6" ? "IPv6" : "IPv4");
  }
  const sg2 = await newGroup(m.token);
  const one = await newRule(m.token, { security_group_id: sg2.id, direction: "ingress", protocol: "1", ethertype: "IPv6" });
  assert.equal(one.protocol, "58", "protocol 1 of an IPv6 rule is ICMPv6");
  // icmp, icmpv6, ipv6-icmp and 58 are one protocol for an IPv6 rule.
  for (const protocol of ["icmp", "icmpv6", "ipv6-icmp", 58]) {
    assertNeutronError(await rule(m.token, { security_group_id: sg2.id, direction: "ingress", protocol, ethertype: "IPv6" }), 409, "SecurityGroupRuleExists");
  }
  const supported =
    "[None, 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp']";
  assertNeutronError(
    await rule(m.token, { security_group_id: sg.id, direction: "ingress", protocol: "bad_protocol_name" }),
    400,
    "SecurityGroupRuleInvalidProtocol",
    `Security group rule protocol bad_protocol_name not supported. Only protocol values ${supported} and integer representations [0 to 255] are supported.`,
  );
  for (const protocol of [256, "-1", "any"]) {
    assertNeutronError(await rule(m.token, { security_group_id: sg.id, direction: "ingress", protocol }), 400, "SecurityGroupRuleInvalidProtocol");
  }
  for (const protocol of ["icmpv6", "ipv6-icmp", "58", "ipv6-frag", "41"]) {
    assertNeutronError(
      await rule(m.token, { security_group_id: sg.id, direction: "ingress", protocol, ethertype: "IPv4" }),
      400,
      "SecurityGroupEthertypeConflictWithProtocol",
      `Invalid ethertype IPv4 for protocol ${protocol}.`,
    );
  }
  assertNeutronError(
    await rule(m.token, { security_group_id: sg.id, direction: "ingress", ethertype: "bad_ethertype" }),
    400,
    "SecurityGroupRuleInvalidEtherType",
    "Security group rule for ethertype 'bad_ethertype' not supported. Allowed values are ['IPv4', 'IPv6'].",
  );
  assertNeutronError(
    await rule(m.token, { security_group_id: sg.id, direction: "sideways" }),
    400,
    "HTTPBadRequest",
    "Invalid input for direction. Reason: sideways is not in valid_values.",
  );
  assertNeutronError(
    await rule(m.token, { security_group_id: sg.id }),
    400,
    "HTTPBadRequest",
    "Failed to parse request. Required attribute 'direction' not specified",
  );
});

test("port ranges: TCP/UDP-like protocols, ICMP type and code, ports refused elsewhere", async () => {
  const m = await persona(tc, "member");
  const sg = await newGroup(m.token);
  const base = { security_group_id: sg.id, direction: "ingress" };
  const ok = await newRule(m.token, { ...base, protocol: "tcp", port_range_min: 77, port_range_max: "77" });
  assert.equal(ok.port_range_min, 77);
  assert.equal(ok.port_range_max, 77);
  const whole = await newRule(m.token, { ...base, protocol: "udp", port_range_min: 1, port_range_max: 65535 });
  assert.equal(whole.port_range_min, null, "the whole range is no range");
  assert.equal(whole.port_range_max, null);
  // tempest's test_create_security_group_rule_with_invalid_ports
  const tcp: Array<[unknown, unknown, string, string]> = [
    [-16, 80, "SecurityGroupInvalidPortValue", "Invalid value for port -16"],
    [80, 79, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max"],
    [80, 65536, "SecurityGroupInvalidPortValue", "Invalid value for port 65536"],
    [null, 6, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max"],
    [0, 6, "SecurityGroupInvalidPortValue", "Invalid value for port 0"],
    ["x", 6, "SecurityGroupInvalidPortValue", "Invalid value for port x"],
  ];
  for (const [min, max, type, message] of tcp) {
    assertNeutronError(await rule(m.token, { ...base, protocol: "tcp", port_range_min: min, port_range_max: max }), 400, type, message);
  }
  const icmp: Array<[unknown, unknown, string, string]> = [
    [1, 256, "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP code (port_range_max) 256. It must be 0 to 255."],
    [-1, 25, "SecurityGroupInvalidPortValue", "Invalid value for port -1"],
    [null, 6, "SecurityGroupMissingIcmpType", "ICMP code (port-range-max) 6 is provided but ICMP type (port-range-min) is missing."],
    [300, 1, "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255."],
  ];
  for (const [min, max, type, message] of icmp) {
    assertNeutronError(await rule(m.token, { ...base, protocol: "icmp", port_range_min: min, port_range_max: max }), 400, type, message);
  }
  for (const [type, code] of [[3, 2], [3, 0], [8, 0], [0, 0], [11, null]] as const) {
    const r = await newRule(m.token, { ...base, protocol: "icmp", port_range_min: type, port_range_max: code });
    assert.equal(r.port_range_min, type);
    assert.equal(r.port_range_max, code);
  }
  const v6 = await newRule(m.token, { ...base, ethertype: "IPv6", protocol: "ipv6-icmp", port_range_min: 128, port_range_max: 0 });
  assert.equal(v6.port_range_min, 128);
  assertNeutronError(
    await rule(m.token, { ...base, protocol: "gre", port_range_min: 5, port_range_max: 6 }),
    400,
    "SecurityGroupInvalidProtocolForPort",
    "Ports cannot be specified for protocol 47. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE.",
  );
  assertNeutronError(
    await rule(m.token, { ...base, port_range_min: 5, port_range_max: 6 }),
    400,
    "SecurityGroupProtocolRequiredWithPorts",
    "Must also specify protocol if port range is given.",
  );
  const sctp = await newRule(m.token, { ...base, protocol: "132", port_range_min: 9, port_range_max: 10 });
  assert.equal(sctp.port_range_max, 10);
});

test("remote IP prefixes are kept as given with a normalized_cidr; remote groups; never both", async () => {
  const m = await persona(tc, "member");
  const sg = await newGroup(m.token);
  const other = await newGroup(m.token);
  const base = { security_group_id: sg.id, direction: "ingress", protocol: "tcp" };
  const a = await newRule(m.token, { ...base, remote_ip_prefix: "10.0.0.1/24" });
  assert.equal(a.remote_ip_prefix, "10.0.0.1/24");
  assert.equal(a.normalized_cidr, "10.0.0.0/24");
  const b = await newRule(m.token, { ...base, remote_ip_prefix: "10.9.0.5" });
  assert.equal(b.remote_ip_prefix, "10.9.0.5/32");
  assert.equal(b.normalized_cidr, "10.9.0.5/32");
  const c = await newRule(m.token, { ...base, ethertype: "IPv6", remote_ip_prefix: "2001:DB8:0::1/64" });
  assert.equal(c.remote_ip_prefix, "2001:db8::1/64");
  assert.equal(c.normalized_cidr, "2001:db8::/64");
  for (const bad of ["192.168.1./24", "192.168.1.1/33", "bad_prefix", "256"]) {
    assertNeutronError(await rule(m.token, { ...base, remote_ip_prefix: bad }), 400, "InvalidCIDR", `Invalid CIDR ${bad} given as IP prefix.`);
  }
  assertNeutronError(
    await rule(m.token, { ...base, ethertype: "IPv6", remote_ip_prefix: "10.0.0.0/24" }),
    400,
    "SecurityGroupRuleParameterConflict",
    "Conflicting value ethertype IPv6 for CIDR 10.0.0.0/24",
  );
  assertNeutronError(
    await rule(m.token, { ...base, ethertype: "IPv4", remote_ip_prefix: "2001:db8::/64" }),
    400,
    "SecurityGroupRuleParameterConflict",
    /^Conflicting value ethertype IPv4/,
  );
  const g = await newRule(m.token, { ...base, protocol: "udp", port_range_min: 50, port_range_max: 55, remote_group_id: other.id });
  assert.equal(g.remote_group_id, other.id);
  assert.equal(g.remote_ip_prefix, null);
  assertNeutronError(
    await rule(m.token, { ...base, remote_ip_prefix: "10.0.0.0/24", remote_group_id: other.id }),
    400,
    "SecurityGroupMultipleRemoteEntites",
    "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.",
  );
  const missing = "9b3c4f36-7a8b-4c1d-9e2f-0a1b2c3d4e5f";
  for (const id of ["bad_group_id", missing]) {
    assertNeutronError(await rule(m.token, { ...base, remote_group_id: id }), 404, "SecurityGroupNotFound", `Security group ${id} does not exist`);
  }
  assertNeutronError(await rule(m.token, { security_group_id: missing, direction: "ingress" }), 404, "SecurityGroupNotFound");

  // Deleting a group takes the rules of other groups that name it as their remote group.
  assert.equal((await tc.request("DELETE", `${N}/security-groups/${other.id}`, { token: m.token })).status, 204);
  assertNeutronError(await tc.request("GET", `${N}/security-group-rules/${g.id}`, { token: m.token }), 404, "SecurityGroupRuleNotFound", `Security group rule ${g.id} does not exist`);
});

test("duplicates are refused: same rule, same rule spelled differently, in one POST, concurrently", async () => {
  const m = await persona(tc, "member");
  const sg = await newGroup(m.token);
  const base = { security_group_id: sg.id, direction: "ingress", ethertype: "IPv4" };
  const first = await newRule(m.token, { ...base, protocol: "tcp", port_range_min: 66, port_range_max: 67 });
  const msg = `Security group rule already exists. Rule id is ${first.id}.`;
  assertNeutronError(await rule(m.token, { ...base, protocol: "tcp", port_range_min: 66, port_range_max: 67 }), 409, "SecurityGroupRuleExists", msg);
  assertNeutronError(await rule(m.token, { ...base, protocol: "6", port_range_min: 66, port_range_max: 67 }), 409, "SecurityGroupRuleExists", msg);
  const open = await newRule(m.token, { ...base, protocol: "udp" });
  assertNeutronError(
    await rule(m.token, { ...base, protocol: "udp", remote_ip_prefix: "0.0.0.0/0" }),
    409,
    "SecurityGroupRuleExists",
    `Security group rule already exists. Rule id is ${open.id}.`,
  );
  // The egress rules every group starts with.
  const egress = sg.security_group_rules.find((x: Body) => x.ethertype === "IPv4");
  assertNeutronError(await rule(m.token, { security_group_id: sg.id, direction: "egress" }), 409, "SecurityGroupRuleExists", `Security group rule already exists. Rule id is ${egress.id}.`);

  const dupPost = await tc.request("POST", `${N}/security-group-rules`, {
    token: m.token,
    body: { security_group_rules: [{ security_group_rule: { ...base, protocol: "sctp" } }, { ...base, protocol: "132" }] },
  });
  assertNeutronError(dupPost, 409, "DuplicateSecurityGroupRuleInPost", "Duplicate Security Group Rule in POST.");

  const racers = await Promise.all(Array.from({ length: 6 }, () => rule(m.token, { ...base, protocol: "tcp", port_range_min: 8080, port_range_max: 8080 })));
  assert.equal(racers.filter((r) => r.status === 201).length, 1, racers.map((r) => r.status).join(","));
  for (const r of racers.filter((x) => x.status !== 201)) assertNeutronError(r, 409, "SecurityGroupRuleExists");
});

test("bulk rule creation: all or nothing, one group and one project per request", async () => {
  const m = await persona(tc, "member");
  const sg = await newGroup(m.token);
  const sg2 = await newGroup(m.token);
  const base = { security_group_id: sg.id, direction: "ingress" };
  const bulk = await tc.request("POST", `${N}/security-group-rules`, {
    token: m.token,
    body: { security_group_rules: [{ ...base, protocol: "tcp", port_range_min: 22, port_range_max: 22 }, { ...base, protocol: "icmp" }] },
  });
  assert.equal(bulk.status, 201, JSON.stringify(bulk.body));
  assert.equal(bulk.body.security_group_rules.length, 2);
  const two = await tc.request("POST", `${N}/security-group-rules`, {
    token: m.token,
    body: { security_group_rules: [{ ...base, protocol: "udp" }, { ...base, security_group_id: sg2.id, protocol: "udp" }] },
  });
  assertNeutronError(two, 400, "SecurityGroupNotSingleGroupRules", "Only allowed to update rules for one security profile at a time");
  const half = await tc.request("POST", `${N}/security-group-rules`, {
    token: m.token,
    body: { security_group_rules: [{ ...base, protocol: "udp" }, { ...base, protocol: "tcp", port_range_min: 5, port_range_max: 4 }] },
  });
  assertNeutronError(half, 400, "SecurityGroupInvalidPortRange");
  const listed = await tc.request("GET", `${N}/security-group-rules?security_group_id=${sg.id}&protocol=udp`, { token: m.token });
  assert.deepEqual(listed.body.security_group_rules, [], "nothing of a failed bulk request was written");
  const shown = await tc.request("GET", `${N}/security-groups/${sg.id}`, { token: m.token });
  assert.equal(shown.body.security_group.revision_number, 3, "each rule revises its group");
});

test("rules: show, delete, no update; the group's revision follows its rules", async () => {
  const m = await persona(tc, "member");
  const sg = await newGroup(m.token);
  const r = await newRule(m.token, { security_group_id: sg.id, direction: "ingress", protocol: "tcp", port_range_min: 443, port_range_max: 443, description: "https" });
  assert.equal(r.description, "https");
  assert.equal(r.project_id, m.projectId);
  assert.equal(r.revision_number, 0);
  assert.equal(r.normalized_cidr, null);
  assert.equal(r.tags, undefined);
  const shown = await tc.request("GET", `${N}/security-group-rules/${r.id}`, { token: m.token });
  assert.equal(shown.status, 200);
  assert.deepEqual(shown.body.security_group_rule, r);
  const g1 = (await tc.request("GET", `${N}/security-groups/${sg.id}`, { token: m.token })).body.security_group;
  assert.equal(g1.revision_number, 2);
  assert.ok(g1.security_group_rules.some((x: Body) => x.id === r.id && x.description === "https"));
  const put = await tc.request("PUT", `${N}/security-group-rules/${r.id}`, { token: m.token, body: { security_group_rule: { description: "x" } } });
  assert.equal(put.status, 405);
  assert.equal((await tc.request("DELETE", `${N}/security-group-rules/${r.id}`, { token: m.token })).status, 204);
  assertNeutronError(await tc.request("DELETE", `${N}/security-group-rules/${r.id}`, { token: m.token }), 404, "SecurityGroupRuleNotFound");
  const g2 = (await tc.request("GET", `${N}/security-groups/${sg.id}`, { token: m.token })).body.security_group;
  assert.equal(g2.revision_number, 3);
  assert.equal(g2.security_group_rules.length, 2);
});

test("filters, sorting and pagination over groups and rules", async () => {
  const m = await persona(tc, "member");
  const prefix = unique("f");
  const a = await newGroup(m.token, { name: `${prefix}-a` });
  const b = await newGroup(m.token, { name: `${prefix}-b`, description: "bee" });
  await newRule(m.token, { security_group_id: a.id, direction: "ingress", protocol: "tcp", port_range_min: 22, port_range_max: 22 });
  await newRule(m.token, { security_group_id: a.id, direction: "ingress", ethertype: "IPv6", protocol: "udp", remote_ip_prefix: "2001:db8::/48" });
  const byName = await tc.request("GET", `${N}/security-groups?name=${prefix}-b`, { token: m.token });
  assert.deepEqual(byName.body.security_groups.map((g: Body) => g.id), [b.id]);
  const byDesc = await tc.request("GET", `${N}/security-groups?description=bee`, { token: m.token });
  assert.deepEqual(byDesc.body.security_groups.map((g: Body) => g.id), [b.id]);
  const sorted = await tc.request("GET", `${N}/security-groups?sort_key=name&sort_dir=desc&limit=2`, { token: m.token });
  assert.deepEqual(sorted.body.security_groups.map((g: Body) => g.name), [`${prefix}-b`, `${prefix}-a`]);
  assert.ok(sorted.body.security_groups_links.some((l: Body) => l.rel === "next"));

  const q = (s: string) => tc.request("GET", `${N}/security-group-rules?security_group_id=${a.id}&${s}`, { token: m.token });
  assert.equal((await q("direction=ingress")).body.security_group_rules.length, 2);
  assert.equal((await q("protocol=TCP")).body.security_group_rules.length, 1, "filter values are converted");
  assert.equal((await q("ethertype=ipv6")).body.security_group_rules.length, 2);
  assert.equal((await q("port_range_min=22")).body.security_group_rules.length, 1);
  assert.equal((await q("remote_ip_prefix=2001:DB8::/48")).body.security_group_rules.length, 1);
  assert.equal((await q("normalized_cidr=2001:db8::/48")).body.security_group_rules.length, 1);
  assertNeutronError(await q("protocol=nope"), 400, "SecurityGroupRuleInvalidProtocol");
  assertNeutronError(await q("stateful=true"), 400, "HTTPBadRequest", "['stateful'] is invalid attribute for filtering");
  const sortedRules = await q("sort_key=protocol&sort_dir=asc&fields=protocol&fields=id");
  assert.deepEqual(sortedRules.body.security_group_rules.map((x: Body) => x.protocol), [null, null, "tcp", "udp"]);
});

test("other projects' groups and rules are not found; readers read, members write", async () => {
  const m = await persona(tc, "member");
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  const other = await persona(tc, "member");
  const sg = await newGroup(m.token);
  const r = await newRule(m.token, { security_group_id: sg.id, direction: "ingress", protocol: "tcp" });

  assertNeutronError(await tc.request("GET", `${N}/security-groups/${sg.id}`, { token: other.token }), 404, "SecurityGroupNotFound");
  assertNeutronError(await tc.request("GET", `${N}/security-group-rules/${r.id}`, { token: other.token }), 404, "SecurityGroupRuleNotFound");
  assertNeutronError(await tc.request("DELETE", `${N}/security-groups/${sg.id}`, { token: other.token }), 404, "SecurityGroupNotFound");
  assertNeutronError(await tc.request("DELETE", `${N}/security-group-rules/${r.id}`, { token: other.token }), 404, "SecurityGroupRuleNotFound");
  assertNeutronError(
    await tc.request("PUT", `${N}/security-groups/${sg.id}`, { token: other.token, body: { security_group: { description: "x" } } }),
    404,
    "SecurityGroupNotFound",
  );
  assertNeutronError(await rule(other.token, { security_group_id: sg.id, direction: "ingress", protocol: "udp" }), 404, "HTTPNotFound");
  const theirs = await tc.request("GET", `${N}/security-group-rules`, { token: other.token });
  assert.ok(!theirs.body.security_group_rules.some((x: Body) => x.security_group_id === sg.id));
  const theirGroups = await newGroup(other.token);
  assertNeutronError(await rule(m.token, { security_group_id: sg.id, direction: "ingress", remote_group_id: theirGroups.id }), 404, "SecurityGroupNotFound");

  // A reader of the project sees everything and changes nothing.
  assert.equal((await tc.request("GET", `${N}/security-groups/${sg.id}`, { token: reader.token })).status, 200);
  assert.equal((await tc.request("GET", `${N}/security-group-rules/${r.id}`, { token: reader.token })).status, 200);
  const listed = await tc.request("GET", `${N}/security-groups`, { token: reader.token });
  assert.ok(listed.body.security_groups.some((g: Body) => g.id === sg.id));
  assertNeutronError(await tc.request("POST", `${N}/security-groups`, { token: reader.token, body: { security_group: { name: "r" } } }), 403, "PolicyNotAuthorized");
  assertNeutronError(await rule(reader.token, { security_group_id: sg.id, direction: "ingress", protocol: "udp" }), 403, "PolicyNotAuthorized");
  assertNeutronError(await tc.request("DELETE", `${N}/security-group-rules/${r.id}`, { token: reader.token }), 403, "PolicyNotAuthorized");
  assertNeutronError(await tc.request("DELETE", `${N}/security-groups/${sg.id}`, { token: reader.token }), 403, "PolicyNotAuthorized");

  // An admin may add a rule to the member's group; the rule is the admin's, the member sees it.
  const admin = await tc.adminToken();
  const ar = await newRule(admin, { security_group_id: sg.id, direction: "egress", protocol: "tcp", port_range_min: 25, port_range_max: 25 });
  assert.notEqual(ar.project_id, m.projectId);
  const seen = await tc.request("GET", `${N}/security-group-rules/${ar.id}`, { token: m.token });
  assert.equal(seen.status, 200);
  const mine = await tc.request("GET", `${N}/security-group-rules?security_group_id=${sg.id}`, { token: m.token });
  assert.ok(mine.body.security_group_rules.some((x: Body) => x.id === ar.id));
  // A member may not claim another project for a rule.
  assertNeutronError(
    await rule(m.token, { security_group_id: sg.id, direction: "ingress", protocol: "udp", project_id: other.projectId }),
    400,
    "HTTPBadRequest",
  );
});

test("a group in use by a port is not deleted, nor its statefulness changed; ports use only their project's groups", async () => {
  const m = await persona(tc, "member");
  const other = await persona(tc, "member");
  const sg = await newGroup(m.token);
  const net = await tc.request("POST", `${N}/networks`, { token: m.token, body: { network: { name: unique("net") } } });
  assert.equal(net.status, 201);
  const port = await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.body.network.id, security_groups: [sg.id] } } });
  assert.equal(port.status, 201, JSON.stringify(port.body));
  assert.deepEqual(port.body.port.security_groups, [sg.id]);

  assertNeutronError(await tc.request("DELETE", `${N}/security-groups/${sg.id}`, { token: m.token }), 409, "SecurityGroupInUse", `Security Group ${sg.id} in use.`);
  assertNeutronError(
    await tc.request("PUT", `${N}/security-groups/${sg.id}`, { token: m.token, body: { security_group: { stateful: false } } }),
    409,
    "SecurityGroupInUse",
  );
  const same = await tc.request("PUT", `${N}/security-groups/${sg.id}`, { token: m.token, body: { security_group: { stateful: true, description: "busy" } } });
  assert.equal(same.status, 200, "an unchanged statefulness is fine");

  const theirs = await newGroup(other.token);
  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.body.network.id, security_groups: [theirs.id] } } }),
    404,
    "SecurityGroupNotFound",
    `Security group ${theirs.id} does not exist`,
  );
  const stateless = await newGroup(m.token, { stateful: false });
  assertNeutronError(
    await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.body.network.id, security_groups: [sg.id, stateless.id] } } }),
    409,
    "SecurityGroupConflict",
  );
  // A port without groups gets the project's default group.
  const plain = await tc.request("POST", `${N}/ports`, { token: m.token, body: { port: { network_id: net.body.network.id } } });
  assert.equal(plain.status, 201, JSON.stringify(plain.body));
  const def = (await tc.request("GET", `${N}/security-groups?name=default`, { token: m.token })).body.security_groups;
  assert.deepEqual(plain.body.port.security_groups, [def[0].id]);

  // Once no port uses it, it goes.
  const unbound = await tc.request("PUT", `${N}/ports/${port.body.port.id}`, { token: m.token, body: { port: { security_groups: [] } } });
  assert.equal(unbound.status, 200, JSON.stringify(unbound.body));
  assert.equal((await tc.request("DELETE", `${N}/security-groups/${sg.id}`, { token: m.token })).status, 204);
});

test("quotas: groups and rules count against the project", async () => {
  const admin = await tc.adminToken();
  const m = await persona(tc, "member");
  const q = await tc.request("PUT", `${N}/quotas/${m.projectId}`, { token: admin, body: { quota: { security_group: 2, security_group_rule: 7 } } });
  assert.equal(q.status, 200, JSON.stringify(q.body));
  const sg = await newGroup(m.token); // default (4 rules) + this one (2 rules)
  await newRule(m.token, { security_group_id: sg.id, direction: "ingress", protocol: "tcp" });
  assertNeutronError(await rule(m.token, { security_group_id: sg.id, direction: "ingress", protocol: "udp" }), 409, "OverQuota", "Quota exceeded for resources: ['security_group_rule'].");
  assertNeutronError(
    await tc.request("POST", `${N}/security-groups`, { token: m.token, body: { security_group: { name: unique("sg") } } }),
    409,
    "OverQuota",
    "Quota exceeded for resources: ['security_group'].",
  );
});

test("the security group extensions are advertised", async () => {
  const m = await persona(tc, "member");
  const r = await tc.request("GET", `${N}/extensions`, { token: m.token });
  const aliases = r.body.extensions.map((e: Body) => e.alias);
  for (const a of ["security-group", "stateful-security-group", "security-groups-normalized-cidr"]) assert.ok(aliases.includes(a), a);
  const e = await tc.request("GET", `${N}/extensions/security-group`, { token: m.token });
  assert.equal(e.body.extension.description, "The security groups extension.");
});
