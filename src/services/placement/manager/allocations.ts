import { Codes, badRequest, conflict, notFound } from "../errors.js";
import type { PlacementCore, PTrx } from "../store/core.js";
import { ConcurrentUpdate, rows, sql } from "../store/core.js";
import type { InventoryInput, Provider, ProviderManager } from "./providers.js";
import { InventoryInUse, UnknownResourceClass } from "./providers.js";

/** One consumer's wanted allocations, as PUT /allocations/{c} and each entry of POST /allocations give them. */
export interface ConsumerAllocations {
  consumer: string;
  /** provider uuid → resource class → amount; empty to remove the consumer's allocations. */
  allocations: Record<string, Record<string, number>>;
  project_id?: string | undefined;
  user_id?: string | undefined;
  /** Checked when `checkGeneration` (1.28+): null means "a new consumer". */
  consumer_generation?: number | null | undefined;
  checkGeneration: boolean;
  consumer_type?: string | undefined;
}

export interface ConsumerView {
  allocations: Record<string, { generation: number; resources: Record<string, number> }>;
  project_id?: string;
  user_id?: string;
  consumer_generation?: number;
  consumer_type?: string | null;
  last_modified?: string;
}

interface ConsumerRow {
  uuid: string;
  project_id: string;
  user_id: string;
  consumer_type: string | null;
  generation: number;
}

/** Placement's [placement] incomplete_consumer_project_id / _user_id (consumers written before 1.8). */
const INCOMPLETE_CONSUMER = "00000000-0000-0000-0000-000000000000";

export class CapacityExceeded extends Error {}

/**
 * Allocations, consumers, usages and the reshaper. Every write runs in one transaction that
 * (1) checks consumer generations, (2) checks capacity and unit constraints against the
 * inventory rows, (3) moves each inventory row's `used` with a guarded UPDATE (so a
 * concurrent writer on PostgreSQL can never push it past capacity), (4) replaces the
 * allocation rows and (5) moves every touched provider's generation by compare-and-swap.
 */
export class AllocationManager {
  constructor(
    private readonly core: PlacementCore,
    private readonly providers: ProviderManager,
  ) {}

  async forConsumer(consumer: string): Promise<ConsumerView> {
    const r = await rows<Record<string, unknown>>(
      this.core.db,
      sql`SELECT a.rc_id, a.used, a.updated_at, p.uuid, p.generation, c.project_id, c.user_id, c.generation AS cgen, c.consumer_type
          FROM plc_allocation a JOIN plc_provider p ON p.id = a.provider_id JOIN plc_consumer c ON c.uuid = a.consumer_id
          WHERE a.consumer_id = ${consumer} ORDER BY a.id`,
    );
    const view: ConsumerView = { allocations: {} };
    for (const x of r) {
      const rp = x["uuid"] as string;
      const entry = (view.allocations[rp] ??= { generation: Number(x["generation"]), resources: {} });
      entry.resources[await this.core.rcName(Number(x["rc_id"]))] = Number(x["used"]);
      view.project_id = x["project_id"] as string;
      view.user_id = x["user_id"] as string;
      view.consumer_generation = Number(x["cgen"]);
      view.consumer_type = (x["consumer_type"] as string | null) ?? null;
      const lm = x["updated_at"] as string;
      if (!view.last_modified || lm > view.last_modified) view.last_modified = lm;
    }
    return view;
  }

  async forProvider(p: Provider): Promise<{ allocations: Record<string, { resources: Record<string, number>; consumer_generation: number | null }>; last_modified?: string }> {
    const r = await rows<Record<string, unknown>>(
      this.core.db,
      sql`SELECT a.consumer_id, a.rc_id, a.used, a.updated_at, c.generation AS cgen FROM plc_allocation a LEFT JOIN plc_consumer c ON c.uuid = a.consumer_id
          WHERE a.provider_id = ${p.id} ORDER BY a.id`,
    );
    const out: Record<string, { resources: Record<string, number>; consumer_generation: number | null }> = {};
    let lm: string | undefined;
    for (const x of r) {
      const e = (out[x["consumer_id"] as string] ??= { resources: {}, consumer_generation: x["cgen"] === null ? null : Number(x["cgen"]) });
      e.resources[await this.core.rcName(Number(x["rc_id"]))] = Number(x["used"]);
      const u = x["updated_at"] as string;
      if (!lm || u > lm) lm = u;
    }
    return lm ? { allocations: out, last_modified: lm } : { allocations: out };
  }

