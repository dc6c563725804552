import { BadRequest, Conflict, NotFound } from "../../../common/errors.js";
import type { Compute, Flavor } from "../api/deps.js";
import type { FlavorSnapshot, Instance, InstancePatch } from "../store/servers.js";
import { POWER, VM, insertMigration, nextIds, startAction, updateInstance, updateMigration } from "../store/servers.js";
import type { MigrationRow, ServersDB, SQ } from "../store/servers-tables.js";
import type { InstanceOps, InstanceTask, InstanceTaskPayload, ServerCaller } from "./instance-state.js";
import { InstanceTaskFailure } from "./instance-state.js";
import type { Scheduler, Selection } from "./scheduler.js";
import { NoValidHost } from "./scheduler.js";

/**
 * Moves of an instance between hosts, as Nova's conductor and computes do them:
 * resize and cold migrate (→ VERIFY_RESIZE, then confirm or revert), live migration (with
 * force-complete and abort), evacuation off a host that is down, and the placement of a
 * shelved-offloaded instance on unshelve.
 *
 * Allocations follow Nova's migration-based accounting: while a resize or migration is in
 * flight, the migration record's uuid is the Placement consumer of the SOURCE allocation and
 * the instance holds the DESTINATION claim (one POST /allocations moves them atomically).
 * Confirm drops the migration's allocation; revert moves it back to the instance.
 */

export const MOVE_PREP = "compute.move.prep";
export const MOVE_FINISH = "compute.move.finish";
export const RESIZE_CONFIRM = "compute.resize.confirm";
export const RESIZE_REVERT = "compute.resize.revert";
export const EVACUATE_TASK = "compute.evacuate";
export const LIVE_PREP = "compute.live.prep";
export const LIVE_FINISH = "compute.live.finish";

type MoveKind = "resize" | "migration" | "live-migration" | "evacuation";

interface MovePayload extends InstanceTaskPayload {
  migration_id: number;
  kind: MoveKind;
  host?: string | null;
  force?: boolean;
}

/** Live migrations still running (servers/{id}/migrations lists and aborts these). */
export const LIVE_IN_PROGRESS = ["queued", "preparing", "running", "post-migrating"];

export function flavorSnapshot(f: Flavor): FlavorSnapshot {
  return {
    id: f.id,
    name: f.name,
    vcpus: f.vcpus,
    ram: f.ram,
    disk: f.disk,
    ephemeral: f.ephemeral,
    swap: f.swap,
    rxtx_factor: f.rxtx_factor,
    is_public: f.is_public,
    description: f.description,
    extra_specs: f.extra_specs,
  };
}

/** The columns that mirror flavor.cur. */
function flavorColumns(f: FlavorSnapshot): InstancePatch {
  return { flavor_id: f.id, vcpus: f.vcpus, memory_mb: f.ram, root_gb: f.disk, ephemeral_gb: f.ephemeral };
}

export interface Migration extends Omit<MigrationRow, "id" | "memory_total" | "memory_processed" | "memory_remaining" | "disk_total" | "disk_processed" | "disk_remaining"> {
  id: number;
}

function toMigration(r: MigrationRow): Migration {
  const { memory_total, memory_processed, memory_remaining, disk_total, disk_processed, disk_remaining, ...rest } = r;
  void memory_total, memory_processed, memory_remaining, disk_total, disk_processed, disk_remaining;
  return { ...rest, id: Number(r.id), hidden: Number(r.hidden), deleted: Number(r.deleted) };
}

export async function getMigration(q: SQ, id: number): Promise<Migration | undefined> {
  const r = await q.selectFrom("cmp_migration").selectAll().where("id", "=", id).executeTakeFirst();
  return r ? toMigration(r) : undefined;
}

