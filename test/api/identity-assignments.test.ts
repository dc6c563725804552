import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Response, TestCloud } from "../support/cloud.js";
import { passwordToken, persona, startTestCloud, unique, assertIdentityError } from "../support/cloud.js";

let tc: TestCloud;
let admin: string;
before(async () => {
  tc = await startTestCloud();
  admin = await tc.adminToken();
});
after(async () => {
  await tc.close();
});

const V3 = "/identity/v3";

function assertError(res: Response, status: number, message?: string | RegExp): void {
  // A HEAD answer never has a body; its status is all there is to check.
  if (res.body === undefined && res.text === "" && message === undefined && headRequests.has(res)) {
    assert.equal(res.status, status, res.text);
    return;
  }
  assertIdentityError(res, status, message);
}

const headRequests = new WeakSet<Response>();
async function call(method: string, path: string, body?: unknown, token = admin): Promise<Response> {
  const res = await tc.request(method, `${V3}${path}`, body === undefined ? { token } : { token, body });
  if (method === "HEAD") headRequests.add(res);
  return res;
}

async function ok(method: string, path: string, status: number, body?: unknown): Promise<any> {
  const r = await call(method, path, body);
  assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
  return r.body;
}

const mkDomain = async (): Promise<string> => (await ok("POST", "/domains", 201, { domain: { name: unique("d") } })).domain.id;
const mkProject = async (domainId = "default", parentId?: string): Promise<string> =>
  (await ok("POST", "/projects", 201, { project: { name: unique("p"), domain_id: domainId, ...(parentId ? { parent_id: parentId } : {}) } })).project.id;
const mkUser = async (domainId = "default", password = "pw-secret-1"): Promise<any> =>
  (await ok("POST", "/users", 201, { user: { name: unique("u"), domain_id: domainId, password, email: "x@example.com" } })).user;
const mkGroup = async (domainId = "default"): Promise<any> =>
  (await ok("POST", "/groups", 201, { group: { name: unique("g"), domain_id: domainId, description: "d" } })).group;
const mkRole = async (domainId?: string): Promise<any> =>
  (await ok("POST", "/roles", 201, { role: { name: unique("r"), ...(domainId ? { domain_id: domainId } : {}) } })).role;
const ids = (list: any[]): string[] => list.map((x) => x.id).sort();

// ---- groups ------------------------------------------------------------------------------

test("groups: create, show, partial update, list with filters, delete", async () => {
  const d = await mkDomain();
  const name = unique("grp");
  const created = await ok("POST", "/groups", 201, { group: { name: ` ${name} `, domain_id: d, project_id: "extra-attr" } });
  const g = created.group;
  assert.equal(g.name, name, "name is stripped");
  assert.equal(g.description, "", "description defaults to empty");
  assert.equal(g.domain_id, d);
  assert.equal(g.project_id, "extra-attr", "extra attributes are kept");
  assert.match(g.links.self, new RegExp(`/v3/groups/${g.id}$`));

  assert.deepEqual((await ok("GET", `/groups/${g.id}`, 200)).group, g);
  const upd = (await ok("PATCH", `/groups/${g.id}`, 200, { group: { description: "new" } })).group;
  assert.equal(upd.description, "new");
  assert.equal(upd.name, name);
  assert.equal(upd.domain_id, d);

  assertError(await call("PATCH", `/groups/${g.id}`, { group: { domain_id: "default" } }), 400, "Cannot change Domain ID");
  assertError(await call("PATCH", `/groups/${g.id}`, { group: { id: "other" } }), 400, "Cannot change ID");
  assertError(await call("PATCH", `/groups/${g.id}`, { group: {} }), 400);
  assertError(await call("POST", "/groups", { group: { name, domain_id: d } }), 409);
  assertError(await call("POST", "/groups", { group: { name: unique("g"), domain_id: "nope" } }), 404, "Could not find domain: nope.");
  assertError(await call("POST", "/groups", { group: { description: "no name" } }), 400);

  const g2 = await mkGroup(d);
  const all = (await ok("GET", "/groups", 200)).groups;
  assert.ok(all.some((x: any) => x.id === g.id) && all.some((x: any) => x.id === g2.id));
  assert.deepEqual(ids((await ok("GET", `/groups?domain_id=${d}`, 200)).groups), ids([upd, g2]));
  assert.deepEqual(ids((await ok("GET", `/groups?name=${name}`, 200)).groups), [g.id]);
  assert.deepEqual(ids((await ok("GET", `/groups?domain_id=${d}&name__contains=${name.slice(4)}`, 200)).groups), [g.id]);
  assert.deepEqual(ids((await ok("GET", `/groups?domain_id=${d}&name__istartswith=${name.toUpperCase()}`, 200)).groups), [g.id]);

  await ok("DELETE", `/groups/${g.id}`, 204);
  assertError(await call("GET", `/groups/${g.id}`), 404, `Could not find group: ${g.id}.`);
  assertError(await call("DELETE", `/groups/${g.id}`), 404);
  // Without domain_id a project-scoped token creates in the default domain, as Keystone does.
  assert.equal((await ok("POST", "/groups", 201, { group: { name: unique("g") } })).group.domain_id, "default");
});

