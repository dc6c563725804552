import type { RequestContext } from "../../../http/context.js";
import type { Paging } from "../api/common.js";
import { cinderTime, collectionLinks, resourceLinks } from "../api/common.js";
import type { VolumeTables } from "../store/tables.js";

export type TransferRow = VolumeTables["vol_transfer"];

/** Links name the collection the request used (os-volume-transfer or volume-transfers). */
function coll(ctx: RequestContext): string {
  return ctx.url.includes("/volume-transfers") ? "volume-transfers" : "os-volume-transfer";
}

/** api/views/transfers.py summary (index, accept). */
export function transferSummary(ctx: RequestContext, t: TransferRow): Record<string, unknown> {
  return { id: t.id, volume_id: t.volume_id, name: t.name, links: resourceLinks(ctx, coll(ctx), t.id) };
}

/** api/views/transfers.py detail: no_snapshots from 3.55, the history fields from 3.57. */
export function transferDetail(ctx: RequestContext, t: TransferRow, authKey?: string): Record<string, unknown> {
  const v = ctx.version!;
  const b: Record<string, unknown> = {
    id: t.id,
    created_at: cinderTime(t.created_at),
    name: t.name,
    volume_id: t.volume_id,
  };
  if (authKey !== undefined) b["auth_key"] = authKey;
  b["links"] = resourceLinks(ctx, coll(ctx), t.id);
  if (v.atLeast("3.55")) b["no_snapshots"] = t.no_snapshots === 1;
  if (v.atLeast("3.57")) {
    b["destination_project_id"] = t.destination_project_id;
    b["source_project_id"] = t.source_project_id;
    b["accepted"] = t.accepted === 1;
  }
  return b;
}

export function transferList(ctx: RequestContext, rows: TransferRow[], detail: boolean, paging: Paging): Record<string, unknown> {
  const transfers = rows.map((r) => (detail ? transferDetail(ctx, r) : transferSummary(ctx, r)));
  const out: Record<string, unknown> = { transfers };
  const links = collectionLinks(ctx, coll(ctx), transfers as Array<{ id?: unknown }>, paging);
  if (links.length) out["transfers_links"] = links;
  return out;
}
