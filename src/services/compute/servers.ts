import type { Route } from "../../http/context.js";
import type { Compute } from "./api/deps.js";
import { ipRoutes } from "./api/ips.js";
import { interfaceRoutes } from "./api/os-interface.js";
import { serverGroupRoutes } from "./api/os-server-groups.js";
import { usageRoutes } from "./api/os-simple-tenant-usage.js";
import { serverMetadataRoutes } from "./api/server-metadata.js";
import { serverTagRoutes } from "./api/server-tags.js";
import { serverRoutes } from "./api/servers.js";
import { ServerGroupManager } from "./manager/server-groups.js";
import { UsageManager } from "./manager/usage.js";
import { ServerManager } from "./manager/servers.js";

/** The servers half of compute: servers, scheduler, builds (server groups, metadata, tags, interfaces, usage join here). */
export interface ServersArea {
  servers: ServerManager;
  groups: ServerGroupManager;
  usage: UsageManager;
}

const areas = new WeakMap<Compute, ServersArea>();

/** Build the servers managers (registering their task kinds) and set the ServersApi contract. */
export function attachServers(c: Compute): ServersArea {
  const servers = new ServerManager(c, c.instances);
  const area: ServersArea = { servers, groups: new ServerGroupManager(c, c.instances), usage: new UsageManager(c) };
  c.servers = servers;
  areas.set(c, area);
  return area;
}

/** The servers area of a compute bag (the server-actions area reaches the scheduler and builds here). */
export function serversOf(c: Compute): ServersArea {
  return areas.get(c) ?? attachServers(c);
}

export function serversRoutes(c: Compute): Route[] {
  const a = serversOf(c);
  return [
    ...serverRoutes(c, a.servers),
    ...serverMetadataRoutes(c, a.servers),
    ...serverTagRoutes(c, a.servers),
    ...ipRoutes(c, a.servers),
    ...interfaceRoutes(c, a.servers),
    ...serverGroupRoutes(a.groups),
    ...usageRoutes(a.usage, () => c.clock.now()),
  ];
}
