import { badRequest } from "../errors.js";
import type { PlacementCore } from "../store/core.js";
import { rows, sql } from "../store/core.js";
import { fits } from "./providers.js";

export interface RequestGroup {
  suffix: string;
  useSameProvider: boolean;
  resources: Record<string, number>;
  /** AND of ORs. */
  required: string[][];
  forbidden: string[];
  memberOf: string[][];
  forbiddenAggs: string[];
  inTree?: string;
}

export interface CandidateQuery {
  groups: RequestGroup[];
  limit?: number;
  groupPolicy?: string;
  rootRequired: string[];
  rootForbidden: string[];
  sameSubtrees: string[][];
  nestedAware: boolean;
}

/**
 * One provider's summary data, cached under its version: the generation (inventories, usage
 * and traits all move it) with the parent and root (re-parenting does not move it).
 */
interface Summary {
  version: string;
  uuid: string;
  parent: string | null;
  root: string;
  rootId: number;
  parentId: number | null;
  /** rc name → [capacity, used, max_unit] */
  resources: Map<string, [number, number, number]>;
  traits: string[];
  /** `"uuid":{…}`, the 1.29+ summary entry, serialised once. */
  json?: string;
  /** JSON.stringify(uuid), once. */
  quoted?: string;
  /** The last single-provider allocation request rendered for this provider, by its shape key. */
  arKey?: string;
  arJson?: string;
}

interface AReq {
  anchor: number;
  sameProvider: boolean;
  /** provider id → rc → amount */
  res: Map<number, Map<string, number>>;
  /** suffix → provider ids */
  mappings: Map<string, Set<number>>;
}

export interface CandidateResult {
  requests: AReq[];
  summaries: Map<number, Summary>;
}

const SHARES = "MISC_SHARES_VIA_AGGREGATE";

/**
 * GET /allocation_candidates. The common case (one unnumbered group, no provider trees and no
 * sharing providers in the cloud) is one SQL query that stops at `limit`; everything else
 * follows Placement's research: per group and class the providers with room, filtered by
 * traits, aggregates and trees, combined per tree (and with sharing providers through their
 * aggregates), then merged across groups under group_policy, same_subtree and root_required.
 */
export class CandidateManager {
  private readonly cache = new Map<number, Summary>();
  private epoch = 0;

  constructor(private readonly core: PlacementCore) {}

  async find(q: CandidateQuery): Promise<CandidateResult> {
    const db = this.core.db;
    // Resolve names first: unknown classes and traits are 400s, as in Placement.
    for (const g of q.groups) {
      for (const rc of Object.keys(g.resources)) {
        if ((await this.core.rcId(rc)) === undefined) throw badRequest(`Invalid resource class in resources parameter: No such resource class ${rc}.`);
      }
    }
    const allTraits = new Set<string>([...q.rootRequired, ...q.rootForbidden]);
    for (const g of q.groups) for (const t of [...g.required.flat(), ...g.forbidden]) allTraits.add(t);
    const traitIds = await this.core.traitIds(allTraits);
    const missing = [...allTraits].filter((t) => !traitIds.has(t));
    if (missing.length) throw badRequest(`No such trait(s): ${missing.join(", ")}.`);

    const hasTrees = (await rows(db, sql`SELECT id FROM plc_provider WHERE parent_id IS NOT NULL LIMIT 1`)).length > 0;
    const sharesId = (await this.core.traitIds([SHARES])).get(SHARES);
    const sharing = new Set<number>(
      sharesId === undefined ? [] : (await rows<{ provider_id: number }>(db, sql`SELECT provider_id FROM plc_provider_trait WHERE trait_id = ${sharesId}`)).map((r) => Number(r.provider_id)),
    );
    const g = q.groups[0]!;
    if (q.groups.length === 1 && g.suffix === "" && sharing.size === 0 && !q.sameSubtrees.length) {
      if (!hasTrees) return this.simple(q, g, traitIds, false);
      // Trees exist somewhere: only they can spread a request over several providers. Research
      // those trees, and take the one-query path over every provider that is a tree by itself.
      const nested = await this.general(q, traitIds, hasTrees, sharing, true);
      const remaining = q.limit ? q.limit - nested.requests.length : undefined;
      if (remaining !== undefined && remaining <= 0) return nested;
      const flat = await this.simple(remaining === undefined ? q : { ...q, limit: remaining }, g, traitIds, true);
      return { requests: [...nested.requests, ...flat.requests], summaries: new Map([...nested.summaries, ...flat.summaries]) };
    }
    return this.general(q, traitIds, hasTrees, sharing, false);
  }

