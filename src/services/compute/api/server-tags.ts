import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { ServerManager } from "../manager/servers.js";
import { getInstance } from "../store/servers.js";
import type { Instance } from "../store/servers.js";
import type { Compute } from "./deps.js";
import { invalidField, isObject, noAdditional, pyRepr } from "./fleet-validate.js";

const TAG = /^[^,/]*$/;

function tagError(tag: string): string | undefined {
  if (tag.length < 1) return `${pyRepr(tag)} is too short`;
  if (tag.length > 60) return `${pyRepr(tag)} is too long`;
  if (!TAG.test(tag)) return `${pyRepr(tag)} does not match '^[^,/]*$'`;
  return undefined;
}

/** server_tags.py (2.26): the policy target is the instance mapping's project, so another project's server is a 403. */
export function serverTagRoutes(c: Compute, mgr: ServerManager): Route[] {
  const load = async (ctx: RequestContext, rule: string): Promise<Instance> => {
    const id = ctx.params["server_id"]!;
    const inst = await getInstance(c.instances.db, id);
    if (!inst) throw new NotFound(`Instance ${id} could not be found.`);
    ctx.enforce(rule, { project_id: inst.project_id });
    return inst;
  };
  const route = (method: Route["method"], path: string, operation: string, rule: string, handler: Route["handler"]): Route => ({
    method,
    path: `/v2.1/servers/:server_id/tags${path}`,
    operation,
    policy: rule,
    minVersion: "2.26",
    handler,
  });
  return [
    route("GET", "", "listServerTags", "os_compute_api:os-server-tags:index", async (ctx) => {
      const inst = await load(ctx, "os_compute_api:os-server-tags:index");
      return { body: { tags: await mgr.tags(inst.uuid) } };
    }),
    route("PUT", "", "replaceServerTags", "os_compute_api:os-server-tags:update_all", async (ctx) => {
      const b = ctx.body;
      if (!isObject(b)) throw new BadRequest(`${pyRepr(b)} is not of type 'object'`);
      if (!("tags" in b)) throw new BadRequest("'tags' is a required property");
      noAdditional(b, ["tags"], undefined);
      const l = b["tags"];
      if (!Array.isArray(l)) throw invalidField("tags", l, `${pyRepr(l)} is not of type 'array'`);
      if (l.length > 50) throw invalidField("tags", l, `${pyRepr(l)} is too long`);
      for (const t of l) {
        if (typeof t !== "string") throw invalidField("tags", t, `${pyRepr(t)} is not of type 'string'`);
        const e = tagError(t);
        if (e) throw invalidField("tags", t, e);
      }
      const inst = await load(ctx, "os_compute_api:os-server-tags:update_all");
      mgr.checkTaggable(inst, "update tags");
      const tags = [...new Set(l as string[])];
      await mgr.setTags(inst.uuid, tags);
      return { body: { tags: await mgr.tags(inst.uuid) } };
    }),
    route("DELETE", "", "deleteServerTags", "os_compute_api:os-server-tags:delete_all", async (ctx) => {
      const inst = await load(ctx, "os_compute_api:os-server-tags:delete_all");
      mgr.checkTaggable(inst, "delete tags");
      await mgr.setTags(inst.uuid, []);
      return { status: 204 };
    }),
    route("GET", "/:tag", "checkServerTag", "os_compute_api:os-server-tags:show", async (ctx) => {
      const inst = await load(ctx, "os_compute_api:os-server-tags:show");
      const tag = ctx.params["tag"]!;
      if (!(await mgr.tags(inst.uuid)).includes(tag)) throw new NotFound(`Server ${inst.uuid} has no tag '${tag}'`);
      return { status: 204 };
    }),
    route("PUT", "/:tag", "addServerTag", "os_compute_api:os-server-tags:update", async (ctx) => {
      const inst = await load(ctx, "os_compute_api:os-server-tags:update");
      mgr.checkTaggable(inst, "update tag");
      const tag = ctx.params["tag"]!;
      const e = tagError(tag);
      if (e) throw new BadRequest(`Tag '${tag}' is invalid. It must be a non empty string without characters '/' and ','. Validation error message: ${e}`);
      const created = await mgr.addTag(inst.uuid, tag);
      if (!created) return { status: 204 };
      return { status: 201, headers: { location: `${ctx.serviceUrl}/v2.1/servers/${inst.uuid}/tags/${encodeURIComponent(tag)}` } };
    }),
    route("DELETE", "/:tag", "deleteServerTag", "os_compute_api:os-server-tags:delete", async (ctx) => {
      const inst = await load(ctx, "os_compute_api:os-server-tags:delete");
      mgr.checkTaggable(inst, "delete tag");
      const tag = ctx.params["tag"]!;
      if (!(await mgr.deleteTag(inst.uuid, tag))) throw new NotFound(`Instance ${inst.uuid} has no tag '${tag}'`);
      return { status: 204 };
    }),
  ];
}
