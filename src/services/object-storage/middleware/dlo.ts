import { respond } from "../core/errors.js";
import type { Filter, Handler, SwiftRequest, SwiftResponse } from "../core/types.js";
import type { FilterDeps } from "./deps.js";
import { RESPONSE_HTML, discard, isSuccess, largeObjectResponse, md5hex, normalizeEtag, parseRange, rangesForLength, readBody, segmentBytes, SegmentError } from "./large-object.js";
import type { Piece } from "./large-object.js";

/** constraints.CONTAINER_LISTING_LIMIT: a shorter page is the last one. */
const LISTING_LIMIT = 10000;

interface Listed {
  name: string;
  bytes: number;
  hash: string;
}

/**
 * Swift's dlo middleware: an object with X-Object-Manifest: <container>/<prefix> answers
 * GET and HEAD with the objects of that container under that prefix, in listing order
 * (ETag: quoted md5 of their etags). ?multipart-manifest=get returns the manifest object
 * itself. A PUT's X-Object-Manifest must have the form container/prefix. Swift registers
 * nothing in /info for DLO, and neither does this.
 */
export function dloFilter(fd: FilterDeps): Filter {
  const logError = (req: SwiftRequest) => (e: unknown) => fd.log.warn({ reqId: req.transId, err: (e as Error).message }, "DLO segment error");

  /** A page of the segment container's listing, or the error response. */
  async function page(req: SwiftRequest, next: Handler, container: string, prefix: string, marker?: string): Promise<Listed[] | SwiftResponse> {
    const q = new URLSearchParams({ format: "json", prefix });
    if (marker) q.set("marker", marker);
    const r = await next(req.sub({ method: "GET", path: { container }, query: q, source: "DLO" }));
    if (!isSuccess(r.status)) {
      if (req.method === "HEAD") {
        discard(r);
        return { ...r, body: "" };
      }
      return r;
    }
    if (r.status === 204) return [];
    try {
      const v = JSON.parse((await readBody(r.body)).toString("utf8")) as Array<Partial<Listed> & { subdir?: string }>;
      return v.filter((x) => x.name !== undefined).map((x) => ({ name: x.name!, bytes: Number(x.bytes ?? 0), hash: String(x.hash ?? "") }));
    } catch {
      return [];
    }
  }

  async function handleGet(req: SwiftRequest, next: Handler): Promise<SwiftResponse> {
    let resp = await next(req);
    let manifest = resp.headers["x-object-manifest"];
    if (manifest === undefined) {
      const conditional = ["if-match", "if-none-match", "if-modified-since", "if-unmodified-since"].some((h) => req.header(h) !== undefined);
      // The core refused the manifest object itself (its own etag, or a range of its own
      // bytes): look whether it is a manifest before passing the refusal on.
      if (!((resp.status === 412 || resp.status === 416) && (conditional || req.header("range") !== undefined))) return resp;
      const probe = req.sub({ method: "HEAD", path: { container: req.container, object: req.object }, query: new URLSearchParams(req.query), source: "DLO" });
      probe.authorize = req.authorize;
      const p = await next(probe);
      discard(p);
      if (!isSuccess(p.status) || p.headers["x-object-manifest"] === undefined) return resp;
      discard(resp);
      resp = p;
      manifest = p.headers["x-object-manifest"];
    }
    discard(resp);
    let value: string;
    try {
      value = decodeURIComponent(manifest);
    } catch {
      value = manifest;
    }
    const slash = value.indexOf("/");
    const container = slash < 0 ? value : value.slice(0, slash);
    const prefix = slash < 0 ? "" : value.slice(slash + 1);
    const first = await page(req, next, container, prefix);
    if (!Array.isArray(first)) return first;
    const complete = first.length < LISTING_LIMIT;

    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(resp.headers)) if (k !== "content-length" && k !== "content-range") headers[k] = v;
    const firstPageBytes = first.reduce((n, o) => n + o.bytes, 0);
    let etag = normalizeEtag(resp.headers["etag"]);
    if (complete) {
      etag = md5hex(first.map((o) => normalizeEtag(o.hash) ?? "").join(""));
      headers["etag"] = `"${etag}"`;
    }
    // Only a single range is honoured, and only when the listing shows it is satisfiable.
    let length: number | undefined = complete ? firstPageBytes : undefined;
    let honourRange = false;
    const spec = parseRange(req.header("range"));
    if (spec && spec.length === 1) {
      const end = spec[0]![0] === null ? Infinity : spec[0]![1] === null ? Infinity : spec[0]![1]!;
      if (complete || end < firstPageBytes) {
        honourRange = true;
        length = firstPageBytes;
      }
    }
    if (!honourRange && req.header("range") !== undefined) {
      delete req.headers["range"];
    }
    if (!complete && !honourRange) length = undefined;
    if (!complete && honourRange && rangesForLength(spec!, firstPageBytes).length === 0) {
      return respond(416, { headers: { "accept-ranges": "bytes" } });
    }

    const pieces = (firstByte: number | undefined, lastByte: number | undefined) =>
      (async function* (): AsyncGenerator<Piece> {
        let f = firstByte ?? 0;
        let l = lastByte ?? Infinity;
        let segs = first;
        for (;;) {
          for (const s of segs) {
            if (f >= s.bytes) {
              f = Math.max(f - s.bytes, -1);
              l = Math.max(l - s.bytes, -1);
              continue;
            }
            if (l < 0) return;
            yield { account: req.account, container, object: s.name, first: f <= 0 ? undefined : f, last: l >= s.bytes - 1 ? undefined : l };
            f = Math.max(f - s.bytes, -1);
            l = Math.max(l - s.bytes, -1);
          }
          if (segs.length < LISTING_LIMIT || l < 0) return;
          const more = await page(req, next, container, prefix, segs[segs.length - 1]!.name);
          if (!Array.isArray(more)) {
            discard(more);
            throw new SegmentError(`Got status ${more.status} listing container /${req.account}/${container}`);
          }
          segs = more;
        }
      })();

    return largeObjectResponse(
      req,
      {
        headers,
        etag,
        timestamp: Number(resp.headers["x-timestamp"] ?? 0),
        length,
        multiRange: false,
        bytes: (ranges) => {
          const r = ranges?.[0];
          return segmentBytes(req, next, pieces(r?.[0], r?.[1]), "DLO", r ? r[1] - r[0] + 1 : length);
        },
      },
      logError(req),
    );
  }

  return {
    name: "dlo",
    async handle(req, next) {
      if (req.kind !== "object") return next(req);
      if ((req.method === "GET" || req.method === "HEAD") && req.query.get("multipart-manifest") !== "get") return handleGet(req, next);
      if (req.method === "PUT" && req.header("x-object-manifest") !== undefined) {
        const v = req.header("x-object-manifest")!;
        const i = v.indexOf("/");
        const container = i < 0 ? "" : v.slice(0, i);
        const prefix = i < 0 ? "" : v.slice(i + 1);
        if (!container || !prefix || v.includes("?") || v.includes("&") || prefix.startsWith("/")) {
          return respond(400, { body: "X-Object-Manifest must be in the format container/prefix", contentType: RESPONSE_HTML });
        }
      }
      return next(req);
    },
  };
}
