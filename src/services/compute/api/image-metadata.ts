import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { ImageProxy, NovaImage } from "../manager/proxies-images.js";
import { invalidField, isObject, noAdditional, pyRepr } from "./fleet-validate.js";
import { serverCaller } from "./server-common.js";
import { metadataField } from "./servers.js";

/** MAX_IMAGE_META_PROXY_API_VERSION (image metadata outlived the other proxies by three versions). */
const MAX_IMAGE_META = "2.38";

/** schemas/image_metadata.py create/update_all ("metadata") and update ("meta": exactly one item). */
function metaBody(ctx: RequestContext, key: "metadata" | "meta"): Record<string, string> {
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
}

/** /images/{id}/metadata (image_metadata.py): Glance image properties, purge_props=True updates. */
export function imageMetadataRoutes(images: ImageProxy): Route[] {
  const image = (ctx: RequestContext): Promise<NovaImage> => images.get(serverCaller(ctx), ctx.params["image_id"]!);
  return [
    {
      method: "GET",
      path: "/v2.1/images/:image_id/metadata",
      operation: "listImageMetadata",
      maxVersion: MAX_IMAGE_META,
      handler: async (ctx) => ({ body: { metadata: (await image(ctx)).properties } }),
    },
    {
      method: "POST",
      path: "/v2.1/images/:image_id/metadata",
      operation: "createImageMetadata",
      maxVersion: MAX_IMAGE_META,
      handler: async (ctx) => {
        const meta = metaBody(ctx, "metadata");
        const caller = serverCaller(ctx);
        const img = await image(ctx);
        const props = { ...img.properties, ...meta };
        await images.checkQuota(caller, props);
        const updated = await images.setProperties(caller, img, props);
        return { body: { metadata: updated.properties } };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/images/:image_id/metadata",
      operation: "replaceImageMetadata",
      maxVersion: MAX_IMAGE_META,
      handler: async (ctx) => {
        const meta = metaBody(ctx, "metadata");
        const caller = serverCaller(ctx);
        const img = await image(ctx);
        await images.checkQuota(caller, meta);
        await images.setProperties(caller, img, meta);
        return { body: { metadata: meta } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/images/:image_id/metadata/:key",
      operation: "showImageMetadataItem",
      maxVersion: MAX_IMAGE_META,
      handler: async (ctx) => {
        const key = ctx.params["key"]!;
        const props = (await image(ctx)).properties;
        if (!Object.hasOwn(props, key)) throw new NotFound("The resource could not be found.");
        return { body: { meta: { [key]: props[key] } } };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/images/:image_id/metadata/:key",
      operation: "createOrUpdateImageMetadataItem",
      maxVersion: MAX_IMAGE_META,
      handler: async (ctx) => {
        const meta = metaBody(ctx, "meta");
        const key = ctx.params["key"]!;
        if (!Object.hasOwn(meta, key)) throw new BadRequest("Request body and URI mismatch");
        const caller = serverCaller(ctx);
        const img = await image(ctx);
        const props = { ...img.properties, [key]: meta[key] };
        await images.checkQuota(caller, props);
        await images.setProperties(caller, img, props);
        return { body: { meta } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/images/:image_id/metadata/:key",
      operation: "deleteImageMetadataItem",
      maxVersion: MAX_IMAGE_META,
      handler: async (ctx) => {
        const key = ctx.params["key"]!;
        const caller = serverCaller(ctx);
        const img = await image(ctx);
        if (!Object.hasOwn(img.properties, key)) throw new NotFound("Invalid metadata key");
        const props = { ...img.properties };
        delete props[key];
        await images.setProperties(caller, img, props);
        return { status: 204 };
      },
    },
  ];
}
