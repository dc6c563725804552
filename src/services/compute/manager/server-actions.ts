import { ServiceCallError } from "../../../clients/transport.js";
import { randomBytes } from "node:crypto";
import { BadRequest, CloudError, Conflict, Forbidden, NotImplemented } from "../../../common/errors.js";
import type { DriverOperation } from "../../../drivers/compute/driver.js";
import type { Compute } from "../api/deps.js";
import type { Instance, InstancePatch } from "../store/servers.js";
import { POWER, VM, finishAction, finishEvent, getInstance, getInstances, markActionError, startAction, startEvent, updateInstance } from "../store/servers.js";
import type { ServersDB, ServersTrx } from "../store/servers-tables.js";
import type { InstanceOps, InstanceTask, InstanceTaskPayload, ServerCaller, StateCheck } from "./instance-state.js";
import { InstanceTaskFailure } from "./instance-state.js";
import type { MoveManager } from "./moves.js";
import { volumeOpsOf } from "./volumes.js";
import type { ServerManager } from "./servers.js";

/**
 * Server actions that keep the instance where it is (POST /servers/{id}/action): power and
 * pause/suspend/rescue cycles, lock, rebuild, snapshots and backups, shelve/unshelve, reset
 * state, crash dumps, console output; and os-server-external-events. Each checks Nova's lock
 * and @check_instance_state lists (nova/compute/api.py), records the instance action and
 * finishes in a persisted task after the driver's latency (nova/compute/manager.py outcomes).
 */

/** A state cycle of one driver operation: task_state while it runs, the state it ends in. */
interface Cycle {
  /** Instance action name (nova/compute/instance_actions.py). */
  action: string;
  /** The method name in 409 messages (the API's). */
  api: string;
  check: StateCheck;
  taskState: string;
  op: DriverOperation;
  event: string;
  done: InstancePatch;
  /** What a driver failure leaves: ERROR (reboot, rescue) or the state before (@reverts_task_state). */
  onFailure: "error" | "revert";
}

const CYCLES: Record<string, Cycle> = {
  stop: {
    action: "stop",
    api: "stop",
    check: { vmState: [VM.ACTIVE, VM.ERROR] },
    taskState: "powering-off",
    op: "power_off",
    event: "compute_stop_instance",
    done: { vm_state: VM.STOPPED, power_state: POWER.SHUTDOWN },
    onFailure: "revert",
  },
  start: {
    action: "start",
    api: "start",
    check: { vmState: [VM.STOPPED] },
    taskState: "powering-on",
    op: "power_on",
    event: "compute_start_instance",
    done: { vm_state: VM.ACTIVE, power_state: POWER.RUNNING },
    onFailure: "revert",
  },
  pause: {
    action: "pause",
    api: "pause",
    check: { vmState: [VM.ACTIVE] },
    taskState: "pausing",
    op: "pause",
    event: "compute_pause_instance",
    done: { vm_state: VM.PAUSED, power_state: POWER.PAUSED },
    onFailure: "revert",
  },
  unpause: {
    action: "unpause",
    api: "unpause",
    check: { vmState: [VM.PAUSED] },
    taskState: "unpausing",
    op: "unpause",
    event: "compute_unpause_instance",
    done: { vm_state: VM.ACTIVE, power_state: POWER.RUNNING },
    onFailure: "revert",
  },
  suspend: {
    action: "suspend",
    api: "suspend",
    check: { vmState: [VM.ACTIVE] },
    taskState: "suspending",
    op: "suspend",
    event: "compute_suspend_instance",
    done: { vm_state: VM.SUSPENDED, power_state: POWER.SHUTDOWN },
    onFailure: "revert",
  },
  resume: {
    action: "resume",
    api: "resume",
    check: { vmState: [VM.SUSPENDED] },
    taskState: "resuming",
    op: "resume",
    event: "compute_resume_instance",
    done: { vm_state: VM.ACTIVE, power_state: POWER.RUNNING },
    onFailure: "error",
  },
  unrescue: {
    action: "unrescue",
    api: "unrescue",
    check: { vmState: [VM.RESCUED] },
    taskState: "unrescuing",
    op: "unrescue",
    event: "compute_unrescue_instance",
    done: { vm_state: VM.ACTIVE, power_state: POWER.RUNNING },
    onFailure: "error",
  },
};

/** vm_states.ALLOW_SOFT_REBOOT / ALLOW_HARD_REBOOT, task_states.ALLOW_REBOOT. */
const ALLOW_SOFT_REBOOT = [VM.ACTIVE];
const ALLOW_HARD_REBOOT = [VM.ACTIVE, VM.STOPPED, VM.PAUSED, VM.SUSPENDED, VM.ERROR];
const ALLOW_REBOOT_TASKS = [null, "rebooting", "reboot_pending", "reboot_started", "resuming", "rebooting_hard", "unpausing", "pausing", "suspending"];
/** server_external_events.py TAG_REQUIRED: events that must name what they are about. */
const TAG_REQUIRED = ["volume-extended", "power-update", "accelerator-request-bound"];
const ALLOW_TRIGGER_CRASH_DUMP = [VM.ACTIVE, VM.PAUSED, VM.RESCUED, VM.RESIZED, VM.ERROR];

