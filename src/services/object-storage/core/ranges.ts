import { randomBytes } from "node:crypto";
import { parseHttpDate } from "./time.js";
import type { SwiftRequest } from "./types.js";

export interface ByteRange {
  start: number;
  end: number;
}

/**
 * swob's Range and ranges_for_length: "bytes=a-b,c-,-n" (spaces ignored). A header with any
 * syntactically invalid spec is ignored (undefined: the whole object is sent); ranges that all
 * miss the object, or an egregious set (more than 50 ranges, more than 2 overlapping, 8 or
 * more out of order), are unsatisfiable (416). An empty object answers a suffix range whole.
 */
export function parseRanges(header: string, size: number): ByteRange[] | "unsatisfiable" | undefined {
  const v = header.replaceAll(" ", "");
  if (!v.toLowerCase().startsWith("bytes=")) return undefined;
  const parsed: Array<[number | undefined, number | undefined]> = [];
  for (const s of v.slice(6).split(",")) {
    const dash = s.indexOf("-");
    if (dash < 0) return undefined;
    const a = s.slice(0, dash);
    const b = s.slice(dash + 1);
    if (a !== "" && !/^[+-]?\d+$/.test(a)) return undefined;
    if (b !== "" && !/^\d+$/.test(b)) return undefined;
    const start = a === "" ? undefined : Number(a);
    const end = b === "" ? undefined : Number(b);
    if (start === undefined && end === undefined) return undefined;
    if (start !== undefined && end !== undefined && end < start) return undefined;
    parsed.push([start, end]);
  }
  if (parsed.length === 0) return undefined;
  // Half-open [start, stop) as swob computes them.
  const all: Array<[number, number]> = [];
  for (const [a, b] of parsed) {
    if (a === undefined) {
      if (b === 0) continue; // bytes=-0
      all.push(b! > size ? [0, size] : [size - b!, size]);
    } else if (b === undefined) {
      if (a < size) all.push([a, size]);
    } else if (a < size) {
      all.push([a, Math.min(b + 1, size)]);
    }
  }
  if (all.length > 50) return "unsatisfiable";
  let overlaps = 0;
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const [s1, e1] = all[i]!;
      const [s2, e2] = all[j]!;
      if ((s1 < s2 && s2 < e1) || (s1 < e2 && e2 < e1) || (s2 < s1 && s1 < e2) || (s2 < e1 && e1 < e2)) {
        if (++overlaps > 2) return "unsatisfiable";
      }
    }
  }
  let ascending = true;
  for (let i = 1; i < all.length; i++) {
    const [p0, p1] = all[i - 1]!;
    const [c0, c1] = all[i]!;
    if (p0 > c0 || (p0 === c0 && p1 > c1)) {
      ascending = false;
      break;
    }
  }
  if (!ascending && all.length >= 8) return "unsatisfiable";
  if (all.length === 0) return "unsatisfiable";
  // A suffix range of an empty object: swob sends the (empty) object whole, 200.
  if (size === 0) return undefined;
  return all.map(([a, b]) => ({ start: a, end: b - 1 }));
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
  return v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => (s.length > 1 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s));
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
  if (ims !== undefined && lastModified <= ims) return 304;
  const ius = parseHttpDate(req.header("if-unmodified-since"));
  if (ius !== undefined && lastModified > ius) return 412;
  return undefined;
}
