import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { ManualClock } from "../../src/common/clock.js";
import { ec2Signature } from "../../src/services/identity/manager/ec2-signer.js";
import type { Response, TestCloud } from "../support/cloud.js";
import { passwordToken, persona, startTestCloud, unique, assertIdentityError as assertError } from "../support/cloud.js";

let tc: TestCloud;
let admin: string;
const clock = new ManualClock();
before(async () => {
  tc = await startTestCloud({}, { clock });
  admin = await tc.adminToken();
});
after(async () => {
  await tc.close();
});

const V3 = "/identity/v3";
const sha256 = (s: string): string => createHash("sha256").update(s, "utf8").digest("hex");


async function call(method: string, path: string, body?: unknown, token = admin, headers?: Record<string, string>): Promise<Response> {
  return tc.request(method, `${V3}${path}`, { token, ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) });
}

async function ok(method: string, path: string, status: number, body?: unknown, token = admin): Promise<any> {
  const r = await call(method, path, body, token);
  assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
  return r.body;
}

const roleId = async (name: string): Promise<string> => (await ok("GET", `/roles?name=${name}`, 200)).roles[0].id as string;

/** Authenticate with an application credential: the raw response. */
async function appCredAuth(ac: Record<string, unknown>, scope?: unknown): Promise<Response> {
  return tc.request("POST", `${V3}/auth/tokens`, {
    body: { auth: { identity: { methods: ["application_credential"], application_credential: ac }, ...(scope ? { scope } : {}) } },
  });
}

async function appCredToken(id: string, secret: string): Promise<{ token: string; body: any }> {
  const r = await appCredAuth({ id, secret });
  assert.equal(r.status, 201, r.text);
  return { token: r.headers.get("x-subject-token")!, body: r.body.token };
}

async function validate(subject: string): Promise<Response> {
  return tc.request("GET", `${V3}/auth/tokens`, { token: admin, headers: { "x-subject-token": subject } });
}

// ---- /v3/credentials --------------------------------------------------------------------------

test("credentials: ec2 create/show/update/list/delete as Keystone (id = sha256(access), blob a string)", async () => {
  const m = await persona(tc, "member");
  const p2 = (await ok("POST", "/projects", 201, { project: { name: unique("p"), domain_id: "default" } })).project.id;
  const access = unique("acc");
  const blob = JSON.stringify({ access, secret: "s3cr3t" });
  const created = (await ok("POST", "/credentials", 201, { credential: { user_id: m.userId, project_id: m.projectId, blob, type: "ec2" } }))
    .credential;
  assert.equal(created.id, sha256(access));
  assert.equal(created.blob, blob);
  assert.equal(created.type, "ec2");
  assert.equal(created.user_id, m.userId);
  assert.equal(created.project_id, m.projectId);
  assert.match(created.links.self, new RegExp(`/identity/v3/credentials/${created.id}$`));

  // The access key may change, the id stays; project_id may move.
  const blob2 = JSON.stringify({ access: unique("acc2"), secret: "other" });
  const upd = (await ok("PATCH", `/credentials/${created.id}`, 200, { credential: { blob: blob2, project_id: p2, type: "ec2" } })).credential;
  assert.equal(upd.id, created.id);
  assert.equal(upd.project_id, p2);
  assert.equal(upd.user_id, m.userId);
  assert.deepEqual(JSON.parse(upd.blob), JSON.parse(blob2));
  const shown = (await ok("GET", `/credentials/${created.id}`, 200)).credential;
  assert.deepEqual(shown, upd);

  const other = (await ok("POST", "/credentials", 201, { credential: { user_id: m.userId, blob: "totp-seed", type: "totp", color: "blue" } })).credential;
  assert.match(other.id, /^[0-9a-f]{32}$/);
  assert.equal(other.project_id, null);
  assert.equal(other.color, "blue", "extra attributes come back");
  const list = (await ok("GET", "/credentials", 200)).credentials.map((c: any) => c.id);
  assert.ok(list.includes(created.id) && list.includes(other.id));
  const byType = (await ok("GET", `/credentials?user_id=${m.userId}&type=totp`, 200)).credentials;
  assert.deepEqual(byType.map((c: any) => c.id), [other.id]);

  await ok("DELETE", `/credentials/${created.id}`, 204);
  assertError(await call("GET", `/credentials/${created.id}`), 404, `Could not find credential: ${created.id}.`);
  assertError(await call("DELETE", `/credentials/${created.id}`), 404);
  assertError(await call("PATCH", `/credentials/${created.id}`, { credential: { blob: "x" } }), 404);
});

