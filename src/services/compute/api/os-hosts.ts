import { BadRequest, NotFound, NotImplemented } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import { fleetOf } from "../fleet.js";
import type { Compute } from "./deps.js";
import { invalidField, isObject, noAdditional, pyRepr } from "./fleet-validate.js";

const MODES = ["enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"];

/**
 * os-hosts (hosts.py), deprecated at 2.43. Listing and showing work; enabling, maintenance
 * mode and power actions are what the libvirt driver does not implement (501), after the host
 * is looked up as Nova does.
 */
export function hostRoutes(c: Compute): Route[] {
  const hosts = fleetOf(c).hosts;
  // HostMappingNotFound: a host without a nova-compute service is in no cell.
  const exists = async (name: string) => {
    const snap = await hosts.snapshot();
    if (!snap.serviceByHost.has(name)) throw new NotFound(`Host '${name}' is not mapped to any cell`);
  };
  const power = (action: "startup" | "shutdown" | "reboot", rule: string): Route => ({
    method: "GET",
    path: `/v2.1/os-hosts/:host_name/${action}`,
    operation: `${action}Host`,
    policy: rule,
    maxVersion: "2.42",
    handler: async (ctx: RequestContext) => {
      ctx.enforce(rule, {});
      await exists(ctx.params["host_name"]!);
      throw new NotImplemented("The requested functionality is not supported.");
    },
  });
  return [
    {
      method: "GET",
      path: "/v2.1/os-hosts",
      operation: "listHosts",
      policy: "os_compute_api:os-hosts:list",
      maxVersion: "2.42",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-hosts:list", {});
        const snap = await hosts.snapshot();
        const zone = ctx.q("zone");
        const out = [];
        for (const s of snap.services) {
          if (Number(s.disabled) === 1) continue;
          const z = hosts.serviceZone(snap, s);
          if (zone && z !== zone) continue;
          out.push({ host_name: s.host, service: s.topic ?? s.binary.replace(/^nova-/, ""), zone: z });
        }
        return { body: { hosts: out } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-hosts/:host_name",
      operation: "showHostDetails",
      policy: "os_compute_api:os-hosts:show",
      maxVersion: "2.42",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-hosts:show", {});
        const name = ctx.params["host_name"]!;
        const snap = await hosts.snapshot();
        const node = snap.nodeByHost.get(name);
        if (!node || !snap.serviceByHost.has(name)) throw new NotFound(`Host '${name}' is not mapped to any cell`);
        const used = (await c.servers?.hostUsage?.([name]))?.get(name) ?? { vcpus: 0, memory_mb: 0, disk_gb: 0 };
        const r = (project: string, cpu: number, memory_mb: number, disk_gb: number) => ({ resource: { host: name, project, cpu, memory_mb, disk_gb } });
        return {
          body: {
            host: [
              r("(total)", Number(node.vcpus), Number(node.memory_mb), Number(node.local_gb)),
              r("(used_now)", used.vcpus, used.memory_mb + 512, used.disk_gb),
              r("(used_max)", used.vcpus, used.memory_mb, used.disk_gb),
            ],
          },
        };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/os-hosts/:host_name",
      operation: "updateHostStatus",
      policy: "os_compute_api:os-hosts:update",
      maxVersion: "2.42",
      handler: async (ctx) => {
        const body = ctx.body;
        if (!isObject(body)) throw new BadRequest(`${pyRepr(body)} is not of type 'object'`);
        noAdditional(body, ["status", "maintenance_mode"], undefined);
        for (const k of ["status", "maintenance_mode"]) {
          const v = body[k];
          if (v === undefined) continue;
          if (typeof v !== "string") throw invalidField(k, v, `${pyRepr(v)} is not of type 'string'`);
          if (!MODES.includes(v)) throw invalidField(k, v, `${pyRepr(v)} is not one of ${pyRepr(MODES)}`);
        }
        ctx.enforce("os_compute_api:os-hosts:update", {});
        const name = ctx.params["host_name"]!;
        // The schema's anyOf sits among the properties, so Nova accepts an empty update and echoes the host.
        if (body["status"] === undefined && body["maintenance_mode"] === undefined) return { body: { host: name } };
        await exists(name);
        throw new NotImplemented("The requested functionality is not supported.");
      },
    },
    power("startup", "os_compute_api:os-hosts:start"),
    power("shutdown", "os_compute_api:os-hosts:shutdown"),
    power("reboot", "os_compute_api:os-hosts:reboot"),
  ];
}
