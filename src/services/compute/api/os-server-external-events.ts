import { BadRequest } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { ServerActionManager } from "../manager/server-actions.js";
import { invalidField, isObject, noAdditional, pyRepr, required } from "./fleet-validate.js";
import { serverCaller } from "./server-common.js";

/**
 * POST /os-server-external-events (Neutron and Cinder tell Nova about ports and volumes), as
 * nova/api/openstack/compute/server_external_events.py: each event answered with a code
 * (200 accepted, 404 unknown instance, 400 a required tag missing, 422 instance not on a
 * host; those are "failed"); the response is 200 when all were accepted, else 207.
 */

const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const STATUSES = ["failed", "completed", "in-progress"];

export function externalEventRoutes(actions: ServerActionManager): Route[] {
  return [
    {
      method: "POST",
      path: "/v2.1/os-server-external-events",
      operation: "createExternalEvents",
      policy: "os_compute_api:os-server-external-events:create",
      handler: async (ctx) => {
        const v = ctx.version!;
        ctx.enforce("os_compute_api:os-server-external-events:create", {});
        const body = ctx.body;
        if (!isObject(body)) throw new BadRequest(`${pyRepr(body)} is not of type 'object'`);
        if (!("events" in body)) throw new BadRequest("'events' is a required property");
        noAdditional(body, ["events"], undefined);
        const evs = body["events"];
        if (!Array.isArray(evs)) throw invalidField("events", evs, `${pyRepr(evs)} is not of type 'array'`);
        if (evs.length < 1) throw invalidField("events", evs, `${pyRepr(evs)} is too short`);
        const names = ["network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted"];
        if (v.atLeast("2.51")) names.push("volume-extended");
        if (v.atLeast("2.76")) names.push("power-update");
        if (v.atLeast("2.82")) names.push("accelerator-request-bound");
        if (v.atLeast("2.93")) names.push("volume-reimaged");
        const events: Array<{ name: string; server_uuid: string; status: string; tag?: string }> = [];
        for (const [i, e] of evs.entries()) {
          const field = `events/${i}`;
          if (!isObject(e)) throw invalidField(field, e, `${pyRepr(e)} is not of type 'object'`);
          required(e, ["server_uuid", "name"], field);
          noAdditional(e, ["server_uuid", "name", "status", "tag"], field);
          const su = e["server_uuid"];
          if (typeof su !== "string") throw invalidField(`${field}/server_uuid`, su, `${pyRepr(su)} is not of type 'string'`);
          if (!UUID.test(su)) throw invalidField(`${field}/server_uuid`, su, `${pyRepr(su)} is not a 'uuid'`);
          const n = e["name"];
          if (typeof n !== "string" || !names.includes(n)) throw invalidField(`${field}/name`, n, `${pyRepr(n)} is not one of [${names.map((x) => `'${x}'`).join(", ")}]`);
          const st = e["status"] ?? "completed";
          if (typeof st !== "string" || !STATUSES.includes(st)) throw invalidField(`${field}/status`, st, `${pyRepr(st)} is not one of ['failed', 'completed', 'in-progress']`);
          const out: { name: string; server_uuid: string; status: string; tag?: string } = { name: n, server_uuid: su, status: st };
          if (e["tag"] !== undefined) {
            const t = e["tag"];
            if (typeof t !== "string") throw invalidField(`${field}/tag`, t, `${pyRepr(t)} is not of type 'string'`);
            if (t.length > 255) throw invalidField(`${field}/tag`, t, `${pyRepr(t)} is too long`);
            out.tag = t;
          }
          events.push(out);
        }
        const caller = serverCaller(ctx);
        const results = await actions.externalEvents(events, { requestId: caller.requestId, userId: caller.userId, projectId: caller.projectId });
        return { status: results.every((r) => r.code === 200) ? 200 : 207, body: { events: results } };
      },
    },
  ];
}
