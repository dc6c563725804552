import { DriverFailure } from "../../../drivers/compute/driver.js";
import type { Compute } from "../api/deps.js";
import type { Instance, Vif } from "../store/servers.js";
import { POWER, VM, addFault, getInstance, updateInstance } from "../store/servers.js";
import type { ServersTrx } from "../store/servers-tables.js";
import type { InstanceOps } from "./instance-state.js";
import type { Scheduler, Selection } from "./scheduler.js";
import { NoValidHost } from "./scheduler.js";
import { BlockDevicePrepFailed, volumeOpsOf } from "./volumes.js";

/** A network the server asked for, as the API normalised it (request_spec.networks). */
export interface RequestedNetwork {
  network_id: string;
  network_name: string;
  /** A port the user gave (bound, never deleted by Nova). */
  port_id?: string;
  fixed_ip?: string;
  tag?: string | null;
}

/** Nova's [scheduler]max_attempts: one build tries this many hosts. */
const MAX_ATTEMPTS = 3;

/** task kinds */
export const BUILD_TASK = "compute.build";
export const SPAWN_TASK = "compute.spawn";

/**
 * The build of a server, as conductor + scheduler + compute do it, in persisted steps:
 *  1. "compute.build" (task_state scheduling): Placement candidates, filters, weighers,
 *     claim (PUT /allocations, next candidate on 409), the server group's late check, host set;
 *     then (task_state networking) ports created/bound on the host via Neutron, and the spawn
 *     enqueued after the driver's latency (task_state spawning).
 *  2. "compute.spawn": driver spawn; ACTIVE/running, or on failure a fault and a reschedule
 *     to another host (allocations released), up to MAX_ATTEMPTS, then ERROR.
 * Every step re-reads the instance and only moves it from the state it expects, so a task run
 * twice (crash) or a server deleted meanwhile never leaves a half-built state or leaked claims.
 */
export class BuildManager {
  constructor(
    private readonly c: Compute,
    private readonly ops: InstanceOps,
    private readonly scheduler: Scheduler,
  ) {
    ops.registerTask(BUILD_TASK, async (t) => this.build(t.instance, t.payload.request_id, t.task.attempt > 1));
    ops.registerTask(SPAWN_TASK, async (t) => this.spawn(t.instance, t.payload.request_id));
  }

  /** `rerun`: the task ran before (a crash or a retry), so ports of the first run may exist. */
  private async build(inst: Instance, requestId: string, rerun: boolean): Promise<void> {
    if (inst.vm_state !== VM.BUILDING) return;
    if (inst.task_state === "scheduling") {
      const placed = await this.schedule(inst, requestId);
      if (!placed) return;
      inst = placed;
    }
    if (inst.task_state === "networking") await this.network(inst, rerun || (inst.request_spec.tried_hosts ?? []).length > 0);
  }

