import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { TypeListFilters, TypesManager, TypeViewer } from "../manager/types.js";
import { typeManageView, typeView, USER_VISIBLE_EXTRA_SPECS } from "../views/types.js";
import { boolField, descriptionField, envelope, extraSpecsField, invalidField, noAdditional, nameField, pyRepr, required } from "./catalog-validate.js";
import { collectionLinks, isAdmin, parsePaging } from "./common.js";
import { RESOURCE_FILTERS } from "./resource-filters.js";
import type { Volume } from "./deps.js";

/** Cinder's default policy target: the caller's own project. */
export function own(ctx: RequestContext): Record<string, unknown> {
  return { project_id: ctx.caller.projectId, user_id: ctx.caller.userId };
}

export function viewerOf(ctx: RequestContext): TypeViewer {
  return { projectId: ctx.caller.projectId, isAdmin: isAdmin(ctx) };
}

const SORT_KEYS = ["created_at", "updated_at", "id", "name", "description", "is_public", "qos_specs_id"];
const PAGING_PARAMS = ["limit", "marker", "offset", "sort", "sort_key", "sort_dir"];

/** api_utils._parse_is_public: None → True, "none"/"all" → None (every type), else strict bool. */
function parseIsPublic(v: string | undefined): boolean | undefined {
  if (v === undefined) return true;
  const s = v.trim().toLowerCase();
  if (s === "none" || s === "all") return undefined;
  if (["1", "t", "true", "on", "y", "yes"].includes(s)) return true;
  if (["0", "f", "false", "off", "n", "no"].includes(s)) return false;
  throw new BadRequest(`Invalid is_public filter [${v}]`);
}

