import { CompiledQuery, sql } from "kysely";
import type { Database } from "../../../db/database.js";
import type { AccountRow, ContainerRow, ObjectRow, SwiftDB, SwiftTrx } from "./tables.js";

export type Meta = Record<string, string>;

interface BothRow {
  c_account: string;
  c_name: string;
  c_created_at: string;
  c_put_timestamp: string;
  c_last_modified: string;
  c_object_count: number | string;
  c_bytes_used: number | string;
  c_meta: string;
  o_name: string | null;
  o_timestamp: string | null;
  o_size: number | string | null;
  o_etag: string | null;
  o_content_type: string | null;
  o_meta: string | null;
  o_blob: string | null;
  o_delete_at: number | string | null;
}

export interface ListOptions {
  prefix?: string | undefined;
  marker?: string | undefined;
  endMarker?: string | undefined;
  limit: number;
  reverse?: boolean;
  delimiter?: string | undefined;
}

export type Listed<T> = { row: T } | { subdir: string };

export const num = (v: number | string | null | undefined): number => (v === null || v === undefined ? 0 : Number(v));
export const parseMeta = (s: string): Meta => JSON.parse(s) as Meta;

/** The smallest string greater than every string starting with s (s with its last char bumped). */
function afterPrefix(s: string): string {
  const cp = s.codePointAt(s.length - 1) ?? 0;
  return s.slice(0, s.length - (cp > 0xffff ? 2 : 1)) + String.fromCodePoint(cp + 1);
}

/**
 * Swift's account, container and object databases over Kysely. Container counters change in
 * the same transaction as the object rows they count, so they stay exact under concurrent
 * writes; on PostgreSQL the container row is locked first, serializing writers of one
 * container as Swift's container database does.
 */
export class SwiftStore {
  readonly db: SwiftDB;
  readonly pg: boolean;
  constructor(database: Database) {
    this.db = database.db as unknown as SwiftDB;
    this.pg = database.dialect === "postgres";
    this.external = database.externalChanges;
  }

  write<T>(fn: (trx: SwiftTrx) => Promise<T>): Promise<T> {
    this.gen++;
    return this.db.transaction().execute(fn).finally(() => {
      this.gen++;
    });
  }

  // ---- read cache
  /**
   * Rows read since the last write stay valid until the next one: every write of this store
   * goes through write(), which moves `gen` before and after, and another process's commit on
   * the same SQLite file moves its data_version. An entry is kept with both values as they were
   * before its query ran, so a read that raced a write is never served again. On PostgreSQL
   * other processes' commits cannot be seen cheaply, so nothing is cached there.
   */
  private gen = 0;
  private readonly external: (() => number) | undefined;
  private readonly cache = new Map<string, { gen: number; ext: number; value: unknown }>();

  /**
   * A rendered container listing, kept like the rows above (until the next write anywhere) and
   * no later than `until` (when its first listed object expires). 64 MiB of them at most.
   */
  async listingBody(key: string, nowSeconds: number, render: () => Promise<{ body: string; until: number }>): Promise<string> {
    if (!this.external) return (await render()).body;
    const ext = this.external();
    const hit = this.listings.get(key);
    if (hit && hit.gen === this.gen && hit.ext === ext && nowSeconds < hit.until) return hit.body;
    const gen = this.gen;
    const r = await render();
    if (hit) {
      this.listingBytes -= hit.body.length;
      this.listings.delete(key);
    }
    if (r.body.length <= LISTING_CACHE_BYTES / 8) {
      while (this.listingBytes + r.body.length > LISTING_CACHE_BYTES && this.listings.size > 0) {
        const [k, v] = this.listings.entries().next().value as [string, { body: string }];
        this.listings.delete(k);
        this.listingBytes -= v.body.length;
      }
      this.listings.set(key, { gen, ext, until: r.until, body: r.body });
      this.listingBytes += r.body.length;
    }
    return r.body;
  }
  private readonly listings = new Map<string, { gen: number; ext: number; until: number; body: string }>();
  private listingBytes = 0;

