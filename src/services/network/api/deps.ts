import type { NetworkDriver } from "../../../drivers/network/driver.js";
import type { Caller, NetworkCore } from "../core.js";
import type { AgentManager } from "../manager/agents.js";
import type { IpAvailabilityManager } from "../manager/ip-availability.js";
import type { MeteringManager } from "../manager/metering.js";
import type { NetworkManager } from "../manager/networks.js";
import type { QuotaManager } from "../manager/quotas.js";
import type { RbacManager } from "../manager/rbac.js";
import type { SecurityGroupManager } from "../manager/security-groups.js";
import type { TagManager } from "../manager/tags.js";
import type { Doc } from "../store/docs.js";
import type { NetworkTrx, Q } from "../store/tables.js";

/**
 * The network service's managers. Managers reach their siblings through this bag (ports
 * need IPAM, routers create ports, …); index.ts builds it. The interfaces below are the
 * contracts between areas; each manager class implements its own and may offer more.
 */
export interface Network {
  core: NetworkCore;
  driver: NetworkDriver;
  quotas: QuotaManager;
  networks: NetworkManager;
  subnets: SubnetsApi;
  ipam: IpamApi;
  ports: PortsApi;
  securityGroups: SecurityGroupManager;
  routers: RoutersApi;
  floatingips: FloatingIpsApi;
  metering: MeteringManager;
  /** RBAC policies; other areas enable their object types with rbac.registerType. */
  rbac: RbacManager;
  agents: AgentManager;
  tags: TagManager;
  ipAvailability: IpAvailabilityManager;
}

/** A fixed IP as requested in a port body: a subnet, an address, or both. */
export interface FixedIpRequest {
  subnet_id?: string;
  ip_address?: string;
}
export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export interface SubnetsApi {
  /** The stored subnet document (no visibility rules). */
  load(q: Q, id: string): Promise<Doc | undefined>;
  ofNetwork(q: Q, networkId: string): Promise<Doc[]>;
}

export interface IpamApi {
  /**
   * Allocate a port's fixed IPs (writes net_ip_allocation rows in trx). `requested`
   * undefined means Neutron's default: one address from an IPv4 subnet of the network and
   * one from an IPv6 subnet (SLAAC/stateless subnets give their EUI-64 address from the MAC).
   * Throws IpAddressGenerationFailure (409) when a subnet is full, IpAddressAlreadyAllocated
   * (409), InvalidIpForSubnet / InvalidIpForNetwork (400).
   */
  allocate(
    trx: NetworkTrx,
    port: { id: string; network_id: string; mac_address: string; device_owner: string },
    requested: FixedIpRequest[] | undefined,
  ): Promise<FixedIp[]>;
  /** A port update's fixed_ips: keep what is still requested, release the rest, allocate the new. */
  reallocate(
    trx: NetworkTrx,
    port: { id: string; network_id: string; mac_address: string; device_owner: string; fixed_ips: FixedIp[] },
    requested: FixedIpRequest[],
  ): Promise<FixedIp[]>;
  /** Free every address of a port. */
  release(trx: NetworkTrx, portId: string): Promise<void>;
}

/** A port made by the cloud itself (router interface/gateway, floating IP, DHCP). */
export interface InternalPortSpec {
  network_id: string;
  /** "" for ports no project owns (router gateways, floating IPs), as Neutron does. */
  project_id: string;
  device_owner: string;
  device_id: string;
  fixed_ips?: FixedIpRequest[];
  name?: string;
  admin_state_up?: boolean;
}

export interface PortsApi {
  load(q: Q, id: string, lock?: boolean): Promise<Doc | undefined>;
  /** Create a port inside the caller's transaction (no policy, no quota). */
  createInternal(trx: NetworkTrx, spec: InternalPortSpec): Promise<Doc>;
  /** Set device_id/device_owner (a router taking a port as interface, a port released). */
  setDevice(trx: NetworkTrx, id: string, deviceId: string, deviceOwner: string): Promise<Doc>;
  /** Delete a port and its addresses inside the caller's transaction. */
  deleteInternal(trx: NetworkTrx, id: string): Promise<void>;
  /**
   * Replace a port's fixed IPs inside the caller's transaction (IpamApi.reallocate, no policy):
   * a router adding or removing an IPv6 prefix on its shared IPv6 interface port, or changing
   * its gateway port's external_fixed_ips. Optional: without it routers fall back to one port
   * per prefix and to replacing the gateway port.
   */
  updateFixedIps?(trx: NetworkTrx, id: string, fixedIps: FixedIpRequest[]): Promise<Doc>;
  /**
   * A subnet is being deleted with addresses still on ports (SLAAC/stateless subnets, DHCP
   * ports): drop its entries from the ports' fixed_ips. Call it before freeing the
   * net_ip_allocation rows (it finds the ports through them).
   */
  onSubnetDeleted(trx: NetworkTrx, subnetId: string): Promise<void>;
}

export interface SecurityGroupsApi {
  /** The project's default security group, created (with its default rules) on first need. */
  ensureDefault(trx: NetworkTrx, projectId: string): Promise<string>;
  /** 404 SecurityGroupNotFound unless every group exists and the caller may use it. */
  assertUsable(q: Q, caller: Caller, projectId: string, ids: readonly string[]): Promise<void>;
}

export interface RoutersApi {
  /** Whether some router connects a subnet to an external network (floating IP association). */
  routerFor(q: Q, subnetId: string, externalNetworkId: string): Promise<string | undefined>;
  /**
   * DELETE /v2.0/ports/<id> on a port a router or a floating IP still owns: 409
   * ServicePortInUse (Neutron's prevent_l3_port_deletion). Ports call it before deleting.
   */
  preventPortDeletion(q: Q, port: Doc): Promise<void>;
}

export interface FloatingIpsApi {
  /** A port is going away: its floating IPs are disassociated (Neutron's disassociate_floatingips). */
  onPortDeleted(trx: NetworkTrx, portId: string): Promise<void>;
  /** An external network is being deleted: its floating IPs (and their ports) go with it. */
  onNetworkDeleted(trx: NetworkTrx, networkId: string): Promise<void>;
}
