import { hexId } from "../../../common/ids.js";
import type { Q, RevocationEventRow } from "./tables.js";

export type RevokeFields = Partial<
  Pick<
    RevocationEventRow,
    | "domain_id"
    | "project_id"
    | "user_id"
    | "role_id"
    | "trust_id"
    | "consumer_id"
    | "access_token_id"
    | "app_cred_id"
    | "audit_id"
    | "audit_chain_id"
    | "expires_at"
  >
>;

/** Record a revocation event: tokens matching every given field, issued up to now, are dead. */
export async function revoke(q: Q, fields: RevokeFields, now: Date): Promise<void> {
  const iso = now.toISOString();
  await q
    .insertInto("revocation_event")
    .values({
      id: hexId(),
      domain_id: fields.domain_id ?? null,
      project_id: fields.project_id ?? null,
      user_id: fields.user_id ?? null,
      role_id: fields.role_id ?? null,
      trust_id: fields.trust_id ?? null,
      consumer_id: fields.consumer_id ?? null,
      access_token_id: fields.access_token_id ?? null,
      app_cred_id: fields.app_cred_id ?? null,
      audit_id: fields.audit_id ?? null,
      audit_chain_id: fields.audit_chain_id ?? null,
      expires_at: fields.expires_at ?? null,
      issued_before: iso,
      revoked_at: iso,
    })
    .execute();
}

export async function listEvents(q: Q, since?: string): Promise<RevocationEventRow[]> {
  let s = q.selectFrom("revocation_event").selectAll();
  if (since) s = s.where("revoked_at", ">=", since);
  return s.orderBy("revoked_at").execute();
}

/** Events old enough that every token they could match has expired are dropped. */
export async function pruneEvents(q: Q, before: string): Promise<void> {
  await q.deleteFrom("revocation_event").where("revoked_at", "<", before).execute();
}
