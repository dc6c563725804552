import { CloudError } from "../../common/errors.js";

/**
 * A Neutron error: status, the exception class name Neutron puts in `NeutronError.type`
 * (clients and Tempest tell conflicts apart by it), and the message.
 */
export class NeutronError extends CloudError {
  constructor(
    status: number,
    readonly type: string,
    message: string,
  ) {
    super(status, message);
  }
}

export const badRequest = (message: string, type = "HTTPBadRequest"): NeutronError => new NeutronError(400, type, message);
/** neutron_lib's InvalidInput, the usual 400 for a value the plugin rejects. */
export const invalidInput = (message: string): NeutronError =>
  new NeutronError(400, "InvalidInput", `Invalid input for operation: ${message}.`);
export const conflict = (type: string, message: string): NeutronError => new NeutronError(409, type, message);
export const inUse = (type: string, message: string): NeutronError => new NeutronError(409, type, message);

/** The not-found names Neutron uses: NetworkNotFound "Network <id> could not be found." */
const NOT_FOUND: Record<string, [string, string]> = {
  network: ["NetworkNotFound", "Network"],
  subnet: ["SubnetNotFound", "Subnet"],
  port: ["PortNotFound", "Port"],
  router: ["RouterNotFound", "Router"],
  floatingip: ["FloatingIPNotFound", "Floating IP"],
  security_group: ["SecurityGroupNotFound", "Security group"],
  security_group_rule: ["SecurityGroupRuleNotFound", "Security group rule"],
  subnetpool: ["SubnetPoolNotFound", "Subnet pool"],
  address_scope: ["AddressScopeNotFound", "Address scope"],
  rbac_policy: ["RbacPolicyNotFound", "RBAC policy"],
  agent: ["AgentNotFound", "Agent"],
  network_ip_availability: ["NetworkNotFound", "Network"],
  port_forwarding: ["PortForwardingNotFound", "Port Forwarding"],
};

export function notFound(kind: string, id: string): NeutronError {
  const [type, label] = NOT_FOUND[kind] ?? ["HTTPNotFound", kind];
  if (kind === "security_group") return new NeutronError(404, type, `Security group ${id} does not exist`);
  if (kind === "security_group_rule") return new NeutronError(404, type, `Security group rule ${id} does not exist`);
  if (kind === "rbac_policy") return new NeutronError(404, type, `RBAC policy of type network with ID ${id} not found`);
  if (kind === "metering_label") return new NeutronError(404, "MeteringLabelNotFound", `Metering label '${id}' does not exist.`);
  if (kind === "metering_label_rule") return new NeutronError(404, "MeteringLabelRuleNotFound", `Metering label rule '${id}' does not exist.`);
  if (kind === "agent") return new NeutronError(404, type, `Agent ${id} could not be found.`);
  // neutron_lib's l3 exceptions end without a period.
  if (kind === "router" || kind === "floatingip") return new NeutronError(404, type, `${label} ${id} could not be found`);
  return new NeutronError(404, type, `${label} ${id} could not be found.`);
}
