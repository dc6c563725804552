import { BadRequest, Conflict, Forbidden, NotFound } from "../../../common/errors.js";
import { hexId } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { IdentityCore } from "../core.js";
import { parents as projectParents } from "../store/resource.js";
import { revoke } from "../store/revoke.js";
import type { AssignmentRow, AssignmentType, ImpliedRoleRow, Q, RoleRow } from "../store/tables.js";
import { json, NULL_DOMAIN } from "../store/tables.js";
import type { AssignmentRef, RoleAssignmentFilter } from "./role-assignments.js";
import { listRoleAssignments } from "./role-assignments.js";

export interface RoleInput {
  name?: string;
  domain_id?: string | null;
  description?: string | null;
  options?: Record<string, unknown>;
  [extra: string]: unknown;
}

const ROLE_KNOWN = new Set(["id", "name", "domain_id", "description", "options", "links"]);
const ROLE_OPTIONS = new Set(["immutable"]);
/** Keystone's [assignment] prohibited_implied_role default. */
const PROHIBITED_IMPLIED_ROLES = ["admin"];

export type Actor = { kind: "user" | "group"; id: string };
export type GrantTarget = { kind: "project" | "domain" | "system"; id: string };

export function assignmentType(actor: Actor, target: GrantTarget): AssignmentType {
  const a = actor.kind === "user" ? "User" : "Group";
  const t = target.kind === "project" ? "Project" : target.kind === "domain" ? "Domain" : "System";
  return `${a}${t}` as AssignmentType;
}

export class AssignmentManager {
  constructor(private readonly core: IdentityCore) {}

  // ---- roles ------------------------------------------------------------------------------

  async getRole(id: string, q: Q = this.core.db): Promise<RoleRow> {
    const row = await q.selectFrom("role").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw new NotFound(`Could not find role: ${id}.`);
    return row;
  }

  async findRoleByName(name: string, domainId: string | null = null): Promise<RoleRow | undefined> {
    return this.core.db
      .selectFrom("role")
      .selectAll()
      .where("name", "=", name)
      .where("domain_id", "=", domainId ?? NULL_DOMAIN)
      .executeTakeFirst();
  }

  /**
   * A role named in an app-cred or trust body (keystone's get_unique_role_by_name): the name is
   * looked up across global and every domain's roles, and must match exactly one.
   */
  async uniqueRoleIdByName(name: string): Promise<string> {
    const found = await this.listRoles({ name });
    if (found.length === 0) throw new NotFound(`Role ${name} is not defined`);
    if (found.length > 1) {
      throw new BadRequest(`There are multiple role entities named '${name}'. Please use ID instead of names to resolve the ambiguity.`);
    }
    return found[0]!.id;
  }

  async listRoles(f: { name?: string; domainId?: string | null; ids?: readonly string[] }): Promise<RoleRow[]> {
    let s = this.core.db.selectFrom("role").selectAll();
    if (f.name !== undefined) s = s.where("name", "=", f.name);
    if (f.domainId !== undefined) s = s.where("domain_id", "=", f.domainId ?? NULL_DOMAIN);
    if (f.ids !== undefined) {
      if (f.ids.length === 0) return [];
      s = s.where("id", "in", f.ids);
    }
    return s.orderBy("name").orderBy("id").execute();
  }

  private checkOptions(options: Record<string, unknown> | undefined): void {
    for (const [k, v] of Object.entries(options ?? {})) {
      if (!ROLE_OPTIONS.has(k)) throw new BadRequest(`Invalid input for field 'options': '${k}' is not a valid option.`);
      if (v !== null && typeof v !== "boolean") throw new BadRequest(`Invalid input for field 'options.${k}': must be a boolean.`);
    }
  }

  private assertMutable(role: RoleRow): void {
    if (json(role.options)["immutable"] === true) {
      throw new Forbidden(`Cannot modify or delete role ${role.id}: it is immutable.`);
    }
  }

