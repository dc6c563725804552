import { BadRequest, CloudError, NotFound } from "../../../common/errors.js";
import { uuid } from "../../../common/ids.js";
import type { Volume } from "../api/deps.js";
import type { AttachmentRow, VolumeRow, VolumeTrx, VQ } from "../store/tables.js";

/** Who asks, as the attachment manager needs it (the handler has enforced policy). */
export interface AttachCaller {
  projectId: string;
  /** context.is_admin: sees every project's volumes and attachments. */
  admin: boolean;
  /** A service token (role service): Nova's calls, which may delete attachments it uses (Bug #2004555). */
  service: boolean;
}

/** exception.InvalidVolume: 400 "Invalid volume: <reason>". */
export class InvalidVolume extends BadRequest {
  constructor(reason: string) {
    super(`Invalid volume: ${reason}`);
  }
}

/** A webob HTTPInternalServerError the controller raises on purpose (its explanation is the message). */
export class AttachmentServerError extends CloudError {
  constructor(message: string) {
    super(500, message);
  }
}

/** exception.ConflictNovaUsingAttachment (409). */
export class ConflictNovaUsingAttachment extends CloudError {
  constructor(instanceId: string) {
    super(409, `Detach volume from instance ${instanceId} using the Compute API`);
  }
}

/** utils.build_or_str. */
function orStr(xs: readonly string[]): string {
  return xs.join(" or ");
}

/** db ATTACH_STATUS_MAP: the volume status an attach_status implies. */
const ATTACH_STATUS_MAP: Record<string, string> = { attached: "in-use", detached: "available" };

function json<T>(s: string | null | undefined, dflt: T): T {
  if (!s) return dflt;
  try {
    return JSON.parse(s) as T;
  } catch {
    return dflt;
  }
}

/** An attachment's connection_info ({} when not connected). */
export function connectionInfoOf(a: AttachmentRow): Record<string, unknown> {
  return json<Record<string, unknown>>(a.connection_info, {});
}

function hasConnection(a: AttachmentRow): boolean {
  return Object.keys(connectionInfoOf(a)).length > 0;
}

/**
 * Attachments (cinder/volume/api.py attachment_* and the legacy reserve/attach/detach family,
 * volume/manager.py attach_volume/detach_volume/attachment_update/_connection_create and
 * db volume_attached/volume_detached). Every status change happens in one transaction with the
 * volume's row lock, so two attaches racing for one volume cannot both reserve it.
 */
export class AttachmentManager {
  constructor(private readonly v: Volume) {}

  private get db() {
    return this.v.core.db;
  }

  /** volume_api.get: another project's volume is not found for a non-admin. */
  async volume(caller: AttachCaller, id: string, q: VQ = this.db, lock = false): Promise<VolumeRow> {
    const row = await this.v.core.volume(q, id, lock);
    if (!row || (!caller.admin && row.project_id !== caller.projectId)) throw new NotFound(`Volume ${id} could not be found.`);
    return row;
  }

  /** VolumeAttachment.get_by_id, limited to the caller's project's volumes unless admin. */
  async attachment(caller: AttachCaller, id: string, q: VQ = this.db): Promise<{ att: AttachmentRow; vol: VolumeRow }> {
    const att = await q.selectFrom("vol_attachment").selectAll().where("id", "=", id).executeTakeFirst();
    const vol = att ? await this.v.core.volume(q, att.volume_id) : undefined;
    if (!att || !vol || (!caller.admin && vol.project_id !== caller.projectId)) {
      throw new NotFound(`Volume attachment could not be found with filter: attachment_id = ${id}.`);
    }
    return { att, vol };
  }

  async attachmentsOf(q: VQ, volumeId: string): Promise<AttachmentRow[]> {
    return q.selectFrom("vol_attachment").selectAll().where("volume_id", "=", volumeId).orderBy("created_at").orderBy("id").execute();
  }

