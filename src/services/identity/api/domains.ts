import type { Route } from "../../../http/context.js";
import type { ProjectInput, ProjectRecord } from "../manager/resource.js";
import { domainCreate, domainUpdate } from "../schemas/resource.js";
import { limited } from "../views/common.js";
import { domainView } from "../views/resource.js";
import { boolQuery, entity } from "./common.js";
import type { Identity } from "./deps.js";

const target = (d: ProjectRecord): Record<string, unknown> => ({ target: { domain: { id: d.id, name: d.name } } });

export function domainRoutes(id: Identity): Route[] {
  const { resources } = id;
  return [
    {
      method: "POST",
      path: "/v3/domains",
      operation: "createDomain",
      policy: "identity:create_domain",
      body: domainCreate,
      handler: async (ctx) => {
        ctx.enforce("identity:create_domain");
        const d = await resources.createDomain(entity<ProjectInput>(ctx, "domain"));
        return { status: 201, body: { domain: domainView(ctx, d) } };
      },
    },
    {
      method: "GET",
      path: "/v3/domains",
      operation: "listDomains",
      policy: "identity:list_domains",
      handler: async (ctx) => {
        ctx.enforce("identity:list_domains");
        const f: Parameters<typeof resources.listDomains>[0] = {};
        const name = ctx.q("name");
        if (name !== undefined) f.name = name;
        const en = boolQuery(ctx, "enabled");
        if (en !== undefined) f.enabled = en;
        const list = await resources.listDomains(f);
        return { body: limited(ctx, "domains", list.map((d) => domainView(ctx, d)), id.core.config.identity.listLimit) };
      },
    },
    {
      method: "GET",
      path: "/v3/domains/:domain_id",
      operation: "showDomain",
      policy: "identity:get_domain",
      handler: async (ctx) => {
        const d = await resources.getDomain(ctx.params["domain_id"]!);
        ctx.enforce("identity:get_domain", target(d));
        return { body: { domain: domainView(ctx, d) } };
      },
    },
    {
      method: "PATCH",
      path: "/v3/domains/:domain_id",
      operation: "updateDomain",
      policy: "identity:update_domain",
      body: domainUpdate,
      handler: async (ctx) => {
        const cur = await resources.getDomain(ctx.params["domain_id"]!);
        ctx.enforce("identity:update_domain", target(cur));
        const d = await resources.updateDomain(cur.id, entity<ProjectInput>(ctx, "domain"));
        return { body: { domain: domainView(ctx, d) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/domains/:domain_id",
      operation: "deleteDomain",
      policy: "identity:delete_domain",
      handler: async (ctx) => {
        const cur = await resources.getDomain(ctx.params["domain_id"]!);
        ctx.enforce("identity:delete_domain", target(cur));
        await resources.deleteDomain(cur.id);
        return { status: 204 };
      },
    },
  ];
}
