import type { AllocationCandidates } from "../../../clients/placement.js";
import type { Compute, HostRecord } from "../api/deps.js";
import type { FlavorSnapshot } from "../store/servers.js";
import type { ServersDB } from "../store/servers-tables.js";

/** What the scheduler is asked (the parts of Nova's RequestSpec it reads). */
export interface SchedulingRequest {
  instanceUuid: string;
  projectId: string;
  userId: string;
  flavor: FlavorSnapshot;
  /** Image properties (traits:*, hypervisor_type, architecture, vm_mode, …). */
  imageProperties: Record<string, unknown>;
  availabilityZone?: string | null | undefined;
  /** Admin "az:host[:node]" (filters skipped, as Nova's force_hosts) or 2.74 host (filters applied). */
  forceHost?: string | null | undefined;
  requestedHost?: string | null | undefined;
  groupUuid?: string | null | undefined;
  hints?: Record<string, unknown> | undefined;
  /** Hosts not to use (already tried by this build, the source of a move). */
  ignoreHosts?: readonly string[] | undefined;
  /** The server carries trusted image certificates: hosts must report COMPUTE_TRUSTED_CERTS (Nova's request filter). */
  trustedCerts?: boolean | undefined;
}

/** A host that passed the filters, with the allocation request to claim on it. */
export interface Selection {
  host: HostRecord;
  allocations: Record<string, { resources: Record<string, number> }>;
  weight: number;
}

/** No host passed (nova.exception.NoValidHost). */
export class NoValidHost extends Error {
  constructor(reason = "There are not enough hosts available.") {
    super(`No valid host was found. ${reason}`);
  }
}

/** Nova's [scheduler]max_placement_results. */
const MAX_PLACEMENT_RESULTS = 1000;

interface GroupInfo {
  policy: string;
  maxPerHost: number;
  /** member host → count (members other than the instance being scheduled). */
  hostCounts: Map<string, number>;
}

/**
 * Nova's scheduler over Placement (nova/scheduler/manager.py, filter_scheduler): one
 * GET /allocation_candidates built from the flavor (resources, trait:* extra specs), the
 * image's traits:* properties and the requested host; the candidates are filtered in JS
 * (ComputeFilter, AvailabilityZoneFilter, AggregateInstanceExtraSpecsFilter,
 * ImagePropertiesFilter, ServerGroup(Anti)AffinityFilter, SameHost/DifferentHostFilter), weighed
 * (RAM, CPU, disk spread; soft (anti-)affinity) and handed back best first; the caller claims
 * with PUT /allocations and moves on to the next on a 409, as the conductor does with alternates.
 */
export class Scheduler {
  constructor(private readonly c: Compute) {}

  private get db(): ServersDB {
    return this.c.database.db as ServersDB;
  }

  /** The Placement query Nova's ResourceRequest builds from flavor and image. */
  placementQuery(req: SchedulingRequest, inTree?: string, memberOf?: string[]): string {
    const f = req.flavor;
    const res: Record<string, number> = { VCPU: f.vcpus, MEMORY_MB: f.ram, DISK_GB: f.disk + f.ephemeral + Math.ceil(f.swap / 1024) };
    const required: string[] = [];
    const forbidden: string[] = [];
    for (const [k, v] of Object.entries(f.extra_specs)) {
      const r = /^resources:([A-Z0-9_]+)$/.exec(k);
      if (r) {
        res[r[1]!] = Number(v);
        continue;
      }
      const t = /^trait:([A-Z0-9_]+)$/.exec(k);
      if (t) {
        if (v === "required") required.push(t[1]!);
        else if (v === "forbidden") forbidden.push(t[1]!);
      }
    }
    for (const [k, v] of Object.entries(req.imageProperties)) {
      const t = /^traits:([A-Z0-9_]+)$/.exec(k);
      if (t && v === "required") required.push(t[1]!);
    }
    if (req.trustedCerts) required.push("COMPUTE_TRUSTED_CERTS");
    const parts: string[] = [];
    const resources = Object.entries(res)
      .filter(([, n]) => n > 0)
      .map(([rc, n]) => `${rc}:${n}`)
      .join(",");
    if (resources) parts.push(`resources=${resources}`);
    const traits = [...new Set(required)].concat([...new Set(forbidden)].map((t) => `!${t}`));
    if (traits.length > 0) parts.push(`required=${encodeURIComponent(traits.join(","))}`);
    if (inTree) parts.push(`in_tree=${inTree}`);
    if (memberOf && memberOf.length > 0) parts.push(`member_of=in:${memberOf.join(",")}`);
    parts.push(`limit=${MAX_PLACEMENT_RESULTS}`);
    return parts.join("&");
  }

