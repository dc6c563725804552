import { createHmac, timingSafeEqual } from "node:crypto";
import { respond } from "../core/errors.js";
import type { Filter, SwiftRequest, SwiftResponse } from "../core/types.js";
import type { SwiftStore } from "../store/store.js";
import { parseMeta } from "../store/store.js";
import type { FilterDeps } from "./deps.js";

/** swift.common.digest: what signatures may use (sha1 still allowed by default, but deprecated). */
export const ALLOWED_DIGESTS = ["sha1", "sha256", "sha512"] as const;
const DEPRECATED_DIGESTS = ["sha1"];
const HEX_LENGTHS: Record<number, string> = { 40: "sha1", 64: "sha256", 128: "sha512" };

/** tempurl.py's defaults (what /info advertises as well). */
const METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"];
const DISALLOWED_INCOMING = ["x-object-manifest", "x-symlink-target", "x-copy-from"];
const INCOMING_REMOVE = ["x-timestamp"];
const OUTGOING_REMOVE_PREFIX = "x-object-meta-";
const OUTGOING_ALLOW_PREFIX = "x-object-meta-public-";

/**
 * extract_digest_and_algorithm: "<hex>" (sha1/sha256/sha512 told apart by length) or
 * "<algo>:<base64>" (URL-safe alphabet accepted, padding optional) → the algorithm and the
 * hex digest; undefined where Swift raises ValueError.
 */
export function extractDigest(value: string): { algo: string; hex: string } | undefined {
  const colon = value.indexOf(":");
  if (colon >= 0) {
    const algo = value.slice(0, colon);
    let v = value.slice(colon + 1);
    if ((v.includes("-") || v.includes("_")) && !(v.includes("+") || v.includes("/"))) v = v.replaceAll("-", "+").replaceAll("_", "/");
    // strict_b64decode(v + "=="): only the base64 alphabet inside the padding.
    const core = v.replace(/^=+|=+$/g, "");
    if (!/^[A-Za-z0-9+/]*$/.test(core)) return undefined;
    const data = core.replace(/=+$/, "");
    if (data.length % 4 === 1) return undefined;
    return { algo, hex: Buffer.from(data, "base64").toString("hex") };
  }
  if (value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value)) return undefined;
  const algo = HEX_LENGTHS[value.length];
  return algo ? { algo, hex: value } : undefined;
}

export function hmacHex(algo: string, key: string, message: string): string {
  return createHmac(algo, Buffer.from(key, "utf8")).update(Buffer.from(message, "utf8")).digest("hex");
}

/** streq_const_time. */
export function constEq(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The temp URL keys (X-Account-Meta-Temp-URL-Key[-2], then X-Container-Meta-Temp-URL-Key[-2]),
 * read from the store as get_account_info / get_container_info would.
 */
export async function tempUrlKeys(store: SwiftStore, account: string, container: string | undefined): Promise<Array<{ key: string; scope: "account" | "container" }>> {
  const out: Array<{ key: string; scope: "account" | "container" }> = [];
  const arow = await store.account(account);
  if (arow) {
    const m = parseMeta(arow.meta);
    for (const k of ["x-account-meta-temp-url-key", "x-account-meta-temp-url-key-2"]) if (m[k] !== undefined) out.push({ key: m[k], scope: "account" });
  }
  if (container !== undefined) {
    const crow = await store.container(account, container);
    if (crow) {
      const m = parseMeta(crow.meta);
      for (const k of ["x-container-meta-temp-url-key", "x-container-meta-temp-url-key-2"]) if (m[k] !== undefined) out.push({ key: m[k], scope: "container" });
    }
  }
  return out;
}

/**
 * The paths a signature may cover: Swift's own "/v1/..." (what `swift tempurl` and
 * swift-form-signature sign), and the same under the service prefix ("/object-storage/v1/...",
 * the path of the catalog's storage URL, which Tempest signs) — tempurl's path_prefix option.
 */
export function signedPaths(req: SwiftRequest, path: string): string[] {
  let prefix = "";
  try {
    prefix = new URL(req.serviceUrl).pathname.replace(/\/+$/, "");
  } catch {
    prefix = "";
  }
  return prefix ? [path, `${prefix}${path}`] : [path];
}

/** Python's urllib.parse.quote (UTF-8, always-safe letters, digits and "_.-~", plus `safe`). */
export function pyQuote(s: string, safe = "/"): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9_.\-~]/.test(c) || (b < 128 && safe.includes(c))) out += c;
    else out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Python's int() of a string: optional blanks and sign, digits (underscores between them). */
function pyInt(s: string): number | undefined {
  const m = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/.exec(s);
  if (!m) return undefined;
  const n = Number(m[2]!.replaceAll("_", ""));
  return m[1] === "-" ? -n : n;
}

/** strptime(v, "%Y-%m-%dT%H:%M:%SZ") read as UTC; undefined when it does not parse. */
function parseIso(v: string): number | undefined {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})Z$/.exec(v);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 61) return undefined;
  const dim = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > dim) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
}

