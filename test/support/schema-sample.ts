import { unique } from "./cloud.js";

/** A JSON Schema node, as the generated suites walk it. */
export type Schema = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A value the schema accepts (best effort; checked with Ajv by the caller). */
export function sample(s: Schema | undefined, key = ""): unknown {
  if (!s) return "x";
  if (s["const"] !== undefined) return s["const"];
  if (Array.isArray(s["enum"])) return s["enum"][0];
  const alts = (s["anyOf"] ?? s["oneOf"]) as Schema[] | undefined;
  if (alts) return sample(alts.find((a) => a["type"] !== "null") ?? alts[0], key);
  switch (s["type"]) {
    case "object": {
      const o: Record<string, unknown> = {};
      const props = (s["properties"] ?? {}) as Record<string, Schema>;
      for (const k of (s["required"] ?? []) as string[]) o[k] = sample(props[k], k);
      const min = (s["minProperties"] as number | undefined) ?? 0;
      for (const k of Object.keys(props)) {
        if (Object.keys(o).length >= min) break;
        if (!(k in o)) o[k] = sample(props[k], k);
      }
      return o;
    }
    case "string": {
      if (/url/i.test(key) || String(s["pattern"] ?? "").includes(":")) return "http://example.com/x";
      if (s["format"] === "date-time") return new Date(Date.now() + 86400000).toISOString();
      const v = unique("v");
      const max = (s["maxLength"] as number | undefined) ?? 255;
      return v.length > max ? "x".repeat(Math.max(1, (s["minLength"] as number | undefined) ?? 1)) : v;
    }
    case "boolean":
      return true;
    case "integer":
    case "number":
      return (s["minimum"] as number | undefined) ?? 1;
    case "array":
      return ((s["minItems"] as number | undefined) ?? 0) > 0 ? [sample(s["items"] as Schema, key)] : [];
    case "null":
      return null;
    default:
      return "x";
  }
}
