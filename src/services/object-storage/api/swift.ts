import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { Reply, RequestContext, Route } from "../../../http/context.js";
import { respond } from "../core/errors.js";
import { titleCase } from "../core/constraints.js";
import { SwiftRequest } from "../core/types.js";
import type { SwiftIdentity, SwiftResponse } from "../core/types.js";
import type { ObjectStorage } from "../index.js";

/** Swift's trans id: "tx" + 21 hex + "-" + the time in 10 hex digits (Tempest checks the shape). */
export function transId(nowSeconds: number): string {
  return `tx${randomUUID().replaceAll("-", "").slice(0, 21)}-${Math.floor(nowSeconds).toString(16).padStart(10, "0")}`;
}

/** Request headers clients may not send (gatekeeper): sysmeta and backend headers are Swift's own. */
function clientHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [raw_k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    // WSGI turns "-" and "_" alike into "_" (HTTP_X_OBJECT_META_A_B) and swob back into "-":
    // Swift sees X-Object-Meta-a_b as X-Object-Meta-A-B.
    const k = raw_k.replaceAll("_", "-");
    if (k.includes("-sysmeta-") || k.startsWith("x-backend-")) continue;
    out[k] = Array.isArray(v) ? v.join(",") : v;
  }
  return out;
}

function identityOf(ctx: RequestContext): SwiftIdentity | undefined {
  const a = ctx.auth;
  if (!a) return undefined;
  return {
    userId: a.userId,
    userName: a.userName,
    userDomainId: a.userDomainId,
    projectId: a.projectId,
    projectName: a.projectName,
    projectDomainId: a.projectDomainId,
    roles: a.roles.map((r) => r.name.toLowerCase()),
  };
}

function decodeSegment(s: string): string | undefined {
  try {
    const d = decodeURIComponent(s);
    return d.includes("\0") ? undefined : d;
  } catch {
    return undefined;
  }
}

/**
 * /v1/<account>[/<container>[/<object>]] from the raw URL, decoded (split_path(1, 4, True)).
 * undefined when it is not a valid Swift path.
 */
export function splitSwiftPath(rawPath: string): { account: string; container?: string; object?: string } | "bad-utf8" | undefined {
  const m = /^\/v1\/([^/]+)(?:\/([^/]*)(?:\/(.*))?)?$/.exec(rawPath);
  if (!m) return undefined;
  const account = decodeSegment(m[1]!);
  if (account === undefined) return "bad-utf8";
  const out: { account: string; container?: string; object?: string } = { account };
  if (m[2] !== undefined && m[2] !== "") {
    const c = decodeSegment(m[2]);
    if (c === undefined) return "bad-utf8";
    out.container = c;
    if (m[3] !== undefined && m[3] !== "") {
      const o = decodeSegment(m[3]);
      if (o === undefined) return "bad-utf8";
      out.object = o;
    }
  } else if (m[3] !== undefined) {
    return undefined; // /v1/a//o
  }
  return out;
}

/** SwiftResponse → the kernel's Reply: sysmeta never leaves, header names as Swift writes them. */
export function toReply(resp: SwiftResponse, tx: string, method: string): Reply {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(resp.headers)) {
    if (k.includes("-sysmeta-") || k.startsWith("x-backend-")) continue;
    headers[k.startsWith("x-") ? titleCase(k) : k] = v;
  }
  headers["X-Trans-Id"] = tx;
  headers["x-openstack-request-id"] = tx;
  const out: Reply = { status: resp.status, headers };
  const b = resp.body;
  if (method === "HEAD" || b === undefined || resp.status === 204 || resp.status === 304) {
    // No payload: fastify then keeps Content-Type (and a HEAD's Content-Length), as Swift sends them.
    if (headers["content-length"] === undefined && resp.status !== 204 && resp.status !== 304) headers["content-length"] = "0";
    if (resp.status === 204) headers["content-length"] = "0";
    const s = b as { destroy?: () => void } | undefined;
    if (s && typeof s.destroy === "function") s.destroy();
    return out;
  }
  if (typeof b === "string") out.buffer = Buffer.from(b);
  else if (Buffer.isBuffer(b)) out.buffer = b;
  else out.stream = b as Readable;
  return out;
}

/** Every method on every /v1/… path goes through the pipeline. */
export function swiftRoutes(s: ObjectStorage): Route[] {
  const handler = async (ctx: RequestContext): Promise<Reply> => {
    const now = s.time.nowSeconds();
    const tx = transId(now);
    const [rawPath = "", rawQuery = ""] = splitUrl(ctx.url, s.prefix);
    const parts = splitSwiftPath(rawPath);
    if (parts === "bad-utf8") return toReply(respond(412, { body: "Invalid UTF8 or contains NULL" }), tx, ctx.method);
    if (!parts) return toReply(respond(404), tx, ctx.method);
    const req = new SwiftRequest({
      method: ctx.method,
      account: parts.account,
      container: parts.container,
      object: parts.object,
      headers: clientHeaders(ctx.headers),
      query: new URLSearchParams(rawQuery),
      body: ctx.body as Readable | undefined,
      identity: identityOf(ctx),
      transId: tx,
      serviceUrl: ctx.serviceUrl,
      ...(ctx.remoteAddr !== undefined ? { remoteAddr: ctx.remoteAddr } : {}),
    });
    // The path as sent (still quoted): staticweb needs to know whether it ended with "/".
    req.env["rawPath"] = rawPath;
    const resp = await s.pipeline.handle(req);
    if (resp.status === 401 && resp.headers["www-authenticate"] === undefined) {
      // swob names the account as the realm of every 401, and keystonemiddleware's auth_token
      // adds where to get a token (two WWW-Authenticate headers, joined here as HTTP allows).
      resp.headers["www-authenticate"] = `Swift realm="${encodeURIComponent(parts.account)}", Keystone uri="${ctx.baseUrl}/identity"`;
    }
    return toReply(resp, tx, ctx.method);
  };
  const methods = ["HEAD", "GET", "PUT", "POST", "DELETE", "COPY", "OPTIONS"] as const;
  const routes: Route[] = [];
  for (const method of methods) {
    for (const path of ["/v1/*"]) {
      routes.push({ method, path, operation: `swift${method[0]}${method.slice(1).toLowerCase()}`, auth: "delayed", rawBody: true, handler });
    }
  }
  return routes;
}

/** The part of the URL after the service prefix, and the raw query string. */
export function splitUrl(url: string, prefix: string): [string, string] {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? "" : url.slice(q + 1);
  return [path.startsWith(prefix) ? path.slice(prefix.length) : path, query];
}
