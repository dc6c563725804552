import type { Logger } from "pino";
import type { Clock } from "../common/clock.js";
import { uuid } from "../common/ids.js";
import type { AnyDB, AnyTrx, Database } from "../db/database.js";
import { isRetryable } from "../db/database.js";

/** What a task handler gets besides its payload. */
export interface TaskContext {
  id: string;
  kind: string;
  /** 1 on the first run, 2 after a crash or a retry, … */
  attempt: number;
}

export type TaskHandler = (payload: unknown, ctx: TaskContext) => Promise<void>;

export interface TaskRunnerOptions {
  /** How long a claimed task is owned before another process may take it over. */
  leaseMs?: number;
  /** Tasks run at once by this process. */
  concurrency?: number;
  /** How often the database is checked for work enqueued elsewhere (other processes, restarts). */
  pollMs?: number;
  /** Runs of a task whose handler throws before it is dropped (and logged). */
  maxAttempts?: number;
}

/**
 * Runs persisted tasks when they are due on the cloud's Clock. A task is a row (see
 * migrations.ts): enqueue() writes it, optionally inside the caller's transaction so the
 * task exists exactly when the state change that needs it commits. The runner claims due
 * rows by setting a lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so several processes share
 * the work), runs the handler, and deletes the row. A handler must be idempotent: after a
 * crash its task runs again. A handler that throws is retried with backoff, then dropped.
 *
 * Real time: a timer wakes the runner at the next due time known to this process, and a
 * slow poll finds work from other processes. Tests with a ManualClock call drain() after
 * advancing the clock: it runs everything due, including tasks those tasks enqueue.
 */