test("group membership: add (idempotent), check, list, remove and their 404s", async () => {
  const g = await mkGroup();
  const u1 = await mkUser();
  const u2 = await mkUser();
  for (const u of [u1, u2, u1]) await ok("PUT", `/groups/${g.id}/users/${u.id}`, 204);
  const members = (await ok("GET", `/groups/${g.id}/users`, 200)).users;
  // Member entries equal the user create bodies (tempest compares them).
  assert.deepEqual(
    [...members].sort((a: any, b: any) => a.id.localeCompare(b.id)),
    [u1, u2].sort((a: any, b: any) => a.id.localeCompare(b.id)),
  );
  assert.deepEqual(ids((await ok("GET", `/groups/${g.id}/users?name=${u2.name}`, 200)).users), [u2.id]);
  assert.deepEqual((await ok("GET", `/groups/${g.id}/users?enabled=false`, 200)).users, []);
  assertError(await call("GET", `/groups/${g.id}/users?password_expires_at=bogus:2020-01-01T00:00:00Z`), 400);

  const head = await call("HEAD", `/groups/${g.id}/users/${u1.id}`);
  assert.equal(head.status, 204);
  assert.equal(head.text, "");
  assert.equal((await call("GET", `/groups/${g.id}/users/${u1.id}`)).status, 204);
  assert.deepEqual(ids((await ok("GET", `/users/${u1.id}/groups`, 200)).groups), [g.id]);

  await ok("DELETE", `/groups/${g.id}/users/${u1.id}`, 204);
  assertError(await call("GET", `/groups/${g.id}/users/${u1.id}`), 404, `User '${u1.id}' not found in group '${g.id}'`);
  assertError(await call("DELETE", `/groups/${g.id}/users/${u1.id}`), 404, `User '${u1.id}' not found in group '${g.id}'`);
  assertError(await call("PUT", `/groups/${g.id}/users/nouser`), 404, "Could not find user: nouser.");
  assertError(await call("PUT", `/groups/nogroup/users/${u1.id}`), 404, "Could not find group: nogroup.");
  assertError(await call("GET", `/groups/nogroup/users`), 404, "Could not find group: nogroup.");
  assertError(await call("DELETE", `/groups/nogroup/users/${u1.id}`), 404, "Could not find group: nogroup.");

  // Deleting a user removes its memberships.
  await ok("DELETE", `/users/${u2.id}`, 204);
  assert.deepEqual((await ok("GET", `/groups/${g.id}/users`, 200)).users, []);
});

test("groups: policy for a project member (403 before 404)", async () => {
  const m = await persona(tc, "member");
  const g = await mkGroup();
  assertError(await call("GET", "/groups", undefined, m.token), 403, "You are not authorized to perform the requested action: identity:list_groups.");
  assertError(await call("GET", `/groups/${g.id}`, undefined, m.token), 403);
  assertError(await call("GET", "/groups/does-not-exist", undefined, m.token), 403);
  assertError(await call("POST", "/groups", { group: { name: unique("g") } }, m.token), 403);
  assertError(await call("PUT", `/groups/${g.id}/users/${m.userId}`, undefined, m.token), 403);
  assertError(await call("GET", `/groups/${g.id}/users`, undefined, m.token), 403);
});