export class MoveManager {
  constructor(
    private readonly c: Compute,
    private readonly ops: InstanceOps,
    private readonly scheduler: Scheduler,
  ) {
    ops.registerTask<MovePayload>(MOVE_PREP, (t) => this.prep(t), {
      event: "conductor_migrate_server",
      onFailure: (t) => this.rollback(t, { task_state: null }),
    });
    ops.registerTask<MovePayload>(MOVE_FINISH, (t) => this.finish(t), {
      event: "compute_resize_instance",
      // InstanceFaultRollback (disk down) leaves the instance as it was; a driver failure is ERROR.
      onFailure: (t, err) => this.rollback(t, err instanceof InstanceTaskFailure ? { task_state: null } : { vm_state: VM.ERROR, task_state: null }),
    });
    ops.registerTask<MovePayload>(LIVE_PREP, (t) => this.prep(t), {
      event: "conductor_live_migrate_instance",
      onFailure: (t) => this.rollback(t, { task_state: null }),
    });
    // _rollback_live_migration: the instance stays (ACTIVE) on the source, the migration is "error".
    ops.registerTask<MovePayload>(LIVE_FINISH, (t) => this.finish(t), {
      event: "compute_live_migration",
      onFailure: (t) => this.rollback(t, { task_state: null }),
    });
    ops.registerTask<MovePayload>(RESIZE_CONFIRM, (t) => this.confirm(t), { event: "compute_confirm_resize" });
    ops.registerTask<MovePayload>(RESIZE_REVERT, (t) => this.revert(t), { event: "compute_revert_resize" });
    ops.registerTask<MovePayload>(EVACUATE_TASK, (t) => this.evacuateRun(t), {
      event: "compute_rebuild_instance",
      onFailure: async (t) => {
        await this.setMigration(t.payload.migration_id, { status: "error" });
        return { vm_state: VM.ERROR, task_state: null };
      },
    });
  }

  private get db(): ServersDB {
    return this.c.database.db as ServersDB;
  }

  /** The internal integer id of a flavor (Nova's instance_type_id in migration records). */
  private async flavorRowId(flavorId: string): Promise<string | null> {
    const r = await (this.db as unknown as import("kysely").Kysely<{ cmp_flavor: { id: number; flavorid: string } }>)
      .selectFrom("cmp_flavor")
      .select("id")
      .where("flavorid", "=", flavorId)
      .executeTakeFirst();
    return r ? String(r.id) : null;
  }

  private async setMigration(id: number, patch: Partial<Omit<MigrationRow, "id" | "uuid">>): Promise<void> {
    await updateMigration(this.db, id, patch, this.ops.now());
  }

  // ---- API side ----------------------------------------------------------------------------

