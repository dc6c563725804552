import { createHash } from "node:crypto";
import type { Hash } from "node:crypto";
import { Worker } from "node:worker_threads";
import type { HashAlgorithm } from "./blob.js";

/**
 * Digests computed while streaming. One algorithm runs on the calling thread; each further one
 * runs in a worker thread of a small shared pool, so an upload that needs md5 and sha512
 * (Glance's checksum and os_hash_value) hashes on two cores at once instead of one after the
 * other (together they are slower than the disk). Chunks are copied to the worker; the
 * caller's buffers stay the caller's.
 */
export class StreamHasher {
  private readonly local: Array<[HashAlgorithm, Hash]>;
  private readonly remote: Array<{ algo: HashAlgorithm; job: RemoteJob }>;

  constructor(algos: readonly HashAlgorithm[]) {
    const [first, ...rest] = algos;
    this.local = first ? [[first, createHash(first)]] : [];
    this.remote = rest.map((algo) => ({ algo, job: pool.start(algo) }));
  }

  update(chunk: Uint8Array): void {
    for (const [, h] of this.local) h.update(chunk);
    for (const r of this.remote) r.job.update(chunk);
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
    return {
      update: (chunk) => {
        const copy = chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength);
        behind += copy.byteLength;
        w.postMessage({ t: "data", id, buf: copy }, [copy as ArrayBuffer]);
      },
      ready: () => (behind < LIMIT ? Promise.resolve() : new Promise<void>((r) => (wake = r))),
      digest: () =>
        new Promise<string>((resolve) => {
          this.waiting.set(id, resolve);
          w.postMessage({ t: "end", id });
        }),
      abort: () => {
        this.acks.delete(id);
        w.postMessage({ t: "abort", id });
      },
    };
  }
}

/** How far (bytes) a worker may lag behind the upload before the upload waits for it. */
const LIMIT = 16 << 20;
let jobCounter = 0;
const pool = new HashPool();
