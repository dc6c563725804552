import type { RequestContext } from "../../../http/context.js";
import type { Paging } from "../api/common.js";
import { cinderTime, collectionLinks, resourceLinks } from "../api/common.js";
import type { BackupRow } from "../store/tables.js";

export function backupMetadata(row: BackupRow): Record<string, string> {
  try {
    const m = JSON.parse(row.metadata) as unknown;
    return typeof m === "object" && m !== null && !Array.isArray(m) ? (m as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** api/views/backups.py summary: id, name, links (create, update, index, import). */
export function backupSummary(ctx: RequestContext, b: BackupRow): Record<string, unknown> {
  return { id: b.id, name: b.name, links: resourceLinks(ctx, "backups", b.id) };
}

/**
 * api/views/backups.py detail + api/v3/views/backups.py (metadata 3.43) + the controller's
 * os-backup-project-attr:project_id (3.18) and user_id (3.56) for backup:backup_project_attribute.
 */
export function backupDetail(ctx: RequestContext, b: BackupRow): Record<string, unknown> {
  const v = ctx.version!;
  const out: Record<string, unknown> = {
    id: b.id,
    status: b.status,
    size: b.size,
    object_count: b.object_count,
    availability_zone: b.availability_zone,
    container: b.container,
    created_at: cinderTime(b.created_at),
    updated_at: cinderTime(b.updated_at),
    name: b.name,
    description: b.description,
    fail_reason: b.fail_reason,
    volume_id: b.volume_id,
    links: resourceLinks(ctx, "backups", b.id),
    is_incremental: b.is_incremental === 1,
    has_dependent_backups: b.num_dependent_backups > 0,
    snapshot_id: b.snapshot_id,
    data_timestamp: cinderTime(b.data_timestamp),
  };
  if (v.atLeast("3.43")) out["metadata"] = backupMetadata(b);
  if (v.atLeast("3.18") || v.atLeast("3.56")) {
    const attr = ctx.allowed("backup:backup_project_attribute", { project_id: b.project_id });
    if (attr && v.atLeast("3.18")) out["os-backup-project-attr:project_id"] = b.project_id;
    if (attr && v.atLeast("3.56")) out["user_id"] = b.user_id;
  }
  return out;
}

export function backupList(ctx: RequestContext, rows: BackupRow[], detail: boolean, paging: Paging, count: number | undefined): Record<string, unknown> {
  const backups = rows.map((r) => (detail ? backupDetail(ctx, r) : backupSummary(ctx, r)));
  const out: Record<string, unknown> = { backups };
  const links = collectionLinks(ctx, detail ? "backups/detail" : "backups", backups as Array<{ id?: unknown }>, paging);
  if (links.length) out["backups_links"] = links;
  if (count !== undefined) out["count"] = count;
  return out;
}
