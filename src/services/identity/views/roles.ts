import type { RequestContext } from "../../../http/context.js";
import type { RoleRow } from "../store/tables.js";
import { json, NULL_DOMAIN } from "../store/tables.js";
import { link, withExtra } from "./common.js";

export function roleView(ctx: RequestContext, r: RoleRow): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: r.id,
    name: r.name,
    domain_id: r.domain_id === NULL_DOMAIN ? null : r.domain_id,
    description: r.description,
    options: json(r.options),
    links: { self: link(ctx, `roles/${r.id}`) },
  };
  return withExtra(r.extra, body);
}
