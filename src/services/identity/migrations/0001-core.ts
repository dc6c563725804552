import type { Kysely } from "kysely";

/**
 * Keystone's core tables. Domains live in `project` with is_domain=1, as in Keystone, so a
 * domain is also a project that can own projects and names are unique per (domain_id, name).
 * Root domains have domain_id = ROOT_DOMAIN.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("project")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("domain_id", "text", (c) => c.notNull())
    .addColumn("parent_id", "text")
    .addColumn("description", "text")
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("is_domain", "integer", (c) => c.notNull())
    .addColumn("extra", "text", (c) => c.notNull())
    .addColumn("options", "text", (c) => c.notNull())
    .addUniqueConstraint("project_domain_name", ["domain_id", "name"])
    .execute();
  await db.schema.createIndex("project_parent").on("project").column("parent_id").execute();

  await db.schema
    .createTable("project_tag")
    .addColumn("project_id", "text", (c) => c.notNull().references("project.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("project_tag_pk", ["project_id", "name"])
    .execute();
  await db.schema.createIndex("project_tag_name").on("project_tag").column("name").execute();

  await db.schema
    .createTable("user")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("domain_id", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("default_project_id", "text")
    .addColumn("description", "text")
    .addColumn("extra", "text", (c) => c.notNull())
    .addColumn("options", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("last_active_at", "text")
    .addColumn("failed_auth_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("failed_auth_at", "text")
    .addUniqueConstraint("user_domain_name", ["domain_id", "name"])
    .execute();

  await db.schema
    .createTable("password")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull().references("user.id").onDelete("cascade"))
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .addColumn("self_service", "integer", (c) => c.notNull())
    .addColumn("active", "integer", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("password_user").on("password").column("user_id").execute();

  await db.schema
    .createTable("group")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("domain_id", "text", (c) => c.notNull())
    .addColumn("description", "text")
    .addColumn("extra", "text", (c) => c.notNull())
    .addUniqueConstraint("group_domain_name", ["domain_id", "name"])
    .execute();

  await db.schema
    .createTable("user_group_membership")
    .addColumn("user_id", "text", (c) => c.notNull().references("user.id").onDelete("cascade"))
    .addColumn("group_id", "text", (c) => c.notNull().references("group.id").onDelete("cascade"))
    .addPrimaryKeyConstraint("user_group_membership_pk", ["user_id", "group_id"])
    .execute();
  await db.schema.createIndex("membership_group").on("user_group_membership").column("group_id").execute();

  // domain_id "<<null>>" marks a global role, so (name, domain_id) stays unique in both dialects.
  await db.schema
    .createTable("role")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("domain_id", "text", (c) => c.notNull())
    .addColumn("description", "text")
    .addColumn("extra", "text", (c) => c.notNull())
    .addColumn("options", "text", (c) => c.notNull())
    .addUniqueConstraint("role_name_domain", ["name", "domain_id"])
    .execute();

  await db.schema
    .createTable("implied_role")
    .addColumn("prior_role_id", "text", (c) => c.notNull().references("role.id").onDelete("cascade"))
    .addColumn("implied_role_id", "text", (c) => c.notNull().references("role.id").onDelete("cascade"))
    .addPrimaryKeyConstraint("implied_role_pk", ["prior_role_id", "implied_role_id"])
    .execute();

  // type: UserProject | GroupProject | UserDomain | GroupDomain | UserSystem | GroupSystem.
  // target_id is "system" for system assignments.
  await db.schema
    .createTable("assignment")
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("actor_id", "text", (c) => c.notNull())
    .addColumn("target_id", "text", (c) => c.notNull())
    .addColumn("role_id", "text", (c) => c.notNull())
    .addColumn("inherited", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("assignment_pk", ["type", "actor_id", "target_id", "role_id", "inherited"])
    .execute();
  await db.schema.createIndex("assignment_actor").on("assignment").column("actor_id").execute();
  await db.schema.createIndex("assignment_target").on("assignment").column("target_id").execute();
  await db.schema.createIndex("assignment_role").on("assignment").column("role_id").execute();

  await db.schema
    .createTable("region")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("parent_region_id", "text")
    .addColumn("extra", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("service")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("extra", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("endpoint")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("interface", "text", (c) => c.notNull())
    .addColumn("service_id", "text", (c) => c.notNull().references("service.id"))
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("region_id", "text")
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("extra", "text", (c) => c.notNull())
    .execute();

  // Revocation events as Keystone keeps them: a token is revoked when every non-null field of
  // an event matches it and it was issued at or before issued_before.
  await db.schema
    .createTable("revocation_event")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("domain_id", "text")
    .addColumn("project_id", "text")
    .addColumn("user_id", "text")
    .addColumn("role_id", "text")
    .addColumn("trust_id", "text")
    .addColumn("consumer_id", "text")
    .addColumn("access_token_id", "text")
    .addColumn("app_cred_id", "text")
    .addColumn("audit_id", "text")
    .addColumn("audit_chain_id", "text")
    .addColumn("issued_before", "text", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .addColumn("revoked_at", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("token_key")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  // One row: bumped by every identity write that can change what a token means, so every
  // process (on a shared PostgreSQL too) knows when its validation cache is stale.
  await db.schema
    .createTable("identity_revision")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("revision", "integer", (c) => c.notNull())
    .execute();
  await db.insertInto("identity_revision" as never).values({ id: 1, revision: 1 } as never).execute();
}
