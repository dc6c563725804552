import { isIP } from "node:net";
import { BadRequest } from "../../../common/errors.js";
import type { Reply, RequestContext } from "../../../http/context.js";
import type { NetworkProxy } from "../manager/proxies-network.js";
import type { Instance } from "../store/servers.js";
import { invalidField, isObject, noAdditional, pyRepr, required } from "./fleet-validate.js";
import { serverCaller } from "./server-common.js";

/** One POST /servers/{id}/action handler, keyed by its action name (the shape of server-actions.ts's table). */
export interface ServerActionHandler {
  /** The highest microversion the action exists at (above: 404, Nova's VersionNotFoundForAPIMethod). */
  max?: string;
  handler(ctx: RequestContext, find: () => Promise<Instance>, body: unknown): Promise<Reply>;
}

/** SecurityGroupActionController._parse. */
function groupName(body: unknown, action: string): string {
  const inner = isObject(body) ? body[action] : undefined;
  if (!isObject(inner)) throw new BadRequest("Missing parameter dict");
  if (!("name" in inner)) throw new BadRequest("Security group not specified");
  const name = inner["name"];
  if (typeof name !== "string" || name.trim() === "") throw new BadRequest("Security group name cannot be empty");
  return name;
}

/** parameter_types.ip_address (ipv4 or ipv6 format). */
function ipAddress(field: string, v: unknown): string {
  if (typeof v !== "string" || isIP(v) === 0) throw invalidField(field, v, `${pyRepr(v)} is not valid under any of the given schemas`);
  return v;
}

/** schemas/floating_ips.py add_floating_ip / remove_floating_ip. */
function floatingBody(body: unknown, action: "addFloatingIp" | "removeFloatingIp"): { address: string; fixed_address?: string } {
  const inner = isObject(body) ? body[action] : undefined;
  if (!isObject(inner)) throw invalidField(action, inner, `${pyRepr(inner)} is not of type 'object'`);
  required(inner, ["address"], action);
  noAdditional(inner, action === "addFloatingIp" ? ["address", "fixed_address"] : ["address"], action);
  const out: { address: string; fixed_address?: string } = { address: ipAddress("address", inner["address"]) };
  if (inner["fixed_address"] !== undefined) out.fixed_address = ipAddress("fixed_address", inner["fixed_address"]);
  return out;
}

/**
 * The server actions the proxy APIs own: add/removeSecurityGroup (every microversion) and
 * add/removeFloatingIp (deprecated at 2.44), as security_groups.py and floating_ips.py.
 */
export function proxyServerActions(net: NetworkProxy): Record<string, ServerActionHandler> {
  return {
    addSecurityGroup: {
      async handler(ctx, find) {
        const caller = serverCaller(ctx);
        const inst = await find();
        ctx.enforce("os_compute_api:os-security-groups:add", { project_id: inst.project_id });
        await net.addToInstance(caller, inst, groupName(ctx.body, "addSecurityGroup"));
        return { status: 202 };
      },
    },
    removeSecurityGroup: {
      async handler(ctx, find) {
        const caller = serverCaller(ctx);
        const inst = await find();
        ctx.enforce("os_compute_api:os-security-groups:remove", { project_id: inst.project_id });
        await net.removeFromInstance(caller, inst, groupName(ctx.body, "removeSecurityGroup"));
        return { status: 202 };
      },
    },
    addFloatingIp: {
      max: "2.43",
      async handler(ctx, find) {
        const b = floatingBody(ctx.body, "addFloatingIp");
        const caller = serverCaller(ctx);
        const inst = await find();
        ctx.enforce("os_compute_api:os-floating-ips:add", { project_id: inst.project_id });
        await net.associate(caller, inst, ctx.params["server_id"]!, b.address, b.fixed_address);
        return { status: 202 };
      },
    },
    removeFloatingIp: {
      max: "2.43",
      async handler(ctx) {
        const b = floatingBody(ctx.body, "removeFloatingIp");
        // Nova looks up the instance behind the address, never the one in the URL.
        await net.disassociate(serverCaller(ctx), ctx.params["server_id"]!, b.address, (target) => ctx.enforce("os_compute_api:os-floating-ips:remove", target));
        return { status: 202 };
      },
    },
  };
}
