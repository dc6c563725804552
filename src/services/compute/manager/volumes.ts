import { BadRequest, CloudError, Conflict, NotFound } from "../../../common/errors.js";
import { uuid as newUuid } from "../../../common/ids.js";
import type { CinderDoc } from "../../../clients/volume.js";
import type { TransportResponse } from "../../../clients/transport.js";
import { ServiceCallError } from "../../../clients/transport.js";
import type { Compute } from "../api/deps.js";
import type { Instance } from "../store/servers.js";
import { VM, finishAction, finishEvent, markActionError, startAction, startEvent } from "../store/servers.js";
import type { ServersDB, ServersTables } from "../store/servers-tables.js";
import type { InstanceOps, ServerCaller } from "./instance-state.js";
import { InstanceTaskFailure } from "./instance-state.js";

export type BdmRow = ServersTables["cmp_block_device_mapping"];

/** A block_device_mapping_v2 entry as the API normalised it. */
export interface BdmRequest {
  source_type: string;
  destination_type: string;
  boot_index: number | null;
  uuid: string | null;
  volume_size: number | null;
  delete_on_termination: boolean;
  tag: string | null;
  device_name: string | null;
  volume_type?: string | null;
}

export const ATTACH_VOLUME_TASK = "compute.attach_volume";
export const DETACH_VOLUME_TASK = "compute.detach_volume";
export const SWAP_VOLUME_TASK = "compute.swap_volume";

/** The vm_states attach/detach accept (compute/api.py attach_volume, detach_volume). */
const ATTACH_STATES = [VM.ACTIVE, VM.PAUSED, VM.STOPPED, VM.RESIZED, VM.SOFT_DELETED, VM.SHELVED, VM.SHELVED_OFFLOADED];
const SWAP_STATES = [VM.ACTIVE, VM.PAUSED, VM.RESIZED];

/** nova.exception.InvalidVolume (400). */
export class InvalidVolume extends BadRequest {
  constructor(reason: string) {
    super(`Invalid volume: ${reason}`);
  }
}

/** A failure while preparing a server's volumes at build: the build aborts (BuildAbortException). */
export class BlockDevicePrepFailed extends Error {}

/**
 * cinderclient's string of a Cinder refusal as Nova quotes it in InvalidInput:
 * "<message> (HTTP 400) (Request-ID: req-…)".
 */
export function cinderMessage(res: TransportResponse): string {
  const b = res.body as Record<string, { message?: string }> | undefined;
  const inner = b && typeof b === "object" ? Object.values(b)[0] : undefined;
  const msg = inner && typeof inner === "object" && typeof inner.message === "string" ? inner.message : String(res.body ?? "");
  const rid = res.headers["x-openstack-request-id"];
  return `${msg} (HTTP ${res.status})${rid ? ` (Request-ID: ${String(rid)})` : ""}`;
}

function letterName(i: number): string {
  // vda … vdz, vdaa … (libvirt's get_next_device_name)
  let s = "";
  let n = i;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return `/dev/vd${s}`;
}

/**
 * Nova's volume side: block device mappings of volumes, the attach/detach/swap flows against
 * Cinder's attachments API (nova/compute/api.py + compute/manager.py _attach_volume,
 * _detach_volume, swap_volume), volumes prepared at build (_prep_block_device) and cleaned up
 * at delete (_cleanup_volumes, delete_on_termination).
 */
export class VolumeOps {
  constructor(
    private readonly c: Compute,
    private readonly ops: InstanceOps,
  ) {
    ops.registerTask(ATTACH_VOLUME_TASK, async (t) => this.attachTask(t.instance, String(t.payload["bdm_uuid"])), {
      event: "compute_attach_volume",
      onFailure: () => undefined,
    });
    ops.registerTask(DETACH_VOLUME_TASK, async (t) => this.detachTask(String(t.payload["bdm_uuid"]), String(t.payload["volume_id"])), {
      event: "compute_detach_volume",
      onFailure: () => undefined,
    });
    ops.registerTask(SWAP_VOLUME_TASK, async (t) => this.swapTask(t.instance, String(t.payload["bdm_uuid"]), String(t.payload["new_volume_id"]), String(t.payload["new_attachment_id"]), String(t.payload["old_volume_id"])), {
      event: "compute_swap_volume",
      onFailure: () => undefined,
    });
  }

