/**
 * The compute flows a user runs with Debian's `openstack` CLI (python3-openstackclient 6.0,
 * novaclient underneath) against a real `stackbox serve --hosts 4`: an image created from a
 * file and downloaded back byte-equal, a flavor, a keypair, a server created with --wait on a
 * network and shown with its IP, resize + confirm, shelve + unshelve, live migration to a
 * named host, an anti-affinity server group spreading its servers over hosts, deletes; then
 * openstacksdk's create_server(wait=True). Every step must pass (nothing is skipped).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { freePort, serve } from "../support/serve.js";
import type { Served } from "../support/serve.js";
import { run } from "../support/cli.js";

const OPENSTACK = "/usr/bin/openstack";
const PYTHON = "/usr/bin/python3";
const PASSWORD = "cli-compute-secret";

describe("openstack CLI compute flows against stackbox serve --hosts 4", { skip: !existsSync(OPENSTACK) && `${OPENSTACK} is missing (apt-get install python3-openstackclient)` }, () => {
  let dir = "";
  let server: Served | undefined;
  let base: Record<string, string> = {};
  const env = (): Record<string, string> => ({
    ...base,
    OS_AUTH_URL: `${server?.url}/identity/v3`,
    OS_IDENTITY_API_VERSION: "3",
    OS_USERNAME: "admin",
    OS_PASSWORD: PASSWORD,
    OS_PROJECT_NAME: "admin",
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_DOMAIN_NAME: "Default",
    OS_REGION_NAME: "RegionOne",
    OS_INTERFACE: "public",
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "stackbox-computecli-"));
    server = await serve({ dataDir: join(dir, "state"), port: await freePort(), adminPassword: PASSWORD, extra: ["--hosts", "4"] });
    base = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, LANG: "C.UTF-8", PYTHONWARNINGS: "ignore" };
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function os(args: string[]): Promise<any> {
    const r = await run(OPENSTACK, args, env(), dir);
    if (r.code !== 0) {
      assert.fail(`openstack ${args.join(" ")} exited ${r.code}:\n${r.stderr}\n${r.stdout}\n--- server:\n${server?.output().slice(-3000) ?? ""}`);
    }
    if (args.includes("json")) return r.stdout.trim() ? JSON.parse(r.stdout) : undefined;
    return r.stdout;
  }
  const host = async (id: string): Promise<string> => (await os(["server", "show", id, "-f", "json"]))["OS-EXT-SRV-ATTR:host"] as string;

  const tag = `${process.pid}`;
  const ids: Record<string, string> = {};

  test("image create --file, then image save: byte-equal", async () => {
    const file = join(dir, "disk.img");
    writeFileSync(file, randomBytes(3 * 1024 * 1024 + 17));
    const img = await os(["image", "create", "--file", file, "--disk-format", "qcow2", "--container-format", "bare", "--public", `img-${tag}`, "-f", "json"]);
    ids["image"] = img.id;
    // The CLI prints the image as created; the upload that follows makes it active.
    assert.equal((await os(["image", "show", img.id, "-f", "json"])).status, "active");
    const back = join(dir, "back.img");
    await os(["image", "save", "--file", back, img.id]);
    assert.ok(readFileSync(file).equals(readFileSync(back)), "downloaded image differs from the uploaded file");
  });

  test("flavor create, keypair create, network for servers", async () => {
    const f1 = await os(["flavor", "create", "--vcpus", "1", "--ram", "256", "--disk", "1", `f1-${tag}`, "-f", "json"]);
    const f2 = await os(["flavor", "create", "--vcpus", "2", "--ram", "512", "--disk", "2", `f2-${tag}`, "-f", "json"]);
    ids["f1"] = f1.id;
    ids["f2"] = f2.id;
    // Without --public-key the server generates the pair and the CLI prints the private key.
    const priv: string = await os(["keypair", "create", `kp-${tag}`]);
    assert.match(priv, /-----BEGIN (RSA )?PRIVATE KEY-----/);
    const kp = await os(["keypair", "show", `kp-${tag}`, "-f", "json"]);
    assert.match(kp.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    const net = await os(["network", "create", `cnet-${tag}`, "-f", "json"]);
    ids["net"] = net.id;
    await os(["subnet", "create", "--network", net.id, "--subnet-range", "10.77.0.0/24", `csub-${tag}`, "-f", "json"]);
  });

  test("server create --wait on a network; list and show with its IP", async () => {
    const s = await os(["server", "create", "--flavor", ids["f1"]!, "--image", ids["image"]!, "--network", ids["net"]!, "--key-name", `kp-${tag}`, "--wait", `vm-${tag}`, "-f", "json"]);
    ids["vm"] = s.id;
    assert.equal(s.status, "ACTIVE");
    const list = await os(["server", "list", "-f", "json"]);
    const row = list.find((x: { ID: string }) => x.ID === s.id);
    assert.ok(row, JSON.stringify(list));
    assert.match(JSON.stringify(row.Networks), /10\.77\.0\.\d+/);
    const show = await os(["server", "show", s.id, "-f", "json"]);
    assert.match(JSON.stringify(show.addresses), /10\.77\.0\.\d+/);
    assert.equal(show.key_name, `kp-${tag}`);
  });

  test("resize --wait, then resize confirm", async () => {
    await os(["server", "resize", "--flavor", ids["f2"]!, "--wait", ids["vm"]!]);
    let s = await os(["server", "show", ids["vm"]!, "-f", "json"]);
    assert.equal(s.status, "VERIFY_RESIZE");
    await os(["server", "resize", "confirm", ids["vm"]!]);
    for (let i = 0; i < 100 && s.status !== "ACTIVE"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await os(["server", "show", ids["vm"]!, "-f", "json"]);
    }
    assert.equal(s.status, "ACTIVE");
    assert.match(JSON.stringify(s.flavor), new RegExp(`f2-${tag}|${ids["f2"]}`));
  });

  test("shelve (offloaded), then unshelve", async () => {
    await os(["server", "shelve", ids["vm"]!]);
    let s = await os(["server", "show", ids["vm"]!, "-f", "json"]);
    for (let i = 0; i < 100 && s.status !== "SHELVED_OFFLOADED"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      s = await os(["server", "show", ids["vm"]!, "-f", "json"]);
    }
    assert.equal(s.status, "SHELVED_OFFLOADED");
    await os(["server", "unshelve", "--wait", ids["vm"]!]);
    s = await os(["server", "show", ids["vm"]!, "-f", "json"]);
    assert.equal(s.status, "ACTIVE");
  });

  test("live migration to another named host", async () => {
    const from = await host(ids["vm"]!);
    const hosts = (await os(["compute", "service", "list", "--service", "nova-compute", "-f", "json"])).map((x: { Host: string }) => x.Host);
    const to = hosts.find((h: string) => h !== from);
    assert.ok(to, JSON.stringify(hosts));
    await os(["--os-compute-api-version", "2.30", "server", "migrate", "--live-migration", "--host", to, "--wait", ids["vm"]!]);
    assert.equal(await host(ids["vm"]!), to);
  });

  test("server group with anti-affinity spreads its servers over hosts", async () => {
    const g = await os(["server", "group", "create", "--policy", "anti-affinity", `grp-${tag}`, "-f", "json"]);
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await os(["server", "create", "--flavor", ids["f1"]!, "--image", ids["image"]!, "--network", ids["net"]!, "--hint", `group=${g.id}`, "--wait", `aa-${tag}-${i}`, "-f", "json"]);
      made.push(s.id);
    }
    const hosts = await Promise.all(made.map(host));
    assert.equal(new Set(hosts).size, 3, `hosts: ${hosts.join(", ")}`);
    const shown = await os(["server", "group", "show", g.id, "-f", "json"]);
    assert.equal(String(shown.members ?? shown.Members).split(",").filter((x) => x.trim()).length, 3, JSON.stringify(shown));
    for (const id of made) await os(["server", "delete", "--wait", id]);
  });

  test("server delete --wait", async () => {
    await os(["server", "delete", "--wait", ids["vm"]!]);
    const list = await os(["server", "list", "-f", "json"]);
    assert.ok(!list.some((x: { ID: string }) => x.ID === ids["vm"]), JSON.stringify(list));
    const ports = await os(["port", "list", "--network", ids["net"]!, "--device-owner", "compute:nova", "-f", "json"]);
    assert.equal(ports.length, 0, JSON.stringify(ports));
  });

  test("openstacksdk create_server(wait=True), then delete_server(wait=True)", async () => {
    const script = [
      "import json, openstack",
      "c = openstack.connect(auth_url=AUTH, username='admin', password=PW, project_name='admin', user_domain_name='Default', project_domain_name='Default', region_name='RegionOne')",
      "s = c.create_server(name=NAME, image=IMAGE, flavor=FLAVOR, network=NET, auto_ip=False, wait=True, timeout=120)",
      "ips = [a['addr'] for v in s.addresses.values() for a in v]",
      "c.delete_server(s.id, wait=True, timeout=120)",
      "print(json.dumps({'status': s.status, 'ips': ips}))",
    ].join("\n");
    const vars = `AUTH=${JSON.stringify(`${server?.url}/identity/v3`)}\nPW=${JSON.stringify(PASSWORD)}\nNAME=${JSON.stringify(`sdk-${tag}`)}\nIMAGE=${JSON.stringify(ids["image"])}\nFLAVOR=${JSON.stringify(ids["f1"])}\nNET=${JSON.stringify(ids["net"])}\n`;
    const r = await run(PYTHON, ["-c", vars + script], base, dir);
    assert.equal(r.code, 0, `${r.stderr}\n--- server:\n${server?.output().slice(-3000) ?? ""}`);
    const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
    assert.equal(out.status, "ACTIVE");
    assert.ok(out.ips.some((ip: string) => ip.startsWith("10.77.0.")), JSON.stringify(out));
  });
});
