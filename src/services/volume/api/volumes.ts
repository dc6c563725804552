import { BadRequest, Conflict, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Caller, CreateRequest, ListQuery, TimeFilter, VolumeManager } from "../manager/volumes.js";
import { volumeNotFound } from "../manager/volumes.js";
import type { VolumeRow } from "../store/tables.js";
import { loadExtras, volumeDetail, volumeSummary } from "../views/volumes.js";
import { collectionLinks, isAdmin, parsePaging, truthy } from "./common.js";
import type { Volume, VolumeType } from "./deps.js";
import type { Schema } from "./volume-validate.js";
import { isObject, isUuidLike, METADATA_ALLOWS_NULL, OPTIONAL_BOOLEAN, OPTIONAL_UUID, VOLUME_SIZE, EXTRA_SPECS, validate } from "./volume-validate.js";

export function callerOf(ctx: RequestContext): Caller {
  const a = ctx.caller;
  return { projectId: a.projectId ?? "", userId: a.userId, admin: isAdmin(ctx), requestId: ctx.requestId, token: a.tokenId };
}

/** volume_api.get: visible to the caller and allowed by volume:get, else "not found". */
export async function loadVolume(ctx: RequestContext, mgr: VolumeManager, id: string): Promise<VolumeRow> {
  const row = await mgr.get(callerOf(ctx), id);
  if (!ctx.allowed("volume:get", { project_id: row.project_id })) throw volumeNotFound(id);
  return row;
}

// ---- schemas (cinder/api/schemas/volumes.py) ----

const NAME: Schema = { type: ["string", "null"], format: "name_non_mandatory_remove_white_spaces" };
const DESCRIPTION: Schema = { type: ["string", "null"], format: "description_non_mandatory_remove_white_spaces" };

function createSchema(ctx: RequestContext): Schema {
  const props: Record<string, Schema> = {
    name: NAME,
    description: DESCRIPTION,
    display_name: NAME,
    display_description: DESCRIPTION,
    volume_type: { type: ["string", "null"], minLength: 0, maxLength: 255 },
    metadata: METADATA_ALLOWS_NULL,
    snapshot_id: OPTIONAL_UUID,
    source_volid: OPTIONAL_UUID,
    consistencygroup_id: OPTIONAL_UUID,
    size: { ...VOLUME_SIZE, type: ["integer", "string", "null"] },
    availability_zone: { type: ["string", "null"], minLength: 1, maxLength: 255 },
    multiattach: OPTIONAL_BOOLEAN,
    image_id: { type: ["string", "null"], minLength: 0, maxLength: 255 },
    imageRef: { type: ["string", "null"], minLength: 0, maxLength: 255 },
  };
  const v = ctx.version!;
  if (v.atLeast("3.13")) props["group_id"] = { type: ["string", "null"], minLength: 0, maxLength: 255 };
  if (v.atLeast("3.47")) props["backup_id"] = OPTIONAL_UUID;
  return {
    type: "object",
    properties: {
      volume: { type: "object", properties: props, ...(v.atLeast("3.53") ? { additionalProperties: false } : {}) },
      "OS-SCH-HNT:scheduler_hints": { type: ["object", "null"] },
    },
    required: ["volume"],
    additionalProperties: false,
  };
}

function updateSchema(ctx: RequestContext): Schema {
  const inner: Schema = {
    type: "object",
    properties: { name: NAME, description: DESCRIPTION, display_name: NAME, display_description: DESCRIPTION, metadata: EXTRA_SPECS },
    additionalProperties: false,
  };
  if (ctx.version!.atLeast("3.53")) inner.anyOf = [{ required: ["name"] }, { required: ["description"] }, { required: ["display_name"] }, { required: ["display_description"] }, { required: ["metadata"] }];
  return { type: "object", properties: { volume: inner }, required: ["volume"], additionalProperties: false };
}

/** validate_name_and_description(check_length=False): strings are stripped. */
function str(v: unknown): string | null {
  return typeof v === "string" ? v.trim() : null;
}

// ---- list filters ----

