import type { Migration } from "kysely";
import * as fleet from "./0001-fleet.js";
import * as servers from "./0002-servers.js";
import * as volumeBdm from "./0003-volume-bdm.js";

/** Forward-only, applied in name order; never edit one that has shipped. */
export const computeMigrations: Record<string, Migration> = {
  "compute-0001-fleet": fleet,
  "compute-0002-servers": servers,
  "compute-0003-volume-bdm": volumeBdm,
};
