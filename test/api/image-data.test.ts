/**
 * Glance v2 image data: streamed upload and download (byte-equal, md5 and sha512 checked
 * against node:crypto), ranges (206/416), 204 without data, the media type, the state
 * machine (queued → active; a second upload 409), image_size_cap (413, back to queued),
 * and interoperable import with glance-direct (stage → uploading → import → active) and
 * its task record.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { persona, startTestCloud } from "../support/cloud.js";
import { assertGlanceError, glanceClient } from "../support/image.js";

/** A plain web server for web-download (its port is the one the cloud allows). */
const webData = randomBytes(70_000);
const web = createServer((req, res) => {
  if (req.url === "/image.raw") {
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(webData.length) });
    res.end(webData);
  } else {
    res.writeHead(404).end();
  }
});
await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
const webPort = (web.address() as AddressInfo).port;
const tc = await startTestCloud({ image: { imageSizeCap: 64 * 1024 * 1024, webDownloadAllowedPorts: [webPort] } });
after(async () => {
  await tc.close();
  web.close();
});
const g = glanceClient(tc);

/** 24 MiB in 1 MiB chunks, produced as the upload goes (never one buffer). */
async function* chunks(seed: Buffer, count: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    const c = Buffer.alloc(1 << 20, seed);
    c.writeUInt32BE(i, 0);
    yield c;
  }
}

test("a multi-MB streamed upload is stored byte for byte with Glance's checksums", async () => {
  const m = await persona(tc, "member");
  const img = await g.create(m.token);
  const seed = randomBytes(997);
  const md5 = createHash("md5");
  const sha = createHash("sha512");
  const whole: Buffer[] = [];
  for await (const c of chunks(seed, 24)) {
    md5.update(c);
    sha.update(c);
    whole.push(Buffer.from(c));
  }
  const expected = Buffer.concat(whole);
  const up = await g.put(m.token, `/images/${img.id}/file`, chunks(seed, 24));
  assert.equal(up.status, 204, up.text);
  const shown = (await g.req("GET", `/images/${img.id}`, { token: m.token })).body;
  assert.equal(shown.status, "active");
  assert.equal(shown.size, expected.length);
  assert.equal(shown.checksum, md5.digest("hex"));
  assert.equal(shown.os_hash_algo, "sha512");
  assert.equal(shown.os_hash_value, sha.digest("hex"));
  assert.equal(shown.stores, "local");
  const dl = await g.get(m.token, `/images/${img.id}/file`);
  assert.equal(dl.status, 200);
  assert.equal(dl.headers.get("content-type"), "application/octet-stream");
  assert.equal(dl.headers.get("content-md5"), shown.checksum);
  assert.equal(dl.headers.get("content-length"), String(expected.length));
  assert.ok(dl.data.equals(expected), "downloaded bytes equal the uploaded bytes");
  // A second upload is a state transition Glance refuses.
  const again = await g.put(m.token, `/images/${img.id}/file`, Buffer.from("x"));
  assert.equal(again.status, 409);
  assert.match(again.text, /Image status transition from active to saving is not allowed/);
});

test("range downloads: 206 with Content-Range, suffix ranges, 416 beyond the end", async () => {
  const m = await persona(tc, "member");
  const img = await g.create(m.token);
  const data = randomBytes(1000);
  assert.equal((await g.put(m.token, `/images/${img.id}/file`, data)).status, 204);
  let r = await g.get(m.token, `/images/${img.id}/file`, { range: "bytes=10-19" });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get("content-range"), "bytes 10-19/1000");
  assert.ok(r.data.equals(data.subarray(10, 20)));
  r = await g.get(m.token, `/images/${img.id}/file`, { range: "bytes=990-" });
  assert.equal(r.status, 206);
  assert.ok(r.data.equals(data.subarray(990)));
  r = await g.get(m.token, `/images/${img.id}/file`, { range: "bytes=-5" });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get("content-range"), "bytes 995-999/1000");
  assert.ok(r.data.equals(data.subarray(995)));
  r = await g.get(m.token, `/images/${img.id}/file`, { range: "bytes=2000-2010", accept: "application/json" });
  assert.equal(r.status, 416);
  assert.match(JSON.parse(r.data.toString()).message, /Invalid start position in Range header\. Start position MUST be in range \[0, 999\]\./);
  r = await g.get(m.token, `/images/${img.id}/file`, { range: "pages=1-2", accept: "application/json" });
  assert.equal(r.status, 416);
});

