import type { RequestContext, Route } from "../../../http/context.js";
import { badRequest } from "../errors.js";
import type { Network } from "./deps.js";

/** Query parameters every list takes besides filters (Neutron's controller skips them). */
const SKIP = new Set(["fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse"]);

function values(ctx: RequestContext, key: string): string[] {
  const v = ctx.query[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/**
 * A read-only collection served by a plugin method rather than the generic controller:
 * filters (validated against `filters` unless the plugin does not validate them), the
 * `get_<resource>` rule per item, and `fields`. Neutron gives these no pagination or sorting.
 */
export async function simpleList(
  ctx: RequestContext,
  opts: {
    plural: string;
    rule: string;
    filters: readonly string[];
    validate: boolean;
    items: () => Promise<Array<Record<string, unknown>>>;
    /** Extra policy-target entries per item (never shown). */
    target?: (item: Record<string, unknown>) => Record<string, unknown>;
    matches?: (item: Record<string, unknown>, key: string, values: string[]) => boolean;
  },
): Promise<{ body: Record<string, unknown> }> {
  const filters: Array<[string, string[]]> = [];
  const invalid: string[] = [];
  for (const key of Object.keys(ctx.query)) {
    if (SKIP.has(key)) continue;
    if (!opts.filters.includes(key)) {
      if (opts.validate) invalid.push(key);
      continue;
    }
    filters.push([key, values(ctx, key)]);
  }
  if (invalid.length) throw badRequest(`[${invalid.map((k) => `'${k}'`).join(", ")}] is invalid attribute for filtering`);
  const fields = values(ctx, "fields").filter((f) => f !== "");
  const out: Array<Record<string, unknown>> = [];
  for (const item of await opts.items()) {
    const keep = filters.every(([k, v]) => v.length === 0 || (opts.matches ? opts.matches(item, k, v) : v.includes(String(item[k]))));
    if (!keep) continue;
    if (!ctx.allowed(opts.rule, { ...item, ...opts.target?.(item) })) continue;
    if (fields.length === 0) out.push(item);
    else out.push(Object.fromEntries(fields.filter((f) => f in item).map((f) => [f, item[f]])));
  }
  return { body: { [opts.plural]: out } };
}

/** GET /v2.0/availability_zones (AgentAvailabilityZoneMixin): the zones of DHCP and L3 agents. */
export function availabilityZoneRoutes(n: Network): Route[] {
  return [
    {
      method: "GET",
      path: "/v2.0/availability_zones",
      operation: "listAvailabilityZones",
      policy: "get_availability_zone",
      handler: (ctx) =>
        simpleList(ctx, {
          plural: "availability_zones",
          rule: "get_availability_zone",
          filters: ["name", "resource", "state"],
          validate: true,
          items: () => n.agents.availabilityZones(),
          // Neutron puts the caller's project in each zone for the policy check only.
          target: () => ({ project_id: ctx.caller.projectId, tenant_id: ctx.caller.projectId }),
        }),
    },
  ];
}
