import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud } from "../support/cloud.js";

let tc: TestCloud;
before(async () => {
  tc = await startTestCloud();
});
after(async () => {
  await tc.close();
});

test("in-process transport goes through the router with a service token", async () => {
  const t = tc.cloud.transport;
  const res = await t.request("GET", "/identity/v3/projects?name=service");
  assert.equal(res.status, 200);
  assert.equal((res.body as any).projects[0].name, "service");
  assert.ok(String(res.headers["x-openstack-request-id"]).startsWith("req-"));
  // Validation and faults apply as over HTTP.
  const bad = await t.request("POST", "/identity/v3/projects", { body: { project: { name: "" } } });
  assert.equal(bad.status, 400);
  assert.equal((bad.body as any).error.code, 400);
});
