import type { RequestContext, Route } from "../../../http/context.js";
import { collection } from "../views/common.js";
import { accessRuleView } from "../views/credentials.js";
import { blockDelegatedForAppCreds } from "./delegation.js";
import type { Identity } from "./deps.js";

/** /v3/users/{user_id}/access_rules[/{access_rule_id}] (keystone/api/users.py). */
export function accessRuleRoutes(id: Identity): Route[] {
  const { appCreds, users } = id;

  /** Keystone's target is the user of the path, when it exists. */
  const enforce = async (ctx: RequestContext, rule: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const userId = ctx.params["user_id"]!;
    const u = await users.findUser(userId);
    ctx.enforce(rule, { ...ctx.params, ...extra, ...(u ? { target: { user: { id: u.id, domain_id: u.domain_id } } } : {}) });
    blockDelegatedForAppCreds(ctx.caller);
    return userId;
  };

  return [
    {
      method: "GET",
      path: "/v3/users/:user_id/access_rules",
      operation: "listAccessRules",
      policy: "identity:list_access_rules",
      handler: async (ctx) => {
        const f: { service?: string; path?: string; method?: string } = {};
        for (const k of ["service", "path", "method"] as const) {
          const v = ctx.q(k);
          if (v !== undefined) f[k] = v;
        }
        const userId = await enforce(ctx, "identity:list_access_rules", Object.keys(f).length > 0 ? { filter_attr: f } : {});
        const list = await appCreds.listAccessRules(userId, f);
        return { body: collection(ctx, "access_rules", list.map((r) => accessRuleView(ctx, r))) };
      },
    },
    {
      method: "GET",
      path: "/v3/users/:user_id/access_rules/:access_rule_id",
      operation: "showAccessRule",
      policy: "identity:get_access_rule",
      handler: async (ctx) => {
        const userId = await enforce(ctx, "identity:get_access_rule");
        const r = await appCreds.getAccessRule(userId, ctx.params["access_rule_id"]!);
        return { body: { access_rule: accessRuleView(ctx, r) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/users/:user_id/access_rules/:access_rule_id",
      operation: "deleteAccessRule",
      policy: "identity:delete_access_rule",
      handler: async (ctx) => {
        const userId = await enforce(ctx, "identity:delete_access_rule");
        await appCreds.deleteAccessRule(userId, ctx.params["access_rule_id"]!);
        return { status: 204 };
      },
    },
  ];
}