  private get db(): ServersDB {
    return this.c.database.db as ServersDB;
  }

  async bdms(instanceUuid: string): Promise<BdmRow[]> {
    return this.db.selectFrom("cmp_block_device_mapping").selectAll().where("instance_uuid", "=", instanceUuid).orderBy("created_at").orderBy("uuid").execute();
  }

  /** Volume BDMs of non-deleted instances (BlockDeviceMappingList.get_by_volume). */
  async bdmsOfVolume(volumeId: string): Promise<BdmRow[]> {
    return this.db
      .selectFrom("cmp_block_device_mapping as b")
      .innerJoin("cmp_instance as i", "i.uuid", "b.instance_uuid")
      .selectAll("b")
      .where("b.volume_id", "=", volumeId)
      .where("i.deleted", "=", 0)
      .execute();
  }

  /** The volumes attached to each server, for os-extended-volumes:volumes_attached (one query). */
  async attachedVolumes(uuids: string[]): Promise<Map<string, Array<{ id: string; delete_on_termination: boolean }>>> {
    const out = new Map<string, Array<{ id: string; delete_on_termination: boolean }>>();
    for (let i = 0; i < uuids.length; i += 500) {
      const rows = await this.db
        .selectFrom("cmp_block_device_mapping")
        .select(["instance_uuid", "volume_id", "delete_on_termination"])
        .where("instance_uuid", "in", uuids.slice(i, i + 500))
        .where("volume_id", "is not", null)
        .orderBy("created_at")
        .execute();
      for (const r of rows) {
        const l = out.get(r.instance_uuid) ?? [];
        l.push({ id: r.volume_id!, delete_on_termination: Number(r.delete_on_termination) === 1 });
        out.set(r.instance_uuid, l);
      }
    }
    return out;
  }

  /** The connector a compute host presents (os-brick's get_connector_properties for iSCSI). */
  async connector(host: string): Promise<Record<string, unknown>> {
    const h = await this.c.hosts.byName(host);
    return {
      platform: "x86_64",
      os_type: "linux",
      ip: h?.hostIp ?? "127.0.0.1",
      host,
      multipath: false,
      initiator: `iqn.1993-08.org.debian:01:${host}`,
      do_local_attach: false,
    };
  }

  /** The next free device name (libvirt's get_next_device_name over the instance's BDMs). */
  private nextDevice(used: Array<string | null>): string {
    const taken = new Set(used.filter((d): d is string => !!d));
    for (let i = 0; ; i++) {
      const d = letterName(i);
      if (!taken.has(d)) return d;
    }
  }

  /** volume_api.get as the user: 404 VolumeNotFound. */
  async volume(caller: ServerCaller, id: string): Promise<CinderDoc> {
    const v = await this.c.volume.getVolume(id, caller.tokenId);
    if (!v) throw new NotFound(`Volume ${id} could not be found.`);
    return v;
  }

  /** _check_volume_already_attached. */
  private async checkNotAttached(inst: Instance, volume: CinderDoc): Promise<void> {
    const bdms = await this.bdmsOfVolume(volume.id);
    if (bdms.length === 0) return;
    if (volume["multiattach"] !== true) {
      throw new InvalidVolume(`volume ${volume.id} is already attached to instances: ${bdms.map((b) => b.instance_uuid).join(" ")}`);
    }
    if (bdms.some((b) => b.instance_uuid === inst.uuid)) throw new InvalidVolume(`volume ${volume.id} already attached`);
  }

  /** attachment_create (reserve) as Nova: a Cinder 400 becomes InvalidInput wrapped in InvalidVolume. */
  private async reserve(volumeId: string, instanceUuid: string): Promise<string> {
    const res = await this.c.volume.attachmentCreateRaw(volumeId, instanceUuid);
    if (res.status === 200) return (res.body as { attachment: { id: string } }).attachment.id;
    if (res.status === 404) throw new NotFound(`Volume ${volumeId} could not be found.`);
    if (res.status === 400) throw new InvalidVolume(`Invalid input received: ${cinderMessage(res)}`);
    throw new ServiceCallError("POST", "/attachments", res.status, res.body);
  }

