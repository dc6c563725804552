import { BadRequest, Forbidden, NotFound, Unauthorized } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { AuthHttp } from "../manager/auth.js";
import type { ConsumerInput, IssuedOAuthToken } from "../manager/oauth1.js";
import { isDelegated } from "../manager/oauth1.js";
import { consumerUpdate } from "../schemas/oauth1.js";
import type { OAuthAccessTokenRow } from "../store/tables.js";
import { collection } from "../views/common.js";
import { accessTokenRoleView, accessTokenView, consumerView } from "../views/oauth1.js";
import { entity } from "./common.js";
import type { Identity } from "./deps.js";

/** Keystone's _normalize_dict: ':' and '-' in attribute names become '_'. */
function normalize(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) out[k.replaceAll(":", "_").replaceAll("-", "_")] = v;
  return out;
}

function httpOf(ctx: RequestContext): AuthHttp {
  return { method: ctx.method, url: ctx.url, headers: ctx.headers, baseUrl: ctx.baseUrl };
}

/** Request and access tokens are answered form-encoded, as OAuth 1.0 wants. */
function formEncoded(t: IssuedOAuthToken): { status: number; text: string; headers: Record<string, string> } {
  let text = `oauth_token=${t.id}&oauth_token_secret=${t.secret}`;
  if (t.expiresAt) text += `&oauth_expires_at=${t.expiresAt}`;
  return { status: 201, text, headers: { "content-type": "application/x-www-form-urlencoded" } };
}

/** The body of PUT authorize: {"roles": [{"id": …} | {"name": …}, …]}, roles defaulting to []. */
function rolesOf(ctx: RequestContext): Array<{ id?: string; name?: string }> {
  const b = ctx.body as Record<string, unknown> | undefined;
  const roles = b && typeof b === "object" && !Array.isArray(b) ? (b["roles"] ?? []) : [];
  if (!Array.isArray(roles)) throw new BadRequest(`Invalid input for field 'roles': ${JSON.stringify(roles)} is not of type 'array'`);
  for (const r of roles) {
    const keys = r && typeof r === "object" && !Array.isArray(r) ? Object.keys(r as object) : [];
    const [k] = keys;
    const v = k === undefined ? undefined : (r as Record<string, unknown>)[k];
    const ok =
      keys.length === 1 &&
      ((k === "id" && typeof v === "string" && /^[a-zA-Z0-9-_]{1,64}$/.test(v)) ||
        (k === "name" && typeof v === "string" && v.length >= 1 && v.length <= 255 && /\S/.test(v)));
    if (!ok) throw new BadRequest(`Invalid input for field 'roles': ${JSON.stringify(r)} is not valid under the given schema`);
  }
  return roles as Array<{ id?: string; name?: string }>;
}

/**
 * OS-OAUTH1 (keystone/api/os_oauth1.py) and the users' access tokens under
 * /v3/users/{user_id}/OS-OAUTH1 (keystone/api/users.py).
 */
