import type { Validator } from "./resource.js";
import { pyRepr } from "./resource.js";

/**
 * neutron_lib's validators (api/validators/__init__.py), worded as it words them; they
 * return the reason a value is invalid, which the controller wraps as
 * "Invalid input for <attr>. Reason: <reason>."
 */
export const isString =
  (max?: number): Validator =>
  (v) => {
    if (typeof v !== "string") return `'${pyRepr(v)}' is not a valid string`;
    if (max !== undefined && v.length > max) return `'${v}' exceeds maximum length of ${max}`;
    return undefined;
  };

export const isStringOrNone =
  (max?: number): Validator =>
  (v) =>
    v === null ? undefined : isString(max)(v);

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
export const isUuid: Validator = (v) => (typeof v === "string" && UUID.test(v) ? undefined : `'${pyRepr(v)}' is not a valid UUID`);
export const isUuidOrNone: Validator = (v) => (v === null ? undefined : isUuid(v));

export const isUuidList: Validator = (v) => {
  if (!Array.isArray(v)) return `'${pyRepr(v)}' is not a list`;
  for (const x of v) {
    const r = isUuid(x);
    if (r) return r;
  }
  if (new Set(v).size !== v.length) return `Duplicate items in the list: '${v.join(", ")}'`;
  return undefined;
};

export const isStringList =
  (max?: number): Validator =>
  (v) => {
    if (!Array.isArray(v)) return `'${pyRepr(v)}' is not a list`;
    for (const x of v) {
      const r = isString(max)(x);
      if (r) return r;
    }
    return undefined;
  };

export const isIntRange =
  (lo: number, hi: number): Validator =>
  (v) => {
    if (typeof v !== "number" || !Number.isInteger(v)) return `'${pyRepr(v)}' is not an integer`;
    if (v < lo || v > hi) return `'${v}' is not in range ${lo} through ${hi}`;
    return undefined;
  };

export const isDict: Validator = (v) => (v !== null && typeof v === "object" && !Array.isArray(v) ? undefined : `'${pyRepr(v)}' is not a dictionary`);

/** neutron_lib validate_values: "<data> is not in <valid_values display, or 'valid_values'>". */
export const isValues =
  (allowed: readonly unknown[], display = "valid_values"): Validator =>
  (v) =>
    allowed.includes(v) ? undefined : `${pyRepr(v)} is not in ${display}`;

export function pyList(values: readonly unknown[]): string {
  return `[${values.map((x) => (typeof x === "string" ? `'${x}'` : pyRepr(x))).join(", ")}]`;
}
