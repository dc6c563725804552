import type { Kysely } from "kysely";

/**
 * Routers and floating IPs. `fixed_key` (port id \n fixed IP \n external network, set while a
 * floating IP is associated) makes Neutron's rule "one floating IP per fixed IP and external
 * network" (FloatingIPPortAlreadyAssociated) hold under concurrent associations; the indexes
 * serve per-project listings and the router/network lookups of interface and gateway checks.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("net_floatingip").addColumn("fixed_key", "text").execute();
  await db.schema.createIndex("net_floatingip_fixed").on("net_floatingip").column("fixed_key").unique().execute();
  await db.schema.createIndex("net_floatingip_project").on("net_floatingip").column("project_id").execute();
  await db.schema.createIndex("net_floatingip_router").on("net_floatingip").column("router_id").execute();
  await db.schema.createIndex("net_floatingip_network").on("net_floatingip").column("floating_network_id").execute();
  await db.schema.createIndex("net_router_project").on("net_router").column("project_id").execute();
  await db.schema.createIndex("net_router_gw").on("net_router").column("gw_network_id").execute();
}
