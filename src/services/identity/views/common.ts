import type { RequestContext } from "../../../http/context.js";
import { json } from "../store/tables.js";

/** `${identity}/v3/<path>` as Keystone builds self links. */
export function link(ctx: RequestContext, path: string): string {
  return `${ctx.serviceUrl}/v3/${path}`;
}

/** Keystone's collection links: self is the request URL; previous/next are null. */
export function collection<T>(ctx: RequestContext, key: string, items: T[], truncated = false): Record<string, unknown> {
  const out: Record<string, unknown> = {
    [key]: items,
    links: { self: `${ctx.baseUrl}${ctx.url}`, previous: null, next: null },
  };
  if (truncated) out["truncated"] = true;
  return out;
}

/** Apply Keystone's list_limit: cut the list and say so. */
export function limited<T>(ctx: RequestContext, key: string, items: T[], limit: number): Record<string, unknown> {
  if (limit > 0 && items.length > limit) return collection(ctx, key, items.slice(0, limit), true);
  return collection(ctx, key, items);
}

/** Unknown attributes a client stored come back merged into the entity, as in Keystone. */
export function withExtra(extra: string, body: Record<string, unknown>): Record<string, unknown> {
  return { ...json(extra), ...body };
}
