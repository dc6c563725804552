import type { AccessRuleRow, AppCredRow, CredentialKeyRow, CredentialRow, Q } from "./tables.js";

// ---- credentials ----------------------------------------------------------------------------

export interface CredentialFilter {
  userId?: string;
  type?: string;
  projectId?: string;
}

export async function getCredential(q: Q, id: string): Promise<CredentialRow | undefined> {
  return q.selectFrom("credential").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function listCredentials(q: Q, f: CredentialFilter = {}): Promise<CredentialRow[]> {
  let s = q.selectFrom("credential").selectAll();
  if (f.userId !== undefined) s = s.where("user_id", "=", f.userId);
  if (f.type !== undefined) s = s.where("type", "=", f.type);
  if (f.projectId !== undefined) s = s.where("project_id", "=", f.projectId);
  return s.orderBy("id").execute();
}

export async function insertCredential(q: Q, row: CredentialRow): Promise<void> {
  await q.insertInto("credential").values(row).execute();
}

export async function updateCredential(q: Q, id: string, patch: Partial<Omit<CredentialRow, "id">>): Promise<void> {
  await q.updateTable("credential").set(patch).where("id", "=", id).execute();
}

export async function deleteCredential(q: Q, id: string): Promise<boolean> {
  const r = await q.deleteFrom("credential").where("id", "=", id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function deleteCredentialsFor(q: Q, by: { userId?: string; projectId?: string }): Promise<void> {
  let d = q.deleteFrom("credential");
  if (by.userId !== undefined) d = d.where("user_id", "=", by.userId);
  if (by.projectId !== undefined) d = d.where("project_id", "=", by.projectId);
  await d.execute();
}

export async function listCredentialKeys(q: Q): Promise<CredentialKeyRow[]> {
  return q.selectFrom("credential_key").selectAll().orderBy("id").execute();
}

export async function insertCredentialKey(q: Q, row: CredentialKeyRow): Promise<void> {
  await q.insertInto("credential_key").values(row).execute();
}

// ---- application credentials ----------------------------------------------------------------

export async function getAppCred(q: Q, id: string): Promise<AppCredRow | undefined> {
  return q.selectFrom("application_credential").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function listAppCreds(q: Q, f: { userId?: string; name?: string; projectId?: string }): Promise<AppCredRow[]> {
  let s = q.selectFrom("application_credential").selectAll();
  if (f.userId !== undefined) s = s.where("user_id", "=", f.userId);
  if (f.name !== undefined) s = s.where("name", "=", f.name);
  if (f.projectId !== undefined) s = s.where("project_id", "=", f.projectId);
  return s.orderBy("created_at").orderBy("id").execute();
}

export async function insertAppCred(q: Q, row: AppCredRow, roleIds: readonly string[], ruleIds: readonly string[]): Promise<void> {
  await q.insertInto("application_credential").values(row).execute();
  for (const roleId of new Set(roleIds)) {
    await q.insertInto("application_credential_role").values({ application_credential_id: row.id, role_id: roleId }).execute();
  }
  for (const ruleId of new Set(ruleIds)) {
    await q.insertInto("application_credential_access_rule").values({ application_credential_id: row.id, access_rule_id: ruleId }).execute();
  }
}

/** Role ids of each given application credential. */
export async function appCredRoleIds(q: Q, ids: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (ids.length === 0) return out;
  const rows = await q
    .selectFrom("application_credential_role")
    .selectAll()
    .where("application_credential_id", "in", ids)
    .orderBy("role_id")
    .execute();
  for (const r of rows) {
    const list = out.get(r.application_credential_id) ?? [];
    list.push(r.role_id);
    out.set(r.application_credential_id, list);
  }
  return out;
}

/** Access rules of each given application credential. */
export async function appCredAccessRules(q: Q, ids: readonly string[]): Promise<Map<string, AccessRuleRow[]>> {
  const out = new Map<string, AccessRuleRow[]>();
  if (ids.length === 0) return out;
  const rows = await q
    .selectFrom("application_credential_access_rule as l")
    .innerJoin("access_rule as r", "r.id", "l.access_rule_id")
    .select(["l.application_credential_id as app_cred_id", "r.id", "r.user_id", "r.service", "r.path", "r.method"])
    .where("l.application_credential_id", "in", ids)
    .orderBy("r.id")
    .execute();
  for (const r of rows) {
    const list = out.get(r.app_cred_id) ?? [];
    list.push({ id: r.id, user_id: r.user_id, service: r.service, path: r.path, method: r.method });
    out.set(r.app_cred_id, list);
  }
  return out;
}

/** Delete application credentials (with their role and access-rule links); returns the ids removed. */
export async function deleteAppCreds(q: Q, f: { id?: string; userId?: string; projectId?: string }): Promise<string[]> {
  let s = q.selectFrom("application_credential").select("id");
  if (f.id !== undefined) s = s.where("id", "=", f.id);
  if (f.userId !== undefined) s = s.where("user_id", "=", f.userId);
  if (f.projectId !== undefined) s = s.where("project_id", "=", f.projectId);
  const ids = (await s.execute()).map((r) => r.id);
  if (ids.length === 0) return ids;
  await q.deleteFrom("application_credential_role").where("application_credential_id", "in", ids).execute();
  await q.deleteFrom("application_credential_access_rule").where("application_credential_id", "in", ids).execute();
  await q.deleteFrom("application_credential").where("id", "in", ids).execute();
  return ids;
}

export async function removeRoleFromAppCreds(q: Q, roleId: string): Promise<void> {
  await q.deleteFrom("application_credential_role").where("role_id", "=", roleId).execute();
}

// ---- access rules ---------------------------------------------------------------------------

export async function getAccessRule(q: Q, id: string): Promise<AccessRuleRow | undefined> {
  return q.selectFrom("access_rule").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function findAccessRule(q: Q, userId: string, r: { service: string; path: string; method: string }): Promise<AccessRuleRow | undefined> {
  return q
    .selectFrom("access_rule")
    .selectAll()
    .where("user_id", "=", userId)
    .where("service", "=", r.service)
    .where("path", "=", r.path)
    .where("method", "=", r.method)
    .executeTakeFirst();
}

export async function insertAccessRule(q: Q, row: AccessRuleRow): Promise<void> {
  await q.insertInto("access_rule").values(row).execute();
}

export async function listAccessRules(q: Q, f: { userId: string; service?: string; path?: string; method?: string }): Promise<AccessRuleRow[]> {
  let s = q.selectFrom("access_rule").selectAll().where("user_id", "=", f.userId);
  if (f.service !== undefined) s = s.where("service", "=", f.service);
  if (f.path !== undefined) s = s.where("path", "=", f.path);
  if (f.method !== undefined) s = s.where("method", "=", f.method);
  return s.orderBy("id").execute();
}

export async function accessRuleInUse(q: Q, id: string): Promise<boolean> {
  const r = await q
    .selectFrom("application_credential_access_rule")
    .select("application_credential_id")
    .where("access_rule_id", "=", id)
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}

export async function deleteAccessRule(q: Q, id: string): Promise<void> {
  await q.deleteFrom("access_rule").where("id", "=", id).execute();
}

export async function deleteAccessRulesForUser(q: Q, userId: string): Promise<void> {
  await q.deleteFrom("access_rule").where("user_id", "=", userId).execute();
}
