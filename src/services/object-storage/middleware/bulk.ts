import { Readable, Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import * as tar from "tar-stream";
import type { Header as TarHeader } from "tar-stream";
import { LIMITS } from "../core/constraints.js";
import { reason, respond } from "../core/errors.js";
import type { Filter, Handler, SwiftRequest, SwiftResponse } from "../core/types.js";
import { ACCEPTABLE_FORMATS, bestMatch, responseBody } from "../core/formats.js";
import type { FilterDeps } from "./deps.js";

/** Bulk answers a malformed Accept as it answers an unacceptable one (406 in the body). */
function acceptedFormat(accept: string | undefined): string | undefined {
  const f = bestMatch(accept, ACCEPTABLE_FORMATS);
  return f === "invalid" ? undefined : f;
}

/** bulk.py's defaults (filter_factory), as /info advertises them. */
const MAX_CONTAINERS_PER_EXTRACTION = 10000;
const MAX_FAILED_EXTRACTIONS = 1000;
const MAX_DELETES_PER_REQUEST = 10000;
const MAX_FAILED_DELETES = 1000;
/** Seconds between the whitespace bulk writes to keep a long request's connection alive. */
const YIELD_FREQUENCY = 10;
/** Deletes in flight at once (delete_concurrency). */
const DELETE_CONCURRENCY = 2;
const MAX_PATH_LENGTH = LIMITS.max_object_name_length + LIMITS.max_container_name_length + 2;


/**
 * Archive formats extract-archive takes ('' = plain tar). tar.bz2 is left out: there is no
 * bzip2 decoder here, so it is refused as Swift refuses any format it does not know.
 */
const ARCHIVE_TYPES: Record<string, "" | "gz"> = { tar: "", "tar.gz": "gz" };

/** A swob HTTPException raised inside a bulk operation: it ends up in the result body. */
class BulkError extends Error {
  constructor(
    readonly status: number,
    readonly body = "",
  ) {
    super(body);
  }
}

/** "201 Created": the status line swob reports. */
function statusLine(status: number): string {
  return `${status} ${status === 502 ? "Bad Gateway" : reason(status)}`;
}

// ------------------------------------------------------------------ Python-compatible helpers

/** urllib.parse.quote(s, safe='/') over bytes, as wsgi_quote does. */
export function pyQuote(bytes: Buffer): string {
  let out = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.\-~/]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** urllib.parse.unquote over bytes: %XX becomes the byte, a bad escape stays as it is. */
function pyUnquote(bytes: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x25 && i + 2 < bytes.length && /^[0-9a-fA-F]{2}$/.test(bytes.subarray(i + 1, i + 3).toString("latin1"))) {
      out.push(parseInt(bytes.subarray(i + 1, i + 3).toString("latin1"), 16));
      i += 2;
    } else out.push(b);
  }
  return Buffer.from(out);
}

/** The text of UTF-8 bytes, or undefined when they are not valid UTF-8 or hold a NUL (check_utf8). */
function checkUtf8(bytes: Buffer): string | undefined {
  try {
    const s = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return s.includes("\0") ? undefined : s;
  } catch {
    return undefined;
  }
}

/** bytes.strip(): ASCII whitespace off both ends. */
function stripBytes(b: Buffer): Buffer {
  const ws = (x: number | undefined): boolean => x === 0x20 || (x !== undefined && x >= 0x09 && x <= 0x0d);
  let s = 0;
  let e = b.length;
  while (s < e && ws(b[s])) s++;
  while (e > s && ws(b[e - 1])) e--;
  return b.subarray(s, e);
}





/** Let go of a sub-response's body we do not read. */
function discard(r: SwiftResponse): void {
  const b = r.body as { destroy?: () => void } | undefined;
  if (b && typeof b.destroy === "function") b.destroy();
}

/**
 * Read and drop what is left of a request body the work stopped reading (a refusal, a broken
 * archive): the client is still sending it and would otherwise wait on a full connection
 * after the report is out.
 */
function discardRest(body: SwiftRequest["body"]): void {
  if (body instanceof Readable && !body.readableEnded && !body.destroyed) {
    body.unpipe();
    body.on("error", () => undefined);
    body.resume();
  }
}

function toReadable(body: SwiftRequest["body"]): Readable {
  if (body === undefined) return Readable.from([]);
  if (body instanceof Readable) return body;
  return Readable.from(body, { objectMode: false });
}