  /**
   * compute API resize (flavor given) and cold migrate (no flavor; `host` at 2.56): checks,
   * quota for an upsize, then the migration record and the prep task in one transaction.
   */
  async resize(caller: ServerCaller, inst: Instance, opts: { flavorId?: string; host?: string | null; autoDiskConfig?: boolean; admin: boolean }): Promise<void> {
    const migrate = opts.flavorId === undefined;
    const apiAction = migrate ? "migrate" : "resize";
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, apiAction, { vmState: [VM.ACTIVE, VM.STOPPED] });
    // @check_instance_host(check_is_up=True): the source compute must answer.
    if (!inst.host) throw new Conflict(`Instance ${inst.uuid} is not ready`);
    const source = await this.c.hosts.byName(inst.host);
    if (!source || !source.up) throw new Conflict("Service is unavailable at this time.");
    const cur = inst.flavor.cur;
    let next = cur;
    if (!migrate) {
      const f = await this.c.flavors.get(opts.flavorId!);
      if (!f || f.disabled || !(opts.admin || (await this.c.flavors.usableBy(f, inst.project_id)))) throw new BadRequest(`Flavor ${opts.flavorId} could not be found.`);
      if (f.id === cur.id) throw new BadRequest("When resizing, instances must change flavor!");
      if (f.disk === 0 && cur.disk > 0) throw new BadRequest("Resize to zero disk flavor is not allowed.");
      next = flavorSnapshot(f);
      const delta = { cores: Math.max(0, next.vcpus - cur.vcpus), ram: Math.max(0, next.ram - cur.ram) };
      if (delta.cores > 0 || delta.ram > 0) await this.c.quotas.check(inst.project_id, inst.user_id, delta);
    }
    if (opts.host) {
      const h = await this.c.hosts.byName(opts.host);
      if (!h) throw new BadRequest(`Compute host ${opts.host} could not be found.`);
      if (h.name === inst.host) throw new BadRequest(`Unable to migrate instance (${inst.uuid}) to current host (${inst.host}).`);
    }
    const [id] = await nextIds(this.db, "migration");
    const oldRow = await this.flavorRowId(cur.id);
    const newRow = migrate ? oldRow : await this.flavorRowId(next.id);
    const patch: InstancePatch = {
      task_state: "resize_prep",
      flavor: { cur, old: null, new: next },
      system_metadata: { ...inst.system_metadata, old_vm_state: inst.vm_state },
    };
    if (opts.autoDiskConfig !== undefined) patch.auto_disk_config = opts.autoDiskConfig;
    await this.ops.begin(caller, inst, {
      action: migrate ? "migrate" : "resize",
      check: { vmState: [VM.ACTIVE, VM.STOPPED] },
      set: patch,
      also: async (trx, now) => {
        await insertMigration(
          trx,
          id!,
          {
            instance_uuid: inst.uuid,
            project_id: inst.project_id,
            user_id: inst.user_id,
            migration_type: migrate ? "migration" : "resize",
            status: "pre-migrating",
            source_compute: inst.host,
            source_node: inst.node,
            dest_compute: null,
            dest_node: null,
            dest_host: null,
            old_flavor_id: oldRow,
            new_flavor_id: newRow,
            memory_total: null,
            memory_processed: null,
            memory_remaining: null,
            disk_total: null,
            disk_processed: null,
            disk_remaining: null,
          },
          now,
        );
      },
      task: { kind: MOVE_PREP, payload: { migration_id: id!, kind: migrate ? "migration" : "resize", host: opts.host ?? null } },
    });
  }

  /** The migration of an instance in `status` (Nova's Migration.get_by_instance_and_status). */
  private async migrationIn(uuid: string, statuses: string[]): Promise<Migration | undefined> {
    const r = await this.db
      .selectFrom("cmp_migration")
      .selectAll()
      .where("instance_uuid", "=", uuid)
      .where("status", "in", statuses)
      .where("migration_type", "in", ["resize", "migration"])
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .executeTakeFirst();
    return r ? toMigration(r) : undefined;
  }

  /** compute API confirm_resize: the "finished" migration is confirmed by a task (VERIFY_RESIZE until then). */
  async confirmResize(caller: ServerCaller, inst: Instance): Promise<void> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "confirmResize", { vmState: [VM.RESIZED] });
    const m = await this.migrationIn(inst.uuid, ["finished"]);
    if (!m) throw new BadRequest("Instance has not been resized.");
    await this.ops.begin(caller, inst, {
      action: "confirmResize",
      check: { vmState: [VM.RESIZED] },
      set: {},
      also: async (trx, now) => {
        const r = await trx.updateTable("cmp_migration").set({ status: "confirming", updated_at: now }).where("id", "=", m.id).where("status", "=", "finished").executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw new BadRequest("Instance has not been resized.");
      },
      task: { kind: RESIZE_CONFIRM, payload: { migration_id: m.id, kind: m.migration_type as MoveKind } },
    });
  }

  /** compute API revert_resize: RESIZE_REVERTING, then back on the source with the old flavor. */
  async revertResize(caller: ServerCaller, inst: Instance): Promise<void> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "revertResize", { vmState: [VM.RESIZED] });
    const m = await this.migrationIn(inst.uuid, ["finished"]);
    if (!m) throw new BadRequest("Instance has not been resized.");
    await this.ops.begin(caller, inst, {
      action: "revertResize",
      check: { vmState: [VM.RESIZED] },
      set: { task_state: "resize_reverting" },
      also: async (trx, now) => {
        const r = await trx.updateTable("cmp_migration").set({ status: "reverting", updated_at: now }).where("id", "=", m.id).where("status", "=", "finished").executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) throw new BadRequest("Instance has not been resized.");
      },
      task: { kind: RESIZE_REVERT, payload: { migration_id: m.id, kind: m.migration_type as MoveKind } },
    });
  }

  /** compute API live_migrate (active or paused): MIGRATING, a live-migration record, then the move. */
  async liveMigrate(caller: ServerCaller, inst: Instance, opts: { host: string | null; force: boolean; sync: boolean }): Promise<void> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "os-migrateLive", { vmState: [VM.ACTIVE, VM.PAUSED] });
    if (opts.host) {
      const h = await this.c.hosts.byName(opts.host);
      if (!h) throw new BadRequest(`Compute host ${opts.host} could not be found.`);
      if (opts.sync && h.name === inst.host) throw new BadRequest(`Unable to migrate instance (${inst.uuid}) to current host (${inst.host}).`);
    }
    const [id] = await nextIds(this.db, "migration");
    const row = await this.flavorRowId(inst.flavor.cur.id);
    await this.ops.begin(caller, inst, {
      action: "live-migration",
      apiAction: "os-migrateLive",
      check: { vmState: [VM.ACTIVE, VM.PAUSED] },
      set: { task_state: "migrating" },
      also: async (trx, now) => {
        await insertMigration(trx, id!, this.newMigration(inst, "live-migration", "accepted", row, opts.host), now);
      },
      task: { kind: LIVE_PREP, payload: { migration_id: id!, kind: "live-migration", host: opts.host, force: opts.force } },
    });
  }

  private newMigration(inst: Instance, type: MoveKind, status: string, flavorRow: string | null, dest: string | null) {
    return {
      instance_uuid: inst.uuid,
      project_id: inst.project_id,
      user_id: inst.user_id,
      migration_type: type,
      status,
      source_compute: inst.host,
      source_node: inst.node,
      dest_compute: dest,
      dest_node: dest,
      dest_host: null,
      old_flavor_id: flavorRow,
      new_flavor_id: flavorRow,
      memory_total: null,
      memory_processed: null,
      memory_remaining: null,
      disk_total: null,
      disk_processed: null,
      disk_remaining: null,
    };
  }

  /** compute API evacuate: the instance's host must be down; rebuilt on another host by a task. */
  async evacuate(caller: ServerCaller, inst: Instance, opts: { host: string | null; force: boolean; adminPass: string | null }): Promise<void> {
    this.ops.checkState(inst, "evacuate", { vmState: [VM.ACTIVE, VM.STOPPED, VM.ERROR], taskState: null });
    const src = inst.host ? await this.c.hosts.byName(inst.host) : undefined;
    if (src && src.up) throw new BadRequest(`Compute service of ${inst.host} is still in use.`);
    const [id] = await nextIds(this.db, "migration");
    const row = await this.flavorRowId(inst.flavor.cur.id);
    await this.ops.begin(caller, inst, {
      action: "evacuate",
      ignoreLock: true,
      check: { vmState: [VM.ACTIVE, VM.STOPPED, VM.ERROR], taskState: null },
      set: { task_state: "rebuilding", system_metadata: { ...inst.system_metadata, old_vm_state: inst.vm_state } },
      also: async (trx, now) => {
        await insertMigration(trx, id!, this.newMigration(inst, "evacuation", "accepted", row, opts.host), now);
      },
      task: { kind: EVACUATE_TASK, payload: { migration_id: id!, kind: "evacuation", host: opts.host, force: opts.force } },
    });
  }

  /** servers/{id}/migrations: live migrations in progress. */
  async inProgress(uuid: string, id?: number): Promise<Migration[]> {
    let s = this.db
      .selectFrom("cmp_migration")
      .selectAll()
      .where("instance_uuid", "=", uuid)
      .where("migration_type", "=", "live-migration")
      .where("status", "in", LIVE_IN_PROGRESS)
      .where("deleted", "=", 0);
    if (id !== undefined) s = s.where("id", "=", id);
    return (await s.orderBy("created_at", "desc").execute()).map(toMigration);
  }

  /** live_migrate_force_complete: the running migration finishes now. */
  async forceComplete(caller: ServerCaller, inst: Instance, migrationId: number): Promise<void> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "force_complete", { vmState: [VM.ACTIVE], taskState: ["migrating"] });
    const m = await getMigration(this.db, migrationId);
    // server_migrations.py maps MigrationNotFoundForInstance to 400 for force_complete.
    if (!m || m.instance_uuid !== inst.uuid) throw new BadRequest(`Migration ${migrationId} not found for instance ${inst.uuid}`);
    if (m.status !== "running") {
      throw new BadRequest(`Migration ${migrationId} state of instance ${inst.uuid} is ${m.status}. Cannot force complete while the migration is in this state.`);
    }
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      await startAction(trx, { instance_uuid: inst.uuid, action: "live_migration_force_complete", request_id: caller.requestId, project_id: caller.projectId, user_id: caller.userId }, now);
      const orig = (await trx.selectFrom("cmp_instance_action").select("request_id").where("instance_uuid", "=", inst.uuid).where("action", "=", "live-migration").orderBy("start_time", "desc").executeTakeFirst())?.request_id;
      await this.c.tasks.enqueue(LIVE_FINISH, { instance_uuid: inst.uuid, request_id: orig ?? caller.requestId, migration_id: m.id, kind: "live-migration" }, 0, trx);
    });
  }

  /** live_migrate_abort: a queued/preparing/running live migration is cancelled; the instance stays on the source. */
  async abort(caller: ServerCaller, inst: Instance, migrationId: number, abortInQueue: boolean): Promise<void> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "abort live migration", { taskState: ["migrating"] });
    const m = await getMigration(this.db, migrationId);
    if (!m || m.instance_uuid !== inst.uuid) throw new NotFound(`Migration ${migrationId} not found for instance ${inst.uuid}`);
    // Aborting a queued/preparing migration needs 2.65.
    const allowed = abortInQueue ? ["running", "queued", "preparing"] : ["running"];
    if (!allowed.includes(m.status)) {
      throw new BadRequest(`Migration ${migrationId} state of instance ${inst.uuid} is ${m.status}. Cannot abort live migration while the migration is in this state.`);
    }
    const now = this.ops.now();
    const ok = await this.ops.write(async (trx) => {
      const r = await trx.updateTable("cmp_migration").set({ status: "cancelled", updated_at: now }).where("id", "=", m.id).where("status", "in", allowed).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await startAction(trx, { instance_uuid: inst.uuid, action: "live_migration_cancel", request_id: caller.requestId, project_id: caller.projectId, user_id: caller.userId }, now);
      await updateInstance(trx, inst.uuid, { task_state: null }, now, { task_state: ["migrating"] });
      return true;
    });
    if (!ok) throw new BadRequest(`Migration ${migrationId} state of instance ${inst.uuid} is ${m.status}. Cannot abort live migration while the migration is in this state.`);
    await this.allocationsBack(inst, m);
  }

  // ---- allocations -----------------------------------------------------------------------------

  /** Source allocation from the instance to the migration consumer (idempotent). */
  private async allocationsToMigration(inst: Instance, m: Migration): Promise<void> {
    const mine = await this.c.placement.getAllocations(m.uuid);
    if (Object.keys(mine.allocations).length > 0) return;
    const cur = await this.c.placement.getAllocations(inst.uuid);
    if (Object.keys(cur.allocations).length === 0) return;
    const res = await this.c.placement.postAllocations({
      [m.uuid]: { allocations: stripGen(cur.allocations), project_id: inst.project_id, user_id: inst.user_id, consumer_generation: null, consumer_type: "MIGRATION" },
      [inst.uuid]: { allocations: {}, project_id: inst.project_id, user_id: inst.user_id, consumer_generation: cur.consumer_generation ?? null, consumer_type: "INSTANCE" },
    });
    if (res.status !== 204) throw new Error(`moving allocations to migration ${m.uuid}: ${res.status} ${JSON.stringify(res.body)}`);
  }

  /** The migration's (source) allocation back to the instance, replacing the destination claim (revert, failure). */
  private async allocationsBack(inst: Pick<Instance, "uuid" | "project_id" | "user_id">, m: Migration): Promise<void> {
    const held = await this.c.placement.getAllocations(m.uuid);
    if (Object.keys(held.allocations).length === 0) return;
    const cur = await this.c.placement.getAllocations(inst.uuid);
    const res = await this.c.placement.postAllocations({
      [inst.uuid]: { allocations: stripGen(held.allocations), project_id: inst.project_id, user_id: inst.user_id, consumer_generation: cur.consumer_generation ?? null, consumer_type: "INSTANCE" },
      [m.uuid]: { allocations: {}, project_id: inst.project_id, user_id: inst.user_id, consumer_generation: held.consumer_generation ?? null, consumer_type: "MIGRATION" },
    });
    if (res.status !== 204) throw new Error(`moving allocations back from migration ${m.uuid}: ${res.status} ${JSON.stringify(res.body)}`);
  }

  /** Pick and claim a destination for the instance; undefined when no host fits. */
  async placeOn(inst: Instance, flavor: FlavorSnapshot, opts: { host?: string | null; force?: boolean; ignore: string[]; availabilityZone?: string | null }): Promise<Selection | undefined> {
    const spec = inst.request_spec;
    const sels = await this.scheduler.select({
      instanceUuid: inst.uuid,
      projectId: inst.project_id,
      userId: inst.user_id,
      flavor,
      imageProperties: spec.image_properties ?? {},
      availabilityZone: opts.availabilityZone !== undefined ? opts.availabilityZone : (spec.availability_zone ?? null),
      forceHost: opts.force && opts.host ? opts.host : null,
      requestedHost: !opts.force && opts.host ? opts.host : null,
      groupUuid: spec.group_uuid ?? null,
      hints: spec.scheduler_hints ?? {},
      ignoreHosts: opts.ignore,
    });
    for (const sel of sels) {
      if (await this.scheduler.claim(inst.uuid, inst.project_id, inst.user_id, sel)) return sel;
    }
    return undefined;
  }

  /** The instance's ports follow it to `host` (binding:host_id), as Nova's migrate_instance_finish does. */
  async bindPorts(inst: Instance, host: string | null): Promise<void> {
    for (const v of inst.network_info) {
      await this.c.network.updatePort(v.port_id, { "binding:host_id": host ?? "" }).catch((e: unknown) => this.c.log.warn({ err: e, port: v.port_id }, "port binding update failed"));
    }
  }

  // ---- tasks -----------------------------------------------------------------------------------

  private async migrationOf(t: InstanceTask<MovePayload>): Promise<Migration> {
    const m = await getMigration(this.db, t.payload.migration_id);
    if (!m) throw new InstanceTaskFailure(`Migration ${t.payload.migration_id} could not be found.`);
    return m;
  }

  /** Conductor: source allocation to the migration, destination picked and claimed, then the move itself after the driver's time. */
  private async prep(t: InstanceTask<MovePayload>): Promise<void> {
    const inst = t.instance;
    const live = t.payload.kind === "live-migration";
    const expectTask = live ? "migrating" : "resize_prep";
    if (inst.task_state !== expectTask) return;
    const m = await this.migrationOf(t);
    if (!["pre-migrating", "accepted", "queued", "preparing"].includes(m.status)) return;
    await this.allocationsToMigration(inst, m);
    const flavor = inst.flavor.new ?? inst.flavor.cur;
    const sameHostOk = t.payload.kind === "resize" && this.c.config.allowResizeToSameHost;
    let sel: Selection | undefined;
    try {
      sel = await this.placeOn(inst, flavor, { host: t.payload.host ?? null, force: t.payload.force ?? false, ignore: sameHostOk || !inst.host ? [] : [inst.host] });
    } catch (e) {
      this.c.log.warn({ err: e }, "move scheduling failed");
      sel = undefined;
    }
    if (!sel) {
      const reason = t.payload.host && t.payload.host === inst.host ? `Unable to migrate instance (${inst.uuid}) to current host (${inst.host}).` : new NoValidHost().message;
      throw new InstanceTaskFailure(reason, 500);
    }
    const dest = sel.host;
    const op = live ? "live_migrate" : t.payload.kind === "resize" ? "resize" : "migrate";
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      await updateMigration(trx, m.id, { status: live ? "running" : "migrating", dest_compute: dest.name, dest_node: dest.name, dest_host: dest.hostIp }, now);
      const moved = await updateInstance(trx, inst.uuid, live ? {} : { task_state: "resize_migrating" }, now, { task_state: [expectTask] });
      if (moved) await this.c.tasks.enqueue(live ? LIVE_FINISH : MOVE_FINISH, { instance_uuid: inst.uuid, request_id: t.payload.request_id, migration_id: m.id, kind: t.payload.kind }, this.c.driver.latency(op), trx);
    });
    // The destination's checks, as the events Nova records for them.
    await this.ops.event(inst.uuid, t.payload.request_id, live ? "compute_check_can_live_migrate_destination" : "compute_prep_resize", dest.name, "Success");
  }

  /** Compute: the driver moves the guest; the instance lands on the destination. */
  private async finish(t: InstanceTask<MovePayload>): Promise<void> {
    const inst = t.instance;
    const live = t.payload.kind === "live-migration";
    const m = await this.migrationOf(t);
    if (live ? m.status !== "running" || inst.task_state !== "migrating" : m.status !== "migrating" || inst.task_state !== "resize_migrating") return;
    const dest = m.dest_compute!;
    const op = live ? "live_migrate" : t.payload.kind === "resize" ? "resize" : "migrate";
    if (!live) {
      const next = inst.flavor.new ?? inst.flavor.cur;
      // nova.virt.libvirt migrate_disk_and_power_off: a root disk cannot shrink (InstanceFaultRollback).
      if (next.disk < inst.flavor.cur.disk) throw new InstanceTaskFailure("Resize error: Unable to resize disk down.", 400);
    }
    await this.ops.perform(op, m.source_compute ?? inst.host!, inst.uuid);
    await this.bindPorts(inst, dest);
    const h = await this.c.hosts.byName(dest);
    const now = this.ops.now();
    if (live) {
      await this.ops.write(async (trx) => {
        const moved = await updateInstance(trx, inst.uuid, { host: dest, node: dest, availability_zone: h?.availabilityZone ?? inst.availability_zone, task_state: null }, now, { task_state: ["migrating"] });
        if (moved) await updateMigration(trx, m.id, { status: "completed" }, now);
      });
      await this.scheduler.release(m.uuid);
      await this.ops.event(inst.uuid, t.payload.request_id, "compute_post_live_migration_at_destination", dest, "Success");
      return;
    }
    const old = inst.flavor.cur;
    const next = inst.flavor.new ?? old;
    const stopped = inst.system_metadata["old_vm_state"] === VM.STOPPED;
    await this.ops.write(async (trx) => {
      const moved = await updateInstance(
        trx,
        inst.uuid,
        {
          host: dest,
          node: dest,
          availability_zone: h?.availabilityZone ?? inst.availability_zone,
          flavor: { cur: next, old, new: next },
          ...flavorColumns(next),
          vm_state: VM.RESIZED,
          task_state: null,
          power_state: stopped ? POWER.SHUTDOWN : POWER.RUNNING,
        },
        now,
        { task_state: ["resize_migrating"] },
      );
      if (moved) await updateMigration(trx, m.id, { status: "finished" }, now);
    });
    await this.ops.event(inst.uuid, t.payload.request_id, "compute_finish_resize", dest, "Success");
  }

  /** A failed prep/finish: the source allocation goes back to the instance, the migration is in error. */
  private async rollback(t: InstanceTask<MovePayload>, patch: InstancePatch): Promise<InstancePatch> {
    const m = await getMigration(this.db, t.payload.migration_id);
    if (m) {
      if (m.dest_compute) await this.bindPorts(t.instance, m.source_compute);
      await this.allocationsBack(t.instance, m);
      await this.setMigration(m.id, { status: "error" });
    }
    const p: InstancePatch = { ...patch };
    if (t.payload.kind !== "live-migration") p.flavor = { cur: t.instance.flavor.cur, old: null, new: null };
    return p;
  }

  private async confirm(t: InstanceTask<MovePayload>): Promise<void> {
    const inst = t.instance;
    const m = await this.migrationOf(t);
    if (m.status !== "confirming" || inst.vm_state !== VM.RESIZED) return;
    await this.scheduler.release(m.uuid);
    const stopped = inst.system_metadata["old_vm_state"] === VM.STOPPED;
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      const sys = { ...inst.system_metadata };
      delete sys["old_vm_state"];
      const moved = await updateInstance(
        trx,
        inst.uuid,
        { vm_state: stopped ? VM.STOPPED : VM.ACTIVE, task_state: null, flavor: { cur: inst.flavor.cur, old: null, new: null }, system_metadata: sys },
        now,
        { vm_state: [VM.RESIZED] },
      );
      if (moved) await updateMigration(trx, m.id, { status: "confirmed" }, now);
    });
  }

  private async revert(t: InstanceTask<MovePayload>): Promise<void> {
    const inst = t.instance;
    const m = await this.migrationOf(t);
    if (m.status !== "reverting" || inst.task_state !== "resize_reverting") return;
    const source = m.source_compute!;
    if (m.dest_compute) await this.ops.perform("destroy", m.dest_compute, inst.uuid).catch(() => undefined);
    await this.allocationsBack(inst, m);
    await this.bindPorts(inst, source);
    const h = await this.c.hosts.byName(source);
    const old = inst.flavor.old ?? inst.flavor.cur;
    const stopped = inst.system_metadata["old_vm_state"] === VM.STOPPED;
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      const sys = { ...inst.system_metadata };
      delete sys["old_vm_state"];
      const moved = await updateInstance(
        trx,
        inst.uuid,
        {
          host: source,
          node: m.source_node ?? source,
          availability_zone: h?.availabilityZone ?? inst.availability_zone,
          flavor: { cur: old, old: null, new: null },
          ...flavorColumns(old),
          vm_state: stopped ? VM.STOPPED : VM.ACTIVE,
          power_state: stopped ? POWER.SHUTDOWN : POWER.RUNNING,
          task_state: null,
          system_metadata: sys,
        },
        now,
        { task_state: ["resize_reverting"] },
      );
      if (moved) await updateMigration(trx, m.id, { status: "reverted" }, now);
    });
    await this.ops.event(inst.uuid, t.payload.request_id, "compute_finish_revert_resize", source, "Success");
  }

  /** Conductor + destination compute of an evacuation: a new host, the guest rebuilt there. */
  private async evacuateRun(t: InstanceTask<MovePayload>): Promise<void> {
    const inst = t.instance;
    if (inst.task_state !== "rebuilding") return;
    const m = await this.migrationOf(t);
    if (m.status === "done") return;
    await this.setMigration(m.id, { status: "pre-migrating" });
    const sel = await this.placeOn(inst, inst.flavor.cur, { host: t.payload.host ?? null, force: t.payload.force ?? false, ignore: inst.host ? [inst.host] : [] });
    if (!sel) throw new InstanceTaskFailure(new NoValidHost().message, 500);
    const dest = sel.host.name;
    await this.setMigration(m.id, { dest_compute: dest, dest_node: dest, dest_host: sel.host.hostIp });
    await this.ops.perform("rebuild", dest, inst.uuid);
    await this.bindPorts(inst, dest);
    const stopped = inst.system_metadata["old_vm_state"] === VM.STOPPED;
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      const moved = await updateInstance(
        trx,
        inst.uuid,
        {
          host: dest,
          node: dest,
          availability_zone: sel.host.availabilityZone,
          vm_state: stopped ? VM.STOPPED : VM.ACTIVE,
          power_state: stopped ? POWER.SHUTDOWN : POWER.RUNNING,
          task_state: null,
          launched_at: now,
        },
        now,
        { task_state: ["rebuilding"] },
      );
      if (moved) await updateMigration(trx, m.id, { status: "done" }, now);
    });
  }

  /** Used by unshelve of an offloaded instance: claim a host for it (AZ / host as asked). */
  async placeForUnshelve(inst: Instance, az: string | null | undefined, host: string | null | undefined): Promise<Selection> {
    const sel = await this.placeOn(inst, inst.flavor.cur, { host: host ?? null, ignore: [], ...(az !== undefined ? { availabilityZone: az } : {}) });
    if (!sel) throw new InstanceTaskFailure(new NoValidHost().message, 500);
    return sel;
  }
}

