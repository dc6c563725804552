import { BadRequest, Conflict, Forbidden, NotFound } from "../../../common/errors.js";
import { hexId } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { IdentityCore } from "../core.js";
import * as store from "../store/resource.js";
import { revoke } from "../store/revoke.js";
import type { ProjectRow, Q } from "../store/tables.js";
import { json, ROOT_DOMAIN } from "../store/tables.js";

/** A project or domain as the API sees it. */
export interface ProjectRecord extends ProjectRow {
  tags: string[];
}

export interface ProjectInput {
  name?: string;
  description?: string | null;
  enabled?: boolean;
  domain_id?: string | null;
  parent_id?: string | null;
  is_domain?: boolean;
  tags?: string[];
  options?: Record<string, unknown>;
  explicit_domain_id?: string;
  [extra: string]: unknown;
}

const KNOWN = new Set([
  "id",
  "name",
  "description",
  "enabled",
  "domain_id",
  "parent_id",
  "is_domain",
  "tags",
  "options",
  "explicit_domain_id",
  "links",
]);

function extrasOf(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (!KNOWN.has(k)) out[k] = v;
  return out;
}

/** The columns an update changes; options and unknown attributes merge into what is stored. */
function patchOf(cur: ProjectRow, input: ProjectInput): Partial<ProjectRow> {
  const patch: Partial<ProjectRow> = {};
  if (input.name !== undefined) patch.name = input.name.trim();
  if (input.description !== undefined) patch.description = input.description;
  if (input.enabled !== undefined) patch.enabled = input.enabled ? 1 : 0;
  if (input.options !== undefined) patch.options = JSON.stringify(mergeOptions(json(cur.options), input.options));
  const extra = extrasOf(input);
  if (Object.keys(extra).length > 0) patch.extra = JSON.stringify({ ...json(cur.extra), ...extra });
  return patch;
}

/** Keystone caps a hierarchy at max_project_tree_depth (5) levels below the domain. */
const MAX_DEPTH = 5;

/** The resource options Keystone knows for projects and domains (PROJECT_OPTIONS_REGISTRY). */
const RESOURCE_OPTIONS = ["immutable"];

/** Known options only (others are dropped, as Keystone's from_dict does); null unsets. */
function mergeOptions(current: Record<string, unknown>, given: Record<string, unknown> | undefined): Record<string, unknown> {
  const out = { ...current };
  for (const [k, v] of Object.entries(given ?? {})) {
    if (!RESOURCE_OPTIONS.includes(k)) continue;
    if (v === null) delete out[k];
    else if (typeof v !== "boolean") throw new BadRequest(`Invalid input for field 'options/${k}': ${JSON.stringify(v)} is not of type 'boolean'`);
    else out[k] = v;
  }
  return out;
}

function isImmutable(p: ProjectRow): boolean {
  return json(p.options)["immutable"] === true;
}

/**
 * ro_opt.check_immutable_update: an immutable project or domain accepts one update only,
 * the one that sets "immutable" to false (or unsets it).
 */
function checkImmutableUpdate(p: ProjectRow, input: ProjectInput, type: "project" | "domain"): void {
  if (!isImmutable(p)) return;
  const opts = input.options ?? {};
  if (Object.keys(input).length > 1 || !("immutable" in opts) || (opts["immutable"] !== false && opts["immutable"] !== null)) {
    throw new Forbidden(`Unable to update immutable ${type} resource: \`${p.id}. Set resource option "immutable" to false first.`);
  }
}

function checkImmutableDelete(p: ProjectRow, type: "project" | "domain"): void {
  if (isImmutable(p)) {
    throw new Forbidden(`Unable to delete immutable ${type} resource: \`${p.id}. Set resource option "immutable" to false first.`);
  }
}

function checkImmutableTags(p: ProjectRow, verb: "create" | "update" | "delete"): void {
  if (isImmutable(p)) {
    throw new Forbidden(
      `Cannot ${verb} project tags for ${p.id}, project is immutable. Set "immutable" option to false before creating project tags.`,
    );
  }
}

/** resource/core.py _generate_project_name_conflict_msg, inside Keystone's Conflict wording. */
function nameConflict(isDomain: boolean, name: string, id: string): Conflict {
  return new Conflict(
    isDomain
      ? `Conflict occurred attempting to store project - it is not permitted to have two projects acting as domains with the same name: ${name}.`
      : `Conflict occurred attempting to store project - it is not permitted to have two projects with either the same name or same id in the same domain: name is ${name}, project id ${id}.`,
  );
}

export class ResourceManager {
  constructor(private readonly core: IdentityCore) {}

