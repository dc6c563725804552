import type { Migration } from "kysely";
import * as m0001 from "./0001-core.js";
import * as m0002 from "./0002-metadefs.js";
import * as m0003 from "./0003-cache.js";

/** Forward-only, applied in name order; never edit one that has shipped. */
export const imageMigrations: Record<string, Migration> = {
  "image-0001-core": m0001,
  "image-0002-metadefs": m0002,
  "image-0003-cache": m0003,
};
