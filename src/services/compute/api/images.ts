import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { ImageProxy, NovaImage } from "../manager/proxies-images.js";
import { MAX_LIMIT, resourceLinks } from "./fleet-links.js";
import { serverCaller } from "./server-common.js";

/** MAX_PROXY_API_SUPPORT_VERSION: the proxy APIs answer 404 above it (api_version_request.py). */
export const MAX_PROXY = "2.35";

/** images.py SUPPORTED_FILTERS: Nova's names → Glance's. */
const FILTERS: Record<string, string> = {
  name: "name",
  status: "status",
  "changes-since": "changes-since",
  server: "property-instance_uuid",
  type: "property-image_type",
  minRam: "min_ram",
  minDisk: "min_disk",
};

const STATUS: Record<string, string> = { active: "ACTIVE", queued: "SAVING", saving: "SAVING", deleted: "DELETED", pending_delete: "DELETED", killed: "ERROR" };
const PROGRESS: Record<string, number> = { queued: 25, saving: 50, active: 100 };

/** The last value of a query parameter (webob's MultiDict.get). */
function lastParam(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.query[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** utils.validate_integer(min_value=0) as common._get_int_param words it. */
export function pageInt(ctx: RequestContext, name: string): number | undefined {
  const v = lastParam(ctx, name);
  if (v === undefined) return undefined;
  if (!/^\s*[-+]?\d+\s*$/.test(v)) throw new BadRequest(`${name} must be an integer`);
  const n = Number.parseInt(v.trim(), 10);
  if (n < 0) throw new BadRequest(`${name} must be >= 0`);
  return n;
}

/** utils.isotime: seconds precision, "Z". */
function isotime(v: string | null): string | null {
  if (!v) return null;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return v;
  return `${d.toISOString().slice(0, 19)}Z`;
}

function links(ctx: RequestContext, id: string): Array<Record<string, string>> {
  return [...resourceLinks(ctx, "images", id), { rel: "alternate", type: "application/vnd.openstack.image", href: `${ctx.baseUrl}/image/images/${id}` }];
}

/** views/images.py ViewBuilder.show. */
export function imageDetail(ctx: RequestContext, img: NovaImage): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: img.id,
    name: img.name,
    minRam: img.min_ram,
    minDisk: img.min_disk,
    metadata: img.properties,
    created: isotime(img.created_at),
    updated: isotime(img.updated_at),
    status: STATUS[img.status] ?? "UNKNOWN",
    progress: PROGRESS[img.status] ?? 0,
    "OS-EXT-IMG-SIZE:size": img.size,
    links: links(ctx, img.id),
  };
  const instanceUuid = img.properties["instance_uuid"];
  if (instanceUuid !== undefined && instanceUuid !== null) {
    out["server"] = { id: instanceUuid, links: resourceLinks(ctx, "servers", String(instanceUuid)) };
  }
  const adc = img.properties["auto_disk_config"];
  if (adc !== undefined && adc !== null) {
    const t = ["1", "t", "true", "on", "y", "yes"].includes(String(adc).trim().toLowerCase());
    out["OS-DCF:diskConfig"] = t ? "AUTO" : "MANUAL";
  }
  return out;
}

/** images.py _get_filters + common.get_pagination_params. */
function listQuery(ctx: RequestContext): { filters: Record<string, string>; limit?: number; marker?: string } {
  const filters: Record<string, string> = {};
  for (const name of Object.keys(ctx.query)) {
    if (name in FILTERS || name.startsWith("property-")) {
      const v = lastParam(ctx, name);
      if (v !== undefined) filters[FILTERS[name] ?? name] = v;
    }
  }
  const server = filters["property-instance_uuid"];
  if (server !== undefined && server.includes("/")) filters["property-instance_uuid"] = server.slice(server.lastIndexOf("/") + 1);
  if (filters["status"] !== undefined) filters["status"] = filters["status"].toLowerCase();
  const limit = pageInt(ctx, "limit");
  pageInt(ctx, "page_size");
  pageInt(ctx, "offset");
  const marker = lastParam(ctx, "marker");
  const q: { filters: Record<string, string>; limit?: number; marker?: string } = { filters };
  if (limit !== undefined) q.limit = limit;
  if (marker !== undefined && marker !== "") q.marker = marker;
  return q;
}

/** _get_collection_links: a "next" link when the page is full. */
function nextLinks(ctx: RequestContext, images: NovaImage[], collection: string): Array<Record<string, string>> {
  const raw = lastParam(ctx, "limit");
  const max = Math.min(raw !== undefined ? Number.parseInt(raw, 10) : MAX_LIMIT, MAX_LIMIT);
  if (!max || max !== images.length) return [];
  const params = new URLSearchParams();
  for (const k of Object.keys(ctx.query).sort()) {
    if (k === "marker") continue;
    const v = lastParam(ctx, k);
    if (v !== undefined) params.set(k, v);
  }
  params.set("marker", images[images.length - 1]!.id);
  return [{ rel: "next", href: `${ctx.serviceUrl}/v2.1/${collection}?${params.toString()}` }];
}

/** /images (images.py): Glance through Nova, up to MAX_PROXY_API_SUPPORT_VERSION. Nova checks no policy here. */
export function imageRoutes(images: ImageProxy): Route[] {
  const list = async (ctx: RequestContext, detail: boolean) => {
    const q = listQuery(ctx);
    const found = await images.list(serverCaller(ctx), q);
    const body: Record<string, unknown> = {
      images: found.map((img) => (detail ? imageDetail(ctx, img) : { id: img.id, name: img.name, links: links(ctx, img.id) })),
    };
    const next = nextLinks(ctx, found, detail ? "images/detail" : "images");
    if (next.length > 0) body["images_links"] = next;
    return { body };
  };
  return [
    { method: "GET", path: "/v2.1/images", operation: "listImages", maxVersion: MAX_PROXY, handler: (ctx) => list(ctx, false) },
    { method: "GET", path: "/v2.1/images/detail", operation: "listImagesDetail", maxVersion: MAX_PROXY, handler: (ctx) => list(ctx, true) },
    {
      method: "GET",
      path: "/v2.1/images/:image_id",
      operation: "showImage",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => ({ body: { image: imageDetail(ctx, await images.get(serverCaller(ctx), ctx.params["image_id"]!)) } }),
    },
    {
      method: "DELETE",
      path: "/v2.1/images/:image_id",
      operation: "deleteImage",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        await images.delete(serverCaller(ctx), ctx.params["image_id"]!);
        return { status: 204 };
      },
    },
  ];
}
