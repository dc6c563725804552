import { createHash } from "node:crypto";
import { hostname as osHostname } from "node:os";
import type { Logger } from "pino";
import { BadRequest, NotFound } from "../../../common/errors.js";
import type { HostSpec, HypervisorDriver } from "../../../drivers/compute/driver.js";
import type { Inventory, PlacementClient } from "../../../clients/placement.js";
import { ServiceCallError } from "../../../clients/transport.js";
import type { ComputeConfig } from "../../../config/config.js";
import type { HostRecord, HostsApi } from "../api/deps.js";
import type { FleetStore, FleetTables } from "../store/fleet.js";

export type ServiceRow = FleetTables["cmp_service"];
export type NodeRow = FleetTables["cmp_compute_node"];

export interface AggregateInfo {
  id: number;
  uuid: string;
  name: string;
  created_at: string;
  updated_at: string | null;
  hosts: string[];
  metadata: Record<string, string>;
}

/** The in-memory picture of the fleet: rebuilt from the database after any change. */
export interface FleetSnapshot {
  services: ServiceRow[];
  nodes: NodeRow[];
  nodeByHost: Map<string, NodeRow>;
  serviceByHost: Map<string, ServiceRow>;
  aggregates: AggregateInfo[];
  aggregatesByHost: Map<string, AggregateInfo[]>;
  records: HostRecord[];
  recordByName: Map<string, HostRecord>;
  recordByProvider: Map<string, HostRecord>;
}

/** The zone Nova gives control-plane services (CONF.internal_service_availability_zone). */
export const INTERNAL_ZONE = "internal";