  /** Hosts that can take the request, best first. Empty when none. */
  async select(req: SchedulingRequest): Promise<Selection[]> {
    const forced = req.forceHost ?? req.requestedHost ?? undefined;
    let inTree: string | undefined;
    if (forced) {
      const h = await this.c.hosts.byName(forced);
      if (!h) return [];
      inTree = h.providerUuid;
    }
    // Nova's map_az_to_placement_aggregate prefilter: a requested zone narrows the candidates
    // to the providers of its aggregates, so a small zone in a big fleet is not cut off by the limit.
    const all = await this.c.hosts.all();
    const memberOf = req.availabilityZone && !inTree ? await this.zoneAggregates(all, req.availabilityZone) : undefined;
    const query = this.placementQuery(req, inTree, memberOf);
    // A flavor asking for nothing (all resources zeroed) has no candidates to ask for.
    let cands: AllocationCandidates;
    try {
      cands = await this.c.placement.allocationCandidates(query);
    } catch (e) {
      this.c.log.warn({ err: e }, "allocation candidates failed");
      return [];
    }
    const group = req.groupUuid ? await this.groupInfo(req.groupUuid, req.instanceUuid) : undefined;
    const hints = req.hints ?? {};
    const sameHost = await this.hostsOf(listOf(hints["same_host"]));
    const differentHost = await this.hostsOf(listOf(hints["different_host"]));
    const ignore = new Set(req.ignoreHosts ?? []);
    const aggSpecs = Object.entries(req.flavor.extra_specs).filter(([k]) => k.startsWith("aggregate_instance_extra_specs:"));
    const skipFilters = req.forceHost !== undefined && req.forceHost !== null;

    const byProvider = providerIndex(all);
    const passed: Array<{ host: HostRecord; allocations: Selection["allocations"]; root: string }> = [];
    const seen = new Set<string>();
    for (const ar of cands.allocation_requests) {
      const rp = Object.keys(ar.allocations)[0];
      if (!rp) continue;
      const root = cands.provider_summaries[rp]?.root_provider_uuid ?? rp;
      if (seen.has(root)) continue;
      const host = byProvider.get(root);
      if (!host || ignore.has(host.name)) continue;
      if (!skipFilters) {
        // ComputeFilter
        if (host.disabled || !host.up || !this.c.driver.isUp(host.name)) continue;
        // AvailabilityZoneFilter
        if (req.availabilityZone && host.availabilityZone !== req.availabilityZone) continue;
        // ImagePropertiesFilter (the simulated hosts are QEMU/KVM x86_64 hvm)
        if (!imagePropertiesPass(req.imageProperties)) continue;
        // SameHostFilter / DifferentHostFilter
        if (sameHost.length > 0 && !sameHost.includes(host.name)) continue;
        if (differentHost.includes(host.name)) continue;
        // ServerGroupAffinityFilter / ServerGroupAntiAffinityFilter
        if (group && !groupPasses(group, host.name)) continue;
        // AggregateInstanceExtraSpecsFilter (scoped keys)
        if (aggSpecs.length > 0 && !(await this.aggregateSpecsPass(host.name, aggSpecs))) continue;
      }
      seen.add(root);
      passed.push({ host, allocations: ar.allocations, root });
    }
    if (passed.length === 0) return [];

    // Weighers: each normalised to [0, 1] over the passing hosts, times its multiplier (1.0).
    const free = (root: string, rc: string): number => {
      const r = cands.provider_summaries[root]?.resources[rc];
      return r ? r.capacity - r.used : 0;
    };
    const weights = new Array<number>(passed.length).fill(0);
    const addWeigher = (values: number[], multiplier = 1): void => {
      const min = Math.min(...values);
      const max = Math.max(...values);
      if (max === min) return;
      for (let i = 0; i < values.length; i++) weights[i]! += multiplier * ((values[i]! - min) / (max - min));
    };
    addWeigher(passed.map((p) => free(p.root, "MEMORY_MB")));
    addWeigher(passed.map((p) => free(p.root, "VCPU")));
    addWeigher(passed.map((p) => free(p.root, "DISK_GB")));
    if (group && (group.policy === "soft-affinity" || group.policy === "soft-anti-affinity")) {
      const sign = group.policy === "soft-affinity" ? 1 : -1;
      addWeigher(passed.map((p) => sign * (group.hostCounts.get(p.host.name) ?? 0)));
    }
    const out = passed.map((p, i) => ({ host: p.host, allocations: p.allocations, weight: weights[i]! }));
    // Stable: equal weights keep Placement's order.
    out.sort((a, b) => b.weight - a.weight);
    return out;
  }

