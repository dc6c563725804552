import type { Kysely } from "kysely";

/**
 * Credentials (/v3/credentials and OS-EC2), application credentials and access rules, shaped as
 * Keystone's credential and application_credential SQL backends keep them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // The blob is only ever stored encrypted (AES-256-GCM, the credential id as associated data)
  // under a key from credential_key, as Keystone keeps it under its credential fernet keys.
  await db.schema
    .createTable("credential")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("project_id", "text")
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("encrypted_blob", "text", (c) => c.notNull())
    .addColumn("key_id", "integer", (c) => c.notNull())
    .addColumn("extra", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("credential_user").on("credential").column("user_id").execute();
  await db.schema.createIndex("credential_project").on("credential").column("project_id").execute();

  await db.schema
    .createTable("credential_key")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  // expires_at keeps microseconds (ISO text, UTC, trailing Z) because clients compare it exactly.
  await db.schema
    .createTable("application_credential")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("secret_hash", "text", (c) => c.notNull())
    .addColumn("description", "text")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("project_id", "text")
    .addColumn("system", "text")
    .addColumn("expires_at", "text")
    .addColumn("unrestricted", "integer")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addUniqueConstraint("application_credential_user_name", ["user_id", "name"])
    .execute();
  await db.schema.createIndex("application_credential_project").on("application_credential").column("project_id").execute();

  await db.schema
    .createTable("application_credential_role")
    .addColumn("application_credential_id", "text", (c) => c.notNull().references("application_credential.id").onDelete("cascade"))
    .addColumn("role_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("application_credential_role_pk", ["application_credential_id", "role_id"])
    .execute();
  await db.schema.createIndex("application_credential_role_role").on("application_credential_role").column("role_id").execute();

  await db.schema
    .createTable("access_rule")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("service", "text", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("method", "text", (c) => c.notNull())
    .addUniqueConstraint("access_rule_user_rule", ["user_id", "service", "path", "method"])
    .execute();

  await db.schema
    .createTable("application_credential_access_rule")
    .addColumn("application_credential_id", "text", (c) => c.notNull().references("application_credential.id").onDelete("cascade"))
    .addColumn("access_rule_id", "text", (c) => c.notNull().references("access_rule.id"))
    .addPrimaryKeyConstraint("application_credential_access_rule_pk", ["application_credential_id", "access_rule_id"])
    .execute();
  await db.schema
    .createIndex("application_credential_access_rule_rule")
    .on("application_credential_access_rule")
    .column("access_rule_id")
    .execute();
}
