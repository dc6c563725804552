import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { TestCloud } from "../support/cloud.js";
import { startTestCloud } from "../support/cloud.js";
import { swiftApi, swiftUser } from "../support/swift.js";

/**
 * Who may do what (keystoneauth): operators own their project's account, other projects'
 * users are refused (403, anonymous 401) unless a container ACL (X-Container-Read/Write) or
 * the account ACL (X-Account-Access-Control) lets them in.
 */
let tc: TestCloud;
before(async () => {
  tc = await startTestCloud();
});
after(() => tc.close());

const FORBIDDEN = "<html><h1>Forbidden</h1><p>Access was denied to this resource.</p></html>";
const UNAUTHORIZED = "<html><h1>Unauthorized</h1><p>This server could not verify that you are authorized to access the document you requested.</p></html>";

let n = 0;
const cname = (): string => `acl${++n}-${Date.now().toString(36)}`;

type User = Awaited<ReturnType<typeof swiftUser>>;
async function pair(): Promise<{ owner: User; other: User; asOther: ReturnType<typeof swiftApi>; anon: ReturnType<typeof swiftApi> }> {
  const owner = await swiftUser(tc);
  const other = await swiftUser(tc);
  // The other user's token, aimed at the owner's account.
  return { owner, other, asOther: swiftApi(tc, owner.projectId, other.token), anon: swiftApi(tc, owner.projectId, "") };
}

describe("without ACLs", () => {
  test("another project's member gets 403 everywhere; anonymous gets 401", async () => {
    const { owner, asOther, anon } = await pair();
    const c = cname();
    await owner.api.put(`/${c}`);
    await owner.api.put(`/${c}/o`, { body: Buffer.from("secret") });
    for (const [m, p] of [
      ["HEAD", ""],
      ["GET", ""],
      ["POST", ""],
      ["GET", `/${c}`],
      ["PUT", `/${c}2`],
      ["POST", `/${c}`],
      ["DELETE", `/${c}`],
      ["GET", `/${c}/o`],
      ["PUT", `/${c}/o`],
      ["DELETE", `/${c}/o`],
    ] as const) {
      const r = await asOther.call(m, p, m === "PUT" ? { body: Buffer.from("x") } : {});
      assert.equal(r.status, 403, `${m} ${p}`);
      if (m !== "HEAD") assert.equal(r.text, FORBIDDEN, `${m} ${p}`);
      const a = await anon.call(m, p, m === "PUT" ? { body: Buffer.from("x") } : {});
      assert.equal(a.status, 401, `anon ${m} ${p}`);
      assert.equal(a.headers.get("www-authenticate"), `Swift realm="AUTH_${owner.projectId}", Keystone uri="${tc.url}/identity"`);
      if (m !== "HEAD") assert.equal(a.text, UNAUTHORIZED);
    }
    assert.equal((await owner.api.get(`/${c}/o`)).text, "secret");
  });

  test("a reader of the project reads but does not write", async () => {
    const owner = await swiftUser(tc);
    const reader = await swiftUser(tc, "reader", { projectId: owner.projectId });
    const c = cname();
    await owner.api.put(`/${c}`, { headers: { "x-container-read": "nobody:nobody" } });
    await owner.api.put(`/${c}/o`, { body: Buffer.from("r") });
    assert.equal((await reader.api.get(`/${c}/o`)).text, "r");
    assert.equal((await reader.api.get(`/${c}`)).status, 200);
    // Not an owner: the ACL headers are not shown.
    assert.equal((await reader.api.head(`/${c}`)).headers.get("x-container-read"), null);
    assert.equal((await reader.api.put(`/${c}/o2`, { body: Buffer.from("x") })).status, 403);
    assert.equal((await reader.api.post(`/${c}`, { headers: { "x-container-meta-a": "b" } })).status, 403);
  });
});