  async list(
    caller: AttachCaller,
    opts: {
      allTenants: boolean;
      filters: { volume_id?: string; instance_uuid?: string; attach_status?: string };
      marker?: string | undefined;
      limit: number;
      offset: number;
      sortKeys: string[];
      sortDirs: Array<"asc" | "desc">;
    },
  ): Promise<AttachmentRow[]> {
    let q = this.db.selectFrom("vol_attachment as a").innerJoin("vol_volume as v", "v.id", "a.volume_id").selectAll("a");
    if (!(caller.admin && opts.allTenants)) q = q.where("v.project_id", "=", caller.projectId);
    if (opts.filters.volume_id !== undefined) q = q.where("a.volume_id", "=", opts.filters.volume_id);
    if (opts.filters.instance_uuid !== undefined) q = q.where("a.instance_uuid", "=", opts.filters.instance_uuid);
    if (opts.filters.attach_status !== undefined) q = q.where("a.attach_status", "=", opts.filters.attach_status);
    const col = (k: string) => `a.${k}` as "a.created_at";
    if (opts.marker !== undefined) {
      const m = await this.db.selectFrom("vol_attachment").selectAll().where("id", "=", opts.marker).executeTakeFirst();
      if (!m) throw new NotFound(`Marker ${opts.marker} could not be found.`);
      // Keyset on the first sort key then id (ties broken by id as Cinder's paginate_query does).
      const k = opts.sortKeys[0]!;
      const dir = opts.sortDirs[0]!;
      const mv = (m as unknown as Record<string, string | null>)[k] ?? "";
      q = q.where((eb) =>
        eb.or([eb(col(k), dir === "asc" ? ">" : "<", mv), eb.and([eb(col(k), "=", mv), eb("a.id", dir === "asc" ? ">" : "<", m.id)])]),
      );
    }
    opts.sortKeys.forEach((k, i) => {
      q = q.orderBy(col(k), opts.sortDirs[i]!);
    });
    q = q.orderBy("a.id", opts.sortDirs[0] ?? "desc");
    return q.limit(opts.limit).offset(opts.offset).execute();
  }

  // ---- v3 attachments (3.27+) ------------------------------------------------------------------

  /** volume_api.attachment_create: reserve, and connect at once when a connector is given. */
  async create(caller: AttachCaller, volumeId: string, instanceUuid: string | null, connector: Record<string, unknown> | null, mode: string | undefined): Promise<AttachmentRow> {
    const id = await this.v.core.write(async (trx) => {
      const vol = await this.volume(caller, volumeId, trx, true);
      if (vol.status.includes("error")) {
        throw new InvalidVolume(
          `Volume attachments can not be created if the volume is in an error state. The Volume ${vol.id} currently has a status of: ${vol.status} `,
        );
      }
      const multi = Number(vol.multiattach) === 1;
      const expected = multi ? ["available", "in-use", "downloading"] : ["available", "downloading"];
      if (!(await this.v.core.casVolume(trx, vol.id, expected, { status: "reserved" }))) {
        // The same instance attaching again (a move between hosts) may reserve anyway (LP 1694530).
        let override = false;
        if (instanceUuid && (vol.status === "in-use" || vol.status === "reserved")) {
          override = (await this.attachmentsOf(trx, vol.id)).some((a) => a.instance_uuid === instanceUuid);
        }
        if (!override) throw new InvalidVolume(`Volume ${vol.id} status must be ${orStr(expected)} to reserve, but the current status is ${vol.status}.`);
      }
      const now = this.v.core.now();
      const attId = uuid();
      await trx
        .insertInto("vol_attachment")
        .values({
          id: attId,
          volume_id: vol.id,
          instance_uuid: instanceUuid,
          attached_host: null,
          mountpoint: null,
          attach_mode: "null",
          attach_status: "reserved",
          connector: null,
          connection_info: null,
          attach_time: null,
          detach_time: null,
          created_at: now,
          updated_at: null,
        })
        .execute();
      let info: Record<string, unknown> = {};
      if (connector) info = await this.connect(trx, vol, attId, connector, "null");
      // Read-only through admin metadata (deprecated) wins over the mode argument.
      const readonly = json<Record<string, string>>(vol.admin_metadata, {})["readonly"];
      const attachMode = readonly === "True" ? "ro" : (mode ?? "null");
      await trx.updateTable("vol_attachment").set({ connection_info: JSON.stringify(info), attach_mode: attachMode, updated_at: now }).where("id", "=", attId).execute();
      return attId;
    });
    return (await this.db.selectFrom("vol_attachment").selectAll().where("id", "=", id).executeTakeFirstOrThrow());
  }

