import { Ajv } from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";

const ajv = new Ajv({ allErrors: false, strict: false, verbose: true });
const compiled = new WeakMap<object, ValidateFunction>();

/** Python's repr of a JSON value, as jsonschema quotes instances in its messages. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") return `'${v.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ")}}`;
}

function message(e: ErrorObject): string {
  const inst = pyRepr(e.data);
  switch (e.keyword) {
    case "type": {
      const t = e.params["type"];
      const types = Array.isArray(t) ? t : String(t).split(",");
      return `${inst} is not of type ${types.map((x) => `'${x}'`).join(", ")}`;
    }
    case "enum":
      return `${inst} is not one of ${pyRepr(e.params["allowedValues"])}`;
    case "maxLength":
      return `${inst} is too long`;
    case "minLength":
      return `${inst} is too short`;
    case "pattern":
      return `${inst} does not match ${pyRepr(e.params["pattern"])}`;
    case "required":
      return `${pyRepr(e.params["missingProperty"])} is a required property`;
    case "additionalProperties":
      return `Additional properties are not allowed (${pyRepr(e.params["additionalProperty"])} was unexpected)`;
    case "minimum":
      return `${inst} is less than the minimum of ${String(e.params["limit"])}`;
    case "maximum":
      return `${inst} is greater than the maximum of ${String(e.params["limit"])}`;
    default:
      return `${inst} ${e.message ?? "is invalid"}`;
  }
}

/** jsonschema's first error message for obj against schema, or undefined when valid. */
export function schemaError(schema: Record<string, unknown>, obj: unknown): string | undefined {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  if (fn(obj)) return undefined;
  const e = fn.errors?.[0];
  return e ? message(e) : "invalid";
}
