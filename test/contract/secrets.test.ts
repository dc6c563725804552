import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { adminToken, freePort, serve } from "../support/serve.js";

/**
 * No password, token id or secret reaches the logs, even at trace level and even when
 * requests fail. The first-start banner prints the generated admin password on purpose (the
 * operator needs it); every log line after it is checked.
 */
test("secrets never appear in the server's logs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sbx-secrets-"));
  const adminPw = "Adm1n-S3cret-Value";
  const s = await serve({ dataDir: dir, port: await freePort(), adminPassword: adminPw, extra: ["--log-level", "trace"] });
  try {
    const base = `${s.url}/identity/v3`;
    const admin = await adminToken(s.url, adminPw);
    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const r = await fetch(`${base}${path}`, {
        method,
        headers: { "content-type": "application/json", "x-auth-token": admin, ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await r.text();
      return { status: r.status, headers: r.headers, json: text ? JSON.parse(text) : undefined };
    };
    const userPw = "Us3r-Pa55word-Secret";
    const u = await call("POST", "/users", { user: { name: "leaky", domain_id: "default", password: userPw } });
    assert.equal(u.status, 201);
    const p = await call("POST", "/projects", { project: { name: "leaky-p", domain_id: "default" } });
    const roles = await call("GET", "/roles?name=member");
    await call("PUT", `/projects/${p.json.project.id}/users/${u.json.user.id}/roles/${roles.json.roles[0].id}`);
    const login = await fetch(`${base}/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ auth: { identity: { methods: ["password"], password: { user: { id: u.json.user.id, password: userPw } } }, scope: { project: { id: p.json.project.id } } } }),
    });
    const userToken = login.headers.get("x-subject-token")!;
    // A failed login with a wrong password, and a bad token.
    await fetch(`${base}/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ auth: { identity: { methods: ["password"], password: { user: { id: u.json.user.id, password: "Wr0ng-Guess-Secret" } } } } }),
    });
    await call("GET", "/auth/tokens", undefined, { "x-subject-token": userToken });
    const ac = await fetch(`${base}/users/${u.json.user.id}/application_credentials`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-auth-token": userToken },
      body: JSON.stringify({ application_credential: { name: "leaky-ac", secret: "App-Cred-Secret-Value" } }),
    });
    assert.equal(ac.status, 201);
    const ec2 = await call("POST", `/users/${u.json.user.id}/credentials/OS-EC2`, { tenant_id: p.json.project.id });
    await call("POST", `/users/${u.json.user.id}/password`, { user: { original_password: userPw, password: "N3w-Pa55word-Secret" } });

    // The state holds the token and credential keys: owner-only on disk.
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const f of readdirSync(dir)) assert.equal(statSync(join(dir, f)).mode & 0o077, 0, `${f} is readable by others`);

    const lines = s.output().split("\n").filter((l) => l.startsWith("{"));
    assert.ok(lines.length > 5, "trace level produced log lines");
    const logs = lines.join("\n");
    for (const secret of [adminPw, userPw, "Wr0ng-Guess-Secret", "App-Cred-Secret-Value", "N3w-Pa55word-Secret", admin, userToken, ec2.json?.credential?.secret]) {
      if (!secret) continue;
      assert.ok(!logs.includes(secret), `a secret (${secret.slice(0, 4)}…) appears in the logs`);
    }
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
