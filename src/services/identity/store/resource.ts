import type { ProjectRow, Q } from "./tables.js";
import { ROOT_DOMAIN } from "./tables.js";

/** Queries over `project`, which holds projects and (is_domain=1) domains. */
export async function getProject(q: Q, id: string): Promise<ProjectRow | undefined> {
  return q.selectFrom("project").selectAll().where("id", "=", id).executeTakeFirst();
}

export async function getDomain(q: Q, id: string): Promise<ProjectRow | undefined> {
  return q.selectFrom("project").selectAll().where("id", "=", id).where("is_domain", "=", 1).executeTakeFirst();
}

export async function getDomainByName(q: Q, name: string): Promise<ProjectRow | undefined> {
  return q
    .selectFrom("project")
    .selectAll()
    .where("name", "=", name)
    .where("domain_id", "=", ROOT_DOMAIN)
    .executeTakeFirst();
}

export async function getProjectByName(q: Q, name: string, domainId: string): Promise<ProjectRow | undefined> {
  return q
    .selectFrom("project")
    .selectAll()
    .where("name", "=", name)
    .where("domain_id", "=", domainId)
    .executeTakeFirst();
}

export interface ProjectFilter {
  name?: string;
  domainId?: string;
  enabled?: boolean;
  isDomain?: boolean;
  parentId?: string;
  ids?: readonly string[];
}

export async function listProjects(q: Q, f: ProjectFilter): Promise<ProjectRow[]> {
  let s = q.selectFrom("project").selectAll();
  if (f.name !== undefined) s = s.where("name", "=", f.name);
  if (f.domainId !== undefined) s = s.where("domain_id", "=", f.domainId);
  if (f.enabled !== undefined) s = s.where("enabled", "=", f.enabled ? 1 : 0);
  if (f.isDomain !== undefined) s = s.where("is_domain", "=", f.isDomain ? 1 : 0);
  if (f.parentId !== undefined) s = s.where("parent_id", "=", f.parentId);
  if (f.ids !== undefined) {
    if (f.ids.length === 0) return [];
    s = s.where("id", "in", f.ids);
  }
  return s.orderBy("name").orderBy("id").execute();
}

export async function children(q: Q, parentId: string): Promise<ProjectRow[]> {
  return q.selectFrom("project").selectAll().where("parent_id", "=", parentId).where("is_domain", "=", 0).execute();
}

/** All descendants (not including the project itself), breadth first. */
export async function subtree(q: Q, id: string): Promise<ProjectRow[]> {
  const out: ProjectRow[] = [];
  let frontier = [id];
  while (frontier.length > 0) {
    const rows = await q
      .selectFrom("project")
      .selectAll()
      .where("parent_id", "in", frontier)
      .where("is_domain", "=", 0)
      .execute();
    out.push(...rows);
    frontier = rows.map((r) => r.id);
  }
  return out;
}

/** Ancestors from the immediate parent up to (and including) the domain project. */
export async function parents(q: Q, p: ProjectRow): Promise<ProjectRow[]> {
  const out: ProjectRow[] = [];
  let cur = p;
  for (let i = 0; i < 100 && cur.parent_id; i++) {
    const parent = await getProject(q, cur.parent_id);
    if (!parent) break;
    out.push(parent);
    cur = parent;
  }
  return out;
}

export async function insertProject(q: Q, row: ProjectRow): Promise<void> {
  await q.insertInto("project").values(row).execute();
}

export async function updateProject(q: Q, id: string, patch: Partial<ProjectRow>): Promise<void> {
  await q.updateTable("project").set(patch).where("id", "=", id).execute();
}

export async function deleteProjectRow(q: Q, id: string): Promise<void> {
  await q.deleteFrom("project").where("id", "=", id).execute();
}