/** Python's ast.literal_eval of a dict of strings ("{'k': 'v'}"), enough for extra_specs filters. */
function literalDict(s: string): Record<string, string> | undefined {
  const t = s.trim();
  if (!t.startsWith("{") || !t.endsWith("}")) return undefined;
  const body = t.slice(1, -1).trim();
  const out: Record<string, string> = {};
  if (!body) return out;
  const re = /\s*(['"])(.*?)\1\s*:\s*(['"])(.*?)\3\s*(,|$)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(body)) !== null) {
    out[m[2]!] = m[4]!;
    pos = re.lastIndex;
    if (pos >= body.length) break;
  }
  return pos >= body.length ? out : undefined;
}

export function typesRoutes(v: Volume): Route[] {
  const types = v.types as TypesManager;
  return [
    {
      method: "GET",
      path: "/types",
      operation: "listVolumeTypes",
      policy: "volume_extension:type_get_all",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:type_get_all", own(ctx));
        const admin = isAdmin(ctx);
        const paging = parsePaging(ctx, SORT_KEYS);
        const f: TypeListFilters = { isPublic: admin ? parseIsPublic(ctx.q("is_public")) : true };
        // 3.52: the volume_type resource filters (is_public, extra_specs) apply to non-admins and
        // anything else is a 400; before, a non-admin's other filters are dropped.
        const generic = ctx.version!.atLeast("3.52");
        if (generic && !admin) {
          const like = ctx.version!.atLeast("3.34");
          const allowed = RESOURCE_FILTERS["volume_type"]!;
          const bad = Object.keys(ctx.query).filter(
            (k) => !PAGING_PARAMS.includes(k) && k !== "all_tenants" && !allowed.includes(k) && !(like && allowed.includes(k.replace(/~$/, ""))),
          );
          if (bad.length) throw new BadRequest(`Invalid filters ${bad.join(",")} are found in query options.`);
        }
        for (const [k, raw] of Object.entries(ctx.query)) {
          if (PAGING_PARAMS.includes(k) || k === "is_public" || raw === undefined) continue;
          if (!admin && !(generic && k === "extra_specs")) continue;
          const val = Array.isArray(raw) ? raw[0]! : raw;
          if (k === "extra_specs") {
            const d = literalDict(val);
            if (d === undefined) {
              f.unknown = true;
              continue;
            }
            f.extraSpecs = d;
          } else if (k === "name") f.name = val;
          else if (k === "description") f.description = val;
          else f.unknown = true;
        }
        // Sensitive extra specs in a non-admin filter: an empty list (as Cinder answers).
        if (f.extraSpecs && !ctx.allowed("volume_extension:types_extra_specs:read_sensitive", own(ctx))) {
          if (Object.keys(f.extraSpecs).some((k) => !USER_VISIBLE_EXTRA_SPECS.includes(k))) return { body: { volume_types: [] } };
        }
        const list = await types.list(viewerOf(ctx), f, paging);
        const body: Record<string, unknown> = { volume_types: list.map((t) => typeView(ctx, t, true)) };
        const links = collectionLinks(ctx, "types", list, paging);
        if (links.length) body["volume_type_links"] = links;
        return { body };
      },
    },
    {
      method: "GET",
      path: "/types/:type_id",
      operation: "showVolumeType",
      policy: "volume_extension:type_get",
      handler: async (ctx) => {
        const id = ctx.params["type_id"]!;
        const viewer = viewerOf(ctx);
        const t = id === "default" ? await types.defaultFor(ctx.caller.projectId, viewer) : await types.get(id, viewer);
        ctx.enforce("volume_extension:type_get", own(ctx));
        return { body: { volume_type: typeView(ctx, t, true) } };
      },
    },
    {
      method: "POST",
      path: "/types",
      operation: "createVolumeType",
      policy: "volume_extension:type_create",
      handler: async (ctx) => {
        const b = envelope(ctx.body, "volume_type");
        noAdditional(b, ["name", "description", "extra_specs", "os-volume-type-access:is_public"], "volume_type");
        required(b, ["name"], "volume_type");
        const name = nameField("name", b["name"]);
        const description = b["description"] === undefined ? null : descriptionField("description", b["description"]);
        const specs = b["extra_specs"] === undefined ? {} : extraSpecsField("extra_specs", b["extra_specs"], true);
        const isPublic = b["os-volume-type-access:is_public"] === undefined ? true : boolField("os-volume-type-access:is_public", b["os-volume-type-access:is_public"]);
        ctx.enforce("volume_extension:type_create", own(ctx));
        const clean: Record<string, string> = {};
        for (const [k, x] of Object.entries(specs)) clean[k] = x ?? "";
        const t = await types.create({ name, description, isPublic, extraSpecs: clean });
        return { body: { volume_type: typeManageView(ctx, t, true) } };
      },
    },
    {
      method: "PUT",
      path: "/types/:type_id",
      operation: "updateVolumeType",
      policy: "volume_extension:type_update",
      handler: async (ctx) => {
        const b = envelope(ctx.body, "volume_type");
        noAdditional(b, ["name", "description", "is_public"], "volume_type");
        let name: string | undefined;
        if (b["name"] !== undefined && b["name"] !== null) {
          if (typeof b["name"] !== "string") throw invalidField("name", b["name"], `${pyRepr(b["name"])} is not of type 'string', 'null'`);
          if (b["name"].length < 1) throw invalidField("name", b["name"], `${pyRepr(b["name"])} is too short`);
          if (b["name"].length > 255) throw invalidField("name", b["name"], `${pyRepr(b["name"])} is too long`);
          name = b["name"];
        }
        const description = b["description"] === undefined || b["description"] === null ? undefined : (descriptionField("description", b["description"]) ?? undefined);
        const isPublic = b["is_public"] === undefined || b["is_public"] === null ? undefined : boolField("is_public", b["is_public"]);
        ctx.enforce("volume_extension:type_update", own(ctx));
        if (name !== undefined && name.trim().length === 0) throw new BadRequest("Volume type name can not be empty.");
        if (name === undefined && description === undefined && isPublic === undefined) {
          throw new BadRequest("Specify volume type name, description, is_public or a combination thereof.");
        }
        const t = await types.update(ctx.params["type_id"]!, { name, description, isPublic });
        return { body: { volume_type: typeManageView(ctx, t, false) } };
      },
    },
    {
      method: "DELETE",
      path: "/types/:type_id",
      operation: "deleteVolumeType",
      policy: "volume_extension:type_delete",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:type_delete", own(ctx));
        await types.destroy(ctx.params["type_id"]!);
        return { status: 202 };
      },
    },
  ];
}
