import type { RequestContext } from "../../../http/context.js";
import type { Paging } from "../api/common.js";
import { cinderTime, collectionLinks } from "../api/common.js";
import type { GroupSnapshot } from "../manager/groups.js";

/** cinder/api/v3/views/group_snapshots.py summary (group_type_id kept for CG migration). */
export function groupSnapshotSummary(s: GroupSnapshot): Record<string, unknown> {
  return { id: s.id, name: s.name, group_type_id: s.group_type_id };
}

/** group_snapshots.py detail: project_id from 3.58 for callers of group:group_snapshot_project_attribute. */
export function groupSnapshotDetail(ctx: RequestContext, s: GroupSnapshot): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: s.id,
    group_id: s.group_id,
    group_type_id: s.group_type_id,
    status: s.status,
    created_at: cinderTime(s.created_at),
    name: s.name,
    description: s.description,
  };
  if (ctx.version!.atLeast("3.58") && ctx.allowed("group:group_snapshot_project_attribute", { project_id: s.project_id })) out["project_id"] = s.project_id;
  return out;
}

/** The index drops group_type_id from the summaries (GroupSnapshotsController._get_group_snapshots). */
export function groupSnapshotListView(ctx: RequestContext, list: GroupSnapshot[], paging: Paging | undefined, detail: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    group_snapshots: list.map((s) => (detail ? groupSnapshotDetail(ctx, s) : { id: s.id, name: s.name })),
  };
  if (paging) {
    const links = collectionLinks(ctx, "group_snapshots", list, paging);
    if (links.length > 0) out["group_snapshot_links"] = links;
  }
  return out;
}
