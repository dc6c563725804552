import { BadRequest, NotFound, PayloadTooLarge } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Volume } from "./deps.js";
import type { SnapshotManager } from "../manager/snapshots.js";
import { snapshotMetadata } from "../views/snapshots.js";

/**
 * utils.check_metadata_properties: string keys of ≥ 1 character and string values
 * (InvalidVolumeMetadata, 400), keys and values of ≤ 255 characters (InvalidVolumeMetadataSize:
 * 413 from the metadata controller, 400 elsewhere).
 */
export function checkMetadataProperties(m: Record<string, unknown>, sizeStatus: 400 | 413 = 400): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    if (k.length < 1) throw new BadRequest(`Invalid metadata: Metadata key: ${k} has a minimum character requirement of 1.`);
    if (typeof v !== "string") throw new BadRequest(`Invalid metadata: Value for metadata key: ${k} is not a string or unicode`);
    const size = k.length > 255 ? `Metadata property key ${k} greater than 255 characters.` : v.length > 255 ? `Metadata property key ${k} value greater than 255 characters.` : undefined;
    if (size) throw sizeStatus === 413 ? new PayloadTooLarge(`Invalid metadata size: ${size}`) : new BadRequest(`Invalid metadata size: ${size}`);
    out[k] = v;
  }
  return out;
}

/** assert_valid_body: `{entity: {…}}` or "Missing required element 'x' in request body." */
function entity(ctx: RequestContext, name: string): Record<string, unknown> {
  const b = ctx.body;
  const msg = `Missing required element '${name}' in request body.`;
  if (typeof b !== "object" || b === null || Array.isArray(b) || !(name in b)) throw new BadRequest(msg);
  const e = (b as Record<string, unknown>)[name];
  if (typeof e !== "object" || e === null || Array.isArray(e)) throw new BadRequest(msg);
  return e as Record<string, unknown>;
}

/** api/v3/snapshot_metadata.py: /snapshots/{id}/metadata and /metadata/{key}. */
export function snapshotMetadataRoutes(_v: Volume, snaps: SnapshotManager): Route[] {
  const load = async (ctx: RequestContext) => {
    const s = await snaps.get(snaps.caller(ctx), ctx.params["snapshot_id"]!);
    ctx.enforce("volume:get_snapshot", { project_id: s.project_id });
    return s;
  };
  const update = async (ctx: RequestContext, meta: Record<string, unknown>, replace: boolean) => {
    const s = await load(ctx);
    ctx.enforce("volume:update_snapshot_metadata", { project_id: s.project_id });
    const checked = checkMetadataProperties(meta, 413);
    return snaps.updateMetadata(s.id, checked, replace);
  };
  return [
    {
      method: "GET",
      path: "/snapshots/:snapshot_id/metadata",
      operation: "listSnapshotMetadata",
      policy: "volume:get_snapshot_metadata",
      handler: async (ctx) => {
        const s = await load(ctx);
        ctx.enforce("volume:get_snapshot_metadata", { project_id: s.project_id });
        return { body: { metadata: snapshotMetadata(s) } };
      },
    },
    {
      method: "POST",
      path: "/snapshots/:snapshot_id/metadata",
      operation: "createSnapshotMetadata",
      policy: "volume:update_snapshot_metadata",
      handler: async (ctx) => {
        const m = entity(ctx, "metadata");
        return { body: { metadata: await update(ctx, m, false) } };
      },
    },
    {
      method: "PUT",
      path: "/snapshots/:snapshot_id/metadata",
      operation: "updateSnapshotMetadata",
      policy: "volume:update_snapshot_metadata",
      handler: async (ctx) => {
        const m = entity(ctx, "metadata");
        return { body: { metadata: await update(ctx, m, true) } };
      },
    },
    {
      method: "GET",
      path: "/snapshots/:snapshot_id/metadata/:key",
      operation: "showSnapshotMetadataItem",
      policy: "volume:get_snapshot_metadata",
      handler: async (ctx) => {
        const s = await load(ctx);
        ctx.enforce("volume:get_snapshot_metadata", { project_id: s.project_id });
        const key = ctx.params["key"]!;
        const m = snapshotMetadata(s);
        if (!Object.hasOwn(m, key)) throw new NotFound(`Snapshot ${s.id} has no metadata with key ${key}.`);
        return { body: { meta: { [key]: m[key] } } };
      },
    },
    {
      method: "PUT",
      path: "/snapshots/:snapshot_id/metadata/:key",
      operation: "updateSnapshotMetadataItem",
      policy: "volume:update_snapshot_metadata",
      handler: async (ctx) => {
        const meta = entity(ctx, "meta");
        const key = ctx.params["key"]!;
        if (!Object.hasOwn(meta, key)) throw new BadRequest("Request body and URI mismatch");
        if (Object.keys(meta).length > 1) throw new BadRequest("Request body contains too many items");
        await update(ctx, meta, false);
        return { body: { meta } };
      },
    },
    {
      method: "DELETE",
      path: "/snapshots/:snapshot_id/metadata/:key",
      operation: "deleteSnapshotMetadataItem",
      policy: "volume:delete_snapshot_metadata",
      handler: async (ctx) => {
        const s = await load(ctx);
        const key = ctx.params["key"]!;
        if (!Object.hasOwn(snapshotMetadata(s), key)) throw new NotFound(`Snapshot ${s.id} has no metadata with key ${key}.`);
        ctx.enforce("volume:delete_snapshot_metadata", { project_id: s.project_id });
        await snaps.deleteMetadataKey(s.id, key);
        return { status: 200 };
      },
    },
  ];
}
