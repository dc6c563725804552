import { Readable } from "node:stream";
import { sql } from "kysely";
import type { Clock } from "../../../common/clock.js";
import { BadRequest, CloudError, Conflict, Forbidden, NotFound, PayloadTooLarge } from "../../../common/errors.js";
import { uuid } from "../../../common/ids.js";
import type { Config } from "../../../config/config.js";
import type { Database } from "../../../db/database.js";
import { isRetryable, isUniqueViolation } from "../../../db/database.js";
import type { BlobStore } from "../../../drivers/blob/blob.js";
import { BlobTooLarge } from "../../../drivers/blob/blob.js";
import type { TaskRunner } from "../../../tasks/runner.js";
import { IMAGE_SCHEMA } from "../schemas/documents.js";
import { cacheKey } from "./cache.js";
import { schemaError } from "../schemas/validate.js";
import type { ImageDB, ImageKysely, ImageRow, ImageTrx, Q } from "../store/tables.js";

/** Who asks: Glance's RequestContext (owner = project, is_admin from context_is_admin). */
export interface GlanceCaller {
  projectId: string | undefined;
  userId: string;
  isAdmin: boolean;
  requestId: string;
}

/** An image as the domain sees it: base attributes, custom properties and tags. */
export interface Img {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  protected: boolean;
  os_hidden: boolean;
  owner: string | null;
  size: number | null;
  virtual_size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  disk_format: string | null;
  container_format: string | null;
  min_disk: number;
  min_ram: number;
  created_at: string;
  updated_at: string;
  data_key: string | null;
  stage_key: string | null;
  /** The stores holding the data, sorted. */
  stores: string[];
  properties: Record<string, string>;
  tags: string[];
  /** The caller's project when it sees a shared image as a member (Glance's image.member). */
  member: string | null;
}

