import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext } from "../../../http/context.js";
import type { VolumeManager } from "../manager/volumes.js";
import { volumeNotFound } from "../manager/volumes.js";
import type { VolumeRow } from "../store/tables.js";
import { imageMetadata } from "../views/volumes.js";
import type { Volume, VolumeType } from "./deps.js";
import type { FormatChecker, Schema } from "./volume-validate.js";
import { BOOLEAN, boolValue, EXTRA_SPECS, isObject, isUuidLike, validate, VOLUME_SIZE } from "./volume-validate.js";
import { callerOf, loadVolume } from "./volumes.js";

const VOLUME_STATUSES = ["creating", "available", "deleting", "error", "error_deleting", "error_managing", "managing", "attaching", "in-use", "detaching", "maintenance", "restoring-backup", "error_restoring", "reserved", "awaiting-transfer", "backing-up", "error_backing-up", "error_extending", "downloading", "uploading", "retyping", "extending"];
const MIGRATION_STATUSES = ["migrating", "error", "success", "completing", "none", "starting"];

/** Python's repr of a list of strings (Cinder's "valid statuses are: [...]"). */
const pyList = (l: string[]) => `[${l.map((s) => `'${s}'`).join(", ")}]`;

/** cinder/api/validation/validators.py format checkers of the reset body (InvalidParameterValue: 400, the bare message). */
const RESET_FORMATS: Record<string, FormatChecker> = {
  validate_volume_reset_body: (v) => {
    const o = v as Record<string, unknown>;
    if (!o["status"] && !o["attach_status"] && !o["migration_status"]) throw new BadRequest("Must specify 'status', 'attach_status' or 'migration_status' for update.");
    return true;
  },
  volume_status: (v) => {
    if (typeof v === "string" && v && !VOLUME_STATUSES.includes(v.toLowerCase())) throw new BadRequest(`Volume status: ${v} is invalid, valid statuses are: ${pyList(VOLUME_STATUSES)}.`);
    return true;
  },
  volume_attach_status: (v) => {
    if (typeof v === "string" && v && !["attached", "detached"].includes(v.toLowerCase())) throw new BadRequest(`Volume attach status: ${v} is invalid, valid statuses are: ['attached', 'detached'].`);
    return true;
  },
  volume_migration_status: (v) => {
    if (typeof v === "string" && v && !MIGRATION_STATUSES.includes(v.toLowerCase())) throw new BadRequest(`Volume migration status: ${v} is invalid, valid statuses are: ${pyList(MIGRATION_STATUSES)}.`);
    return true;
  },
};

function wrap(name: string, inner: Schema): Schema {
  return { type: "object", properties: { [name]: inner }, required: [name], additionalProperties: false };
}

const EXTEND = wrap("os-extend", { type: "object", properties: { new_size: VOLUME_SIZE }, required: ["new_size"], additionalProperties: false });
const RESET = wrap("os-reset_status", {
  type: "object",
  format: "validate_volume_reset_body",
  properties: {
    status: { type: ["string", "null"], format: "volume_status" },
    attach_status: { type: ["string", "null"], format: "volume_attach_status" },
    migration_status: { type: ["string", "null"], format: "volume_migration_status" },
  },
  additionalProperties: false,
});
const RETYPE = wrap("os-retype", {
  type: "object",
  properties: { new_type: { type: "string" }, migration_policy: { type: ["string", "null"], enum: ["on-demand", "never"] } },
  required: ["new_type"],
  additionalProperties: false,
});
const SET_BOOTABLE = wrap("os-set_bootable", { type: "object", properties: { bootable: BOOLEAN }, required: ["bootable"], additionalProperties: false });
const READONLY = wrap("os-update_readonly_flag", { type: "object", properties: { readonly: BOOLEAN }, required: ["readonly"], additionalProperties: false });
const SET_IMAGE_META = wrap("os-set_image_metadata", { type: "object", properties: { metadata: EXTRA_SPECS }, required: ["metadata"], additionalProperties: false });
const UNSET_IMAGE_META = wrap("os-unset_image_metadata", { type: "object", properties: { key: { type: "string", minLength: 1, maxLength: 255 } }, required: ["key"], additionalProperties: false });
const CONTAINER_FORMAT: Schema = { type: "string", enum: ["bare", "ovf", "ova", "aki", "ari", "ami", "docker", "compressed"] };

function uploadSchema(ctx: RequestContext): Schema {
  const props: Record<string, Schema> = {
    image_name: { type: "string", minLength: 1, maxLength: 255 },
    force: BOOLEAN,
    disk_format: { type: "string", enum: ["raw", "vmdk", "vdi", "qcow2", "vhd", "vhdx", "ploop"] },
    container_format: CONTAINER_FORMAT,
  };
  if (ctx.version!.atLeast("3.1")) {
    props["visibility"] = { type: "string", enum: ["community", "public", "private", "shared"] };
    props["protected"] = BOOLEAN;
  }
  return wrap("os-volume_upload_image", { type: "object", properties: props, required: ["image_name"], additionalProperties: false });
}

