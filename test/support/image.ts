/** Shorthands for the Glance v2 API tests. */
import assert from "node:assert/strict";
import type { Response, TestCloud } from "./cloud.js";
import { unique } from "./cloud.js";

export const G = "/image/v2";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;

/** A Glance error as webob renders it for Accept: application/json. */
export function assertGlanceError(res: Response, status: number, message?: string | RegExp): void {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body?.code, `${status} ${res.body?.title}`, res.text);
  assert.equal(typeof res.body.message, "string");
  assert.ok(res.body.message.endsWith("<br /><br />\n\n\n"), res.text);
  const msg = res.body.message.replace(/<br \/><br \/>\n\n\n$/, "");
  if (typeof message === "string") assert.equal(msg, message);
  else if (message) assert.match(msg, message);
}

/** tc.request with Accept: application/json (as tempest sends), so errors come back as JSON. */
export function glanceClient(tc: TestCloud) {
  const req = (method: string, path: string, o: { token: string; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<Response> =>
    tc.request(method, path.startsWith("/image/") ? path : `${G}${path}`, { ...o, headers: { accept: "application/json", ...o.headers } });
  return {
    req,
    async create(token: string, body: Record<string, unknown> = {}): Promise<Body> {
      const r = await req("POST", "/images", { token, body: { name: unique("img"), disk_format: "raw", container_format: "bare", ...body } });
      assert.equal(r.status, 201, r.text);
      return r.body;
    },
    patch(token: string, id: string, ops: unknown[], type = "application/openstack-images-v2.1-json-patch"): Promise<Response> {
      return req("PATCH", `/images/${id}`, { token, raw: JSON.stringify(ops), headers: { "content-type": type } });
    },
    /** PUT bytes (a Buffer or a stream of chunks) as application/octet-stream. */
    async put(token: string, path: string, data: Buffer | AsyncIterable<Uint8Array>, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
      const init: RequestInit & { duplex?: string } = {
        method: "PUT",
        headers: { "x-auth-token": token, "content-type": "application/octet-stream", accept: "application/json", ...headers },
        body: data as BodyInit,
      };
      if (!Buffer.isBuffer(data)) init.duplex = "half";
      const res = await fetch(`${tc.url}${G}${path}`, init);
      return { status: res.status, text: await res.text() };
    },
    async get(token: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; data: Buffer }> {
      const res = await fetch(`${tc.url}${G}${path}`, { headers: { "x-auth-token": token, ...headers } });
      return { status: res.status, headers: res.headers, data: Buffer.from(await res.arrayBuffer()) };
    },
    /** Poll an image until its status is `status` (short interval, bounded). */
    async waitStatus(token: string, id: string, status: string): Promise<Body> {
      for (let i = 0; i < 400; i++) {
        const r = await req("GET", `/images/${id}`, { token });
        if (r.body?.status === status) return r.body;
        await new Promise((res) => setTimeout(res, 10));
      }
      assert.fail(`image ${id} never reached ${status}`);
    },
  };
}
