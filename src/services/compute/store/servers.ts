import { sql } from "kysely";
import { uuid as newUuid } from "../../../common/ids.js";
import type { InstanceRow, MigrationRow, SQ, ServersDB, ServersTrx } from "./servers-tables.js";

/**
 * The servers half's store: instance rows and what hangs off them (faults, actions and events,
 * tags, migrations, server group membership, block device mappings). Operation-shaped
 * functions over a query runner (the database or the caller's transaction); no policy, no HTTP.
 */

/** nova/compute/vm_states.py */
export const VM = {
  ACTIVE: "active",
  BUILDING: "building",
  PAUSED: "paused",
  SUSPENDED: "suspended",
  STOPPED: "stopped",
  RESCUED: "rescued",
  RESIZED: "resized",
  SOFT_DELETED: "soft-delete",
  DELETED: "deleted",
  ERROR: "error",
  SHELVED: "shelved",
  SHELVED_OFFLOADED: "shelved_offloaded",
} as const;

/** nova/compute/power_state.py */
export const POWER = { NOSTATE: 0, RUNNING: 1, PAUSED: 3, SHUTDOWN: 4, CRASHED: 6, SUSPENDED: 7 } as const;

/** The flavor an instance was built with (Nova's instance_extra.flavor), old/new during a resize. */
export interface FlavorSnapshot {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  rxtx_factor: number;
  is_public: boolean;
  description: string | null;
  extra_specs: Record<string, string>;
}

export interface FlavorSet {
  cur: FlavorSnapshot;
  old?: FlavorSnapshot | null;
  new?: FlavorSnapshot | null;
}

/** One port of the instance as Nova's network_info cache keeps it. */
export interface Vif {
  port_id: string;
  network_id: string;
  /** The network's name: the key under "addresses". */
  network_label: string;
  mac: string;
  /** Nova created the port (deleted with the server) or the user gave it (unbound only). */
  preexisting: boolean;
  fixed_ips: Array<{ address: string; version: 4 | 6; subnet_id: string; floating_ips: string[] }>;
  tag?: string | null;
  /** The port's security group ids (names are looked up per page of servers). */
  security_groups?: string[];
}

/** What the scheduler was asked (Nova's RequestSpec), kept for moves. */
export interface RequestSpec {
  /** The AZ the user asked for (null: any). */
  availability_zone?: string | null;
  /** Admin-forced host / node ("az:host:node"), or 2.74 host/hypervisor_hostname. */
  force_host?: string | null;
  force_node?: string | null;
  requested_host?: string | null;
  requested_node?: string | null;
  /** Scheduler hints as given. */
  scheduler_hints?: Record<string, unknown>;
  /** The server group the instance joined (hint "group"). */
  group_uuid?: string | null;
  /** Image properties relevant to scheduling (traits:*, hw_*, img_*). */
  image_properties?: Record<string, unknown>;
  /** Networks requested at boot, as normalised by the API. */
  networks?: unknown;
  /** Hosts already tried by this build (reschedules). */
  tried_hosts?: string[];
  /** Volume-backed (root disk is a Cinder volume): no DISK_GB for the root is claimed. */
  is_bfv?: boolean;
  security_groups?: string[];
}

/** An instance row with its JSON decoded and its booleans as booleans. */
export interface Instance extends Omit<InstanceRow, "id" | "flavor" | "metadata" | "system_metadata" | "network_info" | "request_spec" | "trusted_certs" | "locked" | "deleted" | "hidden" | "auto_disk_config"> {
  id: number;
  flavor: FlavorSet;
  metadata: Record<string, string>;
  system_metadata: Record<string, string>;
  network_info: Vif[];
  request_spec: RequestSpec;
  trusted_certs: string[] | null;
  locked: boolean;
  deleted: boolean;
  hidden: boolean;
  auto_disk_config: boolean;
}

export function toInstance(r: InstanceRow): Instance {
  return {
    ...r,
    id: Number(r.id),
    power_state: Number(r.power_state),
    vcpus: Number(r.vcpus),
    memory_mb: Number(r.memory_mb),
    root_gb: Number(r.root_gb),
    ephemeral_gb: Number(r.ephemeral_gb),
    launch_index: Number(r.launch_index),
    progress: Number(r.progress),
    flavor: JSON.parse(r.flavor) as FlavorSet,
    metadata: JSON.parse(r.metadata) as Record<string, string>,
    system_metadata: JSON.parse(r.system_metadata) as Record<string, string>,
    network_info: JSON.parse(r.network_info) as Vif[],
    request_spec: JSON.parse(r.request_spec) as RequestSpec,
    trusted_certs: r.trusted_certs === null ? null : (JSON.parse(r.trusted_certs) as string[]),
    locked: Number(r.locked) === 1,
    deleted: Number(r.deleted) === 1,
    hidden: Number(r.hidden) === 1,
    auto_disk_config: Number(r.auto_disk_config) === 1,
  };
}

