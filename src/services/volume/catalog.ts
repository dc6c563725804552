import type { Route } from "../../http/context.js";
import { availabilityZonesRoutes } from "./api/availability-zones.js";
import { capabilitiesRoutes } from "./api/capabilities.js";
import { defaultTypesRoutes } from "./api/default-types.js";
import type { Volume } from "./api/deps.js";
import { extensionsRoutes } from "./api/extensions.js";
import { limitsRoutes } from "./api/limits.js";
import { messagesRoutes } from "./api/messages.js";
import { osHostsRoutes } from "./api/os-hosts.js";
import { qosSpecsRoutes } from "./api/qos-specs.js";
import { quotaClassSetsRoutes } from "./api/quota-class-sets.js";
import { quotaSetsRoutes } from "./api/quota-sets.js";
import { resourceFiltersRoutes } from "./api/resource-filters.js";
import { schedulerStatsRoutes } from "./api/scheduler-stats.js";
import { servicesRoutes } from "./api/services.js";
import { registerTypeAccessActions, typeAccessRoutes } from "./api/type-access.js";
import { typeEncryptionRoutes } from "./api/type-encryption.js";
import { typeExtraSpecsRoutes } from "./api/type-extra-specs.js";
import { typesRoutes } from "./api/types.js";
import { MessagesManager } from "./manager/messages.js";
import { QosManager } from "./manager/qos.js";
import { QuotasManager } from "./manager/quotas.js";
import { ServicesManager } from "./manager/services.js";
import { TypesManager } from "./manager/types.js";

/**
 * The catalog/admin area: volume types (extra specs, access, 3.62 defaults), QoS specs,
 * quotas and quota classes, limits, user messages, services/hosts/pools/capabilities,
 * availability zones, extensions and resource filters. It implements TypesApi, QuotasApi
 * and MessagesApi for the other areas.
 */
export function attachCatalog(v: Volume): void {
  v.types = new TypesManager(v);
  v.quotas = new QuotasManager(v);
  v.messages = new MessagesManager(v);
  registerTypeAccessActions(v);
}

/** This area's routes, relative to /v3 (api/common.ts v3() adds the project forms). */
export function catalogRoutes(v: Volume): Route[] {
  const quotas = v.quotas as QuotasManager;
  const services = new ServicesManager(v);
  return [
    ...typesRoutes(v),
    ...typeExtraSpecsRoutes(v),
    ...typeAccessRoutes(v),
    ...typeEncryptionRoutes(v),
    ...defaultTypesRoutes(v),
    ...qosSpecsRoutes(new QosManager(v)),
    ...servicesRoutes(services),
    ...schedulerStatsRoutes(v),
    ...capabilitiesRoutes(v, services),
    ...osHostsRoutes(v, services),
    ...availabilityZonesRoutes(services),
    ...limitsRoutes(quotas),
    ...quotaSetsRoutes(quotas),
    ...quotaClassSetsRoutes(quotas),
    ...messagesRoutes(v.messages as MessagesManager),
    ...extensionsRoutes(v),
    ...resourceFiltersRoutes(),
  ];
}
