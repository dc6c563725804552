import { randomBytes } from "node:crypto";
import { parseHttpDate } from "./time.js";
import type { SwiftRequest } from "./types.js";

export interface ByteRange {
  start: number;
  end: number;
}

/**
 * swob's Range: "bytes=a-b,c-,-n". A header that does not parse is ignored (the whole
 * object is sent); ranges that all miss the object are unsatisfiable (416).
 */
export function parseRanges(header: string, size: number): ByteRange[] | "unsatisfiable" | undefined {
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return undefined;
  const specs = m[1]!.split(",").map((s) => s.trim());
  if (specs.length > 50) return undefined;
  const out: ByteRange[] = [];
  const parsed: Array<[number | undefined, number | undefined]> = [];
  for (const s of specs) {
    const r = /^(\d*)-(\d*)$/.exec(s);
    if (!r || (r[1] === "" && r[2] === "")) return undefined;
    const a = r[1] === "" ? undefined : Number(r[1]);
    const b = r[2] === "" ? undefined : Number(r[2]);
    if (a !== undefined && b !== undefined && b < a) return undefined;
    parsed.push([a, b]);
  }
  for (const [a, b] of parsed) {
    if (a === undefined) {
      // suffix: the last b bytes
      if (b === 0 || size === 0) continue;
      out.push({ start: Math.max(0, size - b!), end: size - 1 });
    } else {
      if (a >= size) continue;
      out.push({ start: a, end: b === undefined ? size - 1 : Math.min(b, size - 1) });
    }
  }
  if (out.length === 0) return "unsatisfiable";
  return out;
}

/** multipart/byteranges for several ranges of data held in memory. */
export function multipartRanges(data: Buffer, ranges: readonly ByteRange[], contentType: string, size: number): { body: Buffer; boundary: string } {
  const boundary = randomBytes(16).toString("hex");
  const parts: Buffer[] = [];
  for (const r of ranges) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: bytes ${r.start}-${r.end}/${size}\r\n\r\n`));
    parts.push(data.subarray(r.start, r.end + 1));
    parts.push(Buffer.from("\r\n"));
  }
  parts.push(Buffer.from(`--${boundary}--`));
  return { body: Buffer.concat(parts), boundary };
}

function etagList(v: string): string[] {
  return v.split(",").map((s) => s.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1"));
}

/** swob's conditional response: 304 or 412 from If-(None-)Match and If-(Un)Modified-Since. */
export function conditionalStatus(req: SwiftRequest, etag: string, timestamp: number): 304 | 412 | undefined {
  const inm = req.header("if-none-match");
  if (inm !== undefined) {
    const l = etagList(inm);
    if (l.includes("*") || l.includes(etag)) return 304;
  }
  const im = req.header("if-match");
  if (im !== undefined) {
    const l = etagList(im);
    if (!l.includes("*") && !l.includes(etag)) return 412;
  }
  const lastModified = Math.ceil(timestamp);
  const ims = parseHttpDate(req.header("if-modified-since"));
  if (ims !== undefined && inm === undefined && lastModified <= ims) return 304;
  const ius = parseHttpDate(req.header("if-unmodified-since"));
  if (ius !== undefined && lastModified > ius) return 412;
  return undefined;
}
