import type { RequestContext, Route } from "../../../http/context.js";
import type { NetworkProxy } from "../manager/proxies-network.js";
import { isObject } from "./fleet-validate.js";
import { MAX_PROXY } from "./images.js";
import { fromBody } from "./os-security-groups.js";
import { serverCaller } from "./server-common.js";

/** os-security-group-rules (SecurityGroupRulesController): create and delete only. */
export function securityGroupRuleRoutes(net: NetworkProxy): Route[] {
  const own = (ctx: RequestContext) => ({ project_id: ctx.caller.projectId });
  return [
    {
      method: "POST",
      path: "/v2.1/os-security-group-rules",
      operation: "createSecurityGroupRule",
      policy: "os_compute_api:os-security-groups:rule:create",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-security-groups:rule:create", own(ctx));
        const r = fromBody(ctx.body, "security_group_rule");
        const get = (k: string) => (isObject(r) ? r[k] : undefined);
        const rule = await net.createRule(serverCaller(ctx), {
          parent_group_id: get("parent_group_id"),
          group_id: get("group_id"),
          ip_protocol: get("ip_protocol"),
          from_port: get("from_port"),
          to_port: get("to_port"),
          cidr: get("cidr"),
        });
        return { body: { security_group_rule: rule } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/os-security-group-rules/:id",
      operation: "deleteSecurityGroupRule",
      policy: "os_compute_api:os-security-groups:rule:delete",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-security-groups:rule:delete", own(ctx));
        await net.deleteRule(serverCaller(ctx), ctx.params["id"]!);
        return { status: 202 };
      },
    },
  ];
}
