import type { Route } from "../../../http/context.js";
import { badRequest, notFound } from "../errors.js";
import type { Placement } from "../index.js";
import { checkAccept, extractJson, json, noContent, requireJson, route, v, validateQuery, validates } from "./common.js";
import * as S from "./schemas.js";

/** /resource_classes and /traits: the vocabulary providers and requests use. */
export function catalogueRoutes(pl: Placement): Route[] {
  const m = pl.providers;
  const rcLinks = (name: string) => [{ rel: "self", href: `/placement/resource_classes/${name}` }];
  return [
    route({
      method: "GET", path: "/resource_classes", operation: "listResourceClasses", policy: "placement:resource_classes:list", minVersion: "1.2",
      handler: async (ctx) => {
        checkAccept(ctx);
        ctx.enforce("placement:resource_classes:list");
        const all = await m.resourceClasses();
        return json(ctx, { resource_classes: all.map((r) => ({ name: r.name, links: rcLinks(r.name) })) });
      },
    }),
    route({
      method: "POST", path: "/resource_classes", operation: "createResourceClass", policy: "placement:resource_classes:create", minVersion: "1.2",
      handler: async (ctx) => {
        ctx.enforce("placement:resource_classes:create");
        requireJson(ctx);
        const { name } = extractJson<{ name: string }>(ctx, S.RC_BODY);
        if (!(await m.createResourceClass(name))) throw new (await import("../errors.js")).PlacementError(409, `Conflicting resource class already exists: ${name}`);
        return { status: 201, headers: { location: `${ctx.serviceUrl}/resource_classes/${name}` } };
      },
    }),
    route({
      method: "GET", path: "/resource_classes/:name", operation: "showResourceClass", policy: "placement:resource_classes:show", minVersion: "1.2",
      handler: async (ctx) => {
        checkAccept(ctx);
        ctx.enforce("placement:resource_classes:show");
        const rc = await m.resourceClass(ctx.params["name"]!);
        return json(ctx, { name: rc.name, links: rcLinks(rc.name) }, 200, rc.updated_at);
      },
    }),
    route({
      method: "PUT", path: "/resource_classes/:name", operation: "updateResourceClass", policy: "placement:resource_classes:update", minVersion: "1.2",
      handler: async (ctx) => {
        ctx.enforce("placement:resource_classes:update");
        const name = ctx.params["name"]!;
        if (!v(ctx, "1.7")) {
          requireJson(ctx);
          const data = extractJson<{ name: string }>(ctx, S.RC_BODY);
          await m.renameResourceClass(name, data.name);
          return json(ctx, { name: data.name, links: rcLinks(data.name) });
        }
        if (!validates(S.RC_BODY, { name })) throw badRequest(`JSON does not validate: '${name}' does not match '^CUSTOM_[A-Z0-9_]+$'`);
        const created = await m.createResourceClass(name);
        return { status: created ? 201 : 204, headers: { location: `${ctx.serviceUrl}/resource_classes/${name}` } };
      },
    }),
    route({
      method: "DELETE", path: "/resource_classes/:name", operation: "deleteResourceClass", policy: "placement:resource_classes:delete", minVersion: "1.2",
      handler: async (ctx) => {
        ctx.enforce("placement:resource_classes:delete");
        await m.deleteResourceClass(ctx.params["name"]!);
        return noContent();
      },
    }),

    route({
      method: "GET", path: "/traits", operation: "listTraits", policy: "placement:traits:list", minVersion: "1.6",
      handler: async (ctx) => {
        checkAccept(ctx);
        ctx.enforce("placement:traits:list");
        const q = validateQuery(ctx, S.LIST_TRAITS);
        const f: { name_in?: string[]; prefix?: string; associated?: boolean } = {};
        if (q["name"] !== undefined) {
          const i = q["name"].indexOf(":");
          if (i < 0) throw badRequest(`Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "${q["name"]}"`);
          const op = q["name"].slice(0, i);
          const value = q["name"].slice(i + 1);
          if (op === "in") f.name_in = value.split(",");
          else if (op === "startswith") f.prefix = value;
        }
        if (q["associated"] !== undefined) {
          const a = q["associated"].toLowerCase();
          if (a !== "true" && a !== "false") throw badRequest('The query parameter "associated" only accepts "true" or "false"');
          f.associated = a === "true";
        }
        return json(ctx, { traits: await m.traits(f) });
      },
    }),
    route({
      method: "GET", path: "/traits/:name", operation: "showTrait", policy: "placement:traits:show", minVersion: "1.6",
      handler: async (ctx) => {
        ctx.enforce("placement:traits:show");
        const name = ctx.params["name"]!;
        const t = await m.trait(name);
        if (!t) throw notFound(`No such trait(s): ${name}.`);
        const h: Record<string, string> = v(ctx, "1.15") ? { "cache-control": "no-cache", "last-modified": new Date(t.created_at).toUTCString() } : {};
        return noContent(h);
      },
    }),
    route({
      method: "PUT", path: "/traits/:name", operation: "updateTrait", policy: "placement:traits:update", minVersion: "1.6",
      handler: async (ctx) => {
        ctx.enforce("placement:traits:update");
        const name = ctx.params["name"]!;
        if (!validates(S.CUSTOM_TRAIT, name)) {
          throw badRequest('The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix "CUSTOM_" and use following characters: "A"-"Z", "0"-"9" and "_"');
        }
        const created = await m.ensureTrait(name);
        const t = await m.trait(name);
        const h: Record<string, string> = { location: `${ctx.serviceUrl}/traits/${name}` };
        if (v(ctx, "1.15")) Object.assign(h, { "cache-control": "no-cache", "last-modified": new Date(t?.created_at ?? Date.now()).toUTCString() });
        return { status: created ? 201 : 204, headers: h };
      },
    }),
    route({
      method: "DELETE", path: "/traits/:name", operation: "deleteTrait", policy: "placement:traits:delete", minVersion: "1.6",
      handler: async (ctx) => {
        ctx.enforce("placement:traits:delete");
        await m.deleteTrait(ctx.params["name"]!);
        return noContent();
      },
    }),
  ];
}
