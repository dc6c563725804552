import { BadRequest } from "../../../common/errors.js";
import { invalidField, isObject, pyRepr } from "../../../common/jsonschema-messages.js";
export { invalidField, isObject, pyRepr } from "../../../common/jsonschema-messages.js";

/**
 * Request checks of the catalog/admin APIs, worded as Cinder's jsonschema validation words
 * them (cinder/api/validation/validators.py: "Invalid input for field/attribute X. Value: Y. Z",
 * the bare message when the error is at the body's root).
 */

/** The body must be an object with `key` (an object); `extra`: other allowed top-level keys. */
export function envelope(body: unknown, key: string, opts: { extra?: string[]; additional?: boolean } = {}): Record<string, unknown> {
  if (!isObject(body)) throw new BadRequest(`${pyRepr(body ?? null)} is not of type 'object'`);
  if (!(key in body)) throw new BadRequest(`'${key}' is a required property`);
  if (!opts.additional) noAdditional(body, [key, ...(opts.extra ?? [])], undefined);
  const inner = body[key];
  if (!isObject(inner)) throw invalidField(key, inner, `${pyRepr(inner)} is not of type 'object'`);
  return inner;
}

export function noAdditional(obj: Record<string, unknown>, allowed: readonly string[], field: string | undefined): void {
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (extra.length === 0) return;
  const msg = `Additional properties are not allowed (${extra.map(pyRepr).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`;
  throw field === undefined ? new BadRequest(msg) : invalidField(field, obj, msg);
}

export function required(obj: Record<string, unknown>, keys: readonly string[], field: string): void {
  for (const k of keys) if (!(k in obj)) throw invalidField(field, obj, `'${k}' is a required property`);
}

const BOOL_TRUE = [true, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y", "t"];
const BOOL_FALSE = [false, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no", "n", "f"];

/** parameter_types.boolean: the enum of oslo's strict bool strings. */
export function boolField(field: string, v: unknown): boolean {
  if (typeof v !== "boolean" && typeof v !== "string") throw invalidField(field, v, `${pyRepr(v)} is not of type 'boolean', 'string'`);
  if (BOOL_TRUE.includes(v)) return true;
  if (BOOL_FALSE.includes(v)) return false;
  throw invalidField(field, v, `${pyRepr(v)} is not one of ${pyRepr([...BOOL_TRUE, ...BOOL_FALSE])}`);
}

/** parameter_types.name (format 'name'): a 1–255 string, not blank. */
export function nameField(field: string, v: unknown): string {
  if (typeof v !== "string") throw invalidField(field, v, `${pyRepr(v)} is not of type 'string'`);
  if (v.length > 255) throw invalidField(field, v, `${pyRepr(v)} is too long`);
  if (v.length === 0) throw new BadRequest("An invalid 'name' value was provided. The 'name' can not be None.");
  if (v.trim().length === 0) throw new BadRequest("An invalid 'name' value was provided. The 'name' can not be empty.");
  return v;
}

/** Cinder's valid_description_regex: printable characters (no controls, no line/paragraph separators). */
const PRINTABLE = /^[^\p{C}\p{Zl}\p{Zp}]*$/u;

/** parameter_types.description: string or null, at most 255, printable. */
export function descriptionField(field: string, v: unknown): string | null {
  if (v === null) return null;
  if (typeof v !== "string") throw invalidField(field, v, `${pyRepr(v)} is not of type 'string', 'null'`);
  if (v.length > 255) throw invalidField(field, v, `${pyRepr(v)} is too long`);
  if (!PRINTABLE.test(v)) throw invalidField(field, v, `${pyRepr(v)} does not match '^[...]*$'`);
  return v;
}

const SPEC_KEY = /^[a-zA-Z0-9-_:. /]{1,255}$/;

/**
 * parameter_types.extra_specs(_with_null): keys matching ^[a-zA-Z0-9-_:. /]{1,255}$, string
 * values ≤ 255 (null allowed when `nullable`), nothing else.
 */
export function extraSpecsField(field: string, v: unknown, nullable: boolean, keyPattern = SPEC_KEY): Record<string, string | null> {
  if (!isObject(v)) throw invalidField(field, v, `${pyRepr(v)} is not of type 'object'`);
  const bad = Object.keys(v).filter((k) => !keyPattern.test(k));
  if (bad.length) {
    throw invalidField(field, v, `Additional properties are not allowed (${bad.map(pyRepr).join(", ")} ${bad.length === 1 ? "was" : "were"} unexpected)`);
  }
  const out: Record<string, string | null> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === null && nullable) {
      out[k] = null;
      continue;
    }
    if (typeof x !== "string") throw invalidField(k, x, `${pyRepr(x)} is not of type ${nullable ? "'string', 'null'" : "'string'"}`);
    if (x.length > 255) throw invalidField(k, x, `${pyRepr(x)} is too long`);
    out[k] = x;
  }
  return out;
}

/** oslo strutils.validate_integer as Cinder's api_utils.validate_integer raises it (400). */
export function validateInteger(value: unknown, name: string, min?: number, max?: number): number {
  let n: number;
  if (typeof value === "number" && Number.isInteger(value)) n = value;
  else if (typeof value === "string" && /^\s*[-+]?\d+\s*$/.test(value)) n = Number(value.trim());
  else throw new BadRequest(`${name} must be an integer`);
  if (min !== undefined && n < min) throw new BadRequest(`${name} must be >= ${min}`);
  if (max !== undefined && n > max) throw new BadRequest(`${name} must be <= ${max}`);
  return n;
}

/** cinder/utils.py get_bool_param: oslo's strict boolean strings, else 400 "Value 'x' for 'name' is not a boolean.". */
export function strictBool(name: string, v: string): boolean {
  const s = v.trim().toLowerCase();
  if (["1", "t", "true", "on", "y", "yes"].includes(s)) return true;
  if (["0", "f", "false", "off", "n", "no"].includes(s)) return false;
  throw new BadRequest(`Value '${v}' for '${name}' is not a boolean.`);
}
