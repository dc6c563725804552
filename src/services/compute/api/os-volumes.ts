import { BadRequest, CloudError, Conflict, NotFound } from "../../../common/errors.js";
import type { TransportResponse } from "../../../clients/transport.js";
import { ServiceCallError } from "../../../clients/transport.js";
import type { Reply, RequestContext, Route } from "../../../http/context.js";
import { cinderMessage, volumeOpsOf } from "../manager/volumes.js";
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

type Doc = Record<string, unknown>;

/** volumes.py _translate_volume_summary_view over Cinder's volume. */
function volumeView(vol: Doc): Doc {
  const atts = (vol["attachments"] as Array<Doc> | undefined) ?? [];
  let attachments: Doc[] = [{}];
  if (vol["attach_status"] === "attached" || (vol["status"] === "in-use" && atts.length > 0)) {
    const a = atts[0];
    if (a) {
      const d: Doc = { id: vol["id"], volumeId: vol["id"], serverId: a["server_id"] };
      if (a["device"]) d["device"] = a["device"];
      attachments = [d];
    }
  }
  return {
    id: vol["id"],
    status: vol["status"],
    size: vol["size"],
    availabilityZone: vol["availability_zone"],
    createdAt: vol["created_at"],
    attachments,
    displayName: vol["name"] ?? null,
    displayDescription: vol["description"] ?? null,
    volumeType: vol["volume_type"] ?? null,
    snapshotId: vol["snapshot_id"] ?? null,
    metadata: (vol["metadata"] as Doc | undefined) ?? {},
  };
}

/** volumes.py _translate_snapshot_summary_view over Cinder's snapshot. */
function snapshotView(s: Doc): Doc {
  return {
    id: s["id"],
    volumeId: s["volume_id"],
    status: s["status"],
    size: s["size"],
    createdAt: s["created_at"],
    displayName: s["name"] ?? null,
    displayDescription: s["description"] ?? null,
  };
}

/** The error of a Cinder call Nova does not map: its status and message pass through (cinderclient's text). */
function passThrough(res: TransportResponse): Error {
  const msg = cinderMessage(res);
  if (res.status === 400) return new BadRequest(`Invalid input received: ${msg}`);
  if (res.status === 413 || res.status === 403) return new CloudError(403, msg);
  return new ServiceCallError("", "", res.status, res.body);
}