/** Headers a middleware sub-request inherits from the client's (make_env keeps these). */
function inherited(req: SwiftRequest): Record<string, string> {
  const h: Record<string, string> = {};
  for (const k of ["referer", "origin", "user-agent"]) if (req.headers[k] !== undefined) h[k] = req.headers[k]!;
  return h;
}

/**
 * Swift's bulk middleware.
 *
 * - POST or DELETE ?bulk-delete: the body is a newline list of URL-encoded
 *   "container/object" or "container" paths (up to 10000); objects go first, then the
 *   (now empty) containers, each a DELETE sub-request through the rest of the pipeline.
 * - PUT ?extract-archive=tar|tar.gz to the account, a container or a prefix inside one: each
 *   regular file of the archive becomes a PUT sub-request (containers are created as
 *   needed), so ACLs, quotas and the rest apply to each.
 *
 * Both always answer 200 and report in the body (text/plain, JSON or XML per Accept):
 * Response Status, Response Body, the counts and the failed names. While the work runs,
 * whitespace goes out every 10 seconds so the connection stays alive.
 */
export function bulkFilter(d: FilterDeps): Filter {
  d.info.register("bulk_upload", { max_containers_per_extraction: MAX_CONTAINERS_PER_EXTRACTION, max_failed_extractions: MAX_FAILED_EXTRACTIONS });
  d.info.register("bulk_delete", { max_deletes_per_request: MAX_DELETES_PER_REQUEST, max_failed_deletes: MAX_FAILED_DELETES });
  const now = (): number => d.clock.now().getTime() / 1000;

  /** The 200 whose body is written as the work goes (swob's app_iter). */
  const streamed = (format: string | undefined, gen: AsyncGenerator<Buffer>): SwiftResponse => ({
    status: 200,
    headers: { "content-type": format ?? "text/html; charset=UTF-8" },
    body: Readable.from(gen, { objectMode: false }),
  });

  const lengthKnown = (req: SwiftRequest): boolean => req.header("content-length") !== undefined || (req.header("transfer-encoding") ?? "").toLowerCase() === "chunked";

  // ---------------------------------------------------------------- bulk delete
  /**
   * get_objs_to_delete: the body's lines, unquoted (raw bytes; empty lines count but are
   * skipped later). Read as bulk.py reads it, MAX_PATH_LENGTH bytes at a time, one line taken
   * per turn, so the same over-long names are refused ("Invalid File Name").
   */
  const namesToDelete = async (req: SwiftRequest): Promise<Buffer[]> => {
    if (!lengthKnown(req)) throw new BulkError(411);
    // Stopping early (413, 400) must not destroy the request: the rest is read and dropped.
    const input = toReadable(req.body).iterator({ destroyOnReturn: false });
    let pending = Buffer.alloc(0);
    let eof = false;
    const read = async (n: number): Promise<Buffer> => {
      while (pending.length < n && !eof) {
        const r = await input.next();
        if (r.done) eof = true;
        else pending = Buffer.concat([pending, r.value as Buffer]);
      }
      const out = pending.subarray(0, n);
      pending = pending.subarray(out.length);
      return out;
    };
    try {
      return await splitLines(read);
    } finally {
      await input.return?.(); // lets go of the stream without destroying it
    }
  };

  const splitLines = async (read: (n: number) => Promise<Buffer>): Promise<Buffer[]> => {
    const out: Buffer[] = [];
    let line = Buffer.alloc(0);
    for (let more = true; more; ) {
      const i = line.indexOf(0x0a);
      if (i >= 0) {
        out.push(pyUnquote(stripBytes(line.subarray(0, i))));
        line = line.subarray(i + 1);
      } else {
        const data = await read(MAX_PATH_LENGTH);
        if (data.length > 0) line = Buffer.concat([line, data]);
        else {
          more = false;
          const last = pyUnquote(stripBytes(line));
          if (last.length > 0) out.push(last);
        }
      }
      if (out.length > MAX_DELETES_PER_REQUEST) throw new BulkError(413, `Maximum Bulk Deletes: ${MAX_DELETES_PER_REQUEST} per request`);
      if (line.length > MAX_PATH_LENGTH * 2) throw new BulkError(400, "Invalid File Name");
    }
    return out;
  };

  async function* deleteIter(req: SwiftRequest, next: Handler, format: string | undefined): AsyncGenerator<Buffer> {
    let lastYield = now();
    let toYield = format?.endsWith("/xml") ? '<?xml version="1.0" encoding="UTF-8"?>\n' : " ";
    let separator = "";
    const failed: Array<[string, string]> = [];
    const result: Record<string, string | number> = { "Response Status": statusLine(200), "Response Body": "", "Number Deleted": 0, "Number Not Found": 0 };
    try {
      if (!format) throw new BulkError(406);
      const incoming = req.header("content-type");
      if (incoming && !incoming.startsWith("text/plain")) throw new BulkError(406);
      const names = await namesToDelete(req);
      let failedType = 400;

      interface Item {
        quoted: string;
        path: { container: string; object?: string } | undefined;
      }
      /** delete_filter: the names of one phase (objects, then containers). */
      const phase = (objects: boolean): Item[] => {
        const items: Item[] = [];
        for (const raw of names) {
          if (raw.length === 0) continue;
          const wsgi = raw.toString("latin1");
          const trimmed = wsgi.replace(/^\/+|\/+$/g, "");
          if (trimmed.includes("/") !== objects) continue;
          const quoted = pyQuote(raw);
          const rel = checkUtf8(Buffer.from(wsgi.replace(/^\/+/, ""), "latin1"));
          if (rel === undefined || checkUtf8(Buffer.from(req.account)) === undefined) {
            failed.push([quoted, statusLine(412)]);
            continue;
          }
          const i = rel.indexOf("/");
          const container = i < 0 ? rel : rel.slice(0, i);
          const object = i < 0 ? "" : rel.slice(i + 1);
          items.push({ quoted, path: container === "" ? undefined : object === "" ? { container } : { container, object } });
        }
        return items;
      };

      const doDelete = async (item: Item): Promise<SwiftResponse> => {
        const sub = req.sub({ method: "DELETE", path: { account: req.account, container: item.path?.container, object: item.path?.object }, headers: inherited(req), source: "BD" });
        const r = await next(sub);
        discard(r);
        return r;
      };

      const tally = (r: SwiftResponse, item: Item): void => {
        if (r.status >= 200 && r.status < 300) result["Number Deleted"] = (result["Number Deleted"] as number) + 1;
        else if (r.status === 404) result["Number Not Found"] = (result["Number Not Found"] as number) + 1;
        else if (r.status === 401) failed.push([item.quoted, statusLine(401)]);
        else {
          if (Math.floor(r.status / 100) === 5) failedType = 502;
          failed.push([item.quoted, statusLine(r.status)]);
        }
      };

      for (const objects of [true, false]) {
        const items = phase(objects);
        // A small pile: DELETE_CONCURRENCY in flight, results taken in order.
        const inFlight: Array<{ item: Item; p: Promise<SwiftResponse> }> = [];
        let k = 0;
        const fill = (): void => {
          while (inFlight.length < DELETE_CONCURRENCY && k < items.length) {
            const item = items[k++]!;
            const p = doDelete(item);
            p.catch(() => undefined);
            inFlight.push({ item, p });
          }
        };
        fill();
        while (inFlight.length > 0) {
          const { item, p } = inFlight.shift()!;
          const r = await p;
          if (lastYield + YIELD_FREQUENCY < now()) {
            lastYield = now();
            yield Buffer.from(toYield);
            toYield = " ";
            separator = "\r\n\r\n";
          }
          tally(r, item);
          if (failed.length >= MAX_FAILED_DELETES) {
            for (const rest of inFlight.splice(0)) tally(await rest.p, rest.item);
            throw new BulkError(400, "Max delete failures exceeded");
          }
          fill();
        }
      }
      if (failed.length > 0) result["Response Status"] = statusLine(failedType);
      else if (result["Number Deleted"] === 0 && result["Number Not Found"] === 0) {
        result["Response Status"] = statusLine(400);
        result["Response Body"] = "Invalid bulk delete.";
      }
    } catch (e) {
      if (e instanceof BulkError) {
        result["Response Status"] = statusLine(e.status);
        result["Response Body"] = e.body;
      } else {
        d.log.error({ err: e, reqId: req.transId }, "Error in bulk delete.");
        result["Response Status"] = statusLine(500);
      }
    } finally {
      discardRest(req.body);
    }
    yield Buffer.from(separator + responseBody(format, result, failed, "delete"));
  }

  // ---------------------------------------------------------------- extract archive
  /** HEAD the container, PUT it when missing: true when it was created. */
  const createContainer = async (req: SwiftRequest, next: Handler, container: string): Promise<boolean> => {
    const head = await next(req.sub({ method: "HEAD", path: { account: req.account, container }, headers: inherited(req), source: "EA" }));
    discard(head);
    if (head.status >= 200 && head.status < 300) return false;
    let r = head;
    if (head.status === 404) {
      r = await next(req.sub({ method: "PUT", path: { account: req.account, container }, headers: inherited(req), source: "EA" }));
      discard(r);
      if (r.status >= 200 && r.status < 300) return true;
    }
    throw new ContainerError(r.status);
  };

  async function* extractIter(req: SwiftRequest, next: Handler, compress: "" | "gz", format: string | undefined): AsyncGenerator<Buffer> {
    const result: Record<string, string | number> = { "Response Status": statusLine(201), "Response Body": "", "Number Files Created": 0 };
    const failed: Array<[string, string]> = [];
    let lastYield = now();
    let toYield = format?.endsWith("/xml") ? '<?xml version="1.0" encoding="UTF-8"?>\n' : " ";
    let separator = "";
    const accessed = new Set<string>();
    let cleanup: (() => void) | undefined;
    try {
      if (!format) throw new BulkError(406);
      if (!lengthKnown(req)) throw new BulkError(411);
      // The destination prefix: the request's container[/object], trailing slashes off (as WSGI strings).
      const wsgiOf = (s: string): string => Buffer.from(s, "utf8").toString("latin1");
      let base = "";
      if (req.container !== undefined) base = wsgiOf(req.container) + (req.object !== undefined ? `/${wsgiOf(req.object)}` : "");
      base = base.replace(/\/+$/, "");
      const archive = openArchive(toReadable(req.body), compress);
      cleanup = archive.close;
      let failedType = 400;
      let created = 0;
      for (;;) {
        if (lastYield + YIELD_FREQUENCY < now()) {
          lastYield = now();
          yield Buffer.from(toYield);
          toYield = " ";
          separator = "\r\n\r\n";
        }
        const entry = await archive.next();
        if (!entry || failed.length >= MAX_FAILED_EXTRACTIONS) break;
        const h = entry.header;
        if (h.type !== "file" && h.type !== "contiguous-file") {
          await entry.drain();
          continue;
        }
        let objPath = entry.wsgiName;
        if (objPath.startsWith("./")) objPath = objPath.slice(2);
        objPath = objPath.replace(/^\/+/, "");
        if (base) objPath = `${base}/${objPath}`;
        if (!objPath.includes("/")) {
          await entry.drain(); // a file at the top of an account-level archive has no container
          continue;
        }
        const quotedPath = pyQuote(Buffer.from(objPath, "latin1").subarray(0, MAX_PATH_LENGTH));
        const wsgiContainer = objPath.slice(0, objPath.indexOf("/"));
        const dest = checkUtf8(Buffer.from(`/v1/${wsgiOf(req.account)}/${objPath}`, "latin1"));
        if (dest === undefined) {
          failed.push([quotedPath, statusLine(412)]);
          await entry.drain();
          continue;
        }
        const size = h.size ?? 0;
        if (size > LIMITS.max_file_size) {
          failed.push([quotedPath, statusLine(413)]);
          await entry.drain();
          continue;
        }
        const rel = checkUtf8(Buffer.from(objPath, "latin1"))!;
        const container = rel.slice(0, rel.indexOf("/"));
        const object = rel.slice(rel.indexOf("/") + 1);
        let containerFailure: [string, string] | undefined;
        if (!accessed.has(wsgiContainer)) {
          try {
            if (await createContainer(req, next, container)) {
              created++;
              if (created > MAX_CONTAINERS_PER_EXTRACTION) throw new BulkError(400, `More than ${MAX_CONTAINERS_PER_EXTRACTION} containers to create from tar.`);
            }
          } catch (e) {
            if (!(e instanceof ContainerError)) throw e;
            containerFailure = [pyQuote(Buffer.from(`/v1/${wsgiOf(req.account)}/${wsgiContainer}`, "latin1").subarray(0, MAX_PATH_LENGTH)), statusLine(e.status)];
            if (e.status === 401) throw new BulkError(401);
          }
        }
        const headers: Record<string, string> = { ...inherited(req), "content-length": String(size) };
        for (const [k, v] of Object.entries(req.headers)) {
          if (k === "x-delete-at" || k === "x-delete-after" || (k.startsWith("x-object-meta-") && k.length > "x-object-meta-".length)) headers[k] = v;
        }
        for (const [k, v] of Object.entries(entry.pax)) {
          const name = paxKeyToHeader(k);
          if (name) headers[name] = v;
        }
        const put = req.sub({ method: "PUT", path: { account: req.account, container, object }, headers, body: entry.body(), source: "EA" });
        const r = await next(put);
        discard(r);
        (put.body as Readable).destroy();
        await entry.drain();
        accessed.add(wsgiContainer);
        if (r.status >= 200 && r.status < 300) result["Number Files Created"] = (result["Number Files Created"] as number) + 1;
        else {
          if (containerFailure) failed.push(containerFailure);
          if (r.status === 401) {
            failed.push([quotedPath, statusLine(401)]);
            throw new BulkError(401);
          }
          if (Math.floor(r.status / 100) === 5) failedType = 502;
          failed.push([quotedPath, statusLine(r.status)]);
        }
      }
      if (failed.length > 0) result["Response Status"] = statusLine(failedType);
      else if (result["Number Files Created"] === 0) {
        result["Response Status"] = statusLine(400);
        result["Response Body"] = "Invalid Tar File: No Valid Files";
      }
    } catch (e) {
      if (e instanceof BulkError) {
        result["Response Status"] = statusLine(e.status);
        result["Response Body"] = e.body;
      } else if (e instanceof TarError) {
        result["Response Status"] = statusLine(400);
        result["Response Body"] = `Invalid Tar File: ${e.message}`;
      } else {
        d.log.error({ err: e, reqId: req.transId }, "Error in extract archive.");
        result["Response Status"] = statusLine(500);
      }
    } finally {
      cleanup?.();
      discardRest(req.body);
    }
    yield Buffer.from(separator + responseBody(format, result, failed, "extract"));
  }

  return {
    name: "bulk",
    async handle(req, next) {
      const extractType = req.query.get("extract-archive");
      if (extractType !== null && req.method === "PUT") {
        const key = extractType.toLowerCase().replace(/^\.+|\.+$/g, "");
        const type = Object.hasOwn(ARCHIVE_TYPES, key) ? ARCHIVE_TYPES[key] : undefined;
        if (type === undefined) return respond(400, { body: "Unsupported archive format", contentType: "text/html; charset=UTF-8" });
        const format = acceptedFormat(req.header("accept"));
        return streamed(format, extractIter(req, next, type, format));
      }
      if (req.query.has("bulk-delete") && (req.method === "POST" || req.method === "DELETE")) {
        const format = acceptedFormat(req.header("accept"));
        return streamed(format, deleteIter(req, next, format));
      }
      return next(req);
    },
  };
}

