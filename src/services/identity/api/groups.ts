import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { UserFilter, UserRecord } from "../manager/users.js";
import { groupCreate, groupUpdate } from "../schemas/users.js";
import type { GroupRow } from "../store/tables.js";
import { DEFAULT_DOMAIN_ID } from "../store/tables.js";
import { limited } from "../views/common.js";
import { groupView, userView } from "../views/users.js";
import { boolQuery, entity } from "./common.js";
import type { Identity } from "./deps.js";

type GroupInput = { name: string; domain_id?: string; description?: string | null; id?: string; [k: string]: unknown };

const groupTarget = (g: GroupRow): Record<string, unknown> => ({
  id: g.id,
  name: g.name,
  domain_id: g.domain_id,
  description: g.description,
});

/**
 * /v3/groups and group membership (keystone/api/groups.py). Targets are built from the
 * stored group and user when they exist; a missing one is left out, so the policy decides
 * (403) before the 404 for callers who may not look.
 */
export function groupRoutes(id: Identity): Route[] {
  const { users, resources } = id;
  const listLimit = (): number => id.core.config.identity.listLimit;

  const findGroup = async (groupId: string): Promise<GroupRow | undefined> => {
    try {
      return await users.getGroup(groupId);
    } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
  };
  const findUser = async (userId: string): Promise<UserRecord | undefined> => {
    try {
      return await users.getUser(userId);
    } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
  };
  const membershipTarget = async (ctx: RequestContext): Promise<Record<string, unknown>> => {
    const t: Record<string, unknown> = {};
    const g = await findGroup(ctx.params["group_id"]!);
    if (g) t["group"] = groupTarget(g);
    const u = await findUser(ctx.params["user_id"]!);
    if (u) t["user"] = { id: u.id, name: u.name, domain_id: u.domain_id, enabled: u.enabled === 1 };
    return { target: t };
  };

  return [
    {
      method: "POST",
      path: "/v3/groups",
      operation: "createGroup",
      policy: "identity:create_group",
      body: groupCreate,
      handler: async (ctx) => {
        const raw = entity<GroupInput>(ctx, "group");
        ctx.enforce("identity:create_group", { target: { group: raw } });
        // Keystone normalises attribute names ("a:b-c" → "a_b_c") and, without a domain_id,
        // uses the token's domain or else the default domain.
        const input = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.replace(/[:-]/g, "_"), v])) as GroupInput;
        if (!input.domain_id) input.domain_id = ctx.caller.domainId ?? DEFAULT_DOMAIN_ID;
        if (!(await resources.findDomain(input.domain_id))) throw new NotFound(`Could not find domain: ${input.domain_id}.`);
        delete input.id;
        const g = await users.createGroup(input as GroupInput & { domain_id: string });
        return { status: 201, body: { group: groupView(ctx, g) } };
      },
    },
    {
      method: "GET",
      path: "/v3/groups",
      operation: "listGroups",
      policy: "identity:list_groups",
      handler: async (ctx) => {
        const scopedDomain = ctx.caller.domainId;
        ctx.enforce("identity:list_groups", scopedDomain ? { target: { group: { domain_id: scopedDomain } } } : {});
        const f: Parameters<typeof users.listGroups>[0] = {};
        const name = ctx.q("name");
        if (name !== undefined) f.name = name;
        const domainId = ctx.q("domain_id");
        if (domainId !== undefined) f.domainId = domainId;
        let list = inexact(ctx, await users.listGroups(f), ["name", "domain_id"]);
        // A domain-scoped caller only ever sees its own domain's groups.
        if (scopedDomain) list = list.filter((g) => g.domain_id === scopedDomain);
        return { body: limited(ctx, "groups", list.map((g) => groupView(ctx, g)), listLimit()) };
      },
    },
    {
      method: "GET",
      path: "/v3/groups/:group_id",
      operation: "showGroup",
      policy: "identity:get_group",
      handler: async (ctx) => {
        const g = await findGroup(ctx.params["group_id"]!);
        ctx.enforce("identity:get_group", { target: g ? { group: groupTarget(g) } : {} });
        if (!g) throw new NotFound(`Could not find group: ${ctx.params["group_id"]!}.`);
        return { body: { group: groupView(ctx, g) } };
      },
    },
    {
      method: "PATCH",
      path: "/v3/groups/:group_id",
      operation: "updateGroup",
      policy: "identity:update_group",
      body: groupUpdate,
      handler: async (ctx) => {
        const groupId = ctx.params["group_id"]!;
        const g = await findGroup(groupId);
        ctx.enforce("identity:update_group", { target: g ? { group: groupTarget(g) } : {} });
        const input = entity<Partial<GroupInput>>(ctx, "group");
        if (input.id !== undefined && input.id !== null && input.id !== groupId) throw new BadRequest("Cannot change ID");
        delete input.id;
        const updated = await users.updateGroup(groupId, input);
        return { body: { group: groupView(ctx, updated) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/groups/:group_id",
      operation: "deleteGroup",
      policy: "identity:delete_group",
      handler: async (ctx) => {
        // Keystone loads the member (404) before enforcing this one.
        const g = await users.getGroup(ctx.params["group_id"]!);
        ctx.enforce("identity:delete_group", { target: { group: groupTarget(g) } });
        await users.deleteGroup(g.id);
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: "/v3/groups/:group_id/users",
      operation: "listUsersInGroup",
      policy: "identity:list_users_in_group",
      handler: async (ctx) => {
        const groupId = ctx.params["group_id"]!;
        const g = await findGroup(groupId);
        ctx.enforce("identity:list_users_in_group", g ? { target: { group: groupTarget(g) } } : {});
        const f: Omit<UserFilter, "ids"> = {};
        const name = ctx.q("name");
        if (name !== undefined) f.name = name;
        const domainId = ctx.q("domain_id");
        if (domainId !== undefined) f.domainId = domainId;
        const enabled = boolQuery(ctx, "enabled");
        if (enabled !== undefined) f.enabled = enabled;
        let list = inexact(ctx, await users.listUsersInGroup(groupId, f), ["name", "domain_id"]);
        const pea = ctx.q("password_expires_at");
        if (pea !== undefined) list = passwordExpiresFilter(list, pea);
        const scopedDomain = ctx.caller.domainId;
        if (scopedDomain) list = list.filter((u) => u.domain_id === scopedDomain);
        return { body: limited(ctx, "users", list.map((u) => userView(ctx, u)), listLimit()) };
      },
    },
    {
      method: "PUT",
      path: "/v3/groups/:group_id/users/:user_id",
      operation: "addUserToGroup",
      policy: "identity:add_user_to_group",
      handler: async (ctx) => {
        ctx.enforce("identity:add_user_to_group", await membershipTarget(ctx));
        await users.addMember(ctx.params["group_id"]!, ctx.params["user_id"]!);
        return { status: 204 };
      },
    },
    ...(["GET", "HEAD"] as const).map(
      (method): Route => ({
        method,
        path: "/v3/groups/:group_id/users/:user_id",
        operation: "checkUserInGroup",
        policy: "identity:check_user_in_group",
        handler: async (ctx) => {
          ctx.enforce("identity:check_user_in_group", await membershipTarget(ctx));
          const groupId = ctx.params["group_id"]!;
          const userId = ctx.params["user_id"]!;
          if (!(await users.isMember(groupId, userId))) throw new NotFound(`User '${userId}' not found in group '${groupId}'`);
          return { status: 204 };
        },
      }),
    ),
    {
      method: "DELETE",
      path: "/v3/groups/:group_id/users/:user_id",
      operation: "removeUserFromGroup",
      policy: "identity:remove_user_from_group",
      handler: async (ctx) => {
        ctx.enforce("identity:remove_user_from_group", await membershipTarget(ctx));
        await users.removeMember(ctx.params["group_id"]!, ctx.params["user_id"]!);
        return { status: 204 };
      },
    },
  ];
}

/**
 * Keystone's inexact list filters (`name__contains=x`, `name__istartswith=x`, …) on the given
 * attributes; an `i` before the comparator makes it case-insensitive.
 */
function inexact<T extends object>(ctx: RequestContext, list: T[], attrs: readonly string[]): T[] {
  let out = list;
  for (const key of Object.keys(ctx.query)) {
    const m = /^(.+?)__(i?)(contains|startswith|endswith|equals)$/.exec(key);
    if (!m || !attrs.includes(m[1]!)) continue;
    const attr = m[1]!;
    const fold = m[2] === "i";
    const want = fold ? (ctx.q(key) ?? "").toLowerCase() : (ctx.q(key) ?? "");
    out = out.filter((x) => {
      const raw = (x as Record<string, unknown>)[attr];
      if (typeof raw !== "string") return false;
      const v = fold ? raw.toLowerCase() : raw;
      switch (m[3]) {
        case "contains":
          return v.includes(want);
        case "startswith":
          return v.startsWith(want);
        case "endswith":
          return v.endsWith(want);
        default:
          return v === want;
      }
    });
  }
  return out;
}

/** ?password_expires_at=[lt|lte|gt|gte|eq|neq:]<timestamp>, as identity/core.py reads it. */
function passwordExpiresFilter(list: UserRecord[], spec: string): UserRecord[] {
  let op = "eq";
  let stamp = spec;
  if (spec.slice(2, 4).includes(":")) {
    const i = spec.indexOf(":");
    op = spec.slice(0, i);
    stamp = spec.slice(i + 1);
  }
  const t = /^\d{4}-\d{2}-\d{2}/.test(stamp) ? Date.parse(stamp) : Number.NaN;
  if (Number.isNaN(t)) {
    throw new BadRequest(
      "Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
    );
  }
  const cmp: Record<string, (a: number, b: number) => boolean> = {
    lt: (a, b) => a < b,
    lte: (a, b) => a <= b,
    gt: (a, b) => a > b,
    gte: (a, b) => a >= b,
    eq: (a, b) => a === b,
    neq: (a, b) => a !== b,
  };
  const fn = cmp[op];
  if (!fn) {
    throw new BadRequest(`The given operator ${op} is not valid. It must be one of the following: 'eq', 'neq', 'lt', 'lte', 'gt', or 'gte'.`);
  }
  return list.filter((u) => u.password_expires_at !== null && fn(Date.parse(u.password_expires_at), t));
}
