import type { Clock } from "../../../common/clock.js";
import { Conflict, Forbidden, NotFound } from "../../../common/errors.js";
import { uuid } from "../../../common/ids.js";
import type { Database } from "../../../db/database.js";
import { isRetryable, isUniqueViolation } from "../../../db/database.js";
import type { ImageKysely, ImageTrx, MetadefDB, Q } from "../store/tables.js";
import type { GlanceCaller } from "./images.js";

export type NamespaceRow = MetadefDB["img_md_namespace"];
export type Doc = Record<string, unknown>;

export interface NamespaceInput {
  namespace: string;
  display_name?: string | null;
  description?: string | null;
  visibility?: string | null;
  protected?: boolean | null;
  owner?: string | null;
}

/** What a namespace holds, for show (and for create's nested lists). */
export interface NamespaceContents {
  resource_type_associations: Doc[];
  properties: Record<string, Doc>;
  objects: Doc[];
  tags: Doc[];
}

/**
 * Glance's metadata definitions. Visibility as Glance's metadef repo: an admin sees every
 * namespace, others public ones and their project's. Names are unique per namespace.
 */
export class MetadefManager {
  private readonly db: ImageKysely;

  constructor(
    database: Database,
    private readonly clock: Clock,
  ) {
    this.db = database.db as unknown as ImageKysely;
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  private async write<T>(fn: (trx: ImageTrx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute(fn);
      } catch (e) {
        if (isRetryable(e) && attempt < 6) continue;
        throw e;
      }
    }
  }

  private visible(caller: GlanceCaller, ns: NamespaceRow): boolean {
    return caller.isAdmin || ns.visibility === "public" || ns.owner === caller.projectId;
  }

  /** The namespace if visible; otherwise Glance's "Namespace %s not found" (or `message`). */
  async namespace(caller: GlanceCaller, name: string, message = `Namespace ${name} not found`, q: Q = this.db): Promise<NamespaceRow> {
    const ns = await q.selectFrom("img_md_namespace").selectAll().where("namespace", "=", name).executeTakeFirst();
    if (!ns || !this.visible(caller, ns)) throw new NotFound(message);
    return ns;
  }

  async listNamespaces(
    caller: GlanceCaller,
    p: { limit: number; marker?: string; sortKey: string; sortDir: "asc" | "desc"; visibility?: string; resourceTypes?: string[] },
  ): Promise<{ namespaces: NamespaceRow[]; next?: string }> {
    let qb = this.db.selectFrom("img_md_namespace").selectAll("img_md_namespace");
    if (!caller.isAdmin) {
      qb = qb.where((eb) => eb.or([eb("visibility", "=", "public"), eb("owner", "=", caller.projectId ?? "")]));
    }
    if (p.visibility) qb = qb.where("visibility", "=", p.visibility);
    if (p.resourceTypes?.length) {
      const rts = p.resourceTypes;
      qb = qb.where((eb) => eb.exists(eb.selectFrom("img_md_rt_assoc as a").select("a.namespace_id").whereRef("a.namespace_id", "=", "img_md_namespace.id").where("a.resource_type", "in", rts)));
    }
    const key = ["created_at", "updated_at", "namespace", "display_name", "visibility", "owner", "id"].includes(p.sortKey) ? p.sortKey : "created_at";
    if (p.marker !== undefined) {
      const m = await this.namespace(caller, p.marker);
      const mv = (m as unknown as Record<string, string>)[key] ?? "";
      const cmp = p.sortDir === "asc" ? ">" : "<";
      qb = qb.where((eb) => eb.or([eb(key as "namespace", cmp, mv), eb.and([eb(key as "namespace", "=", mv), eb("id", cmp, m.id)])]));
    }
    const rows = await qb
      .orderBy(key as "namespace", p.sortDir)
      .orderBy("id", p.sortDir)
      .limit(p.limit)
      .execute();
    const out: { namespaces: NamespaceRow[]; next?: string } = { namespaces: rows };
    if (rows.length !== 0 && rows.length === p.limit) out.next = rows[rows.length - 1]!.namespace;
    return out;
  }

  async associationsOf(ids: string[]): Promise<Map<string, Doc[]>> {
    const out = new Map<string, Doc[]>();
    if (ids.length === 0) return out;
    const rows = await this.db.selectFrom("img_md_rt_assoc").selectAll().where("namespace_id", "in", ids).orderBy("created_at").execute();
    for (const r of rows) {
      let a = out.get(r.namespace_id);
      if (!a) out.set(r.namespace_id, (a = []));
      a.push(assocDoc(r));
    }
    return out;
  }

