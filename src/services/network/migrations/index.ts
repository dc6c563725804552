import type { Migration } from "kysely";
import * as core from "./0001-core.js";
import * as metering from "./0002-metering.js";
import * as l3 from "./0003-l3.js";
import * as agents from "./0004-agents.js";

/** Forward-only, applied in name order; never edit one that has shipped. */
export const networkMigrations: Record<string, Migration> = {
  "network-0001-core": core,
  "network-0002-metering": metering,
  "network-0003-l3": l3,
  "network-0004-agents": agents,
};
