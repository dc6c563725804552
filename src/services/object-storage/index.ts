import type { Logger } from "pino";
import type { Clock } from "../../common/clock.js";
import type { Database } from "../../db/database.js";
import type { BlobStore } from "../../drivers/blob/blob.js";
import type { ServiceDefinition } from "../../http/service.js";
import type { ObjectStorageConfig } from "../../config/config.js";
import { authV1Routes } from "./api/auth-v1.js";
import { discoveryRoutes } from "./api/discovery.js";
import { swiftRoutes } from "./api/swift.js";
import { SmallObjectCache } from "./core/cache.js";
import { ObjectExpirer } from "./core/expirer.js";
import { LIMITS } from "./core/constraints.js";
import { InfoRegistry } from "./core/info.js";
import { Pipeline } from "./core/pipeline.js";
import { Proxy } from "./core/proxy.js";
import { Timestamps } from "./core/time.js";
import type { Filter } from "./core/types.js";
import { objectStorageFaults } from "./faults.js";
import { bulkFilter } from "./middleware/bulk.js";
import { copyFilter } from "./middleware/copy.js";
import { corsFilter } from "./middleware/cors.js";
import type { FilterDeps } from "./middleware/deps.js";
import { dloFilter } from "./middleware/dlo.js";
import { formpostFilter } from "./middleware/formpost.js";
import { objectVersioningFilter } from "./middleware/object-versioning.js";
import { quotasFilter } from "./middleware/quotas.js";
import { sloFilter } from "./middleware/slo.js";
import { staticwebFilter } from "./middleware/staticweb.js";
import { tempurlFilter } from "./middleware/tempurl.js";
import { versionedWritesFilter } from "./middleware/versioned-writes.js";
import { keystoneAuth } from "./middleware/keystoneauth.js";
import { objectStorageMigrations } from "./migrations/index.js";
import { SwiftStore } from "./store/store.js";

export { objectStorageMigrations };

/** tempauth-style login (GET /auth/v1.0): project and user names, password → a scoped token. */
export type PasswordLogin = (project: string, user: string, password: string) => Promise<{ token: string; projectId: string; expiresAt: Date }>;

export interface ObjectStorageDeps {
  database: Database;
  config: ObjectStorageConfig;
  clock: Clock;
  log: Logger;
  blobs: BlobStore;
  passwordLogin: PasswordLogin;
}

/** Swift: the store, the proxy and the filters in front of it, and what /info says. */
export interface ObjectStorage {
  prefix: string;
  config: ObjectStorageConfig;
  store: SwiftStore;
  proxy: Proxy;
  pipeline: Pipeline;
  info: InfoRegistry;
  time: Timestamps;
  passwordLogin: PasswordLogin;
  /** swift-object-expirer: deletes objects past their X-Delete-At. */
  expirer: ObjectExpirer;
  /** Stops the background work (the expirer) before the database closes. */
  close(): Promise<void>;
}

export const OBJECT_STORAGE_PREFIX = "/object-storage";

export function createObjectStorage(d: ObjectStorageDeps): ObjectStorage {
  const store = new SwiftStore(d.database);
  const time = new Timestamps(d.clock);
  const cache = new SmallObjectCache(d.config.smallObjectCacheMb * 1024 * 1024);
  const policy = "Policy-0";
  const proxy = new Proxy({ store, blobs: d.blobs, time, cache, resellerPrefix: d.config.resellerPrefix, policy });
  const info = new InfoRegistry();
  info.register("swift", {
    version: "2.30.1",
    ...LIMITS,
    strict_cors_mode: true,
    valid_api_versions: ["v1"],
    policies: [{ name: policy, default: true }],
    allow_account_management: false,
    account_autocreate: true,
  });
  const fd: FilterDeps = { store, proxy, blobs: d.blobs, time, clock: d.clock, info, config: d.config, log: d.log };
  // Swift's proxy pipeline order: what runs before auth (CORS, bulk, temp URLs, form POST)
  // may authorize by other means; what runs after sees only authorized callers' requests.
  const filters: Filter[] = [
    corsFilter(fd),
    bulkFilter(fd),
    tempurlFilter(fd),
    formpostFilter(fd),
    keystoneAuth({
      resellerPrefix: d.config.resellerPrefix,
      operatorRoles: d.config.operatorRoles,
      resellerAdminRole: d.config.resellerAdminRole,
      projectReaderRoles: d.config.projectReaderRoles,
      systemReaderRoles: d.config.systemReaderRoles,
      defaultDomainId: "default",
    }),
    staticwebFilter(fd),
    copyFilter(),
    quotasFilter(fd),
    sloFilter(fd),
    dloFilter(fd),
    versionedWritesFilter(fd),
    objectVersioningFilter(fd),
  ];
  const pipeline = new Pipeline(filters, (req) => proxy.handle(req), d.log);
  const expirer = new ObjectExpirer({ store, proxy, time, log: d.log });
  expirer.start();
  return { prefix: OBJECT_STORAGE_PREFIX, config: d.config, store, proxy, pipeline, info, time, passwordLogin: d.passwordLogin, expirer, close: () => expirer.stop() };
}

export function objectStorageService(s: ObjectStorage): ServiceDefinition {
  return {
    name: "swift",
    type: "object-store",
    prefix: OBJECT_STORAGE_PREFIX,
    catalog: [{ type: "object-store", name: "swift", path: `/v1/${s.config.resellerPrefix}$(project_id)s` }],
    routes: [...discoveryRoutes(s, "prefix"), ...swiftRoutes(s)],
    rootRoutes: [...discoveryRoutes(s, "root"), ...authV1Routes(s)],
    extraMethods: ["COPY"],
    faults: objectStorageFaults,
    policies: [],
    migrations: objectStorageMigrations,
  };
}
