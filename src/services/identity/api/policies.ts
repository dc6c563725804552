import type { RequestContext, Route } from "../../../http/context.js";
import type { Input } from "../manager/catalog.js";
import { policyCreate, policyUpdate } from "../schemas/catalog.js";
import type { AssociationTarget } from "../store/catalog.js";
import { endpointRawView, policyView } from "../views/catalog.js";
import { collection, limited } from "../views/common.js";
import { entity } from "./common.js";
import type { Identity } from "./deps.js";

const EPP = "OS-ENDPOINT-POLICY";

/**
 * /v3/policies (keystone/api/policy.py, deprecated upstream but served) and the
 * OS-ENDPOINT-POLICY associations of a policy with an endpoint, a service, or a service in a
 * region (keystone/endpoint_policy).
 */
export function policyRoutes(id: Identity): Route[] {
  const { catalog } = id;

  /** One association kind: GET checks (204), PUT creates (204), DELETE removes (204). */
  const association = (
    suffix: string,
    kind: "endpoint" | "service" | "region_and_service",
    operation: string,
    lookup: (ctx: RequestContext) => Promise<AssociationTarget>,
  ): Route[] => {
    const path = `/v3/policies/:policy_id/${EPP}/${suffix}`;
    const make = (method: "GET" | "PUT" | "DELETE", verb: "check" | "create" | "delete"): Route => {
      const rule = `identity:${verb}_policy_association_for_${kind}`;
      return {
        method,
        path,
        operation: `${verb}${operation}`,
        policy: rule,
        handler: async (ctx) => {
          ctx.enforce(rule, { ...ctx.params });
          const policyId = ctx.params["policy_id"]!;
          await catalog.getPolicy(policyId);
          const t = await lookup(ctx);
          if (verb === "check") await catalog.checkPolicyAssociation(policyId, t);
          else if (verb === "create") await catalog.createPolicyAssociation(policyId, t);
          else await catalog.deletePolicyAssociation(policyId, t);
          return { status: 204 };
        },
      };
    };
    return [make("GET", "check"), make("PUT", "create"), make("DELETE", "delete")];
  };

  return [
    {
      method: "POST",
      path: "/v3/policies",
      operation: "createPolicy",
      policy: "identity:create_policy",
      body: policyCreate,
      handler: async (ctx) => {
        ctx.enforce("identity:create_policy");
        const pol = await catalog.createPolicy(entity<Input>(ctx, "policy"));
        return { status: 201, body: { policy: policyView(ctx, pol) } };
      },
    },
    {
      method: "GET",
      path: "/v3/policies",
      operation: "listPolicies",
      policy: "identity:list_policies",
      handler: async (ctx) => {
        ctx.enforce("identity:list_policies");
        const type = ctx.q("type");
        const list = await catalog.listPolicies(type !== undefined ? { type } : {});
        return { body: limited(ctx, "policies", list.map((x) => policyView(ctx, x)), id.core.config.identity.listLimit) };
      },
    },
    {
      method: "GET",
      path: "/v3/policies/:policy_id",
      operation: "showPolicy",
      policy: "identity:get_policy",
      handler: async (ctx) => {
        const policyId = ctx.params["policy_id"]!;
        ctx.enforce("identity:get_policy", { policy_id: policyId });
        return { body: { policy: policyView(ctx, await catalog.getPolicy(policyId)) } };
      },
    },
    {
      method: "PATCH",
      path: "/v3/policies/:policy_id",
      operation: "updatePolicy",
      policy: "identity:update_policy",
      body: policyUpdate,
      handler: async (ctx) => {
        const policyId = ctx.params["policy_id"]!;
        ctx.enforce("identity:update_policy", { policy_id: policyId });
        const pol = await catalog.updatePolicy(policyId, entity<Input>(ctx, "policy"));
        return { body: { policy: policyView(ctx, pol) } };
      },
    },
    {
      method: "DELETE",
      path: "/v3/policies/:policy_id",
      operation: "deletePolicy",
      policy: "identity:delete_policy",
      handler: async (ctx) => {
        const policyId = ctx.params["policy_id"]!;
        ctx.enforce("identity:delete_policy", { policy_id: policyId });
        await catalog.deletePolicy(policyId);
        return { status: 204 };
      },
    },
    {
      method: "GET",
      path: `/v3/policies/:policy_id/${EPP}/endpoints`,
      operation: "listEndpointsForPolicy",
      policy: "identity:list_endpoints_for_policy",
      handler: async (ctx) => {
        const policyId = ctx.params["policy_id"]!;
        ctx.enforce("identity:list_endpoints_for_policy", { policy_id: policyId });
        await catalog.getPolicy(policyId);
        const list = await catalog.endpointsForPolicy(policyId);
        // Keystone lists these without filling in the legacy `region` attribute.
        return { body: collection(ctx, "endpoints", list.map((e) => endpointRawView(ctx, e))) };
      },
    },
    ...association("endpoints/:endpoint_id", "endpoint", "PolicyAssociationForEndpoint", async (ctx) => {
      const e = await catalog.getEndpoint(ctx.params["endpoint_id"]!);
      return { endpointId: e.id };
    }),
    ...association("services/:service_id", "service", "PolicyAssociationForService", async (ctx) => {
      const s = await catalog.getService(ctx.params["service_id"]!);
      return { serviceId: s.id };
    }),
    ...association(
      "services/:service_id/regions/:region_id",
      "region_and_service",
      "PolicyAssociationForRegionAndService",
      async (ctx) => {
        const s = await catalog.getService(ctx.params["service_id"]!);
        const r = await catalog.getRegion(ctx.params["region_id"]!);
        return { serviceId: s.id, regionId: r.id };
      },
    ),
    {
      // Keystone wraps the policy with its generic helper, whose self link names the
      // "endpoints" collection; reproduced as is.
      method: "GET",
      path: `/v3/endpoints/:endpoint_id/${EPP}/policy`,
      operation: "showPolicyForEndpoint",
      policy: "identity:get_policy_for_endpoint",
      handler: async (ctx) => {
        const endpointId = ctx.params["endpoint_id"]!;
        ctx.enforce("identity:get_policy_for_endpoint", { endpoint_id: endpointId });
        await catalog.getEndpoint(endpointId);
        const pol = await catalog.policyForEndpoint(endpointId);
        return { body: { policy: policyView(ctx, pol, "endpoints") } };
      },
    },
  ];
}