  /** PUT /allocations/{c}, POST /allocations: all consumers in one transaction. */
  async replace(items: ConsumerAllocations[], singleConsumer: boolean, inventories?: Map<Provider, InventoryInput[]>): Promise<void> {
    try {
      await this.core.write(async (trx) => {
        // The reshaper: new inventories first (nothing removed yet), then the allocations move,
        // then classes no longer listed go (refused if something still allocates them).
        for (const [p, list] of inventories ?? []) await this.providers.writeInventories(trx, p, list, "upsert");
        await this.write(trx, items);
        for (const [p, list] of inventories ?? []) await this.providers.writeInventories(trx, await this.providers.get(p.uuid, trx), list, "set");
      });
    } catch (e) {
      throw this.mapError(e, items, singleConsumer);
    }
  }

  private mapError(e: unknown, items: ConsumerAllocations[], single: boolean): unknown {
    if (e instanceof ConcurrentUpdate) {
      return conflict(
        "Inventory and/or allocations changed while attempting to allocate: Another thread concurrently updated the data. Please retry your update",
        Codes.CONCURRENT_UPDATE,
      );
    }
    if (e instanceof CapacityExceeded) return conflict(`Unable to allocate inventory: ${e.message}`);
    if (e instanceof UnknownResourceClass) {
      return single
        ? badRequest(`Unable to allocate inventory for consumer ${items[0]?.consumer}: No such resource class ${e.rc}.`)
        : badRequest(`Unable to allocate inventory No such resource class ${e.rc}.`);
    }
    if (e instanceof InventoryInUse) return conflict(`update conflict: ${e.message}`, Codes.INVENTORY_INUSE);
    return e;
  }