  /**
   * manager._connection_create + attachment_update + db.volume_attached(mark_attached=False):
   * the driver's connection info (with attachment_id), the attachment and the volume attaching.
   */
  private async connect(trx: VolumeTrx, vol: VolumeRow, attId: string, connector: Record<string, unknown>, attachMode: string): Promise<Record<string, unknown>> {
    let mode = typeof connector["mode"] === "string" ? (connector["mode"] as string) : "rw";
    const conn = { ...connector };
    if (attachMode !== "null") {
      mode = attachMode;
      conn["mode"] = mode;
    }
    const info = this.connectionInfo(vol, conn, mode);
    info["attachment_id"] = attId;
    const now = this.v.core.now();
    const host = typeof conn["host"] === "string" ? (conn["host"] as string) : "";
    const mountpoint = typeof conn["mountpoint"] === "string" ? (conn["mountpoint"] as string) : "na";
    await trx
      .updateTable("vol_attachment")
      .set({ attach_status: "attaching", connector: JSON.stringify(conn), mountpoint, attached_host: host, attach_time: now, attach_mode: mode, updated_at: now })
      .where("id", "=", attId)
      .execute();
    await this.v.core.setVolume(trx, vol.id, { status: "attaching", attach_status: "attaching" });
    return info;
  }

  /**
   * initialize_connection as the manager returns it: the driver's info flattened with its data
   * (manager._parse_connection_options adds qos_specs, access_mode, encrypted, discard).
   */
  private connectionInfo(vol: VolumeRow, connector: Record<string, unknown>, mode: string): Record<string, unknown> {
    const ci = this.v.driver.initializeConnection(vol.backend ?? "", vol.id, connector);
    const data: Record<string, unknown> = { ...ci.data, qos_specs: null, access_mode: mode, encrypted: Number(vol.encrypted) === 1, discard: false };
    return { ...data, driver_volume_type: ci.driver_volume_type, data };
  }

  /** volume_api.attachment_update (PUT /attachments/{id}): connect a reserved attachment. */
  async update(caller: AttachCaller, attachmentId: string, connector: Record<string, unknown>): Promise<AttachmentRow> {
    await this.v.core.write(async (trx) => {
      const { att } = await this.attachment(caller, attachmentId, trx);
      const vol = await this.volume({ ...caller, admin: true }, att.volume_id, trx, true);
      if (vol.status.includes("error")) {
        throw new AttachmentServerError(
          `Unable to update attachment.(Invalid volume: Volume attachments can not be updated if the volume is in an error state. The Volume ${vol.id} currently has a status of: ${vol.status} ).`,
        );
      }
      const all = await this.attachmentsOf(trx, vol.id);
      if (all.length > 1 && Number(vol.multiattach) !== 1) {
        const hosts = new Set(all.filter(hasConnection).map((a) => json<Record<string, unknown>>(a.connector, {})["host"]));
        if (hosts.size > 0) throw new AttachmentServerError(`Unable to update attachment.(Invalid volume: duplicate connectors detected on volume ${vol.id}).`);
      }
      const info = await this.connect(trx, vol, att.id, connector, att.attach_mode);
      await trx.updateTable("vol_attachment").set({ connection_info: JSON.stringify(info) }).where("id", "=", att.id).execute();
    });
    return (await this.db.selectFrom("vol_attachment").selectAll().where("id", "=", attachmentId).executeTakeFirstOrThrow());
  }