// ---- grants ------------------------------------------------------------------------------

test("grants on projects, domains and system: put, list, check (GET/HEAD 204), revoke", async () => {
  const d = await mkDomain();
  const p = await mkProject(d);
  const u = await mkUser(d);
  const g = await mkGroup(d);
  const r = await mkRole();
  const bases = [`/projects/${p}/users/${u.id}`, `/projects/${p}/groups/${g.id}`, `/domains/${d}/users/${u.id}`, `/domains/${d}/groups/${g.id}`, `/system/users/${u.id}`, `/system/groups/${g.id}`];
  for (const b of bases) {
    await ok("PUT", `${b}/roles/${r.id}`, 204);
    await ok("PUT", `${b}/roles/${r.id}`, 204); // granting twice is fine
    const roles = (await ok("GET", `${b}/roles`, 200)).roles;
    assert.equal(roles.length, 1, b);
    assert.deepEqual(roles[0], r);
    const head = await call("HEAD", `${b}/roles/${r.id}`);
    assert.equal(head.status, 204, b);
    assert.equal(head.text, "");
    assert.equal((await call("GET", `${b}/roles/${r.id}`)).status, 204);
    await ok("DELETE", `${b}/roles/${r.id}`, 204);
    const target = b.startsWith("/system") ? "system" : b.split("/")[2];
    const actor = b.split("/").at(-1);
    const msg = `Could not find role assignment with role: ${r.id}, user or group: ${actor}, project, domain, or system: ${target}.`;
    assertError(await call("HEAD", `${b}/roles/${r.id}`), 404);
    assertError(await call("GET", `${b}/roles/${r.id}`), 404, msg);
    assertError(await call("DELETE", `${b}/roles/${r.id}`), 404, msg);
  }
});

test("grants: 404s for unknown role, user, group, project, domain", async () => {
  const p = await mkProject();
  const u = await mkUser();
  const r = await mkRole();
  assertError(await call("PUT", `/projects/${p}/users/${u.id}/roles/nope`), 404, "Could not find role: nope.");
  assertError(await call("PUT", `/projects/${p}/users/nope/roles/${r.id}`), 404, "Could not find user: nope.");
  assertError(await call("PUT", `/projects/${p}/groups/nope/roles/${r.id}`), 404, "Could not find group: nope.");
  assertError(await call("PUT", `/projects/nope/users/${u.id}/roles/${r.id}`), 404, "Could not find project: nope.");
  assertError(await call("PUT", `/domains/nope/users/${u.id}/roles/${r.id}`), 404, "Could not find domain: nope.");
  assertError(await call("GET", `/domains/nope/users/${u.id}/roles`), 404, "Could not find domain: nope.");
  assertError(await call("GET", `/projects/nope/users/${u.id}/roles`), 404, "Could not find project: nope.");
  assertError(await call("PUT", `/system/users/nope/roles/${r.id}`), 404, "Could not find user: nope.");
  // Revoking from a vanished user is a missing assignment, not a missing user.
  assertError(await call("DELETE", `/projects/${p}/users/nope/roles/${r.id}`), 404, /Could not find role assignment/);
});

test("grants: domain-specific roles only on their own domain's projects, never on the system", async () => {
  const d1 = await mkDomain();
  const d2 = await mkDomain();
  const p1 = await mkProject(d1);
  const p2 = await mkProject(d2);
  const u = await mkUser(d1);
  const dr = await mkRole(d1);
  await ok("PUT", `/projects/${p1}/users/${u.id}/roles/${dr.id}`, 204);
  assertError(
    await call("PUT", `/projects/${p2}/users/${u.id}/roles/${dr.id}`),
    403,
    `Project ${p2} must be in the same domain as the role ${dr.id} being assigned.`,
  );
  assertError(
    await call("PUT", `/system/users/${u.id}/roles/${dr.id}`),
    400,
    `Role ${dr.id} is a domain-specific role. Unable to use a domain-specific role in a system assignment.`,
  );
  // Keystone only checks projects: a domain grant of another domain's role is accepted.
  await ok("PUT", `/domains/${d2}/users/${u.id}/roles/${dr.id}`, 204);
  // Listing roles by domain shows exactly that domain's roles.
  assert.deepEqual((await ok("GET", `/roles?domain_id=${d1}`, 200)).roles, [dr]);
});

