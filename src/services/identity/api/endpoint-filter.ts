import type { RequestContext, Route } from "../../../http/context.js";
import type { Input } from "../manager/catalog.js";
import { endpointGroupCreate, endpointGroupUpdate } from "../schemas/catalog.js";
import { endpointGroupView, endpointView, projectEndpointGroupView } from "../views/catalog.js";
import { collection } from "../views/common.js";
import { projectView } from "../views/resource.js";
import { entity } from "./common.js";
import type { Identity } from "./deps.js";

const EP = "/v3/OS-EP-FILTER";

/**
 * OS-EP-FILTER (keystone/api/os_ep_filter.py): endpoint groups and the project↔endpoint and
 * project↔endpoint-group associations that narrow a project's catalog. Policy is enforced
 * first, then the named entities are looked up in Keystone's order.
 */
export function endpointFilterRoutes(id: Identity): Route[] {
  const { catalog, resources } = id;
  const p = (ctx: RequestContext, name: string): string => ctx.params[name]!;
  const projectsBody = async (ctx: RequestContext, ids: string[]): Promise<Record<string, unknown>> => {
    const list = [];
    for (const pid of ids) {
      // An association written while its project was being deleted names no project: skip it.
      const row = await resources.findProject(pid);
      if (row) list.push(projectView(ctx, await resources.getProject(pid)));
    }
    return collection(ctx, "projects", list);
  };

  return [
    // ---- endpoint groups ----
    {
      method: "POST",
      path: `${EP}/endpoint_groups`,
      operation: "createEndpointGroup",
      policy: "identity:create_endpoint_group",
      body: endpointGroupCreate,
      handler: async (ctx) => {
        ctx.enforce("identity:create_endpoint_group");
        const g = await catalog.createEndpointGroup(entity<Input>(ctx, "endpoint_group"));
        return { status: 201, body: { endpoint_group: endpointGroupView(ctx, g) } };
      },
    },
    {
      method: "GET",
      path: `${EP}/endpoint_groups`,
      operation: "listEndpointGroups",
      policy: "identity:list_endpoint_groups",
      handler: async (ctx) => {
        const name = ctx.q("name");
        ctx.enforce("identity:list_endpoint_groups", name !== undefined ? { filter_attr: { name } } : {});
        const list = await catalog.listEndpointGroups(name !== undefined ? { name } : {});
        // Keystone's catalog manager does not truncate this list (no list_limit).
        return { body: collection(ctx, "endpoint_groups", list.map((g) => endpointGroupView(ctx, g))) };
      },
    },
    {
      method: "GET",
      path: `${EP}/endpoint_groups/:endpoint_group_id`,
      operation: "showEndpointGroup",
      policy: "identity:get_endpoint_group",
      handler: async (ctx) => {
        const gid = p(ctx, "endpoint_group_id");
        ctx.enforce("identity:get_endpoint_group", { endpoint_group_id: gid });
        return { body: { endpoint_group: endpointGroupView(ctx, await catalog.getEndpointGroup(gid)) } };
      },
    },
    {
      method: "PATCH",
      path: `${EP}/endpoint_groups/:endpoint_group_id`,
      operation: "updateEndpointGroup",
      policy: "identity:update_endpoint_group",
      body: endpointGroupUpdate,
      handler: async (ctx) => {
        const gid = p(ctx, "endpoint_group_id");
        ctx.enforce("identity:update_endpoint_group", { endpoint_group_id: gid });
        const g = await catalog.updateEndpointGroup(gid, entity<Input>(ctx, "endpoint_group"));
        return { body: { endpoint_group: endpointGroupView(ctx, g) } };
      },
    },
    {
      method: "DELETE",
      path: `${EP}/endpoint_groups/:endpoint_group_id`,
      operation: "deleteEndpointGroup",
      policy: "identity:delete_endpoint_group",
      handler: async (ctx) => {
        const gid = p(ctx, "endpoint_group_id");
        ctx.enforce("identity:delete_endpoint_group", { endpoint_group_id: gid });
        await catalog.deleteEndpointGroup(gid);
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: `${EP}/endpoint_groups/:endpoint_group_id/endpoints`,
      operation: "listEndpointsInEndpointGroup",
      policy: "identity:list_endpoints_associated_with_endpoint_group",
      handler: async (ctx) => {
        const gid = p(ctx, "endpoint_group_id");
        ctx.enforce("identity:list_endpoints_associated_with_endpoint_group", { endpoint_group_id: gid });
        const list = await catalog.endpointsInGroup(gid);
        return { body: collection(ctx, "endpoints", list.map((e) => endpointView(ctx, e))) };
      },
    },
    {
      // Keystone does not check that the group exists here: an unknown one has no projects.
      method: "GET",
      path: `${EP}/endpoint_groups/:endpoint_group_id/projects`,
      operation: "listProjectsAssociatedWithEndpointGroup",
      policy: "identity:list_projects_associated_with_endpoint_group",
      handler: async (ctx) => {
        const gid = p(ctx, "endpoint_group_id");
        ctx.enforce("identity:list_projects_associated_with_endpoint_group", { endpoint_group_id: gid });
        return { body: await projectsBody(ctx, await catalog.projectIdsForGroup(gid)) };
      },
    },
    {
      method: "GET",
      path: `${EP}/endpoint_groups/:endpoint_group_id/projects/:project_id`,
      operation: "showEndpointGroupInProject",
      policy: "identity:get_endpoint_group_in_project",
      handler: async (ctx) => {
        const gid = p(ctx, "endpoint_group_id");
        const pid = p(ctx, "project_id");
        ctx.enforce("identity:get_endpoint_group_in_project", { endpoint_group_id: gid, project_id: pid });
        await resources.getProject(pid);
        await catalog.getEndpointGroup(gid);
        await catalog.checkGroupInProject(gid, pid);
        return { body: { project_endpoint_group: projectEndpointGroupView(gid, pid) } };
      },
    },
    {
      method: "PUT",
      path: `${EP}/endpoint_groups/:endpoint_group_id/projects/:project_id`,
      operation: "addEndpointGroupToProject",
      policy: "identity:add_endpoint_group_to_project",
      handler: async (ctx) => {
        const gid = p(ctx, "endpoint_group_id");
        const pid = p(ctx, "project_id");
        ctx.enforce("identity:add_endpoint_group_to_project", { endpoint_group_id: gid, project_id: pid });
        await resources.getProject(pid);
        await catalog.getEndpointGroup(gid);
        await catalog.addGroupToProject(gid, pid);
        return { status: 204 };
      },
    },
    {
      method: "DELETE",
      path: `${EP}/endpoint_groups/:endpoint_group_id/projects/:project_id`,
      operation: "removeEndpointGroupFromProject",
      policy: "identity:remove_endpoint_group_from_project",
      handler: async (ctx) => {
        const gid = p(ctx, "endpoint_group_id");
        const pid = p(ctx, "project_id");
        ctx.enforce("identity:remove_endpoint_group_from_project", { endpoint_group_id: gid, project_id: pid });
        await resources.getProject(pid);
        await catalog.getEndpointGroup(gid);
        await catalog.removeGroupFromProject(gid, pid);
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: `${EP}/projects/:project_id/endpoint_groups`,
      operation: "listEndpointGroupsForProject",
      policy: "identity:list_endpoint_groups_for_project",
      handler: async (ctx) => {
        const pid = p(ctx, "project_id");
        ctx.enforce("identity:list_endpoint_groups_for_project", { project_id: pid });
        await resources.getProject(pid);
        const list = await catalog.groupsForProject(pid);
        return { body: collection(ctx, "endpoint_groups", list.map((g) => endpointGroupView(ctx, g))) };
      },
    },

    // ---- project ↔ endpoint ----
    {
      method: "GET",
      path: `${EP}/projects/:project_id/endpoints`,
      operation: "listEndpointsForProject",
      policy: "identity:list_endpoints_for_project",
      handler: async (ctx) => {
        const pid = p(ctx, "project_id");
        ctx.enforce("identity:list_endpoints_for_project", { project_id: pid });
        await resources.getProject(pid);
        const eps = await catalog.endpointsForProject(pid);
        return { body: collection(ctx, "endpoints", [...eps.values()].map((e) => endpointView(ctx, e))) };
      },
    },
    {
      // HEAD (tempest's check_endpoint_in_project) is this GET without a body: 204.
      method: "GET",
      path: `${EP}/projects/:project_id/endpoints/:endpoint_id`,
      operation: "checkEndpointInProject",
      policy: "identity:check_endpoint_in_project",
      handler: async (ctx) => {
        const pid = p(ctx, "project_id");
        const eid = p(ctx, "endpoint_id");
        ctx.enforce("identity:check_endpoint_in_project", { project_id: pid, endpoint_id: eid });
        await catalog.getEndpoint(eid);
        await resources.getProject(pid);
        await catalog.checkEndpointInProject(eid, pid);
        return { status: 204 };
      },
    },
    {
      method: "PUT",
      path: `${EP}/projects/:project_id/endpoints/:endpoint_id`,
      operation: "addEndpointToProject",
      policy: "identity:add_endpoint_to_project",
      handler: async (ctx) => {
        const pid = p(ctx, "project_id");
        const eid = p(ctx, "endpoint_id");
        ctx.enforce("identity:add_endpoint_to_project", { project_id: pid, endpoint_id: eid });
        await catalog.getEndpoint(eid);
        await resources.getProject(pid);
        await catalog.addEndpointToProject(eid, pid);
        return { status: 204 };
      },
    },
    {
      method: "DELETE",
      path: `${EP}/projects/:project_id/endpoints/:endpoint_id`,
      operation: "removeEndpointFromProject",
      policy: "identity:remove_endpoint_from_project",
      handler: async (ctx) => {
        const pid = p(ctx, "project_id");
        const eid = p(ctx, "endpoint_id");
        ctx.enforce("identity:remove_endpoint_from_project", { project_id: pid, endpoint_id: eid });
        await catalog.removeEndpointFromProject(eid, pid);
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: `${EP}/endpoints/:endpoint_id/projects`,
      operation: "listProjectsForEndpoint",
      policy: "identity:list_projects_for_endpoint",
      handler: async (ctx) => {
        const eid = p(ctx, "endpoint_id");
        ctx.enforce("identity:list_projects_for_endpoint", { endpoint_id: eid });
        await catalog.getEndpoint(eid);
        return { body: await projectsBody(ctx, await catalog.projectIdsForEndpoint(eid)) };
      },
    },
  ];
}
