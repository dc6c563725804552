import { BadRequest, Forbidden } from "../../../common/errors.js";
import type { ComputeConfig } from "../../../config/config.js";
import type { QuotasApi, QuotaUsage, ServersApi } from "../api/deps.js";
import type { FleetStore } from "../store/fleet.js";

/** nova/quota.py QUOTAS.resources with their legacy defaults (the ones not in config). */
export const QUOTA_RESOURCES = [
  "instances",
  "cores",
  "ram",
  "floating_ips",
  "fixed_ips",
  "metadata_items",
  "injected_files",
  "injected_file_content_bytes",
  "injected_file_path_bytes",
  "key_pairs",
  "security_groups",
  "security_group_rules",
  "server_groups",
  "server_group_members",
] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

const LEGACY_DEFAULTS: Record<string, number> = { floating_ips: 10, fixed_ips: -1, security_groups: 10, security_group_rules: 20 };

/** Dropped from quota bodies at 2.36 (proxy APIs) and 2.57 (personality files). */
export const FILTERED_2_36 = ["fixed_ips", "floating_ips", "security_group_rules", "security_groups"];
export const FILTERED_2_57 = [...FILTERED_2_36, "injected_files", "injected_file_content_bytes", "injected_file_path_bytes"];

export const DEFAULT_CLASS = "default";

/**
 * Nova's DbQuotaDriver: defaults (config) < the default quota class < project limits < user
 * limits; usage counted from the servers area (instances, cores, ram) and keypairs.
 */
export class QuotaManager implements QuotasApi {
  constructor(
    private readonly s: FleetStore,
    private readonly config: ComputeConfig,
    private readonly servers: () => ServersApi | undefined,
    private readonly keypairCount: (userId: string) => Promise<number>,
  ) {}

  defaults(): Record<string, number> {
    const out: Record<string, number> = {};
    const cfg = this.config.quotas as unknown as Record<string, number | undefined>;
    for (const r of QUOTA_RESOURCES) out[r] = cfg[r] ?? LEGACY_DEFAULTS[r] ?? -1;
    return out;
  }

  async classLimits(className: string): Promise<Record<string, number>> {
    const out = className === DEFAULT_CLASS ? this.defaults() : this.defaults();
    const rows = await this.s.db.selectFrom("cmp_quota_class").selectAll().where("class_name", "=", DEFAULT_CLASS).execute();
    for (const r of rows) out[r.resource] = Number(r.hard_limit);
    if (className !== DEFAULT_CLASS) {
      const own = await this.s.db.selectFrom("cmp_quota_class").selectAll().where("class_name", "=", className).execute();
      for (const r of own) out[r.resource] = Number(r.hard_limit);
    }
    return out;
  }

  async updateClass(className: string, values: Record<string, number>): Promise<void> {
    await this.s.write(async (trx) => {
      for (const [resource, hard_limit] of Object.entries(values)) {
        await trx
          .insertInto("cmp_quota_class")
          .values({ class_name: className, resource, hard_limit })
          .onConflict((oc) => oc.columns(["class_name", "resource"]).doUpdateSet({ hard_limit }))
          .execute();
      }
    });
  }

  async limits(projectId: string, userId?: string): Promise<Record<string, number>> {
    const out = await this.classLimits(DEFAULT_CLASS);
    const users = userId === undefined ? [""] : ["", userId];
    const rows = await this.s.db.selectFrom("cmp_quota").selectAll().where("project_id", "=", projectId).where("user_id", "in", users).execute();
    for (const r of rows) if (r.user_id === "") out[r.resource] = Number(r.hard_limit);
    for (const r of rows) if (r.user_id !== "") out[r.resource] = Number(r.hard_limit);
    return out;
  }

  async usage(projectId: string, userId?: string): Promise<Record<string, number>> {
    const u: QuotaUsage = (await this.servers()?.usage(projectId, userId)) ?? { instances: 0, cores: 0, ram: 0 };
    const out: Record<string, number> = {};
    for (const r of QUOTA_RESOURCES) out[r] = 0;
    out["instances"] = u.instances;
    out["cores"] = u.cores;
    out["ram"] = u.ram;
    if (userId !== undefined) out["key_pairs"] = await this.keypairCount(userId);
    return out;
  }

