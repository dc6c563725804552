import { BadRequest } from "../../../common/errors.js";
import type { RequestContext } from "../../../http/context.js";

/** Keystone reads boolean filters leniently (oslo bool_from_string): f/false/n/no/off/0 are false, anything else true. */
export function boolQuery(ctx: RequestContext, name: string): boolean | undefined {
  const v = ctx.q(name);
  if (v === undefined) return undefined;
  return !/^(f|false|n|no|off|0)$/i.test(v.trim());
}

/** True when a flag-style query parameter (?parents_as_list) is present and not false. */
export function flag(ctx: RequestContext, name: string): boolean {
  if (!(name in ctx.query)) return false;
  const v = ctx.q(name);
  return v === undefined || v === "" || !/^(false|0|no|off)$/i.test(v);
}

/** The request body's wrapped entity: {"project": {...}} → {...}. */
export function entity<T = Record<string, unknown>>(ctx: RequestContext, key: string): T {
  const b = ctx.body as Record<string, unknown> | undefined;
  const v = b?.[key];
  if (v === undefined || v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new BadRequest(`Expecting to find ${key} in request body.`);
  }
  return v as T;
}

/** Comma-separated list parameter (tags=a,b). */
export function csv(ctx: RequestContext, name: string): string[] | undefined {
  const v = ctx.q(name);
  if (v === undefined) return undefined;
  return v.split(",").filter((s) => s !== "");
}

/**
 * Keystone's inexact list filters (server/flask/common.py build_driver_hints and
 * filter_by_attributes): `<attr>__contains`, `__startswith`, `__endswith`, each with an `i`
 * (case-insensitive) variant, for the attributes a list supports. Unknown comparators and
 * non-string attributes never exclude anything; a missing attribute does.
 */
export function inexactFilter(ctx: RequestContext, supported: readonly string[]): (entity: Record<string, unknown>) => boolean {
  const tests: Array<(e: Record<string, unknown>) => boolean> = [];
  for (const [key, raw] of Object.entries(ctx.query)) {
    const i = key.indexOf("__");
    if (i < 0) continue;
    const attr = key.slice(0, i);
    if (!supported.includes(attr)) continue;
    let comparator = key.slice(i + 2);
    const insensitive = comparator.startsWith("i");
    if (insensitive) comparator = comparator.slice(1);
    if (!["contains", "startswith", "endswith"].includes(comparator)) continue;
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      if (v === undefined) continue;
      const want = insensitive ? v.toLowerCase() : v;
      tests.push((e) => {
        if (!(attr in e)) return false;
        const got = e[attr];
        if (typeof got !== "string") return true;
        const have = insensitive ? got.toLowerCase() : got;
        if (comparator === "contains") return have.includes(want);
        if (comparator === "startswith") return have.startsWith(want);
        return have.endsWith(want);
      });
    }
  }
  return (e) => tests.every((t) => t(e));
}
