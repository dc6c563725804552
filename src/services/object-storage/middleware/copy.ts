import { Readable } from "node:stream";
import { SwiftError, respond } from "../core/errors.js";
import type { Filter, Handler, SwiftRequest, SwiftResponse } from "../core/types.js";

/** Python's urllib.parse.quote (safe "/"): what Swift's wsgi_quote writes in X-Copied-From. */
export function pyQuote(s: string): string {
  return encodeURIComponent(s)
    .replaceAll("%2F", "/")
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function unquote(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** check_path_header: "[/]container/object" (URL-quoted) → its two parts; 412 with Swift's message otherwise. */
function splitDest(value: string, header: string): [string, string] {
  let v = unquote(value);
  if (v.startsWith("/")) v = v.slice(1);
  const i = v.indexOf("/");
  if (i <= 0 || i === v.length - 1) throw new SwiftError(412, `${header} header must be of the form <container name>/<object name>`);
  return [v.slice(0, i), v.slice(i + 1)];
}

/** check_account_format: a non-empty account name without slashes. */
function accountName(value: string): string {
  const a = unquote(value);
  if (!a) throw new SwiftError(412, "Account name cannot be empty");
  if (a.includes("/")) throw new SwiftError(412, "Account name cannot contain slashes");
  return a;
}

/** The object headers that travel with a copy into its response (copy's _copy_headers). */
function isCopiedMeta(k: string): boolean {
  return k.startsWith("x-object-meta-") || k.startsWith("x-object-sysmeta-") || k.startsWith("x-object-transient-sysmeta-") || k === "x-delete-at";
}

/** Source headers never carried to the copy (they are the copy's own or conditional). */
const EXCLUDED_SOURCE_HEADERS = new Set(["x-static-large-object", "x-object-manifest", "etag", "content-type", "x-timestamp", "x-backend-timestamp"]);

/** Request headers that describe the request itself, not the object (never sent on the source GET). */
const NOT_FOR_SOURCE = new Set(["content-length", "transfer-encoding", "content-type", "etag", "x-copy-from", "x-copy-from-account", "destination", "destination-account"]);

/**
 * Swift's copy middleware (swift.common.middleware.copy): COPY with Destination is rewritten
 * into a PUT with X-Copy-From; such a PUT GETs the source with the caller's own headers
 * (ranges and conditions included) and rights, then PUTs its bytes to the target. The copy
 * keeps the source's metadata plus the request's, unless X-Fresh-Metadata starts it clean.
 */
export function copyFilter(): Filter {
  return {
    name: "copy",
    async handle(req, next) {
      if (req.kind !== "object") return next(req);
      if (req.method === "COPY") {
        const dest = req.header("destination");
        if (!dest) throw new SwiftError(412, "Destination header required");
        const headers = { ...req.headers };
        let destAccount = req.account;
        if (req.header("destination-account") !== undefined) {
          destAccount = accountName(req.header("destination-account")!);
          headers["x-copy-from-account"] = pyQuote(req.account);
          delete headers["destination-account"];
        }
        const [dc, dobj] = splitDest(dest, "Destination");
        delete headers["destination"];
        headers["content-length"] = "0";
        delete headers["transfer-encoding"];
        const put = req.sub({ method: "PUT", path: { account: destAccount, container: dc, object: dobj }, headers, query: new URLSearchParams(req.query), source: "SSC" });
        put.authorize = req.authorize;
        // Swift rewrites the COPY request itself into the PUT: its environ goes along.
        put.env = { ...req.env, "swift.source": "SSC" };
        delete put.env["containerRow"];
        return copy(req, put, { account: req.account, container: req.container!, object: req.object! }, next);
      }
      if (req.method === "PUT" && req.header("x-copy-from") !== undefined) {
        const cl = req.header("content-length");
        if (cl !== undefined && cl.trim() !== "" && Number(cl) !== 0) {
          throw new SwiftError(400, "Copy requests require a zero byte body");
        }
        const srcAccount = req.header("x-copy-from-account") !== undefined ? accountName(req.header("x-copy-from-account")!) : req.account;
        const [sc, so] = splitDest(req.header("x-copy-from")!, "X-Copy-From");
        const put = req.sub({ method: "PUT", path: { account: req.account, container: req.container, object: req.object }, headers: { ...req.headers }, query: new URLSearchParams(req.query), source: "SSC" });
        put.authorize = req.authorize;
        put.env = { ...req.env, "swift.source": "SSC" };
        return copy(req, put, { account: srcAccount, container: sc, object: so }, next);
      }
      if (req.method === "OPTIONS") {
        const resp = await next(req);
        if (resp.status >= 200 && resp.status < 300) {
          for (const h of ["allow", "access-control-allow-methods"]) {
            const v = resp.headers[h];
            if (v !== undefined && !v.includes("COPY")) resp.headers[h] = `${v}, COPY`;
          }
        }
        return resp;
      }
      return next(req);
    },
  };
}

async function copy(req: SwiftRequest, put: SwiftRequest, src: { account: string; container: string; object: string }, next: Handler): Promise<SwiftResponse> {
  // The source GET: the caller's request as a GET (req.copy_get()), so Range and the
  // conditional headers apply to the source.
  const getHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (!NOT_FOR_SOURCE.has(k)) getHeaders[k] = v;
  const mp = req.query.get("multipart-manifest");
  const getQuery = new URLSearchParams();
  if (mp === "get") {
    getQuery.set("multipart-manifest", "get");
    getQuery.set("format", "raw");
  }
  const get = req.sub({ method: "GET", path: src, headers: getHeaders, query: getQuery, source: "SSC" });
  get.authorize = req.authorize;
  get.env["copySource"] = true;
  const sresp = await next(get);
  if (sresp.status >= 300) return sresp;
  const sh = sresp.headers;
  const length = sh["content-length"];
  if (length === undefined) {
    // A source with no known length (a segmented object of too many segments) is not copied.
    drain(sresp);
    return respond(413);
  }

  const fresh = ["true", "1", "yes", "on", "t", "y"].includes((req.header("x-fresh-metadata") ?? "").toLowerCase());
  const headers: Record<string, string> = {};
  if (fresh) {
    for (const [k, v] of Object.entries(sh)) if (k.startsWith("x-object-sysmeta-")) headers[k] = v;
  } else {
    for (const [k, v] of Object.entries(sh)) if (!EXCLUDED_SOURCE_HEADERS.has(k)) headers[k] = v;
  }
  for (const [k, v] of Object.entries(put.headers)) headers[k] = v;
  delete headers["x-copy-from"];
  delete headers["x-copy-from-account"];
  delete headers["transfer-encoding"];
  delete headers["etag"];

  const query = put.query;
  if (mp === "get") {
    if (sh["x-static-large-object"] !== undefined) query.set("multipart-manifest", "put");
    if (sh["x-object-manifest"] !== undefined) {
      query.delete("multipart-manifest");
      headers["x-object-manifest"] = sh["x-object-manifest"];
    }
  }
  query.delete("version-id");

  // Verify what is copied against the source's ETag, except where that ETag is not the MD5
  // of the bytes sent (a range, or a large object's manifest or segments).
  if (sresp.status === 200 && sh["x-static-large-object"] === undefined && (sh["x-object-manifest"] === undefined || mp === "get") && sh["etag"] !== undefined) {
    headers["etag"] = sh["etag"];
  }
  if (!req.header("content-type")) headers["content-type"] = sh["content-type"] ?? "application/octet-stream";
  headers["content-length"] = length;

  const respHeaders: Record<string, string> = {
    "x-copied-from-account": pyQuote(src.account),
    "x-copied-from": pyQuote(`${src.container}/${src.object}`),
  };
  if (sh["last-modified"] !== undefined) respHeaders["x-copied-from-last-modified"] = sh["last-modified"];
  if (sh["x-object-version-id"] !== undefined) respHeaders["x-copied-from-version-id"] = sh["x-object-version-id"];
  for (const [k, v] of Object.entries(headers)) if (isCopiedMeta(k)) respHeaders[k] = v;

  put.headers = headers;
  const b = sresp.body;
  put.body = b === undefined ? Readable.from([]) : typeof b === "string" || Buffer.isBuffer(b) ? Readable.from([Buffer.from(b)]) : (b as Readable);
  const presp = await next(put);
  if (presp.status >= 200 && presp.status < 300) Object.assign(presp.headers, respHeaders);
  else drain(sresp);
  return presp;
}

function drain(r: SwiftResponse): void {
  const b = r.body as { destroy?: () => void } | undefined;
  b?.destroy?.();
}
