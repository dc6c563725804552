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
  { alias: "quotas", name: "Quota management support", description: "Expose functions for quotas management per project" },
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
