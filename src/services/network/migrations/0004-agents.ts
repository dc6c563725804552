import type { Kysely } from "kysely";

/**
 * DHCP agent scheduling (neutron/db/models/agent.py NetworkDhcpAgentBinding). A network with a
 * DHCP-enabled subnet is hosted by the first DHCP agent without a row here; a row records an
 * administrator's choice: bound = 1 (POST /agents/{id}/dhcp-networks) or 0 (the automatic
 * binding removed with DELETE), so the network stays where the administrator put it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("net_dhcp_binding")
    .addColumn("network_id", "text", (c) => c.notNull())
    .addColumn("agent_id", "text", (c) => c.notNull())
    .addColumn("bound", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("net_dhcp_binding_pk", ["network_id", "agent_id"])
    .execute();
  await db.schema.createIndex("net_dhcp_binding_agent").on("net_dhcp_binding").column("agent_id").execute();
}
