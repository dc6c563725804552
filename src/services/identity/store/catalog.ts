import type {
  EndpointGroupRow,
  EndpointRow,
  PolicyAssociationRow,
  PolicyRow,
  Q,
  RegionRow,
  ServiceRow,
} from "./tables.js";

/** Queries over region, service, endpoint and the OS-EP-FILTER / OS-ENDPOINT-POLICY tables. */

// ---- regions ----------------------------------------------------------------------------------

export async function getRegion(q: Q, id: string): Promise<RegionRow | undefined> {
  return q.selectFrom("region").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function listRegions(q: Q, f: { parentRegionId?: string } = {}): Promise<RegionRow[]> {
  let s = q.selectFrom("region").selectAll();
  if (f.parentRegionId !== undefined) s = s.where("parent_region_id", "=", f.parentRegionId);
  return s.orderBy("id").execute();
}

export async function insertRegion(q: Q, row: RegionRow): Promise<void> {
  await q.insertInto("region").values(row).execute();
}

/** Insert unless a region with that id exists (legacy `region` on endpoints). */
export async function ensureRegion(q: Q, id: string): Promise<void> {
  await q
    .insertInto("region")
    .values({ id, description: "", parent_region_id: null, extra: "{}" })
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
}

export async function updateRegion(q: Q, id: string, patch: Partial<RegionRow>): Promise<void> {
  await q.updateTable("region").set(patch).where("id", "=", id).execute();
}

export async function deleteRegions(q: Q, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await q.deleteFrom("region").where("id", "in", ids).execute();
}

// ---- services ---------------------------------------------------------------------------------

export async function getService(q: Q, id: string): Promise<ServiceRow | undefined> {
  return q.selectFrom("service").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function listServices(q: Q, f: { type?: string } = {}): Promise<ServiceRow[]> {
  let s = q.selectFrom("service").selectAll();
  if (f.type !== undefined) s = s.where("type", "=", f.type);
  return s.orderBy("id").execute();
}

export async function insertService(q: Q, row: ServiceRow): Promise<void> {
  await q.insertInto("service").values(row).execute();
}

export async function updateService(q: Q, id: string, patch: Partial<ServiceRow>): Promise<void> {
  await q.updateTable("service").set(patch).where("id", "=", id).execute();
}

export async function deleteService(q: Q, id: string): Promise<void> {
  await q.deleteFrom("service").where("id", "=", id).execute();
}

// ---- endpoints --------------------------------------------------------------------------------

export async function getEndpoint(q: Q, id: string): Promise<EndpointRow | undefined> {
  return q.selectFrom("endpoint").selectAll().where("id", "=", id).executeTakeFirst();
}

export interface EndpointFilter {
  interface?: string;
  serviceId?: string;
  regionId?: string;
  ids?: readonly string[];
}

export async function listEndpoints(q: Q, f: EndpointFilter = {}): Promise<EndpointRow[]> {
  let s = q.selectFrom("endpoint").selectAll();
  if (f.interface !== undefined) s = s.where("interface", "=", f.interface);
  if (f.serviceId !== undefined) s = s.where("service_id", "=", f.serviceId);
  if (f.regionId !== undefined) s = s.where("region_id", "=", f.regionId);
  if (f.ids !== undefined) {
    if (f.ids.length === 0) return [];
    s = s.where("id", "in", f.ids);
  }
  return s.orderBy("id").execute();
}

export async function insertEndpoint(q: Q, row: EndpointRow): Promise<void> {
  await q.insertInto("endpoint").values(row).execute();
}

export async function updateEndpoint(q: Q, id: string, patch: Partial<EndpointRow>): Promise<void> {
  await q.updateTable("endpoint").set(patch).where("id", "=", id).execute();
}

/** Drop endpoints and every association that names them. */
export async function deleteEndpoints(q: Q, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await q.deleteFrom("project_endpoint").where("endpoint_id", "in", ids).execute();
  await q.deleteFrom("policy_association").where("endpoint_id", "in", ids).execute();
  await q.deleteFrom("endpoint").where("id", "in", ids).execute();
}

// ---- endpoint groups --------------------------------------------------------------------------

export async function getEndpointGroup(q: Q, id: string): Promise<EndpointGroupRow | undefined> {
  return q.selectFrom("endpoint_group").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function listEndpointGroups(q: Q, f: { name?: string; ids?: readonly string[] } = {}): Promise<EndpointGroupRow[]> {
  let s = q.selectFrom("endpoint_group").selectAll();
  if (f.name !== undefined) s = s.where("name", "=", f.name);
  if (f.ids !== undefined) {
    if (f.ids.length === 0) return [];
    s = s.where("id", "in", f.ids);
  }
  return s.orderBy("id").execute();
}

export async function insertEndpointGroup(q: Q, row: EndpointGroupRow): Promise<void> {
  await q.insertInto("endpoint_group").values(row).execute();
}

export async function updateEndpointGroup(q: Q, id: string, patch: Partial<EndpointGroupRow>): Promise<void> {
  await q.updateTable("endpoint_group").set(patch).where("id", "=", id).execute();
}

export async function deleteEndpointGroup(q: Q, id: string): Promise<void> {
  await q.deleteFrom("project_endpoint_group").where("endpoint_group_id", "=", id).execute();
  await q.deleteFrom("endpoint_group").where("id", "=", id).execute();
}

// ---- project associations ---------------------------------------------------------------------

export async function getProjectEndpoint(q: Q, endpointId: string, projectId: string): Promise<boolean> {
  const r = await q
    .selectFrom("project_endpoint")
    .select("endpoint_id")
    .where("endpoint_id", "=", endpointId)
    .where("project_id", "=", projectId)
    .executeTakeFirst();
  return r !== undefined;
}

export async function insertProjectEndpoint(q: Q, endpointId: string, projectId: string): Promise<void> {
  await q.insertInto("project_endpoint").values({ endpoint_id: endpointId, project_id: projectId }).execute();
}

export async function deleteProjectEndpoint(q: Q, endpointId: string, projectId: string): Promise<number> {
  const r = await q
    .deleteFrom("project_endpoint")
    .where("endpoint_id", "=", endpointId)
    .where("project_id", "=", projectId)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function endpointIdsForProject(q: Q, projectId: string): Promise<string[]> {
  const rows = await q.selectFrom("project_endpoint").select("endpoint_id").where("project_id", "=", projectId).execute();
  return rows.map((r) => r.endpoint_id);
}

export async function projectIdsForEndpoint(q: Q, endpointId: string): Promise<string[]> {
  const rows = await q
    .selectFrom("project_endpoint")
    .select("project_id")
    .where("endpoint_id", "=", endpointId)
    .orderBy("project_id")
    .execute();
  return rows.map((r) => r.project_id);
}

export async function getProjectEndpointGroup(q: Q, groupId: string, projectId: string): Promise<boolean> {
  const r = await q
    .selectFrom("project_endpoint_group")
    .select("project_id")
    .where("endpoint_group_id", "=", groupId)
    .where("project_id", "=", projectId)
    .executeTakeFirst();
  return r !== undefined;
}

export async function insertProjectEndpointGroup(q: Q, groupId: string, projectId: string): Promise<void> {
  await q.insertInto("project_endpoint_group").values({ endpoint_group_id: groupId, project_id: projectId }).execute();
}

export async function deleteProjectEndpointGroup(q: Q, groupId: string, projectId: string): Promise<number> {
  const r = await q
    .deleteFrom("project_endpoint_group")
    .where("endpoint_group_id", "=", groupId)
    .where("project_id", "=", projectId)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function groupIdsForProject(q: Q, projectId: string): Promise<string[]> {
  const rows = await q
    .selectFrom("project_endpoint_group")
    .select("endpoint_group_id")
    .where("project_id", "=", projectId)
    .execute();
  return rows.map((r) => r.endpoint_group_id);
}

export async function projectIdsForGroup(q: Q, groupId: string): Promise<string[]> {
  const rows = await q
    .selectFrom("project_endpoint_group")
    .select("project_id")
    .where("endpoint_group_id", "=", groupId)
    .orderBy("project_id")
    .execute();
  return rows.map((r) => r.project_id);
}

export async function deleteProjectAssociations(q: Q, projectId: string): Promise<void> {
  await q.deleteFrom("project_endpoint").where("project_id", "=", projectId).execute();
  await q.deleteFrom("project_endpoint_group").where("project_id", "=", projectId).execute();
}

// ---- policies ---------------------------------------------------------------------------------

export async function getPolicy(q: Q, id: string): Promise<PolicyRow | undefined> {
  return q.selectFrom("policy").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function listPolicies(q: Q, f: { type?: string } = {}): Promise<PolicyRow[]> {
  let s = q.selectFrom("policy").selectAll();
  if (f.type !== undefined) s = s.where("type", "=", f.type);
  return s.orderBy("id").execute();
}

export async function insertPolicy(q: Q, row: PolicyRow): Promise<void> {
  await q.insertInto("policy").values(row).execute();
}

export async function updatePolicy(q: Q, id: string, patch: Partial<PolicyRow>): Promise<void> {
  await q.updateTable("policy").set(patch).where("id", "=", id).execute();
}

export async function deletePolicy(q: Q, id: string): Promise<void> {
  await q.deleteFrom("policy_association").where("policy_id", "=", id).execute();
  await q.deleteFrom("policy").where("id", "=", id).execute();
}

export interface AssociationTarget {
  endpointId?: string;
  serviceId?: string;
  regionId?: string;
}

export function targetKey(t: AssociationTarget): string {
  return `${t.endpointId ?? ""}|${t.serviceId ?? ""}|${t.regionId ?? ""}`;
}

export async function getAssociation(q: Q, t: AssociationTarget): Promise<PolicyAssociationRow | undefined> {
  return q.selectFrom("policy_association").selectAll().where("target_key", "=", targetKey(t)).executeTakeFirst();
}

/** One association per target: a new policy for the same target replaces the old one. */
export async function upsertAssociation(q: Q, row: PolicyAssociationRow): Promise<void> {
  await q
    .insertInto("policy_association")
    .values(row)
    .onConflict((oc) => oc.column("target_key").doUpdateSet({ policy_id: row.policy_id }))
    .execute();
}

export async function deleteAssociation(q: Q, policyId: string, t: AssociationTarget): Promise<void> {
  await q
    .deleteFrom("policy_association")
    .where("policy_id", "=", policyId)
    .where("target_key", "=", targetKey(t))
    .execute();
}

export async function associationsForPolicy(q: Q, policyId: string): Promise<PolicyAssociationRow[]> {
  return q.selectFrom("policy_association").selectAll().where("policy_id", "=", policyId).orderBy("id").execute();
}

export async function deleteAssociationsFor(q: Q, column: "service_id" | "region_id", ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await q.deleteFrom("policy_association").where(column, "in", ids).execute();
}
