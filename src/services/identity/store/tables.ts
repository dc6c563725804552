import type { Kysely, Transaction } from "kysely";

/** Row shapes of the identity tables (see migrations/). Booleans are 0/1, JSON is text. */
export interface ProjectRow {
  id: string;
  name: string;
  domain_id: string;
  parent_id: string | null;
  description: string | null;
  enabled: number;
  is_domain: number;
  extra: string;
  options: string;
}
export interface ProjectTagRow {
  project_id: string;
  name: string;
}
export interface UserRow {
  id: string;
  name: string;
  domain_id: string;
  enabled: number;
  default_project_id: string | null;
  description: string | null;
  extra: string;
  options: string;
  created_at: string;
  last_active_at: string | null;
  failed_auth_count: number;
  failed_auth_at: string | null;
}
export interface PasswordRow {
  id: string;
  user_id: string;
  hash: string;
  created_at: string;
  expires_at: string | null;
  self_service: number;
  active: number;
}
export interface GroupRow {
  id: string;
  name: string;
  domain_id: string;
  description: string | null;
  extra: string;
}
export interface MembershipRow {
  user_id: string;
  group_id: string;
}
export interface RoleRow {
  id: string;
  name: string;
  domain_id: string;
  description: string | null;
  extra: string;
  options: string;
}
export interface ImpliedRoleRow {
  prior_role_id: string;
  implied_role_id: string;
}
export type AssignmentType = "UserProject" | "GroupProject" | "UserDomain" | "GroupDomain" | "UserSystem" | "GroupSystem";
export interface AssignmentRow {
  type: AssignmentType;
  actor_id: string;
  target_id: string;
  role_id: string;
  inherited: number;
}
export interface RegionRow {
  id: string;
  description: string;
  parent_region_id: string | null;
  extra: string;
}
export interface ServiceRow {
  id: string;
  type: string;
  enabled: number;
  extra: string;
}
export interface EndpointRow {
  id: string;
  interface: string;
  service_id: string;
  url: string;
  region_id: string | null;
  enabled: number;
  extra: string;
}
/** OS-EP-FILTER and OS-ENDPOINT-POLICY (migrations/0002-catalog.ts). */
export interface EndpointGroupRow {
  id: string;
  name: string;
  description: string | null;
  filters: string;
}
export interface ProjectEndpointRow {
  endpoint_id: string;
  project_id: string;
}
export interface ProjectEndpointGroupRow {
  endpoint_group_id: string;
  project_id: string;
}
export interface PolicyRow {
  id: string;
  blob: string;
  type: string;
  extra: string;
}
export interface PolicyAssociationRow {
  id: string;
  policy_id: string;
  endpoint_id: string | null;
  service_id: string | null;
  region_id: string | null;
  /** endpoint_id|service_id|region_id with "" for null: unique in both dialects. */
  target_key: string;
}
export interface RevocationEventRow {
  id: string;
  domain_id: string | null;
  project_id: string | null;
  user_id: string | null;
  role_id: string | null;
  trust_id: string | null;
  consumer_id: string | null;
  access_token_id: string | null;
  app_cred_id: string | null;
  audit_id: string | null;
  audit_chain_id: string | null;
  issued_before: string;
  expires_at: string | null;
  revoked_at: string;
}
export interface TokenKeyRow {
  id: number;
  key: string;
  created_at: string;
}
export interface RevisionRow {
  id: number;
  revision: number;
}
export interface DomainConfigRow {
  domain_id: string;
  group: string;
  option: string;
  /** JSON text of the option's value. */
  value: string;
  sensitive: number;
}

