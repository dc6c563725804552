import assert from "node:assert/strict";
import type { Response, TestCloud } from "./cloud.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;

/** Short calls against a test cloud's Neutron (/networking/v2.0), as several suites use them. */
export function networkApi(tc: TestCloud): {
  get(token: string, path: string): Promise<Response>;
  post(token: string, path: string, body: unknown): Promise<Response>;
  put(token: string, path: string, body: unknown): Promise<Response>;
  del(token: string, path: string): Promise<Response>;
  ok(res: Promise<Response>, status?: number): Promise<Body>;
} {
  const N = "/networking/v2.0";
  return {
    get: (token, path) => tc.request("GET", `${N}${path}`, { token }),
    post: (token, path, body) => tc.request("POST", `${N}${path}`, { token, body }),
    put: (token, path, body) => tc.request("PUT", `${N}${path}`, { token, body }),
    del: (token, path) => tc.request("DELETE", `${N}${path}`, { token }),
    /** The body of an answer with the expected status (200 unless given). */
    ok: async (res, status = 200) => {
      const r = await res;
      assert.equal(r.status, status, r.text);
      return r.body;
    },
  };
}
