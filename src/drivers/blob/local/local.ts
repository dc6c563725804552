import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { uuid } from "../../../common/ids.js";
import type { BlobInfo, BlobStore, HashAlgorithm, PutOptions } from "../blob.js";
import { BlobSizeMismatch, BlobTooLarge } from "../blob.js";
import { StreamHasher } from "../hasher.js";
import { PackStore } from "./pack.js";

/**
 * The local filesystem blob store. A put streams into a temporary file in the same
 * directory tree, fsyncs it, renames it over the key's file and fsyncs the directory, so a
 * reader sees the old bytes or the new, never half, and an acknowledged put survives a crash.
 * Keys map to paths under root; each "/"-separated segment is encoded so no key escapes root.
 */
export class LocalBlobStore implements BlobStore {
  private readonly dirsMade = new Set<string>();
  private readonly packs: PackStore;

  constructor(
    readonly root: string,
    private readonly throwaway = false,
  ) {
    this.packs = new PackStore(join(root, "pack"));
  }

  putSmall(data: Buffer): Promise<string> {
    return this.packs.put(data);
  }

  /** A store in a fresh temporary directory, removed by destroy() (the --memory mode). */
  static temporary(): LocalBlobStore {
    return new LocalBlobStore(mkdtempSync(join(tmpdir(), "stackbox-blobs-")), true);
  }

  private path(key: string): string {
    if (key === "") throw new Error("empty blob key");
    return join(this.root, ...key.split("/").map((seg) => encodeURIComponent(seg).replace(/^\.+$/, (m) => "%2E".repeat(m.length))));
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.dirsMade.has(dir)) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    this.dirsMade.add(dir);
  }

  async put(key: string, data: AsyncIterable<Uint8Array> | Readable, opts: PutOptions = {}): Promise<BlobInfo> {
    const final = this.path(key);
    const dir = dirname(final);
    await this.ensureDir(dir);
    const tmp = opts.unique ? final : join(dir, `.tmp-${uuid()}`);
    const algos: readonly HashAlgorithm[] = opts.hashes ?? ["md5"];
    const hasher = new StreamHasher(algos);
    let fh: FileHandle | undefined = await open(tmp, "wx", 0o600);
    let size = 0;
    // Written data is flushed to disk while the upload goes on (one data sync in flight per
    // 32 MiB), so the fsync before acknowledging only has the tail left to write.
    let syncing: Promise<unknown> | undefined;
    try {
      // Writes are batched: one write call per ~1 MiB keeps syscalls few for small chunks.
      let pending: Uint8Array[] = [];
      let pendingBytes = 0;
      let unsynced = 0;
      const flush = async (): Promise<void> => {
        if (pendingBytes === 0) return;
        const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        let off = 0;
        while (off < buf.length) {
          const { bytesWritten } = await fh!.write(buf, off, buf.length - off);
          off += bytesWritten;
        }
        unsynced += buf.length;
        if (unsynced >= 32 << 20 && !syncing) {
          unsynced = 0;
          const p = fh!.datasync().finally(() => {
            if (syncing === p) syncing = undefined;
          });
          syncing = p;
        }
      };
      for await (const chunk of data as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        if (opts.maxBytes !== undefined && size > opts.maxBytes) throw new BlobTooLarge(opts.maxBytes);
        hasher.update(chunk);
        await hasher.ready();
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= 1 << 20) await flush();
      }
      await flush();
      await syncing;
      if (opts.expectedBytes !== undefined && size !== opts.expectedBytes) throw new BlobSizeMismatch(opts.expectedBytes, size);
      await fh.sync();
      await fh.close();
      fh = undefined;
      if (tmp !== final) await rename(tmp, final);
      await this.syncDir(dir);
    } catch (e) {
      hasher.abort();
      await syncing?.catch(() => undefined);
      if (fh) await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    return { size, hashes: await hasher.digest() };
  }

  /**
   * fsync a directory so new names in it survive a crash. Concurrent callers share work: while
   * one sync of a directory runs, everyone who arrives waits for the next one, which starts
   * after it and so covers their names too (one sync per burst instead of one per file).
   */
  private syncDir(dir: string): Promise<void> {
    const queued = this.dirQueued.get(dir);
    if (queued) return queued;
    const run = async (): Promise<void> => {
      this.dirQueued.delete(dir);
      const d = await open(dir, "r");
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    };
    const prev = this.dirRunning.get(dir);
    const p = (prev ? prev.then(run, run) : run()).finally(() => {
      if (this.dirRunning.get(dir) === p) this.dirRunning.delete(dir);
    });
    this.dirRunning.set(dir, p);
    if (prev) this.dirQueued.set(dir, p);
    return p;
  }
  private readonly dirRunning = new Map<string, Promise<void>>();
  private readonly dirQueued = new Map<string, Promise<void>>();

  async get(key: string, range?: { start: number; end: number }): Promise<Readable | undefined> {
    if (PackStore.isKey(key)) {
      const buf = await this.packs.get(key, range);
      return buf === undefined ? undefined : Readable.from([buf]);
    }
    const p = this.path(key);
    // Open first so a missing key is undefined, not a stream that errors later.
    let fh: FileHandle;
    try {
      fh = await open(p, "r");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    // The stream takes the handle over and closes it at the end.
    return createReadStream(p, { fd: fh, highWaterMark: 1 << 20, autoClose: true, ...(range ? { start: range.start, end: range.end } : {}) });
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    if (PackStore.isKey(key)) return (await this.packs.get(key, { start: 0, end: 0 })) === undefined ? undefined : { size: this.packs.length(key) };
    try {
      const s = await stat(this.path(key));
      return { size: s.size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    if (PackStore.isKey(key)) return this.packs.delete(key);
    try {
      await unlink(this.path(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }

  async destroy(): Promise<void> {
    await this.packs.close();
    if (this.throwaway) await rm(this.root, { recursive: true, force: true });
  }
}
