import type { Route } from "../../../http/context.js";
import type { ServicesManager } from "../manager/services.js";

/** contrib/availability_zones.py: the zones of the cinder-volume services (available unless all disabled). */
export function availabilityZonesRoutes(services: ServicesManager): Route[] {
  return [
    {
      method: "GET",
      path: "/os-availability-zone",
      operation: "listAvailabilityZones",
      handler: async () => {
        const disabled = new Map<string, boolean>();
        for (const s of await services.list({ binary: "cinder-volume" })) {
          disabled.set(s.availability_zone, (disabled.get(s.availability_zone) ?? true) && s.disabled === 1);
        }
        return { body: { availabilityZoneInfo: [...disabled.entries()].map(([zoneName, d]) => ({ zoneName, zoneState: { available: !d } })) } };
      },
    },
  ];
}
