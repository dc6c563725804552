import { BadRequest, NotFound } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { TypesManager } from "../manager/types.js";
import { visibleSpecs } from "../views/types.js";
import { envelope, extraSpecsField, isObject, pyRepr } from "./catalog-validate.js";
import type { Volume } from "./deps.js";
import { own, viewerOf } from "./types.js";

/** parameter_types.extra_specs_with_no_spaces_key. */
const KEY = /^[a-zA-Z0-9-_:.]{1,255}$/;

/** cinder/api/contrib/types_extra_specs.py: /types/{type_id}/extra_specs[/{key}]. */
export function typeExtraSpecsRoutes(v: Volume): Route[] {
  const types = v.types as TypesManager;
  // _allow_update: no extra spec changes while any volume uses the type.
  const allowUpdate = async (id: string) => {
    if (await types.inUse(id)) throw new BadRequest("Volume Type is currently in use.");
  };
  // _check_cacheable: cacheable and multiattach cannot both be "<is> True".
  const checkCacheable = (specs: Record<string, string | null>, current: Record<string, string>) => {
    const on = "<is> True";
    const m = specs["multiattach"] ?? current["multiattach"];
    const c = specs["cacheable"] ?? current["cacheable"];
    if ((specs["multiattach"] === on || specs["cacheable"] === on) && m === on && c === on) throw new BadRequest("cacheable cannot be set with multiattach.");
  };
  return [
    {
      method: "GET",
      path: "/types/:type_id/extra_specs",
      operation: "listVolumeTypeExtraSpecs",
      policy: "volume_extension:types_extra_specs:index",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:types_extra_specs:index", own(ctx));
        const t = await types.get(ctx.params["type_id"]!, viewerOf(ctx));
        return { body: { extra_specs: visibleSpecs(ctx, t.extra_specs) } };
      },
    },
    {
      method: "POST",
      path: "/types/:type_id/extra_specs",
      operation: "createVolumeTypeExtraSpecs",
      policy: "volume_extension:types_extra_specs:create",
      handler: async (ctx) => {
        const b = ctx.body;
        if (!isObject(b)) throw new BadRequest(`${pyRepr(b ?? null)} is not of type 'object'`);
        if (!("extra_specs" in b)) throw new BadRequest("'extra_specs' is a required property");
        envelope(b, "extra_specs");
        const specs = extraSpecsField("extra_specs", b["extra_specs"], true, KEY);
        ctx.enforce("volume_extension:types_extra_specs:create", own(ctx));
        const id = ctx.params["type_id"]!;
        await allowUpdate(id);
        const t = await types.get(id, viewerOf(ctx));
        checkCacheable(specs, t.extra_specs);
        const clean: Record<string, string> = {};
        for (const [k, x] of Object.entries(specs)) clean[k] = x ?? "";
        await types.setSpecs(id, clean);
        return { body: { extra_specs: specs } };
      },
    },
    {
      method: "GET",
      path: "/types/:type_id/extra_specs/:key",
      operation: "showVolumeTypeExtraSpec",
      policy: "volume_extension:types_extra_specs:show",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:types_extra_specs:show", own(ctx));
        const id = ctx.params["type_id"]!;
        const key = ctx.params["key"]!;
        const t = await types.get(id, viewerOf(ctx));
        const specs = visibleSpecs(ctx, t.extra_specs);
        if (!(key in specs)) throw new NotFound(`Volume Type ${id} has no extra specs with key ${key}.`);
        return { body: { [key]: specs[key] } };
      },
    },
    {
      method: "PUT",
      path: "/types/:type_id/extra_specs/:key",
      operation: "updateVolumeTypeExtraSpec",
      policy: "volume_extension:types_extra_specs:update",
      handler: async (ctx) => {
        const b = ctx.body;
        if (!isObject(b)) throw new BadRequest(`${pyRepr(b ?? null)} is not of type 'object'`);
        const n = Object.keys(b).length;
        if (n < 1) throw new BadRequest(`${pyRepr(b)} does not have enough properties`);
        if (n > 1) throw new BadRequest(`${pyRepr(b)} has too many properties`);
        const specs = extraSpecsField("extra_specs", b, true, KEY);
        ctx.enforce("volume_extension:types_extra_specs:update", own(ctx));
        const id = ctx.params["type_id"]!;
        await allowUpdate(id);
        const t = await types.get(id, viewerOf(ctx));
        const key = ctx.params["key"]!;
        if (!(key in b)) throw new BadRequest("Request body and URI mismatch");
        checkCacheable(specs, t.extra_specs);
        await types.setSpecs(id, { [key]: specs[key] ?? "" });
        return { body: b };
      },
    },
    {
      method: "DELETE",
      path: "/types/:type_id/extra_specs/:key",
      operation: "deleteVolumeTypeExtraSpec",
      policy: "volume_extension:types_extra_specs:delete",
      handler: async (ctx) => {
        const id = ctx.params["type_id"]!;
        await types.get(id, viewerOf(ctx));
        ctx.enforce("volume_extension:types_extra_specs:delete", own(ctx));
        await allowUpdate(id);
        await types.deleteSpec(id, ctx.params["key"]!);
        return { status: 202 };
      },
    },
  ];
}
