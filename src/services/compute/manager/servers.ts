import { randomBytes } from "node:crypto";
import { BadRequest, CloudError, Conflict, Forbidden, NotFound } from "../../../common/errors.js";
import { uuid as newUuid } from "../../../common/ids.js";
import { DriverFailure } from "../../../drivers/compute/driver.js";
import type { Compute, QuotaUsage, ServersApi } from "../api/deps.js";
import type { Fault, FlavorSnapshot, Instance, NewInstance, RequestSpec, Vif } from "../store/servers.js";
import {
  POWER,
  VM,
  getInstance,
  getInstances,
  insertInstance,
  latestFaults,
  nextIds,
  onHosts,
  setTags,
  startAction,
  tagsOf,
  updateInstance,
  usageOf,
} from "../store/servers.js";
import type { ServersDB } from "../store/servers-tables.js";
import type { RequestedNetwork } from "./builds.js";
import { BUILD_TASK, BuildManager, vifOf } from "./builds.js";
import type { InstanceOps, ServerCaller } from "./instance-state.js";
import { releaseMoveAllocations } from "./moves.js";
import { Scheduler } from "./scheduler.js";
import type { BdmRequest, VolumeOps } from "./volumes.js";
import { volumeOpsOf } from "./volumes.js";

/** What POST /servers asks for, validated and normalised by the API layer. */
export interface CreateServerRequest {
  name: string;
  description: string | null;
  hostname: string | null;
  imageRef: string;
  flavorRef: string;
  /** undefined: Nova's default (all the project's networks, ambiguous if several); "auto"; "none"; a list. */
  networks: "auto" | "none" | undefined | Array<{ uuid?: string; port?: string; fixed_ip?: string; tag?: string }>;
  securityGroups: string[] | undefined;
  keyName: string | null;
  userData: string | null;
  metadata: Record<string, string>;
  availabilityZone: string | null;
  forcedHost: string | null;
  requestedHost: string | null;
  hints: Record<string, unknown>;
  minCount: number;
  maxCount: number;
  tags: string[];
  configDrive: boolean;
  accessIPv4: string | null;
  accessIPv6: string | null;
  adminPass: string | undefined;
  autoDiskConfig: boolean;
  trustedCerts: string[] | null;
  /** block_device_mapping(_v2) as the API normalised it: the root disk, volumes to attach or create. */
  bdms: BdmRequest[];
  /** 2.60: multiattach volumes may be attached (at create too). */
  supportsMultiattach?: boolean;
}

export interface CreatedServers {
  instances: Instance[];
  reservationId: string;
  adminPass: string;
  /** The names of the groups asked for, as the create response shows them. */
  securityGroupNames: string[];
}

export interface ListQuery {
  /** Project filter (undefined with all_tenants and no project filter). */
  projectId?: string | undefined;
  userId?: string | undefined;
  includeDeleted: boolean;
  onlyDeleted: boolean;
  vmStates?: string[] | undefined;
  taskStates?: string[] | undefined;
  name?: RegExp | undefined;
  hostname?: RegExp | undefined;
  image?: string | undefined;
  flavor?: string | undefined;
  host?: string | undefined;
  node?: string | undefined;
  reservationId?: string | undefined;
  changesSince?: string | undefined;
  changesBefore?: string | undefined;
  ip?: RegExp | undefined;
  ip6?: RegExp | undefined;
  tags?: string[] | undefined;
  tagsAny?: string[] | undefined;
  notTags?: string[] | undefined;
  notTagsAny?: string[] | undefined;
  locked?: boolean | undefined;
  availabilityZone?: RegExp | undefined;
  keyName?: RegExp | undefined;
  configDrive?: string | undefined;
  uuid?: string | undefined;
  powerState?: number | undefined;
  launchedAt?: string | undefined;
  sortKeys: string[];
  sortDirs: Array<"asc" | "desc">;
  limit: number;
  marker?: string | undefined;
}

/** Nova's multi_instance_display_name_template. */
function multiName(name: string, i: number, count: number): string {
  return count > 1 ? `${name}-${i + 1}` : name;
}

/** utils.sanitize_hostname (as Nova 26 derives a hostname from the display name). */
export function sanitizeHostname(name: string, fallback: string): string {
  // Characters outside U+0000–U+00FF dropped, truncated to 63, [ _.] → "-", other non-word
  // characters removed, lower case, "." and "-" stripped from the ends.
  let h = [...name].filter((ch) => ch.codePointAt(0)! <= 0xff).join("").slice(0, 63);
  h = h.replace(/[ _.]/g, "-").replace(/[^\p{L}\p{N}_.-]+/gu, "").toLowerCase();
  h = h.replace(/^[.-]+|[.-]+$/g, "");
  return h === "" ? fallback.slice(0, 63) : h;
}

/** The sort columns a query may name (VALID_SORT_KEYS without the ignored ones). */
const SORT_COLUMNS: Record<string, string> = {
  access_ip_v4: "access_ip_v4",
  access_ip_v6: "access_ip_v6",
  auto_disk_config: "auto_disk_config",
  availability_zone: "availability_zone",
  config_drive: "config_drive",
  created_at: "created_at",
  display_description: "display_description",
  display_name: "display_name",
  host: "host",
  hostname: "hostname",
  image_ref: "image_ref",
  instance_type_id: "flavor_id",
  key_name: "key_name",
  launch_index: "launch_index",
  launched_at: "launched_at",
  locked: "locked",
  locked_by: "locked_by",
  node: "node",
  power_state: "power_state",
  progress: "progress",
  project_id: "project_id",
  root_device_name: "root_device_name",
  task_state: "task_state",
  terminated_at: "terminated_at",
  updated_at: "updated_at",
  user_id: "user_id",
  uuid: "uuid",
  vm_state: "vm_state",
};
export const SORT_KEYS = Object.keys(SORT_COLUMNS);

export const DELETE_TASK = "compute.delete";

/**
 * Servers: create (validation against the other services, quota, the rows and the build task
 * in one transaction), list with Nova's filters, show, update, delete (as a task when the
 * instance is on a host, at once when it never got one), and the ServersApi contract.
 */
export class ServerManager implements ServersApi {
  readonly scheduler: Scheduler;
  readonly builds: BuildManager;

  constructor(
    private readonly c: Compute,
    private readonly ops: InstanceOps,
  ) {
    this.scheduler = new Scheduler(c);
    this.builds = new BuildManager(c, ops, this.scheduler);
    // Volume attach/detach/swap tasks are registered with the servers area's.
    volumeOpsOf(c);
    ops.registerTask(DELETE_TASK, async (t) => this.terminate(t.instance, t.payload.request_id), { runOnDeleted: true });
  }

  private get db(): ServersDB {
    return this.c.database.db as ServersDB;
  }

  get volumes(): VolumeOps {
    return volumeOpsOf(this.c);
  }