const REBOOT_TASK = "compute.reboot";
const RESCUE_TASK = "compute.rescue";
const REBUILD_TASK = "compute.rebuild";
const SNAPSHOT_TASK = "compute.snapshot";
const SHELVE_TASK = "compute.shelve";
const OFFLOAD_TASK = "compute.shelve_offload";
const UNSHELVE_TASK = "compute.unshelve";
const CRASH_DUMP_TASK = "compute.crash_dump";
const ADD_FIXED_IP_TASK = "compute.add_fixed_ip";
const REMOVE_FIXED_IP_TASK = "compute.remove_fixed_ip";

/** nova utils.generate_password: 12 characters without look-alikes. */
export function generatePassword(): string {
  const chars = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  const b = randomBytes(12);
  let out = "";
  for (let i = 0; i < 12; i++) out += chars[b[i]! % chars.length];
  return out;
}

export interface RebuildRequest {
  imageRef: string;
  adminPass: string;
  name?: string;
  description?: string | null;
  metadata?: Record<string, string>;
  accessIPv4?: string | null;
  accessIPv6?: string | null;
  autoDiskConfig?: boolean;
  keyName?: string | null;
  userData?: string | null;
  hostname?: string;
  trustedCerts?: string[] | null;
  preserveEphemeral?: boolean;
}

interface SnapshotPayload extends InstanceTaskPayload {
  image_id: string;
  backup?: { type: string; rotation: number } | null;
  /** The task_state the snapshot runs under (image_snapshot_pending or shelving). */
  task_state: string;
}

export class ServerActionManager {
  constructor(
    private readonly c: Compute,
    private readonly ops: InstanceOps,
    private readonly servers: ServerManager,
    private readonly moves: MoveManager,
  ) {
    for (const [name, cy] of Object.entries(CYCLES)) {
      ops.registerTask(`compute.${name}`, async (t) => {
        if (t.instance.task_state !== cy.taskState) return;
        await this.ops.perform(cy.op, t.instance.host!, t.instance.uuid);
        await updateInstance(this.db, t.instance.uuid, { ...cy.done, task_state: null }, this.ops.now(), { task_state: [cy.taskState] });
      }, { event: cy.event, onFailure: () => (cy.onFailure === "error" ? { vm_state: VM.ERROR, task_state: null } : { task_state: null }) });
    }
    ops.registerTask(REBOOT_TASK, async (t) => {
      if (t.instance.task_state !== "rebooting" && t.instance.task_state !== "rebooting_hard") return;
      await this.ops.perform("reboot", t.instance.host!, t.instance.uuid);
      await updateInstance(this.db, t.instance.uuid, { vm_state: VM.ACTIVE, power_state: POWER.RUNNING, task_state: null }, this.ops.now(), { task_state: ["rebooting", "rebooting_hard"] });
    }, { event: "compute_reboot_instance" });
    ops.registerTask(RESCUE_TASK, async (t) => {
      if (t.instance.task_state !== "rescuing") return;
      await this.ops.perform("rescue", t.instance.host!, t.instance.uuid);
      await updateInstance(this.db, t.instance.uuid, { vm_state: VM.RESCUED, power_state: POWER.RUNNING, task_state: null }, this.ops.now(), { task_state: ["rescuing"] });
    }, { event: "compute_rescue_instance" });
    ops.registerTask(REBUILD_TASK, async (t) => {
      if (t.instance.task_state !== "rebuilding") return;
      await this.ops.perform("rebuild", t.instance.host!, t.instance.uuid);
      const stopped = t.instance.system_metadata["old_vm_state"] === VM.STOPPED;
      const sys = { ...t.instance.system_metadata };
      delete sys["old_vm_state"];
      const now = this.ops.now();
      await updateInstance(
        this.db,
        t.instance.uuid,
        { vm_state: stopped ? VM.STOPPED : VM.ACTIVE, power_state: stopped ? POWER.SHUTDOWN : POWER.RUNNING, task_state: null, launched_at: now, system_metadata: sys },
        now,
        { task_state: ["rebuilding"] },
      );
    }, { event: "compute_rebuild_instance" });
    ops.registerTask<SnapshotPayload>(SNAPSHOT_TASK, (t) => this.snapshotRun(t), {
      event: "compute_snapshot_instance",
      onFailure: async (t) => {
        await this.c.image.deleteImage(t.payload.image_id).catch(() => undefined);
        return { task_state: null };
      },
    });
    ops.registerTask<SnapshotPayload>(SHELVE_TASK, (t) => this.shelveRun(t), {
      event: "compute_shelve_instance",
      onFailure: () => ({ task_state: null }),
    });
    ops.registerTask(OFFLOAD_TASK, (t) => this.offloadRun(t), { event: "compute_shelve_offload_instance", onFailure: () => ({ task_state: null }) });
    ops.registerTask<InstanceTaskPayload & { availability_zone?: string | null; host?: string | null }>(UNSHELVE_TASK, (t) => this.unshelveRun(t), {
      event: "compute_unshelve_instance",
      onFailure: (t) => ({ task_state: null, vm_state: t.instance.vm_state }),
    });
    // multinic (≤2.43): casts to the compute; a failure is a fault (wrap_instance_fault), no state change.
    ops.registerTask<InstanceTaskPayload & { network_id: string }>(ADD_FIXED_IP_TASK, (t) => this.addFixedIpRun(t.instance, t.payload.network_id), { onFailure: () => undefined });
    ops.registerTask<InstanceTaskPayload & { address: string }>(REMOVE_FIXED_IP_TASK, (t) => this.removeFixedIpRun(t.instance, t.payload.address), { onFailure: () => undefined });
    ops.registerTask(CRASH_DUMP_TASK, async (t) => {
      await this.ops.perform("crash_dump", t.instance.host!, t.instance.uuid);
    }, { event: "compute_trigger_crash_dump", onFailure: () => undefined });
  }

