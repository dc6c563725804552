import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { persona, startTestCloud } from "../support/cloud.js";
import { assertComputeError } from "../support/compute.js";

describe("Nova URLs with the project id (/v2.1/{project_id}/…)", () => {
  let tc: TestCloud;
  before(async () => {
    tc = await startTestCloud();
  });
  after(async () => tc.close());

  test("the caller's project in the URL serves the same resource as the short form", async () => {
    const m = await persona(tc, "member");
    const long = await tc.request("GET", `/compute/v2.1/${m.projectId}/flavors/1`, { token: m.token });
    const short = await tc.request("GET", "/compute/v2.1/flavors/1", { token: m.token });
    assert.equal(long.status, 200, long.text);
    assert.equal(long.body.flavor.id, short.body.flavor.id);
    const servers = await tc.request("GET", `/compute/v2.1/${m.projectId}/servers/detail`, { token: m.token });
    assert.equal(servers.status, 200, servers.text);
    assert.deepEqual(servers.body.servers, []);
  });

  test("another project's id in the URL is a 400 and changes nothing", async () => {
    const m = await persona(tc, "member");
    const other = await persona(tc, "member");
    const r = await tc.request("POST", `/compute/v2.1/${other.projectId}/os-keypairs`, { token: m.token, body: { keypair: { name: "k1" } } });
    assertComputeError(r, 400, `Malformed request URL: URL's project_id '${other.projectId}' doesn't match Context's project_id '${m.projectId}'`);
    const list = await tc.request("GET", "/compute/v2.1/os-keypairs", { token: m.token });
    assert.deepEqual(list.body.keypairs, []);
  });

  test("without a token the project form is a 401 like the short form", async () => {
    const m = await persona(tc, "member");
    const r = await tc.request("GET", `/compute/v2.1/${m.projectId}/servers`);
    assert.equal(r.status, 401);
    // keystonemiddleware answers before Nova (and Cinder) see the request.
    const body = { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } };
    assert.deepEqual(r.body, body);
    const v = await tc.request("GET", `/volume/v3/${m.projectId}/volumes`);
    assert.equal(v.status, 401);
    assert.deepEqual(v.body, body);
  });
});