  private async write(trx: PTrx, items: ConsumerAllocations[]): Promise<void> {
    const now = this.core.now();
    // Providers named in any allocation, in one query.
    const rpUuids = new Set<string>();
    for (const it of items) for (const u of Object.keys(it.allocations)) rpUuids.add(u);
    const provs = new Map<string, { id: number; generation: number }>();
    if (rpUuids.size) {
      const r = await trx.selectFrom("plc_provider").select(["id", "uuid", "generation"]).where("uuid", "in", [...rpUuids]).execute();
      for (const x of r) provs.set(x.uuid as string, { id: Number(x.id), generation: Number(x.generation) });
    }
    for (const u of rpUuids) {
      if (!provs.has(u)) throw badRequest(`Allocation for resource provider '${u}' that does not exist.`);
    }

    // Consumers: generation checks, then creation or update of their project/user/type.
    // A reshaper that moves no allocations (inventories only) has nothing more to write.
    if (items.length === 0) return;
    const consumers = items.map((i) => i.consumer);
    const existing = new Map<string, ConsumerRow>();
    {
      const r = await trx.selectFrom("plc_consumer").selectAll().where("uuid", "in", consumers).execute();
      for (const c of r) existing.set(c.uuid as string, { uuid: c.uuid as string, project_id: c.project_id as string, user_id: c.user_id as string, consumer_type: (c.consumer_type as string | null) ?? null, generation: Number(c.generation) });
    }
    for (const it of items) {
      const c = existing.get(it.consumer);
      if (!it.checkGeneration) continue;
      if (c && c.generation !== it.consumer_generation) {
        throw conflict(`consumer generation conflict - expected ${c.generation} but got ${it.consumer_generation === null || it.consumer_generation === undefined ? "None" : it.consumer_generation}`, Codes.CONCURRENT_UPDATE);
      }
      if (!c && it.consumer_generation !== null && it.consumer_generation !== undefined) {
        throw conflict(`consumer generation conflict - expected null but got ${it.consumer_generation}`, Codes.CONCURRENT_UPDATE);
      }
    }

    // Consumers first: moving a consumer's generation (or creating its row) takes the row lock
    // that serialises concurrent writers of one consumer on PostgreSQL before anything is read.
    for (const it of items) {
      const hasAllocs = Object.values(it.allocations).some((r) => Object.keys(r).length > 0);
      const c = existing.get(it.consumer);
      // Without a project (before 1.8) Placement records the configured "incomplete consumer" ids.
      const project = it.project_id ?? INCOMPLETE_CONSUMER;
      const userId = it.project_id === undefined ? INCOMPLETE_CONSUMER : (it.user_id ?? INCOMPLETE_CONSUMER);
      if (c) {
        const r = await trx
          .updateTable("plc_consumer")
          .set({
            project_id: project,
            user_id: userId,
            consumer_type: it.consumer_type ?? c.consumer_type,
            generation: c.generation + 1,
            updated_at: now,
          })
          .where("uuid", "=", it.consumer)
          .where("generation", "=", c.generation)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw new ConcurrentUpdate();
      } else if (hasAllocs) {
        try {
          await trx
            .insertInto("plc_consumer")
            .values({ uuid: it.consumer, project_id: project, user_id: userId, consumer_type: it.consumer_type ?? null, generation: 1, created_at: now, updated_at: now })
            .execute();
        } catch (e) {
          // Another request created this consumer meanwhile: its generation moved under us.
          if (String((e as { code?: string }).code ?? "").match(/23505|SQLITE_CONSTRAINT/)) throw new ConcurrentUpdate();
          throw e;
        }
      }
    }

    // Old allocations of these consumers, and the resource class ids of the new ones.
    // A consumer whose row we just created has no allocations yet (rows and consumer come and go together).
    const known = consumers.filter((c) => existing.has(c));
    const old = known.length ? await trx.selectFrom("plc_allocation").select(["provider_id", "rc_id", "used", "consumer_id"]).where("consumer_id", "in", known).execute() : [];
    // delta per (provider, rc): new minus old; checked per class against inventory.
    const delta = new Map<string, { provider: number; rc: number; add: number; newTotal: number; rpUuid: string; rcName: string; amounts: number[] }>();
    const key = (p: number, rc: number): string => `${p}:${rc}`;
    for (const o of old) {
      const k = key(Number(o.provider_id), Number(o.rc_id));
      const d = delta.get(k) ?? { provider: Number(o.provider_id), rc: Number(o.rc_id), add: 0, newTotal: 0, rpUuid: "", rcName: "", amounts: [] };
      d.add -= Number(o.used);
      delta.set(k, d);
    }
    const inserts: Array<Record<string, unknown>> = [];
    for (const it of items) {
      for (const [rpUuid, res] of Object.entries(it.allocations)) {
        const prov = provs.get(rpUuid)!;
        for (const [rc, amount] of Object.entries(res)) {
          const rcId = await this.core.rcId(rc, trx);
          if (rcId === undefined) throw new UnknownResourceClass(rc);
          const k = key(prov.id, rcId);
          const d = delta.get(k) ?? { provider: prov.id, rc: rcId, add: 0, newTotal: 0, rpUuid, rcName: rc, amounts: [] };
          d.add += amount;
          d.newTotal += amount;
          d.rpUuid = rpUuid;
          d.rcName = rc;
          d.amounts.push(amount);
          delta.set(k, d);
          inserts.push({ provider_id: prov.id, rc_id: rcId, consumer_id: it.consumer, used: amount, created_at: now, updated_at: now });
        }
      }
    }

    // Capacity and unit constraints of every (provider, class) that receives allocations.
    const wanted = [...delta.values()].filter((d) => d.amounts.length > 0);
    if (wanted.length) {
      const ids = [...new Set(wanted.map((d) => d.provider))];
      const inv = await trx.selectFrom("plc_inventory").selectAll().where("provider_id", "in", ids).execute();
      const byKey = new Map(inv.map((i) => [key(Number(i.provider_id), Number(i.rc_id)), i]));
      const withInv = new Set(inv.map((i) => Number(i.provider_id)));
      const missing = wanted.filter((d) => !withInv.has(d.provider));
      if (missing.length) {
        const classes = [...new Set(wanted.map((d) => d.rcName))].join(", ");
        const rps = [...new Set(missing.map((d) => d.rpUuid))].join(", ");
        throw new CapacityExceeded(`Inventory for '${classes}' on resource provider '${rps}' invalid.`);
      }
      for (const d of wanted) {
        const i = byKey.get(key(d.provider, d.rc));
        if (!i) throw new CapacityExceeded(`Inventory for '${d.rcName}' on resource provider '${d.rpUuid}' invalid.`);
        const minUnit = Number(i.min_unit);
        const maxUnit = Number(i.max_unit);
        const step = Number(i.step_size);
        if (d.amounts.some((a) => a < minUnit || a > maxUnit || a % step !== 0)) {
          throw new CapacityExceeded(
            `Unable to create allocation for '${d.rcName}' on resource provider '${d.rpUuid}'. The requested amount would violate inventory constraints.`,
          );
        }
        const capacity = (Number(i.total) - Number(i.reserved)) * Number(i.allocation_ratio);
        const usedByOthers = Number(i.used) - (d.newTotal - d.add);
        if (capacity < usedByOthers + d.newTotal) {
          throw new CapacityExceeded(
            `Unable to create allocation for '${d.rcName}' on resource provider '${d.rpUuid}'. The requested amount would exceed the capacity.`,
          );
        }
      }
    }

    // Writes: move `used`, one statement per provider, each row guarded so that a concurrent
    // writer (PostgreSQL) can never push it past capacity; then replace rows, bump generations.
    const byProvider = new Map<number, Array<typeof delta extends Map<string, infer D> ? D : never>>();
    for (const d of delta.values()) if (d.add !== 0) (byProvider.get(d.provider) ?? byProvider.set(d.provider, []).get(d.provider)!).push(d);
    for (const [provider, ds] of byProvider) {
      const values = sql.join(ds.map((d) => sql`(CAST(${d.rc} AS bigint), CAST(${d.add} AS bigint))`));
      const r = await rows<{ rc_id: number }>(
        trx,
        sql`UPDATE plc_inventory SET used = plc_inventory.used + v.column2, updated_at = ${now}
            FROM (VALUES ${values}) AS v
            WHERE plc_inventory.provider_id = ${provider} AND plc_inventory.rc_id = v.column1
              AND (v.column2 <= 0 OR plc_inventory.used + v.column2 <= (plc_inventory.total - plc_inventory.reserved) * plc_inventory.allocation_ratio)
            RETURNING plc_inventory.rc_id`,
      );
      const done = new Set(r.map((x) => Number(x.rc_id)));
      const missed = ds.find((d) => d.add > 0 && !done.has(d.rc));
      if (missed) {
        throw new CapacityExceeded(`Unable to create allocation for '${missed.rcName}' on resource provider '${missed.rpUuid}'. The requested amount would exceed the capacity.`);
      }
    }
    if (old.length) await trx.deleteFrom("plc_allocation").where("consumer_id", "in", known).execute();
    for (let i = 0; i < inserts.length; i += 200) await trx.insertInto("plc_allocation").values(inserts.slice(i, i + 200)).execute();
    // Generations: providers receiving allocations, and (as Placement writes their old rows with
    // used=0) the providers of consumers whose allocations are emptied.
    const touched = new Set<number>([...delta.values()].filter((d) => d.amounts.length > 0).map((d) => d.provider));
    const emptied = new Set(items.filter((it) => !Object.values(it.allocations).some((r) => Object.keys(r).length > 0)).map((it) => it.consumer));
    const extra = [...new Set(old.filter((o) => emptied.has(o.consumer_id as string)).map((o) => Number(o.provider_id)))].filter((id) => !touched.has(id));
    if (extra.length) {
      const r = await trx.selectFrom("plc_provider").select(["id", "generation"]).where("id", "in", extra).execute();
      for (const x of r) await this.core.bumpGeneration(trx, Number(x.id), Number(x.generation));
    }
    for (const [, p] of provs) if (touched.has(p.id)) await this.core.bumpGeneration(trx, p.id, p.generation);

    // A consumer left without allocations is deleted (Placement deletes it too).
    for (const it of items) {
      const hasAllocs = Object.values(it.allocations).some((r) => Object.keys(r).length > 0);
      if (!hasAllocs && existing.has(it.consumer)) await trx.deleteFrom("plc_consumer").where("uuid", "=", it.consumer).execute();
    }
  }

