import assert from "node:assert/strict";
import type { Response, TestCloud } from "./cloud.js";
import { unique } from "./cloud.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;

/** Short calls against a test cloud's Nova (/compute/v2.1) at a microversion. */
export function computeApi(tc: TestCloud, version = "2.1") {
  const C = "/compute/v2.1";
  const headers = (v?: string) => ({ "openstack-api-version": `compute ${v ?? version}` });
  return {
    get: (token: string, path: string, v?: string): Promise<Response> => tc.request("GET", `${C}${path}`, { token, headers: headers(v) }),
    post: (token: string, path: string, body: unknown, v?: string): Promise<Response> => tc.request("POST", `${C}${path}`, { token, body, headers: headers(v) }),
    put: (token: string, path: string, body: unknown, v?: string): Promise<Response> => tc.request("PUT", `${C}${path}`, { token, body, headers: headers(v) }),
    del: (token: string, path: string, v?: string): Promise<Response> => tc.request("DELETE", `${C}${path}`, { token, headers: headers(v) }),
  };
}

/** A Nova fault: status and {"<name>": {"code", "message"}}. */
export function assertComputeError(res: Response, status: number, message?: string | RegExp): void {
  assert.equal(res.status, status, res.text);
  const keys = Object.keys(res.body ?? {});
  assert.equal(keys.length, 1, res.text);
  const inner = res.body[keys[0]!];
  assert.equal(inner.code, status, res.text);
  assert.equal(typeof inner.message, "string", res.text);
  if (typeof message === "string") assert.equal(inner.message, message);
  else if (message) assert.match(inner.message, message);
}

/** An active public image with a few bytes of data, made through Glance v2 as admin. */
export async function makeImage(tc: TestCloud, props: Record<string, unknown> = {}): Promise<string> {
  const admin = await tc.adminToken();
  const r = await tc.request("POST", "/image/v2/images", {
    token: admin,
    body: { name: unique("img"), disk_format: "qcow2", container_format: "bare", visibility: "public", ...props },
  });
  assert.equal(r.status, 201, r.text);
  const id = r.body.id as string;
  const res = await fetch(`${tc.url}/image/v2/images/${id}/file`, {
    method: "PUT",
    headers: { "x-auth-token": admin, "content-type": "application/octet-stream" },
    body: Buffer.from("stackbox test image"),
  });
  assert.equal(res.status, 204, await res.text());
  return id;
}

/** A network with an IPv4 subnet in the token's project. */
export async function makeNetwork(tc: TestCloud, token: string, cidr = "10.20.0.0/24", extra: Record<string, unknown> = {}): Promise<{ id: string; name: string; subnetId: string }> {
  const name = unique("net");
  const n = await tc.request("POST", "/networking/v2.0/networks", { token, body: { network: { name, ...extra } } });
  assert.equal(n.status, 201, n.text);
  const s = await tc.request("POST", "/networking/v2.0/subnets", { token, body: { subnet: { network_id: n.body.network.id, cidr, ip_version: 4 } } });
  assert.equal(s.status, 201, s.text);
  return { id: n.body.network.id, name, subnetId: s.body.subnet.id };
}

/** A flavor made by admin (public). */
export async function makeFlavor(tc: TestCloud, f: { vcpus?: number; ram?: number; disk?: number; extra?: Record<string, string> } = {}): Promise<string> {
  const admin = await tc.adminToken();
  const id = unique("flv");
  const r = await tc.request("POST", "/compute/v2.1/flavors", { token: admin, body: { flavor: { name: id, id, vcpus: f.vcpus ?? 1, ram: f.ram ?? 512, disk: f.disk ?? 1 } } });
  assert.equal(r.status, 200, r.text);
  if (f.extra) {
    const e = await tc.request("POST", `/compute/v2.1/flavors/${id}/os-extra_specs`, { token: admin, body: { extra_specs: f.extra } });
    assert.equal(e.status, 200, e.text);
  }
  return id;
}

/** Poll GET /servers/{id} until its status is one of `want` (short interval, bounded). */
export async function waitStatus(tc: TestCloud, token: string, id: string, want: string[], opts: { version?: string; drain?: () => Promise<void> } = {}): Promise<Body> {
  const api = computeApi(tc, opts.version ?? "2.1");
  for (let i = 0; i < 400; i++) {
    if (opts.drain) await opts.drain();
    const r = await api.get(token, `/servers/${id}`);
    if (r.status === 404 && want.includes("DELETED")) return { status: "DELETED" };
    assert.equal(r.status, 200, r.text);
    if (want.includes(r.body.server.status)) return r.body.server;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`server ${id} never reached ${want.join("/")}`);
}
