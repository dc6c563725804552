import type { RequestContext, Route } from "../../../http/context.js";
import type { RegisteredLimitInput } from "../manager/limits.js";
import { registeredLimitsCreate, registeredLimitUpdate } from "../schemas/limits.js";
import type { RegisteredLimitFilter } from "../store/limits.js";
import { limited } from "../views/common.js";
import { registeredLimitView } from "../views/limits.js";
import type { Identity } from "./deps.js";

/** GET filters Keystone honours on registered limits (exact match). */
function filterOf(ctx: RequestContext): RegisteredLimitFilter {
  const f: RegisteredLimitFilter = {};
  const s = ctx.q("service_id");
  if (s !== undefined) f.serviceId = s;
  const r = ctx.q("region_id");
  if (r !== undefined) f.regionId = r;
  const n = ctx.q("resource_name");
  if (n !== undefined) f.resourceName = n;
  return f;
}

/** /v3/registered_limits (keystone/api/registered_limits.py). */
export function registeredLimitRoutes(id: Identity): Route[] {
  const { limits } = id;
  return [
    {
      method: "POST",
      path: "/v3/registered_limits",
      operation: "createRegisteredLimits",
      policy: "identity:create_registered_limits",
      body: registeredLimitsCreate,
      handler: async (ctx) => {
        ctx.enforce("identity:create_registered_limits");
        const input = (ctx.body as { registered_limits: RegisteredLimitInput[] }).registered_limits;
        const rows = await limits.createRegisteredLimits(input);
        // A created collection has no collection links in Keystone.
        return { status: 201, body: { registered_limits: rows.map((r) => registeredLimitView(ctx, r)) } };
      },
    },
    {
      method: "GET",
      path: "/v3/registered_limits",
      operation: "listRegisteredLimits",
      policy: "identity:list_registered_limits",
      handler: async (ctx) => {
        ctx.enforce("identity:list_registered_limits");
        const rows = await limits.listRegisteredLimits(filterOf(ctx));
        return {
          body: limited(
            ctx,
            "registered_limits",
            rows.map((r) => registeredLimitView(ctx, r)),
            id.core.config.identity.listLimit,
          ),
        };
      },
    },
    {
      method: "GET",
      path: "/v3/registered_limits/:registered_limit_id",
      operation: "showRegisteredLimit",
      policy: "identity:get_registered_limit",
      handler: async (ctx) => {
        ctx.enforce("identity:get_registered_limit");
        const r = await limits.getRegisteredLimit(ctx.params["registered_limit_id"]!);
        return { body: { registered_limit: registeredLimitView(ctx, r) } };
      },
    },
    {
      method: "PATCH",
      path: "/v3/registered_limits/:registered_limit_id",
      operation: "updateRegisteredLimit",
      policy: "identity:update_registered_limit",
      body: registeredLimitUpdate,
      handler: async (ctx) => {
        ctx.enforce("identity:update_registered_limit");
        const patch = (ctx.body as { registered_limit: RegisteredLimitInput }).registered_limit;
        const r = await limits.updateRegisteredLimit(ctx.params["registered_limit_id"]!, patch);
        return { body: { registered_limit: registeredLimitView(ctx, r) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/registered_limits/:registered_limit_id",
      operation: "deleteRegisteredLimit",
      policy: "identity:delete_registered_limit",
      handler: async (ctx) => {
        ctx.enforce("identity:delete_registered_limit");
        await limits.deleteRegisteredLimit(ctx.params["registered_limit_id"]!);
        return { status: 204 };
      },
    },
  ];
}
