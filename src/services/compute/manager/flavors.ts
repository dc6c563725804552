import { randomUUID } from "node:crypto";
import { BadRequest, Conflict, NotFound } from "../../../common/errors.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { Flavor, FlavorsApi } from "../api/deps.js";
import type { FleetStore, FleetTables } from "../store/fleet.js";

type FlavorRow = FleetTables["cmp_flavor"];

export interface FlavorListQuery {
  /** true: public (+ the project's private ones); false: private only; null: all. */
  isPublic: boolean | null;
  /** The caller's project (private flavors it was given access to are listed). */
  projectId: string | undefined;
  admin: boolean;
  minRam?: number;
  minDisk?: number;
  sortKey: string;
  sortDir: "asc" | "desc";
  limit?: number;
  marker?: string;
}

export interface NewFlavor {
  name: string;
  id?: string;
  ram: number;
  vcpus: number;
  disk: number;
  ephemeral: number;
  swap: number;
  rxtx_factor: number;
  is_public: boolean;
  description: string | null;
}

const SORT_COLUMNS: Record<string, keyof FlavorRow | undefined> = {
  created_at: "created_at",
  description: "description",
  disabled: "disabled",
  ephemeral_gb: "ephemeral_gb",
  flavorid: "flavorid",
  id: "id",
  is_public: "is_public",
  memory_mb: "memory_mb",
  name: "name",
  root_gb: "root_gb",
  rxtx_factor: "rxtx_factor",
  swap: "swap",
  updated_at: "updated_at",
  // vcpu_weight is not stored: Nova sorts on a column that is null for every flavor.
  vcpu_weight: "id",
  vcpus: "vcpus",
};

/** The default flavors DevStack creates (m1.tiny … m1.xlarge, ids 1–5). */
const DEFAULT_FLAVORS: NewFlavor[] = [
  { id: "1", name: "m1.tiny", ram: 512, vcpus: 1, disk: 1 },
  { id: "2", name: "m1.small", ram: 2048, vcpus: 1, disk: 20 },
  { id: "3", name: "m1.medium", ram: 4096, vcpus: 2, disk: 40 },
  { id: "4", name: "m1.large", ram: 8192, vcpus: 4, disk: 80 },
  { id: "5", name: "m1.xlarge", ram: 16384, vcpus: 8, disk: 160 },
].map((f) => ({ ...f, ephemeral: 0, swap: 0, rxtx_factor: 1.0, is_public: true, description: null }));

/** Flavors, their extra specs and project access (nova/objects/flavor.py, nova/compute/flavors.py). */
export class FlavorManager implements FlavorsApi {
  constructor(private readonly s: FleetStore) {}

  private toFlavor(r: FlavorRow, specs: Record<string, string>): Flavor {
    return {
      id: r.flavorid,
      name: r.name,
      vcpus: Number(r.vcpus),
      ram: Number(r.memory_mb),
      disk: Number(r.root_gb),
      ephemeral: Number(r.ephemeral_gb),
      swap: Number(r.swap),
      rxtx_factor: Number(r.rxtx_factor),
      is_public: Number(r.is_public) === 1,
      description: r.description,
      extra_specs: specs,
      disabled: Number(r.disabled) === 1,
    };
  }

