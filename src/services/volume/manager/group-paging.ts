import type { Paging } from "../api/common.js";

/**
 * Cinder's _generate_paginate_query over rows already filtered (the group collections are
 * small: bounded by the groups quota per project): process_sort_params appends created_at and
 * id in the first direction given, a marker starts the page after its row, then offset and
 * limit apply. NULLs sort first ascending, as SQLite and MySQL order them.
 */
function comparator<T extends object>(paging: Paging): (a: T, b: T) => number {
  const keys = [...paging.sortKeys];
  const dirs = [...paging.sortDirs];
  const def = dirs[0] ?? "desc";
  for (const k of ["created_at", "id"]) {
    if (!keys.includes(k)) {
      keys.push(k);
      dirs.push(def);
    }
  }
  const cmp = (a: T, b: T): number => {
    for (let i = 0; i < keys.length; i++) {
      const x = (a as Record<string, unknown>)[keys[i]!];
      const y = (b as Record<string, unknown>)[keys[i]!];
      let c = 0;
      if (x === y) c = 0;
      else if (x === null || x === undefined) c = -1;
      else if (y === null || y === undefined) c = 1;
      else c = x < y ? -1 : 1;
      if (c !== 0) return dirs[i] === "desc" ? -c : c;
    }
    return 0;
  };
  return cmp;
}

export function sortRows<T extends object>(rows: T[], paging: Paging): T[] {
  return [...rows].sort(comparator<T>(paging));
}

/** Sort, start after `marker` (when "use"), skip offset, take limit. */
export function pageRows<T extends { id: string }>(rows: T[], paging: Paging, marker: T | undefined, mode: "use" | "ignore" = "use"): T[] {
  const cmp = comparator<T>(paging);
  let sorted = [...rows].sort(cmp);
  if (marker && mode === "use") sorted = sorted.filter((r) => cmp(r, marker) > 0);
  return sorted.slice(paging.offset, paging.offset + paging.limit);
}
