import type { Reply, RequestContext, Route } from "../../../http/context.js";
import { NeutronError, badRequest, notFound } from "../errors.js";
import type { Doc } from "../store/docs.js";

/**
 * Neutron's API layer (neutron/api/v2/base.py) is one controller driven by each resource's
 * attribute map; this file is that controller. A resource declares its attributes (what
 * POST/PUT accept, defaults, converters/validators, visibility, filter and sort keys, which
 * ones have attribute-level policies) and supplies the operations; the controller does the
 * rest the way Neutron does: body parsing and validation, project_id/tenant_id, policy on
 * the resource and on each attribute, per-item visibility (404, never 403, for what the
 * caller may not see), `fields=`, filters, sorting, pagination with links, bulk create and
 * `If-Match: revision_number=N`.
 */

/** Converts a raw value or throws a reason string, as Neutron's convert_to functions do. */
export type Converter = (v: unknown) => unknown;
/** Returns the reason a value is invalid (Neutron's validator wording), or undefined. */
export type Validator = (v: unknown) => string | undefined;

export interface Attr {
  /** allow_post */
  post?: boolean;
  /** allow_put */
  put?: boolean;
  /** Value filled in on POST when not given; without one (and post: true) the attribute is required. */
  default?: unknown;
  convert?: Converter;
  validate?: Validator;
  /** is_visible (default true). */
  visible?: boolean;
  /** is_filter: may be used as a list filter (Neutron refuses others with 400). */
  filter?: boolean;
  /** is_sort_key */
  sort?: boolean;
  /** enforce_policy: `<action>_<resource>:<attr>` rules apply to this attribute. */
  policy?: boolean;
  /** Converts a query-string filter value to the stored type (booleans, integers). */
  filterConvert?: (v: string) => unknown;
}

export interface ResourceDef {
  singular: string;
  /**
   * The resource name in policy rules when it is not the singular: sub-resources take their
   * parent's prefix (`get_floatingip_port_forwarding` for a `port_forwarding`).
   */
  policyName?: string;
  plural: string;
  /** Collection path under the service prefix, e.g. /v2.0/networks */
  path: string;
  attrs: Record<string, Attr>;
  /** Bulk create (`{"networks": [...]}`); Neutron allows it for most resources. */
  bulk?: boolean;
  /**
   * Filters that are not equality on a stored attribute (ports' fixed_ips, tags): they
   * decide per document. Names here are valid filters even when not attributes.
   */
  filters?: Record<string, (doc: Doc, values: string[]) => boolean>;
  /** Standard attributes (timestamps, revision, tags, description) apply (default true). */
  standard?: boolean;
  /** false: Neutron builds the collection with allow_pagination off (limit/marker ignored, no links). */
  pagination?: false;
  /** false: allow_sorting off (sort_key/sort_dir ignored). */
  sorting?: false;
}

export interface ListQuery {
  /** Filters by attribute name, values as given (converted where the attribute says). */
  filters: Record<string, string[]>;
}

