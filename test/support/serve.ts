import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

/**
 * A real `stackbox serve` child process (dist/src/cli/main.js), for tests that need the
 * command line, several processes, or kill -9.
 */
export const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");

export interface Served {
  proc: ChildProcess;
  url: string;
  port: number;
  /** Everything the process printed (stdout and stderr). */
  output(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL (kill -9) and wait for exit. */
  kill9(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface ServeOptions {
  dataDir: string;
  port: number;
  adminPassword?: string;
  database?: string;
  extra?: string[];
  env?: Record<string, string>;
}

/** Start `stackbox serve` and wait until it answers on /identity/v3. */
export async function serve(o: ServeOptions): Promise<Served> {
  const args = [MAIN, "serve", "--data-dir", o.dataDir, "--port", String(o.port), "--host", "127.0.0.1", "--log-level", "warn"];
  if (o.adminPassword) args.push("--admin-password", o.adminPassword);
  if (o.database) args.push("--database", o.database);
  args.push(...(o.extra ?? []));
  const proc = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, STACKBOX_BCRYPT_ROUNDS: "4", ...o.env },
  });
  let out = "";
  proc.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  proc.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${o.port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`stackbox serve exited early:\n${out}`);
    try {
      const r = await fetch(`${url}/identity/v3`);
      if (r.status === 200 && out.includes("Stackbox is serving")) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`stackbox serve did not come up in 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const end = async (sig: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
    await exited;
  };
  return { proc, url, port: o.port, output: () => out, stop: () => end("SIGTERM"), kill9: () => end("SIGKILL") };
}

/** A fresh database on the STACKBOX_TEST_PG server, dropped by the returned function. */
export async function freshPgDatabase(base: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `sbx_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Password-scoped admin token from a served cloud. */
export async function adminToken(url: string, password: string): Promise<string> {
  const r = await fetch(`${url}/identity/v3/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: { methods: ["password"], password: { user: { name: "admin", domain: { id: "default" }, password } } },
        scope: { project: { name: "admin", domain: { id: "default" } } },
      },
    }),
  });
  if (r.status !== 201) throw new Error(`admin token: ${r.status} ${await r.text()}`);
  return r.headers.get("x-subject-token")!;
}