/** The writable columns of an instance, JSON fields as objects (encoded here). */
export type InstancePatch = Partial<{
  display_name: string;
  display_description: string | null;
  hostname: string;
  host: string | null;
  node: string | null;
  availability_zone: string | null;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  flavor_id: string;
  vcpus: number;
  memory_mb: number;
  root_gb: number;
  ephemeral_gb: number;
  flavor: FlavorSet;
  image_ref: string;
  key_name: string | null;
  key_data: string | null;
  metadata: Record<string, string>;
  system_metadata: Record<string, string>;
  user_data: string | null;
  config_drive: string;
  access_ip_v4: string | null;
  access_ip_v6: string | null;
  auto_disk_config: boolean;
  progress: number;
  root_device_name: string | null;
  locked: boolean;
  locked_by: string | null;
  locked_reason: string | null;
  trusted_certs: string[] | null;
  network_info: Vif[];
  request_spec: RequestSpec;
  launched_at: string | null;
  terminated_at: string | null;
  deleted_at: string | null;
  deleted: boolean;
  hidden: boolean;
}>;

const JSON_FIELDS = new Set(["flavor", "metadata", "system_metadata", "network_info", "request_spec", "trusted_certs"]);
const BOOL_FIELDS = new Set(["locked", "deleted", "hidden", "auto_disk_config"]);

function encodePatch(p: InstancePatch): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    if (JSON_FIELDS.has(k)) out[k] = v === null ? null : JSON.stringify(v);
    else if (BOOL_FIELDS.has(k)) out[k] = v ? 1 : 0;
    else out[k] = v;
  }
  return out;
}

/** Timestamps as stored: ISO 8601 with milliseconds, Z. */
export function stamp(d: Date): string {
  return d.toISOString();
}

/**
 * Integer ids from a named sequence, `n` at once: one atomic UPDATE … RETURNING on its own
 * (outside any open transaction, so concurrent boots do not queue on the sequence row).
 */
export async function nextIds(db: ServersDB, name: "instance" | "migration", n = 1): Promise<number[]> {
  const r = await db
    .updateTable("cmp_sequence")
    .set((eb) => ({ value: eb("value", "+", n) }))
    .where("name", "=", name)
    .returning("value")
    .executeTakeFirstOrThrow();
  const last = Number(r.value);
  return Array.from({ length: n }, (_, i) => last - n + 1 + i);
}

export type NewInstance = Omit<InstanceRow, "flavor" | "metadata" | "system_metadata" | "network_info" | "request_spec" | "trusted_certs"> & {
  flavor: FlavorSet;
  metadata: Record<string, string>;
  system_metadata: Record<string, string>;
  network_info: Vif[];
  request_spec: RequestSpec;
  trusted_certs: string[] | null;
};

export async function insertInstance(q: SQ, inst: NewInstance): Promise<void> {
  await q
    .insertInto("cmp_instance")
    .values({
      ...inst,
      flavor: JSON.stringify(inst.flavor),
      metadata: JSON.stringify(inst.metadata),
      system_metadata: JSON.stringify(inst.system_metadata),
      network_info: JSON.stringify(inst.network_info),
      request_spec: JSON.stringify(inst.request_spec),
      trusted_certs: inst.trusted_certs === null ? null : JSON.stringify(inst.trusted_certs),
    })
    .execute();
}

/** A non-deleted instance (or a deleted one with includeDeleted); PostgreSQL `lock` takes the row lock. */
export async function getInstance(q: SQ, uuid: string, opts: { includeDeleted?: boolean; lock?: boolean } = {}): Promise<Instance | undefined> {
  let s = q.selectFrom("cmp_instance").selectAll().where("uuid", "=", uuid);
  if (!opts.includeDeleted) s = s.where("deleted", "=", 0);
  if (opts.lock) s = s.forUpdate();
  const r = await s.executeTakeFirst();
  return r ? toInstance(r) : undefined;
}