export interface Member {
  image_id: string;
  member: string;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface ListParams {
  filters: Record<string, string>;
  tags: string[];
  memberStatus: string;
  marker: string | undefined;
  limit: number;
  sortKeys: string[];
  sortDirs: string[];
}

export interface PatchChange {
  op: "add" | "remove" | "replace";
  path: string[];
  value?: unknown;
  draft: 4 | 10;
}

/** The attributes an image has as a domain object (hasattr(image, x) in Glance). */
const DOMAIN_ATTRS = new Set([
  "name", "visibility", "protected", "os_hidden", "owner", "disk_format", "container_format", "min_disk", "min_ram",
  "tags", "status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "id", "created_at", "updated_at", "locations",
]);
const READONLY_ON_CREATE = ["created_at", "updated_at", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size"];
const BASE_PROPERTIES = ["checksum", "created_at", "container_format", "disk_format", "id", "min_disk", "min_ram", "name", "size", "virtual_size", "status", "tags", "owner", "updated_at", "visibility", "protected", "os_hidden"];
export const SORT_KEYS = ["name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"];
const STATUSES = ["queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"];
/** Glance's image_property_quota, image_tag_quota and image_member_quota defaults. */
const PROPERTY_QUOTA = 128;
const TAG_QUOTA = 128;
const MEMBER_QUOTA = 128;

export const IMPORT_TASK = "image.import";
function isUuid(s: string): boolean {
  return /^(urn:uuid:)?\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i.test(s);
}

/** Where a store keeps an image's bytes in the blob store. */
export function blobKey(store: string, imageId: string): string {
  return `image/${store}/${imageId}`;
}

/** The sizes PostgreSQL returns as strings. */
function num(v: number | string | null): number | null {
  return v === null ? null : Number(v);
}

function invalidParam(value: unknown, param: string, extra: string): BadRequest {
  return new BadRequest(`Invalid value '${String(value)}' for parameter '${param}': ${extra}`);
}

/** Glance's schema check of a (partial) image, as Schema.validate words it. */
function validateImage(obj: Record<string, unknown>): void {
  const reason = schemaError(IMAGE_SCHEMA, obj);
  if (reason !== undefined) throw new BadRequest(`Provided object does not match schema 'image': ${reason}`);
}

export class ImageManager {
  private readonly db: ImageKysely;
  private readonly pg: boolean;
  /** The configured stores, the default first. */
  readonly stores: readonly string[];

  constructor(
    database: Database,
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly blobs: BlobStore,
    private readonly tasks: TaskRunner,
  ) {
    this.db = database.db as unknown as ImageKysely;
    this.pg = database.dialect === "postgres";
    this.stores = config.image.stores.length ? config.image.stores : ["local"];
    tasks.register(IMPORT_TASK, (payload) => this.runImport(payload as { taskId: string }));
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

  // ---------------------------------------------------------------- reads

  /** Glance's is_image_visible: admin, public/community, owner, or a member of a shared image. */
  private async visible(q: Q, caller: GlanceCaller, row: ImageRow): Promise<boolean> {
    if (caller.isAdmin || row.owner === null) return true;
    if (row.visibility === "public" || row.visibility === "community") return true;
    if (caller.projectId === undefined) return false;
    if (row.owner === caller.projectId) return true;
    if (row.visibility !== "shared") return false;
    const m = await q.selectFrom("img_member").select("member").where("image_id", "=", row.id).where("member", "=", caller.projectId).executeTakeFirst();
    return m !== undefined;
  }

  private async hydrate(q: Q, rows: ImageRow[], caller: GlanceCaller | undefined): Promise<Img[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const props = new Map<string, Record<string, string>>();
    const tags = new Map<string, string[]>();
    // Chunks keep the IN lists under SQLite's variable limit.
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      for (const p of await q.selectFrom("img_property").selectAll().where("image_id", "in", chunk).execute()) {
        let o = props.get(p.image_id);
        if (!o) props.set(p.image_id, (o = {}));
        o[p.name] = p.value;
      }
      for (const t of await q.selectFrom("img_tag").selectAll().where("image_id", "in", chunk).orderBy("value").execute()) {
        let a = tags.get(t.image_id);
        if (!a) tags.set(t.image_id, (a = []));
        a.push(t.value);
      }
    }
    return rows.map((r) => ({
      ...r,
      protected: r.protected === 1,
      os_hidden: r.os_hidden === 1,
      size: num(r.size),
      virtual_size: num(r.virtual_size),
      stores: r.stores ? r.stores.split(",") : [],
      properties: props.get(r.id) ?? {},
      tags: tags.get(r.id) ?? [],
      member: caller && r.visibility === "shared" && caller.projectId !== r.owner ? (caller.projectId ?? null) : null,
    }));
  }

  /** The image if the caller may see it; Glance's 404 otherwise. */
  async get(caller: GlanceCaller, id: string, q: Q = this.db): Promise<Img> {
    const row = await q.selectFrom("img_image").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row || !(await this.visible(q, caller, row))) throw new NotFound(`No image found with ID ${id}`);
    const [img] = await this.hydrate(q, [row], caller);
    return img!;
  }

  private async lockRow(trx: ImageTrx, caller: GlanceCaller, id: string): Promise<Img> {
    let qb = trx.selectFrom("img_image").selectAll().where("id", "=", id);
    if (this.pg) qb = qb.forUpdate();
    const row = await qb.executeTakeFirst();
    if (!row || !(await this.visible(trx, caller, row))) throw new NotFound(`No image found with ID ${id}`);
    const [img] = await this.hydrate(trx, [row], caller);
    return img!;
  }

  async list(caller: GlanceCaller, p: ListParams): Promise<{ images: Img[]; nextMarker?: string }> {
    const f = { ...p.filters };
    const visibility = f["visibility"];
    delete f["visibility"];
    let qb = this.db.selectFrom("img_image").selectAll("img_image");
    // deleted=False: killed images are not listed (Glance's _make_conditions_from_filters).
    qb = qb.where("img_image.status", "!=", "killed");
    qb = qb.where("img_image.os_hidden", "=", f["os_hidden"] === "true" ? 1 : 0);
    delete f["os_hidden"];
    if (f["protected"] !== undefined) {
      qb = qb.where("img_image.protected", "=", f["protected"] === "true" ? 1 : 0);
      delete f["protected"];
    }
    for (const col of ["checksum", "os_hash_value", "owner"] as const) {
      if (f[col] !== undefined) {
        qb = qb.where(`img_image.${col}`, "=", f[col]);
        delete f[col];
      }
    }
    for (const [k, v] of Object.entries(f)) {
      if (k.endsWith("_min") || k.endsWith("_max")) {
        const key = k.slice(0, -4);
        if (!/^-?\d+$/.test(v.trim())) throw new BadRequest("Unable to filter on a range with a non-numeric value.");
        const n = Number(v.trim());
        if (key === "size" || key === "virtual_size" || key === "min_disk" || key === "min_ram") {
          qb = qb.where(`img_image.${key}`, k.endsWith("_min") ? ">=" : "<=", n);
        } else {
          // Not a column: SQLAlchemy's getattr fails, which Glance reports as a 500; refuse it as a bad filter.
          throw new BadRequest("Unable to filter on a range with a non-numeric value.");
        }
        continue;
      }
      if (k === "created_at" || k === "updated_at") {
        const [op, iso] = splitFilterOp(v);
        const t = parseIsoTime(iso);
        if (t === undefined) throw new BadRequest(`Bad "${k}" query filter format. Use ISO 8601 DateTime notation.`);
        const cmp = { gt: ">", gte: ">=", lt: "<", lte: "<=", neq: "!=", eq: "=" } as const;
        const o = cmp[op as keyof typeof cmp];
        if (!o) throw new BadRequest("Unable to filter on a unknown operator.");
        qb = qb.where(`img_image.${k}`, o, t.toISOString());
        continue;
      }
      if (k === "name" || k === "id" || k === "status" || k === "container_format" || k === "disk_format") {
        const [op, val] = splitFilterOp(v);
        if (op === "in") {
          qb = qb.where(`img_image.${k}`, "in", splitFilterValueForQuotes(val));
        } else if (op === "eq") {
          qb = qb.where(`img_image.${k}`, "=", val);
        } else {
          throw new BadRequest(`Unable to filter by unknown operator '${op}'.`);
        }
        continue;
      }
      if (["size", "virtual_size", "min_disk", "min_ram"].includes(k)) {
        qb = qb.where(`img_image.${k as "size"}`, "=", /^-?\d+$/.test(v) ? Number(v) : -1);
        continue;
      }
      // Anything else is a custom property.
      qb = qb.where((eb) => eb.exists(eb.selectFrom("img_property as pf").select("pf.image_id").whereRef("pf.image_id", "=", "img_image.id").where("pf.name", "=", k).where("pf.value", "=", v)));
    }
    for (const t of p.tags) {
      qb = qb.where((eb) => eb.exists(eb.selectFrom("img_tag as tf").select("tf.image_id").whereRef("tf.image_id", "=", "img_image.id").where("tf.value", "=", t)));
    }
    // Who sees what (Glance's _select_images_query): an admin everything; others public and
    // community images, their own, and shared images they are a member of (with member_status).
    const owner = caller.projectId;
    if (!caller.isAdmin) {
      qb = qb.where((eb) => {
        const ors = [eb("img_image.visibility", "in", ["public", "community"])];
        if (owner !== undefined) {
          ors.push(eb("img_image.owner", "=", owner));
          let member = eb.selectFrom("img_member as mf").select("mf.image_id").whereRef("mf.image_id", "=", "img_image.id").where("mf.member", "=", owner);
          if (p.memberStatus !== "all") member = member.where("mf.status", "=", p.memberStatus);
          ors.push(eb.and([eb("img_image.visibility", "=", "shared"), eb.exists(member)]));
        }
        return eb.or(ors);
      });
    }
    if (visibility !== undefined) {
      if (visibility !== "all") qb = qb.where("img_image.visibility", "=", visibility);
    } else if (owner === undefined) {
      qb = qb.where("img_image.visibility", "!=", "community");
    } else {
      qb = qb.where((eb) => eb.or([eb("img_image.owner", "=", owner), eb("img_image.visibility", "!=", "community")]));
    }

    const keys = [...p.sortKeys];
    const dirs = p.sortDirs.length === 1 ? keys.map(() => p.sortDirs[0]!) : [...p.sortDirs];
    const defaultDir = p.sortDirs.length === 1 ? p.sortDirs[0]! : "desc";
    for (const k of ["created_at", "id"]) {
      if (!keys.includes(k)) {
        keys.push(k);
        dirs.push(defaultDir);
      }
    }
    if (p.marker !== undefined) {
      const m = await this.db.selectFrom("img_image").selectAll().where("id", "=", p.marker).executeTakeFirst();
      if (!m || m.status === "killed" || !(await this.visible(this.db, caller, m))) throw new BadRequest(`No image found with ID ${p.marker}`);
      // Rows strictly after the marker in the sort order (oslo.db's paginate_query).
      qb = qb.where((eb) => {
        const ors = keys.map((k, i) => {
          const ands = keys.slice(0, i).map((pk) => eb(sql.ref(`img_image.${pk}`), "=", markerValue(m, pk)));
          const mv = markerValue(m, k);
          ands.push(eb(sql.ref(`img_image.${k}`), dirs[i] === "asc" ? ">" : "<", mv));
          return eb.and(ands);
        });
        return eb.or(ors);
      });
    }
    for (let i = 0; i < keys.length; i++) qb = qb.orderBy(sql.ref(`img_image.${keys[i]!}`), dirs[i] === "asc" ? "asc" : "desc");
    qb = qb.limit(p.limit);
    const rows = await qb.execute();
    const images = await this.hydrate(this.db, rows, caller);
    const out: { images: Img[]; nextMarker?: string } = { images };
    if (images.length !== 0 && rows.length === p.limit) out.nextMarker = images[images.length - 1]!.id;
    return out;
  }

  // ---------------------------------------------------------------- create / update / delete

  /**
   * POST /v2/images after the deserializer's checks: base attributes, custom properties and
   * tags. Policy (add_image, publicize/communitize) is the handler's; owner is resolved here.
   */
  async create(caller: GlanceCaller, body: Record<string, unknown>): Promise<Img> {
    validateImage(body);
    const props: Record<string, unknown> = { ...body };
    const tagsIn = (props["tags"] as string[] | undefined) ?? [];
    delete props["tags"];
    const base: Record<string, unknown> = {};
    for (const k of BASE_PROPERTIES) {
      if (k in props) {
        base[k] = props[k];
        delete props[k];
      }
    }
    for (const key of Object.keys(props)) {
      if (key.length > 255) throw new BadRequest("Custom property should not be greater than 255 characters.");
      if (["location", "deleted", "deleted_at"].includes(key) || key.startsWith("os_glance")) throw new Forbidden(`Attribute '${key}' is reserved.`);
    }
    // ImageFactory.new_image: read-only attributes and the domain's value checks.
    for (const k of READONLY_ON_CREATE) if (k in base) throw new Forbidden(`Attribute '${k}' is read-only.`);
    for (const k of ["min_disk", "min_ram"] as const) {
      const v = base[k];
      if (typeof v === "number" && v < 0) throw invalidParam(v, k, "Cannot be a negative value");
    }
    const tags = [...new Set(tagsIn)];
    if (tags.length > TAG_QUOTA) throw new PayloadTooLarge(`Maximum number of tags exceeded: attempted to add ${tags.length} tags (limit ${TAG_QUOTA}).`);
    if (Object.keys(props).length > PROPERTY_QUOTA) throw new PayloadTooLarge(`Attempted: ${Object.keys(props).length}, Maximum: ${PROPERTY_QUOTA}`);
    const now = this.now();
    const id = typeof base["id"] === "string" ? base["id"] : uuid();
    const row: ImageRow = {
      id,
      name: (base["name"] as string | null | undefined) ?? null,
      status: "queued",
      visibility: (base["visibility"] as string | undefined) ?? "shared",
      protected: base["protected"] === true ? 1 : 0,
      os_hidden: base["os_hidden"] === true ? 1 : 0,
      owner: base["owner"] !== undefined ? (base["owner"] as string | null) : (caller.projectId ?? null),
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      disk_format: (base["disk_format"] as string | null | undefined) ?? null,
      container_format: (base["container_format"] as string | null | undefined) ?? null,
      min_disk: (base["min_disk"] as number | undefined) ?? 0,
      min_ram: (base["min_ram"] as number | undefined) ?? 0,
      created_at: now,
      updated_at: now,
      data_key: null,
      stage_key: null,
      stores: null,
    };
    try {
      await this.write(async (trx) => {
        await trx.insertInto("img_image").values(row).execute();
        const pv = Object.entries(props).map(([name, value]) => ({ image_id: id, name, value: String(value) }));
        if (pv.length) await trx.insertInto("img_property").values(pv).execute();
        if (tags.length) await trx.insertInto("img_tag").values(tags.map((value) => ({ image_id: id, value }))).execute();
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Image with identifier ${id} already exists!`);
      throw e;
    }
    return this.get({ ...caller, isAdmin: true }, id);
  }

  /**
   * Apply JSON-patch changes in one transaction. `authorize` is called per change with the
   * image as it stands (the handler's update_property policy checks).
   */
  async update(caller: GlanceCaller, id: string, changes: PatchChange[], authorize: (img: Img, change: PatchChange) => void): Promise<Img> {
    await this.write(async (trx) => {
      const img = await this.lockRow(trx, caller, id);
      const before = { props: { ...img.properties }, tags: [...img.tags] };
      for (const c of changes) {
        authorize(img, c);
        this.applyChange(caller, img, c);
      }
      if (changes.length === 0) return;
      if (img.tags.length > TAG_QUOTA) throw new PayloadTooLarge(`Maximum number of tags exceeded: attempted to add ${img.tags.length} tags (limit ${TAG_QUOTA}).`);
      if (Object.keys(img.properties).length > PROPERTY_QUOTA) throw new PayloadTooLarge(`Attempted: ${Object.keys(img.properties).length}, Maximum: ${PROPERTY_QUOTA}`);
      await trx
        .updateTable("img_image")
        .set({
          name: img.name,
          visibility: img.visibility,
          protected: img.protected ? 1 : 0,
          os_hidden: img.os_hidden ? 1 : 0,
          owner: img.owner,
          disk_format: img.disk_format,
          container_format: img.container_format,
          min_disk: img.min_disk,
          min_ram: img.min_ram,
          updated_at: this.now(),
        })
        .where("id", "=", id)
        .execute();
      await this.syncProps(trx, id, before.props, img.properties);
      await this.syncTags(trx, id, before.tags, img.tags);
      // A shared image that stops being shared keeps its members (Glance does too).
    });
    return this.get(caller, id);
  }

  private async syncProps(trx: ImageTrx, id: string, before: Record<string, string>, after: Record<string, string>): Promise<void> {
    const gone = Object.keys(before).filter((k) => !(k in after));
    if (gone.length) await trx.deleteFrom("img_property").where("image_id", "=", id).where("name", "in", gone).execute();
    for (const [name, value] of Object.entries(after)) {
      if (before[name] === value) continue;
      if (name in before) await trx.updateTable("img_property").set({ value }).where("image_id", "=", id).where("name", "=", name).execute();
      else await trx.insertInto("img_property").values({ image_id: id, name, value }).execute();
    }
  }

  private async syncTags(trx: ImageTrx, id: string, before: string[], after: string[]): Promise<void> {
    const gone = before.filter((t) => !after.includes(t));
    const added = [...new Set(after.filter((t) => !before.includes(t)))];
    if (gone.length) await trx.deleteFrom("img_tag").where("image_id", "=", id).where("value", "in", gone).execute();
    if (added.length) await trx.insertInto("img_tag").values(added.map((value) => ({ image_id: id, value }))).execute();
  }

  /** ImagesController._do_add/_do_replace/_do_remove on the domain image. */
  private applyChange(caller: GlanceCaller, img: Img, c: PatchChange): void {
    const root = c.path[0]!;
    // show_multiple_locations is off (Glance's default): locations cannot be managed.
    if (root === "locations") throw new Forbidden(`It's not allowed to ${c.op === "replace" ? "update" : c.op} locations if locations are invisible.`);
    const isAttr = DOMAIN_ATTRS.has(root);
    if (c.op === "remove") {
      if (isAttr) throw new Forbidden(`Property ${root} may not be removed.`);
      if (!(root in img.properties)) throw new Conflict(`Property ${root} does not exist.`);
      delete img.properties[root];
      return;
    }
    if (c.op === "replace") {
      if (root === "owner" && !caller.isAdmin) throw new Forbidden("Owner can't be updated by non admin.");
      if (!isAttr && !(root in img.properties)) throw new Conflict(`Property ${root} does not exist.`);
    } else if (c.draft === 4 && (isAttr || root in img.properties)) {
      throw new Conflict(`Property ${root} already present.`);
    }
    if (isAttr) this.setAttr(img, root, c.value);
    else img.properties[root] = String(c.value);
  }

  /** The domain Image's setters. */
  private setAttr(img: Img, attr: string, value: unknown): void {
    switch (attr) {
      case "name":
      case "owner":
        img[attr] = value as string | null;
        return;
      case "visibility":
        img.visibility = value as string;
        return;
      case "protected":
      case "os_hidden":
        img[attr] = value === true;
        return;
      case "disk_format":
      case "container_format":
        if (img.status !== "queued" && img.status !== "importing" && img[attr] !== value) {
          throw new Forbidden(`Attribute ${attr} can be only replaced for a queued image.`);
        }
        img[attr] = value as string | null;
        return;
      case "min_disk":
      case "min_ram":
        if (typeof value === "number" && value < 0) throw invalidParam(value, attr, "Cannot be a negative value");
        img[attr] = value as number;
        return;
      case "tags":
        img.tags = [...new Set(value as string[])];
        return;
      default:
        // status, size, checksum, …: read-only (the deserializer refuses them first).
        throw new Forbidden(`Attribute '${attr}' is read-only.`);
    }
  }

  /** Delete an image and its data (protected → 403, as ImageRepo.remove refuses). */
  async delete(caller: GlanceCaller, id: string): Promise<void> {
    const keys = await this.write(async (trx) => {
      const img = await this.lockRow(trx, caller, id);
      if (img.protected) throw new Forbidden(`Image ${id} is protected and cannot be deleted.`);
      if (img.status === "uploading" || img.status === "importing") {
        // Glance deletes staged data and lets the import task find the image gone.
      }
      await trx.deleteFrom("img_image").where("id", "=", id).execute();
      return [...img.stores.map((st) => blobKey(st, id)), img.stage_key, cacheKey(id)];
    });
    for (const k of keys) if (k) await this.blobs.delete(k);
  }

  async setStatus(caller: GlanceCaller, id: string, action: "deactivate" | "reactivate"): Promise<void> {
    await this.write(async (trx) => {
      const img = await this.lockRow(trx, caller, id);
      if (action === "deactivate") {
        if (img.status === "deactivated") return;
        if (img.status !== "active") throw new Forbidden(`Not allowed to deactivate image in status '${img.status}'`);
        await trx.updateTable("img_image").set({ status: "deactivated", updated_at: this.now() }).where("id", "=", id).execute();
      } else {
        if (img.status === "active") return;
        if (img.status !== "deactivated") throw new Forbidden(`Not allowed to reactivate image in status '${img.status}'`);
        await trx.updateTable("img_image").set({ status: "active", updated_at: this.now() }).where("id", "=", id).execute();
      }
    });
  }

  // ---------------------------------------------------------------- data

  /** Move queued → `to` atomically (409 from any other status, as Glance's state machine). */
  private async transition(caller: GlanceCaller, id: string, from: string[], to: string): Promise<void> {
    await this.write(async (trx) => {
      const img = await this.lockRow(trx, caller, id);
      if (!from.includes(img.status)) throw new Conflict(`Image status transition from ${img.status} to ${to} is not allowed`);
      await trx.updateTable("img_image").set({ status: to, updated_at: this.now() }).where("id", "=", id).execute();
    });
  }

  private async restoreQueued(id: string, from: string): Promise<void> {
    await this.db.updateTable("img_image").set({ status: "queued", updated_at: this.now() }).where("id", "=", id).where("status", "=", from).execute();
  }

  /**
   * PUT /file: queued → saving, stream into the blob store (md5 + sha512 while streaming,
   * fsynced), then active with size and hashes. A failure restores queued, as Glance's
   * ImageDataController._restore does.
   */
  async upload(caller: GlanceCaller, id: string, data: Readable, store = this.stores[0]!): Promise<void> {
    if (!this.stores.includes(store)) throw new BadRequest(`Unknown scheme '${store}' found in URI`);
    await this.transition(caller, id, ["queued"], "saving");
    const key = blobKey(store, id);
    let info;
    try {
      info = await this.blobs.put(key, data, { hashes: ["md5", "sha512"], maxBytes: this.config.image.imageSizeCap });
    } catch (e) {
      await this.restoreQueued(id, "saving");
      throw unreadBody(e, "upload", this.config.image.imageSizeCap);
    }
    const done = await this.db
      .updateTable("img_image")
      .set({ status: "active", size: info.size, checksum: info.hashes.md5 ?? null, os_hash_algo: "sha512", os_hash_value: info.hashes.sha512 ?? null, data_key: key, stores: store, updated_at: this.now() })
      .where("id", "=", id)
      .where("status", "=", "saving")
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) === 0) {
      // Deleted while uploading: Glance answers 410 Gone and drops the data.
      await this.blobs.delete(key);
      throw new CloudError(410, `Image ${id} could not be found after upload. The image may have been deleted during the upload.`);
    }
  }

  /** PUT /stage: queued → uploading, the bytes kept in the staging area until import. */
  async stage(caller: GlanceCaller, id: string, data: Readable): Promise<void> {
    await this.transition(caller, id, ["queued"], "uploading");
    const key = `staging/${id}`;
    let info;
    try {
      info = await this.blobs.put(key, data, { hashes: [], maxBytes: this.config.image.imageSizeCap });
    } catch (e) {
      await this.restoreQueued(id, "uploading");
      throw unreadBody(e, "stage", this.config.image.imageSizeCap);
    }
    const done = await this.db.updateTable("img_image").set({ size: info.size, stage_key: key, updated_at: this.now() }).where("id", "=", id).where("status", "=", "uploading").executeTakeFirst();
    if (Number(done.numUpdatedRows) === 0) await this.blobs.delete(key);
  }

  /** The stores an import targets: body.stores, all stores, or the default (Glance's _get_stores). */
  importStores(body: Record<string, unknown>, present: string[]): string[] {
    let stores: string[];
    if (body["all_stores"] === true) stores = this.stores.filter((s) => !present.includes(s));
    else if (Array.isArray(body["stores"])) stores = (body["stores"] as unknown[]).map(String);
    else stores = [this.stores[0]!];
    for (const s of stores) if (!this.stores.includes(s)) throw new BadRequest(`Unknown scheme '${s}' found in URI`);
    return [...new Set(stores)];
  }

  /**
   * POST /import as a persisted task: glance-direct (staged data), web-download (a URL),
   * glance-download (an image of a glance region of this cloud's catalog), each turning a
   * queued/uploading image into importing; or copy-image (an active image to more stores).
   */
  async import(caller: GlanceCaller, id: string, body: Record<string, unknown>): Promise<void> {
    const methodDoc = body["method"] as Record<string, unknown>;
    const method = String(methodDoc["name"]);
    await this.write(async (trx) => {
      const img = await this.lockRow(trx, caller, id);
      if (img.status === "active" && method !== "copy-image") throw new Conflict("Image with status active cannot be target for import");
      if (img.status !== "active" && method === "copy-image") throw new Conflict("Only images with status active can be targeted for copying");
      if (img.status !== "queued" && (method === "web-download" || method === "glance-download")) throw new Conflict(`Image needs to be in 'queued' state to use '${method}' method`);
      if (img.status !== "uploading" && method === "glance-direct") throw new Conflict("Image needs to be staged before 'glance-direct' method can be used");
      if (!img.container_format) throw new Conflict("'container_format' needs to be set before import");
      if (!img.disk_format) throw new Conflict("'disk_format' needs to be set before import");
      if (method === "glance-download") {
        if (!("glance_region" in methodDoc)) throw new BadRequest("'glance_region' needs to be set for glance-download import method");
        if (!("glance_image_id" in methodDoc)) throw new BadRequest("'glance_image_id' needs to be set for glance-download import method");
        if (!isUuid(String(methodDoc["glance_image_id"]))) throw new BadRequest(`Remote image id does not look like a UUID: ${String(methodDoc["glance_image_id"])}`);
        methodDoc["glance_service_interface"] ??= "public";
      }
      let stores: string[];
      if (method === "copy-image") {
        stores = this.importStores(body, img.stores);
        for (const s of stores) if (img.stores.includes(s)) throw new BadRequest(`Image is already present at store '${s}'`);
        if (stores.length === 0) throw new BadRequest("Image is already present at every store");
      } else {
        stores = this.importStores(body, []);
      }
      if (method === "web-download" && !this.uriAllowed(methodDoc["uri"])) {
        throw new BadRequest(`URI for web-download does not pass filtering: ${String(methodDoc["uri"])}`);
      }
      const now = this.now();
      const taskId = uuid();
      await trx
        .insertInto("img_task")
        .values({
          id: taskId,
          image_id: id,
          type: "api_image_import",
          status: "processing",
          input: JSON.stringify({ image_id: id, import_req: body, backend: stores }),
          result: null,
          message: "",
          owner: caller.projectId ?? "",
          user_id: caller.userId,
          request_id: caller.requestId,
          created_at: now,
          updated_at: now,
          expires_at: null,
        })
        .execute();
      if (method !== "copy-image") await trx.updateTable("img_image").set({ status: "importing", updated_at: now }).where("id", "=", id).execute();
      const setProp = async (name: string, value: string): Promise<void> => {
        await trx.deleteFrom("img_property").where("image_id", "=", id).where("name", "=", name).execute();
        await trx.insertInto("img_property").values({ image_id: id, name, value }).execute();
      };
      await setProp("os_glance_import_task", taskId);
      await setProp("os_glance_importing_to_stores", stores.join(","));
      await setProp("os_glance_failed_import", "");
      // glance-download reads the source image as the requester would see it.
      await this.tasks.enqueue(IMPORT_TASK, { taskId, admin: caller.isAdmin }, 0, trx as never);
    });
  }

  /** glance.common.utils.validate_uri with Glance's default filters (http/https, allowed ports). */
  private uriAllowed(uri: unknown): boolean {
    if (typeof uri !== "string") return false;
    let u: URL;
    try {
      u = new URL(uri);
    } catch {
      return false;
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") return false;
    const port = u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
    return this.config.image.webDownloadAllowedPorts.includes(port);
  }

  /**
   * Where an import's bytes come from. glance-download: Glance asks the catalog for the
   * region's image endpoint and downloads with the user's token; this cloud has one region,
   * whose image service is this one, so the source is read here with the requester's
   * visibility, and its metadata (formats, Glance's default extra_properties prefixes)
   * is what the import copies.
   */
  private async importSource(
    task: ImageDB["img_task"],
    method: Record<string, unknown>,
    row: ImageRow,
    admin: boolean,
  ): Promise<{ open: () => Promise<Readable>; size?: number; meta?: { disk_format: string | null; container_format: string | null; props: Record<string, string> } }> {
    const name = String(method["name"]);
    if (name === "glance-direct" || name === "copy-image") {
      const key = name === "copy-image" ? row.data_key : row.stage_key;
      return {
        open: async () => {
          const s = key ? await this.blobs.get(key) : undefined;
          if (!s) throw new Error("image data not found");
          return s;
        },
      };
    }
    if (name === "web-download") {
      return {
        open: async () => {
          const res = await fetch(String(method["uri"]), { signal: AbortSignal.timeout(120_000) });
          if (!res.ok || !res.body) throw new Error(`web-download answered ${res.status}`);
          return Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
        },
      };
    }
    // glance-download
    const region = String(method["glance_region"]);
    const iface = String(method["glance_service_interface"] ?? "public");
    if (region !== this.config.region || !["public", "internal", "admin"].includes(iface)) {
      throw new Error(`Image service endpoint not found in region ${region} for interface ${iface}`);
    }
    const caller: GlanceCaller = { projectId: task.owner || undefined, userId: task.user_id, isAdmin: admin, requestId: task.request_id };
    const src = await this.get(caller, String(method["glance_image_id"]));
    if (src.status !== "active" || !src.data_key) throw new Error(`Remote image ${src.id} has no data`);
    const prefixes = ["hw_", "trait:", "os_distro", "os_secure_boot", "os_type"];
    const props: Record<string, string> = {};
    for (const [k, v] of Object.entries(src.properties)) if (prefixes.some((p) => k.startsWith(p))) props[k] = v;
    const key = src.data_key;
    return {
      open: async () => {
        const s = await this.blobs.get(key);
        if (!s) throw new Error("remote image data not found");
        return s;
      },
      meta: { disk_format: src.disk_format, container_format: src.container_format, props },
    };
  }

  /**
   * The import task: the source into each target store (hashed on the first, the others
   * copied from it); each store done leaves os_glance_importing_to_stores, a store that fails
   * joins os_glance_failed_import. When nothing could be imported the image goes back to
   * queued, as Glance reverts a failed import. Idempotent: a re-run rewrites the same keys.
   */
  private async runImport(payload: { taskId: string; admin?: boolean }): Promise<void> {
    const task = await this.db.selectFrom("img_task").selectAll().where("id", "=", payload.taskId).executeTakeFirst();
    if (!task || task.status !== "processing") return;
    const input = JSON.parse(task.input) as { import_req: { method: Record<string, unknown>; all_stores_must_succeed?: boolean }; backend: string[] };
    const copy = input.import_req.method["name"] === "copy-image";
    const finish = async (status: string, message: string, result: Record<string, unknown> | null): Promise<void> => {
      await this.db.updateTable("img_task").set({ status, message, result: result ? JSON.stringify(result) : null, updated_at: this.now(), expires_at: new Date(this.clock.now().getTime() + 48 * 3600_000).toISOString() }).where("id", "=", task.id).execute();
    };
    const row = await this.db.selectFrom("img_image").selectAll().where("id", "=", task.image_id).executeTakeFirst();
    if (!row || row.status !== (copy ? "active" : "importing")) {
      await finish("failure", "Image was deleted or changed during import", null);
      return;
    }
    const failed: string[] = [];
    const done: string[] = [];
    let hashes: { size: number; md5?: string; sha512?: string } | undefined;
    let message = "";
    let source: Awaited<ReturnType<ImageManager["importSource"]>> | undefined;
    try {
      source = await this.importSource(task, input.import_req.method, row, payload.admin === true);
    } catch (e) {
      message = e instanceof Error ? e.message : String(e);
      failed.push(...input.backend);
    }
    for (const store of source ? input.backend : []) {
      const key = blobKey(store, row.id);
      try {
        const first = done[0];
        const src = first === undefined ? await source!.open() : await this.blobs.get(blobKey(first, row.id));
        if (!src) throw new Error("image data not found");
        const info = await this.blobs.put(key, src, { hashes: copy || hashes ? [] : ["md5", "sha512"], maxBytes: this.config.image.imageSizeCap });
        hashes ??= copy ? undefined : { size: info.size, md5: info.hashes.md5!, sha512: info.hashes.sha512! };
        done.push(store);
      } catch (e) {
        message ||= e instanceof Error ? e.message : String(e);
        failed.push(store);
        if (input.import_req.all_stores_must_succeed !== false) {
          failed.push(...input.backend.filter((s) => !done.includes(s) && !failed.includes(s)));
          break;
        }
      }
      // Progress: a store done leaves the importing list in the same transaction that (for a
      // copy) adds it to the image's stores; the last one is left to the final commit, so
      // an empty list always means the import is over.
      const left = input.backend.filter((s) => !done.includes(s) && !failed.includes(s));
      if (left.length > 0) {
        await this.write(async (trx) => {
          if (copy && done.includes(store)) {
            const cur = await trx.selectFrom("img_image").select("stores").where("id", "=", row.id).executeTakeFirst();
            const stores = [...new Set([...(cur?.stores ? cur.stores.split(",") : []), store])].sort();
            await trx.updateTable("img_image").set({ stores: stores.join(",") }).where("id", "=", row.id).where("status", "=", "active").execute();
          }
          await trx.updateTable("img_property").set({ value: left.join(",") }).where("image_id", "=", row.id).where("name", "=", "os_glance_importing_to_stores").execute();
        });
      }
    }
    const meta = source?.meta;
    const ok = await this.write(async (trx) => {
      const cur = await trx.selectFrom("img_image").selectAll().where("id", "=", row.id).executeTakeFirst();
      if (!cur || cur.status !== (copy ? "active" : "importing")) return false;
      const stores = [...new Set([...(cur.stores ? cur.stores.split(",") : []), ...done])].sort();
      if (copy) {
        await trx.updateTable("img_image").set({ stores: stores.join(","), updated_at: this.now() }).where("id", "=", row.id).execute();
      } else if (done.length === 0) {
        // Nothing imported: back to queued with any staged data dropped, as Glance reverts.
        await trx.updateTable("img_image").set({ status: "queued", size: null, stage_key: null, updated_at: this.now() }).where("id", "=", row.id).execute();
      } else {
        await trx
          .updateTable("img_image")
          .set({
            status: "active",
            size: hashes!.size,
            checksum: hashes!.md5 ?? null,
            os_hash_algo: "sha512",
            os_hash_value: hashes!.sha512 ?? null,
            data_key: blobKey(stores[0]!, row.id),
            stores: stores.join(","),
            stage_key: null,
            ...(meta ? { disk_format: meta.disk_format, container_format: meta.container_format } : {}),
            updated_at: this.now(),
          })
          .where("id", "=", row.id)
          .execute();
        for (const [name, value] of Object.entries(meta?.props ?? {})) {
          await trx.deleteFrom("img_property").where("image_id", "=", row.id).where("name", "=", name).execute();
          await trx.insertInto("img_property").values({ image_id: row.id, name, value }).execute();
        }
      }
      await trx.updateTable("img_property").set({ value: "" }).where("image_id", "=", row.id).where("name", "=", "os_glance_importing_to_stores").execute();
      await trx.updateTable("img_property").set({ value: failed.join(",") }).where("image_id", "=", row.id).where("name", "=", "os_glance_failed_import").execute();
      return true;
    });
    if (row.stage_key && !copy) await this.blobs.delete(row.stage_key);
    if (!ok) {
      for (const s of done) await this.blobs.delete(blobKey(s, row.id));
      await finish("failure", "Image was deleted during import", null);
      return;
    }
    if (done.length === 0) await finish("failure", message || `Import to stores ${failed.join(",")} failed`, null);
    else await finish("success", "", { image_id: row.id });
  }

  async imageTasks(imageId: string): Promise<ImageDB["img_task"][]> {
    return this.db.selectFrom("img_task").selectAll().where("image_id", "=", imageId).orderBy("created_at").execute();
  }

  /** The blob key of an image's data, or undefined (no data: 204). */
  async openData(img: Img, range?: { start: number; end: number }): Promise<Readable | undefined> {
    if (!img.data_key) return undefined;
    return this.blobs.get(img.data_key, range);
  }

  // ---------------------------------------------------------------- tags

  async addTag(caller: GlanceCaller, id: string, tag: string): Promise<void> {
    if (tag.length > 255) throw new BadRequest(`Provided object does not match schema 'image': '${tag}' is too long`);
    await this.write(async (trx) => {
      const img = await this.lockRow(trx, caller, id);
      if (img.tags.includes(tag)) return;
      if (img.tags.length + 1 > TAG_QUOTA) throw new PayloadTooLarge(`Image tag limit exceeded for image ${id}: Maximum number of tags exceeded: attempted to add ${img.tags.length + 1} tags (limit ${TAG_QUOTA}).:`);
      await trx.insertInto("img_tag").values({ image_id: id, value: tag }).execute();
      await trx.updateTable("img_image").set({ updated_at: this.now() }).where("id", "=", id).execute();
    });
  }

  async deleteTag(caller: GlanceCaller, id: string, tag: string): Promise<void> {
    await this.write(async (trx) => {
      await this.lockRow(trx, caller, id);
      const r = await trx.deleteFrom("img_tag").where("image_id", "=", id).where("value", "=", tag).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw new NotFound("The resource could not be found.");
      await trx.updateTable("img_image").set({ updated_at: this.now() }).where("id", "=", id).execute();
    });
  }

  // ---------------------------------------------------------------- members

  /** Glance's _image_member_find: an admin or the owner sees all, a member only itself. */
  async members(caller: GlanceCaller, img: Img): Promise<Member[]> {
    let qb = this.db.selectFrom("img_member").selectAll().where("image_id", "=", img.id);
    if (!caller.isAdmin && img.owner !== caller.projectId) qb = qb.where("member", "=", caller.projectId ?? "");
    return qb.orderBy("created_at").orderBy("member").execute();
  }

  async member(caller: GlanceCaller, img: Img, memberId: string): Promise<Member> {
    const m = (await this.members(caller, img)).find((x) => x.member === memberId);
    if (!m) throw new NotFound(`${memberId} not found in the member list of the image ${img.id}.`);
    return m;
  }

  async addMember(img: Img, memberId: string): Promise<Member> {
    const now = this.now();
    const row = { image_id: img.id, member: memberId, status: "pending", created_at: now, updated_at: now };
    try {
      await this.write(async (trx) => {
        const n = await trx.selectFrom("img_member").select(sql<number>`count(*)`.as("n")).where("image_id", "=", img.id).executeTakeFirst();
        if (Number(n?.n ?? 0) + 1 > MEMBER_QUOTA) {
          throw new PayloadTooLarge(`Image member limit exceeded for image ${img.id}: Maximum number of image members exceeded: attempted to add ${Number(n?.n ?? 0) + 1} members (limit ${MEMBER_QUOTA}).:`);
        }
        await trx.insertInto("img_member").values(row).execute();
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Member ${memberId} is duplicated for image ${img.id}`);
      throw e;
    }
    return row;
  }

  async updateMember(img: Img, memberId: string, status: string): Promise<Member> {
    const now = this.now();
    const r = await this.db.updateTable("img_member").set({ status, updated_at: now }).where("image_id", "=", img.id).where("member", "=", memberId).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new NotFound(`${memberId} not found in the member list of the image ${img.id}.`);
    const m = await this.db.selectFrom("img_member").selectAll().where("image_id", "=", img.id).where("member", "=", memberId).executeTakeFirst();
    return m!;
  }

  async deleteMember(img: Img, memberId: string): Promise<void> {
    const r = await this.db.deleteFrom("img_member").where("image_id", "=", img.id).where("member", "=", memberId).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new NotFound(`${memberId} not found in the member list of the image ${img.id}.`);
  }
}

/**
 * The error for an upload that stopped before its body was read: the rest of the body is
 * never read (it may be a terabyte), so the answer closes the connection.
 */
function unreadBody(e: unknown, what: string, cap: number): CloudError {
  const close = { connection: "close" };
  if (e instanceof BlobTooLarge) return new CloudError(413, `The incoming image is too large: Image exceeds the storage quota: ${cap} bytes`, close);
  if (e instanceof CloudError) return e;
  return new CloudError(400, `Unable to ${what} image data: the request body ended early.`, close);
}

/** A sort key's value on the marker row, typed as the column is. */
function markerValue(m: ImageRow, k: string): unknown {
  const v = (m as unknown as Record<string, unknown>)[k];
  if (k === "size" || k === "virtual_size") return v === null ? null : Number(v);
  return v;
}

/** glance.common.utils.split_filter_op: "gte:2020-…" → ["gte", "2020-…"]; an ISO time alone is "eq". */
export function splitFilterOp(expression: string): [string, string] {
  const i = expression.indexOf(":");
  if (i < 0) return ["eq", expression];
  if (parseIsoTime(expression) !== undefined) return ["eq", expression];
  return [expression.slice(0, i), expression.slice(i + 1)];
}

/** "in:a,\"b,c\"" values, as split_filter_value_for_quotes. */
export function splitFilterValueForQuotes(value: string): string[] {
  const out: string[] = [];
  const re = /"([^"\\]*(?:\\.[^"\\]*)*)",?|([^,]+),?|,/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    if (m[0] === "") break;
    out.push(m[1] ?? m[2] ?? "");
  }
  return out;
}

/** oslo's parse_isotime (ISO 8601, date or date-time, optional zone; UTC when none). */
export function parseIsoTime(s: string): Date | undefined {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(s.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = "00", mi = "00", sec = "00", frac = "0", zone] = m;
  let z = "Z";
  if (zone && zone.toUpperCase() !== "Z") z = zone.length === 3 ? `${zone}:00` : zone.includes(":") ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const t = new Date(`${y}-${mo}-${d}T${h}:${mi}:${sec}.${frac.padEnd(3, "0").slice(0, 3)}${z}`);
  return Number.isNaN(t.getTime()) ? undefined : t;
}

export { STATUSES };
