import type { Clock } from "../../common/clock.js";
import type { Config } from "../../config/config.js";
import type { Database } from "../../db/database.js";
import type { BlobStore } from "../../drivers/blob/blob.js";
import type { ServiceDefinition } from "../../http/service.js";
import { imageFaults } from "./faults.js";
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
}

export function createImage(database: Database, config: Config, clock: Clock, blobs: BlobStore): Image {
  return { database, config, clock, blobs };
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
