import { VolumeDriverFailure } from "../../../drivers/volume/driver.js";
import type { VolumeBackend } from "../../../drivers/volume/driver.js";
import type { Volume } from "../api/deps.js";
import { NoValidBackend } from "../api/deps.js";
import type { VolumeRow } from "../store/tables.js";
import { imageMetadata } from "../views/volumes.js";
import type { CreateTask, DeleteTask, ExtendTask, MigrateTask, RetypeTask, RevertTask, UploadTask } from "./volumes.js";
import type { Scheduler } from "./scheduler.js";
import { satisfiesExtraSpecs } from "./scheduler.js";

/** Glance image properties that are not copied into volume_image_metadata (glance core + internal). */
const SKIP_PROPS = new Set(["id", "name", "status", "visibility", "protected", "owner", "os_hidden", "created_at", "updated_at", "tags", "file", "schema", "self", "direct_url", "locations", "virtual_size", "os_hash_algo", "os_hash_value", "stores"]);

/**
 * cinder-scheduler + cinder-volume work as persisted tasks: each handler re-reads the volume
 * and does nothing when it is no longer in the state the task was enqueued for, so a re-run
 * after a crash is harmless.
 */
export function registerVolumeTasks(v: Volume, sched: Scheduler): void {
  const message = async (volumeId: string, projectId: string, requestId: string, action: string, detail: string) => {
    try {
      await v.messages.record(v.core.db, { projectId, requestId, resourceType: "VOLUME", resourceUuid: volumeId, action, detail, level: "ERROR" });
    } catch (e) {
      v.log.warn({ err: e }, "recording a user message failed");
    }
  };

  v.tasks.register("volume.create", async (payload) => {
    const p = payload as CreateTask;
    const row = await v.core.volume(v.core.db, p.volumeId);
    if (!row || row.status !== "creating") return;
    let backend: VolumeBackend;
    try {
      backend = await placeNewVolume(v, sched, row, p);
    } catch (e) {
      if (!(e instanceof NoValidBackend)) throw e;
      await v.core.casVolume(v.core.db, row.id, ["creating"], { status: "error" });
      await message(row.id, row.project_id, p.requestId, "001", "003");
      return;
    }
    // The scheduler's choice is recorded first (a re-run finds the same backend).
    await v.core.casVolume(v.core.db, row.id, ["creating"], { host: backend.pool, backend: backend.name });
    try {
      const updates: Partial<VolumeRow> = {};
      if (p.sourceVolId || p.snapshotId) {
        v.driver.check("clone", backend.name);
        if (p.sourceVolId) {
          const src = await v.core.volume(v.core.db, p.sourceVolId);
          if (!src?.backend) throw new VolumeDriverFailure("clone", backend.name, `source volume ${p.sourceVolId} is gone`);
          await v.driver.copy({ backend: src.backend, id: src.id }, { backend: backend.name, id: row.id }, row.size);
        } else {
          const snap = await v.core.db.selectFrom("vol_snapshot").select(["id", "volume_id"]).where("id", "=", p.snapshotId!).executeTakeFirst();
          const srcVol = snap ? await v.core.volume(v.core.db, snap.volume_id) : undefined;
          if (!snap || !srcVol?.backend) throw new VolumeDriverFailure("clone", backend.name, `snapshot ${p.snapshotId} is gone`);
          await v.driver.copy({ backend: srcVol.backend, id: `snap-${snap.id}` }, { backend: backend.name, id: row.id }, row.size);
        }
      } else {
        v.driver.check("create", backend.name);
        await v.driver.createVolume(backend.name, row.id, row.size);
        if (p.imageId) {
          v.driver.check("copy_image", backend.name);
          const image = await v.image.getImage(p.imageId);
          if (!image) throw new VolumeDriverFailure("copy_image", backend.name, `image ${p.imageId} is gone`);
          if (Number(image["size"] ?? 0) > 0) {
            const data = await v.image.downloadData(p.imageId);
            await v.driver.write(backend.name, row.id, data as AsyncIterable<Uint8Array>);
          }
          updates.bootable = 1;
          updates.image_metadata = JSON.stringify(glanceMetadata(image));
        } else if (p.backupId) {
          if (!v.restoreBackupIntoVolume) throw new VolumeDriverFailure("restore", backend.name, "no backup service");
          await v.restoreBackupIntoVolume(row.id, p.backupId);
        }
      }
      await v.core.casVolume(v.core.db, row.id, ["creating"], { ...updates, status: "available", launched_at: v.core.now() });
    } catch (e) {
      if (!(e instanceof VolumeDriverFailure) && !isServiceError(e)) throw e;
      v.log.warn({ err: e, volume: row.id }, "volume create failed");
      await v.core.casVolume(v.core.db, row.id, ["creating"], { status: "error" });
      await message(row.id, row.project_id, p.requestId, p.imageId ? "005" : "001", "001");
    }
  });

  v.tasks.register("volume.delete", async (payload) => {
    const p = payload as DeleteTask;
    const row = await v.core.volume(v.core.db, p.volumeId);
    if (!row || !["deleting", "error_managing_deleting"].includes(row.status)) return;
    try {
      if (row.backend) {
        v.driver.check("delete", row.backend);
        if (p.cascade) {
          const snaps = await v.core.db.selectFrom("vol_snapshot").select("id").where("volume_id", "=", row.id).execute();
          for (const s of snaps) {
            await v.driver.deleteSnapshot(row.backend, s.id);
            await v.core.db.deleteFrom("vol_snapshot").where("id", "=", s.id).execute();
          }
        }
        await v.driver.deleteVolume(row.backend, row.id);
      }
      await v.core.write(async (trx) => {
        await trx.deleteFrom("vol_attachment").where("volume_id", "=", row.id).execute();
        await trx.deleteFrom("vol_volume").where("id", "=", row.id).execute();
      });
    } catch (e) {
      if (!(e instanceof VolumeDriverFailure)) throw e;
      await v.core.setVolume(v.core.db, row.id, { status: "error_deleting" });
    }
  });

  v.tasks.register("volume.extend", async (payload) => {
    const p = payload as ExtendTask;
    const row = await v.core.volume(v.core.db, p.volumeId);
    if (!row || row.status !== "extending") return;
    const back = row.previous_status === "in-use" ? "in-use" : "available";
    try {
      v.driver.check("extend", row.backend ?? "");
      await v.driver.extendVolume(row.backend!, row.id, p.newSize);
      await v.core.casVolume(v.core.db, row.id, ["extending"], { size: p.newSize, status: back, previous_status: null });
      // An attached volume's guest learns of the new size through Nova's volume-extended
      // external event (the attachments area's call).
      if (back === "in-use") await v.volumeExtended?.(row.id);
    } catch (e) {
      if (!(e instanceof VolumeDriverFailure)) throw e;
      await v.core.casVolume(v.core.db, row.id, ["extending"], { status: "error_extending" });
      await message(row.id, row.project_id, p.requestId, "007", "001");
    }
  });

  v.tasks.register("volume.upload_image", async (payload) => {
    const p = payload as UploadTask;
    const row = await v.core.volume(v.core.db, p.volumeId);
    if (!row || row.status !== "uploading") return;
    const back = row.previous_status ?? "available";
    try {
      v.driver.check("upload_image", row.backend ?? "");
      const data = await v.driver.read(row.backend!, row.id);
      await v.image.uploadData(p.imageId, data);
    } catch (e) {
      v.log.warn({ err: e, volume: row.id }, "upload to image failed");
      await v.image.deleteImage(p.imageId).catch(() => undefined);
      await message(row.id, row.project_id, p.requestId, "003", "004");
    }
    await v.core.casVolume(v.core.db, row.id, ["uploading"], { status: back, previous_status: null });
  });

  v.tasks.register("volume.retype", async (payload) => {
    const p = payload as RetypeTask;
    const row = await v.core.volume(v.core.db, p.volumeId);
    if (!row || row.status !== "retyping") return;
    const back = row.previous_status === "in-use" ? "in-use" : "available";
    const type = await v.types.find(p.newTypeId);
    const restore = async () => {
      await v.core.casVolume(v.core.db, row.id, ["retyping"], { status: back, previous_status: null, multiattach: p.oldMultiattach });
    };
    if (!type) return restore();
    const current = sched.backendOfHost(row.host);
    const alloc = await sched.allocated();
    if (current && satisfiesExtraSpecs(sched.capabilities(current, alloc.get(current.name) ?? 0), type.extra_specs)) {
      await v.core.casVolume(v.core.db, row.id, ["retyping"], { status: back, previous_status: null, volume_type_id: type.id });
      return;
    }
    // The current backend cannot serve the new type: migrate (on-demand) or give up (never).
    let target: VolumeBackend;
    try {
      if (p.policy !== "on-demand" || back === "in-use") throw new NoValidBackend();
      target = await sched.pick({ sizeGb: row.size, type, availabilityZone: row.availability_zone, exclude: current ? [current.name] : [] });
    } catch (e) {
      if (!(e instanceof NoValidBackend)) throw e;
      await restore();
      await message(row.id, row.project_id, p.requestId, "001", "003");
      return;
    }
    await v.core.setVolume(v.core.db, row.id, { migration_status: "migrating" });
    try {
      v.driver.check("migrate", target.name);
      await v.driver.createVolume(target.name, row.id, row.size);
      await v.driver.copy({ backend: row.backend!, id: row.id }, { backend: target.name, id: row.id }, row.size);
      if (row.backend && row.backend !== target.name) await v.driver.deleteVolume(row.backend, row.id);
      await v.core.casVolume(v.core.db, row.id, ["retyping"], { status: back, previous_status: null, volume_type_id: type.id, host: target.pool, backend: target.name, migration_status: "success" });
    } catch (e) {
      if (!(e instanceof VolumeDriverFailure)) throw e;
      await v.core.casVolume(v.core.db, row.id, ["retyping"], { status: back, previous_status: null, multiattach: p.oldMultiattach, migration_status: "error" });
    }
  });

  v.tasks.register("volume.migrate", async (payload) => {
    const p = payload as MigrateTask;
    const row = await v.core.volume(v.core.db, p.volumeId);
    if (!row || !["starting", "migrating"].includes(row.migration_status ?? "")) return;
    const back = row.previous_status ?? "available";
    const target = v.driver.backends().find((b) => b.name === p.backend);
    await v.core.setVolume(v.core.db, row.id, { migration_status: "migrating" });
    try {
      if (!target) throw new VolumeDriverFailure("migrate", p.backend, "no such backend");
      v.driver.check("migrate", target.name);
      await v.driver.createVolume(target.name, row.id, row.size);
      await v.driver.copy({ backend: row.backend!, id: row.id }, { backend: target.name, id: row.id }, row.size);
      if (row.backend && row.backend !== target.name) await v.driver.deleteVolume(row.backend, row.id);
      await v.core.setVolume(v.core.db, row.id, { host: target.pool, backend: target.name, availability_zone: target.availabilityZone, migration_status: "success", status: row.status === "maintenance" ? back : row.status, previous_status: null });
    } catch (e) {
      if (!(e instanceof VolumeDriverFailure)) throw e;
      await v.core.setVolume(v.core.db, row.id, { migration_status: "error", status: row.status === "maintenance" ? back : row.status });
    }
  });

  v.tasks.register("volume.revert", async (payload) => {
    const p = payload as RevertTask;
    const row = await v.core.volume(v.core.db, p.volumeId);
    if (!row || row.status !== "reverting") return;
    try {
      v.driver.check("revert", row.backend ?? "");
      await v.driver.revertToSnapshot(row.backend!, row.id, p.snapshotId);
      await v.core.casVolume(v.core.db, row.id, ["reverting"], { status: "available" });
      await v.core.db.updateTable("vol_snapshot").set({ status: "available", updated_at: v.core.now() }).where("id", "=", p.snapshotId).where("status", "=", "restoring").execute();
    } catch (e) {
      if (!(e instanceof VolumeDriverFailure)) throw e;
      await v.core.casVolume(v.core.db, row.id, ["reverting"], { status: "error" });
      await v.core.db.updateTable("vol_snapshot").set({ status: "available", updated_at: v.core.now() }).where("id", "=", p.snapshotId).where("status", "=", "restoring").execute();
    }
  });
}