  async createRole(input: RoleInput): Promise<RoleRow> {
    this.checkOptions(input.options);
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) if (!ROLE_KNOWN.has(k)) extra[k] = v;
    const row: RoleRow = {
      id: (input["id"] as string | undefined) ?? hexId(),
      name: input.name!,
      domain_id: input.domain_id ?? NULL_DOMAIN,
      description: input.description ?? null,
      extra: JSON.stringify(extra),
      options: JSON.stringify(input.options ?? {}),
    };
    try {
      await this.core.write((trx) => trx.insertInto("role").values(row).execute());
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new Conflict(`Conflict occurred attempting to store role - Duplicate entry found with name ${row.name}.`);
      }
      throw e;
    }
    return row;
  }

  async updateRole(id: string, input: RoleInput): Promise<RoleRow> {
    const cur = await this.getRole(id);
    this.checkOptions(input.options);
    const options = json(cur.options);
    // Clearing the immutable option is the one change an immutable role accepts.
    const unsetting = input.options !== undefined && options["immutable"] === true && input.options["immutable"] !== true;
    if (!unsetting) this.assertMutable(cur);
    if (input.domain_id !== undefined && (input.domain_id ?? NULL_DOMAIN) !== cur.domain_id) {
      throw new BadRequest("Update of `domain_id` is not allowed.");
    }
    const patch: Partial<RoleRow> = {};
    if (input.name !== undefined) patch.name = input.name;
    if (input.description !== undefined) patch.description = input.description;
    if (input.options !== undefined) {
      const merged = { ...options, ...input.options };
      for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
      patch.options = JSON.stringify(merged);
    }
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) if (!ROLE_KNOWN.has(k)) extra[k] = v;
    if (Object.keys(extra).length > 0) patch.extra = JSON.stringify({ ...json(cur.extra), ...extra });
    try {
      if (Object.keys(patch).length > 0) {
        await this.core.write((trx) => trx.updateTable("role").set(patch).where("id", "=", id).execute());
      }
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new Conflict(`Conflict occurred attempting to store role - Duplicate entry found with name ${String(input.name)}.`);
      }
      throw e;
    }
    return this.getRole(id);
  }

  async deleteRole(id: string): Promise<void> {
    const role = await this.getRole(id);
    this.assertMutable(role);
    await this.core.write(async (trx) => {
      // Lock first: a concurrent grant of this role either lands before (and is removed
      // below) or waits and then finds no role.
      if (!(await this.core.lockedRow(trx, "role", id))) throw new NotFound(`Could not find role: ${id}.`);
      await this.core.cascade(trx, "role", id);
      await trx.deleteFrom("assignment").where("role_id", "=", id).execute();
      await trx.deleteFrom("role").where("id", "=", id).execute();
      await revoke(trx, { role_id: id }, this.core.now());
    });
  }

  // ---- implied roles ----------------------------------------------------------------------

  async impliedMap(q: Q = this.core.db): Promise<Map<string, string[]>> {
    const rows = await q.selectFrom("implied_role").selectAll().execute();
    const m = new Map<string, string[]>();
    for (const r of rows) {
      const list = m.get(r.prior_role_id) ?? [];
      list.push(r.implied_role_id);
      m.set(r.prior_role_id, list);
    }
    return m;
  }

  /** Expand role ids through implications (transitively, cycle-safe). */
  async expand(roleIds: Iterable<string>, q: Q = this.core.db): Promise<Set<string>> {
    const seen = new Set(roleIds);
    if (seen.size === 0) return seen;
    const m = await this.impliedMap(q);
    const stack = [...seen];
    while (stack.length > 0) {
      for (const next of m.get(stack.pop()!) ?? []) {
        if (!seen.has(next)) {
          seen.add(next);
          stack.push(next);
        }
      }
    }
    return seen;
  }

  /** PUT /v3/roles/{prior}/implies/{implied}: keystone's RoleManager.create_implied_role rules. */
  async createImpliedRole(priorId: string, impliedId: string): Promise<void> {
    const implied = await this.getRole(impliedId);
    const prior = await this.getRole(priorId);
    if (PROHIBITED_IMPLIED_ROLES.includes(implied.name)) {
      throw new Forbidden(`${impliedId} cannot be an implied roles.`);
    }
    if (prior.domain_id === NULL_DOMAIN && implied.domain_id !== NULL_DOMAIN) {
      throw new Forbidden("Global role cannot imply a domain-specific role");
    }
    try {
      await this.core.write((trx) => trx.insertInto("implied_role").values({ prior_role_id: priorId, implied_role_id: impliedId }).execute());
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict("Conflict occurred attempting to store implied_role - Duplicate entry.");
      throw e;
    }
  }

  async getImpliedRole(priorId: string, impliedId: string): Promise<ImpliedRoleRow> {
    const row = await this.core.db
      .selectFrom("implied_role")
      .selectAll()
      .where("prior_role_id", "=", priorId)
      .where("implied_role_id", "=", impliedId)
      .executeTakeFirst();
    if (!row) throw new NotFound(`${priorId} does not imply ${impliedId}.`);
    return row;
  }

  async deleteImpliedRole(priorId: string, impliedId: string): Promise<void> {
    await this.core.write(async (trx) => {
      const r = await trx
        .deleteFrom("implied_role")
        .where("prior_role_id", "=", priorId)
        .where("implied_role_id", "=", impliedId)
        .executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw new NotFound(`${priorId} does not imply ${impliedId}.`);
    });
  }

  /** The roles a prior role directly implies (GET /v3/roles/{prior}/implies). */
  async listImpliedRoles(priorId: string): Promise<RoleRow[]> {
    return this.core.db
      .selectFrom("implied_role")
      .innerJoin("role", "role.id", "implied_role.implied_role_id")
      .selectAll("role")
      .where("implied_role.prior_role_id", "=", priorId)
      .orderBy("role.name")
      .orderBy("role.id")
      .execute();
  }

  /** Every inference rule, grouped by prior role (GET /v3/role_inferences). */
  async listRoleInferences(): Promise<Array<{ prior: RoleRow; implies: RoleRow[] }>> {
    const rules = await this.core.db.selectFrom("implied_role").selectAll().execute();
    const roles = new Map((await this.core.db.selectFrom("role").selectAll().execute()).map((r) => [r.id, r]));
    const byPrior = new Map<string, RoleRow[]>();
    for (const r of rules) {
      const implied = roles.get(r.implied_role_id);
      if (!implied || !roles.has(r.prior_role_id)) continue;
      byPrior.set(r.prior_role_id, [...(byPrior.get(r.prior_role_id) ?? []), implied]);
    }
    return [...byPrior].map(([prior, implies]) => ({ prior: roles.get(prior)!, implies }));
  }

  // ---- role assignments -------------------------------------------------------------------

  /** GET /v3/role_assignments (see role-assignments.ts). */
  async listRoleAssignments(f: RoleAssignmentFilter): Promise<AssignmentRef[]> {
    return listRoleAssignments(this.core.db, f);
  }

  // ---- grants -----------------------------------------------------------------------------

  async grant(actor: Actor, target: GrantTarget, roleId: string, inherited: boolean): Promise<void> {
    if (target.kind === "system") {
      const role = await this.getRole(roleId);
      if (role.domain_id !== NULL_DOMAIN) {
        throw new BadRequest(
          `Role ${roleId} is a domain-specific role. Unable to use a domain-specific role in a system assignment.`,
        );
      }
    }
    const row: AssignmentRow = {
      type: assignmentType(actor, target),
      actor_id: actor.id,
      target_id: target.id,
      role_id: roleId,
      inherited: inherited ? 1 : 0,
    };
    try {
      await this.core.write(async (trx) => {
        // Assignments have no foreign keys (actor and target are polymorphic): lock what the
        // grant points at, so a concurrent delete either runs first (404 here) or waits and
        // then removes this grant with everything else.
        if (!(await this.core.lockedRow(trx, "role", roleId))) throw new NotFound(`Could not find role: ${roleId}.`);
        if (!(await this.core.lockedRow(trx, actor.kind, actor.id))) throw new NotFound(`Could not find ${actor.kind}: ${actor.id}.`);
        if (target.kind !== "system" && !(await this.core.lockedRow(trx, "project", target.id))) {
          throw new NotFound(`Could not find ${target.kind}: ${target.id}.`);
        }
        await trx.insertInto("assignment").values(row).execute();
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e; // granting twice is a no-op, as in Keystone
    }
  }

  async hasGrant(actor: Actor, target: GrantTarget, roleId: string, inherited: boolean): Promise<boolean> {
    const r = await this.core.db
      .selectFrom("assignment")
      .select("role_id")
      .where("type", "=", assignmentType(actor, target))
      .where("actor_id", "=", actor.id)
      .where("target_id", "=", target.id)
      .where("role_id", "=", roleId)
      .where("inherited", "=", inherited ? 1 : 0)
      .executeTakeFirst();
    return r !== undefined;
  }

  async revokeGrant(actor: Actor, target: GrantTarget, roleId: string, inherited: boolean): Promise<void> {
    await this.core.write(async (trx) => {
      const r = await trx
        .deleteFrom("assignment")
        .where("type", "=", assignmentType(actor, target))
        .where("actor_id", "=", actor.id)
        .where("target_id", "=", target.id)
        .where("role_id", "=", roleId)
        .where("inherited", "=", inherited ? 1 : 0)
        .executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw assignmentNotFound(roleId, actor.id, target.id);
      // No revocation event, as in Keystone: tokens compute their roles at validation, and the
      // revision bump of this write drops every cached validation, so the change shows at once
      // (a token left with no role on its scope stops validating).
    });
  }

  async listGrants(actor: Actor, target: GrantTarget, inherited: boolean): Promise<RoleRow[]> {
    const rows = await this.core.db
      .selectFrom("assignment")
      .innerJoin("role", "role.id", "assignment.role_id")
      .selectAll("role")
      .where("assignment.type", "=", assignmentType(actor, target))
      .where("assignment.actor_id", "=", actor.id)
      .where("assignment.target_id", "=", target.id)
      .where("assignment.inherited", "=", inherited ? 1 : 0)
      .orderBy("role.name")
      .execute();
    return rows;
  }

  // ---- effective roles for a token --------------------------------------------------------

  private async actorsOf(userId: string, q: Q): Promise<string[]> {
    const groups = await q.selectFrom("user_group_membership").select("group_id").where("user_id", "=", userId).execute();
    return [userId, ...groups.map((g) => g.group_id)];
  }

  /** Direct roles (user and groups) with inheritance from domain and parents, expanded. */
  async effectiveProjectRoles(userId: string, projectId: string, q: Q = this.core.db): Promise<RoleRow[]> {
    const project = await q.selectFrom("project").selectAll().where("id", "=", projectId).executeTakeFirst();
    if (!project) return [];
    const actors = await this.actorsOf(userId, q);
    const ancestors = (await projectParents(q, project)).map((p) => p.id);
    const rows = await q
      .selectFrom("assignment")
      .select(["role_id", "target_id", "inherited", "type"])
      .where("actor_id", "in", actors)
      .where("target_id", "in", [projectId, project.domain_id, ...ancestors])
      .execute();
    const ids = new Set<string>();
    for (const r of rows) {
      const isProjectType = r.type === "UserProject" || r.type === "GroupProject";
      const isDomainType = r.type === "UserDomain" || r.type === "GroupDomain";
      if (r.target_id === projectId && isProjectType && r.inherited === 0) ids.add(r.role_id);
      else if (r.target_id === project.domain_id && isDomainType && r.inherited === 1) ids.add(r.role_id);
      else if (r.target_id !== projectId && isProjectType && r.inherited === 1 && ancestors.includes(r.target_id)) ids.add(r.role_id);
    }
    return this.rolesById(await this.expand(ids, q), q, true);
  }

  async effectiveDomainRoles(userId: string, domainId: string, q: Q = this.core.db): Promise<RoleRow[]> {
    const actors = await this.actorsOf(userId, q);
    const rows = await q
      .selectFrom("assignment")
      .select("role_id")
      .where("actor_id", "in", actors)
      .where("target_id", "=", domainId)
      .where("type", "in", ["UserDomain", "GroupDomain"])
      .where("inherited", "=", 0)
      .execute();
    return this.rolesById(await this.expand(rows.map((r) => r.role_id), q), q, true);
  }

  async effectiveSystemRoles(userId: string, q: Q = this.core.db): Promise<RoleRow[]> {
    const actors = await this.actorsOf(userId, q);
    const rows = await q
      .selectFrom("assignment")
      .select("role_id")
      .where("actor_id", "in", actors)
      .where("type", "in", ["UserSystem", "GroupSystem"])
      .execute();
    return this.rolesById(await this.expand(rows.map((r) => r.role_id), q), q);
  }

  /** With globalOnly, domain-specific roles are dropped: they only lend the roles they imply. */
  private async rolesById(ids: Set<string>, q: Q, globalOnly = false): Promise<RoleRow[]> {
    if (ids.size === 0) return [];
    let s = q.selectFrom("role").selectAll().where("id", "in", [...ids]);
    if (globalOnly) s = s.where("domain_id", "=", NULL_DOMAIN);
    return s.orderBy("name").execute();
  }

  /** Projects where the user has any effective role (for /v3/auth/projects and /users/{id}/projects). */
  async projectIdsForUser(userId: string, q: Q = this.core.db): Promise<string[]> {
    const actors = await this.actorsOf(userId, q);
    const rows = await q.selectFrom("assignment").select(["type", "target_id", "inherited"]).where("actor_id", "in", actors).execute();
    const out = new Set<string>();
    const inheritedFrom: string[] = [];
    const inheritedDomains: string[] = [];
    for (const r of rows) {
      if (r.type === "UserProject" || r.type === "GroupProject") {
        if (r.inherited === 0) out.add(r.target_id);
        else inheritedFrom.push(r.target_id);
      } else if ((r.type === "UserDomain" || r.type === "GroupDomain") && r.inherited === 1) {
        inheritedDomains.push(r.target_id);
      }
    }
    if (inheritedDomains.length > 0) {
      const ps = await q.selectFrom("project").select("id").where("domain_id", "in", inheritedDomains).where("is_domain", "=", 0).execute();
      for (const p of ps) out.add(p.id);
    }
    let frontier = inheritedFrom;
    for (let i = 0; i < 10 && frontier.length > 0; i++) {
      const ps = await q.selectFrom("project").select("id").where("parent_id", "in", frontier).where("is_domain", "=", 0).execute();
      for (const p of ps) out.add(p.id);
      frontier = ps.map((p) => p.id);
    }
    return [...out];
  }

  async domainIdsForUser(userId: string, q: Q = this.core.db): Promise<string[]> {
    const actors = await this.actorsOf(userId, q);
    const rows = await q
      .selectFrom("assignment")
      .select("target_id")
      .where("actor_id", "in", actors)
      .where("type", "in", ["UserDomain", "GroupDomain"])
      .where("inherited", "=", 0)
      .execute();
    return [...new Set(rows.map((r) => r.target_id))];
  }
}

/** Keystone's RoleAssignmentNotFound (404). */
export function assignmentNotFound(roleId: string, actorId: string, targetId: string): NotFound {
  return new NotFound(
    `Could not find role assignment with role: ${roleId}, user or group: ${actorId}, project, domain, or system: ${targetId}.`,
  );
}