/** os-volumes and os-snapshots (volumes.py VolumeController, SnapshotController): the Cinder proxies, up to 2.35. */
export function volumeProxyRoutes(c: Compute): Route[] {
  const route = (method: "GET" | "POST" | "DELETE", path: string, operation: string, rule: string, handler: (ctx: RequestContext) => Promise<Reply>): Route => ({
    method,
    path,
    operation,
    policy: rule,
    maxVersion: MAX_PROXY,
    handler: async (ctx) => {
      // "/os-volumes/" is the show route with an empty id in Nova's mapper, not the list.
      if (method === "GET" && /\/os-(volumes|snapshots)\/(\?|$)/.test(ctx.url)) throw new NotFound("The resource could not be found.");
      // The query schema is checked before policy (validation.query_schema runs first).
      if (method === "GET" && (path.endsWith("/os-volumes") || path.endsWith("/os-snapshots") || path.endsWith("/detail"))) pageParams(ctx);
      ctx.enforce(rule, { project_id: ctx.caller.projectId });
      return handler(ctx);
    },
  });
  const token = (ctx: RequestContext) => ctx.caller.tokenId;
  /** common.limited over the project's list (offset/limit as Nova's proxies page). */
  const listOf = async (ctx: RequestContext, coll: "volumes" | "snapshots") => {
    const page = pageParams(ctx);
    const res = await c.volume.raw("GET", `/${coll}/detail`, { token: token(ctx) });
    if (res.status !== 200) throw passThrough(res);
    const all = ((res.body as Record<string, Doc[]>)[coll] ?? []);
    const limit = Math.min(MAX_LIMIT, page.limit || MAX_LIMIT);
    return all.slice(page.offset, page.offset + limit);
  };
  const showVolume = async (ctx: RequestContext) => {
    const id = ctx.params["id"]!;
    const res = await c.volume.raw("GET", `/volumes/${encodeURIComponent(id)}`, { token: token(ctx) });
    if (res.status === 404) throw new NotFound(`Volume ${id} could not be found.`);
    if (res.status !== 200) throw passThrough(res);
    return { body: { volume: volumeView((res.body as { volume: Doc }).volume) } };
  };
  const showSnapshot = async (ctx: RequestContext) => {
    const id = ctx.params["id"]!;
    const res = await c.volume.raw("GET", `/snapshots/${encodeURIComponent(id)}`, { token: token(ctx) });
    if (res.status === 404) throw new NotFound(`Snapshot ${id} could not be found.`);
    if (res.status !== 200) throw passThrough(res);
    return { body: { snapshot: snapshotView((res.body as { snapshot: Doc }).snapshot) } };
  };
  return [
    route("GET", "/v2.1/os-volumes", "listVolumes", "os_compute_api:os-volumes:list", async (ctx) => ({ body: { volumes: (await listOf(ctx, "volumes")).map(volumeView) } })),
    route("GET", "/v2.1/os-volumes/detail", "listVolumesDetail", "os_compute_api:os-volumes:detail", async (ctx) => ({ body: { volumes: (await listOf(ctx, "volumes")).map(volumeView) } })),
    route("GET", "/v2.1/os-volumes/:id", "showVolume", "os_compute_api:os-volumes:show", showVolume),
    route("POST", "/v2.1/os-volumes", "createVolume", "os_compute_api:os-volumes:create", async (ctx) => {
      const b = ctx.body;
      if (!isObject(b)) throw new BadRequest(`${pyRepr(b)} is not of type 'object'`);
      if (!("volume" in b)) throw new BadRequest("'volume' is a required property");
      noAdditional(b, ["volume"], undefined);
      const vol = b["volume"];
      if (!isObject(vol)) throw invalidField("volume", vol, `${pyRepr(vol)} is not of type 'object'`);
      required(vol, ["size"], "volume");
      noAdditional(vol, ["volume_type", "metadata", "snapshot_id", "size", "availability_zone", "display_name", "display_description"], "volume");
      for (const k of ["volume_type", "snapshot_id", "availability_zone", "display_name", "display_description"]) {
        if (vol[k] !== undefined && typeof vol[k] !== "string") throw invalidField(k, vol[k], `${pyRepr(vol[k])} is not of type 'string'`);
      }
      if (vol["metadata"] !== undefined && !isObject(vol["metadata"])) throw invalidField("metadata", vol["metadata"], `${pyRepr(vol["metadata"])} is not of type 'object'`);
      const size = vol["size"];
      if (typeof size !== "number" && typeof size !== "string") throw invalidField("size", size, `${pyRepr(size)} is not of type 'integer', 'string'`);
      if (typeof size === "number" && !Number.isInteger(size)) throw invalidField("size", size, `${pyRepr(size)} is not of type 'integer', 'string'`);
      if (typeof size === "string" && !/^[0-9]+$/.test(size)) throw invalidField("size", size, `${pyRepr(size)} does not match '^[0-9]+$'`);
      if (Number(size) < 1) throw invalidField("size", size, `${pyRepr(size)} is less than the minimum of 1`);
      const snapshotId = vol["snapshot_id"] as string | undefined;
      if (snapshotId !== undefined) {
        const snap = await c.volume.getSnapshot(snapshotId, token(ctx));
        if (!snap) throw new NotFound(`Snapshot ${snapshotId} could not be found.`);
      }
      const body: Doc = { size: Number(size) };
      if (vol["display_name"] !== undefined) body["name"] = vol["display_name"];
      if (vol["display_description"] !== undefined) body["description"] = vol["display_description"];
      if (snapshotId !== undefined) body["snapshot_id"] = snapshotId;
      if (vol["volume_type"] !== undefined) body["volume_type"] = vol["volume_type"];
      if (vol["metadata"] !== undefined) body["metadata"] = vol["metadata"];
      if (vol["availability_zone"] !== undefined) body["availability_zone"] = vol["availability_zone"];
      const res = await c.volume.createVolume(body, token(ctx));
      if (res.status !== 202 && res.status !== 200) throw passThrough(res);
      const created = (res.body as { volume: Doc }).volume;
      return { status: 200, body: { volume: volumeView(created) }, headers: { location: `${ctx.serviceUrl}/v2.1/os-volumes/${String(created["id"])}` } };
    }),
    route("DELETE", "/v2.1/os-volumes/:id", "deleteVolume", "os_compute_api:os-volumes:delete", async (ctx) => {
      const id = ctx.params["id"]!;
      const res = await c.volume.deleteVolume(id, token(ctx));
      if (res.status === 404) throw new NotFound(`Volume ${id} could not be found.`);
      if (res.status >= 300) throw passThrough(res);
      return { status: 202 };
    }),
    route("GET", "/v2.1/os-snapshots", "listSnapshots", "os_compute_api:os-volumes:snapshots:list", async (ctx) => ({ body: { snapshots: (await listOf(ctx, "snapshots")).map(snapshotView) } })),
    route("GET", "/v2.1/os-snapshots/detail", "listSnapshotsDetail", "os_compute_api:os-volumes:snapshots:detail", async (ctx) => ({ body: { snapshots: (await listOf(ctx, "snapshots")).map(snapshotView) } })),
    route("GET", "/v2.1/os-snapshots/:id", "showSnapshot", "os_compute_api:os-volumes:snapshots:show", showSnapshot),
    route("POST", "/v2.1/os-snapshots", "createSnapshot", "os_compute_api:os-volumes:snapshots:create", async (ctx) => {
      const b = ctx.body;
      if (!isObject(b)) throw new BadRequest(`${pyRepr(b)} is not of type 'object'`);
      if (!("snapshot" in b)) throw new BadRequest("'snapshot' is a required property");
      noAdditional(b, ["snapshot"], undefined);
      const sn = b["snapshot"];
      if (!isObject(sn)) throw invalidField("snapshot", sn, `${pyRepr(sn)} is not of type 'object'`);
      required(sn, ["volume_id"], "snapshot");
      noAdditional(sn, ["volume_id", "force", "display_name", "display_description"], "snapshot");
      for (const k of ["volume_id", "display_name", "display_description"]) {
        if (sn[k] !== undefined && typeof sn[k] !== "string") throw invalidField(k, sn[k], `${pyRepr(sn[k])} is not of type 'string'`);
      }
      const force = sn["force"] === undefined ? false : boolField("force", sn["force"]);
      const body: Doc = { volume_id: sn["volume_id"], force };
      if (sn["display_name"] !== undefined) body["name"] = sn["display_name"];
      if (sn["display_description"] !== undefined) body["description"] = sn["display_description"];
      const res = await c.volume.raw("POST", "/snapshots", { body: { snapshot: body }, token: token(ctx) });
      if (res.status === 404) throw new NotFound(cinderMessage(res).replace(/ \(HTTP 404\).*$/, ""));
      if (res.status !== 202 && res.status !== 200) throw passThrough(res);
      return { status: 200, body: { snapshot: snapshotView((res.body as { snapshot: Doc }).snapshot) } };
    }),
    route("DELETE", "/v2.1/os-snapshots/:id", "deleteSnapshot", "os_compute_api:os-volumes:snapshots:delete", async (ctx) => {
      const id = ctx.params["id"]!;
      const res = await c.volume.raw("DELETE", `/snapshots/${encodeURIComponent(id)}`, { token: token(ctx) });
      if (res.status === 404) throw new NotFound(`Snapshot ${id} could not be found.`);
      if (res.status >= 300) throw passThrough(res);
      return { status: 202 };
    }),
  ];
}

