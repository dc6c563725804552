import { NotFound } from "../../../common/errors.js";
import { parents as projectParents, subtree as projectSubtree } from "../store/resource.js";
import type { AssignmentRow, AssignmentType, ProjectRow, Q } from "../store/tables.js";
import { NULL_DOMAIN } from "../store/tables.js";

/**
 * One role assignment as Keystone's assignment manager hands it to the API layer
 * (keystone/assignment/core.py list_role_assignments): ids of the actor, the target and the
 * role, `inherited_to_projects` for inherited grants, and `indirect` naming where an
 * expanded (effective) assignment came from. `include_names` adds the *_name fields.
 */
export interface AssignmentRef {
  user_id?: string;
  group_id?: string;
  project_id?: string;
  domain_id?: string;
  system?: { all: true };
  role_id: string;
  inherited_to_projects?: "projects";
  indirect?: { group_id?: string; project_id?: string; domain_id?: string; role_id?: string };
  user_name?: string;
  user_domain_id?: string;
  user_domain_name?: string;
  group_name?: string;
  group_domain_id?: string;
  group_domain_name?: string;
  project_name?: string;
  project_domain_id?: string;
  project_domain_name?: string;
  domain_name?: string;
  role_name?: string;
  role_domain_id?: string;
  role_domain_name?: string;
}

export interface RoleAssignmentFilter {
  roleId?: string;
  userId?: string;
  groupId?: string;
  /** The scope.system value; only "all" selects system assignments alone. */
  system?: string;
  domainId?: string;
  projectId?: string;
  includeSubtree?: boolean;
  /** undefined: both; true: only inherited; false: only direct (scope.OS-INHERIT:inherited_to). */
  inherited?: boolean;
  effective?: boolean;
  includeNames?: boolean;
}

const USER_TYPES: AssignmentType[] = ["UserProject", "UserDomain"];
const GROUP_TYPES: AssignmentType[] = ["GroupProject", "GroupDomain"];
const PROJECT_TYPES: AssignmentType[] = ["UserProject", "GroupProject"];
const DOMAIN_TYPES: AssignmentType[] = ["UserDomain", "GroupDomain"];

interface DriverFilter {
  roleId?: string | undefined;
  userId?: string | undefined;
  groupIds?: readonly string[] | undefined;
  domainId?: string | undefined;
  projectIds?: readonly string[] | undefined;
  inherited?: boolean | undefined;
}

/** The assignment types a filter can match, as the SQL driver's _get_assignment_types. */
function assignmentTypes(f: DriverFilter): AssignmentType[] {
  const actor = f.userId ? USER_TYPES : f.groupIds && f.groupIds.length > 0 ? GROUP_TYPES : [];
  const target = f.projectIds && f.projectIds.length > 0 ? PROJECT_TYPES : f.domainId ? DOMAIN_TYPES : [];
  if (actor.length > 0 && target.length > 0) return actor.filter((t) => target.includes(t));
  if (actor.length > 0) return actor;
  if (target.length > 0) return target;
  return [...PROJECT_TYPES, ...DOMAIN_TYPES];
}

/** A row as Keystone's denormalize_role shapes it (key order matters for equality below). */
function denormalize(r: AssignmentRow): AssignmentRef {
  const out = {} as AssignmentRef;
  if (r.type === "UserProject" || r.type === "UserDomain") out.user_id = r.actor_id;
  else out.group_id = r.actor_id;
  if (r.type === "UserProject" || r.type === "GroupProject") out.project_id = r.target_id;
  else out.domain_id = r.target_id;
  out.role_id = r.role_id;
  if (r.inherited === 1) out.inherited_to_projects = "projects";
  return out;
}

/** Project and domain assignments (never system ones) matching the filter, as the SQL driver. */
async function driverList(q: Q, f: DriverFilter): Promise<AssignmentRef[]> {
  let s = q.selectFrom("assignment").selectAll().where("type", "in", assignmentTypes(f));
  if (f.roleId) s = s.where("role_id", "=", f.roleId);
  const actors = f.groupIds && f.groupIds.length > 0 ? f.groupIds : f.userId ? [f.userId] : undefined;
  if (actors) s = s.where("actor_id", "in", actors);
  const targets = f.projectIds && f.projectIds.length > 0 ? f.projectIds : f.domainId ? [f.domainId] : undefined;
  if (targets) s = s.where("target_id", "in", targets);
  if (f.inherited !== undefined) s = s.where("inherited", "=", f.inherited ? 1 : 0);
  const rows = await s.orderBy("type").orderBy("actor_id").orderBy("target_id").orderBy("role_id").execute();
  return rows.map(denormalize);
}