test("credentials: bad input is a 400 and changes nothing; a second ec2 credential with the same access is a 409", async () => {
  const m = await persona(tc, "member");
  const base = { user_id: m.userId, project_id: m.projectId, type: "ec2" };
  assertError(await call("POST", "/credentials", { credential: { user_id: m.userId, blob: JSON.stringify({ access: "a" }), type: "ec2" } }), 400, /project_id/);
  assertError(await call("POST", "/credentials", { credential: { ...base, blob: "{not json" } }), 400, "Invalid blob in credential");
  assertError(await call("POST", "/credentials", { credential: { ...base, blob: JSON.stringify({ secret: "x" }) } }), 400, /Expecting to find access in credential/);
  assertError(await call("POST", "/credentials", { credential: { ...base, blob: "[]" } }), 400, /Expecting to find blob in credential/);
  assertError(await call("POST", "/credentials", { credential: { type: "totp", blob: "x" } }), 400, /user_id/);
  assertError(await call("POST", "/credentials", { credential: { user_id: m.userId, type: "totp", blob: 5 } }), 400, /blob/);
  assertError(await call("POST", "/credentials", {}), 400);

  const access = unique("dup");
  const blob = JSON.stringify({ access, secret: "1" });
  const c = (await ok("POST", "/credentials", 201, { credential: { ...base, blob } })).credential;
  assertError(await call("POST", "/credentials", { credential: { ...base, blob } }), 409, /Duplicate entry/);

  assertError(await call("PATCH", `/credentials/${c.id}`, { credential: {} }), 400);
  assertError(await call("PATCH", `/credentials/${c.id}`, { credential: { id: "other" } }), 400, "Cannot change ID");
  assertError(await call("PATCH", `/credentials/${c.id}`, { credential: { type: "totp" } }), 400);
  assertError(await call("PATCH", `/credentials/${c.id}`, { credential: { blob: "nope" } }), 400, "Invalid blob in credential");
  assertError(await call("PATCH", `/credentials/${c.id}`, { credential: { blob: JSON.stringify({ access, secret: "1", trust_id: "t" }) } }), 400, /trust_id/);
  const still = (await ok("GET", `/credentials/${c.id}`, 200)).credential;
  assert.equal(still.blob, blob);
  assert.equal(still.type, "ec2");
});

test("credentials: owners manage their own only; admins see all", async () => {
  const a = await persona(tc, "member");
  const b = await persona(tc, "member");
  const mine = (await ok("POST", "/credentials", 201, { credential: { user_id: a.userId, type: "totp", blob: "a-seed" } }, a.token)).credential;
  const theirs = (await ok("POST", "/credentials", 201, { credential: { user_id: b.userId, type: "totp", blob: "b-seed" } }, b.token)).credential;
  assertError(
    await call("POST", "/credentials", { credential: { user_id: b.userId, type: "totp", blob: "x" } }, a.token),
    403,
    "You are not authorized to perform the requested action: identity:create_credential.",
  );
  assertError(await call("GET", `/credentials/${theirs.id}`, undefined, a.token), 403);
  assertError(await call("PATCH", `/credentials/${theirs.id}`, { credential: { blob: "y" } }, a.token), 403);
  assertError(await call("DELETE", `/credentials/${theirs.id}`, undefined, a.token), 403);
  // Handing one's credential to someone else is refused too.
  assertError(await call("PATCH", `/credentials/${mine.id}`, { credential: { user_id: b.userId } }, a.token), 403);
  // A missing credential is a 403 for a non-admin (nothing to own) and a 404 for an admin.
  assertError(await call("GET", "/credentials/nope", undefined, a.token), 403);
  assertError(await call("GET", "/credentials/nope"), 404);

  const seen = (await ok("GET", "/credentials", 200, undefined, a.token)).credentials.map((c: any) => c.id);
  assert.deepEqual(seen, [mine.id]);
  assert.deepEqual((await ok("GET", `/credentials?user_id=${b.userId}`, 200, undefined, a.token)).credentials, []);
  const all = (await ok("GET", "/credentials", 200)).credentials.map((c: any) => c.id);
  assert.ok(all.includes(mine.id) && all.includes(theirs.id));
  const upd = (await ok("PATCH", `/credentials/${mine.id}`, 200, { credential: { blob: "a-seed-2" } }, a.token)).credential;
  assert.equal(upd.blob, "a-seed-2");
  await ok("DELETE", `/credentials/${mine.id}`, 204, undefined, a.token);
});

test("credentials: blobs are encrypted at rest", async () => {
  const m = await persona(tc, "member");
  const secret = `very-secret-${unique("s")}`;
  const c = (await ok("POST", "/credentials", 201, { credential: { user_id: m.userId, type: "totp", blob: secret } })).credential;
  const db = tc.cloud.database.db;
  const row = await db.selectFrom("credential").selectAll().where("id", "=", c.id).executeTakeFirstOrThrow();
  assert.ok(!String(row.encrypted_blob).includes(secret));
  assert.ok(!Buffer.from(String(row.encrypted_blob), "base64").toString("latin1").includes(secret));
  assert.equal(row.blob, undefined);
  const keys = await db.selectFrom("credential_key").selectAll().execute();
  assert.ok(keys.length >= 1);
  // Moving the ciphertext to another row does not decrypt: it is bound to its credential id.
  const c2 = (await ok("POST", "/credentials", 201, { credential: { user_id: m.userId, type: "totp", blob: "other" } })).credential;
  assert.equal((await ok("GET", `/credentials/${c2.id}`, 200)).credential.blob, "other");
});

