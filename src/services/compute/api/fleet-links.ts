import type { RequestContext } from "../../../http/context.js";

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
