import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { UserInput, UserRecord } from "../manager/users.js";
import { passwordChange, userCreate, userUpdate } from "../schemas/users.js";
import { collection, limited } from "../views/common.js";
import { projectView } from "../views/resource.js";
import { groupView, userView } from "../views/users.js";
import { boolQuery, entity } from "./common.js";
import type { Identity } from "./deps.js";

const target = (u: { id: string; domain_id: string }): Record<string, unknown> => ({
  target: { user: { id: u.id, domain_id: u.domain_id } },
});

export function userRoutes(id: Identity): Route[] {
  const { users, resources } = id;

  const load = async (ctx: RequestContext, rule: string): Promise<UserRecord> => {
    const u = await users.getUser(ctx.params["user_id"]!);
    ctx.enforce(rule, target(u));
    return u;
  };

  return [
    {
      method: "POST",
      path: "/v3/users",
      operation: "createUser",
      policy: "identity:create_user",
      body: userCreate,
      handler: async (ctx) => {
        const input = entity<UserInput>(ctx, "user");
        const caller = ctx.caller;
        input.domain_id ??= caller.domainId ?? caller.projectDomainId ?? caller.userDomainId;
        ctx.enforce("identity:create_user", { target: { user: { domain_id: input.domain_id } } });
        const d = await resources.findDomain(input.domain_id);
        if (!d) throw new NotFound(`Could not find domain: ${input.domain_id}.`);
        if (input.default_project_id) {
          const p = await resources.findProject(input.default_project_id);
          if (p?.is_domain === 1) throw new BadRequest("Cannot use a domain as a user's default project.");
        }
        const u = await users.createUser(input);
        return { status: 201, body: { user: userView(ctx, u) } };
      },
    },
    {
      method: "GET",
      path: "/v3/users",
      operation: "listUsers",
      policy: "identity:list_users",
      handler: async (ctx) => {
        const domainId = ctx.q("domain_id");
        ctx.enforce("identity:list_users", domainId ? { target: { domain_id: domainId } } : {});
        const f: Parameters<typeof users.listUsers>[0] = {};
        const name = ctx.q("name");
        if (name !== undefined) f.name = name;
        if (domainId !== undefined) f.domainId = domainId;
        const en = boolQuery(ctx, "enabled");
        if (en !== undefined) f.enabled = en;
        let list = await users.listUsers(f);
        const pea = ctx.q("password_expires_at");
        if (pea !== undefined) list = filterPasswordExpiry(list, pea);
        return { body: limited(ctx, "users", list.map((u) => userView(ctx, u)), id.core.config.identity.listLimit) };
      },
    },
    {
      method: "GET",
      path: "/v3/users/:user_id",
      operation: "showUser",
      policy: "identity:get_user",
      handler: async (ctx) => ({ body: { user: userView(ctx, await load(ctx, "identity:get_user")) } }),
    },
    {
      method: "PATCH",
      path: "/v3/users/:user_id",
      operation: "updateUser",
      policy: "identity:update_user",
      body: userUpdate,
      handler: async (ctx) => {
        const cur = await load(ctx, "identity:update_user");
        const input = entity<UserInput>(ctx, "user");
        if (input.default_project_id) {
          const p = await resources.findProject(input.default_project_id);
          if (p?.is_domain === 1) throw new BadRequest("Cannot use a domain as a user's default project.");
        }
        const u = await users.updateUser(cur.id, input);
        return { body: { user: userView(ctx, u) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/users/:user_id",
      operation: "deleteUser",
      policy: "identity:delete_user",
      handler: async (ctx) => {
        const cur = await load(ctx, "identity:delete_user");
        await users.deleteUser(cur.id);
        return { status: 204 };
      },
    },
    {
      // Self-service: Keystone lets anyone who knows the original password change it.
      method: "POST",
      path: "/v3/users/:user_id/password",
      operation: "changePassword",
      auth: "optional",
      body: passwordChange,
      handler: async (ctx) => {
        const b = entity<{ original_password: string; password: string }>(ctx, "user");
        await users.changePassword(ctx.params["user_id"]!, b.original_password, b.password);
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: "/v3/users/:user_id/projects",
      operation: "listUserProjects",
      policy: "identity:list_user_projects",
      handler: async (ctx) => {
        const u = await load(ctx, "identity:list_user_projects");
        const ids = await id.assignments.projectIdsForUser(u.id);
        const f: Parameters<typeof resources.listProjects>[0] = { ids, isDomain: false };
        const en = boolQuery(ctx, "enabled");
        if (en !== undefined) f.enabled = en;
        const name = ctx.q("name");
        if (name !== undefined) f.name = name;
        const dom = ctx.q("domain_id");
        if (dom !== undefined) f.domainId = dom;
        const list = await resources.listProjects(f);
        return { body: collection(ctx, "projects", list.map((p) => projectView(ctx, p))) };
      },
    },
    {
      method: "GET",
      path: "/v3/users/:user_id/groups",
      operation: "listUserGroups",
      policy: "identity:list_groups_for_user",
      handler: async (ctx) => {
        const u = await load(ctx, "identity:list_groups_for_user");
        const gids = await users.groupIdsOf(u.id);
        const f: Parameters<typeof users.listGroups>[0] = { ids: gids };
        const name = ctx.q("name");
        if (name !== undefined) f.name = name;
        const list = await users.listGroups(f);
        return { body: collection(ctx, "groups", list.map((g) => groupView(ctx, g))) };
      },
    },
  ];
}

/** ?password_expires_at={lt|lte|gt|gte|eq|neq}:<timestamp>, as Keystone filters. */
function filterPasswordExpiry(list: UserRecord[], spec: string): UserRecord[] {
  const m = /^(?:(lt|lte|gt|gte|eq|neq):)?(.+)$/.exec(spec);
  if (!m) throw new BadRequest(`Invalid password_expires_at filter: ${spec}`);
  const op = m[1] ?? "eq";
  const t = Date.parse(m[2]!);
  if (Number.isNaN(t)) throw new BadRequest(`Invalid timestamp in password_expires_at: ${m[2]!}`);
  return list.filter((u) => {
    if (!u.password_expires_at) return false;
    const v = Date.parse(u.password_expires_at);
    switch (op) {
      case "lt":
        return v < t;
      case "lte":
        return v <= t;
      case "gt":
        return v > t;
      case "gte":
        return v >= t;
      case "neq":
        return v !== t;
      default:
        return Math.floor(v / 1000) === Math.floor(t / 1000);
    }
  });
}
