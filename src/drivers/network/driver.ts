/**
 * The network backend behind Neutron's API: what ML2 mechanism drivers and the L2/L3/DHCP
 * agents do in a real cloud. The API layer owns all state (in the database); a driver is told
 * what to realise and answers with what it did: port bindings, the agents it runs, its
 * availability zones. The simulated driver realises nothing and answers like an Open vSwitch
 * deployment with one agent of each kind per host.
 */
export interface PortBindingRequest {
  portId: string;
  networkId: string;
  networkType: string;
  host: string;
  vnicType: string;
  deviceOwner: string;
  adminStateUp: boolean;
}

export interface PortBinding {
  vifType: string;
  vifDetails: Record<string, unknown>;
  /** The port's status once wired: ACTIVE, or DOWN when administratively down. */
  status: "ACTIVE" | "DOWN" | "BUILD";
}

export interface AgentReport {
  agentType: string;
  binary: string;
  host: string;
  topic: string;
  availabilityZone: string | null;
  configurations: Record<string, unknown>;
  /** L3 agents report which resources they host (resources_synced etc. are not modelled). */
  resourceVersions?: Record<string, string>;
}

export interface NetworkDriver {
  readonly name: string;
  /** Bind a port on a host; throws when the host cannot take it (binding_failed). */
  bindPort(req: PortBindingRequest): Promise<PortBinding>;
  /** Realise (or tear down) a network, subnet, router, … ; the simulation records nothing. */
  realize(kind: "network" | "subnet" | "port" | "router" | "floatingip", id: string, op: "create" | "update" | "delete"): Promise<void>;
  /** The agents this backend runs, as their state reports would list them. */
  agents(): AgentReport[];
  /** Availability zones of networks and routers. */
  availabilityZones(): Array<{ name: string; resource: "network" | "router" }>;
}
