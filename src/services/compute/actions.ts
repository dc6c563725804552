import type { Route } from "../../http/context.js";
import type { Compute } from "./api/deps.js";
import { serverMigrationRoutes } from "./api/migrations.js";
import { instanceActionRoutes } from "./api/os-instance-actions.js";
import { migrationRoutes } from "./api/os-migrations.js";
import { externalEventRoutes } from "./api/os-server-external-events.js";
import { serverActionRoutes } from "./api/server-actions.js";
import { diagnosticsRoutes } from "./api/diagnostics.js";
import { serverPasswordRoutes } from "./api/os-server-password.js";
import { usageAuditLogRoutes } from "./api/os-instance-usage-audit-log.js";
import { MoveManager } from "./manager/moves.js";
import { ServerActionManager } from "./manager/server-actions.js";
import { serversOf } from "./servers.js";

/** The server-actions half of compute: actions, moves, instance actions, migrations, external events. */
export interface ActionsArea {
  actions: ServerActionManager;
  moves: MoveManager;
}

const areas = new WeakMap<Compute, ActionsArea>();

/** Build the action managers (registering their task kinds); after attachServers. */
export function attachActions(c: Compute): ActionsArea {
  const s = serversOf(c);
  const moves = new MoveManager(c, c.instances, s.servers.scheduler);
  const area: ActionsArea = { moves, actions: new ServerActionManager(c, c.instances, s.servers, moves) };
  areas.set(c, area);
  return area;
}

export function actionsOf(c: Compute): ActionsArea {
  return areas.get(c) ?? attachActions(c);
}

export function actionsRoutes(c: Compute): Route[] {
  const a = actionsOf(c);
  return [
    ...serverActionRoutes(c, serversOf(c).servers, a.actions, a.moves),
    ...instanceActionRoutes(c),
    ...migrationRoutes(c),
    ...serverMigrationRoutes(c, a.moves),
    ...externalEventRoutes(a.actions),
    ...diagnosticsRoutes(c),
    ...serverPasswordRoutes(c),
    ...usageAuditLogRoutes(c),
  ];
}
