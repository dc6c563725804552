/**
 * kill -9 durability: 16 concurrent writers create projects and users against a real
 * `stackbox serve` for about 2 s; the process is killed with SIGKILL mid-flight, restarted on
 * the same state, and every write that was acknowledged (201) must be there. The admin
 * password and a token issued before the crash must still work (token keys are persisted).
 * On SQLite (a file in a temp dir) always; on PostgreSQL too when STACKBOX_TEST_PG is set.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";
import { adminToken, freePort, freshPgDatabase, serve } from "../support/serve.js";

const PASSWORD = "crash-admin-pw";
const WRITERS = 16;
const RUN_MS = 2000;

interface Acked {
  kind: "project" | "user";
  id: string;
  name: string;
}

async function crashAndRecover(t: TestContext, database: string | undefined): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "stackbox-crash-"));
  const port = await freePort();
  const opts = { dataDir: join(dir, "state"), port, adminPassword: PASSWORD, ...(database ? { database } : {}) };
  let server = await serve(opts);
  try {
    const token = await adminToken(server.url, PASSWORD);
    const acked: Acked[] = [];
    let stop = false;
    let killed = false;
    let attempts = 0;
    let failures = 0;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const kind = (w + i) % 2 === 0 ? "project" : "user";
        const name = `crash-${w}-${i}-${randomBytes(3).toString("hex")}`;
        const body = kind === "project" ? { project: { name, domain_id: "default" } } : { user: { name, domain_id: "default" } };
        attempts++;
        try {
          const r = await fetch(`${server.url}/identity/v3/${kind}s`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-auth-token": token },
            body: JSON.stringify(body),
          });
          const j = (await r.json()) as Record<string, { id: string }>;
          if (r.status === 201) acked.push({ kind, id: j[kind]!.id, name });
          else if (!stop) throw new Error(`${kind} create: ${r.status} ${JSON.stringify(j)}`);
        } catch (e) {
          // After the kill, connections fail: those writes were never acknowledged.
          if (!killed) throw e;
          failures++;
          return;
        }
      }
    };
    const errors: unknown[] = [];
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w).catch((e: unknown) => void errors.push(e)));
    await new Promise((r) => setTimeout(r, RUN_MS));
    // Mid-flight: the writers are still sending.
    killed = true;
    await server.kill9();
    stop = true;
    await Promise.all(writers);
    assert.deepEqual(errors, [], "a writer failed before the kill");
    assert.ok(acked.length > 20, `only ${acked.length} writes were acknowledged in ${RUN_MS} ms (${attempts} attempts)`);

    server = await serve(opts);
    // The pre-crash token still validates (keys and state survived), and the password works.
    const v = await fetch(`${server.url}/identity/v3/auth/tokens`, { headers: { "x-auth-token": token, "x-subject-token": token } });
    assert.equal(v.status, 200, `pre-crash token after restart: ${v.status} ${await v.text()}`);
    const fresh = await adminToken(server.url, PASSWORD);

    const list = async (kind: string): Promise<Set<string>> => {
      const r = await fetch(`${server.url}/identity/v3/${kind}s`, { headers: { "x-auth-token": fresh } });
      assert.equal(r.status, 200);
      const j = (await r.json()) as Record<string, Array<{ id: string }>>;
      return new Set(j[`${kind}s`]!.map((x) => x.id));
    };
    const projects = await list("project");
    const users = await list("user");
    const lost = acked.filter((a) => !(a.kind === "project" ? projects : users).has(a.id));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged writes were lost`);
    // And each one reads back by id with its name.
    for (const a of acked.slice(0, 50)) {
      const r = await fetch(`${server.url}/identity/v3/${a.kind}s/${a.id}`, { headers: { "x-auth-token": fresh } });
      const j = (await r.json()) as Record<string, { name: string }>;
      assert.equal(r.status, 200);
      assert.equal(j[a.kind]!.name, a.name);
    }
    // The restarted cloud still takes writes.
    const p = await fetch(`${server.url}/identity/v3/projects`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-auth-token": fresh },
      body: JSON.stringify({ project: { name: `after-${randomBytes(3).toString("hex")}` } }),
    });
    assert.equal(p.status, 201);
    t.diagnostic(`${acked.length} writes acknowledged of ${attempts} sent; ${failures} in flight at the kill`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test("kill -9 under 16 concurrent writers loses no acknowledged write (SQLite file)", async (t) => {
  await crashAndRecover(t, undefined);
});

const PG = process.env["STACKBOX_TEST_PG"];
test("kill -9 under 16 concurrent writers loses no acknowledged write (PostgreSQL)", { skip: !PG && "STACKBOX_TEST_PG is not set" }, async (t) => {
  const db = await freshPgDatabase(PG!);
  try {
    await crashAndRecover(t, db.url);
  } finally {
    await db.drop();
  }
});
