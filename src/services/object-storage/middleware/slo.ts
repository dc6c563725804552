import { Readable } from "node:stream";
import { lookup as mimeLookup } from "mime-types";
import { respond } from "../core/errors.js";
import { parseHttpDate } from "../core/time.js";
import type { Filter, Handler, SwiftRequest, SwiftResponse } from "../core/types.js";
import { ACCEPTABLE_FORMATS, bestMatch, responseBody } from "../core/formats.js";
import { pyJson } from "../core/listing.js";
import type { FilterDeps } from "./deps.js";
import {
  RESPONSE_HTML,
  reasonBody,
  SegmentError,
  discard,
  isSuccess,
  isTrue,
  largeObjectResponse,
  md5hex,
  normalizeEtag,
  parseRange,
  pyQuote,
  rangesForLength,
  readBody,
  segmentBytes,
  statusLine,
} from "./large-object.js";
import type { Piece, RangeSpec } from "./large-object.js";

export const SLO_LIMITS = { max_manifest_segments: 1000, max_manifest_size: 8 * 1024 * 1024, yield_frequency: 10 } as const;
const SYSMETA_SLO_ETAG = "x-object-sysmeta-slo-etag";
const SYSMETA_SLO_SIZE = "x-object-sysmeta-slo-size";
const MAX_RECURSION = 10;

/** A segment as the stored manifest records it (or an inline data segment). */
interface StoredSegment {
  name?: string;
  bytes?: number | string;
  hash?: string;
  content_type?: string;
  last_modified?: string;
  range?: string;
  sub_slo?: boolean;
  data?: string;
}

/** A segment of a manifest being PUT, once parse_and_validate_input accepted it. */
interface InputSegment {
  path?: string;
  etag?: string | null;
  size_bytes?: number | null;
  range?: RangeSpec | undefined;
  rangeGiven?: boolean;
  data?: string;
}

class BadRequest extends Error {}

/** Python's int() over a JSON value (size_bytes); undefined when it raises. */
function pyInt(v: unknown): number | undefined {
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "number") return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v === "string" && /^\s*[+-]?\d+(_\d+)*\s*$/.test(v)) return Number(v.trim().replaceAll("_", ""));
  return undefined;
}

/** strict_b64decode: standard alphabet, padding required; undefined when not valid base64. */
function strictB64(v: unknown): Buffer | undefined {
  if (typeof v !== "string") return undefined;
  const s = v.replace(/\s+/g, "");
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  return Buffer.from(s, "base64");
}

/** Python str() of a JSON value, for Range('bytes=%s' % value). */
function pyStr(v: unknown): string {
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  return pyJson(v);
}

