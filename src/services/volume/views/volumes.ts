import type { RequestContext } from "../../../http/context.js";
import { cinderTime, isAdmin, resourceLinks } from "../api/common.js";
import type { AttachmentRow, VolumeRow, VQ } from "../store/tables.js";

/** What the views need besides the rows, loaded once per page (no N+1). */
export interface VolumeExtras {
  types: Map<string, { id: string; name: string }>;
  attachments: Map<string, AttachmentRow[]>;
}

export async function loadExtras(q: VQ, rows: readonly VolumeRow[]): Promise<VolumeExtras> {
  const typeIds = [...new Set(rows.map((r) => r.volume_type_id))];
  const ids = rows.map((r) => r.id);
  const types = new Map<string, { id: string; name: string }>();
  const attachments = new Map<string, AttachmentRow[]>();
  if (typeIds.length) {
    for (const t of await q.selectFrom("vol_type").select(["id", "name"]).where("id", "in", typeIds).execute()) types.set(t.id, t);
  }
  // Chunked so a 1000-item page stays under SQLite's bound-parameter limit.
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    const rs = await q.selectFrom("vol_attachment").selectAll().where("volume_id", "in", part).where("attach_status", "=", "attached").orderBy("created_at").execute();
    for (const a of rs) {
      let l = attachments.get(a.volume_id);
      if (!l) attachments.set(a.volume_id, (l = []));
      l.push(a);
    }
  }
  return { types, attachments };
}

function json(s: string | null): Record<string, string> {
  if (!s) return {};
  try {
    const o = JSON.parse(s) as unknown;
    return typeof o === "object" && o !== null && !Array.isArray(o) ? (o as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export function userMetadata(row: VolumeRow): Record<string, string> {
  return json(row.metadata);
}
export function adminMetadata(row: VolumeRow): Record<string, string> {
  return json(row.admin_metadata);
}
export function imageMetadata(row: VolumeRow): Record<string, string> | undefined {
  return row.image_metadata ? json(row.image_metadata) : undefined;
}

/** The v2 view's status map (managing volumes look like creating ones). */
const STATUS_MAP: Record<string, string> = { managing: "creating", error_managing: "error", error_managing_deleting: "deleting" };

/** api_utils.add_visible_admin_metadata: readonly and attached_mode show in the metadata. */
function visibleMetadata(row: VolumeRow): Record<string, string> {
  const meta = { ...userMetadata(row) };
  const admin = adminMetadata(row);
  for (const k of ["readonly", "attached_mode"]) if (admin[k] !== undefined) meta[k] = admin[k]!;
  return meta;
}

/** v3 ViewBuilder.summary: id, name, links. */
export function volumeSummary(ctx: RequestContext, row: VolumeRow): Record<string, unknown> {
  return { id: row.id, name: row.name, links: resourceLinks(ctx, "volumes", row.id) };
}

/**
 * v3 ViewBuilder.detail (+ v2's). `extended` adds what Cinder's controller extensions add to
 * show and detail-list answers (not to create or update): the host, tenant and migration
 * attributes by policy, and volume_image_metadata.
 */
export function volumeDetail(ctx: RequestContext, row: VolumeRow, x: VolumeExtras, extended: boolean): Record<string, unknown> {
  const v = ctx.version!;
  const admin = isAdmin(ctx);
  const type = x.types.get(row.volume_type_id);
  const attachments = (x.attachments.get(row.id) ?? []).map((a) => ({
    id: a.volume_id,
    attachment_id: a.id,
    volume_id: a.volume_id,
    server_id: a.instance_uuid,
    host_name: admin ? a.attached_host : null,
    device: a.mountpoint,
    attached_at: cinderTime(a.attach_time),
  }));
  const out: Record<string, unknown> = {
    id: row.id,
    status: STATUS_MAP[row.status] ?? row.status,
    size: row.size,
    availability_zone: row.availability_zone,
    created_at: cinderTime(row.created_at),
    updated_at: cinderTime(row.updated_at),
    name: row.name,
    description: row.description,
    volume_type: v.atLeast("3.63") ? (type?.name ?? null) : (type?.name ?? row.volume_type_id),
    snapshot_id: row.snapshot_id,
    source_volid: row.source_volid,
    metadata: visibleMetadata(row),
    links: resourceLinks(ctx, "volumes", row.id),
    user_id: row.user_id,
    bootable: row.bootable ? "true" : "false",
    encrypted: row.encrypted === 1,
    replication_status: row.replication_status,
    consistencygroup_id: null,
    multiattach: row.multiattach === 1,
    attachments,
  };
  if (admin) out["migration_status"] = row.migration_status;
  if (v.atLeast("3.13")) out["group_id"] = row.group_id;
  if (admin && v.atLeast("3.21")) out["provider_id"] = null;
  if (v.atLeast("3.48")) {
    // LVM's iSCSI targets are not shared: shared_targets false; service_uuid of the volume's service.
    out["shared_targets"] = false;
    out["service_uuid"] = row.host ? serviceUuid(row.host.split("#")[0]!) : null;
  }
  if (admin && v.atLeast("3.61")) out["cluster_name"] = null;
  if (v.atLeast("3.63")) out["volume_type_id"] = type?.id ?? row.volume_type_id;
  if (v.atLeast("3.65")) out["consumes_quota"] = row.use_quota === 1;
  if (extended) {
    if (ctx.allowed("volume_extension:volume_host_attribute", { project_id: row.project_id })) out["os-vol-host-attr:host"] = row.host;
    if (ctx.allowed("volume_extension:volume_tenant_attribute", { project_id: row.project_id })) out["os-vol-tenant-attr:tenant_id"] = row.project_id;
    if (ctx.allowed("volume_extension:volume_mig_status_attribute", { project_id: row.project_id })) {
      out["os-vol-mig-status-attr:migstat"] = row.migration_status;
      out["os-vol-mig-status-attr:name_id"] = null;
    }
    if (row.image_metadata && ctx.allowed("volume_extension:volume_image_metadata:show", { project_id: row.project_id })) {
      const im = imageMetadata(row);
      if (im && Object.keys(im).length) out["volume_image_metadata"] = im;
    }
  }
  return out;
}

/** A stable uuid for a cinder-volume service (Cinder's services.uuid), derived from its host. */
export function serviceUuid(host: string): string {
  let h1 = 0x811c9dc5;
  const parts: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (const ch of `${round}:${host}`) {
      h1 ^= ch.charCodeAt(0);
      h1 = Math.imul(h1, 0x01000193) >>> 0;
    }
    parts.push(h1.toString(16).padStart(8, "0"));
  }
  const hex = parts.join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
