import { NotFound } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { ServicesManager } from "../manager/services.js";
import type { Volume } from "./deps.js";
import { allocatedByBackend, poolCapabilities } from "./scheduler-stats.js";
import { own } from "./types.js";

/** volume/driver.py _init_standard_capabilities: the properties every driver reports. */
const STANDARD_PROPERTIES = {
  thin_provisioning: { title: "Thin Provisioning", description: "Sets thin provisioning.", type: "boolean" },
  compression: { title: "Compression", description: "Enables compression.", type: "boolean" },
  qos: { title: "QoS", description: "Enables QoS.", type: "boolean" },
  replication_enabled: { title: "Replication", description: "Enables replication.", type: "boolean" },
};

/** cinder/api/contrib/capabilities.py: GET /capabilities/{host} (the backend's driver capabilities). */
export function capabilitiesRoutes(v: Volume, services: ServicesManager): Route[] {
  return [
    {
      method: "GET",
      path: "/capabilities/:host",
      operation: "showBackendCapabilities",
      policy: "volume_extension:capabilities",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:capabilities", own(ctx));
        const id = ctx.params["host"]!;
        const found = await services.list({ host: id, binary: "cinder-volume" });
        const svc = found[0];
        if (!svc) throw new NotFound(`Can't find service: ${id}`);
        const b = v.driver.backends().find((x) => x.host === svc.host);
        if (!b) throw new NotFound(`Can't find service: ${id}`);
        // The driver's stats (backend level: pools are a list inside, so no top-level pool_name).
        const caps = await poolCapabilities(v, b, (await allocatedByBackend(v)).get(b.name) ?? 0);
        return {
          body: {
            namespace: `OS::Storage::Capabilities::${svc.host}`,
            vendor_name: caps["vendor_name"] ?? null,
            volume_backend_name: caps["volume_backend_name"] ?? null,
            pool_name: null,
            driver_version: caps["driver_version"] ?? null,
            storage_protocol: caps["storage_protocol"] ?? null,
            display_name: null,
            description: null,
            visibility: null,
            replication_targets: [],
            properties: STANDARD_PROPERTIES,
          },
        };
      },
    },
  ];
}
