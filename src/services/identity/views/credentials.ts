import type { RequestContext } from "../../../http/context.js";
import type { AppCredRecord } from "../manager/app-creds.js";
import { renderExpiresAt } from "../manager/app-creds.js";
import type { CredentialRecord } from "../manager/credentials.js";
import { ec2Fields } from "../manager/credentials.js";
import type { AccessRuleRow, RoleRow } from "../store/tables.js";
import { json, NULL_DOMAIN } from "../store/tables.js";
import { link } from "./common.js";

/** /v3/credentials entity: the blob is the string the client stored, extras merged in. */
export function credentialView(ctx: RequestContext, c: CredentialRecord): Record<string, unknown> {
  return {
    ...c.extra,
    id: c.id,
    user_id: c.user_id,
    project_id: c.project_id,
    type: c.type,
    blob: c.blob,
    links: { self: link(ctx, `credentials/${c.id}`) },
  };
}

/** OS-EC2 entity (users.py _convert_v3_to_ec2_credential), linked under its user by access key. */
export function ec2View(ctx: RequestContext, c: CredentialRecord): Record<string, unknown> {
  const b = ec2Fields(c.blob);
  return {
    user_id: c.user_id,
    tenant_id: c.project_id,
    access: b.access,
    secret: b.secret,
    trust_id: b.trust_id,
    links: { self: link(ctx, `users/${c.user_id}/credentials/OS-EC2/${b.access ?? ""}`) },
  };
}

function appCredRole(r: RoleRow): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    domain_id: r.domain_id === NULL_DOMAIN ? null : r.domain_id,
    description: r.description,
    options: json(r.options),
  };
}

function rule(r: AccessRuleRow): Record<string, unknown> {
  return { id: r.id, service: r.service, path: r.path, method: r.method };
}

/**
 * Application credential entity. Keystone's self link names the top-level collection
 * (/v3/application_credentials/{id}), not the user's; access_rules appear only when there are
 * some; the secret only in the create response.
 */
export function appCredView(ctx: RequestContext, a: AppCredRecord, secret?: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: a.id,
    name: a.name,
    description: a.description,
    user_id: a.user_id,
    project_id: a.project_id,
    system: a.system,
    expires_at: renderExpiresAt(a.expires_at),
    unrestricted: a.unrestricted === null ? null : a.unrestricted === 1,
    roles: a.roles.map(appCredRole),
  };
  if (a.access_rules.length > 0) body["access_rules"] = a.access_rules.map(rule);
  if (secret !== undefined) body["secret"] = secret;
  body["links"] = { self: link(ctx, `application_credentials/${a.id}`) };
  return body;
}

export function accessRuleView(ctx: RequestContext, r: AccessRuleRow): Record<string, unknown> {
  return { ...rule(r), links: { self: link(ctx, `access_rules/${r.id}`) } };
}
