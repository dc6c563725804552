import { Conflict, NotFound } from "../../../common/errors.js";
import { isRetryable } from "../../../db/database.js";
import type { DriverOperation } from "../../../drivers/compute/driver.js";
import { DriverFailure } from "../../../drivers/compute/driver.js";
import type { TaskContext } from "../../../tasks/runner.js";
import type { Compute } from "../api/deps.js";
import type { Expect, Instance, InstancePatch } from "../store/servers.js";
import {
  VM,
  addFault,
  findAction,
  finishAction,
  finishEvent,
  getInstance,
  markActionError,
  stamp,
  startAction,
  startEvent,
  updateInstance,
} from "../store/servers.js";
import type { ServersDB, ServersTrx } from "../store/servers-tables.js";

/** Who asks, as the servers managers need it (no HTTP): api/server-common.ts builds it. */
export interface ServerCaller {
  userId: string;
  projectId: string;
  /** context.is_admin (role admin): sees every project's servers, passes instance locks. */
  admin: boolean;
  /** The request id: instance actions are keyed by it, events of the task are filed under it. */
  requestId: string;
  /** The caller's token, for calls Nova makes as the user (image and network checks). */
  tokenId: string;
}

/** Nova's @check_instance_state arguments; `taskState` defaults to [null] (no task running). */
export interface StateCheck {
  vmState?: readonly string[];
  taskState?: ReadonlyArray<string | null> | null;
  /** Refuse an instance that never launched (launched_at unset), as Nova's must_have_launched. */
  mustHaveLaunched?: boolean;
}

/** A task of the instance state machine: what the wrapper hands the handler. */
export interface InstanceTask<P extends InstanceTaskPayload = InstanceTaskPayload> {
  payload: P;
  /** The instance as it is when the task starts (deleted ones included). */
  instance: Instance;
  /** The instance action the API request recorded (undefined for tasks without one). */
  actionId: string | undefined;
  task: TaskContext;
}

/** Every instance task carries at least these. */
export interface InstanceTaskPayload {
  instance_uuid: string;
  request_id: string;
  [k: string]: unknown;
}

export interface InstanceTaskOptions<P extends InstanceTaskPayload> {
  /** The instance action event recorded around the handler (Nova's wrap_instance_event), e.g. "compute_reboot_instance". */
  event?: string;
  /** Run even when the instance is deleted (delete's own cleanup). Default: a deleted instance ends the task. */
  runOnDeleted?: boolean;
  /**
   * What the instance becomes when the handler throws a DriverFailure (or an InstanceTaskFailure):
   * default vm_state ERROR, task_state null (Nova's instance_update on failure). Return
   * undefined to leave the instance as the handler left it.
   */
  onFailure?: (t: InstanceTask<P>, err: Error) => InstancePatch | undefined | Promise<InstancePatch | undefined>;
}

/** A failure a task handler reports on purpose (recorded as fault + event error, not retried). */
export class InstanceTaskFailure extends Error {
  constructor(
    message: string,
    readonly code = 500,
    readonly details = "",
  ) {
    super(message);
  }
}

/**
 * The instance state machine's plumbing, shared by servers (build, delete) and server actions
 * (reboot, stop, resize, …):
 *  - lookups honouring project visibility (another project's server is "not found"),
 *  - Nova's @check_instance_state / @check_instance_lock checks with the API's 409 messages,
 *  - begin(): one transaction that moves vm_state/task_state (only if the row still matches),
 *    records the instance action, and enqueues the task that finishes the work after the
 *    driver's latency,
 *  - registerTask(): the wrapper that runs such a task idempotently, records the action event,
 *    and on failure writes the fault and the failed state.
 */
export class InstanceOps {
  constructor(private readonly c: Compute) {}

  get db(): ServersDB {
    return this.c.database.db as ServersDB;
  }

  /** A timestamp as stored. */
  now(): string {
    return stamp(this.c.clock.now());
  }

