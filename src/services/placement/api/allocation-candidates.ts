import type { RequestContext, Route } from "../../../http/context.js";
import { Codes, badRequest } from "../errors.js";
import type { Placement } from "../index.js";
import type { AReq, CandidateQuery, RequestGroup, Summary } from "../manager/candidates.js";
import { cacheHeaders, checkAccept, route, v, validateQuery } from "./common.js";
import { legacyTraits, normalizeInTree, normalizeMemberOf, normalizeResources, normalizeTraits } from "./params.js";
import * as S from "./schemas.js";

function schemaFor(ctx: RequestContext): object {
  if (v(ctx, "1.36")) return S.CANDIDATES_1_36;
  if (v(ctx, "1.35")) return S.CANDIDATES_1_35;
  if (v(ctx, "1.33")) return S.CANDIDATES_1_33;
  if (v(ctx, "1.31")) return S.CANDIDATES_1_31;
  if (v(ctx, "1.25")) return S.CANDIDATES_1_25;
  if (v(ctx, "1.21")) return S.CANDIDATES_1_21;
  if (v(ctx, "1.17")) return S.CANDIDATES_1_17;
  if (v(ctx, "1.16")) return S.CANDIDATES_1_16;
  return S.CANDIDATES_1_10;
}

/** lib.RequestGroup.dict_from_request + RequestWideParams.from_request. */
function parse(ctx: RequestContext, q: Record<string, string>): CandidateQuery {
  const pattern = v(ctx, "1.33") ? /^(resources|required|member_of|in_tree)([a-zA-Z0-9_-]{1,64})?$/ : /^(resources|required|member_of|in_tree)([1-9][0-9]*)?$/;
  const groups = new Map<string, RequestGroup>();
  for (const key of Object.keys(ctx.query)) {
    const m = pattern.exec(key);
    if (!m) continue;
    const prefix = m[1]!;
    const suffix = m[2] ?? "";
    let g = groups.get(suffix);
    if (!g) {
      g = { suffix, useSameProvider: suffix !== "", resources: {}, required: [], forbidden: [], memberOf: [], forbiddenAggs: [] };
      groups.set(suffix, g);
    }
    const val = q[key]!;
    if (prefix === "resources") g.resources = normalizeResources(val);
    else if (prefix === "required") [g.required, g.forbidden] = normalizeTraits(ctx, suffix);
    else if (prefix === "member_of") [g.memberOf, g.forbiddenAggs] = normalizeMemberOf(ctx, suffix);
    else g.inTree = normalizeInTree(val);
  }
  const limitRaw = q["limit"];
  const cq: CandidateQuery = { groups: [...groups.values()], rootRequired: [], rootForbidden: [], sameSubtrees: [], nestedAware: v(ctx, "1.29") };
  if (limitRaw !== undefined) cq.limit = Number.parseInt(limitRaw, 10);
  if (q["group_policy"] !== undefined) cq.groupPolicy = q["group_policy"];
  const rr = Array.isArray(ctx.query["root_required"]) ? ctx.query["root_required"] : ctx.query["root_required"] === undefined ? [] : [ctx.query["root_required"]];
  if (rr.length > 1) throw badRequest("Query parameter 'root_required' may be specified only once.", Codes.ILLEGAL_DUPLICATE_QUERYPARAM);
  if (rr.length === 1) {
    const legacy = legacyTraits(rr[0]!);
    const forb = new Set(legacy.filter((t) => t.startsWith("!")).map((t) => t.replace(/^!+/, "")));
    const req = new Set(legacy.filter((t) => !t.startsWith("!")));
    const conflicts = [...forb].filter((t) => req.has(t));
    if (conflicts.length) throw badRequest(`Conflicting required and forbidden traits found in root_required: ${conflicts.join(", ")}`, Codes.QUERYPARAM_BAD_VALUE);
    cq.rootRequired = [...req];
    cq.rootForbidden = [...forb];
  }
  const st = ctx.query["same_subtree"];
  for (const val of st === undefined ? [] : Array.isArray(st) ? st : [st]) {
    const suffixes = [...new Set(val.split(",").map((s) => s.trim()))];
    if (suffixes.includes("")) throw badRequest("Empty string (unsuffixed group) can not be specified in `same_subtree` ", Codes.QUERYPARAM_BAD_VALUE);
    cq.sameSubtrees.push(suffixes);
  }
  const list = cq.groups;
  if (v(ctx, "1.36")) {
    const resourceless = list.filter((g) => !Object.keys(g.resources).length).map((g) => g.suffix);
    if (resourceless.length === list.length) throw badRequest("There must be at least one resources or resources[$S] parameter.", Codes.QUERYPARAM_MISSING_VALUE);
    const inSubtree = new Set(cq.sameSubtrees.flat());
    const bad = resourceless.filter((s) => !inSubtree.has(s));
    if (bad.length) throw badRequest(`Resourceless suffixed group request should be specified in \`same_subtree\` query param: bad group(s) - [${bad.map((b) => `'${b}'`).join(", ")}].`, Codes.QUERYPARAM_BAD_VALUE);
    const unknown = [...inSubtree].filter((s) => !groups.has(s));
    if (unknown.length) {
      throw badRequest(`Real suffixes should be specified in \`same_subtree\`: [${unknown.map((b) => `'${b}'`).join(", ")}] not found in [${[...groups.keys()].map((b) => `'${b}'`).join(", ")}].`, Codes.QUERYPARAM_BAD_VALUE);
    }
  } else {
    const orphanReq = list.filter((g) => g.required.length && !Object.keys(g.resources).length).map((g) => `required${g.suffix}`);
    if (orphanReq.length) throw badRequest(`All traits parameters must be associated with resources.  Found the following orphaned traits keys: ${orphanReq.join(", ")}`);
    const orphanMem = list.filter((g) => (g.memberOf.length || g.forbiddenAggs.length) && !Object.keys(g.resources).length).map((g) => `member_of${g.suffix}`);
    if (orphanMem.length) throw badRequest(`All member_of parameters must be associated with resources. Found the following orphaned member_of keys: ${orphanMem.join(", ")}`);
    if (!list.every((g) => Object.keys(g.resources).length)) throw badRequest("All request groups must specify resources.");
    if (!list.length) throw badRequest("At least one request group (`resources` or `resources{$S}`) is required.");
  }
  if (v(ctx, "1.22")) {
    const conflicting: string[] = [];
    for (const g of list) for (const any of g.required) if (any.every((t) => g.forbidden.includes(t))) conflicting.push(`required${g.suffix}: (${[...any].sort().join(", ")})`);
    if (conflicting.length) throw badRequest(`Conflicting required and forbidden traits found in the following traits keys: ${conflicting.sort().join(", ")}`);
  }
  if (!cq.groupPolicy && list.filter((g) => g.useSameProvider).length > 1) {
    throw badRequest('The "group_policy" parameter is required when specifying more than one "resources{N}" parameter.');
  }
  return cq;
}

