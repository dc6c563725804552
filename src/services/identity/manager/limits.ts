import { BadRequest, Conflict, Forbidden, NotFound } from "../../../common/errors.js";
import { hexId } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { IdentityCore } from "../core.js";
import * as store from "../store/limits.js";
import type { LimitFilter, LimitJoined, RegisteredLimitFilter } from "../store/limits.js";
import type { IdentityTrx, ProjectRow, Q, RegisteredLimitRow } from "../store/tables.js";

export type { LimitJoined };

export interface RegisteredLimitInput {
  service_id?: string;
  region_id?: string | null;
  resource_name?: string;
  default_limit?: number;
  description?: string | null;
}

export interface LimitInput {
  project_id?: string;
  domain_id?: string;
  service_id?: string;
  region_id?: string;
  resource_name?: string;
  resource_limit?: number;
  description?: string | null;
}

/** What _assert_resource_exist looks at, from either kind of limit. */
interface ExistenceInput {
  service_id?: string;
  region_id?: string | null;
  project_id?: string;
  domain_id?: string;
}

/** The only enforcement model served (keystone/limit/models/flat.py). */
export const FLAT_MODEL = {
  name: "flat",
  description: "Limit enforcement and validation does not take project hierarchy into consideration.",
} as const;

/** Keystone's ValidationError(attribute=…, target=…) wording. */
function invalid(attribute: string, target: string): BadRequest {
  return new BadRequest(
    `Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is ` +
      "either malformed or otherwise incorrect. The client is assumed to be in error.",
  );
}

function duplicate(type: "registered_limit" | "limit"): Conflict {
  return new Conflict(`Conflict occurred attempting to store ${type} - Duplicate entry.`);
}

/** RegisteredLimitError is a ForbiddenNotSecurity: its message is always shown. */
function inUse(id: string): Forbidden {
  return new Forbidden(`Unable to update or delete registered limit ${id} because there are project limits associated with it.`);
}

/**
 * Unified limits (keystone/limit/core.py + backends/sql.py) under the flat model: registered
 * limits are a service's defaults, limits override them per project or domain.
 */
export class LimitManager {
  constructor(private readonly core: IdentityCore) {}

  model(): { name: string; description: string } {
    return { ...FLAT_MODEL };
  }

  /**
   * Keystone's _assert_resource_exist: every referenced service, region, project and domain
   * must exist (400 naming the attribute otherwise). A project id that is a domain makes the
   * limit a domain limit.
   */
  private async assertExist(q: Q, input: ExistenceInput, target: "registered_limit" | "limit"): Promise<void> {
    if (input.service_id !== undefined) {
      const s = await q.selectFrom("service").select("id").where("id", "=", input.service_id).executeTakeFirst();
      if (!s) throw invalid("service_id", target);
    }
    if (input.region_id !== undefined && input.region_id !== null) {
      const r = await q.selectFrom("region").select("id").where("id", "=", input.region_id).executeTakeFirst();
      if (!r) throw invalid("region_id", target);
    }
    if (input.project_id !== undefined) {
      const p: ProjectRow | undefined = await q.selectFrom("project").selectAll().where("id", "=", input.project_id).executeTakeFirst();
      if (!p) throw invalid("project_id", target);
      if (p.is_domain === 1) {
        input.domain_id = input.project_id;
        delete input.project_id;
      }
    }
    if (input.domain_id !== undefined) {
      const d = await q.selectFrom("project").select("id").where("id", "=", input.domain_id).where("is_domain", "=", 1).executeTakeFirst();
      if (!d) throw invalid("domain_id", target);
    }
  }

  // ---- registered limits --------------------------------------------------------------------

