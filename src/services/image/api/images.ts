import { BadRequest, Forbidden, MethodNotAllowed, NotFound, UnsupportedMediaType } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Image } from "../index.js";
import type { ListParams, PatchChange } from "../manager/images.js";
import { SORT_KEYS } from "../manager/images.js";
import { IMAGE_SCHEMA } from "../schemas/documents.js";
import { schemaError } from "../schemas/validate.js";
import { imageView } from "../views/image.js";
import { enforceImage, enforceRule, glanceCaller, imageTarget } from "./common.js";
import { importMethods } from "./discovery.js";

const DISALLOWED = ["direct_url", "self", "file", "schema", "stores"];
const READONLY = ["created_at", "updated_at", "status", "checksum", "size", "virtual_size", "direct_url", "self", "file", "schema", "id", "os_hash_algo", "os_hash_value"];
const RESERVED = ["location", "deleted", "deleted_at"];
const PATCH_TYPES: Record<string, 4 | 10> = {
  "application/openstack-images-v2.0-json-patch": 4,
  "application/openstack-images-v2.1-json-patch": 10,
};
/** Glance's limit_param_default and api_limit_max. */
const LIMIT_DEFAULT = 25;
const LIMIT_MAX = 1000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The JSON body of a request whatever its media type (Glance's JSONRequestDeserializer). */
export function jsonBody(ctx: RequestContext): unknown {
  let body = ctx.body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      throw new BadRequest("Malformed JSON in request body.");
    }
  }
  if (body === undefined) throw new BadRequest("Body expected in request.");
  return body;
}

/** _visibility policy: publicize_image / communitize_image for those values. */
function enforceVisibility(ctx: RequestContext, visibility: unknown, target: Record<string, unknown>): void {
  if (visibility === "public") enforceRule(ctx, "publicize_image", target);
  else if (visibility === "community") enforceRule(ctx, "communitize_image", target);
}

/** The webob MultiDict of the query string: every value of a repeated key, in order. */
function queryPairs(ctx: RequestContext): Array<[string, string]> {
  const i = ctx.url.indexOf("?");
  return i < 0 ? [] : [...new URLSearchParams(ctx.url.slice(i + 1)).entries()];
}

/** RequestDeserializer.index: limit, marker, member_status, tags, sorting, the rest filters. */
function listParams(pairs: Array<[string, string]>): ListParams {
  const all = (k: string): string[] => pairs.filter(([n]) => n === k).map(([, v]) => v);
  const last = (k: string): string | undefined => all(k).at(-1);
  const first = (k: string): string | undefined => all(k)[0];
  const limitRaw = first("limit");
  let limit = LIMIT_DEFAULT;
  if (limitRaw !== undefined) {
    if (!/^\s*[+-]?\d+\s*$/.test(limitRaw)) throw new BadRequest("limit param must be an integer");
    limit = Number(limitRaw);
    if (limit < 0) throw new BadRequest("limit param must be positive");
  }
  limit = Math.min(LIMIT_MAX, limit);
  const memberStatus = first("member_status") ?? "accepted";
  const consumed = new Set(["limit", "marker", "member_status", "tag", "sort", "sort_key", "sort_dir"]);
  const filters: Record<string, string> = {};
  for (const [k, v] of pairs) if (!consumed.has(k)) filters[k] = v;
  const visibility = filters["visibility"];
  if (visibility && !["community", "public", "private", "shared", "all"].includes(visibility)) throw new BadRequest(`Invalid visibility value: ${visibility}`);
  if (filters["changes-since"]) throw new BadRequest('The "changes-since" filter is no longer available on v2.');
  if (!["pending", "accepted", "rejected", "all"].includes(memberStatus)) throw new BadRequest(`Invalid status: ${memberStatus}`);
  const checkKey = (k: string): string => {
    if (!SORT_KEYS.includes(k)) throw new BadRequest(`Invalid sort key: ${k}. It must be one of the following: ${SORT_KEYS.join(", ")}.`);
    return k;
  };
  const checkDir = (d: string): string => {
    if (d !== "asc" && d !== "desc") throw new BadRequest(`Invalid sort direction: ${d}`);
    return d;
  };
  const sortKeys: string[] = [];
  const sortDirs: string[] = [];
  const sort = first("sort");
  if (sort !== undefined) {
    if (all("sort_key").length || all("sort_dir").length) throw new BadRequest("Old and new sorting syntax cannot be combined");
    for (const part of sort.trim().split(",")) {
      const i = part.indexOf(":");
      const key = i < 0 ? part : part.slice(0, i);
      const dir = i < 0 || part.slice(i + 1) === "" ? "desc" : part.slice(i + 1);
      sortKeys.push(checkKey(key.trim()));
      sortDirs.push(checkDir(dir.trim()));
    }
  } else {
    for (const k of all("sort_key")) sortKeys.push(checkKey(k.trim()));
    for (const d of all("sort_dir")) sortDirs.push(checkDir(d.trim()));
    if (sortDirs.length > 1 && sortDirs.length !== sortKeys.length) throw new BadRequest("Number of sort dirs does not match the number of sort keys");
  }
  // ImagesController.index: os_hidden and protected must be true/false.
  const osHidden = (filters["os_hidden"] ?? "false").toLowerCase();
  if (osHidden !== "true" && osHidden !== "false") throw new BadRequest(`Invalid value '${osHidden}' for 'os_hidden' filter. Valid values are 'true' or 'false'.`);
  filters["os_hidden"] = osHidden;
  const prot = filters["protected"];
  if (prot !== undefined && prot !== "true" && prot !== "false") throw new BadRequest(`Invalid value '${prot}' for 'protected' filter. Valid values are 'true' or 'false'.`);
  const out: ListParams = {
    filters,
    tags: all("tag").map((t) => t.trim()),
    memberStatus,
    marker: last("marker"),
    limit,
    sortKeys: sortKeys.length ? sortKeys : ["created_at"],
    sortDirs: sortDirs.length ? sortDirs : ["desc"],
  };
  return out;
}

