import { BadRequest } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { Input } from "../manager/catalog.js";
import { regionCreate, regionUpdate } from "../schemas/catalog.js";
import { regionView } from "../views/catalog.js";
import { limited } from "../views/common.js";
import { entity } from "./common.js";
import type { Identity } from "./deps.js";

/** /v3/regions (keystone/api/regions.py): policy is enforced before the region is loaded. */
export function regionRoutes(id: Identity): Route[] {
  const { catalog } = id;
  return [
    {
      method: "POST",
      path: "/v3/regions",
      operation: "createRegion",
      policy: "identity:create_region",
      body: regionCreate,
      handler: async (ctx) => {
        ctx.enforce("identity:create_region");
        const r = await catalog.createRegion(entity<Input>(ctx, "region"));
        return { status: 201, body: { region: regionView(ctx, r) } };
      },
    },
    {
      method: "PUT",
      path: "/v3/regions/:region_id",
      operation: "createRegionWithId",
      policy: "identity:create_region",
      body: regionCreate,
      handler: async (ctx) => {
        const regionId = ctx.params["region_id"]!;
        ctx.enforce("identity:create_region", { region_id: regionId });
        const input = { ...entity<Input>(ctx, "region") };
        if (!("id" in input)) input["id"] = regionId;
        else if (input["id"] !== regionId) {
          throw new BadRequest(`Conflicting region IDs specified: "${regionId}" != "${String(input["id"])}"`);
        }
        const r = await catalog.createRegion(input);
        return { status: 201, body: { region: regionView(ctx, r) } };
      },
    },
    {
      method: "GET",
      path: "/v3/regions",
      operation: "listRegions",
      policy: "identity:list_regions",
      handler: async (ctx) => {
        const parent = ctx.q("parent_region_id");
        ctx.enforce("identity:list_regions", parent !== undefined ? { filter_attr: { parent_region_id: parent } } : {});
        const f: Parameters<typeof catalog.listRegions>[0] = {};
        if (parent !== undefined) f.parentRegionId = parent;
        const list = await catalog.listRegions(f);
        return { body: limited(ctx, "regions", list.map((r) => regionView(ctx, r)), id.core.config.identity.listLimit) };
      },
    },
    {
      method: "GET",
      path: "/v3/regions/:region_id",
      operation: "showRegion",
      policy: "identity:get_region",
      handler: async (ctx) => {
        const regionId = ctx.params["region_id"]!;
        ctx.enforce("identity:get_region", { region_id: regionId });
        return { body: { region: regionView(ctx, await catalog.getRegion(regionId)) } };
      },
    },
    {
      method: "PATCH",
      path: "/v3/regions/:region_id",
      operation: "updateRegion",
      policy: "identity:update_region",
      body: regionUpdate,
      handler: async (ctx) => {
        const regionId = ctx.params["region_id"]!;
        ctx.enforce("identity:update_region", { region_id: regionId });
        const r = await catalog.updateRegion(regionId, entity<Input>(ctx, "region"));
        return { body: { region: regionView(ctx, r) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/regions/:region_id",
      operation: "deleteRegion",
      policy: "identity:delete_region",
      handler: async (ctx) => {
        const regionId = ctx.params["region_id"]!;
        ctx.enforce("identity:delete_region", { region_id: regionId });
        await catalog.deleteRegion(regionId);
        return { status: 204 };
      },
    },
  ];
}
