/**
 * The object storage flows a user runs with Debian's `openstack` CLI (python3-openstackclient)
 * and `swift` (python3-swiftclient) against a real `stackbox serve`: containers and objects
 * round trip byte for byte, a 64 MiB static large object in 16 MiB segments, listings with
 * prefix and delimiter, a temp URL fetched with curl, legacy versioning (X-Versions-Location),
 * and a read ACL that lets another project's member download.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { run } from "../support/cli.js";
import type { Run } from "../support/cli.js";
import { freePort, serve } from "../support/serve.js";
import type { Served } from "../support/serve.js";

const OPENSTACK = "/usr/bin/openstack";
const SWIFT = "/usr/bin/swift";
const CURL = "/usr/bin/curl";
const PASSWORD = "cli-object-secret";

const missing = [OPENSTACK, SWIFT, CURL].filter((p) => !existsSync(p));

describe("openstack and swift CLI object storage flows against stackbox serve", { skip: missing.length > 0 && `${missing.join(", ")} missing (apt-get install python3-openstackclient python3-swiftclient curl)` }, () => {
  let dir = "";
  let server: Served | undefined;
  let base: Record<string, string> = {};
  const env = (user = "admin", project = "admin", password = PASSWORD): Record<string, string> => ({
    ...base,
    OS_AUTH_URL: `${server?.url}/identity/v3`,
    OS_IDENTITY_API_VERSION: "3",
    OS_AUTH_VERSION: "3",
    OS_USERNAME: user,
    OS_PASSWORD: password,
    OS_PROJECT_NAME: project,
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_DOMAIN_NAME: "Default",
    OS_REGION_NAME: "RegionOne",
    OS_INTERFACE: "public",
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "stackbox-objectcli-"));
    server = await serve({ dataDir: join(dir, "state"), port: await freePort(), adminPassword: PASSWORD });
    base = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, LANG: "C.UTF-8", PYTHONWARNINGS: "ignore" };
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Values never to be printed (temp URL keys), masked in failure messages. */
  const secrets: string[] = [];
  const mask = (t: string): string => secrets.reduce((acc, k) => acc.replaceAll(k, "<secret>"), t);
  function ok(what: string, r: Run): string {
    if (r.code !== 0) assert.fail(mask(`${what} exited ${r.code}:\n${r.stderr}\n${r.stdout}\n--- server:\n${server?.output().slice(-3000) ?? ""}`));
    return r.stdout;
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function os(args: string[], e = env()): Promise<any> {
    const out = ok(`openstack ${args.join(" ")}`, await run(OPENSTACK, args, e, dir));
    if (args.includes("json")) return out.trim() ? JSON.parse(out) : undefined;
    return out;
  }
  const swift = async (args: string[], e = env()): Promise<string> => ok(`swift ${args.join(" ")}`, await run(SWIFT, args, e, dir, { timeoutMs: 300_000 }));
  const file = (name: string, bytes: number): { path: string; data: Buffer } => {
    const data = randomBytes(bytes);
    const path = join(dir, name);
    writeFileSync(path, data);
    return { path, data };
  };
  const storageUrl = async (e = env()): Promise<string> => {
    const out = await swift(["auth"], e);
    const m = /OS_STORAGE_URL=(\S+)/.exec(out);
    assert.ok(m, out);
    return m[1]!;
  };

  test("openstack container create, object create and save are byte-equal", async () => {
    const created = await os(["container", "create", "cli-c1", "-f", "json"]);
    assert.equal(created[0].container, "cli-c1");
    const src = file("obj1.bin", 300_000);
    const up = await os(["object", "create", "cli-c1", "obj1.bin", "-f", "json"]);
    assert.equal(up[0].object, "obj1.bin");
    const out = join(dir, "obj1.out");
    await os(["object", "save", "cli-c1", "obj1.bin", "--file", out]);
    assert.ok(readFileSync(out).equals(src.data));
    const list = await os(["object", "list", "cli-c1", "-f", "json"]);
    assert.deepEqual(list, [{ Name: "obj1.bin" }]);
    const show = await os(["container", "show", "cli-c1", "-f", "json"]);
    assert.equal(show.object_count, "1");
    assert.equal(show.bytes_used, "300000");
    const obj = await os(["object", "show", "cli-c1", "obj1.bin", "-f", "json"]);
    assert.equal(obj["content-length"], "300000");
  });

  test("swift upload and download are byte-equal", async () => {
    const src = file("small.bin", 123_457);
    await swift(["upload", "sw-c1", "small.bin"]);
    const out = join(dir, "small.out");
    await swift(["download", "sw-c1", "small.bin", "-o", out]);
    assert.ok(readFileSync(out).equals(src.data));
    const stat = await swift(["stat", "sw-c1", "small.bin"]);
    assert.match(stat, /Content Length: 123457/);
  });

  test("swift upload --use-slo of 64 MiB in 16 MiB segments downloads byte-equal", async () => {
    const src = file("big.bin", 64 * 1024 * 1024);
    await swift(["upload", "--use-slo", "-S", "16777216", "sw-big", "big.bin"]);
    const segs = (await swift(["list", "sw-big_segments"])).trim().split("\n");
    assert.equal(segs.length, 4);
    const stat = await swift(["stat", "sw-big", "big.bin"]);
    assert.match(stat, /Content Length: 67108864/);
    assert.match(stat, /X-Static-Large-Object: True/i);
    const out = join(dir, "big.out");
    await swift(["download", "sw-big", "big.bin", "-o", out]);
    assert.ok(readFileSync(out).equals(src.data));
    rmSync(out);
    rmSync(src.path);
  });

  test("swift list with --prefix and --delimiter", async () => {
    const tree = join(dir, "tree");
    for (const p of ["a/b", "c"]) mkdirSync(join(tree, p), { recursive: true });
    for (const [p, t] of [
      ["a/1.txt", "1"],
      ["a/b/2.txt", "2"],
      ["c/3.txt", "3"],
      ["top.txt", "4"],
    ] as const)
      writeFileSync(join(tree, p), t);
    await swift(["upload", "sw-tree", "tree"]);
    assert.deepEqual((await swift(["list", "sw-tree"])).trim().split("\n"), ["tree/a/1.txt", "tree/a/b/2.txt", "tree/c/3.txt", "tree/top.txt"]);
    assert.deepEqual((await swift(["list", "sw-tree", "--prefix", "tree/a/"])).trim().split("\n"), ["tree/a/1.txt", "tree/a/b/2.txt"]);
    assert.deepEqual((await swift(["list", "sw-tree", "--prefix", "tree/", "--delimiter", "/"])).trim().split("\n"), ["tree/a/", "tree/c/", "tree/top.txt"]);
    assert.deepEqual((await swift(["list", "sw-tree", "--delimiter", "/"])).trim().split("\n"), ["tree/"]);
    const acct = (await swift(["list"])).trim().split("\n");
    assert.ok(acct.includes("sw-tree") && acct.includes("cli-c1"), acct.join(","));
  });

  test("swift tempurl, downloaded with curl", async () => {
    const src = file("tu.bin", 4096);
    await swift(["upload", "sw-tu", "tu.bin"]);
    // The key is set here, never printed.
    const key = randomBytes(12).toString("hex");
    secrets.push(key);
    await swift(["post", "-m", `Temp-URL-Key:${key}`]);
    const url = new URL(await storageUrl());
    const path = (await swift(["tempurl", "GET", "600", `${url.pathname}/sw-tu/tu.bin`, key])).trim();
    // (No message with the signed URL in it: it is a credential.)
    assert.ok(/temp_url_sig=[0-9a-f]+&temp_url_expires=\d+$/.test(path), "swift tempurl printed no signed path");
    const out = join(dir, "tu.out");
    const r = await run(CURL, ["-s", "-o", out, "-w", "%{http_code}", `${url.origin}${path}`], base, dir);
    assert.equal(r.stdout, "200");
    assert.ok(readFileSync(out).equals(src.data));
    // Another method than the one signed is refused.
    const put = await run(CURL, ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "--data-binary", "x", `${url.origin}${path}`], base, dir);
    assert.equal(put.stdout, "401");
  });

  test("versioning round trip with X-Versions-Location", async () => {
    await swift(["post", "sw-arch"]);
    await swift(["post", "sw-vers", "-H", "X-Versions-Location: sw-arch"]);
    const doc = join(dir, "doc.txt");
    writeFileSync(doc, "version one\n");
    await swift(["upload", "sw-vers", "doc.txt"]);
    writeFileSync(doc, "version two\n");
    await swift(["upload", "sw-vers", "doc.txt"]);
    const archived = (await swift(["list", "sw-arch"])).trim().split("\n");
    assert.equal(archived.length, 1);
    assert.match(archived[0]!, /^007doc\.txt\/\d+\.\d+$/);
    assert.equal(await swift(["download", "sw-vers", "doc.txt", "-o", "-"]), "version two\n");
    await swift(["delete", "sw-vers", "doc.txt"]);
    // DELETE restores the previous version.
    assert.equal(await swift(["download", "sw-vers", "doc.txt", "-o", "-"]), "version one\n");
    assert.equal((await swift(["list", "sw-arch"])).trim(), "");
  });

  test("swift post -r '<project>:*' lets another project's member download", async () => {
    const proj = (await os(["project", "create", "cli-other", "-f", "json"])).id as string;
    await os(["user", "create", "--project", proj, "--password", "other-pw", "cli-other-user", "-f", "json"]);
    await os(["role", "add", "--user", "cli-other-user", "--project", proj, "member"]);
    const src = file("shared.bin", 50_000);
    await swift(["upload", "sw-shared", "shared.bin"]);
    const adminUrl = await storageUrl();
    const other = env("cli-other-user", "cli-other", "other-pw");
    const out = join(dir, "shared.out");
    const denied = await run(SWIFT, ["--os-storage-url", adminUrl, "download", "sw-shared", "shared.bin", "-o", out], other, dir);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr + denied.stdout, /403/);
    await swift(["post", "-r", `${proj}:*`, "sw-shared"]);
    assert.match(await swift(["stat", "sw-shared"]), new RegExp(`Read ACL: ${proj}:\\*`));
    await swift(["--os-storage-url", adminUrl, "download", "sw-shared", "shared.bin", "-o", out], other);
    assert.ok(readFileSync(out).equals(src.data));
    // Read is not write.
    const up = await run(SWIFT, ["--os-storage-url", adminUrl, "upload", "sw-shared", "shared.bin", "--object-name", "w.bin"], other, dir);
    assert.notEqual(up.code, 0);
    assert.match(up.stderr + up.stdout, /403/);
  });
});
