import { sql } from "kysely";
import { NeutronError, badRequest } from "../errors.js";
import type { NetworkCore } from "../core.js";
import type { Q } from "../store/tables.js";

/** The resources Neutron counts against a project's quota, and where they live. */
export const QUOTA_TABLES = {
  network: "net_network",
  subnet: "net_subnet",
  subnetpool: "net_subnetpool",
  port: "net_port",
  router: "net_router",
  floatingip: "net_floatingip",
  security_group: "net_security_group",
  security_group_rule: "net_security_group_rule",
  rbac_policy: "net_rbac_policy",
} as const;
export type QuotaResource = keyof typeof QUOTA_TABLES;

/**
 * Neutron's DbQuotaDriver: per-project limits over configured defaults, usage counted from
 * the resources themselves inside the creating transaction (so concurrent creates on
 * PostgreSQL, which take a per-project advisory lock first, cannot both slip under a limit).
 */
export class QuotaManager {
  constructor(private readonly core: NetworkCore) {}

  resources(): QuotaResource[] {
    return Object.keys(QUOTA_TABLES) as QuotaResource[];
  }

  async limits(q: Q, projectId: string): Promise<Record<QuotaResource, number>> {
    const out = {} as Record<QuotaResource, number>;
    for (const r of this.resources()) out[r] = this.core.config.quotas[r] ?? -1;
    const rows = await q.selectFrom("net_quota").selectAll().where("project_id", "=", projectId).execute();
    for (const row of rows) if (row.resource in out) out[row.resource as QuotaResource] = row.hard_limit;
    return out;
  }

  async usage(q: Q, projectId: string, resource: QuotaResource): Promise<number> {
    const table = QUOTA_TABLES[resource];
    const row = await q
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .where("project_id", "=", projectId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Refuse the creation of `adding` more of a resource past the project's limit (409 OverQuota). */
  async check(q: Q, projectId: string, resource: QuotaResource, adding = 1): Promise<void> {
    const limit = (await this.limits(q, projectId))[resource];
    if (limit < 0) return;
    if (this.core.rowLocks) {
      // Serialise creators of one project's resource on PostgreSQL with a transaction-scoped
      // advisory lock (no row of its own), so two cannot both count themselves under the limit.
      await sql`select pg_advisory_xact_lock(hashtext(${`net-quota\n${projectId}\n${resource}`}))`.execute(q);
    }
    const used = await this.usage(q, projectId, resource);
    if (used + adding > limit) {
      throw new NeutronError(409, "OverQuota", `Quota exceeded for resources: ['${resource}'].`);
    }
  }

  async update(projectId: string, changes: Record<string, unknown>): Promise<Record<QuotaResource, number>> {
    for (const [k, v] of Object.entries(changes)) {
      if (!(k in QUOTA_TABLES)) throw badRequest(`Unrecognized attribute(s) '${k}'`);
      if (typeof v !== "number" && !(typeof v === "string" && /^-?\d+$/.test(v))) {
        throw badRequest(`Invalid input for ${k}. Reason: '${String(v)}' is not an integer.`);
      }
      if (Number(v) < -1) throw badRequest(`Invalid input for ${k}. Reason: '${String(v)}' should be greater than or equal to -1.`);
    }
    return this.core.write(async (trx) => {
      for (const [k, v] of Object.entries(changes)) {
        await trx
          .insertInto("net_quota")
          .values({ project_id: projectId, resource: k, hard_limit: Number(v) })
          .onConflict((oc) => oc.columns(["project_id", "resource"]).doUpdateSet({ hard_limit: Number(v) }))
          .execute();
      }
      return this.limits(trx, projectId);
    });
  }

  async reset(projectId: string): Promise<void> {
    await this.core.write(async (trx) => {
      await trx.deleteFrom("net_quota").where("project_id", "=", projectId).execute();
    });
  }

  /** Projects with limits of their own (GET /v2.0/quotas). */
  async projectsWithLimits(q: Q): Promise<string[]> {
    const rows = await q.selectFrom("net_quota").select("project_id").distinct().execute();
    return rows.map((r) => r.project_id);
  }
}
