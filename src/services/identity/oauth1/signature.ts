import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * OAuth 1.0 request signing as RFC 5849 §3.4 defines it and oauthlib (which Keystone uses)
 * verifies it: the signature base string is METHOD & base-string-URI & normalized parameters,
 * each percent-encoded; HMAC keys are consumer-secret & token-secret.
 */

/** RFC 5849 §3.6: percent-encode everything but ALPHA / DIGIT / "-" / "." / "_" / "~". */
export function escape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function unescape(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Python's urllib.request.parse_http_list: split on commas outside quoted strings. */
function parseHttpList(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  let esc = false;
  for (const ch of s) {
    if (esc) {
      cur += ch;
      esc = false;
      continue;
    }
    if (quoted) {
      if (ch === "\\") {
        esc = true;
        continue;
      }
      if (ch === '"') quoted = false;
      cur += ch;
      continue;
    }
    if (ch === ",") {
      out.push(cur);
      cur = "";
      continue;
    }
    if (ch === '"') quoted = true;
    cur += ch;
  }
  if (cur) out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== "");
}

/**
 * The parameters of an `Authorization: OAuth k="v", …` header, values unquoted but still
 * percent-encoded (as oauthlib's parse_authorization_header returns them). Undefined when the
 * header is not an OAuth one or is malformed.
 */
export function parseAuthorizationHeader(header: string): Array<[string, string]> | undefined {
  if (!header.toLowerCase().startsWith("oauth ")) return undefined;
  const out = new Map<string, string>();
  for (const item of parseHttpList(header.slice(6))) {
    const eq = item.indexOf("=");
    if (eq < 0) return undefined;
    const k = item.slice(0, eq);
    let v = item.slice(eq + 1);
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    out.set(k, v);
  }
  return [...out];
}

/** application/x-www-form-urlencoded pairs, as Python's parse_qsl(keep_blank_values=True). */
export function parseQuery(query: string): Array<[string, string]> {
  if (!query) return [];
  const out: Array<[string, string]> = [];
  for (const part of query.split(/[&;]/)) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? "" : part.slice(eq + 1);
    out.push([unescape(k.replaceAll("+", " ")), unescape(v.replaceAll("+", " "))]);
  }
  return out;
}

/**
 * The request parameters that are signed (oauthlib collect_parameters): header parameters
 * (oauth_* values percent-decoded, realm left out) and the query string's parameters.
 */
export function collectParameters(headerParams: Array<[string, string]>, query: Array<[string, string]>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of headerParams) {
    if (k === "realm") continue;
    out.push([k, k.startsWith("oauth_") ? unescape(v) : v]);
  }
  out.push(...query);
  return out;
}

/** RFC 5849 §3.4.1.3.2: encode, sort by name then value, join. oauth_signature is excluded. */
export function normalizeParameters(params: Array<[string, string]>): string {
  const kv = params.filter(([k]) => k !== "oauth_signature").map(([k, v]) => [escape(k), escape(v)] as const);
  kv.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return kv.map(([k, v]) => `${k}=${v}`).join("&");
}

/** RFC 5849 §3.4.1.2: lower-case scheme and host, no default port, no query or fragment. */
export function baseStringUri(uri: string): string {
  const u = new URL(uri);
  const scheme = u.protocol.replace(/:$/, "").toLowerCase();
  let host = u.hostname.toLowerCase();
  const port = u.port;
  if (port && !((scheme === "http" && port === "80") || (scheme === "https" && port === "443"))) host += `:${port}`;
  const path = u.pathname || "/";
  return `${scheme}://${host}${path}`;
}

export function signatureBaseString(method: string, uri: string, normalizedParams: string): string {
  return `${escape(method.toUpperCase())}&${escape(baseStringUri(uri))}&${escape(normalizedParams)}`;
}

export const HMAC_METHODS: Readonly<Record<string, string>> = {
  "HMAC-SHA1": "sha1",
  "HMAC-SHA256": "sha256",
  "HMAC-SHA512": "sha512",
};

/** oauthlib's allowed signature methods; RSA ones never verify (Keystone has no RSA keys). */
export const SIGNATURE_METHODS = ["HMAC-SHA1", "HMAC-SHA256", "HMAC-SHA512", "RSA-SHA1", "RSA-SHA256", "RSA-SHA512", "PLAINTEXT"];

/** The signature a client holding these secrets computes (undefined for unsupported methods). */
export function sign(
  signatureMethod: string,
  method: string,
  uri: string,
  params: Array<[string, string]>,
  clientSecret: string,
  tokenSecret: string | undefined,
): string | undefined {
  const key = `${escape(clientSecret)}&${escape(tokenSecret ?? "")}`;
  if (signatureMethod === "PLAINTEXT") return key;
  const algo = HMAC_METHODS[signatureMethod];
  if (!algo) return undefined;
  const base = signatureBaseString(method, uri, normalizeParameters(params));
  return createHmac(algo, key).update(base, "utf8").digest("base64");
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** True when `signature` matches for any of the URIs the client may have signed. */
export function verify(
  signatureMethod: string,
  method: string,
  uris: readonly string[],
  params: Array<[string, string]>,
  signature: string,
  clientSecret: string,
  tokenSecret: string | undefined,
): boolean {
  for (const uri of uris) {
    let expected: string | undefined;
    try {
      expected = sign(signatureMethod, method, uri, params, clientSecret, tokenSecret);
    } catch {
      continue;
    }
    if (expected !== undefined && safeEqual(expected, signature)) return true;
  }
  return false;
}