/**
 * A deleted instance's unfinished moves (nova compute API _confirm_resize_on_deleting and the
 * migration cleanup): the migration consumers' allocations are dropped and the migrations end.
 * For the servers area's delete (terminate), after the instance's own allocations go.
 */
export async function releaseMoveAllocations(c: Compute, instanceUuid: string): Promise<void> {
  const db = c.database.db as ServersDB;
  const open = await db
    .selectFrom("cmp_migration")
    .select(["id", "uuid", "status", "migration_type"])
    .where("instance_uuid", "=", instanceUuid)
    .where("status", "not in", ["confirmed", "reverted", "error", "failed", "completed", "done", "cancelled"])
    .execute();
  for (const m of open) {
    const res = await c.placement.deleteAllocations(m.uuid);
    if (res.status !== 204 && res.status !== 404) throw new Error(`DELETE /allocations/${m.uuid} answered ${res.status}`);
    const status = m.status === "finished" || m.status === "confirming" ? "confirmed" : "error";
    await updateMigration(db, Number(m.id), { status }, new Date(c.clock.now()).toISOString());
  }
}

function stripGen(a: Record<string, { resources: Record<string, number>; generation?: number }>): Record<string, { resources: Record<string, number> }> {
  const out: Record<string, { resources: Record<string, number> }> = {};
  for (const [rp, v] of Object.entries(a)) out[rp] = { resources: v.resources };
  return out;
}

