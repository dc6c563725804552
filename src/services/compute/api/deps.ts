import type { Logger } from "pino";
import type { Clock } from "../../../common/clock.js";
import type { ComputeConfig } from "../../../config/config.js";
import type { Database } from "../../../db/database.js";
import type { HypervisorDriver } from "../../../drivers/compute/driver.js";
import type { ImageClient } from "../../../clients/image.js";
import type { NetworkClient } from "../../../clients/network.js";
import type { PlacementClient } from "../../../clients/placement.js";
import type { VolumeClient } from "../../../clients/volume.js";
import type { TaskRunner } from "../../../tasks/runner.js";
import type { InstanceOps } from "../manager/instance-state.js";

/**
 * The compute service's shared parts and managers. Managers reach their siblings through
 * this bag; index.ts builds it. Other services are reached only through the clients
 * (in-process HTTP with a service token), never by importing their folders.
 */
export interface Compute {
  database: Database;
  config: ComputeConfig;
  clock: Clock;
  log: Logger;
  tasks: TaskRunner;
  driver: HypervisorDriver;
  placement: PlacementClient;
  network: NetworkClient;
  image: ImageClient;
  /** Cinder (volume attachments, boot from volume, the os-volumes proxies). */
  volume: VolumeClient;
  // Areas (set by createCompute in index.ts):
  flavors: FlavorsApi;
  keypairs: KeypairsApi;
  hosts: HostsApi;
  quotas: QuotasApi;
  servers: ServersApi;
  /** The instance state machine (manager/instance-state.ts): servers and server actions move instances through it. */
  instances: InstanceOps;
}

/*
 * Contracts between compute areas. The "fleet" area (hosts, hypervisors, services, zones,
 * aggregates, flavors, keypairs, quotas) and the "servers" area (servers, scheduler, builds,
 * actions, server groups) call each other only through these. index.ts sets the fields.
 */

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  rxtx_factor: number;
  is_public: boolean;
  description: string | null;
  extra_specs: Record<string, string>;
  disabled: boolean;
}

export interface FlavorsApi {
  /** By flavor id (flavorid, not the internal row id); undefined when absent. */
  get(flavorId: string): Promise<Flavor | undefined>;
  /** Public, or private with an access entry for the project. */
  usableBy(flavor: Flavor, projectId: string): Promise<boolean>;
}

export interface Keypair {
  name: string;
  user_id: string;
  public_key: string;
  fingerprint: string;
  type: string;
}

export interface KeypairsApi {
  get(userId: string, name: string): Promise<Keypair | undefined>;
}

/** A compute host as the scheduler and the servers area see it. */
export interface HostRecord {
  /** Hypervisor hostname = compute service host = resource provider name. */
  name: string;
  /** The hypervisor id in the API (uuid at 2.53+). */
  hypervisorId: string;
  /** Resource provider uuid in Placement. */
  providerUuid: string;
  availabilityZone: string;
  /** The nova-compute service is disabled (not scheduled to) or forced down / not answering. */
  disabled: boolean;
  up: boolean;
  hostIp: string;
}

export interface HostsApi {
  /** Every compute host (cached in memory, refreshed on change; the DB is authoritative). */
  all(): Promise<HostRecord[]>;
  byName(name: string): Promise<HostRecord | undefined>;
  byProvider(providerUuid: string): Promise<HostRecord | undefined>;
  /** Host aggregates a host belongs to, with their metadata (for the scheduler's filters). */
  aggregatesOf(host: string): Promise<Array<{ id: number; uuid: string; name: string; metadata: Record<string, string> }>>;
  /** Availability zone names that exist (hosts' zones, internal zone excluded). */
  zones(): Promise<string[]>;
}

export interface QuotaUsage {
  instances: number;
  cores: number;
  ram: number;
}

export interface QuotasApi {
  /**
   * Refuse (403, Nova's "Quota exceeded for …" message) when adding `delta` to the project's
   * (and user's) usage passes a limit. Usage comes from ServersApi.usage.
   */
  check(projectId: string, userId: string, delta: Partial<QuotaUsage> & { server_groups?: number; server_group_members?: number; key_pairs?: number }): Promise<void>;
  /** The effective limits of a project (defaults < quota class < project < user). */
  limits(projectId: string, userId?: string): Promise<Record<string, number>>;
}

export interface ServersApi {
  /** Instances, cores and RAM in use by a project (and a user within it), not counting deleted. */
  usage(projectId: string, userId?: string): Promise<QuotaUsage>;
  /** Non-deleted instances on each named host (hypervisor running_vms / servers). */
  onHosts(hosts: string[]): Promise<Map<string, Array<{ uuid: string; name: string }>>>;
  /**
   * Optional: vCPUs, RAM and disk (root + ephemeral + swap GB) of the non-deleted instances on
   * each named host, for os-hypervisors' *_used fields, statistics and os-hosts (absent = none).
   */
  hostUsage?(hosts: string[]): Promise<Map<string, { vcpus: number; memory_mb: number; disk_gb: number }>>;
}