/** slo.parse_and_validate_input: the manifest's segments, or a 400 listing every problem. */
function parseInput(body: Buffer, req: SwiftRequest): InputSegment[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new BadRequest("Manifest must be valid JSON.\n");
  }
  if (!Array.isArray(parsed)) throw new BadRequest("Manifest must be a list.\n");
  const errors: string[] = [];
  const out: InputSegment[] = [];
  const self = `${req.container}/${req.object}`;
  parsed.forEach((seg: unknown, i: number) => {
    if (typeof seg !== "object" || seg === null || Array.isArray(seg)) return void errors.push(`Index ${i}: not a JSON object`);
    const d = seg as Record<string, unknown>;
    const type = "data" in d ? "data" : "path" in d ? "path" : undefined;
    if (!type) return void errors.push(`Index ${i}: expected keys to include one of 'data' or 'path'`);
    const allowed = type === "data" ? ["data"] : ["path", "range", "etag", "size_bytes"];
    const extra = Object.keys(d).filter((k) => !allowed.includes(k)).sort();
    if (extra.length) return void errors.push(`Index ${i}: extraneous keys ${extra.map((k) => pyJson(k)).join(", ")}`);
    if (type === "path") {
      if (typeof d["path"] !== "string") return void errors.push(`Index ${i}: "path" must be a string`);
      if (!(d["etag"] === null || d["etag"] === undefined || typeof d["etag"] === "string")) return void errors.push(`Index ${i}: "etag" must be a string or null (if provided)`);
      const path = d["path"];
      if (!path.replace(/^\/+|\/+$/g, "").includes("/")) return void errors.push(`Index ${i}: path does not refer to an object. Path must be of the form /container/object.`);
      let size: number | undefined;
      if (d["size_bytes"] !== null && d["size_bytes"] !== undefined) {
        size = pyInt(d["size_bytes"]);
        if (size === undefined) return void errors.push(`Index ${i}: invalid size_bytes`);
        if (size < 1 && i !== parsed.length - 1) return void errors.push(`Index ${i}: too small; each segment must be at least 1 byte.`);
      }
      if (path.replace(/^\/+/, "") === self) return void errors.push(`Index ${i}: manifest must not include itself as a segment`);
      const s: InputSegment = { path, etag: (d["etag"] as string | null | undefined) ?? null, size_bytes: size ?? null };
      const rv = d["range"];
      if (rv !== undefined && rv !== null && rv !== false && rv !== "" && rv !== 0 && !(Array.isArray(rv) && rv.length === 0) && !(typeof rv === "object" && !Array.isArray(rv) && Object.keys(rv).length === 0)) {
        const r = parseRange(`bytes=${pyStr(rv)}`);
        if (!r) return void errors.push(`Index ${i}: invalid range`);
        if (r.length > 1) return void errors.push(`Index ${i}: multiple ranges (only one allowed)`);
        if (size !== undefined && rangesForLength(r, size).length !== 1) return void errors.push(`Index ${i}: unsatisfiable range`);
        s.range = r;
      }
      out.push(s);
    } else {
      const data = strictB64(d["data"]);
      if (!data) return void errors.push(`Index ${i}: data must be valid base64`);
      if (data.length < 1) return void errors.push(`Index ${i}: too small; each segment must be at least 1 byte.`);
      out.push({ data: data.toString("base64") });
    }
  });
  if (parsed.length && parsed.every((d) => typeof d === "object" && d !== null && "data" in d)) errors.push("Inline data segments require at least one object-backed segment.");
  if (errors.length) throw new BadRequest(errors.map((e) => `${e}\n`).join(""), { cause: "text/plain" });
  return out;
}

/** '%Y-%m-%dT%H:%M:%S.%f' of a Last-Modified header. */
function isoSeconds(lastModified: string | undefined): string {
  const t = parseHttpDate(lastModified) ?? Date.now() / 1000;
  return `${new Date(Math.floor(t) * 1000).toISOString().slice(0, 19)}.000000`;
}

function splitSegPath(name: string): { container: string; object: string } {
  const p = name.replace(/^\/+/, "");
  const i = p.indexOf("/");
  return { container: p.slice(0, i), object: p.slice(i + 1) };
}

function segmentLength(s: StoredSegment & { raw?: Buffer }): number {
  if (s.raw) return s.raw.length;
  if (s.range) {
    const [a, b] = s.range.split("-").map(Number) as [number, number];
    return b - a + 1;
  }
  return Number(s.bytes ?? 0);
}

function manifestOf(buf: Buffer): StoredSegment[] {
  try {
    const v = JSON.parse(buf.toString("utf8")) as unknown;
    return Array.isArray(v) ? (v as StoredSegment[]) : [];
  } catch {
    return [];
  }
}

/** The SLO's etag: md5 of the segments' etags ("etag:range;" for ranged ones, md5 of inline data). */
function sloEtag(segs: StoredSegment[]): string {
  const parts: string[] = [];
  for (const s of segs) {
    if (s.data !== undefined) parts.push(md5hex(Buffer.from(s.data, "base64")));
    else if (s.range) parts.push(`${s.hash}:${s.range};`);
    else parts.push(String(s.hash));
  }
  return md5hex(parts.join(""));
}

