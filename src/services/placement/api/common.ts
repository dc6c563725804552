import { Ajv } from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";
import type { Reply, RequestContext, Route } from "../../../http/context.js";
import { PlacementError, badRequest, tagVersion } from "../errors.js";

/** oslo's is_uuid_like: 32 hex digits once urn:/uuid: prefixes, braces and dashes are gone. */
export function isUuidLike(v: string): boolean {
  const s = v.replace("urn:", "").replace("uuid:", "").replace(/^\{+|\}+$/g, "").replaceAll("-", "").toLowerCase();
  return /^[0-9a-f]{32}$/.test(s);
}

/** str(uuid.UUID(v)): the canonical dashed lowercase form. */
export function canonicalUuid(v: string): string {
  const s = v.replace("urn:", "").replace("uuid:", "").replace(/^\{+|\}+$/g, "").replaceAll("-", "").toLowerCase();
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const ajv = new Ajv({ allErrors: false, strict: false, verbose: true, formats: { uuid: isUuidLike } });
const compiled = new WeakMap<object, ValidateFunction>();

/** A value as Python's repr shows it in jsonschema messages. */
function pyRepr(v: unknown): string {
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") return `'${v.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (typeof v === "object") return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ")}}`;
  return String(v);
}

/** jsonschema's wording of the first failure. */
function describe(e: ErrorObject): string {
  const d = e.data;
  switch (e.keyword) {
    case "required":
      return `${pyRepr(e.params["missingProperty"])} is a required property`;
    case "additionalProperties":
      return `Additional properties are not allowed (${pyRepr(e.params["additionalProperty"])} was unexpected)`;
    case "type": {
      const t = e.params["type"];
      const types = Array.isArray(t) ? t : String(t).split(",");
      return `${pyRepr(d)} is not of type ${types.map((x) => pyRepr(x)).join(", ")}`;
    }
    case "minimum":
      return `${pyRepr(d)} is less than the minimum of ${String(e.params["limit"])}`;
    case "maximum":
      return `${pyRepr(d)} is greater than the maximum of ${String(e.params["limit"])}`;
    case "minLength":
      return `${pyRepr(d)} is too short`;
    case "maxLength":
      return `${pyRepr(d)} is too long`;
    case "pattern":
      return `${pyRepr(d)} does not match ${pyRepr(e.params["pattern"])}`;
    case "format":
      return `${pyRepr(d)} is not a ${pyRepr(e.params["format"])}`;
    case "minProperties":
      return `${pyRepr(d)} does not have enough properties`;
    case "minItems":
      return `${pyRepr(d)} is too short`;
    case "enum":
      return `${pyRepr(d)} is not one of ${pyRepr(e.params["allowedValues"])}`;
    case "uniqueItems":
      return `${pyRepr(d)} has non-unique elements`;
    case "anyOf":
      return `${pyRepr(d)} is not valid under any of the given schemas`;
    default:
      return e.message ?? "is invalid";
  }
}

function validator(schema: object): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** util.extract_json: the body must be JSON (the kernel parsed it) and validate. */
export function extractJson<T>(ctx: RequestContext, schema: object): T {
  const body = ctx.body;
  if (body === undefined || typeof body === "string") {
    throw badRequest(`Malformed JSON: Expecting value: line 1 column 1 (char 0)`);
  }
  const v = validator(schema);
  if (!v(body)) throw badRequest(`JSON does not validate: ${v.errors?.[0] ? describe(v.errors[0]) : "invalid"}`);
  return body as T;
}

/** Validate a plain value (the trait name of PUT /traits/{name}) against a schema. */
export function validates(schema: object, value: unknown): boolean {
  return validator(schema)(value);
}

/** The query as webob's dict(req.GET) sees it: the last value of a repeated key. */
export function lastValues(ctx: RequestContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.query)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? (v[v.length - 1] ?? "") : v;
  }
  return out;
}

/** Every value of a query key, in order. */
export function allValues(ctx: RequestContext, key: string): string[] {
  const v = ctx.query[key];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** util.validate_query_params. */
export function validateQuery(ctx: RequestContext, schema: object): Record<string, string> {
  const q = lastValues(ctx);
  const v = validator(schema);
  if (!v(q)) throw badRequest(`Invalid query string parameters: ${v.errors?.[0] ? describe(v.errors[0]) : "invalid"}`);
  return q;
}

/** util.check_accept: an explicit Accept must allow application/json. */
export function checkAccept(ctx: RequestContext): void {
  const accept = ctx.header("accept");
  if (!accept || !accept.trim()) return;
  const ok = accept.split(",").some((part) => {
    const [type, ...params] = part.trim().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (q && Number(q.slice(2)) === 0) return false;
    const t = (type ?? "").trim().toLowerCase();
    return t === "*/*" || t === "application/*" || t === "application/json";
  });
  if (!ok) throw new PlacementError(406, "Only application/json is provided");
}

/** util.require_content: POST/PUT bodies must be application/json. */
export function requireJson(ctx: RequestContext): void {
  const ct = (ctx.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (ct !== "application/json") {
    throw new PlacementError(415, `The media type ${ct || "None"} is not supported, use application/json`);
  }
}

/** last-modified and cache-control from 1.15. */
export function cacheHeaders(ctx: RequestContext, lastModified?: string | Date): Record<string, string> {
  if (!ctx.version?.atLeast("1.15")) return {};
  const d = lastModified ? new Date(lastModified) : new Date();
  return { "cache-control": "no-cache", "last-modified": d.toUTCString() };
}

export const json = (ctx: RequestContext, body: unknown, status = 200, lastModified?: string | Date, extra: Record<string, string> = {}): Reply => ({
  status,
  body,
  headers: { ...cacheHeaders(ctx, lastModified), ...extra },
});

export const noContent = (extra: Record<string, string> = {}): Reply => ({ status: 204, headers: extra });

/**
 * Every Placement handler: errors carry the negotiated version (the fault renderer shows `code`
 * from 1.23 and echoes the version header), and a route younger than the requested version is
 * a 404 answered here rather than by the kernel, so that it carries them too.
 */
export function route(r: Route): Route {
  const { handler: inner, minVersion, maxVersion, ...rest } = r;
  return {
    ...rest,
    handler: async (ctx) => {
      try {
        if (ctx.version && !ctx.version.within(minVersion, maxVersion)) throw new PlacementError(404, "The resource could not be found.");
        return await inner(ctx);
      } catch (e) {
        tagVersion(e, ctx.version);
        throw e;
      }
    },
  };
}

export const v = (ctx: RequestContext, min: string): boolean => ctx.version?.atLeast(min) ?? false;