  /** POST /attachments/{id}/action os-complete (3.44): attached, volume in-use. */
  async complete(caller: AttachCaller, attachmentId: string): Promise<void> {
    await this.v.core.write(async (trx) => {
      const { att } = await this.attachment(caller, attachmentId, trx);
      const now = this.v.core.now();
      await trx.updateTable("vol_attachment").set({ attach_status: "attached", updated_at: now }).where("id", "=", att.id).execute();
      await this.v.core.setVolume(trx, att.volume_id, { status: "in-use", attach_status: "attached" });
    });
  }

  /** volume_api.attachment_delete: the attachment goes, the volume's status follows the rest. */
  async delete(caller: AttachCaller, attachmentId: string): Promise<AttachmentRow[]> {
    const first = await this.attachment(caller, attachmentId);
    await this.deletionAllowed(caller, first.att);
    return this.v.core.write(async (trx) => {
      const { vol } = await this.attachment(caller, attachmentId, trx);
      await this.v.core.volume(trx, vol.id, true);
      await this.finishDetach(trx, vol.id, attachmentId);
      return this.attachmentsOf(trx, vol.id);
    });
  }

  /**
   * attachment_deletion_allowed (Bug #2004555): a user may not pull an attachment from under a
   * server Nova connected it to; Nova's own calls (service token) may. As Cinder, Nova is
   * asked which attachment the server uses for the volume (GET os-volume_attachments): a
   * server or attachment Nova does not know is deleted locally.
   */
  private async deletionAllowed(caller: AttachCaller, att: AttachmentRow | undefined, volumeHasNone = false): Promise<void> {
    if (caller.service) return;
    if (!att) {
      if (volumeHasNone) return;
      throw new ConflictNovaUsingAttachment("");
    }
    if (!att.instance_uuid || !hasConnection(att)) return;
    const novaAttachment = this.v.nova ? await this.v.nova.serverVolumeAttachmentId(att.instance_uuid, att.volume_id) : undefined;
    if (novaAttachment !== att.id) return;
    throw new ConflictNovaUsingAttachment(att.instance_uuid);
  }

  /** The check for a volume's attachments: the one named, or the only one (several, unnamed: refused). */
  private async deletionAllowedOf(caller: AttachCaller, all: AttachmentRow[], attachmentId: string | null): Promise<void> {
    if (attachmentId) return this.deletionAllowed(caller, all.find((a) => a.id === attachmentId));
    if (all.length === 1) return this.deletionAllowed(caller, all[0]);
    return this.deletionAllowed(caller, undefined, all.length === 0);
  }

  /** db.volume_detached + finish_detach: delete the attachment, recompute the volume's status. */
  private async finishDetach(trx: VolumeTrx, volumeId: string, attachmentId: string | null): Promise<void> {
    if (attachmentId) await trx.deleteFrom("vol_attachment").where("id", "=", attachmentId).execute();
    const vol = await this.v.core.volume(trx, volumeId);
    if (!vol) return;
    const rest = (await this.attachmentsOf(trx, volumeId)).map((a) => a.attach_status).filter((s) => !s.startsWith("error_"));
    rest.sort();
    const attachStatus = rest[0] ?? "detached";
    const status = ATTACH_STATUS_MAP[attachStatus] ?? attachStatus;
    const admin = json<Record<string, string>>(vol.admin_metadata, {});
    delete admin["attached_mode"];
    const patch: Partial<VolumeRow> = { attach_status: attachStatus, admin_metadata: JSON.stringify(admin) };
    if (attachStatus !== "detached" || (!vol.migration_status && vol.status !== "uploading") || vol.migration_status === "success" || vol.migration_status === "error") {
      patch.status = status;
    }
    await this.v.core.setVolume(trx, volumeId, patch);
  }

