import { BadRequest, Conflict, Forbidden, NotFound } from "../../../common/errors.js";
import type { TransportResponse } from "../../../clients/transport.js";
import { ServiceCallError } from "../../../clients/transport.js";
import type { Compute } from "../api/deps.js";
import type { ServerCaller } from "./instance-state.js";

/*
 * The image proxy APIs (nova/api/openstack/compute/images.py, image_metadata.py) over
 * Glance v2 as nova/image/glance.py reads it: called with the user's token, v2 images
 * translated to Nova's v1-like dict (base attributes + "properties").
 */

/** Glance's base image properties (glance/api/v2/images.py get_base_properties): never "properties". */
const BASE = new Set([
  "id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo", "os_hash_value", "owner", "size",
  "virtual_size", "container_format", "disk_format", "created_at", "updated_at", "tags", "direct_url", "min_ram", "min_disk",
  "self", "file", "stores", "schema", "locations",
]);
/** glance._extract_attributes_v2 omits these outright. */
const OMIT = new Set(["self", "schema", "protected", "virtual_size", "file", "tags", "direct_url", "locations"]);
/** nova.image.glance._CONVERT_PROPS: JSON kept as strings in Glance. */
const JSON_PROPS = ["block_device_mapping", "mappings"];

/** Nova's image dict (glance._translate_from_glance). */
export interface NovaImage {
  id: string;
  name: string | null;
  status: string;
  size: number;
  min_ram: number;
  min_disk: number;
  created_at: string | null;
  updated_at: string | null;
  properties: Record<string, unknown>;
  /** The Glance document as received (properties as strings, for the metadata diff). */
  raw: Record<string, unknown>;
}

export function translateImage(img: Record<string, unknown>): NovaImage {
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(img)) {
    if (OMIT.has(k) || BASE.has(k)) continue;
    properties[k] = v;
  }
  for (const k of JSON_PROPS) {
    const v = properties[k];
    if (typeof v === "string") {
      try {
        properties[k] = JSON.parse(v);
      } catch {
        // Left as the string Glance holds (Nova would fail here; a bad value must not break listing).
      }
    }
  }
  return {
    id: String(img["id"]),
    name: (img["name"] as string | null | undefined) ?? null,
    status: String(img["status"]),
    size: Number(img["size"] ?? 0) || 0,
    min_ram: Number(img["min_ram"] ?? 0) || 0,
    min_disk: Number(img["min_disk"] ?? 0) || 0,
    created_at: (img["created_at"] as string | undefined) ?? null,
    updated_at: (img["updated_at"] as string | undefined) ?? null,
    properties,
    raw: img,
  };
}

/** glanceclient's str(HTTPException): "HTTP <message>". */
function glanceText(res: TransportResponse): string {
  const b = res.body;
  let msg = "";
  if (typeof b === "object" && b !== null) {
    const m = (b as Record<string, unknown>)["message"] ?? ((b as Record<string, Record<string, unknown>>)["error"] ?? {})["message"];
    if (typeof m === "string") msg = m;
  } else if (typeof b === "string") {
    msg = b;
  }
  msg = msg
    .split(/\n/)
    .map((l) => l.replace(/<.+?>/g, "").trim())
    .filter((l) => l !== "")
    .join(": ");
  return `HTTP ${msg || res.status}`;
}

export interface ImageListQuery {
  filters: Record<string, string>;
  limit?: number;
  marker?: string;
}

export class ImageProxy {
  constructor(private readonly c: Compute) {}

  private g(method: "GET" | "PATCH" | "DELETE", path: string, caller: ServerCaller, opts: { raw?: Buffer; headers?: Record<string, string> } = {}): Promise<TransportResponse> {
    return this.c.image.raw(method, path, { ...opts, token: caller.tokenId });
  }

  /** glance.API.get: 404 "Image not found." (also for a malformed id), 403 when Glance refuses. */
  async get(caller: ServerCaller, id: string, notFound = "Image not found."): Promise<NovaImage> {
    const res = await this.g("GET", `/images/${encodeURIComponent(id)}`, caller);
    if (res.status === 404 || res.status === 400) throw new NotFound(notFound);
    if (res.status === 403 || res.status === 401) throw new Forbidden(`Not authorized for image ${id}.`);
    if (res.status !== 200) throw new ServiceCallError("GET", `/images/${id}`, res.status, res.body);
    return translateImage(res.body as Record<string, unknown>);
  }

