import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Volume } from "./deps.js";
import { parsePaging, truthy } from "./common.js";
import type { SnapshotManager } from "../manager/snapshots.js";
import { callerOf, parseMetadataFilter } from "../manager/snapshots.js";
import { snapshotDetail, snapshotList, snapshotView } from "../views/snapshots.js";
import { checkMetadataProperties } from "./snapshot-metadata.js";
import { invalidField, isObject, pyRepr, pyStr } from "../../../common/jsonschema-messages.js";

// ---- Cinder's request validation (api/validation: jsonschema Draft 4 + Cinder's format checkers) ----

const BOOLEAN_ENUM: unknown[] = [true, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y", "t", false, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no", "n", "f"];
const UUID_RE = /^(urn:uuid:)?\{?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\}?$/;
const META_KEY = /^[a-zA-Z0-9-_:. /]{1,255}$/;

export type FieldKind =
  /** parameter_types.name_allow_zero_min_length / description / container / nullable_string. */
  | "string-or-null"
  /** parameter_types.boolean. */
  | "boolean"
  /** parameter_types.uuid. */
  | "uuid"
  /** parameter_types.uuid_allow_null (oneOf). */
  | "uuid-or-null"
  /** metadata_allows_null. */
  | "metadata-or-null"
  /** extra_specs (metadata without null). */
  | "metadata"
  /** {'type': 'string'}. */
  | "string"
  /** {'type': ['string', 'integer']}. */
  | "string-or-integer";

export function checkField(name: string, value: unknown, kind: FieldKind): void {
  switch (kind) {
    case "string-or-null":
      if (value !== null && typeof value !== "string") throw invalidField(name, value, `${pyRepr(value)} is not of type 'string', 'null'`);
      if (typeof value === "string" && [...value].length > 255) throw invalidField(name, value, `${pyRepr(value)} is too long`);
      return;
    case "string":
      if (typeof value !== "string") throw invalidField(name, value, `${pyRepr(value)} is not of type 'string'`);
      return;
    case "string-or-integer":
      if (typeof value !== "string" && !(typeof value === "number" && Number.isInteger(value))) throw invalidField(name, value, `${pyRepr(value)} is not of type 'string', 'integer'`);
      return;
    case "boolean":
      if (typeof value !== "boolean" && typeof value !== "string") throw invalidField(name, value, `${pyRepr(value)} is not of type 'boolean', 'string'`);
      if (!BOOLEAN_ENUM.includes(value)) throw invalidField(name, value, `${pyRepr(value)} is not one of ${pyRepr(BOOLEAN_ENUM)}`);
      return;
    case "uuid":
      if (typeof value !== "string") throw invalidField(name, value, `${pyRepr(value)} is not of type 'string'`);
      if (!UUID_RE.test(value)) throw invalidField(name, value, `${pyRepr(value)} is not a 'uuid'`);
      return;
    case "uuid-or-null":
      if (value === null) return;
      if (typeof value !== "string" || !UUID_RE.test(value)) throw invalidField(name, value, `${pyRepr(value)} is not valid under any of the given schemas`);
      return;
    case "metadata-or-null":
    case "metadata": {
      if (value === null && kind === "metadata-or-null") return;
      if (!isObject(value)) throw invalidField(name, value, `${pyRepr(value)} is not of type 'object'${kind === "metadata-or-null" ? ", 'null'" : ""}`);
      for (const [k, x] of Object.entries(value)) {
        if (!META_KEY.test(k)) throw invalidField(name, value, `Additional properties are not allowed (${pyRepr(k)} was unexpected)`);
        if (typeof x !== "string") throw invalidField(k, x, `${pyRepr(x)} is not of type 'string'`);
        if ([...x].length > 255) throw invalidField(k, x, `${pyRepr(x)} is too long`);
      }
      return;
    }
  }
}

/**
 * `{"<key>": {…}}` checked as Cinder's schemas are: the body an object with exactly `key`,
 * the inner object's properties of the given kinds, its required ones present and no others.
 * `nullable`: the inner value may be null (backup update/restore schemas).
 */
