import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { persona, startTestCloud, unique } from "../support/cloud.js";

let tc: TestCloud;
before(async () => {
  tc = await startTestCloud();
});
after(async () => {
  await tc.close();
});

const URL = "/identity/v3/OS-OAUTH2/token";
const form = (s: string) => ({ raw: s, headers: { "content-type": "application/x-www-form-urlencoded" } });
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

test("OAuth2 client credentials with an application credential give a usable Keystone token", async () => {
  const p = await persona(tc, "member");
  const ac = await tc.request("POST", `/identity/v3/users/${p.userId}/application_credentials`, {
    token: p.token,
    body: { application_credential: { name: unique("oauth2") } },
  });
  assert.equal(ac.status, 201, ac.text);
  const { id, secret } = ac.body.application_credential;
  const ok = await tc.request("POST", URL, { ...form("grant_type=client_credentials"), headers: { ...form("").headers, authorization: basic(id, secret) } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.token_type, "Bearer");
  assert.equal(ok.body.expires_in, 3600);
  const use = await tc.request("GET", "/identity/v3/auth/projects", { token: ok.body.access_token });
  assert.equal(use.status, 200);
  assert.deepEqual(use.body.projects.map((x: any) => x.id), [p.projectId]);

  const bad = await tc.request("POST", URL, { raw: "grant_type=client_credentials", headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(id, "wrong") } });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.error, "invalid_client");
  assert.match(bad.headers.get("www-authenticate") ?? "", /^Keystone uri=/);

  const grant = await tc.request("POST", URL, { raw: "grant_type=password", headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(id, secret) } });
  assert.equal(grant.status, 400);
  assert.deepEqual(grant.body, { error: "unsupported_grant_type", error_description: "The parameter grant_type password is not supported." });

  const none = await tc.request("POST", URL, { raw: "", headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(id, secret) } });
  assert.equal(none.status, 400);
  assert.equal(none.body.error, "invalid_request");

  const noauth = await tc.request("POST", URL, form("grant_type=client_credentials"));
  assert.equal(noauth.status, 401);
  assert.deepEqual(noauth.body, { error: "invalid_client", error_description: "OAuth2.0 client authorization is required." });

  const get = await tc.request("GET", URL);
  assert.equal(get.status, 405);
  assert.equal(get.body.error, "other_error");
});
