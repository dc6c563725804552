import { BadRequest, Forbidden } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { Image } from "../index.js";
import { enforceImage, glanceCaller } from "./common.js";
import { jsonBody } from "./images.js";

/**
 * The import methods this cloud runs (Glance's enabled_import_methods): copy-image only when
 * there is more than one store to copy to.
 */
export function importMethods(enabled: readonly string[], stores: readonly string[]): string[] {
  return ["glance-direct", "web-download", "copy-image", "glance-download"].filter((m) => enabled.includes(m) && (m !== "copy-image" || stores.length > 1));
}

export function discoveryRoutes(i: Image): Route[] {
  const m = i.images;
  return [
    {
      method: "GET",
      path: "/v2/info/import",
      operation: "showImportInfo",
      handler: async () => ({ body: { "import-methods": { description: "Import methods available.", type: "array", value: importMethods(i.config.image.importMethods, m.stores) } } }),
    },
    {
      method: "GET",
      path: "/v2/info/stores",
      operation: "listStores",
      handler: async () => ({ body: { stores: m.stores.map((id, n) => (n === 0 ? { id, default: "true" } : { id })) } }),
    },
    {
      // Glance without use_keystone_limits (its default; per-project image quotas through
      // Keystone unified limits are not built) reports no usage.
      method: "GET",
      path: "/v2/info/usage",
      operation: "showUsage",
      handler: async () => ({ body: { usage: {} } }),
    },
    {
      method: "GET",
      path: "/v2/info/stores/detail",
      operation: "listStoresDetail",
      policy: "stores_info_detail",
      handler: async (ctx) => {
        if (!ctx.allowed("stores_info_detail", {})) throw new Forbidden("You are not authorized to complete stores_info_detail action.");
        const stores = m.stores.map((id, n) => ({ id, type: "file", ...(n === 0 ? { default: "true" } : {}), properties: { data_dir: `/var/lib/glance/${id}/`, chunk_size: 65536, thin_provisioning: false } }));
        return { body: { stores } };
      },
    },
    {
      method: "POST",
      path: "/v2/images/:image_id/import",
      operation: "importImage",
      policy: "modify_image",
      handler: async (ctx) => {
        const body = jsonBody(ctx);
        if (typeof body !== "object" || body === null || Array.isArray(body)) throw new BadRequest("Import request requires a 'method' field.");
        const b = body as Record<string, unknown>;
        const method = b["method"];
        if (method === undefined) throw new BadRequest("Import request requires a 'method' field.");
        const name = typeof method === "object" && method !== null ? (method as Record<string, unknown>)["name"] : undefined;
        if (name === undefined) throw new BadRequest("Import request requires a 'name' field.");
        if (!importMethods(i.config.image.importMethods, m.stores).includes(name as string)) throw new BadRequest(`Unknown import method name '${String(name)}'.`);
        if ("all_stores_must_succeed" in b && typeof b["all_stores_must_succeed"] !== "boolean") throw new BadRequest("'all_stores_must_succeed' must be boolean value only");
        if ("all_stores" in b && typeof b["all_stores"] !== "boolean") throw new BadRequest("'all_stores' must be boolean value only");
        const caller = glanceCaller(ctx);
        const img = await m.get(caller, ctx.params["image_id"]!);
        // copy-image is an admin's (copy_image); the other methods need modify_image.
        enforceImage(ctx, img, name === "copy-image" ? "copy_image" : "modify_image");
        await m.import(caller, img.id, b);
        return { status: 202 };
      },
    },
  ];
}