  // ---- the one-query path

  private async simple(q: CandidateQuery, g: RequestGroup, traitIds: Map<string, number>, loneOnly: boolean): Promise<CandidateResult> {
    const joins: ReturnType<typeof sql>[] = [];
    const reqs: Array<[string, number]> = Object.entries(g.resources);
    let n = 0;
    for (const [rc, amount] of reqs) {
      const a = `i${n++}`;
      const rcId = (await this.core.rcId(rc))!;
      joins.push(sql`JOIN plc_inventory ${sql.raw(a)} ON ${sql.raw(a)}.provider_id = p.id AND ${sql.raw(a)}.rc_id = ${rcId} AND ${fits(amount, a)}`);
    }
    const where = this.providerConditions(g, traitIds);
    if (loneOnly) where.push(sql`p.parent_id IS NULL AND NOT EXISTS (SELECT 1 FROM plc_provider ch WHERE ch.parent_id = p.id)`);
    if (q.rootRequired.length || q.rootForbidden.length) where.push(...this.traitConditions([...q.rootRequired.map((t) => [t])], q.rootForbidden, traitIds));
    if (g.inTree) {
      const t = await rows<{ root_id: number }>(this.core.db, sql`SELECT root_id FROM plc_provider WHERE uuid = ${g.inTree}`);
      if (!t[0]) return { requests: [], summaries: new Map() };
      where.push(sql`p.root_id = ${Number(t[0].root_id)}`);
    }
    const cond = where.length ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``;
    const lim = q.limit ? sql`LIMIT ${q.limit}` : sql``;
    // SQLite walks the (rc_id, provider_id) index in order, so ORDER BY costs nothing and the
    // scan stops at the limit. PostgreSQL underestimates the capacity filters and would sort
    // every match first; unordered, its nested loop stops at the limit too (order is then the
    // physical order, which Placement does not promise either).
    const order = this.core.dialect === "sqlite" ? sql`ORDER BY i0.provider_id` : sql``;
    const found = await rows<{ id: number; generation: number; parent_id: number | null; root_id: number }>(
      this.core.db,
      sql`SELECT p.id, p.generation, p.parent_id, p.root_id FROM plc_provider p ${sql.join(joins, sql` `)} ${cond} ${order} ${lim}`,
    );
    const summaries = await this.summaries(found.map(versionOf));
    const amounts = new Map(reqs); // shared by every request: rendered once
    const requests: AReq[] = found.map((r) => {
      const id = Number(r.id);
      return { anchor: id, sameProvider: false, res: new Map([[id, amounts]]), mappings: new Map([["", new Set([id])]]) };
    });
    return { requests, summaries };
  }

  private traitConditions(required: string[][], forbidden: string[], traitIds: Map<string, number>, alias = "p"): ReturnType<typeof sql>[] {
    const out: ReturnType<typeof sql>[] = [];
    const a = sql.raw(alias);
    for (const any of required) {
      out.push(sql`EXISTS (SELECT 1 FROM plc_provider_trait t WHERE t.provider_id = ${a}.id AND t.trait_id IN (${sql.join(any.map((x) => traitIds.get(x)!))}))`);
    }
    if (forbidden.length) {
      out.push(sql`NOT EXISTS (SELECT 1 FROM plc_provider_trait t WHERE t.provider_id = ${a}.id AND t.trait_id IN (${sql.join(forbidden.map((x) => traitIds.get(x)!))}))`);
    }
    return out;
  }

