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