  private get db(): ServersDB {
    return this.c.database.db as ServersDB;
  }

  /** stop, start, pause, unpause, suspend, resume, unrescue. */
  async cycle(caller: ServerCaller, inst: Instance, name: keyof typeof CYCLES): Promise<void> {
    const cy = CYCLES[name]!;
    // stop/start: @check_instance_lock, @check_instance_host, then @check_instance_state.
    if (name === "stop" || name === "start") {
      this.ops.checkLock(inst, caller);
      if (!inst.host) throw new Conflict(`Instance ${inst.uuid} is not ready`);
    }
    await this.ops.begin(caller, inst, {
      action: cy.action,
      apiAction: cy.api,
      check: cy.check,
      set: { task_state: cy.taskState },
      task: { kind: `compute.${name}`, op: cy.op },
    });
  }

  /** compute API reboot: SOFT from ACTIVE only; HARD from more states and over some tasks. */
  async reboot(caller: ServerCaller, inst: Instance, type: "SOFT" | "HARD"): Promise<void> {
    const hard = type === "HARD";
    await this.ops.begin(caller, inst, {
      action: "reboot",
      check: hard ? { vmState: ALLOW_HARD_REBOOT, taskState: ALLOW_REBOOT_TASKS } : { vmState: ALLOW_SOFT_REBOOT, taskState: [null] },
      set: { task_state: hard ? "rebooting_hard" : "rebooting" },
      task: { kind: REBOOT_TASK, op: "reboot" },
    });
  }

