import type { RequestContext, Route } from "../../../http/context.js";
import type { CredentialInput, CredentialRecord } from "../manager/credentials.js";
import { credentialCreate, credentialUpdate } from "../schemas/credentials.js";
import { limited } from "../views/common.js";
import { credentialView } from "../views/credentials.js";
import { entity } from "./common.js";
import { isDelegated, requirePrimaryAuth } from "./delegation.js";
import type { Identity } from "./deps.js";

const target = (c: Pick<CredentialRecord, "id" | "user_id" | "project_id" | "type">): Record<string, unknown> => ({
  target: { credential: { id: c.id, user_id: c.user_id, project_id: c.project_id, type: c.type } },
});

/** /v3/credentials (keystone/api/credentials.py). */
export function credentialRoutes(id: Identity): Route[] {
  const { credentials } = id;

  /** Enforce on the credential when it exists (as Keystone's build_target), then 404. */
  const load = async (ctx: RequestContext, rule: string): Promise<CredentialRecord> => {
    const credentialId = ctx.params["credential_id"]!;
    const c = await credentials.find(credentialId);
    ctx.enforce(rule, { credential_id: credentialId, ...(c ? target(c) : {}) });
    return c ?? credentials.get(credentialId);
  };

  return [
    {
      method: "POST",
      path: "/v3/credentials",
      operation: "createCredential",
      policy: "identity:create_credential",
      body: credentialCreate,
      handler: async (ctx) => {
        const input = entity<CredentialInput>(ctx, "credential");
        ctx.enforce("identity:create_credential", { target: { credential: { user_id: input.user_id, project_id: input.project_id ?? null, type: input.type } } });
        requirePrimaryAuth(ctx.caller);
        const c = await credentials.create(input);
        return { status: 201, body: { credential: credentialView(ctx, c) } };
      },
    },
    {
      method: "GET",
      path: "/v3/credentials",
      operation: "listCredentials",
      policy: "identity:list_credentials",
      handler: async (ctx) => {
        const caller = ctx.caller;
        ctx.enforce("identity:list_credentials", caller.system ? {} : { target: { credential: { user_id: caller.userId } } });
        const f: Parameters<typeof credentials.list>[0] = {};
        const userId = ctx.q("user_id");
        if (userId !== undefined) f.userId = userId;
        const type = ctx.q("type");
        if (type !== undefined) f.type = type;
        // Each credential is checked again, so a caller sees only those it may read; a
        // delegated token sees none.
        const all = await credentials.list(f);
        const visible = all.filter((c) => ctx.allowed("identity:get_credential", target(c)));
        const list = isDelegated(caller) ? [] : visible;
        return { body: limited(ctx, "credentials", list.map((c) => credentialView(ctx, c)), id.core.config.identity.listLimit) };
      },
    },
    {
      method: "GET",
      path: "/v3/credentials/:credential_id",
      operation: "showCredential",
      policy: "identity:get_credential",
      handler: async (ctx) => {
        const c = await load(ctx, "identity:get_credential");
        requirePrimaryAuth(ctx.caller);
        return { body: { credential: credentialView(ctx, c) } };
      },
    },
    {
      method: "PATCH",
      path: "/v3/credentials/:credential_id",
      operation: "updateCredential",
      policy: "identity:update_credential",
      body: credentialUpdate,
      handler: async (ctx) => {
        const cur = await load(ctx, "identity:update_credential");
        requirePrimaryAuth(ctx.caller);
        const next = credentials.merged(cur, entity<CredentialInput>(ctx, "credential"));
        // The result must be one the caller could own too: no handing a credential to
        // another user or project the policy would not allow.
        ctx.enforce("identity:update_credential", { credential_id: cur.id, ...target(next) });
        const c = await credentials.update(cur.id, next);
        return { body: { credential: credentialView(ctx, c) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/credentials/:credential_id",
      operation: "deleteCredential",
      policy: "identity:delete_credential",
      handler: async (ctx) => {
        const c = await load(ctx, "identity:delete_credential");
        requirePrimaryAuth(ctx.caller);
        await credentials.delete(c.id);
        return { status: 204 };
      },
    },
  ];
}
