import { pyJson, xmlText } from "./listing.js";

/** The formats bulk and SLO answer in (their ACCEPTABLE_FORMATS). */
export const ACCEPTABLE_FORMATS = ["text/plain", "application/json", "application/xml", "text/xml"] as const;

/**
 * swob's Accept.best_match: the best of `options` for the Accept header (no header: the first),
 * undefined when none fits, "invalid" when the header does not parse (q as Python's float reads it).
 */
export function bestMatch(accept: string | undefined, options: readonly string[]): string | undefined | "invalid" {
  if (!accept) return options[0];
  const token = `[^()<>@,;:\\\\"/\\[\\]?={}\\x00-\\x20\\x7f]+`;
  const quoted = `"(?:[^"\\\\]|(?:\\\\.))*"`;
  const extension = `(?:\\s*;\\s*(?:${token})\\s*=\\s*(?:${token}|${quoted}))`;
  const acc = new RegExp(`^\\s*(${token})/(${token})(${extension}*?\\s*)$`);
  const types: Array<{ pattern: RegExp; q: number; exact: boolean }> = [];
  for (const part of accept.split(",")) {
    const m = acc.exec(part);
    if (!m) return "invalid";
    const [, typ = "", sub = "", parms = ""] = m;
    let q = 1;
    let seenQ = false;
    for (const p of parms.split(";").map((x) => x.trim()).filter((x) => x)) {
      const kv = p.split("=");
      if (kv.length !== 2) return "invalid";
      if (kv[0]!.trim() === "q") {
        if (seenQ) return "invalid";
        seenQ = true;
        const v = kv[1]!.trim();
        if (!/^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$/i.test(v)) return "invalid";
        q = /inf/i.test(v) ? (v.startsWith("-") ? -Infinity : Infinity) : /nan/i.test(v) ? NaN : Number(v);
      }
    }
    const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
    const pattern = new RegExp(`^${typ === "*" ? token : esc(typ)}/${sub === "*" ? token : esc(sub)}$`);
    types.push({ pattern, q, exact: typ !== "*" && sub !== "*" });
  }
  types.sort((a, b) => (b.q !== a.q ? (b.q > a.q ? 1 : -1) : Number(b.exact) - Number(a.exact)));
  if (types.length === 0) return options[0];
  for (const t of types) for (const o of options) if (t.pattern.test(o)) return o;
  return undefined;
}

/** get_response_body: plain text (sorted keys), JSON (the dict's order, then Errors) or XML. */
export function responseBody(format: string | undefined, data: Record<string, unknown>, errors: Array<[string, string]>, rootTag: string): string {
  if (format === "application/json") return pyJson({ ...data, Errors: errors });
  const keys = Object.keys(data).sort();
  if (format?.endsWith("/xml")) {
    let out = `<${rootTag}>\n`;
    for (const k of keys) {
      const x = k.replaceAll(" ", "_").toLowerCase();
      out += `<${x}>${xmlText(String(data[k]))}</${x}>\n`;
    }
    out += "<errors>\n";
    for (const [name, status] of errors) out += `<object><name>${xmlText(name)}</name><status>${xmlText(status)}</status></object>\n`;
    return `${out}</errors>\n</${rootTag}>\n`;
  }
  let out = "";
  for (const k of keys) out += `${k}: ${String(data[k])}\n`;
  out += "Errors:\n";
  for (const [name, status] of errors) out += `${name}, ${status}\n`;
  return out;
}
