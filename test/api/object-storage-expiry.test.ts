import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ManualClock } from "../../src/common/clock.js";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud } from "../support/cloud.js";
import { swiftUser } from "../support/swift.js";

const clock = new ManualClock();
let tc: TestCloud;
before(async () => {
  tc = await startTestCloud({}, { clock });
});
after(() => tc.close());

/** Run the expirer to the end (twice: the background timer may have a pass of its own under way). */
const sweep = async (): Promise<void> => {
  await tc.cloud.objectStorage.expirer.sweep();
  await tc.cloud.objectStorage.expirer.sweep();
};
const nowSeconds = (): number => Math.floor(clock.now().getTime() / 1000);

test("the expirer deletes expired objects for real: rows, counters and bytes", async () => {
  const { api } = await swiftUser(tc);
  await api.put("/c");
  assert.equal((await api.put("/c/after", { body: "12345", headers: { "x-delete-after": "30" } })).status, 201);
  assert.equal((await api.put("/c/at", { body: "123", headers: { "x-delete-at": String(nowSeconds() + 60) } })).status, 201);
  assert.equal((await api.put("/c/stays", { body: "1" })).status, 201);
  await api.put("/c/posted", { body: "22" });
  assert.equal((await api.post("/c/posted", { headers: { "x-delete-after": "30" } })).status, 202);
  const head = await api.head("/c/after");
  assert.equal(head.headers.get("x-delete-at"), String(nowSeconds() + 30));

  await sweep();
  assert.equal((await api.head("/c")).headers.get("x-container-object-count"), "4", "nothing has expired yet");
  clock.advance(31_000);
  // The proxy hides them at once; the expirer removes them.
  assert.equal((await api.get("/c/after")).status, 404);
  assert.equal((await api.get("/c/posted")).status, 404);
  await sweep();
  let c = await api.head("/c");
  assert.equal(c.headers.get("x-container-object-count"), "2");
  assert.equal(c.headers.get("x-container-bytes-used"), "4");
  assert.equal((await api.get("/c/at")).text, "123");

  clock.advance(30_000);
  await sweep();
  c = await api.head("/c");
  assert.equal(c.headers.get("x-container-object-count"), "1");
  assert.equal(c.headers.get("x-container-bytes-used"), "1");
  assert.equal((await api.get("/c", { query: { format: "json" } })).json.length, 1);
  const account = await api.head("");
  assert.equal(account.headers.get("x-account-object-count"), "1");
  assert.equal(account.headers.get("x-account-bytes-used"), "1");
  // The container can go now that it is empty.
  assert.equal((await api.del("/c/stays")).status, 204);
  assert.equal((await api.del("/c")).status, 204);
});

test("an object written again or given a later X-Delete-At is not reaped", async () => {
  const { api } = await swiftUser(tc);
  await api.put("/d");
  await api.put("/d/rewritten", { body: "old", headers: { "x-delete-after": "10" } });
  await api.put("/d/rewritten", { body: "new!" });
  await api.put("/d/extended", { body: "e", headers: { "x-delete-after": "10" } });
  await api.post("/d/extended", { headers: { "x-delete-after": "100" } });
  clock.advance(11_000);
  await sweep();
  assert.equal((await api.get("/d/rewritten")).text, "new!");
  assert.equal((await api.get("/d/extended")).text, "e");
  const c = await api.head("/d");
  assert.equal(c.headers.get("x-container-object-count"), "2");
  assert.equal(c.headers.get("x-container-bytes-used"), "5");
});

test("X-Delete-At and X-Delete-After refusals", async () => {
  const { api } = await swiftUser(tc);
  await api.put("/e");
  const past = await api.put("/e/o", { body: "x", headers: { "x-delete-at": String(nowSeconds() - 1) } });
  assert.equal(past.status, 400);
  assert.equal(past.text, "X-Delete-At in past");
  const bad = await api.put("/e/o", { body: "x", headers: { "x-delete-after": "soon" } });
  assert.equal(bad.status, 400);
  assert.equal(bad.text, "Non-integer X-Delete-After");
  assert.equal((await api.head("/e")).headers.get("x-container-object-count"), "0");
});

test("the background sweep reaps expired objects by itself", async () => {
  const { api } = await swiftUser(tc);
  await api.put("/bg");
  await api.put("/bg/o", { body: "abc", headers: { "x-delete-after": "5" } });
  clock.advance(6_000);
  // The timer runs every second; wait for it (a few seconds at most), not for a fixed time.
  let count = "1";
  for (let i = 0; i < 50 && count !== "0"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    count = (await api.head("/bg")).headers.get("x-container-object-count") ?? "";
  }
  assert.equal(count, "0");
  assert.equal((await api.del("/bg")).status, 204);
});