test("credentials: deleting the user or the project removes them", async () => {
  const m = await persona(tc, "member");
  const c1 = (await ok("POST", "/credentials", 201, { credential: { user_id: m.userId, type: "totp", blob: "x" } })).credential;
  const p = (await ok("POST", "/projects", 201, { project: { name: unique("p"), domain_id: "default" } })).project.id;
  const other = await persona(tc, "member");
  const c2 = (
    await ok("POST", "/credentials", 201, {
      credential: { user_id: other.userId, project_id: p, type: "ec2", blob: JSON.stringify({ access: unique("a"), secret: "s" }) },
    })
  ).credential;
  await ok("DELETE", `/users/${m.userId}`, 204);
  assertError(await call("GET", `/credentials/${c1.id}`), 404);
  await ok("DELETE", `/projects/${p}`, 204);
  assertError(await call("GET", `/credentials/${c2.id}`), 404);
});

// ---- OS-EC2 ---------------------------------------------------------------------------------

test("OS-EC2: a member creates, lists, shows and deletes their own EC2 credentials", async () => {
  const m = await persona(tc, "member");
  const res = await call("POST", `/users/${m.userId}/credentials/OS-EC2`, { tenant_id: m.projectId }, m.token);
  assert.equal(res.status, 201, res.text);
  const c = res.body.credential;
  assert.deepEqual(Object.keys(c).sort(), ["access", "links", "secret", "tenant_id", "trust_id", "user_id"]);
  assert.match(c.access, /^[0-9a-f]{32}$/);
  assert.match(c.secret, /^[0-9a-f]{32}$/);
  assert.equal(c.user_id, m.userId);
  assert.equal(c.tenant_id, m.projectId);
  assert.equal(c.trust_id, null);
  assert.match(c.links.self, new RegExp(`/identity/v3/users/${m.userId}/credentials/OS-EC2/${c.access}$`));
  const c2 = (await ok("POST", `/users/${m.userId}/credentials/OS-EC2`, 201, { tenant_id: m.projectId }, m.token)).credential;

  const list = (await ok("GET", `/users/${m.userId}/credentials/OS-EC2`, 200, undefined, m.token)).credentials;
  assert.deepEqual(list.map((x: any) => x.access).sort(), [c.access, c2.access].sort());
  const shown = (await ok("GET", `/users/${m.userId}/credentials/OS-EC2/${c.access}`, 200, undefined, m.token)).credential;
  assert.deepEqual(shown, c);

  // The same record, seen as a v3 credential.
  const v3 = (await ok("GET", `/credentials/${sha256(c.access)}`, 200)).credential;
  assert.equal(v3.type, "ec2");
  assert.deepEqual(JSON.parse(v3.blob), { access: c.access, secret: c.secret, trust_id: null });
  assert.equal(v3.blob, `{"access": "${c.access}", "secret": "${c.secret}", "trust_id": null}`);

  await ok("DELETE", `/users/${m.userId}/credentials/OS-EC2/${c.access}`, 204, undefined, m.token);
  assertError(await call("GET", `/users/${m.userId}/credentials/OS-EC2/${c.access}`, undefined, m.token), 404);
  assertError(await call("DELETE", `/users/${m.userId}/credentials/OS-EC2/${c.access}`, undefined, m.token), 404);
});

test("OS-EC2: unknown project or user is a 404; another user's credentials are a 403", async () => {
  const a = await persona(tc, "member");
  const b = await persona(tc, "member");
  assertError(await call("POST", `/users/${a.userId}/credentials/OS-EC2`, { tenant_id: "nope" }, a.token), 404, "Could not find project: nope.");
  assertError(await call("POST", `/users/${a.userId}/credentials/OS-EC2`, {}, a.token), 404, "Could not find project: None.");
  assertError(await call("POST", `/users/nope/credentials/OS-EC2`, { tenant_id: a.projectId }), 404, "Could not find user: nope.");
  assertError(await call("POST", `/users/${b.userId}/credentials/OS-EC2`, { tenant_id: a.projectId }, a.token), 403);
  assertError(await call("GET", `/users/${b.userId}/credentials/OS-EC2`, undefined, a.token), 403);
  const bc = (await ok("POST", `/users/${b.userId}/credentials/OS-EC2`, 201, { tenant_id: b.projectId }, b.token)).credential;
  assertError(await call("GET", `/users/${b.userId}/credentials/OS-EC2/${bc.access}`, undefined, a.token), 403);
  assertError(await call("GET", `/users/${a.userId}/credentials/OS-EC2/${bc.access}`, undefined, a.token), 403);
  assertError(await call("DELETE", `/users/${a.userId}/credentials/OS-EC2/${bc.access}`, undefined, a.token), 403);
  // Admins may read anyone's.
  await ok("GET", `/users/${b.userId}/credentials/OS-EC2/${bc.access}`, 200);
});

// ---- EC2 signatures -------------------------------------------------------------------------

