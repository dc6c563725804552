import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { ServersDB } from "../store/servers-tables.js";
import { hostIdOf, isoMicroNaive } from "../views/servers.js";
import type { Compute } from "./deps.js";
import { MAX_LIMIT, changesWindow, queryLimit, strictQuery } from "./fleet-links.js";
import { serverCaller } from "./server-common.js";

/**
 * GET /servers/{id}/os-instance-actions (+ /{request_id}) as nova/api/openstack/compute/
 * instance_actions.py: deleted servers from 2.21, pagination and changes-since at 2.58
 * (changes-before 2.66), events for non-admins at 2.51 (no traceback), event host/hostId at
 * 2.62, details at 2.84.
 */

type ActionRow = { id: string; instance_uuid: string; action: string; request_id: string; project_id: string; user_id: string; start_time: string; finish_time: string | null; message: string | null; updated_at: string };

export function instanceActionRoutes(c: Compute): Route[] {
  const db = () => c.database.db as ServersDB;
  const instanceOf = async (ctx: RequestContext) => c.instances.get(serverCaller(ctx), ctx.params["server_id"]!, { includeDeleted: ctx.version!.atLeast("2.21") });

  const format = (ctx: RequestContext, a: ActionRow): Record<string, unknown> => {
    const out: Record<string, unknown> = {
      action: a.action,
      instance_uuid: a.instance_uuid,
      request_id: a.request_id,
      user_id: a.user_id,
      project_id: a.project_id,
      start_time: isoMicroNaive(a.start_time),
      message: a.message,
    };
    if (ctx.version!.atLeast("2.58")) out["updated_at"] = isoMicroNaive(a.updated_at);
    return out;
  };

  return [
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/os-instance-actions",
      operation: "listInstanceActions",
      policy: "os_compute_api:os-instance-actions:list",
      handler: async (ctx) => {
        const v = ctx.version!;
        const inst = await instanceOf(ctx);
        ctx.enforce("os_compute_api:os-instance-actions:list", { project_id: inst.project_id });
        let q = db().selectFrom("cmp_instance_action").selectAll().where("instance_uuid", "=", inst.uuid);
        let limit = MAX_LIMIT;
        if (v.atLeast("2.58")) {
          const allowed = ["limit", "marker", "changes-since"];
          if (v.atLeast("2.66")) allowed.push("changes-before");
          const bad = strictQuery(ctx, allowed);
          if (bad) throw new BadRequest(bad);
          const { since: s, before: b } = changesWindow(ctx);
          if (s) q = q.where("updated_at", ">=", s);
          if (b) q = q.where("updated_at", "<=", b);
          limit = queryLimit(ctx) ?? MAX_LIMIT;
          const marker = ctx.q("marker");
          if (marker !== undefined) {
            const m = await db().selectFrom("cmp_instance_action").select(["start_time", "id"]).where("instance_uuid", "=", inst.uuid).where("request_id", "=", marker).executeTakeFirst();
            if (!m) throw new BadRequest(`Marker ${marker} could not be found.`);
            q = q.where((eb) => eb.or([eb("start_time", "<", m.start_time), eb.and([eb("start_time", "=", m.start_time), eb("id", "<", m.id)])]));
          }
        }
        const rows = (await q.orderBy("start_time", "desc").orderBy("id", "desc").limit(limit).execute()) as ActionRow[];
        const body: Record<string, unknown> = { instanceActions: rows.map((a) => format(ctx, a)) };
        if (v.atLeast("2.58") && ctx.q("limit") !== undefined && rows.length === limit && limit > 0) {
          const params = new URLSearchParams();
          for (const [k, val] of Object.entries(ctx.query)) if (k !== "marker" && typeof val === "string") params.set(k, val);
          params.set("marker", rows[rows.length - 1]!.request_id);
          body["links"] = [{ rel: "next", href: `${ctx.serviceUrl}/v2.1/servers/${inst.uuid}/os-instance-actions?${params.toString()}` }];
        }
        return { body };
      },
    },
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/os-instance-actions/:request_id",
      operation: "showInstanceAction",
      policy: "os_compute_api:os-instance-actions:show",
      handler: async (ctx) => {
        const v = ctx.version!;
        const inst = await instanceOf(ctx);
        const target = { project_id: inst.project_id };
        ctx.enforce("os_compute_api:os-instance-actions:show", target);
        const rid = ctx.params["request_id"]!;
        const a = (await db().selectFrom("cmp_instance_action").selectAll().where("instance_uuid", "=", inst.uuid).where("request_id", "=", rid).executeTakeFirst()) as ActionRow | undefined;
        if (!a) throw new NotFound(`Action ${rid} not found`);
        const action = format(ctx, a);
        let showEvents = false;
        let showTraceback = false;
        let showHost = false;
        if (ctx.allowed("os_compute_api:os-instance-actions:events", target)) {
          showEvents = showTraceback = true;
          showHost = v.atLeast("2.62");
        } else if (v.atLeast("2.51")) {
          showEvents = true;
        }
        const showHostId = v.atLeast("2.62");
        if (showEvents) {
          const showDetails = v.atLeast("2.84") && ctx.allowed("os_compute_api:os-instance-actions:events:details", target);
          const events = await db().selectFrom("cmp_instance_action_event").selectAll().where("action_id", "=", a.id).orderBy("start_time", "desc").orderBy("id", "desc").execute();
          action["events"] = events.map((e) => {
            const out: Record<string, unknown> = {
              event: e.event,
              start_time: isoMicroNaive(e.start_time),
              finish_time: isoMicroNaive(e.finish_time),
              result: e.result,
            };
            if (showTraceback) out["traceback"] = e.traceback;
            if (showHost) out["host"] = e.host;
            if (showHostId) out["hostId"] = hostIdOf(e.host, a.project_id || inst.project_id);
            if (showDetails) out["details"] = e.details;
            return out;
          });
        }
        return { body: { instanceAction: action } };
      },
    },
  ];
}
