import { randomBytes } from "node:crypto";
import { appendFile, mkdir, open, readFile, stat, unlink, writeFile } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";

/** A pack segment is sealed (a new one started) past this size. */
const SEGMENT_BYTES = 256 * 1024 * 1024;
/** Open read handles kept for reading small blobs. */
const READ_HANDLES = 64;

interface Segment {
  name: string;
  fh: FileHandle;
  size: number;
}

/**
 * Small blobs packed into append-only segment files with group commit: blobs that arrive
 * together are written with one writev and made durable with one fdatasync, then each caller
 * gets its key, `pack/<segment>/<offset>/<length>`. A crash can only lose bytes no key was
 * handed out for (a new segment is started at every start-up, never appended to again).
 *
 * Deleting a packed blob records its bytes as dead in `<segment>.dead` (best effort: a crash
 * may forget a few, which then stay until the segment dies); a sealed segment whose bytes are
 * all dead is removed. A segment left unsealed by a crash is never removed (its space stays).
 */
export class PackStore {
  private current: Segment | undefined;
  private queue: Array<{ data: Buffer; resolve: (key: string) => void; reject: (e: unknown) => void }> = [];
  private flushing = false;
  private readonly readers = new Map<string, Promise<FileHandle>>();
  /** Dead bytes per segment by offset (a blob deleted twice counts once). */
  private readonly dead = new Map<string, Map<number, number>>();
  private dirReady: Promise<void> | undefined;

  constructor(private readonly dir: string) {}

  static isKey(key: string): boolean {
    return key.startsWith("pack/");
  }

  /** Store `data`; resolves with its key once it is on disk. */
  put(data: Buffer): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ data, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          const seg = await this.segment();
          let pos = seg.size;
          const keys = batch.map((b) => {
            const k = `pack/${seg.name}/${pos}/${b.data.length}`;
            pos += b.data.length;
            return k;
          });
          const bufs = batch.map((b) => b.data);
          let off = seg.size;
          let i = 0;
          // writev may write less than asked: go on from where it stopped.
          while (i < bufs.length) {
            const { bytesWritten } = await seg.fh.writev(bufs.slice(i), off);
            off += bytesWritten;
            let n = bytesWritten;
            while (i < bufs.length && n >= bufs[i]!.length) {
              n -= bufs[i]!.length;
              i++;
            }
            if (n > 0) bufs[i] = bufs[i]!.subarray(n);
          }
          await seg.fh.datasync();
          seg.size = pos;
          batch.forEach((b, j) => b.resolve(keys[j]!));
          if (seg.size >= SEGMENT_BYTES) await this.seal();
        } catch (e) {
          // The segment may hold a torn tail now: never write to it again.
          await this.seal().catch(() => undefined);
          for (const b of batch) b.reject(e);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async segment(): Promise<Segment> {
    if (this.current) return this.current;
    this.dirReady ??= mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    await this.dirReady;
    const name = `${Date.now().toString(36)}-${randomBytes(6).toString("hex")}`;
    const fh = await open(join(this.dir, name), "wx+", 0o600);
    // The new file's name must survive a crash before any key in it is handed out.
    const d = await open(this.dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    this.current = { name, fh, size: 0 };
    return this.current;
  }

  /**
   * Stop writing to the current segment. The `.sealed` marker tells every process (several may
   * share a data directory) that no one appends to it any more, so it may go once all dead.
   */
  private async seal(): Promise<void> {
    const seg = this.current;
    this.current = undefined;
    if (!seg) return;
    await seg.fh.close();
    await writeFile(join(this.dir, `${seg.name}.sealed`), "", { mode: 0o600 });
  }

  private parse(key: string): { seg: string; offset: number; length: number } {
    const [, seg = "", offset = "", length = ""] = key.split("/");
    if (!/^[a-z0-9]+-[0-9a-f]+$/.test(seg) || !/^\d+$/.test(offset) || !/^\d+$/.test(length)) throw new Error(`bad pack key ${key}`);
    return { seg, offset: Number(offset), length: Number(length) };
  }

  private reader(seg: string): Promise<FileHandle> {
    let h = this.readers.get(seg);
    if (!h) {
      if (this.readers.size >= READ_HANDLES) {
        const [oldest, p] = this.readers.entries().next().value as [string, Promise<FileHandle>];
        this.readers.delete(oldest);
        void p.then((fh) => fh.close()).catch(() => undefined);
      }
      h = open(join(this.dir, seg), "r");
      this.readers.set(seg, h);
      h.catch(() => this.readers.delete(seg));
    }
    return h;
  }

  /** The bytes (a range of them, inclusive), or undefined when the segment is gone. */
  async get(key: string, range?: { start: number; end: number }): Promise<Buffer | undefined> {
    const { seg, offset, length } = this.parse(key);
    let fh: FileHandle;
    try {
      fh = await this.reader(seg);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
    const start = range ? Math.min(range.start, length) : 0;
    const end = range ? Math.min(range.end + 1, length) : length;
    const buf = Buffer.allocUnsafe(end - start);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, offset + start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  }

  length(key: string): number {
    return this.parse(key).length;
  }

  async delete(key: string): Promise<void> {
    const { seg, offset, length } = this.parse(key);
    const path = join(this.dir, seg);
    let dead = this.dead.get(seg);
    if (!dead) {
      dead = new Map();
      const text = await readFile(`${path}.dead`, "utf8").catch(() => "");
      for (const line of text.split("\n")) {
        const [o, l] = line.split(" ");
        if (o && l) dead.set(Number(o), Number(l));
      }
      this.dead.set(seg, dead);
    }
    if (dead.has(offset)) return;
    try {
      await stat(path);
    } catch {
      return; // the segment is gone already
    }
    dead.set(offset, length);
    await appendFile(`${path}.dead`, `${offset} ${length}\n`, { mode: 0o600 });
    if (this.current?.name === seg) return;
    if (!(await stat(`${path}.sealed`).then(() => true, () => false))) return; // another process may still append
    let total = 0;
    for (const l of dead.values()) total += l;
    const size = await stat(path).then((s) => s.size).catch(() => -1);
    if (size >= 0 && total >= size) {
      this.dead.delete(seg);
      const r = this.readers.get(seg);
      this.readers.delete(seg);
      if (r) await r.then((fh) => fh.close()).catch(() => undefined);
      await unlink(path).catch(() => undefined);
      await unlink(`${path}.dead`).catch(() => undefined);
      await unlink(`${path}.sealed`).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.seal().catch(() => undefined);
    for (const p of this.readers.values()) await p.then((fh) => fh.close()).catch(() => undefined);
    this.readers.clear();
  }
}
