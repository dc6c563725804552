import type { Kysely, Transaction } from "kysely";

/** Every resource table: id, owner, the API document as JSON text, plus mirrored columns. */
interface DocRow {
  id: string;
  project_id: string;
  doc: string;
}

export interface NetworkTables {
  net_network: DocRow & { segment_key: string | null };
  net_subnet: DocRow & { network_id: string; subnetpool_id: string | null; ip_version: number; cidr: string };
  net_port: DocRow & { network_id: string; device_id: string; device_owner: string; mac_address: string };
  net_ip_allocation: { subnet_id: string; ip_address: string; network_id: string; port_id: string };
  net_router: DocRow & { gw_network_id: string | null };
  net_floatingip: DocRow & {
    floating_network_id: string;
    floating_ip_address: string;
    port_id: string | null;
    router_id: string | null;
    /** port \n fixed IP \n floating network while associated (unique), else null. */
    fixed_key: string | null;
  };
  net_port_forwarding: { id: string; floatingip_id: string; external_key: string; internal_key: string; doc: string };
  net_security_group: DocRow;
  net_security_group_rule: DocRow & { security_group_id: string; remote_group_id: string | null; fingerprint: string };
  net_default_security_group: { project_id: string; security_group_id: string };
  net_port_security_group: { port_id: string; security_group_id: string };
  net_rbac_policy: DocRow & { object_type: string; object_id: string; action: string; target_project: string };
  net_subnetpool: DocRow & { address_scope_id: string | null };
  net_address_scope: DocRow;
  net_quota: { project_id: string; resource: string; hard_limit: number };
  net_agent: { id: string; agent_key: string; doc: string };
  net_dhcp_binding: { network_id: string; agent_id: string; bound: number };
  net_metering_label: DocRow;
  net_metering_label_rule: DocRow & { metering_label_id: string };
}

export type NetworkDB = Kysely<NetworkTables>;
export type NetworkTrx = Transaction<NetworkTables>;
/** A query runner: the database or an open transaction. */
export type Q = NetworkDB | NetworkTrx;