/** A name-based uuid (RFC 4122 version 5 layout over SHA-1), stable across restarts and processes. */
export function stableUuid(namespace: string, name: string): string {
  const h = createHash("sha1").update(`stackbox:${namespace}:${name}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** Run `fn` over items with at most `n` in flight. */
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]!);
  });
  await Promise.all(workers);
}

/**
 * Compute services, compute nodes (hypervisors) and the HostsApi the scheduler reads. The
 * database is authoritative; a snapshot of it is kept in memory and dropped on every change
 * this process makes (and, on SQLite, when another process commits; on PostgreSQL after a
 * short time), so the scheduler's per-boot all() costs nothing at 10,000 hosts.
 */
export class HostManager implements HostsApi {
  private snap: FleetSnapshot | undefined;
  private loading: Promise<FleetSnapshot> | undefined;
  private snapAt = 0;
  private snapVersion = -1;
  private readonly controller = osHostname() || "controller";

  constructor(
    private readonly s: FleetStore,
    private readonly config: ComputeConfig,
    private readonly driver: HypervisorDriver,
    private readonly placement: PlacementClient,
    private readonly log: Logger,
  ) {}

  invalidate(): void {
    this.snap = undefined;
    this.loading = undefined;
  }

  private fresh(): boolean {
    if (!this.snap) return false;
    const ext = this.s.database.externalChanges;
    if (ext) return ext() === this.snapVersion;
    // PostgreSQL: other processes may change the fleet; re-read at most every 2 s.
    return this.s.clock.now().getTime() - this.snapAt < 2000;
  }

  async snapshot(): Promise<FleetSnapshot> {
    if (this.fresh()) return this.snap!;
    if (!this.loading) {
      const p = this.load().then(
        (s) => {
          if (this.loading === p) {
            this.snap = s;
            this.loading = undefined;
          }
          return s;
        },
        (e: unknown) => {
          if (this.loading === p) this.loading = undefined;
          throw e;
        },
      );
      this.loading = p;
    }
    return this.loading;
  }

  private async load(): Promise<FleetSnapshot> {
    this.snapVersion = this.s.database.externalChanges?.() ?? -1;
    this.snapAt = this.s.clock.now().getTime();
    const db = this.s.db;
    const [services, nodes, aggs, aggHosts, aggMeta] = await Promise.all([
      db.selectFrom("cmp_service").selectAll().orderBy("id").execute(),
      db.selectFrom("cmp_compute_node").selectAll().orderBy("id").execute(),
      db.selectFrom("cmp_aggregate").selectAll().orderBy("id").execute(),
      db.selectFrom("cmp_aggregate_host").selectAll().execute(),
      db.selectFrom("cmp_aggregate_metadata").selectAll().execute(),
    ]);
    const aggregates: AggregateInfo[] = aggs.map((a) => ({ id: Number(a.id), uuid: a.uuid, name: a.name, created_at: a.created_at, updated_at: a.updated_at, hosts: [], metadata: {} }));
    const aggById = new Map(aggregates.map((a) => [a.id, a]));
    for (const h of aggHosts) aggById.get(Number(h.aggregate_id))?.hosts.push(h.host);
    for (const m of aggMeta) {
      const a = aggById.get(Number(m.aggregate_id));
      if (a) a.metadata[m.key] = m.value;
    }
    const aggregatesByHost = new Map<string, AggregateInfo[]>();
    for (const a of aggregates) {
      for (const h of a.hosts) {
        let l = aggregatesByHost.get(h);
        if (!l) aggregatesByHost.set(h, (l = []));
        l.push(a);
      }
    }
    const serviceByHost = new Map<string, ServiceRow>();
    for (const s of services) if (s.binary === "nova-compute") serviceByHost.set(s.host, s);
    const nodeByHost = new Map<string, NodeRow>();
    const records: HostRecord[] = [];
    for (const n of nodes) {
      nodeByHost.set(n.host, n);
      const svc = serviceByHost.get(n.host);
      if (!svc) continue;
      records.push({
        name: n.hypervisor_hostname,
        hypervisorId: n.uuid,
        providerUuid: n.uuid,
        availabilityZone: this.zoneFrom(aggregatesByHost.get(n.host)),
        disabled: Number(svc.disabled) === 1,
        up: this.serviceUp(svc),
        hostIp: n.host_ip,
      });
    }
    // `up` depends on the driver too (a host that stops answering); records carry it at load time.
    return {
      services,
      nodes,
      nodeByHost,
      serviceByHost,
      aggregates,
      aggregatesByHost,
      records,
      recordByName: new Map(records.map((r) => [r.name, r])),
      recordByProvider: new Map(records.map((r) => [r.providerUuid, r])),
    };
  }

  /** A compute service is up unless forced down or its host does not answer (the servicegroup API). */
  serviceUp(svc: ServiceRow): boolean {
    if (Number(svc.forced_down) === 1) return false;
    return svc.binary !== "nova-compute" || this.driver.isUp(svc.host);
  }

  /** availability_zones.get_host_availability_zone: the AZ aggregates' names, else the default zone. */
  zoneFrom(aggs: AggregateInfo[] | undefined): string {
    const zones = [...new Set((aggs ?? []).map((a) => a.metadata["availability_zone"]).filter((z): z is string => z !== undefined))];
    return zones.length > 0 ? zones.sort().join(",") : this.config.defaultAvailabilityZone;
  }

  /** The zone of a service row as os-services shows it. */
  serviceZone(snap: FleetSnapshot, svc: ServiceRow): string {
    return svc.binary === "nova-compute" ? this.zoneFrom(snap.aggregatesByHost.get(svc.host)) : INTERNAL_ZONE;
  }

  // HostsApi
  async all(): Promise<HostRecord[]> {
    const snap = await this.snapshot();
    // Liveness may change without a database change (driver.isUp): refresh the flag cheaply.
    for (const r of snap.records) {
      const svc = snap.serviceByHost.get(r.name);
      if (svc) r.up = this.serviceUp(svc);
    }
    return snap.records;
  }
  async byName(name: string): Promise<HostRecord | undefined> {
    const r = (await this.snapshot()).recordByName.get(name);
    if (r) {
      const svc = (await this.snapshot()).serviceByHost.get(name);
      if (svc) r.up = this.serviceUp(svc);
    }
    return r;
  }
  async byProvider(providerUuid: string): Promise<HostRecord | undefined> {
    const r = (await this.snapshot()).recordByProvider.get(providerUuid);
    return r ? this.byName(r.name) : undefined;
  }
  async aggregatesOf(host: string): Promise<Array<{ id: number; uuid: string; name: string; metadata: Record<string, string> }>> {
    return ((await this.snapshot()).aggregatesByHost.get(host) ?? []).map((a) => ({ id: a.id, uuid: a.uuid, name: a.name, metadata: { ...a.metadata } }));
  }
  async zones(): Promise<string[]> {
    const snap = await this.snapshot();
    const out = new Set<string>();
    for (const r of snap.records) for (const z of r.availabilityZone.split(",")) out.add(z);
    return [...out].sort();
  }

  // Bootstrap

  /**
   * Every start: each driver host has a nova-compute service, a compute node and a resource
   * provider (inventories, traits, aggregates). Hosts already registered are skipped; new ones
   * are written in bulk and registered in Placement a few at a time.
   */
  async bootstrap(): Promise<{ created: number; synced: number }> {
    const now = this.s.now();
    const db = this.s.db;
    // Control-plane services, as DevStack runs them on the controller.
    for (const binary of ["nova-scheduler", "nova-conductor"]) {
      await this.insertServices([{ host: this.controller, binary, topic: binary.slice(5), now }]);
    }
    const specs = this.driver.hosts();
    const existing = new Set((await db.selectFrom("cmp_compute_node").select("host").execute()).map((r) => r.host));
    const missing = specs.filter((h) => !existing.has(h.name));
    if (missing.length > 0) {
      for (let i = 0; i < missing.length; i += 400) {
        const chunk = missing.slice(i, i + 400);
        await this.insertServices(chunk.map((h) => ({ host: h.name, binary: "nova-compute", topic: "compute", now })));
        await this.insertNodes(chunk);
      }
      await this.ensureZoneAggregates(missing);
    }
    this.invalidate();
    const synced = await this.syncPlacement();
    return { created: missing.length, synced };
  }

  private async insertServices(rows: Array<{ host: string; binary: string; topic: string; now: string }>): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const have = new Set(
        (await this.s.db.selectFrom("cmp_service").select(["host", "binary"]).where("host", "in", rows.map((r) => r.host)).execute()).map((r) => `${r.host}\n${r.binary}`),
      );
      const todo = rows.filter((r) => !have.has(`${r.host}\n${r.binary}`));
      if (todo.length === 0) return;
      await this.s.write(async (trx) => {
        let id = await this.s.nextId(trx, "cmp_service", todo.length);
        await trx
          .insertInto("cmp_service")
          .values(
            todo.map((r) => ({
              id: id++,
              uuid: stableUuid("service", `${r.host}/${r.binary}`),
              host: r.host,
              binary: r.binary,
              topic: r.topic,
              disabled: 0,
              disabled_reason: null,
              forced_down: 0,
              created_at: r.now,
              updated_at: r.now,
            })),
          )
          .onConflict((oc) => oc.doNothing())
          .execute();
      });
    }
  }

  private async insertNodes(hosts: HostSpec[]): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const svc = new Map(
        (await this.s.db.selectFrom("cmp_service").select(["id", "host"]).where("binary", "=", "nova-compute").where("host", "in", hosts.map((h) => h.name)).execute()).map((r) => [r.host, Number(r.id)]),
      );
      const have = new Set((await this.s.db.selectFrom("cmp_compute_node").select("host").where("host", "in", hosts.map((h) => h.name)).execute()).map((r) => r.host));
      const todo = hosts.filter((h) => !have.has(h.name) && svc.has(h.name));
      if (todo.length === 0) return;
      await this.s.write(async (trx) => {
        let id = await this.s.nextId(trx, "cmp_compute_node", todo.length);
        await trx
          .insertInto("cmp_compute_node")
          .values(
            todo.map((h) => ({
              id: id++,
              uuid: stableUuid("compute_node", h.name),
              service_id: svc.get(h.name)!,
              host: h.name,
              hypervisor_hostname: h.name,
              vcpus: h.vcpus,
              memory_mb: h.memoryMb,
              local_gb: h.diskGb,
              cpu_allocation_ratio: h.cpuAllocationRatio,
              ram_allocation_ratio: h.ramAllocationRatio,
              disk_allocation_ratio: h.diskAllocationRatio,
              hypervisor_type: h.hypervisorType,
              hypervisor_version: h.hypervisorVersion,
              host_ip: h.hostIp,
              cpu_info: JSON.stringify({
                arch: "x86_64",
                model: "Cascadelake-Server-noTSX",
                vendor: "Intel",
                topology: { cells: 1, sockets: 1, cores: h.vcpus, threads: 1 },
                features: ["sse", "sse2", "avx", "avx2"],
              }),
              placement_synced: 0,
            })),
          )
          .onConflict((oc) => oc.doNothing())
          .execute();
      });
    }
  }

  /** Hosts placed in a zone other than the default one are members of an aggregate named after it with availability_zone set. */
  private async ensureZoneAggregates(hosts: HostSpec[]): Promise<void> {
    const byZone = new Map<string, string[]>();
    for (const h of hosts) {
      if (h.availabilityZone === this.config.defaultAvailabilityZone) continue;
      let l = byZone.get(h.availabilityZone);
      if (!l) byZone.set(h.availabilityZone, (l = []));
      l.push(h.name);
    }
    for (const [zone, names] of byZone) {
      const now = this.s.now();
      let agg = await this.s.db.selectFrom("cmp_aggregate").select(["id"]).where("name", "=", zone).executeTakeFirst();
      if (!agg) {
        await this.s.write(
          async (trx) => {
            const id = await this.s.nextId(trx, "cmp_aggregate");
            await trx.insertInto("cmp_aggregate").values({ id, uuid: stableUuid("aggregate", zone), name: zone, created_at: now, updated_at: null }).onConflict((oc) => oc.doNothing()).execute();
          },
          { retryUnique: true },
        );
        agg = await this.s.db.selectFrom("cmp_aggregate").select(["id"]).where("name", "=", zone).executeTakeFirstOrThrow();
      }
      const aid = Number(agg.id);
      await this.s.db
        .insertInto("cmp_aggregate_metadata")
        .values({ aggregate_id: aid, key: "availability_zone", value: zone })
        .onConflict((oc) => oc.doNothing())
        .execute();
      for (let i = 0; i < names.length; i += 500) {
        await this.s.db
          .insertInto("cmp_aggregate_host")
          .values(names.slice(i, i + 500).map((host) => ({ aggregate_id: aid, host })))
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    }
  }

  /**
   * Register nodes not yet in Placement, as each nova-compute's resource tracker would: the
   * provider (named after the node, uuid = the node's uuid), its traits, its inventories
   * (VCPU, MEMORY_MB, DISK_GB with the allocation ratios) and its aggregates. Providers and
   * traits are written a few at a time; the inventories of a whole batch go in one reshaper
   * call, which keeps a 10,000-host first start short.
   */
  async syncPlacement(): Promise<number> {
    const pending = await this.s.db.selectFrom("cmp_compute_node").selectAll().where("placement_synced", "=", 0).orderBy("id").execute();
    if (pending.length === 0) return 0;
    const specs = new Map(this.driver.hosts().map((h) => [h.name, h]));
    const snap = await this.snapshot();
    const custom = new Set<string>();
    for (const h of specs.values()) for (const t of h.traits) if (t.startsWith("CUSTOM_")) custom.add(t);
    try {
      for (const t of custom) await this.placement.ensureTrait(t);
    } catch (e) {
      this.log.warn({ err: e }, "placement unavailable; compute nodes will be registered at the next start");
      return 0;
    }
    let count = 0;
    for (let i = 0; i < pending.length; i += 250) {
      const batch = pending.slice(i, i + 250);
      const t0 = Date.now();
      const generations = new Map<string, number>();
      let unavailable = false;
      await pool(batch, 8, async (n) => {
        if (unavailable) return;
        try {
          generations.set(n.uuid, await this.providerWithTraits(n, specs.get(n.host)?.traits ?? []));
        } catch (e) {
          if (e instanceof ServiceCallError && (e.status === 404 || e.status === 405)) {
            if (!unavailable) this.log.warn({ err: e }, "placement unavailable; compute nodes will be registered at the next start");
            unavailable = true;
          } else this.log.error({ err: e, host: n.host }, "registering the compute node in placement failed");
        }
      });
      if (unavailable) break;
      const ready = batch.filter((n) => generations.has(n.uuid));
      const t1 = Date.now();
      await this.setInventories(ready, generations);
      this.log.debug({ from: i, providersMs: t1 - t0, inventoriesMs: Date.now() - t1 }, "compute nodes registered in placement");
      for (const n of ready) {
        const aggs = (snap.aggregatesByHost.get(n.host) ?? []).map((a) => a.uuid);
        if (aggs.length === 0) continue;
        const rp = await this.placement.getProvider(n.uuid);
        if (rp) await this.placement.setAggregates(n.uuid, rp.generation, aggs);
      }
      const done = ready.map((n) => n.uuid);
      if (done.length > 0) await this.s.db.updateTable("cmp_compute_node").set({ placement_synced: 1 }).where("uuid", "in", done).execute();
      count += done.length;
    }
    return count;
  }

  /** The provider (created, or found after a half-finished earlier start) with its traits; answers its generation. */
  private async providerWithTraits(n: NodeRow, traits: string[]): Promise<number> {
    // A node not yet synced almost never has a provider: create first, read only on a conflict.
    let rp;
    try {
      rp = await this.placement.createProvider({ uuid: n.uuid, name: n.hypervisor_hostname });
    } catch (e) {
      if (!(e instanceof ServiceCallError && e.status === 409)) throw e;
      rp = await this.placement.getProvider(n.uuid);
      if (!rp) throw e;
    }
    const t = await this.placement.setTraits(n.uuid, rp.generation, traits);
    return t.resource_provider_generation;
  }

  private inventoriesOf(n: NodeRow): Record<string, Inventory> {
    return {
      VCPU: { total: Number(n.vcpus), reserved: 0, min_unit: 1, max_unit: Number(n.vcpus), step_size: 1, allocation_ratio: Number(n.cpu_allocation_ratio) },
      MEMORY_MB: { total: Number(n.memory_mb), reserved: 512, min_unit: 1, max_unit: Number(n.memory_mb), step_size: 1, allocation_ratio: Number(n.ram_allocation_ratio) },
      DISK_GB: { total: Number(n.local_gb), reserved: 0, min_unit: 1, max_unit: Number(n.local_gb), step_size: 1, allocation_ratio: Number(n.disk_allocation_ratio) },
    };
  }

  /** One reshaper call for the batch; provider by provider when it is refused (a concurrent writer moved a generation). */
  private async setInventories(nodes: NodeRow[], generations: Map<string, number>): Promise<void> {
    if (nodes.length === 0) return;
    const inventories: Record<string, { resource_provider_generation: number; inventories: Record<string, Inventory> }> = {};
    for (const n of nodes) inventories[n.uuid] = { resource_provider_generation: generations.get(n.uuid)!, inventories: this.inventoriesOf(n) };
    const res = await this.placement.reshape({ inventories, allocations: {} });
    if (res.status >= 200 && res.status < 300) return;
    this.log.debug({ status: res.status }, "reshaper refused the batch; setting inventories one by one");
    await pool(nodes, 8, async (n) => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const rp = await this.placement.getProvider(n.uuid);
        if (!rp) return;
        try {
          await this.placement.setInventories(n.uuid, rp.generation, this.inventoriesOf(n));
          return;
        } catch (e) {
          if (!(e instanceof ServiceCallError && e.status === 409)) throw e;
        }
      }
    });
  }

  // os-services

  async serviceByKey(id: string, uuid: boolean): Promise<ServiceRow> {
    const snap = await this.snapshot();
    const s = uuid ? snap.services.find((x) => x.uuid === id) : snap.services.find((x) => String(x.id) === id);
    if (!s) throw new NotFound(`Service ${id} could not be found.`);
    return s;
  }

  async updateService(id: number, changes: Partial<Pick<ServiceRow, "disabled" | "disabled_reason" | "forced_down">>): Promise<ServiceRow> {
    await this.s.db.updateTable("cmp_service").set({ ...changes, updated_at: this.s.now() }).where("id", "=", id).execute();
    this.invalidate();
    return (await this.s.db.selectFrom("cmp_service").selectAll().where("id", "=", id).executeTakeFirstOrThrow());
  }

  async updateByHostBinary(host: string, binary: string, changes: Partial<Pick<ServiceRow, "disabled" | "disabled_reason" | "forced_down">>): Promise<void> {
    if (binary !== "nova-compute") throw new BadRequest(`Updating a ${binary} service is not supported. Only nova-compute services can be updated.`);
    const r = await this.s.db.updateTable("cmp_service").set({ ...changes, updated_at: this.s.now() }).where("host", "=", host).where("binary", "=", binary).executeTakeFirst();
    this.invalidate();
    if (Number(r.numUpdatedRows) === 0) throw new NotFound(`Compute host ${host} could not be found.`);
  }

  /** DELETE /os-services/{id}: a compute service also loses its node, aggregate memberships and provider. */
  async deleteService(svc: ServiceRow): Promise<void> {
    const nodes = await this.s.db.selectFrom("cmp_compute_node").select(["uuid"]).where("service_id", "=", Number(svc.id)).execute();
    await this.s.write(async (trx) => {
      await trx.deleteFrom("cmp_service").where("id", "=", Number(svc.id)).execute();
      if (svc.binary === "nova-compute") {
        await trx.deleteFrom("cmp_compute_node").where("service_id", "=", Number(svc.id)).execute();
        await trx.deleteFrom("cmp_aggregate_host").where("host", "=", svc.host).execute();
      }
    });
    this.invalidate();
    for (const n of nodes) {
      const res = await this.placement.raw("DELETE", `/resource_providers/${n.uuid}`);
      if (res.status >= 300 && res.status !== 404) this.log.warn({ status: res.status, provider: n.uuid }, "deleting the compute node's resource provider failed");
    }
  }
}
