import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { UserFilter, UserInput, UserRecord } from "../manager/users.js";
import { parseExpiryFilter } from "../manager/users.js";
import { passwordChange, userCreate, userUpdate } from "../schemas/users.js";
import { collection, limited } from "../views/common.js";
import { projectView } from "../views/resource.js";
import { groupView, userView } from "../views/users.js";
import { boolQuery, entity, inexactFilter } from "./common.js";
import type { Identity } from "./deps.js";

const target = (u: { id: string; domain_id: string } | undefined): Record<string, unknown> => ({
  target: u ? { user: { id: u.id, domain_id: u.domain_id } } : {},
});

/** The filters keystone/api/users.py accepts on GET /v3/users. */
const USER_FILTERS = ["domain_id", "enabled", "idp_id", "name", "protocol_id", "unique_id", "password_expires_at"];

export function userRoutes(id: Identity): Route[] {
  const { users, resources } = id;

  /**
   * Keystone builds the target before it knows whether the user exists, so a caller the
   * policy refuses gets 403 for a missing user too; only an allowed caller learns it is 404.
   */
  const load = async (ctx: RequestContext, rule: string): Promise<UserRecord> => {
    let u: UserRecord | undefined;
    let missing: unknown;
    try {
      u = await users.getUser(ctx.params["user_id"]!);
    } catch (e) {
      if (!(e instanceof NotFound)) throw e;
      missing = e;
    }
    ctx.enforce(rule, target(u));
    if (!u) throw missing;
    return u;
  };

  /** identity/core.py _assert_default_project_id_is_not_domain (a missing project is fine). */
  const checkDefaultProject = async (projectId: string | null | undefined): Promise<void> => {
    if (!projectId) return;
    const p = await resources.findProject(projectId);
    if (p?.is_domain === 1) throw new BadRequest(`User's default project ID cannot be a domain ID: ${projectId}`);
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
        ctx.enforce("identity:create_user", { target: { user: { ...input, password: undefined } } });
        const caller = ctx.caller;
        // No domain_id: the token's domain, else the default domain (Keystone's _normalize_domain_id).
        if (!input.domain_id) input.domain_id = caller.domainId ?? "default";
        if (typeof input.password === "string") users.validatePasswordRules(input.password);
        const d = await resources.findDomain(input.domain_id);
        if (!d) throw new NotFound(`Could not find domain: ${input.domain_id}.`);
        await checkDefaultProject(input.default_project_id);
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
        // The target is the token's domain, never the query: a filter does not grant anything.
        const tokenDomain = ctx.caller.domainId;
        ctx.enforce("identity:list_users", tokenDomain ? { target: { domain_id: tokenDomain } } : {});
        const f: UserFilter = {};
        const name = ctx.q("name");
        if (name !== undefined) f.name = name;
        const domainId = ctx.q("domain_id");
        if (domainId !== undefined) f.domainId = domainId;
        const en = boolQuery(ctx, "enabled");
        if (en !== undefined) f.enabled = en;
        const pea = ctx.q("password_expires_at");
        if (pea !== undefined) f.passwordExpires = parseExpiryFilter(pea);
        if (["idp_id", "protocol_id", "unique_id"].some((k) => ctx.q(k) !== undefined)) f.federated = true;
        let list = await users.listUsers(f);
        // A domain-scoped caller only ever sees its own domain's users.
        if (tokenDomain) list = list.filter((u) => u.domain_id === tokenDomain);
        const views = list.map((u) => userView(ctx, u)).filter(inexactFilter(ctx, USER_FILTERS));
        return { body: limited(ctx, "users", views, id.core.config.identity.listLimit) };
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
        // Clients (tempest's update_user) echo the id; only a different one is refused.
        if (input.id !== undefined && input.id !== null && input.id !== cur.id) throw new BadRequest("Cannot change ID");
        await checkDefaultProject(input.default_project_id);
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
      // Self-service and unenforced in Keystone: knowing the original password is the proof.
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
        let list = await users.listGroups(f);
        const tokenDomain = ctx.caller.domainId;
        if (tokenDomain) list = list.filter((g) => g.domain_id === tokenDomain);
        // Keystone marks every membership with its expiry; plain memberships never expire.
        return {
          body: collection(
            ctx,
            "groups",
            list.map((g) => ({ ...groupView(ctx, g), membership_expires_at: null })),
          ),
        };
      },
    },
  ];
}
