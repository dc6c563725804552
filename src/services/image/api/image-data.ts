import { Readable } from "node:stream";
import { CloudError, Forbidden, NotFound, UnsupportedMediaType } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import { RangeNotSatisfiable } from "../faults.js";
import type { Image } from "../index.js";
import { enforceImage, glanceCaller } from "./common.js";

/** request.get_content_type(('application/octet-stream',)) */
function requireOctetStream(ctx: RequestContext): void {
  const type = (ctx.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/octet-stream") throw new UnsupportedMediaType(`Invalid content type ${type}`);
}

/**
 * An upload refused before its body was read (policy, media type, state): the unread body
 * must not be taken for the next request on the connection, so the answer closes it.
 */
function uploadRoute(route: Route): Route {
  return {
    ...route,
    handler: async (ctx) => {
      try {
        return await route.handler(ctx);
      } catch (e) {
        const body = ctx.body as Readable | undefined;
        if (e instanceof CloudError && body !== undefined && !body.readableEnded && !("connection" in e.headers)) {
          throw new CloudError(e.status, e.message, { ...e.headers, connection: "close" });
        }
        throw e;
      }
    },
  };
}

function bodyStream(ctx: RequestContext): Readable {
  return ctx.body === undefined ? Readable.from([]) : (ctx.body as Readable);
}

/**
 * Glance's get_range_from_request: webob's Range ("bytes=a-b", "bytes=a-", "bytes=-n"); an
 * unparsable header or a start past the end is a 416. Returns [offset, last] inclusive.
 */
function parseRange(header: string, size: number): [number, number] {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) throw new RangeNotSatisfiable("Invalid Range header.");
  if (m[1] === "") {
    // Suffix: the last n bytes.
    const n = Number(m[2]);
    if (n === 0) throw new RangeNotSatisfiable("Invalid Range header.");
    const offset = n < size ? size - n : 0;
    return [offset, size - 1];
  }
  const start = Number(m[1]);
  if (m[2] !== "" && Number(m[2]) < start) throw new RangeNotSatisfiable("Invalid Range header.");
  if (start >= size) throw new RangeNotSatisfiable(`Invalid start position in Range header. Start position MUST be in range [0, ${size - 1}].`);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  return [start, end];
}

export function imageDataRoutes(i: Image): Route[] {
  const m = i.images;
  return [
    uploadRoute({
      method: "PUT",
      path: "/v2/images/:image_id/file",
      operation: "uploadImageData",
      policy: "upload_image",
      rawBody: true,
      handler: async (ctx) => {
        requireOctetStream(ctx);
        const caller = glanceCaller(ctx);
        const img = await m.get(caller, ctx.params["image_id"]!);
        try {
          enforceImage(ctx, img, "upload_image");
        } catch (e) {
          if (e instanceof Forbidden) throw new Forbidden(`Not allowed to upload image data for image ${img.id}`);
          throw e;
        }
        const store = ctx.header("x-image-meta-store");
        await m.upload(caller, img.id, bodyStream(ctx), store ?? m.stores[0]!);
        return { status: 204 };
      },
    }),
    uploadRoute({
      method: "PUT",
      path: "/v2/images/:image_id/stage",
      operation: "stageImageData",
      policy: "modify_image",
      rawBody: true,
      handler: async (ctx) => {
        if (!i.config.image.importMethods.includes("glance-direct")) throw new NotFound("'glance-direct' method is not available at this site.");
        requireOctetStream(ctx);
        const caller = glanceCaller(ctx);
        const img = await m.get(caller, ctx.params["image_id"]!);
        enforceImage(ctx, img, "modify_image");
        await m.stage(caller, img.id, bodyStream(ctx));
        return { status: 204 };
      },
    }),
    {
      method: "GET",
      path: "/v2/images/:image_id/file",
      operation: "downloadImageData",
      policy: "download_image",
      handler: async (ctx) => {
        const caller = glanceCaller(ctx);
        const img = await m.get(caller, ctx.params["image_id"]!);
        if (img.status === "deactivated" && !caller.isAdmin) {
          throw new Forbidden("The requested image has been deactivated. Image data download is forbidden.");
        }
        enforceImage(ctx, img, "download_image");
        const size = img.size ?? 0;
        const rangeHeader = ctx.header("range");
        const headers: Record<string, string> = { "content-type": "application/octet-stream" };
        if (img.checksum) headers["content-md5"] = img.checksum;
        if (!img.data_key) return { status: 204, headers: {} };
        if (rangeHeader !== undefined) {
          const [start, end] = parseRange(rangeHeader, size);
          const stream = (await i.cache.read(img, { start, end })) ?? (await m.openData(img, { start, end }));
          if (!stream) return { status: 204 };
          headers["content-range"] = `bytes ${start}-${end}/${size}`;
          headers["content-length"] = String(end - start + 1);
          return { status: 206, stream, headers };
        }
        const stream = (i.config.image.cache ? await i.cache.read(img, undefined) : undefined) ?? (await m.openData(img));
        if (!stream) return { status: 204 };
        headers["content-length"] = String(size);
        return { status: 200, stream, headers };
      },
    },
  ];
}