test("OS-INHERIT grants: keystone's URLs, list on domains only", async () => {
  const d = await mkDomain();
  const p = await mkProject(d);
  const u = await mkUser(d);
  const g = await mkGroup(d);
  const r = await mkRole();
  for (const [t, tid] of [
    ["domains", d],
    ["projects", p],
  ] as const) {
    for (const [a, aid] of [
      ["users", u.id],
      ["groups", g.id],
    ] as const) {
      const member = `/OS-INHERIT/${t}/${tid}/${a}/${aid}/roles/${r.id}/inherited_to_projects`;
      await ok("PUT", member, 204);
      const head = await call("HEAD", member);
      assert.equal(head.status, 204);
      assert.equal(head.text, "");
      assert.equal((await call("GET", member)).status, 204);
      if (t === "domains") {
        const list = (await ok("GET", `/OS-INHERIT/${t}/${tid}/${a}/${aid}/roles/inherited_to_projects`, 200)).roles;
        assert.deepEqual(ids(list), [r.id]);
      } else {
        assertError(await call("GET", `/OS-INHERIT/${t}/${tid}/${a}/${aid}/roles/inherited_to_projects`), 404);
      }
      // The inherited grant is not a direct one.
      assertError(await call("HEAD", `/${t}/${tid}/${a}/${aid}/roles/${r.id}`), 404);
      assert.deepEqual((await ok("GET", `/${t}/${tid}/${a}/${aid}/roles`, 200)).roles, []);
      await ok("DELETE", member, 204);
      assertError(await call("DELETE", member), 404, /Could not find role assignment/);
      assertError(await call("HEAD", member), 404);
    }
  }
  // The pre-fix URL shape is not a route.
  assertError(await call("PUT", `/OS-INHERIT/domains/${d}/users/${u.id}/roles/${r.id}`), 404);
  assertError(await call("PUT", `/OS-INHERIT/domains/${d}/users/${u.id}/roles/nope/inherited_to_projects`), 404, "Could not find role: nope.");
  assertError(await call("PUT", `/OS-INHERIT/domains/nope/users/${u.id}/roles/${r.id}/inherited_to_projects`), 404, "Could not find domain: nope.");
  assertError(await call("PUT", `/OS-INHERIT/projects/${p}/users/nope/roles/${r.id}/inherited_to_projects`), 404, "Could not find user: nope.");
});

// ---- implied roles -----------------------------------------------------------------------

test("implied roles: create (201 body), show, check, list, role_inferences, delete", async () => {
  const [r0, r1, r2] = [await mkRole(), await mkRole(), await mkRole()];
  const created = await call("PUT", `/roles/${r0.id}/implies/${r1.id}`);
  assert.equal(created.status, 201);
  const inf = created.body.role_inference;
  assert.deepEqual(inf.prior_role, { id: r0.id, name: r0.name, links: { self: r0.links.self } });
  assert.deepEqual(inf.implies, { id: r1.id, name: r1.name, links: { self: r1.links.self } });
  assert.match(created.body.links.self, new RegExp(`/v3/roles/${r0.id}/implies/${r1.id}$`));
  assert.deepEqual((await ok("GET", `/roles/${r0.id}/implies/${r1.id}`, 200)), created.body);
  const head = await call("HEAD", `/roles/${r0.id}/implies/${r1.id}`);
  assert.equal(head.status, 204);
  assert.equal(head.text, "");
  assertError(await call("PUT", `/roles/${r0.id}/implies/${r1.id}`), 409, "Conflict occurred attempting to store implied_role - Duplicate entry.");

  await ok("PUT", `/roles/${r0.id}/implies/${r2.id}`, 201);
  const list = await ok("GET", `/roles/${r0.id}/implies`, 200);
  assert.equal(list.role_inference.prior_role.id, r0.id);
  assert.deepEqual(ids(list.role_inference.implies), ids([r1, r2]));
  assert.match(list.links.self, new RegExp(`/v3/roles/${r0.id}/implies$`));
  assert.deepEqual((await ok("GET", `/roles/${r1.id}/implies`, 200)).role_inference.implies, []);

  const rules = (await ok("GET", "/role_inferences", 200)).role_inferences;
  const mine = rules.filter((x: any) => x.prior_role.id === r0.id);
  assert.equal(mine.length, 1, "one entry per prior role");
  assert.deepEqual(ids(mine[0].implies), ids([r1, r2]));
  assert.ok(rules.some((x: any) => x.prior_role.name === "admin" && x.implies.some((i: any) => i.name === "member")));

  await ok("DELETE", `/roles/${r0.id}/implies/${r1.id}`, 204);
  assertError(await call("GET", `/roles/${r0.id}/implies/${r1.id}`), 404, `${r0.id} does not imply ${r1.id}.`);
  assertError(await call("HEAD", `/roles/${r0.id}/implies/${r1.id}`), 404);
  assertError(await call("DELETE", `/roles/${r0.id}/implies/${r1.id}`), 404);
  assertError(await call("PUT", `/roles/${r0.id}/implies/nope`), 404, "Could not find role: nope.");
  assertError(await call("GET", `/roles/nope/implies`), 404, "Could not find role: nope.");

  // Deleting a role drops its rules.
  await ok("DELETE", `/roles/${r2.id}`, 204);
  assert.deepEqual((await ok("GET", `/roles/${r0.id}/implies`, 200)).role_inference.implies, []);
});