  /** A write transaction, run again when PostgreSQL picks it as a deadlock/serialization victim. */
  async write<T>(fn: (trx: ServersTrx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(fn);
      } catch (e) {
        if (isRetryable(e) && attempt < 6) continue;
        throw e;
      }
    }
  }

  /**
   * The instance a caller may see: Nova reads with a project-scoped context, so another
   * project's server is InstanceNotFound (404), not a policy refusal.
   */
  async get(caller: Pick<ServerCaller, "projectId" | "admin">, uuid: string, opts: { includeDeleted?: boolean } = {}): Promise<Instance> {
    const inst = await getInstance(this.db, uuid, opts);
    if (!inst || (!caller.admin && inst.project_id !== caller.projectId)) throw new NotFound(`Instance ${uuid} could not be found.`);
    return inst;
  }

  /**
   * Nova's @check_instance_state, worded as the API reports InstanceInvalidState
   * (common.raise_http_conflict_for_instance_invalid_state): 409
   * "Cannot 'reboot' instance <uuid> while it is in vm_state stopped".
   */
  checkState(inst: Instance, action: string, check: StateCheck): void {
    const taskState = check.taskState === undefined ? [null] : check.taskState;
    if (check.vmState && !check.vmState.includes(inst.vm_state)) throw invalidState(action, inst.uuid, "vm_state", inst.vm_state);
    if (taskState && !taskState.includes(inst.task_state)) throw invalidState(action, inst.uuid, "task_state", inst.task_state);
    if ((check.mustHaveLaunched ?? true) && !inst.launched_at) {
      throw new Conflict(`Instance ${inst.uuid} is in an invalid state for '${action}'`);
    }
  }

  /** Nova's @check_instance_lock: a locked instance refuses non-admins (409 InstanceIsLocked). */
  checkLock(inst: Instance, caller: Pick<ServerCaller, "admin">): void {
    if (inst.locked && !caller.admin) throw new Conflict(`Instance ${inst.uuid} is locked`);
  }

  /**
   * Start an API action on an instance, atomically:
   *  1. the state moves (`set`, typically task_state) only if the row still satisfies `check`
   *     (a concurrent request that moved it first makes this one a 409 with the current state),
   *  2. the instance action `action` is recorded under the caller's request id,
   *  3. `task` is enqueued to run after the driver's latency for `task.op` (or `delayMs`).
   * Returns the instance as updated.
   */
  async begin(
    caller: ServerCaller,
    inst: Instance,
    opts: {
      /** Instance action name (nova/compute/instance_actions.py): "reboot", "stop", "resize", … */
      action: string;
      /** The name in 409 messages when it differs from `action` (Nova passes the API method: 'reboot', 'stop'). */
      apiAction?: string;
      check: StateCheck;
      /** Skip the lock check (unlock, and admin-only actions Nova does not guard). */
      ignoreLock?: boolean;
      set: InstancePatch;
      task?: { kind: string; payload?: Record<string, unknown>; op?: DriverOperation; delayMs?: number };
      /** More writes in the same transaction (a migration record, …). */
      also?: (trx: ServersTrx, now: string) => Promise<void>;
    },
  ): Promise<Instance> {
    const apiAction = opts.apiAction ?? opts.action;
    if (!opts.ignoreLock) this.checkLock(inst, caller);
    this.checkState(inst, apiAction, opts.check);
    const expect: Expect = {};
    if (opts.check.vmState) expect.vm_state = opts.check.vmState;
    const ts = opts.check.taskState === undefined ? [null] : opts.check.taskState;
    if (ts) expect.task_state = ts;
    const now = this.now();
    const ok = await this.write(async (trx) => {
      if (!(await updateInstance(trx, inst.uuid, opts.set, now, expect))) return false;
      await startAction(trx, { instance_uuid: inst.uuid, action: opts.action, request_id: caller.requestId, project_id: caller.projectId, user_id: caller.userId }, now);
      if (opts.also) await opts.also(trx, now);
      if (opts.task) {
        const delay = opts.task.delayMs ?? (opts.task.op ? this.c.driver.latency(opts.task.op) : 0);
        await this.c.tasks.enqueue(opts.task.kind, { instance_uuid: inst.uuid, request_id: caller.requestId, ...opts.task.payload }, delay, trx);
      }
      return true;
    });
    if (!ok) {
      // Lost a race: report the state that won, as Nova's UnexpectedTaskStateError → 409.
      const cur = await this.get(caller, inst.uuid);
      this.checkState(cur, apiAction, opts.check);
      throw new Conflict(`Instance ${inst.uuid} is in an invalid state for '${apiAction}'`);
    }
    return (await getInstance(this.db, inst.uuid))!;
  }

  /**
   * Register an instance task kind. The wrapper loads the instance (a missing or deleted one
   * ends the task quietly: the task is idempotent), records `event` under the request's
   * action, runs the handler, and on an expected failure (DriverFailure, InstanceTaskFailure)
   * writes a fault, marks the event and action as errors and applies `onFailure` (default:
   * vm_state error, task_state none). Other errors propagate: the TaskRunner retries.
   */
  registerTask<P extends InstanceTaskPayload>(kind: string, handler: (t: InstanceTask<P>) => Promise<void>, opts: InstanceTaskOptions<P> = {}): void {
    this.c.tasks.register(kind, async (raw, task) => {
      const payload = raw as P;
      const instance = await getInstance(this.db, payload.instance_uuid, { includeDeleted: true });
      if (!instance || (instance.deleted && !opts.runOnDeleted)) return;
      const action = await findAction(this.db, instance.uuid, payload.request_id);
      const t: InstanceTask<P> = { payload, instance, actionId: action?.id, task };
      const eventId = action && opts.event ? await startEvent(this.db, action.id, opts.event, instance.host, this.now()) : undefined;
      try {
        await handler(t);
      } catch (e) {
        if (!(e instanceof DriverFailure || e instanceof InstanceTaskFailure)) throw e;
        const err = e as Error;
        const patch = opts.onFailure ? await opts.onFailure(t, err) : { vm_state: VM.ERROR, task_state: null };
        const now = this.now();
        await this.write(async (trx) => {
          await addFault(trx, instance.uuid, faultOf(err, instance.host), now);
          if (patch) await updateInstance(trx, instance.uuid, patch, now, { deleted: instance.deleted });
          if (eventId) await finishEvent(trx, eventId, "Error", now, { traceback: err.stack ?? err.message });
          if (action) await markActionError(trx, action.id, now);
        });
        return;
      }
      if (eventId) await finishEvent(this.db, eventId, "Success", this.now());
      if (action) await finishAction(this.db, action.id, this.now());
    });
  }

  /** Run a driver operation (throws DriverFailure, which registerTask's wrapper records). */
  perform(op: DriverOperation, host: string, instanceUuid: string): Promise<void> {
    return this.c.driver.perform(op, host, instanceUuid);
  }

  /** Record an event of its own (e.g. "compute_prep_resize" between two tasks). */
  async event(instanceUuid: string, requestId: string, event: string, host: string | null, result: "Success" | "Error"): Promise<void> {
    const action = await findAction(this.db, instanceUuid, requestId);
    if (!action) return;
    const id = await startEvent(this.db, action.id, event, host, this.now());
    await finishEvent(this.db, id, result, this.now());
  }
}

/** nova.api.openstack.common.raise_http_conflict_for_instance_invalid_state: a None state gets the generic wording. */
function invalidState(action: string, uuid: string, attr: string, state: string | null): Conflict {
  if (state === null) return new Conflict(`Instance ${uuid} is in an invalid state for '${action}'`);
  return new Conflict(`Cannot '${action}' instance ${uuid} while it is in ${attr} ${state}`);
}

/** The fault Nova's compute_utils.add_instance_fault_from_exc writes: code, message, details. */
function faultOf(err: Error, host: string | null): { code: number; message: string; details: string; host: string | null } {
  if (err instanceof InstanceTaskFailure) return { code: err.code, message: err.message, details: err.details, host };
  return { code: 500, message: err.message, details: err.stack ?? "", host };
}