  /** Pick and claim a host; the instance moves to networking on it. undefined when done here. */
  private async schedule(inst: Instance, requestId: string): Promise<Instance | undefined> {
    const spec = inst.request_spec;
    const tried = spec.tried_hosts ?? [];
    const t0 = performance.now();
    const selections: Selection[] = await this.scheduler.select({
      instanceUuid: inst.uuid,
      projectId: inst.project_id,
      userId: inst.user_id,
      // A volume-backed root takes no DISK_GB on the host (Nova's is_bfv resource request).
      flavor: spec.is_bfv ? { ...inst.flavor.cur, disk: 0 } : inst.flavor.cur,
      imageProperties: spec.image_properties ?? {},
      availabilityZone: spec.availability_zone ?? null,
      forceHost: spec.force_host ?? null,
      requestedHost: spec.requested_host ?? null,
      groupUuid: spec.group_uuid ?? null,
      hints: spec.scheduler_hints ?? {},
      ignoreHosts: tried,
      trustedCerts: inst.trusted_certs !== null && inst.trusted_certs.length > 0,
    });
    const selectMs = Number((performance.now() - t0).toFixed(2));
    for (const sel of selections) {
      if (!(await this.scheduler.claim(inst.uuid, inst.project_id, inst.user_id, sel))) continue;
      const outcome = await this.ops.write(async (trx) => {
        if (spec.group_uuid && !(await this.groupStillAllows(trx, spec.group_uuid, inst.uuid, sel.host.name))) return "group";
        const ok = await updateInstance(
          trx,
          inst.uuid,
          { host: sel.host.name, node: sel.host.name, availability_zone: sel.host.availabilityZone, task_state: "networking" },
          this.ops.now(),
          { vm_state: [VM.BUILDING], task_state: ["scheduling"] },
        );
        return ok ? "ok" : "gone";
      });
      if (outcome === "ok") {
        this.c.log.info({ instance: inst.uuid, host: sel.host.name, candidates: selections.length, selectMs, scheduleMs: Number((performance.now() - t0).toFixed(2)) }, "scheduled");
        await this.ops.event(inst.uuid, requestId, "conductor_schedule_and_build_instances", null, "Success");
        return (await getInstance(this.c.database.db as never, inst.uuid)) ?? undefined;
      }
      await this.scheduler.release(inst.uuid);
      if (outcome === "gone") return undefined;
    }
    // Nothing passed (or every claim lost its race): NoValidHost, ERROR with the fault.
    const reason = tried.length > 0 ? `Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance ${inst.uuid}.` : new NoValidHost().message;
    await this.fail(inst, reason, "");
    await this.ops.event(inst.uuid, requestId, "conductor_schedule_and_build_instances", null, "Error");
    return undefined;
  }

  /** The late anti-affinity/affinity check (Nova's _validate_instance_group_policy), under the group's row lock. */
  private async groupStillAllows(trx: ServersTrx, groupUuid: string, instanceUuid: string, host: string): Promise<boolean> {
    if (this.c.database.dialect === "postgres") {
      await trx.selectFrom("cmp_server_group").select("uuid").where("uuid", "=", groupUuid).forUpdate().execute();
    }
    const g = await trx.selectFrom("cmp_server_group").select(["policy", "rules"]).where("uuid", "=", groupUuid).executeTakeFirst();
    if (!g || (g.policy !== "anti-affinity" && g.policy !== "affinity")) return true;
    const rows = await trx
      .selectFrom("cmp_server_group_member as m")
      .innerJoin("cmp_instance as i", "i.uuid", "m.instance_uuid")
      .select(["i.host"])
      .where("m.group_uuid", "=", groupUuid)
      .where("i.deleted", "=", 0)
      .where("i.uuid", "!=", instanceUuid)
      .where("i.host", "is not", null)
      .execute();
    const hosts = rows.map((r) => r.host!);
    if (g.policy === "affinity") return hosts.length === 0 || hosts.includes(host);
    const max = Number((JSON.parse(g.rules) as { max_server_per_host?: number }).max_server_per_host ?? 1);
    return hosts.filter((h) => h === host).length < max;
  }

