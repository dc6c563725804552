/**
 * Swift under kill -9: bench/object-crash PUTs small objects with 16 clients against a real
 * `stackbox serve` for 2 s, kills it with SIGKILL mid-load, restarts it on the same state and
 * reads back every object acknowledged with 201, which must be byte-equal. On SQLite always;
 * on PostgreSQL too when STACKBOX_TEST_PG is set.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { freePort, freshPgDatabase } from "../support/serve.js";

const run = promisify(execFile);
const script = new URL("../../bench/object-crash.js", import.meta.url).pathname;

async function crash(database?: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "stackbox-object-crash-"));
  try {
    const port = await freePort();
    const { stdout } = await run(process.execPath, [script, join(dir, "state"), String(port), "2", ...(database ? [database] : [])], { timeout: 120_000 });
    const value = (metric: string): number => Number(stdout.split("\n").find((l) => l.split("\t")[1] === metric)?.split("\t")[2]);
    assert.ok(value("kill -9 under PUT load: acknowledged 201") > 0, stdout);
    assert.equal(value("kill -9 under PUT load: acknowledged lost or changed"), 0, stdout);
    assert.equal(value("kill -9 under PUT load: acknowledged read back byte-equal"), value("kill -9 under PUT load: acknowledged 201"), stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("every object acknowledged before kill -9 reads back byte-equal (SQLite)", async () => {
  await crash();
});

test("every object acknowledged before kill -9 reads back byte-equal (PostgreSQL)", { skip: !process.env["STACKBOX_TEST_PG"] && "STACKBOX_TEST_PG not set" }, async () => {
  const db = await freshPgDatabase(process.env["STACKBOX_TEST_PG"]!);
  try {
    await crash(db.url);
  } finally {
    await db.drop();
  }
});