// ------------------------------------------------------------------ IP ranges (ipaddress module)
type Ip = { v: 4 | 6; n: bigint };

function parseV4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith("0")) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function parseV6(s: string): bigint | undefined {
  let str = s;
  const lastColon = str.lastIndexOf(":");
  if (lastColon >= 0 && str.slice(lastColon + 1).includes(".")) {
    // An embedded IPv4 tail ("::ffff:1.2.3.4") is two more 16-bit groups.
    const v4 = parseV4(str.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    str = `${str.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const dbl = str.split("::");
  if (dbl.length > 2) return undefined;
  const group = (g: string): bigint[] | undefined => {
    if (g === "") return [];
    const out: bigint[] = [];
    for (const x of g.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(x)) return undefined;
      out.push(BigInt(`0x${x}`));
    }
    return out;
  };
  const head = group(dbl[0]!);
  const rest = dbl.length === 2 ? group(dbl[1]!) : [];
  if (!head || !rest) return undefined;
  let words: bigint[];
  if (dbl.length === 2) {
    if (head.length + rest.length > 7) return undefined;
    words = [...head, ...new Array<bigint>(8 - head.length - rest.length).fill(0n), ...rest];
  } else {
    if (head.length !== 8) return undefined;
    words = head;
  }
  return words.reduce((a, w) => (a << 16n) | w, 0n);
}

function parseAddr(s: string): Ip | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { v: 4, n: v4 };
  const v6 = s.includes(":") ? parseV6(s) : undefined;
  return v6 !== undefined ? { v: 6, n: v6 } : undefined;
}

/** The client's address; an IPv4 client seen on a dual-stack socket ("::ffff:a.b.c.d") is IPv4. */
export function parseIp(s: string): Ip | undefined {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  return parseAddr(m ? m[1]! : s.replace(/%.*$/, ""));
}

/** ip_network(value) (strict: host bits must be zero); undefined where Python raises ValueError. */
export function parseNetwork(value: string): { v: 4 | 6; n: bigint; bits: number } | undefined {
  const [addr = "", mask, ...extra] = value.split("/");
  if (extra.length > 0) return undefined;
  const ip = parseAddr(addr);
  if (!ip) return undefined;
  const width = ip.v === 4 ? 32 : 128;
  let bits = width;
  if (mask !== undefined) {
    if (/^\d+$/.test(mask)) {
      bits = Number(mask);
      if (bits > width) return undefined;
    } else if (ip.v === 4) {
      const mm = parseV4(mask);
      if (mm === undefined) return undefined;
      const bin = mm.toString(2).padStart(32, "0");
      if (/^1*0*$/.test(bin)) bits = bin.indexOf("0") < 0 ? 32 : bin.indexOf("0");
      else if (/^0*1*$/.test(bin)) bits = bin.indexOf("1") < 0 ? 32 : bin.indexOf("1"); // a host mask
      else return undefined;
    } else {
      return undefined;
    }
  }
  const hostBits = BigInt(width - bits);
  if (ip.n & ((1n << hostBits) - 1n)) return undefined;
  return { v: ip.v, n: ip.n, bits };
}

function inNetwork(ip: Ip, net: { v: 4 | 6; n: bigint; bits: number }): boolean {
  if (ip.v !== net.v) return false;
  const hostBits = BigInt((net.v === 4 ? 32 : 128) - net.bits);
  return ip.n >> hostBits === net.n >> hostBits;
}

// ------------------------------------------------------------------ the filter
function realm(account: string): string {
  return `Swift realm="${pyQuote(account)}"`;
}

function unauthorized(req: SwiftRequest): SwiftResponse {
  return respond(401, { headers: { "www-authenticate": realm(req.account) } });
}

/** disposition_format. */
function disposition(type: string, filename: string): string {
  return `${type}; filename="${pyQuote(filename, " /")}"; filename*=UTF-8''${pyQuote(filename)}`;
}

function httpExpires(seconds: number): string {
  return new Date(seconds * 1000).toUTCString();
}

/**
 * Swift's tempurl middleware: a request carrying temp_url_sig and temp_url_expires is
 * authorized by an HMAC of "<method>\n<expires>\n<path>" (or with "ip=<range>" first, or
 * "prefix:<path>" for a prefix URL) under one of the account's or container's temp URL keys,
 * instead of a token. It may then only touch that account (account key) or container
 * (container key); responses lose X-Object-Meta-* (but -Public-*) and GET/HEAD ones get a
 * Content-Disposition and an Expires.
 */
export function tempurlFilter(d: FilterDeps): Filter {
  d.info.register("tempurl", {
    methods: METHODS,
    incoming_remove_headers: INCOMING_REMOVE,
    incoming_allow_headers: [],
    outgoing_remove_headers: ["x-object-meta-*"],
    outgoing_allow_headers: ["x-object-meta-public-*"],
    allowed_digests: [...ALLOWED_DIGESTS],
    deprecated_digests: DEPRECATED_DIGESTS,
  });

  const invalid = (req: SwiftRequest): SwiftResponse => {
    const headers = { "www-authenticate": realm(req.account) };
    if (req.method === "HEAD") {
      // swob's default body is not sent, but its length is.
      const r = respond(401, { headers });
      r.headers["content-length"] = String(Buffer.byteLength(r.body as string));
      return r;
    }
    return respond(401, { body: "401 Unauthorized: Temp URL invalid\n", headers, contentType: "text/html; charset=UTF-8" });
  };

  return {
    name: "tempurl",
    async handle(req, next) {
      if (req.method === "OPTIONS") return next(req);
      const q = req.query;
      const sigParam = q.get("temp_url_sig");
      const expiresParam = q.get("temp_url_expires");
      if (sigParam === null && expiresParam === null) return next(req);
      const now = d.time.nowSeconds();
      let expires = 0;
      if (expiresParam !== null) {
        expires = pyInt(expiresParam) ?? parseIso(expiresParam) ?? 0;
        if (expires < now) expires = 0;
      }
      if (!sigParam || !expires) return invalid(req);
      const digest = extractDigest(sigParam);
      if (!digest || !(ALLOWED_DIGESTS as readonly string[]).includes(digest.algo)) return invalid(req);
      const obj = req.object;
      if (!METHODS.includes(req.method) || req.container === undefined || obj === undefined || obj.replace(/^\/+|\/+$/g, "") === "") return invalid(req);
      const ipRange = q.get("temp_url_ip_range");
      if (ipRange) {
        const net = parseNetwork(ipRange);
        const client = parseIp(req.remoteAddr);
        if (!net || !client || !inNetwork(client, net)) return invalid(req);
      }
      const keys = await tempUrlKeys(d.store, req.account, req.container);
      if (keys.length === 0) return invalid(req);
      const prefix = q.get("temp_url_prefix");
      let path: string;
      if (prefix === null) {
        path = `/v1/${req.account}/${req.container}/${obj}`;
      } else {
        if (!obj.startsWith(prefix)) return invalid(req);
        path = `/v1/${req.account}/${req.container}/${prefix}`;
      }
      const methods = req.method === "HEAD" ? ["HEAD", "GET", "POST", "PUT"] : [req.method];
      let scope: "account" | "container" | undefined;
      outer: for (const method of methods) {
        for (const p of signedPaths(req, path)) {
          const parts = [method, String(expires), prefix === null ? p : `prefix:${p}`];
          if (ipRange) parts.unshift(`ip=${ipRange}`);
          const message = parts.join("\n");
          for (const k of keys) {
            if (constEq(digest.hex, hmacHex(digest.algo, k.key, message))) {
              scope = k.scope;
              break outer;
            }
          }
        }
      }
      if (!scope) return invalid(req);

      if (req.method !== "GET" && req.method !== "HEAD") {
        for (const h of Object.keys(req.headers)) {
          if (DISALLOWED_INCOMING.includes(h)) {
            const title = h.replace(/(^|-)([a-z])/g, (_m, s: string, c: string) => s + c.toUpperCase());
            return respond(400, { body: `The header '${title}' is not allowed in this tempurl`, contentType: "text/html; charset=UTF-8" });
          }
        }
      }
      for (const h of INCOMING_REMOVE) delete req.headers[h];

      const account = req.account;
      const container = req.container;
      req.authorize = (r) => (r.account === account && (scope === "account" || r.container === container) ? undefined : unauthorized(r));
      req.identity = undefined;
      req.env["authorizeOverride"] = true;
      req.env["remoteUser"] = ".wsgi.tempurl";
      const filename = q.get("filename");
      const inline = q.has("inline");
      const qs = new URLSearchParams({ temp_url_sig: digest.hex, temp_url_expires: String(expires) });
      if (prefix !== null) qs.set("temp_url_prefix", prefix);
      if (filename) qs.set("filename", filename);
      req.query = qs;

      const resp = await next(req);
      for (const h of Object.keys(resp.headers)) {
        if (h.startsWith(OUTGOING_REMOVE_PREFIX) && !h.startsWith(OUTGOING_ALLOW_PREFIX)) delete resp.headers[h];
      }
      if ((req.method === "GET" || req.method === "HEAD") && resp.status >= 200 && resp.status < 300) {
        const existing = resp.headers["content-disposition"];
        let value: string;
        if (inline) value = filename ? disposition("inline", filename) : "inline";
        else if (filename) value = disposition("attachment", filename);
        else if (existing) value = existing;
        else {
          const parts = req.path.replace(/\/+$/, "").split("/");
          value = disposition("attachment", parts[parts.length - 1] ?? "");
        }
        resp.headers["content-disposition"] = value.replaceAll("\n", "%0A");
        resp.headers["expires"] = httpExpires(expires);
      }
      return resp;
    },
  };
}
