import { BadRequest, Conflict, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { FlavorManager } from "../manager/flavors.js";
import { invalidField, isObject, noAdditional, pyRepr, required } from "./fleet-validate.js";

/** /flavors/{id}/os-flavor-access and the add/removeTenantAccess actions (flavor_access.py). */
export function flavorAccessRoutes(flavors: FlavorManager): Route[] {
  const marshal = async (flavorId: string) => ({
    flavor_access: (await flavors.accessList(flavorId)).map((p) => ({ flavor_id: flavorId, tenant_id: p })),
  });
  const tenantOf = (ctx: RequestContext, action: string): string => {
    const body = ctx.body as Record<string, unknown>;
    const inner = body[action];
    if (!isObject(inner)) throw invalidField(action, inner, `${pyRepr(inner)} is not of type 'object'`);
    required(inner, ["tenant"], action);
    noAdditional(inner, ["tenant"], action);
    const t = inner["tenant"];
    if (typeof t !== "string") throw invalidField("tenant", t, `${pyRepr(t)} is not of type 'string'`);
    if (t.length < 1) throw invalidField("tenant", t, `${pyRepr(t)} is too short`);
    if (t.length > 255) throw invalidField("tenant", t, `${pyRepr(t)} is too long`);
    return t;
  };
  return [
    {
      method: "GET",
      path: "/v2.1/flavors/:flavor_id/os-flavor-access",
      operation: "listFlavorAccessInformationForGivenFlavor",
      policy: "os_compute_api:os-flavor-access",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-flavor-access", {});
        const f = await flavors.require(ctx.params["flavor_id"]!);
        if (f.is_public) throw new NotFound("Access list not available for public flavors.");
        return { body: await marshal(f.id) };
      },
    },
    {
      method: "POST",
      path: "/v2.1/flavors/:flavor_id/action",
      operation: "flavorAction",
      handler: async (ctx) => {
        const body = ctx.body;
        if (!isObject(body)) throw new BadRequest("The request body is invalid.");
        const id = ctx.params["flavor_id"]!;
        if ("addTenantAccess" in body) {
          ctx.enforce("os_compute_api:os-flavor-access:add_tenant_access", {});
          noAdditional(body, ["addTenantAccess"], undefined);
          const tenant = tenantOf(ctx, "addTenantAccess");
          const f = await flavors.require(id);
          if (ctx.version!.atLeast("2.7") && f.is_public) throw new Conflict("Can not add access to a public flavor.");
          await flavors.addAccess(id, tenant);
          return { body: await marshal(id) };
        }
        if ("removeTenantAccess" in body) {
          ctx.enforce("os_compute_api:os-flavor-access:remove_tenant_access", {});
          noAdditional(body, ["removeTenantAccess"], undefined);
          const tenant = tenantOf(ctx, "removeTenantAccess");
          await flavors.require(id);
          await flavors.removeAccess(id, tenant);
          return { body: await marshal(id) };
        }
        // Nova's action dispatcher: an unknown action name is a 400 ("There is no such action").
        throw new BadRequest(`There is no such action: ${Object.keys(body)[0] ?? ""}`);
      },
    },
  ];
}
