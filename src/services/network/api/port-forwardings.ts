import type { RequestContext, Route } from "../../../http/context.js";
import { invalidInput } from "../errors.js";
import { pyStr, validateIpAddress } from "../ipam/index.js";
import type { Doc } from "../store/docs.js";
import { callerOf } from "./caller.js";
import type { Network } from "./deps.js";
import { floatingIpManager } from "./floatingips.js";
import type { ResourceDef, Validator } from "./resource.js";
import { resourceRoutes, toInt } from "./resource.js";
import { isString, isUuid } from "./validators.js";

/** neutron_lib constants.IPTABLES_PROTOCOL_MAP keys, the values a forwarding's protocol may take. */
const PROTOCOLS = ["dccp", "icmp", "ipv6-icmp", "sctp", "tcp", "udp"];

/** convert_to_protocol: names (any case) and 0..255 pass unchanged; the validator then wants a name. */
function toProtocol(v: unknown): unknown {
  if (v === null) return v;
  if (typeof v === "string" && PROTOCOLS.includes(v.toLowerCase())) return v;
  const n = typeof v === "number" ? v : typeof v === "string" && /^[-+]?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (Number.isInteger(n) && n >= 0 && n <= 255) return v;
  throw invalidInput(`IP protocol '${pyStr(v)}' is not supported. Only protocol names and their integer representation (0 to 255) are supported`);
}

const protocolValues: Validator = (v) => (typeof v === "string" && PROTOCOLS.includes(v) ? undefined : `${pyStr(v)} is not in valid_values`);

/** validate_range_or_none [1, 65535] */
const portOrNone: Validator = (v) => {
  if (v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) return `'${pyStr(v)}' is not an integer`;
  if (v < 1) return `'${v}' is too small - must be at least '1'`;
  if (v > 65535) return `'${v}' is too large - must be no larger than '65535'`;
  return undefined;
};

/** validate_port_range_or_none [1, 65535]: "N" or "N:M". */
const portRangeOrNone: Validator = (v) => {
  if (v === null) return undefined;
  const ports = pyStr(v).split(":");
  if (ports.length > 2) return "Port range must be two integers separated by a colon";
  for (const p of ports) {
    if (p.length === 0) return "Port range must be two integers separated by a colon";
    if (!/^\d+$/.test(p) || Number(p) > 65535) return `Invalid port: ${p}`;
    if (Number(p) < 1) return `Invalid port: ${p}, the port must be in the range [1, 65535]`;
  }
  if (ports.length > 1 && Number(ports[0]) > Number(ports[1])) return "First port in a port range must be lower than the second port";
  return undefined;
};

const intOrNone = (v: unknown): unknown => (v === null ? null : toInt(v));

/**
 * port_forwardings under a floating IP: floating-ip-port-forwarding with its description and
 * port-ranges extensions. Not standard-attribute resources in the API (no timestamps).
 */
export const PORT_FORWARDING: ResourceDef = {
  singular: "port_forwarding",
  plural: "port_forwardings",
  policyName: "floatingip_port_forwarding",
  path: "/v2.0/floatingips/:floatingip_id/port_forwardings",
  standard: false,
  attrs: {
    id: { filter: true, sort: true },
    project_id: { post: true, validate: isString(255), visible: false },
    external_port: { post: true, put: true, default: null, convert: intOrNone, validate: portOrNone, filter: true, sort: true, filterConvert: Number },
    internal_port: { post: true, put: true, default: null, convert: intOrNone, validate: portOrNone },
    internal_ip_address: { post: true, put: true, validate: validateIpAddress },
    protocol: { post: true, put: true, convert: toProtocol, validate: protocolValues, filter: true, sort: true },
    internal_port_id: { post: true, put: true, validate: isUuid, filter: true, sort: true },
    description: { post: true, put: true, default: "", validate: isString(255), filter: true },
    external_port_range: { post: true, put: true, default: null, validate: portRangeOrNone, filter: true, sort: true },
    internal_port_range: { post: true, put: true, default: null, validate: portRangeOrNone },
    floatingip_id: { visible: false },
  },
};

export function portForwardingRoutes(n: Network): Route[] {
  const m = floatingIpManager;
  // The parent floating IP, read once per request: policies check `ext_parent:tenant_id`.
  const parents = new WeakMap<RequestContext, Promise<Doc>>();
  const parent = (ctx: RequestContext): Promise<Doc> => {
    let p = parents.get(ctx);
    if (!p) {
      p = m(n).parent(n.core.db, callerOf(ctx), ctx.params["floatingip_id"] ?? "");
      parents.set(ctx, p);
    }
    return p;
  };
  const fipId = (ctx: RequestContext): string => ctx.params["floatingip_id"] ?? "";
  const routes = resourceRoutes(PORT_FORWARDING, {
    list: (ctx) => m(n).listForwardings(callerOf(ctx), fipId(ctx)),
    get: (ctx, id) => m(n).getForwarding(callerOf(ctx), fipId(ctx), id),
    target: async (ctx, doc) => {
      const fip = await parent(ctx);
      const extra: Record<string, unknown> = {
        ext_parent_floatingip_id: fip.id,
        "ext_parent:project_id": fip["project_id"],
        "ext_parent:tenant_id": fip["project_id"],
      };
      // A new forwarding belongs to the requesting project (populate_project_id).
      if (!("id" in doc)) extra["project_id"] = ctx.caller.projectId;
      return extra;
    },
    create: (ctx, items) => m(n).createForwardings(callerOf(ctx), fipId(ctx), items),
    update: (ctx, id, changes) => m(n).updateForwarding(callerOf(ctx), fipId(ctx), id, changes),
    delete: (ctx, id) => m(n).deleteForwarding(callerOf(ctx), fipId(ctx), id),
  });
  // Pagination links name the real floating IP, not the route pattern.
  return routes.map((r) =>
    r.method === "GET" && r.path === PORT_FORWARDING.path
      ? {
          ...r,
          handler: async (ctx) => {
            const reply = await r.handler(ctx);
            const body = reply.body as Record<string, unknown> | undefined;
            const links = body?.["port_forwardings_links"];
            if (Array.isArray(links)) {
              for (const l of links as Array<{ href: string }>) l.href = l.href.replace(":floatingip_id", encodeURIComponent(fipId(ctx)));
            }
            return reply;
          },
        }
      : r,
  );
}
