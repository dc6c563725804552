import type { Route } from "../../http/context.js";
import { cacheRoutes } from "./api/cache.js";
import { glance } from "./api/common.js";
import { discoveryRoutes } from "./api/discovery.js";
import { imageDataRoutes } from "./api/image-data.js";
import { imageRoutes } from "./api/images.js";
import { memberRoutes } from "./api/members.js";
import { metadefRoutes } from "./api/metadefs.js";
import { schemaRoutes } from "./api/schemas.js";
import { tagRoutes } from "./api/tags.js";
import { versionRoutes } from "./api/versions.js";
import type { Image } from "./index.js";

/** Every Glance v2 route; each api/ file owns one URL collection. */
export function imageRoutesAll(i: Image): Route[] {
  return [
    ...versionRoutes(i.config.image.cache),
    ...imageRoutes(i),
    ...imageDataRoutes(i),
    ...tagRoutes(i),
    ...memberRoutes(i),
    ...schemaRoutes(),
    ...discoveryRoutes(i),
    ...metadefRoutes(i),
    ...cacheRoutes(i),
  ].map(glance);
}
