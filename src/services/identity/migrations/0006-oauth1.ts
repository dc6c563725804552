import type { Kysely } from "kysely";

/**
 * OS-OAUTH1 (keystone/oauth1/backends/sql.py): consumers, the request tokens they obtain and
 * users authorize, and the access tokens those are exchanged for. Secrets are kept as
 * Keystone keeps them, because HMAC-SHA1 verification needs them in the clear. role_ids is a
 * JSON list; expires_at is ISO text or null (never expires).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("oauth_consumer")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("description", "text")
    .addColumn("secret", "text", (c) => c.notNull())
    .addColumn("extra", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("oauth_request_token")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("request_secret", "text", (c) => c.notNull())
    .addColumn("verifier", "text")
    .addColumn("authorizing_user_id", "text")
    .addColumn("requested_project_id", "text", (c) => c.notNull())
    .addColumn("role_ids", "text")
    .addColumn("consumer_id", "text", (c) => c.notNull().references("oauth_consumer.id").onDelete("cascade"))
    .addColumn("expires_at", "text")
    .execute();
  await db.schema.createIndex("oauth_request_token_consumer").on("oauth_request_token").column("consumer_id").execute();

  await db.schema
    .createTable("oauth_access_token")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("access_secret", "text", (c) => c.notNull())
    .addColumn("authorizing_user_id", "text", (c) => c.notNull())
    .addColumn("project_id", "text", (c) => c.notNull())
    .addColumn("role_ids", "text", (c) => c.notNull())
    .addColumn("consumer_id", "text", (c) => c.notNull().references("oauth_consumer.id").onDelete("cascade"))
    .addColumn("expires_at", "text")
    .execute();
  await db.schema.createIndex("oauth_access_token_user").on("oauth_access_token").column("authorizing_user_id").execute();
  await db.schema.createIndex("oauth_access_token_consumer").on("oauth_access_token").column("consumer_id").execute();
}
