import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { LocalBlobStore } from "../../src/drivers/blob/local/local.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function fresh(): string {
  const d = mkdtempSync(join(tmpdir(), "stackbox-pack-"));
  dirs.push(d);
  return d;
}
async function read(s: LocalBlobStore, key: string, range?: { start: number; end: number }): Promise<Buffer | undefined> {
  const st = await s.get(key, range);
  if (!st) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of st) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test("small blobs put at once share segments and read back byte-equal, also from a new store on the same directory", async () => {
  const root = fresh();
  const s = new LocalBlobStore(root);
  const datas = Array.from({ length: 200 }, (_, i) => randomBytes(1 + ((i * 977) % 5000)));
  const keys = await Promise.all(datas.map((d) => s.putSmall(d)));
  assert.equal(new Set(keys).size, keys.length);
  for (let i = 0; i < keys.length; i++) assert.deepEqual(await read(s, keys[i]!), datas[i]);
  // A burst lands in one segment (one fsync), not one file per blob.
  assert.ok(readdirSync(join(root, "pack")).length < 10);
  const d0 = datas[7]!;
  assert.deepEqual(await read(s, keys[7]!, { start: 1, end: 3 }), d0.subarray(1, 4));
  assert.deepEqual(await s.stat(keys[7]!), { size: d0.length });
  await s.destroy();
  const again = new LocalBlobStore(root);
  assert.deepEqual(await read(again, keys[42]!), datas[42]);
  // Writes after a restart go to a new segment; the old keys still read.
  const k2 = await again.putSmall(Buffer.from("after restart"));
  assert.notEqual(k2.split("/")[1], keys[0]!.split("/")[1]);
  assert.equal((await read(again, k2))!.toString(), "after restart");
  await again.destroy();
});

test("a sealed segment goes once all its blobs are deleted; deleting twice counts once", async () => {
  const root = fresh();
  const s = new LocalBlobStore(root);
  const a = await s.putSmall(Buffer.from("aaaa"));
  const b = await s.putSmall(Buffer.from("bbbbbb"));
  await s.destroy(); // seals the segment
  const t = new LocalBlobStore(root);
  const seg = a.split("/")[1]!;
  await t.delete(a);
  await t.delete(a);
  assert.ok(readdirSync(join(root, "pack")).includes(seg), "b still lives in the segment");
  assert.equal((await read(t, b))!.toString(), "bbbbbb");
  await t.delete(b);
  assert.ok(!readdirSync(join(root, "pack")).includes(seg));
  assert.equal(await t.get(b), undefined);
  await t.destroy();
});
