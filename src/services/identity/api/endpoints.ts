import type { RequestContext, Route } from "../../../http/context.js";
import type { Input } from "../manager/catalog.js";
import { endpointCreate, endpointUpdate } from "../schemas/catalog.js";
import type { EndpointRow } from "../store/tables.js";
import { endpointView } from "../views/catalog.js";
import { limited } from "../views/common.js";
import { entity } from "./common.js";
import type { Identity } from "./deps.js";

/**
 * /v3/endpoints (keystone/api/endpoints.py). Keystone's endpoint resource loads the member
 * for its policy target, so an unknown endpoint is 404 before policy is checked.
 */
export function endpointRoutes(id: Identity): Route[] {
  const { catalog } = id;

  const member = async (ctx: RequestContext, rule: string): Promise<EndpointRow> => {
    const endpointId = ctx.params["endpoint_id"]!;
    const e = await catalog.getEndpoint(endpointId);
    ctx.enforce(rule, { endpoint_id: endpointId, target: { endpoint: endpointView(ctx, e) } });
    return e;
  };

  return [
    {
      method: "POST",
      path: "/v3/endpoints",
      operation: "createEndpoint",
      policy: "identity:create_endpoint",
      body: endpointCreate,
      handler: async (ctx) => {
        ctx.enforce("identity:create_endpoint");
        const e = await catalog.createEndpoint(entity<Input>(ctx, "endpoint"));
        return { status: 201, body: { endpoint: endpointView(ctx, e) } };
      },
    },
    {
      method: "GET",
      path: "/v3/endpoints",
      operation: "listEndpoints",
      policy: "identity:list_endpoints",
      handler: async (ctx) => {
        const f: Parameters<typeof catalog.listEndpoints>[0] = {};
        const iface = ctx.q("interface");
        if (iface !== undefined) f.interface = iface;
        const serviceId = ctx.q("service_id");
        if (serviceId !== undefined) f.serviceId = serviceId;
        const regionId = ctx.q("region_id");
        if (regionId !== undefined) f.regionId = regionId;
        const filterAttr: Record<string, string> = {};
        for (const k of ["interface", "service_id", "region_id"]) {
          const v = ctx.q(k);
          if (v !== undefined) filterAttr[k] = v;
        }
        ctx.enforce("identity:list_endpoints", Object.keys(filterAttr).length > 0 ? { filter_attr: filterAttr } : {});
        const list = await catalog.listEndpoints(f);
        return { body: limited(ctx, "endpoints", list.map((e) => endpointView(ctx, e)), id.core.config.identity.listLimit) };
      },
    },
    {
      method: "GET",
      path: "/v3/endpoints/:endpoint_id",
      operation: "showEndpoint",
      policy: "identity:get_endpoint",
      handler: async (ctx) => {
        const e = await member(ctx, "identity:get_endpoint");
        return { body: { endpoint: endpointView(ctx, e) } };
      },
    },
    {
      method: "PATCH",
      path: "/v3/endpoints/:endpoint_id",
      operation: "updateEndpoint",
      policy: "identity:update_endpoint",
      body: endpointUpdate,
      handler: async (ctx) => {
        const cur = await member(ctx, "identity:update_endpoint");
        const e = await catalog.updateEndpoint(cur.id, entity<Input>(ctx, "endpoint"));
        return { body: { endpoint: endpointView(ctx, e) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/endpoints/:endpoint_id",
      operation: "deleteEndpoint",
      policy: "identity:delete_endpoint",
      handler: async (ctx) => {
        const cur = await member(ctx, "identity:delete_endpoint");
        await catalog.deleteEndpoint(cur.id);
        return { status: 204 };
      },
    },
  ];
}