test("implied roles: domain-specific rules and the prohibited admin role", async () => {
  const d = await mkDomain();
  const d2 = await mkDomain();
  const g = await mkRole();
  const dr1 = await mkRole(d);
  const dr2 = await mkRole(d);
  const dr3 = await mkRole(d2);
  await ok("PUT", `/roles/${dr1.id}/implies/${dr2.id}`, 201);
  await ok("PUT", `/roles/${dr1.id}/implies/${dr3.id}`, 201);
  await ok("PUT", `/roles/${dr1.id}/implies/${g.id}`, 201);
  assertError(await call("PUT", `/roles/${g.id}/implies/${dr1.id}`), 403, "Global role cannot imply a domain-specific role");
  const adminRole = (await ok("GET", "/roles?name=admin", 200)).roles[0];
  assertError(await call("PUT", `/roles/${g.id}/implies/${adminRole.id}`), 403, `${adminRole.id} cannot be an implied roles.`);
});

test("implied roles: a project member may not manage them", async () => {
  const m = await persona(tc, "member");
  const [a, b] = [await mkRole(), await mkRole()];
  assertError(await call("PUT", `/roles/${a.id}/implies/${b.id}`, undefined, m.token), 403);
  assertError(await call("GET", "/role_inferences", undefined, m.token), 403);
  assertError(await call("GET", `/roles/${a.id}/implies`, undefined, m.token), 403);
});

// ---- role assignments --------------------------------------------------------------------