  /** Create (or find, after a crash) the server's ports on its host, then enqueue the spawn. */
  private async network(inst: Instance, mayHavePorts: boolean): Promise<void> {
    const host = inst.host!;
    const az = inst.availability_zone ?? this.c.config.defaultAvailabilityZone;
    const requested = (inst.request_spec.networks ?? []) as RequestedNetwork[];
    // A first run has made no port yet: only a rerun (crash, retry, reschedule) looks for them.
    const existing = requested.length > 0 && mayHavePorts ? await this.c.network.listPorts(`device_id=${inst.uuid}`) : [];
    const sgs = inst.request_spec.security_groups;
    const vifs: Vif[] = [];
    const created: string[] = [];
    try {
      for (const r of requested) {
        let port;
        if (r.port_id) {
          port = await this.c.network.updatePort(r.port_id, { device_id: inst.uuid, device_owner: `compute:${az}`, "binding:host_id": host });
        } else {
          // After a crash or a reschedule the port exists already: bind it to the new host.
          const mine = existing.find((p) => p["network_id"] === r.network_id && !vifs.some((v) => v.port_id === p.id));
          if (mine) {
            port = mine["binding:host_id"] === host ? mine : await this.c.network.updatePort(mine.id, { "binding:host_id": host, device_owner: `compute:${az}` });
          } else {
            const body: Record<string, unknown> = {
              network_id: r.network_id,
              project_id: inst.project_id,
              device_id: inst.uuid,
              device_owner: `compute:${az}`,
              "binding:host_id": host,
            };
            if (r.fixed_ip) body["fixed_ips"] = [{ ip_address: r.fixed_ip }];
            if (sgs && sgs.length > 0) body["security_groups"] = sgs;
            const res = await this.c.network.createPort(body);
            if (res.status !== 201) {
              const msg = (res.body as { NeutronError?: { message?: string } })?.NeutronError?.message ?? `Neutron answered ${res.status}`;
              throw new NetworkAllocationFailed(inst.uuid, msg);
            }
            port = (res.body as { port: Record<string, unknown> & { id: string } }).port;
            created.push(port.id);
          }
        }
        vifs.push(vifOf(port, r.network_name, r.port_id !== undefined, r.tag ?? null));
      }
    } catch (e) {
      if (!(e instanceof NetworkAllocationFailed)) throw e;
      for (const id of created) await this.c.network.deletePort(id);
      await this.scheduler.release(inst.uuid);
      await this.fail(inst, `Build of instance ${inst.uuid} aborted: ${e.message}`, "");
      return;
    }
    const delay = this.c.driver.latency("spawn");
    const ok = await this.ops.write(async (trx) => {
      const moved = await updateInstance(trx, inst.uuid, { network_info: vifs, task_state: "spawning" }, this.ops.now(), {
        vm_state: [VM.BUILDING],
        task_state: ["networking"],
      });
      if (moved) await this.c.tasks.enqueue(SPAWN_TASK, { instance_uuid: inst.uuid, request_id: payloadRequest(inst) }, delay, trx);
      return moved;
    });
    if (!ok) {
      // Deleted (or moved on) meanwhile: what this step made must not outlive it.
      const now = await getInstance(this.c.database.db as never, inst.uuid, { includeDeleted: true });
      if (!now || now.deleted) {
        for (const id of created) await this.c.network.deletePort(id);
        await this.scheduler.release(inst.uuid);
      }
    }
  }

  private async spawn(inst: Instance, requestId: string): Promise<void> {
    if (inst.vm_state !== VM.BUILDING || inst.task_state !== "spawning" || !inst.host) return;
    const host = inst.host;
    // _build_resources → _prep_block_device: volumes made, attached to the host; a failure aborts the build.
    try {
      await volumeOpsOf(this.c).prepBlockDevices(inst);
    } catch (e) {
      if (!(e instanceof BlockDevicePrepFailed)) throw e;
      await this.ops.event(inst.uuid, requestId, "compute__do_build_and_run_instance", host, "Error");
      await this.scheduler.release(inst.uuid);
      await this.fail(inst, `Build of instance ${inst.uuid} aborted: ${e.message}`, "");
      return;
    }
    try {
      await this.ops.perform("spawn", host, inst.uuid);
    } catch (e) {
      if (!(e instanceof DriverFailure)) throw e;
      await this.ops.event(inst.uuid, requestId, "compute__do_build_and_run_instance", host, "Error");
      await this.reschedule(inst, e);
      return;
    }
    const now = this.ops.now();
    await updateInstance(
      this.c.database.db as never,
      inst.uuid,
      { vm_state: VM.ACTIVE, task_state: null, power_state: POWER.RUNNING, launched_at: now },
      now,
      { vm_state: [VM.BUILDING], task_state: ["spawning"] },
    );
    await this.ops.event(inst.uuid, requestId, "compute__do_build_and_run_instance", host, "Success");
  }

