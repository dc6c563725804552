import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud, unique } from "../support/cloud.js";

/** Concurrent requests must neither lose a write nor break an invariant (SQLite and PostgreSQL). */
let tc: TestCloud;
let admin: string;
const V3 = "/identity/v3";
before(async () => {
  tc = await startTestCloud();
  admin = await tc.adminToken();
});
after(async () => {
  await tc.close();
});

const N = 16;

test("16 concurrent PATCHes of different attributes of one user all land", async () => {
  const u = await tc.request("POST", `${V3}/users`, { token: admin, body: { user: { name: unique("cu"), domain_id: "default" } } });
  const id = u.body.user.id as string;
  const res = await Promise.all(
    Array.from({ length: N }, (_, i) => tc.request("PATCH", `${V3}/users/${id}`, { token: admin, body: { user: { [`attr${i}`]: `v${i}` } } })),
  );
  for (const r of res) assert.equal(r.status, 200, r.text);
  const got = await tc.request("GET", `${V3}/users/${id}`, { token: admin });
  for (let i = 0; i < N; i++) assert.equal(got.body.user[`attr${i}`], `v${i}`, `attr${i} was lost`);
});

test("16 concurrent PATCHes of a project's options and extras all land", async () => {
  const p = await tc.request("POST", `${V3}/projects`, { token: admin, body: { project: { name: unique("cp"), domain_id: "default" } } });
  const id = p.body.project.id as string;
  const res = await Promise.all(
    Array.from({ length: N }, (_, i) => tc.request("PATCH", `${V3}/projects/${id}`, { token: admin, body: { project: { [`x${i}`]: i } } })),
  );
  for (const r of res) assert.equal(r.status, 200, r.text);
  const got = await tc.request("GET", `${V3}/projects/${id}`, { token: admin });
  for (let i = 0; i < N; i++) assert.equal(got.body.project[`x${i}`], i, `x${i} was lost`);
});

test("16 concurrent creates of one name: exactly one 201, the rest 409, one row", async () => {
  const name = unique("dup");
  const res = await Promise.all(
    Array.from({ length: N }, () => tc.request("POST", `${V3}/projects`, { token: admin, body: { project: { name, domain_id: "default" } } })),
  );
  assert.equal(res.filter((r) => r.status === 201).length, 1);
  for (const r of res.filter((x) => x.status !== 201)) {
    assert.equal(r.status, 409, r.text);
    assert.equal(r.body.error.code, 409);
  }
  const list = await tc.request("GET", `${V3}/projects?name=${name}`, { token: admin });
  assert.equal(list.body.projects.length, 1);
});

test("16 concurrent grants and tag additions are all recorded", async () => {
  const p = await tc.request("POST", `${V3}/projects`, { token: admin, body: { project: { name: unique("gp"), domain_id: "default" } } });
  const pid = p.body.project.id as string;
  const role = (await tc.request("GET", `${V3}/roles?name=member`, { token: admin })).body.roles[0].id as string;
  const users = await Promise.all(
    Array.from({ length: N }, () => tc.request("POST", `${V3}/users`, { token: admin, body: { user: { name: unique("gu"), domain_id: "default" } } })),
  );
  const grants = await Promise.all(users.map((u) => tc.request("PUT", `${V3}/projects/${pid}/users/${u.body.user.id}/roles/${role}`, { token: admin })));
  for (const g of grants) assert.equal(g.status, 204, g.text);
  const tags = await Promise.all(Array.from({ length: N }, (_, i) => tc.request("PUT", `${V3}/projects/${pid}/tags/t${i}`, { token: admin })));
  for (const t of tags) assert.equal(t.status, 201, t.text);
  const ra = await tc.request("GET", `${V3}/role_assignments?scope.project.id=${pid}`, { token: admin });
  assert.equal(ra.body.role_assignments.length, N);
  const tl = await tc.request("GET", `${V3}/projects/${pid}/tags`, { token: admin });
  assert.equal(tl.body.tags.length, N);
});

test("grants racing a role delete leave no orphan assignment; listing with names still works", async () => {
  const p = await tc.request("POST", `${V3}/projects`, { token: admin, body: { project: { name: unique("op"), domain_id: "default" } } });
  const u = await tc.request("POST", `${V3}/users`, { token: admin, body: { user: { name: unique("ou"), domain_id: "default" } } });
  const r = await tc.request("POST", `${V3}/roles`, { token: admin, body: { role: { name: unique("or") } } });
  const [pid, uid, rid] = [p.body.project.id, u.body.user.id, r.body.role.id];
  const reqs = Array.from({ length: 30 }, (_, i) =>
    i === 15
      ? tc.request("DELETE", `${V3}/roles/${rid}`, { token: admin })
      : tc.request("PUT", `${V3}/projects/${pid}/users/${uid}/roles/${rid}`, { token: admin }),
  );
  for (const res of await Promise.all(reqs)) assert.ok([204, 404].includes(res.status), `${res.status} ${res.text}`);
  const ra = await tc.request("GET", `${V3}/role_assignments?scope.project.id=${pid}&include_names=true`, { token: admin });
  assert.equal(ra.status, 200, ra.text);
  assert.equal(ra.body.role_assignments.length, 0, "no assignment may point at the deleted role");
});

test("concurrent deletes of one project: one 204, the rest 404", async () => {
  const p = await tc.request("POST", `${V3}/projects`, { token: admin, body: { project: { name: unique("dp"), domain_id: "default" } } });
  const res = await Promise.all(Array.from({ length: 10 }, () => tc.request("DELETE", `${V3}/projects/${p.body.project.id}`, { token: admin })));
  assert.equal(res.filter((r) => r.status === 204).length, 1);
  assert.equal(res.filter((r) => r.status === 404).length, 9);
});

test("a NUL character anywhere is a 400, never a 500", async () => {
  const auth = await tc.request("POST", `${V3}/auth/tokens`, {
    body: { auth: { identity: { methods: ["password"], password: { user: { name: "ad\u0000min", domain: { id: "default" }, password: "x" } } } } },
  });
  assert.equal(auth.status, 400);
  assert.equal(auth.body.error.code, 400);
  assert.equal((await tc.request("GET", `${V3}/projects?name=a%00b`, { token: admin })).status, 400);
  assert.equal((await tc.request("GET", `${V3}/projects/a%00b`, { token: admin })).status, 400);
  const create = await tc.request("POST", `${V3}/projects`, { token: admin, body: { project: { name: "x\u0000y", domain_id: "default" } } });
  assert.equal(create.status, 400);
});
