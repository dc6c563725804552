/**
 * bench/compute-boot.ts — boot N servers through Nova's API with C concurrent clients and wait
 * until all are ACTIVE (or ERROR), then print TSV rows (label, metric, value, unit):
 *   boot N servers: wall time from the first POST to the last ACTIVE, and boots/s
 *   errors: servers that ended in ERROR (must be 0)
 * Usage: node dist/bench/compute-boot.js LABEL BASE_URL TOKEN FLAVOR IMAGE NETWORK N [C]
 * Polling is GET /servers/detail?status=… pages (one request per poll, not one per server).
 */
const [label, base, token, flavor, image, network, nStr, cStr] = process.argv.slice(2);
if (!label || !base || !token || !flavor || !image || !network || !nStr) {
  process.stderr.write("usage: compute-boot LABEL BASE_URL TOKEN FLAVOR IMAGE NETWORK N [CONCURRENCY]\n");
  process.exit(2);
}
const N = Number(nStr);
const C = Number(cStr ?? 16);
const nova = `${base}/compute/v2.1`;
const headers = { "x-auth-token": token, "content-type": "application/json", "openstack-api-version": "compute 2.74" };
const run = `b${Date.now().toString(36)}`;

async function boot(i: number): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${nova}/servers`, {
      method: "POST",
      headers,
      body: JSON.stringify({ server: { name: `${run}-${i}`, flavorRef: flavor, imageRef: image, networks: [{ uuid: network }] } }),
    });
    const text = await res.text();
    if (res.status === 202) return (JSON.parse(text) as { server: { id: string } }).server.id;
    if (attempt < 3 && res.status >= 500) continue;
    throw new Error(`boot ${i}: ${res.status} ${text}`);
  }
}

async function countByStatus(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let url: string | undefined = `${nova}/servers?name=^${run}-&limit=1000`;
  while (url) {
    const res = await fetch(url.replace("/servers?", "/servers/detail?"), { headers });
    const body = (await res.json()) as { servers: Array<{ status: string }>; servers_links?: Array<{ rel: string; href: string }> };
    for (const s of body.servers) counts[s.status] = (counts[s.status] ?? 0) + 1;
    url = body.servers_links?.find((l) => l.rel === "next")?.href;
  }
  return counts;
}

const t0 = performance.now();
let next = 0;
const ids: string[] = [];
await Promise.all(
  Array.from({ length: C }, async () => {
    while (next < N) {
      const i = next++;
      ids.push(await boot(i));
    }
  }),
);
const tPosted = performance.now();
let counts: Record<string, number> = {};
for (;;) {
  counts = await countByStatus();
  const done = (counts["ACTIVE"] ?? 0) + (counts["ERROR"] ?? 0);
  if (done >= N) break;
  await new Promise((r) => setTimeout(r, 200));
}
const wall = (performance.now() - t0) / 1000;
const out = (metric: string, value: string, unit: string): void => {
  process.stdout.write(`${label}\t${metric}\t${value}\t${unit}\n`);
};
out(`boot ${N} servers until all ACTIVE (${C} clients)`, wall.toFixed(1), "s");
out(`boot ${N} servers: rate`, (N / wall).toFixed(1), "boots/s");
out(`boot ${N} servers: API accepted all`, ((tPosted - t0) / 1000).toFixed(1), "s");
out(`boot ${N} servers: ERROR`, String(counts["ERROR"] ?? 0), "servers");
