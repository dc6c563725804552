import type { RequestContext } from "../../../http/context.js";
import type { Paging } from "../api/common.js";
import { cinderTime, collectionLinks } from "../api/common.js";
import type { SnapshotRow } from "../store/tables.js";

function metadataOf(row: SnapshotRow): Record<string, string> {
  try {
    const m = JSON.parse(row.metadata) as unknown;
    return typeof m === "object" && m !== null && !Array.isArray(m) ? (m as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** api/views/snapshots.py summary: what index lists (no v3 fields: the v3 builder extends only detail). */
export function snapshotSummary(_ctx: RequestContext, s: SnapshotRow): Record<string, unknown> {
  return {
    id: s.id,
    created_at: cinderTime(s.created_at),
    updated_at: cinderTime(s.updated_at),
    name: s.name,
    description: s.description,
    volume_id: s.volume_id,
    status: s.status,
    size: s.size,
    metadata: metadataOf(s),
  };
}

/**
 * api/v3/views/snapshots.py detail (create, update, show, detail list): the summary plus
 * group_snapshot_id (3.14), user_id (3.41), consumes_quota (3.65).
 */
export function snapshotView(ctx: RequestContext, s: SnapshotRow): Record<string, unknown> {
  const v = ctx.version!;
  const b = snapshotSummary(ctx, s);
  if (v.atLeast("3.14")) b["group_snapshot_id"] = s.group_snapshot_id;
  if (v.atLeast("3.41")) b["user_id"] = s.user_id;
  if (v.atLeast("3.65")) b["consumes_quota"] = s.use_quota === 1;
  return b;
}

/**
 * show and detail add the os-extended-snapshot-attributes fields when the caller passes
 * volume_extension:extended_snapshot_attributes (contrib/extended_snapshot_attributes.py).
 */
export function snapshotDetail(ctx: RequestContext, s: SnapshotRow): Record<string, unknown> {
  const b = snapshotView(ctx, s);
  if (ctx.allowed("volume_extension:extended_snapshot_attributes", { project_id: s.project_id })) {
    b["os-extended-snapshot-attributes:progress"] = s.progress;
    b["os-extended-snapshot-attributes:project_id"] = s.project_id;
  }
  return b;
}

export function snapshotList(ctx: RequestContext, rows: SnapshotRow[], detail: boolean, paging: Paging, count: number | undefined): Record<string, unknown> {
  const snapshots = rows.map((r) => (detail ? snapshotDetail(ctx, r) : snapshotSummary(ctx, r)));
  const out: Record<string, unknown> = { snapshots };
  const links = collectionLinks(ctx, detail ? "snapshots/detail" : "snapshots", snapshots as Array<{ id?: unknown }>, paging);
  if (links.length) out["snapshots_links"] = links;
  if (count !== undefined) out["count"] = count;
  return out;
}

export { metadataOf as snapshotMetadata };