export interface ResourceOps {
  /** Candidate documents (the controller filters by policy and by every filter again). */
  list(ctx: RequestContext, q: ListQuery): Promise<Doc[]>;
  get(ctx: RequestContext, id: string): Promise<Doc | undefined>;
  /** Extra policy-target entries (`network:tenant_id`, `ext_parent:tenant_id`) for a document or a body. */
  target?(ctx: RequestContext, doc: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Create all items in one transaction (bulk is all or nothing). */
  create?(ctx: RequestContext, items: Array<Record<string, unknown>>): Promise<Doc[]>;
  update?(ctx: RequestContext, id: string, changes: Record<string, unknown>, ifRevision: number | undefined): Promise<Doc>;
  delete?(ctx: RequestContext, id: string, ifRevision: number | undefined): Promise<void>;
}

const PAGINATION = new Set(["fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse"]);
const TAG_FILTERS = new Set(["tags", "tags-any", "not-tags", "not-tags-any"]);

/** Attributes every standard-attribute resource has (neutron/db/standard_attr.py + extensions). */
export const STANDARD_ATTRS: Record<string, Attr> = {
  description: { post: true, put: true, default: "", validate: stringMax(255), filter: true, sort: true },
  created_at: { filter: true, sort: true },
  updated_at: { filter: true, sort: true },
  revision_number: { filter: true, sort: true, filterConvert: (v) => Number(v) },
  tags: {},
};

/** project_id and tenant_id, as every project-owned resource has them. */
export const OWNER_ATTRS: Record<string, Attr> = {
  project_id: { post: true, validate: stringMax(255), filter: true, sort: true },
  tenant_id: { post: true, validate: stringMax(255), filter: true, sort: true },
};

export function stringMax(max: number): Validator {
  return (v) => {
    if (typeof v !== "string") return `'${pyRepr(v)}' is not a valid string`;
    if (v.length > max) return `'${v}' exceeds maximum length of ${max}`;
    return undefined;
  };
}

/** neutron_lib convert_to_boolean: booleans, 0/1 and their string forms. */
export function toBoolean(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === "string") {
    const s = v.toLowerCase();
    if (s === "true" || s === "1") return true;
    if (s === "false" || s === "0") return false;
  }
  throw `'${pyRepr(v)}' cannot be converted to boolean`;
}

/** neutron_lib convert_to_int. */
export function toInt(v: unknown): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^[-+]?\d+$/.test(v.trim())) return Number(v);
  throw `'${pyRepr(v)}' is not an integer`;
}

/** Python's repr of a JSON value, as Neutron's messages quote it. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

const mergedAttrs = new WeakMap<ResourceDef, Record<string, Attr>>();

/** The resource's attributes with the standard ones (computed once per definition). */
export function allAttrs(def: ResourceDef): Record<string, Attr> {
  let attrs = mergedAttrs.get(def);
  if (!attrs) {
    attrs = def.standard === false ? def.attrs : { ...STANDARD_ATTRS, ...def.attrs };
    mergedAttrs.set(def, attrs);
  }
  return attrs;
}

/** The policy target of a document: the document, owner aliases and parent entries. */
async function targetOf(ctx: RequestContext, ops: ResourceOps, doc: Record<string, unknown>): Promise<Record<string, unknown>> {
  const extra = ops.target ? await ops.target(ctx, doc) : {};
  return { ...doc, ...extra };
}

/** Apply the resource's rule and drop attributes whose `get_x:attr` rule fails. */
/** Per request and resource: the attributes to hide (invisible) and those behind a get rule. */
const hiddenCache = new WeakMap<RequestContext, Map<ResourceDef, { hidden: string[]; guarded: Array<[string, string]> }>>();
function hiddenAttrs(ctx: RequestContext, def: ResourceDef, attrs: Record<string, Attr>): { hidden: string[]; guarded: Array<[string, string]> } {
  let perCtx = hiddenCache.get(ctx);
  if (!perCtx) hiddenCache.set(ctx, (perCtx = new Map()));
  let h = perCtx.get(def);
  if (!h) {
    h = { hidden: [], guarded: [] };
    for (const [k, a] of Object.entries(attrs)) {
      if (a.visible === false) h.hidden.push(k);
      // Neutron checks get_x:attr with might_not_exist: an attribute without a rule stays visible.
      else if (a.policy && ctx.hasRule(`get_${ruleName(def)}:${k}`)) h.guarded.push([k, `get_${ruleName(def)}:${k}`]);
    }
    perCtx.set(def, h);
  }
  return h;
}

function visibleDoc(ctx: RequestContext, def: ResourceDef, attrs: Record<string, Attr>, target: Record<string, unknown>, doc: Doc): Doc {
  const { hidden, guarded } = hiddenAttrs(ctx, def, attrs);
  if (hidden.length === 0 && guarded.length === 0) return doc;
  const out: Doc = { ...doc };
  for (const k of hidden) delete out[k];
  for (const [k, rule] of guarded) if (k in out && !ctx.allowed(rule, target)) delete out[k];
  return out;
}

