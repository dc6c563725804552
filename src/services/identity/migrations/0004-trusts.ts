import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * OS-TRUST: keystone's trust and trust_role tables. Trusts are soft-deleted (deleted_at), as
 * Keystone does. expires_at/deleted_at are ISO text with microseconds ("…:SS.ffffffZ"), so
 * they sort as text and echo back exactly what the client sent.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("trust")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("trustor_user_id", "text", (c) => c.notNull())
    .addColumn("trustee_user_id", "text", (c) => c.notNull())
    .addColumn("project_id", "text")
    .addColumn("impersonation", "integer", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .addColumn("remaining_uses", "integer")
    .addColumn("redelegated_trust_id", "text")
    .addColumn("redelegation_count", "integer")
    .addColumn("deleted_at", "text")
    .addColumn("extra", "text", (c) => c.notNull())
    .execute();
  // Keystone's duplicate_trust_constraint, limited to live trusts so a deleted trust does not
  // block creating the same one again. NULLs (no project, no expiry) never collide.
  await db.schema
    .createIndex("trust_duplicate")
    .on("trust")
    .columns(["trustor_user_id", "trustee_user_id", "project_id", "impersonation", "expires_at"])
    .unique()
    .where(sql.ref("deleted_at"), "is", null)
    .execute();
  await db.schema.createIndex("trust_trustor").on("trust").column("trustor_user_id").execute();
  await db.schema.createIndex("trust_trustee").on("trust").column("trustee_user_id").execute();
  await db.schema.createIndex("trust_project").on("trust").column("project_id").execute();
  await db.schema.createIndex("trust_redelegated").on("trust").column("redelegated_trust_id").execute();

  // No foreign key to role: like Keystone, a deleted role stays listed here, disappears from
  // the trust's body and makes the trust's tokens fail (the trustor no longer holds it).
  await db.schema
    .createTable("trust_role")
    .addColumn("trust_id", "text", (c) => c.notNull().references("trust.id").onDelete("cascade"))
    .addColumn("role_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("trust_role_pk", ["trust_id", "role_id"])
    .execute();
}