test("EC2 signer: matches keystoneclient's Ec2Signer for signature versions 0, 1, 2 and 4", () => {
  // Vectors computed with keystoneclient.contrib.ec2.utils.Ec2Signer.
  const secret = "0123456789abcdef0123456789abcdef";
  const ts = "2024-05-01T12:00:00Z";
  const v = (params: Record<string, string>, extra: Record<string, unknown> = {}): string =>
    ec2Signature(secret, { params, verb: "GET", host: "h", path: "/", ...extra });
  assert.equal(v({ SignatureVersion: "0", Action: "DescribeInstances", Timestamp: ts }), "3hXPKIqUwFPWuExJQUmk7miopUg=");
  assert.equal(
    v({ SignatureVersion: "1", Action: "DescribeInstances", Timestamp: ts, zeta: "1", Alpha: "2", AWSAccessKeyId: "AK" }),
    "0cFlhwQZvKSJgFoK6ArENvDpNlQ=",
  );
  assert.equal(
    v(
      { SignatureVersion: "2", Action: "DescribeInstances", Timestamp: ts, AWSAccessKeyId: "AK", Name: "a b/é~*", n: "1" },
      { host: "ec2.example.com:8773", path: "/services/Cloud" },
    ),
    "Xh5UM9fK+xsYN0P/veR8c2OTHkmaKDE9ybtWCBPfg2U=",
  );
  const headers = {
    Host: "ec2.example.com:8773",
    "X-Amz-Date": "20240501T120000Z",
    "Content-Type": "application/x-www-form-urlencoded",
    Authorization:
      "AWS4-HMAC-SHA256 Credential=AK/20240501/RegionOne/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=xx",
  };
  const bodyHash = sha256("Action=DescribeInstances");
  assert.equal(
    ec2Signature(secret, { params: {}, verb: "POST", host: "ec2.example.com:8773", path: "/", headers, body_hash: bodyHash }),
    "a7327b0328e8b3cf593ba893b184eab49a1b79c8dacce5bcbcf3c32e829d88a8",
  );
  assert.equal(
    ec2Signature(secret, { params: { Action: "List", b: "ü" }, verb: "GET", host: "x", path: "/x y", headers, body_hash: bodyHash }),
    "68375d688bee59915f624a9d20d44e74a2776a41e6da849637df458d062d9a5b",
  );
  const query = {
    "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
    "X-Amz-Credential": "AK/20240501/RegionOne/s3/aws4_request",
    "X-Amz-Date": "20240501T120000Z",
    "X-Amz-SignedHeaders": "host",
    Action: "x",
  };
  assert.equal(
    ec2Signature(secret, { params: query, verb: "GET", host: "x", path: "/b", headers: { Host: "s3.example.com" }, body_hash: "UNSIGNED-PAYLOAD" }),
    "48648f0c6708fac8c099d187b8ec61a863d78603a2712d1a5294911f4272f260",
  );
});

function signedV2(access: string, secret: string, when: Date, host = "ec2.example.com:8773"): Record<string, unknown> {
  const params = {
    SignatureVersion: "2",
    AWSAccessKeyId: access,
    Action: "DescribeInstances",
    Timestamp: when.toISOString().replace(/\.\d{3}Z$/, "Z"),
    Version: "2010-08-31",
  };
  const creds: Record<string, unknown> = { access, host, verb: "GET", path: "/services/Cloud", params, headers: {}, body_hash: "" };
  creds["signature"] = ec2Signature(secret, creds);
  return creds;
}

test("ec2tokens: a valid signature gets a project-scoped token; a bad one is a 401, an unknown key 404", async () => {
  const m = await persona(tc, "member");
  const c = (await ok("POST", `/users/${m.userId}/credentials/OS-EC2`, 201, { tenant_id: m.projectId }, m.token)).credential;
  const creds = signedV2(c.access, c.secret, clock.now());
  const res = await call("POST", "/ec2tokens", { credentials: creds });
  assert.equal(res.status, 200, res.text);
  const sub = res.headers.get("x-subject-token");
  assert.ok(sub);
  assert.deepEqual(res.body.token.methods, ["ec2credential"]);
  assert.equal(res.body.token.user.id, m.userId);
  assert.equal(res.body.token.project.id, m.projectId);
  assert.deepEqual(res.body.token.roles.map((r: any) => r.name).sort(), ["member", "reader"]);
  assert.ok(Array.isArray(res.body.token.catalog));
  assert.equal((await validate(sub)).status, 200);
  // "credential" and "ec2Credentials" are accepted too, and a port-less signature.
  assert.equal((await call("POST", "/ec2tokens", { ec2Credentials: creds })).status, 200);
  const noPort = signedV2(c.access, c.secret, clock.now(), "ec2.example.com");
  assert.equal((await call("POST", "/ec2tokens", { credential: { ...noPort, host: "ec2.example.com:8773" } })).status, 200);

  const generic = "The request you have made requires authentication.";
  assertError(await call("POST", "/ec2tokens", { credentials: { ...creds, signature: "AAAA" } }), 401, generic);
  assertError(await call("POST", "/ec2tokens", { credentials: { ...creds, signature: undefined } }), 401, generic);
  // An unknown access key is Keystone's CredentialNotFound (404); the caller holds a token already.
  assertError(await call("POST", "/ec2tokens", { credentials: { ...creds, access: "unknown" } }), 404);
  assertError(await call("POST", "/ec2tokens", { credentials: { signature: "x" } }), 401, generic);
  assertError(await call("POST", "/ec2tokens", {}), 400, "request must include a request body");
  // Only admins and services may exchange signatures for tokens.
  assertError(await call("POST", "/ec2tokens", { credentials: creds }, m.token), 403);
  assertError(await call("GET", "/ec2tokens"), 405);

  // A signed request older than 15 minutes is refused.
  const old = signedV2(c.access, c.secret, new Date(clock.now().getTime() - 16 * 60_000));
  assertError(await call("POST", "/ec2tokens", { credentials: old }), 401, generic);

  // No role left on the project: no token.
  const grants = await ok("GET", `/projects/${m.projectId}/users/${m.userId}/roles`, 200);
  for (const r of grants.roles) await ok("DELETE", `/projects/${m.projectId}/users/${m.userId}/roles/${r.id}`, 204);
  assertError(await call("POST", "/ec2tokens", { credentials: signedV2(c.access, c.secret, clock.now()) }), 401);
});