test("no data is a 204; a wrong media type is a 415 and writes nothing", async () => {
  const m = await persona(tc, "member");
  const img = await g.create(m.token);
  const r = await g.get(m.token, `/images/${img.id}/file`);
  assert.equal(r.status, 204);
  const bad = await g.put(m.token, `/images/${img.id}/file`, Buffer.from("abc"), { "content-type": "text/plain" });
  assert.equal(bad.status, 415);
  assert.match(JSON.parse(bad.text).message, /^Invalid content type text\/plain/);
  assert.equal((await g.req("GET", `/images/${img.id}`, { token: m.token })).body.status, "queued");
  // An empty upload is an active image of size 0 (Glance accepts it).
  assert.equal((await g.put(m.token, `/images/${img.id}/file`, Buffer.alloc(0))).status, 204);
  const shown = (await g.req("GET", `/images/${img.id}`, { token: m.token })).body;
  assert.equal(shown.size, 0);
  assert.equal(shown.checksum, createHash("md5").update("").digest("hex"));
});

test("image_size_cap: 413, the image goes back to queued and keeps no data", async () => {
  const m = await persona(tc, "member");
  const img = await g.create(m.token);
  const up = await g.put(m.token, `/images/${img.id}/file`, chunks(randomBytes(3), 65));
  assert.equal(up.status, 413);
  assert.match(JSON.parse(up.text).message, /^The incoming image is too large/);
  const shown = (await g.req("GET", `/images/${img.id}`, { token: m.token })).body;
  assert.equal(shown.status, "queued");
  assert.equal(shown.size, null);
  assert.equal((await g.get(m.token, `/images/${img.id}/file`)).status, 204);
});

test("upload policy: another project's member cannot upload (404), a reader is refused (403)", async () => {
  const m = await persona(tc, "member");
  const reader = await persona(tc, "reader", { projectId: m.projectId });
  const stranger = await persona(tc, "member");
  const img = await g.create(m.token, { visibility: "private" });
  assert.equal((await g.put(stranger.token, `/images/${img.id}/file`, Buffer.from("x"))).status, 404);
  const r = await g.put(reader.token, `/images/${img.id}/file`, Buffer.from("x"));
  assert.equal(r.status, 403);
  assert.equal(JSON.parse(r.text).message, `Not allowed to upload image data for image ${img.id}<br /><br />\n\n\n`);
  assert.equal((await g.req("GET", `/images/${img.id}`, { token: m.token })).body.status, "queued");
});

