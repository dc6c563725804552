import { SwiftError, reason, respond } from "../core/errors.js";
import type { Filter, SwiftRequest, SwiftResponse } from "../core/types.js";
import type { FilterDeps } from "./deps.js";
import { ALLOWED_DIGESTS, constEq, extractDigest, hmacHex, pyQuote, signedPaths, tempUrlKeys } from "./tempurl.js";

/** formpost.py's READ_CHUNK_SIZE and MAX_VALUE_LENGTH (longer attribute values are cut). */
const READ_CHUNK_SIZE = 4096;
const MAX_VALUE_LENGTH = 4096;

/** What formpost.py turns into a plain-text 400 ("FormPost: <message>"). */
class FormInvalid extends Error {}
/** What formpost.py turns into a 401 ("FormPost: <Message Titled>"). */
class FormUnauthorized extends Error {}
class MimeInvalid extends Error {}
/** The file ran past max_file_size (a plain-text 400 too). */
class EOFError extends Error {}

/** Pulls bytes from the request body as a file object would (read(n) blocks for n or EOF). */
class Input {
  private buf: Buffer = Buffer.alloc(0);
  private eof = false;
  private readonly it: AsyncIterator<Uint8Array>;
  constructor(body: AsyncIterable<Uint8Array> | undefined) {
    this.it = (body ?? (async function* () {})())[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<void> {
    while (this.buf.length < n && !this.eof) {
      const r = await this.it.next();
      if (r.done) this.eof = true;
      else this.buf = Buffer.concat([this.buf, Buffer.from(r.value)]);
    }
  }

  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  /** readline(limit): up to and including "\n", at most `limit` bytes. */
  async readline(limit: number): Promise<Buffer> {
    for (;;) {
      const nl = this.buf.indexOf(0x0a);
      if (nl >= 0 && nl < limit) {
        const out = this.buf.subarray(0, nl + 1);
        this.buf = this.buf.subarray(nl + 1);
        return out;
      }
      if (this.buf.length >= limit || this.eof) return this.read(limit);
      await this.fill(this.buf.length + 1);
    }
  }

  /** Throw away whatever the client still sends (so it sees our answer, not a reset). */
  drain(): void {
    void (async () => {
      try {
        for (;;) if ((await this.it.next()).done) break;
      } catch {
        /* the client went away */
      }
    })();
  }
}

/** One part of the form (swift.common.utils._MultipartMimeFileLikeObject). */
class Part {
  noMoreData = false;
  noMoreFiles = false;
  constructor(
    private readonly input: Input,
    private readonly boundary: Buffer,
    public buffer: Buffer,
  ) {}

  async read(length = READ_CHUNK_SIZE): Promise<Buffer> {
    if (this.noMoreData) return Buffer.alloc(0);
    if (this.buffer.length < length + this.boundary.length + 2) {
      let toRead = length + this.boundary.length + 2;
      while (toRead > 0) {
        const chunk = await this.input.read(toRead);
        toRead -= chunk.length;
        this.buffer = Buffer.concat([this.buffer, chunk]);
        if (chunk.length === 0) {
          this.noMoreFiles = true;
          break;
        }
      }
    }
    const pos = this.buffer.indexOf(this.boundary);
    if (pos === -1 || pos > length) {
      const ret = this.buffer.subarray(0, length);
      this.buffer = this.buffer.subarray(ret.length);
      return ret;
    }
    const ret = this.buffer.subarray(0, pos);
    this.buffer = this.buffer.subarray(pos + this.boundary.length);
    this.noMoreFiles = this.buffer.subarray(0, 2).toString("latin1") === "--";
    this.noMoreData = true;
    this.buffer = this.buffer.subarray(2);
    return ret;
  }

  async readline(): Promise<Buffer> {
    if (this.noMoreData) return Buffer.alloc(0);
    let nl = -1;
    let bp = -1;
    while (nl < 0 && bp < 0) {
      const chunk = await this.input.read(READ_CHUNK_SIZE);
      this.buffer = Buffer.concat([this.buffer, chunk]);
      nl = this.buffer.indexOf("\r\n");
      bp = this.buffer.indexOf(this.boundary);
      if (chunk.length === 0) {
        this.noMoreFiles = true;
        break;
      }
    }
    if (nl >= 0 && (bp < 0 || nl < bp)) {
      const parts: Buffer[] = [];
      let toRead = nl + 2;
      while (toRead > 0) {
        const c = await this.read(toRead);
        if (c.length === 0) break;
        toRead -= c.length;
        parts.push(c);
      }
      return Buffer.concat(parts);
    }
    return this.read(this.buffer.length);
  }
}

/** iter_multipart_mime_documents: the parts, one after the other (each read before the next). */
async function* parts(input: Input, boundary: string): AsyncGenerator<Part> {
  const b = Buffer.from(`--${boundary}`, "utf8");
  const blen = b.length + 2;
  let got = await input.readline(blen);
  while (got.toString("latin1") === "\r\n") got = await input.readline(blen);
  // bytes.strip(): ASCII whitespace only.
  const stripped = got.toString("latin1").replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, "");
  if (!Buffer.from(stripped, "latin1").equals(b)) throw new MimeInvalid();
  const sep = Buffer.concat([Buffer.from("\r\n"), b]);
  let buffer: Buffer = Buffer.alloc(0);
  for (;;) {
    const p = new Part(input, sep, buffer);
    yield p;
    if (p.noMoreFiles) return;
    buffer = p.buffer;
  }
}

/** parse_mime_headers: header lines up to the blank one (names case-insensitive, last one wins). */
async function mimeHeaders(p: Part): Promise<Record<string, string>> {
  const lines: string[] = [];
  for (;;) {
    const raw = await p.readline();
    const s = raw.toString("latin1");
    if (s === "\r\n" || s === "\n" || s === "") break;
    let line: string;
    try {
      line = new TextDecoder("utf-8", { fatal: true }).decode(raw);
    } catch {
      line = s;
    }
    lines.push(line.replace(/\r?\n$/, ""));
  }
  const out: Record<string, string> = {};
  let last: string | undefined;
  for (const l of lines) {
    if (/^[ \t]/.test(l) && last) {
      out[last] += ` ${l.trim()}`;
      continue;
    }
    const i = l.indexOf(":");
    if (i <= 0) continue;
    last = l.slice(0, i).trim().toLowerCase();
    out[last] = l.slice(i + 1).trim();
  }
  return out;
}

/** parse_content_disposition: "form-data; name=\"x\"; filename=\"y\"" → its value and attributes. */
export function parseDisposition(header: string): [string, Record<string, string>] {
  const attributes: Record<string, string> = {};
  let value = header;
  let attrs = "";
  const i = header.indexOf(";");
  if (i >= 0) {
    value = header.slice(0, i).trim();
    attrs = header.slice(i + 1).trim();
  }
  const re = /^(\w+)=(".*?"|[^";]+)(; ?|$)/;
  for (let m = re.exec(attrs); m; m = re.exec(attrs)) {
    attrs = attrs.slice(m[0].length);
    attributes[m[1]!] = m[2]!.replace(/^"+|"+$/g, "");
  }
  return [value, attributes];
}

/** Python's int(): blanks, a sign, digits (underscores between them); undefined on ValueError. */
function pyInt(s: string): number | undefined {
  const m = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/.exec(s);
  if (!m) return undefined;
  const n = Number(m[2]!.replaceAll("_", ""));
  return m[1] === "-" ? -n : n;
}

/** str.title(). */
function pyTitle(s: string): string {
  return s.toLowerCase().replace(/(^|[^a-zA-Z])([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase());
}

/** rstrip('\r\n--'): trailing CR, LF and dashes go. */
function rstripForm(s: string): string {
  return s.replace(/[\r\n-]+$/, "");
}

/**
 * Swift's formpost middleware: a browser form (POST multipart/form-data) uploads its files
 * as objects under the form's path, authorized by an HMAC of
 * "path\nredirect\nmax_file_size\nmax_file_count\nexpires" under a temp URL key instead of
 * a token. Attributes must come before the files; the answer is a 303 to `redirect` with
 * status and message, or the status as plain text.
 */
export function formpostFilter(d: FilterDeps): Filter {
  d.info.register("formpost", { allowed_digests: [...ALLOWED_DIGESTS], deprecated_digests: ["sha1"] });

  const subrequest = async (req: SwiftRequest, next: (r: SwiftRequest) => Promise<SwiftResponse>, attributes: Record<string, string>, part: Part, keys: string[]): Promise<SwiftResponse> => {
    if (keys.length === 0) throw new FormUnauthorized("invalid signature");
    const maxFileSize = pyInt(attributes["max_file_size"] || "0");
    if (maxFileSize === undefined) throw new FormInvalid("max_file_size not an integer");
    const headers: Record<string, string> = { "transfer-encoding": "chunked" };
    if (req.headers["user-agent"] !== undefined) headers["user-agent"] = req.headers["user-agent"];
    if ("x_delete_at" in attributes) {
      const v = pyInt(attributes["x_delete_at"]!);
      if (v === undefined) throw new FormInvalid("x_delete_at not an integer: Unix timestamp required.");
      headers["x-delete-at"] = String(v);
    }
    if ("x_delete_after" in attributes) {
      const v = pyInt(attributes["x_delete_after"]!);
      if (v === undefined) throw new FormInvalid("x_delete_after not an integer: Number of seconds required.");
      headers["x-delete-after"] = String(v);
    }
    if ("content-type" in attributes) headers["content-type"] = attributes["content-type"] || "application/octet-stream";
    if ("content-encoding" in attributes) headers["content-encoding"] = attributes["content-encoding"]!;
    const expires = pyInt(attributes["expires"] || "0");
    if (expires === undefined) throw new FormInvalid("expired not an integer");
    if (expires < d.time.nowSeconds()) throw new FormUnauthorized("form expired");

    // The path as the client sent it (a container URL may end with "/"), decoded.
    let path = req.path;
    const raw = req.env["rawPath"];
    if (typeof raw === "string") {
      try {
        path = decodeURIComponent(raw);
      } catch {
        path = req.path;
      }
    }
    const sig = extractDigest(attributes["signature"] ?? "");
    if (!sig || !(ALLOWED_DIGESTS as readonly string[]).includes(sig.algo)) throw new FormUnauthorized("invalid signature");
    let valid = false;
    for (const p of signedPaths(req, path)) {
      const body = [p, attributes["redirect"] || "", attributes["max_file_size"] || "0", attributes["max_file_count"] || "0", attributes["expires"] || "0"].join("\n");
      for (const key of keys) if (constEq(hmacHex(sig.algo, key, body), sig.hex)) valid = true;
    }
    if (!valid) throw new FormUnauthorized("invalid signature");

    let exceeded = false;
    let amount = 0;
    const source = (async function* () {
      for (;;) {
        const c = await part.read(READ_CHUNK_SIZE);
        if (c.length === 0) return;
        amount += c.length;
        if (amount > maxFileSize) {
          exceeded = true;
          throw new SwiftError(400, "FormPost: max_file_size exceeded");
        }
        yield c;
      }
    })();
    const filename = attributes["filename"] || "filename";
    const object = req.object === undefined ? filename : `${req.object}${filename}`;
    const put = req.sub({ method: "PUT", path: { account: req.account, container: req.container, object }, headers, body: source, preauthed: true, source: "FP" });
    put.env["authorizeOverride"] = true;
    put.env["remoteUser"] = ".wsgi.pre_authed";
    const resp = await next(put);
    const b = resp.body as { destroy?: () => void } | undefined;
    b?.destroy?.();
    if (exceeded) throw new EOFError("max_file_size exceeded");
    return resp;
  };

  const translate = async (req: SwiftRequest, next: (r: SwiftRequest) => Promise<SwiftResponse>, boundary: string, input: Input): Promise<SwiftResponse> => {
    // _get_keys: only a path naming a container has keys.
    const keys = req.container !== undefined ? (await tempUrlKeys(d.store, req.account, req.container)).map((k) => k.key) : [];
    let status = "";
    let message = "";
    const attributes: Record<string, string> = {};
    let subheaders: Record<string, string> = {};
    let fileCount = 0;
    for await (const part of parts(input, boundary)) {
      const hdrs = await mimeHeaders(part);
      const [disp, attrs] = parseDisposition(hdrs["content-disposition"] ?? "");
      if (disp === "form-data" && attrs["filename"]) {
        fileCount++;
        const max = pyInt(attributes["max_file_count"] || "0");
        if (max === undefined) throw new FormInvalid("max_file_count not an integer");
        if (fileCount > max) {
          status = "400 Bad Request";
          message = "max file count exceeded";
          break;
        }
        const fileAttributes: Record<string, string> = { ...attributes, filename: attrs["filename"] || "filename" };
        if (!("content-type" in attributes) && "content-type" in hdrs) fileAttributes["content-type"] = hdrs["content-type"] || "application/octet-stream";
        if (!("content-encoding" in attributes) && "content-encoding" in hdrs) fileAttributes["content-encoding"] = hdrs["content-encoding"]!;
        const resp = await subrequest(req, next, fileAttributes, part, keys);
        status = `${resp.status} ${reason(resp.status)}`;
        subheaders = resp.headers;
        if (resp.status < 200 || resp.status >= 300) break;
      } else {
        const chunks: Buffer[] = [];
        let left = MAX_VALUE_LENGTH;
        while (left) {
          const c = await part.read(left);
          if (c.length === 0) break;
          left -= c.length;
          chunks.push(c);
        }
        while ((await part.read(READ_CHUNK_SIZE)).length > 0);
        const data = Buffer.concat(chunks).toString("utf8");
        if (attrs["name"] !== undefined) attributes[attrs["name"].toLowerCase()] = rstripForm(data);
      }
    }
    if (!status) {
      status = "400 Bad Request";
      message = "no files to process";
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(subheaders)) if (k.startsWith("access-control")) headers[k] = v;
    const code = Number(status.split(" ", 1)[0]);
    const redirect = attributes["redirect"];
    if (!redirect) {
      let body = status;
      if (message) body = `${status}\r\nFormPost: ${pyTitle(message)}`;
      return { status: code, headers: { ...headers, "content-type": "text/plain", "content-length": String(Buffer.byteLength(body)) }, body };
    }
    const location = `${redirect}${redirect.includes("?") ? "&" : "?"}status=${pyQuote(String(code))}&message=${pyQuote(message)}`;
    const body = `<html><body><p><a href="${location}">Click to continue...</a></p></body></html>`;
    // Swift sends no Content-Type here; the kernel would call it application/octet-stream,
    // so name what it is.
    return { status: 303, headers: { ...headers, location, "content-type": "text/html; charset=UTF-8", "content-length": String(Buffer.byteLength(body)) }, body };
  };

  return {
    name: "formpost",
    async handle(req, next) {
      if (req.method !== "POST") return next(req);
      const [ctype, cattrs] = parseDisposition(req.header("content-type") ?? "");
      if (ctype !== "multipart/form-data" || cattrs["boundary"] === undefined) return next(req);
      const input = new Input(req.body);
      try {
        return await translate(req, next, cattrs["boundary"], input);
      } catch (e) {
        if (e instanceof MimeInvalid) return plain400("FormPost: invalid starting boundary");
        if (e instanceof FormInvalid || e instanceof EOFError) return plain400(`FormPost: ${e.message}`);
        if (e instanceof FormUnauthorized) {
          return respond(401, { body: `FormPost: ${pyTitle(e.message)}`, contentType: "text/html; charset=UTF-8", headers: { "www-authenticate": `Swift realm="${pyQuote(req.account)}"` } });
        }
        throw e;
      } finally {
        input.drain();
      }
    },
  };
}

function plain400(body: string): SwiftResponse {
  return { status: 400, headers: { "content-type": "text/plain", "content-length": String(Buffer.byteLength(body)) }, body };
}