  private providerConditions(g: RequestGroup, traitIds: Map<string, number>): ReturnType<typeof sql>[] {
    const out = this.traitConditions(g.required, g.forbidden, traitIds);
    for (const any of g.memberOf) {
      out.push(sql`EXISTS (SELECT 1 FROM plc_provider_aggregate pa JOIN plc_aggregate ag ON ag.id = pa.aggregate_id WHERE pa.provider_id = p.id AND ag.uuid IN (${sql.join(any)}))`);
    }
    if (g.forbiddenAggs.length) {
      out.push(sql`NOT EXISTS (SELECT 1 FROM plc_provider_aggregate pa JOIN plc_aggregate ag ON ag.id = pa.aggregate_id WHERE pa.provider_id = p.id AND ag.uuid IN (${sql.join(g.forbiddenAggs)}))`);
    }
    return out;
  }

  /** Summaries of these providers, from the cache when their generation has not moved. */
  private async summaries(list: Array<[number, string]>): Promise<Map<number, Summary>> {
    if (this.epoch !== this.core.vocabularyEpoch) {
      this.cache.clear();
      this.epoch = this.core.vocabularyEpoch;
    }
    const out = new Map<number, Summary>();
    const misses: number[] = [];
    for (const [id, gen] of list) {
      const c = this.cache.get(id);
      if (c && c.version === gen) out.set(id, c);
      else misses.push(id);
    }
    for (let i = 0; i < misses.length; i += 500) {
      const chunk = misses.slice(i, i + 500);
      const provs = await rows<Record<string, unknown>>(
        this.core.db,
        sql`SELECT p.id, p.uuid, p.generation, p.parent_id, p.root_id, par.uuid AS parent_uuid, r.uuid AS root_uuid
            FROM plc_provider p LEFT JOIN plc_provider par ON par.id = p.parent_id LEFT JOIN plc_provider r ON r.id = p.root_id
            WHERE p.id IN (${sql.join(chunk)})`,
      );
      const inv = await rows<Record<string, unknown>>(
        this.core.db,
        sql`SELECT provider_id, rc_id, total, reserved, allocation_ratio, max_unit, used FROM plc_inventory WHERE provider_id IN (${sql.join(chunk)}) ORDER BY provider_id, rc_id`,
      );
      const tr = await rows<{ provider_id: number; name: string }>(
        this.core.db,
        sql`SELECT pt.provider_id, t.name FROM plc_provider_trait pt JOIN plc_trait t ON t.id = pt.trait_id WHERE pt.provider_id IN (${sql.join(chunk)}) ORDER BY t.name`,
      );
      const byId = new Map<number, Summary>();
      for (const p of provs) {
        const s: Summary = {
          version: versionOf({ id: 0, generation: p["generation"] as number, parent_id: p["parent_id"] as number | null, root_id: p["root_id"] as number })[1],
          uuid: p["uuid"] as string,
          parent: (p["parent_uuid"] as string | null) ?? null,
          root: (p["root_uuid"] as string | null) ?? (p["uuid"] as string),
          rootId: Number(p["root_id"]),
          parentId: p["parent_id"] === null ? null : Number(p["parent_id"]),
          resources: new Map(),
          traits: [],
        };
        byId.set(Number(p["id"]), s);
      }
      for (const x of inv) {
        const s = byId.get(Number(x["provider_id"]));
        if (!s) continue;
        const cap = Math.trunc((Number(x["total"]) - Number(x["reserved"])) * Number(x["allocation_ratio"]));
        s.resources.set(await this.core.rcName(Number(x["rc_id"])), [cap, Number(x["used"]), Number(x["max_unit"])]);
      }
      for (const t of tr) byId.get(Number(t.provider_id))?.traits.push(t.name);
      for (const [id, s] of byId) {
        // Cached under the generation read with the data: a later change moves the generation.
        this.cache.set(id, s);
        out.set(id, s);
      }
    }
    if (this.cache.size > 200_000) this.cache.clear();
    return out;
  }

