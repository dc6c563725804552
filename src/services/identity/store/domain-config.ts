import type { DomainConfigRow, Q } from "./tables.js";

/** Queries over `domain_config` (one row per domain, group and option). */
export async function listOptions(
  q: Q,
  domainId: string,
  f: { group?: string | undefined; option?: string | undefined; sensitive?: boolean } = {},
): Promise<DomainConfigRow[]> {
  let s = q.selectFrom("domain_config").selectAll().where("domain_id", "=", domainId);
  if (f.group !== undefined) {
    s = s.where("group", "=", f.group);
    if (f.option !== undefined) s = s.where("option", "=", f.option);
  }
  if (f.sensitive !== undefined) s = s.where("sensitive", "=", f.sensitive ? 1 : 0);
  return s.orderBy("group").orderBy("option").execute();
}

export async function deleteOptions(q: Q, domainId: string, group?: string, option?: string): Promise<void> {
  let s = q.deleteFrom("domain_config").where("domain_id", "=", domainId);
  if (group !== undefined) {
    s = s.where("group", "=", group);
    if (option !== undefined) s = s.where("option", "=", option);
  }
  await s.execute();
}

export async function insertOptions(q: Q, rows: readonly DomainConfigRow[]): Promise<void> {
  if (rows.length > 0) await q.insertInto("domain_config").values([...rows]).execute();
}
