import type { Migration } from "kysely";
import * as core from "./0001-core.js";
import * as metering from "./0002-metering.js";

/** Forward-only, applied in name order; never edit one that has shipped. */
export const networkMigrations: Record<string, Migration> = {
  "network-0001-core": core,
  "network-0002-metering": metering,
};
