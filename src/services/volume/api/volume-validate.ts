import { BadRequest, CloudError } from "../../../common/errors.js";
import { isObject, pyRepr, pyStr } from "../../../common/jsonschema-messages.js";
export { isObject, pyRepr, pyStr } from "../../../common/jsonschema-messages.js";

/**
 * A small Draft 4 JSON Schema validator that words its failures as Cinder does
 * (cinder/api/validation/validators.py over python-jsonschema): the first error in schema
 * order, "Invalid input for field/attribute <last path element>. Value: <str(value)>.
 * <jsonschema message>" when the error is below the top, the bare message otherwise. Format
 * checkers may throw a CloudError of their own, which Cinder lets through unchanged (its
 * format checkers raise InvalidInput / InvalidParameterValue / InvalidName).
 */
export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean;
  required?: string[];
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  oneOf?: Schema[];
  anyOf?: Schema[];
  format?: string;
  minProperties?: number;
  maxProperties?: number;
}

/** Custom format checkers: return false for "'x' is not a 'fmt'", or throw a CloudError. */
export type FormatChecker = (value: unknown) => boolean;

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** oslo's is_uuid_like: a uuid with or without dashes (and braces/urn forms, rare). */
export function isUuidLike(v: unknown): boolean {
  return typeof v === "string" && UUID_RE.test(v.replace(/^urn:uuid:/i, "").replace(/^\{(.*)\}$/, "$1"));
}

/** oslo strutils.check_string_length as Cinder's validators call it (InvalidInput). */
function checkLength(value: string, name: string, min: number, max: number): void {
  if (value.length < min) throw new BadRequest(`Invalid input received: ${name} has ${value.length} characters, less than ${min}.`);
  if (value.length > max) throw new BadRequest(`Invalid input received: ${name} has ${value.length} characters, more than ${max}.`);
}

const FORMATS: Record<string, FormatChecker> = {
  uuid: (v) => isUuidLike(v),
  name_non_mandatory_remove_white_spaces: (v) => {
    if (typeof v === "string" && v) checkLength(v.trim(), "name", 0, 255);
    return true;
  },
  description_non_mandatory_remove_white_spaces: (v) => {
    if (typeof v === "string" && v) checkLength(v.trim(), "description", 0, 255);
    return true;
  },
};

class SchemaError {
  constructor(
    readonly path: Array<string | number>,
    readonly instance: unknown,
    readonly message: string,
  ) {}
}

function isType(v: unknown, t: string): boolean {
  switch (t) {
    case "object":
      return isObject(v);
    case "array":
      return Array.isArray(v);
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    case "null":
      return v === null;
    default:
      return true;
  }
}

/** The Python "%r" of a value inside a list (enum messages). */
function enumRepr(list: unknown[]): string {
  return `[${list.map(pyRepr).join(", ")}]`;
}