  async createRegisteredLimits(inputs: RegisteredLimitInput[]): Promise<RegisteredLimitRow[]> {
    const items = inputs.map((i) => ({ ...i }));
    for (const i of items) await this.assertExist(this.core.db, i, "registered_limit");
    try {
      return await this.core.write(async (trx) => {
        const out: RegisteredLimitRow[] = [];
        for (const i of items) {
          const row: RegisteredLimitRow = {
            id: hexId(),
            service_id: i.service_id!,
            region_id: i.region_id ?? null,
            resource_name: i.resource_name!,
            default_limit: i.default_limit!,
            description: i.description ?? null,
            unique_key: store.registeredKey(i.service_id!, i.region_id ?? null, i.resource_name!),
          };
          const dup = await store.listRegisteredLimits(trx, {
            serviceId: row.service_id,
            regionId: row.region_id,
            resourceName: row.resource_name,
          });
          if (dup.length > 0) throw duplicate("registered_limit");
          await store.insertRegisteredLimit(trx, row);
          out.push(row);
        }
        return out;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw duplicate("registered_limit");
      throw e;
    }
  }

  async listRegisteredLimits(f: RegisteredLimitFilter): Promise<RegisteredLimitRow[]> {
    return store.listRegisteredLimits(this.core.db, f);
  }

  async getRegisteredLimit(id: string, q: Q = this.core.db): Promise<RegisteredLimitRow> {
    const r = await store.getRegisteredLimit(q, id);
    if (!r) throw new NotFound(`Could not find registered limit for ${id}.`);
    return r;
  }

  /**
   * Keystone refuses any change to a registered limit that limits refer to (403), and checks
   * uniqueness whenever service, region or resource name is in the request — against every
   * row, the one being updated included, so re-sending its own values is a conflict too.
   */
  async updateRegisteredLimit(id: string, patch: RegisteredLimitInput): Promise<RegisteredLimitRow> {
    await this.assertExist(this.core.db, { ...patch }, "registered_limit");
    try {
      return await this.core.write(async (trx) => {
        const cur = await this.getRegisteredLimit(id, trx);
        if ((await store.countLimitsOf(trx, id)) > 0) throw inUse(id);
        const next: RegisteredLimitRow = { ...cur };
        if (patch.service_id !== undefined) next.service_id = patch.service_id;
        if (patch.region_id !== undefined) next.region_id = patch.region_id;
        if (patch.resource_name !== undefined) next.resource_name = patch.resource_name;
        if (patch.default_limit !== undefined) next.default_limit = patch.default_limit;
        if (patch.description !== undefined) next.description = patch.description;
        if (patch.service_id || "region_id" in patch || patch.resource_name) {
          const dup = await store.listRegisteredLimits(trx, {
            serviceId: next.service_id,
            regionId: next.region_id,
            resourceName: next.resource_name,
          });
          if (dup.length > 0) throw duplicate("registered_limit");
        }
        next.unique_key = store.registeredKey(next.service_id, next.region_id, next.resource_name);
        await store.updateRegisteredLimit(trx, next);
        return next;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw duplicate("registered_limit");
      throw e;
    }
  }

  async deleteRegisteredLimit(id: string): Promise<void> {
    await this.core.write(async (trx) => {
      await this.getRegisteredLimit(id, trx);
      if ((await store.countLimitsOf(trx, id)) > 0) throw inUse(id);
      await store.deleteRegisteredLimit(trx, id);
    });
  }

  // ---- limits ------------------------------------------------------------------------------

  async createLimits(inputs: LimitInput[]): Promise<LimitJoined[]> {
    const items = inputs.map((i) => ({ ...i }));
    for (const i of items) await this.assertExist(this.core.db, i, "limit");
    try {
      return await this.core.write(async (trx) => {
        const out: LimitJoined[] = [];
        for (const i of items) {
          const [reg] = await store.listRegisteredLimits(trx, {
            serviceId: i.service_id!,
            regionId: i.region_id ?? null,
            resourceName: i.resource_name!,
          });
          if (!reg) throw new Forbidden("Unable to create a limit that has no corresponding registered limit.");
          const ownerId = i.project_id ?? i.domain_id!;
          if (await store.findLimit(trx, reg.id, ownerId)) throw duplicate("limit");
          const row = {
            id: hexId(),
            registered_limit_id: reg.id,
            project_id: i.project_id ?? null,
            domain_id: i.domain_id ?? null,
            owner_id: ownerId,
            resource_limit: i.resource_limit!,
            description: i.description ?? null,
          };
          await store.insertLimit(trx, row);
          out.push({ ...row, service_id: reg.service_id, region_id: reg.region_id, resource_name: reg.resource_name });
        }
        return out;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw duplicate("limit");
      throw e;
    }
  }

  async listLimits(f: LimitFilter): Promise<LimitJoined[]> {
    return store.listLimits(this.core.db, f);
  }

  async findLimit(id: string): Promise<LimitJoined | undefined> {
    return store.getLimit(this.core.db, id);
  }

  async getLimit(id: string, q: Q = this.core.db): Promise<LimitJoined> {
    const l = await store.getLimit(q, id);
    if (!l) throw new NotFound(`Could not find limit for ${id}.`);
    return l;
  }

  /**
   * Keystone's update_limit only applies values that are truthy: a resource_limit of 0 or an
   * empty description in a PATCH leaves the stored value as it was.
   */
  async updateLimit(id: string, patch: Pick<LimitInput, "resource_limit" | "description">): Promise<LimitJoined> {
    return this.core.write(async (trx) => {
      await this.getLimit(id, trx);
      const set: { resource_limit?: number; description?: string } = {};
      if (patch.resource_limit) set.resource_limit = patch.resource_limit;
      if (patch.description) set.description = patch.description;
      await store.updateLimit(trx, id, set);
      return this.getLimit(id, trx);
    });
  }

  async deleteLimit(id: string): Promise<void> {
    await this.core.write(async (trx) => {
      await this.getLimit(id, trx);
      await store.deleteLimit(trx, id);
    });
  }

  /** Cascade for a deleted project or domain. */
  async deleteForOwner(trx: IdentityTrx, ownerId: string): Promise<void> {
    await store.deleteLimitsOfOwner(trx, ownerId);
  }
}