function selectFields(doc: Doc, fields: string[] | undefined): Record<string, unknown> {
  if (!fields || fields.length === 0) return doc;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (f in doc) out[f] = doc[f];
  return out;
}

function listParam(ctx: RequestContext, name: string): string[] {
  const v = ctx.query[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x) => x !== "");
}

/** Equality filter as Neutron applies it: any of the values, compared in the attribute's type. */
function matches(doc: Doc, attr: Attr | undefined, key: string, values: string[]): boolean {
  const v = doc[key];
  if (typeof v === "boolean") {
    return values.some((x) => {
      try {
        return toBoolean(x) === v;
      } catch {
        return false;
      }
    });
  }
  if (typeof v === "number") return values.some((x) => Number(attr?.filterConvert ? attr.filterConvert(x) : x) === v);
  if (Array.isArray(v)) return values.some((x) => v.map(String).includes(x));
  if (v === null || v === undefined) return values.some((x) => x === "" || x === "None");
  return values.includes(String(v));
}

function tagFilter(doc: Doc, kind: string, raw: string[]): boolean {
  const want = raw.flatMap((r) => r.split(",")).filter((t) => t !== "");
  const tags = Array.isArray(doc["tags"]) ? (doc["tags"] as string[]) : [];
  switch (kind) {
    case "tags":
      return want.every((t) => tags.includes(t));
    case "tags-any":
      return want.some((t) => tags.includes(t));
    case "not-tags":
      return !want.every((t) => tags.includes(t));
    default:
      return !want.some((t) => tags.includes(t));
  }
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  const sa = typeof a === "string" ? a : JSON.stringify(a);
  const sb = typeof b === "string" ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Parse `If-Match: revision_number=N` (the revision-if-match extension). */
function ifRevision(ctx: RequestContext): number | undefined {
  const h = ctx.header("if-match");
  if (h === undefined) return undefined;
  const m = /^\s*revision_number=(\d+)\s*$/.exec(h);
  if (!m) throw badRequest(`Unrecognized If-Match header value: ${h}`);
  return Number(m[1]);
}

/** Fail with 412 when a precondition names another revision than the stored one. */
export function assertRevision(doc: Doc, expected: number | undefined): void {
  if (expected === undefined) return;
  const current = Number(doc["revision_number"] ?? 0);
  if (current !== expected) {
    throw new NeutronError(412, "RevisionNumberConstraintFailed", `Constrained to ${expected}, but current revision is ${current}`);
  }
}

export interface Prepared {
  /** Validated, converted request attributes with defaults filled (POST). */
  item: Record<string, unknown>;
  /** The attributes the client set itself. */
  given: Set<string>;
}

/** Validate one create item as Neutron's prepare_request_body does. */
export function prepareCreate(ctx: RequestContext, def: ResourceDef, raw: unknown): Prepared {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw badRequest(`Invalid input for operation: Unable to find '${def.singular}' in request body.`);
  }
  const attrs = allAttrs(def);
  const body = { ...(raw as Record<string, unknown>) };
  const unknown = Object.keys(body).filter((k) => !(k in attrs));
  if (unknown.length) throw badRequest(`Unrecognized attribute(s) '${unknown.join(", ")}'`);
  if ("tenant_id" in attrs) {
    if ("tenant_id" in body && !("project_id" in body)) body["project_id"] = body["tenant_id"];
    else if ("project_id" in body && !("tenant_id" in body)) body["tenant_id"] = body["project_id"];
    if (body["project_id"] !== body["tenant_id"]) throw badRequest("'project_id' and 'tenant_id' do not match");
    const caller = ctx.caller;
    if ("project_id" in body && body["project_id"] !== caller.projectId && !isAdmin(ctx)) {
      throw badRequest(
        "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin or advsvc privileges",
      );
    }
  }
  const given = new Set(Object.keys(body));
  const item: Record<string, unknown> = {};
  for (const [name, a] of Object.entries(attrs)) {
    if (name === "project_id" || name === "tenant_id") continue;
    if (!a.post) {
      if (name in body) throw badRequest(`Attribute '${name}' not allowed in POST`);
      continue;
    }
    if (!(name in body)) {
      if (!("default" in a)) throw badRequest(`Failed to parse request. Required attribute '${name}' not specified`);
      item[name] = typeof a.default === "function" ? (a.default as () => unknown)() : structuredClone(a.default);
      continue;
    }
    item[name] = convertValue(name, a, body[name]);
  }
  if ("tenant_id" in attrs) {
    const owner = (body["project_id"] as string | undefined) ?? ctx.caller.projectId;
    if (owner === undefined) throw badRequest("Running without keystone AuthN requires that tenant_id is specified");
    const o = convertValue("project_id", attrs["project_id"] ?? {}, owner) as string;
    item["project_id"] = o;
    item["tenant_id"] = o;
  }
  return { item, given };
}