test("ec2tokens: signature version 4 (Authorization header)", async () => {
  const m = await persona(tc, "member");
  const c = (await ok("POST", `/users/${m.userId}/credentials/OS-EC2`, 201, { tenant_id: m.projectId }, m.token)).credential;
  const amzDate = clock.now().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const headers = {
    Host: "ec2.example.com",
    "X-Amz-Date": amzDate,
    Authorization: `AWS4-HMAC-SHA256 Credential=${c.access}/${amzDate.slice(0, 8)}/RegionOne/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=x`,
  };
  const creds: Record<string, unknown> = { access: c.access, host: "ec2.example.com", verb: "POST", path: "/", params: {}, headers, body_hash: sha256("") };
  creds["signature"] = ec2Signature(c.secret, creds);
  const res = await call("POST", "/ec2tokens", { credentials: creds });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.token.project.id, m.projectId);
});

// ---- application credentials ----------------------------------------------------------------

test("application credentials: create shows the secret once; its token is pinned to the project with the credential's roles", async () => {
  const m = await persona(tc, "member");
  const name = unique("ac");
  const res = await call("POST", `/users/${m.userId}/application_credentials`, { application_credential: { name, description: "d" } }, m.token);
  assert.equal(res.status, 201, res.text);
  const ac = res.body.application_credential;
  assert.match(ac.id, /^[0-9a-f]{32}$/);
  assert.equal(typeof ac.secret, "string");
  assert.ok(ac.secret.length >= 80);
  assert.equal(ac.name, name);
  assert.equal(ac.description, "d");
  assert.equal(ac.project_id, m.projectId);
  assert.equal(ac.user_id, m.userId);
  assert.equal(ac.expires_at, null);
  assert.equal(ac.unrestricted, null);
  assert.equal(ac.access_rules, undefined);
  assert.deepEqual(ac.roles.map((r: any) => r.name).sort(), ["member", "reader"], "defaults to the token's roles");
  assert.match(ac.links.self, new RegExp(`/identity/v3/application_credentials/${ac.id}$`));

  const shown = (await ok("GET", `/users/${m.userId}/application_credentials/${ac.id}`, 200, undefined, m.token)).application_credential;
  assert.equal(shown.secret, undefined);
  assert.equal(shown.name, name);
  // The secret is stored only as a hash.
  const row = await tc.cloud.database.db.selectFrom("application_credential").selectAll().where("id", "=", ac.id).executeTakeFirstOrThrow();
  assert.notEqual(row.secret_hash, ac.secret);
  assert.match(String(row.secret_hash), /^\$2[aby]\$/);

  const { token, body } = await appCredToken(ac.id, ac.secret);
  assert.deepEqual(body.methods, ["application_credential"]);
  assert.equal(body.user.id, m.userId);
  assert.equal(body.project.id, m.projectId);
  assert.deepEqual(body.application_credential, { id: ac.id, name, restricted: true });
  assert.equal((await validate(token)).status, 200);

  // By name, with the user by id or by name and domain.
  const user = (await ok("GET", `/users/${m.userId}`, 200)).user;
  assert.equal((await appCredAuth({ name, secret: ac.secret, user: { id: m.userId } })).status, 201);
  assert.equal((await appCredAuth({ name, secret: ac.secret, user: { name: user.name, domain: { id: "default" } } })).status, 201);
  assert.equal((await appCredAuth({ name, secret: ac.secret, user: { name: user.name, domain: { name: "Default" } } })).status, 201);

  const generic = "The request you have made requires authentication.";
  assertError(await appCredAuth({ id: ac.id, secret: "wrong" }), 401, generic);
  assertError(await appCredAuth({ id: ac.id }), 401, generic);
  assertError(await appCredAuth({ name: "nope", secret: ac.secret, user: { id: m.userId } }), 401, generic);
  assertError(await appCredAuth({ id: "nope", secret: "x" }), 404, "Could not find Application Credential: nope.");
  assertError(await appCredAuth({ name, secret: ac.secret }), 400, /user/);
  assertError(await appCredAuth({ secret: ac.secret }), 400, /id or name/);
  // The project is fixed: another scope is refused.
  const other = (await ok("POST", "/projects", 201, { project: { name: unique("p"), domain_id: "default" } })).project.id;
  assertError(await appCredAuth({ id: ac.id, secret: ac.secret }, { project: { id: other } }), 401);
  // Such a token cannot be exchanged for another one.
  const re = await tc.request("POST", `${V3}/auth/tokens`, { body: { auth: { identity: { methods: ["token"], token: { id: token } } } } });
  assert.ok(re.status === 401 || re.status === 403, re.text);
});

