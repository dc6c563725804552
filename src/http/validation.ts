import { Ajv } from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";
import { BadRequest } from "../common/errors.js";

/**
 * JSON Schema validation shared by the kernel (route body/query schemas) and by handlers
 * that must validate later, after policy (Keystone's lazy_validate). Failures are worded as
 * Keystone words them: "Invalid input for field 'x': …".
 */
// verbose: errors carry the offending value, which jsonschema-style messages quote.
const ajv = new Ajv({ allErrors: false, strict: false, coerceTypes: false, useDefaults: false, verbose: true });

function describe(err: ErrorObject): string {
  // Keystone joins the path with "/" (identity/methods).
  const path = err.instancePath.replace(/^\//, "");
  let msg = err.message ?? "is invalid";
  if (err.keyword === "additionalProperties") {
    msg = `Additional properties are not allowed ('${String(err.params["additionalProperty"])}' was unexpected)`;
  } else if (err.keyword === "required") {
    msg = `'${String(err.params["missingProperty"])}' is a required property`;
  } else if (err.keyword === "type") {
    const shown = JSON.stringify(err.data) ?? String(err.data);
    msg = `${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown} is not of type '${String(err.params["type"])}'`;
  } else if (err.keyword === "minLength") {
    msg = `is too short`;
  } else if (err.keyword === "maxLength") {
    msg = `is too long`;
  }
  return path ? `Invalid input for field '${path}': ${msg}` : msg;
}

export type Validator = ValidateFunction;

export function compileSchema(schema: unknown): Validator {
  return ajv.compile(schema as object);
}

/** Throw a 400 describing the first failure. */
export function validateOrThrow(fn: Validator | undefined, value: unknown, what: string): void {
  if (!fn) return;
  if (!fn(value)) {
    const e = fn.errors?.[0];
    throw new BadRequest(e ? describe(e) : `Invalid ${what}.`);
  }
}