  private async withTags(q: Q, rows: ProjectRow[]): Promise<ProjectRecord[]> {
    if (rows.length === 0) return [];
    const tags = await q
      .selectFrom("project_tag")
      .select(["project_id", "name"])
      .where(
        "project_id",
        "in",
        rows.map((r) => r.id),
      )
      .orderBy("name")
      .execute();
    const by = new Map<string, string[]>();
    for (const t of tags) {
      const list = by.get(t.project_id) ?? [];
      list.push(t.name);
      by.set(t.project_id, list);
    }
    return rows.map((r) => ({ ...r, tags: by.get(r.id) ?? [] }));
  }

  // ---- domains ----------------------------------------------------------------------------

  async getDomain(id: string, q: Q = this.core.db): Promise<ProjectRecord> {
    const row = await store.getDomain(q, id);
    if (!row) throw new NotFound(`Could not find domain: ${id}.`);
    return (await this.withTags(q, [row]))[0]!;
  }

  async findDomain(id: string): Promise<ProjectRow | undefined> {
    return store.getDomain(this.core.db, id);
  }

  async getDomainByName(name: string): Promise<ProjectRecord> {
    const row = await store.getDomainByName(this.core.db, name);
    if (!row) throw new NotFound(`Could not find domain: ${name}.`);
    return (await this.withTags(this.core.db, [row]))[0]!;
  }

  async listDomains(f: { name?: string; enabled?: boolean; ids?: readonly string[] }): Promise<ProjectRecord[]> {
    const rows = await store.listProjects(this.core.db, { ...f, isDomain: true });
    return this.withTags(this.core.db, rows);
  }

  async createDomain(input: ProjectInput): Promise<ProjectRecord> {
    const id = input.explicit_domain_id ?? hexId();
    await this.insert(input, { id, domain_id: ROOT_DOMAIN, parent_id: null, is_domain: 1 });
    return this.getDomain(id);
  }

