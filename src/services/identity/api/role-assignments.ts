import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { AssignmentRef, RoleAssignmentFilter } from "../manager/role-assignments.js";
import { collection } from "../views/common.js";
import { roleAssignmentView } from "../views/role-assignments.js";
import type { Identity } from "./deps.js";

/**
 * Keystone's query_filter_is_true: a flag is on when present with any value but "0"
 * (`?effective`, `?effective=true`, even `?effective=false`).
 */
function isTrue(ctx: RequestContext, name: string): boolean {
  return name in ctx.query && ctx.q(name) !== "0";
}

/** GET /v3/role_assignments (keystone/api/role_assignments.py). */
export function roleAssignmentRoutes(id: Identity): Route[] {
  const { assignments, resources } = id;

  const build = async (ctx: RequestContext, includeSubtree: boolean): Promise<AssignmentRef[]> => {
    const arg = (k: string): string | undefined => {
      const v = ctx.q(k);
      return v === undefined || v === "" ? undefined : v;
    };
    const effective = isTrue(ctx, "effective");
    let inherited: boolean | undefined;
    if ("scope.OS-INHERIT:inherited_to" in ctx.query) inherited = ctx.q("scope.OS-INHERIT:inherited_to") === "projects";
    if (arg("scope.domain.id") && arg("scope.project.id")) throw new BadRequest("Specify a domain or project, not both");
    if (arg("scope.domain.id") && arg("scope.system")) throw new BadRequest("Specify system or domain, not both");
    if (arg("scope.project.id") && arg("scope.system")) throw new BadRequest("Specify system or project, not both");
    if (arg("user.id") && arg("group.id")) throw new BadRequest("Specify a user or group, not both");
    if (effective) {
      if (arg("group.id")) throw new BadRequest("Combining effective and group filter will always result in an empty list.");
      if (inherited && arg("scope.domain.id")) {
        throw new BadRequest("Combining effective, domain and inherited filters will always result in an empty list.");
      }
    }
    const f: RoleAssignmentFilter = { effective, includeSubtree, includeNames: isTrue(ctx, "include_names") };
    const set = <K extends keyof RoleAssignmentFilter>(k: K, v: RoleAssignmentFilter[K] | undefined): void => {
      if (v !== undefined) f[k] = v;
    };
    set("roleId", arg("role.id"));
    set("userId", arg("user.id"));
    set("groupId", arg("group.id"));
    set("system", arg("scope.system"));
    set("domainId", arg("scope.domain.id"));
    set("projectId", arg("scope.project.id"));
    set("inherited", inherited);
    return assignments.listRoleAssignments(f);
  };

  return [
    {
      method: "GET",
      path: "/v3/role_assignments",
      operation: "listRoleAssignments",
      policy: "identity:list_role_assignments",
      handler: async (ctx) => {
        if (isTrue(ctx, "include_subtree")) {
          const projectId = ctx.q("scope.project.id");
          // The project (404 when unknown) is the policy target of the tree listing.
          const target = projectId ? { project: await resources.getProject(projectId) } : undefined;
          ctx.enforce("identity:list_role_assignments_for_tree", target ? { target: { project: projectTarget(target.project) } } : {});
          if (!projectId) throw new BadRequest("scope.project.id must be specified if include_subtree is also specified");
          const refs = await build(ctx, true);
          return { body: collection(ctx, "role_assignments", refs.map((r) => roleAssignmentView(ctx, r))) };
        }
        const domainId = ctx.caller.domainId;
        ctx.enforce("identity:list_role_assignments", domainId ? { target: { domain_id: domainId } } : {});
        let refs = await build(ctx, false);
        if (domainId) {
          // A domain-scoped caller sees assignments on its domain and on that domain's projects.
          const kept: AssignmentRef[] = [];
          for (const r of refs) {
            if (r.domain_id === domainId) kept.push(r);
            else if (r.project_id && (await resources.getProject(r.project_id)).domain_id === domainId) kept.push(r);
          }
          refs = kept;
        }
        return { body: collection(ctx, "role_assignments", refs.map((r) => roleAssignmentView(ctx, r))) };
      },
    },
  ];
}

const projectTarget = (p: { id: string; name: string; domain_id: string; parent_id: string | null; enabled: number; is_domain: number }): Record<string, unknown> => ({
  id: p.id,
  name: p.name,
  domain_id: p.domain_id,
  parent_id: p.parent_id,
  enabled: p.enabled === 1,
  is_domain: p.is_domain === 1,
});
