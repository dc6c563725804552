import { BadRequest, Conflict, NotFound } from "../../../common/errors.js";
import { uuid } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { Volume } from "../api/deps.js";
import { typeNotFound } from "./types.js";

export interface QosSpecs {
  id: string;
  name: string;
  consumer: string;
  specs: Record<string, string>;
  created_at: string;
}

export const QOS_CONSUMERS = ["back-end", "front-end", "both"];

const qosNotFound = (id: string) => new NotFound(`No such QoS spec ${id}.`);
const badConsumer = () => new BadRequest(`Invalid qos specs: Valid consumer of QoS specs are: ${QOS_CONSUMERS.join(", ")}`);

/** cinder/volume/qos_specs.py over the qos_specs table; a type's qos_specs_id is its association. */
export class QosManager {
  constructor(private readonly v: Volume) {}

  private get db() {
    return this.v.core.db;
  }

  private parse(r: { id: string; name: string; consumer: string; specs: string; created_at: string }): QosSpecs {
    return { id: r.id, name: r.name, consumer: r.consumer, specs: JSON.parse(r.specs) as Record<string, string>, created_at: r.created_at };
  }

  async get(id: string): Promise<QosSpecs> {
    const r = await this.db.selectFrom("vol_qos_specs").selectAll().where("id", "=", id).executeTakeFirst();
    if (!r) throw qosNotFound(id);
    return this.parse(r);
  }

  async list(filters: { id?: string; name?: string; consumer?: string }): Promise<QosSpecs[]> {
    let s = this.db.selectFrom("vol_qos_specs").selectAll();
    if (filters.id !== undefined) s = s.where("id", "=", filters.id);
    if (filters.name !== undefined) s = s.where("name", "=", filters.name);
    if (filters.consumer !== undefined) s = s.where("consumer", "=", filters.consumer);
    return (await s.execute()).map((r) => this.parse(r));
  }

  async create(name: string, specs: Record<string, string>): Promise<QosSpecs> {
    const rest = { ...specs };
    let consumer = "back-end";
    if (rest["consumer"]) {
      consumer = rest["consumer"];
      delete rest["consumer"];
    }
    if (!QOS_CONSUMERS.includes(consumer)) throw badConsumer();
    const row = { id: uuid(), name, consumer, specs: JSON.stringify(rest), created_at: this.v.core.now() };
    try {
      await this.db.insertInto("vol_qos_specs").values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`QoS Specs ${name} already exists.`);
      throw e;
    }
    return this.parse(row);
  }

  async update(id: string, specs: Record<string, string | null>): Promise<void> {
    await this.v.core.write(async (trx) => {
      const r = await trx.selectFrom("vol_qos_specs").selectAll().where("id", "=", id).executeTakeFirst();
      if (!r) throw qosNotFound(id);
      const cur = JSON.parse(r.specs) as Record<string, string | null>;
      let consumer = r.consumer;
      for (const [k, x] of Object.entries(specs)) {
        if (k === "consumer") {
          if (x === null || !QOS_CONSUMERS.includes(x)) throw badConsumer();
          consumer = x;
        } else cur[k] = x;
      }
      await trx.updateTable("vol_qos_specs").set({ consumer, specs: JSON.stringify(cur) }).where("id", "=", id).execute();
    });
  }

  /** delete_keys: stops at the first absent key, keeping the deletions before it (as Cinder). */
  async deleteKeys(id: string, keys: string[]): Promise<void> {
    await this.v.core.write(async (trx) => {
      const r = await trx.selectFrom("vol_qos_specs").selectAll().where("id", "=", id).executeTakeFirst();
      if (!r) throw qosNotFound(id);
      const cur = JSON.parse(r.specs) as Record<string, string>;
      let missing: string | undefined;
      for (const k of keys) {
        if (!(k in cur)) {
          missing = k;
          break;
        }
        delete cur[k];
      }
      await trx.updateTable("vol_qos_specs").set({ specs: JSON.stringify(cur) }).where("id", "=", id).execute();
      if (missing !== undefined) return missing;
      return undefined;
    }).then((missing) => {
      if (missing !== undefined) throw new NotFound(`QoS spec ${id} has no spec with key ${missing}.`);
    });
  }

  async delete(id: string, force: boolean): Promise<void> {
    await this.v.core.write(async (trx) => {
      const r = await trx.selectFrom("vol_qos_specs").select("id").where("id", "=", id).executeTakeFirst();
      if (!r) throw qosNotFound(id);
      const used = await trx.selectFrom("vol_type").select("id").where("qos_specs_id", "=", id).limit(1).executeTakeFirst();
      if (used && !force) throw new BadRequest("Qos specs still in use.");
      await trx.updateTable("vol_type").set({ qos_specs_id: null }).where("qos_specs_id", "=", id).execute();
      await trx.deleteFrom("vol_qos_specs").where("id", "=", id).execute();
    });
  }

  async associations(id: string): Promise<Array<{ association_type: string; name: string; id: string }>> {
    await this.get(id);
    const rows = await this.db.selectFrom("vol_type").select(["id", "name"]).where("qos_specs_id", "=", id).orderBy("created_at").execute();
    return rows.map((t) => ({ association_type: "volume_type", name: t.name, id: t.id }));
  }

  async associate(id: string, typeId: string): Promise<void> {
    await this.get(id);
    const t = await this.db.selectFrom("vol_type").select(["id", "qos_specs_id"]).where("id", "=", typeId).executeTakeFirst();
    if (!t) throw typeNotFound(typeId);
    if (t.qos_specs_id) {
      if (t.qos_specs_id !== id) throw new BadRequest(`Invalid volume type: Type ${typeId} is already associated with another qos specs: ${t.qos_specs_id}`);
      return;
    }
    await this.db.updateTable("vol_type").set({ qos_specs_id: id, updated_at: this.v.core.now() }).where("id", "=", typeId).execute();
  }

  async disassociate(id: string, typeId: string): Promise<void> {
    await this.get(id);
    const t = await this.db.selectFrom("vol_type").select(["id", "qos_specs_id"]).where("id", "=", typeId).executeTakeFirst();
    if (!t) throw typeNotFound(typeId);
    await this.db.updateTable("vol_type").set({ qos_specs_id: null, updated_at: this.v.core.now() }).where("id", "=", typeId).where("qos_specs_id", "=", id).execute();
  }

  async disassociateAll(id: string): Promise<void> {
    await this.get(id);
    await this.db.updateTable("vol_type").set({ qos_specs_id: null, updated_at: this.v.core.now() }).where("qos_specs_id", "=", id).execute();
  }
}


