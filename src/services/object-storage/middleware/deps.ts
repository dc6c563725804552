import type { Logger } from "pino";
import type { Clock } from "../../../common/clock.js";
import type { ObjectStorageConfig } from "../../../config/config.js";
import type { BlobStore } from "../../../drivers/blob/blob.js";
import type { InfoRegistry } from "../core/info.js";
import type { Proxy } from "../core/proxy.js";
import type { Timestamps } from "../core/time.js";
import type { SwiftStore } from "../store/store.js";

/** What a filter factory may use. A filter registers its /info section itself, only when it works. */
export interface FilterDeps {
  store: SwiftStore;
  proxy: Proxy;
  blobs: BlobStore;
  time: Timestamps;
  clock: Clock;
  info: InfoRegistry;
  config: ObjectStorageConfig;
  log: Logger;
}