describe("container ACLs", () => {
  test("read ACL <project>:* lets the other project's member read and list, not write", async () => {
    const { owner, other, asOther } = await pair();
    const c = cname();
    await owner.api.put(`/${c}`);
    await owner.api.put(`/${c}/o`, { body: Buffer.from("shared") });
    assert.equal((await asOther.get(`/${c}/o`)).status, 403);
    assert.equal((await owner.api.post(`/${c}`, { headers: { "x-container-read": `${other.projectId}:*` } })).status, 204);
    const h = await owner.api.head(`/${c}`);
    assert.equal(h.headers.get("x-container-read"), `${other.projectId}:*`);
    assert.equal((await asOther.get(`/${c}/o`)).text, "shared");
    assert.equal((await asOther.head(`/${c}/o`)).status, 200);
    const list = await asOther.get(`/${c}`);
    assert.equal(list.text, "o\n");
    assert.equal((await asOther.head(`/${c}`)).headers.get("x-container-read"), null);
    assert.equal((await asOther.put(`/${c}/new`, { body: Buffer.from("x") })).status, 403);
    assert.equal((await asOther.del(`/${c}/o`)).status, 403);
    assert.equal((await asOther.post(`/${c}`, { headers: { "x-container-read": ".r:*" } })).status, 403);
    // The account stays closed to them.
    assert.equal((await asOther.get("")).status, 403);
    // Names work too (default domain): project name : user name.
    const admin = await tc.adminToken();
    const pname = (await tc.request("GET", `/identity/v3/projects/${other.projectId}`, { token: admin })).body.project.name as string;
    const uname = (await tc.request("GET", `/identity/v3/users/${other.userId}`, { token: admin })).body.user.name as string;
    const cn = cname();
    await owner.api.put(`/${cn}`, { headers: { "x-container-read": `${pname}:${uname}` } });
    await owner.api.put(`/${cn}/o`, { body: Buffer.from("by name") });
    assert.equal((await asOther.get(`/${cn}/o`)).text, "by name");
    // A user-specific grant: project:user.
    const c2 = cname();
    await owner.api.put(`/${c2}`, { headers: { "x-container-read": `${other.projectId}:${other.userId}` } });
    await owner.api.put(`/${c2}/o`, { body: Buffer.from("u") });
    assert.equal((await asOther.get(`/${c2}/o`)).text, "u");
  });

  test("write ACL lets the other project's member put and delete objects only", async () => {
    const { owner, other, asOther } = await pair();
    const c = cname();
    await owner.api.put(`/${c}`, { headers: { "x-container-write": `${other.projectId}:*` } });
    const p = await asOther.put(`/${c}/dropped`, { body: Buffer.from("from other") });
    assert.equal(p.status, 201);
    assert.equal((await owner.api.get(`/${c}/dropped`)).text, "from other");
    assert.equal((await asOther.post(`/${c}/dropped`, { headers: { "x-object-meta-a": "b" } })).status, 202);
    // Writing is not reading.
    assert.equal((await asOther.get(`/${c}/dropped`)).status, 403);
    assert.equal((await asOther.get(`/${c}`)).status, 403);
    // Container metadata is the owner's.
    assert.equal((await asOther.post(`/${c}`, { headers: { "x-container-meta-x": "y" } })).status, 403);
    assert.equal((await asOther.del(`/${c}/dropped`)).status, 204);
    assert.equal((await owner.api.head(`/${c}/dropped`)).status, 404);
  });

  test("copies across accounts need read on the source and write on the target", async () => {
    const { owner, other, asOther } = await pair();
    const c = cname();
    await owner.api.put(`/${c}`, { headers: { "x-container-write": `${other.projectId}:*` } });
    await other.api.put(`/mine`);
    await other.api.put(`/mine/src`, { body: Buffer.from("cross"), headers: { "x-object-meta-k": "v" } });
    // The other user copies its own object into the owner's container (X-Copy-From-Account).
    const p = await asOther.put(`/${c}/copied`, { body: Buffer.alloc(0), headers: { "x-copy-from": "mine/src", "x-copy-from-account": `AUTH_${other.projectId}` } });
    assert.equal(p.status, 201);
    assert.equal(p.headers.get("x-copied-from-account"), `AUTH_${other.projectId}`);
    assert.equal(p.headers.get("x-copied-from"), "mine/src");
    assert.equal(p.headers.get("x-object-meta-k"), "v");
    const g = await owner.api.get(`/${c}/copied`);
    assert.equal(g.text, "cross");
    assert.equal(g.headers.get("x-object-meta-k"), "v");
    // COPY with Destination-Account works the other way round only with rights there.
    const back = await other.api.call("COPY", `/mine/src`, { headers: { destination: `${c}/copied2`, "destination-account": `AUTH_${owner.projectId}` } });
    assert.equal(back.status, 201);
    assert.equal((await owner.api.get(`/${c}/copied2`)).text, "cross");
    // Reading from the owner's container needs a read ACL: without it the copy is refused.
    const steal = await other.api.put(`/mine/stolen`, { body: Buffer.alloc(0), headers: { "x-copy-from": `${c}/copied`, "x-copy-from-account": `AUTH_${owner.projectId}` } });
    assert.equal(steal.status, 403);
    assert.equal((await other.api.head(`/mine/stolen`)).status, 404);
  });

  test(".r:* lets anyone read objects; listings need .rlistings", async () => {
    const { owner, anon, asOther } = await pair();
    const c = cname();
    await owner.api.put(`/${c}`, { headers: { "x-container-read": ".r:*" } });
    await owner.api.put(`/${c}/pub`, { body: Buffer.from("public") });
    const g = await anon.get(`/${c}/pub`);
    assert.equal(g.status, 200);
    assert.equal(g.text, "public");
    assert.equal((await asOther.get(`/${c}/pub`)).text, "public");
    const l = await anon.get(`/${c}`);
    assert.equal(l.status, 401);
    assert.equal((await asOther.get(`/${c}`)).status, 403);
    assert.equal((await anon.put(`/${c}/pub`, { body: Buffer.from("x") })).status, 401);
    await owner.api.post(`/${c}`, { headers: { "x-container-read": ".r:*,.rlistings" } });
    assert.equal((await anon.get(`/${c}`)).text, "pub\n");
    // The owner still owns it (sees the ACL) though the ACL would let anyone in.
    assert.equal((await owner.api.head(`/${c}`)).headers.get("x-container-read"), ".r:*,.rlistings");
    // Referrer rules: a denied host.
    await owner.api.post(`/${c}`, { headers: { "x-container-read": ".r:*,.r:-bad.example" } });
    assert.equal((await anon.get(`/${c}/pub`, { headers: { referer: "http://bad.example/page" } })).status, 401);
    assert.equal((await anon.get(`/${c}/pub`, { headers: { referer: "http://good.example/page" } })).status, 200);
  });

  test("bad ACLs are 400 with Swift's messages and change nothing", async () => {
    const owner = await swiftUser(tc);
    const c = cname();
    await owner.api.put(`/${c}`);
    const w = await owner.api.post(`/${c}`, { headers: { "x-container-write": ".r:*" } });
    assert.equal(w.status, 400);
    assert.equal(w.text, "Referrers not allowed in write ACL: '.r:*'");
    const u = await owner.api.post(`/${c}`, { headers: { "x-container-read": ".bad:thing" } });
    assert.equal(u.status, 400);
    assert.equal(u.text, "Unknown designator '.bad' in ACL: '.bad:thing'");
    const e = await owner.api.put(`/${c}`, { headers: { "x-container-read": ".r:" } });
    assert.equal(e.status, 400);
    assert.equal(e.text, "No host/domain value after referrer designation in ACL: '.r:'");
    const h = await owner.api.head(`/${c}`);
    assert.equal(h.headers.get("x-container-read"), null);
    assert.equal(h.headers.get("x-container-write"), null);
  });
});