/** Where a new volume goes: its source's backend for clones (Cinder keeps them there), else the scheduler's pick. */
async function placeNewVolume(v: Volume, sched: Scheduler, row: VolumeRow, p: CreateTask): Promise<VolumeBackend> {
  let srcHost: string | null = null;
  if (p.sourceVolId) srcHost = (await v.core.volume(v.core.db, p.sourceVolId))?.host ?? null;
  if (p.snapshotId) {
    const snap = await v.core.db.selectFrom("vol_snapshot").select("volume_id").where("id", "=", p.snapshotId).executeTakeFirst();
    if (snap) srcHost = (await v.core.volume(v.core.db, snap.volume_id))?.host ?? null;
  }
  if (p.sourceVolId || p.snapshotId) {
    const b = sched.backendOfHost(srcHost);
    if (!b) throw new NoValidBackend();
    return b;
  }
  // A volume created into a group goes where the group lives (Cinder schedules it with the
  // group's host), or adding it to the group later is "not local to this node".
  if (row.group_id) {
    const g = await v.core.db.selectFrom("vol_group").select("host").where("id", "=", row.group_id).executeTakeFirst();
    const b = sched.backendOfHost(g?.host ?? null);
    if (b) return b;
  }
  const type = await v.types.find(row.volume_type_id);
  if (!type) throw new NoValidBackend();
  const hostsOf = async (ids: string[]) => {
    if (!ids.length) return [] as string[];
    const rs = await v.core.db.selectFrom("vol_volume").select("backend").where("id", "in", ids).execute();
    return rs.map((r) => r.backend).filter((b): b is string => b !== null);
  };
  const exclude = await hostsOf(p.differentHost);
  if (p.sameHost.length) {
    const same = new Set(await hostsOf(p.sameHost));
    for (const b of v.driver.backends()) if (!same.has(b.name)) exclude.push(b.name);
  }
  return sched.pick({ sizeGb: row.size, type, availabilityZone: row.availability_zone, multiattach: row.multiattach === 1, exclude });
}

/** volume_glance_metadata from an image: its core attributes and its custom properties, as strings. */
export function glanceMetadata(image: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {
    image_id: String(image["id"]),
    image_name: String(image["name"] ?? "None"),
    checksum: String(image["checksum"] ?? "None"),
    container_format: String(image["container_format"] ?? "None"),
    disk_format: String(image["disk_format"] ?? "None"),
    min_disk: String(image["min_disk"] ?? 0),
    min_ram: String(image["min_ram"] ?? 0),
    size: String(image["size"] ?? 0),
  };
  for (const [k, x] of Object.entries(image)) {
    if (SKIP_PROPS.has(k) || k in out || k === "checksum" || k === "size") continue;
    if (k.startsWith("os_glance") || x === null || typeof x === "object") continue;
    out[k] = typeof x === "boolean" ? (x ? "True" : "False") : String(x);
  }
  return out;
}

function isServiceError(e: unknown): boolean {
  return e instanceof Error && e.constructor.name === "ServiceCallError";
}

export { imageMetadata };
