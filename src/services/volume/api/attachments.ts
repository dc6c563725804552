import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { AttachCaller, AttachmentManager } from "../manager/attachments.js";
import { attachmentDetail, attachmentSummary } from "../views/attachments.js";
import { isAdmin, parsePaging } from "./common.js";
import { isObject, pyRepr } from "../../../common/jsonschema-messages.js";

const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

/** cinder.api.validation's wording of a schema failure under a named property. */
export function invalid(field: string, value: unknown, message: string): BadRequest {
  return new BadRequest(`Invalid input for field/attribute ${field}. Value: ${pyRepr(value)}. ${message}`);
}

/** The top-level `{"<key>": {...}}` of a request body, checked as Cinder's schemas do. */
export function wrapped(body: unknown, key: string, allowNull = false): Record<string, unknown> | null {
  if (!isObject(body)) throw new BadRequest(`${pyRepr(body)} is not of type 'object'`);
  if (!(key in body)) throw new BadRequest(`'${key}' is a required property`);
  const extra = Object.keys(body).filter((k) => k !== key);
  if (extra.length > 0) throw new BadRequest(`Additional properties are not allowed (${extra.map(pyRepr).join(", ")} ${extra.length > 1 ? "were" : "was"} unexpected)`);
  const inner = body[key];
  if (inner === null && allowNull) return null;
  if (!isObject(inner)) throw invalid(key, inner, `${pyRepr(inner)} is not of type 'object'${allowNull ? ", 'null'" : ""}`);
  return inner;
}

export function noExtra(obj: Record<string, unknown>, allowed: readonly string[], field: string): void {
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw invalid(field, obj, `Additional properties are not allowed (${extra.map(pyRepr).join(", ")} ${extra.length > 1 ? "were" : "was"} unexpected)`);
}

export function uuidField(field: string, v: unknown): string {
  if (typeof v !== "string") throw invalid(field, v, `${pyRepr(v)} is not of type 'string'`);
  if (!UUID.test(v)) throw invalid(field, v, `${pyRepr(v)} is not a 'uuid'`);
  return v;
}

/** The attachment manager's view of the caller. */
export function attachCaller(ctx: RequestContext): AttachCaller {
  return {
    projectId: ctx.caller.projectId ?? "",
    admin: isAdmin(ctx),
    service: ctx.caller.roles.some((r) => r.name === "service"),
  };
}

const SORT_KEYS = ["created_at", "updated_at", "id", "volume_id", "instance_uuid", "attach_status", "attach_time", "detach_time"];
const FILTERS = ["volume_id", "status", "instance_id", "attach_status"];