describe("account ACL (X-Account-Access-Control)", () => {
  test("read-only, read-write and admin grants to another project", async () => {
    const { owner, other, asOther } = await pair();
    const c = cname();
    await owner.api.put(`/${c}`);
    await owner.api.put(`/${c}/o`, { body: Buffer.from("acct") });

    const set = async (acl: unknown) => owner.api.post("", { headers: { "x-account-access-control": JSON.stringify(acl) } });
    assert.equal((await set({ "read-only": [other.projectId] })).status, 204);
    assert.equal((await owner.api.head("")).headers.get("x-account-access-control"), JSON.stringify({ "read-only": [other.projectId] }));
    assert.equal((await asOther.get("")).text, `${c}\n`);
    assert.equal((await asOther.get(`/${c}/o`)).text, "acct");
    assert.equal((await asOther.head("")).headers.get("x-account-access-control"), null);
    assert.equal((await asOther.put(`/${c}/w`, { body: Buffer.from("x") })).status, 403);

    assert.equal((await set({ "read-write": [other.projectId] })).status, 204);
    assert.equal((await asOther.put(`/${c}/w`, { body: Buffer.from("x") })).status, 201);
    assert.equal((await asOther.put(`/${c}-new`)).status, 201);
    assert.equal((await asOther.post("", { headers: { "x-account-meta-a": "b" } })).status, 403);

    assert.equal((await set({ admin: [`${other.projectId}:${other.userId}`] })).status, 204);
    assert.equal((await asOther.post("", { headers: { "x-account-meta-a": "b" } })).status, 204);
    assert.ok((await asOther.head("")).headers.get("x-account-access-control"));

    // Removing it closes the account again.
    assert.equal((await owner.api.post("", { headers: { "x-account-access-control": "" } })).status, 204);
    assert.equal((await asOther.get("")).status, 403);
  });

  test("a bad account ACL is 400 and only owners may set one", async () => {
    const { owner, other, asOther } = await pair();
    const bad = await owner.api.post("", { headers: { "x-account-access-control": '{"nope": []}' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.text, "Key 'nope' not recognized");
    const syntax = await owner.api.post("", { headers: { "x-account-access-control": "{" } });
    assert.equal(syntax.status, 400);
    assert.equal((await asOther.post("", { headers: { "x-account-access-control": JSON.stringify({ admin: [other.projectId] }) } })).status, 403);
    assert.equal((await owner.api.head("")).headers.get("x-account-access-control"), null);
  });
});
