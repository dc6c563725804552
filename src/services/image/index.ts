import type { Clock } from "../../common/clock.js";
import type { Config } from "../../config/config.js";
import type { Database } from "../../db/database.js";
import type { BlobStore } from "../../drivers/blob/blob.js";
import type { ServiceDefinition } from "../../http/service.js";
import type { TaskRunner } from "../../tasks/runner.js";
import { imageFaults } from "./faults.js";
import { CacheManager } from "./manager/cache.js";
import { ImageManager } from "./manager/images.js";
import { MetadefManager } from "./manager/metadefs.js";
import { imageMigrations } from "./migrations/index.js";
import { imagePolicies } from "./policies.js";
import { imageRoutesAll } from "./routes.js";

export { imageMigrations };

/** Glance's managers over the migrated database and the blob store. */
export interface Image {
  database: Database;
  config: Config;
  clock: Clock;
  blobs: BlobStore;
  images: ImageManager;
  metadefs: MetadefManager;
  cache: CacheManager;
}

export function createImage(database: Database, config: Config, clock: Clock, blobs: BlobStore, tasks: TaskRunner): Image {
  return { database, config, clock, blobs, images: new ImageManager(database, config, clock, blobs, tasks), metadefs: new MetadefManager(database, clock), cache: new CacheManager(database, clock, blobs, tasks) };
}

export function imageService(i: Image): ServiceDefinition {
  return {
    name: "glance",
    type: "image",
    prefix: "/image",
    routes: imageRoutesAll(i),
    faults: imageFaults,
    policies: imagePolicies,
    migrations: imageMigrations,
  };
}
