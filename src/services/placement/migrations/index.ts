import type { Migration } from "kysely";

/** Forward-only, applied in name order; never edit one that has shipped. */
export const placementMigrations: Record<string, Migration> = {};