export function oauth1Routes(id: Identity): Route[] {
  const { oauth1 } = id;

  /** Keystone's _block_delegated_token for the access-token routes. */
  const blockDelegated = (ctx: RequestContext): void => {
    const c = ctx.caller;
    const who: { methods: readonly string[]; trustId?: string } = { methods: c.methods };
    if (c.trustId) who.trustId = c.trustId;
    if (isDelegated(who)) throw new Forbidden("You are not authorized to perform the requested action.");
  };

  /** An access token as seen under a user: another user's is "not found" (Keystone's bare NotFound). */
  const ownedToken = async (ctx: RequestContext): Promise<OAuthAccessTokenRow> => {
    const t = await oauth1.getAccessToken(ctx.params["access_token_id"]!);
    // Keystone raises NotFound() without its format argument, so the template itself is the message.
    if (t.authorizing_user_id !== ctx.params["user_id"]) throw new NotFound("Could not find: %(target)s.");
    return t;
  };

  const viewTarget = (ctx: RequestContext): Record<string, unknown> => ({ ...ctx.params });

  return [
    // ---- consumers
    {
      method: "POST",
      path: "/v3/OS-OAUTH1/consumers",
      operation: "createConsumer",
      policy: "identity:create_consumer",
      handler: async (ctx) => {
        ctx.enforce("identity:create_consumer");
        const b = ctx.body as Record<string, unknown> | undefined;
        const raw = b && typeof b === "object" && !Array.isArray(b) ? (b["consumer"] ?? {}) : {};
        if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
          throw new BadRequest(`Invalid input for field 'consumer': ${JSON.stringify(raw)} is not of type 'object'`);
        }
        const input = normalize(raw as Record<string, unknown>) as ConsumerInput;
        const d = input.description;
        if (d !== undefined && d !== null && typeof d !== "string") {
          throw new BadRequest(`Invalid input for field 'description': ${JSON.stringify(d)} is not of type 'string', 'null'`);
        }
        const c = await oauth1.createConsumer(input);
        return { status: 201, body: { consumer: consumerView(ctx, c, true) } };
      },
    },
    {
      method: "GET",
      path: "/v3/OS-OAUTH1/consumers",
      operation: "listConsumers",
      policy: "identity:list_consumers",
      handler: async (ctx) => {
        ctx.enforce("identity:list_consumers");
        const list = await oauth1.listConsumers();
        // Keystone's list_consumers is not truncated by list_limit.
        return { body: collection(ctx, "consumers", list.map((c) => consumerView(ctx, c))) };
      },
    },
    {
      method: "GET",
      path: "/v3/OS-OAUTH1/consumers/:consumer_id",
      operation: "showConsumer",
      policy: "identity:get_consumer",
      handler: async (ctx) => {
        ctx.enforce("identity:get_consumer", viewTarget(ctx));
        const c = await oauth1.getConsumer(ctx.params["consumer_id"]!);
        return { body: { consumer: consumerView(ctx, c) } };
      },
    },
    {
      method: "PATCH",
      path: "/v3/OS-OAUTH1/consumers/:consumer_id",
      operation: "updateConsumer",
      policy: "identity:update_consumer",
      body: consumerUpdate,
      handler: async (ctx) => {
        ctx.enforce("identity:update_consumer", viewTarget(ctx));
        const input = normalize(entity(ctx, "consumer")) as ConsumerInput;
        if (input["id"] !== undefined && input["id"] !== null && input["id"] !== ctx.params["consumer_id"]) {
          throw new BadRequest("Cannot change ID");
        }
        const c = await oauth1.updateConsumer(ctx.params["consumer_id"]!, input);
        return { body: { consumer: consumerView(ctx, c) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/OS-OAUTH1/consumers/:consumer_id",
      operation: "deleteConsumer",
      policy: "identity:delete_consumer",
      handler: async (ctx) => {
        ctx.enforce("identity:delete_consumer", viewTarget(ctx));
        await oauth1.deleteConsumer(ctx.params["consumer_id"]!);
        return { status: 204 };
      },
    },
    // ---- the three-legged flow
    {
      method: "POST",
      path: "/v3/OS-OAUTH1/request_token",
      operation: "createRequestToken",
      auth: "none",
      handler: async (ctx) => formEncoded(await oauth1.createRequestToken(httpOf(ctx))),
    },
    {
      method: "PUT",
      path: "/v3/OS-OAUTH1/authorize/:request_token_id",
      operation: "authorizeRequestToken",
      policy: "identity:authorize_request_token",
      handler: async (ctx) => {
        ctx.enforce("identity:authorize_request_token", viewTarget(ctx));
        const roles = rolesOf(ctx);
        const c = ctx.caller;
        const caller: { userId: string; methods: readonly string[]; trustId?: string } = { userId: c.userId, methods: c.methods };
        if (c.trustId) caller.trustId = c.trustId;
        const v = await oauth1.authorizeRequestToken(ctx.params["request_token_id"]!, roles, caller);
        return { body: { token: { oauth_verifier: v } } };
      },
    },
    {
      method: "POST",
      path: "/v3/OS-OAUTH1/access_token",
      operation: "createAccessToken",
      auth: "none",
      handler: async (ctx) => formEncoded(await oauth1.createAccessToken(httpOf(ctx))),
    },
    // ---- a user's access tokens
    {
      method: "GET",
      path: "/v3/users/:user_id/OS-OAUTH1/access_tokens",
      operation: "listAccessTokens",
      policy: "identity:list_access_tokens",
      handler: async (ctx) => {
        ctx.enforce("identity:list_access_tokens", viewTarget(ctx));
        blockDelegated(ctx);
        const list = await oauth1.listAccessTokens(ctx.params["user_id"]!);
        return { body: collection(ctx, "access_tokens", list.map((t) => accessTokenView(ctx, t))) };
      },
    },
    {
      method: "GET",
      path: "/v3/users/:user_id/OS-OAUTH1/access_tokens/:access_token_id",
      operation: "showAccessToken",
      policy: "identity:get_access_token",
      handler: async (ctx) => {
        ctx.enforce("identity:get_access_token", viewTarget(ctx));
        blockDelegated(ctx);
        const t = await ownedToken(ctx);
        return { body: { access_token: accessTokenView(ctx, t) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/users/:user_id/OS-OAUTH1/access_tokens/:access_token_id",
      operation: "revokeAccessToken",
      // Keystone guards this route with the EC2 credential rule (api/users.py).
      policy: "identity:ec2_delete_credential",
      handler: async (ctx) => {
        ctx.enforce("identity:ec2_delete_credential", viewTarget(ctx));
        blockDelegated(ctx);
        await oauth1.deleteAccessToken(ctx.params["user_id"]!, ctx.params["access_token_id"]!);
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: "/v3/users/:user_id/OS-OAUTH1/access_tokens/:access_token_id/roles",
      operation: "listAccessTokenRoles",
      policy: "identity:list_access_token_roles",
      handler: async (ctx) => {
        ctx.enforce("identity:list_access_token_roles", viewTarget(ctx));
        const t = await ownedToken(ctx);
        const roles = await oauth1.accessTokenRoles(t);
        return { body: collection(ctx, "roles", roles.map((r) => accessTokenRoleView(ctx, r))) };
      },
    },
    {
      method: "GET",
      path: "/v3/users/:user_id/OS-OAUTH1/access_tokens/:access_token_id/roles/:role_id",
      operation: "showAccessTokenRole",
      policy: "identity:get_access_token_role",
      handler: async (ctx) => {
        ctx.enforce("identity:get_access_token_role", viewTarget(ctx));
        const t = await oauth1.getAccessToken(ctx.params["access_token_id"]!);
        if (t.authorizing_user_id !== ctx.params["user_id"]) throw new Unauthorized("The request you have made requires authentication.");
        const roleId = ctx.params["role_id"]!;
        const role = (await oauth1.accessTokenRoles(t)).find((r) => r.id === roleId);
        if (!role) throw new NotFound(`Could not find role: ${roleId}.`);
        return { body: { role: accessTokenRoleView(ctx, role) } };
      },
    },
  ];
}
