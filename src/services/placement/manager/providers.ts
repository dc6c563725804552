import { isUniqueViolation } from "../../../db/database.js";
import { Codes, badRequest, conflict, notFound } from "../errors.js";
import type { PlacementCore, PTrx, Q } from "../store/core.js";
import { ConcurrentUpdate, MIN_CUSTOM_RC_ID, rows, sql } from "../store/core.js";

export interface Provider {
  id: number;
  uuid: string;
  name: string;
  generation: number;
  parent_provider_uuid: string | null;
  root_provider_uuid: string;
  parent_id: number | null;
  root_id: number;
  created_at: string;
  updated_at: string;
}

export interface InventoryRecord {
  resource_class: string;
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
  used: number;
  created_at: string;
  updated_at: string;
}

export type InventoryInput = Omit<InventoryRecord, "used" | "created_at" | "updated_at">;

/** Filters of GET /resource_providers, already parsed. */
export interface ProviderFilters {
  name?: string;
  uuid?: string;
  in_tree?: string;
  member_of?: string[][];
  forbidden_aggs?: string[];
  required_traits?: string[][];
  forbidden_traits?: string[];
  resources?: Record<string, number>;
}

const PROVIDER_COLUMNS = sql`p.id, p.uuid, p.name, p.generation, p.parent_id, p.root_id, par.uuid AS parent_uuid, r.uuid AS root_uuid, p.created_at, p.updated_at`;
const PROVIDER_FROM = sql`plc_provider p LEFT JOIN plc_provider par ON par.id = p.parent_id LEFT JOIN plc_provider r ON r.id = p.root_id`;

type ProviderRow = Record<string, unknown>;
export function toProvider(r: ProviderRow): Provider {
  return {
    id: Number(r["id"]),
    uuid: r["uuid"] as string,
    name: r["name"] as string,
    generation: Number(r["generation"]),
    parent_id: r["parent_id"] === null || r["parent_id"] === undefined ? null : Number(r["parent_id"]),
    root_id: Number(r["root_id"]),
    parent_provider_uuid: (r["parent_uuid"] as string | null) ?? null,
    root_provider_uuid: (r["root_uuid"] as string | null) ?? (r["uuid"] as string),
    created_at: r["created_at"] as string,
    updated_at: r["updated_at"] as string,
  };
}

export const capacityOf = (inv: { total: number; reserved: number; allocation_ratio: number }): number =>
  Math.trunc((inv.total - inv.reserved) * inv.allocation_ratio);

/** Providers, their inventories, traits and aggregates; resource classes and the trait catalogue. */
export class ProviderManager {
  constructor(private readonly core: PlacementCore) {}

  async find(uuid: string, q: Q = this.core.db): Promise<Provider | undefined> {
    const r = await rows<ProviderRow>(q, sql`SELECT ${PROVIDER_COLUMNS} FROM ${PROVIDER_FROM} WHERE p.uuid = ${uuid}`);
    return r[0] ? toProvider(r[0]) : undefined;
  }

  /** get_by_uuid: a missing provider is Placement's NotFound ("No resource provider with uuid X found"). */
  async get(uuid: string, q: Q = this.core.db, message?: (uuid: string) => string): Promise<Provider> {
    const p = await this.find(uuid, q);
    if (!p) throw notFound(message ? message(uuid) : `No resource provider with uuid ${uuid} found`);
    return p;
  }