  /** Every provider of these trees, summarised. */
  private async treeSummaries(rootIds: Set<number>): Promise<Map<number, Summary>> {
    const ids: Array<[number, string]> = [];
    const roots = [...rootIds];
    for (let i = 0; i < roots.length; i += 500) {
      const r = await rows<{ id: number; generation: number; parent_id: number | null; root_id: number }>(
        this.core.db,
        sql`SELECT id, generation, parent_id, root_id FROM plc_provider WHERE root_id IN (${sql.join(roots.slice(i, i + 500))})`,
      );
      for (const x of r) ids.push(versionOf(x));
    }
    return this.summaries(ids);
  }

  // ---- the general research

  /** `nestedOnly`: consider only trees of more than one provider (the rest is simple()'s). */
  private async general(q: CandidateQuery, traitIds: Map<string, number>, hasTrees: boolean, sharing: Set<number>, nestedOnly: boolean): Promise<CandidateResult> {
    const db = this.core.db;
    const empty: CandidateResult = { requests: [], summaries: new Map() };
    let anchorRoots: Set<number> | undefined;
    if (q.rootRequired.length || q.rootForbidden.length) {
      const c = this.traitConditions(q.rootRequired.map((t) => [t]), q.rootForbidden, traitIds);
      const r = await rows<{ id: number }>(db, sql`SELECT p.id FROM plc_provider p WHERE p.parent_id IS NULL AND ${sql.join(c, sql` AND `)}`);
      anchorRoots = new Set(r.map((x) => Number(x.id)));
      if (!anchorRoots.size) return empty;
    }
    const rootOf = new Map<number, number>();
    const byGroup = new Map<string, AReq[]>();
    const summaryNeeded = new Set<number>();
    for (const g of q.groups) {
      let treeRoot: number | undefined;
      if (g.inTree) {
        const t = await rows<{ root_id: number }>(db, sql`SELECT root_id FROM plc_provider WHERE uuid = ${g.inTree}`);
        if (!t[0]) return empty;
        treeRoot = Number(t[0].root_id);
      }
      // Providers with room for each class: (provider, root).
      const withRes = new Map<string, Map<number, number>>();
      for (const [rc, amount] of Object.entries(g.resources)) {
        const rcId = (await this.core.rcId(rc))!;
        let tree = treeRoot === undefined ? sql`` : sql`AND p.root_id = ${treeRoot}`;
        if (nestedOnly) tree = sql`${tree} AND p.root_id IN (SELECT t.root_id FROM plc_provider t WHERE t.parent_id IS NOT NULL)`;
        const r = await rows<{ id: number; root_id: number }>(
          db,
          sql`SELECT p.id, p.root_id FROM plc_inventory i JOIN plc_provider p ON p.id = i.provider_id WHERE i.rc_id = ${rcId} AND ${fits(amount)} ${tree}`,
        );
        if (!r.length) return empty;
        const m = new Map<number, number>();
        for (const x of r) {
          m.set(Number(x.id), Number(x.root_id));
          rootOf.set(Number(x.id), Number(x.root_id));
        }
        withRes.set(rc, m);
      }
      const inAggs = g.memberOf.length ? await this.idsMatching(sql`1=1`, this.providerConditions({ ...g, required: [], forbidden: [], forbiddenAggs: [] }, traitIds)) : undefined;
      if (inAggs && !inAggs.size) return empty;
      const badAggs = g.forbiddenAggs.length ? await this.idsMatching(sql`1=1`, [sql`EXISTS (SELECT 1 FROM plc_provider_aggregate pa JOIN plc_aggregate ag ON ag.id = pa.aggregate_id WHERE pa.provider_id = p.id AND ag.uuid IN (${sql.join(g.forbiddenAggs)}))`]) : new Set<number>();
      const areqs: AReq[] = [];
      const rcs = Object.keys(g.resources);
      if (g.useSameProvider || (!hasTrees && sharing.size === 0)) {
        // One provider satisfies the whole group.
        let cands: Set<number> | undefined;
        for (const rc of rcs) {
          const ids = new Set(withRes.get(rc)!.keys());
          cands = cands ? new Set([...cands].filter((x) => ids.has(x))) : ids;
        }
        if (!rcs.length) {
          // A resourceless group (1.36): every provider (of the tree) that passes the filters.
          const tree = treeRoot === undefined ? sql`1=1` : sql`p.root_id = ${treeRoot}`;
          const rr = await rows<{ id: number; root_id: number }>(db, sql`SELECT p.id, p.root_id FROM plc_provider p WHERE ${tree}`);
          cands = new Set(rr.map((x) => Number(x.id)));
          for (const x of rr) rootOf.set(Number(x.id), Number(x.root_id));
        }
        const traitOk = g.required.length || g.forbidden.length ? await this.idsMatching(sql`1=1`, this.traitConditions(g.required, g.forbidden, traitIds)) : undefined;
        for (const id of cands ?? []) {
          if (traitOk && !traitOk.has(id)) continue;
          if (inAggs && !inAggs.has(id)) continue;
          if (badAggs.has(id)) continue;
          const root = rootOf.get(id)!;
          // A resourceless group (1.36) maps to its provider without allocating from it.
          const res = rcs.length ? new Map([[id, new Map(Object.entries(g.resources))]]) : new Map<number, Map<string, number>>();
          const mk = (anchor: number): AReq => ({ anchor, sameProvider: g.useSameProvider, res, mappings: new Map([[g.suffix, new Set([id])]]) });
          if (!anchorRoots || anchorRoots.has(root)) areqs.push(mk(root));
          if (sharing.has(id)) {
            for (const anchor of await this.anchorsOf(id)) if (anchor !== root && (!anchorRoots || anchorRoots.has(anchor))) areqs.push(mk(anchor));
          }
          summaryNeeded.add(root);
        }
      } else {
        // Resources spread over one tree, plus sharing providers anchored to trees through aggregates.
        let cand: Map<number, Map<string, Array<number>>> | undefined; // anchor → rc → providers
        for (const rc of rcs) {
          const perAnchor = new Map<number, number[]>();
          const add = (rp: number, anchor: number): void => {
            if (anchorRoots && !anchorRoots.has(anchor)) return;
            if (inAggs && !inAggs.has(rp) && !inAggs.has(anchor)) return;
            if (badAggs.has(rp) || badAggs.has(anchor)) return;
            (perAnchor.get(anchor) ?? perAnchor.set(anchor, []).get(anchor)!).push(rp);
          };
          for (const [rp, root] of withRes.get(rc)!) add(rp, root);
          if (treeRoot === undefined) {
            for (const rp of withRes.get(rc)!.keys()) {
              if (!sharing.has(rp) || (inAggs && !inAggs.has(rp))) continue;
              for (const anchor of await this.anchorsOf(rp)) if (anchor !== withRes.get(rc)!.get(rp)) add(rp, anchor);
            }
          }
          if (!cand) {
            cand = new Map();
            for (const [a, list] of perAnchor) cand.set(a, new Map([[rc, list]]));
          } else {
            for (const a of [...cand.keys()]) {
              const l = perAnchor.get(a);
              if (!l) cand.delete(a);
              else cand.get(a)!.set(rc, l);
            }
          }
          if (!cand.size) return empty;
        }
        const provIds = new Set<number>();
        for (const m of cand!.values()) for (const l of m.values()) for (const p of l) provIds.add(p);
        const traitsOf = await this.traitsOf(provIds);
        for (const [anchor, m] of cand!) {
          summaryNeeded.add(anchor);
          const lists = rcs.map((rc) => m.get(rc)!);
          for (const combo of product(lists)) {
            // Traits: no provider may carry a forbidden one; together they carry every required one.
            const all = new Set<string>();
            let bad = false;
            for (const p of combo) {
              for (const t of traitsOf.get(p) ?? []) {
                if (g.forbidden.includes(t)) bad = true;
                all.add(t);
              }
            }
            if (bad || !g.required.every((any) => any.some((t) => all.has(t)))) continue;
            const res = new Map<number, Map<string, number>>();
            combo.forEach((p, i) => {
              const rc = rcs[i]!;
              (res.get(p) ?? res.set(p, new Map()).get(p)!).set(rc, g.resources[rc]!);
            });
            areqs.push({ anchor, sameProvider: false, res, mappings: new Map([[g.suffix, new Set(combo)]]) });
          }
        }
      }
      if (!areqs.length) return empty;
      byGroup.set(g.suffix, areqs);
    }

    // Summaries of every tree in play (needed for capacity re-checks and same_subtree).
    for (const list of byGroup.values()) for (const a of list) for (const p of a.res.keys()) summaryNeeded.add(rootOf.get(p) ?? p);
    const sums = await this.treeSummaries(summaryNeeded);

    // Merge the groups per anchor.
    const byAnchor = new Map<number, Map<string, AReq[]>>();
    for (const [suffix, list] of byGroup) {
      for (const a of list) {
        const m = byAnchor.get(a.anchor) ?? byAnchor.set(a.anchor, new Map()).get(a.anchor)!;
        (m.get(suffix) ?? m.set(suffix, []).get(suffix)!).push(a);
      }
    }
    const suffixes = [...byGroup.keys()];
    const granular = suffixes.filter((s) => s !== "").length;
    const seen = new Set<string>();
    const out: AReq[] = [];
    for (const [anchor, m] of byAnchor) {
      if (m.size !== suffixes.length) continue;
      for (const combo of product(suffixes.map((s) => m.get(s)!))) {
        if (q.groupPolicy === "isolate") {
          const used = new Set<number>();
          for (const a of combo) if (a.sameProvider) for (const p of [...a.mappings.values()][0]!) used.add(p);
          if (used.size !== granular) continue;
        }
        const merged: AReq = { anchor, sameProvider: false, res: new Map(), mappings: new Map() };
        for (const a of combo) {
          for (const [p, rcs] of a.res) {
            const t = merged.res.get(p) ?? merged.res.set(p, new Map()).get(p)!;
            for (const [rc, n] of rcs) t.set(rc, (t.get(rc) ?? 0) + n);
          }
          for (const [s, ps] of a.mappings) {
            const t = merged.mappings.get(s) ?? merged.mappings.set(s, new Set()).get(s)!;
            for (const p of ps) t.add(p);
          }
        }
        if (!this.sameSubtreeOk(q.sameSubtrees, merged, sums)) continue;
        if (this.exceeds(merged, sums)) continue;
        if (!q.nestedAware && hasTrees) {
          const roots = [...merged.res.keys()].map((p) => sums.get(p)?.rootId ?? p);
          if (new Set(roots).size !== roots.length) continue;
        }
        const k = canonical(merged);
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(merged);
        if (q.limit && out.length >= q.limit) break;
      }
      if (q.limit && out.length >= q.limit) break;
    }
    // Summaries: every provider of the trees the kept requests draw from.
    const roots = new Set<number>();
    for (const a of out) for (const p of a.res.keys()) roots.add(sums.get(p)?.rootId ?? p);
    const kept = new Map<number, Summary>();
    for (const [id, s] of sums) if (roots.has(s.rootId)) kept.set(id, s);
    if (!q.nestedAware && hasTrees) {
      const inReq = new Set<number>();
      for (const a of out) for (const p of a.res.keys()) inReq.add(p);
      for (const id of [...kept.keys()]) if (!inReq.has(id)) kept.delete(id);
    }
    return { requests: out, summaries: kept };
  }