  async check(projectId: string, userId: string, delta: Partial<QuotaUsage> & { server_groups?: number; server_group_members?: number; key_pairs?: number }): Promise<void> {
    const [projLimits, userLimits] = await Promise.all([this.limits(projectId), this.limits(projectId, userId)]);
    if (delta.key_pairs) {
      const used = await this.keypairCount(userId);
      const lim = userLimits["key_pairs"]!;
      if (lim >= 0 && used + delta.key_pairs > lim) throw new Forbidden("Quota exceeded, too many key pairs.");
    }
    if (delta.server_groups) {
      const lim = userLimits["server_groups"]!;
      if (lim >= 0 && delta.server_groups > lim) throw new Forbidden("Quota exceeded, too many server groups.");
    }
    if (delta.server_group_members) {
      const lim = userLimits["server_group_members"]!;
      if (lim >= 0 && delta.server_group_members > lim) throw new Forbidden("Quota exceeded, too many servers in group");
    }
    const keys = (["cores", "instances", "ram"] as const).filter((k) => (delta[k] ?? 0) > 0);
    if (keys.length === 0) return;
    const [pu, uu] = await Promise.all([this.usage(projectId), this.usage(projectId, userId)]);
    const overs: string[] = [];
    const reqs: number[] = [];
    const useds: number[] = [];
    const alloweds: number[] = [];
    for (const k of keys) {
      const want = delta[k]!;
      // The tighter of the project's and the user's limits (count_as_dict over both scopes).
      const checks: Array<[number, number]> = [
        [projLimits[k]!, pu[k]!],
        [userLimits[k]!, uu[k]!],
      ];
      for (const [lim, used] of checks) {
        if (lim >= 0 && used + want > lim) {
          overs.push(k);
          reqs.push(want);
          useds.push(used);
          alloweds.push(lim);
          break;
        }
      }
    }
    if (overs.length > 0) {
      const o = overs.join(", ");
      throw new Forbidden(`Quota exceeded for ${o}: Requested ${reqs.join(", ")}, but already used ${useds.join(", ")} of ${alloweds.join(", ")} ${o}`);
    }
  }

  /** PUT os-quota-sets/{project}[?user_id=]: Nova's settable range unless force. */
  async update(projectId: string, userId: string | undefined, values: Record<string, number>, force: boolean): Promise<void> {
    if (!force) {
      const used = await this.usage(projectId, userId);
      const proj = userId !== undefined ? await this.limits(projectId) : undefined;
      for (const [k, v] of Object.entries(values)) {
        const inf = (x: number) => (x === -1 ? Infinity : x);
        const minimum = used[k] ?? 0;
        if (inf(v) < inf(minimum)) throw new BadRequest(`Quota limit ${v} for ${k} must be greater than or equal to already used and reserved ${minimum}.`);
        if (proj !== undefined) {
          const maximum = proj[k] ?? -1;
          if (inf(v) > inf(maximum)) throw new BadRequest(`Quota limit ${v} for ${k} must be less than or equal to ${maximum}.`);
        }
      }
    }
    await this.s.write(async (trx) => {
      for (const [resource, hard_limit] of Object.entries(values)) {
        await trx
          .insertInto("cmp_quota")
          .values({ project_id: projectId, user_id: userId ?? "", resource, hard_limit })
          .onConflict((oc) => oc.columns(["project_id", "user_id", "resource"]).doUpdateSet({ hard_limit }))
          .execute();
      }
    });
  }

  async reset(projectId: string, userId?: string): Promise<void> {
    let q = this.s.db.deleteFrom("cmp_quota").where("project_id", "=", projectId);
    if (userId !== undefined) q = q.where("user_id", "=", userId);
    await q.execute();
  }
}