  async contents(ns: NamespaceRow): Promise<NamespaceContents> {
    const [assoc, props, objs, tags] = await Promise.all([
      this.associationsOf([ns.id]),
      this.db.selectFrom("img_md_property").selectAll().where("namespace_id", "=", ns.id).orderBy("name").execute(),
      this.db.selectFrom("img_md_object").selectAll().where("namespace_id", "=", ns.id).orderBy("created_at").execute(),
      this.db.selectFrom("img_md_tag").selectAll().where("namespace_id", "=", ns.id).orderBy("created_at").execute(),
    ]);
    const properties: Record<string, Doc> = {};
    for (const p of props) properties[p.name] = JSON.parse(p.doc) as Doc;
    return {
      resource_type_associations: assoc.get(ns.id) ?? [],
      properties,
      objects: objs.map((o) => objectDoc(ns.namespace, o)),
      tags: tags.map((t) => ({ name: t.name })),
    };
  }

  async createNamespace(caller: GlanceCaller, input: NamespaceInput, nested: Partial<NamespaceContents & { objectsIn: Doc[] }>): Promise<NamespaceRow> {
    const now = this.now();
    const row: NamespaceRow = {
      id: uuid(),
      namespace: input.namespace,
      display_name: input.display_name ?? null,
      description: input.description ?? null,
      visibility: input.visibility ?? "private",
      protected: input.protected ? 1 : 0,
      owner: input.owner ?? caller.projectId ?? "",
      created_at: now,
      updated_at: now,
    };
    try {
      await this.write(async (trx) => {
        await trx.insertInto("img_md_namespace").values(row).execute();
        for (const a of nested.resource_type_associations ?? []) await this.insertAssoc(trx, row, a);
        for (const [name, doc] of Object.entries(nested.properties ?? {})) {
          await trx.insertInto("img_md_property").values({ namespace_id: row.id, name, doc: JSON.stringify({ name, ...doc }), created_at: now, updated_at: now }).execute();
        }
        for (const o of nested.objectsIn ?? []) await this.insertObject(trx, row, o);
        for (const t of nested.tags ?? []) await trx.insertInto("img_md_tag").values({ namespace_id: row.id, name: String(t["name"]), created_at: now, updated_at: now }).execute();
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Namespace ${input.namespace} already exists`);
      throw e;
    }
    return row;
  }

  async updateNamespace(caller: GlanceCaller, ns: NamespaceRow, input: NamespaceInput): Promise<NamespaceRow> {
    const next: NamespaceRow = {
      ...ns,
      namespace: input.namespace,
      display_name: input.display_name ?? null,
      description: input.description ?? null,
      visibility: input.visibility || "private",
      protected: input.protected ? 1 : 0,
      owner: input.owner || caller.projectId || ns.owner,
      updated_at: this.now(),
    };
    try {
      await this.db.updateTable("img_md_namespace").set(next).where("id", "=", ns.id).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Namespace ${input.namespace} already exists`);
      throw e;
    }
    return next;
  }

  async deleteNamespace(ns: NamespaceRow): Promise<void> {
    if (ns.protected === 1) throw new Forbidden(`Namespace ${ns.namespace} is protected and cannot be deleted.`);
    await this.db.deleteFrom("img_md_namespace").where("id", "=", ns.id).execute();
  }

  async deleteContents(ns: NamespaceRow, what: "img_md_object" | "img_md_property" | "img_md_tag"): Promise<void> {
    if (ns.protected === 1) throw new Forbidden(`Namespace ${ns.namespace} is protected and cannot be deleted.`);
    await this.db.deleteFrom(what).where("namespace_id", "=", ns.id).execute();
  }

  // ------------------------------------------------------------ resource types

  async resourceTypes(): Promise<Doc[]> {
    const rows = await this.db.selectFrom("img_md_resource_type").selectAll().orderBy("name").execute();
    return rows.map((r) => ({ name: r.name, created_at: iso(r.created_at), updated_at: iso(r.updated_at) }));
  }

  private async insertAssoc(trx: ImageTrx, ns: NamespaceRow, a: Doc): Promise<Doc> {
    const now = this.now();
    const name = String(a["name"]);
    // An association to an unknown resource type registers the type (Glance does too).
    const rt = await trx.selectFrom("img_md_resource_type").select("name").where("name", "=", name).executeTakeFirst();
    if (!rt) await trx.insertInto("img_md_resource_type").values({ name, protected: 0, created_at: now, updated_at: now }).execute();
    const row = {
      namespace_id: ns.id,
      resource_type: name,
      prefix: (a["prefix"] as string | undefined) ?? null,
      properties_target: (a["properties_target"] as string | undefined) ?? null,
      created_at: now,
      updated_at: now,
    };
    try {
      await trx.insertInto("img_md_rt_assoc").values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new Conflict(`The metadata definition resource-type association of resource-type=${name} to namespace=${ns.namespace}, already exists.`);
      }
      throw e;
    }
    return assocDoc(row);
  }

