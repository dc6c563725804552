import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Volume } from "./deps.js";
import { parsePaging, truthy } from "./common.js";
import type { BackupManager } from "../manager/backups.js";
import type { SnapshotManager } from "../manager/snapshots.js";
import { callerOf } from "../manager/snapshots.js";
import { backupDetail, backupList, backupSummary } from "../views/backups.js";
import type { FieldKind } from "./snapshots.js";
import { invalidField, isObject, pyRepr } from "../../../common/jsonschema-messages.js";
import { checkBody, queryFilters, rejectInvalidFilters, strictBool, stripped } from "./snapshots.js";
import { checkMetadataProperties } from "./snapshot-metadata.js";

const BACKUP_FILTERS = ["name", "status", "volume_id"];
const BOOLSTR = ["1", "t", "true", "on", "y", "yes", "0", "f", "false", "off", "n", "no"];

function sortKeysFor(ctx: RequestContext): string[] {
  const keys = ["id", "created_at", "updated_at", "status", "volume_id", "project_id", "user_id", "display_name", "display_description", "size", "container", "availability_zone", "data_timestamp", "object_count"];
  if (ctx.version!.atLeast("3.37")) keys.push("name");
  return keys;
}

/** contrib/backups.py + api/v3/backups.py. */
export function backupsRoutes(_v: Volume, backups: BackupManager, snaps: SnapshotManager): Route[] {
  const list = (detail: boolean) => async (ctx: RequestContext) => {
    ctx.enforce("backup:get_all", { project_id: ctx.caller.projectId, user_id: ctx.caller.userId });
    const c = callerOf(ctx);
    const paging = parsePaging(ctx, sortKeysFor(ctx));
    const withCount = ctx.version!.atLeast("3.45") && ctx.q("with_count") !== undefined ? truthy(ctx.q("with_count")) : false;
    const filters = queryFilters(ctx);
    rejectInvalidFilters(ctx, filters, BACKUP_FILTERS, c.admin);
    const at = filters["all_tenants"];
    if (at !== undefined && !BOOLSTR.includes(at.trim().toLowerCase())) throw new BadRequest(`all_tenants must be a boolean, got '${at}'.`);
    const f: Parameters<BackupManager["list"]>[1]["filters"] = {};
    if (filters["name"] !== undefined) f.name = filters["name"];
    if (filters["name~"] !== undefined && ctx.version!.atLeast("3.34")) f.nameLike = filters["name~"];
    if (filters["status"] !== undefined) f.status = filters["status"];
    if (filters["volume_id"] !== undefined) f.volume_id = filters["volume_id"];
    if (c.admin && filters["project_id"] !== undefined) f.project_id = filters["project_id"];
    const allTenants = truthy(at) || (c.admin && filters["project_id"] !== undefined);
    const { rows, count } = await backups.list(c, { allTenants, filters: f, paging, withCount });
    return { body: backupList(ctx, rows, detail, paging, count) };
  };
  return [
    { method: "GET", path: "/backups", operation: "listBackups", policy: "backup:get_all", handler: list(false) },
    { method: "GET", path: "/backups/detail", operation: "listBackupsDetail", policy: "backup:get_all", handler: list(true) },
    {
      method: "POST",
      path: "/backups",
      operation: "createBackup",
      policy: "backup:create",
      handler: async (ctx) => {
        const ver = ctx.version!;
        const props: Record<string, FieldKind> = {
          volume_id: "uuid",
          container: "string-or-null",
          description: "string-or-null",
          incremental: "boolean",
          force: "boolean",
          name: "string-or-null",
          snapshot_id: "uuid-or-null",
        };
        if (ver.atLeast("3.43")) props["metadata"] = "metadata-or-null";
        if (ver.atLeast("3.51")) props["availability_zone"] = "string-or-null";
        const b = checkBody(ctx.body, "backup", props, ["volume_id"]);
        const c = callerOf(ctx);
        const vol = await snaps.volume(c, b["volume_id"] as string);
        ctx.enforce("backup:create", { project_id: vol.project_id });
        const metadata = isObject(b["metadata"]) ? checkMetadataProperties(b["metadata"]) : {};
        const row = await backups.create(c, vol.id, {
          name: stripped(b["name"]),
          description: stripped(b["description"]),
          container: typeof b["container"] === "string" ? b["container"] : null,
          incremental: b["incremental"] !== undefined ? strictBool(b["incremental"]) : false,
          force: b["force"] !== undefined ? strictBool(b["force"]) : false,
          snapshotId: typeof b["snapshot_id"] === "string" ? b["snapshot_id"] : null,
          metadata,
          availabilityZone: typeof b["availability_zone"] === "string" ? b["availability_zone"] : null,
          requestId: ctx.requestId,
        });
        return { status: 202, body: { backup: backupSummary(ctx, row) } };
      },
    },
    {
      method: "GET",
      path: "/backups/:backup_id",
      operation: "showBackup",
      policy: "backup:get",
      handler: async (ctx) => {
        const b = await backups.get(callerOf(ctx), ctx.params["backup_id"]!);
        ctx.enforce("backup:get", { project_id: b.project_id });
        return { body: { backup: backupDetail(ctx, b) } };
      },
    },
    {
      method: "PUT",
      path: "/backups/:backup_id",
      operation: "updateBackup",
      policy: "backup:update",
      minVersion: "3.9",
      handler: async (ctx) => {
        const props: Record<string, FieldKind> = { name: "string-or-null", description: "string-or-null" };
        if (ctx.version!.atLeast("3.43")) props["metadata"] = "metadata";
        const body = checkBody(ctx.body, "backup", props, [], true);
        const b = await backups.get(callerOf(ctx), ctx.params["backup_id"]!);
        ctx.enforce("backup:get", { project_id: b.project_id });
        ctx.enforce("backup:update", { project_id: b.project_id });
        const fields: { name?: string | null; description?: string | null; metadata?: Record<string, string> } = {};
        if ("name" in body) fields.name = stripped(body["name"]);
        if ("description" in body) fields.description = stripped(body["description"]);
        if ("metadata" in body && isObject(body["metadata"])) fields.metadata = checkMetadataProperties(body["metadata"]);
        const row = await backups.update(b.id, fields);
        return { body: { backup: backupSummary(ctx, row) } };
      },
    },
    {
      method: "DELETE",
      path: "/backups/:backup_id",
      operation: "deleteBackup",
      policy: "backup:delete",
      handler: async (ctx) => {
        const b = await backups.get(callerOf(ctx), ctx.params["backup_id"]!);
        ctx.enforce("backup:get", { project_id: b.project_id });
        ctx.enforce("backup:delete", { project_id: b.project_id });
        await backups.delete(b, false);
        return { status: 202 };
      },
    },
    {
      method: "GET",
      path: "/backups/:backup_id/export_record",
      operation: "exportBackup",
      policy: "backup:export-import",
      handler: async (ctx) => {
        const b = await backups.get(callerOf(ctx), ctx.params["backup_id"]!);
        ctx.enforce("backup:get", { project_id: b.project_id });
        ctx.enforce("backup:export-import", { project_id: b.project_id });
        return { body: { "backup-record": backups.exportRecord(b) } };
      },
    },
    {
      method: "POST",
      path: "/backups/import_record",
      operation: "importBackup",
      policy: "backup:backup-import",
      handler: async (ctx) => {
        const r = checkBody(ctx.body, "backup-record", { backup_service: "string", backup_url: "string" }, ["backup_service", "backup_url"]);
        const service = r["backup_service"] as string;
        const url = r["backup_url"] as string;
        if ([...service].length > 255) throw invalidField("backup_service", service, `${pyRepr(service)} is too long`);
        if (url.length < 1) throw invalidField("backup_url", url, `${pyRepr(url)} is too short`);
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(url) || url.length % 4 !== 0) throw invalidField("backup_url", url, `${pyRepr(url)} is not a 'base64'`);
        ctx.enforce("backup:backup-import", { project_id: ctx.caller.projectId, user_id: ctx.caller.userId });
        const row = await backups.importRecord(callerOf(ctx), service, url);
        return { status: 201, body: { backup: backupSummary(ctx, row) } };
      },
    },
    {
      method: "POST",
      path: "/backups/:backup_id/restore",
      operation: "restoreBackup",
      policy: "backup:restore",
      handler: async (ctx) => {
        const r = checkBody(ctx.body, "restore", { name: "string-or-null", volume_id: "uuid-or-null" }, [], true);
        const c = callerOf(ctx);
        const b = await backups.get(c, ctx.params["backup_id"]!);
        ctx.enforce("backup:get", { project_id: b.project_id });
        ctx.enforce("backup:restore", { project_id: b.project_id });
        const volumeId = typeof r["volume_id"] === "string" ? r["volume_id"] : null;
        const name = typeof r["name"] === "string" ? r["name"] : null;
        const out = await backups.restore(c, b, volumeId, name, ctx.requestId);
        return { status: 202, body: { restore: out } };
      },
    },
  ];
}

/** admin_actions.py BackupAdminController: os-reset_status (available or error), os-force_delete. */
export function registerBackupActions(v: Volume, backups: BackupManager): void {
  v.actions.register("backups", "os-reset_status", {
    handler: async (ctx, value) => {
      const body = checkBody({ "os-reset_status": value }, "os-reset_status", { status: "string" }, ["status"]);
      const status = body["status"] as string;
      if (!status || !["available", "error"].includes(status.toLowerCase())) throw invalidField("status", status, `${pyRepr(status)} is not a 'backup_status'`);
      const b = await backups.get(callerOf(ctx), ctx.params["backup_id"]!);
      ctx.enforce("volume_extension:backup_admin_actions:reset_status", { project_id: b.project_id });
      await backups.resetStatus(b.id, status.toLowerCase());
      return { status: 202 };
    },
  });
  v.actions.register("backups", "os-force_delete", {
    handler: async (ctx) => {
      const b = await backups.get(callerOf(ctx), ctx.params["backup_id"]!);
      ctx.enforce("backup:get", { project_id: b.project_id });
      ctx.enforce("volume_extension:backup_admin_actions:force_delete", { project_id: b.project_id });
      await backups.delete(b, true);
      return { status: 202 };
    },
  });
}
