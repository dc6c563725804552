import { Readable } from "node:stream";
import { SwiftError, respond } from "../core/errors.js";
import type { Filter, Handler, SwiftRequest, SwiftResponse } from "../core/types.js";
import { httpDate } from "../core/time.js";

/** "container/object" (leading slash optional, URL-quoted): its two parts; 412 otherwise, as Swift's copy says. */
function splitDest(value: string, header: string): [string, string] {
  let v: string;
  try {
    v = decodeURIComponent(value);
  } catch {
    v = value;
  }
  if (v.startsWith("/")) v = v.slice(1);
  const i = v.indexOf("/");
  if (i <= 0 || i === v.length - 1) throw new SwiftError(412, `${header} header must be of the form <container name>/<object name>`);
  return [v.slice(0, i), v.slice(i + 1)];
}

/**
 * Swift's copy middleware: COPY with Destination, and PUT with X-Copy-From, become a GET of
 * the source (authorized as the caller) and a PUT of its bytes to the target. Metadata is
 * the source's plus the request's, unless X-Fresh-Metadata says to start clean.
 */
export function copyFilter(): Filter {
  return {
    name: "copy",
    async handle(req, next) {
      if (req.kind !== "object") return next(req);
      if (req.method === "COPY") {
        const dest = req.header("destination");
        if (!dest) throw new SwiftError(412, "You must specify a Destination header");
        const [dc, dobj] = splitDest(dest, "Destination");
        const destAccount = req.header("destination-account") ?? req.account;
        const put = req.sub({ method: "PUT", path: { account: destAccount, container: dc, object: dobj }, headers: { ...req.headers, "content-length": "0" } });
        delete put.headers["destination"];
        delete put.headers["destination-account"];
        put.authorize = req.authorize;
        return copy(req, put, { account: req.account, container: req.container!, object: req.object! }, next);
      }
      if (req.method === "PUT" && req.header("x-copy-from") !== undefined) {
        const [sc, so] = splitDest(req.header("x-copy-from")!, "X-Copy-From");
        if (req.header("content-length") !== undefined && req.header("content-length") !== "0") {
          throw new SwiftError(400, "Copy requests require a zero byte body");
        }
        const sourceAccount = req.header("x-copy-from-account") ?? req.account;
        const put = req.sub({ method: "PUT", path: { account: req.account, container: req.container, object: req.object }, headers: { ...req.headers } });
        delete put.headers["x-copy-from"];
        delete put.headers["x-copy-from-account"];
        put.authorize = req.authorize;
        return copy(req, put, { account: sourceAccount, container: sc, object: so }, next);
      }
      return next(req);
    },
  };
}

async function copy(req: SwiftRequest, put: SwiftRequest, src: { account: string; container: string; object: string }, next: Handler): Promise<SwiftResponse> {
  const getHeaders: Record<string, string> = {};
  for (const h of ["if-match", "if-none-match", "if-modified-since", "if-unmodified-since"]) if (req.headers[h]) getHeaders[h] = req.headers[h]!;
  const get = req.sub({ method: "GET", path: src, headers: getHeaders, source: "SSC" });
  get.authorize = req.authorize;
  const mp = req.query.get("multipart-manifest");
  if (mp === "get") get.query.set("multipart-manifest", "get");
  get.env["copySource"] = true;
  const sresp = await next(get);
  if (sresp.status >= 300) {
    drain(sresp);
    return sresp.status === 304 ? respond(412) : sresp;
  }
  const sh = sresp.headers;
  const fresh = (req.header("x-fresh-metadata") ?? "").toLowerCase() === "true";
  const headers: Record<string, string> = {};
  if (!fresh) {
    for (const [k, v] of Object.entries(sh)) {
      if (k.startsWith("x-object-meta-") || k.startsWith("x-object-sysmeta-") || ["content-disposition", "content-encoding", "content-language", "cache-control", "expires", "x-robots-tag", "x-delete-at", "x-object-manifest", "x-static-large-object"].includes(k)) headers[k] = v;
    }
  }
  if (sh["x-static-large-object"] && mp !== "get") delete headers["x-static-large-object"];
  for (const [k, v] of Object.entries(put.headers)) {
    if (k === "content-length" || k === "transfer-encoding" || k === "etag") continue;
    headers[k] = v;
  }
  headers["content-type"] = put.headers["content-type"] ?? sh["content-type"] ?? "application/octet-stream";
  if (sh["x-object-manifest"] && mp !== "get") delete headers["x-object-manifest"];
  const length = sh["content-length"];
  const body = sresp.body === undefined ? Readable.from([]) : typeof sresp.body === "string" || Buffer.isBuffer(sresp.body) ? Readable.from([Buffer.from(sresp.body)]) : sresp.body;
  if (length !== undefined) headers["content-length"] = length;
  else headers["transfer-encoding"] = "chunked";
  put.headers = headers;
  put.body = body as Readable;
  const presp = await next(put);
  if (presp.status !== 201) return presp;
  presp.headers["x-copied-from"] = `${encodeURIComponent(src.container)}/${src.object.split("/").map(encodeURIComponent).join("/")}`;
  if (src.account !== req.account || req.header("x-copy-from-account") || req.header("destination-account")) presp.headers["x-copied-from-account"] = encodeURIComponent(src.account);
  presp.headers["x-copied-from-last-modified"] = sh["last-modified"] ?? httpDate(sh["x-timestamp"] ?? "0");
  return presp;
}

function drain(r: SwiftResponse): void {
  const b = r.body as { resume?: () => void; destroy?: () => void } | undefined;
  b?.destroy?.();
}
