import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud } from "../support/cloud.js";
import { swiftApi, swiftUser } from "../support/swift.js";

let tc: TestCloud;
before(async () => {
  tc = await startTestCloud();
  const admin = await tc.adminToken();
  const r = await tc.request("POST", "/identity/v3/roles", { token: admin, body: { role: { name: "ResellerAdmin" } } });
  assert.equal(r.status, 201, r.text);
});
after(() => tc.close());

const OVER = "Upload exceeds quota.";

test("/info advertises account_quotas and container_quotas", async () => {
  const info = (await (await fetch(`${tc.url}/object-storage/info`)).json()) as Record<string, unknown>;
  assert.deepEqual(info["account_quotas"], {});
  assert.deepEqual(info["container_quotas"], {});
});

test("container quota values must be digits", async () => {
  const { api } = await swiftUser(tc);
  for (const method of ["PUT", "POST"] as const) {
    if (method === "POST") await api.put("/c");
    const bytes = await api.call(method, "/c", { headers: { "x-container-meta-quota-bytes": "10k" } });
    assert.equal(bytes.status, 400);
    assert.equal(bytes.text, "Invalid bytes quota.");
    const count = await api.call(method, "/c", { headers: { "x-container-meta-quota-count": "-1" } });
    assert.equal(count.status, 400);
    assert.equal(count.text, "Invalid count quota.");
  }
  assert.equal((await api.head("/c")).headers.get("x-container-meta-quota-bytes"), null);
  // Empty removes, digits set.
  assert.equal((await api.post("/c", { headers: { "x-container-meta-quota-bytes": "" } })).status, 204);
  assert.equal((await api.post("/c", { headers: { "x-container-meta-quota-bytes": "10" } })).status, 204);
});

test("container bytes quota: a PUT past it is 413 and nothing changes", async () => {
  const { api } = await swiftUser(tc);
  await api.put("/q", { headers: { "x-container-meta-quota-bytes": "10" } });
  assert.equal((await api.put("/q/a", { body: "0123456789" })).status, 201);
  const over = await api.put("/q/b", { body: "x" });
  assert.equal(over.status, 413);
  assert.equal(over.text, OVER);
  const head = await api.head("/q");
  assert.equal(head.headers.get("x-container-bytes-used"), "10");
  assert.equal(head.headers.get("x-container-object-count"), "1");
  assert.equal((await api.head("/q/b")).status, 404);
  // A copy is a PUT too.
  const copy = await api.put("/q/c", { headers: { "x-copy-from": "q/a", "content-length": "0" } });
  assert.equal(copy.status, 413);
  // Raising the quota lets it in.
  await api.post("/q", { headers: { "x-container-meta-quota-bytes": "11" } });
  assert.equal((await api.put("/q/b", { body: "x" })).status, 201);
});

test("container count quota counts every PUT as one more object", async () => {
  const { api } = await swiftUser(tc);
  await api.put("/n", { headers: { "x-container-meta-quota-count": "2" } });
  assert.equal((await api.put("/n/1", { body: "" })).status, 201);
  assert.equal((await api.put("/n/2", { body: "" })).status, 201);
  const third = await api.put("/n/3", { body: "" });
  assert.equal(third.status, 413);
  assert.equal(third.text, OVER);
  assert.equal((await api.put("/n/1", { body: "again" })).status, 413);
  assert.equal((await api.head("/n")).headers.get("x-container-object-count"), "2");
});

test("over a container quota, a caller who may not write there gets its own refusal", async () => {
  const owner = await swiftUser(tc);
  await owner.api.put("/full", { headers: { "x-container-meta-quota-count": "0" } });
  const reader = await swiftUser(tc, "reader", { projectId: owner.projectId });
  assert.equal((await reader.api.put("/full/x", { body: "x" })).status, 403);
  assert.equal((await swiftApi(tc, owner.projectId).put("/full/x", { body: "x" })).status, 401);
  assert.equal((await owner.api.put("/full/x", { body: "x" })).status, 413);
});

test("only a reseller admin sets the account quota; uploads past it are 413", async () => {
  const owner = await swiftUser(tc);
  const reseller = await swiftUser(tc, "ResellerAdmin");
  const asReseller = swiftApi(tc, owner.projectId, reseller.token);

  for (const v of ["100", ""]) {
    const denied = await owner.api.post("", { headers: { "x-account-meta-quota-bytes": v } });
    assert.equal(denied.status, 403, v);
    assert.match(denied.text, /<h1>Forbidden<\/h1>/);
  }
  assert.equal((await owner.api.post("", { headers: { "x-remove-account-meta-quota-bytes": "x" } })).status, 403);
  assert.equal((await asReseller.post("", { headers: { "x-account-meta-quota-bytes": "ten" } })).status, 400);

  assert.equal((await asReseller.post("", { headers: { "x-account-meta-quota-bytes": "20" } })).status, 204);
  assert.equal((await owner.api.head("")).headers.get("x-account-meta-quota-bytes"), "20");
  await owner.api.put("/a");
  await owner.api.put("/b");
  assert.equal((await owner.api.put("/a/1", { body: "0123456789" })).status, 201);
  assert.equal((await owner.api.put("/b/1", { body: "0123456789" })).status, 201);
  const over = await owner.api.put("/a/2", { body: "x" });
  assert.equal(over.status, 413);
  assert.equal(over.text, OVER);
  // Even into a container that does not exist (the quota is checked before the 404).
  assert.equal((await owner.api.put("/nope/x", { body: "x" })).status, 413);
  // Metadata POSTs and empty objects still fit.
  assert.equal((await owner.api.post("/a/1", { headers: { "x-object-meta-k": "v" } })).status, 202);
  assert.equal((await owner.api.put("/a/empty", { body: "" })).status, 201);
  assert.equal((await owner.api.head("")).headers.get("x-account-bytes-used"), "20");

  // X-Remove wins over a value when checking, so an odd value beside it is no 400.
  assert.equal((await asReseller.post("", { headers: { "x-remove-account-meta-quota-bytes": "x", "x-account-meta-quota-bytes": "odd" } })).status, 204);
  // Removal by the reseller lifts it.
  assert.equal((await asReseller.post("", { headers: { "x-remove-account-meta-quota-bytes": "x" } })).status, 204);
  assert.equal((await owner.api.head("")).headers.get("x-account-meta-quota-bytes"), null);
  assert.equal((await owner.api.put("/a/2", { body: "x" })).status, 201);
});

test("an account quota that is not a number is ignored", async () => {
  const owner = await swiftUser(tc);
  const reseller = await swiftUser(tc, "ResellerAdmin");
  const asReseller = swiftApi(tc, owner.projectId, reseller.token);
  // The reseller may only set digits; a negative stored value (older data) means no quota.
  assert.equal((await asReseller.post("", { headers: { "x-account-meta-quota-bytes": "-1" } })).status, 400);
  assert.equal((await asReseller.post("", { headers: { "x-account-meta-quota-bytes": "0" } })).status, 204);
  await owner.api.put("/c");
  assert.equal((await owner.api.put("/c/o", { body: "x" })).status, 413);
  assert.equal((await owner.api.put("/c/o", { body: "" })).status, 201);
});