  /** A failed spawn: fault, claim released, and another host — or ERROR after MAX_ATTEMPTS. */
  private async reschedule(inst: Instance, err: DriverFailure): Promise<void> {
    const tried = [...(inst.request_spec.tried_hosts ?? []), inst.host!];
    await this.scheduler.release(inst.uuid);
    const forced = Boolean(inst.request_spec.force_host || inst.request_spec.requested_host);
    if (tried.length >= MAX_ATTEMPTS || forced) {
      await this.ops.write((trx) => addFault(trx, inst.uuid, { code: 500, message: err.message, details: err.stack ?? "", host: inst.host }, this.ops.now()));
      await this.fail(inst, `Exceeded maximum number of retries. Exhausted all hosts available for retrying build failures for instance ${inst.uuid}.`, "");
      return;
    }
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      await addFault(trx, inst.uuid, { code: 500, message: err.message, details: err.stack ?? "", host: inst.host }, now);
      const moved = await updateInstance(
        trx,
        inst.uuid,
        { host: null, node: null, task_state: "scheduling", request_spec: { ...inst.request_spec, tried_hosts: tried } },
        now,
        { vm_state: [VM.BUILDING], task_state: ["spawning"] },
      );
      if (moved) await this.c.tasks.enqueue(BUILD_TASK, { instance_uuid: inst.uuid, request_id: payloadRequest(inst) }, 0, trx);
    });
  }

  /** ERROR with a fault; ports Nova made are deleted, user ports unbound, nothing stays claimed. */
  private async fail(inst: Instance, message: string, details: string): Promise<void> {
    await this.releaseNetwork(inst);
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      const moved = await updateInstance(trx, inst.uuid, { vm_state: VM.ERROR, task_state: null, host: null, node: null, network_info: [] }, now, {
        vm_state: [VM.BUILDING],
      });
      if (moved) await addFault(trx, inst.uuid, { code: 500, message, details, host: null }, now);
    });
  }

  /** Delete the ports Nova created for the instance, unbind the ones the user gave. */
  async releaseNetwork(inst: Instance): Promise<void> {
    const ports = await this.c.network.listPorts(`device_id=${inst.uuid}`);
    const given = new Set<string>([
      ...((inst.request_spec.networks ?? []) as RequestedNetwork[]).map((n) => n.port_id).filter((p): p is string => p !== undefined),
      ...inst.network_info.filter((v) => v.preexisting).map((v) => v.port_id),
    ]);
    for (const p of ports) {
      if (given.has(p.id)) await this.c.network.updatePort(p.id, { device_id: "", device_owner: "", "binding:host_id": "" });
      else await this.c.network.deletePort(p.id);
    }
  }
}

/** The request id a build's later steps file their events under (the create request's). */
function payloadRequest(inst: Instance): string {
  return inst.system_metadata["create_request_id"] ?? "";
}

class NetworkAllocationFailed extends Error {
  constructor(uuid: string, reason: string) {
    super(`Failed to allocate the network(s) for instance ${uuid}: ${reason}`);
  }
}

/** A Neutron port as Nova's network_info cache keeps it. */
export function vifOf(port: Record<string, unknown> & { id: string }, networkName: string, preexisting: boolean, tag: string | null): Vif {
  const fixed = (port["fixed_ips"] as Array<{ subnet_id: string; ip_address: string }> | undefined) ?? [];
  return {
    port_id: port.id,
    network_id: String(port["network_id"]),
    network_label: networkName,
    mac: String(port["mac_address"]),
    preexisting,
    fixed_ips: fixed.map((f) => ({ address: f.ip_address, version: f.ip_address.includes(":") ? 6 : 4, subnet_id: f.subnet_id, floating_ips: [] })),
    tag,
    security_groups: (port["security_groups"] as string[] | undefined) ?? [],
  };
}
