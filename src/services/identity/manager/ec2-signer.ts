import { createHash, createHmac } from "node:crypto";

/**
 * AWS request signatures as keystoneclient's contrib/ec2/utils.py Ec2Signer computes them for
 * POST /v3/ec2tokens: versions 0, 1 and 2 from `params`, version 4 from the Authorization
 * header (or X-Amz-* query parameters). The credentials dict is what EC2-compatible APIs
 * forward: {access, signature, host, verb, path, params, headers, body_hash}.
 */
export interface Ec2Credentials {
  access?: unknown;
  signature?: unknown;
  host?: unknown;
  verb?: unknown;
  path?: unknown;
  params?: unknown;
  headers?: unknown;
  body_hash?: unknown;
}

export class SignatureError extends Error {}

type Dict = Record<string, unknown>;

function dict(v: unknown): Dict {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Dict) : {};
}

/** str(value) as Python renders the scalar JSON values a signer sees. */
function pyStr(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === true) return "True";
  if (v === false) return "False";
  if (v === null || v === undefined) return "None";
  return String(v);
}

/** urllib.parse.quote over UTF-8 bytes: only letters, digits and "_.-~" stay literal. */
function quote(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Sorted, encoded query string (_canonical_qs). Keys sort by code point as Python's do. */
function canonicalQs(params: Dict): string {
  const keys = Object.keys(params).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((k) => `${quote(k)}=${quote(pyStr(params[k]))}`).join("&");
}

function isV4(headers: Dict, params: Dict): boolean {
  const auth = headers["Authorization"];
  if (typeof auth === "string") return auth.startsWith("AWS4-HMAC-SHA256");
  if (auth !== undefined) return false;
  return params["X-Amz-Algorithm"] === "AWS4-HMAC-SHA256";
}

/** The signature these credentials should carry if signed with `secret`. */
export function ec2Signature(secret: string, creds: Ec2Credentials): string {
  const params = { ...dict(creds.params) };
  const headers = dict(creds.headers);
  const verb = pyStr(creds.verb);
  const host = pyStr(creds.host);
  const path = pyStr(creds.path);
  const sv = params["SignatureVersion"];
  if (sv === "0") {
    if (params["Action"] === undefined || params["Timestamp"] === undefined) throw new SignatureError("missing Action or Timestamp");
    return createHmac("sha1", secret)
      .update(pyStr(params["Action"]) + pyStr(params["Timestamp"]), "utf8")
      .digest("base64");
  }
  if (sv === "1") {
    const keys = Object.keys(params).sort((a, b) => {
      const x = a.toLowerCase();
      const y = b.toLowerCase();
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const h = createHmac("sha1", secret);
    for (const k of keys) {
      h.update(k, "utf8");
      h.update(pyStr(params[k]), "utf8");
    }
    return h.digest("base64");
  }
  if (sv === "2") {
    // keystoneclient always signs v2 with SHA-256 and says so in the signed parameters.
    params["SignatureMethod"] = "HmacSHA256";
    const toSign = `${verb}\n${host}\n${path}\n${canonicalQs(params)}`;
    return createHmac("sha256", secret).update(toSign, "utf8").digest("base64");
  }
  if (isV4(headers, params)) return signV4(secret, creds, params, headers, verb, path);
  if (sv !== undefined) throw new SignatureError(`Unknown signature version: ${pyStr(sv)}`);
  throw new SignatureError("Unexpected signature format");
}

function signV4(secret: string, creds: Ec2Credentials, params: Dict, headers: Dict, verb: string, path: string): string {
  const authHeader = headers["Authorization"];
  const authParam = (name: string): string => {
    if (authHeader !== undefined) {
      const s = pyStr(authHeader);
      const i = s.indexOf(`${name}=`);
      return i < 0 ? "" : s.slice(i + name.length + 1).split(",")[0]!;
    }
    const v = params[`X-Amz-${name}`];
    if (v === undefined) throw new SignatureError(`missing ${name}`);
    return pyStr(v);
  };
  const dateParam = (): string => {
    const v = headers["X-Amz-Date"] ?? params["X-Amz-Date"];
    if (v === undefined || v === null) throw new SignatureError("missing X-Amz-Date");
    return pyStr(v);
  };
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(headers)) lower.set(k.toLowerCase().trim(), pyStr(v).trim());
  // Boto < 2.9.3 signed the host header without its port.
  const stripPort = /^Boto\/2\.[0-9]\.[0-2]/.test(lower.get("user-agent") ?? "");
  const signedHeaders = authParam("SignedHeaders");
  const headerLines: string[] = [];
  for (const h of signedHeaders.split(";")) {
    const v = lower.get(h);
    if (v === undefined) continue;
    headerLines.push(h === "host" && stripPort ? `${h}:${v.split(":")[0]!}` : `${h}:${v}`);
  }
  const canonicalQuery = verb.toUpperCase() !== "POST" ? canonicalQs(params) : "";
  const canonicalRequest = [verb.toUpperCase(), path, canonicalQuery, `${headerLines.join("\n")}\n`, signedHeaders, pyStr(creds.body_hash)].join(
    "\n",
  );
  const credential = authParam("Credential").split("/");
  const scope = credential.slice(1).join("/");
  const credDate = credential[1];
  const date = dateParam();
  if (credDate === undefined || !date.startsWith(credDate)) throw new SignatureError("Request date mismatch error");
  const toSign = ["AWS4-HMAC-SHA256", date, scope, createHash("sha256").update(canonicalRequest, "utf8").digest("hex")].join("\n");
  const [region, service] = [credential[2] ?? "", credential[3] ?? ""];
  const sign = (key: Buffer | string, msg: string): Buffer => createHmac("sha256", key).update(msg, "utf8").digest();
  const kDate = sign(Buffer.from(`AWS4${secret}`, "utf8"), credDate);
  const kSigning = sign(sign(sign(kDate, region), service), "aws4_request");
  return createHmac("sha256", kSigning).update(toSign, "utf8").digest("hex");
}

/**
 * Parse an AWS timestamp (ISO 8601, extended or basic form, as oslo's parse_isotime accepts),
 * treating a missing zone as UTC.
 */
export function parseAwsTimestamp(s: string): Date | undefined {
  const m =
    /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(s.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = "00", mi = "00", sec = "00", frac = "", tz] = m;
  const ms = Number((frac + "000").slice(0, 3));
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms);
  if (Number.isNaN(t)) return undefined;
  if (tz && tz.toUpperCase() !== "Z") {
    const sign = tz.startsWith("-") ? -1 : 1;
    const digits = tz.slice(1).replace(":", "");
    const off = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0");
    t -= sign * off * 60_000;
  }
  return new Date(t);
}

/**
 * Python's base64.urlsafe_b64decode (non-validating): "-" and "_" stand for "+" and "/",
 * other characters outside the alphabet are dropped, and the padding must come out right.
 */
export function urlsafeB64Decode(s: string): Buffer {
  // binascii.a2b_base64 in its non-strict mode, after "-_" became "+/".
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const out: number[] = [];
  let quad = 0;
  let acc = 0;
  let pads = 0;
  for (const ch of s.replace(/-/g, "+").replace(/_/g, "/")) {
    if (ch === "=") {
      // A complete pad sequence ends the input.
      if (quad >= 2 && quad + ++pads >= 4) return Buffer.from(out);
      continue;
    }
    const v = alphabet.indexOf(ch);
    if (v < 0) continue;
    pads = 0;
    acc = (acc << 6) | v;
    quad = (quad + 1) % 4;
    if (quad === 2) out.push((acc >> 4) & 0xff);
    else if (quad === 3) out.push((acc >> 2) & 0xff);
    else if (quad === 0) {
      out.push(acc & 0xff);
      acc = 0;
    }
    acc &= 0x3f;
  }
  if (quad !== 0) throw new SignatureError("Incorrect padding");
  return Buffer.from(out);
}

/**
 * The S3 signature keystone's /v3/s3tokens expects over `stringToSign` (the decoded `token`):
 * AWS signature v1 (base64 HMAC-SHA1) unless it starts with "AWS4", then v4 (hex HMAC-SHA256
 * with the key derived from the date/region/service scope in the string itself).
 */
export function s3Signature(secret: string, stringToSign: Buffer): string {
  if (stringToSign.subarray(0, 4).toString("latin1") !== "AWS4") {
    return createHmac("sha1", Buffer.from(secret, "utf8")).update(stringToSign).digest("base64");
  }
  const parts = stringToSign.toString("latin1").split("\n");
  if (parts.length !== 4 || parts[0] !== "AWS4-HMAC-SHA256") throw new SignatureError("Invalid EC2 signature.");
  const scope = parts[2]!.split("/");
  if (scope.length !== 4 || scope[3] !== "aws4_request") throw new SignatureError("Invalid EC2 signature.");
  if (!["s3", "iam", "sts"].includes(scope[2]!)) throw new SignatureError("Invalid EC2 signature.");
  const sign = (key: Buffer, msg: string): Buffer => createHmac("sha256", key).update(Buffer.from(msg, "latin1")).digest();
  let key = sign(Buffer.from(`AWS4${secret}`, "utf8"), scope[0]!);
  key = sign(key, scope[1]!);
  key = sign(key, scope[2]!);
  key = sign(key, "aws4_request");
  return createHmac("sha256", key).update(stringToSign).digest("hex");
}