/** Validate an update body (allow_put attributes only). */
export function prepareUpdate(def: ResourceDef, raw: unknown): Record<string, unknown> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw badRequest(`Invalid input for operation: Unable to find '${def.singular}' in request body.`);
  }
  const attrs = allAttrs(def);
  const body = raw as Record<string, unknown>;
  const unknown = Object.keys(body).filter((k) => !(k in attrs));
  if (unknown.length) throw badRequest(`Unrecognized attribute(s) '${unknown.join(", ")}'`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    const a = attrs[k] ?? {};
    if (!a.put) throw badRequest(`Cannot update read-only attribute ${k}`);
    out[k] = convertValue(k, a, v);
  }
  return out;
}

function convertValue(name: string, a: Attr, v: unknown): unknown {
  let value = v;
  try {
    if (a.convert) value = a.convert(value);
  } catch (reason) {
    if (reason instanceof NeutronError) throw reason;
    throw badRequest(`Invalid input for ${name}. Reason: ${String(reason)}.`);
  }
  const reason = a.validate?.(value);
  if (reason !== undefined) throw badRequest(`Invalid input for ${name}. Reason: ${reason}.`);
  return value;
}

/** Whether the caller passes context_is_admin (Neutron's context.is_admin). */
export function isAdmin(ctx: RequestContext): boolean {
  return ctx.allowed("context_is_admin", {});
}

/** Unwrap `{"network": {...}}` (or `{"networks": [...]}` when bulk is allowed) into items. */
function bodyItems(ctx: RequestContext, def: ResourceDef): { items: unknown[]; bulk: boolean } {
  const body = ctx.body;
  if (body === undefined || body === null) throw badRequest("Resource body required");
  if (typeof body !== "object" || Array.isArray(body)) throw badRequest("Body contains invalid data");
  const b = body as Record<string, unknown>;
  if (def.bulk !== false && Array.isArray(b[def.plural])) {
    const list = b[def.plural] as unknown[];
    if (list.length === 0) throw badRequest("Resources required");
    return { items: list.map((x) => (x && typeof x === "object" && def.singular in (x as object) ? (x as Record<string, unknown>)[def.singular] : x)), bulk: true };
  }
  if (!(def.singular in b)) throw badRequest(`Unable to find '${def.singular}' in request body`);
  return { items: [b[def.singular]], bulk: false };
}

/** Attribute-level policies for the attributes a request sets (Neutron's _is_attribute_explicitly_set). */
function enforceAttrs(
  ctx: RequestContext,
  action: string,
  def: ResourceDef,
  attrs: Record<string, Attr>,
  target: Record<string, unknown>,
  set: Iterable<string>,
): void {
  for (const name of set) {
    const a = attrs[name];
    if (!a?.policy) continue;
    if (action === "create" && "default" in a && JSON.stringify(target[name]) === JSON.stringify(a.default)) continue;
    ctx.enforce(`${action}_${ruleName(def)}:${name}`, target);
  }
}

