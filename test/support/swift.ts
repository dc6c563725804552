import type { TestCloud } from "./cloud.js";
import { persona } from "./cloud.js";

export interface SwiftResponse {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
  /** Parsed when the body is JSON. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface SwiftRequestOptions {
  token?: string | undefined;
  headers?: Record<string, string>;
  body?: string | Buffer | Uint8Array;
  /** Query string parameters (encoded here). */
  query?: Record<string, string>;
}

/**
 * Raw Swift calls against a test cloud: `path` is relative to the storage URL
 * (/object-storage/v1/AUTH_<project>), e.g. "/cont/obj"; "" is the account.
 */
export function swiftApi(tc: TestCloud, projectId: string, token?: string) {
  const storageUrl = `${tc.url}/object-storage/v1/AUTH_${projectId}`;
  const call = async (method: string, path: string, o: SwiftRequestOptions = {}): Promise<SwiftResponse> => {
    const headers: Record<string, string> = { ...o.headers };
    const tok = o.token === undefined ? token : o.token;
    if (tok) headers["x-auth-token"] = tok;
    let url = `${storageUrl}${path}`;
    if (o.query) url += `?${new URLSearchParams(o.query).toString()}`;
    const res = await fetch(url, { method, headers, ...(o.body !== undefined ? { body: o.body as unknown as string } : {}) });
    const body = Buffer.from(await res.arrayBuffer());
    const text = body.toString("utf8");
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, body, text, json };
  };
  return {
    storageUrl,
    call,
    head: (path: string, o?: SwiftRequestOptions) => call("HEAD", path, o),
    get: (path: string, o?: SwiftRequestOptions) => call("GET", path, o),
    put: (path: string, o?: SwiftRequestOptions) => call("PUT", path, o),
    post: (path: string, o?: SwiftRequestOptions) => call("POST", path, o),
    del: (path: string, o?: SwiftRequestOptions) => call("DELETE", path, o),
  };
}

export type SwiftApi = ReturnType<typeof swiftApi>;

/** A fresh project with a member user (an operator role: it owns the account), and its Swift API. */
export async function swiftUser(tc: TestCloud, role = "member", opts: { projectId?: string } = {}) {
  const p = await persona(tc, role, opts);
  return { ...p, api: swiftApi(tc, p.projectId, p.token) };
}
