import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { ProjectInput, ProjectRecord } from "../manager/resource.js";
import { projectCreate, projectUpdate, tagsReplace } from "../schemas/resource.js";
import { limited } from "../views/common.js";
import { projectView } from "../views/resource.js";
import { boolQuery, csv, entity, flag } from "./common.js";
import type { Identity } from "./deps.js";

function target(p: ProjectRecord): Record<string, unknown> {
  return { target: { project: { id: p.id, domain_id: p.domain_id, parent_id: p.parent_id, name: p.name } } };
}

export function projectRoutes(id: Identity): Route[] {
  const { resources } = id;

  const get = async (ctx: RequestContext): Promise<ProjectRecord> => {
    const p = await resources.getProject(ctx.params["project_id"]!);
    ctx.enforce("identity:get_project", target(p));
    return p;
  };

  return [
    {
      method: "POST",
      path: "/v3/projects",
      operation: "createProject",
      policy: "identity:create_project",
      body: projectCreate,
      handler: async (ctx) => {
        const input = entity<ProjectInput>(ctx, "project");
        const caller = ctx.caller;
        const defaultDomain = caller.domainId ?? caller.projectDomainId ?? caller.userDomainId;
        ctx.enforce("identity:create_project", {
          target: { project: { domain_id: input.domain_id ?? defaultDomain, parent_id: input.parent_id ?? null } },
        });
        const p = await resources.createProject(input, defaultDomain);
        return { status: 201, body: { project: projectView(ctx, p) } };
      },
    },
    {
      method: "GET",
      path: "/v3/projects",
      operation: "listProjects",
      policy: "identity:list_projects",
      handler: async (ctx) => {
        const domainId = ctx.q("domain_id");
        ctx.enforce("identity:list_projects", domainId ? { target: { domain_id: domainId } } : {});
        const filter: Parameters<typeof resources.listProjects>[0] = { isDomain: boolQuery(ctx, "is_domain") ?? false };
        const name = ctx.q("name");
        if (name !== undefined) filter.name = name;
        if (domainId !== undefined) filter.domainId = domainId;
        const en = boolQuery(ctx, "enabled");
        if (en !== undefined) filter.enabled = en;
        const parent = ctx.q("parent_id");
        if (parent !== undefined) filter.parentId = parent;
        const tags = csv(ctx, "tags");
        if (tags) filter.tags = tags;
        const tagsAny = csv(ctx, "tags-any");
        if (tagsAny) filter.tagsAny = tagsAny;
        const notTags = csv(ctx, "not-tags");
        if (notTags) filter.notTags = notTags;
        const notTagsAny = csv(ctx, "not-tags-any");
        if (notTagsAny) filter.notTagsAny = notTagsAny;
        let list = await resources.listProjects(filter);
        // A domain-scoped caller without a domain filter sees its own domain's projects.
        if (!domainId && ctx.caller.domainId && !ctx.allowed("identity:list_projects")) {
          list = list.filter((p) => p.domain_id === ctx.caller.domainId);
        }
        return {
          body: limited(
            ctx,
            "projects",
            list.map((p) => projectView(ctx, p)),
            id.core.config.identity.listLimit,
          ),
        };
      },
    },
    {
      method: "GET",
      path: "/v3/projects/:project_id",
      operation: "showProject",
      policy: "identity:get_project",
      handler: async (ctx) => {
        const p = await get(ctx);
        const body = projectView(ctx, p);
        const wantsParentsList = flag(ctx, "parents_as_list");
        const wantsParentsIds = flag(ctx, "parents_as_ids");
        const wantsSubtreeList = flag(ctx, "subtree_as_list");
        const wantsSubtreeIds = flag(ctx, "subtree_as_ids");
        if (wantsParentsList && wantsParentsIds) {
          
          throw new BadRequest("Cannot use parents_as_list and parents_as_ids query params at the same time.");
        }
        if (wantsSubtreeList && wantsSubtreeIds) {
          
          throw new BadRequest("Cannot use subtree_as_list and subtree_as_ids query params at the same time.");
        }
        if (wantsParentsList) {
          const ups = await resources.parents(p);
          body["parents"] = ups.filter((x) => ctx.allowed("identity:get_project", target(x))).map((x) => ({ project: projectView(ctx, x) }));
        }
        if (wantsParentsIds) {
          const ups = await resources.parents(p);
          let nested: Record<string, unknown> | null = null;
          for (const x of [...ups].reverse()) nested = { [x.id]: nested };
          body["parents"] = nested;
        }
        if (wantsSubtreeList) {
          const sub = await resources.subtree(p.id);
          body["subtree"] = sub.filter((x) => ctx.allowed("identity:get_project", target(x))).map((x) => ({ project: projectView(ctx, x) }));
        }
        if (wantsSubtreeIds) {
          const sub = await resources.subtree(p.id);
          const build = (pid: string): Record<string, unknown> | null => {
            const kids = sub.filter((x) => x.parent_id === pid);
            if (kids.length === 0) return null;
            return Object.fromEntries(kids.map((k) => [k.id, build(k.id)]));
          };
          body["subtree"] = build(p.id);
        }
        return { body: { project: body } };
      },
    },
    {
      method: "PATCH",
      path: "/v3/projects/:project_id",
      operation: "updateProject",
      policy: "identity:update_project",
      body: projectUpdate,
      handler: async (ctx) => {
        const cur = await resources.getProject(ctx.params["project_id"]!);
        ctx.enforce("identity:update_project", target(cur));
        const p = await resources.updateProject(cur.id, entity<ProjectInput>(ctx, "project"));
        return { body: { project: projectView(ctx, p) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/projects/:project_id",
      operation: "deleteProject",
      policy: "identity:delete_project",
      handler: async (ctx) => {
        const cur = await resources.getProject(ctx.params["project_id"]!);
        ctx.enforce("identity:delete_project", target(cur));
        await resources.deleteProject(cur.id, flag(ctx, "cascade"));
        return { status: 204 };
      },
    },
    // ---- project tags
    {
      method: "GET",
      path: "/v3/projects/:project_id/tags",
      operation: "listProjectTags",
      policy: "identity:list_project_tags",
      handler: async (ctx) => {
        const p = await resources.getProject(ctx.params["project_id"]!);
        ctx.enforce("identity:list_project_tags", target(p));
        return { body: { tags: p.tags } };
      },
    },
    {
      method: "PUT",
      path: "/v3/projects/:project_id/tags",
      operation: "replaceProjectTags",
      policy: "identity:update_project_tags",
      body: tagsReplace,
      handler: async (ctx) => {
        const p = await resources.getProject(ctx.params["project_id"]!);
        ctx.enforce("identity:update_project_tags", target(p));
        const tags = await resources.replaceTags(p.id, (ctx.body as { tags: string[] }).tags);
        return { body: { tags } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/projects/:project_id/tags",
      operation: "deleteProjectTags",
      policy: "identity:delete_project_tags",
      handler: async (ctx) => {
        const p = await resources.getProject(ctx.params["project_id"]!);
        ctx.enforce("identity:delete_project_tags", target(p));
        await resources.replaceTags(p.id, []);
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: "/v3/projects/:project_id/tags/:tag",
      operation: "checkProjectTag",
      policy: "identity:get_project_tag",
      handler: async (ctx) => {
        const p = await resources.getProject(ctx.params["project_id"]!);
        ctx.enforce("identity:get_project_tag", target(p));
        const tag = ctx.params["tag"]!;
        if (!p.tags.includes(tag)) {
          
          throw new NotFound(`Tag ${tag} not found for project ${p.id}.`);
        }
        return { status: 204 };
      },
    },
    {
      method: "PUT",
      path: "/v3/projects/:project_id/tags/:tag",
      operation: "addProjectTag",
      policy: "identity:create_project_tag",
      handler: async (ctx) => {
        const p = await resources.getProject(ctx.params["project_id"]!);
        ctx.enforce("identity:create_project_tag", target(p));
        const tag = ctx.params["tag"]!;
        if (tag.length === 0 || tag.length > 255 || tag.includes(",") || tag.includes("/")) {
          
          throw new BadRequest(`Invalid input for field 'tag': '${tag}' is not a valid tag.`);
        }
        await resources.addTag(p.id, tag);
        return { status: 201, headers: { location: `${ctx.serviceUrl}/v3/projects/${p.id}/tags/${encodeURIComponent(tag)}` } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/projects/:project_id/tags/:tag",
      operation: "deleteProjectTag",
      policy: "identity:delete_project_tag",
      handler: async (ctx) => {
        const p = await resources.getProject(ctx.params["project_id"]!);
        ctx.enforce("identity:delete_project_tag", target(p));
        await resources.removeTag(p.id, ctx.params["tag"]!);
        return { status: 204 };
      },
    },
  ];
}