  /**
   * POST /servers/{id}/os-volume_attachments (compute_api.attach_volume): BDM with the device
   * name, Cinder attachment reserved, instance action recorded; the compute side connects and
   * completes the attachment in a task. Returns the device name (null for shelved-offloaded).
   */
  async attach(
    caller: ServerCaller,
    inst: Instance,
    req: { volumeId: string; device: string | null; tag: string | null; deleteOnTermination: boolean; supportsMultiattach: boolean },
  ): Promise<string | null> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "attach_volume", { vmState: ATTACH_STATES });
    const volume = await this.volume(caller, req.volumeId);
    await this.checkNotAttached(inst, volume);
    const offloaded = inst.vm_state === VM.SHELVED_OFFLOADED;
    if (offloaded) {
      if (req.tag) throw new BadRequest("Tagged volume attachment is not supported for shelved-offloaded instances.");
      if (volume["multiattach"] === true) throw new BadRequest("Attaching multiattach volumes is not supported for shelved-offloaded instances.");
    }
    // reserve_block_device_name: the device asked for when free, else the next one.
    const existing = await this.bdms(inst.uuid);
    let device: string | null = null;
    if (!offloaded) {
      if (req.device && existing.some((b) => b.device_name === req.device)) throw new Conflict(`The supplied device path (${req.device}) is in use.`);
      device = req.device ?? this.nextDevice(existing.map((b) => b.device_name));
    }
    const bdmUuid = newUuid();
    const now = this.ops.now();
    await this.db
      .insertInto("cmp_block_device_mapping")
      .values({
        uuid: bdmUuid,
        instance_uuid: inst.uuid,
        boot_index: null,
        source_type: "volume",
        destination_type: "volume",
        device_name: device,
        image_id: null,
        volume_id: volume.id,
        volume_size: Number(volume["size"] ?? 0) || null,
        delete_on_termination: req.deleteOnTermination ? 1 : 0,
        tag: req.tag,
        attachment_id: null,
        created_at: now,
        snapshot_id: null,
        volume_type: null,
        connection_info: null,
      })
      .execute();
    try {
      if (volume["multiattach"] === true && !req.supportsMultiattach) throw new BadRequest("Multiattach volumes are only supported starting with compute API version 2.60.");
      const attachmentId = await this.reserve(volume.id, inst.uuid);
      await this.ops.write(async (trx) => {
        await trx.updateTable("cmp_block_device_mapping").set({ attachment_id: attachmentId }).where("uuid", "=", bdmUuid).execute();
        await startAction(trx, { instance_uuid: inst.uuid, action: "attach_volume", request_id: caller.requestId, project_id: caller.projectId, user_id: caller.userId }, now);
        if (!offloaded) {
          await this.c.tasks.enqueue(ATTACH_VOLUME_TASK, { instance_uuid: inst.uuid, request_id: caller.requestId, bdm_uuid: bdmUuid }, 0, trx);
        }
      });
      // Shelved-offloaded: no host to connect; Cinder marks the volume in use at once.
      if (offloaded) await this.c.volume.attachmentComplete(attachmentId);
    } catch (e) {
      await this.db.deleteFrom("cmp_block_device_mapping").where("uuid", "=", bdmUuid).execute();
      throw e;
    }
    return device;
  }

  /** The compute side of attach: connect with the host's connector, complete; on failure undo. */
  private async attachTask(inst: Instance, bdmUuid: string): Promise<void> {
    const bdm = await this.db.selectFrom("cmp_block_device_mapping").selectAll().where("uuid", "=", bdmUuid).executeTakeFirst();
    if (!bdm || !bdm.attachment_id || bdm.connection_info || !inst.host) return;
    try {
      await this.connect(inst.host, bdm);
    } catch (e) {
      await this.c.volume.attachmentDelete(bdm.attachment_id).catch(() => undefined);
      await this.db.deleteFrom("cmp_block_device_mapping").where("uuid", "=", bdmUuid).execute();
      throw new InstanceTaskFailure(`Volume ${bdm.volume_id ?? ""} could not be attached: ${(e as Error).message}`);
    }
  }

  /** attachment_update with the connector (mountpoint = device), os-complete, connection info kept. */
  private async connect(host: string, bdm: BdmRow): Promise<void> {
    const connector = { ...(await this.connector(host)), mountpoint: bdm.device_name ?? "" };
    const att = await this.c.volume.attachmentUpdate(bdm.attachment_id!, connector);
    await this.c.volume.attachmentComplete(bdm.attachment_id!);
    await this.db
      .updateTable("cmp_block_device_mapping")
      .set({ connection_info: JSON.stringify(att["connection_info"] ?? {}) })
      .where("uuid", "=", bdm.uuid)
      .execute();
  }

  /** DELETE /servers/{id}/os-volume_attachments/{volume_id} (compute_api.detach_volume). */
  async detach(caller: ServerCaller, inst: Instance, volumeId: string): Promise<void> {
    const volume = await this.volume(caller, volumeId);
    const bdm = (await this.bdms(inst.uuid)).find((b) => b.volume_id === volumeId);
    if (!bdm) throw new NotFound(`Instance ${inst.uuid} is not attached to volume ${volumeId}`);
    if (bdm.boot_index === 0) throw new BadRequest("Cannot detach a root device volume");
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "detach_volume", { vmState: ATTACH_STATES });
    const offloaded = inst.vm_state === VM.SHELVED_OFFLOADED;
    if (!offloaded) {
      // check_instance_host(check_is_up=True)
      const host = inst.host ? await this.c.hosts.byName(inst.host) : undefined;
      if (!inst.host) throw new Conflict(`Instance ${inst.uuid} is not ready`);
      if (!host || !host.up) throw new Conflict("Service is unavailable at this time.");
      const res = await this.c.volume.raw("POST", `/volumes/${volume.id}/action`, { body: { "os-begin_detaching": {} }, token: caller.tokenId });
      if (res.status === 400) throw new InvalidVolume(`Invalid input received: ${cinderMessage(res)}`);
      if (res.status >= 300) throw new ServiceCallError("POST", `/volumes/${volume.id}/action`, res.status, res.body);
    }
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      await startAction(trx, { instance_uuid: inst.uuid, action: "detach_volume", request_id: caller.requestId, project_id: caller.projectId, user_id: caller.userId }, now);
      if (!offloaded) {
        await this.c.tasks.enqueue(DETACH_VOLUME_TASK, { instance_uuid: inst.uuid, request_id: caller.requestId, bdm_uuid: bdm.uuid, volume_id: volume.id }, 0, trx);
      }
    });
    if (offloaded) await this.detachTask(bdm.uuid, volume.id);
  }

  /** The compute side of detach: the Cinder attachment deleted (volume available), the BDM gone. */
  private async detachTask(bdmUuid: string, volumeId: string): Promise<void> {
    const bdm = await this.db.selectFrom("cmp_block_device_mapping").selectAll().where("uuid", "=", bdmUuid).executeTakeFirst();
    if (!bdm) return;
    try {
      if (bdm.attachment_id) await this.c.volume.attachmentDelete(bdm.attachment_id);
    } catch (e) {
      await this.c.volume.raw("POST", `/volumes/${volumeId}/action`, { body: { "os-roll_detaching": {} } }).catch(() => undefined);
      throw new InstanceTaskFailure(`Volume ${volumeId} could not be detached: ${(e as Error).message}`);
    }
    await this.db.deleteFrom("cmp_block_device_mapping").where("uuid", "=", bdmUuid).execute();
  }

  /** PUT at 2.85 with the same volume: delete_on_termination (other fields are immutable). */
  async update(inst: Instance, volumeId: string, att: Record<string, unknown>): Promise<void> {
    const bdm = (await this.bdms(inst.uuid)).find((b) => b.volume_id === volumeId);
    if (!bdm) throw new NotFound(`No volume Block Device Mapping with id ${volumeId}.`);
    if ("id" in att && att["id"] !== volumeId) throw new BadRequest("The id property is not mutable");
    if ("serverId" in att && att["serverId"] !== inst.uuid) throw new BadRequest("The serverId property is not mutable");
    if ("device" in att && att["device"] !== bdm.device_name) throw new BadRequest("The device property is not mutable");
    if ("tag" in att && att["tag"] !== bdm.tag) throw new BadRequest("The tag property is not mutable");
    if ("delete_on_termination" in att) {
      const v = att["delete_on_termination"];
      const on = v === true || (typeof v === "string" && ["1", "t", "true", "on", "y", "yes"].includes(v.toLowerCase()));
      await this.db.updateTable("cmp_block_device_mapping").set({ delete_on_termination: on ? 1 : 0 }).where("uuid", "=", bdm.uuid).execute();
    }
  }

  /** compute_api.swap_volume: the new volume takes the old one's place on the server. */
  async swap(caller: ServerCaller, inst: Instance, oldId: string, newId: string): Promise<void> {
    const oldVol = await this.volume(caller, oldId);
    const newVol = await this.c.volume.getVolume(newId, caller.tokenId);
    if (!newVol) throw new BadRequest(`Volume ${newId} could not be found.`);
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "swap_volume", { vmState: SWAP_STATES });
    const oldAtts = (oldVol["attachments"] as Array<{ server_id?: string }> | undefined) ?? [];
    const bdm = (await this.bdms(inst.uuid)).find((b) => b.volume_id === oldId);
    if (!oldAtts.some((a) => a.server_id === inst.uuid) && !bdm) throw new InvalidVolume("Old volume is attached to a different instance.");
    if (newVol["attach_status"] === "attached" || (Array.isArray(newVol["attachments"]) && (newVol["attachments"] as unknown[]).length > 0 && newVol["status"] === "in-use")) {
      throw new InvalidVolume("New volume must be detached in order to swap.");
    }
    if (Number(newVol["size"]) < Number(oldVol["size"])) throw new InvalidVolume("New volume must be the same size or larger.");
    const begin = await this.c.volume.raw("POST", `/volumes/${oldId}/action`, { body: { "os-begin_detaching": {} }, token: caller.tokenId });
    if (begin.status === 400) throw new InvalidVolume(`Invalid input received: ${cinderMessage(begin)}`);
    if (begin.status >= 300) throw new ServiceCallError("POST", `/volumes/${oldId}/action`, begin.status, begin.body);
    const roll = () => this.c.volume.raw("POST", `/volumes/${oldId}/action`, { body: { "os-roll_detaching": {} } }).catch(() => undefined);
    if (oldAtts.length > 1) {
      await roll();
      throw new BadRequest("Swapping multi-attach volumes with more than one read/write attachment is not supported.");
    }
    if (!bdm) {
      await roll();
      throw new NotFound(`No volume Block Device Mapping with id ${oldId}.`);
    }
    let newAttachment: string;
    try {
      await this.checkNotAttached(inst, newVol);
      newAttachment = await this.reserve(newId, inst.uuid);
    } catch (e) {
      await roll();
      throw e;
    }
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      await startAction(trx, { instance_uuid: inst.uuid, action: "swap_volume", request_id: caller.requestId, project_id: caller.projectId, user_id: caller.userId }, now);
      await this.c.tasks.enqueue(
        SWAP_VOLUME_TASK,
        { instance_uuid: inst.uuid, request_id: caller.requestId, bdm_uuid: bdm.uuid, old_volume_id: oldId, new_volume_id: newId, new_attachment_id: newAttachment },
        0,
        trx,
      );
    });
  }

  /**
   * compute manager swap_volume with the new attachment flow: connect the new volume, the
   * driver copies the data over, the old attachment goes (old volume available), the new one
   * completes (in-use) and the BDM now names the new volume.
   */
  private async swapTask(inst: Instance, bdmUuid: string, newId: string, newAttachment: string, oldId: string): Promise<void> {
    const bdm = await this.db.selectFrom("cmp_block_device_mapping").selectAll().where("uuid", "=", bdmUuid).executeTakeFirst();
    if (!bdm || bdm.volume_id !== oldId || !inst.host) return;
    let info: CinderDoc;
    try {
      const connector = { ...(await this.connector(inst.host)), mountpoint: bdm.device_name ?? "" };
      info = await this.c.volume.attachmentUpdate(newAttachment, connector);
    } catch (e) {
      await this.c.volume.attachmentDelete(newAttachment).catch(() => undefined);
      await this.c.volume.raw("POST", `/volumes/${oldId}/action`, { body: { "os-roll_detaching": {} } }).catch(() => undefined);
      throw new InstanceTaskFailure(`Failed to swap volume ${oldId} for ${newId}: ${(e as Error).message}`);
    }
    if (bdm.attachment_id) await this.c.volume.attachmentDelete(bdm.attachment_id);
    await this.c.volume.attachmentComplete(newAttachment);
    await this.db
      .updateTable("cmp_block_device_mapping")
      .set({ volume_id: newId, attachment_id: newAttachment, connection_info: JSON.stringify(info["connection_info"] ?? {}) })
      .where("uuid", "=", bdmUuid)
      .execute();
  }

  /**
   * The volume-extended external event (Cinder extended an attached volume): the API records
   * an extend_volume action, the compute host's extend_volume its compute_extend_volume event.
   */
  async volumeExtended(inst: Instance, volumeId: string, who: { requestId: string; userId: string; projectId: string }): Promise<void> {
    const now = this.ops.now();
    const bdm = (await this.bdms(inst.uuid)).find((b) => b.volume_id === volumeId);
    await this.ops.write(async (trx) => {
      const actionId = await startAction(trx, { instance_uuid: inst.uuid, action: "extend_volume", request_id: who.requestId, project_id: who.projectId, user_id: who.userId }, now);
      const ev = await startEvent(trx, actionId, "compute_extend_volume", inst.host, now);
      await finishEvent(trx, ev, bdm ? "Success" : "Error", now, bdm ? {} : { traceback: `No volume Block Device Mapping with id ${volumeId}.` });
      if (bdm) await finishAction(trx, actionId, now);
      else await markActionError(trx, actionId, now);
    });
  }

  // ---- server create / build / delete ---------------------------------------------------------

  /**
   * Attachments reserved at create for existing volumes (_validate_bdm →
   * _check_attach_and_reserve_volume), one per instance. On a Cinder refusal the ones made are
   * deleted and the refusal is the API's answer.
   */
  async reserveForCreate(volumeIds: string[], instanceUuids: string[]): Promise<Map<string, string>> {
    const made = new Map<string, string>();
    try {
      for (const inst of instanceUuids) {
        for (const v of volumeIds) made.set(`${inst}/${v}`, await this.reserve(v, inst));
      }
    } catch (e) {
      for (const id of made.values()) await this.c.volume.attachmentDelete(id).catch(() => undefined);
      throw e;
    }
    return made;
  }

  /**
   * _prep_block_device at build: volumes Nova asked Cinder for are awaited until available
   * (block_device_allocate_retries), each volume is reserved if not yet, connected with the
   * host's connector and completed. Idempotent: connected BDMs are skipped.
   */
  async prepBlockDevices(inst: Instance): Promise<void> {
    const host = inst.host;
    if (!host) return;
    const bdms = (await this.bdms(inst.uuid)).filter((b) => b.destination_type === "volume");
    bdms.sort((a, b) => (a.boot_index ?? 99) - (b.boot_index ?? 99));
    for (const bdm of bdms) {
      if (bdm.connection_info) continue;
      if (!bdm.volume_id) throw new BlockDevicePrepFailed("Failure prepping block device.");
      if (!bdm.attachment_id) {
        await this.awaitCreated(bdm.volume_id);
        const id = await this.reserve(bdm.volume_id, inst.uuid).catch((e: Error) => {
          throw new BlockDevicePrepFailed(e.message);
        });
        await this.db.updateTable("cmp_block_device_mapping").set({ attachment_id: id }).where("uuid", "=", bdm.uuid).execute();
        bdm.attachment_id = id;
      }
      try {
        await this.connect(host, bdm);
      } catch (e) {
        throw new BlockDevicePrepFailed(`Volume ${bdm.volume_id} could not be attached: ${(e as Error).message}`);
      }
    }
  }

  /**
   * Unshelve of an offloaded server (_unshelve_instance → _prep_block_device): volumes attached
   * while it was offloaded get their device names, and every volume is connected to the new host.
   */
  async reconnect(inst: Instance): Promise<void> {
    if (!inst.host) return;
    const all = await this.bdms(inst.uuid);
    const used = all.map((b) => b.device_name);
    for (const b of all) {
      if (b.destination_type !== "volume" || !b.attachment_id) continue;
      if (!b.device_name) {
        const d = this.nextDevice(used);
        used.push(d);
        await this.db.updateTable("cmp_block_device_mapping").set({ device_name: d }).where("uuid", "=", b.uuid).execute();
        b.device_name = d;
      }
      await this.connect(inst.host, b);
    }
  }

  /** _await_block_device_map_created: poll Cinder until the volume is available. */
  private async awaitCreated(volumeId: string): Promise<void> {
    const attempts = 1200;
    for (let i = 1; i <= attempts; i++) {
      const v = await this.c.volume.getVolume(volumeId);
      const status = String(v?.["status"] ?? "");
      if (status === "available") return;
      if (!v || !["creating", "downloading"].includes(status)) {
        throw new BlockDevicePrepFailed(
          `Volume ${volumeId} did not finish being created even after we waited ${Math.round((i * 25) / 1000)} seconds or ${i} attempts. And its status is ${status || "deleted"}.`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new BlockDevicePrepFailed(`Volume ${volumeId} did not finish being created even after we waited 30 seconds or ${attempts} attempts. And its status is creating.`);
  }

  /**
   * Volumes Nova creates for block_device_mapping_v2 (image, snapshot or blank → volume), made
   * with the user's token so they belong to the user's project. Returns the new volume id.
   */
  async createVolumeFor(caller: ServerCaller, instanceUuid: string, b: BdmRequest, availabilityZone: string | null): Promise<string> {
    const body: Record<string, unknown> = { size: b.volume_size };
    if (b.source_type === "image") body["imageRef"] = b.uuid;
    if (b.source_type === "snapshot") body["snapshot_id"] = b.uuid;
    body["name"] = b.source_type === "blank" ? `${instanceUuid}-blank-vol` : "";
    if (b.volume_type) body["volume_type"] = b.volume_type;
    if (availabilityZone) body["availability_zone"] = availabilityZone;
    const res = await this.c.volume.createVolume(body, caller.tokenId);
    if (res.status === 202 || res.status === 200) return (res.body as { volume: { id: string } }).volume.id;
    if (res.status === 413) throw new CloudError(403, `Quota exceeded: ${cinderMessage(res)}`);
    throw new BadRequest(`Block Device Mapping is Invalid: ${cinderMessage(res)}`);
  }

  /**
   * _shutdown_instance + _cleanup_volumes at delete: every attachment deleted (the service may
   * delete them), volumes with delete_on_termination deleted, the BDMs gone.
   */
  async cleanup(inst: Instance): Promise<void> {
    const bdms = await this.bdms(inst.uuid);
    for (const b of bdms) {
      if (b.attachment_id) {
        try {
          await this.c.volume.attachmentDelete(b.attachment_id);
        } catch (e) {
          this.c.log.warn({ instance: inst.uuid, volume: b.volume_id, err: (e as Error).message }, "attachment delete failed at server delete");
        }
      }
      if (b.volume_id && Number(b.delete_on_termination) === 1 && b.destination_type === "volume") {
        const res = await this.c.volume.deleteVolume(b.volume_id).catch(() => undefined);
        if (res && res.status >= 300 && res.status !== 404) this.c.log.warn({ instance: inst.uuid, volume: b.volume_id, status: res.status }, "volume delete failed at server delete");
      }
    }
    await this.db.deleteFrom("cmp_block_device_mapping").where("instance_uuid", "=", inst.uuid).execute();
  }
}

const registry = new WeakMap<Compute, VolumeOps>();

/** The one VolumeOps of a compute bag (its tasks are registered once, at first use during construction). */
export function volumeOpsOf(c: Compute): VolumeOps {
  let v = registry.get(c);
  if (!v) registry.set(c, (v = new VolumeOps(c, c.instances)));
  return v;
}
