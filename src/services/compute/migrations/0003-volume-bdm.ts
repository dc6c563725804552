import type { Kysely } from "kysely";

/**
 * Block device mappings of volumes (Nova's block_device_mapping columns the volume flows
 * need): the snapshot a volume is created from, the volume type asked for (2.67), and the
 * connection info Cinder returned when Nova connected the volume (null until connected).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("cmp_block_device_mapping").addColumn("snapshot_id", "text").execute();
  await db.schema.alterTable("cmp_block_device_mapping").addColumn("volume_type", "text").execute();
  await db.schema.alterTable("cmp_block_device_mapping").addColumn("connection_info", "text").execute();
}
