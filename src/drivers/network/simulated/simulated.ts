import type { AgentReport, NetworkDriver, PortBinding, PortBindingRequest } from "../driver.js";

export interface SimulatedNetworkOptions {
  hosts: readonly string[];
  availabilityZone?: string;
  /** Injected failures: a host name whose port bindings fail (binding_failed). */
  failBindingOnHosts?: readonly string[];
}

/**
 * An Open vSwitch deployment in miniature, realising nothing: every bound port is wired at
 * once (ACTIVE, or DOWN when admin_state_up is false), and each host runs the agents a
 * DevStack ML2/OVS node runs.
 */
export class SimulatedNetworkDriver implements NetworkDriver {
  readonly name = "simulated";
  constructor(private readonly opts: SimulatedNetworkOptions) {}

  async bindPort(req: PortBindingRequest): Promise<PortBinding> {
    if (this.opts.failBindingOnHosts?.includes(req.host)) {
      return { vifType: "binding_failed", vifDetails: {}, status: "DOWN" };
    }
    return {
      vifType: req.vnicType === "normal" ? "ovs" : "hw_veb",
      vifDetails: { connectivity: "l2", port_filter: true, ovs_hybrid_plug: false, datapath_type: "system", bridge_name: "br-int" },
      status: req.adminStateUp ? "ACTIVE" : "DOWN",
    };
  }

  async realize(): Promise<void> {
    // The simulation has nothing to realise; a real driver programs bridges and namespaces here.
  }

  agents(): AgentReport[] {
    const az = this.opts.availabilityZone ?? "nova";
    const out: AgentReport[] = [];
    for (const host of this.opts.hosts) {
      out.push(
        {
          agentType: "Open vSwitch agent",
          binary: "neutron-openvswitch-agent",
          host,
          topic: "N/A",
          availabilityZone: null,
          configurations: { bridge_mappings: { public: "br-ex" }, tunnel_types: ["vxlan"], integration_bridge: "br-int" },
        },
        {
          agentType: "DHCP agent",
          binary: "neutron-dhcp-agent",
          host,
          topic: "dhcp_agent",
          availabilityZone: az,
          configurations: { dhcp_driver: "neutron.agent.linux.dhcp.Dnsmasq", networks: 0, ports: 0, subnets: 0 },
        },
        {
          agentType: "L3 agent",
          binary: "neutron-l3-agent",
          host,
          topic: "l3_agent",
          availabilityZone: az,
          configurations: { agent_mode: "legacy", routers: 0, ex_gw_ports: 0, interfaces: 0, floating_ips: 0 },
        },
        {
          agentType: "Metadata agent",
          binary: "neutron-metadata-agent",
          host,
          topic: "N/A",
          availabilityZone: null,
          configurations: { metadata_proxy_socket: "/var/lib/neutron/metadata_proxy" },
        },
      );
    }
    return out;
  }

  availabilityZones(): Array<{ name: string; resource: "network" | "router" }> {
    const az = this.opts.availabilityZone ?? "nova";
    return [
      { name: az, resource: "network" },
      { name: az, resource: "router" },
    ];
  }
}
