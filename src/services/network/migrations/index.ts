import type { Migration } from "kysely";
import * as core from "./0001-core.js";

/** Forward-only, applied in name order; never edit one that has shipped. */
export const networkMigrations: Record<string, Migration> = {
  "network-0001-core": core,
};