async function systemList(q: Q, f: { userId?: string | undefined; groupId?: string | undefined }): Promise<AssignmentRef[]> {
  let s = q.selectFrom("assignment").innerJoin("role", "role.id", "assignment.role_id").select(["assignment.type", "assignment.actor_id", "assignment.role_id"]);
  if (f.userId) s = s.where("assignment.type", "=", "UserSystem").where("assignment.actor_id", "=", f.userId);
  else if (f.groupId) s = s.where("assignment.type", "=", "GroupSystem").where("assignment.actor_id", "=", f.groupId);
  else s = s.where("assignment.type", "in", ["UserSystem", "GroupSystem"]);
  const rows = await s.orderBy("assignment.type").orderBy("assignment.actor_id").orderBy("role.name").execute();
  return rows.map((r) => {
    const ref: AssignmentRef = r.type === "UserSystem" ? ({ user_id: r.actor_id } as AssignmentRef) : ({ group_id: r.actor_id } as AssignmentRef);
    ref.role_id = r.role_id;
    ref.system = { all: true };
    return ref;
  });
}

async function requireProject(q: Q, id: string): Promise<ProjectRow> {
  const p = await q.selectFrom("project").selectAll().where("id", "=", id).executeTakeFirst();
  if (!p) throw new NotFound(`Could not find project: ${id}.`);
  return p;
}

