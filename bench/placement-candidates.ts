/**
 * bench/placement-candidates.ts — Placement on a Nova-sized fleet, printing TSV rows
 * (label, metric, value, unit):
 *   N providers (default 10,000), each with VCPU/MEMORY_MB/DISK_GB inventories, 18 traits and
 *   an aggregate, written through the managers; then B scheduling rounds over HTTP as Nova's
 *   scheduler makes them: GET /allocation_candidates?resources=VCPU:1,MEMORY_MB:512,DISK_GB:1
 *   &limit=1000 and a PUT /allocations/{consumer} (1.36 with consumer generation) on one of the
 *   candidates, in process (fastify inject, as Nova's in-process client calls it), then the same
 *   rounds from 16 concurrent callers. Reports median/p99 ms of each call and allocations/s.
 * Usage: node dist/bench/placement-candidates.js [N] [B]   (BENCH_DATABASE=postgres://… for PG;
 * otherwise a SQLite file in a temporary directory, fsync on commit as in production)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { startCloud } from "../src/app/app.js";
import { loadConfig } from "../src/config/config.js";
import { randomUUID } from "node:crypto";

const N = Number(process.argv[2] ?? 10000);
const B = Number(process.argv[3] ?? 1000);
const pg = process.env["BENCH_DATABASE"];
const dir = mkdtempSync(join(tmpdir(), "placement-bench-"));
const config = loadConfig({
  env: {},
  flags: { host: "127.0.0.1", port: 0, memory: false, dataDir: dir, adminPassword: "secret", logLevel: "silent", ...(pg ? { database: pg } : {}), identity: { bcryptRounds: 4 } },
});
const cloud = await startCloud(config, { logger: pino({ level: "silent" }), noFiles: true, ...(pg ? { schema: `bench_${Date.now().toString(36)}` } : {}) });
const pl = cloud.placement;
const label = pg ? "stackbox-pg" : "stackbox";
const row = (metric: string, value: number | string, unit: string): void => {
  process.stdout.write(`${label}\t${metric}\t${value}\t${unit}\n`);
};

// ---- the fleet
const traits = ["HW_CPU_X86_AVX", "HW_CPU_X86_AVX2", "HW_CPU_X86_SSE", "HW_CPU_X86_SSE2", "HW_CPU_X86_SSE3", "HW_CPU_X86_SSSE3", "HW_CPU_X86_SSE41", "HW_CPU_X86_SSE42",
  "HW_CPU_X86_MMX", "HW_CPU_X86_F16C", "HW_CPU_X86_FMA3", "HW_CPU_X86_AESNI", "COMPUTE_NET_ATTACH_INTERFACE", "COMPUTE_VOLUME_ATTACH_WITH_TAG", "COMPUTE_DEVICE_TAGGING",
  "COMPUTE_IMAGE_TYPE_QCOW2", "COMPUTE_IMAGE_TYPE_RAW", "COMPUTE_NODE"];
const traitIds = [...(await pl.core.traitIds(traits)).values()];
const aggs = Array.from({ length: 10 }, () => randomUUID());
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const p = await pl.providers.create({ uuid: randomUUID(), name: `bench-${String(i).padStart(5, "0")}` });
  await pl.core.write(async (trx) => {
    let gen = await pl.providers.writeInventories(trx, p, [
      { resource_class: "VCPU", total: 64, reserved: 0, min_unit: 1, max_unit: 64, step_size: 1, allocation_ratio: 4 },
      { resource_class: "MEMORY_MB", total: 262144, reserved: 512, min_unit: 1, max_unit: 262144, step_size: 1, allocation_ratio: 1 },
      { resource_class: "DISK_GB", total: 4096, reserved: 0, min_unit: 1, max_unit: 4096, step_size: 1, allocation_ratio: 1 },
    ], "set");
    gen = await pl.providers.setProviderTraits(trx, { ...p, generation: gen }, traitIds);
    await pl.providers.setAggregates(trx, { ...p, generation: gen }, [aggs[i % aggs.length]!], true);
  });
}
row(`create ${N} providers (managers)`, ((performance.now() - t0) / 1000).toFixed(1), "s");

// ---- scheduling rounds, in process as Nova's scheduler calls Placement (fastify inject through
// the router: auth, policy, microversions and serialisation included, no socket)
const login = await fetch(`${cloud.url}/identity/v3/auth/tokens`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ auth: { identity: { methods: ["password"], password: { user: { name: "admin", domain: { id: "default" }, password: "secret" } } }, scope: { project: { name: "admin", domain: { id: "default" } } } } }),
});
const token = login.headers.get("x-subject-token")!;
const headers = { "x-auth-token": token, "openstack-api-version": "placement 1.36", "content-type": "application/json" };
type Cands = { allocation_requests: Array<{ allocations: Record<string, { resources: Record<string, number> }> }> };
const getCands = async (): Promise<string> => {
  const r = await cloud.http.inject({ method: "GET", url: "/placement/allocation_candidates?resources=VCPU:1,MEMORY_MB:512,DISK_GB:1&limit=1000", headers });
  if (r.statusCode !== 200) throw new Error(`candidates: ${r.statusCode}`);
  return r.body;
};
const putAlloc = async (pick: Cands["allocation_requests"][number]): Promise<number> => {
  const w = await cloud.http.inject({
    method: "PUT",
    url: `/placement/allocations/${randomUUID()}`,
    headers,
    payload: JSON.stringify({ allocations: pick.allocations, project_id: "p", user_id: "u", consumer_generation: null }),
  });
  if (w.statusCode !== 204 && w.statusCode !== 409) throw new Error(`PUT allocations: ${w.statusCode} ${w.body}`);
  return w.statusCode;
};
const cand: number[] = [];
const parse: number[] = [];
const put: number[] = [];
let conflicts = 0;
let bytes = 0;
const tAll = performance.now();
for (let b = 0; b < B; b++) {
  let s = performance.now();
  const text = await getCands();
  cand.push(performance.now() - s);
  bytes = text.length;
  s = performance.now();
  const body = JSON.parse(text) as Cands;
  parse.push(performance.now() - s);
  s = performance.now();
  if ((await putAlloc(body.allocation_requests[b % body.allocation_requests.length]!)) === 409) conflicts++;
  put.push(performance.now() - s);
}
const wall = (performance.now() - tAll) / 1000;
const pct = (xs: number[], p: number): string => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!.toFixed(2);
row("GET /allocation_candidates limit=1000 median", pct(cand, 50), "ms");
row("GET /allocation_candidates limit=1000 p99", pct(cand, 99), "ms");
row("GET /allocation_candidates response size", (bytes / 1024).toFixed(0), "KiB");
row("client JSON.parse of the candidates median", pct(parse, 50), "ms");
row("PUT /allocations median", pct(put, 50), "ms");
row("PUT /allocations p99", pct(put, 99), "ms");
row("PUT /allocations per second (sequential)", (1000 / (put.reduce((a, b) => a + b, 0) / put.length)).toFixed(0), "/s");
row(`${B} rounds (candidates + parse + allocation) wall`, wall.toFixed(2), "s");
row("allocation conflicts", conflicts, "");

// The same rounds from 16 concurrent callers (Nova's scheduler under a burst of boots).
const C = 16;
let next = 0;
let conflicts16 = 0;
const t16 = performance.now();
await Promise.all(
  Array.from({ length: C }, async () => {
    while (next < B) {
      const b = next++;
      const body = JSON.parse(await getCands()) as Cands;
      if ((await putAlloc(body.allocation_requests[(b * 7919) % body.allocation_requests.length]!)) === 409) conflicts16++;
    }
  }),
);
const w16 = (performance.now() - t16) / 1000;
row(`${B} rounds with ${C} concurrent callers wall`, w16.toFixed(2), "s");
row(`allocation conflicts with ${C} concurrent callers`, conflicts16, "");
await cloud.close();
rmSync(dir, { recursive: true, force: true });
