import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { BadRequest, Conflict, NotFound } from "../../../common/errors.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { PlacementClient } from "../../../clients/placement.js";
import type { ServersApi } from "../api/deps.js";
import type { FleetStore, FleetTrx } from "../store/fleet.js";
import type { AggregateInfo, HostManager } from "./hosts.js";

/**
 * Host aggregates (nova/compute/api.py AggregateAPI): names unique, availability_zone kept as
 * metadata, a host in at most one zone, and membership mirrored into Placement aggregates on
 * the host's resource provider (what member_of in allocation candidates relies on).
 */
export class AggregateManager {
  constructor(
    private readonly s: FleetStore,
    private readonly hosts: HostManager,
    private readonly placement: PlacementClient,
    private readonly servers: () => ServersApi | undefined,
    private readonly log: Logger,
  ) {}

  async list(): Promise<AggregateInfo[]> {
    return (await this.hosts.snapshot()).aggregates;
  }

  async get(id: number): Promise<AggregateInfo> {
    const a = (await this.hosts.snapshot()).aggregates.find((x) => x.id === id);
    if (!a) throw new NotFound(`Aggregate ${id} could not be found.`);
    return a;
  }

  private async fresh(id: number): Promise<AggregateInfo> {
    this.hosts.invalidate();
    return this.get(id);
  }

