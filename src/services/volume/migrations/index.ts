import type { Migration } from "kysely";
import * as core from "./0001-core.js";
import * as groupSpecs from "./0002-group-specs.js";
import * as typeEncryption from "./0003-type-encryption.js";

/** Forward-only, applied in name order; never edit one that has shipped. */
export const volumeMigrations: Record<string, Migration> = {
  "volume-0001-core": core,
  "volume-0002-group-specs": groupSpecs,
  "volume-0003-type-encryption": typeEncryption,
};
