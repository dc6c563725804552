import { Forbidden, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { AuthRequest } from "../manager/auth.js";
import { revoke } from "../store/revoke.js";
import { authRequest } from "../schemas/auth.js";
import type { TokenData } from "../tokens/provider.js";
import { collection } from "../views/common.js";
import { domainView, projectView } from "../views/resource.js";
import { tokenView } from "../views/tokens.js";
import { flag } from "./common.js";
import type { Identity } from "./deps.js";

export function authRoutes(id: Identity): Route[] {
  const { auth, tokens } = id;

  const subject = async (ctx: RequestContext, rule: string): Promise<TokenData> => {
    const sub = ctx.header("x-subject-token");
    if (!sub) throw new NotFound("Could not find token.");
    const t = await tokens.validate(sub, { allowExpired: flag(ctx, "allow_expired") });
    ctx.enforce(rule, { target: { token: { user_id: t.user.id } } });
    // A validator that does not say it enforces access rules must not be handed a token that
    // carries them (keystonemiddleware sends the header), or it would honour it unrestricted.
    if (t.accessRules && t.accessRules.length > 0 && !ctx.header("openstack-identity-access-rules")) {
      throw new NotFound("Failed to validate token");
    }
    return t;
  };

  const render = async (ctx: RequestContext, t: TokenData, status: number) => {
    const catalog = flag(ctx, "nocatalog") ? undefined : await tokens.catalogFor(t);
    return { status, headers: { "x-subject-token": t.id }, body: { token: tokenView(t, catalog) } };
  };

  return [
    {
      method: "POST",
      path: "/v3/auth/tokens",
      operation: "authenticate",
      auth: "none",
      body: authRequest,
      handler: async (ctx) => {
        const req = (ctx.body as { auth: AuthRequest }).auth;
        const t = await auth.authenticate(req, { method: ctx.method, url: ctx.url, headers: ctx.headers, baseUrl: ctx.baseUrl });
        return render(ctx, t, 201);
      },
    },
    {
      method: "GET",
      path: "/v3/auth/tokens",
      operation: "validateToken",
      policy: "identity:validate_token",
      handler: async (ctx) => render(ctx, await subject(ctx, "identity:validate_token"), 200),
    },
    {
      method: "HEAD",
      path: "/v3/auth/tokens",
      operation: "checkToken",
      policy: "identity:check_token",
      handler: async (ctx) => {
        const t = await subject(ctx, "identity:check_token");
        return { status: 200, headers: { "x-subject-token": t.id } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/auth/tokens",
      operation: "revokeToken",
      policy: "identity:revoke_token",
      handler: async (ctx) => {
        const t = await subject(ctx, "identity:revoke_token");
        await id.core.write(async (trx) => {
          await revoke(trx, { audit_id: t.payload.auditIds[0]!, expires_at: t.payload.expiresAt.toISOString() }, id.core.now());
        });
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: "/v3/auth/catalog",
      operation: "getAuthCatalog",
      policy: "identity:get_auth_catalog",
      handler: async (ctx) => {
        ctx.enforce("identity:get_auth_catalog");
        const t = await tokens.validate(ctx.caller.tokenId);
        if (t.payload.scope.kind !== "project") {
          throw new Forbidden("A project-scoped token is required to produce a service catalog.");
        }
        const catalog = await tokens.catalogFor(t);
        return { body: { catalog, links: { self: `${ctx.baseUrl}${ctx.url}` } } };
      },
    },
    {
      method: "GET",
      path: "/v3/auth/projects",
      operation: "getAuthProjects",
      policy: "identity:get_auth_projects",
      handler: async (ctx) => {
        ctx.enforce("identity:get_auth_projects");
        const ids = await id.assignments.projectIdsForUser(ctx.caller.userId);
        // Disabled projects are listed too (with enabled: false), as Keystone lists them.
        const list = await id.resources.listProjects({ ids, isDomain: false });
        return { body: collection(ctx, "projects", list.map((p) => projectView(ctx, p))) };
      },
    },
    {
      method: "GET",
      path: "/v3/auth/domains",
      operation: "getAuthDomains",
      policy: "identity:get_auth_domains",
      handler: async (ctx) => {
        ctx.enforce("identity:get_auth_domains");
        const ids = await id.assignments.domainIdsForUser(ctx.caller.userId);
        const list = await id.resources.listDomains({ ids, enabled: true });
        return { body: collection(ctx, "domains", list.map((d) => domainView(ctx, d))) };
      },
    },
    {
      method: "GET",
      path: "/v3/auth/system",
      operation: "getAuthSystem",
      policy: "identity:get_auth_system",
      handler: async (ctx) => {
        ctx.enforce("identity:get_auth_system");
        const roles = await id.assignments.effectiveSystemRoles(ctx.caller.userId);
        return { body: { system: roles.length > 0 ? [{ all: true }] : [], links: { self: `${ctx.baseUrl}${ctx.url}` } } };
      },
    },
  ];
}
