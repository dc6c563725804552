import type { RequestContext, Route } from "../../../http/context.js";
import { badRequest } from "../errors.js";
import { callerOf } from "./caller.js";
import type { Network } from "./deps.js";
import type { ResourceDef } from "./resource.js";
import { resourceRoutes, toBoolean } from "./resource.js";
import { isStringOrNone } from "./validators.js";

/**
 * agents (neutron_lib api/definitions/agent.py + availability_zone and agent-resources-synced
 * attributes). Neutron builds the collection without pagination or sorting: limit, marker
 * and sort keys are ignored. Agents are not created through the API.
 */
export const AGENT: ResourceDef = {
  singular: "agent",
  plural: "agents",
  path: "/v2.0/agents",
  standard: false,
  pagination: false,
  sorting: false,
  attrs: {
    id: { filter: true },
    agent_type: { filter: true },
    binary: { filter: true },
    topic: { filter: true },
    host: { filter: true },
    admin_state_up: { put: true, convert: toBoolean, filter: true },
    created_at: {},
    started_at: {},
    heartbeat_timestamp: {},
    alive: { filter: true },
    configurations: {},
    description: { put: true, validate: isStringOrNone(255), filter: true },
    availability_zone: { filter: true },
    resources_synced: {},
  },
};

export function agentRoutes(n: Network): Route[] {
  const routes = resourceRoutes(AGENT, {
    list: () => n.agents.list(),
    get: (_ctx, id) => n.agents.get(id),
    update: (_ctx, id, changes) => n.agents.update(id, changes),
    delete: (_ctx, id) => n.agents.delete(id),
  });
  return [...routes, ...dhcpSchedulerRoutes(n)];
}

/**
 * The DHCP agent scheduler extension (neutron/extensions/dhcpagentscheduler.py): its
 * controllers enforce their admin-only rules with an empty target, so a member is refused
 * with 403 before anything is looked up.
 */
function dhcpSchedulerRoutes(n: Network): Route[] {
  const agentId = (ctx: RequestContext): string => ctx.params["id"] ?? "";
  return [
    {
      method: "GET",
      path: "/v2.0/agents/:id/dhcp-networks",
      operation: "listNetworksHostedByDhcpAgent",
      policy: "get_dhcp-networks",
      handler: async (ctx) => {
        ctx.enforce("get_dhcp-networks", {});
        return { body: { networks: await n.agents.networksOnDhcpAgent(callerOf(ctx), agentId(ctx)) } };
      },
    },
    {
      method: "POST",
      path: "/v2.0/agents/:id/dhcp-networks",
      operation: "scheduleNetworkToDhcpAgent",
      policy: "create_dhcp-network",
      handler: async (ctx) => {
        ctx.enforce("create_dhcp-network", {});
        const body = ctx.body;
        const networkId = body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>)["network_id"] : undefined;
        if (typeof networkId !== "string") throw badRequest("Failed to parse request. Required attribute 'network_id' not specified");
        await n.agents.addNetworkToDhcpAgent(callerOf(ctx), agentId(ctx), networkId);
        return { status: 201 };
      },
    },
    {
      method: "DELETE",
      path: "/v2.0/agents/:id/dhcp-networks/:network_id",
      operation: "removeNetworkFromDhcpAgent",
      policy: "delete_dhcp-network",
      handler: async (ctx) => {
        ctx.enforce("delete_dhcp-network", {});
        await n.agents.removeNetworkFromDhcpAgent(agentId(ctx), ctx.params["network_id"] ?? "");
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: "/v2.0/networks/:id/dhcp-agents",
      operation: "listDhcpAgentsHostingNetwork",
      policy: "get_dhcp-agents",
      handler: async (ctx) => {
        ctx.enforce("get_dhcp-agents", {});
        return { body: { agents: await n.agents.dhcpAgentsHosting(ctx.params["id"] ?? "") } };
      },
    },
  ];
}