  private async specsOf(flavorIds: string[]): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>();
    for (const id of flavorIds) out.set(id, {});
    if (flavorIds.length === 0) return out;
    for (let i = 0; i < flavorIds.length; i += 500) {
      const rows = await this.s.db.selectFrom("cmp_flavor_extra_spec").selectAll().where("flavorid", "in", flavorIds.slice(i, i + 500)).execute();
      for (const r of rows) out.get(r.flavorid)![r.key] = r.value;
    }
    return out;
  }

  async get(flavorId: string): Promise<Flavor | undefined> {
    const r = await this.s.db.selectFrom("cmp_flavor").selectAll().where("flavorid", "=", flavorId).executeTakeFirst();
    if (!r) return undefined;
    return this.toFlavor(r, (await this.specsOf([r.flavorid])).get(r.flavorid)!);
  }

  async usableBy(flavor: Flavor, projectId: string): Promise<boolean> {
    if (flavor.is_public) return true;
    const r = await this.s.db
      .selectFrom("cmp_flavor_project")
      .select("flavorid")
      .where("flavorid", "=", flavor.id)
      .where("project_id", "=", projectId)
      .executeTakeFirst();
    return r !== undefined;
  }

  /** As the API shows it: non-admins see public flavors and private ones shared with their project. */
  async show(flavorId: string, caller: { admin: boolean; projectId: string | undefined }): Promise<Flavor> {
    const f = await this.get(flavorId);
    if (!f || (!caller.admin && !(await this.usableBy(f, caller.projectId ?? "")))) throw new NotFound(`Flavor ${flavorId} could not be found.`);
    return f;
  }

  async list(q: FlavorListQuery): Promise<Flavor[]> {
    let query = this.s.db.selectFrom("cmp_flavor").selectAll();
    const shared = (p: string) => this.s.db.selectFrom("cmp_flavor_project").select("flavorid").where("project_id", "=", p);
    if (!q.admin) {
      const p = q.projectId ?? "";
      query = query.where((eb) => eb.or([eb("is_public", "=", 1), eb("flavorid", "in", shared(p))]));
      query = query.where("disabled", "=", 0);
    }
    if (q.minRam !== undefined) query = query.where("memory_mb", ">=", q.minRam);
    if (q.minDisk !== undefined) query = query.where("root_gb", ">=", q.minDisk);
    if (q.isPublic === true) {
      if (q.projectId !== undefined) {
        const p = q.projectId;
        query = query.where((eb) => eb.or([eb("is_public", "=", 1), eb("flavorid", "in", shared(p))]));
      } else query = query.where("is_public", "=", 1);
    } else if (q.isPublic === false) query = query.where("is_public", "=", 0);
    const col = SORT_COLUMNS[q.sortKey] ?? "flavorid";
    // Nova sorts on the key then on id (sqlalchemyutils.paginate_query adds the primary key).
    let rows = await query.orderBy(col, q.sortDir).orderBy("id", q.sortDir).execute();
    if (q.marker !== undefined) {
      const i = rows.findIndex((r) => r.flavorid === q.marker);
      if (i < 0) throw new BadRequest(`marker [${q.marker}] not found`);
      rows = rows.slice(i + 1);
    }
    if (q.limit !== undefined) rows = rows.slice(0, q.limit);
    const specs = await this.specsOf(rows.map((r) => r.flavorid));
    return rows.map((r) => this.toFlavor(r, specs.get(r.flavorid)!));
  }

  async create(f: NewFlavor): Promise<Flavor> {
    const flavorid = f.id ?? randomUUID();
    const now = this.s.now();
    try {
      await this.s.write(async (trx) => {
        const byName = await trx.selectFrom("cmp_flavor").select("flavorid").where("name", "=", f.name).executeTakeFirst();
        if (byName) throw new Conflict(`Flavor with name ${f.name} already exists.`);
        const byId = await trx.selectFrom("cmp_flavor").select("flavorid").where("flavorid", "=", flavorid).executeTakeFirst();
        if (byId) throw new Conflict(`Flavor with ID ${flavorid} already exists.`);
        await trx
          .insertInto("cmp_flavor")
          .values({
            flavorid,
            id: await this.s.nextId(trx, "cmp_flavor"),
            name: f.name,
            memory_mb: f.ram,
            vcpus: f.vcpus,
            root_gb: f.disk,
            ephemeral_gb: f.ephemeral,
            swap: f.swap,
            rxtx_factor: f.rxtx_factor,
            is_public: f.is_public ? 1 : 0,
            disabled: 0,
            description: f.description,
            created_at: now,
            updated_at: null,
          })
          .execute();
      }, { retryUnique: true });
    } catch (e) {
      if (isUniqueViolation(e)) {
        // A concurrent create of the same name or id won after every retry: answer as Nova.
        const byId = await this.get(flavorid);
        throw new Conflict(byId ? `Flavor with ID ${flavorid} already exists.` : `Flavor with name ${f.name} already exists.`);
      }
      throw e;
    }
    return (await this.get(flavorid))!;
  }

  /** The default flavors, created once (idempotent: a name or id that exists is kept). */
  async ensureDefaults(): Promise<void> {
    const have = await this.s.db.selectFrom("cmp_flavor").select(["flavorid", "name"]).execute();
    for (const f of DEFAULT_FLAVORS) {
      if (have.some((h) => h.flavorid === f.id || h.name === f.name)) continue;
      try {
        await this.create(f);
      } catch (e) {
        if (!(e instanceof Conflict)) throw e;
      }
    }
  }

  async delete(flavorId: string): Promise<void> {
    await this.s.write(async (trx) => {
      const r = await trx.deleteFrom("cmp_flavor").where("flavorid", "=", flavorId).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw new NotFound(`Flavor ${flavorId} could not be found.`);
      await trx.deleteFrom("cmp_flavor_extra_spec").where("flavorid", "=", flavorId).execute();
      await trx.deleteFrom("cmp_flavor_project").where("flavorid", "=", flavorId).execute();
    });
  }

  async updateDescription(flavorId: string, description: string | null): Promise<Flavor> {
    const r = await this.s.db
      .updateTable("cmp_flavor")
      .set({ description, updated_at: this.s.now() })
      .where("flavorid", "=", flavorId)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new NotFound(`Flavor ${flavorId} could not be found.`);
    return (await this.get(flavorId))!;
  }

  /** common.get_flavor: a missing flavor is a 404 with FlavorNotFound's message. */
  async require(flavorId: string): Promise<Flavor> {
    const f = await this.get(flavorId);
    if (!f) throw new NotFound(`Flavor ${flavorId} could not be found.`);
    return f;
  }

  async setExtraSpecs(flavorId: string, specs: Record<string, string>): Promise<void> {
    await this.s.write(async (trx) => {
      const f = await trx.selectFrom("cmp_flavor").select("flavorid").where("flavorid", "=", flavorId).executeTakeFirst();
      if (!f) throw new NotFound(`Flavor ${flavorId} could not be found.`);
      for (const [key, value] of Object.entries(specs)) {
        await trx
          .insertInto("cmp_flavor_extra_spec")
          .values({ flavorid: flavorId, key, value })
          .onConflict((oc) => oc.columns(["flavorid", "key"]).doUpdateSet({ value }))
          .execute();
      }
    });
  }

  async deleteExtraSpec(flavorId: string, key: string): Promise<void> {
    await this.require(flavorId);
    const r = await this.s.db.deleteFrom("cmp_flavor_extra_spec").where("flavorid", "=", flavorId).where("key", "=", key).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new NotFound(`Flavor ${flavorId} has no extra specs with key ${key}.`);
  }

  async accessList(flavorId: string): Promise<string[]> {
    const rows = await this.s.db.selectFrom("cmp_flavor_project").select("project_id").where("flavorid", "=", flavorId).orderBy("project_id").execute();
    return rows.map((r) => r.project_id);
  }

  async addAccess(flavorId: string, projectId: string): Promise<void> {
    try {
      await this.s.db.insertInto("cmp_flavor_project").values({ flavorid: flavorId, project_id: projectId }).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Flavor access already exists for flavor ${flavorId} and project ${projectId} combination.`);
      throw e;
    }
  }

  async removeAccess(flavorId: string, projectId: string): Promise<void> {
    const r = await this.s.db.deleteFrom("cmp_flavor_project").where("flavorid", "=", flavorId).where("project_id", "=", projectId).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new NotFound(`Flavor access not found for ${flavorId} / ${projectId} combination.`);
  }
}
