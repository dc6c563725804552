import type { Route } from "../../../http/context.js";
import type { FleetSnapshot, HostManager } from "../manager/hosts.js";
import { INTERNAL_ZONE } from "../manager/hosts.js";

/** os-availability-zone (availability_zone.py, nova/availability_zones.py get_availability_zones). */
export function availabilityZoneRoutes(hosts: HostManager): Route[] {
  const zones = (snap: FleetSnapshot) => {
    const available = new Set<string>();
    const disabledZones = new Set<string>();
    for (const s of snap.services) {
      const z = hosts.serviceZone(snap, s);
      for (const one of z.split(",")) {
        if (Number(s.disabled) === 1) disabledZones.add(one);
        else available.add(one);
      }
    }
    const notAvailable = [...disabledZones].filter((z) => !available.has(z));
    return { available: [...available].sort(), notAvailable: notAvailable.sort() };
  };
  return [
    {
      method: "GET",
      path: "/v2.1/os-availability-zone",
      operation: "getAvailabilityZoneInformation",
      policy: "os_compute_api:os-availability-zone:list",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-availability-zone:list", {});
        const { available, notAvailable } = zones(await hosts.snapshot());
        const info = [
          ...available.filter((z) => z !== INTERNAL_ZONE).map((z) => ({ zoneName: z, zoneState: { available: true }, hosts: null })),
          ...notAvailable.filter((z) => z !== INTERNAL_ZONE).map((z) => ({ zoneName: z, zoneState: { available: false }, hosts: null })),
        ];
        return { body: { availabilityZoneInfo: info } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-availability-zone/detail",
      operation: "getDetailedAvailabilityZoneInformation",
      policy: "os_compute_api:os-availability-zone:detail",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-availability-zone:detail", {});
        const snap = await hosts.snapshot();
        const { available, notAvailable } = zones(snap);
        const zoneHosts = new Map<string, Map<string, Record<string, unknown>>>();
        for (const s of snap.services) {
          if (Number(s.disabled) === 1) continue;
          const z = hosts.serviceZone(snap, s);
          let hm = zoneHosts.get(z);
          if (!hm) zoneHosts.set(z, (hm = new Map()));
          let h = hm.get(s.host);
          if (!h) hm.set(s.host, (h = {}));
          h[s.binary] = { available: hosts.serviceUp(s), active: true, updated_at: s.updated_at };
        }
        const info = [
          ...available.map((z) => ({ zoneName: z, zoneState: { available: true }, hosts: Object.fromEntries(zoneHosts.get(z) ?? new Map()) })),
          ...notAvailable.map((z) => ({ zoneName: z, zoneState: { available: false }, hosts: null })),
        ];
        return { body: { availabilityZoneInfo: info } };
      },
    },
  ];
}
