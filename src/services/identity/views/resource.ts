import type { RequestContext } from "../../../http/context.js";
import type { ProjectRecord } from "../manager/resource.js";
import { json } from "../store/tables.js";
import { link, withExtra } from "./common.js";

export function projectView(ctx: RequestContext, p: ProjectRecord): Record<string, unknown> {
  return withExtra(p.extra, {
    id: p.id,
    name: p.name,
    domain_id: p.is_domain === 1 ? null : p.domain_id,
    parent_id: p.is_domain === 1 ? null : p.parent_id,
    description: p.description ?? "",
    enabled: p.enabled === 1,
    is_domain: p.is_domain === 1,
    tags: p.tags,
    options: json(p.options),
    links: { self: link(ctx, `projects/${p.id}`) },
  });
}

export function domainView(ctx: RequestContext, d: ProjectRecord): Record<string, unknown> {
  return withExtra(d.extra, {
    id: d.id,
    name: d.name,
    description: d.description ?? "",
    enabled: d.enabled === 1,
    tags: d.tags,
    options: json(d.options),
    links: { self: link(ctx, `domains/${d.id}`) },
  });
}