test("interoperable import: info, glance-direct stage and import, the image's task", async () => {
  const m = await persona(tc, "member");
  const info = await g.req("GET", "/info/import", { token: m.token });
  assert.deepEqual(info.body, { "import-methods": { description: "Import methods available.", type: "array", value: ["glance-direct", "web-download", "glance-download"] } });
  const stores = await g.req("GET", "/info/stores", { token: m.token });
  assert.deepEqual(stores.body, { stores: [{ id: "local", default: "true" }] });
  assertGlanceError(await g.req("GET", "/info/stores/detail", { token: m.token }), 403);
  assert.deepEqual((await g.req("GET", "/info/usage", { token: m.token })).body, { usage: {} });

  const img = await g.create(m.token);
  const noStage = await g.req("POST", `/images/${img.id}/import`, { token: m.token, body: { method: { name: "glance-direct" } } });
  assertGlanceError(noStage, 409, "Image needs to be staged before 'glance-direct' method can be used");
  assertGlanceError(await g.req("POST", `/images/${img.id}/import`, { token: m.token, body: { method: { name: "bogus" } } }), 400, "Unknown import method name 'bogus'.");
  assertGlanceError(await g.req("POST", `/images/${img.id}/import`, { token: m.token, body: {} }), 400, "Import request requires a 'method' field.");

  const data = randomBytes(300_000);
  assert.equal((await g.put(m.token, `/images/${img.id}/stage`, data)).status, 204);
  const staged = (await g.req("GET", `/images/${img.id}`, { token: m.token })).body;
  assert.equal(staged.status, "uploading");
  assert.equal(staged.size, data.length);
  const imp = await g.req("POST", `/images/${img.id}/import`, { token: m.token, body: { method: { name: "glance-direct" } } });
  assert.equal(imp.status, 202, imp.text);
  const done = await g.waitStatus(m.token, img.id, "active");
  assert.equal(done.checksum, createHash("md5").update(data).digest("hex"));
  assert.equal(done.os_hash_value, createHash("sha512").update(data).digest("hex"));
  assert.equal(done.os_glance_importing_to_stores, "");
  assert.equal(done.os_glance_failed_import, "");
  assert.equal(done.stores, "local");
  assert.ok((await g.get(m.token, `/images/${img.id}/file`)).data.equals(data));
  const tasks = (await g.req("GET", `/images/${img.id}/tasks`, { token: m.token })).body.tasks;
  assert.equal(tasks.length, 1);
  assert.equal(tasks[0].status, "success");
  assert.equal(tasks[0].request_id, imp.headers.get("x-openstack-request-id"));
  assert.equal(tasks[0].input.import_req.method.name, "glance-direct");
  assertGlanceError(await g.req("POST", `/images/${img.id}/import`, { token: m.token, body: { method: { name: "glance-direct" } } }), 409, "Image with status active cannot be target for import");
});

test("deleting an image removes its data from the blob store", async () => {
  const m = await persona(tc, "member");
  const img = await g.create(m.token);
  assert.equal((await g.put(m.token, `/images/${img.id}/file`, Buffer.from("bytes"))).status, 204);
  assert.deepEqual(await tc.cloud.blobs.stat(`image/local/${img.id}`), { size: 5 });
  assert.equal((await g.req("DELETE", `/images/${img.id}`, { token: m.token })).status, 204);
  assert.equal(await tc.cloud.blobs.stat(`image/local/${img.id}`), undefined);
});

