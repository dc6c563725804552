import type { RequestContext, Route } from "../../../http/context.js";
import { invalidInput } from "../errors.js";
import type { TaggedCollection } from "../manager/tags.js";
import { TAGGED } from "../manager/tags.js";
import { callerOf } from "./caller.js";
import type { Network } from "./deps.js";
import { pyRepr } from "./resource.js";

/** tagging.MAX_TAG_LEN */
const MAX_TAG_LEN = 255;

/** validate_tag: a string of at most 255 characters (InvalidInput). */
function validateTag(tag: string): void {
  if (tag.length > MAX_TAG_LEN) throw invalidInput(`'${tag}' exceeds maximum length of ${MAX_TAG_LEN}`);
}

/** validate_tags: {"tags": [unique strings]} (validate_list_of_unique_strings). */
function validateTags(body: unknown): string[] {
  if (body === null || typeof body !== "object" || Array.isArray(body) || !("tags" in body)) throw invalidInput("Invalid tags body");
  const tags = (body as Record<string, unknown>)["tags"];
  if (!Array.isArray(tags)) throw invalidInput(`'${pyRepr(tags)}' is not a list`);
  const seen: unknown[] = [];
  const dups: unknown[] = [];
  for (const t of tags) {
    if (seen.some((s) => JSON.stringify(s) === JSON.stringify(t))) {
      if (!dups.some((d) => JSON.stringify(d) === JSON.stringify(t))) dups.push(t);
    } else seen.push(t);
  }
  if (dups.length) throw invalidInput(`Duplicate items in the list: '${dups.map(pyRepr).join(", ")}'`);
  for (const t of tags) {
    if (typeof t !== "string") throw invalidInput(`'${pyRepr(t)}' is not a valid string`);
    validateTag(t);
  }
  return tags as string[];
}

/**
 * Tags on every resource with standard attributes (the tagging extension,
 * neutron/extensions/tagging.py): GET/PUT/DELETE on /{resource}/{id}/tags and
 * /{resource}/{id}/tags/{tag}, and POST /{resource}/{id}/tags (tag-creation). The resource is
 * looked up without visibility rules, then `<action>_<member>:tags` is enforced on it — so,
 * as in Neutron, another project's resource answers 403, not 404.
 */
export function tagRoutes(n: Network): Route[] {
  const routes: Route[] = [];
  for (const c of TAGGED) {
    const base = `/v2.0/${c.path}/:id/tags`;
    const id = (ctx: RequestContext): string => ctx.params["id"] ?? "";
    const tag = (ctx: RequestContext): string => ctx.params["tag"] ?? "";
    const authorize = async (ctx: RequestContext, action: string, col: TaggedCollection): Promise<void> => {
      const target = await n.tags.target(callerOf(ctx), col, id(ctx));
      ctx.enforce(`${action}_${col.member}:tags`, target);
    };
    routes.push(
      {
        method: "GET",
        path: base,
        operation: "listTags",
        policy: `get_${c.member}:tags`,
        handler: async (ctx) => {
          await authorize(ctx, "get", c);
          return { body: { tags: await n.tags.get(c, id(ctx)) } };
        },
      },
      {
        method: "GET",
        path: `${base}/:tag`,
        operation: "confirmTag",
        policy: `get_${c.member}:tags`,
        handler: async (ctx) => {
          validateTag(tag(ctx));
          await authorize(ctx, "get", c);
          await n.tags.check(c, id(ctx), tag(ctx));
          return { status: 204 };
        },
      },
      {
        method: "PUT",
        path: base,
        operation: "replaceTags",
        policy: `update_${c.member}:tags`,
        handler: async (ctx) => {
          const tags = validateTags(ctx.body);
          await authorize(ctx, "update", c);
          await n.tags.replace(c, id(ctx), tags);
          // The plugin answers with the request body itself.
          return { body: ctx.body };
        },
      },
      {
        method: "POST",
        path: base,
        operation: "createTags",
        policy: `create_${c.member}:tags`,
        handler: async (ctx) => {
          const tags = validateTags(ctx.body);
          await authorize(ctx, "create", c);
          await n.tags.add(c, id(ctx), tags);
          return { status: 201, body: ctx.body };
        },
      },
      {
        method: "PUT",
        path: `${base}/:tag`,
        operation: "addTag",
        policy: `update_${c.member}:tags`,
        handler: async (ctx) => {
          validateTag(tag(ctx));
          await authorize(ctx, "update", c);
          await n.tags.addOne(c, id(ctx), tag(ctx));
          return { status: 201 };
        },
      },
      {
        method: "DELETE",
        path: base,
        operation: "deleteAllTags",
        policy: `delete_${c.member}:tags`,
        handler: async (ctx) => {
          await authorize(ctx, "delete", c);
          await n.tags.clear(c, id(ctx));
          return { status: 204 };
        },
      },
      {
        method: "DELETE",
        path: `${base}/:tag`,
        operation: "removeTag",
        policy: `delete_${c.member}:tags`,
        handler: async (ctx) => {
          validateTag(tag(ctx));
          await authorize(ctx, "delete", c);
          await n.tags.removeOne(c, id(ctx), tag(ctx));
          return { status: 204 };
        },
      },
    );
  }
  return routes;
}
