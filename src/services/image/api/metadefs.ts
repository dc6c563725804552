import { BadRequest, Forbidden, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Image } from "../index.js";
import type { Doc, MetadefManager, NamespaceContents, NamespaceRow } from "../manager/metadefs.js";
import { METADEF_SCHEMAS } from "../schemas/metadefs.js";
import { schemaError } from "../schemas/validate.js";
import { glanceCaller } from "./common.js";
import { jsonBody } from "./images.js";

const NS = "/v2/metadefs/namespaces";
const DISALLOWED = ["self", "schema", "created_at", "updated_at"];
const LIMIT_DEFAULT = 25;
const LIMIT_MAX = 1000;

function iso(s: string): string {
  return s.replace(/\.\d+Z$/, "Z");
}

function mdTarget(ns: NamespaceRow): Record<string, unknown> {
  return { project_id: ns.owner, visibility: ns.visibility, namespace: ns.namespace };
}

/** MetadefAPIPolicy._enforce: a refusal on a namespace the caller cannot get is a 404. */
function enforceMd(ctx: RequestContext, ns: NamespaceRow, rule: string): void {
  const t = mdTarget(ns);
  if (ctx.allowed(rule, t)) return;
  if (rule === "get_metadef_namespace" || !ctx.allowed("get_metadef_namespace", t)) throw new NotFound("The resource could not be found.");
  throw new Forbidden(`You are not authorized to complete ${rule} action.`);
}

function enforceNoTarget(ctx: RequestContext, rule: string): void {
  if (!ctx.allowed(rule, { project_id: ctx.caller.projectId })) throw new Forbidden(`You are not authorized to complete ${rule} action.`);
}

/** The deserializers' _check_allowed and schema validation. */
function validated(ctx: RequestContext, schema: string, opts: { requireName?: boolean } = {}): Doc {
  const body = jsonBody(ctx);
  if (typeof body === "object" && body !== null && !Array.isArray(body)) {
    for (const k of DISALLOWED) if (k in body) throw new Forbidden(`Attribute '${k}' is read-only.`);
  }
  let doc = METADEF_SCHEMAS[schema]!;
  if (opts.requireName === false) doc = { ...doc, required: (doc["required"] as string[]).filter((r) => r !== "name") };
  const reason = schemaError(doc, body);
  if (reason !== undefined) throw new BadRequest(`Provided object does not match schema '${String(doc["name"])}': ${reason}`);
  return body as Doc;
}

function namespaceView(ns: NamespaceRow, contents?: Partial<NamespaceContents>): Doc {
  const v: Doc = { namespace: ns.namespace };
  if (ns.display_name !== null) v["display_name"] = ns.display_name;
  if (ns.description !== null) v["description"] = ns.description;
  Object.assign(v, {
    visibility: ns.visibility,
    protected: ns.protected === 1,
    owner: ns.owner,
    created_at: iso(ns.created_at),
    updated_at: iso(ns.updated_at),
    schema: "/v2/schemas/metadefs/namespace",
    self: `${NS}/${ns.namespace}`,
  });
  if (contents?.resource_type_associations?.length) v["resource_type_associations"] = contents.resource_type_associations;
  if (contents?.properties && Object.keys(contents.properties).length) v["properties"] = contents.properties;
  if (contents?.objects?.length) v["objects"] = contents.objects;
  if (contents?.tags?.length) v["tags"] = contents.tags;
  return v;
}

function pairs(ctx: RequestContext): Array<[string, string]> {
  const i = ctx.url.indexOf("?");
  return i < 0 ? [] : [...new URLSearchParams(ctx.url.slice(i + 1)).entries()];
}

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return LIMIT_DEFAULT;
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw new BadRequest("limit param must be an integer");
  const n = Number(raw);
  if (n < 0) throw new BadRequest("limit param must be positive");
  return Math.min(LIMIT_MAX, n);
}