test("application credentials: list and filter by name; names are unique per user (409)", async () => {
  const m = await persona(tc, "member");
  const n1 = unique("ac");
  const n2 = unique("ac");
  await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: n1 } }, m.token);
  await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: n2, secret: "my-own-secret" } }, m.token);
  const all = (await ok("GET", `/users/${m.userId}/application_credentials`, 200, undefined, m.token)).application_credentials;
  assert.deepEqual(all.map((a: any) => a.name).sort(), [n1, n2].sort());
  assert.ok(all.every((a: any) => a.secret === undefined));
  const one = (await ok("GET", `/users/${m.userId}/application_credentials?name=${n2}`, 200, undefined, m.token)).application_credentials;
  assert.deepEqual(one.map((a: any) => a.name), [n2]);
  assertError(
    await call("POST", `/users/${m.userId}/application_credentials`, { application_credential: { name: n1 } }, m.token),
    409,
    `Conflict occurred attempting to store application_credential - Duplicate entry found with name ${n1}.`,
  );
  // A secret of one's own choosing works.
  assert.equal((await appCredAuth({ name: n2, secret: "my-own-secret", user: { id: m.userId } })).status, 201);
  // Another user may use the same name.
  const o = await persona(tc, "member");
  await ok("POST", `/users/${o.userId}/application_credentials`, 201, { application_credential: { name: n1 } }, o.token);
  assertError(await call("POST", `/users/${m.userId}/application_credentials`, { application_credential: {} }, m.token), 400, /name/);
  assertError(await call("POST", `/users/${m.userId}/application_credentials`, { application_credential: { name: "x", bogus_rule: 1, access_rules: [{ path: "no-slash", method: "GET", service: "compute" }] } }, m.token), 400);
});

test("application credentials: roles must be a subset of the caller's roles on the project", async () => {
  const m = await persona(tc, "member");
  const reader = await roleId("reader");
  const adminRole = await roleId("admin");
  const ac = (
    await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: unique("ac"), roles: [{ id: reader }] } }, m.token)
  ).application_credential;
  assert.deepEqual(ac.roles.map((r: any) => r.id), [reader]);
  const { body } = await appCredToken(ac.id, ac.secret);
  assert.deepEqual(body.roles.map((r: any) => r.id), [reader], "token roles are only the credential's");
  const byName = (
    await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: unique("ac"), roles: [{ name: "member" }] } }, m.token)
  ).application_credential;
  assert.deepEqual(byName.roles.map((r: any) => r.name), ["member"]);
  assertError(
    await call("POST", `/users/${m.userId}/application_credentials`, { application_credential: { name: unique("ac"), roles: [{ id: adminRole }] } }, m.token),
    400,
    "Invalid application credential: Cannot create an application credential with unassigned role",
  );
  assertError(
    await call("POST", `/users/${m.userId}/application_credentials`, { application_credential: { name: unique("ac"), roles: [{ name: "no-such-role" }] } }, m.token),
    404,
    "Role no-such-role is not defined",
  );
  assertError(
    await call("POST", `/users/${m.userId}/application_credentials`, { application_credential: { name: unique("ac"), roles: [{ id: reader, name: "reader" }] } }, m.token),
    400,
  );
  // A role granted after the caller's token was issued counts (roles are computed at validation).
  const extra = (await ok("POST", "/roles", 201, { role: { name: unique("r") } })).role;
  await ok("PUT", `/projects/${m.projectId}/users/${m.userId}/roles/${extra.id}`, 204);
  const withExtra = (
    await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: unique("ac"), roles: [{ id: extra.id }] } }, m.token)
  ).application_credential;
  const t = await appCredToken(withExtra.id, withExtra.secret);
  assert.deepEqual(t.body.roles.map((r: any) => r.id), [extra.id]);

  // Losing the role ends the credential's tokens.
  await ok("DELETE", `/projects/${m.projectId}/users/${m.userId}/roles/${extra.id}`, 204);
  assert.equal((await validate(t.token)).status, 404);
  assertError(await appCredAuth({ id: withExtra.id, secret: withExtra.secret }), 401);
});

