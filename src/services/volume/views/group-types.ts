import type { RequestContext } from "../../../http/context.js";
import type { Paging } from "../api/common.js";
import { collectionLinks } from "../api/common.js";
import type { GroupType } from "../manager/group-types.js";

/** cinder/api/v3/views/group_types.py: group_specs only for callers of group:access_group_types_specs. */
export function groupTypeView(ctx: RequestContext, t: GroupType): Record<string, unknown> {
  const out: Record<string, unknown> = { id: t.id, name: t.name, description: t.description, is_public: t.is_public };
  if (ctx.allowed("group:access_group_types_specs", {})) out["group_specs"] = t.group_specs;
  return out;
}

export function groupTypeListView(ctx: RequestContext, types: GroupType[], paging: Paging): Record<string, unknown> {
  const out: Record<string, unknown> = { group_types: types.map((t) => groupTypeView(ctx, t)) };
  const links = collectionLinks(ctx, "group_types", types, paging);
  if (links.length > 0) out["group_type_links"] = links;
  return out;
}
