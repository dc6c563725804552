import { NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Trust, TrustInput } from "../manager/trusts.js";
import { forbiddenAction, isDelegatedMethod } from "../manager/trusts.js";
import { validateTrustCreate } from "../schemas/trusts.js";
import { collection } from "../views/common.js";
import { roleView } from "../views/roles.js";
import { trustRolesLinks, trustView } from "../views/trusts.js";
import type { Identity } from "./deps.js";

/**
 * Delegated tokens (application credential, OAuth1, EC2) may not read or manage trusts
 * (keystone/api/trusts.py _check_delegated_token). Trust-scoped tokens may: that is
 * redelegation and trustee self-service.
 */
function checkDelegated(ctx: RequestContext): void {
  if (isDelegatedMethod(ctx.caller.methods)) throw forbiddenAction("Delegated tokens cannot manage trusts.");
}

export function trustRoutes(id: Identity): Route[] {
  const { trusts } = id;

  /**
   * Keystone looks the trust up to build the policy target, so a missing (or expired, or
   * used-up) trust is 404 before policy is checked (lp#1840288).
   */
  const enforceOn = async (ctx: RequestContext, rule: string): Promise<Trust> => {
    const t = await trusts.get(ctx.params["trust_id"]!);
    ctx.enforce(rule, {
      target: { trust: { id: t.row.id, trustor_user_id: t.row.trustor_user_id, trustee_user_id: t.row.trustee_user_id, project_id: t.row.project_id } },
    });
    checkDelegated(ctx);
    return t;
  };

  return [
    {
      method: "POST",
      path: "/v3/OS-TRUST/trusts",
      operation: "createTrust",
      policy: "identity:create_trust",
      handler: async (ctx) => {
        const b = ctx.body as Record<string, unknown> | undefined;
        const raw = b && typeof b === "object" ? b["trust"] : undefined;
        const trust = raw && typeof raw === "object" && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
        ctx.enforce("identity:create_trust", { target: { trust } });
        validateTrustCreate(trust);
        checkDelegated(ctx);
        const caller: { userId: string; parentTrustId?: string } = { userId: ctx.caller.userId };
        if (ctx.caller.trustId) caller.parentTrustId = ctx.caller.trustId;
        const t = await trusts.create(trust as TrustInput, caller);
        return { status: 201, body: { trust: trustView(ctx, t.row, await trusts.roles(t)) } };
      },
    },
    {
      method: "GET",
      path: "/v3/OS-TRUST/trusts",
      operation: "listTrusts",
      policy: "identity:list_trusts",
      handler: async (ctx) => {
        const trustor = ctx.q("trustor_user_id");
        const trustee = ctx.q("trustee_user_id");
        // Keystone: the trustor filter wins over the trustee filter; any other query (or an
        // empty filter) lists nothing rather than everything.
        let list;
        if (trustor) {
          ctx.enforce("identity:list_trusts_for_trustor", { target: { trust: { trustor_user_id: trustor } } });
          checkDelegated(ctx);
          list = await trusts.list({ trustorId: trustor });
        } else if (trustee) {
          ctx.enforce("identity:list_trusts_for_trustee", { target: { trust: { trustee_user_id: trustee } } });
          checkDelegated(ctx);
          list = await trusts.list({ trusteeId: trustee });
        } else {
          ctx.enforce("identity:list_trusts");
          checkDelegated(ctx);
          list = Object.keys(ctx.query).length === 0 ? await trusts.list({}) : [];
        }
        return { body: collection(ctx, "trusts", list.map((t) => trustView(ctx, t))) };
      },
    },
    {
      method: "GET",
      path: "/v3/OS-TRUST/trusts/:trust_id",
      operation: "showTrust",
      policy: "identity:get_trust",
      handler: async (ctx) => {
        const t = await enforceOn(ctx, "identity:get_trust");
        return { body: { trust: trustView(ctx, t.row, await trusts.roles(t)) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/OS-TRUST/trusts/:trust_id",
      operation: "deleteTrust",
      policy: "identity:delete_trust",
      handler: async (ctx) => {
        const t = await enforceOn(ctx, "identity:delete_trust");
        await trusts.delete(t.row.id);
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: "/v3/OS-TRUST/trusts/:trust_id/roles",
      operation: "listTrustRoles",
      policy: "identity:list_roles_for_trust",
      handler: async (ctx) => {
        const t = await enforceOn(ctx, "identity:list_roles_for_trust");
        const roles = await trusts.roles(t);
        return { body: { roles: roles.map((r) => roleView(ctx, r)), links: trustRolesLinks(ctx, t.row) } };
      },
    },
    {
      method: "GET",
      path: "/v3/OS-TRUST/trusts/:trust_id/roles/:role_id",
      operation: "showTrustRole",
      policy: "identity:get_role_for_trust",
      handler: async (ctx) => {
        const t = await enforceOn(ctx, "identity:get_role_for_trust");
        const roleId = ctx.params["role_id"]!;
        if (!t.roleIds.includes(roleId)) throw new NotFound(`Could not find role: ${roleId}.`);
        const role = await id.assignments.getRole(roleId);
        return { body: { role: roleView(ctx, role) } };
      },
    },
  ];
}
