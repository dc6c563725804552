import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { after, before, test } from "node:test";
import { s3Signature, urlsafeB64Decode } from "../../src/services/identity/manager/ec2-signer.js";
import type { Response, TestCloud } from "../support/cloud.js";
import { persona, startTestCloud, unique, assertIdentityError as assertError } from "../support/cloud.js";

let tc: TestCloud;
let admin: string;
before(async () => {
  tc = await startTestCloud();
  admin = await tc.adminToken();
});
after(async () => {
  await tc.close();
});

const V3 = "/identity/v3";
const GENERIC_401 = "The request you have made requires authentication.";
const sha256 = (s: string): string => createHash("sha256").update(s, "utf8").digest("hex");


async function call(method: string, path: string, body?: unknown, token: string | undefined = admin): Promise<Response> {
  return tc.request(method, `${V3}${path}`, { ...(token ? { token } : {}), ...(body === undefined ? {} : { body }) });
}

async function ok(method: string, path: string, status: number, body?: unknown, token = admin): Promise<any> {
  const r = await call(method, path, body, token);
  assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
  return r.body;
}

// ---- s3tokens ---------------------------------------------------------------------------------

/** What Swift's s3api sends: the string the client signed (base64) and the client's signature. */
function s3v1(access: string, secret: string, sts: string): Record<string, string> {
  const signature = createHmac("sha1", secret).update(sts, "utf8").digest("base64");
  // base64.urlsafe_b64encode: the URL-safe alphabet, padding kept.
  const token = Buffer.from(sts, "utf8").toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
  return { access, token, signature };
}

function s3v4(access: string, secret: string, service = "s3"): Record<string, string> {
  const date = "20261127";
  const sts = `AWS4-HMAC-SHA256\n${date}T000000Z\n${date}/us-east-1/${service}/aws4_request\n${sha256("canonical")}`;
  const sign = (k: Buffer, m: string): Buffer => createHmac("sha256", k).update(m, "utf8").digest();
  let k = sign(Buffer.from(`AWS4${secret}`, "utf8"), date);
  for (const m of ["us-east-1", service, "aws4_request"]) k = sign(k, m);
  const signature = createHmac("sha256", k).update(sts, "utf8").digest("hex");
  return { access, token: Buffer.from(sts, "utf8").toString("base64"), signature };
}

test("urlsafeB64Decode decodes as Python's urlsafe_b64decode does", () => {
  assert.equal(urlsafeB64Decode("aGVsbG8gd29ybGQ=").toString(), "hello world");
  assert.throws(() => urlsafeB64Decode("aGVsbG8gd29ybGQ"));
  assert.throws(() => urlsafeB64Decode("abcde"));
  assert.deepEqual([...urlsafeB64Decode("-_8=")], [0xfb, 0xff]);
  assert.deepEqual([...urlsafeB64Decode("+/8=")], [0xfb, 0xff]);
  // Characters outside the alphabet are dropped; input after a complete pad is ignored.
  assert.equal(urlsafeB64Decode("aGV s\nbG8=").toString(), "hello");
  assert.equal(urlsafeB64Decode("aGk=trailing").toString(), "hi");
  // A v4 string to sign with a service keystone does not accept cannot be signed.
  assert.throws(() => s3Signature("s", Buffer.from("AWS4-HMAC-SHA256\nd\n20260101/r/ec2/aws4_request\nh")));
  assert.throws(() => s3Signature("s", Buffer.from("AWS4-HMAC-SHA256\nd\n20260101/r/s3/aws4_request")));
});

