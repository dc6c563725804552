import type { RequestContext } from "../../../http/context.js";
import type { LimitJoined } from "../store/limits.js";
import type { RegisteredLimitRow } from "../store/tables.js";
import { link } from "./common.js";

/** Keystone's RegisteredLimitModel.to_dict() plus links. */
export function registeredLimitView(ctx: RequestContext, r: RegisteredLimitRow): Record<string, unknown> {
  return {
    id: r.id,
    service_id: r.service_id,
    region_id: r.region_id,
    resource_name: r.resource_name,
    default_limit: r.default_limit,
    description: r.description,
    links: { self: link(ctx, `registered_limits/${r.id}`) },
  };
}

/** Keystone's LimitModel.to_dict(): service, region and resource name come from the registered limit. */
export function limitView(ctx: RequestContext, l: LimitJoined): Record<string, unknown> {
  return {
    id: l.id,
    project_id: l.project_id,
    domain_id: l.domain_id,
    resource_limit: l.resource_limit,
    description: l.description,
    service_id: l.service_id,
    region_id: l.region_id,
    resource_name: l.resource_name,
    links: { self: link(ctx, `limits/${l.id}`) },
  };
}
