import type { Route } from "../../../http/context.js";
import { formatCidr, parseCidr } from "../ipam/index.js";
import { callerOf } from "./caller.js";
import type { Network } from "./deps.js";
import type { ResourceDef } from "./resource.js";
import { OWNER_ATTRS, resourceRoutes, toBoolean } from "./resource.js";
import { isString, isUuid, isValues } from "./validators.js";

/** neutron_lib's type:subnet validator: a CIDR, normalised as netaddr prints it. */
function toCidr(v: unknown): unknown {
  const p = typeof v === "string" ? parseCidr(v) : undefined;
  if (!p) throw `'${String(v)}' is not a valid IP subnet`;
  return formatCidr(p.cidr);
}

export const METERING_LABEL: ResourceDef = {
  singular: "metering_label",
  plural: "metering_labels",
  path: "/v2.0/metering/metering-labels",
  standard: false,
  attrs: {
    id: { filter: true, sort: true },
    name: { post: true, default: "", validate: isString(255), filter: true, sort: true },
    description: { post: true, default: "", validate: isString(1024), filter: true, sort: true },
    shared: { post: true, default: false, convert: toBoolean, filter: true, sort: true },
    ...OWNER_ATTRS,
  },
};

export const METERING_LABEL_RULE: ResourceDef = {
  singular: "metering_label_rule",
  plural: "metering_label_rules",
  path: "/v2.0/metering/metering-label-rules",
  standard: false,
  attrs: {
    id: { filter: true, sort: true },
    metering_label_id: { post: true, validate: isUuid, filter: true, sort: true },
    direction: { post: true, validate: isValues(["ingress", "egress"]), filter: true, sort: true },
    excluded: { post: true, default: false, convert: toBoolean, filter: true, sort: true },
    remote_ip_prefix: { post: true, convert: toCidr, filter: true, sort: true },
    source_ip_prefix: { filter: true, sort: true },
    destination_ip_prefix: { filter: true, sort: true },
    ...OWNER_ATTRS,
  },
};

/** /v2.0/metering/metering-labels and metering-label-rules (admin-only by default policy). */
export function meteringRoutes(n: Network): Route[] {
  return [
    ...resourceRoutes(METERING_LABEL, {
      list: (ctx) => n.metering.listLabels(callerOf(ctx)),
      get: (_ctx, id) => n.metering.getLabel(id),
      create: (_ctx, items) => n.metering.createLabels(items),
      delete: (_ctx, id) => n.metering.deleteLabel(id),
    }),
    ...resourceRoutes(METERING_LABEL_RULE, {
      list: (ctx) => n.metering.listRules(callerOf(ctx)),
      get: (_ctx, id) => n.metering.getRule(id),
      create: (_ctx, items) => n.metering.createRules(items),
      delete: (_ctx, id) => n.metering.deleteRule(id),
    }),
  ];
}