  /**
   * After an attached volume was extended (volume manager extend_volume, 3.42): Nova hears of
   * it through the volume-extended external event for each server the volume is attached to.
   */
  async volumeExtended(volumeId: string): Promise<void> {
    if (!this.v.nova) return;
    const servers = (await this.attachmentsOf(this.db, volumeId)).filter((a) => a.attach_status === "attached" && a.instance_uuid).map((a) => a.instance_uuid!);
    try {
      await this.v.nova.volumeExtended([...new Set(servers)], volumeId);
    } catch (e) {
      this.v.log.warn({ volume: volumeId, err: (e as Error).message }, "volume-extended event not delivered");
    }
  }

  // ---- legacy volume actions -------------------------------------------------------------------

  /** os-reserve (reserve_volume): available (or in-use for multiattach) → attaching. */
  async reserve(caller: AttachCaller, volumeId: string): Promise<void> {
    await this.v.core.write(async (trx) => {
      const vol = await this.volume(caller, volumeId, trx, true);
      const multi = Number(vol.multiattach) === 1;
      const expected = multi ? ["available", "in-use"] : ["available"];
      if (!(await this.v.core.casVolume(trx, vol.id, expected, { status: "attaching" }))) {
        throw new InvalidVolume(`Volume status must be ${orStr(expected)} to reserve, but the status is ${vol.status}.`);
      }
    });
  }

  /** os-unreserve: attaching → in-use when attached somewhere, else available; nothing to do otherwise. */
  async unreserve(caller: AttachCaller, volumeId: string, q?: VolumeTrx): Promise<void> {
    const run = async (trx: VolumeTrx) => {
      const vol = await this.volume(caller, volumeId, trx, true);
      if (vol.status !== "attaching") return;
      const attached = (await this.attachmentsOf(trx, vol.id)).some((a) => a.attach_status === "attached");
      await this.v.core.casVolume(trx, vol.id, ["attaching"], { status: attached ? "in-use" : "available" });
    };
    if (q) await run(q);
    else await this.v.core.write(run);
  }

  /** os-begin_detaching: in-use and attached → detaching. */
  async beginDetaching(caller: AttachCaller, volumeId: string): Promise<void> {
    await this.v.core.write(async (trx) => {
      const vol = await this.volume(caller, volumeId, trx, true);
      const migrating = vol.migration_status !== null && !["success", "error"].includes(vol.migration_status);
      const ok =
        vol.status === "in-use" && vol.attach_status === "attached" && !migrating && (await this.v.core.casVolume(trx, vol.id, ["in-use"], { status: "detaching" }));
      if (!ok && !migrating) throw new InvalidVolume("Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.");
    });
  }

  /** os-roll_detaching: detaching → in-use (no-op otherwise). */
  async rollDetaching(caller: AttachCaller, volumeId: string): Promise<void> {
    await this.v.core.write(async (trx) => {
      const vol = await this.volume(caller, volumeId, trx, true);
      await this.v.core.casVolume(trx, vol.id, ["detaching"], { status: "in-use" });
    });
  }

