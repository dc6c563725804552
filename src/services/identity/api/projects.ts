import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { ProjectInput, ProjectRecord } from "../manager/resource.js";
import { projectCreate, projectUpdate, tagsReplace } from "../schemas/resource.js";
import { limited } from "../views/common.js";
import { projectView } from "../views/resource.js";
import { boolQuery, csv, entity, flag, inexactFilter } from "./common.js";
import type { Identity } from "./deps.js";

function target(p: ProjectRecord | undefined): Record<string, unknown> {
  return { target: p ? { project: { id: p.id, domain_id: p.domain_id, parent_id: p.parent_id, name: p.name } } : {} };
}

/** keystone/api/projects.py, ProjectTagResource: a tag in a URL is at most 255 chars, no '/' or ','. */
function checkTag(tag: string): void {
  if (tag.length === 0) throw new BadRequest("Invalid input for field 'tag': is too short");
  if (tag.length > 255) throw new BadRequest("Invalid input for field 'tag': is too long");
  if (/[,/]/.test(tag)) throw new BadRequest(`Invalid input for field 'tag': '${tag}' does not match '^[^,/]*$'`);
}

export function projectRoutes(id: Identity): Route[] {
  const { resources } = id;

  /**
   * Keystone's _build_project_target_enforcement: the target is built before existence is
   * known, so a caller the policy refuses learns nothing (403); only then is a missing
   * project a 404.
   */
  const load = async (ctx: RequestContext, rule: string): Promise<ProjectRecord> => {
    let p: ProjectRecord | undefined;
    try {
      p = await resources.getProject(ctx.params["project_id"]!);
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
    }
    ctx.enforce(rule, target(p));
    if (!p) throw new NotFound(`Could not find project: ${ctx.params["project_id"]!}.`);
    return p;
  };

  /** Project lists under a project keep only the projects the caller has a role on. */
  const mine = async (ctx: RequestContext, list: ProjectRecord[]): Promise<ProjectRecord[]> => {
    const ids = new Set(await id.assignments.projectIdsForUser(ctx.caller.userId));
    return list.filter((x) => ids.has(x.id));
  };

  /** The tags collection body: Keystone's self link is its bare /v3 URL (full_url()). */
  const tagsBody = (ctx: RequestContext, tags: string[]) => {
    const qs = ctx.url.includes("?") ? ctx.url.slice(ctx.url.indexOf("?")) : "";
    return { tags, links: { self: `${ctx.serviceUrl}/v3${qs}` } };
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
        ctx.enforce("identity:create_project", { target: { project: { ...input } } });
        delete input["id"];
        // Keystone's _normalize_domain_id: no domain_id means the token's domain, else the
        // default domain, even when a parent in another domain is given.
        if (input.is_domain !== true && !input.domain_id) input.domain_id = ctx.caller.domainId ?? "default";
        try {
          const p = await resources.createProject(input, input.domain_id ?? undefined);
          return { status: 201, body: { project: projectView(ctx, p) } };
        } catch (e) {
          // A missing domain or parent is a bad request here, not a missing resource.
          if (e instanceof NotFound) throw new BadRequest(e.message);
          throw e;
        }
      },
    },
    {
      method: "GET",
      path: "/v3/projects",
      operation: "listProjects",
      policy: "identity:list_projects",
      handler: async (ctx) => {
        // The target is the token's domain; a domain_id filter grants nothing.
        const tokenDomain = ctx.caller.domainId;
        ctx.enforce("identity:list_projects", tokenDomain ? { target: { domain_id: tokenDomain } } : {});
        const filter: Parameters<typeof resources.listProjects>[0] = { isDomain: boolQuery(ctx, "is_domain") ?? false };
        const name = ctx.q("name");
        if (name !== undefined) filter.name = name;
        const domainId = ctx.q("domain_id");
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
        // A domain-scoped caller only sees its own domain's projects.
        if (tokenDomain) list = list.filter((p) => p.domain_id === tokenDomain);
        return {
          body: limited(
            ctx,
            "projects",
            list.map((p) => projectView(ctx, p)).filter(inexactFilter(ctx, ["domain_id", "enabled", "name", "parent_id", "is_domain"])),
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
        const p = await load(ctx, "identity:get_project");
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
          const ups = await mine(ctx, await resources.parents(p));
          body["parents"] = ups.map((x) => ({ project: projectView(ctx, x) }));
        } else if (wantsParentsIds) {
          // Nested ids up to the top of the hierarchy, the domain included, as Keystone nests them.
          const ups = await resources.ancestors(p);
          let nested: Record<string, unknown> | null = null;
          for (const x of [...ups].reverse()) nested = { [x.id]: nested };
          body["parents"] = nested;
        }
        if (wantsSubtreeList) {
          const sub = await mine(ctx, await resources.subtree(p.id));
          body["subtree"] = sub.map((x) => ({ project: projectView(ctx, x) }));
        } else if (wantsSubtreeIds) {
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
        const cur = await load(ctx, "identity:update_project");
        const input = entity<ProjectInput>(ctx, "project");
        if (input["id"] !== undefined && input["id"] !== null && input["id"] !== cur.id) throw new BadRequest("Cannot change ID");
        delete input["id"];
        const p = await resources.updateProject(cur.id, input);
        return { body: { project: projectView(ctx, p) } };
      },
    },
    {
      // Keystone's API has no cascade: a project with children is refused (403).
      method: "DELETE",
      path: "/v3/projects/:project_id",
      operation: "deleteProject",
      policy: "identity:delete_project",
      handler: async (ctx) => {
        const cur = await load(ctx, "identity:delete_project");
        await resources.deleteProject(cur.id);
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
        const p = await load(ctx, "identity:list_project_tags");
        return { body: tagsBody(ctx, p.tags) };
      },
    },
    {
      method: "PUT",
      path: "/v3/projects/:project_id/tags",
      operation: "replaceProjectTags",
      policy: "identity:update_project_tags",
      body: tagsReplace,
      handler: async (ctx) => {
        const p = await load(ctx, "identity:update_project_tags");
        const tags = await resources.replaceTags(p.id, (ctx.body as { tags: string[] }).tags);
        return { body: tagsBody(ctx, tags) };
      },
    },
    {
      method: "DELETE",
      path: "/v3/projects/:project_id/tags",
      operation: "deleteProjectTags",
      policy: "identity:delete_project_tags",
      handler: async (ctx) => {
        const p = await load(ctx, "identity:delete_project_tags");
        await resources.replaceTags(p.id, [], "delete");
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: "/v3/projects/:project_id/tags/:tag",
      operation: "checkProjectTag",
      policy: "identity:get_project_tag",
      handler: async (ctx) => {
        const p = await load(ctx, "identity:get_project_tag");
        const tag = ctx.params["tag"]!;
        if (!p.tags.includes(tag)) throw new NotFound(`Could not find project tag: ${tag}.`);
        return { status: 204 };
      },
    },
    {
      method: "PUT",
      path: "/v3/projects/:project_id/tags/:tag",
      operation: "addProjectTag",
      policy: "identity:create_project_tag",
      handler: async (ctx) => {
        const p = await load(ctx, "identity:create_project_tag");
        const tag = ctx.params["tag"]!;
        checkTag(tag);
        await resources.addTag(p.id, tag.trim());
        // Keystone builds this Location from its bare base URL, without "projects/".
        return { status: 201, headers: { location: `${ctx.serviceUrl}/v3/${p.id}/tags/${encodeURIComponent(tag)}` } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/projects/:project_id/tags/:tag",
      operation: "deleteProjectTag",
      policy: "identity:delete_project_tag",
      handler: async (ctx) => {
        const p = await load(ctx, "identity:delete_project_tag");
        await resources.removeTag(p.id, ctx.params["tag"]!);
        return { status: 204 };
      },
    },
  ];
}
