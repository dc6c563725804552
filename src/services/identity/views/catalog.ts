import type { RequestContext } from "../../../http/context.js";
import type { EndpointGroupRow, EndpointRow, PolicyRow, RegionRow, ServiceRow } from "../store/tables.js";
import { json } from "../store/tables.js";
import { link, withExtra } from "./common.js";

export function regionView(ctx: RequestContext, r: RegionRow): Record<string, unknown> {
  return withExtra(r.extra, {
    id: r.id,
    description: r.description,
    parent_region_id: r.parent_region_id,
    links: { self: link(ctx, `regions/${r.id}`) },
  });
}

/** name and description are extra attributes of a service in Keystone. */
export function serviceView(ctx: RequestContext, s: ServiceRow): Record<string, unknown> {
  return withExtra(s.extra, {
    id: s.id,
    type: s.type,
    enabled: s.enabled === 1,
    links: { self: link(ctx, `services/${s.id}`) },
  });
}

/** An endpoint as Keystone's driver returns it (OS-ENDPOINT-POLICY lists these as is). */
export function endpointRawView(ctx: RequestContext, e: EndpointRow): Record<string, unknown> {
  return withExtra(e.extra, {
    id: e.id,
    interface: e.interface,
    region_id: e.region_id,
    service_id: e.service_id,
    url: e.url,
    enabled: e.enabled === 1,
    links: { self: link(ctx, `endpoints/${e.id}`) },
  });
}

/** Keystone answers the legacy `region` next to region_id, always the same value. */
export function endpointView(ctx: RequestContext, e: EndpointRow): Record<string, unknown> {
  return { ...endpointRawView(ctx, e), region: e.region_id };
}

export function endpointGroupView(ctx: RequestContext, g: EndpointGroupRow): Record<string, unknown> {
  return {
    id: g.id,
    name: g.name,
    description: g.description,
    filters: json(g.filters),
    links: { self: link(ctx, `OS-EP-FILTER/endpoint_groups/${g.id}`) },
  };
}

/**
 * GET /OS-EP-FILTER/endpoint_groups/{g}/projects/{p}. Keystone builds this self link without
 * its base URL, so it is a bare path.
 */
export function projectEndpointGroupView(groupId: string, projectId: string): Record<string, unknown> {
  return {
    endpoint_group_id: groupId,
    project_id: projectId,
    links: { self: `/OS-EP-FILTER/endpoint_groups/${groupId}/projects/${projectId}` },
  };
}

/** `collection` names the self link's collection: Keystone reuses "endpoints" for OS-ENDPOINT-POLICY. */
export function policyView(ctx: RequestContext, p: PolicyRow, collection = "policies"): Record<string, unknown> {
  return withExtra(p.extra, {
    id: p.id,
    blob: JSON.parse(p.blob) as unknown,
    type: p.type,
    links: { self: link(ctx, `${collection}/${p.id}`) },
  });
}
