import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { reason, respond } from "../core/errors.js";
import { conditionalStatus } from "../core/ranges.js";
import type { Handler, SwiftBody, SwiftRequest, SwiftResponse } from "../core/types.js";

/**
 * What SLO and DLO share (Swift's request_helpers.SegmentedIterable, swob's Range and
 * conditional responses, bulk's response bodies, Python's quote and json.dumps).
 */

export const md5hex = (data: string | Buffer): string => createHash("md5").update(data).digest("hex");

/** swob's default content type, also of the bodies Swift's middlewares give as plain strings. */
export const RESPONSE_HTML = "text/html; charset=UTF-8";

/** '\n'.join(RESPONSE_REASONS[status]): the title and explanation of a status. */
export function reasonBody(status: number): string {
  const html = String(respond(status).body ?? "");
  const m = /^<html><h1>(.*)<\/h1><p>(.*)<\/p><\/html>$/.exec(html);
  return m ? `${m[1]}\n${m[2]}` : `${reason(status)}\n`;
}

/** "404 Not Found", as swob's Response.status reads. */
export const statusLine = (code: number): string => `${code} ${reason(code)}`;

export const normalizeEtag = (tag: string | undefined): string | undefined =>
  tag && tag.length > 1 && tag.startsWith('"') && tag.endsWith('"') ? tag.slice(1, -1) : tag;

/** config_true_value. */
export const isTrue = (v: unknown): boolean => v === true || (typeof v === "string" && ["true", "1", "yes", "on", "t", "y"].includes(v.trim().toLowerCase()));

/** urllib's quote(s, safe='/') over UTF-8, as Swift quotes names in its error lists. */
export function pyQuote(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.\-~/]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

// ------------------------------------------------------------------ Range (swob.Range)
export type RangeSpec = Array<[number | null, number | null]>;

/** swob.Range(header).ranges; undefined when the header is syntactically invalid. */
export function parseRange(header: string | undefined): RangeSpec | undefined {
  if (!header) return undefined;
  const v = header.replaceAll(" ", "");
  if (!v.toLowerCase().startsWith("bytes=")) return undefined;
  const out: RangeSpec = [];
  for (const r of v.slice(6).split(",")) {
    const i = r.indexOf("-");
    if (i < 0) return undefined;
    const s = r.slice(0, i);
    const e = r.slice(i + 1);
    let start: number | null = null;
    if (s) {
      if (!/^[+-]?\d+(_\d+)*$/.test(s)) return undefined;
      start = Number(s.replaceAll("_", ""));
    }
    let end: number | null = null;
    if (e) {
      if (!/^\d+$/.test(e)) return undefined;
      end = Number(e);
      if (start !== null && end < start) return undefined;
    } else if (start === null) return undefined;
    out.push([start, end]);
  }
  return out;
}

/** swob's ranges_for_length: half-open [start, stop) pairs; [] = unsatisfiable. */
export function rangesForLength(ranges: RangeSpec, length: number): Array<[number, number]> {
  const all: Array<[number, number]> = [];
  for (const [begin, end] of ranges) {
    if (begin === null) {
      if (end === 0) continue;
      if (end! > length) all.push([0, length]);
      else all.push([length - end!, length]);
      continue;
    }
    if (end === null) {
      if (begin < length) all.push([begin, length]);
    } else if (begin < length) all.push([begin, Math.min(end + 1, length)]);
  }
  if (all.length > 50) return [];
  let overlaps = 0;
  for (let i = 0; i < all.length; i++)
    for (let j = i + 1; j < all.length; j++) {
      const [s1, e1] = all[i]!;
      const [s2, e2] = all[j]!;
      if ((s1 < s2 && s2 < e1) || (s1 < e2 && e2 < e1) || (s2 < s1 && s1 < e2) || (s2 < e1 && e1 < e2)) {
        if (++overlaps > 2) return [];
      }
    }
  let ascending = true;
  for (let i = 0; i + 1 < all.length; i++) if (all[i]![0] > all[i + 1]![0] || (all[i]![0] === all[i + 1]![0] && all[i]![1] > all[i + 1]![1])) ascending = false;
  if (!ascending && all.length >= 8) return [];
  return all;
}