test("role_assignments: direct listing with every filter and keystone's entry shape", async () => {
  const d = await mkDomain();
  const p = await mkProject(d);
  const u = await mkUser(d);
  const g = await mkGroup(d);
  const [r1, r2, r3, r4] = [await mkRole(), await mkRole(), await mkRole(), await mkRole()];
  await ok("PUT", `/projects/${p}/users/${u.id}/roles/${r1.id}`, 204);
  await ok("PUT", `/domains/${d}/groups/${g.id}/roles/${r2.id}`, 204);
  await ok("PUT", `/OS-INHERIT/domains/${d}/users/${u.id}/roles/${r3.id}/inherited_to_projects`, 204);
  await ok("PUT", `/system/users/${u.id}/roles/${r4.id}`, 204);
  const list = async (q: string): Promise<any[]> => (await ok("GET", `/role_assignments?${q}`, 200)).role_assignments;

  const mine = await list(`user.id=${u.id}`);
  assert.equal(mine.length, 3);
  const base = tc.identity;
  assert.deepEqual(
    mine.find((a) => a.role.id === r1.id),
    { scope: { project: { id: p } }, user: { id: u.id }, role: { id: r1.id }, links: { assignment: `${base}/projects/${p}/users/${u.id}/roles/${r1.id}` } },
  );
  assert.deepEqual(mine.find((a) => a.role.id === r3.id), {
    scope: { domain: { id: d }, "OS-INHERIT:inherited_to": "projects" },
    user: { id: u.id },
    role: { id: r3.id },
    links: { assignment: `${base}/OS-INHERIT/domains/${d}/users/${u.id}/roles/${r3.id}/inherited_to_projects` },
  });
  assert.deepEqual(mine.find((a) => a.role.id === r4.id), {
    scope: { system: { all: true } },
    user: { id: u.id },
    role: { id: r4.id },
    links: { assignment: `${base}/system/users/${u.id}/roles/${r4.id}` },
  });
  assert.deepEqual((await list(`group.id=${g.id}`)).map((a) => [a.group.id, a.scope.domain.id, a.role.id]), [[g.id, d, r2.id]]);
  assert.deepEqual((await list(`role.id=${r1.id}`)).map((a) => a.user.id), [u.id]);
  assert.deepEqual((await list(`scope.project.id=${p}`)).map((a) => a.role.id), [r1.id]);
  assert.deepEqual(ids((await list(`scope.domain.id=${d}`)).map((a) => a.role)), ids([r2, r3]));
  assert.deepEqual((await list(`scope.domain.id=${d}&scope.OS-INHERIT:inherited_to=projects`)).map((a) => a.role.id), [r3.id]);
  assert.deepEqual(ids((await list(`user.id=${u.id}&scope.OS-INHERIT:inherited_to=none`)).map((a) => a.role)), ids([r1, r4]));
  assert.deepEqual((await list(`user.id=${u.id}&scope.system=all`)).map((a) => a.role.id), [r4.id]);
  assert.ok((await list("scope.system=all")).every((a) => a.scope.system.all === true));
  assert.deepEqual(await list("user.id=nobody"), []);

  const withNames = await list(`user.id=${u.id}&scope.project.id=${p}&include_names`);
  const dName = (await ok("GET", `/domains/${d}`, 200)).domain.name;
  const pName = (await ok("GET", `/projects/${p}`, 200)).project.name;
  assert.deepEqual(withNames[0].user, { id: u.id, name: u.name, domain: { id: d, name: dName } });
  assert.deepEqual(withNames[0].scope, { project: { id: p, name: pName, domain: { id: d, name: dName } } });
  assert.deepEqual(withNames[0].role, { id: r1.id, name: r1.name });
  const links = (await ok("GET", `/role_assignments?user.id=${u.id}`, 200)).links;
  assert.deepEqual(Object.keys(links).sort(), ["next", "previous", "self"]);
});

