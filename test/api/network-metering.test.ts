/** Metering labels and rules: admin CRUD, filters, validation, members refused. */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { persona, startTestCloud, unique } from "../support/cloud.js";

const tc = await startTestCloud();
after(() => tc.close());
const M = "/networking/v2.0/metering";

test("labels and rules: create, filter by id, show, delete", async () => {
  const admin = await tc.adminToken();
  const label = await tc.request("POST", `${M}/metering-labels`, { token: admin, body: { metering_label: { name: unique("l"), description: "d" } } });
  assert.equal(label.status, 201);
  const l = label.body.metering_label;
  assert.equal(l.shared, false);
  assert.equal(l.project_id, l.tenant_id);
  assert.deepEqual((await tc.request("GET", `${M}/metering-labels?id=33`, { token: admin })).body.metering_labels, []);
  assert.equal((await tc.request("GET", `${M}/metering-labels?id=${l.id}`, { token: admin })).body.metering_labels.length, 1);
  const rule = await tc.request("POST", `${M}/metering-label-rules`, {
    token: admin,
    body: { metering_label_rule: { remote_ip_prefix: "fd02::0/64", direction: "ingress", metering_label_id: l.id } },
  });
  assert.equal(rule.status, 201, JSON.stringify(rule.body));
  assert.equal(rule.body.metering_label_rule.remote_ip_prefix, "fd02::/64");
  assert.equal(rule.body.metering_label_rule.excluded, false);
  const shown = await tc.request("GET", `${M}/metering-label-rules/${rule.body.metering_label_rule.id}`, { token: admin });
  assert.equal(shown.body.metering_label_rule.metering_label_id, l.id);
  const bad = await tc.request("POST", `${M}/metering-label-rules`, { token: admin, body: { metering_label_rule: { remote_ip_prefix: "nope", direction: "ingress", metering_label_id: l.id } } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.NeutronError.type, "HTTPBadRequest");
  const dir = await tc.request("POST", `${M}/metering-label-rules`, { token: admin, body: { metering_label_rule: { remote_ip_prefix: "10.0.0.0/24", direction: "up", metering_label_id: l.id } } });
  assert.equal(dir.status, 400);
  const missing = await tc.request("POST", `${M}/metering-label-rules`, {
    token: admin,
    body: { metering_label_rule: { remote_ip_prefix: "10.0.0.0/24", direction: "ingress", metering_label_id: "6f1c7b07-3f0d-4a4e-9b77-6b3a3f1e0c11" } },
  });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.NeutronError.type, "MeteringLabelNotFound");
  assert.equal((await tc.request("DELETE", `${M}/metering-labels/${l.id}`, { token: admin })).status, 204);
  assert.equal((await tc.request("GET", `${M}/metering-label-rules/${rule.body.metering_label_rule.id}`, { token: admin })).status, 404);
});

test("members may not create labels", async () => {
  const m = await persona(tc, "member");
  const r = await tc.request("POST", `${M}/metering-labels`, { token: m.token, body: { metering_label: { name: "x" } } });
  assert.equal(r.status, 403);
  assert.equal(r.body.NeutronError.type, "PolicyNotAuthorized");
});
