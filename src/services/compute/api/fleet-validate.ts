import { BadRequest } from "../../../common/errors.js";
import { invalidField, isObject, pyRepr, pyStr } from "../../../common/jsonschema-messages.js";
export { invalidField, isObject, pyRepr } from "../../../common/jsonschema-messages.js";

/**
 * Request checks of the fleet APIs, worded as Nova's jsonschema validation words them
 * (nova/api/validation/validators.py: "Invalid input for field/attribute X. Value: Y. Z").
 */

export function invalidQuery(param: string, value: unknown, message: string): BadRequest {
  return new BadRequest(`Invalid input for query parameters ${param}. Value: ${pyStr(value)}. ${message}`);
}

/** The body must be an object whose only property is `key`, itself an object. */
export function envelope(body: unknown, key: string, extraAllowed: string[] = []): Record<string, unknown> {
  if (!isObject(body)) throw new BadRequest(`${pyRepr(body)} is not of type 'object'`);
  if (!(key in body)) throw new BadRequest(`'${key}' is a required property`);
  noAdditional(body, [key, ...extraAllowed], undefined);
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

/**
 * An integer given as a JSON integer or a digit string (parameter_types volume_size,
 * non_negative_integer…), bounded like Nova's _validate_minimum/_validate_maximum.
 */
export function intField(field: string, v: unknown, min: number, max = 0x7fffffff, pattern = "^[0-9]+$"): number {
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw invalidField(field, v, `${pyRepr(v)} is not of type 'integer', 'string'`);
  } else if (typeof v === "string") {
    if (!new RegExp(pattern).test(v) || v === "") throw invalidField(field, v, `${pyRepr(v)} does not match '${pattern}'`);
  } else {
    throw invalidField(field, v, `${pyRepr(v)} is not of type 'integer', 'string'`);
  }
  const n = Number(v);
  if (n < min) throw invalidField(field, v, `${pyRepr(v)} is less than the minimum of ${min}`);
  if (n > max) throw invalidField(field, v, `${pyRepr(v)} is greater than the maximum of ${max}`);
  return n;
}

const TRUE = ["True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"];
const FALSE = ["False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"];

/** parameter_types.boolean: JSON booleans or the oslo strings. */
export function boolField(field: string, v: unknown): boolean {
  if (v === true || v === false) return v;
  if (typeof v === "string" && TRUE.includes(v)) return true;
  if (typeof v === "string" && FALSE.includes(v)) return false;
  throw invalidField(field, v, `${pyRepr(v)} is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']`);
}

/** oslo strutils.bool_from_string(strict=True) for query strings; undefined when not a boolean word. */
export function parseBool(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (["1", "t", "true", "on", "y", "yes"].includes(s)) return true;
  if (["0", "f", "false", "off", "n", "no"].includes(s)) return false;
  return undefined;
}

// Printable characters (no control / separator categories other than the ASCII space).
const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]*$/u;
const WS = /\s/u;

/** parameter_types.name: 1–255 printable characters, no leading or trailing whitespace. */
export function nameField(field: string, v: unknown, opts: { noColon?: boolean; allowEdgeSpaces?: boolean } = {}): string {
  if (typeof v !== "string") throw invalidField(field, v, `${pyRepr(v)} is not of type 'string'`);
  if (v.length < 1) throw invalidField(field, v, `${pyRepr(v)} is too short`);
  if (v.length > 255) throw invalidField(field, v, `${pyRepr(v)} is too long`);
  const edge = !opts.allowEdgeSpaces && (WS.test(v[0]!) || WS.test(v[v.length - 1]!));
  const bad = !PRINTABLE.test(v) || (opts.noColon === true && v.includes(":")) || edge || v.trim() === "";
  if (bad) {
    const what = opts.noColon ? "printable characters except :.Can not start or end with whitespace." : "printable characters. Can not start or end with whitespace.";
    throw new BadRequest(`An invalid 'name' value was provided. The name must be: ${what}`);
  }
  return v;
}

/** A free text of printable characters (valid_description_regex) up to `max`, or null. */
export function descriptionField(field: string, v: unknown, max = 65535): string | null {
  if (v === null) return null;
  if (typeof v !== "string") throw invalidField(field, v, `${pyRepr(v)} is not of type 'string', 'null'`);
  if (v.length > max) throw invalidField(field, v, `${pyRepr(v)} is too long`);
  if (!PRINTABLE.test(v)) throw invalidField(field, v, `${pyRepr(v)} does not match the valid description pattern`);
  return v;
}

/** A query parameter given once (Nova reads the first of repeated ones for most). */
export function limitParam(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v)) throw invalidQuery("limit", v, `'${v}' does not match '^[0-9]*$'`);
  return Number(v);
}