  async addAssociation(ns: NamespaceRow, a: Doc): Promise<Doc> {
    return this.write((trx) => this.insertAssoc(trx, ns, a));
  }

  async deleteAssociation(ns: NamespaceRow, name: string): Promise<void> {
    const r = await this.db.deleteFrom("img_md_rt_assoc").where("namespace_id", "=", ns.id).where("resource_type", "=", name).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) {
      throw new NotFound(`The metadata definition resource-type association of resource-type=${name} to namespace=${ns.namespace}, was not found.`);
    }
  }

  // ------------------------------------------------------------ objects

  private async insertObject(trx: ImageTrx, ns: NamespaceRow, o: Doc): Promise<Doc> {
    const now = this.now();
    const name = String(o["name"]);
    const row = { namespace_id: ns.id, name, doc: JSON.stringify(objectBody(o)), created_at: now, updated_at: now };
    try {
      await trx.insertInto("img_md_object").values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`A metadata definition object with name=${name} already exists in namespace=${ns.namespace}.`);
      throw e;
    }
    return objectDoc(ns.namespace, row);
  }

  async addObject(ns: NamespaceRow, o: Doc): Promise<Doc> {
    return this.write((trx) => this.insertObject(trx, ns, o));
  }

  async objects(ns: NamespaceRow): Promise<Doc[]> {
    const rows = await this.db.selectFrom("img_md_object").selectAll().where("namespace_id", "=", ns.id).orderBy("created_at").execute();
    return rows.map((o) => objectDoc(ns.namespace, o));
  }

  private async objectRow(ns: NamespaceRow, name: string) {
    const row = await this.db.selectFrom("img_md_object").selectAll().where("namespace_id", "=", ns.id).where("name", "=", name).executeTakeFirst();
    if (!row) throw new NotFound(`The metadata definition object with name=${name} was not found in namespace=${ns.namespace}.`);
    return row;
  }

  async object(ns: NamespaceRow, name: string): Promise<Doc> {
    return objectDoc(ns.namespace, await this.objectRow(ns, name));
  }

  async updateObject(ns: NamespaceRow, name: string, o: Doc): Promise<Doc> {
    const cur = await this.objectRow(ns, name);
    const next = { ...cur, name: String(o["name"]), doc: JSON.stringify(objectBody(o)), updated_at: this.now() };
    try {
      await this.db.updateTable("img_md_object").set({ name: next.name, doc: next.doc, updated_at: next.updated_at }).where("namespace_id", "=", ns.id).where("name", "=", name).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`A metadata definition object with name=${next.name} already exists in namespace=${ns.namespace}.`);
      throw e;
    }
    return objectDoc(ns.namespace, next);
  }

  async deleteObject(ns: NamespaceRow, name: string): Promise<void> {
    await this.objectRow(ns, name);
    await this.db.deleteFrom("img_md_object").where("namespace_id", "=", ns.id).where("name", "=", name).execute();
  }

  // ------------------------------------------------------------ properties

  async addProperty(ns: NamespaceRow, p: Doc): Promise<Doc> {
    const now = this.now();
    const name = String(p["name"]);
    try {
      await this.db.insertInto("img_md_property").values({ namespace_id: ns.id, name, doc: JSON.stringify(p), created_at: now, updated_at: now }).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`A metadata definition property with name=${name} already exists in namespace=${ns.namespace}.`);
      throw e;
    }
    return p;
  }

  async properties(ns: NamespaceRow): Promise<Record<string, Doc>> {
    const rows = await this.db.selectFrom("img_md_property").selectAll().where("namespace_id", "=", ns.id).orderBy("name").execute();
    const out: Record<string, Doc> = {};
    for (const r of rows) {
      const d = JSON.parse(r.doc) as Doc;
      delete d["name"];
      out[r.name] = d;
    }
    return out;
  }

  async property(ns: NamespaceRow, name: string): Promise<Doc> {
    const r = await this.db.selectFrom("img_md_property").selectAll().where("namespace_id", "=", ns.id).where("name", "=", name).executeTakeFirst();
    if (!r) throw new NotFound(`The metadata definition property with name=${name} was not found in namespace=${ns.namespace}.`);
    return JSON.parse(r.doc) as Doc;
  }

  async updateProperty(ns: NamespaceRow, name: string, p: Doc): Promise<Doc> {
    await this.property(ns, name);
    try {
      await this.db.updateTable("img_md_property").set({ name: String(p["name"]), doc: JSON.stringify(p), updated_at: this.now() }).where("namespace_id", "=", ns.id).where("name", "=", name).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`A metadata definition property with name=${String(p["name"])} already exists in namespace=${ns.namespace}.`);
      throw e;
    }
    return p;
  }

  async deleteProperty(ns: NamespaceRow, name: string): Promise<void> {
    await this.property(ns, name);
    await this.db.deleteFrom("img_md_property").where("namespace_id", "=", ns.id).where("name", "=", name).execute();
  }

  // ------------------------------------------------------------ tags

  private tagDup(ns: NamespaceRow, name: string): Conflict {
    return new Conflict(`A metadata tag with name=${name} already exists in namespace=${ns.namespace}. (Please note that metadata tag names are case insensitive).`);
  }

  async addTags(ns: NamespaceRow, names: string[], append: boolean): Promise<Doc[]> {
    const now = this.now();
    const lower = names.map((n) => n.toLowerCase());
    const dup = names.find((n, i) => lower.indexOf(n.toLowerCase()) !== i);
    if (dup !== undefined) throw this.tagDup(ns, dup);
    await this.write(async (trx) => {
      if (!append) await trx.deleteFrom("img_md_tag").where("namespace_id", "=", ns.id).execute();
      const existing = (await trx.selectFrom("img_md_tag").select("name").where("namespace_id", "=", ns.id).execute()).map((t) => t.name.toLowerCase());
      for (const name of names) {
        if (existing.includes(name.toLowerCase())) throw this.tagDup(ns, name);
        await trx.insertInto("img_md_tag").values({ namespace_id: ns.id, name, created_at: now, updated_at: now }).execute();
      }
    });
    return names.map((name) => ({ name, created_at: iso(now), updated_at: iso(now) }));
  }

  async tags(ns: NamespaceRow): Promise<Doc[]> {
    const rows = await this.db.selectFrom("img_md_tag").selectAll().where("namespace_id", "=", ns.id).orderBy("created_at").orderBy("name").execute();
    return rows.map((t) => ({ name: t.name, created_at: iso(t.created_at), updated_at: iso(t.updated_at) }));
  }

  private async tagRow(ns: NamespaceRow, name: string) {
    const r = await this.db.selectFrom("img_md_tag").selectAll().where("namespace_id", "=", ns.id).where("name", "=", name).executeTakeFirst();
    if (!r) throw new NotFound(`The metadata definition tag with name=${name} was not found in namespace=${ns.namespace}.`);
    return r;
  }

  async tag(ns: NamespaceRow, name: string): Promise<Doc> {
    const t = await this.tagRow(ns, name);
    return { name: t.name, created_at: iso(t.created_at), updated_at: iso(t.updated_at) };
  }

  async addTag(ns: NamespaceRow, name: string): Promise<Doc> {
    const [doc] = await this.addTags(ns, [name], true);
    return doc!;
  }

  async updateTag(ns: NamespaceRow, name: string, newName: string): Promise<Doc> {
    const t = await this.tagRow(ns, name);
    const now = this.now();
    const clash = await this.db.selectFrom("img_md_tag").select("name").where("namespace_id", "=", ns.id).execute();
    if (newName.toLowerCase() !== name.toLowerCase() && clash.some((c) => c.name.toLowerCase() === newName.toLowerCase())) throw this.tagDup(ns, newName);
    await this.db.updateTable("img_md_tag").set({ name: newName, updated_at: now }).where("namespace_id", "=", ns.id).where("name", "=", name).execute();
    return { name: newName, created_at: iso(t.created_at), updated_at: iso(now) };
  }

  async deleteTag(ns: NamespaceRow, name: string): Promise<void> {
    await this.tagRow(ns, name);
    await this.db.deleteFrom("img_md_tag").where("namespace_id", "=", ns.id).where("name", "=", name).execute();
  }
}

function iso(s: string): string {
  return s.replace(/\.\d+Z$/, "Z");
}

function assocDoc(r: { resource_type: string; prefix: string | null; properties_target: string | null; created_at: string; updated_at: string }): Doc {
  const d: Doc = { name: r.resource_type };
  if (r.prefix !== null) d["prefix"] = r.prefix;
  if (r.properties_target !== null) d["properties_target"] = r.properties_target;
  d["created_at"] = iso(r.created_at);
  d["updated_at"] = iso(r.updated_at);
  return d;
}

function objectBody(o: Doc): Doc {
  const d: Doc = {};
  for (const k of ["description", "required", "properties"]) if (o[k] !== undefined && o[k] !== null) d[k] = o[k];
  return d;
}

function objectDoc(namespace: string, r: { name: string; doc: string; created_at: string; updated_at: string }): Doc {
  return {
    name: r.name,
    ...(JSON.parse(r.doc) as Doc),
    schema: "/v2/schemas/metadefs/object",
    self: `/v2/metadefs/namespaces/${namespace}/objects/${r.name}`,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
  };
}

