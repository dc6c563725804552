import { Type } from "@sinclair/typebox";
import type { TObject, TSchema } from "@sinclair/typebox";

/** Keystone's parameter types (keystone/common/validation/parameter_types.py, by behaviour). */
export const name = Type.String({ minLength: 1, maxLength: 255, pattern: "\\S" });
export const projectName = Type.String({ minLength: 1, maxLength: 64, pattern: "\\S" });
export const idString = Type.String({ minLength: 1, maxLength: 64, pattern: "^[a-zA-Z0-9-_]+$" });
export const nullableId = Type.Union([idString, Type.Null()]);
export const description = Type.Union([Type.String(), Type.Null()]);
export const enabled = Type.Boolean();
export const url = Type.String({ minLength: 1, maxLength: 225, pattern: "^[a-zA-Z0-9+.-]+:.+" });
/** A project tag: no '/' or ',' and at most 255 characters. */
export const tag = Type.String({ minLength: 1, maxLength: 255, pattern: "^[^,/]*$" });
export const tags = Type.Array(tag, { maxItems: 80, uniqueItems: true });
export const options = Type.Object({}, { additionalProperties: true });

/** Wrap an entity schema under its key: {"project": {...}}. */
export function wrap<K extends string>(key: K, inner: TObject) {
  return Type.Object({ [key]: inner } as Record<K, typeof inner>, { required: [key] as never, additionalProperties: true });
}

/**
 * An object schema whose properties are optional except those named in `required`
 * (TypeBox would otherwise require every property). Extra properties are allowed unless
 * opts says otherwise, as Keystone's schemas mostly allow them.
 */
export function fields(
  props: Record<string, TSchema>,
  required: readonly string[] = [],
  opts: Record<string, unknown> = {},
): TObject {
  const p: Record<string, TSchema> = {};
  for (const [k, v] of Object.entries(props)) p[k] = required.includes(k) ? v : Type.Optional(v);
  return Type.Object(p, { additionalProperties: true, ...opts });
}