  private sameSubtreeOk(subtrees: string[][], a: AReq, sums: Map<number, Summary>): boolean {
    for (const st of subtrees) {
      const ids = new Set<number>();
      for (const s of st) for (const p of a.mappings.get(s) ?? []) ids.add(p);
      if (ids.size <= 1) continue;
      const ancestors = (id: number): Set<number> => {
        const out = new Set<number>([id]);
        let cur = sums.get(id)?.parentId ?? null;
        while (cur !== null && !out.has(cur)) {
          out.add(cur);
          cur = sums.get(cur)?.parentId ?? null;
        }
        return out;
      };
      let common: Set<number> | undefined;
      for (const id of ids) {
        const an = ancestors(id);
        common = common ? new Set([...common].filter((x) => an.has(x))) : an;
      }
      if (![...(common ?? [])].some((x) => ids.has(x))) return false;
    }
    return true;
  }

  private exceeds(a: AReq, sums: Map<number, Summary>): boolean {
    for (const [p, rcs] of a.res) {
      const s = sums.get(p);
      for (const [rc, n] of rcs) {
        const r = s?.resources.get(rc);
        if (!r || r[1] + n > r[0] || n > r[2]) return true;
      }
    }
    return false;
  }

  private async idsMatching(base: ReturnType<typeof sql>, conds: ReturnType<typeof sql>[]): Promise<Set<number>> {
    const all = [base, ...conds];
    const r = await rows<{ id: number }>(this.core.db, sql`SELECT p.id FROM plc_provider p WHERE ${sql.join(all, sql` AND `)}`);
    return new Set(r.map((x) => Number(x.id)));
  }

