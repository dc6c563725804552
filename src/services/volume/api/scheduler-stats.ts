import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { VolumeBackend } from "../../../drivers/volume/driver.js";
import type { TypesManager } from "../manager/types.js";
import { strictBool } from "./catalog-validate.js";
import { cinderTime } from "./common.js";
import type { Volume } from "./deps.js";
import { own, viewerOf } from "./types.js";

/** The LVM driver's max_over_subscription_ratio default. */
const OVER_SUBSCRIPTION = 20;

/** GiB allocated per backend: the scheduler's answer, or counted here when no scheduler is set. */
export async function allocatedByBackend(v: Volume): Promise<Map<string, number>> {
  const s = (v as Partial<Volume>).scheduler;
  if (s && typeof s.allocated === "function") return s.allocated();
  const rows = await v.core.db
    .selectFrom("vol_volume")
    .select(["backend", (eb) => eb.fn.sum<number>("size").as("gb")])
    .where("backend", "is not", null)
    .groupBy("backend")
    .execute();
  return new Map(rows.map((r) => [r.backend!, Number(r.gb ?? 0)]));
}

/**
 * A pool's capabilities as cinder-scheduler's host manager reports them for the LVM driver
 * (backend-level stats merged into the pool's: get_volume_stats + _update_pools_and_stats).
 */
export async function poolCapabilities(v: Volume, b: VolumeBackend, allocated: number): Promise<Record<string, unknown>> {
  const volumes = await v.core.db
    .selectFrom("vol_volume")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("backend", "=", b.name)
    .executeTakeFirst();
  const caps: Record<string, unknown> = {
    pool_name: b.pool.split("#")[1] ?? b.name,
    total_capacity_gb: b.totalCapacityGb,
    free_capacity_gb: Math.max(0, b.totalCapacityGb - allocated),
    reserved_percentage: 0,
    location_info: `LVMVolumeDriver:${b.host.split("@")[0]}:stack-volumes-${b.name}:thin:0`,
    QoS_support: false,
    provisioned_capacity_gb: allocated,
    allocated_capacity_gb: allocated,
    max_over_subscription_ratio: `${OVER_SUBSCRIPTION}.0`,
    thin_provisioning_support: true,
    thick_provisioning_support: false,
    total_volumes: Number(volumes?.n ?? 0),
    filter_function: null,
    goodness_function: null,
    multiattach: true,
    backend_state: "up",
    volume_backend_name: b.volumeBackendName,
    storage_protocol: "iSCSI",
    vendor_name: "Open Source",
    driver_version: "1.0.0",
    ...b.capabilities,
  };
  caps["timestamp"] = cinderTime(v.core.now());
  return caps;
}

/** extra_specs_ops.match: "<is> True", "<in> x", "<or> a <or> b", "<all-in>", comparison ops, or equality. */
function specMatches(cap: unknown, req: string): boolean {
  const words = req.trim().split(/\s+/);
  const op = words[0];
  const rest = words.slice(1);
  const s = typeof cap === "boolean" ? (cap ? "True" : "False") : String(cap);
  switch (op) {
    case "<is>":
      return s.toLowerCase() === (rest[0] ?? "").toLowerCase();
    case "<in>":
      return s.includes(rest.join(" "));
    case "<all-in>":
      return rest.every((w) => s.includes(w));
    case "<or>":
      return req
        .split("<or>")
        .map((w) => w.trim())
        .filter(Boolean)
        .includes(s);
    case "s==":
      return s === rest[0];
    case "s!=":
      return s !== rest[0];
    case "==":
    case "=":
      return Number(s) === Number(rest[0]);
    case ">=":
      return Number(s) >= Number(rest[0]);
    case "<=":
      return Number(s) <= Number(rest[0]);
    case "!=":
      return Number(s) !== Number(rest[0]);
    default:
      return s === req;
  }
}

/** CapabilitiesFilter: unscoped and capabilities:-scoped keys must be satisfied by the pool. */
function satisfies(caps: Record<string, unknown>, specs: Record<string, string>): boolean {
  for (const [key, req] of Object.entries(specs)) {
    const scope = key.split(":");
    if (scope.length > 1 && scope[0] !== "capabilities") continue;
    const name = scope[scope.length - 1]!;
    if (!(name in caps)) return false;
    if (!specMatches(caps[name], req)) return false;
  }
  return true;
}

/** HostManager._equal_after_convert. */
function equalAfterConvert(cap: unknown, value: string): boolean {
  if (cap === null || cap === undefined) return false;
  if (typeof cap === "boolean") return cap === ["1", "t", "true", "on", "y", "yes"].includes(value.trim().toLowerCase());
  return String(cap) === value;
}

/** cinder/api/contrib/scheduler_stats.py: GET /scheduler-stats/get_pools[?detail=…]. */
export function schedulerStatsRoutes(v: Volume): Route[] {
  const types = v.types as TypesManager;
  return [
    {
      method: "GET",
      path: "/scheduler-stats/get_pools",
      operation: "listPools",
      policy: "scheduler_extension:scheduler_stats:get_pools",
      handler: async (ctx: RequestContext) => {
        ctx.enforce("scheduler_extension:scheduler_stats:get_pools", own(ctx));
        const d = ctx.q("detail");
        const detail = d === undefined ? false : strictBool("detail", d);
        const ver = ctx.version!;
        const filters: Record<string, string> = {};
        for (const [k, raw] of Object.entries(ctx.query)) {
          if (k === "detail" || raw === undefined) continue;
          filters[k] = Array.isArray(raw) ? raw[0]! : raw;
        }
        if (ver.atLeast("3.33")) {
          const bad = Object.keys(filters).filter((k) => !["name", "volume_type"].includes(k) && !(ver.atLeast("3.34") && ["name~", "volume_type~"].includes(k)));
          if (bad.length) throw new BadRequest(`Invalid filters ${bad.join(",")} are found in query options.`);
        }
        if (!ver.atLeast("3.28")) for (const k of Object.keys(filters)) delete filters[k];
        if (!ver.atLeast("3.35")) delete filters["volume_type"];
        const name = filters["name"];
        const typeRef = filters["volume_type"];
        delete filters["name"];
        delete filters["volume_type"];
        const type = typeRef === undefined ? undefined : await types.getByNameOrId(typeRef, viewerOf(ctx));
        const allocated = await allocatedByBackend(v);
        const pools: Array<Record<string, unknown>> = [];
        for (const b of v.driver.backends()) {
          if (name !== undefined && b.pool !== name) continue;
          const caps = await poolCapabilities(v, b, allocated.get(b.name) ?? 0);
          if (Object.entries(filters).some(([k, val]) => !equalAfterConvert(caps[k], val))) continue;
          if (type && !satisfies(caps, type.extra_specs)) continue;
          pools.push(detail ? { name: b.pool, capabilities: caps } : { name: b.pool });
        }
        return { body: { pools } };
      },
    },
  ];
}
