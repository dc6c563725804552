import type { Migration } from "kysely";
import * as core from "./0001-core.js";

/** Forward-only, applied in name order; never edit one that has shipped. */
export const objectStorageMigrations: Record<string, Migration> = {
  "object-storage-0001-core": core,
};