test("s3tokens: v1 and v4 signatures get a project-scoped token; the errors match Keystone 22", async () => {
  const m = await persona(tc, "member");
  const c = (await ok("POST", `/users/${m.userId}/credentials/OS-EC2`, 201, { tenant_id: m.projectId }, m.token)).credential;
  const creds = s3v1(c.access, c.secret, "GET\n\n\nTue, 11 Nov 2026 00:00:00 GMT\n/bucket/key");

  const res = await call("POST", "/s3tokens", { credentials: creds });
  assert.equal(res.status, 200, res.text);
  assert.ok(res.headers.get("x-subject-token"));
  assert.deepEqual(res.body.token.methods, ["ec2credential"]);
  assert.equal(res.body.token.user.id, m.userId);
  assert.equal(res.body.token.project.id, m.projectId);
  assert.deepEqual(res.body.token.roles.map((r: any) => r.name).sort(), ["member", "reader"]);
  assert.ok(Array.isArray(res.body.token.catalog));
  const check = await tc.request("GET", `${V3}/auth/tokens`, { token: admin, headers: { "x-subject-token": res.headers.get("x-subject-token")! } });
  assert.equal(check.status, 200, check.text);

  // AWS signature v4 (the string to sign starts with AWS4), and the other two body keys.
  assert.equal((await call("POST", "/s3tokens", { credentials: s3v4(c.access, c.secret) })).status, 200);
  assert.equal((await call("POST", "/s3tokens", { credential: s3v4(c.access, c.secret, "sts") })).status, 200);
  assert.equal((await call("POST", "/s3tokens", { ec2Credentials: creds })).status, 200);

  // No token at all: 401 before anything else.
  assertError(await call("POST", "/s3tokens", { credentials: creds }, ""), 401, GENERIC_401);
  // Bad signatures, and v4 strings Keystone refuses to sign, are the generic 401.
  assertError(await call("POST", "/s3tokens", { credentials: { ...creds, signature: "AAAA" } }), 401, GENERIC_401);
  assertError(await call("POST", "/s3tokens", { credentials: { ...s3v4(c.access, c.secret, "ec2") } }), 401, GENERIC_401);
  const badV4 = { ...creds, token: Buffer.from("AWS4-HMAC-SHA256\nx\ny\nz").toString("base64") };
  assertError(await call("POST", "/s3tokens", { credentials: badV4 }), 401, GENERIC_401);
  // An EC2 v2 signature is not an S3 one.
  assertError(await call("POST", "/s3tokens", { credentials: { ...creds, token: undefined } }), 401, GENERIC_401);
  assertError(await call("POST", "/s3tokens", { credentials: { ...creds, token: "abcde" } }), 401, GENERIC_401);
  // No credentials in a non-empty body: 401 (EC2 signature not supplied); an empty body 400.
  assertError(await call("POST", "/s3tokens", { foo: 1 }), 401, GENERIC_401);
  assertError(await call("POST", "/s3tokens", {}), 400, "request must include a request body");
  // An unknown access key: CredentialNotFound under the hashed id.
  assertError(await call("POST", "/s3tokens", { credentials: { ...creds, access: "nope" } }), 404, `Could not find credential: ${sha256("nope")}.`);
  // service_or_admin only.
  assertError(await call("POST", "/s3tokens", { credentials: creds }, m.token), 403);
  const get = await call("GET", "/s3tokens");
  assert.equal(get.status, 405, get.text);

  // No role left on the project: no token.
  const grants = await ok("GET", `/projects/${m.projectId}/users/${m.userId}/roles`, 200);
  for (const r of grants.roles) await ok("DELETE", `/projects/${m.projectId}/users/${m.userId}/roles/${r.id}`, 204);
  assertError(await call("POST", "/s3tokens", { credentials: creds }), 401, GENERIC_401);
});

// ---- OS-SIMPLE-CERT ---------------------------------------------------------------------------

test("OS-SIMPLE-CERT answers 410 Gone, with or without a token", async () => {
  const msg = "This API is no longer available due to the removal of support for PKI tokens.";
  for (const path of ["/OS-SIMPLE-CERT/ca", "/OS-SIMPLE-CERT/certificates"]) {
    const anon = await call("GET", path, undefined, "");
    assertError(anon, 410, msg);
    assert.equal(anon.body.error.title, "Gone");
    assertError(await call("GET", path), 410, msg);
  }
});

// ---- federated users --------------------------------------------------------------------------

test("users: idp_id/protocol_id/unique_id filters list federated users only (none here)", async () => {
  await ok("POST", "/users", 201, { user: { name: unique("u"), domain_id: "default" } });
  for (const q of ["idp_id=nope", "unique_id=nope", "protocol_id=saml2", "idp_id=x&name=admin"]) {
    const body = await ok("GET", `/users?${q}`, 200);
    assert.deepEqual(body.users, [], q);
  }
  assert.ok((await ok("GET", "/users", 200)).users.length > 0);
});

test("users: `federated` is validated as Keystone's schema says; an unknown identity provider is a 400", async () => {
  const bad: unknown[] = [
    {},
    [{ idp_id: "nope", protocols: [] }],
    [{ protocols: [{ protocol_id: "p", unique_id: "u" }] }],
    [{ idp_id: "nope", protocols: [{ protocol_id: "p" }] }],
    [{ idp_id: 5, protocols: [{ protocol_id: "p", unique_id: "u" }] }],
    ["x"],
  ];
  for (const federated of bad) {
    assertError(await call("POST", "/users", { user: { name: unique("u"), federated } }), 400, /federated/);
  }
  const good = [{ idp_id: "nope", protocols: [{ protocol_id: "saml2", unique_id: "u1" }] }];
  const name = unique("u");
  assertError(await call("POST", "/users", { user: { name, federated: good } }), 400, "Could not find Identity Provider: nope");
  assert.deepEqual((await ok("GET", `/users?name=${name}`, 200)).users, []);
  // An empty list is ignored.
  const u = (await ok("POST", "/users", 201, { user: { name, federated: [] } })).user;
  assert.equal(u.federated, undefined);

  assertError(await call("PATCH", `/users/${u.id}`, { user: { federated: good } }), 400, "Could not find Identity Provider: nope");
  assertError(await call("PATCH", `/users/${u.id}`, { user: { federated: [{ idp_id: "x", protocols: [] }] } }), 400, /federated/);
  assert.equal((await ok("PATCH", `/users/${u.id}`, 200, { user: { federated: [], description: "d" } })).user.description, "d");
});