  /** DELETE /allocations/{c}. */
  async deleteConsumer(consumer: string): Promise<void> {
    try {
      await this.core.write(async (trx) => {
        // Deleting the consumer row first takes its lock: a concurrent writer of this consumer
        // finishes before we read its allocations (or fails its generation check after us).
        await trx.deleteFrom("plc_consumer").where("uuid", "=", consumer).execute();
        const old = await trx.selectFrom("plc_allocation").select(["provider_id", "rc_id", "used"]).where("consumer_id", "=", consumer).execute();
        if (!old.length) throw notFound(`No allocations for consumer '${consumer}'`);
        for (const o of old) {
          await trx
            .updateTable("plc_inventory")
            .set({ used: sql`used - ${Number(o.used)}`, updated_at: this.core.now() })
            .where("provider_id", "=", Number(o.provider_id))
            .where("rc_id", "=", Number(o.rc_id))
            .execute();
        }
        await trx.deleteFrom("plc_allocation").where("consumer_id", "=", consumer).execute();
        // Placement's delete_all moves no provider generation; neither do we.
      });
    } catch (e) {
      throw this.mapError(e, [], true);
    }
  }

  // ---- usages

  async providerUsages(p: Provider): Promise<Record<string, number>> {
    const r = await this.core.db.selectFrom("plc_inventory").select(["rc_id", "used"]).where("provider_id", "=", p.id).execute();
    const out: Record<string, number> = {};
    for (const x of r) out[await this.core.rcName(Number(x.rc_id))] = Number(x.used);
    return out;
  }

