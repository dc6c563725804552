import type { Migration } from "kysely";
import * as core from "./0001-core.js";
import * as catalog from "./0002-catalog.js";
import * as credentials from "./0003-credentials.js";
import * as trusts from "./0004-trusts.js";
import * as limits from "./0005-limits.js";
import * as oauth1 from "./0006-oauth1.js";
import * as domainConfig from "./0007-domain-config.js";

/** Forward-only, applied in name order; never edit one that has shipped. */
export const identityMigrations: Record<string, Migration> = {
  "identity-0001-core": core,
  "identity-0002-catalog": catalog,
  "identity-0003-credentials": credentials,
  "identity-0004-trusts": trusts,
  "identity-0005-limits": limits,
  "identity-0006-oauth1": oauth1,
  "identity-0007-domain-config": domainConfig,
};