const q = JSON.stringify;

/**
 * Cached fragments are built by concatenation (V8 rope strings); reading one as a number makes
 * V8 flatten it in place once, instead of walking the rope on every response that joins it.
 */
function flatten(s: string): string {
  void Number(s);
  return s;
}

/** The response, serialised by hand: at limit=1000 it is hundreds of KB and this is the hot path. */
function render(ctx: RequestContext, cq: CandidateQuery, reqs: AReq[], sums: Map<number, Summary>): string {
  const quoted = (id: number): string => {
    const s = sums.get(id);
    return s ? (s.quoted ??= q(s.uuid)) : '""';
  };
  const resJson = new Map<Map<string, number>, string>();
  const amounts = (rcs: Map<string, number>): string => {
    let j = resJson.get(rcs);
    if (j === undefined) resJson.set(rcs, (j = q(Object.fromEntries(rcs))));
    return j;
  };
  const dict = v(ctx, "1.12");
  const mappings = v(ctx, "1.34");
  const ar: string[] = [];
  const shape = `${dict ? 1 : 0}${mappings ? 1 : 0}`;
  for (const a of reqs) {
    const parts: string[] = [];
    // The hot case (one provider, unnumbered group): rendered once per provider and amounts.
    const only = a.res.size === 1 && a.mappings.size === 1 ? [...a.res][0]! : undefined;
    const sum = only ? sums.get(only[0]) : undefined;
    if (only && sum && a.mappings.get("")?.has(only[0])) {
      const key = `${shape}${amounts(only[1])}`;
      if (sum.arKey !== key) {
        const qu = quoted(only[0]);
        sum.arJson = dict
          ? `{"allocations":{${qu}:{"resources":${amounts(only[1])}}}${mappings ? `,"mappings":{"":[${qu}]}` : ""}}`
          : `{"allocations":[{"resource_provider":{"uuid":${qu}},"resources":${amounts(only[1])}}]}`;
        sum.arKey = key;
        flatten(sum.arJson);
      }
      ar.push(sum.arJson!);
      continue;
    }
    if (dict) {
      for (const [p, rcs] of a.res) parts.push(`${quoted(p)}:{"resources":${amounts(rcs)}}`);
      let s = `{"allocations":{${parts.join(",")}}`;
      if (mappings) {
        const mp: string[] = [];
        for (const [suffix, ps] of a.mappings) mp.push(`${q(suffix)}:[${[...ps].map(quoted).join(",")}]`);
        s += `,"mappings":{${mp.join(",")}}`;
      }
      ar.push(`${s}}`);
    } else {
      for (const [p, rcs] of a.res) parts.push(`{"resource_provider":{"uuid":${quoted(p)}},"resources":${amounts(rcs)}}`);
      ar.push(`{"allocations":[${parts.join(",")}]}`);
    }
  }
  const requested = new Set<string>();
  for (const g of cq.groups) for (const rc of Object.keys(g.resources)) requested.add(rc);
  const full = v(ctx, "1.29");
  const ps: string[] = [];
  for (const s of sums.values()) {
    if (full) {
      s.json ??= flatten(`${(s.quoted ??= q(s.uuid))}:${summaryJson(s, true, true, true, requested)}`);
      ps.push(s.json);
    } else {
      ps.push(`${q(s.uuid)}:${summaryJson(s, v(ctx, "1.17"), v(ctx, "1.27"), false, requested)}`);
    }
  }
  return `{"allocation_requests":[${ar.join(",")}],"provider_summaries":{${ps.join(",")}}}`;
}