  async list(f: ProviderFilters): Promise<Provider[]> {
    const db = this.core.db;
    const where: ReturnType<typeof sql>[] = [];
    if (f.name) where.push(sql`p.name = ${f.name}`);
    if (f.uuid) where.push(sql`p.uuid = ${f.uuid}`);
    if (f.in_tree) {
      const t = await this.find(f.in_tree);
      if (!t) return [];
      where.push(sql`p.root_id = ${t.root_id}`);
    }
    if (f.required_traits?.length) {
      const names = new Set(f.required_traits.flat());
      const ids = await this.core.traitIds(names);
      const missing = [...names].filter((n) => !ids.has(n));
      if (missing.length) throw badRequest(`Invalid trait(s) in "required" parameter: No such trait(s): ${missing.join(", ")}.`);
      for (const any of f.required_traits) {
        const tids = any.map((n) => ids.get(n)!);
        where.push(sql`EXISTS (SELECT 1 FROM plc_provider_trait t WHERE t.provider_id = p.id AND t.trait_id IN (${sql.join(tids)}))`);
      }
    }
    if (f.forbidden_traits?.length) {
      const ids = [...(await this.core.traitIds(f.forbidden_traits)).values()];
      if (ids.length) where.push(sql`NOT EXISTS (SELECT 1 FROM plc_provider_trait t WHERE t.provider_id = p.id AND t.trait_id IN (${sql.join(ids)}))`);
    }
    for (const any of f.member_of ?? []) {
      where.push(sql`EXISTS (SELECT 1 FROM plc_provider_aggregate pa JOIN plc_aggregate a ON a.id = pa.aggregate_id WHERE pa.provider_id = p.id AND a.uuid IN (${sql.join(any)}))`);
    }
    if (f.forbidden_aggs?.length) {
      where.push(sql`NOT EXISTS (SELECT 1 FROM plc_provider_aggregate pa JOIN plc_aggregate a ON a.id = pa.aggregate_id WHERE pa.provider_id = p.id AND a.uuid IN (${sql.join(f.forbidden_aggs)}))`);
    }
    for (const [rc, amount] of Object.entries(f.resources ?? {})) {
      const rcId = await this.core.rcId(rc);
      if (rcId === undefined) throw badRequest(`Invalid resource class in resources parameter: No such resource class ${rc}.`);
      where.push(sql`EXISTS (SELECT 1 FROM plc_inventory i WHERE i.provider_id = p.id AND i.rc_id = ${rcId} AND ${fits(amount)})`);
    }
    const cond = where.length ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``;
    const r = await rows<ProviderRow>(db, sql`SELECT ${PROVIDER_COLUMNS} FROM ${PROVIDER_FROM} ${cond} ORDER BY p.id`);
    return r.map(toProvider);
  }

