import type { Q, NetworkTables } from "./tables.js";

/** A resource as the API shows it (standard attributes included), stored as JSON. */
export type Doc = Record<string, unknown> & { id: string };

/** Tables that hold a `doc` column. */
export type DocTable = {
  [K in keyof NetworkTables]: NetworkTables[K] extends { doc: string; id: string } ? K : never;
}[keyof NetworkTables];

/**
 * How one resource is stored: its table and the columns mirrored from the document (so they
 * can be indexed and constrained). Every other attribute lives only in the document.
 */
export interface DocSpec<T extends DocTable = DocTable> {
  table: T;
  columns: (doc: Doc) => Omit<NetworkTables[T], "id" | "doc">;
}

// Kysely cannot check a table name chosen at run time; the specs above keep it honest.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

export async function insertDoc<T extends DocTable>(q: Q, spec: DocSpec<T>, doc: Doc): Promise<void> {
  await (q as Loose)
    .insertInto(spec.table)
    .values({ id: doc.id, doc: JSON.stringify(doc), ...spec.columns(doc) })
    .execute();
}

/** Rewrite the document (and its mirrored columns); false when the row is gone. */
export async function updateDoc<T extends DocTable>(q: Q, spec: DocSpec<T>, doc: Doc): Promise<boolean> {
  const r = await (q as Loose)
    .updateTable(spec.table)
    .set({ doc: JSON.stringify(doc), ...spec.columns(doc) })
    .where("id", "=", doc.id)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function deleteDoc(q: Q, table: DocTable, id: string): Promise<boolean> {
  const r = await (q as Loose).deleteFrom(table).where("id", "=", id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/**
 * One document by id. `lock` (PostgreSQL only: SQLite serialises writers already, and has no
 * FOR UPDATE) takes a row lock so read-modify-write in a transaction loses no concurrent update.
 */
export async function getDoc(q: Q, table: DocTable, id: string, lock = false): Promise<Doc | undefined> {
  let query = (q as Loose).selectFrom(table).select("doc").where("id", "=", id);
  if (lock) query = query.forUpdate();
  const row = (await query.executeTakeFirst()) as { doc: string } | undefined;
  return row ? (JSON.parse(row.doc) as Doc) : undefined;
}

/** Documents whose mirrored columns equal the given values (a list means any of them). */
export async function findDocs(
  q: Q,
  table: DocTable,
  where: Record<string, string | number | null | readonly (string | number)[]> = {},
): Promise<Doc[]> {
  let query = (q as Loose).selectFrom(table).select("doc");
  for (const [col, v] of Object.entries(where)) {
    if (Array.isArray(v)) {
      if (v.length === 0) return [];
      query = query.where(col, "in", v);
    } else if (v === null) {
      query = query.where(col, "is", null);
    } else {
      query = query.where(col, "=", v);
    }
  }
  const rows = (await query.execute()) as Array<{ doc: string }>;
  return rows.map((r) => JSON.parse(r.doc) as Doc);
}

export async function countRows(
  q: Q,
  table: keyof NetworkTables,
  where: Record<string, string | number | readonly string[]>,
): Promise<number> {
  let query = (q as Loose).selectFrom(table).select((eb: Loose) => eb.fn.countAll().as("n"));
  for (const [col, v] of Object.entries(where)) {
    query = Array.isArray(v) ? (v.length ? query.where(col, "in", v) : query.where(col, "=", "\u0001never")) : query.where(col, "=", v);
  }
  const row = (await query.executeTakeFirst()) as { n: number | string | bigint };
  return Number(row.n);
}