  private async cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (!this.external) return load();
    const ext = this.external();
    const hit = this.cache.get(key);
    if (hit && hit.gen === this.gen && hit.ext === ext) return hit.value as T;
    const gen = this.gen;
    const value = await load();
    if (value && typeof value === "object") deepFreeze(value);
    if (this.cache.size >= 100_000) this.cache.clear();
    this.cache.set(key, { gen, ext, value });
    return value;
  }

  /**
   * Group commit for the object writes (SQLite): writes that arrive together run in one
   * transaction, so one WAL fsync acknowledges them all instead of one each. Each write's own
   * refusal (a precondition, thrown before it changes anything) is its alone; any other error
   * rolls the batch back and every write runs again on its own. PostgreSQL commits each
   * write by itself (its container row lock already orders them).
   */
  private grouped<T>(fn: (trx: SwiftTrx) => Promise<T>): Promise<T> {
    if (this.pg) return this.write(fn);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn: fn as (trx: SwiftTrx) => Promise<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (this.queue.length === 1) setImmediate(() => void this.flush());
    });
  }
  private queue: Array<{ fn: (trx: SwiftTrx) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let results: Array<{ ok: unknown } | { err: unknown }>;
    try {
      results = await this.write(async (trx) => {
        const out: Array<{ ok: unknown } | { err: unknown }> = [];
        for (const op of batch) {
          try {
            out.push({ ok: await op.fn(trx) });
          } catch (e) {
            if (!(e instanceof Refusal)) throw e;
            out.push({ err: e.cause });
          }
        }
        return out;
      });
    } catch {
      for (const op of batch) this.write(op.fn).then(op.resolve, (e: unknown) => op.reject(e instanceof Refusal ? e.cause : e));
      return;
    }
    results.forEach((r, i) => ("ok" in r ? batch[i]!.resolve(r.ok) : batch[i]!.reject(r.err)));
  }

  // ---- accounts
  async account(account: string): Promise<AccountRow | undefined> {
    return this.cached(`a\0${account}`, () => this.db.selectFrom("swift_account").selectAll().where("account", "=", account).executeTakeFirst());
  }

  /** Create the account row if missing (account_autocreate) and merge metadata into it. */
  async ensureAccount(account: string, ts: string, update?: Meta): Promise<AccountRow> {
    return this.write(async (trx) => {
      const cur = await lockAccount(trx, account, this.pg);
      if (!cur) {
        const row: AccountRow = { account, created_at: ts, put_timestamp: ts, meta: JSON.stringify(stripEmpty(update ?? {})) };
        await trx.insertInto("swift_account").values(row).onConflict((oc) => oc.column("account").doNothing()).execute();
        return row;
      }
      if (!update || Object.keys(update).length === 0) return cur;
      const meta = stripEmpty({ ...parseMeta(cur.meta), ...update });
      await trx.updateTable("swift_account").set({ meta: JSON.stringify(meta) }).where("account", "=", account).execute();
      return { ...cur, meta: JSON.stringify(meta) };
    });
  }

  async accountStats(account: string): Promise<{ containers: number; objects: number; bytes: number }> {
    const r = await this.db
      .selectFrom("swift_container")
      .select((eb) => [eb.fn.countAll().as("n"), eb.fn.sum("object_count").as("objects"), eb.fn.sum("bytes_used").as("bytes")])
      .where("account", "=", account)
      .executeTakeFirst();
    return { containers: num(r?.n as number), objects: num(r?.objects as number), bytes: num(r?.bytes as number) };
  }

  async deleteAccount(account: string): Promise<void> {
    await this.write((trx) => trx.deleteFrom("swift_account").where("account", "=", account).execute());
  }

  // ---- containers
  async container(account: string, name: string): Promise<ContainerRow | undefined> {
    return this.cached(`c\0${account}\0${name}`, () => this.db.selectFrom("swift_container").selectAll().where("account", "=", account).where("name", "=", name).executeTakeFirst());
  }

  /** PUT container: created (true) or its metadata merged (false). */
  async putContainer(account: string, name: string, ts: string, meta: Meta): Promise<boolean> {
    return this.write(async (trx) => {
      const cur = await trx.selectFrom("swift_container").selectAll().where("account", "=", account).where("name", "=", name).executeTakeFirst();
      if (cur) {
        const merged = stripEmpty({ ...parseMeta(cur.meta), ...meta });
        await trx.updateTable("swift_container").set({ meta: JSON.stringify(merged), put_timestamp: ts }).where("account", "=", account).where("name", "=", name).execute();
        return false;
      }
      const res = await trx
        .insertInto("swift_container")
        .values({ account, name, created_at: ts, put_timestamp: ts, last_modified: ts, object_count: 0, bytes_used: 0, meta: JSON.stringify(stripEmpty(meta)) })
        .onConflict((oc) => oc.columns(["account", "name"]).doNothing())
        .executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows ?? 1) > 0;
    });
  }

  async updateContainerMeta(account: string, name: string, meta: Meta): Promise<boolean> {
    return this.write(async (trx) => {
      const cur = await lockContainer(trx, account, name, this.pg);
      if (!cur) return false;
      const merged = stripEmpty({ ...parseMeta(cur.meta), ...meta });
      await trx.updateTable("swift_container").set({ meta: JSON.stringify(merged) }).where("account", "=", account).where("name", "=", name).execute();
      return true;
    });
  }

  /** "gone" when missing, "not-empty" when it still holds objects. */
  async deleteContainer(account: string, name: string): Promise<"ok" | "gone" | "not-empty"> {
    return this.write(async (trx) => {
      const cur = await lockContainer(trx, account, name, this.pg);
      if (!cur) return "gone";
      const any = await trx.selectFrom("swift_object").select("name").where("account", "=", account).where("container", "=", name).limit(1).executeTakeFirst();
      if (any || num(cur.object_count) > 0) return "not-empty";
      await trx.deleteFrom("swift_container").where("account", "=", account).where("name", "=", name).execute();
      return "ok";
    });
  }

  async listContainers(account: string, o: ListOptions): Promise<Array<Listed<ContainerRow>>> {
    return this.list(o, (from, to, fromInclusive, limit) => {
      let q = this.db.selectFrom("swift_container").selectAll().where("account", "=", account);
      q = this.range(q, from, to, fromInclusive, o.reverse ?? false);
      return q.orderBy("name", o.reverse ? "desc" : "asc").limit(limit).execute();
    });
  }

  /**
   * A container and one of its objects in one query (the GET/HEAD hot path needs both: the
   * container's ACLs, then the object).
   */
  async containerAndObject(account: string, container: string, name: string): Promise<{ container: ContainerRow | undefined; object: ObjectRow | undefined }> {
    return this.cached(`co\0${account}\0${container}\0${name}`, () => this.loadContainerAndObject(account, container, name));
  }

  private async loadContainerAndObject(account: string, container: string, name: string): Promise<{ container: ContainerRow | undefined; object: ObjectRow | undefined }> {
    // Built and compiled once; each call only binds its values (this is the GET hot path).
    this.bothSql ??= this.bothQuery("\u0001o", "\u0001a", "\u0001c").compile();
    const order = this.bothSql.parameters.map((p) => (p === "\u0001o" ? name : p === "\u0001a" ? account : container));
    const res = await this.db.executeQuery<BothRow>(CompiledQuery.raw(this.bothSql.sql, order));
    const r = res.rows[0];
    if (!r) return { container: undefined, object: undefined };
    const c: ContainerRow = {
      account: r.c_account,
      name: r.c_name,
      created_at: r.c_created_at,
      put_timestamp: r.c_put_timestamp,
      last_modified: r.c_last_modified,
      object_count: r.c_object_count,
      bytes_used: r.c_bytes_used,
      meta: r.c_meta,
    };
    if (r.o_name === null || r.o_name === undefined) return { container: c, object: undefined };
    const o: ObjectRow = {
      account,
      container,
      name: r.o_name,
      timestamp: r.o_timestamp!,
      size: r.o_size!,
      etag: r.o_etag!,
      content_type: r.o_content_type!,
      meta: r.o_meta!,
      blob: r.o_blob ?? null,
      delete_at: r.o_delete_at ?? null,
    };
    return { container: c, object: o };
  }
  private bothSql: CompiledQuery | undefined;

  private bothQuery(name: string, account: string, container: string) {
    return this.db
      .selectFrom("swift_container as c")
      .leftJoin("swift_object as o", (j) => j.onRef("o.account", "=", "c.account").onRef("o.container", "=", "c.name").on("o.name", "=", name))
      .select([
        "c.account as c_account",
        "c.name as c_name",
        "c.created_at as c_created_at",
        "c.put_timestamp as c_put_timestamp",
        "c.last_modified as c_last_modified",
        "c.object_count as c_object_count",
        "c.bytes_used as c_bytes_used",
        "c.meta as c_meta",
        "o.name as o_name",
        "o.timestamp as o_timestamp",
        "o.size as o_size",
        "o.etag as o_etag",
        "o.content_type as o_content_type",
        "o.meta as o_meta",
        "o.blob as o_blob",
        "o.delete_at as o_delete_at",
      ])
      .where("c.account", "=", account)
      .where("c.name", "=", container);
  }

  // ---- objects
  async object(account: string, container: string, name: string): Promise<ObjectRow | undefined> {
    return this.db.selectFrom("swift_object").selectAll().where("account", "=", account).where("container", "=", container).where("name", "=", name).executeTakeFirst();
  }

  /**
   * Write an object row (new or replacing) and move the container's counters by the
   * difference, in one transaction. Returns the replaced row (its blob is the caller's to
   * delete), or "no-container" when the container is gone.
   */
  async putObject(row: ObjectRow, precondition?: (old: ObjectRow | undefined) => void): Promise<{ old: ObjectRow | undefined } | "no-container"> {
    return this.grouped(async (trx) => {
      // The PUT hot path: five statements, each built and compiled once, then only bound.
      const key = { a: row.account, c: row.container, n: row.name };
      const c = await this.prepared<ContainerRow>(trx, "lockContainer", (p) => {
        const q = trx.selectFrom("swift_container").selectAll().where("account", "=", p("a")).where("name", "=", p("c"));
        return this.pg ? q.forUpdate() : q;
      }, key);
      if (!c[0]) return "no-container";
      const old = (await this.prepared<ObjectRow>(trx, "selectObject", (p) => trx.selectFrom("swift_object").selectAll().where("account", "=", p("a")).where("container", "=", p("c")).where("name", "=", p("n")), key))[0];
      try {
        precondition?.(old);
      } catch (e) {
        throw new Refusal(e);
      }
      const values = { ...key, ts: row.timestamp, size: row.size, etag: row.etag, ct: row.content_type, meta: row.meta, blob: row.blob, del: row.delete_at };
      if (old) {
        await this.prepared(trx, "updateObject", (p) =>
          trx
            .updateTable("swift_object")
            .set({ timestamp: p("ts"), size: p("size"), etag: p("etag"), content_type: p("ct"), meta: p("meta"), blob: p("blob"), delete_at: p("del") })
            .where("account", "=", p("a"))
            .where("container", "=", p("c"))
            .where("name", "=", p("n")),
        values);
      } else {
        await this.prepared(trx, "insertObject", (p) =>
          trx.insertInto("swift_object").values({ account: p("a"), container: p("c"), name: p("n"), timestamp: p("ts"), size: p("size"), etag: p("etag"), content_type: p("ct"), meta: p("meta"), blob: p("blob"), delete_at: p("del") }),
        values);
      }
      const dBytes = num(row.size) - (old ? num(old.size) : 0);
      const dCount = old ? 0 : 1;
      await this.prepared(trx, "countObject", (p) =>
        trx
          .updateTable("swift_container")
          .set((eb) => ({ object_count: eb("object_count", "+", p("dc")), bytes_used: eb("bytes_used", "+", p("db")), last_modified: p("ts") }))
          .where("account", "=", p("a"))
          .where("name", "=", p("c")),
      { ...key, dc: dCount, db: dBytes, ts: row.timestamp });
      return { old };
    });
  }

  /**
   * Run a statement built once per name: `build` is given a placeholder maker, its compiled
   * SQL is kept, and each call binds `values` to the placeholders by name.
   */
  private async prepared<R>(trx: SwiftTrx, name: string, build: (p: (k: string) => any) => { compile(): CompiledQuery }, values: Record<string, unknown>): Promise<R[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
    let c = this.statements.get(name);
    if (!c) {
      c = build((k) => `${PLACEHOLDER}${k}`).compile();
      this.statements.set(name, c);
    }
    const params = c.parameters.map((v) => (typeof v === "string" && v.startsWith(PLACEHOLDER) ? values[v.slice(PLACEHOLDER.length)] : v));
    return (await trx.executeQuery<R>(CompiledQuery.raw(c.sql, params))).rows;
  }
  private readonly statements = new Map<string, CompiledQuery>();

  /** POST object: replace its metadata (and X-Delete-At); undefined when it is gone. */
  async updateObjectMeta(account: string, container: string, name: string, fn: (row: ObjectRow) => Partial<ObjectRow>): Promise<ObjectRow | undefined> {
    return this.write(async (trx) => {
      const c = await lockContainer(trx, account, container, this.pg);
      if (!c) return undefined;
      const row = await trx.selectFrom("swift_object").selectAll().where("account", "=", account).where("container", "=", container).where("name", "=", name).executeTakeFirst();
      if (!row) return undefined;
      const patch = fn(row);
      await trx.updateTable("swift_object").set(patch).where("account", "=", account).where("container", "=", container).where("name", "=", name).execute();
      return { ...row, ...patch };
    });
  }

  /** Delete an object row and count it out; the removed row (for its blob) or undefined. */
  async deleteObject(account: string, container: string, name: string, expect?: (row: ObjectRow) => boolean): Promise<ObjectRow | undefined> {
    return this.grouped(async (trx) => {
      const c = await lockContainer(trx, account, container, this.pg);
      if (!c) return undefined;
      return this.removeRow(trx, account, container, name, expect);
    });
  }

  /**
   * Inside a write transaction (the container row locked): delete an object row and count it
   * out of its container; the removed row (its blob is the caller's to drop), or undefined.
   */
  async removeRow(trx: SwiftTrx, account: string, container: string, name: string, expect?: (row: ObjectRow) => boolean): Promise<ObjectRow | undefined> {
    const row = await trx.selectFrom("swift_object").selectAll().where("account", "=", account).where("container", "=", container).where("name", "=", name).executeTakeFirst();
    if (!row || (expect && !expect(row))) return undefined;
    await trx.deleteFrom("swift_object").where("account", "=", account).where("container", "=", container).where("name", "=", name).execute();
    await trx
      .updateTable("swift_container")
      .set((eb) => ({ object_count: eb("object_count", "-", 1), bytes_used: eb("bytes_used", "-", num(row.size)) }))
      .where("account", "=", account)
      .where("name", "=", container)
      .execute();
    return row;
  }

  /** Inside a write transaction: insert (or replace) a row and count it in; the replaced row. */
  async addRow(trx: SwiftTrx, row: ObjectRow): Promise<ObjectRow | undefined> {
    const old = await this.removeRow(trx, row.account, row.container, row.name);
    await trx.insertInto("swift_object").values(row).execute();
    await trx
      .updateTable("swift_container")
      .set((eb) => ({ object_count: eb("object_count", "+", 1), bytes_used: eb("bytes_used", "+", num(row.size)), last_modified: row.timestamp }))
      .where("account", "=", row.account)
      .where("name", "=", row.container)
      .execute();
    return old;
  }


  /**
   * `lean`: only what a listing shows (no blob key; account and container are the arguments),
   * which is what a 10,000-object listing spends its time materializing.
   */
  async listObjects(account: string, container: string, o: ListOptions & { lean?: boolean }): Promise<Array<Listed<ObjectRow>>> {
    return this.list(o, async (from, to, fromInclusive, limit) => {
      if (o.lean) {
        let q = this.db
          .selectFrom("swift_object")
          .select(["name", "timestamp", "size", "etag", "content_type", "meta", "delete_at"])
          .where("account", "=", account)
          .where("container", "=", container);
        q = this.range(q, from, to, fromInclusive, o.reverse ?? false);
        // Lean rows carry no account, container or blob (listings do not read them).
        return (await q.orderBy("name", o.reverse ? "desc" : "asc").limit(limit).execute()) as ObjectRow[];
      }
      let q = this.db.selectFrom("swift_object").selectAll().where("account", "=", account).where("container", "=", container);
      q = this.range(q, from, to, fromInclusive, o.reverse ?? false);
      return q.orderBy("name", o.reverse ? "desc" : "asc").limit(limit).execute();
    });
  }

  /** Objects whose X-Delete-At has passed (the expirer's work). */
  async expired(nowSeconds: number, limit: number): Promise<ObjectRow[]> {
    return this.db.selectFrom("swift_object").selectAll().where("delete_at", "is not", null).where("delete_at", "<=", Math.floor(nowSeconds)).limit(limit).execute();
  }

  // ---- listing machinery
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private range(q: any, from: string | undefined, to: string | undefined, fromInclusive: boolean, reverse: boolean): any {
    if (!reverse) {
      if (from !== undefined) q = q.where("name", fromInclusive ? ">=" : ">", from);
      if (to !== undefined) q = q.where("name", "<", to);
    } else {
      if (from !== undefined) q = q.where("name", fromInclusive ? "<=" : "<", from);
      if (to !== undefined) q = q.where("name", ">", to);
    }
    return q;
  }

  /**
   * Swift's listing walk: names after `marker`, before `end_marker`, starting with `prefix`;
   * with a delimiter, names that go on past it after the prefix roll up into one `subdir`
   * and the walk jumps past them.
   */
  private async list<T extends { name: string }>(
    o: ListOptions,
    fetch: (from: string | undefined, to: string | undefined, fromInclusive: boolean, limit: number) => Promise<T[]>,
  ): Promise<Array<Listed<T>>> {
    const out: Array<Listed<T>> = [];
    const prefix = o.prefix ?? "";
    const reverse = o.reverse ?? false;
    // forward: from = max(marker, prefix); to = min(end_marker, afterPrefix(prefix))
    let from: string | undefined;
    let inclusive = false;
    let to: string | undefined;
    if (!reverse) {
      from = o.marker || undefined;
      if (prefix && (from === undefined || from < prefix)) {
        from = prefix;
        inclusive = true;
      }
      to = o.endMarker || undefined;
      if (prefix) {
        const ap = afterPrefix(prefix);
        if (to === undefined || ap < to) to = ap;
      }
    } else {
      from = o.marker || undefined;
      if (prefix) {
        const ap = afterPrefix(prefix);
        if (from === undefined || from >= ap) {
          from = ap;
          inclusive = false;
        }
      }
      to = o.endMarker || undefined;
    }
    while (out.length < o.limit) {
      const asked = Math.max(o.limit - out.length, 1);
      const rows = await fetch(from, to, inclusive, asked);
      if (rows.length === 0) break;
      let jumped = false;
      for (const row of rows) {
        if (prefix && !row.name.startsWith(prefix)) {
          if (reverse) return out; // walked below the prefix
          continue;
        }
        if (o.delimiter) {
          const rest = row.name.slice(prefix.length);
          const i = rest.indexOf(o.delimiter);
          if (i >= 0) {
            const sub = prefix + rest.slice(0, i + o.delimiter.length);
            // Swift's broker does not list the subdir that is the marker itself (clients page
            // on it: swift list --delimiter); reversed, that is the end_marker.
            if (sub !== (reverse ? o.endMarker : o.marker)) out.push({ subdir: sub });
            // continue past every name under this subdir
            if (!reverse) {
              from = afterPrefix(sub);
              inclusive = true;
            } else {
              from = sub;
              inclusive = false;
            }
            jumped = true;
            break;
          }
        }
        out.push({ row });
        if (out.length >= o.limit) break;
      }
      if (!jumped) {
        const last = rows[rows.length - 1]!;
        from = last.name;
        inclusive = false;
        if (rows.length < asked) break; // fewer than asked: the range is exhausted
      }
    }
    return out;
  }
}

