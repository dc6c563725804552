import type { Route } from "../../../http/context.js";

/** etc/cinder/resource_filters.json as Cinder 21 ships it: the filters each list accepts from non-admins. */
export const RESOURCE_FILTERS: Readonly<Record<string, readonly string[]>> = {
  volume: ["name", "status", "metadata", "bootable", "migration_status", "availability_zone", "group_id", "size", "created_at", "updated_at"],
  backup: ["name", "status", "volume_id"],
  snapshot: ["name", "status", "volume_id", "metadata", "availability_zone"],
  group: ["name"],
  group_snapshot: ["name", "status", "group_id"],
  attachment: ["volume_id", "status", "instance_id", "attach_status"],
  message: ["resource_uuid", "resource_type", "event_id", "request_id", "message_level"],
  pool: ["name", "volume_type"],
  volume_type: ["is_public", "extra_specs"],
};

/** cinder/api/v3/resource_filters.py (3.33): GET /resource_filters[?resource=…]. */
export function resourceFiltersRoutes(): Route[] {
  return [
    {
      method: "GET",
      path: "/resource_filters",
      operation: "listResourceFilters",
      minVersion: "3.33",
      handler: async (ctx) => {
        const resource = ctx.q("resource");
        const entries = resource === undefined ? Object.entries(RESOURCE_FILTERS) : resource in RESOURCE_FILTERS ? [[resource, RESOURCE_FILTERS[resource]!] as const] : [];
        return { body: { resource_filters: entries.map(([r, f]) => ({ resource: r, filters: [...f] })) } };
      },
    },
  ];
}
