import { BadRequest, CloudError, Forbidden, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Image } from "../index.js";
import type { Img } from "../manager/images.js";
import { glanceCaller, imageTarget } from "./common.js";

/** CacheController._enforce: a refused cache rule is webob's bare HTTPForbidden. */
function enforceCache(ctx: RequestContext, rule: string, img?: Img): void {
  if (!ctx.allowed(rule, img ? imageTarget(img) : {})) throw new Forbidden("Access was denied to this resource.");
}

/** The image cache API (Glance 2.14+: /v2/cache), present when the cache is enabled. */
export function cacheRoutes(i: Image): Route[] {
  if (!i.config.image.cache) return [];
  const c = i.cache;
  const lookup = async (ctx: RequestContext, id: string): Promise<Img | undefined> => {
    try {
      return await i.images.get(glanceCaller(ctx), id);
    } catch (e) {
      if (e instanceof CloudError && e.status === 404) return undefined;
      throw e;
    }
  };
  return [
    {
      method: "GET",
      path: "/v2/cache",
      operation: "listCache",
      policy: "cache_list",
      handler: async (ctx) => {
        enforceCache(ctx, "cache_list");
        return { body: await c.state() };
      },
    },
    {
      method: "PUT",
      path: "/v2/cache/:image_id",
      operation: "queueImageForCaching",
      policy: "cache_image",
      handler: async (ctx) => {
        const id = ctx.params["image_id"]!;
        const img = await lookup(ctx, id);
        if (!img) throw new NotFound(`Image ${id} not found.`);
        enforceCache(ctx, "cache_image", img);
        if (img.status !== "active") throw new BadRequest("Only images with status active can be targeted for queueing");
        await c.queue(id);
        return { status: 202 };
      },
    },
    {
      method: "DELETE",
      path: "/v2/cache/:image_id",
      operation: "deleteImageFromCache",
      policy: "cache_delete",
      handler: async (ctx) => {
        const id = ctx.params["image_id"]!;
        const img = await lookup(ctx, id);
        if (!img && !(await c.has(id))) throw new NotFound(`Image ${id} not found.`);
        enforceCache(ctx, "cache_delete", img);
        await c.delete(id);
        return { status: 204 };
      },
    },
    {
      method: "DELETE",
      path: "/v2/cache",
      operation: "clearCache",
      policy: "cache_delete",
      handler: async (ctx) => {
        enforceCache(ctx, "cache_delete");
        const target = (ctx.header("x-image-cache-clear-target") ?? "").toLowerCase();
        if (target !== "" && target !== "cache" && target !== "queue") {
          throw new BadRequest("If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty string.");
        }
        await c.clear(target);
        return { status: 204 };
      },
    },
  ];
}
