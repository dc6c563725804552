import type { Route } from "../../../http/context.js";
import { invalidInput } from "../errors.js";
import { callerOf } from "./caller.js";
import type { Network } from "./deps.js";
import type { Converter, ResourceDef } from "./resource.js";
import { pyRepr, resourceRoutes, stringMax } from "./resource.js";
import { isString, isUuid } from "./validators.js";

/** oslo_utils uuidutils.is_uuid_like: 32 hex digits once urn:/uuid: prefixes, braces and hyphens go. */
function isUuidLike(v: unknown): boolean {
  if (typeof v !== "string") return false;
  const s = v.toLowerCase().replace(/^urn:/, "").replace(/^uuid:/, "").replace(/[{}-]/g, "");
  return /^[0-9a-f]{32}$/.test(s);
}

/** neutron/extensions/rbac.py _validate_valid_target_project: '*' or a project id (UUID-like). */
const validTargetProject: Converter = (v) => {
  if (v === "*" || isUuidLike(v)) return v;
  throw invalidInput(`'${pyRepr(v)}' is not a valid target project ID; expected a UUID or '*'`);
};

/** rbac-policies (neutron/extensions/rbac.py): no standard attributes, target_tenant the only updatable field. */
export function rbacPolicyDef(n: Network): ResourceDef {
  const objectType: Converter = (v) => {
    const normalized = typeof v === "string" ? v.trim().toLowerCase() : undefined;
    if (normalized !== undefined && n.rbac.hasType(normalized)) return normalized;
    throw invalidInput(`'${pyRepr(v)}' is not a valid RBAC object type`);
  };
  return {
    singular: "rbac_policy",
    plural: "rbac_policies",
    path: "/v2.0/rbac-policies",
    standard: false,
    pagination: false,
    attrs: {
      id: { filter: true },
      object_type: { post: true, default: null, convert: objectType, filter: true },
      object_id: { post: true, validate: isUuid, filter: true },
      target_tenant: { post: true, put: true, convert: validTargetProject, filter: true, policy: true },
      project_id: { post: true, validate: stringMax(255), filter: true },
      tenant_id: { post: true, validate: stringMax(255), filter: true },
      action: { post: true, validate: isString(255), filter: true },
    },
  };
}

export function rbacPolicyRoutes(n: Network): Route[] {
  const def = rbacPolicyDef(n);
  const routes = resourceRoutes(def, {
    list: (ctx, q) => n.rbac.list(callerOf(ctx), q.filters),
    get: (ctx, id) => n.rbac.get(callerOf(ctx), id),
    create: (ctx, items) => n.rbac.create(callerOf(ctx), items),
    update: (ctx, id, changes) => n.rbac.update(callerOf(ctx), id, changes),
    delete: (ctx, id) => n.rbac.delete(callerOf(ctx), id),
  });
  return routes;
}