function migrateSchema(ctx: RequestContext): Schema {
  if (!ctx.version!.atLeast("3.16")) {
    return wrap("os-migrate_volume", {
      type: "object",
      properties: { host: { type: "string", maxLength: 255 }, force_host_copy: BOOLEAN, lock_volume: BOOLEAN },
      required: ["host"],
      additionalProperties: false,
    });
  }
  return wrap("os-migrate_volume", {
    type: "object",
    properties: { host: { type: ["string", "null"], maxLength: 255 }, force_host_copy: BOOLEAN, lock_volume: BOOLEAN, cluster: { type: ["string", "null"], minLength: 0, maxLength: 255 } },
    additionalProperties: false,
  });
}

/** VolumeType.get_by_name_or_id's not-found answers. */
async function typeByNameOrId(v: Volume, ident: string): Promise<VolumeType> {
  const t = await v.types.find(ident);
  if (t) return t;
  if (isUuidLike(ident)) throw new NotFound(`Volume type ${ident} could not be found.`);
  throw new NotFound(`Volume type with name ${ident} could not be found.`);
}

/**
 * api/contrib/volume_actions.py, admin_actions.py (volume part), volume_image_metadata.py and
 * api/v3/volumes.py revert. The attach-related actions are the attachments area's.
 */
export function registerVolumeActions(v: Volume, mgr: VolumeManager): void {
  const get = (ctx: RequestContext) => loadVolume(ctx, mgr, ctx.params["volume_id"]!);
  /** objects.Volume.get_by_id (admin actions and image metadata): visibility only, no volume:get. */
  const getById = async (ctx: RequestContext): Promise<VolumeRow> => mgr.get(callerOf(ctx), ctx.params["volume_id"]!);
  const body = (ctx: RequestContext) => ctx.body as Record<string, Record<string, unknown>>;
  const reg = (name: string, spec: Parameters<Volume["actions"]["register"]>[2]) => v.actions.register("volumes", name, spec);

  reg("os-extend", {
    handler: async (ctx) => {
      validate(ctx.body, EXTEND);
      const row = await get(ctx);
      const size = Number(body(ctx)["os-extend"]!["new_size"]);
      const attached = ctx.version!.atLeast("3.42") && row.status === "in-use";
      ctx.enforce(attached ? "volume:extend_attached_volume" : "volume:extend", { project_id: row.project_id });
      await mgr.extend(callerOf(ctx), row, size, attached);
      return { status: 202 };
    },
  });

  reg("os-reset_status", {
    handler: async (ctx) => {
      validate(ctx.body, RESET, RESET_FORMATS);
      const b = body(ctx)["os-reset_status"]!;
      const u: { status?: string; attach_status?: string; migration_status?: string | null } = {};
      if (b["status"]) u.status = String(b["status"]).toLowerCase();
      if (b["attach_status"]) u.attach_status = String(b["attach_status"]).toLowerCase();
      if (b["migration_status"]) {
        const m = String(b["migration_status"]).toLowerCase();
        u.migration_status = m === "none" ? null : m;
      }
      const row = await getById(ctx);
      ctx.enforce("volume_extension:volume_admin_actions:reset_status", { project_id: row.project_id });
      // Cinder's tuple misses a comma ('error_deleting' 'detaching'): only 'deleting' is refused.
      if (u.status === "deleting") throw new BadRequest("Cannot reset-state to deleting");
      if (u.status === "in-use") {
        const a = await v.core.db.selectFrom("vol_attachment").select("id").where("volume_id", "=", row.id).executeTakeFirst();
        if (!a) throw new BadRequest("Cannot reset-state to in-use because volume does not have any attachments.");
      }
      await mgr.resetStatus(row, u);
      return { status: 202 };
    },
  });

  reg("os-force_delete", {
    handler: async (ctx) => {
      const row = await get(ctx);
      ctx.enforce("volume_extension:volume_admin_actions:force_delete", { project_id: row.project_id });
      ctx.enforce("volume:delete", { project_id: row.project_id });
      await mgr.delete(callerOf(ctx), row, { cascade: false, force: true });
      return { status: 202 };
    },
  });

  reg("os-set_bootable", {
    handler: async (ctx) => {
      validate(ctx.body, SET_BOOTABLE);
      const row = await get(ctx);
      ctx.enforce("volume:update", { project_id: row.project_id });
      await mgr.setBootable(row, boolValue(body(ctx)["os-set_bootable"]!["bootable"]));
      return { status: 200 };
    },
  });

  reg("os-update_readonly_flag", {
    handler: async (ctx) => {
      validate(ctx.body, READONLY);
      const row = await get(ctx);
      ctx.enforce("volume:update_readonly_flag", { project_id: row.project_id });
      await mgr.setReadonly(row, boolValue(body(ctx)["os-update_readonly_flag"]!["readonly"]));
      return { status: 202 };
    },
  });

  reg("os-set_image_metadata", {
    handler: async (ctx) => {
      validate(ctx.body, SET_IMAGE_META);
      const row = await getById(ctx);
      ctx.enforce("volume_extension:volume_image_metadata:set", { project_id: row.project_id });
      await get(ctx);
      ctx.enforce("volume:update_volume_metadata", { project_id: row.project_id });
      const meta = body(ctx)["os-set_image_metadata"]!["metadata"] as Record<string, string>;
      return { status: 200, body: { metadata: await mgr.updateMetadata(callerOf(ctx), row.id, meta, false, "image") } };
    },
  });

  reg("os-unset_image_metadata", {
    handler: async (ctx) => {
      validate(ctx.body, UNSET_IMAGE_META);
      const row = await getById(ctx);
      ctx.enforce("volume_extension:volume_image_metadata:remove", { project_id: row.project_id });
      const key = String(body(ctx)["os-unset_image_metadata"]!["key"]);
      const cur = await get(ctx);
      ctx.enforce("volume:get_volume_metadata", { project_id: row.project_id });
      if (!(key in (imageMetadata(cur) ?? {}))) throw new NotFound(`Glance metadata for volume/snapshot ${row.id} cannot be found.`);
      ctx.enforce("volume:delete_volume_metadata", { project_id: row.project_id });
      await mgr.deleteMetadataKey(callerOf(ctx), row.id, key, "image");
      return { status: 200 };
    },
  });

  reg("os-show_image_metadata", {
    handler: async (ctx) => {
      const row = await get(ctx);
      ctx.enforce("volume:get_volume_metadata", { project_id: row.project_id });
      return { status: 200, body: { metadata: imageMetadata(row) ?? {} } };
    },
  });

  reg("os-volume_upload_image", {
    handler: async (ctx) => {
      validate(ctx.body, uploadSchema(ctx));
      const p = body(ctx)["os-volume_upload_image"]!;
      const force = boolValue(p["force"] ?? "False");
      const row = await get(ctx);
      ctx.enforce("volume_extension:volume_actions:upload_image", { project_id: row.project_id });
      const meta: Record<string, unknown> = { container_format: p["container_format"] ?? "bare", disk_format: p["disk_format"] ?? "raw", name: p["image_name"] };
      if (ctx.version!.atLeast("3.1")) {
        meta["visibility"] = p["visibility"] ?? "private";
        meta["protected"] = boolValue(p["protected"] ?? "False");
        if (meta["visibility"] === "public") ctx.enforce("volume_extension:volume_actions:upload_public", { project_id: row.project_id });
      }
      const out = await mgr.uploadToImage(callerOf(ctx), row, meta, force);
      return { status: 202, body: { "os-volume_upload_image": out } };
    },
  });

  reg("os-retype", {
    handler: async (ctx) => {
      validate(ctx.body, RETYPE);
      const row = await get(ctx);
      const p = body(ctx)["os-retype"]!;
      ctx.enforce("volume:retype", { project_id: row.project_id });
      const type = await typeByNameOrId(v, String(p["new_type"]));
      if (type.extra_specs["multiattach"] === "<is> True" && row.multiattach !== 1) ctx.enforce("volume:multiattach", { project_id: row.project_id });
      await mgr.retype(callerOf(ctx), row, type, p["migration_policy"] === "never" ? "never" : "on-demand");
      return { status: 202 };
    },
  });

  reg("os-migrate_volume", {
    handler: async (ctx) => {
      validate(ctx.body, migrateSchema(ctx));
      const row = await get(ctx);
      ctx.enforce("volume_extension:volume_admin_actions:migrate_volume", { project_id: row.project_id });
      const p = body(ctx)["os-migrate_volume"]!;
      let host = typeof p["host"] === "string" ? p["host"] : undefined;
      if (ctx.version!.atLeast("3.16")) {
        const cluster = typeof p["cluster"] === "string" && p["cluster"] ? p["cluster"] : undefined;
        if ((cluster === undefined) === (host === undefined || host === "")) throw new BadRequest("One and only one of cluster and host must be set.");
        // No clusters here: a cluster name matches nothing.
        if (cluster !== undefined) throw new BadRequest(`Invalid host: No available service named '${cluster}'`);
      } else if (!host) throw new BadRequest("Host field is missing.");
      host = host!;
      const lock = boolValue(p["lock_volume"] ?? false);
      await mgr.migrate(callerOf(ctx), row, host, lock);
      return { status: 202 };
    },
  });

  reg("revert", {
    minVersion: "3.40",
    handler: async (ctx) => {
      const b = ctx.body as Record<string, unknown>;
      if (!isObject(b["revert"])) throw new BadRequest("Missing required element 'revert' in request body.");
      const snapshotId = (b["revert"] as Record<string, unknown>)["snapshot_id"];
      const row = await get(ctx);
      ctx.enforce("volume:revert_to_snapshot", { project_id: row.project_id });
      await mgr.revert(callerOf(ctx), row, typeof snapshotId === "string" ? snapshotId : snapshotId == null ? undefined : String(snapshotId));
      return { status: 202 };
    },
  });

  void volumeNotFound;
}