export function metadefRoutes(i: Image): Route[] {
  const m: MetadefManager = i.metadefs;
  /** Look a namespace up for a sub-resource and check `rule` on it. */
  const ns = async (ctx: RequestContext, rule: string): Promise<NamespaceRow> => {
    const row = await m.namespace(glanceCaller(ctx), ctx.params["namespace"]!);
    enforceMd(ctx, row, rule);
    return row;
  };
  const route = (method: Route["method"], path: string, operation: string, policy: string, handler: Route["handler"]): Route =>
    policy ? { method, path, operation, policy, handler } : { method, path, operation, handler };

  return [
    ...Object.keys(METADEF_SCHEMAS).map((name) =>
      route("GET", `/v2/schemas/metadefs/${name}`, "showMetadefSchema", "", async () => ({ body: METADEF_SCHEMAS[name] })),
    ),

    // ---------------------------------------------------------------- namespaces
    route("GET", NS, "listMetadefNamespaces", "get_metadef_namespaces", async (ctx) => {
      const q = pairs(ctx);
      const get = (k: string): string | undefined => q.filter(([n]) => n === k).map(([, v]) => v)[0];
      const sortDir = get("sort_dir") ?? "desc";
      if (sortDir !== "asc" && sortDir !== "desc") throw new BadRequest(`Invalid sort direction: ${sortDir}`);
      const visibility = get("visibility");
      if (visibility && visibility !== "public" && visibility !== "private") throw new BadRequest(`Invalid visibility value: ${visibility}`);
      const caller = glanceCaller(ctx);
      enforceNoTarget(ctx, "get_metadef_namespaces");
      enforceNoTarget(ctx, "list_metadef_resource_types");
      const rt = get("resource_types");
      const p: Parameters<MetadefManager["listNamespaces"]>[1] = { limit: limitOf(get("limit")), sortKey: get("sort_key") ?? "created_at", sortDir };
      const marker = get("marker");
      if (marker !== undefined) p.marker = marker;
      if (visibility) p.visibility = visibility;
      if (rt) p.resourceTypes = rt.split(",").map((s) => s.trim());
      const { namespaces, next } = await m.listNamespaces(caller, p);
      const shown = namespaces.filter((n) => ctx.allowed("get_metadef_namespace", mdTarget(n)));
      const assoc = await m.associationsOf(shown.map((n) => n.id));
      const rest = new URLSearchParams(q.filter(([k]) => k !== "marker")).toString();
      const body: Doc = {
        namespaces: shown.map((n) => namespaceView(n, { resource_type_associations: assoc.get(n.id) ?? [] })),
        first: rest ? `${NS}?${rest}` : NS,
        schema: "/v2/schemas/metadefs/namespaces",
      };
      if (next !== undefined) body["next"] = `${NS}?${new URLSearchParams([...q.filter(([k]) => k !== "marker"), ["marker", next]]).toString()}`;
      return { body };
    }),
    route("POST", NS, "createMetadefNamespace", "add_metadef_namespace", async (ctx) => {
      const b = validated(ctx, "namespace");
      enforceNoTarget(ctx, "add_metadef_namespace");
      const assoc = (b["resource_type_associations"] as Doc[] | undefined) ?? [];
      const objects = (b["objects"] as Doc[] | undefined) ?? [];
      const properties = (b["properties"] as Record<string, Doc> | undefined) ?? {};
      const tags = (b["tags"] as Doc[] | undefined) ?? [];
      if (assoc.length) enforceNoTarget(ctx, "add_metadef_resource_type_association");
      if (objects.length) enforceNoTarget(ctx, "add_metadef_object");
      if (Object.keys(properties).length) enforceNoTarget(ctx, "add_metadef_property");
      if (tags.length) enforceNoTarget(ctx, "add_metadef_tag");
      const row = await m.createNamespace(glanceCaller(ctx), b as unknown as Parameters<MetadefManager["createNamespace"]>[1], { resource_type_associations: assoc, properties, objectsIn: objects, tags });
      const contents = await m.contents(row);
      return { status: 201, body: namespaceView(row, contents), headers: { location: `${ctx.baseUrl}${NS}/${row.namespace}` } };
    }),
    route("GET", `${NS}/:namespace`, "showMetadefNamespace", "get_metadef_namespace", async (ctx) => {
      const name = ctx.params["namespace"]!;
      const row = await m.namespace(glanceCaller(ctx), name, `Metadata definition namespace=${name} was not found.`);
      enforceMd(ctx, row, "get_metadef_namespace");
      for (const r of ["list_metadef_resource_types", "get_metadef_objects", "get_metadef_properties", "get_metadef_tags"]) enforceMd(ctx, row, r);
      const contents = await m.contents(row);
      const rt = ctx.q("resource_type");
      const prefix = rt ? (contents.resource_type_associations.find((a) => a["name"] === rt)?.["prefix"] as string | undefined) : undefined;
      if (prefix) {
        contents.properties = Object.fromEntries(Object.entries(contents.properties).map(([k, v]) => [prefix + k, v]));
        for (const o of contents.objects) {
          const props = (o["properties"] ?? {}) as Record<string, unknown>;
          o["properties"] = Object.fromEntries(Object.entries(props).map(([k, v]) => [prefix + k, v]));
          if (Array.isArray(o["required"])) o["required"] = (o["required"] as string[]).map((r) => prefix + r);
        }
      }
      return { body: namespaceView(row, contents) };
    }),
    route("PUT", `${NS}/:namespace`, "updateMetadefNamespace", "modify_metadef_namespace", async (ctx) => {
      const b = validated(ctx, "namespace");
      const row = await ns(ctx, "modify_metadef_namespace");
      const next = await m.updateNamespace(glanceCaller(ctx), row, b as unknown as Parameters<MetadefManager["updateNamespace"]>[2]);
      return { body: namespaceView(next) };
    }),
    route("DELETE", `${NS}/:namespace`, "deleteMetadefNamespace", "delete_metadef_namespace", async (ctx) => {
      await m.deleteNamespace(await ns(ctx, "delete_metadef_namespace"));
      return { status: 204 };
    }),

    // ---------------------------------------------------------------- resource types
    route("GET", "/v2/metadefs/resource_types", "listMetadefResourceTypes", "list_metadef_resource_types", async (ctx) => {
      enforceNoTarget(ctx, "list_metadef_resource_types");
      return { body: { resource_types: await m.resourceTypes() } };
    }),
    route("GET", `${NS}/:namespace/resource_types`, "listMetadefResourceTypeAssociations", "get_metadef_resource_type", async (ctx) => {
      const row = await ns(ctx, "get_metadef_resource_type");
      return { body: { resource_type_associations: (await m.associationsOf([row.id])).get(row.id) ?? [] } };
    }),
    route("POST", `${NS}/:namespace/resource_types`, "createMetadefResourceTypeAssociation", "add_metadef_resource_type_association", async (ctx) => {
      const b = validated(ctx, "resource_type");
      const row = await ns(ctx, "add_metadef_resource_type_association");
      return { status: 201, body: await m.addAssociation(row, b) };
    }),
    route("DELETE", `${NS}/:namespace/resource_types/:name`, "deleteMetadefResourceTypeAssociation", "remove_metadef_resource_type_association", async (ctx) => {
      const row = await ns(ctx, "remove_metadef_resource_type_association");
      await m.deleteAssociation(row, ctx.params["name"]!);
      return { status: 204 };
    }),

    // ---------------------------------------------------------------- objects
    route("GET", `${NS}/:namespace/objects`, "listMetadefObjects", "get_metadef_objects", async (ctx) => {
      const row = await ns(ctx, "get_metadef_objects");
      return { body: { objects: await m.objects(row), schema: "v2/schemas/metadefs/objects" } };
    }),
    route("POST", `${NS}/:namespace/objects`, "createMetadefObject", "add_metadef_object", async (ctx) => {
      const b = validated(ctx, "object");
      const row = await ns(ctx, "add_metadef_object");
      return { status: 201, body: await m.addObject(row, b) };
    }),
    route("DELETE", `${NS}/:namespace/objects`, "deleteMetadefObjects", "delete_metadef_namespace", async (ctx) => {
      await m.deleteContents(await ns(ctx, "delete_metadef_namespace"), "img_md_object");
      return { status: 204 };
    }),
    route("GET", `${NS}/:namespace/objects/:name`, "showMetadefObject", "get_metadef_object", async (ctx) => {
      const row = await ns(ctx, "get_metadef_object");
      return { body: await m.object(row, ctx.params["name"]!) };
    }),
    route("PUT", `${NS}/:namespace/objects/:name`, "updateMetadefObject", "modify_metadef_object", async (ctx) => {
      const b = validated(ctx, "object");
      const row = await ns(ctx, "modify_metadef_object");
      return { body: await m.updateObject(row, ctx.params["name"]!, b) };
    }),
    route("DELETE", `${NS}/:namespace/objects/:name`, "deleteMetadefObject", "delete_metadef_object", async (ctx) => {
      const row = await ns(ctx, "delete_metadef_object");
      await m.deleteObject(row, ctx.params["name"]!);
      return { status: 204 };
    }),

    // ---------------------------------------------------------------- properties
    route("GET", `${NS}/:namespace/properties`, "listMetadefProperties", "get_metadef_properties", async (ctx) => {
      const row = await ns(ctx, "get_metadef_properties");
      return { body: { properties: await m.properties(row) } };
    }),
    route("POST", `${NS}/:namespace/properties`, "createMetadefProperty", "add_metadef_property", async (ctx) => {
      const b = validated(ctx, "property");
      const row = await ns(ctx, "add_metadef_property");
      return { status: 201, body: await m.addProperty(row, b) };
    }),
    route("DELETE", `${NS}/:namespace/properties`, "deleteMetadefProperties", "delete_metadef_namespace", async (ctx) => {
      await m.deleteContents(await ns(ctx, "delete_metadef_namespace"), "img_md_property");
      return { status: 204 };
    }),
    route("GET", `${NS}/:namespace/properties/:name`, "showMetadefProperty", "get_metadef_property", async (ctx) => {
      const row = await ns(ctx, "get_metadef_property");
      return { body: await m.property(row, ctx.params["name"]!) };
    }),
    route("PUT", `${NS}/:namespace/properties/:name`, "updateMetadefProperty", "modify_metadef_property", async (ctx) => {
      const b = validated(ctx, "property");
      const row = await ns(ctx, "modify_metadef_property");
      return { body: await m.updateProperty(row, ctx.params["name"]!, b) };
    }),
    route("DELETE", `${NS}/:namespace/properties/:name`, "deleteMetadefProperty", "remove_metadef_property", async (ctx) => {
      const row = await ns(ctx, "remove_metadef_property");
      await m.deleteProperty(row, ctx.params["name"]!);
      return { status: 204 };
    }),

    // ---------------------------------------------------------------- tags
    route("GET", `${NS}/:namespace/tags`, "listMetadefTags", "get_metadef_tags", async (ctx) => {
      const row = await ns(ctx, "get_metadef_tags");
      return { body: { tags: await m.tags(row) } };
    }),
    route("POST", `${NS}/:namespace/tags`, "createMetadefTags", "add_metadef_tags", async (ctx) => {
      const b = validated(ctx, "tags");
      const row = await ns(ctx, "add_metadef_tags");
      const append = (ctx.header("x-openstack-append") ?? "").toLowerCase() === "true";
      const tags = await m.addTags(row, ((b["tags"] as Doc[] | undefined) ?? []).map((t) => String(t["name"])), append);
      return { status: 201, body: { tags } };
    }),
    route("DELETE", `${NS}/:namespace/tags`, "deleteMetadefTags", "delete_metadef_tags", async (ctx) => {
      const row = await ns(ctx, "delete_metadef_namespace");
      enforceMd(ctx, row, "delete_metadef_tags");
      await m.deleteContents(row, "img_md_tag");
      return { status: 204 };
    }),
    route("GET", `${NS}/:namespace/tags/:name`, "showMetadefTag", "get_metadef_tag", async (ctx) => {
      const row = await ns(ctx, "get_metadef_tag");
      return { body: await m.tag(row, ctx.params["name"]!) };
    }),
    route("POST", `${NS}/:namespace/tags/:name`, "createMetadefTag", "add_metadef_tag", async (ctx) => {
      const row = await ns(ctx, "add_metadef_tag");
      return { status: 201, body: await m.addTag(row, ctx.params["name"]!) };
    }),
    route("PUT", `${NS}/:namespace/tags/:name`, "updateMetadefTag", "modify_metadef_tag", async (ctx) => {
      const b = validated(ctx, "tag");
      const row = await ns(ctx, "modify_metadef_tag");
      return { body: await m.updateTag(row, ctx.params["name"]!, String(b["name"])) };
    }),
    route("DELETE", `${NS}/:namespace/tags/:name`, "deleteMetadefTag", "delete_metadef_tag", async (ctx) => {
      const row = await ns(ctx, "delete_metadef_tag");
      await m.deleteTag(row, ctx.params["name"]!);
      return { status: 204 };
    }),
  ];
}