test("role_assignments: effective expands groups, inheritance and implied roles, drops domain roles", async () => {
  const d = await mkDomain();
  const parent = await mkProject(d);
  const child = await mkProject(d, parent);
  const leaf = await mkProject(d, child);
  const other = await mkProject(d);
  const u = await mkUser(d);
  const u2 = await mkUser(d);
  const g = await mkGroup(d);
  await ok("PUT", `/groups/${g.id}/users/${u.id}`, 204);
  await ok("PUT", `/groups/${g.id}/users/${u2.id}`, 204);
  const [rg, rp, rd, rImplied] = [await mkRole(), await mkRole(), await mkRole(), await mkRole()];
  const dr = await mkRole(d);
  await ok("PUT", `/roles/${rg.id}/implies/${rImplied.id}`, 201);
  await ok("PUT", `/projects/${other}/groups/${g.id}/roles/${rg.id}`, 204);
  await ok("PUT", `/OS-INHERIT/projects/${parent}/users/${u.id}/roles/${rp.id}/inherited_to_projects`, 204);
  await ok("PUT", `/OS-INHERIT/domains/${d}/groups/${g.id}/roles/${rd.id}/inherited_to_projects`, 204);
  await ok("PUT", `/projects/${other}/users/${u.id}/roles/${dr.id}`, 204);
  const list = async (q: string): Promise<any[]> => (await ok("GET", `/role_assignments?${q}&effective`, 200)).role_assignments;
  const base = tc.identity;

  // Group grant on `other` → one entry per member, with the membership link; plus the implied role.
  const onOther = await list(`scope.project.id=${other}&user.id=${u.id}`);
  const viaGroup = onOther.find((a) => a.role.id === rg.id);
  assert.deepEqual(viaGroup, {
    scope: { project: { id: other } },
    user: { id: u.id },
    role: { id: rg.id },
    links: {
      assignment: `${base}/projects/${other}/groups/${g.id}/roles/${rg.id}`,
      membership: `${base}/groups/${g.id}/users/${u.id}`,
    },
  });
  const implied = onOther.find((a) => a.role.id === rImplied.id);
  assert.deepEqual(implied.links, {
    assignment: `${base}/projects/${other}/groups/${g.id}/roles/${rg.id}`,
    membership: `${base}/groups/${g.id}/users/${u.id}`,
    prior_role: `${base}/prior_role/${rImplied.id}/implies/${rg.id}`,
  });
  assert.ok(!onOther.some((a) => a.role.id === dr.id), "domain-specific roles never show as effective");
  // The domain-inherited group grant reaches `other` too.
  assert.deepEqual(onOther.map((a) => a.role.id).sort(), [rg.id, rImplied.id, rd.id].sort());

  // Project-inherited grant on parent: not on parent itself, on child and leaf.
  assert.ok(!(await list(`scope.project.id=${parent}&user.id=${u.id}`)).some((a) => a.role.id === rp.id));
  for (const pid of [child, leaf]) {
    const got = (await list(`scope.project.id=${pid}&user.id=${u.id}`)).find((a) => a.role.id === rp.id);
    assert.deepEqual(got, {
      scope: { project: { id: pid }, "OS-INHERIT:inherited_to": "projects" },
      user: { id: u.id },
      role: { id: rp.id },
      links: { assignment: `${base}/OS-INHERIT/projects/${parent}/users/${u.id}/roles/${rp.id}/inherited_to_projects` },
    });
  }
  // Domain-inherited group grant: every project of the domain, every member.
  const rdAll = (await list(`role.id=${rd.id}`)).map((a) => `${a.user.id}@${a.scope.project.id}`).sort();
  assert.deepEqual(rdAll, [u.id, u2.id].flatMap((x) => [parent, child, leaf, other].map((p) => `${x}@${p}`)).sort());
  const leafRd = (await list(`scope.project.id=${leaf}&user.id=${u2.id}`)).find((a) => a.role.id === rd.id);
  assert.equal(leafRd.links.assignment, `${base}/OS-INHERIT/domains/${d}/groups/${g.id}/roles/${rd.id}/inherited_to_projects`);
  assert.equal(leafRd.links.membership, `${base}/groups/${g.id}/users/${u2.id}`);

  // No group or inherited-domain assignment survives effective mode.
  const everything = await list(`user.id=${u.id}`);
  assert.ok(everything.every((a) => a.user && a.scope.project));
  // include_subtree: the parent's subtree, inheritance applied inside it.
  const tree = (await ok("GET", `/role_assignments?scope.project.id=${parent}&include_subtree=true&effective&user.id=${u.id}`, 200)).role_assignments;
  assert.deepEqual(
    tree.filter((a: any) => a.role.id === rp.id).map((a: any) => a.scope.project.id).sort(),
    [child, leaf].sort(),
  );
  // include_names in effective mode names the user, project and role.
  const named = await list(`scope.project.id=${other}&user.id=${u.id}&include_names=1`);
  assert.ok(named.every((a) => typeof a.user.name === "string" && typeof a.scope.project.name === "string" && typeof a.role.name === "string"));

  // Tokens carry the same roles.
  const tok = await passwordToken(tc, { id: u.id, password: "pw-secret-1", projectId: other });
  const body = (await tc.request("GET", `${V3}/auth/tokens`, { token: admin, headers: { "x-subject-token": tok } })).body;
  assert.deepEqual(body.token.roles.map((r: any) => r.id).sort(), [rg.id, rImplied.id, rd.id].sort());
});

