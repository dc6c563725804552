import type { Q, TrustRow } from "./tables.js";

/** A trust row, deleted ones included only when asked. */
export async function findTrust(q: Q, id: string, opts: { deleted?: boolean } = {}): Promise<TrustRow | undefined> {
  let s = q.selectFrom("trust").selectAll().where("id", "=", id);
  if (!opts.deleted) s = s.where("deleted_at", "is", null);
  return s.executeTakeFirst();
}

export async function trustRoleIds(q: Q, trustId: string): Promise<string[]> {
  const rows = await q.selectFrom("trust_role").select("role_id").where("trust_id", "=", trustId).orderBy("role_id").execute();
  return rows.map((r) => r.role_id);
}

export async function insertTrust(q: Q, row: TrustRow, roleIds: readonly string[]): Promise<void> {
  await q.insertInto("trust").values(row).execute();
  if (roleIds.length > 0) {
    await q
      .insertInto("trust_role")
      .values(roleIds.map((role_id) => ({ trust_id: row.id, role_id })))
      .execute();
  }
}

/** Live (not deleted) trusts; expired or used-up ones are listed too, as Keystone does. */
export async function listTrusts(q: Q, f: { trustorId?: string; trusteeId?: string; redelegatedFrom?: string }): Promise<TrustRow[]> {
  let s = q.selectFrom("trust").selectAll().where("deleted_at", "is", null);
  if (f.trustorId !== undefined) s = s.where("trustor_user_id", "=", f.trustorId);
  if (f.trusteeId !== undefined) s = s.where("trustee_user_id", "=", f.trusteeId);
  if (f.redelegatedFrom !== undefined) s = s.where("redelegated_trust_id", "=", f.redelegatedFrom);
  return s.orderBy("id").execute();
}

/** Soft-delete; returns how many live trusts were marked. */
export async function softDeleteTrusts(q: Q, ids: readonly string[], at: string): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await q.updateTable("trust").set({ deleted_at: at }).where("id", "in", ids).where("deleted_at", "is", null).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function liveTrustIdsFor(q: Q, f: { userId?: string; projectId?: string }): Promise<string[]> {
  let s = q.selectFrom("trust").select("id").where("deleted_at", "is", null);
  if (f.userId !== undefined) {
    const u = f.userId;
    s = s.where((eb) => eb.or([eb("trustor_user_id", "=", u), eb("trustee_user_id", "=", u)]));
  }
  if (f.projectId !== undefined) s = s.where("project_id", "=", f.projectId);
  const rows = await s.execute();
  return rows.map((r) => r.id);
}

/**
 * Take one use of a limited trust in a single conditional UPDATE, so concurrent issuers
 * never both take the last use (Keystone does the same with optimistic locking).
 */
export async function consumeUse(q: Q, id: string): Promise<"unlimited" | "consumed" | "exhausted" | "missing"> {
  const row = await q.selectFrom("trust").select("remaining_uses").where("id", "=", id).where("deleted_at", "is", null).executeTakeFirst();
  if (!row) return "missing";
  if (row.remaining_uses === null) return "unlimited";
  const r = await q
    .updateTable("trust")
    .set((eb) => ({ remaining_uses: eb("remaining_uses", "-", 1) }))
    .where("id", "=", id)
    .where("deleted_at", "is", null)
    .where("remaining_uses", ">", 0)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1 ? "consumed" : "exhausted";
}