test("application credentials: only for oneself, and a restricted credential cannot make or delete others", async () => {
  const m = await persona(tc, "member");
  const o = await persona(tc, "member");
  assertError(
    await call("POST", `/users/${o.userId}/application_credentials`, { application_credential: { name: unique("ac") } }, m.token),
    403,
    "You are not authorized to perform the requested action: identity:create_application_credential.",
  );
  // Even an admin cannot create one for someone else.
  assertError(await call("POST", `/users/${o.userId}/application_credentials`, { application_credential: { name: unique("ac") } }), 403);
  const restricted = (await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: unique("ac") } }, m.token))
    .application_credential;
  const free = (
    await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: unique("ac"), unrestricted: true } }, m.token)
  ).application_credential;
  assert.equal(free.unrestricted, true);
  const rt = (await appCredToken(restricted.id, restricted.secret)).token;
  assertError(
    await call("POST", `/users/${m.userId}/application_credentials`, { application_credential: { name: unique("ac") } }, rt),
    403,
    "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials.",
  );
  assertError(await call("DELETE", `/users/${m.userId}/application_credentials/${free.id}`, undefined, rt), 403);
  // Nor a trust (any application-credential token is a delegation there).
  const trust = await call(
    "POST",
    "/OS-TRUST/trusts",
    { trust: { trustor_user_id: m.userId, trustee_user_id: o.userId, project_id: m.projectId, impersonation: false, roles: [{ name: "member" }] } },
    rt,
  );
  assertError(trust, 403);
  // Reading is fine.
  await ok("GET", `/users/${m.userId}/application_credentials`, 200, undefined, rt);
  const ft = (await appCredToken(free.id, free.secret)).token;
  const child = (await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: unique("ac") } }, ft))
    .application_credential;
  assert.ok(child.secret);
  // Delegated tokens cannot reach credentials at all.
  assertError(
    await call("POST", "/credentials", { credential: { user_id: m.userId, type: "totp", blob: "x" } }, ft),
    403,
    "You are not authorized to perform the requested action: Delegated tokens cannot access credentials directly.",
  );
  assertError(await call("POST", `/users/${m.userId}/credentials/OS-EC2`, { tenant_id: m.projectId }, ft), 403);
  assert.deepEqual((await ok("GET", "/credentials", 200, undefined, ft)).credentials, []);

  // Another user cannot read or delete it, even with their own id in the path.
  assertError(await call("GET", `/users/${o.userId}/application_credentials/${restricted.id}`, undefined, o.token), 403);
  assertError(await call("DELETE", `/users/${o.userId}/application_credentials/${restricted.id}`, undefined, o.token), 403);
  assertError(await call("GET", `/users/${m.userId}/application_credentials`, undefined, o.token), 403);
  assertError(await call("GET", `/users/${m.userId}/application_credentials/nope`, undefined, m.token), 404, "Could not find Application Credential: nope.");
});

test("application credentials: expires_at is echoed to the microsecond, caps the token and ends it", async () => {
  const m = await persona(tc, "member");
  const when = new Date(clock.now().getTime() + 30 * 60_000);
  const expires = `${when.toISOString().slice(0, 19)}.123456`;
  const ac = (
    await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: unique("ac"), expires_at: expires } }, m.token)
  ).application_credential;
  assert.equal(ac.expires_at, expires);
  assert.equal((await ok("GET", `/users/${m.userId}/application_credentials/${ac.id}`, 200, undefined, m.token)).application_credential.expires_at, expires);
  const { token, body } = await appCredToken(ac.id, ac.secret);
  // The token dies with the credential (tokens keep whole seconds of expiry).
  const cap = Date.parse(`${expires.slice(0, 23)}Z`);
  assert.ok(Date.parse(body.expires_at) <= cap && Date.parse(body.expires_at) > cap - 1000, body.expires_at);

  assertError(
    await call("POST", `/users/${m.userId}/application_credentials`, { application_credential: { name: unique("ac"), expires_at: "2001-01-01T00:00:00" } }, m.token),
    400,
    /The 'expires_at' must not be before now/,
  );
  assertError(
    await call("POST", `/users/${m.userId}/application_credentials`, { application_credential: { name: unique("ac"), expires_at: "tomorrow" } }, m.token),
    400,
    /Timestamp not in expected format/,
  );
  clock.advance(31 * 60_000);
  try {
    assert.equal((await validate(token)).status, 404);
    assertError(await appCredAuth({ id: ac.id, secret: ac.secret }), 401);
  } finally {
    clock.advance(-31 * 60_000);
  }
});

test("application credentials: deleting one ends its tokens; deleting the user or the project removes them", async () => {
  const m = await persona(tc, "member");
  const ac = (await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: unique("ac") } }, m.token))
    .application_credential;
  const { token } = await appCredToken(ac.id, ac.secret);
  await ok("DELETE", `/users/${m.userId}/application_credentials/${ac.id}`, 204, undefined, m.token);
  assert.equal((await validate(token)).status, 404);
  assertError(await call("GET", `/users/${m.userId}/application_credentials/${ac.id}`, undefined, m.token), 404);
  assertError(await call("DELETE", `/users/${m.userId}/application_credentials/${ac.id}`, undefined, m.token), 404);
  assertError(await appCredAuth({ id: ac.id, secret: ac.secret }), 404);

  const byProject = (await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: unique("ac") } }, m.token))
    .application_credential;
  await ok("DELETE", `/projects/${m.projectId}`, 204);
  assertError(await call("GET", `/users/${m.userId}/application_credentials/${byProject.id}`), 404);

  const u = await persona(tc, "member");
  const byUser = (
    await ok(
      "POST",
      `/users/${u.userId}/application_credentials`,
      201,
      { application_credential: { name: unique("ac"), access_rules: [{ service: "compute", path: "/v2.1/servers", method: "GET" }] } },
      u.token,
    )
  ).application_credential;
  await ok("DELETE", `/users/${u.userId}`, 204);
  assertError(await call("GET", `/users/${u.userId}/application_credentials/${byUser.id}`), 404);
  const rules = await tc.cloud.database.db.selectFrom("access_rule").selectAll().where("user_id", "=", u.userId).execute();
  assert.equal(rules.length, 0);

  // Deleting a role removes the credentials of users it was directly granted to on a project.
  const w = await persona(tc, "member");
  const role = (await ok("POST", "/roles", 201, { role: { name: unique("r") } })).role;
  await ok("PUT", `/projects/${w.projectId}/users/${w.userId}/roles/${role.id}`, 204);
  const wt = await passwordToken(tc, { id: w.userId, password: w.password, projectId: w.projectId });
  const wac = (await ok("POST", `/users/${w.userId}/application_credentials`, 201, { application_credential: { name: unique("ac") } }, wt))
    .application_credential;
  await ok("DELETE", `/roles/${role.id}`, 204);
  assertError(await call("GET", `/users/${w.userId}/application_credentials/${wac.id}`), 404);
});