function summaryJson(s: Summary, traits: boolean, allResources: boolean, tree: boolean, requested: Set<string>): string {
  const res: string[] = [];
  for (const [rc, [cap, used]] of s.resources) if (allResources || requested.has(rc)) res.push(`${q(rc)}:{"capacity":${cap},"used":${used}}`);
  let out = `{"resources":{${res.join(",")}}`;
  if (traits) out += `,"traits":${q(s.traits)}`;
  if (tree) out += `,"parent_provider_uuid":${q(s.parent)},"root_provider_uuid":${q(s.root)}`;
  return `${out}}`;
}

export function allocationCandidateRoutes(pl: Placement): Route[] {
  return [
    route({
      method: "GET", path: "/allocation_candidates", operation: "listAllocationCandidates", policy: "placement:allocation_candidates:list", minVersion: "1.10",
      handler: async (ctx) => {
        checkAccept(ctx);
        ctx.enforce("placement:allocation_candidates:list");
        const qv = validateQuery(ctx, schemaFor(ctx));
        const cq = parse(ctx, qv);
        const limitCap = pl.config.placement.maxAllocationCandidates;
        if (limitCap > 0 && (!cq.limit || cq.limit > limitCap)) cq.limit = limitCap;
        const { requests, summaries } = await pl.candidates.find(cq);
        return { status: 200, text: render(ctx, cq, requests, summaries), headers: { "content-type": "application/json", ...cacheHeaders(ctx) } };
      },
    }),
  ];
}
