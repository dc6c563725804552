import type { IdentityCore } from "../core.js";
import type { AppCredManager } from "../manager/app-creds.js";
import type { AssignmentManager } from "../manager/assignment.js";
import type { AuthManager } from "../manager/auth.js";
import type { CatalogManager } from "../manager/catalog.js";
import type { CredentialManager } from "../manager/credentials.js";
import type { DomainConfigManager } from "../manager/domain-config.js";
import type { LimitManager } from "../manager/limits.js";
import type { OAuth1Manager } from "../manager/oauth1.js";
import type { Ec2TokenManager } from "../manager/ec2tokens.js";
import type { RevokeEventManager } from "../manager/revoke-events.js";
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
  limits: LimitManager;
  oauth1: OAuth1Manager;
  revokeEvents: RevokeEventManager;
  trusts: TrustManager;
  credentials: CredentialManager;
  appCreds: AppCredManager;
  ec2tokens: Ec2TokenManager;
}
