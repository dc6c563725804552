/**
 * Scale-out: two `stackbox serve` processes on one PostgreSQL database behave as one Keystone.
 * A token issued by A validates on B, an entity created on A is seen by B, and revocations and
 * deletions on A invalidate tokens on B (no process keeps authoritative state in memory).
 * Runs only when STACKBOX_TEST_PG is set.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { adminToken, freePort, freshPgDatabase, serve } from "../support/serve.js";
import type { Served } from "../support/serve.js";

const PG = process.env["STACKBOX_TEST_PG"];
const PASSWORD = "multi-admin-pw";

async function call(base: string, method: string, path: string, o: { token?: string; subject?: string; body?: unknown } = {}): Promise<{ status: number; body: any; headers: Headers }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const headers: Record<string, string> = {};
  if (o.token) headers["x-auth-token"] = o.token;
  if (o.subject) headers["x-subject-token"] = o.subject;
  if (o.body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(`${base}/identity/v3${path}`, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as unknown) : undefined, headers: r.headers };
}

describe("two processes on one PostgreSQL", { skip: !PG && "STACKBOX_TEST_PG is not set" }, () => {
  let a: Served | undefined;
  let b: Served | undefined;
  let dir = "";
  let drop: (() => Promise<void>) | undefined;

  before(async () => {
    const db = await freshPgDatabase(PG!);
    drop = db.drop;
    dir = mkdtempSync(join(tmpdir(), "stackbox-multi-"));
    // One after the other: the first creates the schema, token keys and the admin.
    a = await serve({ dataDir: join(dir, "a"), port: await freePort(), adminPassword: PASSWORD, database: db.url });
    b = await serve({ dataDir: join(dir, "b"), port: await freePort(), adminPassword: "ignored-on-existing-cloud", database: db.url });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await drop?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a token issued by A validates on B, and B's admin password is A's", async () => {
    const t = await adminToken(a!.url, PASSWORD);
    const v = await call(b!.url, "GET", "/auth/tokens", { token: t, subject: t });
    assert.equal(v.status, 200);
    assert.equal(v.body.token.user.name, "admin");
    await adminToken(b!.url, PASSWORD);
  });

  test("a user created on A is seen by B, and can log in on B", async () => {
    const t = await adminToken(a!.url, PASSWORD);
    const name = `mp-${randomBytes(4).toString("hex")}`;
    const u = await call(a!.url, "POST", "/users", { token: t, body: { user: { name, domain_id: "default", password: "mp-pw-1" } } });
    assert.equal(u.status, 201);
    const s = await call(b!.url, "GET", `/users/${u.body.user.id}`, { token: t });
    assert.equal(s.status, 200);
    assert.equal(s.body.user.name, name);
    const login = await call(b!.url, "POST", "/auth/tokens", {
      body: { auth: { identity: { methods: ["password"], password: { user: { id: u.body.user.id, password: "mp-pw-1" } } } } },
    });
    assert.equal(login.status, 201);
  });

  test("a token revoked on A fails on B (even after B validated it)", async () => {
    const admin = await adminToken(a!.url, PASSWORD);
    const t = await adminToken(a!.url, PASSWORD);
    assert.equal((await call(b!.url, "GET", "/auth/tokens", { token: admin, subject: t })).status, 200);
    assert.equal((await call(b!.url, "GET", "/projects", { token: t })).status, 200);
    assert.equal((await call(a!.url, "DELETE", "/auth/tokens", { token: admin, subject: t })).status, 204);
    const v = await call(b!.url, "GET", "/auth/tokens", { token: admin, subject: t });
    assert.equal(v.status, 404);
    assert.equal(v.body.error.code, 404);
    const use = await call(b!.url, "GET", "/projects", { token: t });
    assert.equal(use.status, 401);
  });

  test("deleting a user on A invalidates that user's tokens on B", async () => {
    const admin = await adminToken(a!.url, PASSWORD);
    const name = `mpd-${randomBytes(4).toString("hex")}`;
    const u = await call(a!.url, "POST", "/users", { token: admin, body: { user: { name, domain_id: "default", password: "mp-pw-2" } } });
    const login = await call(b!.url, "POST", "/auth/tokens", {
      body: { auth: { identity: { methods: ["password"], password: { user: { id: u.body.user.id, password: "mp-pw-2" } } } } },
    });
    const ut = login.headers.get("x-subject-token")!;
    assert.equal((await call(b!.url, "GET", "/auth/tokens", { token: admin, subject: ut })).status, 200);
    assert.equal((await call(a!.url, "DELETE", `/users/${u.body.user.id}`, { token: admin })).status, 204);
    assert.equal((await call(b!.url, "GET", "/auth/tokens", { token: admin, subject: ut })).status, 404);
  });
});

test("two processes started at once on an empty PostgreSQL both come up as one cloud", { skip: !PG && "STACKBOX_TEST_PG is not set" }, async () => {
  const db = await freshPgDatabase(PG!);
  const dir = mkdtempSync(join(tmpdir(), "sbx-race-"));
  const [pa, pb] = [await freePort(), await freePort()];
  const started = await Promise.allSettled([
    serve({ dataDir: join(dir, "a"), port: pa, adminPassword: PASSWORD, database: db.url }),
    serve({ dataDir: join(dir, "b"), port: pb, adminPassword: PASSWORD, database: db.url }),
  ]);
  try {
    for (const s of started) assert.equal(s.status, "fulfilled", s.status === "rejected" ? String(s.reason) : "");
    const [a, b] = started.map((s) => (s as PromiseFulfilledResult<Served>).value);
    const ta = await adminToken(a!.url, PASSWORD);
    assert.equal((await call(b!.url, "GET", "/auth/tokens", { token: ta, subject: ta })).status, 200);
    const services = await call(a!.url, "GET", "/services?type=identity", { token: ta });
    assert.equal(services.body.services.length, 1, "one identity service, not one per process");
    const admins = await call(a!.url, "GET", "/users?name=admin", { token: ta });
    assert.equal(admins.body.users.length, 1);
  } finally {
    for (const s of started) if (s.status === "fulfilled") await s.value.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
