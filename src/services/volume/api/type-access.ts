import { NotFound } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import { isUuidLike, type TypesManager } from "../manager/types.js";
import { invalidField, isObject, noAdditional, pyRepr, required } from "./catalog-validate.js";
import type { Volume } from "./deps.js";
import { own, viewerOf } from "./types.js";

/** The `project` of an add/removeProjectAccess body (parameter_types.uuid). */
function projectOf(action: string, value: unknown): string {
  if (!isObject(value)) throw invalidField(action, value, `${pyRepr(value)} is not of type 'object'`);
  noAdditional(value, ["project"], action);
  required(value, ["project"], action);
  const p = value["project"];
  if (typeof p !== "string") throw invalidField("project", p, `${pyRepr(p)} is not of type 'string'`);
  if (!isUuidLike(p)) throw invalidField("project", p, `${pyRepr(p)} is not a 'uuid'`);
  return p;
}

/** cinder/api/contrib/volume_type_access.py: the access list of a private type and its two actions. */
export function registerTypeAccessActions(v: Volume): void {
  const types = v.types as TypesManager;
  v.actions.register("types", "addProjectAccess", {
    handler: async (ctx, value) => {
      const project = projectOf("addProjectAccess", value);
      ctx.enforce("volume_extension:volume_type_access:addProjectAccess", own(ctx));
      await types.addAccess(ctx.params["type_id"]!, project);
      return { status: 202 };
    },
  });
  v.actions.register("types", "removeProjectAccess", {
    handler: async (ctx, value) => {
      const project = projectOf("removeProjectAccess", value);
      ctx.enforce("volume_extension:volume_type_access:removeProjectAccess", own(ctx));
      await types.removeAccess(ctx.params["type_id"]!, project);
      return { status: 202 };
    },
  });
}

export function typeAccessRoutes(v: Volume): Route[] {
  const types = v.types as TypesManager;
  return [
    {
      method: "GET",
      path: "/types/:type_id/os-volume-type-access",
      operation: "listVolumeTypeAccess",
      policy: "volume_extension:volume_type_access:get_all_for_type",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:volume_type_access:get_all_for_type", own(ctx));
        const id = ctx.params["type_id"]!;
        const t = await types.get(id, viewerOf(ctx));
        if (t.is_public) throw new NotFound("Access list not available for public volume types.");
        const projects = await types.accessList(id);
        return { body: { volume_type_access: projects.map((p) => ({ volume_type_id: id, project_id: p })) } };
      },
    },
  ];
}