export class TaskRunner {
  private readonly handlers = new Map<string, TaskHandler>();
  private readonly leaseMs: number;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly maxAttempts: number;
  private readonly pg: boolean;
  private running = 0;
  private started = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private poller: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly log: Logger,
    opts: TaskRunnerOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 300_000;
    this.concurrency = opts.concurrency ?? 64;
    this.pollMs = opts.pollMs ?? 1000;
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.pg = database.dialect === "postgres";
  }

  private get db(): AnyDB {
    return this.database.db;
  }

  register(kind: string, handler: TaskHandler): void {
    if (this.handlers.has(kind)) throw new Error(`task kind ${kind} registered twice`);
    this.handlers.set(kind, handler);
  }

  /**
   * Persist a task due `delayMs` from now on the Clock. Pass the caller's transaction so the
   * task commits (or not) with the change that needs it; the runner is woken after commit.
   */
  async enqueue(kind: string, payload: unknown, delayMs = 0, trx?: AnyTrx): Promise<string> {
    if (!this.handlers.has(kind)) throw new Error(`no handler for task kind ${kind}`);
    const id = uuid();
    const now = this.clock.now().getTime();
    const runAt = now + Math.max(0, delayMs);
    await (trx ?? this.db)
      .insertInto("task")
      .values({ id, kind, payload: JSON.stringify(payload ?? null), run_at: runAt, lease_until: 0, attempts: 0, created_at: now })
      .execute();
    // Inside a transaction the row is not visible yet: the wake-up timer finds it after commit.
    this.wakeAt(runAt, trx !== undefined);
    return id;
  }

  /** Start running due tasks in real time (serve). Unfinished tasks of a previous run resume. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.poller = setInterval(() => this.kick(), this.pollMs);
    this.poller.unref();
    this.kick();
  }

  /** Stop claiming work and wait for the running tasks. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.poller) clearInterval(this.poller);
    await this.pumping;
    await Promise.allSettled([...this.inflight]);
  }

  /**
   * Run every task due now on the Clock, and the tasks they enqueue that are due too, until
   * none is left. For tests with a ManualClock (and for benches that want to wait).
   */
  async drain(): Promise<void> {
    for (;;) {
      const n = await this.claimAndRun();
      await Promise.allSettled([...this.inflight]);
      if (n === 0 && this.inflight.size === 0) {
        // Nothing due and nothing running: done unless something became due meanwhile.
        const due = await this.dueCount();
        if (due === 0) return;
      }
    }
  }

  /** Tasks not yet finished (due or not). */
  async pending(): Promise<number> {
    const r = await this.db.selectFrom("task").select((eb) => eb.fn.countAll().as("n")).executeTakeFirst();
    return Number((r as { n: unknown } | undefined)?.n ?? 0);
  }

  private async dueCount(): Promise<number> {
    const now = this.clock.now().getTime();
    const r = await this.db
      .selectFrom("task")
      .where("run_at", "<=", now)
      .where("lease_until", "<", now)
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirst();
    return Number((r as { n: unknown } | undefined)?.n ?? 0);
  }

  private wakeAt(runAt: number, afterCommit: boolean): void {
    if (!this.started || this.stopped) return;
    const delay = Math.max(0, runAt - this.clock.now().getTime()) + (afterCommit ? 1 : 0);
    const at = Date.now() + delay;
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.kick();
    }, delay);
    this.timer.unref();
  }

  /** Start a pump unless one runs; a pump claims and runs until nothing is due. */
  private kick(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = (async () => {
      try {
        do {
          this.again = false;
          while (!this.stopped && (await this.claimAndRun()) > 0) {
            // keep claiming while there is room and work
          }
        } while (this.again && !this.stopped);
        await this.scheduleNext();
      } catch (e) {
        this.log.error({ err: e }, "task runner: claim failed");
      } finally {
        this.pumping = undefined;
      }
    })();
  }

  /** Arm the timer for the earliest future task known to the database. */
  private async scheduleNext(): Promise<void> {
    const r = (await this.db.selectFrom("task").select((eb) => eb.fn.min("run_at").as("t")).executeTakeFirst()) as { t: unknown } | undefined;
    if (r?.t !== null && r?.t !== undefined) this.wakeAt(Number(r.t), false);
  }

  /** Claim up to the free concurrency of due tasks and start them; returns how many. */
  private async claimAndRun(): Promise<number> {
    const room = this.concurrency - this.running;
    if (room <= 0) return 0;
    const now = this.clock.now().getTime();
    const lease = now + this.leaseMs;
    let rows: Array<{ id: string; kind: string; payload: string; attempts: unknown }>;
    for (let attempt = 1; ; attempt++) {
      try {
        rows = await this.db.transaction().execute(async (trx) => {
          let q = trx
            .selectFrom("task")
            .select(["id"])
            .where("run_at", "<=", now)
            .where("lease_until", "<", now)
            .orderBy("run_at")
            .limit(room);
          if (this.pg) q = q.forUpdate().skipLocked();
          const ids = (await q.execute()).map((r: { id: string }) => r.id);
          if (ids.length === 0) return [];
          return (await trx
            .updateTable("task")
            .set((eb) => ({ lease_until: lease, attempts: eb("attempts", "+", 1) }))
            .where("id", "in", ids)
            .returning(["id", "kind", "payload", "attempts"])
            .execute()) as Array<{ id: string; kind: string; payload: string; attempts: unknown }>;
        });
        break;
      } catch (e) {
        if (isRetryable(e) && attempt < 6) continue;
        throw e;
      }
    }
    for (const row of rows) {
      this.running++;
      const p = this.runOne(row).finally(() => {
        this.running--;
        this.inflight.delete(p);
        if (this.started) this.kick();
      });
      this.inflight.add(p);
    }
    return rows.length;
  }

  private async runOne(row: { id: string; kind: string; payload: string; attempts: unknown }): Promise<void> {
    const handler = this.handlers.get(row.kind);
    const attempt = Number(row.attempts);
    try {
      if (!handler) throw new Error(`no handler for task kind ${row.kind}`);
      await handler(JSON.parse(row.payload) as unknown, { id: row.id, kind: row.kind, attempt });
      await this.db.deleteFrom("task").where("id", "=", row.id).execute();
    } catch (e) {
      if (attempt >= this.maxAttempts) {
        this.log.error({ err: e, task: row.id, kind: row.kind, attempt }, "task failed for good; dropped");
        await this.db.deleteFrom("task").where("id", "=", row.id).execute().catch(() => undefined);
        return;
      }
      const backoff = Math.min(60_000, 500 * 2 ** (attempt - 1));
      const at = this.clock.now().getTime() + backoff;
      this.log.warn({ err: e, task: row.id, kind: row.kind, attempt }, "task failed; will retry");
      await this.db
        .updateTable("task")
        .set({ run_at: at, lease_until: 0 })
        .where("id", "=", row.id)
        .execute()
        .catch(() => undefined);
      this.wakeAt(at, false);
    }
  }
}