const LISTING_CACHE_BYTES = 64 * 1024 * 1024;

/** Marks a named placeholder in a statement compiled once (see prepared()). */
const PLACEHOLDER = "\u0002stackbox-param:";

function deepFreeze(v: object): void {
  Object.freeze(v);
  for (const x of Object.values(v)) if (x && typeof x === "object" && !Object.isFrozen(x)) deepFreeze(x);
}

/** A write's own refusal inside a group commit (carries the error to give its caller). */
class Refusal extends Error {
  constructor(readonly cause: unknown) {
    super("refused");
  }
}

function stripEmpty(m: Meta): Meta {
  const out: Meta = {};
  for (const [k, v] of Object.entries(m)) if (v !== "") out[k] = v;
  return out;
}

async function lockContainer(trx: SwiftTrx, account: string, name: string, pg: boolean): Promise<ContainerRow | undefined> {
  let q = trx.selectFrom("swift_container").selectAll().where("account", "=", account).where("name", "=", name);
  if (pg) q = q.forUpdate();
  return q.executeTakeFirst();
}

async function lockAccount(trx: SwiftTrx, account: string, pg: boolean): Promise<AccountRow | undefined> {
  let q = trx.selectFrom("swift_account").selectAll().where("account", "=", account);
  if (pg) q = q.forUpdate();
  return q.executeTakeFirst();
}

export { sql };