/** resource_filters.json's volume filters (what a non-admin may filter by). */
export const VOLUME_FILTERS = ["name", "status", "metadata", "bootable", "migration_status", "availability_zone", "group_id", "size", "created_at", "updated_at"];
const PAGING = ["limit", "marker", "offset", "sort", "sort_key", "sort_dir"];
const SORT_KEYS = ["id", "name", "display_name", "description", "display_description", "status", "size", "availability_zone", "created_at", "updated_at", "bootable", "project_id", "user_id", "volume_type_id", "host", "multiattach", "migration_status", "attach_status", "launched_at", "group_id", "snapshot_id", "source_volid", "replication_status"];

/** Python's ast.literal_eval over a query value, for what Cinder's filters care about. */
function literal(val: string): unknown {
  const s = val.trim();
  if (/^[-+]?\d+$/.test(s)) return Number(s);
  if (s === "True") return true;
  if (s === "False") return false;
  if (s === "None") return null;
  if (s.startsWith("{") || s.startsWith("[")) {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      try {
        // Python literals: single quotes, True/False/None.
        return JSON.parse(s.replace(/'/g, '"').replace(/\bTrue\b/g, "true").replace(/\bFalse\b/g, "false").replace(/\bNone\b/g, "null")) as unknown;
      } catch {
        return val;
      }
    }
  }
  const q = /^(['"])(.*)\1$/.exec(s);
  if (q) return q[2];
  return val;
}

const TRUE_STRICT = ["1", "t", "true", "on", "y", "yes"];
const FALSE_STRICT = ["0", "f", "false", "off", "n", "no"];

async function listFilters(ctx: RequestContext, v: Volume): Promise<{ filters: Record<string, unknown>; allTenants: boolean; withCount: boolean }> {
  const version = ctx.version!;
  const admin = isAdmin(ctx);
  const raw: Record<string, string> = {};
  for (const [k, x] of Object.entries(ctx.query)) {
    if (x === undefined || PAGING.includes(k)) continue;
    raw[k] = Array.isArray(x) ? x[x.length - 1]! : x;
  }
  let withCount = false;
  if (version.atLeast("3.45") && "with_count" in raw) {
    withCount = truthy(raw["with_count"]);
    delete raw["with_count"];
  }
  if (version.atLeast("3.31")) {
    for (const k of Object.keys(raw)) {
      // eslint-disable-next-line no-control-regex
      if (!/^[\x00-\x7f]*$/.test(k)) throw new BadRequest("Filter keys can only contain ASCII characters.");
    }
    if (!admin) {
      const like = version.atLeast("3.34");
      const bad = Object.keys(raw).filter((k) => !(VOLUME_FILTERS.includes(k) || (like && k.endsWith("~") && VOLUME_FILTERS.includes(k.slice(0, -1)))));
      if (bad.includes("all_tenants")) {
        bad.splice(bad.indexOf("all_tenants"), 1);
        delete raw["all_tenants"];
      }
      if (bad.length) throw new BadRequest(`Invalid filters ${bad.join(",")} are found in query options.`);
    }
    for (const [from, to] of [["name~", "display_name~"], ["description~", "display_description~"], ["consumes_quota", "use_quota"]] as const) {
      if (from in raw) {
        raw[to] = raw[from]!;
        delete raw[from];
      }
    }
  } else {
    const added: Array<[string, string]> = [["3.4", "glance_metadata"], ["3.10", "group_id"], ["3.60", "created_at"], ["3.60", "updated_at"], ["3.65", "use_quota"]];
    for (const [ver, field] of added) if (!version.atLeast(ver)) delete raw[field];
    if (!admin) for (const k of Object.keys(raw)) if (!VOLUME_FILTERS.includes(k)) delete raw[k];
  }
  const allTenants = "all_tenants" in raw ? truthy(raw["all_tenants"]) : false;
  delete raw["all_tenants"];
  const filters: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(raw)) {
    const key = k === "name" ? "display_name" : k === "description" ? "display_description" : k;
    if (key === "created_at" || key === "updated_at") {
      filters[key] = timeFilter(val);
      continue;
    }
    if (["bootable", "multiattach", "use_quota"].includes(key)) {
      if (version.atLeast("3.2")) {
        const s = val.trim().toLowerCase();
        if (TRUE_STRICT.includes(s)) filters[key] = true;
        else if (FALSE_STRICT.includes(s)) filters[key] = false;
        else throw new BadRequest(`Invalid input received: '${key} = ${val}'`);
      } else filters[key] = ["False", "false", "FALSE"].includes(val) ? false : val !== "";
      continue;
    }
    if (key === "display_name" || key.endsWith("~")) {
      filters[key] = val;
      continue;
    }
    if (key === "volume_type") {
      const t = await v.types.find(val);
      filters[key] = { ids: t ? [t.id] : [] };
      continue;
    }
    filters[key] = literal(val);
    if ((key === "metadata" || key === "glance_metadata") && !isObject(filters[key])) filters[key] = { "\u0000": "\u0000" };
  }
  return { filters, allTenants, withCount };
}

/** _handle_time_comparison_filters: "gt:2026-01-01T00:00:00,lt:…". */
function timeFilter(val: string): TimeFilter[] {
  const out: TimeFilter[] = [];
  for (const unit of val.split(",")) {
    const parts = unit.split(":");
    if (parts.length < 2) throw new BadRequest(`Invalid ${val} value`);
    const op = parts[0]!;
    const time = parts.slice(1).join(":");
    if (!["gt", "gte", "eq", "neq", "lt", "lte"].includes(op)) throw new BadRequest(`Invalid ${op} operator`);
    const at = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(time) ? time : `${time}Z`);
    if (!/^\d{4}-\d\d-\d\d/.test(time) || Number.isNaN(at)) throw new BadRequest(`Invalid ${time} value`);
    out.push({ op, at });
  }
  return out;
}

// ---- routes ----

export function volumeCrudRoutes(v: Volume, mgr: VolumeManager): Route[] {
  const list = (detail: boolean) => async (ctx: RequestContext) => {
    // "/volumes/" (an empty id) is no collection in Cinder's routes: 404.
    if (ctx.url.split("?")[0]!.endsWith("/")) throw new NotFound("The resource could not be found.");
    ctx.enforce("volume:get_all", { project_id: ctx.caller.projectId });
    const paging = parsePaging(ctx, SORT_KEYS);
    const { filters, allTenants, withCount } = await listFilters(ctx, v);
    const lq: ListQuery = {
      allTenants,
      filters,
      sortKeys: paging.sortKeys,
      sortDirs: paging.sortDirs,
      marker: paging.marker,
      limit: paging.limit,
      offset: paging.offset,
      withCount,
    };
    const { rows, count } = await mgr.list(callerOf(ctx), lq);
    const extras = detail ? await loadExtras(v.core.db, rows) : undefined;
    const volumes = rows.map((r) => (detail ? volumeDetail(ctx, r, extras!, true) : volumeSummary(ctx, r)));
    const body: Record<string, unknown> = { volumes };
    const links = collectionLinks(ctx, detail ? "volumes/detail" : "volumes", rows, paging);
    if (links.length) body["volumes_links"] = links;
    if (count !== undefined) body["count"] = count;
    return { body };
  };
  const show = async (ctx: RequestContext, row: VolumeRow, extended: boolean, status = 200) => ({
    status,
    body: { volume: volumeDetail(ctx, row, await loadExtras(v.core.db, [row]), extended) },
  });

  return [
    { method: "GET", path: "/volumes", operation: "listVolumes", policy: "volume:get_all", handler: list(false) },
    { method: "GET", path: "/volumes/detail", operation: "listVolumesDetail", policy: "volume:get_all", handler: list(true) },
    {
      method: "GET",
      path: "/volumes/summary",
      operation: "showVolumeSummary",
      policy: "volume:get_all",
      minVersion: "3.12",
      handler: async (ctx) => {
        ctx.enforce("volume:get_all", { project_id: ctx.caller.projectId });
        const s = await mgr.summary(callerOf(ctx), truthy(ctx.q("all_tenants")));
        const summary: Record<string, unknown> = { total_count: s.count, total_size: s.size };
        if (ctx.version!.atLeast("3.36")) summary["metadata"] = s.metadata;
        return { body: { "volume-summary": summary } };
      },
    },
    {
      method: "GET",
      path: "/volumes/:volume_id",
      operation: "showVolume",
      policy: "volume:get",
      handler: async (ctx) => show(ctx, await loadVolume(ctx, mgr, ctx.params["volume_id"]!), true),
    },
    {
      method: "POST",
      path: "/volumes",
      operation: "createVolume",
      policy: "volume:create",
      handler: async (ctx) => {
        validate(ctx.body, createSchema(ctx));
        const body = ctx.body as Record<string, unknown>;
        const vol = body["volume"] as Record<string, unknown>;
        const c = callerOf(ctx);
        const hintsRaw = body["OS-SCH-HNT:scheduler_hints"];
        const hints = isObject(hintsRaw) ? hintsRaw : isObject(vol["scheduler_hints"]) ? (vol["scheduler_hints"] as Record<string, unknown>) : {};
        const idList = (x: unknown): string[] => (typeof x === "string" ? [x] : Array.isArray(x) ? x.map(String) : []);
        const req: CreateRequest = {
          size: undefined,
          name: "name" in vol ? str(vol["name"]) : str(vol["display_name"]),
          description: "description" in vol ? str(vol["description"]) : str(vol["display_description"]),
          type: undefined,
          metadata: (vol["metadata"] as Record<string, string> | null) ?? {},
          availabilityZone: typeof vol["availability_zone"] === "string" ? vol["availability_zone"] : undefined,
          snapshot: undefined,
          source: undefined,
          image: undefined,
          backup: undefined,
          groupId: undefined,
          hints: { differentHost: idList(hints["different_host"]), sameHost: idList(hints["same_host"]) },
        };
        const reqType = vol["volume_type"];
        let type: VolumeType | undefined;
        if (typeof reqType === "string" && reqType !== "") {
          type = await v.types.resolve(c.projectId, reqType, c.admin);
          req.type = type;
        }
        if (typeof vol["snapshot_id"] === "string") {
          req.snapshot = await mgr.snapshot(c, vol["snapshot_id"]);
          ctx.enforce("volume:get_snapshot", { project_id: req.snapshot.project_id });
        }
        if (typeof vol["source_volid"] === "string") {
          req.source = await mgr.get(c, vol["source_volid"]);
          ctx.enforce("volume:get", { project_id: req.source.project_id });
        }
        const groupId = typeof vol["group_id"] === "string" ? vol["group_id"] : typeof vol["consistencygroup_id"] === "string" ? vol["consistencygroup_id"] : undefined;
        if (groupId !== undefined) {
          const g = await v.core.db.selectFrom("vol_group").selectAll().where("id", "=", groupId).executeTakeFirst();
          if (!g || (!c.admin && g.project_id !== c.projectId)) throw new NotFound(`Group ${groupId} could not be found.`);
          if (!["available", "creating"].includes(g.status)) throw new BadRequest(`Invalid Group: Originating group status must be one of 'available, creating' values`);
          if (!type) throw new BadRequest("Invalid input received: volume_type must be provided when creating a volume in a group.");
          const ids = JSON.parse(g.volume_type_ids) as string[];
          if (!ids.includes(type.id)) throw new BadRequest(`Invalid input received: Invalid volume_type provided: ${type.id} (requested type must be supported by this group).`);
          req.groupId = g.id;
          req.availabilityZone = g.availability_zone;
        }
        const imageRef = "imageRef" in vol ? vol["imageRef"] : vol["image_id"];
        if (typeof imageRef === "string") {
          const image = await findImage(v, c, imageRef);
          const bdm = (image as { block_device_mapping?: unknown }).block_device_mapping;
          // A Nova snapshot image of a volume-backed server (3.46): the volume comes from its snapshot.
          const boot = ctx.version!.atLeast("3.46") ? novaBootSnapshot(bdm) : undefined;
          if (boot) {
            try {
              req.snapshot = await mgr.snapshot(c, boot);
            } catch {
              throw new NotFound(`Nova specific image is found, but boot volume snapshot id:${boot} not found.`);
            }
          } else req.image = image;
        }
        if (ctx.version!.atLeast("3.47") && typeof vol["backup_id"] === "string") {
          const b = await v.core.db.selectFrom("vol_backup").select(["id", "size", "status", "project_id"]).where("id", "=", vol["backup_id"]).executeTakeFirst();
          if (!b || (!c.admin && b.project_id !== c.projectId)) throw new NotFound(`Backup ${vol["backup_id"]} could not be found.`);
          req.backup = b;
        }
        if (vol["size"] !== undefined && vol["size"] !== null) req.size = Number(vol["size"]);
        if (vol["multiattach"] !== undefined && vol["multiattach"] !== null && truthy(String(vol["multiattach"]))) {
          throw new BadRequest(
            "multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types. Contact your administrator to create a multiattach enabled volume type and use it to create multiattach volumes.",
          );
        }
        ctx.enforce(req.image ? "volume:create_from_image" : "volume:create", { project_id: c.projectId });
        if (type && !req.image && !req.source && !req.snapshot && type.extra_specs["multiattach"] === "<is> True") ctx.enforce("volume:multiattach", { project_id: c.projectId });
        const row = await mgr.create(c, req);
        return show(ctx, row, false, 202);
      },
    },
    {
      method: "PUT",
      path: "/volumes/:volume_id",
      operation: "updateVolume",
      policy: "volume:update",
      handler: async (ctx) => {
        validate(ctx.body, updateSchema(ctx));
        const u = (ctx.body as { volume: Record<string, unknown> }).volume;
        const c = callerOf(ctx);
        const row = await loadVolume(ctx, mgr, ctx.params["volume_id"]!);
        ctx.enforce("volume:update", { project_id: row.project_id });
        const fields: { name?: string | null; description?: string | null; metadata?: Record<string, string> } = {};
        if ("name" in u) fields.name = str(u["name"]);
        else if ("display_name" in u) fields.name = str(u["display_name"]);
        if ("description" in u) fields.description = str(u["description"]);
        else if ("display_description" in u) fields.description = str(u["display_description"]);
        if ("metadata" in u) fields.metadata = u["metadata"] as Record<string, string>;
        return show(ctx, await mgr.update(c, row.id, fields), false);
      },
    },
    {
      method: "DELETE",
      path: "/volumes/:volume_id",
      operation: "deleteVolume",
      policy: "volume:delete",
      handler: async (ctx) => {
        const cascade = truthy(ctx.q("cascade"));
        const force = ctx.version!.atLeast("3.23") ? truthy(ctx.q("force")) : false;
        const row = await loadVolume(ctx, mgr, ctx.params["volume_id"]!);
        if (force) ctx.enforce("volume:force_delete", { project_id: row.project_id });
        ctx.enforce("volume:delete", { project_id: row.project_id });
        await mgr.delete(callerOf(ctx), row, { cascade, force });
        return { status: 202 };
      },
    },
  ];
}

function novaBootSnapshot(bdm: unknown): string | undefined {
  let list = bdm;
  if (typeof list === "string") {
    try {
      list = JSON.parse(list) as unknown;
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(list)) return undefined;
  const b = list.find((x) => isObject(x) && x["source_type"] === "snapshot" && Number(x["boot_index"]) === 0) as Record<string, unknown> | undefined;
  return b && typeof b["snapshot_id"] === "string" ? b["snapshot_id"] : undefined;
}

/** v2 _image_uuid_from_ref: the last path segment as an id, else a unique image name. */
async function findImage(v: Volume, c: Caller, ref: string): Promise<Record<string, unknown>> {
  const id = ref.split("/").pop() ?? ref;
  if (isUuidLike(id)) {
    const img = await v.image.getImage(id, c.token).catch(() => undefined);
    if (img) return img;
  }
  const res = await v.image.raw("GET", `/images?name=${encodeURIComponent(ref)}`, { token: c.token });
  if (res.status === 200) {
    const images = ((res.body as { images?: Array<Record<string, unknown>> }).images ?? []);
    if (images.length > 1) throw new Conflict(`Multiple matches found for '${ref}', use an ID to be more specific.`);
    if (images.length === 1) return images[0]!;
  }
  throw new BadRequest("Invalid image identifier or unable to access requested image.");
}