/** Cinder's _number_from_str: minimum/maximum also apply to numeric strings. */
function numberFromStr(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  const s = v.trim();
  if (/^[-+]?\d+$/.test(s) || /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  return undefined;
}

function* check(v: unknown, s: Schema, path: Array<string | number>, formats: Record<string, FormatChecker>): Generator<SchemaError> {
  // python-jsonschema walks the schema's keywords in the order they are written; Cinder's
  // schemas put type first, then properties, required, additionalProperties.
  for (const key of Object.keys(s)) {
    switch (key) {
      case "type": {
        const types = Array.isArray(s.type) ? s.type : [s.type!];
        if (!types.some((t) => isType(v, t))) {
          yield new SchemaError(path, v, `${pyRepr(v)} is not of type ${types.map((t) => `'${t}'`).join(", ")}`);
          return;
        }
        break;
      }
      case "properties":
        if (isObject(v)) {
          for (const [p, sub] of Object.entries(s.properties!)) {
            if (p in v) {
              const errs = [...check(v[p], sub, [...path, p], formats)];
              if (errs.length) {
                yield errs[0]!;
                return;
              }
            }
          }
        }
        break;
      case "patternProperties":
        if (isObject(v)) {
          for (const [pat, sub] of Object.entries(s.patternProperties!)) {
            const re = new RegExp(pat, "u");
            for (const [k, x] of Object.entries(v)) {
              if (!re.test(k)) continue;
              const errs = [...check(x, sub, [...path, k], formats)];
              if (errs.length) {
                yield errs[0]!;
                return;
              }
            }
          }
        }
        break;
      case "required":
        if (isObject(v)) {
          for (const r of s.required!) {
            if (!(r in v)) {
              yield new SchemaError(path, v, `'${r}' is a required property`);
              return;
            }
          }
        }
        break;
      case "additionalProperties":
        if (isObject(v) && s.additionalProperties === false) {
          const props = Object.keys(s.properties ?? {});
          const pats = Object.keys(s.patternProperties ?? {}).map((p) => new RegExp(p, "u"));
          const extras = Object.keys(v)
            .filter((k) => !props.includes(k) && !pats.some((re) => re.test(k)))
            .sort();
          if (extras.length) {
            if (s.patternProperties) {
              const pl = Object.keys(s.patternProperties).sort().map(pyRepr).join(", ");
              yield new SchemaError(path, v, `${extras.map(pyRepr).join(", ")} ${extras.length === 1 ? "does" : "do"} not match any of the regexes: ${pl}`);
            } else {
              yield new SchemaError(path, v, `Additional properties are not allowed (${extras.map(pyRepr).join(", ")} ${extras.length === 1 ? "was" : "were"} unexpected)`);
            }
            return;
          }
        }
        break;
      case "minProperties":
        if (isObject(v) && Object.keys(v).length < s.minProperties!) {
          yield new SchemaError(path, v, `${pyRepr(v)} does not have enough properties`);
          return;
        }
        break;
      case "maxProperties":
        if (isObject(v) && Object.keys(v).length > s.maxProperties!) {
          yield new SchemaError(path, v, `${pyRepr(v)} has too many properties`);
          return;
        }
        break;
      case "enum":
        if (!s.enum!.some((e) => e === v)) {
          yield new SchemaError(path, v, `${pyRepr(v)} is not one of ${enumRepr(s.enum!)}`);
          return;
        }
        break;
      case "minLength":
        if (typeof v === "string" && [...v].length < s.minLength!) {
          yield new SchemaError(path, v, `${pyRepr(v)} is too short`);
          return;
        }
        break;
      case "maxLength":
        if (typeof v === "string" && [...v].length > s.maxLength!) {
          yield new SchemaError(path, v, `${pyRepr(v)} is too long`);
          return;
        }
        break;
      case "pattern":
        if (typeof v === "string" && !new RegExp(s.pattern!, "u").test(v)) {
          yield new SchemaError(path, v, `${pyRepr(v)} does not match ${pyRepr(s.pattern)}`);
          return;
        }
        break;
      case "minimum": {
        const n = numberFromStr(v);
        if (n !== undefined && typeof v !== "boolean" && n < s.minimum!) {
          yield new SchemaError(path, v, `${pyRepr(typeof v === "string" ? n : v)} is less than the minimum of ${s.minimum}`);
          return;
        }
        break;
      }
      case "maximum": {
        const n = numberFromStr(v);
        if (n !== undefined && typeof v !== "boolean" && n > s.maximum!) {
          yield new SchemaError(path, v, `${pyRepr(typeof v === "string" ? n : v)} is greater than the maximum of ${s.maximum}`);
          return;
        }
        break;
      }
      case "oneOf": {
        const ok = s.oneOf!.filter((sub) => [...check(v, sub, path, formats)].length === 0).length;
        if (ok !== 1) {
          yield new SchemaError(path, v, ok === 0 ? `${pyRepr(v)} is not valid under any of the given schemas` : `${pyRepr(v)} is valid under each of the given schemas`);
          return;
        }
        break;
      }
      case "anyOf":
        if (!s.anyOf!.some((sub) => [...check(v, sub, path, formats)].length === 0)) {
          yield new SchemaError(path, v, `${pyRepr(v)} is not valid under any of the given schemas`);
          return;
        }
        break;
      case "format": {
        const f = formats[s.format!] ?? FORMATS[s.format!];
        // Formats check only the types they know (uuid: strings).
        if (f && (s.format !== "uuid" || typeof v === "string") && !f(v)) {
          yield new SchemaError(path, v, `${pyRepr(v)} is not a ${pyRepr(s.format)}`);
          return;
        }
        break;
      }
    }
  }
}

/** Validate `value` against `schema`, throwing Cinder's 400 for the first failure. */
export function validate(value: unknown, schema: Schema, formats: Record<string, FormatChecker> = {}): void {
  let first: SchemaError | undefined;
  try {
    for (const e of check(value, schema, [], formats)) {
      first = e;
      break;
    }
  } catch (e) {
    if (e instanceof CloudError) throw e;
    throw e;
  }
  if (!first) return;
  if (first.path.length > 0) {
    const field = String(first.path[first.path.length - 1]);
    throw new BadRequest(`Invalid input for field/attribute ${field}. Value: ${pyStr(first.instance)}. ${first.message}`);
  }
  throw new BadRequest(first.message);
}

// parameter_types.py
export const BOOLEAN: Schema = {
  type: ["boolean", "string"],
  enum: [true, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y", "t", false, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no", "n", "f"],
};
export const OPTIONAL_BOOLEAN: Schema = { oneOf: [{ type: "null" }, BOOLEAN] };
export const OPTIONAL_UUID: Schema = { oneOf: [{ type: "null" }, { type: "string", format: "uuid" }] };
export const UUID: Schema = { type: "string", format: "uuid" };
export const DB_MAX_INT = 0x7fffffff;
export const VOLUME_SIZE: Schema = { type: ["integer", "string"], pattern: "^[0-9]+$", minimum: 1, maximum: DB_MAX_INT };
const META_KEY = "^[a-zA-Z0-9-_:. /]{1,255}$";
export const EXTRA_SPECS: Schema = { type: "object", patternProperties: { [META_KEY]: { type: "string", maxLength: 255 } }, additionalProperties: false };
export const METADATA_ALLOWS_NULL: Schema = { type: ["object", "null"], patternProperties: { [META_KEY]: { type: "string", maxLength: 255 } }, additionalProperties: false };

/** oslo strutils.bool_from_string(strict=True) over the values parameter_types.boolean admits. */
export function boolValue(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  return ["1", "t", "true", "on", "y", "yes"].includes(String(v).trim().toLowerCase());
}