  /** GET /usages (< 1.38): totals per class for a project (and user). */
  async totals(projectId: string, userId?: string): Promise<Record<string, number>> {
    const userCond = userId ? sql`AND c.user_id = ${userId}` : sql``;
    const r = await rows<{ rc_id: number; u: number }>(
      this.core.db,
      sql`SELECT a.rc_id, SUM(a.used) AS u FROM plc_allocation a JOIN plc_consumer c ON c.uuid = a.consumer_id WHERE c.project_id = ${projectId} ${userCond} GROUP BY a.rc_id`,
    );
    const out: Record<string, number> = {};
    for (const x of r) out[await this.core.rcName(Number(x.rc_id))] = Number(x.u);
    return out;
  }

  /** GET /usages (1.38+): per consumer type, with consumer_count; "all"/"unknown" group everything. */
  async totalsByType(projectId: string, userId: string | undefined, consumerType: string | undefined): Promise<Record<string, Record<string, number>>> {
    const userCond = userId ? sql`AND c.user_id = ${userId}` : sql``;
    const out: Record<string, Record<string, number>> = {};
    if (consumerType === "all" || consumerType === "unknown") {
      const typeCond = consumerType === "unknown" ? sql`AND c.consumer_type IS NULL` : sql``;
      const r = await rows<{ rc_id: number; u: number }>(
        this.core.db,
        sql`SELECT a.rc_id, SUM(a.used) AS u FROM plc_allocation a JOIN plc_consumer c ON c.uuid = a.consumer_id WHERE c.project_id = ${projectId} ${userCond} ${typeCond} GROUP BY a.rc_id`,
      );
      const n = await rows<{ n: number }>(
        this.core.db,
        sql`SELECT COUNT(DISTINCT a.consumer_id) AS n FROM plc_allocation a JOIN plc_consumer c ON c.uuid = a.consumer_id WHERE c.project_id = ${projectId} ${userCond} ${typeCond}`,
      );
      for (const x of r) {
        const e = (out[consumerType] ??= {});
        e[await this.core.rcName(Number(x.rc_id))] = Number(x.u);
        e["consumer_count"] = Number(n[0]?.n ?? 0);
      }
      return out;
    }
    const typeCond = consumerType ? sql`AND c.consumer_type = ${consumerType}` : sql``;
    const r = await rows<{ rc_id: number; u: number; t: string | null }>(
      this.core.db,
      sql`SELECT a.rc_id, SUM(a.used) AS u, c.consumer_type AS t FROM plc_allocation a JOIN plc_consumer c ON c.uuid = a.consumer_id WHERE c.project_id = ${projectId} ${userCond} ${typeCond} GROUP BY a.rc_id, c.consumer_type`,
    );
    const counts = await rows<{ n: number; t: string | null }>(
      this.core.db,
      sql`SELECT COUNT(DISTINCT a.consumer_id) AS n, c.consumer_type AS t FROM plc_allocation a JOIN plc_consumer c ON c.uuid = a.consumer_id WHERE c.project_id = ${projectId} ${userCond} ${typeCond} GROUP BY c.consumer_type`,
    );
    const countBy = new Map(counts.map((c) => [c.t ?? "unknown", Number(c.n)]));
    for (const x of r) {
      const t = x.t ?? "unknown";
      const e = (out[t] ??= {});
      e[await this.core.rcName(Number(x.rc_id))] = Number(x.u);
      e["consumer_count"] = countBy.get(t) ?? 0;
    }
    return out;
  }
}
