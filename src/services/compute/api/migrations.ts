import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Migration, MoveManager } from "../manager/moves.js";
import { getMigration, LIVE_IN_PROGRESS } from "../manager/moves.js";
import type { ServersDB } from "../store/servers-tables.js";
import { isoMicroNaive } from "../views/servers.js";
import type { Compute } from "./deps.js";
import { invalidField, isObject, pyRepr } from "./fleet-validate.js";
import { serverCaller, serverTarget } from "./server-common.js";

/**
 * /servers/{id}/migrations (nova/api/openstack/compute/server_migrations.py): live migrations
 * in progress (2.23), force_complete (2.22), abort by DELETE (2.24); uuid at 2.59,
 * user/project at 2.80.
 */

function view(ctx: RequestContext, m: Migration & { memory_total?: unknown }): Record<string, unknown> {
  const out: Record<string, unknown> = {
    created_at: isoMicroNaive(m.created_at),
    dest_compute: m.dest_compute,
    dest_host: m.dest_host,
    dest_node: m.dest_node,
    disk_processed_bytes: null,
    disk_remaining_bytes: null,
    disk_total_bytes: null,
    id: m.id,
    memory_processed_bytes: null,
    memory_remaining_bytes: null,
    memory_total_bytes: null,
    server_uuid: m.instance_uuid,
    source_compute: m.source_compute,
    source_node: m.source_node,
    status: m.status,
    updated_at: isoMicroNaive(m.updated_at),
  };
  if (ctx.version!.atLeast("2.59")) out["uuid"] = m.uuid;
  if (ctx.version!.atLeast("2.80")) {
    out["user_id"] = m.user_id;
    out["project_id"] = m.project_id;
  }
  return out;
}

/** A migration id from the URL; anything else matches no migration (-1). */
function migrationId(raw: string): number {
  return /^[0-9]{1,15}$/.test(raw) ? Number(raw) : -1;
}

export function serverMigrationRoutes(c: Compute, moves: MoveManager): Route[] {
  const db = () => c.database.db as ServersDB;
  return [
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/migrations",
      operation: "listServerMigrations",
      minVersion: "2.23",
      policy: "os_compute_api:servers:migrations:index",
      handler: async (ctx) => {
        const inst = await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:servers:migrations:index", { project_id: inst.project_id });
        const ms = await moves.inProgress(inst.uuid);
        return { body: { migrations: ms.map((m) => view(ctx, m)) } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/migrations/:migration_id",
      operation: "showServerMigration",
      minVersion: "2.23",
      policy: "os_compute_api:servers:migrations:show",
      handler: async (ctx) => {
        const inst = await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:servers:migrations:show", { project_id: inst.project_id });
        const raw = ctx.params["migration_id"]!;
        const id = /^[0-9]+$/.test(raw) ? Number(raw) : -1;
        const m = id >= 0 ? await getMigration(db(), id) : undefined;
        if (!m || m.instance_uuid !== inst.uuid) throw new NotFound(`In-progress live migration ${raw} is not found for server ${inst.uuid}.`);
        if (m.migration_type !== "live-migration") throw new NotFound(`Migration ${raw} for server ${inst.uuid} is not live-migration.`);
        if (!LIVE_IN_PROGRESS.includes(m.status)) throw new NotFound(`Live migration ${raw} for server ${inst.uuid} is not in progress.`);
        return { body: { migration: view(ctx, m) } };
      },
    },
    {
      method: "POST",
      path: "/v2.1/servers/:server_id/migrations/:migration_id/action",
      operation: "forceCompleteMigration",
      minVersion: "2.22",
      policy: "os_compute_api:servers:migrations:force_complete",
      handler: async (ctx) => {
        const body = ctx.body;
        if (!isObject(body) || Object.keys(body).length !== 1) throw new BadRequest("Malformed request body");
        const name = Object.keys(body)[0]!;
        if (name !== "force_complete") throw new BadRequest(`There is no such action: ${name}`);
        if (body["force_complete"] !== null) throw invalidField("force_complete", body["force_complete"], `${pyRepr(body["force_complete"])} is not of type 'null'`);
        const inst = await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:servers:migrations:force_complete", serverTarget(inst));
        await moves.forceComplete(serverCaller(ctx), inst, migrationId(ctx.params["migration_id"]!));
        return { status: 202 };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/servers/:server_id/migrations/:migration_id",
      operation: "abortServerMigration",
      minVersion: "2.24",
      policy: "os_compute_api:servers:migrations:delete",
      handler: async (ctx) => {
        const inst = await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:servers:migrations:delete", { project_id: inst.project_id });
        await moves.abort(serverCaller(ctx), inst, migrationId(ctx.params["migration_id"]!), ctx.version!.atLeast("2.65"));
        return { status: 202 };
      },
    },
  ];
}