/** urlencode(dict(params)) without the marker: Glance's "first" and "next" links. */
function encodeParams(pairs: Array<[string, string]>, marker?: string): string {
  const m = new Map<string, string>();
  for (const [k, v] of pairs) if (k !== "marker") m.set(k, v);
  if (marker !== undefined) m.set("marker", marker);
  return new URLSearchParams([...m.entries()]).toString();
}

/** RequestDeserializer._validate_json_pointer + _decode_json_pointer. */
function decodePointer(pointer: unknown): string[] {
  if (typeof pointer !== "string") throw new BadRequest(`Pointer \`${String(pointer)}\` does not start with "/".`);
  if (!pointer.startsWith("/")) throw new BadRequest(`Pointer \`${pointer}\` does not start with "/".`);
  if (/\/\//.test(pointer)) throw new BadRequest(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith("/")) throw new BadRequest(`Pointer \`${pointer}\` end with "/".`);
  if (pointer === "/") throw new BadRequest(`Pointer \`${pointer}\` does not contains valid token.`);
  if (/~[^01]/.test(pointer) || pointer.endsWith("~")) throw new BadRequest(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  return pointer
    .replace(/^\/+/, "")
    .split("/")
    .map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~").trim());
}

/** RequestDeserializer.update: the media type, then each operation's shape and target. */
function parsePatch(ctx: RequestContext): PatchChange[] {
  const type = (ctx.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const draft = PATCH_TYPES[type];
  if (draft === undefined) {
    const e = new UnsupportedMediaType(`The request media type ${type} is not supported by this server.`);
    Object.assign(e, { headers: { "Accept-Patch": Object.keys(PATCH_TYPES).sort().join(", ") } });
    throw e;
  }
  const body = jsonBody(ctx);
  if (!Array.isArray(body)) throw new BadRequest("Request body must be a JSON array of operation objects.");
  const ops = ["add", "remove", "replace"] as const;
  const changes: PatchChange[] = [];
  for (const raw of body) {
    if (!isObject(raw)) throw new BadRequest("Operations must be JSON objects.");
    let op: PatchChange["op"];
    let pointer: unknown;
    if (draft === 10) {
      const o = raw["op"];
      if (o === undefined || o === null) throw new BadRequest(`Unable to find \`op\` in JSON Schema change. It must be one of the following: ${ops.join(", ")}.`);
      if (!ops.includes(o as PatchChange["op"])) throw new BadRequest(`Invalid operation: \`${String(o)}\`. It must be one of the following: ${ops.join(", ")}.`);
      op = o as PatchChange["op"];
      if (!("path" in raw)) throw new BadRequest("Unable to find 'path' in JSON Schema change");
      pointer = raw["path"];
    } else {
      const present = ops.filter((k) => k in raw);
      if (present.length > 1) throw new BadRequest('Operation objects must contain only one member named "add", "remove", or "replace".');
      if (present.length === 0) throw new BadRequest('Operation objects must contain exactly one member named "add", "remove", or "replace".');
      op = present[0]!;
      pointer = raw[op];
    }
    const path = decodePointer(pointer);
    const root = path[0]!;
    const depth = root === "locations" ? { add: 2, remove: 2, replace: 1 }[op] : 1;
    if (path.length !== depth) throw new BadRequest(`Invalid JSON pointer for this resource: '/${path.join("/")}'`);
    const change: PatchChange = { op, path, draft };
    if (op !== "remove") {
      if (!("value" in raw)) throw new BadRequest(`Operation "${op}" requires a member named "value".`);
      change.value = raw["value"];
    }
    // _validate_change
    if (READONLY.includes(root)) throw new Forbidden(`Attribute '${root}' is read-only.`);
    if (RESERVED.includes(root) || root.startsWith("os_glance")) throw new Forbidden(`Attribute '${root}' is reserved.`);
    if (op !== "remove" && path.length === 1) {
      const reason = schemaError(IMAGE_SCHEMA, { [root]: change.value });
      if (reason !== undefined) throw new BadRequest(`Provided object does not match schema 'image': ${reason}`);
    }
    changes.push(change);
  }
  return changes;
}

export function imageRoutes(i: Image): Route[] {
  const m = i.images;
  return [
    {
      method: "POST",
      path: "/v2/images",
      operation: "createImage",
      policy: "add_image",
      handler: async (ctx) => {
        const body = jsonBody(ctx);
        if (isObject(body)) {
          for (const k of DISALLOWED) if (k in body) throw new Forbidden(`Attribute '${k}' is read-only.`);
        }
        const reason = schemaError(IMAGE_SCHEMA, body);
        if (reason !== undefined) throw new BadRequest(`Provided object does not match schema 'image': ${reason}`);
        const b = body as Record<string, unknown>;
        for (const key of Object.keys(b)) {
          if (["checksum", "created_at", "container_format", "disk_format", "id", "min_disk", "min_ram", "name", "size", "virtual_size", "status", "tags", "owner", "updated_at", "visibility", "protected", "os_hidden"].includes(key)) continue;
          if (key.length > 255) throw new BadRequest("Custom property should not be greater than 255 characters.");
          if (RESERVED.includes(key) || key.startsWith("os_glance")) throw new Forbidden(`Attribute '${key}' is reserved.`);
        }
        const caller = glanceCaller(ctx);
        const owner = "owner" in b ? (b["owner"] as string | null) : (caller.projectId ?? null);
        const target = { project_id: owner, owner, visibility: b["visibility"] ?? "private" };
        try {
          enforceRule(ctx, "add_image", target);
        } catch (e) {
          if (owner !== caller.projectId) throw new Forbidden(`You are not permitted to create images owned by '${String(owner)}'`);
          throw e;
        }
        enforceVisibility(ctx, b["visibility"], target);
        const img = await m.create(caller, b);
        return {
          status: 201,
          body: imageView(img),
          headers: {
            // webob joins Glance's "/v2/images/<id>" onto the request URL, which drops the
            // /image prefix the service is mounted under (as DevStack's Glance answers).
            location: `${ctx.baseUrl}/v2/images/${img.id}`,
            "OpenStack-image-import-methods": importMethods(i.config.image.importMethods, m.stores).join(","),
            "OpenStack-image-store-ids": m.stores.join(","),
          },
        };
      },
    },
    {
      method: "GET",
      path: "/v2/images",
      operation: "listImages",
      policy: "get_images",
      handler: async (ctx) => {
        // "/v2/images/" is a show of the empty id (Glance's router), never the list.
        if (ctx.url.split("?")[0]!.endsWith("/")) throw new NotFound("The resource could not be found.");
        const pairs = queryPairs(ctx);
        const params = listParams(pairs);
        const caller = glanceCaller(ctx);
        enforceRule(ctx, "get_images", { project_id: caller.projectId });
        const { images, nextMarker } = await m.list(caller, params);
        const shown = images.filter((img) => ctx.allowed("get_image", imageTarget(img)));
        const first = encodeParams(pairs);
        const body: Record<string, unknown> = { images: shown.map(imageView), first: first ? `/v2/images?${first}` : "/v2/images", schema: "/v2/schemas/images" };
        if (nextMarker !== undefined && shown.length !== 0) body["next"] = `/v2/images?${encodeParams(pairs, shown[shown.length - 1]!.id)}`;
        return { body };
      },
    },
    {
      // DELETE "/v2/images/" deletes the empty id (404); "/v2/images" is the collection (405).
      method: "DELETE",
      path: "/v2/images",
      operation: "deleteImage",
      handler: async (ctx) => {
        if (ctx.url.split("?")[0]!.endsWith("/")) throw new NotFound("The resource could not be found.");
        throw new MethodNotAllowed("The method is not allowed for this resource.");
      },
    },
    {
      method: "GET",
      path: "/v2/images/:image_id",
      operation: "showImage",
      policy: "get_image",
      handler: async (ctx) => {
        const caller = glanceCaller(ctx);
        const img = await m.get(caller, ctx.params["image_id"]!);
        enforceImage(ctx, img, "get_image");
        return { body: imageView(img) };
      },
    },
    {
      method: "PATCH",
      path: "/v2/images/:image_id",
      operation: "updateImage",
      policy: "modify_image",
      handler: async (ctx) => {
        const changes = parsePatch(ctx);
        const caller = glanceCaller(ctx);
        const img = await m.update(caller, ctx.params["image_id"]!, changes, (cur, change) => {
          const target = imageTarget(cur);
          if (change.path[0] === "visibility" && change.op !== "remove") enforceVisibility(ctx, change.value, target);
          enforceImage(ctx, cur, "modify_image", target);
        });
        return { body: imageView(img) };
      },
    },
    {
      method: "DELETE",
      path: "/v2/images/:image_id",
      operation: "deleteImage",
      policy: "delete_image",
      handler: async (ctx) => {
        const caller = glanceCaller(ctx);
        const id = ctx.params["image_id"]!;
        const img = await m.get(caller, id);
        enforceImage(ctx, img, "delete_image");
        await m.delete(caller, id);
        return { status: 204 };
      },
    },
    ...(["deactivate", "reactivate"] as const).map(
      (action): Route => ({
        method: "POST",
        path: `/v2/images/:image_id/actions/${action}`,
        operation: `${action}Image`,
        policy: action,
        handler: async (ctx) => {
          const caller = glanceCaller(ctx);
          const id = ctx.params["image_id"]!;
          const img = await m.get(caller, id);
          enforceImage(ctx, img, action);
          await m.setStatus(caller, id, action);
          return { status: 204 };
        },
      }),
    ),
    {
      method: "GET",
      path: "/v2/images/:image_id/tasks",
      operation: "showImageTasks",
      policy: "get_image",
      handler: async (ctx) => {
        const caller = glanceCaller(ctx);
        const img = await m.get(caller, ctx.params["image_id"]!);
        enforceImage(ctx, img, "get_image");
        const tasks = await m.imageTasks(img.id);
        return {
          body: {
            tasks: tasks.map((t) => ({
              id: t.id,
              type: t.type,
              status: t.status,
              owner: t.owner,
              expires_at: t.expires_at === null ? null : t.expires_at.replace(/\.\d+Z$/, ".000000"),
              created_at: t.created_at.replace(/\.(\d{3})Z$/, ".$1000"),
              updated_at: t.updated_at.replace(/\.(\d{3})Z$/, ".$1000"),
              deleted_at: null,
              deleted: false,
              image_id: t.image_id,
              request_id: t.request_id,
              user_id: t.user_id,
              input: JSON.parse(t.input) as unknown,
              result: t.result === null ? null : (JSON.parse(t.result) as unknown),
              message: t.message,
            })),
          },
        };
      },
    },
  ];
}
