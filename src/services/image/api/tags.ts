import { CloudError, Forbidden, NotFound } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { Image } from "../index.js";
import type { GlanceCaller, Img } from "../manager/images.js";
import { enforceImage, glanceCaller } from "./common.js";

/** ImageTagsController's lookup: "Image %s not found." */
export async function lookupImage(i: Image, caller: GlanceCaller, id: string): Promise<Img> {
  try {
    return await i.images.get(caller, id);
  } catch (e) {
    if (e instanceof CloudError && e.status === 404) throw new NotFound(`Image ${id} not found.`);
    throw e;
  }
}

/** PUT/DELETE /v2/images/{id}/tags/{tag} (ImageTagsController: modify_image). */
export function tagRoutes(i: Image): Route[] {
  const m = i.images;
  return (["PUT", "DELETE"] as const).map(
    (method): Route => ({
      method,
      path: "/v2/images/:image_id/tags/:tag_value",
      operation: method === "PUT" ? "addImageTag" : "deleteImageTag",
      policy: "modify_image",
      handler: async (ctx) => {
        const caller = glanceCaller(ctx);
        const id = ctx.params["image_id"]!;
        const img = await lookupImage(i, caller, id);
        try {
          enforceImage(ctx, img, "modify_image");
        } catch (e) {
          if (e instanceof Forbidden) throw new Forbidden(`Not allowed to ${method === "PUT" ? "update" : "delete"} tags for image ${id}.`);
          throw e;
        }
        if (method === "PUT") await m.addTag(caller, id, ctx.params["tag_value"]!);
        else await m.deleteTag(caller, id, ctx.params["tag_value"]!);
        return { status: 204 };
      },
    }),
  );
}
