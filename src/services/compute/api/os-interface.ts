import { isIP } from "node:net";
import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { ServerManager } from "../manager/servers.js";
import type { Compute } from "./deps.js";
import { invalidField, isObject, noAdditional, pyRepr } from "./fleet-validate.js";
import { serverCaller } from "./server-common.js";

const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

/** attach_interfaces.py _translate_interface_attachment_view. */
function view(ctx: RequestContext, port: Record<string, unknown>, tag: string | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {
    net_id: port["network_id"],
    port_id: port["id"],
    mac_addr: port["mac_address"],
    port_state: port["status"],
    fixed_ips: port["fixed_ips"] ?? null,
  };
  if (ctx.version!.atLeast("2.70")) out["tag"] = tag ?? null;
  return out;
}

export function interfaceRoutes(c: Compute, mgr: ServerManager): Route[] {
  return [
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/os-interface",
      operation: "listPortInterfaces",
      policy: "os_compute_api:os-attach-interfaces:list",
      handler: async (ctx) => {
        const inst = await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:os-attach-interfaces:list", { project_id: inst.project_id });
        const ports = await c.network.listPorts(`device_id=${inst.uuid}`, ctx.caller.tokenId);
        const tags = new Map(inst.network_info.map((v) => [v.port_id, v.tag]));
        return { body: { interfaceAttachments: ports.map((p) => view(ctx, p, tags.get(p.id))) } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/os-interface/:port_id",
      operation: "showPortInterface",
      policy: "os_compute_api:os-attach-interfaces:show",
      handler: async (ctx) => {
        const inst = await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:os-attach-interfaces:show", { project_id: inst.project_id });
        const id = ctx.params["port_id"]!;
        const port = await c.network.getPort(id, ctx.caller.tokenId);
        if (!port) throw new NotFound(`Port id ${id} could not be found.`);
        if (port["device_id"] !== inst.uuid) throw new NotFound(`Instance ${inst.uuid} does not have a port with id ${id}`);
        return { body: { interfaceAttachment: view(ctx, port, inst.network_info.find((v) => v.port_id === id)?.tag) } };
      },
    },
    {
      method: "POST",
      path: "/v2.1/servers/:server_id/os-interface",
      operation: "createInterface",
      policy: "os_compute_api:os-attach-interfaces:create",
      handler: async (ctx) => {
        const b = ctx.body ?? {};
        if (!isObject(b)) throw new BadRequest(`${pyRepr(b)} is not of type 'object'`);
        noAdditional(b, ["interfaceAttachment"], undefined);
        const a = b["interfaceAttachment"] ?? {};
        if (!isObject(a)) throw invalidField("interfaceAttachment", a, `${pyRepr(a)} is not of type 'object'`);
        const keys = ["net_id", "port_id", "fixed_ips"];
        if (ctx.version!.atLeast("2.49")) keys.push("tag");
        noAdditional(a, keys, "interfaceAttachment");
        for (const k of ["net_id", "port_id"]) {
          const v = a[k];
          if (v !== undefined && (typeof v !== "string" || !UUID.test(v))) throw invalidField(k, v, `${pyRepr(v)} is not a 'uuid'`);
        }
        let fixedIp: string | undefined;
        if (a["fixed_ips"] !== undefined) {
          const l = a["fixed_ips"];
          if (!Array.isArray(l) || l.length !== 1 || !isObject(l[0])) throw invalidField("fixed_ips", l, `${pyRepr(l)} is not valid under any of the given schemas`);
          noAdditional(l[0], ["ip_address"], "fixed_ips");
          const ip = l[0]["ip_address"];
          if (typeof ip !== "string" || isIP(ip) === 0) throw invalidField("ip_address", ip, `${pyRepr(ip)} is not valid under any of the given schemas`);
          fixedIp = ip;
        }
        let tag: string | null = null;
        if (a["tag"] !== undefined) {
          const t = a["tag"];
          if (typeof t !== "string" || t.length < 1 || t.length > 60 || /[,/]/.test(t)) throw invalidField("tag", t, `${pyRepr(t)} is not a valid tag`);
          tag = t;
        }
        const netId = a["net_id"] as string | undefined;
        const portId = a["port_id"] as string | undefined;
        const caller = serverCaller(ctx);
        const inst = await c.instances.get(caller, ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:os-attach-interfaces:create", { project_id: inst.project_id });
        if (netId && portId) throw new BadRequest("Must not input both network_id and port_id");
        if (fixedIp && !netId) throw new BadRequest("Must input network_id when request IP address");
        const req: Parameters<ServerManager["attachInterface"]>[2] = { tag };
        if (netId) req.netId = netId;
        if (portId) req.portId = portId;
        if (fixedIp) req.fixedIp = fixedIp;
        const port = await mgr.attachInterface(caller, inst, req);
        return { body: { interfaceAttachment: view(ctx, port, tag) } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/servers/:server_id/os-interface/:port_id",
      operation: "deletePortInterface",
      policy: "os_compute_api:os-attach-interfaces:delete",
      handler: async (ctx) => {
        const caller = serverCaller(ctx);
        const inst = await c.instances.get(caller, ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:os-attach-interfaces:delete", { project_id: inst.project_id });
        await mgr.detachInterface(caller, inst, ctx.params["port_id"]!);
        return { status: 202 };
      },
    },
  ];
}