export function checkBody(body: unknown, key: string, props: Record<string, FieldKind>, required: string[] = [], nullable = false): Record<string, unknown> {
  if (!isObject(body)) throw new BadRequest(`${pyRepr(body)} is not of type 'object'`);
  const inner = body[key];
  if (key in body) {
    if (inner === null && nullable) {
      // fine: treated as {}
    } else if (!isObject(inner)) {
      throw invalidField(key, inner, `${pyRepr(inner)} is not of type 'object'${nullable ? ", 'null'" : ""}`);
    } else {
      for (const [p, kind] of Object.entries(props)) if (p in inner) checkField(p, inner[p], kind);
      for (const r of required) if (!(r in inner)) throw invalidField(key, inner, `'${r}' is a required property`);
      const extra = Object.keys(inner).filter((k) => !(k in props));
      if (extra.length) throw invalidField(key, inner, `Additional properties are not allowed (${extra.map(pyRepr).join(", ")} ${extra.length > 1 ? "were" : "was"} unexpected)`);
    }
  } else throw new BadRequest(`'${key}' is a required property`);
  const extraTop = Object.keys(body).filter((k) => k !== key);
  if (extraTop.length) throw new BadRequest(`Additional properties are not allowed (${extraTop.map(pyRepr).join(", ")} ${extraTop.length > 1 ? "were" : "was"} unexpected)`);
  return isObject(inner) ? inner : {};
}

/** oslo's bool_from_string(strict=True) over a value the schema already accepted. */
export function strictBool(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  return ["1", "t", "true", "on", "y", "yes"].includes(String(v).trim().toLowerCase());
}

/** validate_name_and_description(check_length=False): strip strings. */
export function stripped(v: unknown): string | null {
  return typeof v === "string" ? v.trim() : null;
}

/**
 * Query filters at 3.31+ (process_general_filtering): a non-admin may only use the resource's
 * configured filters (resource_filters.json), else 400 "Invalid filters X are found in query
 * options."; all_tenants is silently dropped. Before 3.31 unknown filters are ignored.
 */
export function rejectInvalidFilters(ctx: RequestContext, filters: Record<string, string>, allowed: readonly string[], admin: boolean): void {
  if (!ctx.version!.atLeast("3.31") || admin) return;
  const like = ctx.version!.atLeast("3.34");
  const bad = Object.keys(filters).filter((k) => k !== "all_tenants" && !(allowed.includes(k) || (like && k.endsWith("~") && allowed.includes(k.slice(0, -1)))));
  if (bad.length) throw new BadRequest(`Invalid filters ${bad.join(",")} are found in query options.`);
}

/** The query string minus paging/sorting/count parameters: what Cinder treats as filters. */
export function queryFilters(ctx: RequestContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.query)) {
    if (v === undefined || ["limit", "marker", "offset", "sort", "sort_key", "sort_dir", "with_count"].includes(k)) continue;
    out[k] = Array.isArray(v) ? v[0]! : v;
  }
  return out;
}

// ---- /snapshots ----

const SNAPSHOT_FILTERS = ["name", "status", "volume_id", "metadata", "availability_zone"];
const SNAPSHOT_IN_USE_FLAG_MSG =
  "Since microversion 3.66 the 'force' flag is invalid for this request.  For backward compatability, however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored.";

function sortKeysFor(ctx: RequestContext): string[] {
  const keys = ["id", "created_at", "updated_at", "status", "volume_id", "project_id", "user_id", "display_name", "display_description", "volume_size", "progress"];
  if (ctx.version!.atLeast("3.30")) keys.push("name");
  return keys;
}

