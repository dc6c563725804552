import type { Kysely } from "kysely";

/**
 * Neutron's resources. Each row keeps the resource's API document as JSON text (`doc`,
 * standard attributes included) and mirrors, as columns, only what must be indexed or made
 * unique in the database itself: the relations lists filter on, and the identities that
 * concurrent requests race for (an address in a subnet, a MAC on a network, a segmentation
 * id, one default security group per project, one rule of each shape per group).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const docTable = (name: string) =>
    db.schema
      .createTable(name)
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("project_id", "text", (c) => c.notNull())
      .addColumn("doc", "text", (c) => c.notNull());

  await docTable("net_network")
    // network_type \n physical_network \n segmentation_id, when the network has a segment.
    .addColumn("segment_key", "text", (c) => c.unique())
    .execute();
  await docTable("net_subnet")
    .addColumn("network_id", "text", (c) => c.notNull())
    .addColumn("subnetpool_id", "text")
    .addColumn("ip_version", "integer", (c) => c.notNull())
    .addColumn("cidr", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("net_subnet_network").on("net_subnet").column("network_id").execute();
  await db.schema.createIndex("net_subnet_pool").on("net_subnet").column("subnetpool_id").execute();

  await docTable("net_port")
    .addColumn("network_id", "text", (c) => c.notNull())
    .addColumn("device_id", "text", (c) => c.notNull())
    .addColumn("device_owner", "text", (c) => c.notNull())
    .addColumn("mac_address", "text", (c) => c.notNull())
    .addUniqueConstraint("net_port_network_mac", ["network_id", "mac_address"])
    .execute();
  await db.schema.createIndex("net_port_project").on("net_port").column("project_id").execute();
  await db.schema.createIndex("net_port_device").on("net_port").column("device_id").execute();

  // One row per fixed IP: the primary key is what makes a double allocation impossible.
  await db.schema
    .createTable("net_ip_allocation")
    .addColumn("subnet_id", "text", (c) => c.notNull())
    .addColumn("ip_address", "text", (c) => c.notNull())
    .addColumn("network_id", "text", (c) => c.notNull())
    .addColumn("port_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("net_ip_allocation_pk", ["subnet_id", "ip_address"])
    .execute();
  await db.schema.createIndex("net_ip_allocation_port").on("net_ip_allocation").column("port_id").execute();

  await docTable("net_router").addColumn("gw_network_id", "text").execute();
  await docTable("net_floatingip")
    .addColumn("floating_network_id", "text", (c) => c.notNull())
    .addColumn("floating_ip_address", "text", (c) => c.notNull())
    .addColumn("port_id", "text")
    .addColumn("router_id", "text")
    .execute();
  await db.schema.createIndex("net_floatingip_port").on("net_floatingip").column("port_id").execute();
  await db.schema
    .createTable("net_port_forwarding")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("floatingip_id", "text", (c) => c.notNull())
    // protocol \n external_port(s): one forwarding per outside port of a floating IP.
    .addColumn("external_key", "text", (c) => c.notNull())
    // internal port id \n internal ip \n protocol \n internal port(s)
    .addColumn("internal_key", "text", (c) => c.notNull())
    .addColumn("doc", "text", (c) => c.notNull())
    .addUniqueConstraint("net_pf_external", ["floatingip_id", "external_key"])
    .addUniqueConstraint("net_pf_internal", ["internal_key"])
    .execute();

  await docTable("net_security_group").execute();
  await db.schema.createIndex("net_sg_project").on("net_security_group").column("project_id").execute();
  await docTable("net_security_group_rule")
    .addColumn("security_group_id", "text", (c) => c.notNull())
    .addColumn("remote_group_id", "text")
    // The rule's shape (direction, ethertype, protocol, ports, remote): duplicates are refused.
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addUniqueConstraint("net_sgr_shape", ["security_group_id", "fingerprint"])
    .execute();
  await db.schema.createIndex("net_sgr_remote").on("net_security_group_rule").column("remote_group_id").execute();
  await db.schema
    .createTable("net_default_security_group")
    .addColumn("project_id", "text", (c) => c.primaryKey())
    .addColumn("security_group_id", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("net_port_security_group")
    .addColumn("port_id", "text", (c) => c.notNull())
    .addColumn("security_group_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("net_port_sg_pk", ["port_id", "security_group_id"])
    .execute();
  await db.schema.createIndex("net_port_sg_group").on("net_port_security_group").column("security_group_id").execute();

  await docTable("net_rbac_policy")
    .addColumn("object_type", "text", (c) => c.notNull())
    .addColumn("object_id", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("target_project", "text", (c) => c.notNull())
    .addUniqueConstraint("net_rbac_entry", ["object_type", "object_id", "action", "target_project"])
    .execute();
  await db.schema.createIndex("net_rbac_object").on("net_rbac_policy").column("object_id").execute();

  await docTable("net_subnetpool").addColumn("address_scope_id", "text").execute();
  await docTable("net_address_scope").execute();

  await db.schema
    .createTable("net_quota")
    .addColumn("project_id", "text", (c) => c.notNull())
    .addColumn("resource", "text", (c) => c.notNull())
    .addColumn("hard_limit", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("net_quota_pk", ["project_id", "resource"])
    .execute();

  await db.schema
    .createTable("net_agent")
    .addColumn("id", "text", (c) => c.primaryKey())
    // agent_type \n host: the backend reports each agent once.
    .addColumn("agent_key", "text", (c) => c.notNull().unique())
    .addColumn("doc", "text", (c) => c.notNull())
    .execute();
}