  /** os-attach (volume_api.attach + manager.attach_volume): an attachment attached at once. */
  async attach(caller: AttachCaller, volumeId: string, req: { instanceUuid: string | null; hostName: string | null; mountpoint: string; mode: string }): Promise<void> {
    await this.v.core.write(async (trx) => {
      const vol = await this.volume(caller, volumeId, trx, true);
      if (vol.status === "maintenance") throw new InvalidVolume("The volume cannot be attached in maintenance mode.");
      const admin = json<Record<string, string>>(vol.admin_metadata, {});
      if (admin["readonly"] === undefined) admin["readonly"] = "False";
      if (admin["readonly"] === "True" && req.mode !== "ro") throw new BadRequest(`Invalid attaching mode '${req.mode}' for volume ${vol.id}.`);
      const remote = (reason: string) => new BadRequest(`Error attaching volume - InvalidVolume: Invalid volume: ${reason}`);
      if (vol.status === "attaching" && admin["attached_mode"] && admin["attached_mode"] !== req.mode) throw remote("being attached by different mode");
      const host = req.hostName ? req.hostName.replace(/[^\w.-]/g, "-") : null;
      const all = await this.attachmentsOf(trx, vol.id);
      const same = all.find((a) => (req.instanceUuid ? a.instance_uuid === req.instanceUuid : a.attached_host === host));
      if (same) {
        await this.v.core.setVolume(trx, vol.id, { status: "in-use", admin_metadata: JSON.stringify(admin) });
        return;
      }
      if (vol.status === "in-use" && Number(vol.multiattach) !== 1 && !vol.migration_status) {
        throw remote("volume is already attached and multiple attachments are not enabled");
      }
      const now = this.v.core.now();
      admin["attached_mode"] = req.mode;
      await trx
        .insertInto("vol_attachment")
        .values({
          id: uuid(),
          volume_id: vol.id,
          instance_uuid: req.instanceUuid,
          attached_host: host,
          mountpoint: req.mountpoint,
          attach_mode: req.mode,
          attach_status: "attached",
          connector: null,
          connection_info: null,
          attach_time: now,
          detach_time: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await this.v.core.setVolume(trx, vol.id, { status: "in-use", attach_status: "attached", admin_metadata: JSON.stringify(admin) });
    });
  }

  /**
   * os-detach / the detach half of os-force_detach (manager.detach_volume): the attachment
   * named, or the only one; `prefix` words the 400 as the controller does.
   */
  async detach(caller: AttachCaller, volumeId: string, attachmentId: string | null, prefix = "Error detaching volume"): Promise<void> {
    const before = await this.attachmentsOf(this.db, (await this.volume(caller, volumeId)).id);
    await this.deletionAllowedOf(caller, before, attachmentId);
    await this.v.core.write(async (trx) => {
      const vol = await this.volume(caller, volumeId, trx, true);
      const all = await this.attachmentsOf(trx, vol.id);
      const att = attachmentId ? all.find((a) => a.id === attachmentId) : undefined;
      if (vol.status === "maintenance") throw new InvalidVolume("The volume cannot be detached in maintenance mode.");
      if (attachmentId) {
        // An attachment that is gone: the volume's status is recomputed all the same.
        await this.finishDetach(trx, vol.id, att ? att.id : null);
        return;
      }
      if (all.length > 1) throw new BadRequest(`${prefix} - InvalidVolume: Invalid volume: Detach volume failed: More than one attachment, but no attachment_id provided.`);
      if (all.length === 0) {
        await this.v.core.setVolume(trx, vol.id, { status: "available", attach_status: "detached" });
        return;
      }
      await this.finishDetach(trx, vol.id, all[0]!.id);
    });
  }

  /** os-initialize_connection: the driver's connection info (no state change). */
  async initializeConnection(caller: AttachCaller, volumeId: string, connector: Record<string, unknown> | string): Promise<Record<string, unknown>> {
    const vol = await this.volume(caller, volumeId);
    if (vol.status === "maintenance") throw new InvalidVolume("The volume connection cannot be initialized in maintenance mode.");
    const c = typeof connector === "string" ? {} : connector;
    const admin = json<Record<string, string>>(vol.admin_metadata, {});
    const mode = admin["attached_mode"] ?? (admin["readonly"] === "True" ? "ro" : "rw");
    const info = this.connectionInfo(vol, c, mode);
    return { driver_volume_type: info["driver_volume_type"], data: info["data"] };
  }

  /** os-terminate_connection (and the first half of os-force_detach): the connection goes, then unreserve. */
  async terminateConnection(caller: AttachCaller, volumeId: string): Promise<void> {
    const before = await this.attachmentsOf(this.db, (await this.volume(caller, volumeId)).id);
    await this.deletionAllowedOf(caller, before, null);
    await this.unreserve(caller, volumeId);
  }
}