test("role_assignments: tempest's implied-role and domain-role checks", async () => {
  const d = await mkDomain();
  const p = await mkProject(d);
  const u = await mkUser(d);
  const [r0, r1] = [await mkRole(), await mkRole()];
  const dr = await mkRole(d);
  await ok("PUT", `/projects/${p}/users/${u.id}/roles/${r0.id}`, 204);
  await ok("PUT", `/roles/${r0.id}/implies/${r1.id}`, 201);
  const q = `/role_assignments?scope.project.id=${p}&user.id=${u.id}&effective`;
  assert.deepEqual(((await ok("GET", q, 200)).role_assignments as any[]).map((a) => a.role.id).sort(), [r0.id, r1.id].sort());
  await ok("DELETE", `/roles/${r0.id}/implies/${r1.id}`, 204);
  assert.deepEqual(((await ok("GET", q, 200)).role_assignments as any[]).map((a) => a.role.id), [r0.id]);
  await ok("DELETE", `/projects/${p}/users/${u.id}/roles/${r0.id}`, 204);
  await ok("PUT", `/projects/${p}/users/${u.id}/roles/${dr.id}`, 204);
  assert.deepEqual((await ok("GET", q, 200)).role_assignments, []);
  // The direct listing still shows the domain role.
  assert.deepEqual(
    ((await ok("GET", `/role_assignments?scope.project.id=${p}&user.id=${u.id}`, 200)).role_assignments as any[]).map((a) => a.role.id),
    [dr.id],
  );
});

test("role_assignments: invalid filter combinations, include_subtree rules, policy", async () => {
  const p = await mkProject();
  const cases: Array<[string, string]> = [
    [`scope.domain.id=default&scope.project.id=${p}`, "Specify a domain or project, not both"],
    ["scope.domain.id=default&scope.system=all", "Specify system or domain, not both"],
    [`scope.project.id=${p}&scope.system=all`, "Specify system or project, not both"],
    ["user.id=a&group.id=b", "Specify a user or group, not both"],
    ["group.id=b&effective", "Combining effective and group filter will always result in an empty list."],
    [
      "scope.domain.id=default&scope.OS-INHERIT:inherited_to=projects&effective",
      "Combining effective, domain and inherited filters will always result in an empty list.",
    ],
    ["include_subtree=true", "scope.project.id must be specified if include_subtree is also specified"],
  ];
  for (const [q, msg] of cases) assertError(await call("GET", `/role_assignments?${q}`), 400, msg);
  assertError(await call("GET", "/role_assignments?scope.project.id=nope&include_subtree=1"), 404, "Could not find project: nope.");
  assertError(await call("GET", "/role_assignments?user.id=nope&effective"), 404, "Could not find user: nope.");
  // effective=0 is Keystone's only false spelling.
  assert.equal((await call("GET", "/role_assignments?group.id=b&effective=0")).status, 200);

  const m = await persona(tc, "member");
  assertError(
    await call("GET", "/role_assignments", undefined, m.token),
    403,
    "You are not authorized to perform the requested action: identity:list_role_assignments.",
  );
  assertError(
    await call("GET", `/role_assignments?scope.project.id=${m.projectId}&include_subtree`, undefined, m.token),
    403,
    "You are not authorized to perform the requested action: identity:list_role_assignments_for_tree.",
  );
});

test("role_assignments: a domain-scoped reader sees only its domain's assignments", async () => {
  const d = await mkDomain();
  const p = await mkProject(d);
  const u = await mkUser(d, "pw-domain-1");
  const reader = (await ok("GET", "/roles?name=reader", 200)).roles[0];
  const r = await mkRole();
  await ok("PUT", `/domains/${d}/users/${u.id}/roles/${reader.id}`, 204);
  await ok("PUT", `/projects/${p}/users/${u.id}/roles/${r.id}`, 204);
  const tok = await passwordToken(tc, { id: u.id, password: "pw-domain-1", domainScope: d });
  const res = await call("GET", "/role_assignments", undefined, tok);
  assert.equal(res.status, 200, res.text);
  const got = res.body.role_assignments as any[];
  assert.ok(got.length >= 2);
  for (const a of got) {
    if (a.scope.domain) assert.equal(a.scope.domain.id, d);
    else assert.equal(a.scope.project.id, p);
  }
  // list_groups for the same reader is limited to the domain.
  const g = await mkGroup(d);
  await mkGroup();
  const groups = (await call("GET", "/groups", undefined, tok)).body.groups as any[];
  assert.deepEqual(ids(groups), [g.id]);
});
