import type { Img, Member } from "../manager/images.js";

/** Glance's timeutils.isotime: seconds, UTC, "Z". */
export function isotime(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z");
}

/** Properties Glance keeps on an image but never shows (ResponseSerializer._hidden_properties). */
const HIDDEN = new Set(["os_glance_stage_host"]);

/** ResponseSerializer._format_image: custom properties, then the base attributes and links. */
export function imageView(img: Img): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(img.properties)) if (!HIDDEN.has(k)) view[k] = v;
  Object.assign(view, {
    name: img.name,
    disk_format: img.disk_format,
    container_format: img.container_format,
    visibility: img.visibility,
    size: img.size,
    virtual_size: img.virtual_size,
    status: img.status,
    checksum: img.checksum,
    protected: img.protected,
    min_ram: img.min_ram,
    min_disk: img.min_disk,
    owner: img.owner,
    os_hidden: img.os_hidden,
    os_hash_algo: img.os_hash_algo,
    os_hash_value: img.os_hash_value,
    id: img.id,
    created_at: isotime(img.created_at),
    updated_at: isotime(img.updated_at),
    tags: img.tags,
    self: `/v2/images/${img.id}`,
    file: `/v2/images/${img.id}/file`,
    schema: "/v2/schemas/image",
  });
  // Multi-store Glance names the stores holding the data.
  if (img.stores.length) view["stores"] = img.stores.join(",");
  return view;
}

export function memberView(m: Member): Record<string, unknown> {
  return {
    status: m.status,
    created_at: isotime(m.created_at),
    updated_at: isotime(m.updated_at),
    image_id: m.image_id,
    member_id: m.member,
    schema: "/v2/schemas/member",
  };
}