  /**
   * glance.API.get_all: Nova's filters mapped to Glance v2 (_extract_query_params_v2) and
   * every page read (glanceclient iterates "next" links) up to the limit asked.
   */
  async list(caller: ServerCaller, q: ImageListQuery): Promise<NovaImage[]> {
    const params: Array<[string, string]> = [];
    for (const [k, v] of Object.entries(q.filters)) {
      if (k.startsWith("property-")) params.push([k.replace(/^[propety-]+/, ""), v]);
      else if (k === "changes-since") params.push(["updated_at", `gte:${v}`]);
      else params.push([k, v]);
    }
    const out: NovaImage[] = [];
    let marker = q.marker;
    // limit 0 is "no limit" for glanceclient (falsy params are dropped).
    const want = q.limit === undefined || q.limit === 0 ? Infinity : q.limit;
    for (;;) {
      const page = Math.min(1000, want - out.length);
      const qs = new URLSearchParams(params);
      qs.set("limit", String(page));
      if (marker) qs.set("marker", marker);
      const res = await this.g("GET", `/images?${qs.toString()}`, caller);
      if (res.status === 400) throw new BadRequest(glanceText(res));
      if (res.status === 403 || res.status === 401) throw new Forbidden(glanceText(res));
      if (res.status === 404) throw new NotFound(glanceText(res));
      if (res.status !== 200) throw new ServiceCallError("GET", "/images", res.status, res.body);
      const body = res.body as { images: Array<Record<string, unknown>>; next?: string };
      for (const img of body.images) out.push(translateImage(img));
      if (!body.next || body.images.length === 0 || out.length >= want) break;
      marker = String(body.images[body.images.length - 1]!["id"]);
    }
    return out;
  }

  async delete(caller: ServerCaller, id: string): Promise<void> {
    const res = await this.g("DELETE", `/images/${encodeURIComponent(id)}`, caller);
    if (res.status === 204 || res.status === 200) return;
    if (res.status === 404 || res.status === 400) throw new NotFound("Image not found.");
    if (res.status === 403 || res.status === 401) throw new Forbidden("You are not allowed to delete the image.");
    if (res.status === 409) throw new Conflict(`Conflict deleting image. Reason: ${glanceText(res)}.`);
    throw new ServiceCallError("DELETE", `/images/${id}`, res.status, res.body);
  }

  /**
   * glance.API.update(purge_props=True) with the new properties: one JSON patch adding or
   * replacing the changed properties and removing the ones no longer present.
   */
  async setProperties(caller: ServerCaller, image: NovaImage, props: Record<string, unknown>): Promise<NovaImage> {
    const ops: Array<Record<string, unknown>> = [];
    const current = translateImage(image.raw).properties;
    const rawCurrent: Record<string, unknown> = {};
    for (const k of Object.keys(current)) rawCurrent[k] = image.raw[k];
    for (const k of Object.keys(current)) if (!(k in props)) ops.push({ op: "remove", path: `/${escapePointer(k)}` });
    for (const [k, v0] of Object.entries(props)) {
      let v = v0;
      if (JSON_PROPS.includes(k) && typeof v !== "string") v = JSON.stringify(v);
      if (v !== null && typeof v !== "string") v = String(v);
      // kernel_id/ramdisk_id of "none" or "" are dropped (glance._convert_to_v2).
      if ((k === "kernel_id" || k === "ramdisk_id") && typeof v === "string" && ["none", ""].includes(v.trim().toLowerCase())) continue;
      if (k in rawCurrent) {
        if (rawCurrent[k] !== v) ops.push({ op: "replace", path: `/${escapePointer(k)}`, value: v });
      } else {
        ops.push({ op: "add", path: `/${escapePointer(k)}`, value: v });
      }
    }
    if (ops.length === 0) return image;
    const res = await this.g("PATCH", `/images/${image.id}`, caller, {
      // Sent raw: the transport would type a JSON body application/json, which Glance's PATCH refuses (415).
      raw: Buffer.from(JSON.stringify(ops)),
      headers: { "content-type": "application/openstack-images-v2.1-json-patch" },
    });
    if (res.status === 200) return translateImage(res.body as Record<string, unknown>);
    if (res.status === 403 || res.status === 401) throw new Forbidden(`Not authorized for image ${image.id}.`);
    if (res.status === 404) throw new NotFound("Image not found.");
    if (res.status === 400) throw new BadRequest(`Request of image ${image.id} got BadRequest response: ${glanceText(res)}`);
    if (res.status === 413) throw new Forbidden("Image metadata limit exceeded");
    if (res.status === 409) throw new Conflict(glanceText(res));
    throw new ServiceCallError("PATCH", `/images/${image.id}`, res.status, res.body);
  }

  /** common.check_img_metadata_properties_quota: the project's metadata_items limit. */
  async checkQuota(caller: ServerCaller, props: Record<string, unknown>): Promise<void> {
    const n = Object.keys(props).length;
    if (n === 0) return;
    const limit = (await this.c.quotas.limits(caller.projectId, caller.userId))["metadata_items"] ?? -1;
    if (limit >= 0 && n > limit) throw new Forbidden("Image metadata limit exceeded");
  }
}

function escapePointer(k: string): string {
  return k.replaceAll("~", "~0").replaceAll("/", "~1");
}