/** api/v3/attachments.py AttachmentsController (3.27+, os-complete 3.44, mode 3.54). */
export function attachmentRoutes(m: AttachmentManager): Route[] {
  const list = (detail: boolean) => async (ctx: RequestContext) => {
    const paging = parsePaging(ctx, SORT_KEYS);
    const filters: { volume_id?: string; instance_uuid?: string; attach_status?: string } = {};
    const admin = isAdmin(ctx);
    // remove_invalid_filter_options: unknown keys are dropped for users, kept (and ignored) for admins.
    for (const k of FILTERS) {
      const v = ctx.q(k);
      if (v === undefined) continue;
      if (k === "instance_id") filters.instance_uuid = v;
      else if (k === "status" || k === "attach_status") filters.attach_status = v;
      else filters.volume_id = v;
    }
    const rows = await m.list(attachCaller(ctx), {
      allTenants: admin && ctx.q("all_tenants") !== undefined,
      filters,
      marker: paging.marker,
      limit: paging.limit,
      offset: paging.offset,
      sortKeys: paging.sortKeys,
      sortDirs: paging.sortDirs,
    });
    return { body: { attachments: rows.map((a) => (detail ? attachmentDetail(a) : attachmentSummary(a))) } };
  };
  return [
    { method: "GET", path: "/attachments", operation: "listAttachments", minVersion: "3.27", handler: list(false) },
    { method: "GET", path: "/attachments/detail", operation: "listAttachmentsDetail", minVersion: "3.27", handler: list(true) },
    {
      method: "GET",
      path: "/attachments/:attachment_id",
      operation: "showAttachment",
      minVersion: "3.27",
      handler: async (ctx) => {
        const { att, vol } = await m.attachment(attachCaller(ctx), ctx.params["attachment_id"]!);
        const format = (JSON.parse(vol.admin_metadata || "{}") as Record<string, string>)["format"];
        return { body: { attachment: attachmentDetail(att, format) } };
      },
    },
    {
      method: "POST",
      path: "/attachments",
      operation: "createAttachment",
      minVersion: "3.27",
      handler: async (ctx) => {
        const a = wrapped(ctx.body, "attachment")!;
        const withMode = ctx.version!.atLeast("3.54");
        noExtra(a, withMode ? ["instance_uuid", "connector", "volume_uuid", "mode"] : ["instance_uuid", "connector", "volume_uuid"], "attachment");
        if (!("volume_uuid" in a)) throw invalid("attachment", a, "'volume_uuid' is a required property");
        const instance = a["instance_uuid"] === undefined ? null : uuidField("instance_uuid", a["instance_uuid"]);
        const connector = a["connector"];
        if (connector !== undefined && connector !== null && !isObject(connector)) throw invalid("connector", connector, `${pyRepr(connector)} is not of type 'object', 'null'`);
        const volumeId = uuidField("volume_uuid", a["volume_uuid"]);
        let mode: string | undefined;
        if (withMode) {
          if (a["mode"] !== undefined && a["mode"] !== "rw" && a["mode"] !== "ro") throw invalid("mode", a["mode"], `${pyRepr(a["mode"])} is not one of ['rw', 'ro']`);
          mode = (a["mode"] as string | undefined) ?? "null";
        }
        const caller = attachCaller(ctx);
        const vol = await m.volume(caller, volumeId);
        ctx.enforce("volume:attachment_create", { project_id: vol.project_id });
        const att = await m.create(caller, volumeId, instance, (connector as Record<string, unknown> | null | undefined) ?? null, mode);
        return { status: 200, body: { attachment: attachmentDetail(att) } };
      },
    },
    {
      method: "PUT",
      path: "/attachments/:attachment_id",
      operation: "updateAttachment",
      minVersion: "3.27",
      handler: async (ctx) => {
        const a = wrapped(ctx.body, "attachment")!;
        noExtra(a, ["connector"], "attachment");
        if (!("connector" in a)) throw invalid("attachment", a, "'connector' is a required property");
        const c = a["connector"];
        if (!isObject(c)) throw invalid("connector", c, `${pyRepr(c)} is not of type 'object'`);
        if (Object.keys(c).length < 1) throw invalid("connector", c, `${pyRepr(c)} does not have enough properties`);
        const caller = attachCaller(ctx);
        const { vol } = await m.attachment(caller, ctx.params["attachment_id"]!);
        ctx.enforce("volume:attachment_update", { project_id: vol.project_id });
        const att = await m.update(caller, ctx.params["attachment_id"]!, c);
        return { body: { attachment: attachmentDetail(att) } };
      },
    },
    {
      method: "DELETE",
      path: "/attachments/:attachment_id",
      operation: "deleteAttachment",
      minVersion: "3.27",
      handler: async (ctx) => {
        const caller = attachCaller(ctx);
        const { vol } = await m.attachment(caller, ctx.params["attachment_id"]!);
        ctx.enforce("volume:attachment_delete", { project_id: vol.project_id });
        const rest = await m.delete(caller, ctx.params["attachment_id"]!);
        return { body: { attachments: rest.map(attachmentSummary) } };
      },
    },
    {
      method: "POST",
      path: "/attachments/:attachment_id/action",
      operation: "attachmentAction",
      minVersion: "3.44",
      handler: async (ctx) => {
        const b = ctx.body;
        if (!isObject(b) || Object.keys(b).length === 0) throw new BadRequest("Malformed request body");
        if (!("os-complete" in b)) throw new BadRequest(`There is no such action: ${Object.keys(b)[0]!}. Verify the request body and Content-Type header and try again.`);
        const caller = attachCaller(ctx);
        const { vol } = await m.attachment(caller, ctx.params["attachment_id"]!);
        ctx.enforce("volume:attachment_complete", { project_id: vol.project_id });
        await m.complete(caller, ctx.params["attachment_id"]!);
        return { status: 204 };
      },
    },
  ];
}
