import type { RequestContext } from "../../../http/context.js";
import type { AssignmentRef } from "../manager/role-assignments.js";
import { link } from "./common.js";

/**
 * One entry of GET /v3/role_assignments, as keystone/api/role_assignments.py _format_entity
 * builds it: role/user|group/scope objects and links.assignment pointing at the grant API that
 * created it (OS-INHERIT form for inherited ones), links.membership for assignments a group
 * gave, and links.prior_role for implied ones (with Keystone's own ordering of the two ids).
 */
export function roleAssignmentView(ctx: RequestContext, e: AssignmentRef): Record<string, unknown> {
  let path = "";
  const links: Record<string, string> = {};
  const out: Record<string, unknown> = { links };
  let scope: Record<string, unknown> = {};
  let inherited = e.inherited_to_projects !== undefined;
  if (e.project_id !== undefined) {
    scope =
      e.project_name !== undefined
        ? { project: { id: e.project_id, name: e.project_name, domain: { id: e.project_domain_id, name: e.project_domain_name } } }
        : { project: { id: e.project_id } };
    if (e.indirect?.domain_id !== undefined) {
      inherited = true;
      path = `/domains/${e.indirect.domain_id}`;
    } else if (e.indirect?.project_id !== undefined) {
      inherited = true;
      path = `/projects/${e.indirect.project_id}`;
    } else {
      path = `/projects/${e.project_id}`;
    }
  } else if (e.domain_id !== undefined) {
    scope = e.domain_name !== undefined ? { domain: { id: e.domain_id, name: e.domain_name } } : { domain: { id: e.domain_id } };
    path = `/domains/${e.domain_id}`;
  } else if (e.system !== undefined) {
    path = "/system";
    scope = { system: e.system };
  }
  out["scope"] = scope;

  if (e.user_id !== undefined) {
    out["user"] =
      e.user_name !== undefined
        ? { id: e.user_id, name: e.user_name, domain: { id: e.user_domain_id, name: e.user_domain_name } }
        : { id: e.user_id };
    if (e.indirect?.group_id !== undefined) {
      links["membership"] = link(ctx, `groups/${e.indirect.group_id}/users/${e.user_id}`);
      path += `/groups/${e.indirect.group_id}`;
    } else {
      path += `/users/${e.user_id}`;
    }
  } else if (e.group_id !== undefined) {
    out["group"] =
      e.group_name !== undefined
        ? { id: e.group_id, name: e.group_name, domain: { id: e.group_domain_id, name: e.group_domain_name } }
        : { id: e.group_id };
    path += `/groups/${e.group_id}`;
  }

  if (e.role_name !== undefined) {
    const role: Record<string, unknown> = { id: e.role_id, name: e.role_name };
    if (e.role_domain_id !== undefined && e.role_domain_name !== undefined) role["domain"] = { id: e.role_domain_id, name: e.role_domain_name };
    out["role"] = role;
  } else {
    out["role"] = { id: e.role_id };
  }
  let priorRole = "";
  if (e.indirect?.role_id !== undefined) {
    path += `/roles/${e.indirect.role_id}`;
    // Keystone names the implied role first here; reproduced as is.
    priorRole = `prior_role/${e.role_id}/implies/${e.indirect.role_id}`;
  } else {
    path += `/roles/${e.role_id}`;
  }
  if (inherited) {
    scope["OS-INHERIT:inherited_to"] = "projects";
    path = `/OS-INHERIT${path}/inherited_to_projects`;
  }
  links["assignment"] = link(ctx, path.slice(1));
  if (priorRole) links["prior_role"] = link(ctx, priorRole);
  return out;
}
