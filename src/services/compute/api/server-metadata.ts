import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { ServerManager } from "../manager/servers.js";
import type { Instance } from "../store/servers.js";
import type { Compute } from "./deps.js";
import { invalidField, isObject, noAdditional, pyRepr } from "./fleet-validate.js";
import { serverCaller } from "./server-common.js";
import { metadataField } from "./servers.js";

/** server_metadata.py: /servers/{id}/metadata CRUD (schemas/server_metadata.py). */
export function serverMetadataRoutes(c: Compute, mgr: ServerManager): Route[] {
  const load = async (ctx: RequestContext, rule: string): Promise<Instance> => {
    const inst = await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!);
    ctx.enforce(rule, { project_id: inst.project_id });
    return inst;
  };
  const body = (ctx: RequestContext, key: "metadata" | "meta"): Record<string, string> => {
    const b = ctx.body;
    if (!isObject(b)) throw new BadRequest(`${pyRepr(b)} is not of type 'object'`);
    if (!(key in b)) throw new BadRequest(`'${key}' is a required property`);
    noAdditional(b, [key], undefined);
    const m = metadataField(key, b[key]);
    if (key === "meta") {
      const n = Object.keys(m).length;
      if (n < 1) throw invalidField(key, b[key], `${pyRepr(b[key])} does not have enough properties`);
      if (n > 1) throw invalidField(key, b[key], `${pyRepr(b[key])} has too many properties`);
    }
    return m;
  };
  return [
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/metadata",
      operation: "listServerMetadata",
      policy: "os_compute_api:server-metadata:index",
      handler: async (ctx) => ({ body: { metadata: (await load(ctx, "os_compute_api:server-metadata:index")).metadata } }),
    },
    {
      method: "POST",
      path: "/v2.1/servers/:server_id/metadata",
      operation: "createServerMetadata",
      policy: "os_compute_api:server-metadata:create",
      handler: async (ctx) => {
        const m = body(ctx, "metadata");
        const inst = await load(ctx, "os_compute_api:server-metadata:create");
        return { body: { metadata: await mgr.updateMetadata(serverCaller(ctx), inst, m, false) } };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/servers/:server_id/metadata",
      operation: "replaceServerMetadata",
      policy: "os_compute_api:server-metadata:update_all",
      handler: async (ctx) => {
        const m = body(ctx, "metadata");
        const inst = await load(ctx, "os_compute_api:server-metadata:update_all");
        return { body: { metadata: await mgr.updateMetadata(serverCaller(ctx), inst, m, true) } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/metadata/:key",
      operation: "showServerMetadataItem",
      policy: "os_compute_api:server-metadata:show",
      handler: async (ctx) => {
        const inst = await load(ctx, "os_compute_api:server-metadata:show");
        const key = ctx.params["key"]!;
        if (!(key in inst.metadata)) throw new NotFound("Metadata item was not found");
        return { body: { meta: { [key]: inst.metadata[key] } } };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/servers/:server_id/metadata/:key",
      operation: "updateServerMetadataItem",
      policy: "os_compute_api:server-metadata:update",
      handler: async (ctx) => {
        const m = body(ctx, "meta");
        const inst = await load(ctx, "os_compute_api:server-metadata:update");
        if (!(ctx.params["key"]! in m)) throw new BadRequest("Request body and URI mismatch");
        await mgr.updateMetadata(serverCaller(ctx), inst, m, false);
        return { body: { meta: m } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/servers/:server_id/metadata/:key",
      operation: "deleteServerMetadataItem",
      policy: "os_compute_api:server-metadata:delete",
      handler: async (ctx) => {
        const inst = await load(ctx, "os_compute_api:server-metadata:delete");
        const key = ctx.params["key"]!;
        if (!(key in inst.metadata)) throw new NotFound("Metadata item was not found");
        await mgr.deleteMetadataKey(serverCaller(ctx), inst, key);
        return { status: 204 };
      },
    },
  ];
}
