import { BadRequest, CloudError, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { ServersDB } from "../store/servers-tables.js";
import type { Compute } from "./deps.js";
import { boolField, invalidField, isObject, noAdditional, pyRepr, required } from "./fleet-validate.js";
import { MAX_LIMIT, strictQuery } from "./fleet-links.js";
import { MAX_PROXY } from "./images.js";
import { pageParams } from "./os-security-groups.js";
import { serverCaller } from "./server-common.js";

const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
/** match_device() in nova/block_device.py, as the schema's device pattern. */
const DEVICE = /^\/dev\/x{0,1}[a-z]{0,1}d{0,1}[a-z]+[0-9]*$/;

/**
 * schemas/volumes.py create_volume_attachment (+ tag at 2.49, delete_on_termination at 2.79) and
 * update_volume_attachment (volumeId only; 2.85 adds device, tag, delete_on_termination, serverId, id).
 */
function attachmentBody(ctx: RequestContext, update: boolean): void {
  const v = ctx.version!;
  const b = ctx.body;
  if (!isObject(b)) throw new BadRequest(`${pyRepr(b)} is not of type 'object'`);
  if (!("volumeAttachment" in b)) throw new BadRequest("'volumeAttachment' is a required property");
  noAdditional(b, ["volumeAttachment"], undefined);
  const a = b["volumeAttachment"];
  if (!isObject(a)) throw invalidField("volumeAttachment", a, `${pyRepr(a)} is not of type 'object'`);
  const allowed = ["volumeId"];
  if (!update || v.atLeast("2.85")) allowed.push("device");
  if ((!update && v.atLeast("2.49")) || (update && v.atLeast("2.85"))) allowed.push("tag");
  if ((!update && v.atLeast("2.79")) || (update && v.atLeast("2.85"))) allowed.push("delete_on_termination");
  if (update && v.atLeast("2.85")) allowed.push("serverId", "id");
  required(a, ["volumeId"], "volumeAttachment");
  noAdditional(a, allowed, "volumeAttachment");
  for (const k of ["volumeId", "serverId", "id"]) {
    const x = a[k];
    if (x === undefined) continue;
    if (typeof x !== "string") throw invalidField(k, x, `${pyRepr(x)} is not of type 'string'`);
    if (!UUID.test(x)) throw invalidField(k, x, `${pyRepr(x)} is not a 'uuid'`);
  }
  const dev = a["device"];
  if (dev !== undefined && dev !== null) {
    if (typeof dev !== "string") throw invalidField("device", dev, `${pyRepr(dev)} is not of type 'string', 'null'`);
    if (!DEVICE.test(dev)) throw invalidField("device", dev, `${pyRepr(dev)} does not match '(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$'`);
  }
  const tag = a["tag"];
  if (tag !== undefined) {
    if (typeof tag !== "string") throw invalidField("tag", tag, `${pyRepr(tag)} is not of type 'string'`);
    if (tag.length < 1) throw invalidField("tag", tag, `${pyRepr(tag)} is too short`);
    if (tag.length > 60) throw invalidField("tag", tag, `${pyRepr(tag)} is too long`);
    if (/[,/]/.test(tag)) throw invalidField("tag", tag, `${pyRepr(tag)} does not match '^[^,/]*$'`);
  }
  if (a["delete_on_termination"] !== undefined) boolField("delete_on_termination", a["delete_on_termination"]);
}

/**
 * Stackbox has no Block Storage service yet. Real Nova with no volume endpoint in the catalog
 * fails these calls with an unexpected-error 500 (keystoneauth's EndpointNotFound escapes the
 * controller); Stackbox answers an honest 503 in Nova's fault shape instead, after the same
 * version and policy checks, and does not advertise the volume extensions.
 */
export class VolumeServiceUnavailable extends CloudError {
  constructor() {
    super(503, "The Block Storage service (volumev3) is not available in this cloud.");
  }
}

/** os-volumes and os-snapshots (volumes.py VolumeController, SnapshotController): the Cinder proxies, up to 2.35. */
export function volumeProxyRoutes(): Route[] {
  const route = (method: "GET" | "POST" | "DELETE", path: string, operation: string, rule: string): Route => ({
    method,
    path,
    operation,
    policy: rule,
    maxVersion: MAX_PROXY,
    handler: async (ctx) => {
      if (method === "GET" && (path.endsWith("/os-volumes") || path.endsWith("/os-snapshots") || path.endsWith("/detail"))) pageParams(ctx);
      ctx.enforce(rule, { project_id: ctx.caller.projectId });
      throw new VolumeServiceUnavailable();
    },
  });
  return [
    route("GET", "/v2.1/os-volumes", "listVolumes", "os_compute_api:os-volumes:list"),
    route("POST", "/v2.1/os-volumes", "createVolume", "os_compute_api:os-volumes:create"),
    route("GET", "/v2.1/os-volumes/detail", "listVolumesDetail", "os_compute_api:os-volumes:detail"),
    route("GET", "/v2.1/os-volumes/:id", "showVolume", "os_compute_api:os-volumes:show"),
    route("DELETE", "/v2.1/os-volumes/:id", "deleteVolume", "os_compute_api:os-volumes:delete"),
    route("GET", "/v2.1/os-snapshots", "listSnapshots", "os_compute_api:os-volumes:snapshots:list"),
    route("POST", "/v2.1/os-snapshots", "createSnapshot", "os_compute_api:os-volumes:snapshots:create"),
    route("GET", "/v2.1/os-snapshots/detail", "listSnapshotsDetail", "os_compute_api:os-volumes:snapshots:detail"),
    route("GET", "/v2.1/os-snapshots/:id", "showSnapshot", "os_compute_api:os-volumes:snapshots:show"),
    route("DELETE", "/v2.1/os-snapshots/:id", "deleteSnapshot", "os_compute_api:os-volumes:snapshots:delete"),
  ];
}

/**
 * /servers/{id}/os-volume_attachments (VolumeAttachmentController): listing and showing read
 * Nova's own block device mappings (no Cinder call); attaching, swapping and detaching need
 * Cinder and answer 503.
 */
export function volumeAttachmentRoutes(c: Compute): Route[] {
  const load = async (ctx: RequestContext, rule: string) => {
    const inst = await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!);
    ctx.enforce(rule, { project_id: inst.project_id });
    return inst;
  };
  const bdms = (uuid: string) =>
    (c.database.db as ServersDB).selectFrom("cmp_block_device_mapping").selectAll().where("instance_uuid", "=", uuid).orderBy("created_at").execute();
  type Bdm = Awaited<ReturnType<typeof bdms>>[number];
  const view = (ctx: RequestContext, b: Bdm): Record<string, unknown> => {
    const v = ctx.version!;
    const d: Record<string, unknown> = {};
    if (!v.atLeast("2.89")) d["id"] = b.volume_id;
    d["volumeId"] = b.volume_id;
    d["serverId"] = b.instance_uuid;
    if (b.device_name) d["device"] = b.device_name;
    if (v.atLeast("2.70")) d["tag"] = b.tag;
    if (v.atLeast("2.79")) d["delete_on_termination"] = Number(b.delete_on_termination) === 1;
    if (v.atLeast("2.89")) {
      d["attachment_id"] = b.attachment_id;
      d["bdm_uuid"] = b.uuid;
    }
    return d;
  };
  const unavailable = (method: "POST" | "PUT" | "DELETE", path: string, operation: string, rule: string): Route => ({
    method,
    path,
    operation,
    policy: rule,
    handler: async (ctx) => {
      if (method !== "DELETE") attachmentBody(ctx, method === "PUT");
      // Before 2.85 a PUT is only the admin's volume swap.
      const policy = method === "PUT" && !ctx.version!.atLeast("2.85") ? "os_compute_api:os-volumes-attachments:swap" : rule;
      await load(ctx, policy);
      throw new VolumeServiceUnavailable();
    },
  });
  return [
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/os-volume_attachments",
      operation: "listVolumeAttachments",
      policy: "os_compute_api:os-volumes-attachments:index",
      handler: async (ctx) => {
        const page = pageParams(ctx);
        if (ctx.version!.atLeast("2.75")) {
          const extra = strictQuery(ctx, ["limit", "offset"]);
          if (extra) throw new BadRequest(extra);
        }
        const inst = await load(ctx, "os_compute_api:os-volumes-attachments:index");
        // common.limited over all BDMs, then the volume ones shown.
        const limit = Math.min(MAX_LIMIT, page.limit || MAX_LIMIT);
        const rows = (await bdms(inst.uuid)).slice(page.offset, page.offset + limit).filter((b) => b.volume_id);
        return { body: { volumeAttachments: rows.map((b) => view(ctx, b)) } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/os-volume_attachments/:volume_id",
      operation: "showVolumeAttachment",
      policy: "os_compute_api:os-volumes-attachments:show",
      handler: async (ctx) => {
        const inst = await load(ctx, "os_compute_api:os-volumes-attachments:show");
        const id = ctx.params["volume_id"]!;
        const b = (await bdms(inst.uuid)).find((r) => r.volume_id === id);
        if (!b) throw new NotFound(`Instance ${ctx.params["server_id"]!} is not attached to volume ${id}`);
        return { body: { volumeAttachment: view(ctx, b) } };
      },
    },
    unavailable("POST", "/v2.1/servers/:server_id/os-volume_attachments", "attachVolume", "os_compute_api:os-volumes-attachments:create"),
    unavailable("PUT", "/v2.1/servers/:server_id/os-volume_attachments/:volume_id", "updateVolumeAttachment", "os_compute_api:os-volumes-attachments:update"),
    unavailable("DELETE", "/v2.1/servers/:server_id/os-volume_attachments/:volume_id", "detachVolume", "os_compute_api:os-volumes-attachments:delete"),
  ];
}
