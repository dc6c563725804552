import { createHash } from "node:crypto";
import { BadRequest, CloudError, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { VolumeManager } from "../manager/volumes.js";
import { userMetadata } from "../views/volumes.js";
import type { Schema } from "./volume-validate.js";
import { EXTRA_SPECS, validate } from "./volume-validate.js";
import { callerOf, loadVolume } from "./volumes.js";

class PreconditionFailed extends CloudError {
  constructor() {
    super(412, "Precondition Failed");
  }
}

const CREATE: Schema = { type: "object", properties: { metadata: EXTRA_SPECS }, required: ["metadata"], additionalProperties: false };
const UPDATE: Schema = { type: "object", properties: { meta: { ...EXTRA_SPECS, minProperties: 1, maxProperties: 1 } }, required: ["meta"], additionalProperties: false };

/** Python's json.dumps (", " and ": " separators, non-ASCII escaped) for the 3.15 ETag. */
function pyJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJson).join(", ")}]`;
  if (typeof v === "object" && v !== null) {
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyJson(k)}: ${pyJson(x)}`)
      .join(", ")}}`;
  }
  return (JSON.stringify(v) ?? "null").replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function etagOf(meta: Record<string, string>): string {
  return createHash("md5").update(pyJson({ metadata: meta }), "utf8").digest("hex");
}

/** api/v2/volume_metadata.py + v3 (ETags at 3.15): /volumes/{id}/metadata. */
export function volumeMetadataRoutes(mgr: VolumeManager): Route[] {
  const load = async (ctx: RequestContext, rule: string) => {
    const row = await loadVolume(ctx, mgr, ctx.params["volume_id"]!);
    ctx.enforce(rule, { project_id: row.project_id });
    return row;
  };
  const ifMatch = (ctx: RequestContext, meta: Record<string, string>) => {
    const h = ctx.header("if-match");
    if (!ctx.version!.atLeast("3.15") || !h) return;
    const tags = h.split(",").map((t) => t.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1"));
    if (!tags.includes("*") && !tags.includes(etagOf(meta))) throw new PreconditionFailed();
  };
  return [
    {
      method: "GET",
      path: "/volumes/:volume_id/metadata",
      operation: "listVolumeMetadata",
      policy: "volume:get_volume_metadata",
      handler: async (ctx) => {
        const meta = userMetadata(await load(ctx, "volume:get_volume_metadata"));
        const headers: Record<string, string> = {};
        if (ctx.version!.atLeast("3.15")) headers["etag"] = etagOf(meta);
        return { body: { metadata: meta }, headers };
      },
    },
    {
      method: "POST",
      path: "/volumes/:volume_id/metadata",
      operation: "createVolumeMetadata",
      policy: "volume:create_volume_metadata",
      handler: async (ctx) => {
        validate(ctx.body, CREATE);
        const m = (ctx.body as { metadata: Record<string, string> }).metadata;
        const row = await load(ctx, "volume:create_volume_metadata");
        return { body: { metadata: await mgr.updateMetadata(callerOf(ctx), row.id, m, false) } };
      },
    },
    {
      method: "PUT",
      path: "/volumes/:volume_id/metadata",
      operation: "updateVolumeMetadata",
      policy: "volume:update_volume_metadata",
      handler: async (ctx) => {
        validate(ctx.body, CREATE);
        const m = (ctx.body as { metadata: Record<string, string> }).metadata;
        const row = await load(ctx, "volume:update_volume_metadata");
        ifMatch(ctx, userMetadata(row));
        return { body: { metadata: await mgr.updateMetadata(callerOf(ctx), row.id, m, true) } };
      },
    },
    {
      method: "GET",
      path: "/volumes/:volume_id/metadata/:key",
      operation: "showVolumeMetadataItem",
      policy: "volume:get_volume_metadata",
      handler: async (ctx) => {
        const row = await load(ctx, "volume:get_volume_metadata");
        const key = ctx.params["key"]!;
        const meta = userMetadata(row);
        if (!(key in meta)) throw new NotFound(`Volume ${row.id} has no metadata with key ${key}.`);
        return { body: { meta: { [key]: meta[key] } } };
      },
    },
    {
      method: "PUT",
      path: "/volumes/:volume_id/metadata/:key",
      operation: "updateVolumeMetadataItem",
      policy: "volume:update_volume_metadata",
      handler: async (ctx) => {
        validate(ctx.body, UPDATE);
        const m = (ctx.body as { meta: Record<string, string> }).meta;
        const key = ctx.params["key"]!;
        if (!(key in m)) throw new BadRequest("Request body and URI mismatch");
        if (Object.keys(m).length > 1) throw new BadRequest("Request body contains too many items");
        const row = await load(ctx, "volume:update_volume_metadata");
        ifMatch(ctx, userMetadata(row));
        await mgr.updateMetadata(callerOf(ctx), row.id, m, false);
        return { body: { meta: m } };
      },
    },
    {
      method: "DELETE",
      path: "/volumes/:volume_id/metadata/:key",
      operation: "deleteVolumeMetadataItem",
      policy: "volume:delete_volume_metadata",
      handler: async (ctx) => {
        const row = await load(ctx, "volume:get_volume_metadata");
        const key = ctx.params["key"]!;
        if (!(key in userMetadata(row))) throw new NotFound(`Volume ${row.id} has no metadata with key ${key}.`);
        ctx.enforce("volume:delete_volume_metadata", { project_id: row.project_id });
        await mgr.deleteMetadataKey(callerOf(ctx), row.id, key);
        return { status: 200 };
      },
    },
  ];
}
