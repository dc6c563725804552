import { BadRequest, Forbidden, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { TypesManager } from "../manager/types.js";
import { invalidField, isObject, nameField, noAdditional, pyRepr } from "./catalog-validate.js";
import type { Volume } from "./deps.js";
import { own, viewerOf } from "./types.js";

const MV = "3.62";

/**
 * api_utils.validate_project_and_authorize: Cinder's refusal wording. (Cinder also asks
 * Keystone whether the project exists; the volume service has no identity client, so an
 * unknown project id is accepted.)
 */
function authorize(ctx: RequestContext, rule: string, projectId: string): void {
  if (!ctx.allowed(rule, { project_id: projectId })) throw new Forbidden("You are not authorized to perform this operation.");
}

/** cinder/api/v3/default_types.py (3.62): a project's default volume type. */
export function defaultTypesRoutes(v: Volume): Route[] {
  const types = v.types as TypesManager;
  const db = v.core.db;
  return [
    {
      method: "PUT",
      path: "/default-types/:project_id",
      operation: "setDefaultType",
      policy: "volume_extension:default_set_or_update",
      minVersion: MV,
      handler: async (ctx) => {
        const b = ctx.body;
        if (!isObject(b)) throw new BadRequest(`${pyRepr(b ?? null)} is not of type 'object'`);
        const d = b["default_type"];
        if (d === undefined) throw new BadRequest("'default_type' is a required property");
        if (!isObject(d)) throw invalidField("default_type", d, `${pyRepr(d)} is not of type 'object'`);
        noAdditional(d, ["volume_type"], "default_type");
        if (!("volume_type" in d)) throw invalidField("default_type", d, "'volume_type' is a required property");
        const name = nameField("volume_type", d["volume_type"]);
        const projectId = ctx.params["project_id"]!;
        authorize(ctx, "volume_extension:default_set_or_update", projectId);
        let typeId: string;
        try {
          typeId = (await types.getByNameOrId(name, viewerOf(ctx))).id;
        } catch (e) {
          if (e instanceof NotFound) throw new BadRequest(e.message);
          throw e;
        }
        await v.core.write(async (trx) => {
          const r = await trx.updateTable("vol_default_type").set({ volume_type_id: typeId }).where("project_id", "=", projectId).executeTakeFirst();
          if (Number(r.numUpdatedRows) === 0) await trx.insertInto("vol_default_type").values({ project_id: projectId, volume_type_id: typeId }).execute();
        });
        return { body: { default_type: { project_id: projectId, volume_type_id: typeId } } };
      },
    },
    {
      method: "GET",
      path: "/default-types/:project_id",
      operation: "showDefaultType",
      policy: "volume_extension:default_get",
      minVersion: MV,
      handler: async (ctx) => {
        const projectId = ctx.params["project_id"]!;
        authorize(ctx, "volume_extension:default_get", projectId);
        const d = await db.selectFrom("vol_default_type").selectAll().where("project_id", "=", projectId).executeTakeFirst();
        if (!d) throw new NotFound(`Default type for project ${projectId} not found.`);
        return { body: { default_type: { project_id: d.project_id, volume_type_id: d.volume_type_id } } };
      },
    },
    {
      method: "GET",
      path: "/default-types",
      operation: "listDefaultTypes",
      policy: "volume_extension:default_get_all",
      minVersion: MV,
      handler: async (ctx) => {
        if (!ctx.allowed("volume_extension:default_get_all", own(ctx))) throw new Forbidden("You are not authorized to perform this operation.");
        const rows = await db.selectFrom("vol_default_type").selectAll().orderBy("project_id").execute();
        return { body: { default_types: rows.map((d) => ({ project_id: d.project_id, volume_type_id: d.volume_type_id })) } };
      },
    },
    {
      method: "DELETE",
      path: "/default-types/:project_id",
      operation: "unsetDefaultType",
      policy: "volume_extension:default_unset",
      minVersion: MV,
      handler: async (ctx) => {
        const projectId = ctx.params["project_id"]!;
        authorize(ctx, "volume_extension:default_unset", projectId);
        await db.deleteFrom("vol_default_type").where("project_id", "=", projectId).execute();
        return { status: 204 };
      },
    },
  ];
}
