import type { RequestContext } from "../../../http/context.js";
import type { UserRecord } from "../manager/users.js";
import type { GroupRow } from "../store/tables.js";
import { json } from "../store/tables.js";
import { link, withExtra } from "./common.js";

export function userView(ctx: RequestContext, u: UserRecord): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: u.id,
    name: u.name,
    domain_id: u.domain_id,
    enabled: u.enabled === 1,
    password_expires_at: pythonTime(u.password_expires_at),
    options: json(u.options),
    links: { self: link(ctx, `users/${u.id}`) },
  };
  if (u.default_project_id) body["default_project_id"] = u.default_project_id;
  if (u.description !== null) body["description"] = u.description;
  return withExtra(u.extra, body);
}

export function groupView(ctx: RequestContext, g: GroupRow): Record<string, unknown> {
  return withExtra(g.extra, {
    id: g.id,
    name: g.name,
    domain_id: g.domain_id,
    description: g.description ?? "",
    links: { self: link(ctx, `groups/${g.id}`) },
  });
}

/**
 * A datetime as Keystone's JSON encoder writes it (oslo to_primitive): microseconds and no
 * zone designator, e.g. 2024-01-02T03:04:05.000000.
 */
export function pythonTime(iso: string | null): string | null {
  if (iso === null) return null;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000");
}
