/**
 * bench/volume-ops.ts — Cinder operations through the API, printing TSV rows (label, metric,
 * value, unit):
 *   create N volumes (1 GiB) with C concurrent clients until all available: wall time, volumes/s
 *   attach/detach cycles through Nova (os-volume_attachments) with C clients, each cycling its
 *     own volume on its own server until the volume is in-use, then available again: cycles/s
 *   1 GiB backup and restore of a volume holding 1 GiB of random data (made from an image):
 *     wall time from the POST to available, MB/s
 * Usage: node dist/bench/volume-ops.js LABEL BASE_URL TOKEN PROJECT FLAVOR IMAGE NETWORK BIGIMAGE N [C] [CYCLES]
 */
const [label, base, token, project, flavor, image, network, bigImage, nStr, cStr, cyclesStr] = process.argv.slice(2);
if (!label || !base || !token || !project || !flavor || !image || !network || !bigImage || !nStr) {
  process.stderr.write("usage: volume-ops LABEL BASE_URL TOKEN PROJECT FLAVOR IMAGE NETWORK BIGIMAGE N [CONCURRENCY] [CYCLES]\n");
  process.exit(2);
}
const N = Number(nStr);
const C = Number(cStr ?? 16);
const CYCLES = Number(cyclesStr ?? 10);
const cinder = `${base}/volume/v3/${project}`;
const nova = `${base}/compute/v2.1`;
const vh = { "x-auth-token": token, "content-type": "application/json", "openstack-api-version": "volume 3.60" };
const nh = { "x-auth-token": token, "content-type": "application/json", "openstack-api-version": "compute 2.79" };
const run = `b${Date.now().toString(36)}`;
const out = (metric: string, value: string, unit: string): void => {
  process.stdout.write(`${label}\t${metric}\t${value}\t${unit}\n`);
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
async function call(method: string, url: string, headers: Record<string, string>, body?: unknown, expect?: number): Promise<Json> {
  for (let attempt = 0; ; attempt++) {
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(url, init);
    const text = await res.text();
    if (expect === undefined ? res.ok : res.status === expect) return text ? JSON.parse(text) : undefined;
    if (attempt < 3 && res.status >= 500) continue;
    throw new Error(`${method} ${url}: ${res.status} ${text}`);
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitVolume(id: string, status: string): Promise<void> {
  for (;;) {
    const v = (await call("GET", `${cinder}/volumes/${id}`, vh)).volume;
    if (v.status === status) return;
    if (String(v.status).startsWith("error")) throw new Error(`volume ${id} went to ${v.status}`);
    await sleep(20);
  }
}
async function workers(n: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(C, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

// --- N volumes until all available
{
  const t0 = performance.now();
  const ids: string[] = [];
  await workers(N, async (i) => {
    ids.push((await call("POST", `${cinder}/volumes`, vh, { volume: { size: 1, name: `${run}-${i}` } }, 202)).volume.id);
  });
  const counts: Record<string, number> = {};
  for (;;) {
    for (const k of Object.keys(counts)) delete counts[k];
    let url: string | undefined = `${cinder}/volumes/detail?name~=${run}-&limit=1000`;
    while (url) {
      const body: Json = await call("GET", url, vh);
      for (const v of body.volumes) counts[v.status] = (counts[v.status] ?? 0) + 1;
      url = body.volumes_links?.find((l: { rel: string }) => l.rel === "next")?.href;
    }
    if ((counts["available"] ?? 0) + (counts["error"] ?? 0) >= N) break;
    await sleep(100);
  }
  const wall = (performance.now() - t0) / 1000;
  out(`create ${N} volumes until all available (${C} clients)`, wall.toFixed(2), "s");
  out(`create ${N} volumes: rate`, (N / wall).toFixed(1), "volumes/s");
  out(`create ${N} volumes: error`, String(counts["error"] ?? 0), "volumes");
  await workers(ids.length, async (i) => {
    await call("DELETE", `${cinder}/volumes/${ids[i]}`, vh, undefined, 202);
  });
}

// --- attach/detach cycles through Nova
{
  const pairs: Array<{ server: string; volume: string }> = [];
  await workers(C, async (i) => {
    const server = (await call("POST", `${nova}/servers`, nh, { server: { name: `${run}-srv-${i}`, flavorRef: flavor, imageRef: image, networks: [{ uuid: network }] } }, 202)).server.id;
    const volume = (await call("POST", `${cinder}/volumes`, vh, { volume: { size: 1, name: `${run}-att-${i}` } }, 202)).volume.id;
    for (;;) {
      const s = (await call("GET", `${nova}/servers/${server}`, nh)).server;
      if (s.status === "ACTIVE") break;
      if (s.status === "ERROR") throw new Error(`server ${server} ERROR`);
      await sleep(20);
    }
    await waitVolume(volume, "available");
    pairs.push({ server, volume });
  });
  const t0 = performance.now();
  await workers(pairs.length, async (i) => {
    const { server, volume } = pairs[i]!;
    for (let k = 0; k < CYCLES; k++) {
      await call("POST", `${nova}/servers/${server}/os-volume_attachments`, nh, { volumeAttachment: { volumeId: volume } });
      await waitVolume(volume, "in-use");
      await call("DELETE", `${nova}/servers/${server}/os-volume_attachments/${volume}`, nh, undefined, 202);
      await waitVolume(volume, "available");
    }
  });
  const wall = (performance.now() - t0) / 1000;
  const cycles = pairs.length * CYCLES;
  out(`attach+detach ${cycles} cycles through Nova (${pairs.length} clients)`, wall.toFixed(2), "s");
  out(`attach+detach: rate`, (cycles / wall).toFixed(1), "cycles/s");
  for (const p of pairs) {
    await call("DELETE", `${nova}/servers/${p.server}`, nh, undefined, 204);
  }
}

// --- 1 GiB backup and restore
{
  const vol = (await call("POST", `${cinder}/volumes`, vh, { volume: { size: 1, name: `${run}-big`, imageRef: bigImage } }, 202)).volume.id;
  const t0 = performance.now();
  await waitVolume(vol, "available");
  const tImage = (performance.now() - t0) / 1000;
  out("volume from a 1 GiB image until available", tImage.toFixed(2), "s");
  out("volume from a 1 GiB image: rate", (1073.741824 / tImage).toFixed(0), "MB/s");
  const t1 = performance.now();
  const backup = (await call("POST", `${cinder}/backups`, vh, { backup: { volume_id: vol, name: `${run}-bk` } }, 202)).backup.id;
  for (;;) {
    const b = (await call("GET", `${cinder}/backups/${backup}`, vh)).backup;
    if (b.status === "available") break;
    if (String(b.status).startsWith("error")) throw new Error(`backup ${backup} went to ${b.status}`);
    await sleep(20);
  }
  const tBackup = (performance.now() - t1) / 1000;
  out("backup of 1 GiB until available", tBackup.toFixed(2), "s");
  out("backup of 1 GiB: rate", (1073.741824 / tBackup).toFixed(0), "MB/s");
  const t2 = performance.now();
  const restored = (await call("POST", `${cinder}/backups/${backup}/restore`, vh, { restore: { name: `${run}-restored` } }, 202)).restore.volume_id;
  await waitVolume(restored, "available");
  for (;;) {
    const b = (await call("GET", `${cinder}/backups/${backup}`, vh)).backup;
    if (b.status === "available") break;
    await sleep(20);
  }
  const tRestore = (performance.now() - t2) / 1000;
  out("restore of 1 GiB into a new volume until available", tRestore.toFixed(2), "s");
  out("restore of 1 GiB: rate", (1073.741824 / tRestore).toFixed(0), "MB/s");
}
