import type { Q } from "./tables.js";

export interface RbacEntry {
  object_id: string;
  action: string;
  target_project: string;
}

/**
 * The RBAC entries that grant a project access to objects of a type: those naming it and
 * the wildcard ones. Neutron's query hooks show a project its own objects plus these.
 */
export async function rbacGrants(q: Q, objectType: string, projectId: string | undefined, objectIds?: readonly string[]): Promise<RbacEntry[]> {
  let query = q
    .selectFrom("net_rbac_policy")
    .select(["object_id", "action", "target_project"])
    .where("object_type", "=", objectType)
    .where("target_project", "in", projectId ? ["*", projectId] : ["*"]);
  if (objectIds) {
    if (objectIds.length === 0) return [];
    query = query.where("object_id", "in", objectIds);
  }
  return query.execute();
}

/** Every entry on some objects (to compute wildcard flags and in-use checks). */
export async function rbacEntriesOf(q: Q, objectType: string, objectIds: readonly string[]): Promise<RbacEntry[]> {
  if (objectIds.length === 0) return [];
  return q
    .selectFrom("net_rbac_policy")
    .select(["object_id", "action", "target_project"])
    .where("object_type", "=", objectType)
    .where("object_id", "in", objectIds)
    .execute();
}