  /**
   * block_device.get_bdm_image_metadata: the image metadata of a server booting from a volume
   * (the image it is made from, or the root volume's volume_image_metadata).
   */
  private async bdmImageMeta(caller: ServerCaller, root: BdmRequest): Promise<Record<string, unknown>> {
    if (root.source_type === "image") {
      const img = await this.c.image.getImage(root.uuid!, caller.tokenId);
      if (!img) throw new BadRequest(`Block Device Mapping is Invalid: failed to get image ${root.uuid!}.`);
      if (img.status !== "active") throw new BadRequest(`Image ${root.uuid!} is not active.`);
      return img;
    }
    let volumeId = root.source_type === "volume" ? root.uuid : null;
    if (root.source_type === "snapshot") {
      const snap = await this.c.volume.getSnapshot(root.uuid!, caller.tokenId);
      if (!snap) throw new BadRequest(`Snapshot ${root.uuid!} could not be found.`);
      volumeId = String(snap["volume_id"]);
    }
    if (!volumeId) return { id: "", status: "active", size: 0 };
    const vol = await this.c.volume.getVolume(volumeId, caller.tokenId);
    if (!vol) throw new BadRequest(`Block Device Mapping is Invalid: failed to get volume ${volumeId}.`);
    if (vol["bootable"] === false || vol["bootable"] === "false") throw new BadRequest(`Block Device ${volumeId} is not bootable.`);
    // get_image_metadata_from_volume
    const props: Record<string, unknown> = { ...((vol["volume_image_metadata"] as Record<string, unknown> | undefined) ?? {}) };
    const meta: Record<string, unknown> = { id: "", status: "active", size: Number(vol["size"] ?? 0) * 1024 ** 3 };
    for (const k of ["min_ram", "min_disk", "disk_format", "container_format"]) {
      if (props[k] !== undefined) {
        meta[k] = k.startsWith("min_") ? Number(props[k]) : props[k];
        delete props[k];
      }
    }
    delete props["image_id"];
    delete props["image_name"];
    delete props["size"];
    delete props["checksum"];
    meta["properties"] = props;
    return meta;
  }

  /**
   * compute/api.py _get_volumes_for_bdms + _validate_bdm for the volume BDMs: images and
   * snapshots must exist, volumes too (as the user sees them), image and blank volumes need a
   * size, a multiattach volume needs 2.60. Fills volume_size from the volume or snapshot.
   */
  private async validateVolumeBdms(caller: ServerCaller, req: CreateServerRequest, imageId: string): Promise<BdmRequest[]> {
    const out: BdmRequest[] = [];
    for (const raw of req.bdms) {
      if (raw.destination_type !== "volume") continue;
      const b = { ...raw };
      if (b.source_type === "image") {
        if (b.uuid !== imageId && !(await this.c.image.getImage(b.uuid!, caller.tokenId))) throw new BadRequest(`Block Device Mapping is Invalid: failed to get image ${b.uuid!}.`);
        if (!b.volume_size) throw new BadRequest("Images with destination_type 'volume' need to have a non-zero size specified");
      } else if (b.source_type === "volume") {
        const vol = await this.c.volume.getVolume(b.uuid!, caller.tokenId);
        if (!vol) throw new BadRequest(`Volume ${b.uuid!} could not be found.`);
        if (vol["multiattach"] === true && !req.supportsMultiattach) throw new BadRequest("Multiattach volumes are only supported starting with compute API version 2.60.");
        b.volume_size = Number(vol["size"] ?? 0) || null;
      } else if (b.source_type === "snapshot") {
        const snap = await this.c.volume.getSnapshot(b.uuid!, caller.tokenId);
        if (!snap) throw new BadRequest(`Block Device Mapping is Invalid: failed to get snapshot ${b.uuid!}.`);
        b.volume_size = b.volume_size || Number(snap["size"] ?? 0) || null;
      } else if (!b.volume_size) {
        throw new BadRequest("Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size");
      }
      out.push(b);
    }
    return out;
  }

  // ---- ServersApi ----------------------------------------------------------------------------

  usage(projectId: string, userId?: string): Promise<QuotaUsage> {
    return usageOf(this.db, projectId, userId);
  }

  onHosts(hosts: string[]): Promise<Map<string, Array<{ uuid: string; name: string }>>> {
    return onHosts(this.db, hosts);
  }

  /** vCPUs, RAM and local disk (root + ephemeral GB) of the non-deleted instances on each host. */
  async hostUsage(hosts: string[]): Promise<Map<string, { vcpus: number; memory_mb: number; disk_gb: number }>> {
    const out = new Map<string, { vcpus: number; memory_mb: number; disk_gb: number }>();
    for (const h of hosts) out.set(h, { vcpus: 0, memory_mb: 0, disk_gb: 0 });
    for (let i = 0; i < hosts.length; i += 500) {
      const rows = await this.db
        .selectFrom("cmp_instance")
        .select((eb) => ["host", eb.fn.sum("vcpus").as("vcpus"), eb.fn.sum("memory_mb").as("memory_mb"), eb.fn.sum(eb("root_gb", "+", eb.ref("ephemeral_gb"))).as("disk_gb")])
        .where("host", "in", hosts.slice(i, i + 500))
        .where("deleted", "=", 0)
        .groupBy("host")
        .execute();
      for (const r of rows as Array<{ host: string | null; vcpus: unknown; memory_mb: unknown; disk_gb: unknown }>) {
        if (r.host) out.set(r.host, { vcpus: Number(r.vcpus ?? 0), memory_mb: Number(r.memory_mb ?? 0), disk_gb: Number(r.disk_gb ?? 0) });
      }
    }
    return out;
  }

  // ---- create ----------------------------------------------------------------------------------