// ------------------------------------------------------------------ bodies
export async function* chunksOf(body: SwiftBody | undefined): AsyncGenerator<Buffer> {
  if (body === undefined) return;
  if (typeof body === "string") {
    if (body.length) yield Buffer.from(body);
    return;
  }
  if (Buffer.isBuffer(body)) {
    if (body.length) yield body;
    return;
  }
  for await (const c of body as AsyncIterable<Uint8Array | string>) yield typeof c === "string" ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

export async function readBody(body: SwiftBody | undefined, max = Infinity): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of chunksOf(body)) {
    if (n < max) parts.push(n + c.length > max ? c.subarray(0, max - n) : c);
    n += c.length;
  }
  return Buffer.concat(parts);
}

export function discard(resp: SwiftResponse): void {
  const b = resp.body as { destroy?: () => void } | undefined;
  if (b && typeof b.destroy === "function") b.destroy();
}

export const isSuccess = (s: number): boolean => s >= 200 && s < 300;

// ------------------------------------------------------------------ segments (SegmentedIterable)
export class SegmentError extends Error {}

/** One piece of a large object: inline bytes, or (part of) a segment object. first/last are inclusive. */
export type Piece =
  | { data: Buffer }
  | { account: string; container: string; object: string; first: number | undefined; last: number | undefined; etag?: string | undefined; size?: number | undefined };

/**
 * The bytes of the pieces, each segment fetched with a GET sub-request (?multipart-manifest=get,
 * authorized as the caller) and checked against the etag and size the manifest recorded.
 * bodyLength, when known, is the number of bytes the client was promised.
 */
export async function* segmentBytes(req: SwiftRequest, next: Handler, pieces: AsyncIterable<Piece>, source: string, bodyLength?: number): AsyncGenerator<Buffer> {
  let left = bodyLength;
  const emit = function* (c: Buffer): Generator<Buffer> {
    if (left === undefined) {
      yield c;
      return;
    }
    if (left >= c.length) {
      left -= c.length;
      yield c;
      return;
    }
    const cut = left;
    left -= c.length;
    if (cut > 0) yield c.subarray(0, cut);
    throw new SegmentError(`Too many bytes for ${req.path}; truncating with ${-left} bytes left`);
  };
  for await (const p of pieces) {
    if ("data" in p) {
      if (p.data.length) yield* emit(p.data);
      continue;
    }
    const first = p.first ?? 0;
    const goToEnd = p.last === undefined || (p.size !== undefined && p.last === p.size - 1);
    const headers: Record<string, string> = {};
    if (first !== 0 || !goToEnd) headers["range"] = `bytes=${first}-${goToEnd ? "" : String(p.last)}`;
    const sub = req.sub({ method: "GET", path: { account: p.account, container: p.container, object: p.object }, headers, query: new URLSearchParams("multipart-manifest=get"), source });
    const resp = await next(sub);
    if (!isSuccess(resp.status)) {
      discard(resp);
      throw new SegmentError(`While processing manifest ${req.path}, got ${resp.status} while retrieving /${p.container}/${p.object}`);
    }
    const got = normalizeEtag(resp.headers["etag"]);
    const len = resp.headers["content-length"] !== undefined ? Number(resp.headers["content-length"]) : undefined;
    if ((p.etag && got !== p.etag) || (p.size && len !== p.size && headers["range"] === undefined)) {
      discard(resp);
      throw new SegmentError(`Object segment no longer valid: /${p.container}/${p.object} etag: ${String(got)} != ${String(p.etag)} or ${String(len)} != ${String(p.size)}.`);
    }
    for await (const c of chunksOf(resp.body)) yield* emit(c);
  }
  if (left) throw new SegmentError(`Expected another ${left} bytes for ${req.path}; closing connection`);
}

/**
 * validate_first_segment: the first chunk is read before the response starts (a broken first
 * segment is a 409, not a truncated body); the rest streams. Later failures cut the connection.
 */
export async function primeStream(gen: AsyncGenerator<Buffer>, onError: (e: unknown) => void): Promise<Readable> {
  const first = await gen.next();
  const rest = (async function* () {
    try {
      if (first.done) return;
      yield first.value;
      yield* gen;
    } catch (e) {
      onError(e);
      throw e;
    }
  })();
  return Readable.from(rest, { objectMode: false });
}

