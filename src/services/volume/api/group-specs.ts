import { BadRequest, NotFound } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { GroupTypesManager } from "../manager/group-types.js";
import { fail, pyRepr, requireKeys, root, specs } from "./group-validate.js";

/** api/schemas/group_specs.py: no spaces in keys, values may be null. */
const KEY = /^[a-zA-Z0-9\-_:.]{1,255}$/;

/** cinder/api/v3/group_specs.py (3.11): the specs of a group type, admin only. */
export function groupSpecsRoutes(types: GroupTypesManager): Route[] {
  const check = async (id: string) => {
    await types.get(id, true);
  };
  return [
    {
      method: "GET",
      path: "/group_types/:group_type_id/group_specs",
      operation: "listGroupTypeSpecs",
      policy: "group:group_types_specs:get_all",
      minVersion: "3.11",
      handler: async (ctx) => {
        ctx.enforce("group:group_types_specs:get_all", {});
        const t = await types.get(ctx.params["group_type_id"]!, true);
        return { body: { group_specs: t.group_specs } };
      },
    },
    {
      method: "POST",
      path: "/group_types/:group_type_id/group_specs",
      operation: "createGroupTypeSpecs",
      policy: "group:group_types_specs:create",
      minVersion: "3.11",
      handler: async (ctx) => {
        const body = root(ctx.body);
        if ("group_specs" in body) specs("group_specs", body["group_specs"], { keyPattern: KEY, nullValues: true });
        requireKeys(undefined, body, ["group_specs"]);
        const extra = Object.keys(body).filter((k) => k !== "group_specs" && k !== "type");
        if (extra.length) throw fail(undefined, body, `Additional properties are not allowed (${extra.map(pyRepr).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`);
        ctx.enforce("group:group_types_specs:create", {});
        const id = ctx.params["group_type_id"]!;
        await check(id);
        const s = body["group_specs"] as Record<string, string | null>;
        await types.setSpecs(id, s);
        return { status: 202, body: { group_specs: s } };
      },
    },
    {
      method: "GET",
      path: "/group_types/:group_type_id/group_specs/:key",
      operation: "showGroupTypeSpec",
      policy: "group:group_types_specs:get",
      minVersion: "3.11",
      handler: async (ctx) => {
        ctx.enforce("group:group_types_specs:get", {});
        const id = ctx.params["group_type_id"]!;
        const key = ctx.params["key"]!;
        const t = await types.get(id, true);
        if (!(key in t.group_specs)) throw new NotFound(`Group Type ${id} has no extra spec with key ${key}.`);
        return { body: { [key]: t.group_specs[key] } };
      },
    },
    {
      method: "PUT",
      path: "/group_types/:group_type_id/group_specs/:key",
      operation: "updateGroupTypeSpec",
      policy: "group:group_types_specs:update",
      minVersion: "3.11",
      handler: async (ctx) => {
        const body = root(ctx.body);
        specs(undefined, body, { keyPattern: KEY, nullValues: true });
        const n = Object.keys(body).length;
        if (n < 1) throw fail(undefined, body, `${pyRepr(body)} does not have enough properties`);
        if (n > 1) throw fail(undefined, body, `${pyRepr(body)} has too many properties`);
        ctx.enforce("group:group_types_specs:update", {});
        const id = ctx.params["group_type_id"]!;
        const key = ctx.params["key"]!;
        await check(id);
        if (!(key in body)) throw new BadRequest("Request body and URI mismatch");
        await types.setSpecs(id, body as Record<string, string | null>);
        return { body };
      },
    },
    {
      method: "DELETE",
      path: "/group_types/:group_type_id/group_specs/:key",
      operation: "deleteGroupTypeSpec",
      policy: "group:group_types_specs:delete",
      minVersion: "3.11",
      handler: async (ctx) => {
        ctx.enforce("group:group_types_specs:delete", {});
        const id = ctx.params["group_type_id"]!;
        await check(id);
        await types.deleteSpec(id, ctx.params["key"]!);
        return { status: 202 };
      },
    },
  ];
}