/** Unified limits (migrations/0005-limits.ts). */
export interface RegisteredLimitRow {
  id: string;
  service_id: string;
  region_id: string | null;
  resource_name: string;
  default_limit: number;
  description: string | null;
  unique_key: string;
}
export interface UnifiedLimitRow {
  id: string;
  registered_limit_id: string;
  project_id: string | null;
  domain_id: string | null;
  owner_id: string;
  resource_limit: number;
  description: string | null;
}
/** OS-OAUTH1 (migrations/0006-oauth1.ts). */
export interface OAuthConsumerRow {
  id: string;
  description: string | null;
  secret: string;
  extra: string;
}
export interface OAuthRequestTokenRow {
  id: string;
  request_secret: string;
  verifier: string | null;
  authorizing_user_id: string | null;
  requested_project_id: string;
  role_ids: string | null;
  consumer_id: string;
  expires_at: string | null;
}
export interface OAuthAccessTokenRow {
  id: string;
  access_secret: string;
  authorizing_user_id: string;
  project_id: string;
  role_ids: string;
  consumer_id: string;
  expires_at: string | null;
}

export interface CredentialRow {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  encrypted_blob: string;
  key_id: number;
  extra: string;
}
export interface CredentialKeyRow {
  id: number;
  key: string;
  created_at: string;
}
export interface AppCredRow {
  id: string;
  name: string;
  secret_hash: string;
  description: string | null;
  user_id: string;
  project_id: string | null;
  system: string | null;
  expires_at: string | null;
  unrestricted: number | null;
  created_at: string;
}
export interface AppCredRoleRow {
  application_credential_id: string;
  role_id: string;
}
export interface AccessRuleRow {
  id: string;
  user_id: string;
  service: string;
  path: string;
  method: string;
}
export interface AppCredAccessRuleRow {
  application_credential_id: string;
  access_rule_id: string;
}

export interface TrustRow {
  id: string;
  trustor_user_id: string;
  trustee_user_id: string;
  project_id: string | null;
  impersonation: number;
  /** ISO "YYYY-MM-DDTHH:MM:SS.ffffffZ" or null. */
  expires_at: string | null;
  remaining_uses: number | null;
  redelegated_trust_id: string | null;
  redelegation_count: number | null;
  deleted_at: string | null;
  extra: string;
}
export interface TrustRoleRow {
  trust_id: string;
  role_id: string;
}

/**
 * Every identity table. Areas added later (catalog extras, credentials, trusts, limits, …)
 * add their row interfaces to this map next to their migration.
 */
export interface IdentityTables {
  project: ProjectRow;
  project_tag: ProjectTagRow;
  user: UserRow;
  password: PasswordRow;
  group: GroupRow;
  user_group_membership: MembershipRow;
  role: RoleRow;
  implied_role: ImpliedRoleRow;
  assignment: AssignmentRow;
  region: RegionRow;
  service: ServiceRow;
  endpoint: EndpointRow;
  endpoint_group: EndpointGroupRow;
  project_endpoint: ProjectEndpointRow;
  project_endpoint_group: ProjectEndpointGroupRow;
  policy: PolicyRow;
  policy_association: PolicyAssociationRow;
  registered_limit: RegisteredLimitRow;
  unified_limit: UnifiedLimitRow;
  oauth_consumer: OAuthConsumerRow;
  oauth_request_token: OAuthRequestTokenRow;
  oauth_access_token: OAuthAccessTokenRow;
  revocation_event: RevocationEventRow;
  token_key: TokenKeyRow;
  credential: CredentialRow;
  credential_key: CredentialKeyRow;
  application_credential: AppCredRow;
  application_credential_role: AppCredRoleRow;
  access_rule: AccessRuleRow;
  application_credential_access_rule: AppCredAccessRuleRow;
  identity_revision: RevisionRow;
  trust: TrustRow;
  trust_role: TrustRoleRow;
  domain_config: DomainConfigRow;
}

export type IdentityDB = Kysely<IdentityTables>;
export type IdentityTrx = Transaction<IdentityTables>;
/** Either the database or an open transaction: store functions accept both. */
export type Q = IdentityDB | IdentityTrx;

export const ROOT_DOMAIN = "<<keystone.domain.root>>";
export const NULL_DOMAIN = "<<null>>";
export const DEFAULT_DOMAIN_ID = "default";

/** Parse a JSON text column, tolerating empty values. */
export function json<T = Record<string, unknown>>(text: string | null | undefined): T {
  if (!text) return {} as T;
  return JSON.parse(text) as T;
}