class ContainerError extends Error {
  constructor(readonly status: number) {
    super(`Create Container Failed: ${status}`);
  }
}

/** tarfile.TarError / zlib.error: the archive itself is bad. */
class TarError extends Error {}

/** pax_key_to_swift_header: GNU and BSD tar's xattrs user.mime_type and user.meta.*. */
function paxKeyToHeader(key: string): string | undefined {
  if (key === "SCHILY.xattr.user.mime_type" || key === "LIBARCHIVE.xattr.user.mime_type") return "content-type";
  for (const p of ["SCHILY.xattr.user.meta.", "LIBARCHIVE.xattr.user.meta."]) {
    if (key.startsWith(p)) return `x-object-meta-${key.slice(p.length)}`.toLowerCase();
  }
  return undefined;
}

/** What the extract stream yields: a member's header and its bytes. */
type ArchiveMember = AsyncIterable<unknown> & { header: TarHeader };

interface ArchiveEntry {
  header: TarHeader;
  /** The member's name as a WSGI string (its bytes as latin-1 characters). */
  wsgiName: string;
  pax: Record<string, string>;
  /** The member's bytes for a sub-request: ending early or failing never disturbs the archive. */
  body(): Readable;
  /** Read what is left of the member so the archive moves on. */
  drain(): Promise<void>;
}

