import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { ServicesManager } from "../manager/services.js";
import { invalidField, isObject, noAdditional, pyRepr } from "./catalog-validate.js";
import { cinderTime } from "./common.js";
import { own } from "./types.js";

const HOST_RE = /^[a-zA-Z0-9-._#@:/+[\]]*$/;

function strField(name: string, v: unknown, min: number, max: number, nullable = false): string | null {
  if (v === null && nullable) return null;
  if (typeof v !== "string") throw invalidField(name, v, `${pyRepr(v)} is not of type ${nullable ? "'string', 'null'" : "'string'"}`);
  if (v.length < min) throw invalidField(name, v, `${pyRepr(v)} is too short`);
  if (v.length > max) throw invalidField(name, v, `${pyRepr(v)} is too long`);
  return v;
}

/** parameter_types.cinder_host. */
function hostField(v: unknown): string | null {
  const h = strField("host", v, 1, 255, true);
  if (h !== null && !HOST_RE.test(h)) throw invalidField("host", h, `${pyRepr(h)} does not match '^[a-zA-Z0-9-._#@:/+\\[\\]]*$'`);
  return h;
}

function bodyOf(ctx: RequestContext): Record<string, unknown> {
  const b = ctx.body ?? {};
  if (!isObject(b)) throw new BadRequest(`${pyRepr(b)} is not of type 'object'`);
  return b;
}

/** schemas/services.py enable_and_disable (+ disabled_reason): host/binary/service/cluster. */
function enableBody(b: Record<string, unknown>, withReason: boolean): { host: string; binary: string; service: string; reason?: string } {
  noAdditional(b, withReason ? ["binary", "host", "cluster", "service", "disabled_reason"] : ["binary", "host", "cluster", "service"], undefined);
  if (b["binary"] !== undefined) strField("binary", b["binary"], 1, 255);
  if (b["service"] !== undefined) strField("service", b["service"], 1, 255);
  if (b["host"] !== undefined) hostField(b["host"]);
  if (b["cluster"] !== undefined) strField("cluster", b["cluster"], 0, 255, true);
  let reason: string | undefined;
  if (withReason && b["disabled_reason"] !== undefined) {
    reason = strField("disabled_reason", b["disabled_reason"], 1, 255)!;
    if (reason.trim().length === 0) throw new BadRequest("Invalid input received: disabled_reason has 0 characters, less than 1.");
  }
  if (b["binary"] === undefined && b["service"] === undefined) throw new BadRequest(`${pyRepr(b)} is not valid under any of the given schemas`);
  const host = b["host"];
  if (!host) throw new BadRequest("Invalid input received: Host field is missing.");
  const out: { host: string; binary: string; service: string; reason?: string } = {
    host: host as string,
    binary: (b["binary"] as string | undefined) ?? "",
    service: (b["service"] as string | undefined) ?? "",
  };
  if (reason !== undefined) out.reason = reason;
  return out;
}

/** freeze_and_thaw: {host} (cluster only from 3.26, which Stackbox has no clusters for). */
function freezeBody(ctx: RequestContext, b: Record<string, unknown>): string {
  noAdditional(b, ["cluster", "host"], undefined);
  const host = b["host"] === undefined ? null : hostField(b["host"]);
  const cluster = b["cluster"] === undefined ? null : strField("cluster", b["cluster"], 0, 255, true);
  const clustered = ctx.version!.atLeast("3.26");
  if (clustered && Boolean(cluster) === Boolean(host)) throw new BadRequest("Invalid input received: One and only one of cluster and host must be set.");
  if (!host) {
    if (clustered) throw new BadRequest(`No service found with cluster=${cluster}`);
    throw new BadRequest("Invalid input received: Host field is missing.");
  }
  return host;
}

/** cinder/api/contrib/services.py: GET /os-services and PUT /os-services/{action}. */
export function servicesRoutes(services: ServicesManager): Route[] {
  return [
    {
      method: "GET",
      path: "/os-services",
      operation: "listServices",
      policy: "volume_extension:services:index",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:services:index", own(ctx));
        const v = ctx.version!;
        const rows = await services.list({ host: ctx.q("host"), binary: ctx.q("binary") });
        const out = rows.map((s) => {
          const r: Record<string, unknown> = {
            binary: s.binary,
            host: s.host,
            zone: s.availability_zone,
            status: s.disabled ? "disabled" : "enabled",
            // Stackbox's services run in this process: their heartbeat never lapses.
            state: "up",
            updated_at: cinderTime(s.updated_at ?? s.created_at),
          };
          if (v.atLeast("3.49") && s.binary === "cinder-volume") r["backend_state"] = "up";
          if (v.atLeast("3.7")) r["cluster"] = null;
          r["disabled_reason"] = s.disabled_reason;
          if (s.binary === "cinder-volume") {
            r["replication_status"] = "disabled";
            r["active_backend_id"] = null;
            r["frozen"] = s.frozen === 1;
          }
          return r;
        });
        return { body: { services: out } };
      },
    },
    {
      method: "PUT",
      path: "/os-services/:service_action",
      operation: "updateService",
      policy: "volume_extension:services:update",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:services:update", own(ctx));
        const action = ctx.params["service_action"]!;
        const b = bodyOf(ctx);
        if (action === "enable" || action === "disable" || action === "disable-log-reason") {
          const p = enableBody(b, action === "disable-log-reason");
          const disabled = action !== "enable";
          const binary = p.binary || p.service;
          const ret: Record<string, unknown> = {};
          if (action === "disable-log-reason") {
            await services.setDisabled(p.host, binary, true, p.reason ?? null);
            ret["disabled_reason"] = p.reason ?? null;
          } else await services.setDisabled(p.host, binary, disabled);
          Object.assign(ret, { disabled, host: p.host, service: p.service, binary: p.binary, status: disabled ? "disabled" : "enabled" });
          return { body: ret };
        }
        if (action === "freeze" || action === "thaw") {
          const host = freezeBody(ctx, b);
          ctx.enforce(action === "freeze" ? "volume:freeze_host" : "volume:thaw_host", own(ctx));
          await services.setFrozen(host, action === "freeze");
          return { status: 200 };
        }
        throw new BadRequest("Invalid input received: Unknown action");
      },
    },
  ];
}