export function cap(s: string): string {
  return s
    .split("_")
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join("");
}

/**
 * Every resource definition served, by collection name: generated tests (bad input,
 * personas) and the coverage table walk it, so new resources are covered without edits.
 */
export const RESOURCES = new Map<string, ResourceDef>();

/** The five routes of a Neutron resource (those the ops implement). */
export function resourceRoutes(def: ResourceDef, ops: ResourceOps): Route[] {
  RESOURCES.set(def.path, def);
  const attrs = allAttrs(def);
  const S = cap(def.singular);
  const P = cap(def.plural);
  const routes: Route[] = [];

  const show = async (ctx: RequestContext, id: string): Promise<{ doc: Doc; target: Record<string, unknown> }> => {
    const doc = await ops.get(ctx, id);
    if (!doc) throw notFoundFor(def, id);
    const target = await targetOf(ctx, ops, doc);
    if (!ctx.allowed(`get_${ruleName(def)}`, target)) throw notFoundFor(def, id);
    return { doc, target };
  };
  const present = (ctx: RequestContext, doc: Doc, target: Record<string, unknown>): Record<string, unknown> =>
    selectFields(visibleDoc(ctx, def, attrs, target, doc), listParam(ctx, "fields"));

  routes.push({
    method: "GET",
    path: def.path,
    operation: `list${P}`,
    policy: `get_${ruleName(def)}`,
    handler: async (ctx) => listHandler(ctx, def, attrs, ops),
  });
  routes.push({
    method: "GET",
    path: `${def.path}/:id`,
    operation: `show${S}`,
    policy: `get_${ruleName(def)}`,
    handler: async (ctx) => {
      const { doc, target } = await show(ctx, ctx.params["id"] ?? "");
      return { body: { [def.singular]: present(ctx, doc, target) } };
    },
  });
  const create = ops.create;
  if (create) {
    routes.push({
      method: "POST",
      path: def.path,
      operation: `create${S}`,
      policy: `create_${ruleName(def)}`,
      handler: async (ctx): Promise<Reply> => {
        const { items, bulk } = bodyItems(ctx, def);
        const prepared: Array<Record<string, unknown>> = [];
        for (const raw of items) {
          const { item, given } = prepareCreate(ctx, def, raw);
          const target = await targetOf(ctx, ops, item);
          ctx.enforce(`create_${ruleName(def)}`, target);
          enforceAttrs(ctx, "create", def, attrs, target, given);
          prepared.push(item);
        }
        const docs = await create(ctx, prepared);
        const shown: Array<Record<string, unknown>> = [];
        for (const d of docs) shown.push(present(ctx, d, await targetOf(ctx, ops, d)));
        return { status: 201, body: bulk ? { [def.plural]: shown } : { [def.singular]: shown[0] } };
      },
    });
  }
  const update = ops.update;
  if (update) {
    routes.push({
      method: "PUT",
      path: `${def.path}/:id`,
      operation: `update${S}`,
      policy: `update_${ruleName(def)}`,
      handler: async (ctx) => {
        const id = ctx.params["id"] ?? "";
        const b = ctx.body;
        if (b === undefined || b === null) throw badRequest("Resource body required");
        if (typeof b !== "object" || Array.isArray(b) || !(def.singular in b)) {
          throw badRequest(`Unable to find '${def.singular}' in request body`);
        }
        const changes = prepareUpdate(def, (b as Record<string, unknown>)[def.singular]);
        const precondition = ifRevision(ctx);
        const doc = await ops.get(ctx, id);
        if (!doc) throw notFoundFor(def, id);
        const target = await targetOf(ctx, ops, { ...doc, ...changes });
        guard(ctx, def, id, `update_${ruleName(def)}`, target, () => enforceAttrs(ctx, "update", def, attrs, target, Object.keys(changes)));
        const out = await update(ctx, id, changes, precondition);
        return { body: { [def.singular]: present(ctx, out, await targetOf(ctx, ops, out)) } };
      },
    });
  }
  const del = ops.delete;
  if (del) {
    routes.push({
      method: "DELETE",
      path: `${def.path}/:id`,
      operation: `delete${S}`,
      policy: `delete_${ruleName(def)}`,
      handler: async (ctx) => {
        const id = ctx.params["id"] ?? "";
        const precondition = ifRevision(ctx);
        const doc = await ops.get(ctx, id);
        if (!doc) throw notFoundFor(def, id);
        const target = await targetOf(ctx, ops, doc);
        guard(ctx, def, id, `delete_${ruleName(def)}`, target);
        await del(ctx, id, precondition);
        return { status: 204 };
      },
    });
  }
  return routes;
}