  /** Roots of the trees that share an aggregate with this (sharing) provider, its own root included. */
  private async anchorsOf(rp: number): Promise<number[]> {
    const r = await rows<{ root_id: number }>(
      this.core.db,
      sql`SELECT DISTINCT o.root_id FROM plc_provider_aggregate s JOIN plc_provider_aggregate x ON x.aggregate_id = s.aggregate_id
          JOIN plc_provider o ON o.id = x.provider_id WHERE s.provider_id = ${rp}`,
    );
    return r.map((x) => Number(x.root_id));
  }

  private async traitsOf(ids: Set<number>): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    const list = [...ids];
    for (let i = 0; i < list.length; i += 500) {
      const r = await rows<{ provider_id: number; name: string }>(
        this.core.db,
        sql`SELECT pt.provider_id, t.name FROM plc_provider_trait pt JOIN plc_trait t ON t.id = pt.trait_id WHERE pt.provider_id IN (${sql.join(list.slice(i, i + 500))})`,
      );
      for (const x of r) (out.get(Number(x.provider_id)) ?? out.set(Number(x.provider_id), []).get(Number(x.provider_id))!).push(x.name);
    }
    return out;
  }
}

function versionOf(r: { id: number; generation: number; parent_id: number | null; root_id: number }): [number, string] {
  return [Number(r.id), `${Number(r.generation)}/${r.parent_id === null ? "" : Number(r.parent_id)}/${Number(r.root_id)}`];
}

function* product<T>(lists: T[][]): Generator<T[]> {
  if (!lists.length) {
    yield [];
    return;
  }
  const idx = lists.map(() => 0);
  if (lists.some((l) => !l.length)) return;
  for (;;) {
    yield idx.map((i, k) => lists[k]![i]!);
    let k = lists.length - 1;
    while (k >= 0) {
      idx[k]!++;
      if (idx[k]! < lists[k]!.length) break;
      idx[k] = 0;
      k--;
    }
    if (k < 0) return;
  }
}

function canonical(a: AReq): string {
  const parts: string[] = [];
  for (const p of [...a.res.keys()].sort((x, y) => x - y)) {
    const rcs = a.res.get(p)!;
    parts.push(`${p}:${[...rcs.keys()].sort().map((rc) => `${rc}=${rcs.get(rc)}`).join(",")}`);
  }
  const maps = [...a.mappings.keys()].sort().map((s) => `${s}>${[...a.mappings.get(s)!].sort((x, y) => x - y).join(",")}`);
  return `${parts.join(";")}|${maps.join(";")}`;
}

export type { Summary, AReq };