  /** Uuids of the aggregates whose availability_zone is `zone` (cached per fleet snapshot). */
  private async zoneAggregates(all: HostRecord[], zone: string): Promise<string[]> {
    let byZone = zoneCache.get(all);
    if (!byZone) zoneCache.set(all, (byZone = new Map()));
    const known = byZone.get(zone);
    if (known) return known;
    const uuids = new Set<string>();
    for (const h of all) {
      if (!h.availabilityZone.split(",").includes(zone)) continue;
      for (const a of await this.c.hosts.aggregatesOf(h.name)) if (a.metadata["availability_zone"] === zone && a.uuid) uuids.add(a.uuid);
    }
    const out = [...uuids].sort();
    byZone.set(zone, out);
    return out;
  }

  /** Claim a selection for a consumer: true when Placement took it, false on a lost race (409). */
  async claim(consumer: string, projectId: string, userId: string, sel: Pick<Selection, "allocations">): Promise<boolean> {
    const res = await this.c.placement.putAllocations(consumer, {
      allocations: sel.allocations,
      project_id: projectId,
      user_id: userId,
      consumer_generation: null,
      consumer_type: "INSTANCE",
    });
    if (res.status === 204) return true;
    if (res.status === 409) {
      // A consumer that already holds allocations (a build task run again after a crash)
      // must name its generation: replace what it holds.
      const cur = await this.c.placement.getAllocations(consumer).catch(() => undefined);
      if (cur && cur.consumer_generation !== undefined && Object.keys(cur.allocations).length > 0) {
        const again = await this.c.placement.putAllocations(consumer, {
          allocations: sel.allocations,
          project_id: projectId,
          user_id: userId,
          consumer_generation: cur.consumer_generation ?? null,
          consumer_type: "INSTANCE",
        });
        return again.status === 204;
      }
      return false;
    }
    throw new Error(`PUT /allocations/${consumer} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }

  /** Give back what a consumer holds (idempotent). */
  async release(consumer: string): Promise<void> {
    const res = await this.c.placement.deleteAllocations(consumer);
    if (res.status !== 204 && res.status !== 404) throw new Error(`DELETE /allocations/${consumer} answered ${res.status}`);
  }

  /** The server group's policy and where its other members are. */
  async groupInfo(groupUuid: string, exceptInstance: string): Promise<GroupInfo | undefined> {
    const g = await this.db.selectFrom("cmp_server_group").select(["policy", "rules"]).where("uuid", "=", groupUuid).executeTakeFirst();
    if (!g) return undefined;
    const rows = await this.db
      .selectFrom("cmp_server_group_member as m")
      .innerJoin("cmp_instance as i", "i.uuid", "m.instance_uuid")
      .select(["i.host"])
      .where("m.group_uuid", "=", groupUuid)
      .where("i.deleted", "=", 0)
      .where("i.uuid", "!=", exceptInstance)
      .where("i.host", "is not", null)
      .execute();
    const hostCounts = new Map<string, number>();
    for (const r of rows) hostCounts.set(r.host!, (hostCounts.get(r.host!) ?? 0) + 1);
    const rules = JSON.parse(g.rules) as { max_server_per_host?: number };
    return { policy: g.policy, maxPerHost: Number(rules.max_server_per_host ?? 1), hostCounts };
  }

  /** Whether placing on `host` keeps the group's hard policy (the late check Nova's compute does too). */
  groupAllows(group: GroupInfo, host: string): boolean {
    return groupPasses(group, host);
  }

  private async hostsOf(uuids: string[]): Promise<string[]> {
    if (uuids.length === 0) return [];
    const rows = await this.db.selectFrom("cmp_instance").select("host").where("uuid", "in", uuids).where("deleted", "=", 0).execute();
    return rows.map((r) => r.host).filter((h): h is string => h !== null);
  }

  private async aggregateSpecsPass(host: string, specs: Array<[string, string]>): Promise<boolean> {
    const aggs = await this.c.hosts.aggregatesOf(host);
    for (const [k, req] of specs) {
      const key = k.slice("aggregate_instance_extra_specs:".length);
      const values = aggs.map((a) => a.metadata[key]).filter((v): v is string => v !== undefined);
      if (values.length === 0) return false;
      if (!values.some((v) => extraSpecMatch(v, req))) return false;
    }
    return true;
  }
}

/** Hosts by provider uuid, built once per fleet snapshot (HostsApi.all returns the same array while fresh). */
const indexes = new WeakMap<HostRecord[], Map<string, HostRecord>>();
const zoneCache = new WeakMap<HostRecord[], Map<string, string[]>>();
function providerIndex(all: HostRecord[]): Map<string, HostRecord> {
  let m = indexes.get(all);
  if (!m) {
    m = new Map(all.map((h) => [h.providerUuid, h]));
    indexes.set(all, m);
  }
  return m;
}

function listOf(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  return typeof v === "string" ? [v] : [];
}

function groupPasses(g: GroupInfo, host: string): boolean {
  const onHost = g.hostCounts.get(host) ?? 0;
  if (g.policy === "anti-affinity") return onHost < g.maxPerHost;
  if (g.policy === "affinity") return g.hostCounts.size === 0 || onHost > 0;
  return true;
}

/** nova/scheduler/filters/image_props_filter.py against a QEMU/KVM x86_64 hvm host. */
function imagePropertiesPass(props: Record<string, unknown>): boolean {
  const arch = props["hw_architecture"] ?? props["architecture"];
  if (typeof arch === "string" && arch !== "" && !["x86_64", "i686"].includes(arch.toLowerCase())) return false;
  const hv = props["img_hv_type"] ?? props["hypervisor_type"];
  if (typeof hv === "string" && hv !== "" && !["qemu", "kvm"].includes(hv.toLowerCase())) return false;
  const mode = props["hw_vm_mode"] ?? props["vm_mode"];
  if (typeof mode === "string" && mode !== "" && mode.toLowerCase() !== "hvm") return false;
  return true;
}

/** nova/scheduler/filters/extra_specs_ops.py match(). */
export function extraSpecMatch(value: string, req: string): boolean {
  const words = req.split(/\s+/).filter((w) => w !== "");
  const op = words.shift();
  const num = (s: string): number => Number(s);
  const methods: Record<string, (a: string, b: string) => boolean> = {
    "=": (a, b) => num(a) >= num(b),
    "<in>": (a, b) => a.includes(b),
    "==": (a, b) => num(a) === num(b),
    "!=": (a, b) => num(a) !== num(b),
    ">=": (a, b) => num(a) >= num(b),
    "<=": (a, b) => num(a) <= num(b),
    "s==": (a, b) => a === b,
    "s!=": (a, b) => a !== b,
    "s<": (a, b) => a < b,
    "s<=": (a, b) => a <= b,
    "s>": (a, b) => a > b,
    "s>=": (a, b) => a >= b,
  };
  if (op === undefined) return value === req;
  if (op === "<or>") {
    for (let i = 0; i < words.length; i += 2) if (words[i] === value) return true;
    return false;
  }
  if (op === "<all-in>") return words.every((w) => value.includes(w));
  const m = methods[op];
  if (!m) return value === req;
  const operand = words[0];
  return operand === undefined ? false : m(value, operand);
}
