import { BadRequest } from "../../../common/errors.js";
import type { RequestContext } from "../../../http/context.js";
import { invalidQuery } from "./fleet-validate.js";

/**
 * Nova's links (nova/api/openstack/common.py ViewBuilder): "self" under /v2.1, "bookmark"
 * without the version, and a "next" collection link when a page is full.
 */
export function resourceLinks(ctx: RequestContext, collection: string, id: string | number): Array<{ rel: string; href: string }> {
  const base = ctx.serviceUrl;
  return [
    { rel: "self", href: `${base}/v2.1/${collection}/${id}` },
    { rel: "bookmark", href: `${base}/${collection}/${id}` },
  ];
}

/** Max items per page (CONF.api.max_limit). */
export const MAX_LIMIT = 1000;

/** A "next" link when the page is full (limit asked and reached, or max_limit reached). */
export function collectionLinks(
  ctx: RequestContext,
  collection: string,
  count: number,
  limit: number | undefined,
  lastMarker: string | number | undefined,
): Array<{ rel: string; href: string }> {
  const full = (limit !== undefined && count === limit && limit > 0) || count === MAX_LIMIT;
  if (!full || lastMarker === undefined) return [];
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(ctx.query)) {
    if (k === "marker" || v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
  }
  params.set("marker", String(lastMarker));
  return [{ rel: "next", href: `${ctx.serviceUrl}/v2.1/${collection}?${params.toString()}` }];
}

/** The query parameter names a strict (2.75+) query schema accepts; others are a 400 as Nova's jsonschema answers. */
export function strictQuery(ctx: RequestContext, allowed: readonly string[]): string | undefined {
  const extra = Object.keys(ctx.query).filter((k) => !allowed.includes(k));
  if (extra.length === 0) return undefined;
  return `Additional properties are not allowed (${extra.map((e) => `'${e}'`).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`;
}

/** A query time as Nova's date-time format reads it (naive times are UTC), as an ISO string. */
function queryTime(name: string, v: string): string {
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
  if (Number.isNaN(d.getTime())) throw invalidQuery(name, v, `'${v}' is not a 'date-time'`);
  return d.toISOString();
}

/** changes-since and (2.66) changes-before of a paged list (instance actions 2.58, migrations 2.59). */
export function changesWindow(ctx: RequestContext): { since: string | undefined; before: string | undefined } {
  const since = ctx.q("changes-since");
  const before = ctx.version!.atLeast("2.66") ? ctx.q("changes-before") : undefined;
  const s = since !== undefined ? queryTime("changes-since", since) : undefined;
  const b = before !== undefined ? queryTime("changes-before", before) : undefined;
  if (s && b && b < s) throw new BadRequest("The value of changes-since must be less than or equal to changes-before.");
  return { since: s, before: b };
}

/** The `limit` query of a paged list, capped at MAX_LIMIT; undefined when not given. */
export function queryLimit(ctx: RequestContext): number | undefined {
  const l = ctx.q("limit");
  if (l === undefined) return undefined;
  if (!/^[0-9]+$/.test(l)) throw invalidQuery("limit", l, `'${l}' does not match '^[0-9]*$'`);
  return Math.min(Number(l), MAX_LIMIT);
}
