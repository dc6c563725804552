import type { Route } from "../../http/context.js";
import { accessRuleRoutes } from "./api/access-rules.js";
import { applicationCredentialRoutes } from "./api/application-credentials.js";
import { authRoutes } from "./api/auth.js";
import { oauth2Routes } from "./api/oauth2.js";
import { credentialRoutes } from "./api/credentials.js";
import type { Identity } from "./api/deps.js";
import { domainConfigRoutes } from "./api/domain-config.js";
import { revokeEventRoutes } from "./api/revoke-events.js";
import { domainRoutes } from "./api/domains.js";
import { ec2CredentialRoutes } from "./api/ec2-credentials.js";
import { ec2tokenRoutes, s3tokenRoutes } from "./api/ec2tokens.js";
import { endpointFilterRoutes } from "./api/endpoint-filter.js";
import { endpointRoutes } from "./api/endpoints.js";
import { grantRoutes } from "./api/grants.js";
import { groupRoutes } from "./api/groups.js";
import { impliedRoleRoutes } from "./api/implied-roles.js";
import { limitRoutes } from "./api/limits.js";
import { oauth1Routes } from "./api/oauth1.js";
import { policyRoutes } from "./api/policies.js";
import { projectRoutes } from "./api/projects.js";
import { regionRoutes } from "./api/regions.js";
import { registeredLimitRoutes } from "./api/registered-limits.js";
import { roleAssignmentRoutes } from "./api/role-assignments.js";
import { roleRoutes } from "./api/roles.js";
import { serviceRoutes } from "./api/services.js";
import { simpleCertRoutes } from "./api/simple-cert.js";
import { trustRoutes } from "./api/trusts.js";
import { userRoutes } from "./api/users.js";
import { versionRoutes } from "./api/versions.js";

/** The identity route table: one entry per api/ file, each a URL resource of the api-ref. */
export function identityRoutes(id: Identity): Route[] {
  return [
    ...versionRoutes(),
    ...authRoutes(id),
    ...oauth2Routes(id),
    ...domainRoutes(id),
    ...domainConfigRoutes(id),
    ...revokeEventRoutes(id),
    ...projectRoutes(id),
    ...userRoutes(id),
    ...credentialRoutes(id),
    ...ec2CredentialRoutes(id),
    ...ec2tokenRoutes(id),
    ...s3tokenRoutes(id),
    ...simpleCertRoutes(),
    ...applicationCredentialRoutes(id),
    ...accessRuleRoutes(id),
    ...roleRoutes(id),
    ...grantRoutes(id),
    ...groupRoutes(id),
    ...impliedRoleRoutes(id),
    ...roleAssignmentRoutes(id),
    ...regionRoutes(id),
    ...serviceRoutes(id),
    ...endpointRoutes(id),
    ...endpointFilterRoutes(id),
    ...policyRoutes(id),
    ...trustRoutes(id),
    ...registeredLimitRoutes(id),
    ...limitRoutes(id),
    ...oauth1Routes(id),
  ];
}