// ---- role names that match a global and a domain role ------------------------------------------

test("app creds and trusts: a role name shared by a global and a domain role is ambiguous (400)", async () => {
  const m = await persona(tc, "member");
  const rname = unique("r");
  const global = (await ok("POST", "/roles", 201, { role: { name: rname } })).role;
  const dom = (await ok("POST", "/domains", 201, { domain: { name: unique("d") } })).domain;
  await ok("POST", "/roles", 201, { role: { name: rname, domain_id: dom.id } });
  await ok("PUT", `/projects/${m.projectId}/users/${m.userId}/roles/${global.id}`, 204);
  const token = (
    await tc.request("POST", `${V3}/auth/tokens`, {
      body: { auth: { identity: { methods: ["password"], password: { user: { id: m.userId, password: m.password } } }, scope: { project: { id: m.projectId } } } },
    })
  ).headers.get("x-subject-token")!;
  const ambiguous = `There are multiple role entities named '${rname}'. Please use ID instead of names to resolve the ambiguity.`;

  const acPath = `/users/${m.userId}/application_credentials`;
  assertError(await call("POST", acPath, { application_credential: { name: unique("ac"), roles: [{ name: rname }] } }, token), 400, ambiguous);
  assertError(await call("POST", acPath, { application_credential: { name: unique("ac"), roles: [{ name: unique("none") + "x" }] } }, token), 404, /^Role .* is not defined$/);
  // By id it works; an unambiguous name works too.
  await ok("POST", acPath, 201, { application_credential: { name: unique("ac"), roles: [{ id: global.id }] } }, token);
  await ok("POST", acPath, 201, { application_credential: { name: unique("ac"), roles: [{ name: "member" }] } }, token);

  const trustee = (await ok("POST", "/users", 201, { user: { name: unique("u"), domain_id: "default" } })).user;
  const trust = (roles: unknown): unknown => ({
    trust: { trustor_user_id: m.userId, trustee_user_id: trustee.id, project_id: m.projectId, roles, impersonation: false },
  });
  assertError(await call("POST", "/OS-TRUST/trusts", trust([{ name: rname }]), token), 400, ambiguous);
  assertError(await call("POST", "/OS-TRUST/trusts", trust([{ name: "no-such-role" }]), token), 404, "Role no-such-role is not defined");
  await ok("POST", "/OS-TRUST/trusts", 201, trust([{ id: global.id }]), token);
});

// ---- unsupported auth method ------------------------------------------------------------------

test("auth: an unsupported method is a 401 whose error lists the supported methods", async () => {
  const res = await tc.request("POST", `${V3}/auth/tokens`, { body: { auth: { identity: { methods: ["foo"], foo: {} } } } });
  assertError(res, 401, "Attempted to authenticate with an unsupported method.");
  assert.equal(res.body.error.title, "Unauthorized");
  const methods: string[] = res.body.error.identity.methods;
  assert.ok(Array.isArray(methods));
  for (const m of ["password", "token", "application_credential"]) assert.ok(methods.includes(m), `${m} in ${methods.join(",")}`);
  assert.ok(!methods.includes("foo"));
  assert.deepEqual(Object.keys(res.body.error).sort(), ["code", "identity", "message", "title"]);

  // Ordinary 401s keep the plain shape.
  const plain = await tc.request("POST", `${V3}/auth/tokens`, {
    body: { auth: { identity: { methods: ["password"], password: { user: { name: "admin", domain: { id: "default" }, password: "wrong" } } } } },
  });
  assertError(plain, 401, GENERIC_401);
  assert.equal(plain.body.error.identity, undefined);
});

test("auth: an application credential asking for a scope is Keystone's ApplicationCredentialAuthError", async () => {
  const m = await persona(tc, "member");
  const ac = (await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: unique("ac") } }, m.token))
    .application_credential;
  const res = await tc.request("POST", `${V3}/auth/tokens`, {
    body: {
      auth: {
        identity: { methods: ["application_credential"], application_credential: { id: ac.id, secret: ac.secret } },
        scope: { project: { id: m.projectId } },
      },
    },
  });
  assertError(res, 401, "Error authenticating with application credential: Application credentials cannot request a scope.");
  assert.deepEqual(res.body.error.identity, {});
});
