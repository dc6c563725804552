import { BadRequest, NotFound } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { GroupTypesManager } from "../manager/group-types.js";
import { groupTypeListView, groupTypeView } from "../views/group-types.js";
import { isAdmin, parsePaging } from "./common.js";
import { boolean, checkType, description, name, nameAllowEmpty, noExtra, requireKeys, root, specs } from "./group-validate.js";

const SORT_KEYS = ["created_at", "updated_at", "id", "name", "description", "is_public"];

/** parameter_types.extra_specs key pattern (metadata_allows_null). */
export const SPEC_KEY = /^[a-zA-Z0-9\-_:. /]{1,255}$/;

/** api_utils._parse_is_public: absent → public only, "none" → all, else a strict boolean. */
function parseIsPublic(v: string | undefined): boolean | null {
  if (v === undefined) return true;
  if (v.toLowerCase() === "none") return null;
  const s = v.trim().toLowerCase();
  if (["1", "t", "true", "on", "y", "yes"].includes(s)) return true;
  if (["0", "f", "false", "off", "n", "no"].includes(s)) return false;
  throw new BadRequest(`Invalid is_public filter [${v}]`);
}

/** cinder/api/v3/group_types.py (3.11). */
export function groupTypesRoutes(types: GroupTypesManager): Route[] {
  return [
    {
      method: "GET",
      path: "/group_types",
      operation: "listGroupTypes",
      minVersion: "3.11",
      handler: async (ctx) => {
        const admin = isAdmin(ctx);
        const paging = parsePaging(ctx, SORT_KEYS);
        // Only an admin chooses; everybody else lists the public types.
        const isPublic = admin ? parseIsPublic(ctx.q("is_public")) : true;
        const list = await types.list(isPublic, paging, admin);
        return { body: groupTypeListView(ctx, list, paging) };
      },
    },
    {
      method: "GET",
      path: "/group_types/:group_type_id",
      operation: "showGroupType",
      minVersion: "3.11",
      handler: async (ctx) => {
        const id = ctx.params["group_type_id"]!;
        if (id === "default") {
          // default_group_type is unset (Cinder's default): there is no default group type.
          throw new NotFound("Default group type can not be found.");
        }
        const t = await types.get(id, isAdmin(ctx));
        return { body: { group_type: groupTypeView(ctx, t) } };
      },
    },
    {
      method: "POST",
      path: "/group_types",
      operation: "createGroupType",
      policy: "group:group_types:create",
      minVersion: "3.11",
      handler: async (ctx) => {
        const body = root(ctx.body);
        let gt: Record<string, unknown> | undefined;
        if ("group_type" in body) {
          checkType("group_type", body["group_type"], ["object"]);
          gt = body["group_type"] as Record<string, unknown>;
          if ("name" in gt) name("name", gt["name"]);
          if ("description" in gt) description("description", gt["description"]);
          if ("is_public" in gt) boolean("is_public", gt["is_public"]);
          if ("group_specs" in gt) specs("group_specs", gt["group_specs"], { keyPattern: SPEC_KEY, nullValues: false, allowNull: true });
          requireKeys("group_type", gt, ["name"]);
          noExtra("group_type", gt, ["name", "description", "is_public", "group_specs"]);
        }
        requireKeys(undefined, body, ["group_type"]);
        noExtra(undefined, body, ["group_type"]);
        ctx.enforce("group:group_types:create", {});
        const g = gt!;
        const created = await types.create(
          g["name"] as string,
          (g["description"] as string | null | undefined) ?? null,
          (g["group_specs"] as Record<string, string> | null | undefined) ?? {},
          "is_public" in g ? boolean("is_public", g["is_public"]) : true,
        );
        return { status: 202, body: { group_type: groupTypeView(ctx, created) } };
      },
    },
    {
      method: "PUT",
      path: "/group_types/:group_type_id",
      operation: "updateGroupType",
      policy: "group:group_types:update",
      minVersion: "3.11",
      handler: async (ctx) => {
        const body = root(ctx.body);
        let gt: Record<string, unknown> | undefined;
        if ("group_type" in body) {
          checkType("group_type", body["group_type"], ["object"]);
          gt = body["group_type"] as Record<string, unknown>;
          if ("name" in gt) nameAllowEmpty("name", gt["name"]);
          if ("description" in gt) description("description", gt["description"]);
          if ("is_public" in gt) boolean("is_public", gt["is_public"]);
          noExtra("group_type", gt, ["name", "description", "is_public"]);
        }
        requireKeys(undefined, body, ["group_type"]);
        noExtra(undefined, body, ["group_type"]);
        ctx.enforce("group:group_types:update", {});
        const g = gt!;
        const nm = (g["name"] as string | null | undefined) ?? undefined;
        const desc = (g["description"] as string | null | undefined) ?? undefined;
        const pub = g["is_public"] === undefined || g["is_public"] === null ? undefined : boolean("is_public", g["is_public"]);
        if (nm && nm.trim().length === 0) throw new BadRequest("Group type name can not be empty.");
        if (nm === undefined && desc === undefined && pub === undefined) {
          throw new BadRequest("Specify group type name, description or a combination thereof.");
        }
        const t = await types.update(ctx.params["group_type_id"]!, { name: nm, description: desc, isPublic: pub });
        return { body: { group_type: groupTypeView(ctx, t) } };
      },
    },
    {
      method: "DELETE",
      path: "/group_types/:group_type_id",
      operation: "deleteGroupType",
      policy: "group:group_types:delete",
      minVersion: "3.11",
      handler: async (ctx) => {
        ctx.enforce("group:group_types:delete", {});
        await types.destroy(ctx.params["group_type_id"]!);
        return { status: 202 };
      },
    },
  ];
}
