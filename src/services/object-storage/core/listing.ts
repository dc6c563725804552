import { SwiftError } from "./errors.js";
import type { SwiftRequest, SwiftResponse } from "./types.js";

export type ListingFormat = "text/plain" | "application/json" | "application/xml" | "text/xml";

const BY_FORMAT: Record<string, ListingFormat> = { plain: "text/plain", json: "application/json", xml: "application/xml" };
const OFFERS: readonly ListingFormat[] = ["text/plain", "application/json", "application/xml", "text/xml"];

/** listing_formats' get_listing_content_type: ?format= wins, then the Accept header, default plain text. */
export function listingFormat(req: SwiftRequest): ListingFormat {
  const f = req.query.get("format");
  if (f) return BY_FORMAT[f.toLowerCase()] ?? "text/plain";
  const accept = req.header("accept");
  if (!accept || accept.trim() === "") return "text/plain";
  let best: ListingFormat | undefined;
  let bestQ = 0;
  let bestSpec = -1;
  const ranges = accept.split(",").map((p) => {
    const [range = "", ...params] = p.trim().split(";");
    let q = 1;
    for (const x of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(x);
      if (m) q = Number(m[1]);
    }
    return { range: range.trim().toLowerCase(), q };
  });
  if (ranges.some((r) => r.range !== "" && !r.range.includes("/"))) throw new SwiftError(400, "Invalid Accept header");
  for (const offer of OFFERS) {
    const [type] = offer.split("/");
    for (const r of ranges) {
      const spec = r.range === offer ? 2 : r.range === `${type}/*` ? 1 : r.range === "*/*" ? 0 : -1;
      if (spec < 0 || r.q <= 0) continue;
      if (r.q > bestQ || (r.q === bestQ && spec > bestSpec)) {
        best = offer;
        bestQ = r.q;
        bestSpec = spec;
      }
    }
  }
  if (!best) throw new SwiftError(406);
  return best;
}

/** ElementTree's escaping: text escapes & < >; attributes also " and whitespace controls. */
export function xmlText(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}
function xmlAttr(s: string): string {
  return xmlText(s).replaceAll('"', "&quot;").replaceAll("\n", "&#10;").replaceAll("\r", "&#13;").replaceAll("\t", "&#09;");
}

/**
 * Python's json.dumps (", " and ": " separators, ensure_ascii): the bytes Swift's JSON listings
 * are. Made from JSON.stringify's indented form: its newlines are all structural (strings carry
 * theirs escaped), so dropping them with the indentation leaves exactly Python's separators;
 * then DEL and everything beyond ASCII become \uXXXX, one per UTF-16 unit, as ensure_ascii
 * writes them (JSON.stringify already escapes quotes, backslashes and control characters as
 * Python does).
 */
export function pyJson(v: unknown, sortKeys = false): string {
  const j = JSON.stringify(sortKeys ? sorted(v) : v, null, 1) as string | undefined;
  if (j === undefined) return "null";
  const out = j.replace(/,\n */g, ", ").replace(/\n */g, "");
  return PRINTABLE.test(out) ? out : out.replace(NOT_PRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A copy with every object's keys in sorted order (json.dumps' sort_keys). */
function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v === null || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sorted(o[k])]));
}

const PRINTABLE = /^[\x20-\x7e]*$/;
const NOT_PRINTABLE = /[^\x20-\x7e]/g;

/**
 * An account or container listing in the asked format, as listing_formats renders the JSON
 * the servers give: Python's JSON, ElementTree's XML, names one a line; an empty plain-text
 * one is 204.
 */
export function formatListing<T>(
  fmt: ListingFormat,
  kind: "account" | "container",
  name: string,
  items: readonly T[],
  headers: Record<string, string>,
  entry: (i: T) => Record<string, unknown>,
): SwiftResponse {
  const entries = items.map(entry);
  const h = { ...headers };
  if (fmt === "application/json") {
    return { status: 200, headers: { ...h, "content-type": "application/json; charset=utf-8" }, body: pyJson(entries) };
  }
  if (fmt === "application/xml" || fmt === "text/xml") {
    const parts: string[] = [`<?xml version="1.0" encoding="UTF-8"?>\n<${kind} name="${xmlAttr(name)}"`];
    if (kind === "container" && entries.length === 0) {
      parts.push(" />");
    } else {
      parts.push(">");
      if (kind === "account") parts.push("\n");
      for (const e of entries) {
        if ("subdir" in e) {
          const s = String(e["subdir"]);
          parts.push(kind === "account" ? `<subdir name="${xmlAttr(s)}" />` : `<subdir name="${xmlAttr(s)}"><name>${xmlText(s)}</name></subdir>`);
        } else {
          const tag = kind === "account" ? "container" : "object";
          const fields = kind === "account" ? ["name", "count", "bytes", "last_modified"] : ["name", "hash", "bytes", "content_type", "last_modified"];
          parts.push(`<${tag}>${fields.map((f) => `<${f}>${xmlText(String(e[f]))}</${f}>`).join("")}</${tag}>`);
        }
        if (kind === "account") parts.push("\n");
      }
      parts.push(`</${kind}>`);
    }
    return { status: 200, headers: { ...h, "content-type": `${fmt}; charset=utf-8` }, body: parts.join("") };
  }
  const text = entries.map((e) => `${String(e["name"] ?? e["subdir"])}\n`).join("");
  if (text === "") return { status: 204, headers: { ...h, "content-type": "text/plain; charset=utf-8", "content-length": "0" }, body: "" };
  return { status: 200, headers: { ...h, "content-type": "text/plain; charset=utf-8" }, body: text };
}
