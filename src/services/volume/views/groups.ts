import type { RequestContext } from "../../../http/context.js";
import type { Paging } from "../api/common.js";
import { cinderTime, collectionLinks } from "../api/common.js";
import type { Group } from "../manager/groups.js";

/** cinder/api/v3/views/groups.py summary. */
export function groupSummary(g: Group): Record<string, unknown> {
  return { id: g.id, name: g.name };
}

/**
 * groups.py detail: group_snapshot_id/source_group_id from 3.14, volumes (with
 * ?list_volume=true) from 3.25, replication_status from 3.38, project_id from 3.58 for
 * callers of group:group_project_attribute.
 */
export function groupDetail(ctx: RequestContext, g: Group, listVolume = false): Record<string, unknown> {
  const v = ctx.version!;
  const out: Record<string, unknown> = {
    id: g.id,
    status: g.status,
    availability_zone: g.availability_zone,
    created_at: cinderTime(g.created_at),
    name: g.name,
    description: g.description,
    group_type: g.group_type_id,
    volume_types: g.volumeTypeIds,
  };
  if (v.atLeast("3.14")) {
    out["group_snapshot_id"] = g.group_snapshot_id;
    out["source_group_id"] = g.source_group_id;
  }
  if (v.atLeast("3.25") && listVolume) out["volumes"] = g.volumes ?? [];
  if (v.atLeast("3.38")) out["replication_status"] = g.replication_status;
  if (v.atLeast("3.58") && ctx.allowed("group:group_project_attribute", { project_id: g.project_id })) out["project_id"] = g.project_id;
  return out;
}

export function groupListView(ctx: RequestContext, groups: Group[], paging: Paging, detail: boolean, listVolume = false): Record<string, unknown> {
  const out: Record<string, unknown> = { groups: groups.map((g) => (detail ? groupDetail(ctx, g, listVolume) : groupSummary(g))) };
  const links = collectionLinks(ctx, "groups", groups, paging);
  if (links.length > 0) out["group_links"] = links;
  return out;
}
