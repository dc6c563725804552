import type { VolumeBackend } from "../../../drivers/volume/driver.js";
import type { SchedulerApi, Volume, VolumeType } from "../api/deps.js";
import { NoValidBackend } from "../api/deps.js";

/** LVM's default max_over_subscription_ratio with thin provisioning. */
const OVER_SUBSCRIPTION = 20;

const BOOL_TRUE = ["1", "t", "true", "on", "y", "yes"];
function oslBool(v: unknown): boolean {
  return v === true || BOOL_TRUE.includes(String(v).trim().toLowerCase());
}
function num(v: unknown): number {
  const n = Number(String(v).trim());
  if (String(v).trim() === "" || Number.isNaN(n)) throw new Error("ValueError");
  return n;
}
function pyCmp(a: unknown, b: string): number {
  const x = String(a);
  return x < b ? -1 : x > b ? 1 : 0;
}
const OPS: Record<string, (x: unknown, y: string) => boolean> = {
  "=": (x, y) => num(x) >= num(y),
  "<in>": (x, y) => String(x).includes(y),
  "<is>": (x, y) => oslBool(x) === oslBool(y),
  "==": (x, y) => num(x) === num(y),
  "!=": (x, y) => num(x) !== num(y),
  ">=": (x, y) => num(x) >= num(y),
  "<=": (x, y) => num(x) <= num(y),
  "s==": (x, y) => pyCmp(x, y) === 0,
  "s!=": (x, y) => pyCmp(x, y) !== 0,
  "s<": (x, y) => pyCmp(x, y) < 0,
  "s<=": (x, y) => pyCmp(x, y) <= 0,
  "s>": (x, y) => pyCmp(x, y) > 0,
  "s>=": (x, y) => pyCmp(x, y) >= 0,
};

/** cinder/scheduler/filters/extra_specs_ops.py match(). */
export function specMatches(value: unknown, req: string | null): boolean {
  if (req === null) return value === null || value === undefined;
  const words = req.split(/\s+/).filter((w) => w !== "");
  const op = words.shift();
  const method = op === undefined ? undefined : OPS[op];
  if (op !== "<or>" && !method) return typeof value === "string" && value === req;
  if (value === null || value === undefined) return false;
  if (op === "<or>") {
    for (;;) {
      if (words.shift() === String(value)) return true;
      if (words.length === 0) return false;
      words.shift();
      if (words.length === 0) return false;
    }
  }
  try {
    return words.length > 0 && method!(value, words[0]!);
  } catch {
    return false;
  }
}

/** CapabilitiesFilter._satisfies_extra_specs: unscoped and `capabilities:` keys must match. */
export function satisfiesExtraSpecs(capabilities: Record<string, unknown>, specs: Record<string, string>): boolean {
  for (const [key, req] of Object.entries(specs)) {
    const scope = key.split(":");
    if (scope.length > 1 && scope[0] !== "capabilities") continue;
    if (scope[0] === "capabilities") scope.shift();
    let cap: unknown = capabilities;
    for (const s of scope) {
      if (typeof cap !== "object" || cap === null || !(s in (cap as Record<string, unknown>))) return false;
      cap = (cap as Record<string, unknown>)[s];
    }
    const list = Array.isArray(cap) ? cap : [cap];
    if (!list.some((c) => specMatches(c, req))) return false;
  }
  return true;
}

/**
 * cinder-scheduler's filter scheduler over the driver's backends (one pool each):
 * AvailabilityZoneFilter, CapacityFilter (thin provisioning, over-subscription 20),
 * CapabilitiesFilter (the type's extra specs), the backend's cinder-volume service enabled;
 * CapacityWeigher picks the most virtual free space.
 */
export class Scheduler implements SchedulerApi {
  /**
   * What the weigher sees: the backends' allocation as of their last periodic stats report
   * (cinder-volume reports every 60 s). Between reports equal backends tie and the first
   * one wins, so placement is stable instead of alternating with every new volume.
   */
  private stats: { at: number; alloc: Map<string, number> } | undefined;

  constructor(private readonly v: Volume) {}

  private async reported(live: Map<string, number>): Promise<Map<string, number>> {
    const now = this.v.clock.now().getTime();
    if (!this.stats || now - this.stats.at >= 60_000) this.stats = { at: now, alloc: live };
    return this.stats.alloc;
  }

  /** What the backend reports to the scheduler (get_volume_stats), with capacity. */
  capabilities(b: VolumeBackend, allocated: number): Record<string, unknown> {
    return {
      volume_backend_name: b.volumeBackendName,
      total_capacity_gb: b.totalCapacityGb,
      free_capacity_gb: b.totalCapacityGb,
      allocated_capacity_gb: allocated,
      provisioned_capacity_gb: allocated,
      max_over_subscription_ratio: String(OVER_SUBSCRIPTION),
      reserved_percentage: 0,
      ...b.capabilities,
    };
  }

  async pick(req: { sizeGb: number; type: VolumeType; availabilityZone?: string | undefined; multiattach?: boolean; exclude?: string[] }): Promise<VolumeBackend> {
    const disabled = new Set(
      (await this.v.core.db.selectFrom("vol_service").select("host").where("binary", "=", "cinder-volume").where("disabled", "=", 1).execute()).map((r) => r.host),
    );
    const allocated = await this.allocated();
    const reported = await this.reported(allocated);
    let best: { b: VolumeBackend; free: number } | undefined;
    for (const b of this.v.driver.backends()) {
      if (req.exclude?.includes(b.name) || req.exclude?.includes(b.host) || req.exclude?.includes(b.pool)) continue;
      if (disabled.has(b.host)) continue;
      if (req.availabilityZone !== undefined && b.availabilityZone !== req.availabilityZone) continue;
      const used = allocated.get(b.name) ?? 0;
      const virtualFree = b.totalCapacityGb * OVER_SUBSCRIPTION - used;
      if (req.sizeGb > b.totalCapacityGb || req.sizeGb > virtualFree) continue;
      const caps = this.capabilities(b, used);
      if (req.multiattach && !oslBool(caps["multiattach"])) continue;
      if (!satisfiesExtraSpecs(caps, req.type.extra_specs)) continue;
      const weight = b.totalCapacityGb * OVER_SUBSCRIPTION - (reported.get(b.name) ?? 0);
      if (!best || weight > best.free) best = { b, free: weight };
    }
    if (!best) throw new NoValidBackend("No valid backend was found. No weighed backends available");
    return best.b;
  }

  async allocated(): Promise<Map<string, number>> {
    const rows = await this.v.core.db
      .selectFrom("vol_volume")
      .select(["backend", (eb) => eb.fn.sum<number>("size").as("gb")])
      .where("backend", "is not", null)
      .groupBy("backend")
      .execute();
    return new Map(rows.map((r) => [r.backend!, Number(r.gb ?? 0)]));
  }

  backendOfHost(host: string | null): VolumeBackend | undefined {
    if (!host) return undefined;
    const backendHost = host.split("#")[0]!;
    return this.v.driver.backends().find((b) => b.host === backendHost || b.pool === host);
  }
}
