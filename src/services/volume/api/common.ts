import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";

/**
 * Cinder serves every v3 resource both under the project (`/v3/{project_id}/volumes`, the
 * catalog's form) and without it (`/v3/volumes`, announced by 3.67 but routed for every
 * version). Routes are written relative to `/v3` ("/volumes/:volume_id"); this emits both.
 * The URL's project id must be the token's (Cinder's wsgi answers 400 "Malformed request url"
 * otherwise); the token's project is what counts.
 */
export function v3(routes: Route[]): Route[] {
  const out: Route[] = [];
  for (const r of routes) {
    const handler = r.handler;
    out.push({
      ...r,
      path: `/v3/:url_project_id${r.path}`,
      handler: async (ctx) => {
        if (ctx.auth && ctx.params["url_project_id"] !== ctx.auth.projectId) throw new BadRequest("Malformed request url");
        return handler(ctx);
      },
    });
    out.push({ ...r, path: `/v3${r.path}` });
  }
  return out;
}

/** osapi_max_limit. */
export const MAX_LIMIT = 1000;

export interface Paging {
  marker: string | undefined;
  limit: number;
  /** Whether the request gave a limit (next links are built when a page is full). */
  limitGiven: boolean;
  offset: number;
  sortKeys: string[];
  sortDirs: Array<"asc" | "desc">;
}

/**
 * cinder/api/common.py get_pagination_params + get_sort_params: limit (integer ≥ 0, capped
 * at osapi_max_limit), marker, offset, and `sort=k1:dir,k2` or the older sort_key/sort_dir.
 * `sortKeys` lists what this collection sorts by; anything else is a 400 as Cinder's DB layer answers.
 */
export function parsePaging(ctx: RequestContext, sortKeys: readonly string[], defaultKey = "created_at", defaultDir: "asc" | "desc" = "desc"): Paging {
  const raw = ctx.q("limit");
  let limit = MAX_LIMIT;
  if (raw !== undefined) {
    if (!/^\s*[-+]?\d+\s*$/.test(raw)) throw new BadRequest("limit param must be an integer");
    const n = Number(raw);
    if (n < 0) throw new BadRequest("limit param must be positive");
    limit = Math.min(n, MAX_LIMIT);
  }
  const rawOffset = ctx.q("offset");
  let offset = 0;
  if (rawOffset !== undefined) {
    if (!/^\s*[-+]?\d+\s*$/.test(rawOffset)) throw new BadRequest("offset must be an integer.");
    offset = Number(rawOffset);
    if (offset < 0) throw new BadRequest("offset must be >= 0.");
    if (offset > 2147483647) throw new BadRequest("offset must be <= 2147483647.");
  }
  const sort = ctx.q("sort");
  if (sort !== undefined && (ctx.q("sort_key") !== undefined || ctx.q("sort_dir") !== undefined)) {
    throw new BadRequest("The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.");
  }
  const keys: string[] = [];
  const dirs: Array<"asc" | "desc"> = [];
  const add = (k: string, d: string) => {
    const key = k.trim();
    const dir = d.trim().toLowerCase();
    if (dir !== "asc" && dir !== "desc") throw new BadRequest(`Unknown sort direction, must be 'desc' or 'asc'`);
    if (!sortKeys.includes(key)) throw new BadRequest(`Invalid input received: Invalid sort key ${key}`);
    keys.push(key);
    dirs.push(dir);
  };
  if (sort !== undefined) {
    for (const part of sort.trim().split(",")) {
      const i = part.indexOf(":");
      add(i < 0 ? part : part.slice(0, i), i < 0 ? defaultDir : part.slice(i + 1) || defaultDir);
    }
  } else add(ctx.q("sort_key") ?? defaultKey, ctx.q("sort_dir") ?? defaultDir);
  return { marker: ctx.q("marker"), limit, limitGiven: raw !== undefined, offset, sortKeys: keys, sortDirs: dirs };
}

/**
 * `<collection>_links` (ViewBuilder._get_collection_links): a "next" link with marker = the
 * last item's id when the page is as long as the limit (given, or osapi_max_limit).
 */
export function collectionLinks(ctx: RequestContext, collection: string, items: ReadonlyArray<{ id?: unknown }>, paging: Paging): Array<{ rel: string; href: string }> {
  if (items.length === 0 || items.length < paging.limit) return [];
  const last = items[items.length - 1]!;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(ctx.query)) {
    if (v === undefined || k === "marker") continue;
    for (const x of Array.isArray(v) ? v : [v]) params.append(k, x);
  }
  params.set("marker", String(last.id));
  return [{ rel: "next", href: `${projectUrl(ctx)}/${collection}?${params.toString()}` }];
}

/** The URL up to and including the project id when the request had one: http://host/volume/v3/<project>. */
export function projectUrl(ctx: RequestContext): string {
  const p = ctx.params["url_project_id"];
  return `${ctx.serviceUrl}/v3${p ? `/${p}` : ""}`;
}

/** Cinder's `self`/`bookmark` links of a resource. */
export function resourceLinks(ctx: RequestContext, collection: string, id: string): Array<{ rel: string; href: string }> {
  const p = ctx.params["url_project_id"];
  return [
    { rel: "self", href: `${projectUrl(ctx)}/${collection}/${id}` },
    { rel: "bookmark", href: `${ctx.serviceUrl}${p ? `/${p}` : ""}/${collection}/${id}` },
  ];
}

/** Cinder's timestamp format: "2026-11-27T10:20:30.123000" (UTC, microseconds, no zone). */
export function cinderTime(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z?$/.exec(iso);
  if (!m) return iso;
  return `${m[1]}.${(m[2] ?? "").padEnd(6, "0").slice(0, 6)}`;
}

/** The caller is a Cinder admin (context.is_admin: the context_is_admin rule). */
export function isAdmin(ctx: RequestContext): boolean {
  return ctx.allowed("context_is_admin", {});
}

/** oslo's bool_from_string (strict=False) for query parameters and metadata flags. */
export function truthy(v: unknown): boolean {
  if (v === true) return true;
  if (typeof v !== "string") return false;
  return ["1", "t", "true", "on", "y", "yes"].includes(v.trim().toLowerCase());
}

/**
 * The body of an action request (`POST …/action`): exactly one key naming the action.
 * Returns [name, value]; the caller routes on the name.
 */
export function actionOf(ctx: RequestContext): [string, unknown] {
  const b = ctx.body;
  if (typeof b !== "object" || b === null || Array.isArray(b)) throw new BadRequest("Malformed request body");
  const keys = Object.keys(b);
  if (keys.length !== 1) throw new BadRequest("Malformed request body");
  return [keys[0]!, (b as Record<string, unknown>)[keys[0]!]];
}
