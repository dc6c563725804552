import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { MigrationRow, ServersDB } from "../store/servers-tables.js";
import { isoMicroNaive } from "../views/servers.js";
import type { Compute } from "./deps.js";
import { MAX_LIMIT, changesWindow, queryLimit, resourceLinks, strictQuery } from "./fleet-links.js";
import { LIVE_IN_PROGRESS } from "../manager/moves.js";

/**
 * GET /os-migrations (admin) as nova/api/openstack/compute/migrations.py: filters status,
 * host, instance_uuid, migration_type, source_compute, hidden; 2.23 migration_type and links
 * for live migrations in progress; 2.59 uuid, newest first, limit/marker (uuid) and
 * changes-since; 2.66 changes-before; 2.80 user_id/project_id (output and filters).
 */

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function migrationView(ctx: RequestContext, m: MigrationRow): Record<string, unknown> {
  const v = ctx.version!;
  const out: Record<string, unknown> = {
    created_at: isoMicroNaive(m.created_at),
    dest_compute: m.dest_compute,
    dest_host: m.dest_host,
    dest_node: m.dest_node,
    id: Number(m.id),
    instance_uuid: m.instance_uuid,
    new_instance_type_id: num(m.new_flavor_id),
    old_instance_type_id: num(m.old_flavor_id),
    source_compute: m.source_compute,
    source_node: m.source_node,
    status: m.status,
    updated_at: isoMicroNaive(m.updated_at),
  };
  if (v.atLeast("2.23")) {
    out["migration_type"] = m.migration_type;
    if (m.migration_type === "live-migration" && LIVE_IN_PROGRESS.includes(m.status)) out["links"] = resourceLinks(ctx, `servers/${m.instance_uuid}/migrations`, Number(m.id));
  }
  if (v.atLeast("2.59")) out["uuid"] = m.uuid;
  if (v.atLeast("2.80")) {
    out["user_id"] = m.user_id;
    out["project_id"] = m.project_id;
  }
  return out;
}

export function migrationRoutes(c: Compute): Route[] {
  const db = () => c.database.db as ServersDB;
  return [
    {
      method: "GET",
      path: "/v2.1/os-migrations",
      operation: "listMigrations",
      policy: "os_compute_api:os-migrations:index",
      handler: async (ctx) => {
        const v = ctx.version!;
        ctx.enforce("os_compute_api:os-migrations:index", {});
        let q = db().selectFrom("cmp_migration").selectAll().where("deleted", "=", 0).where("hidden", "=", ctx.q("hidden") === "1" || ctx.q("hidden") === "true" ? 1 : 0);
        const status = ctx.q("status");
        if (status !== undefined) q = q.where("status", "=", status);
        const host = ctx.q("host");
        if (host !== undefined) q = q.where((eb) => eb.or([eb("source_compute", "=", host), eb("dest_compute", "=", host)]));
        const node = ctx.q("node");
        if (node !== undefined) q = q.where((eb) => eb.or([eb("source_node", "=", node), eb("dest_node", "=", node)]));
        const iu = ctx.q("instance_uuid");
        if (iu !== undefined) q = q.where("instance_uuid", "=", iu);
        const type = ctx.q("migration_type");
        if (type !== undefined) q = q.where("migration_type", "=", type);
        const src = ctx.q("source_compute");
        if (src !== undefined) q = q.where("source_compute", "=", src);
        if (v.atLeast("2.80")) {
          const u = ctx.q("user_id");
          if (u !== undefined) q = q.where("user_id", "=", u);
          const p = ctx.q("project_id");
          if (p !== undefined) q = q.where("project_id", "=", p);
        }
        let limit: number | undefined;
        if (v.atLeast("2.59")) {
          const allowed = ["hidden", "host", "instance_uuid", "source_compute", "status", "migration_type", "limit", "marker", "changes-since"];
          if (v.atLeast("2.66")) allowed.push("changes-before");
          if (v.atLeast("2.80")) allowed.push("user_id", "project_id");
          const bad = strictQuery(ctx, allowed);
          if (bad) throw new BadRequest(bad);
          const { since: s, before: b } = changesWindow(ctx);
          if (s) q = q.where("updated_at", ">=", s);
          if (b) q = q.where("updated_at", "<=", b);
          limit = queryLimit(ctx);
          const marker = ctx.q("marker");
          if (marker !== undefined) {
            const m = await db().selectFrom("cmp_migration").select(["created_at", "id"]).where("uuid", "=", marker).executeTakeFirst();
            if (!m) throw new BadRequest(`Marker ${marker} could not be found.`);
            q = q.where((eb) => eb.or([eb("created_at", "<", m.created_at), eb.and([eb("created_at", "=", m.created_at), eb("id", "<", m.id)])]));
          }
          q = q.orderBy("created_at", "desc").orderBy("id", "desc").limit(limit ?? MAX_LIMIT);
        } else {
          q = q.orderBy("id", "asc");
        }
        const rows = await q.execute();
        const body: Record<string, unknown> = { migrations: rows.map((m) => migrationView(ctx, m)) };
        if (v.atLeast("2.59") && rows.length > 0 && ((limit !== undefined && rows.length === limit) || rows.length === MAX_LIMIT)) {
          const params = new URLSearchParams();
          for (const [k, val] of Object.entries(ctx.query)) if (k !== "marker" && typeof val === "string") params.set(k, val);
          params.set("marker", rows[rows.length - 1]!.uuid);
          body["migrations_links"] = [{ rel: "next", href: `${ctx.serviceUrl}/v2.1/os-migrations?${params.toString()}` }];
        }
        return { body };
      },
    },
  ];
}
