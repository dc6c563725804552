/**
 * object-crash — Swift's durability promise under kill -9: PUT small objects of random bytes
 * with 16 clients against a `stackbox serve` on a data dir, kill -9 the server in the middle
 * of the load, start it again on the same data dir, and read back every object that had been
 * acknowledged with 201: each must come back byte-equal (same MD5 as what was sent).
 *
 *   node dist/bench/object-crash.js <data dir> <port> [seconds of load before the kill] [postgres://… state]
 *
 * Prints TSV rows (label, metric, value, unit) and exits 1 if any acknowledged object is
 * missing or differs.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";

const [dataDir, portArg, secondsArg, database] = process.argv.slice(2);
if (!dataDir || !portArg) {
  console.error("usage: object-crash <data dir> <port> [seconds]");
  process.exit(2);
}
const port = Number(portArg);
const seconds = Number(secondsArg ?? 5);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function request(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: "127.0.0.1", port, method, path, headers: { ...headers, ...(body ? { "content-length": String(body.length) } : {}) }, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    r.on("error", reject);
    r.end(body);
  });
}

function start(): ChildProcess {
  const p = spawn(process.execPath, [new URL("../src/cli/main.js", import.meta.url).pathname, "serve", "--data-dir", dataDir!, "--port", String(port), "--admin-password", "password", "--log-level", "warn", ...(database ? ["--database", database] : [])], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  return p;
}

async function waitUp(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await request("GET", "/info", {});
      if (r.status === 200) return;
    } catch {
      /* not yet */
    }
    await new Promise((s) => setTimeout(s, 100));
  }
  throw new Error("server did not start");
}

/** The server listens before its first start's bootstrap is done: try until the admin exists. */
async function login(): Promise<{ token: string; url: string }> {
  for (let i = 0; ; i++) {
    const r = await request("GET", "/auth/v1.0", { "x-auth-user": "admin:admin", "x-auth-key": "password" });
    if (r.status === 200) return { token: String(r.headers["x-auth-token"]), url: new URL(String(r.headers["x-storage-url"])).pathname };
    if (i > 100) throw new Error(`auth: ${r.status}`);
    await new Promise((s) => setTimeout(s, 100));
  }
}

const server1 = start();
const children = [server1];
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});
await waitUp();
if (server1.exitCode !== null) throw new Error("the server exited at start (port in use?)");
const a = await login();
await request("PUT", `${a.url}/crash`, { "x-auth-token": a.token, "content-length": "0" });
const acked = new Map<string, string>();
let sent = 0;
let failed = 0;
let stop = false;
const deadline = Date.now() + seconds * 1000;
let killedAt = 0;
const killer = setInterval(() => {
  if (Date.now() >= deadline && !killedAt) {
    killedAt = Date.now();
    server1.kill("SIGKILL");
    stop = true;
    clearInterval(killer);
  }
}, 5);
await Promise.all(
  Array.from({ length: 16 }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      const name = `w${w}/o${i}`;
      const body = randomBytes(1024 + ((w * 7919 + i * 104729) % 60000));
      const md5 = createHash("md5").update(body).digest("hex");
      sent++;
      try {
        const r = await request("PUT", `${a.url}/crash/${name}`, { "x-auth-token": a.token }, body);
        if (r.status === 201) acked.set(name, md5);
      } catch {
        failed++;
      }
    }
  }),
);
await new Promise<void>((s) => (server1.exitCode !== null || server1.signalCode !== null ? s() : server1.once("exit", () => s())));
agent.destroy();
const server2 = start();
children.push(server2);
await waitUp();
if (server2.exitCode !== null) throw new Error("the restarted server exited (port in use?)");
const b = await login();
let ok = 0;
let bad = 0;
const names = [...acked.keys()];
let next = 0;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (next < names.length) {
      const name = names[next++]!;
      const r = await request("GET", `${b.url}/crash/${name}`, { "x-auth-token": b.token });
      if (r.status === 200 && createHash("md5").update(r.body).digest("hex") === acked.get(name)) ok++;
      else {
        bad++;
        if (bad <= 5) console.error(`lost or changed after kill -9: ${name} (${r.status})`);
      }
    }
  }),
);
server2.kill("SIGTERM");
const row = (m: string, v: number | string, u: string): void => console.log(`stackbox\t${m}\t${v}\t${u}`);
row("kill -9 under PUT load: PUTs sent", sent, "count");
row("kill -9 under PUT load: acknowledged 201", acked.size, "count");
row("kill -9 under PUT load: acknowledged read back byte-equal", ok, "count");
row("kill -9 under PUT load: acknowledged lost or changed", bad, "count");
row("kill -9 under PUT load: requests cut by the kill", failed, "count");
process.exit(bad === 0 && acked.size > 0 ? 0 : 1);
