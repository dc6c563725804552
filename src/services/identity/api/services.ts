import type { Route } from "../../../http/context.js";
import type { Input } from "../manager/catalog.js";
import { serviceCreate, serviceUpdate } from "../schemas/catalog.js";
import { serviceView } from "../views/catalog.js";
import { limited } from "../views/common.js";
import { entity } from "./common.js";
import type { Identity } from "./deps.js";

/** /v3/services (keystone/api/services.py): policy is enforced before the service is loaded. */
export function serviceRoutes(id: Identity): Route[] {
  const { catalog } = id;
  return [
    {
      method: "POST",
      path: "/v3/services",
      operation: "createService",
      policy: "identity:create_service",
      body: serviceCreate,
      handler: async (ctx) => {
        ctx.enforce("identity:create_service");
        const s = await catalog.createService(entity<Input>(ctx, "service"));
        return { status: 201, body: { service: serviceView(ctx, s) } };
      },
    },
    {
      method: "GET",
      path: "/v3/services",
      operation: "listServices",
      policy: "identity:list_services",
      handler: async (ctx) => {
        const f: Parameters<typeof catalog.listServices>[0] = {};
        const type = ctx.q("type");
        if (type !== undefined) f.type = type;
        const name = ctx.q("name");
        if (name !== undefined) f.name = name;
        ctx.enforce("identity:list_services", Object.keys(f).length > 0 ? { filter_attr: f } : {});
        const list = await catalog.listServices(f);
        return { body: limited(ctx, "services", list.map((s) => serviceView(ctx, s)), id.core.config.identity.listLimit) };
      },
    },
    {
      method: "GET",
      path: "/v3/services/:service_id",
      operation: "showService",
      policy: "identity:get_service",
      handler: async (ctx) => {
        const serviceId = ctx.params["service_id"]!;
        ctx.enforce("identity:get_service", { service_id: serviceId });
        return { body: { service: serviceView(ctx, await catalog.getService(serviceId)) } };
      },
    },
    {
      method: "PATCH",
      path: "/v3/services/:service_id",
      operation: "updateService",
      policy: "identity:update_service",
      body: serviceUpdate,
      handler: async (ctx) => {
        const serviceId = ctx.params["service_id"]!;
        ctx.enforce("identity:update_service", { service_id: serviceId });
        const s = await catalog.updateService(serviceId, entity<Input>(ctx, "service"));
        return { body: { service: serviceView(ctx, s) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/services/:service_id",
      operation: "deleteService",
      policy: "identity:delete_service",
      handler: async (ctx) => {
        const serviceId = ctx.params["service_id"]!;
        ctx.enforce("identity:delete_service", { service_id: serviceId });
        await catalog.deleteService(serviceId);
        return { status: 204 };
      },
    },
  ];
}