test("multiple stores: per-store upload, glance-direct to all or some stores, copy-image", async () => {
  const multi = await startTestCloud({ image: { stores: ["local", "fast", "cheap"] } });
  try {
    const mg = glanceClient(multi);
    const m = await persona(multi, "member");
    const admin = await multi.adminToken();
    assert.deepEqual((await mg.req("GET", "/info/stores", { token: m.token })).body.stores, [{ id: "local", default: "true" }, { id: "fast" }, { id: "cheap" }]);
    assert.deepEqual((await mg.req("GET", "/info/import", { token: m.token })).body["import-methods"].value, ["glance-direct", "web-download", "copy-image", "glance-download"]);
    // An upload names its store; an unknown one is a 400 that writes nothing.
    const a = await mg.create(m.token);
    const unknown = await mg.put(m.token, `/images/${a.id}/file`, Buffer.from("x"), { "x-image-meta-store": "nowhere" });
    assert.equal(unknown.status, 400);
    assert.equal((await mg.req("GET", `/images/${a.id}`, { token: m.token })).body.status, "queued");
    assert.equal((await mg.put(m.token, `/images/${a.id}/file`, Buffer.from("payload"), { "x-image-meta-store": "fast" })).status, 204);
    assert.equal((await mg.req("GET", `/images/${a.id}`, { token: m.token })).body.stores, "fast");
    // glance-direct into every store.
    const b = await mg.create(m.token);
    const data = randomBytes(5000);
    assert.equal((await mg.put(m.token, `/images/${b.id}/stage`, data)).status, 204);
    assert.equal((await mg.req("POST", `/images/${b.id}/import`, { token: m.token, body: { method: { name: "glance-direct" }, all_stores: true } })).status, 202);
    const bDone = await mg.waitStatus(m.token, b.id, "active");
    assert.equal(bDone.stores, "cheap,fast,local");
    for (const s of ["local", "fast", "cheap"]) assert.deepEqual(await multi.cloud.blobs.stat(`image/${s}/${b.id}`), { size: 5000 });
    // glance-direct into named stores; an unknown store is refused.
    const c = await mg.create(m.token);
    assert.equal((await mg.put(m.token, `/images/${c.id}/stage`, data)).status, 204);
    assertGlanceError(await mg.req("POST", `/images/${c.id}/import`, { token: m.token, body: { method: { name: "glance-direct" }, stores: ["nowhere"] } }), 400, "Unknown scheme 'nowhere' found in URI");
    assert.equal((await mg.req("POST", `/images/${c.id}/import`, { token: m.token, body: { method: { name: "glance-direct" }, stores: ["local", "cheap"] } })).status, 202);
    assert.equal((await mg.waitStatus(m.token, c.id, "active")).stores, "cheap,local");
    // copy-image: an admin's, to the stores the image is not in yet.
    assertGlanceError(await mg.req("POST", `/images/${a.id}/import`, { token: m.token, body: { method: { name: "copy-image" }, all_stores: true } }), 403, "You are not authorized to complete copy_image action.");
    assert.equal((await mg.req("POST", `/images/${a.id}/import`, { token: admin, body: { method: { name: "copy-image" }, all_stores: true, all_stores_must_succeed: false } })).status, 202);
    for (let i = 0; i < 400; i++) {
      const cur = (await mg.req("GET", `/images/${a.id}`, { token: m.token })).body;
      if (cur.os_glance_importing_to_stores === "") break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const copied = (await mg.req("GET", `/images/${a.id}`, { token: m.token })).body;
    assert.equal(copied.stores, "cheap,fast,local");
    assert.equal(copied.os_glance_failed_import, "");
    assert.equal(copied.status, "active");
    assert.equal((await mg.get(m.token, `/images/${a.id}/file`)).data.toString(), "payload");
    assertGlanceError(await mg.req("POST", `/images/${a.id}/import`, { token: admin, body: { method: { name: "copy-image" }, stores: ["fast"] } }), 400, "Image is already present at store 'fast'");
    // Deleting removes the data from every store.
    assert.equal((await mg.req("DELETE", `/images/${b.id}`, { token: m.token })).status, 204);
    for (const s of ["local", "fast", "cheap"]) assert.equal(await multi.cloud.blobs.stat(`image/${s}/${b.id}`), undefined);
  } finally {
    await multi.close();
  }
});

test("web-download: a URL's bytes become the image; filtering and fetch failures", async () => {
  const m = await persona(tc, "member");
  const img = await g.create(m.token);
  const bad = await g.req("POST", `/images/${img.id}/import`, { token: m.token, body: { method: { name: "web-download", uri: "ftp://example.com/x" } } });
  assertGlanceError(bad, 400, "URI for web-download does not pass filtering: ftp://example.com/x");
  assertGlanceError(await g.req("POST", `/images/${img.id}/import`, { token: m.token, body: { method: { name: "web-download", uri: "http://127.0.0.1:1/x" } } }), 400, "URI for web-download does not pass filtering: http://127.0.0.1:1/x");
  assert.equal((await g.req("GET", `/images/${img.id}`, { token: m.token })).body.status, "queued");
  const ok = await g.req("POST", `/images/${img.id}/import`, { token: m.token, body: { method: { name: "web-download", uri: `http://127.0.0.1:${webPort}/image.raw` } } });
  assert.equal(ok.status, 202, ok.text);
  const done = await g.waitStatus(m.token, img.id, "active");
  assert.equal(done.size, webData.length);
  assert.equal(done.checksum, createHash("md5").update(webData).digest("hex"));
  assert.ok((await g.get(m.token, `/images/${img.id}/file`)).data.equals(webData));
  // A URL that answers 404: the import fails, the store is reported, the image is queued again.
  const lost = await g.create(m.token);
  assert.equal((await g.req("POST", `/images/${lost.id}/import`, { token: m.token, body: { method: { name: "web-download", uri: `http://127.0.0.1:${webPort}/missing` } } })).status, 202);
  let cur: { os_glance_failed_import?: string; status?: string } = {};
  for (let i = 0; i < 400 && !cur.os_glance_failed_import; i++) {
    cur = (await g.req("GET", `/images/${lost.id}`, { token: m.token })).body;
    if (!cur.os_glance_failed_import) await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(cur.os_glance_failed_import, "local");
  assert.equal(cur.status, "queued");
  const tasks = (await g.req("GET", `/images/${lost.id}/tasks`, { token: m.token })).body.tasks;
  assert.equal(tasks[0].status, "failure");
});

test("glance-download: an image of this region is copied with its formats and hw_/os_ properties", async () => {
  const m = await persona(tc, "member");
  const src = await g.create(m.token, { disk_format: "qcow2", container_format: "bare", hw_cpu_cores: "5", os_distro: "rhel", speed: "88mph" });
  assert.equal((await g.put(m.token, `/images/${src.id}/file`, Buffer.from("source bytes"))).status, 204);
  const dst = await g.create(m.token, { disk_format: "iso", container_format: "ovf", os_distro: "windows" });
  assertGlanceError(
    await g.req("POST", `/images/${dst.id}/import`, { token: m.token, body: { method: { name: "glance-download", glance_image_id: "foo", glance_region: "RegionOne" } } }),
    400,
    "Remote image id does not look like a UUID: foo",
  );
  assertGlanceError(await g.req("POST", `/images/${dst.id}/import`, { token: m.token, body: { method: { name: "glance-download", glance_image_id: src.id } } }), 400, "'glance_region' needs to be set for glance-download import method");
  const imp = await g.req("POST", `/images/${dst.id}/import`, { token: m.token, body: { method: { name: "glance-download", glance_image_id: src.id, glance_region: "RegionOne", glance_service_interface: "public" } } });
  assert.equal(imp.status, 202, imp.text);
  const done = await g.waitStatus(m.token, dst.id, "active");
  assert.equal(done.disk_format, "qcow2");
  assert.equal(done.container_format, "bare");
  assert.equal(done.hw_cpu_cores, "5");
  assert.equal(done.os_distro, "rhel");
  assert.equal(done.speed, undefined);
  assert.equal((await g.get(m.token, `/images/${dst.id}/file`)).data.toString(), "source bytes");
  // Another region, or an image the requester cannot see: the task fails, the image stays queued.
  const other = await persona(tc, "member");
  for (const method of [
    { name: "glance-download", glance_image_id: src.id, glance_region: "not a region", glance_service_interface: "public" },
    { name: "glance-download", glance_image_id: src.id, glance_region: "RegionOne" },
  ]) {
    const target = await g.create(other.token, { hw_cpu_cores: "1" });
    assert.equal((await g.req("POST", `/images/${target.id}/import`, { token: other.token, body: { method } })).status, 202);
    let tasks: Array<{ status: string }> = [];
    for (let i = 0; i < 400; i++) {
      tasks = (await g.req("GET", `/images/${target.id}/tasks`, { token: other.token })).body.tasks;
      if (tasks[0]?.status !== "processing") break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(tasks[0]!.status, "failure");
    const after_ = (await g.req("GET", `/images/${target.id}`, { token: other.token })).body;
    assert.equal(after_.status, "queued");
    assert.equal(after_.hw_cpu_cores, "1");
  }
});

test("image cache: admin only, queue → cached, hits on download, cache-on-read, clear", async () => {
  const m = await persona(tc, "member");
  const admin = await tc.adminToken();
  assertGlanceError(await g.req("GET", "/cache", { token: m.token }), 403, "Access was denied to this resource.");
  assertGlanceError(await g.req("PUT", "/cache/non-existing-image-id", { token: admin }), 404, "Image non-existing-image-id not found.");
  const queued = await g.create(m.token);
  assertGlanceError(await g.req("PUT", `/cache/${queued.id}`, { token: admin }), 400, "Only images with status active can be targeted for queueing");
  const img = await g.create(m.token);
  assert.equal((await g.put(m.token, `/images/${img.id}/file`, Buffer.from("cache me"))).status, 204);
  assert.equal((await g.req("PUT", `/cache/${img.id}`, { token: admin })).status, 202);
  let state: { cached_images: Array<{ image_id: string; hits: number; size: number }>; queued_images: string[] } = { cached_images: [], queued_images: [] };
  for (let i = 0; i < 400; i++) {
    state = (await g.req("GET", "/cache", { token: admin })).body;
    if (state.cached_images.some((c) => c.image_id === img.id)) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const entry = state.cached_images.find((c) => c.image_id === img.id)!;
  assert.equal(entry.size, 8);
  assert.equal(entry.hits, 0);
  assert.ok(!state.queued_images.includes(img.id));
  assert.equal((await g.get(m.token, `/images/${img.id}/file`)).data.toString(), "cache me");
  const after1 = (await g.req("GET", "/cache", { token: admin })).body.cached_images.find((c: { image_id: string }) => c.image_id === img.id);
  assert.equal(after1.hits, 1);
  // A full download of an uncached image queues it (cache-on-read).
  const other = await g.create(m.token);
  assert.equal((await g.put(m.token, `/images/${other.id}/file`, Buffer.from("read me"))).status, 204);
  assert.equal((await g.get(m.token, `/images/${other.id}/file`)).data.toString(), "read me");
  const s2 = (await g.req("GET", "/cache", { token: admin })).body;
  assert.ok(s2.queued_images.includes(other.id) || s2.cached_images.some((c: { image_id: string }) => c.image_id === other.id));
  assertGlanceError(await g.req("DELETE", "/cache", { token: admin, headers: { "x-image-cache-clear-target": "invalid" } }), 400, "If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty string.");
  assert.equal((await g.req("DELETE", "/cache", { token: admin })).status, 204);
  const cleared = (await g.req("GET", "/cache", { token: admin })).body;
  assert.deepEqual(cleared, { cached_images: [], queued_images: [] });
  assert.equal(await tc.cloud.blobs.stat(`image-cache/${img.id}`), undefined);
});

test("concurrent uploads of one image: exactly one wins, the other is a 409", async () => {
  const m = await persona(tc, "member");
  const img = await g.create(m.token);
  const [a, b] = await Promise.all([g.put(m.token, `/images/${img.id}/file`, randomBytes(200_000)), g.put(m.token, `/images/${img.id}/file`, randomBytes(200_000))]);
  assert.deepEqual([a.status, b.status].sort(), [204, 409]);
  const shown = (await g.req("GET", `/images/${img.id}`, { token: m.token })).body;
  assert.equal(shown.status, "active");
  assert.equal(shown.size, 200_000);
  const data = (await g.get(m.token, `/images/${img.id}/file`)).data;
  assert.equal(createHash("md5").update(data).digest("hex"), shown.checksum, "the stored bytes are the winner's");
});