export async function getInstances(q: SQ, uuids: string[]): Promise<Instance[]> {
  if (uuids.length === 0) return [];
  const rows = await q.selectFrom("cmp_instance").selectAll().where("uuid", "in", uuids).execute();
  return rows.map(toInstance);
}

/**
 * What an update expects to find (Nova's `instance.save(expected_task_state=…)`): the update
 * happens only when the row still matches, so two requests racing on one instance cannot
 * both win. `task_state: [null]` means "no task in progress".
 */
export interface Expect {
  vm_state?: readonly string[];
  task_state?: ReadonlyArray<string | null>;
  /** Only when the instance is on this host (a task finishing after a move must not clobber). */
  host?: string | null;
  deleted?: boolean;
}

/** Update an instance; false when it no longer matches `expect` (or is gone). updated_at is set. */
export async function updateInstance(q: SQ, uuid: string, patch: InstancePatch, now: string, expect: Expect = {}): Promise<boolean> {
  let u = q
    .updateTable("cmp_instance")
    .set({ ...encodePatch(patch), updated_at: now })
    .where("uuid", "=", uuid);
  u = u.where("deleted", "=", expect.deleted ? 1 : 0);
  if (expect.vm_state) u = u.where("vm_state", "in", [...expect.vm_state]);
  if (expect.task_state) {
    const ts = expect.task_state;
    const named = ts.filter((t): t is string => t !== null);
    const withNull = ts.includes(null);
    u = u.where((eb) => {
      const ors = [];
      if (named.length > 0) ors.push(eb("task_state", "in", named));
      if (withNull) ors.push(eb("task_state", "is", null));
      return ors.length > 0 ? eb.or(ors) : eb.val(false);
    });
  }
  if (expect.host !== undefined) u = expect.host === null ? u.where("host", "is", null) : u.where("host", "=", expect.host);
  const r = await u.executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

// ---- faults ----------------------------------------------------------------------------

export interface Fault {
  code: number;
  message: string;
  details: string;
  host: string | null;
  created_at: string;
}

export async function addFault(q: SQ, instanceUuid: string, f: { code: number; message: string; details?: string; host?: string | null }, now: string): Promise<void> {
  await q
    .insertInto("cmp_instance_fault")
    .values({ id: newUuid(), instance_uuid: instanceUuid, code: f.code, message: f.message, details: f.details ?? "", host: f.host ?? null, created_at: now })
    .execute();
}

/** The latest fault of each instance (those in ERROR show it). One query for a page of servers. */
export async function latestFaults(q: SQ, uuids: string[]): Promise<Map<string, Fault>> {
  const out = new Map<string, Fault>();
  if (uuids.length === 0) return out;
  const rows = await q.selectFrom("cmp_instance_fault").selectAll().where("instance_uuid", "in", uuids).orderBy("created_at", "asc").execute();
  for (const r of rows) out.set(r.instance_uuid, { code: Number(r.code), message: r.message, details: r.details, host: r.host, created_at: r.created_at });
  return out;
}

// ---- instance actions and events ------------------------------------------------------------

export async function startAction(
  q: SQ,
  a: { instance_uuid: string; action: string; request_id: string; project_id: string; user_id: string },
  now: string,
): Promise<string> {
  const id = newUuid();
  await q
    .insertInto("cmp_instance_action")
    .values({ id, ...a, start_time: now, finish_time: null, message: null, updated_at: now })
    .execute();
  return id;
}

/** The action a request started on an instance (events are recorded under it). */
export async function findAction(q: SQ, instanceUuid: string, requestId: string): Promise<{ id: string } | undefined> {
  return q
    .selectFrom("cmp_instance_action")
    .select("id")
    .where("instance_uuid", "=", instanceUuid)
    .where("request_id", "=", requestId)
    .executeTakeFirst();
}

export async function finishAction(q: SQ, actionId: string, now: string, message: string | null = null): Promise<void> {
  await q.updateTable("cmp_instance_action").set({ finish_time: now, updated_at: now, ...(message ? { message } : {}) }).where("id", "=", actionId).execute();
}

/**
 * Start an event of an action (idempotent: a task run twice reuses the unfinished event).
 * Returns the event id.
 */
export async function startEvent(q: SQ, actionId: string, event: string, host: string | null, now: string): Promise<string> {
  const open = await q
    .selectFrom("cmp_instance_action_event")
    .select("id")
    .where("action_id", "=", actionId)
    .where("event", "=", event)
    .where("finish_time", "is", null)
    .executeTakeFirst();
  if (open) return open.id;
  const id = newUuid();
  await q
    .insertInto("cmp_instance_action_event")
    .values({ id, action_id: actionId, event, start_time: now, finish_time: null, result: null, traceback: null, host, details: null })
    .execute();
  await q.updateTable("cmp_instance_action").set({ updated_at: now }).where("id", "=", actionId).execute();
  return id;
}

export async function finishEvent(
  q: SQ,
  eventId: string,
  result: "Success" | "Error",
  now: string,
  opts: { traceback?: string | null; details?: string | null } = {},
): Promise<void> {
  await q
    .updateTable("cmp_instance_action_event")
    .set({ finish_time: now, result, traceback: opts.traceback ?? null, details: opts.details ?? null })
    .where("id", "=", eventId)
    .execute();
}

/** Nova marks the action's message "Error" when an event fails. */
export async function markActionError(q: SQ, actionId: string, now: string): Promise<void> {
  await q.updateTable("cmp_instance_action").set({ message: "Error", updated_at: now }).where("id", "=", actionId).execute();
}

// ---- tags ----------------------------------------------------------------------------------

export async function tagsOf(q: SQ, uuids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (uuids.length === 0) return out;
  const rows = await q.selectFrom("cmp_instance_tag").selectAll().where("instance_uuid", "in", uuids).orderBy("tag").execute();
  for (const r of rows) {
    let l = out.get(r.instance_uuid);
    if (!l) out.set(r.instance_uuid, (l = []));
    l.push(r.tag);
  }
  return out;
}

export async function setTags(q: SQ, instanceUuid: string, tags: string[]): Promise<void> {
  await q.deleteFrom("cmp_instance_tag").where("instance_uuid", "=", instanceUuid).execute();
  if (tags.length > 0) await q.insertInto("cmp_instance_tag").values(tags.map((tag) => ({ instance_uuid: instanceUuid, tag }))).execute();
}

// ---- migrations --------------------------------------------------------------------------

export type NewMigration = Omit<MigrationRow, "id" | "uuid" | "created_at" | "updated_at" | "deleted" | "hidden"> & { hidden?: number };

/** Insert a migration record; `id` from nextIds(db, "migration"). Returns its uuid. */
export async function insertMigration(q: SQ, id: number, m: NewMigration, now: string): Promise<string> {
  const uuid = newUuid();
  await q
    .insertInto("cmp_migration")
    .values({ hidden: 0, ...m, id, uuid, created_at: now, updated_at: now, deleted: 0 })
    .execute();
  return uuid;
}

export async function updateMigration(q: SQ, id: number, patch: Partial<Omit<MigrationRow, "id" | "uuid">>, now: string): Promise<void> {
  await q.updateTable("cmp_migration").set({ ...patch, updated_at: now }).where("id", "=", id).execute();
}

// ---- usage -------------------------------------------------------------------------------------

/** Instances, cores and RAM of a project (and user), not deleted (Nova counts from the instances table). */
export async function usageOf(q: SQ, projectId: string, userId?: string): Promise<{ instances: number; cores: number; ram: number }> {
  let s = q
    .selectFrom("cmp_instance")
    .select((eb) => [eb.fn.countAll().as("n"), eb.fn.sum("vcpus").as("cores"), eb.fn.sum("memory_mb").as("ram")])
    .where("project_id", "=", projectId)
    .where("deleted", "=", 0);
  if (userId !== undefined) s = s.where("user_id", "=", userId);
  const r = (await s.executeTakeFirst()) as { n: unknown; cores: unknown; ram: unknown } | undefined;
  return { instances: Number(r?.n ?? 0), cores: Number(r?.cores ?? 0), ram: Number(r?.ram ?? 0) };
}

export async function onHosts(q: SQ, hosts: string[]): Promise<Map<string, Array<{ uuid: string; name: string }>>> {
  const out = new Map<string, Array<{ uuid: string; name: string }>>();
  for (const h of hosts) out.set(h, []);
  if (hosts.length === 0) return out;
  const rows = await q.selectFrom("cmp_instance").select(["uuid", "display_name", "host"]).where("host", "in", hosts).where("deleted", "=", 0).execute();
  for (const r of rows) out.get(r.host!)?.push({ uuid: r.uuid, name: r.display_name });
  return out;
}

export { sql };
export type { ServersTrx };
