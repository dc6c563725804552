/**
 * Debian's `openstack` CLI (python3-openstackclient) and openstacksdk against a real
 * `stackbox serve`: the clients cannot tell it from Keystone. A step whose feature the server
 * does not have yet (it answers "The resource could not be found" for the URL, or 501) is
 * skipped, not failed.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { TestContext } from "node:test";
import { freePort, serve } from "../support/serve.js";
import type { Served } from "../support/serve.js";
import { run } from "../support/cli.js";
import type { Run } from "../support/cli.js";

const OPENSTACK = "/usr/bin/openstack";
const PYTHON = "/usr/bin/python3";
const PASSWORD = "cli-secret-pw";

/** The server lacks the feature: an unknown URL (kernel 404 wording) or 501. */
function missingFeature(r: Run): boolean {
  return /The resource could not be found|HTTP 501|Not Implemented/.test(r.stderr);
}

describe("openstack CLI and openstacksdk against stackbox serve", { skip: !existsSync(OPENSTACK) && `${OPENSTACK} is missing (apt-get install python3-openstackclient)` }, () => {
  let dir = "";
  let server: Served | undefined;
  let base: Record<string, string> = {};
  let auth = "";

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "stackbox-cli-"));
    server = await serve({ dataDir: join(dir, "state"), port: await freePort(), adminPassword: PASSWORD });
    auth = `${server.url}/identity/v3`;
    // A clean environment: no OS_* from the caller, a HOME without clouds.yaml.
    base = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, LANG: "C.UTF-8", PYTHONWARNINGS: "ignore" };
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const adminEnv = (): Record<string, string> => ({
    ...base,
    OS_AUTH_URL: auth,
    OS_IDENTITY_API_VERSION: "3",
    OS_USERNAME: "admin",
    OS_PASSWORD: PASSWORD,
    OS_PROJECT_NAME: "admin",
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_DOMAIN_NAME: "Default",
    OS_REGION_NAME: "RegionOne",
    OS_INTERFACE: "public",
  });

  /** Run `openstack …` as admin; parse -f json output. Skips the test when the feature is missing. */
  async function os(t: TestContext, args: string[], env: Record<string, string> = adminEnv()): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = await run(OPENSTACK, args, env, dir);
    if (r.code !== 0) {
      if (missingFeature(r)) {
        t.skip(`server lacks this feature: ${r.stderr.trim().split("\n").pop() ?? ""}`);
        throw new SkipStep();
      }
      assert.fail(`openstack ${args.join(" ")} exited ${r.code}:\n${r.stderr}\n${r.stdout}\n--- server:\n${server?.output().slice(-2000) ?? ""}`);
    }
    if (args.includes("json")) return r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
    return r.stdout;
  }
  class SkipStep extends Error {}
  /** A step: a SkipStep from a missing feature ends it quietly (already marked skipped). */
  const step = (name: string, fn: (t: TestContext) => Promise<void>): void => {
    test(name, async (t) => {
      try {
        await fn(t);
      } catch (e) {
        if (!(e instanceof SkipStep)) throw e;
      }
    });
  };

  const project = `cli-p-${process.pid}`;
  const user = `cli-u-${process.pid}`;
  const userPw = "cli-user-pw-1";
  let appCred: { id: string; secret: string } | undefined;

  step("token issue", async (t) => {
    const tok = await os(t, ["token", "issue", "-f", "json"]);
    assert.match(tok.id, /\S{20,}/);
    assert.ok(tok.project_id && tok.user_id && tok.expires);
  });

  step("project create / show / list", async (t) => {
    const p = await os(t, ["project", "create", "--domain", "default", "--description", "from the CLI", project, "-f", "json"]);
    assert.equal(p.name, project);
    assert.equal(p.domain_id, "default");
    const s = await os(t, ["project", "show", project, "-f", "json"]);
    assert.equal(s.id, p.id);
    const l = await os(t, ["project", "list", "-f", "json"]);
    assert.ok(l.some((x: { Name: string }) => x.Name === project));
  });

  step("user create / show", async (t) => {
    const u = await os(t, ["user", "create", "--domain", "default", "--password", userPw, "--project", project, "--email", "u@example.com", user, "-f", "json"]);
    assert.equal(u.name, user);
    const s = await os(t, ["user", "show", user, "-f", "json"]);
    assert.equal(s.id, u.id);
  });

  step("role add / role assignment list --names", async (t) => {
    await os(t, ["role", "add", "--project", project, "--user", user, "member"]);
    const l = await os(t, ["role", "assignment", "list", "--names", "--project", project, "-f", "json"]);
    assert.ok(
      l.some((a: { Role: string; User: string; Project: string }) => a.Role === "member" && a.User === `${user}@Default` && a.Project === `${project}@Default`),
      JSON.stringify(l),
    );
  });

  step("catalog list / endpoint list / service list", async (t) => {
    const c = await os(t, ["catalog", "list", "-f", "json"]);
    const identity = c.find((s: { Type: string }) => s.Type === "identity");
    assert.ok(identity, JSON.stringify(c));
    assert.match(JSON.stringify(identity.Endpoints), /RegionOne/);
    const e = await os(t, ["endpoint", "list", "-f", "json"]);
    assert.ok(e.some((x: { "Service Type": string }) => x["Service Type"] === "identity"), JSON.stringify(e));
    const s = await os(t, ["service", "list", "-f", "json"]);
    assert.ok(s.some((x: { Type: string }) => x.Type === "identity"));
  });

  const userEnv = (): Record<string, string> => ({ ...adminEnv(), OS_USERNAME: user, OS_PASSWORD: userPw, OS_PROJECT_NAME: project });

  step("application credential create, and a login with it", async (t) => {
    const ac = await os(t, ["application", "credential", "create", "--description", "cli test", `ac-${process.pid}`, "-f", "json"], userEnv());
    assert.ok(ac.id && ac.secret, JSON.stringify(ac));
    appCred = { id: ac.id, secret: ac.secret };
    const env = { ...base, OS_AUTH_URL: auth, OS_IDENTITY_API_VERSION: "3", OS_APPLICATION_CREDENTIAL_ID: appCred.id, OS_APPLICATION_CREDENTIAL_SECRET: appCred.secret, OS_INTERFACE: "public", OS_REGION_NAME: "RegionOne" };
    const tok = await os(t, ["--os-auth-type", "v3applicationcredential", "token", "issue", "-f", "json"], env);
    assert.ok(tok.id);
    const p = await os(t, ["project", "show", project, "-f", "json"]);
    assert.equal(tok.project_id, p.id);
    const l = await os(t, ["application", "credential", "list", "-f", "json"], userEnv());
    assert.ok(l.some((x: { ID: string }) => x.ID === appCred!.id));
  });

  step("group create / add user / contains / list --user / delete", async (t) => {
    const g = `cli-g-${process.pid}`;
    await os(t, ["group", "create", "--domain", "default", g, "-f", "json"]);
    await os(t, ["group", "add", "user", g, user]);
    const c = await os(t, ["group", "contains", "user", g, user]);
    assert.match(c, new RegExp(`^${user} in group ${g}`));
    const l = await os(t, ["group", "list", "--user", user, "-f", "json"]);
    assert.ok(l.some((x: { Name: string }) => x.Name === g));
    await os(t, ["group", "remove", "user", g, user]);
    await os(t, ["group", "delete", g]);
  });

  step("domain create / list / show / set --disable / delete", async (t) => {
    const d = `cli-d-${process.pid}`;
    const c = await os(t, ["domain", "create", "--description", "cli", d, "-f", "json"]);
    assert.equal(c.name, d);
    const l = await os(t, ["domain", "list", "-f", "json"]);
    assert.ok(l.some((x: { Name: string }) => x.Name === d));
    const s = await os(t, ["domain", "show", d, "-f", "json"]);
    assert.equal(s.id, c.id);
    await os(t, ["domain", "set", "--disable", d]);
    await os(t, ["domain", "delete", d]);
  });

  step("region create / list / show / delete", async (t) => {
    const r = `cli-r-${process.pid}`;
    await os(t, ["region", "create", "--description", "cli", r, "-f", "json"]);
    const l = await os(t, ["region", "list", "-f", "json"]);
    assert.ok(l.some((x: { Region: string }) => x.Region === r), JSON.stringify(l));
    const s = await os(t, ["region", "show", r, "-f", "json"]);
    assert.equal(s.region, r);
    await os(t, ["region", "delete", r]);
  });

  step("service and endpoint create / show / delete", async (t) => {
    const name = `cli-svc-${process.pid}`;
    const s = await os(t, ["service", "create", "--name", name, "--description", "cli", "cli-type", "-f", "json"]);
    const e = await os(t, ["endpoint", "create", "--region", "RegionOne", s.id, "public", "http://127.0.0.1:9/cli", "-f", "json"]);
    assert.equal(e.url, "http://127.0.0.1:9/cli");
    const sh = await os(t, ["endpoint", "show", e.id, "-f", "json"]);
    assert.equal(sh.service_id, s.id);
    await os(t, ["endpoint", "delete", e.id]);
    await os(t, ["service", "delete", s.id]);
  });

  step("role remove, user delete, project delete", async (t) => {
    if (appCred) await os(t, ["application", "credential", "delete", appCred.id], userEnv());
    await os(t, ["role", "remove", "--project", project, "--user", user, "member"]);
    await os(t, ["user", "delete", user]);
    await os(t, ["project", "delete", project]);
    const l = await os(t, ["project", "list", "-f", "json"]);
    assert.ok(!l.some((x: { Name: string }) => x.Name === project));
  });

  test("openstacksdk: list projects and users, create and delete a project", { skip: !existsSync(PYTHON) && `${PYTHON} is missing` }, async () => {
    const script = `
import json, os, openstack
conn = openstack.connect(auth_url=os.environ["SB_AUTH"], username="admin", password=os.environ["SB_PW"],
    project_name="admin", user_domain_name="Default", project_domain_name="Default",
    region_name="RegionOne", identity_api_version="3")
out = {"projects": sorted(p.name for p in conn.identity.projects()),
       "users": sorted(u.name for u in conn.identity.users())}
p = conn.identity.create_project(name="sdk-" + str(os.getpid()), domain_id="default", description="sdk")
out["created"] = p.name
out["found"] = conn.identity.find_project(p.name).id == p.id
conn.identity.delete_project(p)
out["after_delete"] = conn.identity.find_project(p.name) is None
print(json.dumps(out))
`;
    const r = await run(PYTHON, ["-c", script], { ...base, SB_AUTH: auth, SB_PW: PASSWORD }, dir);
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.ok(out.projects.includes("admin"));
    assert.ok(out.users.includes("admin"));
    assert.equal(out.found, true);
    assert.equal(out.after_delete, true);
  });
});
