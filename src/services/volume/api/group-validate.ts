import { BadRequest } from "../../../common/errors.js";
import { isObject, pyRepr, pyStr } from "../../../common/jsonschema-messages.js";
export { isObject, pyRepr, pyStr } from "../../../common/jsonschema-messages.js";

/**
 * The request checks of the group APIs, worded as Cinder's jsonschema validation words them
 * (cinder/api/validation/validators.py): an error under a property reads "Invalid input for
 * field/attribute <last path element>. Value: <str(value)>. <jsonschema message>"; an error
 * at the body's root is the bare jsonschema message. Checks run in the order jsonschema
 * visits the schema's keywords (type, properties in declaration order, required/anyOf/oneOf,
 * additionalProperties), so the first failure reported is the one Cinder reports.
 */

/** An error found at `path` (the property's name or array index), or at the root when undefined. */
export function fail(path: string | number | undefined, value: unknown, message: string): BadRequest {
  if (path === undefined) return new BadRequest(message);
  return new BadRequest(`Invalid input for field/attribute ${path}. Value: ${pyStr(value)}. ${message}`);
}

type JsonType = "object" | "string" | "null" | "array" | "boolean" | "integer";

function typeOk(v: unknown, t: JsonType): boolean {
  switch (t) {
    case "object":
      return isObject(v);
    case "string":
      return typeof v === "string";
    case "null":
      return v === null;
    case "array":
      return Array.isArray(v);
    case "boolean":
      return typeof v === "boolean";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
  }
}

export function checkType(path: string | number | undefined, v: unknown, types: JsonType[]): void {
  if (types.some((t) => typeOk(v, t))) return;
  throw fail(path, v, `${pyRepr(v)} is not of type ${types.map((t) => `'${t}'`).join(", ")}`);
}

/** The root of a request body: an object. */
export function root(body: unknown): Record<string, unknown> {
  checkType(undefined, body === undefined ? null : body, ["object"]);
  return body as Record<string, unknown>;
}

export function requireKeys(path: string | undefined, obj: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of keys) if (!(k in obj)) throw fail(path, obj, `'${k}' is a required property`);
}

/** additionalProperties: False (with patternProperties, keys matching a pattern are allowed). */
export function noExtra(path: string | undefined, obj: Record<string, unknown>, allowed: readonly string[], pattern?: RegExp): void {
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k) && !(pattern && pattern.test(k)));
  if (extra.length === 0) return;
  throw fail(path, obj, `Additional properties are not allowed (${extra.map(pyRepr).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`);
}

function length(s: string): number {
  // jsonschema counts code points.
  return [...s].length;
}

export function minLength(path: string | number, v: string, n: number): void {
  if (length(v) < n) throw fail(path, v, `${pyRepr(v)} is too short`);
}

export function maxLength(path: string | number, v: string, n: number): void {
  if (length(v) > n) throw fail(path, v, `${pyRepr(v)} is too long`);
}

// valid_description_regex: printable characters (no "other" category, spaces only Zs).
const PRINTABLE = /^[^\p{C}\p{Zl}\p{Zp}]*$/u;

/** parameter_types.description: string or null, ≤255, printable. */
export function description(path: string, v: unknown): string | null {
  checkType(path, v, ["string", "null"]);
  if (v === null) return null;
  const s = v as string;
  maxLength(path, s, 255);
  if (!PRINTABLE.test(s)) throw fail(path, s, `${pyRepr(s)} does not match the valid description pattern`);
  return s;
}

/** parameter_types.name_allow_zero_min_length: string or null, ≤255. */
export function nameAllowEmpty(path: string, v: unknown): string | null {
  checkType(path, v, ["string", "null"]);
  if (v === null) return null;
  maxLength(path, v as string, 255);
  return v as string;
}

/** parameter_types.name: 1–255 characters, format "name" (not blank). */
export function name(path: string, v: unknown): string {
  checkType(path, v, ["string"]);
  const s = v as string;
  minLength(path, s, 1);
  maxLength(path, s, 255);
  if (s.trim().length === 0) throw new BadRequest("An invalid 'name' value was provided. The 'name' can not be empty.");
  return s;
}

const BOOL_ENUM: ReadonlyArray<string | boolean> = [
  true, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y", "t",
  false, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no", "n", "f",
];

/** parameter_types.boolean, read as oslo's bool_from_string. */
export function boolean(path: string, v: unknown): boolean {
  checkType(path, v, ["boolean", "string"]);
  if (!BOOL_ENUM.includes(v as string | boolean)) throw fail(path, v, `${pyRepr(v)} is not one of ${pyRepr(BOOL_ENUM)}`);
  if (typeof v === "boolean") return v;
  return ["true", "1", "on", "yes", "y", "t"].includes((v as string).toLowerCase());
}

/** oslo uuidutils.is_uuid_like. */
export function isUuidLike(v: string): boolean {
  const s = v.toLowerCase().replace(/^urn:/, "").replace(/^uuid:/, "").replace(/[{}]/g, "").replaceAll("-", "");
  return /^[0-9a-f]{32}$/.test(s);
}

/** parameter_types.uuid: a string of format uuid. */
export function uuidField(path: string, v: unknown): string {
  checkType(path, v, ["string"]);
  if (!isUuidLike(v as string)) throw fail(path, v, `${pyRepr(v)} is not a 'uuid'`);
  return v as string;
}

/**
 * A key/value map (metadata_allows_null, group_specs): `keyPattern` names the keys allowed,
 * values are strings (or null when `nullValues`) of at most 255 characters.
 */
export function specs(path: string | undefined, v: unknown, opts: { keyPattern: RegExp; nullValues: boolean; allowNull?: boolean }): Record<string, string | null> | null {
  checkType(path, v, opts.allowNull ? ["object", "null"] : ["object"]);
  if (v === null) return null;
  const obj = v as Record<string, unknown>;
  for (const [k, x] of Object.entries(obj)) {
    if (!opts.keyPattern.test(k)) continue;
    checkType(k, x, opts.nullValues ? ["string", "null"] : ["string"]);
    if (typeof x === "string") maxLength(k, x, 255);
  }
  noExtra(path, obj, [], opts.keyPattern);
  return obj as Record<string, string | null>;
}

/** The "not valid under any of the given schemas" of anyOf/oneOf. */
export function noneOf(path: string | undefined, v: unknown): BadRequest {
  return fail(path, v, `${pyRepr(v)} is not valid under any of the given schemas`);
}
