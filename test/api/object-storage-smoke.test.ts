import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud } from "../support/cloud.js";
import { swiftUser } from "../support/swift.js";

let tc: TestCloud;
before(async () => {
  tc = await startTestCloud();
});
after(() => tc.close());

test("a member puts and gets an object in its account", async () => {
  const { api } = await swiftUser(tc);
  assert.equal((await api.put("/c1")).status, 201);
  const put = await api.put("/c1/a/b.txt", { body: "hello", headers: { "x-object-meta-color": "red" } });
  assert.equal(put.status, 201, put.text);
  assert.equal(put.headers.get("etag"), "5d41402abc4b2a76b9719d911017c592");
  const get = await api.get("/c1/a/b.txt");
  assert.equal(get.text, "hello");
  assert.equal(get.headers.get("x-object-meta-color"), "red");
  assert.match(get.headers.get("x-trans-id") ?? "", /^tx[0-9a-f]{21}-[0-9a-f]{10}$/);
});
