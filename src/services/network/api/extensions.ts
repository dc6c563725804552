import type { Route } from "../../../http/context.js";
import { NeutronError } from "../errors.js";

export interface Extension {
  alias: string;
  name: string;
  description: string;
}

/**
 * The API extensions this Neutron really implements — and only those: clients and Tempest
 * read this list to decide what to use and what to skip. Add an alias here in the same
 * change that makes it work.
 */
export const EXTENSIONS: readonly Extension[] = [
  { alias: "network-mtu", name: "Network MTU", description: "Provides MTU attribute for a network resource." },
  { alias: "network-mtu-writable", name: "Network MTU (writable)", description: "Provides a writable MTU attribute for a network resource." },
  { alias: "provider", name: "Provider Network", description: "Expose mapping of virtual networks to physical networks" },
  { alias: "external-net", name: "Neutron external network", description: "Adds external network attribute to network resource." },
  { alias: "port-security", name: "Port Security", description: "Provides port security" },
  { alias: "binding", name: "Port Binding", description: "Expose port bindings of a virtual port to external application" },
  { alias: "allowed-address-pairs", name: "Allowed Address Pairs", description: "Provides allowed address pairs" },
  {
    alias: "extra_dhcp_opt",
    name: "Neutron Extra DHCP options",
    description: "Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)",
  },
  { alias: "ip_allocation", name: "IP Allocation", description: "IP allocation extension." },
  { alias: "ip-substring-filtering", name: "IP address substring filtering", description: "Provides IP address substring filtering when listing ports" },
  { alias: "port-security-groups-filtering", name: "Port filtering on security groups", description: "Provides security groups filtering when listing ports" },
  { alias: "availability_zone", name: "Availability Zone", description: "The availability zone extension." },
  { alias: "network_availability_zone", name: "Network Availability Zone", description: "Availability zone support for network." },
  { alias: "l2_adjacency", name: "L2 Adjacency", description: "Display whether a network is L2-adjacent." },
  { alias: "standard-attr-description", name: "standard-attr-description", description: "Extension to add descriptions to standard attributes" },
  { alias: "standard-attr-revisions", name: "Resource revision numbers", description: "This extension will display the revision number of neutron resources." },
  { alias: "standard-attr-timestamp", name: "Resource timestamps", description: "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes." },
  { alias: "revision-if-match", name: "If-Match constraints based on revision_number", description: "Extension indicating that If-Match based on revision_number is supported." },
  { alias: "filter-validation", name: "Filter parameters validation", description: "Provides validation on filter parameters." },
  { alias: "fields-validation", name: "Fields validation", description: "Provides validation on fields parameter." },
  { alias: "pagination", name: "Pagination support", description: "Extension that indicates that pagination is enabled." },
  { alias: "sorting", name: "Sorting support", description: "Extension that indicates that sorting is enabled." },
  { alias: "project-id", name: "project_id field enabled", description: "Extension that indicates that project_id field is enabled." },
  { alias: "metering", name: "Neutron Metering", description: "Neutron Metering extension." },
  { alias: "security-group", name: "security-group", description: "The security groups extension." },
  { alias: "stateful-security-group", name: "Stateful security group", description: "Indicates if the security group is stateful or not" },
  { alias: "security-groups-normalized-cidr", name: "Normalized CIDR field for security group rules", description: "Add new field with normalized remote_ip_prefix cidr in SG rule" },
  { alias: "subnet_allocation", name: "Subnet Allocation", description: "Enables allocation of subnets from a subnet pool" },
  { alias: "default-subnetpools", name: "Default Subnetpools", description: "Provides ability to mark and use a subnetpool as the default." },
  { alias: "subnetpool-prefix-ops", name: "Subnet Pool Prefix Operations", description: "Provides support for adjusting the prefix list of subnet pools" },
  { alias: "address-scope", name: "Address scope", description: "Address scopes extension." },
  { alias: "subnet-service-types", name: "Subnet service types", description: "Provides ability to set the subnet service_types field" },
  { alias: "rbac-policies", name: "RBAC Policies", description: "Allows creation and modification of policies that control project access to resources." },
  { alias: "rbac-subnetpool", name: "Add subnetpool type to RBAC", description: "Add subnetpool type to RBAC" },
  { alias: "rbac-address-scope", name: "Add address_scope type to RBAC", description: "Add address_scope type to RBAC" },
  { alias: "agent", name: "agent", description: "The agent management extension." },
  { alias: "agent-resources-synced", name: "Agent's Resource View Synced to Placement", description: "Stores success/failure of last sync to Placement" },
  { alias: "dhcp_agent_scheduler", name: "DHCP Agent Scheduler", description: "Schedule networks among dhcp agents" },
  { alias: "availability_zone_filter", name: "Availability Zone Filter Extension", description: "Add filter parameters to AvailabilityZone resource" },
  {
    alias: "standard-attr-tag",
    name: "Tag support for resources with standard attribute: subnet, router, network, subnetpool, port, security_group, floatingip",
    description: "Enables to set tag on resources with standard attribute.",
  },
  // The original network-only tag extension (Neutron Mitaka–Stein); its API is the same routes on networks.
  { alias: "tag", name: "Tag support", description: "Enables to set tag on resources." },
  { alias: "tag-creation", name: "Tag creation extension", description: "Allow to create multiple tags for a resource" },
  { alias: "network-ip-availability", name: "Network IP Availability", description: "Provides IP availability data for each network and subnet." },
  { alias: "service-type", name: "Neutron Service Type Management", description: "API for retrieving service providers for Neutron advanced services" },
  {
    alias: "router",
    name: "Neutron L3 Router",
    description: "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.",
  },
  {
    alias: "ext-gw-mode",
    name: "Neutron L3 Configurable external gateway mode",
    description: "Extension of the router abstraction for specifying whether SNAT should occur on the external gateway",
  },
  { alias: "extraroute", name: "Neutron Extra Route", description: "Extra routes configuration for L3 router" },
  {
    alias: "extraroute-atomic",
    name: "Atomically add/remove extra routes",
    description: "Edit extra routes of a router on server side by atomically adding/removing extra routes",
  },
  { alias: "dvr", name: "Distributed Virtual Router", description: "Enables configuration of Distributed Virtual Routers." },
  {
    alias: "router-admin-state-down-before-update",
    name: "Enforce Router's Admin State Down Before Update Extension",
    description: "Ensure that the admin state of a router is DOWN (admin_state_up=False) before updating the distributed attribute",
  },
  { alias: "l3-ha", name: "HA Router extension", description: "Adds HA capability to routers." },
  { alias: "router_availability_zone", name: "Router Availability Zone", description: "Availability zone support for router." },
  { alias: "floatingip-pools", name: "Floating IP Pools Extension", description: "Provides a floating IP pools API." },
  { alias: "fip-port-details", name: "Floating IP Port Details Extension", description: "Add port_details attribute to Floating IP resource" },
  { alias: "floating-ip-port-forwarding", name: "Floating IP Port Forwarding", description: "Allow port forwarding from floating IP port to an internal port" },
  { alias: "expose-port-forwarding-in-fip", name: "Expose Floating IP port forwardings", description: "Expose port forwarding fields in floating IP response" },
  {
    alias: "floating-ip-port-forwarding-description",
    name: "Floating IP Port Forwarding new attribute description",
    description: "Add a description field to Port Forwarding rules",
  },
  { alias: "floating-ip-port-forwarding-port-ranges", name: "Floating IP Port Forwarding support port ranges", description: "Add suport to port ranges" },
  {
    alias: "floating-ip-port-forwarding-detail",
    name: "Floating IP port forwarding detail",
    description: "Allow list floating ip return more port forwarding data, include'id' and 'internal_port_id'",
  },
  { alias: "quotas", name: "Quota management support", description: "Expose functions for quotas management per project" },
  { alias: "quota_details", name: "Quota details management support", description: "Expose functions for quotas usage statistics per project" },
];

function view(e: Extension): Record<string, unknown> {
  return { alias: e.alias, name: e.name, description: e.description, updated: "2013-01-01T10:00:00-00:00", links: [] };
}

export function extensionRoutes(): Route[] {
  return [
    {
      method: "GET",
      path: "/v2.0/extensions",
      operation: "listExtensions",
      handler: async () => ({ body: { extensions: EXTENSIONS.map(view) } }),
    },
    {
      method: "GET",
      path: "/v2.0/extensions/:alias",
      operation: "showExtension",
      handler: async (ctx) => {
        const e = EXTENSIONS.find((x) => x.alias === ctx.params["alias"]);
        if (!e) throw new NeutronError(404, "HTTPNotFound", `Extension with alias ${ctx.params["alias"]} does not exist`);
        return { body: { extension: view(e) } };
      },
    },
  ];
}