/**
 * Swift's slo middleware: PUT ?multipart-manifest=put validates every segment with HEAD
 * sub-requests and stores the manifest (X-Static-Large-Object: True, sysmeta etag and size,
 * swift_bytes in the content type); GET/HEAD of a manifest serve the concatenated segments;
 * ?multipart-manifest=get returns the manifest (format=raw: as it was put);
 * DELETE ?multipart-manifest=delete removes the segments, then the manifest.
 */
export function sloFilter(fd: FilterDeps): Filter {
  fd.info.register("slo", {
    max_manifest_segments: SLO_LIMITS.max_manifest_segments,
    max_manifest_size: SLO_LIMITS.max_manifest_size,
    yield_frequency: SLO_LIMITS.yield_frequency,
    min_segment_size: 1,
    allow_async_delete: false,
  });
  const logError = (req: SwiftRequest) => (e: unknown) => fd.log.warn({ reqId: req.transId, err: (e as Error).message }, "SLO segment error");

  const handle = async (req: SwiftRequest, next: Handler): Promise<SwiftResponse> => {
    if (req.kind !== "object") return next(req);
    const mp = req.query.get("multipart-manifest");
    try {
      if (req.method === "PUT" && mp === "put") return await handlePut(req, next);
      if (req.method === "DELETE" && mp === "delete") return await handleDelete(req, next);
      if (req.method === "GET" || req.method === "HEAD") return await handleGet(req, next);
      if (req.header("x-static-large-object") !== undefined) {
        return respond(400, { body: "X-Static-Large-Object is a reserved header. To create a static large object add query param multipart-manifest=put.", contentType: RESPONSE_HTML });
      }
    } catch (e) {
      if (e instanceof BadRequest) return respond(400, { body: e.message, contentType: e.cause === "text/plain" ? "text/plain" : RESPONSE_HTML });
      throw e;
    }
    return next(req);
  };

  // ---------------------------------------------------------------- PUT
  async function handlePut(req: SwiftRequest, next: Handler): Promise<SwiftResponse> {
    if (req.header("x-copy-from")) return respond(405, { body: "Multipart Manifest PUTs cannot be COPY requests", contentType: RESPONSE_HTML });
    const cl = req.header("content-length");
    const te = req.header("transfer-encoding");
    if (cl === undefined) {
      if ((te ?? "").toLowerCase() !== "chunked") return respond(411);
    } else if (Number(cl) > SLO_LIMITS.max_manifest_size) {
      discardBody(req);
      return respond(413, { body: `Manifest File > ${SLO_LIMITS.max_manifest_size} bytes`, contentType: RESPONSE_HTML });
    }
    const raw = await readBody(req.body, SLO_LIMITS.max_manifest_size);
    const segments = parseInput(raw, req);
    const objectSegs = segments.filter((s) => s.path !== undefined);
    if (objectSegs.length > SLO_LIMITS.max_manifest_segments) {
      return respond(413, { body: `Number of object-backed segments must be <= ${SLO_LIMITS.max_manifest_segments}`, contentType: RESPONSE_HTML });
    }
    let fmt = bestMatch(req.header("accept"), ACCEPTABLE_FORMATS);
    if (fmt === "invalid" || !fmt) fmt = "text/plain";
    const outFormat = fmt;
    const heartbeat = isTrue(req.query.get("heartbeat") ?? "");

    const work = async (): Promise<{ resp: SwiftResponse; problems: Array<[string, string]>; status?: string; sloEtag?: string }> => {
      const problems: Array<[string, string]> = [];
      const stored: Array<Record<string, unknown>> = new Array(segments.length);
      let total = 0;
      const byPath = new Map<string, number[]>();
      segments.forEach((s, i) => {
        if (s.data !== undefined) {
          stored[i] = { data: s.data };
          total += Buffer.from(s.data, "base64").length;
        } else {
          const l = byPath.get(s.path!) ?? [];
          l.push(i);
          byPath.set(s.path!, l);
        }
      });
      for (const [path, indices] of byPath) {
        const { container, object } = splitSegPath(path);
        const head = await handle(req.sub({ method: "HEAD", path: { container, object }, source: "SLO" }), next);
        discard(head);
        for (const i of indices) {
          const seg = segments[i]!;
          const name = pyQuote(path);
          if (!isSuccess(head.status)) {
            problems.push([name, statusLine(head.status)]);
            continue;
          }
          const length = Number(head.headers["content-length"] ?? 0);
          let segLen = length;
          let range: string | undefined;
          if (seg.range) {
            const rs = rangesForLength(seg.range, length);
            if (rs.length === 0) problems.push([name, "Unsatisfiable Range"]);
            else if (!(rs.length === 1 && rs[0]![0] === 0 && rs[0]![1] === length)) {
              const [a, b] = rs[0]!;
              range = `${a}-${b - 1}`;
              segLen = b - a;
            }
          }
          if (segLen < 1 && i !== segments.length - 1) problems.push([name, "Too small; each segment must be at least 1 byte."]);
          if (seg.size_bytes !== null && seg.size_bytes !== undefined && seg.size_bytes !== length) problems.push([name, "Size Mismatch"]);
          const etag = normalizeEtag(head.headers["etag"]);
          if (seg.etag !== null && seg.etag !== undefined && seg.etag !== etag) problems.push([name, "Etag Mismatch"]);
          const rec: Record<string, unknown> = {
            name: `/${path.replace(/^\/+/, "")}`,
            bytes: length,
            hash: etag,
            content_type: (head.headers["content-type"] ?? "").split(";")[0],
            last_modified: isoSeconds(head.headers["last-modified"]),
          };
          if (range) rec["range"] = range;
          if (isTrue(head.headers["x-static-large-object"] ?? "")) rec["sub_slo"] = true;
          stored[i] = rec;
          total += segLen;
        }
      }
      if (problems.length) return { resp: respond(400, { body: "", contentType: outFormat }), problems };
      const etag = sloEtag(stored as StoredSegment[]);
      const clientEtag = normalizeEtag(req.header("etag"));
      if (clientEtag && clientEtag !== etag) return { resp: respond(422), problems };
      const json = Buffer.from(pyJson(stored));
      let ctype = req.header("content-type");
      if (!ctype || isTrue(req.header("x-detect-content-type") ?? "")) ctype = (mimeLookup(req.object!) || "application/octet-stream") as string;
      delete req.headers["x-detect-content-type"];
      delete req.headers["transfer-encoding"];
      req.headers["content-type"] = `${ctype};swift_bytes=${total}`;
      req.headers["content-length"] = String(json.length);
      req.headers["etag"] = md5hex(json);
      req.headers["x-static-large-object"] = "True";
      req.headers[SYSMETA_SLO_ETAG] = etag;
      req.headers[SYSMETA_SLO_SIZE] = String(total);
      req.env["allowSwiftBytes"] = true;
      req.body = Readable.from([json]);
      const resp = await next(req);
      if (isSuccess(resp.status)) resp.headers["etag"] = `"${etag}"`;
      return { resp, problems, sloEtag: etag };
    };

    if (!heartbeat) {
      const { resp, problems } = await work();
      if (problems.length) return { status: 400, headers: { "content-type": outFormat }, body: responseBody(outFormat, {}, problems, "upload") };
      return resp;
    }
    // heartbeat=on: 202 at once, whitespace while the segments are checked, the outcome in the body.
    const body = (async function* () {
      yield Buffer.from(" ");
      let out: Record<string, unknown>;
      let problems: Array<[string, string]> = [];
      try {
        const r = await work();
        problems = r.problems;
        if (problems.length) out = { "Response Status": statusLine(400), "Response Body": reasonBody(400) };
        else {
          const text = (await readBody(r.resp.body)).toString("utf8");
          out = { "Response Status": statusLine(r.resp.status) };
          if (isSuccess(r.resp.status)) {
            out["Etag"] = r.resp.headers["etag"];
            out["Last Modified"] = r.resp.headers["last-modified"];
          }
          out["Response Body"] = r.resp.status === 422 ? reasonBody(422) : text;
        }
      } catch (e) {
        if (!(e instanceof BadRequest)) fd.log.error({ err: e, reqId: req.transId }, "SLO heartbeat PUT failed");
        out = { "Response Status": statusLine(500), "Response Body": reasonBody(500) };
      }
      yield Buffer.from(`\r\n\r\n${responseBody(outFormat, out, problems, "upload")}`);
    })();
    return { status: 202, headers: { "content-type": outFormat }, body: Readable.from(body) };
  }

  // ---------------------------------------------------------------- GET / HEAD
  async function handleGet(req: SwiftRequest, next: Handler): Promise<SwiftResponse> {
    const mp = req.query.get("multipart-manifest");
    let resp = await next(req);
    let isSlo = isTrue(resp.headers["x-static-large-object"] ?? "");
    if (mp === "get") {
      if (!isSlo) return resp;
      if (req.query.get("format") === "raw") {
        const segs = manifestOf(await readBody(resp.body)).map((s) => {
          if (s.data !== undefined) return s;
          const r: Record<string, unknown> = { ...s };
          delete r["content_type"];
          delete r["last_modified"];
          delete r["sub_slo"];
          delete r["name"];
          delete r["bytes"];
          delete r["hash"];
          r["path"] = s.name ?? null;
          r["size_bytes"] = s.bytes ?? null;
          r["etag"] = s.hash ?? null;
          return r;
        });
        const json = Buffer.from(pyJson(segs, true));
        return { ...resp, headers: { ...resp.headers, "content-length": String(json.length), etag: md5hex(json) }, body: json };
      }
      return { ...resp, headers: { ...resp.headers, "content-type": "application/json; charset=utf-8" } };
    }
    const conditional = req.header("if-match") !== undefined || req.header("if-none-match") !== undefined || req.header("if-modified-since") !== undefined || req.header("if-unmodified-since") !== undefined;
    const ranged = req.header("range") !== undefined;
    // The core answered for the manifest object itself: refetch the whole manifest when that
    // answer was a HEAD, a part of it, or a conditional refusal (the manifest's own etag).
    if (!isSlo) {
      // 412 and 416 from the core carry no object headers: is it a manifest after all?
      if (!((resp.status === 412 || resp.status === 416) && (conditional || ranged))) return resp;
      const probe = req.sub({ method: "HEAD", path: { container: req.container, object: req.object }, query: new URLSearchParams(req.query), source: "SLO" });
      probe.query.set("multipart-manifest", "get");
      probe.authorize = req.authorize;
      const p = await next(probe);
      discard(p);
      if (!isSuccess(p.status) || !isTrue(p.headers["x-static-large-object"] ?? "")) return resp;
    }
    // The core answered for the manifest object itself: fetch the whole manifest again when that
    // answer was a HEAD, a part of it, or a conditional refusal (it compared the manifest's etag).
    if (!isSlo || req.method === "HEAD" || resp.status !== 200) {
      const get = req.sub({ method: "GET", path: { container: req.container, object: req.object }, query: new URLSearchParams(req.query), source: "SLO" });
      get.query.set("multipart-manifest", "get");
      get.authorize = req.authorize;
      const again = await next(get);
      discard(resp);
      if (!isTrue(again.headers["x-static-large-object"] ?? "") || again.status !== 200) return again;
      resp = again;
    }
    const segments = manifestOf(await readBody(resp.body));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(resp.headers)) {
      if (k === "etag") headers["x-manifest-etag"] = v;
      else if (k !== "content-length" && k !== "content-range" && k !== SYSMETA_SLO_ETAG && k !== SYSMETA_SLO_SIZE) headers[k] = v;
    }
    headers["content-type"] = resp.headers["content-type"] ?? "application/octet-stream";
    const decoded = segments.map((s) => (s.data !== undefined ? { ...s, raw: Buffer.from(s.data, "base64") } : s)) as Array<StoredSegment & { raw?: Buffer }>;
    const length = decoded.reduce((n, s) => n + segmentLength(s), 0);
    const etag = sloEtag(segments);
    headers["etag"] = `"${etag}"`;
    return largeObjectResponse(
      req,
      {
        headers,
        etag,
        timestamp: Number(resp.headers["x-timestamp"] ?? 0),
        length,
        multiRange: true,
        bytes: (ranges) => {
          const br = ranges ?? [[0, length - 1] as [number, number]];
          const pieces = (async function* (): AsyncGenerator<Piece> {
            for (const [first, last] of br) yield* listing(req, next, decoded, first, last, 1);
          })();
          return segmentBytes(req, next, pieces, "SLO");
        },
      },
      logError(req),
    );
  }

  /** _byterange_listing_iterator: the pieces of [first, last] (inclusive), recursing into sub-SLOs. */
  async function* listing(req: SwiftRequest, next: Handler, segs: Array<StoredSegment & { raw?: Buffer }>, first: number, last: number, depth: number): AsyncGenerator<Piece> {
    let f = first;
    let l = last;
    for (const s of segs) {
      const len = segmentLength(s);
      if (f >= len) {
        f -= len;
        l -= len;
        continue;
      }
      if (l < 0) return;
      if (s.raw) {
        yield { data: s.raw.subarray(Math.max(0, f), Math.min(len - 1, l) + 1) };
        f -= len;
        l -= len;
        continue;
      }
      let rs = 0;
      let re = len - 1;
      if (s.range) [rs, re] = s.range.split("-").map(Number) as [number, number];
      const { container, object } = splitSegPath(String(s.name));
      if (isTrue(s.sub_slo ?? false)) {
        if (depth >= MAX_RECURSION) throw new SegmentError(`While processing manifest ${req.path}, max recursion depth was exceeded`);
        const sub = req.sub({ method: "GET", path: { container, object }, source: "SLO" });
        const r = await next(sub);
        if (!isSuccess(r.status)) {
          discard(r);
          throw new SegmentError(`while fetching ${req.path}, GET of submanifest /${container}/${object} failed with status ${r.status}`);
        }
        const subSegs = manifestOf(await readBody(r.body)).map((x) => (x.data !== undefined ? { ...x, raw: Buffer.from(x.data, "base64") } : x)) as Array<StoredSegment & { raw?: Buffer }>;
        yield* listing(req, next, subSegs, rs + Math.max(0, f), Math.min(re, rs + l), depth + 1);
      } else {
        yield {
          account: req.account,
          container,
          object,
          first: Math.max(0, f) + rs,
          last: Math.min(re, rs + l),
          etag: s.hash,
          size: s.bytes !== undefined ? Number(s.bytes) : undefined,
        };
      }
      f -= len;
      l -= len;
    }
  }

  // ---------------------------------------------------------------- DELETE
  /** get_slo_segments: the manifest's segments, or the error the bulk-style body reports. */
  async function sloSegments(req: SwiftRequest, next: Handler, name: string): Promise<StoredSegment[] | { code: number; message: string }> {
    const { container, object } = splitSegPath(name);
    const q = new URLSearchParams("multipart-manifest=get");
    const vid = req.query.get("version-id");
    if (vid !== null && name === `/${req.container}/${req.object}`) q.set("version-id", vid);
    const r = await next(req.sub({ method: "GET", path: { container, object }, query: q, source: "SLO" }));
    if (isSuccess(r.status)) {
      if (isTrue(r.headers["x-static-large-object"] ?? "")) {
        try {
          const v = JSON.parse((await readBody(r.body)).toString("utf8")) as unknown;
          if (Array.isArray(v)) return v as StoredSegment[];
        } catch {
          /* below */
        }
        return { code: 500, message: "Unable to load SLO manifest" };
      }
      discard(r);
      return { code: 400, message: "Not an SLO manifest" };
    }
    discard(r);
    if (r.status === 404) return { code: 404, message: "SLO manifest not found" };
    if (r.status === 401) return { code: 401, message: "401 Unauthorized" };
    return { code: 500, message: "Unable to load SLO manifest or segment." };
  }

  async function handleDelete(req: SwiftRequest, next: Handler): Promise<SwiftResponse> {
    const fmt = bestMatch(req.header("accept"), ACCEPTABLE_FORMATS);
    const outFormat = fmt === "invalid" ? undefined : fmt;
    const dict: Record<string, unknown> = { "Response Status": statusLine(200), "Response Body": "", "Number Deleted": 0, "Number Not Found": 0 };
    const failed: Array<[string, string]> = [];
    let failType = 400;
    if (!outFormat) {
      dict["Response Status"] = statusLine(406);
      dict["Response Body"] = "";
    } else {
      type Item = { name: string; sub: boolean; error?: { code: number; message: string } };
      const queue: Item[] = [{ name: `/${req.container}/${req.object}`, sub: true }];
      try {
        while (queue.length) {
          if (queue.length > SLO_LIMITS.max_manifest_segments * 10) throw new BadRequest("Too many buffered slo segments to delete.");
          const item = queue.shift()!;
          if (item.sub) {
            const segs = await sloSegments(req, next, item.name);
            if (Array.isArray(segs)) {
              for (const s of segs) if (s.data === undefined && s.name) queue.push({ name: s.name, sub: isTrue(s.sub_slo ?? false) });
            } else item.error = segs;
            queue.push({ name: item.name, sub: false, ...(item.error ? { error: item.error } : {}) });
            continue;
          }
          if (!item.name) continue;
          if (item.error) {
            if (item.error.code === 404) dict["Number Not Found"] = (dict["Number Not Found"] as number) + 1;
            else failed.push([pyQuote(item.name), item.error.message]);
            continue;
          }
          const { container, object } = splitSegPath(item.name);
          const q = new URLSearchParams();
          const vid = req.query.get("version-id");
          if (vid !== null && item.name === `/${req.container}/${req.object}`) q.set("version-id", vid);
          const r = await next(req.sub({ method: "DELETE", path: { container, object }, query: q, source: "SLO" }));
          discard(r);
          if (isSuccess(r.status)) dict["Number Deleted"] = (dict["Number Deleted"] as number) + 1;
          else if (r.status === 404) dict["Number Not Found"] = (dict["Number Not Found"] as number) + 1;
          else if (r.status === 401) failed.push([pyQuote(item.name), statusLine(401)]);
          else {
            if (r.status >= 500) failType = 502;
            failed.push([pyQuote(item.name), statusLine(r.status)]);
          }
          if (failed.length >= 1000) throw new BadRequest("Max delete failures exceeded");
        }
        if (failed.length) dict["Response Status"] = statusLine(failType);
        else if (!(dict["Number Deleted"] || dict["Number Not Found"])) {
          dict["Response Status"] = statusLine(400);
          dict["Response Body"] = "Invalid bulk delete.";
        }
      } catch (e) {
        if (!(e instanceof BadRequest)) throw e;
        dict["Response Status"] = statusLine(400);
        dict["Response Body"] = e.message;
      }
    }
    const body = responseBody(outFormat, dict, failed, "delete");
    return { status: 200, headers: { "content-type": outFormat ?? RESPONSE_HTML }, body };
  }

  return { name: "slo", handle };
}

function discardBody(req: SwiftRequest): void {
  const b = req.body as { resume?: () => void } | undefined;
  b?.resume?.();
}
