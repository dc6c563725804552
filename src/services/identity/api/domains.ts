import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { ProjectInput, ProjectRecord } from "../manager/resource.js";
import { domainCreate, domainUpdate } from "../schemas/resource.js";
import { limited } from "../views/common.js";
import { domainView } from "../views/resource.js";
import { boolQuery, entity, inexactFilter } from "./common.js";
import type { Identity } from "./deps.js";

const target = (d: ProjectRecord | undefined): Record<string, unknown> => ({
  target: d ? { domain: { id: d.id, name: d.name, enabled: d.enabled === 1 } } : {},
});

export function domainRoutes(id: Identity): Route[] {
  const { resources } = id;

  /** The domain, or undefined when it does not exist (Keystone enforces before it says 404). */
  const find = async (ctx: RequestContext): Promise<ProjectRecord | undefined> => {
    try {
      return await resources.getDomain(ctx.params["domain_id"]!);
    } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
  };

  return [
    {
      method: "POST",
      path: "/v3/domains",
      operation: "createDomain",
      policy: "identity:create_domain",
      body: domainCreate,
      handler: async (ctx) => {
        ctx.enforce("identity:create_domain");
        const input = entity<ProjectInput>(ctx, "domain");
        // A client may choose the id, but only as a uuid4 in hex (PyCADF's check); "id" itself
        // is never taken from the body.
        const explicit = input.explicit_domain_id;
        if (explicit !== undefined && !/^[0-9a-f]{32}$/.test(explicit)) {
          throw new BadRequest("Domain ID does not conform to required UUID format.");
        }
        delete input["id"];
        const d = await resources.createDomain(input);
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
        const views = list.map((d) => domainView(ctx, d)).filter(inexactFilter(ctx, ["name", "enabled"]));
        return { body: limited(ctx, "domains", views, id.core.config.identity.listLimit) };
      },
    },
    {
      method: "GET",
      path: "/v3/domains/:domain_id",
      operation: "showDomain",
      policy: "identity:get_domain",
      handler: async (ctx) => {
        const d = await find(ctx);
        ctx.enforce("identity:get_domain", target(d));
        if (!d) throw new NotFound(`Could not find domain: ${ctx.params["domain_id"]!}.`);
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