  async create(input: { uuid: string; name: string; parent_provider_uuid?: string | null }): Promise<Provider> {
    const now = this.core.now();
    try {
      return await this.core.write(async (trx) => {
        let parentId: number | null = null;
        let rootId: number | null = null;
        if (input.parent_provider_uuid) {
          if (input.parent_provider_uuid === input.uuid) {
            throw badRequest(
              `Unable to create resource provider "${input.name}", ${input.uuid}: Object action create failed because: parent provider UUID cannot be same as UUID. Please set parent provider UUID to None if there is no parent.`,
            );
          }
          const parent = await this.find(input.parent_provider_uuid, trx);
          if (!parent) {
            throw badRequest(`Unable to create resource provider "${input.name}", ${input.uuid}: Object action create failed because: parent provider UUID does not exist.`);
          }
          parentId = parent.id;
          rootId = parent.root_id;
        }
        const ins = await trx
          .insertInto("plc_provider")
          .values({ uuid: input.uuid, name: input.name, generation: 0, parent_id: parentId, root_id: rootId, created_at: now, updated_at: now })
          .returning("id")
          .executeTakeFirstOrThrow();
        const id = Number(ins.id);
        if (rootId === null) await trx.updateTable("plc_provider").set({ root_id: id }).where("id", "=", id).execute();
        return (await this.find(input.uuid, trx))!;
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const dup: string[] = [];
      const byUuid = await this.find(input.uuid);
      if (byUuid) dup.push(`uuid: ${input.uuid}`);
      const byName = await this.core.db.selectFrom("plc_provider").select("id").where("name", "=", input.name).executeTakeFirst();
      if (byName) dup.push(`name: ${input.name}`);
      throw conflict(`Conflicting resource provider ${dup.join(", ") || `name: ${input.name}`} already exists.`, Codes.DUPLICATE_NAME);
    }
  }

  /** PUT /resource_providers/{uuid}: rename and (re/un)parent; children follow a new root. */
  async update(uuid: string, changes: { name?: string; parent_provider_uuid?: string | null }, allowReparenting: boolean): Promise<Provider> {
    const fail = (reason: string): ReturnType<typeof badRequest> => badRequest(`Unable to save resource provider ${uuid}: Object action update failed because: ${reason}`);
    try {
      return await this.core.write(async (trx) => {
        const me = await this.get(uuid, trx);
        const set: Record<string, unknown> = { updated_at: this.core.now() };
        if (changes.name !== undefined) set["name"] = changes.name;
        let newRoot: number | undefined;
        if ("parent_provider_uuid" in changes) {
          const want = changes.parent_provider_uuid ?? null;
          if (want !== null) {
            const parent = await this.find(want, trx);
            if (!parent) throw badRequest(`Unable to save resource provider ${uuid}: Object action create failed because: parent provider UUID does not exist.`);
            if (me.parent_id !== null && me.parent_id !== parent.id && !allowReparenting) throw fail("re-parenting a provider is not currently allowed.");
            if (me.parent_id !== parent.id) {
              const subtree = await this.subtreeIds(trx, me);
              if (subtree.has(parent.id)) throw fail("creating loop in the provider tree is not allowed.");
              set["parent_id"] = parent.id;
              newRoot = parent.root_id;
            }
          } else if (me.parent_id !== null) {
            if (!allowReparenting) throw fail("un-parenting a provider is not currently allowed.");
            set["parent_id"] = null;
            newRoot = me.id;
          }
        }
        if (newRoot !== undefined && newRoot !== me.root_id) {
          const subtree = await this.subtreeIds(trx, me);
          await trx.updateTable("plc_provider").set({ root_id: newRoot }).where("id", "in", [...subtree]).execute();
        }
        await trx.updateTable("plc_provider").set(set).where("id", "=", me.id).execute();
        return (await this.find(uuid, trx))!;
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      throw conflict(`Conflicting resource provider ${changes.name ?? ""} already exists.`, Codes.DUPLICATE_NAME);
    }
  }

  private async subtreeIds(q: Q, me: Provider): Promise<Set<number>> {
    const tree = await q.selectFrom("plc_provider").select(["id", "parent_id"]).where("root_id", "=", me.root_id).execute();
    const children = new Map<number, number[]>();
    for (const r of tree) {
      if (r.parent_id === null) continue;
      const k = Number(r.parent_id);
      (children.get(k) ?? children.set(k, []).get(k)!).push(Number(r.id));
    }
    const out = new Set<number>([me.id]);
    const stack = [me.id];
    while (stack.length) for (const c of children.get(stack.pop()!) ?? []) if (!out.has(c)) (out.add(c), stack.push(c));
    return out;
  }

  async delete(uuid: string): Promise<void> {
    await this.core.write(async (trx) => {
      const p = await this.find(uuid, trx);
      if (!p) throw notFound(`No resource provider with uuid ${uuid} found for delete`);
      const child = await trx.selectFrom("plc_provider").select("id").where("parent_id", "=", p.id).limit(1).executeTakeFirst();
      if (child) throw conflict(`Unable to delete parent resource provider ${uuid}: It has child resource providers.`, Codes.PROVIDER_CANNOT_DELETE_PARENT);
      const alloc = await trx.selectFrom("plc_allocation").select("id").where("provider_id", "=", p.id).limit(1).executeTakeFirst();
      if (alloc) throw conflict(`Unable to delete resource provider ${uuid}: Resource provider has allocations.`, Codes.PROVIDER_IN_USE);
      await trx.deleteFrom("plc_inventory").where("provider_id", "=", p.id).execute();
      await trx.deleteFrom("plc_provider_aggregate").where("provider_id", "=", p.id).execute();
      await trx.deleteFrom("plc_provider_trait").where("provider_id", "=", p.id).execute();
      await trx.deleteFrom("plc_provider").where("id", "=", p.id).execute();
    });
  }

  // ---- inventories

  async inventories(providerId: number, q: Q = this.core.db): Promise<InventoryRecord[]> {
    const r = await q.selectFrom("plc_inventory").selectAll().where("provider_id", "=", providerId).orderBy("rc_id").execute();
    const out: InventoryRecord[] = [];
    for (const i of r) {
      out.push({
        resource_class: await this.core.rcName(Number(i.rc_id), q),
        total: Number(i.total),
        reserved: Number(i.reserved),
        min_unit: Number(i.min_unit),
        max_unit: Number(i.max_unit),
        step_size: Number(i.step_size),
        allocation_ratio: Number(i.allocation_ratio),
        used: Number(i.used),
        created_at: i.created_at as string,
        updated_at: i.updated_at as string,
      });
    }
    return out;
  }

  /**
   * Replace, add, update or delete inventories of one provider under its generation.
   * `mode`: "set" replaces all (PUT .../inventories, DELETE .../inventories), "add" adds one
   * (POST), "update" changes one that exists (PUT .../inventories/{rc}).
   * Reducing a total below what is allocated is allowed (Placement only logs it); removing a
   * class that has allocations is refused with placement.inventory.inuse.
   */
  async writeInventories(
    trx: PTrx,
    p: Provider,
    list: InventoryInput[],
    mode: "set" | "add" | "update" | "upsert",
  ): Promise<number> {
    const now = this.core.now();
    // PostgreSQL: writers of one provider's inventories queue on its row, so the one that comes
    // second reads the first one's rows and fails the generation check (409 concurrent update)
    // instead of colliding on the inventory key.
    if (this.core.dialect === "postgres") await trx.selectFrom("plc_provider").select("id").where("id", "=", p.id).forUpdate().execute();
    const existing = await trx.selectFrom("plc_inventory").select(["rc_id"]).where("provider_id", "=", p.id).execute();
    const have = new Set(existing.map((r) => Number(r.rc_id)));
    const want = new Map<number, InventoryInput>();
    for (const inv of list) {
      const id = await this.core.rcId(inv.resource_class, trx);
      if (id === undefined) throw new UnknownResourceClass(inv.resource_class);
      want.set(id, inv);
    }
    if (mode === "set") {
      const del = [...have].filter((id) => !want.has(id));
      if (del.length) {
        const used = await trx.selectFrom("plc_allocation").select("rc_id").distinct().where("provider_id", "=", p.id).where("rc_id", "in", del).execute();
        if (used.length) {
          const names = [];
          for (const u of used) names.push(await this.core.rcName(Number(u.rc_id), trx));
          throw new InventoryInUse(names.join(", "), p.uuid);
        }
        await trx.deleteFrom("plc_inventory").where("provider_id", "=", p.id).where("rc_id", "in", del).execute();
      }
    }
    for (const [rcId, inv] of want) {
      const values = {
        total: inv.total,
        reserved: inv.reserved,
        min_unit: inv.min_unit,
        max_unit: inv.max_unit,
        step_size: inv.step_size,
        allocation_ratio: inv.allocation_ratio,
        updated_at: now,
      };
      if (have.has(rcId)) {
        if (mode === "add") throw new ConcurrentUpdate();
        await trx.updateTable("plc_inventory").set(values).where("provider_id", "=", p.id).where("rc_id", "=", rcId).execute();
      } else {
        if (mode === "update") throw new NoInventoryOfClass(inv.resource_class);
        const used = await trx
          .selectFrom("plc_allocation")
          .select(sql<number>`COALESCE(SUM(used), 0)`.as("u"))
          .where("provider_id", "=", p.id)
          .where("rc_id", "=", rcId)
          .executeTakeFirst();
        await trx
          .insertInto("plc_inventory")
          .values({ provider_id: p.id, rc_id: rcId, ...values, used: Number(used?.u ?? 0), created_at: now })
          .execute();
      }
    }
    if (mode === "upsert") return p.generation;
    return this.core.bumpGeneration(trx, p.id, p.generation);
  }

  async deleteInventory(trx: PTrx, p: Provider, rc: string): Promise<void> {
    const rcId = await this.core.rcId(rc, trx);
    if (rcId === undefined) throw new NoInventoryOfClass(rc, `No such resource class ${rc}.`);
    const used = await trx.selectFrom("plc_allocation").select("id").where("provider_id", "=", p.id).where("rc_id", "=", rcId).limit(1).executeTakeFirst();
    if (used) throw new InventoryInUse(rc, p.uuid);
    const r = await trx.deleteFrom("plc_inventory").where("provider_id", "=", p.id).where("rc_id", "=", rcId).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new NoInventoryOfClass(rc, `No inventory of class ${rc} found for delete`);
    await this.core.bumpGeneration(trx, p.id, p.generation);
  }

  // ---- traits of providers

  async providerTraits(providerId: number, q: Q = this.core.db): Promise<string[]> {
    const r = await q.selectFrom("plc_provider_trait as pt").innerJoin("plc_trait as t", "t.id", "pt.trait_id").select("t.name").where("pt.provider_id", "=", providerId).orderBy("t.name").execute();
    return r.map((x) => x.name as string);
  }

  /** Replace a provider's traits; the generation moves only when the set changes (as Placement). */
  async setProviderTraits(trx: PTrx, p: Provider, traitIds: number[]): Promise<number> {
    const cur = await trx.selectFrom("plc_provider_trait").select("trait_id").where("provider_id", "=", p.id).execute();
    const have = new Set(cur.map((r) => Number(r.trait_id)));
    const want = new Set(traitIds);
    const del = [...have].filter((t) => !want.has(t));
    const add = [...want].filter((t) => !have.has(t));
    if (!del.length && !add.length) return p.generation;
    if (del.length) await trx.deleteFrom("plc_provider_trait").where("provider_id", "=", p.id).where("trait_id", "in", del).execute();
    if (add.length) await trx.insertInto("plc_provider_trait").values(add.map((t) => ({ provider_id: p.id, trait_id: t }))).execute();
    return this.core.bumpGeneration(trx, p.id, p.generation);
  }

  // ---- aggregates

  async aggregates(providerId: number, q: Q = this.core.db): Promise<string[]> {
    const r = await q.selectFrom("plc_provider_aggregate as pa").innerJoin("plc_aggregate as a", "a.id", "pa.aggregate_id").select("a.uuid").where("pa.provider_id", "=", providerId).orderBy("a.uuid").execute();
    return r.map((x) => x.uuid as string);
  }

  async setAggregates(trx: PTrx, p: Provider, uuids: string[], bump: boolean): Promise<number> {
    const cur = await trx.selectFrom("plc_provider_aggregate as pa").innerJoin("plc_aggregate as a", "a.id", "pa.aggregate_id").select(["a.id", "a.uuid"]).where("pa.provider_id", "=", p.id).execute();
    const want = new Set(uuids);
    const have = new Set(cur.map((r) => r.uuid as string));
    const del = cur.filter((r) => !want.has(r.uuid as string)).map((r) => Number(r.id));
    if (del.length) await trx.deleteFrom("plc_provider_aggregate").where("provider_id", "=", p.id).where("aggregate_id", "in", del).execute();
    for (const u of want) {
      if (have.has(u)) continue;
      const aggId = await this.core.ensureAggregate(trx, u);
      await trx.insertInto("plc_provider_aggregate").values({ provider_id: p.id, aggregate_id: aggId }).onConflict((oc) => oc.columns(["provider_id", "aggregate_id"]).doNothing()).execute();
    }
    return bump ? this.core.bumpGeneration(trx, p.id, p.generation) : p.generation;
  }

  // ---- resource classes

  async resourceClasses(): Promise<Array<{ name: string; created_at: string; updated_at: string }>> {
    const r = await this.core.db.selectFrom("plc_resource_class").select(["name", "created_at", "updated_at"]).orderBy("id").execute();
    return r.map((x) => ({ name: x.name as string, created_at: x.created_at as string, updated_at: x.updated_at as string }));
  }

  async resourceClass(name: string): Promise<{ id: number; name: string; created_at: string; updated_at: string }> {
    const r = await this.core.db.selectFrom("plc_resource_class").selectAll().where("name", "=", name).executeTakeFirst();
    if (!r) throw notFound(`No such resource class ${name}.`);
    return { id: Number(r.id), name: r.name as string, created_at: r.created_at as string, updated_at: r.updated_at as string };
  }

  /** Creates a custom class; false when it already exists. */
  async createResourceClass(name: string): Promise<boolean> {
    const now = this.core.now();
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await this.core.write(async (trx) => {
          const exists = await trx.selectFrom("plc_resource_class").select("id").where("name", "=", name).executeTakeFirst();
          if (exists) throw new AlreadyExists();
          const max = await trx.selectFrom("plc_resource_class").select(sql<number>`MAX(id)`.as("m")).executeTakeFirst();
          const id = Math.max(MIN_CUSTOM_RC_ID, Number(max?.m ?? 0) + 1);
          await trx.insertInto("plc_resource_class").values({ id, name, created_at: now, updated_at: now }).execute();
        });
        return true;
      } catch (e) {
        if (e instanceof AlreadyExists) return false;
        if (!isUniqueViolation(e)) throw e;
        const exists = await this.core.db.selectFrom("plc_resource_class").select("id").where("name", "=", name).executeTakeFirst();
        if (exists) return false;
      }
    }
    throw conflict(`Max retries of DB transaction exceeded attempting to create resource class: ${name}, please try again.`);
  }

  async renameResourceClass(name: string, to: string): Promise<void> {
    const rc = await this.resourceClass(name);
    if (rc.id < MIN_CUSTOM_RC_ID) throw badRequest(`Cannot update standard resource class ${name}`);
    try {
      await this.core.db.updateTable("plc_resource_class").set({ name: to, updated_at: this.core.now() }).where("id", "=", rc.id).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`Resource class already exists: ${to}`);
      throw e;
    }
    this.core.forgetResourceClass(name);
  }

  async deleteResourceClass(name: string): Promise<void> {
    const rc = await this.resourceClass(name);
    if (rc.id < MIN_CUSTOM_RC_ID) throw badRequest(`Error in delete resource class: Cannot delete standard resource class ${name}.`);
    await this.core.write(async (trx) => {
      const inUse = await trx.selectFrom("plc_inventory").select("provider_id").where("rc_id", "=", rc.id).limit(1).executeTakeFirst();
      if (inUse) throw conflict(`Error in delete resource class: Cannot delete resource class ${name}. Class is in use in inventory.`);
      await trx.deleteFrom("plc_resource_class").where("id", "=", rc.id).execute();
    });
    this.core.forgetResourceClass(name);
  }

  // ---- trait catalogue

  async traits(f: { name_in?: string[]; prefix?: string; associated?: boolean }): Promise<string[]> {
    let q = this.core.db.selectFrom("plc_trait as t").select("t.name");
    if (f.name_in) q = q.where("t.name", "in", f.name_in.length ? f.name_in : [""]);
    if (f.prefix !== undefined) q = q.where(sql`substr(t.name, 1, ${f.prefix.length})`, "=", f.prefix);
    if (f.associated === true) q = q.where(sql<boolean>`EXISTS (SELECT 1 FROM plc_provider_trait pt WHERE pt.trait_id = t.id)`);
    if (f.associated === false) q = q.where(sql<boolean>`NOT EXISTS (SELECT 1 FROM plc_provider_trait pt WHERE pt.trait_id = t.id)`);
    const r = await q.orderBy("t.name").execute();
    return r.map((x) => x.name as string);
  }

  async trait(name: string): Promise<{ name: string; created_at: string } | undefined> {
    const r = await this.core.db.selectFrom("plc_trait").select(["name", "created_at"]).where("name", "=", name).executeTakeFirst();
    return r ? { name: r.name as string, created_at: r.created_at as string } : undefined;
  }

  /** Creates a custom trait; false when it already existed. */
  async ensureTrait(name: string): Promise<boolean> {
    const now = this.core.now();
    const r = await this.core.db
      .insertInto("plc_trait")
      .values({ name, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column("name").doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async deleteTrait(name: string): Promise<void> {
    await this.core.write(async (trx) => {
      const t = await trx.selectFrom("plc_trait").select("id").where("name", "=", name).executeTakeFirst();
      if (!t) throw notFound(`No such trait(s): ${name}.`);
      if (!name.startsWith("CUSTOM_")) throw badRequest(`Cannot delete standard trait ${name}.`);
      const used = await trx.selectFrom("plc_provider_trait").select("provider_id").where("trait_id", "=", t.id).limit(1).executeTakeFirst();
      if (used) throw conflict(`The trait ${name} is in use by a resource provider.`);
      await trx.deleteFrom("plc_trait").where("id", "=", t.id).execute();
    });
    this.core.forgetTrait(name);
  }
}

/** SQL: this inventory row (alias i) can take `amount` more (capacity, min/max unit, step). */
export function fits(amount: number, alias = "i"): ReturnType<typeof sql> {
  const a = sql.raw(alias);
  return sql`${a}.used + ${amount} <= (${a}.total - ${a}.reserved) * ${a}.allocation_ratio AND ${a}.min_unit <= ${amount} AND ${a}.max_unit >= ${amount} AND ${amount} % ${a}.step_size = 0`;
}

export class UnknownResourceClass extends Error {
  constructor(readonly rc: string) {
    super(`No such resource class ${rc}.`);
  }
}
export class InventoryInUse extends Error {
  constructor(classes: string, provider: string) {
    super(`Inventory for '${classes}' on resource provider '${provider}' in use.`);
  }
}
export class NoInventoryOfClass extends Error {
  constructor(rc: string, msg?: string) {
    super(msg ?? `No inventory of class ${rc} found.`);
  }
}
class AlreadyExists extends Error {}