  async create(caller: ServerCaller, req: CreateServerRequest, admin: boolean): Promise<CreatedServers> {
    // Flavor (nova: flavors.get_flavor_by_flavor_id, access checked for private flavors).
    const flavor = await this.c.flavors.get(req.flavorRef);
    if (!flavor || flavor.disabled || !(admin || (await this.c.flavors.usableBy(flavor, caller.projectId)))) {
      throw new BadRequest(`Flavor ${req.flavorRef} could not be found.`);
    }
    const snapshot: FlavorSnapshot = {
      id: flavor.id,
      name: flavor.name,
      vcpus: flavor.vcpus,
      ram: flavor.ram,
      disk: flavor.disk,
      ephemeral: flavor.ephemeral,
      swap: flavor.swap,
      rxtx_factor: flavor.rxtx_factor,
      is_public: flavor.is_public,
      description: flavor.description,
      extra_specs: flavor.extra_specs,
    };

    // Image, as the user sees it (nova: image_api.get with the request context); a server
    // booting from a volume takes the image metadata of its root volume (get_bdm_image_metadata).
    const rootBdm = req.bdms.find((b) => b.boot_index === 0);
    const bfv = rootBdm !== undefined && rootBdm.destination_type === "volume";
    let imageId: string;
    let image: Record<string, unknown>;
    if (bfv && !req.imageRef) {
      imageId = "";
      image = await this.bdmImageMeta(caller, rootBdm);
    } else {
      imageId = req.imageRef || (rootBdm?.source_type === "image" ? rootBdm.uuid ?? "" : "");
      if (!imageId) throw new BadRequest("Missing imageRef attribute");
      const img = await this.c.image.getImage(imageId, caller.tokenId);
      if (!img) throw new BadRequest("Can not find requested image");
      if (img.status !== "active") throw new BadRequest(`Image ${imageId} is not active.`);
      image = img;
    }
    const GiB = 1024 ** 3;
    const size = Number(image["size"] ?? 0);
    const minDisk = Number(image["min_disk"] ?? 0);
    const minRam = Number(image["min_ram"] ?? 0);
    // Volume sizes of the volume BDMs (_validate_bdm), checked before anything is written.
    const volumeBdms = await this.validateVolumeBdms(caller, req, imageId);
    if (bfv) {
      const rootSize = rootBdm.volume_size ?? 0;
      if (rootSize > 0 && minDisk > rootSize) {
        throw new BadRequest(`Volume is smaller than the minimum size specified in image metadata. Volume size is ${rootSize * GiB} bytes, minimum size is ${minDisk * GiB} bytes.`);
      }
    } else if (snapshot.disk === 0 && !admin) {
      throw new Forbidden("Only volume-backed servers are allowed for flavors with zero disk.");
    }
    if (!bfv && snapshot.disk > 0) {
      if (size > snapshot.disk * GiB) {
        throw new BadRequest(`Flavor's disk is too small for requested image. Flavor disk is ${snapshot.disk * GiB} bytes, image is ${size} bytes.`);
      }
      if (minDisk > snapshot.disk) {
        throw new BadRequest(
          `Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is ${snapshot.disk * GiB} bytes, minimum size is ${minDisk * GiB} bytes.`,
        );
      }
    }
    if (minRam > snapshot.ram) throw new BadRequest("Flavor's memory is too small for requested image.");

    // Availability zone (nova: the zone must exist).
    if (req.availabilityZone) {
      const zones = await this.c.hosts.zones();
      if (!zones.includes(req.availabilityZone)) throw new BadRequest("The requested availability zone is not available");
    }
    if (req.forcedHost && !(await this.c.hosts.byName(req.forcedHost))) throw new BadRequest(`Compute host ${req.forcedHost} could not be found.`);
    if (req.requestedHost && !(await this.c.hosts.byName(req.requestedHost))) throw new BadRequest(`Compute host ${req.requestedHost} could not be found.`);

    // Key pair.
    let keyData: string | null = null;
    if (req.keyName !== null) {
      const kp = await this.c.keypairs.get(caller.userId, req.keyName);
      if (!kp) throw new BadRequest("Invalid key_name provided.");
      keyData = kp.public_key;
    }

    // Count: as many as quota allows between min and max (nova: _check_num_instances_quota).
    if (req.hostname !== null && req.maxCount > 1) throw new BadRequest("Unable to allocate a single hostname to multiple instances");
    const limits = await this.c.quotas.limits(caller.projectId, caller.userId);
    const metaLimit = limits["metadata_items"] ?? -1;
    if (metaLimit >= 0 && Object.keys(req.metadata).length > metaLimit) throw new Forbidden(`Quota exceeded for metadata_items: Requested ${Object.keys(req.metadata).length}, but already used 0 of ${metaLimit} metadata_items`);
    let count = req.maxCount;
    try {
      await this.c.quotas.check(caller.projectId, caller.userId, { instances: count, cores: count * snapshot.vcpus, ram: count * snapshot.ram });
    } catch (e) {
      if (req.minCount === req.maxCount) throw e;
      count = req.minCount;
      await this.c.quotas.check(caller.projectId, caller.userId, { instances: count, cores: count * snapshot.vcpus, ram: count * snapshot.ram });
    }

    // Networks and security groups, checked as the user (nova: _check_requested_networks).
    const networks = await this.requestedNetworks(caller, req, admin, count);
    count = await this.portQuota(caller.projectId, networks, count, req.minCount);
    const sg = await this.securityGroups(caller, req.securityGroups);

    // Server group (scheduler hint "group").
    const groupUuid = typeof req.hints["group"] === "string" ? req.hints["group"] : null;
    if (groupUuid) {
      const g = await this.db.selectFrom("cmp_server_group").select(["uuid", "project_id"]).where("uuid", "=", groupUuid).executeTakeFirst();
      if (!g || (!admin && g.project_id !== caller.projectId)) throw new BadRequest(`Instance group ${groupUuid} could not be found.`);
      const members = await this.db
        .selectFrom("cmp_server_group_member as m")
        .innerJoin("cmp_instance as i", "i.uuid", "m.instance_uuid")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("m.group_uuid", "=", groupUuid)
        .where("i.deleted", "=", 0)
        .executeTakeFirst();
      const max = limits["server_group_members"] ?? -1;
      if (max >= 0 && Number((members as { n: unknown } | undefined)?.n ?? 0) + count > max) {
        throw new Forbidden("Quota exceeded, too many servers in group");
      }
    }

    const imageProps: Record<string, unknown> = { ...((image["properties"] as Record<string, unknown> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(image)) if (/^(hw_|img_|traits:|architecture$|hypervisor_type$|vm_mode$)/.test(k)) imageProps[k] = v;
    const sysmeta: Record<string, string> = { create_request_id: caller.requestId, image_base_image_ref: imageId };
    for (const k of ["min_disk", "min_ram", "disk_format", "container_format", "os_distro", "os_type", "kernel_id", "ramdisk_id"]) {
      const v = image[k];
      if (v !== undefined && v !== null) sysmeta[`image_${k}`] = String(v);
    }

    const reservationId = `r-${randomBytes(4).toString("hex").slice(0, 8)}`;
    const adminPass = req.adminPass ?? randomBytes(9).toString("base64url").slice(0, 12);
    const ids = await nextIds(this.db, "instance", count);
    const now = this.ops.now();
    const instances: NewInstance[] = [];
    for (let i = 0; i < count; i++) {
      const uuid = newUuid();
      const name = multiName(req.name, i, count);
      const spec: RequestSpec = {
        availability_zone: req.availabilityZone,
        force_host: req.forcedHost,
        requested_host: req.requestedHost,
        scheduler_hints: req.hints,
        group_uuid: groupUuid,
        image_properties: imageProps,
        networks,
        security_groups: sg.ids,
        tried_hosts: [],
        is_bfv: bfv,
      };
      instances.push({
        uuid,
        id: ids[i]!,
        project_id: caller.projectId,
        user_id: caller.userId,
        display_name: name,
        display_description: req.description,
        hostname: req.hostname ?? sanitizeHostname(name, `Server-${uuid}`),
        host: null,
        node: null,
        availability_zone: req.availabilityZone,
        vm_state: VM.BUILDING,
        task_state: "scheduling",
        power_state: POWER.NOSTATE,
        flavor_id: snapshot.id,
        vcpus: snapshot.vcpus,
        memory_mb: snapshot.ram,
        root_gb: snapshot.disk,
        ephemeral_gb: snapshot.ephemeral,
        flavor: { cur: snapshot, old: null, new: null },
        image_ref: imageId,
        key_name: req.keyName,
        key_data: keyData,
        metadata: req.metadata,
        system_metadata: sysmeta,
        user_data: req.userData,
        config_drive: req.configDrive ? "True" : "",
        access_ip_v4: req.accessIPv4,
        access_ip_v6: req.accessIPv6,
        reservation_id: reservationId,
        launch_index: i,
        auto_disk_config: req.autoDiskConfig ? 1 : 0,
        progress: 0,
        root_device_name: "/dev/vda",
        locked: 0,
        locked_by: null,
        locked_reason: null,
        trusted_certs: req.trustedCerts,
        network_info: [],
        request_spec: spec,
        created_at: now,
        updated_at: now,
        launched_at: null,
        terminated_at: null,
        deleted_at: null,
        deleted: 0,
        hidden: 0,
      });
    }
    // Existing volumes are reserved for each instance (attachments), the volumes Nova makes are
    // asked of Cinder with the user's token; a failure undoes both before anything is written.
    const vops = this.volumes;
    const existingVolumes = volumeBdms.filter((b) => b.source_type === "volume").map((b) => b.uuid!);
    const reserved = await vops.reserveForCreate(existingVolumes, instances.map((i) => i.uuid));
    const madeVolumes = new Map<string, string>();
    const undo = async () => {
      for (const id of reserved.values()) await this.c.volume.attachmentDelete(id).catch(() => undefined);
      for (const id of madeVolumes.values()) await this.c.volume.deleteVolume(id).catch(() => undefined);
    };
    try {
      for (const inst of instances) {
        for (const [i, b] of volumeBdms.entries()) {
          if (b.source_type !== "volume") madeVolumes.set(`${inst.uuid}/${i}`, await vops.createVolumeFor(caller, inst.uuid, b, req.availabilityZone));
        }
      }
    } catch (e) {
      await undo();
      throw e;
    }
    try {
      await this.ops.write(async (trx) => {
        for (const inst of instances) {
          await insertInstance(trx, inst);
          if (req.tags.length > 0) await setTags(trx, inst.uuid, req.tags);
          if (groupUuid) await trx.insertInto("cmp_server_group_member").values({ instance_uuid: inst.uuid, group_uuid: groupUuid, created_at: now }).execute();
          const devices: string[] = [];
          if (!bfv) {
            devices.push("/dev/vda");
            await trx
              .insertInto("cmp_block_device_mapping")
              .values({
                uuid: newUuid(),
                instance_uuid: inst.uuid,
                boot_index: 0,
                source_type: "image",
                destination_type: "local",
                device_name: "/dev/vda",
                image_id: imageId,
                volume_id: null,
                volume_size: null,
                delete_on_termination: 1,
                tag: rootBdm?.tag ?? null,
                attachment_id: null,
                created_at: now,
              })
              .execute();
          }
          for (const [i, b] of volumeBdms.entries()) {
            const device = b.boot_index === 0 ? "/dev/vda" : b.device_name && !devices.includes(b.device_name) ? b.device_name : nextDevice(devices);
            devices.push(device);
            await trx
              .insertInto("cmp_block_device_mapping")
              .values({
                uuid: newUuid(),
                instance_uuid: inst.uuid,
                boot_index: b.boot_index,
                source_type: b.source_type,
                destination_type: "volume",
                device_name: device,
                image_id: b.source_type === "image" ? b.uuid : null,
                volume_id: b.source_type === "volume" ? b.uuid : (madeVolumes.get(`${inst.uuid}/${i}`) ?? null),
                volume_size: b.volume_size,
                delete_on_termination: b.delete_on_termination ? 1 : 0,
                tag: b.tag,
                attachment_id: b.source_type === "volume" ? (reserved.get(`${inst.uuid}/${b.uuid!}`) ?? null) : null,
                created_at: new Date(Date.parse(now) + i + 1).toISOString(),
                snapshot_id: b.source_type === "snapshot" ? b.uuid : null,
                volume_type: b.volume_type ?? null,
                connection_info: null,
              })
              .execute();
          }
          await startAction(trx, { instance_uuid: inst.uuid, action: "create", request_id: caller.requestId, project_id: caller.projectId, user_id: caller.userId }, now);
          await this.c.tasks.enqueue(BUILD_TASK, { instance_uuid: inst.uuid, request_id: caller.requestId }, 0, trx);
        }
      });
    } catch (e) {
      await undo();
      throw e;
    }
    const created = await getInstances(this.db, instances.map((i) => i.uuid));
    created.sort((a, b) => a.launch_index - b.launch_index);
    return { instances: created, reservationId, adminPass, securityGroupNames: sg.names };
  }

  /** nova.network.neutron API.validate_networks + _get_available_networks, as the user. */
  private async requestedNetworks(caller: ServerCaller, req: CreateServerRequest, admin: boolean, count: number): Promise<RequestedNetwork[]> {
    const spec = req.networks;
    if (spec === "none") return [];
    const out: RequestedNetwork[] = [];
    if (spec === undefined || spec === "auto") {
      const own = await this.c.network.listNetworks(`project_id=${encodeURIComponent(caller.projectId)}&shared=false`, caller.tokenId);
      const shared = await this.c.network.listNetworks("shared=true", caller.tokenId);
      const nets = [...own.filter((n) => n["router:external"] !== true), ...shared];
      if (nets.length === 0) {
        if (spec === "auto") throw new BadRequest(`Unable to automatically allocate a network for project ${caller.projectId}`);
        return [];
      }
      if (nets.length > 1) {
        if (spec === "auto") {
          // get-me-a-network: the project's own network wins over shared ones.
          const mine = own.filter((n) => n["router:external"] !== true);
          if (mine.length === 1) return [await this.checkNetwork(caller, mine[0]!.id, admin)];
        }
        throw new Conflict("More than one possible network found. Specify network ID(s) to select which one(s) to connect to.");
      }
      return [await this.checkNetwork(caller, nets[0]!.id, admin)];
    }
    for (const n of spec) {
      if (n.port) {
        if (count > 1) throw new BadRequest("Failed to launch instances: Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.");
        const port = await this.c.network.getPort(n.port, caller.tokenId);
        if (!port) throw new BadRequest(`Port id ${n.port} could not be found.`);
        if (port["device_id"]) throw new Conflict(`Port ${n.port} is still in use.`);
        const net = await this.c.network.getNetwork(String(port["network_id"]));
        const fixed = (port["fixed_ips"] as unknown[] | undefined) ?? [];
        if (fixed.length === 0) throw new BadRequest(`Port ${n.port} requires a FixedIP in order to be used.`);
        out.push({ network_id: String(port["network_id"]), network_name: String(net?.["name"] ?? ""), port_id: n.port, tag: n.tag ?? null });
        continue;
      }
      const r = await this.checkNetwork(caller, n.uuid!, admin);
      if (n.fixed_ip) {
        if (count > 1) throw new BadRequest("Failed to launch instances: max_count cannot be greater than 1 if an fixed_ip is specified.");
        r.fixed_ip = n.fixed_ip;
      }
      if (n.tag) r.tag = n.tag;
      out.push(r);
    }
    return out;
  }

  /**
   * neutron API validate_networks' port quota: as many instances as the project's free ports
   * allow (ports Nova must create), at least min_count, or 403 "Maximum number of ports exceeded".
   */
  private async portQuota(projectId: string, networks: RequestedNetwork[], count: number, minCount: number): Promise<number> {
    const perInstance = networks.filter((n) => n.port_id === undefined).length;
    if (perInstance === 0) return count;
    const res = await this.c.network.raw("GET", `/quotas/${encodeURIComponent(projectId)}/details`);
    if (res.status !== 200) return count;
    const port = (res.body as { quota?: { port?: { limit?: number; used?: number } } }).quota?.port;
    const limit = Number(port?.limit ?? -1);
    if (limit < 0) return count;
    const free = limit - Number(port?.used ?? 0);
    if (free >= perInstance * count) return count;
    const fits = Math.floor(Math.max(0, free) / perInstance);
    if (fits < minCount) throw new Forbidden("Maximum number of ports exceeded");
    return fits;
  }

  private async checkNetwork(caller: ServerCaller, id: string, admin: boolean): Promise<RequestedNetwork> {
    const net = await this.c.network.getNetwork(id, caller.tokenId);
    if (!net) throw new BadRequest(`Network ${id} could not be found.`);
    if (net["router:external"] === true && net["shared"] !== true && !admin) {
      throw new Forbidden(`It is not allowed to create an interface on external network ${id}`);
    }
    const subnets = (net["subnets"] as unknown[] | undefined) ?? [];
    if (subnets.length === 0) throw new BadRequest(`Network ${id} requires a subnet in order to boot instances on.`);
    return { network_id: id, network_name: String(net["name"] ?? "") };
  }

  /** Security group names (or ids) → ids, as the user sees them. */
  private async securityGroups(caller: ServerCaller, names: string[] | undefined): Promise<{ ids: string[]; names: string[] }> {
    if (!names || names.length === 0) return { ids: [], names: ["default"] };
    const ids: string[] = [];
    for (const n of names) {
      const all = await this.c.network.listSecurityGroups(`project_id=${encodeURIComponent(caller.projectId)}`, caller.tokenId);
      const byId = all.find((g) => g.id === n);
      const byName = all.filter((g) => g["name"] === n);
      if (byId) ids.push(byId.id);
      else if (byName.length === 1) ids.push(byName[0]!.id);
      else if (byName.length > 1) throw new Conflict("No Unique Match Found.");
      else throw new BadRequest(`Security group ${n} not found.`);
    }
    return { ids, names };
  }

  // ---- read ----------------------------------------------------------------------------------

  /** One page of servers (uuids in order) and the full rows of that page. */
  async list(q: ListQuery): Promise<Instance[]> {
    const needsNet = q.ip !== undefined || q.ip6 !== undefined;
    let s = this.db
      .selectFrom("cmp_instance")
      .select(["uuid", "display_name", "hostname", "availability_zone", "key_name", "created_at", "updated_at"])
      .select((eb) => (needsNet ? eb.ref("network_info") : eb.val("[]")).as("network_info"));
    if (q.projectId !== undefined) s = s.where("project_id", "=", q.projectId);
    if (q.userId !== undefined) s = s.where("user_id", "=", q.userId);
    if (q.onlyDeleted) s = s.where("deleted", "=", 1);
    else if (!q.includeDeleted) s = s.where("deleted", "=", 0);
    if (q.vmStates) s = s.where("vm_state", "in", q.vmStates.length > 0 ? q.vmStates : ["-"]);
    if (q.taskStates && q.taskStates.length > 0) {
      const named = q.taskStates.filter((t) => t !== "default");
      s = s.where((eb) => eb.or([eb("task_state", "in", named.length > 0 ? named : ["-"]), eb("task_state", "is", null)]));
    }
    if (q.image !== undefined) s = s.where("image_ref", "=", q.image);
    if (q.flavor !== undefined) s = s.where("flavor_id", "=", q.flavor);
    if (q.host !== undefined) s = s.where("host", "=", q.host);
    if (q.node !== undefined) s = s.where("node", "=", q.node);
    if (q.uuid !== undefined) s = s.where("uuid", "=", q.uuid);
    if (q.reservationId !== undefined) s = s.where("reservation_id", "=", q.reservationId);
    if (q.changesSince !== undefined) s = s.where("updated_at", ">=", q.changesSince);
    if (q.changesBefore !== undefined) s = s.where("updated_at", "<=", q.changesBefore);
    if (q.locked !== undefined) s = s.where("locked", "=", q.locked ? 1 : 0);
    if (q.configDrive !== undefined) s = s.where("config_drive", "=", q.configDrive);
    if (q.powerState !== undefined) s = s.where("power_state", "=", q.powerState);
    if (q.tags && q.tags.length > 0) {
      for (const t of q.tags) s = s.where("uuid", "in", this.db.selectFrom("cmp_instance_tag").select("instance_uuid").where("tag", "=", t));
    }
    if (q.tagsAny && q.tagsAny.length > 0) s = s.where("uuid", "in", this.db.selectFrom("cmp_instance_tag").select("instance_uuid").where("tag", "in", q.tagsAny));
    if (q.notTags && q.notTags.length > 0) {
      // Instances that do not have ALL of these tags.
      const all = this.db
        .selectFrom("cmp_instance_tag")
        .select("instance_uuid")
        .where("tag", "in", q.notTags)
        .groupBy("instance_uuid")
        .having((eb) => eb.fn.count("tag"), "=", q.notTags.length);
      s = s.where("uuid", "not in", all);
    }
    if (q.notTagsAny && q.notTagsAny.length > 0) s = s.where("uuid", "not in", this.db.selectFrom("cmp_instance_tag").select("instance_uuid").where("tag", "in", q.notTagsAny));
    for (let i = 0; i < q.sortKeys.length; i++) {
      const col = SORT_COLUMNS[q.sortKeys[i]!] ?? "created_at";
      s = s.orderBy(col as "created_at", q.sortDirs[i] ?? "desc");
    }
    s = s.orderBy("id", q.sortDirs[0] ?? "desc");
    let rows = await s.execute();
    if (q.name) rows = rows.filter((r) => q.name!.test(r.display_name));
    if (q.hostname) rows = rows.filter((r) => q.hostname!.test(r.hostname));
    if (q.availabilityZone) rows = rows.filter((r) => q.availabilityZone!.test(r.availability_zone ?? ""));
    if (q.keyName) rows = rows.filter((r) => q.keyName!.test(r.key_name ?? ""));
    if (q.ip || q.ip6) {
      rows = rows.filter((r) => {
        const vifs = JSON.parse(r.network_info) as Vif[];
        const addrs = vifs.flatMap((v) => v.fixed_ips.flatMap((f) => [{ a: f.address, v: f.version }, ...f.floating_ips.map((x) => ({ a: x, v: 4 }))]));
        return (!q.ip || addrs.some((x) => x.v === 4 && q.ip!.test(x.a))) && (!q.ip6 || addrs.some((x) => x.v === 6 && q.ip6!.test(x.a)));
      });
    }
    let start = 0;
    if (q.marker !== undefined) {
      const i = rows.findIndex((r) => r.uuid === q.marker);
      if (i < 0) throw new BadRequest(`marker [${q.marker}] not found`);
      start = i + 1;
    }
    const page = rows.slice(start, start + q.limit).map((r) => r.uuid);
    const full = await getInstances(this.db, page);
    const byId = new Map(full.map((x) => [x.uuid, x]));
    return page.map((u) => byId.get(u)!).filter((x) => x !== undefined);
  }

  /** Tags, last faults and security group names of a page of servers (one query/call each). */
  async decorations(
    instances: Instance[],
    withSecurityGroups: boolean,
  ): Promise<{ tags: Map<string, string[]>; faults: Map<string, Fault>; groups: Map<string, Array<{ name: string }>>; volumes: Map<string, Array<{ id: string; delete_on_termination: boolean }>> }> {
    const uuids = instances.map((i) => i.uuid);
    const tags = await tagsOf(this.db, uuids);
    const faulted = instances.filter((i) => i.vm_state === VM.ERROR || i.deleted).map((i) => i.uuid);
    const faults = await latestFaults(this.db, faulted);
    const groups = new Map<string, Array<{ name: string }>>();
    if (withSecurityGroups) {
      // Group ids from the network_info cache (kept in step with Neutron), names in one call per 100 ids.
      const ids = [...new Set(instances.flatMap((i) => i.network_info.flatMap((v) => v.security_groups ?? [])))];
      const names = new Map<string, string>();
      for (let i = 0; i < ids.length; i += 100) {
        const sgs = await this.c.network.listSecurityGroups(ids.slice(i, i + 100).map((id) => `id=${id}`).join("&") + "&fields=id&fields=name");
        for (const g of sgs) names.set(g.id, String(g["name"]));
      }
      for (const inst of instances) {
        const list: Array<{ name: string }> = [];
        for (const v of inst.network_info) {
          for (const id of v.security_groups ?? []) {
            const name = names.get(id);
            if (name !== undefined && !list.some((x) => x.name === name)) list.push({ name });
          }
        }
        groups.set(inst.uuid, list);
      }
    }
    const volumes = await this.volumes.attachedVolumes(uuids);
    return { tags, faults, groups, volumes };
  }

  /**
   * Floating IPs of a page of servers from Neutron (one call per 100 ports), written into their
   * network_info: Neutron tells real Nova about associations with network-changed events, so
   * lists show a floating IP as soon as it is associated; here a list asks.
   */
  async withFloatingIps(instances: Instance[]): Promise<Instance[]> {
    const ports = instances.flatMap((i) => i.network_info.map((v) => v.port_id));
    if (ports.length === 0) return instances;
    const fips: Array<Record<string, unknown>> = [];
    for (let i = 0; i < ports.length; i += 100) {
      fips.push(...(await this.c.network.listFloatingIps(ports.slice(i, i + 100).map((p) => `port_id=${p}`).join("&") + "&fields=port_id&fields=fixed_ip_address&fields=floating_ip_address")));
    }
    return instances.map((inst) => {
      let changed = false;
      const vifs = inst.network_info.map((v) => ({
        ...v,
        fixed_ips: v.fixed_ips.map((f) => {
          const now = fips.filter((x) => x["port_id"] === v.port_id && x["fixed_ip_address"] === f.address).map((x) => String(x["floating_ip_address"]));
          if (now.join() !== f.floating_ips.join()) changed = true;
          return { ...f, floating_ips: now };
        }),
      }));
      return changed ? { ...inst, network_info: vifs } : inst;
    });
  }

  /**
   * Refresh the network_info cache from Neutron (ports and their floating IPs), as Nova's
   * network-changed events and heal task keep it; returns the instance as refreshed.
   */
  async refreshNetworkInfo(inst: Instance): Promise<Instance> {
    if (inst.deleted || !inst.host) return inst;
    const ports = await this.c.network.listPorts(`device_id=${inst.uuid}`);
    if (ports.length === 0 && inst.network_info.length === 0) return inst;
    const fips = ports.length > 0 ? await this.c.network.listFloatingIps(ports.map((p) => `port_id=${p.id}`).join("&")) : [];
    const names = new Map(inst.network_info.map((v) => [v.network_id, v.network_label]));
    const vifs: Vif[] = [];
    for (const p of ports) {
      let label = names.get(String(p["network_id"]));
      if (label === undefined) {
        const net = await this.c.network.getNetwork(String(p["network_id"]));
        label = String(net?.["name"] ?? "");
        names.set(String(p["network_id"]), label);
      }
      const old = inst.network_info.find((v) => v.port_id === p.id);
      const vif = vifOf(p, label, old?.preexisting ?? false, old?.tag ?? null);
      for (const f of vif.fixed_ips) {
        f.floating_ips = fips.filter((x) => x["port_id"] === p.id && x["fixed_ip_address"] === f.address).map((x) => String(x["floating_ip_address"]));
      }
      vifs.push(vif);
    }
    // Keep the cache's order (the boot order of the NICs), new ports last.
    vifs.sort((a, b) => orderOf(inst.network_info, a.port_id) - orderOf(inst.network_info, b.port_id));
    if (JSON.stringify(vifs) !== JSON.stringify(inst.network_info)) {
      await updateInstance(this.db, inst.uuid, { network_info: vifs }, inst.updated_at);
      return { ...inst, network_info: vifs };
    }
    return inst;
  }

  /** 2.16 host_status (compute API get_instance_host_status): UP, DOWN, MAINTENANCE, UNKNOWN or "". */
  async hostStatus(inst: Instance): Promise<string> {
    if (!inst.host) return "";
    const h = await this.c.hosts.byName(inst.host);
    if (!h) return "UNKNOWN";
    // forced_down → DOWN, then disabled → MAINTENANCE, then alive → UP, else UNKNOWN (no heartbeat).
    if (!h.up) return this.c.driver.isUp(h.name) ? "DOWN" : "UNKNOWN";
    if (h.disabled) return "MAINTENANCE";
    return "UP";
  }

  /** 2.71: the server group the instance is in ([] or [uuid]). */
  async serverGroupsOf(uuid: string): Promise<string[]> {
    const r = await this.db.selectFrom("cmp_server_group_member").select("group_uuid").where("instance_uuid", "=", uuid).executeTakeFirst();
    return r ? [r.group_uuid] : [];
  }

  // ---- metadata and tags ------------------------------------------------------------------

  /**
   * compute API update_instance_metadata (@check_instance_lock, @check_instance_state: active,
   * paused, suspended, stopped; no task): merge (or replace with `replace`), metadata_items quota.
   */
  async updateMetadata(caller: ServerCaller, inst: Instance, meta: Record<string, string>, replace: boolean, apiAction = "update metadata"): Promise<Record<string, string>> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, apiAction, { vmState: [VM.ACTIVE, VM.PAUSED, VM.SUSPENDED, VM.STOPPED], taskState: [null] });
    const merged = replace ? { ...meta } : { ...inst.metadata, ...meta };
    const limit = (await this.c.quotas.limits(inst.project_id, inst.user_id))["metadata_items"] ?? -1;
    if (limit >= 0 && Object.keys(merged).length > limit) throw new Forbidden(`Maximum number of metadata items exceeds ${limit}`);
    await updateInstance(this.db, inst.uuid, { metadata: merged }, this.ops.now());
    return merged;
  }