  /** compute API rescue: active, stopped or error; the rescue password is returned to the caller. */
  async rescue(caller: ServerCaller, inst: Instance, opts: { adminPass?: string; rescueImageRef?: string }): Promise<string> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "rescue", { vmState: [VM.ACTIVE, VM.STOPPED, VM.ERROR] });
    if (opts.rescueImageRef) {
      const img = await this.c.image.getImage(opts.rescueImageRef, caller.tokenId);
      // compute API rescue: an image that cannot be read is UnsupportedRescueImage (400).
      if (!img || img["img_block_device_mapping"] !== undefined) throw new BadRequest(`Requested rescue image '${opts.rescueImageRef}' is not supported`);
    }
    const pw = opts.adminPass ?? generatePassword();
    await this.ops.begin(caller, inst, {
      action: "rescue",
      check: { vmState: [VM.ACTIVE, VM.STOPPED, VM.ERROR] },
      set: { task_state: "rescuing" },
      task: { kind: RESCUE_TASK, op: "rescue" },
    });
    return pw;
  }

  /** compute API lock: the owner's lock or an admin's; an owner relocking is a no-op. */
  async lock(caller: ServerCaller, inst: Instance, reason: string | null): Promise<void> {
    const owner = inst.project_id === caller.projectId;
    if (inst.locked && owner) return;
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      const id = await startAction(trx, { instance_uuid: inst.uuid, action: "lock", request_id: caller.requestId, project_id: caller.projectId, user_id: caller.userId }, now);
      await updateInstance(trx, inst.uuid, { locked: true, locked_by: owner ? "owner" : "admin", locked_reason: reason }, now);
      await this.eventNow(trx, id, "api_lock", now);
      await finishAction(trx, id, now);
    });
  }

  /** Nova's is_expected_locked_by: false when the lock was taken by the other side (owner vs admin). */
  expectedLocker(caller: ServerCaller, inst: Instance): boolean {
    const expect = inst.project_id === caller.projectId ? "owner" : "admin";
    return !inst.locked_by || inst.locked_by === expect;
  }

  async unlock(caller: ServerCaller, inst: Instance): Promise<void> {
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      const id = await startAction(trx, { instance_uuid: inst.uuid, action: "unlock", request_id: caller.requestId, project_id: caller.projectId, user_id: caller.userId }, now);
      await updateInstance(trx, inst.uuid, { locked: false, locked_by: null, locked_reason: null }, now);
      await this.eventNow(trx, id, "api_unlock", now);
      await finishAction(trx, id, now);
    });
  }

  /** A one-step event of an API-side action (Nova's wrap_instance_event(prefix='api')). */
  private async eventNow(trx: ServersTrx, actionId: string, event: string, now: string): Promise<void> {
    const e = await startEvent(trx, actionId, event, null, now);
    await finishEvent(trx, e, "Success", now);
  }

  /** os-resetState (admin): vm_state active or error, task cleared; no lock or state check. */
  async resetState(caller: ServerCaller, inst: Instance, state: "active" | "error"): Promise<void> {
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      const id = await startAction(trx, { instance_uuid: inst.uuid, action: "resetState", request_id: caller.requestId, project_id: caller.projectId, user_id: caller.userId }, now);
      await updateInstance(trx, inst.uuid, { vm_state: state === "active" ? VM.ACTIVE : VM.ERROR, task_state: null }, now);
      await finishAction(trx, id, now);
    });
  }

  /** compute API trigger_crash_dump (2.17). */
  async triggerCrashDump(caller: ServerCaller, inst: Instance): Promise<void> {
    // @check_instance_lock, @check_instance_host, then @check_instance_state (in begin).
    this.ops.checkLock(inst, caller);
    if (!inst.host) throw new Conflict(`Instance ${inst.uuid} is not ready`);
    await this.ops.begin(caller, inst, {
      action: "trigger_crash_dump",
      check: { vmState: ALLOW_TRIGGER_CRASH_DUMP },
      set: {},
      task: { kind: CRASH_DUMP_TASK, op: "crash_dump" },
    });
  }

  /** compute API rebuild: new image (and name, metadata, key, user data…) set now, the guest rebuilt by a task. */
  async rebuild(caller: ServerCaller, inst: Instance, req: RebuildRequest): Promise<Instance> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "rebuild", { vmState: [VM.ACTIVE, VM.STOPPED, VM.ERROR] });
    const image = await this.c.image.getImage(req.imageRef, caller.tokenId);
    if (!image) throw new BadRequest("Cannot find image for rebuild");
    if (image.status !== "active") throw new BadRequest(`Image ${req.imageRef} is not active.`);
    const f = inst.flavor.cur;
    const GiB = 1024 ** 3;
    const size = Number(image["size"] ?? 0);
    if (f.disk > 0) {
      if (size > f.disk * GiB) throw new BadRequest(`Flavor's disk is too small for requested image. Flavor disk is ${f.disk * GiB} bytes, image is ${size} bytes.`);
      const minDisk = Number(image["min_disk"] ?? 0);
      if (minDisk > f.disk) {
        throw new BadRequest(`Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is ${f.disk * GiB} bytes, minimum size is ${minDisk * GiB} bytes.`);
      }
    }
    if (Number(image["min_ram"] ?? 0) > f.ram) throw new BadRequest("Flavor's memory is too small for requested image.");
    const sys: Record<string, string> = {};
    for (const [k, v] of Object.entries(inst.system_metadata)) if (!k.startsWith("image_") || k === "image_base_image_ref") sys[k] = v;
    for (const k of ["min_disk", "min_ram", "disk_format", "container_format", "os_distro", "os_type", "kernel_id", "ramdisk_id"]) {
      const v = image[k];
      if (v !== undefined && v !== null) sys[`image_${k}`] = String(v);
    }
    sys["image_base_image_ref"] = req.imageRef;
    sys["old_vm_state"] = inst.vm_state;
    const set: InstancePatch = { task_state: "rebuilding", image_ref: req.imageRef, system_metadata: sys, progress: 0 };
    if (req.name !== undefined) set.display_name = req.name;
    if (req.description !== undefined) set.display_description = req.description;
    if (req.metadata !== undefined) {
      const limit = (await this.c.quotas.limits(inst.project_id, inst.user_id))["metadata_items"] ?? -1;
      if (limit >= 0 && Object.keys(req.metadata).length > limit) throw new Forbidden(`Quota exceeded for metadata_items: Requested ${Object.keys(req.metadata).length}, but already used 0 of ${limit} metadata_items`);
      set.metadata = req.metadata;
    }
    if (req.accessIPv4 !== undefined) set.access_ip_v4 = req.accessIPv4;
    if (req.accessIPv6 !== undefined) set.access_ip_v6 = req.accessIPv6;
    if (req.autoDiskConfig !== undefined) set.auto_disk_config = req.autoDiskConfig;
    if (req.keyName !== undefined) {
      if (req.keyName === null) {
        set.key_name = null;
        set.key_data = null;
      } else {
        const kp = await this.c.keypairs.get(inst.user_id, req.keyName);
        if (!kp) throw new BadRequest("Invalid key_name provided.");
        set.key_name = kp.name;
        set.key_data = kp.public_key;
      }
    }
    if (req.userData !== undefined) set.user_data = req.userData;
    if (req.hostname !== undefined) set.hostname = req.hostname;
    if (req.trustedCerts !== undefined) set.trusted_certs = req.trustedCerts;
    return this.ops.begin(caller, inst, {
      action: "rebuild",
      check: { vmState: [VM.ACTIVE, VM.STOPPED, VM.ERROR] },
      set,
      task: { kind: REBUILD_TASK, op: "rebuild" },
    });
  }

  // ---- images: createImage, createBackup, shelve -----------------------------------------------

  /** The Glance image a snapshot/backup/shelve makes, as the user (compute API _create_image). */
  private async newImage(caller: ServerCaller, inst: Instance, name: string, type: "snapshot" | "backup", extra: Record<string, string>): Promise<string> {
    const sys = inst.system_metadata;
    const body: Record<string, unknown> = {
      name,
      disk_format: sys["image_disk_format"] ?? "qcow2",
      container_format: sys["image_container_format"] ?? "bare",
      visibility: "private",
      min_disk: Math.max(Number(sys["image_min_disk"] ?? 0), inst.root_gb),
      min_ram: Number(sys["image_min_ram"] ?? 0),
      instance_uuid: inst.uuid,
      user_id: caller.userId,
      image_type: type,
      image_location: "snapshot",
      image_state: "available",
      owner_id: inst.project_id,
    };
    if (inst.image_ref) body["base_image_ref"] = inst.image_ref;
    for (const k of ["os_distro", "os_type"]) if (sys[`image_${k}`] !== undefined) body[k] = sys[`image_${k}`];
    for (const [k, v] of Object.entries(extra)) body[k] = v;
    const res = await this.c.image.raw("POST", "/images", { body, token: caller.tokenId });
    if (res.status === 413 || res.status === 403) {
      const msg = typeof res.body === "object" && res.body ? String((res.body as { message?: unknown }).message ?? "") : "";
      throw new Forbidden(msg || "Quota exceeded for image.");
    }
    if (res.status === 400) throw new BadRequest(`Invalid image metadata. Error: ${JSON.stringify(res.body)}`);
    if (res.status !== 201) throw new CloudError(500, `Glance answered ${res.status} creating the snapshot image`);
    return (res.body as { id: string }).id;
  }

  /** compute API snapshot / backup: the image is created now (queued), the upload runs as a task. */
  async snapshot(caller: ServerCaller, inst: Instance, name: string, metadata: Record<string, string>, backup?: { type: string; rotation: number }): Promise<string> {
    const api = backup ? "createBackup" : "createImage";
    const check: StateCheck = { vmState: [VM.ACTIVE, VM.STOPPED, VM.PAUSED, VM.SUSPENDED] };
    // Nova checks no lock for snapshots and backups ("lock is intended to prevent accidental change/delete").
    this.ops.checkState(inst, api, check);
    const extra = { ...metadata };
    if (backup) extra["backup_type"] = backup.type;
    const imageId = await this.newImage(caller, inst, name, backup ? "backup" : "snapshot", extra);
    try {
      await this.ops.begin(caller, inst, {
        action: api,
        ignoreLock: true,
        check,
        set: { task_state: "image_snapshot_pending" },
        task: { kind: SNAPSHOT_TASK, op: "snapshot", payload: { image_id: imageId, backup: backup ?? null, task_state: "image_snapshot_pending" } },
      });
    } catch (e) {
      await this.c.image.deleteImage(imageId).catch(() => undefined);
      throw e;
    }
    return imageId;
  }

  /** The image's bytes: the simulated disk (a short header naming the instance). */
  private async uploadDisk(inst: Instance, imageId: string): Promise<boolean> {
    const img = await this.c.image.getImage(imageId);
    if (!img) return false;
    if (img.status === "active") return true;
    try {
      await this.c.image.uploadData(imageId, Buffer.from(`stackbox simulated disk of instance ${inst.uuid}\n`));
    } catch (e) {
      // Deleted while uploading: Glance answers 404 or 410; Nova's ImageNotFound ends the snapshot.
      if (e instanceof ServiceCallError && (e.status === 404 || e.status === 410)) return false;
      throw e;
    }
    return true;
  }

  private async snapshotRun(t: InstanceTask<SnapshotPayload>): Promise<void> {
    const inst = t.instance;
    if (inst.task_state !== t.payload.task_state && inst.task_state !== "image_uploading") return;
    await updateInstance(this.db, inst.uuid, { task_state: "image_uploading" }, this.ops.now(), { task_state: [t.payload.task_state, "image_uploading"] });
    await this.ops.perform("snapshot", inst.host!, inst.uuid);
    if (!(await this.uploadDisk(inst, t.payload.image_id))) throw new InstanceTaskFailure(`Image ${t.payload.image_id} could not be found.`, 404);
    if (t.payload.backup) await this.rotateBackups(inst, t.payload.backup.type, t.payload.backup.rotation);
    await updateInstance(this.db, inst.uuid, { task_state: null }, this.ops.now(), { task_state: ["image_uploading"] });
  }

  /** nova compute manager _rotate_backups: the oldest backups of this type beyond `rotation` are deleted. */
  private async rotateBackups(inst: Instance, type: string, rotation: number): Promise<void> {
    const res = await this.c.image.raw("GET", `/images?instance_uuid=${inst.uuid}&image_type=backup&backup_type=${encodeURIComponent(type)}&sort_key=created_at&sort_dir=desc&limit=1000`);
    if (res.status !== 200) return;
    const images = ((res.body as { images?: Array<{ id: string }> }).images ?? []);
    for (const img of images.slice(rotation)) await this.c.image.deleteImage(img.id).catch(() => undefined);
  }

  /** compute API shelve: snapshot "<name>-shelved", SHELVED, and offloaded at once when shelved_offload_time is 0. */
  async shelve(caller: ServerCaller, inst: Instance): Promise<void> {
    const check: StateCheck = { vmState: [VM.ACTIVE, VM.STOPPED, VM.PAUSED, VM.SUSPENDED] };
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "shelve", check);
    const imageId = await this.newImage(caller, inst, `${inst.display_name}-shelved`, "snapshot", {});
    const now = this.ops.now();
    try {
      await this.ops.begin(caller, inst, {
        action: "shelve",
        check,
        set: { task_state: "shelving", system_metadata: { ...inst.system_metadata, shelved_at: now, shelved_image_id: imageId, shelved_host: inst.host ?? "" } },
        task: { kind: SHELVE_TASK, op: "snapshot", payload: { image_id: imageId, task_state: "shelving" } },
      });
    } catch (e) {
      await this.c.image.deleteImage(imageId).catch(() => undefined);
      throw e;
    }
  }

  private async shelveRun(t: InstanceTask<SnapshotPayload>): Promise<void> {
    const inst = t.instance;
    if (inst.task_state !== "shelving" && inst.task_state !== "shelving_image_uploading") return;
    await this.ops.perform("snapshot", inst.host!, inst.uuid);
    await updateInstance(this.db, inst.uuid, { task_state: "shelving_image_uploading" }, this.ops.now(), { task_state: ["shelving", "shelving_image_uploading"] });
    await this.uploadDisk(inst, t.payload.image_id);
    await this.ops.perform("power_off", inst.host!, inst.uuid);
    const offloadNow = this.c.config.shelvedOffloadTime === 0;
    const now = this.ops.now();
    const moved = await updateInstance(this.db, inst.uuid, { vm_state: VM.SHELVED, power_state: POWER.SHUTDOWN, task_state: offloadNow ? "shelving_offloading" : null }, now, {
      task_state: ["shelving_image_uploading"],
    });
    if (!moved) return;
    if (offloadNow) {
      await this.offload({ ...inst, vm_state: VM.SHELVED, task_state: "shelving_offloading" });
    } else if (this.c.config.shelvedOffloadTime > 0) {
      // The periodic _poll_shelved_instances: offloaded once shelved_offload_time has passed.
      await this.c.tasks.enqueue(OFFLOAD_TASK, { instance_uuid: inst.uuid, request_id: t.payload.request_id, periodic: true }, this.c.config.shelvedOffloadTime * 1000);
    }
  }

  /** compute API shelve_offload (SHELVED only). */
  async shelveOffload(caller: ServerCaller, inst: Instance): Promise<void> {
    await this.ops.begin(caller, inst, {
      action: "shelveOffload",
      check: { vmState: [VM.SHELVED] },
      set: { task_state: "shelving_offloading" },
      task: { kind: OFFLOAD_TASK, op: "shelve_offload" },
    });
  }

  private async offloadRun(t: InstanceTask): Promise<void> {
    const inst = t.instance;
    if (t.payload["periodic"]) {
      if (inst.vm_state !== VM.SHELVED || inst.task_state !== null) return;
      if (!(await updateInstance(this.db, inst.uuid, { task_state: "shelving_offloading" }, this.ops.now(), { vm_state: [VM.SHELVED], task_state: [null] }))) return;
    } else if (inst.task_state !== "shelving_offloading") return;
    await this.offload({ ...inst, task_state: "shelving_offloading" });
  }

  /** _shelve_offload_instance: the guest is destroyed, ports unbound, allocations released, no host. */
  private async offload(inst: Instance): Promise<void> {
    if (inst.host) await this.ops.perform("shelve_offload", inst.host, inst.uuid);
    await this.moves.bindPorts(inst, null);
    await this.servers.scheduler.release(inst.uuid);
    await updateInstance(
      this.db,
      inst.uuid,
      { vm_state: VM.SHELVED_OFFLOADED, power_state: POWER.SHUTDOWN, task_state: null, host: null, node: null },
      this.ops.now(),
      { task_state: ["shelving_offloading"] },
    );
  }

  /** compute API unshelve: SHELVED powers on where it is; SHELVED_OFFLOADED is scheduled again (AZ 2.77, host 2.91). */
  async unshelve(caller: ServerCaller, inst: Instance, opts: { availabilityZone?: string | null; host?: string | null }): Promise<void> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "unshelve", { vmState: [VM.SHELVED, VM.SHELVED_OFFLOADED] });
    const offloaded = inst.vm_state === VM.SHELVED_OFFLOADED;
    if (!offloaded && (opts.availabilityZone !== undefined || opts.host)) {
      // UnshelveInstanceInvalidState (409).
      throw new Conflict(
        `Specifying an availability zone or a host when unshelving server "${inst.uuid}" with status "${inst.vm_state}" is not supported. The server status must be SHELVED_OFFLOADED.`,
      );
    }
    if (opts.availabilityZone) {
      const zones = await this.c.hosts.zones();
      if (!zones.includes(opts.availabilityZone)) throw new BadRequest("The requested availability zone is not available");
    }
    if (opts.host) {
      const h = await this.c.hosts.byName(opts.host);
      if (!h) throw new BadRequest(`Compute host ${opts.host} could not be found.`);
      // _ensure_host_in_az against the AZ the instance will have (the given one, else its request spec's).
      const az = opts.availabilityZone !== undefined ? opts.availabilityZone : (inst.request_spec.availability_zone ?? null);
      if (az && h.availabilityZone !== az) throw new Conflict(`Host "${opts.host}" is not in the availability zone "${az}".`);
    }
    const payload: Record<string, unknown> = {};
    if (opts.availabilityZone !== undefined) payload["availability_zone"] = opts.availabilityZone;
    if (opts.host !== undefined) payload["host"] = opts.host;
    await this.ops.begin(caller, inst, {
      action: "unshelve",
      check: { vmState: [VM.SHELVED, VM.SHELVED_OFFLOADED] },
      set: { task_state: "unshelving" },
      task: { kind: UNSHELVE_TASK, op: offloaded ? "spawn" : "power_on", payload },
    });
  }

  private async unshelveRun(t: InstanceTask<InstanceTaskPayload & { availability_zone?: string | null; host?: string | null }>): Promise<void> {
    let inst = t.instance;
    if (inst.task_state !== "unshelving") return;
    if (inst.vm_state === VM.SHELVED_OFFLOADED) {
      if (!inst.host) {
        const az = t.payload.availability_zone;
        const sel = await this.moves.placeForUnshelve(inst, az === undefined ? undefined : az, t.payload.host ?? null);
        const patch: InstancePatch = { host: sel.host.name, node: sel.host.name, availability_zone: sel.host.availabilityZone };
        if (az !== undefined) patch.request_spec = { ...inst.request_spec, availability_zone: az };
        if (!(await updateInstance(this.db, inst.uuid, patch, this.ops.now(), { task_state: ["unshelving"] }))) {
          await this.servers.scheduler.release(inst.uuid);
          return;
        }
        inst = (await getInstance(this.db, inst.uuid))!;
      }
      try {
        await this.ops.perform("spawn", inst.host!, inst.uuid);
      } catch (e) {
        // The claim goes back and the instance stays offloaded (as _unshelve_instance's failure path).
        await this.servers.scheduler.release(inst.uuid);
        await updateInstance(this.db, inst.uuid, { host: null, node: null }, this.ops.now());
        throw e;
      }
      await this.moves.bindPorts(inst, inst.host);
      await volumeOpsOf(this.c).reconnect(inst);
    } else {
      await this.ops.perform("power_on", inst.host!, inst.uuid);
    }
    const imageId = inst.system_metadata["shelved_image_id"];
    const sys = { ...inst.system_metadata };
    delete sys["shelved_at"];
    delete sys["shelved_image_id"];
    delete sys["shelved_host"];
    await updateInstance(this.db, inst.uuid, { vm_state: VM.ACTIVE, power_state: POWER.RUNNING, task_state: null, system_metadata: sys }, this.ops.now(), { task_state: ["unshelving"] });
    if (imageId) await this.c.image.deleteImage(imageId).catch(() => undefined);
  }

  /**
   * compute API set_admin_password (active, no task): the action is recorded, and the simulated
   * driver, like libvirt without a guest agent, cannot set it — the compute answers
   * NotImplementedError (501 at the API), the event fails and the task state goes back.
   */
  async changePassword(caller: ServerCaller, inst: Instance): Promise<never> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "changePassword", { vmState: [VM.ACTIVE] });
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      const id = await startAction(trx, { instance_uuid: inst.uuid, action: "changePassword", request_id: caller.requestId, project_id: caller.projectId, user_id: caller.userId }, now);
      const e = await startEvent(trx, id, "compute_set_admin_password", inst.host, now);
      await finishEvent(trx, e, "Error", now, { traceback: "NotImplementedError: set_admin_password is not implemented by this driver or guest instance." });
      await markActionError(trx, id, now);
    });
    throw new NotImplemented("Unable to set password on instance");
  }

  // ---- multinic ----------------------------------------------------------------------------

  /** compute API add_fixed_ip / remove_fixed_ip: lock checked, the work cast to the compute (202 whatever happens). */
  async multinic(caller: ServerCaller, inst: Instance, op: { networkId: string } | { address: string }): Promise<void> {
    this.ops.checkLock(inst, caller);
    const kind = "networkId" in op ? ADD_FIXED_IP_TASK : REMOVE_FIXED_IP_TASK;
    const payload = "networkId" in op ? { network_id: op.networkId } : { address: op.address };
    await this.c.tasks.enqueue(kind, { instance_uuid: inst.uuid, request_id: caller.requestId, ...payload }, 0);
  }

  /** neutron API add_fixed_ip_to_instance: one more fixed IP from the network's subnet on the instance's port there. */
  private async addFixedIpRun(inst: Instance, networkId: string): Promise<void> {
    const subnets = await this.c.network.listSubnets(`network_id=${encodeURIComponent(networkId)}`);
    const ports = subnets.length > 0 ? await this.c.network.listPorts(`device_id=${inst.uuid}&network_id=${encodeURIComponent(networkId)}`) : [];
    for (const p of ports) {
      for (const sn of subnets) {
        const fixed = [...((p["fixed_ips"] as Array<Record<string, unknown>> | undefined) ?? []), { subnet_id: sn.id }];
        try {
          await this.c.network.updatePort(p.id, { fixed_ips: fixed });
          await this.servers.refreshNetworkInfo(inst);
          return;
        } catch (e) {
          this.c.log.debug({ err: e, port: p.id }, "add fixed ip: port update failed");
        }
      }
    }
    throw new InstanceTaskFailure(`Network could not be found for instance ${inst.uuid}.`, 404);
  }

  private async removeFixedIpRun(inst: Instance, address: string): Promise<void> {
    const ports = await this.c.network.listPorts(`device_id=${inst.uuid}&fixed_ips=${encodeURIComponent(`ip_address=${address}`)}`);
    const p = ports[0];
    if (!p) throw new InstanceTaskFailure(`Instance ${inst.uuid} does not have fixed IP '${address}'.`, 404);
    const fixed = ((p["fixed_ips"] as Array<Record<string, unknown>> | undefined) ?? []).filter((f) => f["ip_address"] !== address);
    await this.c.network.updatePort(p.id, { fixed_ips: fixed }).catch((e: unknown) => this.c.log.debug({ err: e, port: p.id }, "remove fixed ip: port update failed"));
    await this.servers.refreshNetworkInfo(inst);
  }

  // ---- console, deferred delete, external events -----------------------------------------------

  /** compute API get_console_output: the instance must be on a host; the last `length` lines. */
  consoleOutput(inst: Instance, length: number | null): string {
    if (!inst.host) throw new Conflict(`Instance ${inst.uuid} is not ready`);
    let lines = this.c.driver.consoleOutput(inst.host, inst.uuid, inst.display_name);
    if (length !== null) lines = length === 0 ? [] : lines.slice(-length);
    return lines.join("\n");
  }

  /** compute API restore (SOFT_DELETED only): with reclaim_instance_interval 0 nothing is ever soft-deleted. */
  async restore(caller: ServerCaller, inst: Instance): Promise<void> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "restore", { vmState: [VM.SOFT_DELETED], mustHaveLaunched: true });
    await this.ops.begin(caller, inst, {
      action: "restore",
      check: { vmState: [VM.SOFT_DELETED] },
      set: { vm_state: VM.ACTIVE, task_state: null, power_state: POWER.RUNNING, deleted_at: null },
    });
  }

  /** compute API force_delete: lock and no task, then the normal delete. */
  async forceDelete(caller: ServerCaller, inst: Instance): Promise<void> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "forceDelete", { taskState: [null], mustHaveLaunched: false });
    await this.servers.delete(caller, inst);
  }

  /**
   * os-server-external-events: each event for an instance that exists and has a host is
   * accepted (200), an unknown instance 404, one not on a host yet 422. network-changed
   * refreshes the network info cache; power-update (2.76) moves the power state.
   */
  async externalEvents(
    events: Array<{ name: string; server_uuid: string; status: string; tag?: string }>,
    who?: { requestId: string; userId: string; projectId: string },
  ): Promise<Array<{ name: string; server_uuid: string; status: string; tag?: string; code: number }>> {
    const uuids = [...new Set(events.map((e) => e.server_uuid))];
    const found = new Map((await getInstances(this.db, uuids)).filter((i) => !i.deleted).map((i) => [i.uuid, i]));
    const out: Array<{ name: string; server_uuid: string; status: string; tag?: string; code: number }> = [];
    for (const e of events) {
      const inst = found.get(e.server_uuid);
      if (!inst) {
        out.push({ ...e, status: "failed", code: 404 });
        continue;
      }
      if (TAG_REQUIRED.includes(e.name) && e.tag === undefined) {
        out.push({ ...e, status: "failed", code: 400 });
        continue;
      }
      if (!inst.host) {
        out.push({ ...e, status: "failed", code: 422 });
        continue;
      }
      out.push({ ...e, status: "completed", code: 200 });
      if (e.name === "network-changed") await this.servers.refreshNetworkInfo(inst).catch(() => undefined);
      if (e.name === "volume-extended" && e.tag && who) await volumeOpsOf(this.c).volumeExtended(inst, e.tag, who);
      if (e.name === "power-update" && (e.tag === "POWER_ON" || e.tag === "POWER_OFF")) {
        const on = e.tag === "POWER_ON";
        await updateInstance(this.db, inst.uuid, on ? { vm_state: VM.ACTIVE, power_state: POWER.RUNNING } : { vm_state: VM.STOPPED, power_state: POWER.SHUTDOWN }, this.ops.now(), {
          vm_state: on ? [VM.STOPPED] : [VM.ACTIVE],
          task_state: [null],
        });
      }
    }
    return out;
  }
}
