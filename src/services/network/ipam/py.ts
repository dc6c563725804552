/**
 * Python text helpers. Neutron builds many error messages with `'%s' % value`, and for
 * dicts and lists that prints Python's repr. Clients and Tempest sometimes match these
 * messages, so we print values the same way.
 */

/** repr() of a str: single quotes, or double quotes when the text has a ' and no ". */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = "";
  for (const ch of s) {
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch < " " || ch === "\x7f") out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return quote + out + quote;
}

/** repr() of a JSON-like value: None/True/False, 'str', [list], {'dict': ...}. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "string") return pyStrRepr(v);
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (v instanceof Set) return v.size === 0 ? "set()" : `{${[...v].map(pyRepr).join(", ")}}`;
  if (typeof v === "object") {
    return `{${Object.entries(v).map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`).join(", ")}}`;
  }
  return String(v);
}

/** str(): a string as is, anything else as its repr. */
export const pyStr = (v: unknown): string => (typeof v === "string" ? v : pyRepr(v));

/** Python's re `\s` on str: Unicode whitespace plus the \x1c-\x1f separators. */
export const hasWhitespace = (s: string): boolean => /[\s\x1c-\x1f]/u.test(s);

/**
 * int(text) for base 10: optional surrounding whitespace and sign, ASCII digits, single
 * underscores between digits ("1_0" is 10). Python also takes non-ASCII decimal digits; we
 * don't, as no client sends them.
 */
export function pyInt(text: string): bigint | undefined {
  const m = /^[\s\x1c-\x1f]*([+-]?)([0-9]+(?:_[0-9]+)*)[\s\x1c-\x1f]*$/u.exec(text);
  if (!m) return undefined;
  const n = BigInt((m[2] ?? "").replaceAll("_", ""));
  return m[1] === "-" ? -n : n;
}
