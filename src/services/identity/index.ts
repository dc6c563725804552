import type { Clock } from "../../common/clock.js";
import type { Config } from "../../config/config.js";
import type { Database } from "../../db/database.js";
import type { ServiceDefinition } from "../../http/service.js";
import type { Identity } from "./api/deps.js";
import { IdentityCore } from "./core.js";
import { identityFaults } from "./faults.js";
import { AppCredManager } from "./manager/app-creds.js";
import { AssignmentManager } from "./manager/assignment.js";
import { AuthManager } from "./manager/auth.js";
import { CatalogManager } from "./manager/catalog.js";
import { CredentialCrypto } from "./manager/credential-crypto.js";
import { CredentialManager } from "./manager/credentials.js";
import { DomainConfigManager } from "./manager/domain-config.js";
import { LimitManager } from "./manager/limits.js";
import { OAuth1Manager } from "./manager/oauth1.js";
import { Ec2TokenManager } from "./manager/ec2tokens.js";
import { RevokeEventManager } from "./manager/revoke-events.js";
import { ResourceManager } from "./manager/resource.js";
import { TrustManager } from "./manager/trusts.js";
import { UserManager } from "./manager/users.js";
import { identityMigrations } from "./migrations/index.js";
import { identityPolicies } from "./policies.js";
import { identityRoutes } from "./routes.js";
import type { IdentityDB } from "./store/tables.js";
import { TokenCodec } from "./tokens/format.js";
import { TokenProvider } from "./tokens/provider.js";

export { identityMigrations };

/** Build the identity managers over an already-migrated database. */
export async function createIdentity(database: Database, config: Config, clock: Clock): Promise<Identity> {
  const idb = database.db as unknown as IdentityDB;
  const core = new IdentityCore(idb, config, clock, database.externalChanges);
  const resources = new ResourceManager(core);
  const users = new UserManager(core);
  const assignments = new AssignmentManager(core);
  const catalog = new CatalogManager(core);
  const codec = new TokenCodec(idb);
  await codec.load();
  const tokens = new TokenProvider(core, codec, assignments, catalog);
  const auth = new AuthManager(core, users, resources, assignments, tokens, codec);
  const domainConfig = new DomainConfigManager(core);
  core.onDelete("domain", (trx, domainId) => domainConfig.purge(trx, domainId));
  // disable_user_account_days_inactive also ends the tokens of a user who has gone inactive.
  tokens.addHook((q, t) => users.assertActive(q, t.user.id));
  core.onDelete("project", (trx, projectId) => catalog.onProjectDeleted(trx, projectId));
  // Assignments go with whatever they point at.
  for (const kind of ["project", "domain"] as const) {
    core.onDelete(kind, async (trx, targetId) => {
      await trx.deleteFrom("assignment").where("target_id", "=", targetId).execute();
    });
  }
  core.onDelete("domain", async (trx, domainId) => {
    const us = await trx.selectFrom("user").select("id").where("domain_id", "=", domainId).execute();
    for (const u of us) {
      await core.cascade(trx, "user", u.id);
      await trx.deleteFrom("assignment").where("actor_id", "=", u.id).execute();
    }
    await trx.deleteFrom("user").where("domain_id", "=", domainId).execute();
    const gs = await trx.selectFrom("group").select("id").where("domain_id", "=", domainId).execute();
    for (const g of gs) {
      await core.cascade(trx, "group", g.id);
      await trx.deleteFrom("assignment").where("actor_id", "=", g.id).execute();
    }
    await trx.deleteFrom("group").where("domain_id", "=", domainId).execute();
    const rs = await trx.selectFrom("role").select("id").where("domain_id", "=", domainId).execute();
    for (const r of rs) {
      await core.cascade(trx, "role", r.id);
      await trx.deleteFrom("assignment").where("role_id", "=", r.id).execute();
    }
    await trx.deleteFrom("role").where("domain_id", "=", domainId).execute();
  });
  // OS-TRUST: trust-scoped tokens, and trusts go with their trustor, trustee and project.
  const trusts = new TrustManager(core, assignments);
  auth.registerScope("OS-TRUST:trust", (data, who) => trusts.resolveScope(data, who));
  tokens.addHook((q, t) => trusts.tokenHook(q, t));
  core.onDelete("user", (trx, userId) => trusts.purgeForUser(trx, userId));
  core.onDelete("project", (trx, projectId) => trusts.purgeForProject(trx, projectId));
  // Credentials (encrypted blobs, OS-EC2, ec2tokens) and application credentials.
  const credentials = new CredentialManager(core, new CredentialCrypto(idb));
  await credentials.load();
  const appCreds = new AppCredManager(core, users, assignments, auth);
  auth.registerMethod("application_credential", (d) => appCreds.authMethod(d));
  tokens.addHook((q, t) => appCreds.tokenHook(q, t));
  const ec2tokens = new Ec2TokenManager(core, credentials, users, resources, assignments, tokens);
  core.onDelete("user", (trx, userId) => credentials.onUserDeleted(trx, userId));
  core.onDelete("user", (trx, userId) => appCreds.onUserDeleted(trx, userId));
  core.onDelete("user-disabled", (trx, userId) => appCreds.onUserDeleted(trx, userId));
  core.onDelete("project", (trx, projectId) => credentials.onProjectDeleted(trx, projectId));
  core.onDelete("project", (trx, projectId) => appCreds.onProjectDeleted(trx, projectId));
  core.onDelete("role", (trx, roleId) => appCreds.onRoleDeleted(trx, roleId));
  // Unified limits: a project's or domain's limits go with it.
  const limits = new LimitManager(core);
  for (const kind of ["project", "domain"] as const) core.onDelete(kind, (trx, ownerId) => limits.deleteForOwner(trx, ownerId));
  // OS-OAUTH1: the "oauth1" method, its tokens' roles, and tokens that go with users and projects.
  const oauth1 = new OAuth1Manager(core, assignments);
  auth.registerMethod("oauth1", (_data, http) => oauth1.authenticate(http));
  tokens.addHook((q, t) => oauth1.tokenHook(q, t));
  core.onDelete("user", (trx, userId) => oauth1.deleteForUser(trx, userId));
  core.onDelete("project", (trx, projectId) => oauth1.deleteForProject(trx, projectId));
  return { core, resources, users, assignments, catalog, codec, tokens, auth, domainConfig, revokeEvents: new RevokeEventManager(core), trusts, credentials, appCreds, ec2tokens, limits, oauth1 };
}

export function identityService(id: Identity): ServiceDefinition {
  return {
    name: "keystone",
    type: "identity",
    prefix: "/identity",
    routes: identityRoutes(id),
    faults: identityFaults,
    vary: ["X-Auth-Token"],
    policies: identityPolicies,
    migrations: identityMigrations,
  };
}
