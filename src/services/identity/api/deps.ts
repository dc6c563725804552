import type { IdentityCore } from "../core.js";
import type { AssignmentManager } from "../manager/assignment.js";
import type { AuthManager } from "../manager/auth.js";
import type { CatalogManager } from "../manager/catalog.js";
import type { DomainConfigManager } from "../manager/domain-config.js";
import type { ResourceManager } from "../manager/resource.js";
import type { UserManager } from "../manager/users.js";
import type { TrustManager } from "../manager/trusts.js";
import type { TokenCodec } from "../tokens/format.js";
import type { TokenProvider } from "../tokens/provider.js";

/** The managers the identity handlers call; built once in index.ts. */
export interface Identity {
  core: IdentityCore;
  resources: ResourceManager;
  users: UserManager;
  assignments: AssignmentManager;
  catalog: CatalogManager;
  tokens: TokenProvider;
  codec: TokenCodec;
  auth: AuthManager;
  domainConfig: DomainConfigManager;
  trusts: TrustManager;
}
