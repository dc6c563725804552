import { BadRequest } from "./errors.js";

/**
 * The pieces of jsonschema's messages that Nova's and Cinder's validators (api/validation/
 * validators.py) put in their 400s: "Invalid input for field/attribute X. Value: Y. Z", with
 * instances quoted as Python's repr.
 */

/** Python's repr of a JSON value (str quoting as Python picks it: '…', or "…" when the text holds ' but not "). */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") {
    const q = v.includes("'") && !v.includes('"') ? '"' : "'";
    const body = v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll("\t", "\\t").replaceAll("\r", "\\r");
    return q + (q === "'" ? body.replaceAll("'", "\\'") : body) + q;
  }
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
    .join(", ")}}`;
}

/** Python's str of a value (the "Value: %s" part). */
export function pyStr(v: unknown): string {
  return typeof v === "string" ? v : pyRepr(v);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** "Invalid input for field/attribute <name>. Value: <value>. <jsonschema message>". */
export function invalidField(field: string, value: unknown, message: string): BadRequest {
  return new BadRequest(`Invalid input for field/attribute ${field}. Value: ${pyStr(value)}. ${message}`);
}
