import type { Logger } from "pino";
import type { SwiftStore } from "../store/store.js";
import { num } from "../store/store.js";
import type { Proxy } from "./proxy.js";
import type { Timestamps } from "./time.js";

export interface ExpirerDeps {
  store: SwiftStore;
  proxy: Proxy;
  time: Timestamps;
  log: Logger;
  /** How often the sweep runs (swift-object-expirer's `interval`), in ms. */
  intervalMs?: number;
  /** Rows fetched per query. */
  batch?: number;
}

/**
 * Between sweeps. The proxy already answers 404 for an expired object and leaves it out of
 * listings, but it still counts in its container (a DELETE of the container is 409 until
 * it is gone), so the sweep runs often: one indexed query when there is nothing to do.
 */
export const EXPIRER_INTERVAL_MS = 1_000;

/**
 * swift-object-expirer: objects past their X-Delete-At are deleted for real (row, container
 * counters and bytes). The proxy hides them from the moment they expire; this removes them.
 * Each delete re-checks the row inside the write, as the object server's X-If-Delete-At
 * does, so an object written again or given a later X-Delete-At since the scan stays.
 */
export class ObjectExpirer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly batch: number;

  constructor(private readonly d: ExpirerDeps) {
    this.intervalMs = d.intervalMs ?? EXPIRER_INTERVAL_MS;
    this.batch = d.batch ?? 500;
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      void this.sweep().catch((err: unknown) => this.d.log.warn({ err }, "object expirer sweep failed"));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stop the timer and wait for a sweep in progress (the database closes next). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One pass over everything expired now; the number of objects deleted. */
  sweep(): Promise<number> {
    if (this.running) return this.running;
    const p = this.pass().finally(() => {
      this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async pass(): Promise<number> {
    let deleted = 0;
    for (;;) {
      if (this.stopped) break;
      const now = this.d.time.nowSeconds();
      const rows = await this.d.store.expired(now, this.batch);
      let progressed = 0;
      for (const row of rows) {
        if (this.stopped) break;
        const gone = await this.d.store.deleteObject(row.account, row.container, row.name, (cur) => cur.delete_at !== null && num(cur.delete_at) <= now);
        if (gone) {
          await this.d.proxy.dropBlob(gone);
          deleted++;
          progressed++;
        }
      }
      // A short page is the last one; a page where nothing could go would repeat forever.
      if (rows.length < this.batch || progressed === 0) break;
    }
    if (deleted > 0) this.d.log.debug({ deleted }, "object expirer removed expired objects");
    return deleted;
  }
}
