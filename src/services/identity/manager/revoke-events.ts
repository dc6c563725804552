import { BadRequest } from "../../../common/errors.js";
import type { IdentityCore } from "../core.js";
import type { RevocationEventRow } from "../store/tables.js";

/** Keystone stores revocation times to the second (RevokeEvent trims microseconds). */
function second(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000) * 1000;
}

/** "2016-01-02T03:04:05Z" (utils.isotime) or, with subsecond, "…05.000000Z". */
function isotime(ms: number, subsecond: boolean): string {
  const s = new Date(ms).toISOString().slice(0, 19);
  return subsecond ? `${s}.000000Z` : `${s}Z`;
}

/** The OS-REVOKE view of the revocation events tokens are checked against. */
export class RevokeEventManager {
  constructor(private readonly core: IdentityCore) {}

  /** ?since= as oslo's parse_isotime reads it; anything else is Keystone's 400. */
  parseSince(since: string): Date {
    const ok = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/.test(since);
    const d = new Date(/[Zz]|[+-]\d{2}(:?\d{2})?$/.test(since) || since.length <= 10 ? since : `${since}Z`);
    if (!ok || Number.isNaN(d.getTime())) throw new BadRequest(`invalidate date format ${since}`);
    return d;
  }

  /** Events revoked strictly after `since`, oldest first. */
  async list(since?: Date): Promise<Record<string, unknown>[]> {
    let s = this.core.db.selectFrom("revocation_event").selectAll();
    if (since) s = s.where("revoked_at", ">=", new Date(second(since.toISOString())).toISOString());
    const rows = await s.orderBy("revoked_at").execute();
    return rows.filter((r) => !since || second(r.revoked_at) > since.getTime()).map(eventView);
  }
}

/**
 * revoke_model.RevokeEvent.to_dict: only the fields that are set; a domain with an expiry is a
 * revoked domain-scoped token (domain_scope_id), a bare domain is everything of that domain.
 */
function eventView(e: RevocationEventRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const scoped = e.domain_id !== null && e.expires_at !== null;
  if (e.user_id !== null) out["user_id"] = e.user_id;
  if (e.role_id !== null) out["role_id"] = e.role_id;
  if (e.domain_id !== null && !scoped) out["domain_id"] = e.domain_id;
  if (scoped) out["domain_scope_id"] = e.domain_id;
  if (e.project_id !== null) out["project_id"] = e.project_id;
  if (e.audit_id !== null) out["audit_id"] = e.audit_id;
  if (e.audit_chain_id !== null) out["audit_chain_id"] = e.audit_chain_id;
  if (e.trust_id !== null) out["OS-TRUST:trust_id"] = e.trust_id;
  if (e.consumer_id !== null) out["OS-OAUTH1:consumer_id"] = e.consumer_id;
  if (e.access_token_id !== null) out["OS-OAUTH1:access_token_id"] = e.access_token_id;
  if (e.expires_at !== null) out["expires_at"] = isotime(second(e.expires_at), false);
  out["issued_before"] = isotime(second(e.issued_before), true);
  out["revoked_at"] = isotime(second(e.revoked_at), true);
  return out;
}
