import { mkdirSync, mkdtempSync } from "node:fs";
import { open, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execFile } from "node:child_process";
import { Readable } from "node:stream";
import type { Clock } from "../../../common/clock.js";
import type { VolumeConfig } from "../../../config/config.js";
import type { ConnectionInfo, VolumeBackend, VolumeDriver, VolumeOperation } from "../driver.js";
import { GiB, VolumeDriverFailure } from "../driver.js";

const CHUNK = 1024 * 1024;

/**
 * Simulated backends: each volume (and snapshot) is a sparse file under
 * `<root>/<backend>/`, so a new 1 GiB volume costs nothing on disk and copies (cp --sparse)
 * move only the data extents.
 * Every operation succeeds unless a test injected a failure with failNext().
 */
export class SimulatedVolumeDriver implements VolumeDriver {
  private readonly list: VolumeBackend[];
  private readonly failures: Array<{ op: VolumeOperation; backend: string; message: string; remaining: number }> = [];

  constructor(
    private readonly config: VolumeConfig,
    readonly clock: Clock,
    private readonly root: string,
    private readonly throwaway = false,
  ) {
    this.list = config.backends.map((b) => ({
      name: b.name,
      host: `${config.host}@${b.name}`,
      pool: `${config.host}@${b.name}#${b.name}`,
      volumeBackendName: b.volumeBackendName ?? b.name,
      availabilityZone: b.availabilityZone ?? config.defaultAvailabilityZone,
      totalCapacityGb: b.capacityGb ?? 1000,
      capabilities: {
        vendor_name: "Open Source",
        driver_version: "1.0.0",
        storage_protocol: "iSCSI",
        thin_provisioning_support: true,
        thick_provisioning_support: false,
        multiattach: true,
        QoS_support: false,
        ...(b.capabilities ?? {}),
      },
    }));
    for (const b of this.list) mkdirSync(join(root, b.name), { recursive: true, mode: 0o700 });
  }

  /** Disks in a fresh temporary directory, removed by destroy() (the --memory mode). */
  static temporary(config: VolumeConfig, clock: Clock): SimulatedVolumeDriver {
    return new SimulatedVolumeDriver(config, clock, mkdtempSync(join(tmpdir(), "stackbox-volumes-")), true);
  }

  backends(): VolumeBackend[] {
    return this.list;
  }

  latency(op: VolumeOperation): number {
    return this.config.latencyMs[op] ?? 0;
  }

  /** Make the next `count` `op`s on `backend` ("*" = any backend) fail with `message`. */
  failNext(op: VolumeOperation, backend = "*", message = `Simulated ${op} failure`, count = 1): void {
    this.failures.push({ op, backend, message, remaining: count });
  }

  check(op: VolumeOperation, backend: string): void {
    const i = this.failures.findIndex((f) => f.op === op && (f.backend === "*" || f.backend === backend));
    if (i < 0) return;
    const f = this.failures[i]!;
    if (--f.remaining <= 0) this.failures.splice(i, 1);
    throw new VolumeDriverFailure(op, backend, f.message);
  }

  private path(backend: string, key: string): string {
    if (!this.list.some((b) => b.name === backend)) throw new VolumeDriverFailure("create", backend, `no backend ${backend}`);
    if (!/^[A-Za-z0-9-]+$/.test(key)) throw new Error(`bad volume key ${key}`);
    return join(this.root, backend, key);
  }

  async createVolume(backend: string, id: string, sizeGb: number): Promise<void> {
    const fh = await open(this.path(backend, id), "a", 0o600);
    try {
      const { size } = await fh.stat();
      if (size < sizeGb * GiB) await fh.truncate(sizeGb * GiB);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async deleteVolume(backend: string, id: string): Promise<void> {
    await rm(this.path(backend, id), { force: true });
  }

  async extendVolume(backend: string, id: string, sizeGb: number): Promise<void> {
    await this.createVolume(backend, id, sizeGb);
  }

  async copy(src: { backend: string; id: string }, dst: { backend: string; id: string }, sizeGb: number): Promise<void> {
    const from = this.path(src.backend, src.id);
    const to = this.path(dst.backend, dst.id);
    // GNU cp finds the data extents (SEEK_DATA/SEEK_HOLE) and copies only those, keeping holes:
    // a 1 GiB volume holding a few MiB copies in milliseconds, where reading it through costs
    // a full GiB of zeros. Into a temporary name, then fsync and rename, so a crash leaves the
    // old target or the whole copy.
    const tmp = `${to}.copy-${process.pid}-${Date.now()}`;
    try {
      await run("cp", ["--sparse=always", "--", from, tmp]);
      const fh = await open(tmp, "r+");
      try {
        await fh.truncate(sizeGb * GiB);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, to);
      await syncDir(dirname(to));
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async createSnapshot(backend: string, volumeId: string, snapshotId: string): Promise<void> {
    const size = (await stat(this.path(backend, volumeId))).size;
    await this.copy({ backend, id: volumeId }, { backend, id: `snap-${snapshotId}` }, size / GiB);
  }

  async deleteSnapshot(backend: string, snapshotId: string): Promise<void> {
    await rm(this.path(backend, `snap-${snapshotId}`), { force: true });
  }

  async revertToSnapshot(backend: string, volumeId: string, snapshotId: string): Promise<void> {
    const size = (await stat(this.path(backend, volumeId))).size;
    await this.copy({ backend, id: `snap-${snapshotId}` }, { backend, id: volumeId }, size / GiB);
  }

  async read(backend: string, id: string, range?: { start: number; length: number }): Promise<Readable> {
    const fh = await open(this.path(backend, id), "r");
    const size = (await fh.stat()).size;
    const start = range?.start ?? 0;
    const end = range ? Math.min(size, start + range.length) : size;
    return Readable.from(
      (async function* () {
        try {
          for (let pos = start; pos < end; ) {
            const n = Math.min(CHUNK, end - pos);
            const buf = Buffer.allocUnsafe(n);
            const { bytesRead } = await fh.read(buf, 0, n, pos);
            if (bytesRead === 0) break;
            pos += bytesRead;
            yield buf.subarray(0, bytesRead);
          }
        } finally {
          await fh.close();
        }
      })(),
      { objectMode: false },
    );
  }

  async write(backend: string, id: string, data: AsyncIterable<Uint8Array>, offset = 0): Promise<number> {
    const fh = await open(this.path(backend, id), "r+");
    let pos = offset;
    try {
      for await (const chunk of data) {
        let done = 0;
        while (done < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, pos);
          done += bytesWritten;
          pos += bytesWritten;
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    return pos - offset;
  }

  async size(backend: string, id: string): Promise<number> {
    try {
      return (await stat(this.path(backend, id))).size;
    } catch {
      return 0;
    }
  }

  initializeConnection(backend: string, id: string, connector: Record<string, unknown>): ConnectionInfo {
    const b = this.list.find((x) => x.name === backend);
    return {
      driver_volume_type: "iscsi",
      data: {
        target_discovered: false,
        target_iqn: `iqn.2010-10.org.openstack:volume-${id}`,
        target_portal: "127.0.0.1:3260",
        target_lun: 0,
        volume_id: id,
        auth_method: "CHAP",
        access_mode: connector["mode"] === "ro" ? "ro" : "rw",
        encrypted: false,
        qos_specs: null,
        cacheable: false,
        backend: b?.name ?? backend,
      },
    };
  }

  async destroy(): Promise<void> {
    if (this.throwaway) await rm(this.root, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, _stdout, stderr) => (err ? reject(new Error(`${cmd} failed: ${String(stderr).trim() || err.message}`)) : resolve()));
  });
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