/**
 * /servers/{id}/os-volume_attachments (VolumeAttachmentController): listing and showing read
 * Nova's own block device mappings; attach, detach and swap go through Cinder's attachments
 * (manager/volumes.ts).
 */
export function volumeAttachmentRoutes(c: Compute): Route[] {
  const vops = volumeOpsOf(c);
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
  /** _check_request_version: shelved servers take volume changes from 2.20. */
  const shelvedCheck = (ctx: RequestContext, inst: { uuid: string; vm_state: string }, action: string) => {
    if ((inst.vm_state === "shelved" || inst.vm_state === "shelved_offloaded") && !ctx.version!.atLeast("2.20")) {
      throw new Conflict(`Cannot '${action}' instance ${inst.uuid} while it is in vm_state ${inst.vm_state}`);
    }
  };
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
    {
      method: "POST",
      path: "/v2.1/servers/:server_id/os-volume_attachments",
      operation: "attachVolume",
      policy: "os_compute_api:os-volumes-attachments:create",
      handler: async (ctx) => {
        attachmentBody(ctx, false);
        const inst = await load(ctx, "os_compute_api:os-volumes-attachments:create");
        const a = (ctx.body as Record<string, Record<string, unknown>>)["volumeAttachment"]!;
        const volumeId = a["volumeId"] as string;
        const tag = (a["tag"] as string | undefined) ?? null;
        const dot = a["delete_on_termination"] === undefined ? false : boolField("delete_on_termination", a["delete_on_termination"]);
        shelvedCheck(ctx, inst, "attach_volume");
        const device = await vops.attach(serverCaller(ctx), inst, {
          volumeId,
          device: (a["device"] as string | null | undefined) ?? null,
          tag,
          deleteOnTermination: dot,
          supportsMultiattach: ctx.version!.atLeast("2.60"),
        });
        const v = ctx.version!;
        const out: Record<string, unknown> = { id: volumeId, serverId: inst.uuid, volumeId, device };
        if (v.atLeast("2.70")) out["tag"] = tag;
        if (v.atLeast("2.79")) out["delete_on_termination"] = dot;
        return { body: { volumeAttachment: out } };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/servers/:server_id/os-volume_attachments/:volume_id",
      operation: "updateVolumeAttachment",
      policy: "os_compute_api:os-volumes-attachments:update",
      handler: async (ctx) => {
        attachmentBody(ctx, true);
        const inst = await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!);
        const a = (ctx.body as Record<string, Record<string, unknown>>)["volumeAttachment"]!;
        const id = ctx.params["volume_id"]!;
        const newId = a["volumeId"] as string;
        const onlySwap = !ctx.version!.atLeast("2.85");
        if (onlySwap || id !== newId) ctx.enforce("os_compute_api:os-volumes-attachments:swap", {});
        else ctx.enforce("os_compute_api:os-volumes-attachments:update", { project_id: inst.project_id });
        const caller = serverCaller(ctx);
        if (onlySwap) {
          await vops.swap(caller, inst, id, newId);
        } else {
          await vops.update(inst, id, a);
          if (id !== newId) await vops.swap(caller, inst, id, newId);
        }
        return { status: 202 };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/servers/:server_id/os-volume_attachments/:volume_id",
      operation: "detachVolume",
      policy: "os_compute_api:os-volumes-attachments:delete",
      handler: async (ctx) => {
        const inst = await load(ctx, "os_compute_api:os-volumes-attachments:delete");
        shelvedCheck(ctx, inst, "detach_volume");
        await vops.detach(serverCaller(ctx), inst, ctx.params["volume_id"]!);
        return { status: 202 };
      },
    },
  ];
}