// ---- access rules ---------------------------------------------------------------------------

test("access rules: kept per user, deduplicated, listed, shown, and deletable only when unused", async () => {
  const m = await persona(tc, "member");
  const rule = { path: "/v2.1/servers/*/ips", method: "GET", service: "compute" };
  const ac1 = (
    await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: unique("ac"), access_rules: [rule] } }, m.token)
  ).application_credential;
  const r1 = ac1.access_rules[0];
  assert.deepEqual({ ...r1, id: undefined }, { ...rule, id: undefined });
  assert.deepEqual(Object.keys(r1).sort(), ["id", "method", "path", "service"]);
  const ac2 = (
    await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: unique("ac"), access_rules: [rule] } }, m.token)
  ).application_credential;
  assert.equal(ac2.access_rules[0].id, r1.id, "identical rules are shared");
  const ac3 = (
    await ok("POST", `/users/${m.userId}/application_credentials`, 201, { application_credential: { name: unique("ac"), access_rules: [{ id: r1.id }] } }, m.token)
  ).application_credential;
  assert.equal(ac3.access_rules[0].id, r1.id, "a rule can be named by id");

  const list = (await ok("GET", `/users/${m.userId}/access_rules`, 200, undefined, m.token)).access_rules;
  assert.equal(list.length, 1);
  assert.match(list[0].links.self, new RegExp(`/identity/v3/access_rules/${r1.id}$`));
  assert.equal((await ok("GET", `/users/${m.userId}/access_rules?service=compute`, 200, undefined, m.token)).access_rules.length, 1);
  assert.equal((await ok("GET", `/users/${m.userId}/access_rules?method=POST`, 200, undefined, m.token)).access_rules.length, 0);
  const shown = (await ok("GET", `/users/${m.userId}/access_rules/${r1.id}`, 200, undefined, m.token)).access_rule;
  assert.equal(shown.id, r1.id);
  assert.equal(shown.path, rule.path);

  // The token carries the rules.
  const { body } = await appCredToken(ac1.id, ac1.secret);
  assert.deepEqual(body.application_credential.access_rules, [{ id: r1.id, ...rule }]);

  assertError(await call("DELETE", `/users/${m.userId}/access_rules/${r1.id}`, undefined, m.token), 403, "May not delete access rule in use");
  for (const ac of [ac1, ac2, ac3]) await ok("DELETE", `/users/${m.userId}/application_credentials/${ac.id}`, 204, undefined, m.token);
  assert.equal((await ok("GET", `/users/${m.userId}/access_rules`, 200, undefined, m.token)).access_rules.length, 1, "rules outlive credentials");
  await ok("DELETE", `/users/${m.userId}/access_rules/${r1.id}`, 204, undefined, m.token);
  assertError(await call("GET", `/users/${m.userId}/access_rules/${r1.id}`, undefined, m.token), 404, `Could not find Access Rule: ${r1.id}.`);
  assertError(await call("DELETE", `/users/${m.userId}/access_rules/${r1.id}`, undefined, m.token), 404);
});

test("access rules: another user's are out of reach", async () => {
  const a = await persona(tc, "member");
  const b = await persona(tc, "member");
  const rule = { path: "/v3/images", method: "GET", service: "image" };
  const ac = (
    await ok("POST", `/users/${b.userId}/application_credentials`, 201, { application_credential: { name: unique("ac"), access_rules: [rule] } }, b.token)
  ).application_credential;
  const rid = ac.access_rules[0].id;
  assertError(await call("GET", `/users/${b.userId}/access_rules`, undefined, a.token), 403);
  assertError(await call("GET", `/users/${b.userId}/access_rules/${rid}`, undefined, a.token), 403);
  assertError(await call("DELETE", `/users/${b.userId}/access_rules/${rid}`, undefined, a.token), 403);
  // Naming the rule under one's own user finds nothing.
  assertError(await call("GET", `/users/${a.userId}/access_rules/${rid}`, undefined, a.token), 404);
  assertError(await call("DELETE", `/users/${a.userId}/access_rules/${rid}`, undefined, a.token), 404);
  // Nor can it be borrowed by id.
  const r = await call("POST", `/users/${a.userId}/application_credentials`, { application_credential: { name: unique("ac"), access_rules: [{ id: rid }] } }, a.token);
  assertError(r, 409);
  // Only system readers see anyone's; a project admin does not (no admin clause in Keystone's rule).
  assertError(await call("GET", `/users/${b.userId}/access_rules`), 403);
  const sys = await passwordToken(tc, { name: "admin", password: tc.adminPassword, system: true });
  assert.equal((await ok("GET", `/users/${b.userId}/access_rules`, 200, undefined, sys)).access_rules.length, 1);
});