/** api/v3/snapshots.py + v2/snapshots.py. */
export function snapshotsRoutes(_v: Volume, snaps: SnapshotManager): Route[] {
  const list = (detail: boolean) => async (ctx: RequestContext) => {
    ctx.enforce("volume:get_all_snapshots", { project_id: ctx.caller.projectId, user_id: ctx.caller.userId });
    const c = callerOf(ctx);
    const paging = parsePaging(ctx, sortKeysFor(ctx));
    const withCount = ctx.version!.atLeast("3.45") && ctx.q("with_count") !== undefined ? truthy(ctx.q("with_count")) : false;
    const filters = queryFilters(ctx);
    rejectInvalidFilters(ctx, filters, SNAPSHOT_FILTERS, c.admin);
    const f: Parameters<SnapshotManager["list"]>[1]["filters"] = {};
    if (filters["name"] !== undefined) f.name = filters["name"];
    if (filters["name~"] !== undefined && ctx.version!.atLeast("3.34")) f.nameLike = filters["name~"];
    if (filters["status"] !== undefined) f.status = filters["status"];
    if (filters["volume_id"] !== undefined) f.volume_id = filters["volume_id"];
    if (c.admin && filters["project_id"] !== undefined) f.project_id = filters["project_id"];
    if (ctx.version!.atLeast("3.22") && filters["metadata"] !== undefined) {
      const m = parseMetadataFilter(filters["metadata"]);
      if (m) f.metadata = m;
    }
    const allTenants = truthy(filters["all_tenants"]) || (c.admin && filters["project_id"] !== undefined);
    const { rows, count } = await snaps.list(c, { allTenants, filters: f, paging, withCount });
    return { body: snapshotList(ctx, rows, detail, paging, count) };
  };
  return [
    { method: "GET", path: "/snapshots", operation: "listSnapshots", policy: "volume:get_all_snapshots", handler: list(false) },
    { method: "GET", path: "/snapshots/detail", operation: "listSnapshotsDetail", policy: "volume:get_all_snapshots", handler: list(true) },
    {
      method: "POST",
      path: "/snapshots",
      operation: "createSnapshot",
      policy: "volume:create_snapshot",
      handler: async (ctx) => {
        const s = checkBody(
          ctx.body,
          "snapshot",
          { name: "string-or-null", display_name: "string-or-null", description: "string-or-null", volume_id: "uuid-or-null", force: "boolean", metadata: "metadata-or-null" },
          ["volume_id"],
        );
        const c = callerOf(ctx);
        const volumeId = s["volume_id"];
        if (typeof volumeId !== "string") throw new NotFound(`Volume ${pyStr(volumeId)} could not be found.`);
        const vol = await snaps.volume(c, volumeId);
        let force = false;
        if (s["force"] !== undefined && s["force"] !== null) {
          force = strictBool(s["force"]);
          if (ctx.version!.atLeast("3.66") && !force) throw new BadRequest(SNAPSHOT_IN_USE_FLAG_MSG);
        }
        const name = s["name"] !== undefined ? stripped(s["name"]) : stripped(s["display_name"]);
        const description = stripped(s["description"]);
        ctx.enforce("volume:create_snapshot", { project_id: vol.project_id });
        const metadata = checkMetadataProperties(isObject(s["metadata"]) ? s["metadata"] : {});
        const row = await snaps.create(c, vol.id, { name, description, metadata, force, allowInUse: ctx.version!.atLeast("3.66"), requestId: ctx.requestId });
        return { status: 202, body: { snapshot: snapshotView(ctx, row) } };
      },
    },
    {
      method: "GET",
      path: "/snapshots/:snapshot_id",
      operation: "showSnapshot",
      policy: "volume:get_snapshot",
      handler: async (ctx) => {
        const s = await snaps.get(callerOf(ctx), ctx.params["snapshot_id"]!);
        ctx.enforce("volume:get_snapshot", { project_id: s.project_id });
        return { body: { snapshot: snapshotDetail(ctx, s) } };
      },
    },
    {
      method: "PUT",
      path: "/snapshots/:snapshot_id",
      operation: "updateSnapshot",
      policy: "volume:update_snapshot",
      handler: async (ctx) => {
        const body = checkBody(ctx.body, "snapshot", { name: "string-or-null", description: "string-or-null", display_name: "string-or-null", display_description: "string-or-null" });
        if (!["name", "description", "display_name", "display_description"].some((k) => k in body)) {
          throw invalidField("snapshot", body, `${pyRepr(body)} is not valid under any of the given schemas`);
        }
        const s = await snaps.get(callerOf(ctx), ctx.params["snapshot_id"]!);
        ctx.enforce("volume:get_snapshot", { project_id: s.project_id });
        ctx.enforce("volume:update_snapshot", { project_id: s.project_id });
        const fields: { name?: string | null; description?: string | null } = {};
        if ("display_name" in body) fields.name = stripped(body["display_name"]);
        if ("name" in body) fields.name = stripped(body["name"]);
        if ("display_description" in body) fields.description = stripped(body["display_description"]);
        if ("description" in body) fields.description = stripped(body["description"]);
        const row = await snaps.update(s.id, fields);
        return { body: { snapshot: snapshotView(ctx, row) } };
      },
    },
    {
      method: "DELETE",
      path: "/snapshots/:snapshot_id",
      operation: "deleteSnapshot",
      policy: "volume:delete_snapshot",
      handler: async (ctx) => {
        const s = await snaps.get(callerOf(ctx), ctx.params["snapshot_id"]!);
        ctx.enforce("volume:get_snapshot", { project_id: s.project_id });
        ctx.enforce("volume:delete_snapshot", { project_id: s.project_id });
        await snaps.delete(s, false, ctx.requestId);
        return { status: 202 };
      },
    },
  ];
}

