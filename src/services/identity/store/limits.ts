import type { Q, RegisteredLimitRow, UnifiedLimitRow } from "./tables.js";

/** A limit joined with its registered limit: what Keystone's LimitModel.to_dict() shows. */
export interface LimitJoined extends UnifiedLimitRow {
  service_id: string;
  region_id: string | null;
  resource_name: string;
}

/** The identity Keystone checks registered limits for duplicates by. */
export function registeredKey(serviceId: string, regionId: string | null, resourceName: string): string {
  return `${serviceId}\n${regionId ?? ""}\n${resourceName}`;
}

export interface RegisteredLimitFilter {
  serviceId?: string;
  regionId?: string | null;
  resourceName?: string;
}

export async function listRegisteredLimits(q: Q, f: RegisteredLimitFilter = {}): Promise<RegisteredLimitRow[]> {
  let s = q.selectFrom("registered_limit").selectAll();
  if (f.serviceId !== undefined) s = s.where("service_id", "=", f.serviceId);
  if (f.regionId === null) s = s.where("region_id", "is", null);
  else if (f.regionId !== undefined) s = s.where("region_id", "=", f.regionId);
  if (f.resourceName !== undefined) s = s.where("resource_name", "=", f.resourceName);
  return s.orderBy("id").execute();
}

export async function getRegisteredLimit(q: Q, id: string): Promise<RegisteredLimitRow | undefined> {
  return q.selectFrom("registered_limit").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function insertRegisteredLimit(q: Q, row: RegisteredLimitRow): Promise<void> {
  await q.insertInto("registered_limit").values(row).execute();
}

export async function updateRegisteredLimit(q: Q, row: RegisteredLimitRow): Promise<void> {
  const { id, ...rest } = row;
  await q.updateTable("registered_limit").set(rest).where("id", "=", id).execute();
}

export async function deleteRegisteredLimit(q: Q, id: string): Promise<void> {
  await q.deleteFrom("registered_limit").where("id", "=", id).execute();
}

export async function countLimitsOf(q: Q, registeredLimitId: string): Promise<number> {
  const r = await q
    .selectFrom("unified_limit")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("registered_limit_id", "=", registeredLimitId)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

export interface LimitFilter extends RegisteredLimitFilter {
  projectId?: string;
  domainId?: string;
  ids?: readonly string[];
}

function joined(q: Q) {
  return q
    .selectFrom("unified_limit as l")
    .innerJoin("registered_limit as r", "r.id", "l.registered_limit_id")
    .select([
      "l.id",
      "l.registered_limit_id",
      "l.project_id",
      "l.domain_id",
      "l.owner_id",
      "l.resource_limit",
      "l.description",
      "r.service_id",
      "r.region_id",
      "r.resource_name",
    ]);
}

export async function listLimits(q: Q, f: LimitFilter = {}): Promise<LimitJoined[]> {
  let s = joined(q);
  if (f.serviceId !== undefined) s = s.where("r.service_id", "=", f.serviceId);
  if (f.regionId === null) s = s.where("r.region_id", "is", null);
  else if (f.regionId !== undefined) s = s.where("r.region_id", "=", f.regionId);
  if (f.resourceName !== undefined) s = s.where("r.resource_name", "=", f.resourceName);
  if (f.projectId !== undefined) s = s.where("l.project_id", "=", f.projectId);
  if (f.domainId !== undefined) s = s.where("l.domain_id", "=", f.domainId);
  return s.orderBy("l.id").execute();
}

export async function getLimit(q: Q, id: string): Promise<LimitJoined | undefined> {
  return joined(q).where("l.id", "=", id).executeTakeFirst();
}

export async function findLimit(q: Q, registeredLimitId: string, ownerId: string): Promise<UnifiedLimitRow | undefined> {
  return q
    .selectFrom("unified_limit")
    .selectAll()
    .where("registered_limit_id", "=", registeredLimitId)
    .where("owner_id", "=", ownerId)
    .executeTakeFirst();
}

export async function insertLimit(q: Q, row: UnifiedLimitRow): Promise<void> {
  await q.insertInto("unified_limit").values(row).execute();
}

export async function updateLimit(q: Q, id: string, set: Partial<Pick<UnifiedLimitRow, "resource_limit" | "description">>): Promise<void> {
  if (Object.keys(set).length === 0) return;
  await q.updateTable("unified_limit").set(set).where("id", "=", id).execute();
}

export async function deleteLimit(q: Q, id: string): Promise<void> {
  await q.deleteFrom("unified_limit").where("id", "=", id).execute();
}

/** A project's or domain's limits go with it (Keystone's delete_limits_for_project). */
export async function deleteLimitsOfOwner(q: Q, ownerId: string): Promise<void> {
  await q.deleteFrom("unified_limit").where("owner_id", "=", ownerId).execute();
}