/**
 * Enforce an action on an existing resource: a caller who may not even see it gets 404
 * (Neutron never confirms that another project's resource exists), otherwise 403.
 */
export function guard(
  ctx: RequestContext,
  def: { singular: string; policyName?: string },
  id: string,
  rule: string,
  target: Record<string, unknown>,
  more?: () => void,
): void {
  try {
    ctx.enforce(rule, target);
    more?.();
  } catch (e) {
    if (!ctx.allowed(`get_${ruleName(def)}`, target)) throw notFoundFor(def, id);
    throw e;
  }
}

/** The resource name policy rules use. */
export function ruleName(def: { singular: string; policyName?: string }): string {
  return def.policyName ?? def.singular;
}

export function notFoundFor(def: { singular: string }, id: string): NeutronError {
  return notFound(def.singular, id);
}

async function listHandler(ctx: RequestContext, def: ResourceDef, attrs: Record<string, Attr>, ops: ResourceOps): Promise<Reply> {
  // Filters: every query parameter that is not pagination; unknown names are refused as
  // Neutron does with filter_validation on.
  const filters: Record<string, string[]> = {};
  const invalid: string[] = [];
  for (const key of Object.keys(ctx.query)) {
    if (PAGINATION.has(key)) continue;
    const values = (() => {
      const v = ctx.query[key];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    })();
    const a = attrs[key];
    const ok = TAG_FILTERS.has(key) || def.filters?.[key] !== undefined || (a !== undefined && a.filter === true);
    if (!ok) {
      invalid.push(key);
      continue;
    }
    filters[key] = values;
  }
  if (invalid.length) throw badRequest(`[${invalid.map((k) => `'${k}'`).join(", ")}] is invalid attribute for filtering`);

  const sortKeys = def.sorting === false ? [] : listParam(ctx, "sort_key");
  const sortDirs = def.sorting === false ? [] : listParam(ctx, "sort_dir");
  if (sortKeys.length !== sortDirs.length) throw badRequest("The number of sort_keys and sort_dirs must be same");
  const badKeys = sortKeys.filter((k) => !attrs[k]?.sort);
  if (badKeys.length) throw badRequest(`[${badKeys.map((k) => `'${k}'`).join(", ")}] is invalid attribute for sort_keys`);
  const badDirs = sortDirs.filter((d) => d !== "asc" && d !== "desc");
  if (badDirs.length) {
    throw badRequest(`[${badDirs.map((k) => `'${k}'`).join(", ")}] is invalid value for sort_dirs, valid value is 'asc' and 'desc'`);
  }
  const limitRaw = def.pagination === false ? undefined : ctx.q("limit");
  let limit = 0;
  if (limitRaw !== undefined) {
    if (!/^\d+$/.test(limitRaw)) throw badRequest(`Limit must be an integer 0 or greater and not '${limitRaw}'`);
    limit = Number(limitRaw);
  }
  const marker = limit ? ctx.q("marker") : undefined;
  const reverse = (ctx.q("page_reverse") ?? "False").toLowerCase() === "true";

  const candidates = await ops.list(ctx, { filters });
  const visible: Array<{ doc: Doc; target: Record<string, unknown> }> = [];
  for (const doc of candidates) {
    let keep = true;
    for (const [key, values] of Object.entries(filters)) {
      if (TAG_FILTERS.has(key)) keep = tagFilter(doc, key, values);
      else if (def.filters?.[key]) keep = def.filters[key](doc, values);
      else keep = values.length === 0 || matches(doc, attrs[key], key, values);
      if (!keep) break;
    }
    if (!keep) continue;
    const target = await targetOf(ctx, ops, doc);
    if (!ctx.allowed(`get_${ruleName(def)}`, target)) continue;
    visible.push({ doc, target });
  }

  // Sorting: the requested keys, then id, so pages are stable (Neutron appends the primary key).
  const keys = sortKeys.map((k, i) => ({ k, asc: sortDirs[i] === "asc" }));
  if (!keys.some((k) => k.k === "id")) keys.push({ k: "id", asc: keys[0]?.asc ?? true });
  const order = (a: Doc, b: Doc): number => {
    for (const { k, asc } of keys) {
      const c = compare(a[k], b[k]);
      if (c !== 0) return asc ? c : -c;
    }
    return 0;
  };
  visible.sort((a, b) => order(a.doc, b.doc));

  let page = visible;
  if (limit) {
    let start = 0;
    let end = visible.length;
    if (marker) {
      const at = visible.findIndex((v) => v.doc.id === marker);
      // Neutron's paginate_query works from the marker row's values even if it is filtered out.
      if (at >= 0) {
        if (reverse) end = at;
        else start = at + 1;
      } else {
        // Neutron reads the marker row with the caller's context (_get_marker_obj): one the
        // caller may not see is not found, or its existence and its place in the sort order
        // (a probe of another project's values) would show through the page.
        const m = await ops.get(ctx, marker);
        if (!m || !ctx.allowed(`get_${ruleName(def)}`, await targetOf(ctx, ops, m))) throw notFoundFor(def, marker);
        if (reverse) end = visible.findIndex((v) => order(v.doc, m) >= 0);
        else start = visible.findIndex((v) => order(v.doc, m) > 0);
        if (end < 0) end = visible.length;
        if (start < 0) start = visible.length;
      }
    }
    page = reverse ? visible.slice(Math.max(start, end - limit), end) : visible.slice(start, start + limit);
  }

  const fields = listParam(ctx, "fields");
  const items = page.map(({ doc, target }) => selectFields(visibleDoc(ctx, def, attrs, target, doc), fields));
  const body: Record<string, unknown> = { [def.plural]: items };
  if (limit) body[`${def.plural}_links`] = pageLinks(ctx, def, page.map((p) => p.doc), limit, reverse);
  return { body };
}

/** neutron/api/api_common.py get_pagination_links. */
function pageLinks(ctx: RequestContext, def: ResourceDef, items: Doc[], limit: number, reverse: boolean): Array<{ rel: string; href: string }> {
  const links: Array<{ rel: string; href: string }> = [];
  const base = `${ctx.serviceUrl}${def.path}`;
  const params = (): URLSearchParams => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(ctx.query)) {
      if (k === "marker" || k === "page_reverse" || v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
    }
    return p;
  };
  if (!(items.length < limit && !reverse)) {
    const p = params();
    const last = items[items.length - 1];
    if (last) p.set("marker", last.id);
    links.push({ rel: "next", href: `${base}?${p.toString()}` });
  }
  if (!(items.length < limit && reverse)) {
    const p = params();
    const first = items[0];
    if (first) p.set("marker", first.id);
    p.set("page_reverse", "True");
    links.push({ rel: "previous", href: `${base}?${p.toString()}` });
  }
  return links;
}
