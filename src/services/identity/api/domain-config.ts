import type { CloudError } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Identity } from "./deps.js";

/** Keystone passes the view args as the target of every domain config rule. */
const target = (ctx: RequestContext): Record<string, unknown> => {
  const t: Record<string, unknown> = {};
  for (const k of ["domain_id", "group", "option"]) if (ctx.params[k] !== undefined) t[k] = ctx.params[k];
  return t;
};

/** `{"config": {...}}` as Keystone reads it: a missing key is an empty config. */
const configBody = (ctx: RequestContext): unknown => {
  const b = ctx.body;
  if (typeof b === "object" && b !== null && !Array.isArray(b)) return (b as Record<string, unknown>)["config"] ?? {};
  return {};
};

export function domainConfigRoutes(id: Identity): Route[] {
  const { resources, domainConfig } = id;

  /**
   * GET /v3/domains/{id}/config[/{group}[/{option}]]. Keystone enforces (and reads the config)
   * before it reports a missing domain, so a caller cannot probe which domains exist; the
   * security_compliance group is readable by anyone with a token.
   */
  const show = async (ctx: RequestContext) => {
    const domainId = ctx.params["domain_id"]!;
    const group = ctx.params["group"];
    const option = ctx.params["option"];
    let missing: CloudError | undefined;
    try {
      await resources.getDomain(domainId);
    } catch (e) {
      missing = e as CloudError;
    }
    let config: Record<string, unknown>;
    if (group === "security_compliance") {
      ctx.enforce("identity:get_security_compliance_domain_config", target(ctx));
      config = domainConfig.securityCompliance(domainId, option);
    } else {
      ctx.enforce("identity:get_domain_config", target(ctx));
      config = await domainConfig.getConfig(domainId, group, option);
    }
    if (missing) throw missing;
    return { body: { config } };
  };

  const update = async (ctx: RequestContext) => {
    ctx.enforce("identity:update_domain_config", target(ctx));
    const d = await resources.getDomain(ctx.params["domain_id"]!);
    const config = await domainConfig.updateConfig(d.id, configBody(ctx), ctx.params["group"], ctx.params["option"]);
    return { body: { config } };
  };

  const remove = async (ctx: RequestContext) => {
    ctx.enforce("identity:delete_domain_config", target(ctx));
    const d = await resources.getDomain(ctx.params["domain_id"]!);
    await domainConfig.deleteConfig(d.id, ctx.params["group"], ctx.params["option"]);
    return { status: 204 };
  };

  const defaults = async (ctx: RequestContext) => {
    ctx.enforce("identity:get_domain_config_default", target(ctx));
    return { body: { config: domainConfig.defaults(ctx.params["group"], ctx.params["option"]) } };
  };

  const levels = [
    ["/v3/domains/:domain_id/config", "DomainConfig"],
    ["/v3/domains/:domain_id/config/:group", "DomainConfigGroup"],
    ["/v3/domains/:domain_id/config/:group/:option", "DomainConfigOption"],
  ] as const;

  return [
    {
      method: "PUT",
      path: "/v3/domains/:domain_id/config",
      operation: "createDomainConfig",
      policy: "identity:create_domain_config",
      handler: async (ctx) => {
        ctx.enforce("identity:create_domain_config", target(ctx));
        const d = await resources.getDomain(ctx.params["domain_id"]!);
        const { config, created } = await domainConfig.createConfig(d.id, configBody(ctx));
        return { status: created ? 201 : 200, body: { config } };
      },
    },
    ...levels.flatMap(([path, name]): Route[] => [
      { method: "GET", path, operation: `show${name}`, policy: "identity:get_domain_config", handler: show },
      { method: "PATCH", path, operation: `update${name}`, policy: "identity:update_domain_config", handler: update },
      { method: "DELETE", path, operation: `delete${name}`, policy: "identity:delete_domain_config", handler: remove },
    ]),
    {
      method: "GET",
      path: "/v3/domains/config/default",
      operation: "showDefaultDomainConfig",
      policy: "identity:get_domain_config_default",
      handler: defaults,
    },
    {
      method: "GET",
      path: "/v3/domains/config/:group/default",
      operation: "showDefaultDomainConfigGroup",
      policy: "identity:get_domain_config_default",
      handler: defaults,
    },
    {
      method: "GET",
      path: "/v3/domains/config/:group/:option/default",
      operation: "showDefaultDomainConfigOption",
      policy: "identity:get_domain_config_default",
      handler: defaults,
    },
  ];
}