/** Snapshot actions: os-reset_status, os-force_delete (admin_actions.py), os-update_snapshot_status (snapshot_actions.py). */
export function registerSnapshotActions(v: Volume, snaps: SnapshotManager): void {
  const STATUSES = ["error", "available", "creating", "deleting", "deleted", "updating", "error_deleting", "unmanaging", "backing-up", "restoring"];
  v.actions.register("snapshots", "os-reset_status", {
    handler: async (ctx, value) => {
      const body = checkBody({ "os-reset_status": value }, "os-reset_status", { status: "string" }, ["status"]);
      const status = body["status"] as string;
      if (!status || !STATUSES.includes(status.toLowerCase())) throw invalidField("status", status, `${pyRepr(status)} is not a 'snapshot_status'`);
      const s = await snaps.get(callerOf(ctx), ctx.params["snapshot_id"]!);
      ctx.enforce("volume_extension:snapshot_admin_actions:reset_status", { project_id: s.project_id });
      await snaps.setStatus(s.id, status.toLowerCase());
      return { status: 202 };
    },
  });
  v.actions.register("snapshots", "os-force_delete", {
    handler: async (ctx) => {
      const s = await snaps.get(callerOf(ctx), ctx.params["snapshot_id"]!);
      ctx.enforce("volume:get_snapshot", { project_id: s.project_id });
      ctx.enforce("volume_extension:snapshot_admin_actions:force_delete", { project_id: s.project_id });
      await snaps.delete(s, true, ctx.requestId);
      return { status: 202 };
    },
  });
  v.actions.register("snapshots", "os-update_snapshot_status", {
    handler: async (ctx, value) => {
      const body = checkBody({ "os-update_snapshot_status": value }, "os-update_snapshot_status", { status: "string", progress: "string-or-null" }, ["status"]);
      const progress = body["progress"];
      if (typeof progress === "string" && progress !== "" && !/^\d+%$/.test(progress)) {
        throw invalidField("progress", progress, `${pyRepr(progress)} is not a 'progress'`);
      }
      const s = await snaps.get(callerOf(ctx), ctx.params["snapshot_id"]!);
      ctx.enforce("snapshot_extension:snapshot_actions:update_snapshot_status", { project_id: s.project_id });
      await snaps.updateStatus(s, body["status"] as string, typeof progress === "string" && progress ? progress : undefined);
      return { status: 202 };
    },
  });
}
