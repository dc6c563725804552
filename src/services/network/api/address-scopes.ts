import type { Route } from "../../../http/context.js";
import { AddressScopeManager } from "../manager/address-scopes.js";
import { callerOf } from "./caller.js";
import type { Network } from "./deps.js";
import type { ResourceDef } from "./resource.js";
import { OWNER_ATTRS, resourceRoutes, toBoolean, toInt } from "./resource.js";
import { isString, isValues } from "./validators.js";

/** neutron_lib address_scope.py: no standard attributes (no description, tags or timestamps). */
export const ADDRESS_SCOPE: ResourceDef = {
  singular: "address_scope",
  plural: "address_scopes",
  path: "/v2.0/address-scopes",
  standard: false,
  attrs: {
    id: { filter: true, sort: true },
    name: { post: true, put: true, default: "", validate: isString(255), filter: true, sort: true },
    ...OWNER_ATTRS,
    shared: { post: true, put: true, default: false, convert: toBoolean, filter: true, sort: true, policy: true },
    ip_version: { post: true, convert: toInt, validate: isValues([4, 6]), filter: true, sort: true, filterConvert: Number },
  },
};

/** /v2.0/address-scopes */
export function addressScopeRoutes(n: Network): Route[] {
  const m = new AddressScopeManager(n);
  return resourceRoutes(ADDRESS_SCOPE, {
    list: (ctx, q) => m.list(callerOf(ctx), q.filters["project_id"] ?? q.filters["tenant_id"]),
    get: (ctx, id) => m.get(callerOf(ctx), id),
    create: (ctx, items) => m.create(callerOf(ctx), items),
    update: (ctx, id, changes) => m.update(callerOf(ctx), id, changes),
    delete: (_ctx, id) => m.delete(id),
  });
}
