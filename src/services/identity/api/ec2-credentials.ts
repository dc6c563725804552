import { NotFound, Unauthorized } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { CredentialRecord } from "../manager/credentials.js";
import { EC2, hashAccessKey } from "../manager/credentials.js";
import { collection } from "../views/common.js";
import { ec2View } from "../views/credentials.js";
import { requirePrimaryAuth } from "./delegation.js";
import type { Identity } from "./deps.js";

/** /v3/users/{user_id}/credentials/OS-EC2[/{credential_id}] (keystone/api/users.py). */
export function ec2CredentialRoutes(id: Identity): Route[] {
  const { credentials, users, resources } = id;

  /**
   * The credential named by its access key, loaded before the policy check as Keystone's
   * build_target does (so a missing one is a 404 for anyone).
   */
  const load = async (ctx: RequestContext, rule: string): Promise<CredentialRecord> => {
    const userId = ctx.params["user_id"]!;
    const access = ctx.params["credential_id"]!;
    const c = await credentials.get(hashAccessKey(access));
    ctx.enforce(rule, {
      user_id: userId,
      credential_id: access,
      target: { credential: { id: c.id, user_id: c.user_id, project_id: c.project_id, type: c.type } },
    });
    await users.getUser(userId);
    // Not an EC2 credential: Keystone answers as for an unknown access key.
    if (c.type !== EC2) throw new Unauthorized();
    requirePrimaryAuth(ctx.caller);
    return c;
  };

  return [
    {
      method: "POST",
      path: "/v3/users/:user_id/credentials/OS-EC2",
      operation: "createEc2Credential",
      policy: "identity:ec2_create_credential",
      handler: async (ctx) => {
        const userId = ctx.params["user_id"]!;
        ctx.enforce("identity:ec2_create_credential", { user_id: userId, target: { credential: { user_id: userId } } });
        await users.getUser(userId);
        const b = ctx.body;
        const tenant = b && typeof b === "object" && !Array.isArray(b) ? (b as Record<string, unknown>)["tenant_id"] : undefined;
        const project = typeof tenant === "string" ? await resources.findProject(tenant) : undefined;
        if (!project) throw new NotFound(`Could not find project: ${typeof tenant === "string" ? tenant : "None"}.`);
        requirePrimaryAuth(ctx.caller);
        const c = await credentials.createEc2(userId, project.id, ctx.caller.trustId ?? null);
        return { status: 201, body: { credential: ec2View(ctx, c) } };
      },
    },
    {
      method: "GET",
      path: "/v3/users/:user_id/credentials/OS-EC2",
      operation: "listEc2Credentials",
      policy: "identity:ec2_list_credentials",
      handler: async (ctx) => {
        const userId = ctx.params["user_id"]!;
        // Keystone passes no target here, so under enforce_new_defaults its own rule
        // ("member and user_id:%(target.credential.user_id)s") refuses even the owner; the
        // credentials listed are the path user's, so that is the owner the rule names.
        ctx.enforce("identity:ec2_list_credentials", { user_id: userId, target: { credential: { user_id: userId } } });
        requirePrimaryAuth(ctx.caller);
        await users.getUser(userId);
        const list = await credentials.list({ userId, type: EC2 });
        return { body: collection(ctx, "credentials", list.map((c) => ec2View(ctx, c))) };
      },
    },
    {
      method: "GET",
      path: "/v3/users/:user_id/credentials/OS-EC2/:credential_id",
      operation: "showEc2Credential",
      policy: "identity:ec2_get_credential",
      handler: async (ctx) => ({ body: { credential: ec2View(ctx, await load(ctx, "identity:ec2_get_credential")) } }),
    },
    {
      method: "DELETE",
      path: "/v3/users/:user_id/credentials/OS-EC2/:credential_id",
      operation: "deleteEc2Credential",
      policy: "identity:ec2_delete_credential",
      handler: async (ctx) => {
        const c = await load(ctx, "identity:ec2_delete_credential");
        await credentials.delete(c.id);
        return { status: 204 };
      },
    },
  ];
}
