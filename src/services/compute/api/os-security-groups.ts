import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { NetworkProxy } from "../manager/proxies-network.js";
import { sortGroups } from "../manager/proxies-network.js";
import type { Compute } from "./deps.js";
import { invalidQuery, isObject } from "./fleet-validate.js";
import { MAX_LIMIT } from "./fleet-links.js";
import { MAX_PROXY } from "./images.js";
import { serverCaller } from "./server-common.js";

/** SecurityGroupControllerBase._from_body. */
export function fromBody(body: unknown, key: string): unknown {
  if (body === undefined || body === null || (isObject(body) && Object.keys(body).length === 0) || body === "" || (Array.isArray(body) && body.length === 0)) {
    throw new BadRequest("The request body can't be empty");
  }
  const v = isObject(body) ? body[key] : undefined;
  if (v === undefined || v === null) throw new BadRequest(`Missing parameter ${key}`);
  return v;
}

/** utils.check_string_length(value, name, 0, 255) as security_group_api.validate_property calls it. */
function checkLength(v: unknown, name: string): string {
  if (typeof v !== "string") throw new BadRequest(`${name} is not a string or unicode`);
  if (v.length > 255) throw new BadRequest(`${name} has ${v.length} characters, more than 255.`);
  return v;
}

/** The name and description of a create/update body (neither may be missing). */
function groupFields(body: unknown): { name: string; description: string } {
  const sg = fromBody(body, "security_group");
  const get = (k: string) => (isObject(sg) ? sg[k] : undefined);
  return { name: checkLength(get("name"), "name"), description: checkLength(get("description"), "description") };
}

/** index_query: limit/offset non-negative integers (each repeated value checked); other parameters pass. */
export function pageParams(ctx: RequestContext): { limit: number; offset: number } {
  const out = { limit: 0, offset: 0 };
  for (const name of ["limit", "offset"] as const) {
    const raw = ctx.query[name];
    if (raw === undefined) continue;
    const values = Array.isArray(raw) ? raw : [raw];
    for (const v of values) {
      if (!/^[0-9]*$/.test(v)) throw invalidQuery(name, v, `'${v}' does not match '^[0-9]*$'`);
      if (v === "") throw invalidQuery(name, v, "'' is too short");
    }
    // common.get_pagination_params reads the last value.
    out[name] = Number(values[values.length - 1]);
  }
  return out;
}

/** os-security-groups (security_groups.py SecurityGroupController) and GET /servers/{id}/os-security-groups. */
export function securityGroupRoutes(c: Compute, net: NetworkProxy): Route[] {
  const own = (ctx: RequestContext) => ({ project_id: ctx.caller.projectId });
  return [
    {
      method: "GET",
      path: "/v2.1/os-security-groups",
      operation: "listSecurityGroups",
      policy: "os_compute_api:os-security-groups:get",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        const page = pageParams(ctx);
        ctx.enforce("os_compute_api:os-security-groups:get", own(ctx));
        const caller = serverCaller(ctx);
        const groups = await net.listGroups(caller, ctx.query["all_tenants"] !== undefined);
        const limit = Math.min(MAX_LIMIT, page.limit || MAX_LIMIT);
        const shown = groups.slice(page.offset, page.offset + limit);
        return { body: { security_groups: sortGroups(await net.formatGroups(caller, shown)) } };
      },
    },
    {
      method: "POST",
      path: "/v2.1/os-security-groups",
      operation: "createSecurityGroup",
      policy: "os_compute_api:os-security-groups:create",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-security-groups:create", own(ctx));
        const { name, description } = groupFields(ctx.body);
        const caller = serverCaller(ctx);
        const g = await net.createGroup(caller, name, description);
        return { body: { security_group: (await net.formatGroups(caller, [g]))[0] } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-security-groups/:id",
      operation: "showSecurityGroup",
      policy: "os_compute_api:os-security-groups:show",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-security-groups:show", own(ctx));
        const caller = serverCaller(ctx);
        const g = await net.getGroup(caller, net.validateId(ctx.params["id"]));
        return { body: { security_group: (await net.formatGroups(caller, [g]))[0] } };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/os-security-groups/:id",
      operation: "updateSecurityGroup",
      policy: "os_compute_api:os-security-groups:update",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-security-groups:update", own(ctx));
        const caller = serverCaller(ctx);
        const g = await net.getGroup(caller, net.validateId(ctx.params["id"]));
        const { name, description } = groupFields(ctx.body);
        const updated = await net.updateGroup(caller, g, name, description);
        return { body: { security_group: (await net.formatGroups(caller, [updated]))[0] } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/os-security-groups/:id",
      operation: "deleteSecurityGroup",
      policy: "os_compute_api:os-security-groups:delete",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-security-groups:delete", own(ctx));
        const caller = serverCaller(ctx);
        const g = await net.getGroup(caller, net.validateId(ctx.params["id"]));
        await net.deleteGroup(caller, g);
        return { status: 202 };
      },
    },
    {
      // ServerSecurityGroupController.index: no microversion cap.
      method: "GET",
      path: "/v2.1/servers/:server_id/os-security-groups",
      operation: "listSecurityGroupsByServer",
      policy: "os_compute_api:os-security-groups:list",
      handler: async (ctx) => {
        const caller = serverCaller(ctx);
        const inst = await c.instances.get(caller, ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:os-security-groups:list", { project_id: inst.project_id });
        return { body: { security_groups: await net.instanceGroups(caller, inst) } };
      },
    },
  ];
}