  /** Insert a project or domain row with its tags; a taken name is Keystone's 409. */
  private async insert(
    input: ProjectInput,
    where: Pick<ProjectRow, "id" | "domain_id" | "parent_id" | "is_domain">,
  ): Promise<void> {
    const row: ProjectRow = {
      ...where,
      name: input.name!.trim(),
      description: input.description ?? "",
      enabled: input.enabled === false ? 0 : 1,
      extra: JSON.stringify(extrasOf(input)),
      options: JSON.stringify(mergeOptions({}, input.options)),
    };
    try {
      await this.core.write(async (trx) => {
        await store.insertProject(trx, row);
        await this.setTags(trx, row.id, input.tags ?? []);
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw nameConflict(row.is_domain === 1, row.name, row.id);
      throw e;
    }
  }

  async updateDomain(id: string, input: ProjectInput): Promise<ProjectRecord> {
    const cur = await this.getDomain(id);
    checkImmutableUpdate(cur, input, "domain");
    let patch = patchOf(cur, input);
    try {
      await this.core.write(async (trx) => {
        // Merge options/extra into the row as it is now, locked, so concurrent updates all land.
        const locked = await this.core.lockedRow(trx, "project", id);
        if (!locked) throw new NotFound(`Could not find domain: ${id}.`);
        patch = patchOf(locked, input);
        if (Object.keys(patch).length > 0) await store.updateProject(trx, id, patch);
        if (input.tags !== undefined) await this.setTags(trx, id, input.tags);
        if (input.enabled === false && cur.enabled === 1) await revoke(trx, { domain_id: id }, this.core.now());
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw nameConflict(true, String(patch.name), id);
      }
      throw e;
    }
    return this.getDomain(id);
  }

  /** Deleting a domain removes everything it owns, as Keystone does; it must be disabled first. */
  async deleteDomain(id: string): Promise<void> {
    const cur = await this.getDomain(id);
    checkImmutableDelete(cur, "domain");
    if (cur.enabled === 1) {
      throw new Forbidden("Cannot delete a domain that is enabled, please disable it first.");
    }
    await this.core.write(async (trx) => {
      if (!(await this.core.lockedRow(trx, "project", id))) throw new NotFound(`Could not find domain: ${id}.`);
      // Leaves first, so every project's own cascade runs.
      const projects = await store.listProjects(trx, { domainId: id, isDomain: false });
      const depth = new Map<string, number>();
      const byId = new Map(projects.map((p) => [p.id, p]));
      const depthOf = (p: ProjectRow): number => {
        let d = 0;
        let cur: ProjectRow | undefined = p;
        while (cur?.parent_id && byId.has(cur.parent_id) && d < 100) {
          d++;
          cur = byId.get(cur.parent_id);
        }
        return d;
      };
      for (const p of projects) depth.set(p.id, depthOf(p));
      projects.sort((a, b) => depth.get(b.id)! - depth.get(a.id)!);
      for (const p of projects) {
        await this.core.cascade(trx, "project", p.id);
        await store.deleteProjectRow(trx, p.id);
      }
      await this.core.cascade(trx, "domain", id);
      await store.deleteProjectRow(trx, id);
      await revoke(trx, { domain_id: id }, this.core.now());
    });
  }

  // ---- projects ---------------------------------------------------------------------------

  async getProject(id: string, q: Q = this.core.db): Promise<ProjectRecord> {
    const row = await store.getProject(q, id);
    if (!row) throw new NotFound(`Could not find project: ${id}.`);
    return (await this.withTags(q, [row]))[0]!;
  }

  async findProject(id: string): Promise<ProjectRow | undefined> {
    return store.getProject(this.core.db, id);
  }

  async getProjectByName(name: string, domainId: string): Promise<ProjectRow | undefined> {
    return store.getProjectByName(this.core.db, name, domainId);
  }

  async listProjects(
    f: store.ProjectFilter & { tags?: string[]; tagsAny?: string[]; notTags?: string[]; notTagsAny?: string[] },
  ): Promise<ProjectRecord[]> {
    const rows = await this.withTags(this.core.db, await store.listProjects(this.core.db, f));
    return rows.filter((p) => {
      const has = new Set(p.tags);
      if (f.tags && !f.tags.every((t) => has.has(t))) return false;
      if (f.tagsAny && !f.tagsAny.some((t) => has.has(t))) return false;
      if (f.notTags && f.notTags.length > 0 && f.notTags.every((t) => has.has(t))) return false;
      if (f.notTagsAny && f.notTagsAny.some((t) => has.has(t))) return false;
      return true;
    });
  }

  async createProject(input: ProjectInput, defaultDomainId: string | undefined): Promise<ProjectRecord> {
    if (input.is_domain === true) {
      // A domain's parent would be its domain_id or parent_id; it may have neither.
      if (input.parent_id || input.domain_id) throw new BadRequest("only root projects are allowed to act as domains.");
      return this.createDomain(input);
    }
    let domainId = input.domain_id ?? undefined;
    let parent: ProjectRow | undefined;
    if (input.parent_id) {
      parent = await store.getProject(this.core.db, input.parent_id);
      if (!parent) throw new NotFound(`Could not find project: ${input.parent_id}.`);
      const parentDomain = parent.is_domain === 1 ? parent.id : parent.domain_id;
      if (domainId && domainId !== parentDomain) {
        if (!(await store.getDomain(this.core.db, domainId))) throw new NotFound(`Could not find domain: ${domainId}.`);
        throw new BadRequest(
          parent.is_domain === 1
            ? `Cannot create project, the parent (${parent.id}) is acting as a domain, but this project's domain id (${domainId}) does not match the parent's id.`
            : `Cannot create project, since it specifies its domain_id ${domainId}, but specifies a parent in a different domain (${parentDomain}).`,
        );
      }
      domainId = parentDomain;
      if (parent.is_domain !== 1) {
        const depth = (await store.parents(this.core.db, parent)).filter((p) => p.is_domain !== 1).length + 1;
        if (depth + 1 > MAX_DEPTH) {
          throw new Forbidden(`Max hierarchy depth reached for ${parent.id} branch.`);
        }
      }
    }
    domainId ??= defaultDomainId;
    if (!domainId) throw new BadRequest("Cannot create a project without a domain; set domain_id.");
    const domain = await store.getDomain(this.core.db, domainId);
    if (!domain) throw new NotFound(`Could not find domain: ${domainId}.`);
    // The whole branch above the new project, its domain included, must be enabled.
    const branch = parent ? [parent, ...(await store.parents(this.core.db, parent))] : [domain];
    const disabled = branch.find((b) => b.enabled !== 1);
    if (disabled) throw new BadRequest(`cannot create a project in a branch containing a disabled project: ${disabled.id}`);
    const id = hexId();
    await this.insert(input, { id, domain_id: domainId, parent_id: parent ? parent.id : domainId, is_domain: 0 });
    return this.getProject(id);
  }

  async updateProject(id: string, input: ProjectInput): Promise<ProjectRecord> {
    const cur = await this.getProject(id);
    if (cur.is_domain === 1) return this.updateDomain(id, input);
    if (input.domain_id !== undefined && input.domain_id !== cur.domain_id) {
      throw new BadRequest("Cannot change Domain ID");
    }
    checkImmutableUpdate(cur, input, "project");
    if (input.is_domain !== undefined && input.is_domain !== (cur.is_domain === 1)) {
      throw new BadRequest("Update of `is_domain` is not allowed.");
    }
    if (input.parent_id !== undefined && input.parent_id !== cur.parent_id) {
      throw new Forbidden("Update of `parent_id` is not allowed.");
    }
    if (input.enabled === false && cur.enabled === 1) {
      const sub = await store.subtree(this.core.db, id);
      if (sub.some((p) => p.enabled === 1)) {
        throw new Forbidden(`Cannot disable project ${id} since its subtree contains enabled projects.`);
      }
    }
    if (input.enabled === true && cur.enabled === 0) {
      const ups = await store.parents(this.core.db, cur);
      if (ups.some((p) => p.is_domain !== 1 && p.enabled === 0)) {
        throw new Forbidden(`Cannot enable project ${id} since it has disabled parents`);
      }
    }
    let patch = patchOf(cur, input);
    try {
      await this.core.write(async (trx) => {
        // Merge options/extra into the row as it is now, locked, so concurrent updates all land.
        const locked = await this.core.lockedRow(trx, "project", id);
        if (!locked) throw new NotFound(`Could not find project: ${id}.`);
        patch = patchOf(locked, input);
        if (Object.keys(patch).length > 0) await store.updateProject(trx, id, patch);
        if (input.tags !== undefined) await this.setTags(trx, id, input.tags);
        if (input.enabled === false && cur.enabled === 1) await revoke(trx, { project_id: id }, this.core.now());
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw nameConflict(false, String(patch.name), id);
      }
      throw e;
    }
    return this.getProject(id);
  }

  async deleteProject(id: string, cascade = false): Promise<void> {
    const cur = await this.getProject(id);
    if (cur.is_domain === 1) return this.deleteDomain(id);
    checkImmutableDelete(cur, "project");
    const sub = await store.subtree(this.core.db, id);
    if (sub.length > 0 && !cascade) {
      throw new Forbidden(
        `Cannot delete the project ${id} since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.`,
      );
    }
    await this.core.write(async (trx) => {
      // Concurrent deletes of one project: the first wins, the others find nothing (404).
      if (!(await this.core.lockedRow(trx, "project", id))) throw new NotFound(`Could not find project: ${id}.`);
      for (const p of [...sub].reverse()) {
        await this.core.cascade(trx, "project", p.id);
        await store.deleteProjectRow(trx, p.id);
        await revoke(trx, { project_id: p.id }, this.core.now());
      }
      await this.core.cascade(trx, "project", id);
      await store.deleteProjectRow(trx, id);
      await revoke(trx, { project_id: id }, this.core.now());
    });
  }

  async parents(p: ProjectRow): Promise<ProjectRecord[]> {
    const ups = (await store.parents(this.core.db, p)).filter((x) => x.is_domain !== 1);
    return this.withTags(this.core.db, ups);
  }

  /** Every ancestor up to and including the domain (parents_as_ids shows the domain too). */
  async ancestors(p: ProjectRow): Promise<ProjectRow[]> {
    return store.parents(this.core.db, p);
  }

  async subtree(id: string): Promise<ProjectRecord[]> {
    return this.withTags(this.core.db, await store.subtree(this.core.db, id));
  }

  async children(id: string): Promise<ProjectRow[]> {
    return store.children(this.core.db, id);
  }

  // ---- tags -------------------------------------------------------------------------------

  async setTags(q: Q, projectId: string, tags: readonly string[]): Promise<void> {
    await q.deleteFrom("project_tag").where("project_id", "=", projectId).execute();
    const uniq = [...new Set(tags)];
    if (uniq.length > 0) {
      await q
        .insertInto("project_tag")
        .values(uniq.map((name) => ({ project_id: projectId, name })))
        .execute();
    }
  }

  async replaceTags(projectId: string, tags: readonly string[], verb: "update" | "delete" = "update"): Promise<string[]> {
    checkImmutableTags(await this.getProject(projectId), verb);
    await this.core.write((trx) => this.setTags(trx, projectId, tags.map((t) => t.trim())));
    return (await this.getProject(projectId)).tags;
  }

  async addTag(projectId: string, tag: string): Promise<void> {
    const p = await this.getProject(projectId);
    checkImmutableTags(p, "create");
    // Keystone validates the would-be list: a repeated tag or an 81st one is a schema error.
    if (p.tags.includes(tag)) throw new BadRequest(`Invalid input for field 'tags': ${JSON.stringify([...p.tags, tag])} has non-unique elements`);
    if (p.tags.length >= 80) throw new BadRequest(`Invalid input for field 'tags': ${JSON.stringify([...p.tags, tag])} is too long`);
    try {
      await this.core.write(async (trx) => {
        await trx.insertInto("project_tag").values({ project_id: projectId, name: tag }).execute();
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
  }

  async removeTag(projectId: string, tag: string): Promise<void> {
    const p = await this.getProject(projectId);
    checkImmutableTags(p, "delete");
    if (!p.tags.includes(tag)) throw new NotFound(`Could not find project tag: ${tag}.`);
    await this.core.write(async (trx) => {
      await trx.deleteFrom("project_tag").where("project_id", "=", projectId).where("name", "=", tag).execute();
    });
  }
}
