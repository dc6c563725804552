import { createHash } from "node:crypto";
import type { Hash } from "node:crypto";
import { Worker } from "node:worker_threads";
import type { HashAlgorithm } from "./blob.js";

/**
 * Digests computed while streaming. A big upload's digests run in worker threads of a small
 * shared pool, so Glance's md5 and sha512 (checksum and os_hash_value, together slower than
 * the disk) hash on other cores while this thread receives and writes. Chunks are copied to
 * the workers; the caller's buffers stay the caller's.
 */
export class StreamHasher {
  private local: Array<[HashAlgorithm, Hash]>;
  private readonly remote: Array<{ algo: HashAlgorithm; job: RemoteJob }> = [];
  /** What the local digests have seen, replayed to the workers if the upload turns out big. */
  private prefix: Uint8Array[] = [];
  private prefixBytes = 0;

  constructor(private readonly algos: readonly HashAlgorithm[]) {
    this.local = algos.map((a) => [a, createHash(a)]);
  }

  /**
   * Small uploads hash on this thread (a worker round trip costs more than their hash); past
   * OFFLOAD_AT bytes every digest moves to a worker (fed the prefix again), leaving this
   * thread to the network and the disk.
   */
  update(chunk: Uint8Array): void {
    if (this.remote.length > 0) {
      for (const r of this.remote) r.job.update(chunk);
      return;
    }
    for (const [, h] of this.local) h.update(chunk);
    if (this.algos.length === 0) return;
    this.prefix.push(chunk);
    this.prefixBytes += chunk.length;
    if (this.prefixBytes >= OFFLOAD_AT) {
      for (const algo of this.algos) {
        const job = pool.start(algo);
        for (const c of this.prefix) job.update(c);
        this.remote.push({ algo, job });
      }
      this.local = [];
      this.prefix = [];
    }
  }

  /** Resolves when the workers are less than a few MiB behind (memory stays bounded). */
  async ready(): Promise<void> {
    for (const r of this.remote) await r.job.ready();
  }

  async digest(): Promise<Partial<Record<HashAlgorithm, string>>> {
    const out: Partial<Record<HashAlgorithm, string>> = {};
    for (const [a, h] of this.local) out[a] = h.digest("hex");
    for (const r of this.remote) out[r.algo] = await r.job.digest();
    return out;
  }

  /** Give up (the upload failed): the workers drop the job. */
  abort(): void {
    for (const r of this.remote) r.job.abort();
  }
}

interface RemoteJob {
  update(chunk: Uint8Array): void;
  ready(): Promise<void>;
  digest(): Promise<string>;
  abort(): void;
}

const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const jobs = new Map();
parentPort.on("message", (m) => {
  if (m.t === "start") jobs.set(m.id, createHash(m.algo));
  else if (m.t === "data") { jobs.get(m.id)?.update(new Uint8Array(m.buf)); parentPort.postMessage({ id: m.id, ack: m.buf.byteLength }); }
  else if (m.t === "end") { const h = jobs.get(m.id); jobs.delete(m.id); parentPort.postMessage({ id: m.id, hex: h ? h.digest("hex") : "" }); }
  else if (m.t === "abort") jobs.delete(m.id);
});
`;

/** Workers are started on first use, kept for later uploads, and never keep the process alive. */
class HashPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, (hex: string) => void>();
  private readonly acks = new Map<number, (bytes: number) => void>();
  /** Jobs in flight per worker: a busy worker keeps the process alive, an idle one does not. */
  private readonly busy = new Map<Worker, number>();

  private hold(w: Worker, delta: 1 | -1): void {
    const n = (this.busy.get(w) ?? 0) + delta;
    this.busy.set(w, n);
    if (n === 1 && delta === 1) w.ref();
    if (n === 0) w.unref();
  }
  private next = 0;
  private readonly size = 2;

  private worker(): Worker {
    if (this.workers.length < this.size) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on("message", (m: { id: number; hex: string; ack?: number }) => {
        if (m.ack !== undefined) {
          this.acks.get(m.id)?.(m.ack);
          return;
        }
        this.acks.delete(m.id);
        const done = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        done?.(m.hex);
      });
      // After the listener: attaching one refs the worker again.
      w.unref();
      this.workers.push(w);
      return w;
    }
    return this.workers[this.next++ % this.workers.length]!;
  }

  start(algo: HashAlgorithm): RemoteJob {
    const id = ++jobCounter;
    const w = this.worker();
    this.hold(w, 1);
    w.postMessage({ t: "start", id, algo });
    let behind = 0;
    let wake: (() => void) | undefined;
    this.acks.set(id, (bytes) => {
      behind -= bytes;
      if (wake && behind < LIMIT) {
        const w2 = wake;
        wake = undefined;
        w2();
      }
    });
    // Chunks are sent in batches of about 1 MiB (one copy, one message, one ack per batch).
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    const send = (): void => {
      if (batchBytes === 0) return;
      const buf = new Uint8Array(batchBytes);
      let off = 0;
      for (const c of batch) {
        buf.set(c, off);
        off += c.length;
      }
      behind += batchBytes;
      batch = [];
      batchBytes = 0;
      w.postMessage({ t: "data", id, buf: buf.buffer }, [buf.buffer]);
    };
    return {
      update: (chunk) => {
        batch.push(chunk);
        batchBytes += chunk.length;
        if (batchBytes >= BATCH) send();
      },
      ready: () => (behind < LIMIT ? Promise.resolve() : new Promise<void>((r) => (wake = r))),
      digest: () =>
        new Promise<string>((resolve) => {
          this.waiting.set(id, (hex) => {
            this.hold(w, -1);
            resolve(hex);
          });
          send();
          w.postMessage({ t: "end", id });
        }),
      abort: () => {
        this.acks.delete(id);
        this.hold(w, -1);
        w.postMessage({ t: "abort", id });
      },
    };
  }
}

const BATCH = 1 << 20;
/** Uploads past this size hash in workers. */
const OFFLOAD_AT = 8 << 20;
/** How far (bytes) a worker may lag behind the upload before the upload waits for it. */
const LIMIT = 16 << 20;
let jobCounter = 0;
const pool = new HashPool();