  async create(name: string, zone: string | null): Promise<AggregateInfo> {
    const now = this.s.now();
    let id = 0;
    try {
      await this.s.write(
        async (trx) => {
          const dup = await trx.selectFrom("cmp_aggregate").select("id").where("name", "=", name).executeTakeFirst();
          if (dup) throw new Conflict(`Aggregate ${name} already exists.`);
          id = await this.s.nextId(trx, "cmp_aggregate");
          await trx.insertInto("cmp_aggregate").values({ id, uuid: randomUUID(), name, created_at: now, updated_at: null }).execute();
          if (zone) await trx.insertInto("cmp_aggregate_metadata").values({ aggregate_id: id, key: "availability_zone", value: zone }).execute();
        },
        { retryUnique: true },
      );
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Aggregate ${name} already exists.`);
      throw e;
    }
    return this.fresh(id);
  }

  /** is_safe_to_update_az: an empty zone is refused, and a host may not end up in two zones. */
  private async checkZone(agg: AggregateInfo, metadata: Record<string, string | null>, hosts: string[], action: "add" | "update" | "meta"): Promise<void> {
    if (!("availability_zone" in metadata)) return;
    const zone = metadata["availability_zone"];
    const fail = (reason: string) => {
      if (action === "add") return new Conflict(`Cannot add host to aggregate ${agg.id}. Reason: ${reason}.`);
      if (action === "update") return new BadRequest(`Cannot update aggregate ${agg.id}. Reason: ${reason}.`);
      return new BadRequest(`Cannot update metadata of aggregate ${agg.id}. Reason: ${reason}.`);
    };
    if (!zone) throw fail(`Aggregate ${agg.name} does not support empty named availability zone`);
    const snap = await this.hosts.snapshot();
    const conflicting: string[] = [];
    for (const h of hosts) {
      for (const other of snap.aggregatesByHost.get(h) ?? []) {
        const oz = other.metadata["availability_zone"];
        if (other.id !== agg.id && oz !== undefined && oz !== zone) conflicting.push(oz);
      }
    }
    if (conflicting.length > 0) throw fail(`One or more hosts already in availability zone(s) [${conflicting.map((z) => `'${z}'`).join(", ")}]`);
    if (action !== "add" && agg.metadata["availability_zone"] !== zone && hosts.length > 0) {
      const on = (await this.servers()?.onHosts(hosts)) ?? new Map();
      if ([...on.values()].some((l) => l.length > 0)) throw fail("One or more hosts contain instances in this zone");
    }
  }

  async update(id: number, values: { name?: string; availability_zone?: string | null }): Promise<AggregateInfo> {
    const agg = await this.get(id);
    if (values.availability_zone !== undefined) await this.checkZone(agg, { availability_zone: values.availability_zone }, agg.hosts, "update");
    try {
      await this.s.write(async (trx) => {
        if (values.name !== undefined && values.name !== agg.name) {
          const dup = await trx.selectFrom("cmp_aggregate").select("id").where("name", "=", values.name).executeTakeFirst();
          if (dup) throw new Conflict(`Aggregate ${values.name} already exists.`);
          await trx.updateTable("cmp_aggregate").set({ name: values.name }).where("id", "=", id).execute();
        }
        if (values.availability_zone !== undefined) {
          await this.setMeta(trx, id, { availability_zone: values.availability_zone });
          await trx.updateTable("cmp_aggregate").set({ updated_at: this.s.now() }).where("id", "=", id).execute();
        }
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Aggregate ${values.name ?? ""} already exists.`);
      throw e;
    }
    return this.fresh(id);
  }

  private async setMeta(trx: FleetTrx, id: number, metadata: Record<string, string | null>): Promise<void> {
    for (const [key, value] of Object.entries(metadata)) {
      if (value === null) await trx.deleteFrom("cmp_aggregate_metadata").where("aggregate_id", "=", id).where("key", "=", key).execute();
      else
        await trx
          .insertInto("cmp_aggregate_metadata")
          .values({ aggregate_id: id, key, value })
          .onConflict((oc) => oc.columns(["aggregate_id", "key"]).doUpdateSet({ value }))
          .execute();
    }
  }

  async setMetadata(id: number, metadata: Record<string, string | null>): Promise<AggregateInfo> {
    const agg = await this.get(id);
    await this.checkZone(agg, metadata, agg.hosts, "meta");
    await this.s.write(async (trx) => {
      await this.setMeta(trx, id, metadata);
      await trx.updateTable("cmp_aggregate").set({ updated_at: this.s.now() }).where("id", "=", id).execute();
    });
    return this.fresh(id);
  }

  async delete(id: number): Promise<void> {
    const agg = await this.get(id);
    if (agg.hosts.length > 0) throw new BadRequest(`Cannot remove host from aggregate ${id}. Reason: Host aggregate is not empty.`);
    await this.s.write(async (trx) => {
      await trx.deleteFrom("cmp_aggregate_metadata").where("aggregate_id", "=", id).execute();
      await trx.deleteFrom("cmp_aggregate").where("id", "=", id).execute();
    });
    this.hosts.invalidate();
  }

  async addHost(id: number, host: string): Promise<AggregateInfo> {
    const snap = await this.hosts.snapshot();
    if (!snap.serviceByHost.has(host)) throw new NotFound(`Compute host ${host} could not be found.`);
    const agg = await this.get(id);
    if (agg.hosts.includes(host)) throw new Conflict(`Aggregate ${id} already has host ${host}.`);
    await this.checkZone(agg, agg.metadata, [host], "add");
    try {
      await this.s.db.insertInto("cmp_aggregate_host").values({ aggregate_id: id, host }).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Aggregate ${id} already has host ${host}.`);
      throw e;
    }
    this.hosts.invalidate();
    await this.mirror(host, agg.uuid, true);
    return this.fresh(id);
  }

  async removeHost(id: number, host: string): Promise<AggregateInfo> {
    const snap = await this.hosts.snapshot();
    const notFound = new NotFound(`Cannot remove host ${host} in aggregate ${id}`);
    if (!snap.serviceByHost.has(host)) throw notFound;
    const agg = snap.aggregates.find((a) => a.id === id);
    if (!agg || !agg.hosts.includes(host)) throw notFound;
    const r = await this.s.db.deleteFrom("cmp_aggregate_host").where("aggregate_id", "=", id).where("host", "=", host).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound;
    this.hosts.invalidate();
    await this.mirror(host, agg.uuid, false);
    return this.fresh(id);
  }

  /** SchedulerReportClient.aggregate_add_host / aggregate_remove_host, retrying on a generation conflict. */
  private async mirror(host: string, aggUuid: string, add: boolean): Promise<void> {
    const node = (await this.hosts.snapshot()).nodeByHost.get(host);
    if (!node) return;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const cur = await this.placement.getAggregates(node.uuid);
        const set = new Set(cur.aggregates);
        if (add ? set.has(aggUuid) : !set.has(aggUuid)) return;
        if (add) set.add(aggUuid);
        else set.delete(aggUuid);
        await this.placement.setAggregates(node.uuid, cur.resource_provider_generation, [...set]);
        return;
      } catch (e) {
        const status = (e as { status?: number }).status;
        if (status === 409) continue;
        // As Nova: the membership stands; placement catches up later (nova-manage placement sync_aggregates).
        this.log.warn({ err: e, host }, "mirroring the aggregate into placement failed");
        return;
      }
    }
  }
}
