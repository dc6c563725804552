import { PostgresAdapter, sql } from "kysely";
import type { ColumnDefinitionBuilder, Kysely } from "kysely";

/**
 * Swift's account, container and object databases as three tables. Names sort as Swift sorts
 * them (by UTF-8 bytes): SQLite's BINARY collation does that already; PostgreSQL needs
 * COLLATE "C", or listings, markers and prefixes would follow the locale.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const byteOrder = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder => (pg ? c.modifyEnd(sql`collate "C"`) : c);
  await db.schema
    .createTable("swift_account")
    .addColumn("account", "text", (c) => c.primaryKey())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("put_timestamp", "text", (c) => c.notNull())
    .addColumn("meta", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("swift_container")
    .addColumn("account", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => byteOrder(c.notNull()))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("put_timestamp", "text", (c) => c.notNull())
    .addColumn("last_modified", "text", (c) => c.notNull())
    .addColumn("object_count", "bigint", (c) => c.notNull())
    .addColumn("bytes_used", "bigint", (c) => c.notNull())
    .addColumn("meta", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("swift_container_pk", ["account", "name"])
    .execute();
  await db.schema
    .createTable("swift_object")
    .addColumn("account", "text", (c) => c.notNull())
    .addColumn("container", "text", (c) => byteOrder(c.notNull()))
    .addColumn("name", "text", (c) => byteOrder(c.notNull()))
    .addColumn("timestamp", "text", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("etag", "text", (c) => c.notNull())
    .addColumn("content_type", "text", (c) => c.notNull())
    .addColumn("meta", "text", (c) => c.notNull())
    .addColumn("blob", "text")
    .addColumn("delete_at", "bigint")
    .addPrimaryKeyConstraint("swift_object_pk", ["account", "container", "name"])
    .execute();
  // The expirer's scan: only objects that have an X-Delete-At.
  await db.schema.createIndex("swift_object_delete_at").on("swift_object").column("delete_at").where(sql.ref("delete_at"), "is not", null).execute();
}