/** A response for a large object: swob's conditional response, then Range (one or several). */
export interface LargeObjectBody {
  /** The client-visible headers (etag quoted, no content-length). */
  headers: Record<string, string>;
  /** The unquoted etag conditional requests compare with. */
  etag: string | undefined;
  timestamp: number;
  /** Total length; undefined when unknown (DLO with an incomplete listing). */
  length: number | undefined;
  /** Several ranges may be served (SLO) or only one (DLO ignores a multi-range header). */
  multiRange: boolean;
  /** The bytes of [start, stop) pairs, inclusive ends here; undefined = the whole object. */
  bytes(ranges: Array<[number, number]> | undefined): AsyncGenerator<Buffer>;
}

export async function largeObjectResponse(req: SwiftRequest, lo: LargeObjectBody, onError: (e: unknown) => void): Promise<SwiftResponse> {
  try {
    return await build(req, lo, onError);
  } catch (e) {
    // A first segment that is gone or changed: Swift answers 409 before any byte is sent.
    if (e instanceof SegmentError) {
      onError(e);
      return respond(409, { contentType: "text/html; charset=UTF-8" });
    }
    throw e;
  }
}

async function build(req: SwiftRequest, lo: LargeObjectBody, onError: (e: unknown) => void): Promise<SwiftResponse> {
  const h = { ...lo.headers };
  if (lo.length !== undefined) h["content-length"] = String(lo.length);
  const cond = conditionalStatus(req, lo.etag ?? "", lo.timestamp);
  if (cond !== undefined) return { status: cond, headers: { ...h, "content-length": "0" }, body: "" };
  if (req.method === "HEAD") return { status: 200, headers: h };
  const spec = parseRange(req.header("range"));
  if (spec && lo.length !== undefined && (lo.multiRange || spec.length === 1)) {
    const ranges = rangesForLength(spec, lo.length);
    if (ranges.length === 0) {
      const r = respond(416, { headers: { ...h, "content-range": `bytes */${lo.length}` } });
      // swob keeps the object's headers (and its content type) around the default body.
      r.headers["content-length"] = String(Buffer.byteLength(String(r.body)));
      return r;
    }
    if (lo.length > 0) {
      const inclusive = ranges.map(([a, b]) => [a, b - 1] as [number, number]);
      if (ranges.length === 1) {
        const [a, b] = ranges[0]!;
        const body = await primeStream(lo.bytes(inclusive), onError);
        return { status: 206, headers: { ...h, "content-length": String(b - a), "content-range": `bytes ${a}-${b - 1}/${lo.length}` }, body };
      }
      const boundary = randomBytes(16).toString("hex");
      const ctype = h["content-type"] ?? "application/octet-stream";
      let size = 0;
      const heads = ranges.map(([a, b]) => {
        const head = Buffer.from(`--${boundary}\r\nContent-Type: ${ctype}\r\nContent-Range: bytes ${a}-${b - 1}/${lo.length}\r\n\r\n`);
        size += head.length + (b - a) + 2;
        return head;
      });
      size += boundary.length + 4;
      const all = lo.bytes(inclusive);
      // The segment bytes of all ranges come in order; cut them into the parts.
      const parts = async function* (): AsyncGenerator<Buffer> {
        let carry: Buffer | undefined;
        for (let i = 0; i < ranges.length; i++) {
          const [a, b] = ranges[i]!;
          yield heads[i]!;
          let need = b - a;
          while (need > 0) {
            let c = carry;
            carry = undefined;
            if (!c) {
              const n = await all.next();
              if (n.done) throw new SegmentError("short multi-range body");
              c = n.value;
            }
            if (c.length > need) {
              carry = c.subarray(need);
              c = c.subarray(0, need);
            }
            need -= c.length;
            yield c;
          }
          yield Buffer.from("\r\n");
        }
        yield Buffer.from(`--${boundary}--`);
      };
      const body = await primeStream(parts(), onError);
      return { status: 206, headers: { ...h, "content-type": `multipart/byteranges;boundary=${boundary}`, "content-length": String(size) }, body };
    }
  }
  const body = await primeStream(lo.bytes(undefined), onError);
  return { status: 200, headers: h, body };
}