async function subtreeIds(q: Q, projectId: string): Promise<string[]> {
  await requireProject(q, projectId);
  return (await projectSubtree(q, projectId)).map((p) => p.id);
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/**
 * GET /v3/role_assignments, following keystone/assignment/core.py: direct listing, or the
 * effective listing that expands group membership, inheritance and implied roles and drops
 * domain-specific roles.
 */
export async function listRoleAssignments(q: Q, f: RoleAssignmentFilter): Promise<AssignmentRef[]> {
  let subtree: string[] | undefined;
  if (f.projectId && f.includeSubtree) subtree = await subtreeIds(q, f.projectId);
  const system = f.system === "all" ? "all" : undefined;
  const refs = f.effective ? await effectiveList(q, f, subtree) : await directList(q, f, system, subtree);
  return f.includeNames ? withNames(q, refs) : refs;
}

async function directList(q: Q, f: RoleAssignmentFilter, system: string | undefined, subtree: string[] | undefined): Promise<AssignmentRef[]> {
  const projectIds = f.projectId ? [...(subtree ?? []), f.projectId] : undefined;
  let out: AssignmentRef[] = [];
  if (!system) {
    out = await driverList(q, {
      roleId: f.roleId,
      userId: f.userId,
      groupIds: f.groupId ? [f.groupId] : undefined,
      domainId: f.domainId,
      projectIds,
      inherited: f.inherited,
    });
  }
  // Keystone adds system assignments unless the caller asked for a project or a domain.
  if (system || (!f.projectId && !f.domainId)) {
    let sys = await systemList(q, { userId: f.userId, groupId: f.groupId });
    if (f.roleId) sys = sys.filter((r) => r.role_id === f.roleId);
    out.push(...sys);
  }
  return out;
}

async function effectiveList(q: Q, f: RoleAssignmentFilter, subtree: string[] | undefined): Promise<AssignmentRef[]> {
  // In effective mode group filters and inherited domain filters can only give nothing.
  if (f.groupId || (f.domainId && f.inherited)) return [];
  // Domains do not inherit, so only direct assignments matter when filtering by domain.
  const inherited = f.domainId ? false : f.inherited;

  const forActor = async (actor: { userId?: string | undefined; groupIds?: string[] | undefined }): Promise<AssignmentRef[]> => {
    const projectIds = f.projectId ? [...(subtree ?? []), f.projectId] : undefined;
    const out: AssignmentRef[] = [];
    if (inherited === false || inherited === undefined) {
      out.push(...(await driverList(q, { ...actor, domainId: f.domainId, projectIds, inherited: false })));
    }
    if (inherited === true || inherited === undefined) {
      if (f.projectId) {
        const project = await requireProject(q, f.projectId);
        out.push(...(await driverList(q, { ...actor, domainId: project.domain_id, inherited: true })));
        const sources = (await projectParents(q, project)).map((p) => p.id);
        if (subtree) sources.push(...subtree, f.projectId);
        if (sources.length > 0) out.push(...(await driverList(q, { ...actor, projectIds: sources, inherited: true })));
      } else {
        out.push(...(await driverList(q, { ...actor, inherited: true })));
      }
    }
    return out;
  };

  const direct = await forActor({ userId: f.userId });
  let fromGroups: AssignmentRef[] = [];
  if (f.userId) {
    const user = await q.selectFrom("user").select("id").where("id", "=", f.userId).executeTakeFirst();
    if (!user) throw new NotFound(`Could not find user: ${f.userId}.`);
    const groupIds = (await q.selectFrom("user_group_membership").select("group_id").where("user_id", "=", f.userId).execute()).map((g) => g.group_id);
    if (groupIds.length > 0) fromGroups = await forActor({ groupIds });
  }

  let refs: AssignmentRef[] = [];
  for (const ref of [...direct, ...fromGroups]) refs.push(...(await expandIndirect(q, ref, f.userId, f.projectId, subtree)));
  refs = await addImpliedRoles(q, refs);
  // Domain-specific roles only lend the roles they imply; they never appear themselves.
  const roles = await q.selectFrom("role").select(["id", "domain_id"]).execute();
  const global = new Set(roles.filter((r) => r.domain_id === NULL_DOMAIN).map((r) => r.id));
  refs = refs.filter((r) => global.has(r.role_id));
  if (f.roleId) refs = refs.filter((r) => r.role_id === f.roleId);
  return refs;
}

async function membersOf(q: Q, groupId: string): Promise<string[]> {
  const rows = await q.selectFrom("user_group_membership").select("user_id").where("group_id", "=", groupId).orderBy("user_id").execute();
  return rows.map((r) => r.user_id);
}

function groupToUser(base: AssignmentRef, userId: string): AssignmentRef {
  const ref = clone(base);
  const groupId = ref.group_id!;
  delete ref.group_id;
  ref.user_id = userId;
  ref.indirect = { ...(ref.indirect ?? {}), group_id: groupId };
  return ref;
}

/** keystone's _expand_indirect_assignment: groups into members, inherited grants onto projects. */
async function expandIndirect(
  q: Q,
  ref: AssignmentRef,
  userId: string | undefined,
  projectId: string | undefined,
  subtree: string[] | undefined,
): Promise<AssignmentRef[]> {
  const expandGroup = async (r: AssignmentRef): Promise<AssignmentRef[]> => {
    if (userId) return [groupToUser(r, userId)];
    return (await membersOf(q, r.group_id!)).map((u) => groupToUser(r, u));
  };
  if (ref.inherited_to_projects === "projects") {
    let projectIds: string[];
    if (projectId) {
      projectIds = [projectId];
      if (subtree && subtree.length > 0) {
        projectIds.push(...subtree);
        // An inherited grant inside the subtree reaches only the part below it.
        if (ref.project_id && projectIds.includes(ref.project_id)) projectIds = await subtreeIds(q, ref.project_id);
      }
    } else if (ref.domain_id) {
      const domain = await q.selectFrom("project").select("id").where("id", "=", ref.domain_id).executeTakeFirst();
      if (!domain) throw new NotFound(`Could not find domain: ${ref.domain_id}.`);
      const ps = await q.selectFrom("project").select("id").where("domain_id", "=", ref.domain_id).orderBy("name").execute();
      projectIds = ps.map((p) => p.id);
    } else {
      projectIds = await subtreeIds(q, ref.project_id!);
    }
    const onto = (base: AssignmentRef, pid: string): AssignmentRef => {
      const r = clone(base);
      const indirect = r.indirect ?? {};
      if (r.project_id) indirect.project_id = r.project_id;
      else indirect.domain_id = r.domain_id!;
      delete r.domain_id;
      r.project_id = pid;
      delete r.inherited_to_projects;
      r.indirect = indirect;
      return r;
    };
    const out: AssignmentRef[] = [];
    const bases = ref.group_id !== undefined ? await expandGroup(ref) : [ref];
    for (const b of bases) for (const pid of projectIds) out.push(onto(b, pid));
    return out;
  }
  if (ref.group_id !== undefined) return expandGroup(ref);
  return [ref];
}

/** Duplicate each ref once per role its role implies (transitively), noting the prior role. */
async function addImpliedRoles(q: Q, refs: AssignmentRef[]): Promise<AssignmentRef[]> {
  const rules = await q.selectFrom("implied_role").selectAll().execute();
  const implies = new Map<string, string[]>();
  for (const r of rules) implies.set(r.prior_role_id, [...(implies.get(r.prior_role_id) ?? []), r.implied_role_id]);
  const results = [...refs];
  const toCheck = [...refs];
  const checked = new Set<string>();
  while (toCheck.length > 0) {
    const next = toCheck.pop()!;
    checked.add(JSON.stringify(next));
    for (const implied of implies.get(next.role_id) ?? []) {
      const r = clone(next);
      r.role_id = implied;
      r.indirect = { ...(r.indirect ?? {}), role_id: next.role_id };
      // Keystone stops at a ref it has already walked, which is what breaks cycles.
      if (checked.has(JSON.stringify(r))) continue;
      results.push(r);
      toCheck.push(r);
    }
  }
  return results;
}

/** include_names: the names (and owning domains) of every entity an assignment names. */
async function withNames(q: Q, refs: AssignmentRef[]): Promise<AssignmentRef[]> {
  const projects = new Map<string, { name: string; domain_id: string } | undefined>();
  const project = async (id: string): Promise<{ name: string; domain_id: string } | undefined> => {
    if (!projects.has(id)) projects.set(id, await q.selectFrom("project").select(["name", "domain_id"]).where("id", "=", id).executeTakeFirst());
    return projects.get(id);
  };
  const domainName = async (id: string): Promise<string> => {
    const d = await project(id);
    if (!d) throw new NotFound(`Could not find domain: ${id}.`);
    return d.name;
  };
  const out: AssignmentRef[] = [];
  for (const ref of refs) {
    const r = clone(ref);
    if (ref.domain_id !== undefined) r.domain_name = await domainName(ref.domain_id);
    if (ref.user_id !== undefined) {
      const u = await q.selectFrom("user").select(["name", "domain_id"]).where("id", "=", ref.user_id).executeTakeFirst();
      // A vanished user still shows, with empty names, as Keystone logs and carries on.
      r.user_name = u?.name ?? "";
      r.user_domain_id = u?.domain_id ?? "";
      r.user_domain_name = u ? await domainName(u.domain_id) : "";
    }
    if (ref.group_id !== undefined) {
      const g = await q.selectFrom("group").select(["name", "domain_id"]).where("id", "=", ref.group_id).executeTakeFirst();
      r.group_name = g?.name ?? "";
      r.group_domain_id = g?.domain_id ?? "";
      r.group_domain_name = g ? await domainName(g.domain_id) : "";
    }
    if (ref.project_id !== undefined) {
      const p = await project(ref.project_id);
      if (!p) throw new NotFound(`Could not find project: ${ref.project_id}.`);
      r.project_name = p.name;
      r.project_domain_id = p.domain_id;
      r.project_domain_name = await domainName(p.domain_id);
    }
    const role = await q.selectFrom("role").select(["name", "domain_id"]).where("id", "=", ref.role_id).executeTakeFirst();
    if (!role) throw new NotFound(`Could not find role: ${ref.role_id}.`);
    r.role_name = role.name;
    if (role.domain_id !== NULL_DOMAIN) {
      r.role_domain_id = role.domain_id;
      r.role_domain_name = await domainName(role.domain_id);
    }
    out.push(r);
  }
  return out;
}
