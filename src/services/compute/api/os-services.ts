import { BadRequest, Conflict, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { FleetSnapshot, HostManager, ServiceRow } from "../manager/hosts.js";
import type { Compute } from "./deps.js";
import { boolField, invalidField, isObject, noAdditional, pyRepr, required } from "./fleet-validate.js";
import { strictQuery } from "./fleet-links.js";

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function strField(field: string, v: unknown): string {
  if (typeof v !== "string") throw invalidField(field, v, `${pyRepr(v)} is not of type 'string'`);
  if (v.length < 1) throw invalidField(field, v, `${pyRepr(v)} is too short`);
  if (v.length > 255) throw invalidField(field, v, `${pyRepr(v)} is too long`);
  return v;
}

/** os-services (services.py). */
export function serviceRoutes(c: Compute, hosts: HostManager): Route[] {
  const detail = (ctx: RequestContext, snap: FleetSnapshot, s: ServiceRow): Record<string, unknown> => {
    const out: Record<string, unknown> = {
      binary: s.binary,
      host: s.host,
      id: ctx.version!.atLeast("2.53") ? s.uuid : Number(s.id),
      zone: hosts.serviceZone(snap, s),
      status: Number(s.disabled) === 1 ? "disabled" : "enabled",
      state: hosts.serviceUp(s) ? "up" : "down",
      // The servicegroup heartbeat: a live service reports now, a dead one its last update.
      updated_at: hosts.serviceUp(s) ? c.clock.now().toISOString().replace(/\.(\d{3})Z$/, ".$1000") : s.updated_at,
      disabled_reason: s.disabled_reason,
    };
    if (ctx.version!.atLeast("2.11")) out["forced_down"] = Number(s.forced_down) === 1;
    return out;
  };
  return [
    {
      method: "GET",
      path: "/v2.1/os-services",
      operation: "listComputeServices",
      policy: "os_compute_api:os-services:list",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-services:list", {});
        if (ctx.version!.atLeast("2.75")) {
          const bad = strictQuery(ctx, ["host", "binary"]);
          if (bad) throw new BadRequest(bad);
        }
        const snap = await hosts.snapshot();
        const host = ctx.q("host");
        const binary = ctx.q("binary");
        const rows = snap.services.filter((s) => (!host || s.host === host) && (!binary || s.binary === binary));
        return { body: { services: rows.map((s) => detail(ctx, snap, s)) } };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/os-services/:service_id",
      operation: "updateComputeService",
      policy: "os_compute_api:os-services:update",
      handler: async (ctx) => {
        const v = ctx.version!;
        const id = ctx.params["service_id"]!;
        const body = ctx.body;
        if (!v.atLeast("2.53")) {
          // Legacy actions: PUT /os-services/{enable|disable|disable-log-reason|force-down}, host + binary in the body.
          if (!isObject(body)) throw new BadRequest(`${pyRepr(body)} is not of type 'object'`);
          required(body, ["host", "binary"], "");
          noAdditional(body, v.atLeast("2.11") ? ["host", "binary", "disabled_reason", "forced_down"] : ["host", "binary", "disabled_reason"], undefined);
          const host = strField("host", body["host"]);
          const binary = strField("binary", body["binary"]);
          if (body["disabled_reason"] !== undefined) strField("disabled_reason", body["disabled_reason"]);
          if (body["forced_down"] !== undefined) boolField("forced_down", body["forced_down"]);
          ctx.enforce("os_compute_api:os-services:update", {});
          const actions = ["enable", "disable", "disable-log-reason", ...(v.atLeast("2.11") ? ["force-down"] : [])];
          if (!actions.includes(id)) throw new NotFound("Unknown action");
          if (id === "force-down") {
            if (body["forced_down"] === undefined) throw new BadRequest("Missing forced_down field");
            const fd = boolField("forced_down", body["forced_down"]);
            await hosts.updateByHostBinary(host, binary, { forced_down: fd ? 1 : 0 });
            return { body: { service: { host, binary, forced_down: fd } } };
          }
          if (id === "enable") {
            await hosts.updateByHostBinary(host, binary, { disabled: 0, disabled_reason: null });
            return { body: { service: { host, binary, status: "enabled" } } };
          }
          let reason: string | null = null;
          if (id === "disable-log-reason") {
            if (body["disabled_reason"] === undefined) throw new BadRequest("Missing disabled reason field");
            reason = body["disabled_reason"] as string;
          }
          await hosts.updateByHostBinary(host, binary, { disabled: 1, disabled_reason: reason });
          const out: Record<string, unknown> = { host, binary, status: "disabled" };
          if (reason) out["disabled_reason"] = reason;
          return { body: { service: out } };
        }
        if (!isObject(body)) throw new BadRequest(`${pyRepr(body)} is not of type 'object'`);
        noAdditional(body, ["status", "disabled_reason", "forced_down"], undefined);
        if (body["status"] !== undefined && body["status"] !== "enabled" && body["status"] !== "disabled") {
          throw invalidField("status", body["status"], `${pyRepr(body["status"])} is not one of ['enabled', 'disabled']`);
        }
        if (body["disabled_reason"] !== undefined) strField("disabled_reason", body["disabled_reason"]);
        const fd = body["forced_down"] === undefined ? undefined : boolField("forced_down", body["forced_down"]);
        if (!UUID_RE.test(id)) throw new BadRequest(`Invalid uuid ${id}`);
        ctx.enforce("os_compute_api:os-services:update", {});
        const svc = await hosts.serviceByKey(id.toLowerCase(), true);
        if (svc.binary !== "nova-compute") throw new BadRequest(`Updating a ${svc.binary} service is not supported. Only nova-compute services can be updated.`);
        const changes: Partial<Pick<ServiceRow, "disabled" | "disabled_reason" | "forced_down">> = {};
        if (body["status"] === "enabled") {
          if (body["disabled_reason"]) throw new BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
          changes.disabled = 0;
          changes.disabled_reason = null;
        } else if (body["status"] === "disabled") {
          changes.disabled = 1;
          changes.disabled_reason = (body["disabled_reason"] as string | undefined) ?? null;
        }
        if (fd !== undefined) changes.forced_down = fd ? 1 : 0;
        if (Object.keys(changes).length === 0) throw new BadRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
        const row = await hosts.updateService(Number(svc.id), changes);
        return { body: { service: detail(ctx, await hosts.snapshot(), row) } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/os-services/:service_id",
      operation: "deleteComputeService",
      policy: "os_compute_api:os-services:delete",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-services:delete", {});
        const id = ctx.params["service_id"]!;
        const byUuid = ctx.version!.atLeast("2.53");
        if (byUuid && !UUID_RE.test(id)) throw new BadRequest(`Invalid uuid ${id}`);
        if (!byUuid && !/^-?\d+$/.test(id)) throw new BadRequest(`id must be an integer`);
        let svc: ServiceRow;
        try {
          svc = await hosts.serviceByKey(byUuid ? id.toLowerCase() : String(Number(id)), byUuid);
        } catch {
          throw new NotFound(`Service ${id} not found.`);
        }
        if (svc.binary === "nova-compute" && c.servers) {
          const on = await c.servers.onHosts([svc.host]);
          if ((on.get(svc.host)?.length ?? 0) > 0) {
            throw new Conflict("Unable to delete compute service that is hosting instances. Migrate or delete the instances first.");
          }
        }
        await hosts.deleteService(svc);
        return { status: 204 };
      },
    },
  ];
}