/**
 * A streaming tar reader (tarfile.open(mode='r|' + compress)): members one at a time, errors
 * as tarfile reports them. As tarfile, a broken header after the first member ends the
 * archive quietly; a broken first header, truncated data or bad compression is a TarError.
 */
function openArchive(src: Readable, compress: "" | "gz"): { next(): Promise<ArchiveEntry | undefined>; close(): void } {
  const extract = tar.extract({ allowUnknownFormat: true, filenameEncoding: "latin1" } as Parameters<typeof tar.extract>[0]);
  let total = 0;
  let first = Buffer.alloc(0);
  let zlibError: (Error & { errno?: number; code?: string }) | undefined;
  let magic = Buffer.alloc(0);
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      if (first.length < 512) first = Buffer.concat([first, chunk]).subarray(0, 512);
      cb(null, chunk);
    },
  });
  const fail = (e: Error): void => {
    extract.destroy(e);
  };
  src.on("error", fail);
  tap.on("error", fail);
  if (compress === "gz") {
    const gunzip = createGunzip();
    const magicTap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        if (magic.length < 2) magic = Buffer.concat([magic, chunk]).subarray(0, 2);
        cb(null, chunk);
      },
    });
    magicTap.on("error", fail);
    gunzip.on("error", (e) => {
      zlibError = e;
      fail(e);
    });
    src.pipe(magicTap).pipe(gunzip).pipe(tap).pipe(extract as unknown as NodeJS.WritableStream);
  } else {
    src.pipe(tap).pipe(extract as unknown as NodeJS.WritableStream);
  }
  const it = extract[Symbol.asyncIterator]();
  let seen = false;
  let ended = false;

  const tarError = (e: unknown): TarError | undefined => {
    if (compress === "gz" && (magic.length < 2 || magic[0] !== 0x1f || magic[1] !== 0x8b)) return new TarError("not a gzip file");
    if (zlibError) {
      if (zlibError.code === "Z_BUF_ERROR") return new TarError("unexpected end of data");
      return new TarError(`Error ${zlibError.errno ?? -3} while decompressing data: ${zlibError.message}`);
    }
    const msg = e instanceof Error ? e.message : String(e);
    if (!seen) {
      if (total === 0) return new TarError("empty file");
      if (total < 512) return new TarError("truncated header");
      const field = first.subarray(148, 156).toString("latin1").replace(/\0.*$/s, "").trim();
      return new TarError(/^[0-7]*$/.test(field) || (first[148]! & 0x80) !== 0 ? "bad checksum" : "invalid header");
    }
    if (/Unexpected end of data/i.test(msg)) return new TarError("unexpected end of data");
    return undefined; // a bad header after the first member: the archive ends there
  };

  return {
    async next() {
      if (ended) return undefined;
      let r: IteratorResult<ArchiveMember>;
      try {
        r = await it.next();
      } catch (e) {
        ended = true;
        const err = tarError(e);
        if (err) throw err;
        return undefined;
      }
      if (r.done) {
        ended = true;
        if (!seen && total === 0 && !zlibError) throw compress === "gz" ? tarError(undefined)! : new TarError("empty file");
        return undefined;
      }
      seen = true;
      const entry = r.value;
      const header = entry.header;
      const pax = ((header as { pax?: Record<string, string> | null }).pax ?? {}) as Record<string, string>;
      const wsgiName = pax["path"] !== undefined ? Buffer.from(pax["path"], "utf8").toString("latin1") : header.name;
      const inner = entry[Symbol.asyncIterator]();
      let broken = false;
      let done = false;
      // One read at a time: the sub-request's stream and drain() may both pull.
      let last: Promise<unknown> = Promise.resolve();
      const pull = (): Promise<IteratorResult<Buffer>> => {
        const p = last.then(read);
        last = p.catch(() => undefined);
        return p;
      };
      const read = async (): Promise<IteratorResult<Buffer>> => {
        if (broken || done) return { done: true, value: undefined };
        try {
          const x = await inner.next();
          if (x.done) {
            done = true;
            return { done: true, value: undefined };
          }
          return { done: false, value: x.value as Buffer };
        } catch {
          broken = true;
          return { done: true, value: undefined };
        }
      };
      const safe: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: () => ({ next: pull, return: async () => ({ done: true as const, value: undefined }) }),
      };
      return {
        header,
        wsgiName,
        pax,
        body: () => Readable.from(safe, { objectMode: false }),
        async drain() {
          while (!(await pull()).done);
        },
      };
    },
    close() {
      ended = true;
      src.unpipe();
      extract.destroy();
    },
  };
}
