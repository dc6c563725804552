import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { adminToken, freePort, MAIN, serve } from "../support/serve.js";

/**
 * `stackbox token-rotate` on a running cloud's state: tokens survive one or two rotations
 * (the old key is kept), die once their key is retired (three keys are kept), and new tokens
 * keep working throughout; a restart changes nothing.
 */
test("token keys rotate under a running server", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sbx-rotate-"));
  const pw = "rotate-admin-pw";
  let s = await serve({ dataDir: dir, port: await freePort(), adminPassword: pw });
  const check = async (token: string, subject: string): Promise<number> =>
    (await fetch(`${s.url}/identity/v3/auth/tokens`, { method: "HEAD", headers: { "x-auth-token": token, "x-subject-token": subject } })).status;
  const rotate = (): void => {
    execFileSync(process.execPath, [MAIN, "token-rotate", "--data-dir", dir], { stdio: "pipe" });
  };
  try {
    const t0 = await adminToken(s.url, pw);
    rotate();
    await new Promise((r) => setTimeout(r, 1100));
    const t1 = await adminToken(s.url, pw);
    assert.equal(await check(t1, t0), 200, "a token survives one rotation");
    rotate();
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await check(t1, t0), 200, "and a second");
    await s.stop();
    s = await serve({ dataDir: dir, port: await freePort() });
    assert.equal(await check(t1, t0), 200, "and a restart");
    rotate();
    await new Promise((r) => setTimeout(r, 1100));
    const t3 = await adminToken(s.url, pw);
    assert.equal(await check(t3, t0), 404, "its key retired, the first token is gone");
    assert.equal(await check(t3, t1), 200, "a token signed with a kept key still validates");
    assert.equal(await check(t3, t3), 200);
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
