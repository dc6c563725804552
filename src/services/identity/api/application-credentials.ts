import { Forbidden } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { AppCredInput } from "../manager/app-creds.js";
import { appCredCreate } from "../schemas/credentials.js";
import { collection } from "../views/common.js";
import { appCredView } from "../views/credentials.js";
import { entity } from "./common.js";
import { blockDelegatedForAppCreds } from "./delegation.js";
import type { Identity } from "./deps.js";

/** /v3/users/{user_id}/application_credentials[/{application_credential_id}] (keystone/api/users.py). */
export function applicationCredentialRoutes(id: Identity): Route[] {
  const { appCreds } = id;

  /**
   * Ownership comes from the credential itself, not from the path, so knowing another user's
   * credential id and putting one's own user id in the URL gets nowhere (Keystone's
   * _update_request_user_id_attribute).
   */
  const enforceOnOne = async (ctx: RequestContext, rule: string): Promise<void> => {
    const acId = ctx.params["application_credential_id"]!;
    const ac = await appCreds.find(acId);
    const userId = ac ? ac.user_id : ctx.params["user_id"]!;
    ctx.enforce(rule, { user_id: userId, application_credential_id: acId, ...(ac ? { target: { user_id: ac.user_id } } : {}) });
    blockDelegatedForAppCreds(ctx.caller);
  };

  return [
    {
      method: "POST",
      path: "/v3/users/:user_id/application_credentials",
      operation: "createApplicationCredential",
      policy: "identity:create_application_credential",
      body: appCredCreate,
      handler: async (ctx) => {
        const userId = ctx.params["user_id"]!;
        ctx.enforce("identity:create_application_credential", { user_id: userId });
        const input = entity<AppCredInput>(ctx, "application_credential");
        const caller = ctx.caller;
        blockDelegatedForAppCreds(caller);
        if (caller.methods.includes("application_credential")) await appCreds.assertUnrestricted(caller.appCredId);
        if (caller.userId !== userId) {
          throw new Forbidden("You are not authorized to perform the requested action: Cannot create an application credential for another user.");
        }
        // The policy's scope type is project: the credential is bound to the token's project.
        if (!caller.projectId) {
          throw new Forbidden("You are not authorized to perform the requested action: identity:create_application_credential.");
        }
        const { record, secret } = await appCreds.create(
          { userId, projectId: caller.projectId, tokenRoleIds: caller.roles.map((r) => r.id) },
          input,
        );
        return { status: 201, body: { application_credential: appCredView(ctx, record, secret) } };
      },
    },
    {
      method: "GET",
      path: "/v3/users/:user_id/application_credentials",
      operation: "listApplicationCredentials",
      policy: "identity:list_application_credentials",
      handler: async (ctx) => {
        const userId = ctx.params["user_id"]!;
        const name = ctx.q("name");
        ctx.enforce("identity:list_application_credentials", { user_id: userId, ...(name !== undefined ? { filter_attr: { name } } : {}) });
        blockDelegatedForAppCreds(ctx.caller);
        const list = await appCreds.list(userId, name !== undefined ? { name } : {});
        return { body: collection(ctx, "application_credentials", list.map((a) => appCredView(ctx, a))) };
      },
    },
    {
      method: "GET",
      path: "/v3/users/:user_id/application_credentials/:application_credential_id",
      operation: "showApplicationCredential",
      policy: "identity:get_application_credential",
      handler: async (ctx) => {
        await enforceOnOne(ctx, "identity:get_application_credential");
        const a = await appCreds.get(ctx.params["application_credential_id"]!);
        return { body: { application_credential: appCredView(ctx, a) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/users/:user_id/application_credentials/:application_credential_id",
      operation: "deleteApplicationCredential",
      policy: "identity:delete_application_credential",
      handler: async (ctx) => {
        await enforceOnOne(ctx, "identity:delete_application_credential");
        const caller = ctx.caller;
        if (caller.methods.includes("application_credential")) await appCreds.assertUnrestricted(caller.appCredId);
        await appCreds.delete(ctx.params["application_credential_id"]!);
        return { status: 204 };
      },
    },
  ];
}
