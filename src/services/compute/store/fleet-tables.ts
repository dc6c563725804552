import type { Kysely, Transaction } from "kysely";

/** Tables of the fleet half of compute (migrations/0001-fleet.ts). */
export interface FleetTables {
  cmp_id_counter: { name: string; last: number };
  cmp_flavor: {
    flavorid: string;
    id: number;
    name: string;
    memory_mb: number;
    vcpus: number;
    root_gb: number;
    ephemeral_gb: number;
    swap: number;
    rxtx_factor: number;
    is_public: number;
    disabled: number;
    description: string | null;
    created_at: string;
    updated_at: string | null;
  };
  cmp_flavor_extra_spec: { flavorid: string; key: string; value: string };
  cmp_flavor_project: { flavorid: string; project_id: string };
  cmp_keypair: { user_id: string; name: string; id: number; type: string; public_key: string; fingerprint: string; created_at: string };
  cmp_service: {
    id: number;
    uuid: string;
    host: string;
    binary: string;
    topic: string | null;
    disabled: number;
    disabled_reason: string | null;
    forced_down: number;
    created_at: string;
    updated_at: string | null;
  };
  cmp_compute_node: {
    id: number;
    uuid: string;
    service_id: number;
    host: string;
    hypervisor_hostname: string;
    vcpus: number;
    memory_mb: number;
    local_gb: number;
    cpu_allocation_ratio: number;
    ram_allocation_ratio: number;
    disk_allocation_ratio: number;
    hypervisor_type: string;
    hypervisor_version: number;
    host_ip: string;
    cpu_info: string;
    placement_synced: number;
  };
  cmp_aggregate: { id: number; uuid: string; name: string; created_at: string; updated_at: string | null };
  cmp_aggregate_host: { aggregate_id: number; host: string };
  cmp_aggregate_metadata: { aggregate_id: number; key: string; value: string };
  cmp_quota: { project_id: string; user_id: string; resource: string; hard_limit: number };
  cmp_quota_class: { class_name: string; resource: string; hard_limit: number };
}

export type FleetDB = Kysely<FleetTables>;
export type FleetTrx = Transaction<FleetTables>;