  async deleteMetadataKey(caller: ServerCaller, inst: Instance, key: string): Promise<void> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "delete metadata", { vmState: [VM.ACTIVE, VM.PAUSED, VM.SUSPENDED, VM.STOPPED], taskState: [null] });
    const m = { ...inst.metadata };
    delete m[key];
    await updateInstance(this.db, inst.uuid, { metadata: m }, this.ops.now());
  }

  async tags(uuid: string): Promise<string[]> {
    return (await tagsOf(this.db, [uuid])).get(uuid) ?? [];
  }

  /** server_tags.py _check_instance_in_valid_state. */
  checkTaggable(inst: Instance, action: string): void {
    this.ops.checkState(inst, action, { vmState: [VM.ACTIVE, VM.PAUSED, VM.SUSPENDED, VM.STOPPED], taskState: null, mustHaveLaunched: false });
  }

  async setTags(uuid: string, tags: string[]): Promise<void> {
    await this.ops.write(async (trx) => {
      await setTags(trx, uuid, tags);
      await updateInstance(trx, uuid, {}, this.ops.now());
    });
  }

  /** Add one tag; false when it was there already. The 50-tag limit is checked under the transaction. */
  async addTag(uuid: string, tag: string): Promise<boolean> {
    return this.ops.write(async (trx) => {
      const have = (await tagsOf(trx, [uuid])).get(uuid) ?? [];
      if (have.includes(tag)) return false;
      if (have.length >= 50) throw new BadRequest("The number of tags exceeded the per-server limit 50");
      await trx.insertInto("cmp_instance_tag").values({ instance_uuid: uuid, tag }).execute();
      await updateInstance(trx, uuid, {}, this.ops.now());
      return true;
    });
  }

  async deleteTag(uuid: string, tag: string): Promise<boolean> {
    const r = await this.db.deleteFrom("cmp_instance_tag").where("instance_uuid", "=", uuid).where("tag", "=", tag).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ---- interfaces ------------------------------------------------------------------------------

  /**
   * compute API attach_interface (active, paused or stopped; no task): a port created on the
   * network (optionally with the fixed IP) or the user's port, bound to the instance's host,
   * then the driver's attach; the network_info cache follows.
   */
  async attachInterface(caller: ServerCaller, inst: Instance, req: { netId?: string; portId?: string; fixedIp?: string; tag?: string | null }): Promise<Record<string, unknown> & { id: string }> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "attach_interface", { vmState: [VM.ACTIVE, VM.PAUSED, VM.STOPPED], taskState: [null] });
    const host = inst.host!;
    const owner = `compute:${inst.availability_zone ?? this.c.config.defaultAvailabilityZone}`;
    let port: Record<string, unknown> & { id: string };
    let preexisting = false;
    let label: string;
    if (req.portId) {
      const p = await this.c.network.getPort(req.portId, caller.tokenId);
      if (!p) throw new NotFound(`Port id ${req.portId} could not be found.`);
      if (p["device_id"]) throw new Conflict(`Port ${req.portId} is still in use.`);
      const net = await this.c.network.getNetwork(String(p["network_id"]));
      label = String(net?.["name"] ?? "");
      port = await this.c.network.updatePort(req.portId, { device_id: inst.uuid, device_owner: owner, "binding:host_id": host });
      preexisting = true;
    } else {
      let netId = req.netId;
      if (!netId) {
        const nets = await this.requestedNetworks(caller, { networks: undefined } as CreateServerRequest, caller.admin, 1);
        if (nets.length === 0) throw new BadRequest("No network(s) available to attach to.");
        netId = nets[0]!.network_id;
      }
      const net = await this.c.network.getNetwork(netId, caller.tokenId);
      if (!net) throw new NotFound(`Network ${netId} could not be found.`);
      label = String(net["name"] ?? "");
      const body: Record<string, unknown> = { network_id: netId, project_id: inst.project_id, device_id: inst.uuid, device_owner: owner, "binding:host_id": host };
      if (req.fixedIp) body["fixed_ips"] = [{ ip_address: req.fixedIp }];
      const res = await this.c.network.createPort(body);
      if (res.status !== 201) {
        const msg = (res.body as { NeutronError?: { message?: string; type?: string } })?.NeutronError;
        if (res.status === 409 && msg?.type === "IpAddressAlreadyAllocated") throw new Conflict(`Fixed IP address ${req.fixedIp} is already in use on instance ${inst.uuid}.`);
        if (res.status === 409) throw new BadRequest(`Zero fixed IPs available.`);
        throw new BadRequest(msg?.message ?? `Failed to attach network adapter device to ${inst.uuid}`);
      }
      port = (res.body as { port: Record<string, unknown> & { id: string } }).port;
    }
    try {
      await this.ops.perform("attach_interface", host, inst.uuid);
    } catch (e) {
      if (!(e instanceof DriverFailure)) throw e;
      if (preexisting) await this.c.network.updatePort(port.id, { device_id: "", device_owner: "", "binding:host_id": "" });
      else await this.c.network.deletePort(port.id);
      throw new InternalErrorWithMessage(`Failed to attach network adapter device to ${inst.uuid}`);
    }
    const fresh = (await getInstance(this.db, inst.uuid))!;
    await updateInstance(this.db, inst.uuid, { network_info: [...fresh.network_info, vifOf(port, label, preexisting, req.tag ?? null)] }, this.ops.now());
    return port;
  }

  async detachInterface(caller: ServerCaller, inst: Instance, portId: string): Promise<void> {
    this.ops.checkLock(inst, caller);
    this.ops.checkState(inst, "detach_interface", { vmState: [VM.ACTIVE, VM.PAUSED, VM.STOPPED], taskState: [null] });
    const port = await this.c.network.getPort(portId);
    if (!port || port["device_id"] !== inst.uuid) throw new NotFound(`Port ${portId} is not attached`);
    if (inst.host) {
      try {
        await this.ops.perform("detach_interface", inst.host, inst.uuid);
      } catch (e) {
        if (!(e instanceof DriverFailure)) throw e;
      }
    }
    const vif = inst.network_info.find((v) => v.port_id === portId);
    const given = vif?.preexisting ?? ((inst.request_spec.networks ?? []) as RequestedNetwork[]).some((n) => n.port_id === portId);
    if (given) await this.c.network.updatePort(portId, { device_id: "", device_owner: "", "binding:host_id": "" });
    else await this.c.network.deletePort(portId);
    const fresh = (await getInstance(this.db, inst.uuid))!;
    await updateInstance(this.db, inst.uuid, { network_info: fresh.network_info.filter((v) => v.port_id !== portId) }, this.ops.now());
  }

  // ---- update / delete ---------------------------------------------------------------------------

  async update(inst: Instance, patch: { name?: string; description?: string | null; hostname?: string; accessIPv4?: string; accessIPv6?: string; autoDiskConfig?: boolean }): Promise<Instance> {
    const p: Parameters<typeof updateInstance>[2] = {};
    if (patch.name !== undefined) p.display_name = patch.name;
    if (patch.description !== undefined) p.display_description = patch.description;
    if (patch.hostname !== undefined) p.hostname = patch.hostname;
    if (patch.accessIPv4 !== undefined) p.access_ip_v4 = patch.accessIPv4;
    if (patch.accessIPv6 !== undefined) p.access_ip_v6 = patch.accessIPv6;
    if (patch.autoDiskConfig !== undefined) p.auto_disk_config = patch.autoDiskConfig;
    await updateInstance(this.db, inst.uuid, p, this.ops.now());
    return (await getInstance(this.db, inst.uuid))!;
  }

  /**
   * DELETE /servers/{id} (compute API delete): an instance on an answering host is destroyed
   * by a task after the driver's latency (task_state deleting); one without a host (never
   * scheduled, or the build failed) or on a host that is down is deleted at once ("local delete").
   */
  async delete(caller: ServerCaller, inst: Instance): Promise<void> {
    this.ops.checkLock(inst, caller);
    if (inst.task_state === "deleting") return;
    // A shelved server's snapshot image goes with it (compute/api.py _delete: image_api.delete
    // of system_metadata.shelved_image_id, a missing image only logged).
    const shelvedImage = inst.system_metadata["shelved_image_id"];
    if ((inst.vm_state === VM.SHELVED || inst.vm_state === VM.SHELVED_OFFLOADED) && shelvedImage) {
      await this.c.image.deleteImage(shelvedImage).catch((e: unknown) => this.c.log.warn({ err: e, instance: inst.uuid }, "failed to delete the snapshot of a shelved instance"));
    }
    const host = inst.host ? await this.c.hosts.byName(inst.host) : undefined;
    if (!inst.host || !host || !host.up) {
      const now = this.ops.now();
      await this.ops.write(async (trx) => {
        await startAction(trx, { instance_uuid: inst.uuid, action: "delete", request_id: caller.requestId, project_id: caller.projectId, user_id: caller.userId }, now);
        await updateInstance(trx, inst.uuid, { task_state: "deleting" }, now);
      });
      await this.terminate({ ...inst, task_state: "deleting" }, caller.requestId, { skipDriver: true });
      return;
    }
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      // Nova's delete runs over any vm_state and task_state (check_instance_state(vm_state=None,
      // task_state=None)): only a row that is already gone stops it.
      const moved = await updateInstance(trx, inst.uuid, { task_state: "deleting" }, now, { deleted: false });
      if (!moved) throw new NotFound(`Instance ${inst.uuid} could not be found.`);
      await startAction(trx, { instance_uuid: inst.uuid, action: "delete", request_id: caller.requestId, project_id: caller.projectId, user_id: caller.userId }, now);
      await this.c.tasks.enqueue(DELETE_TASK, { instance_uuid: inst.uuid, request_id: caller.requestId }, this.c.driver.latency("destroy"), trx);
    });
  }

  /** The delete task (and local delete): destroy, network, allocations, then the row is marked deleted. */
  private async terminate(inst: Instance, requestId: string, opts: { skipDriver?: boolean } = {}): Promise<void> {
    if (inst.deleted) return;
    if (inst.host && !opts.skipDriver) {
      try {
        await this.ops.perform("destroy", inst.host, inst.uuid);
      } catch (e) {
        if (!(e instanceof DriverFailure)) throw e;
        // A host that stopped answering: delete locally as Nova's API does for a down service.
      }
    }
    await this.builds.releaseNetwork(inst);
    // _shutdown_instance + _cleanup_volumes: attachments deleted, delete_on_termination volumes deleted.
    await this.volumes.cleanup(inst);
    await this.scheduler.release(inst.uuid);
    // A server deleted in VERIFY_RESIZE or mid-move: the migration's hold on the source goes too.
    await releaseMoveAllocations(this.c, inst.uuid);
    const now = this.ops.now();
    await this.ops.write(async (trx) => {
      await updateInstance(trx, inst.uuid, { vm_state: VM.DELETED, task_state: null, power_state: POWER.NOSTATE, terminated_at: now, deleted_at: now, deleted: true }, now);
      await trx.deleteFrom("cmp_server_group_member").where("instance_uuid", "=", inst.uuid).execute();
    });
    await this.ops.event(inst.uuid, requestId, "compute_terminate_instance", inst.host, "Success");
  }
}


/** The next free /dev/vdX (libvirt's get_next_device_name); the names taken are added to by the caller. */
function nextDevice(taken: string[]): string {
  for (let i = 1; ; i++) {
    let n = i;
    let suffix = "";
    do {
      suffix = String.fromCharCode(97 + (n % 26)) + suffix;
      n = Math.floor(n / 26) - 1;
    } while (n >= 0);
    const d = `/dev/vd${suffix}`;
    if (!taken.includes(d)) return d;
  }
}

function orderOf(vifs: Vif[], portId: string): number {
  const i = vifs.findIndex((v) => v.port_id === portId);
  return i < 0 ? Number.MAX_SAFE_INTEGER : i;
}

/** nova InterfaceAttachFailed → 500 with its message (not the generic one). */
class InternalErrorWithMessage extends CloudError {
  constructor(message: string) {
    super(500, message);
  }
}
