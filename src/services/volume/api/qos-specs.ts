import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { QosManager, QosSpecs } from "../manager/qos.js";
import { envelope, extraSpecsField, invalidField, isObject, noAdditional, pyRepr, strictBool } from "./catalog-validate.js";
import { collectionLinks, parsePaging, resourceLinks } from "./common.js";
import { own } from "./types.js";

function qosView(q: QosSpecs): Record<string, unknown> {
  return { id: q.id, name: q.name, consumer: q.consumer, specs: q.specs };
}

const SORT_KEYS = ["created_at", "id", "name", "consumer"];

/** utils.check_string_length as validate_dictionary_string_length words it. */
function checkSpecs(specs: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(specs)) {
    if (k.length < 1 || k.length > 255) throw new BadRequest(`Invalid input received: Key "${k}" has a length outside 1-255.`);
    if (typeof x !== "string") throw new BadRequest(`Invalid input received: Value for key "${k}" is not a string or unicode`);
    if (x.length > 255) throw new BadRequest(`Invalid input received: Value for key "${k}" has more than 255 characters.`);
    out[k] = x;
  }
  return out;
}

function volTypeId(ctx: RequestContext): string {
  const t = ctx.q("vol_type_id");
  if (!t) throw new BadRequest("Volume Type id must not be None.");
  return t;
}

/** cinder/api/contrib/qos_specs_manage.py: /qos-specs and its member actions (GET associate & co.). */
export function qosSpecsRoutes(qos: QosManager): Route[] {
  return [
    {
      method: "GET",
      path: "/qos-specs",
      operation: "listQosSpecs",
      policy: "volume_extension:qos_specs_manage:get_all",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:qos_specs_manage:get_all", own(ctx));
        const paging = parsePaging(ctx, SORT_KEYS);
        const filters: { id?: string; name?: string; consumer?: string } = {};
        for (const k of ["id", "name", "consumer"] as const) {
          const x = ctx.q(k);
          if (x !== undefined) filters[k] = x;
        }
        let list = await qos.list(filters);
        const key = paging.sortKeys[0] ?? "created_at";
        const dir = paging.sortDirs[0] === "asc" ? 1 : -1;
        list = list.sort((a, b) => {
          const x = String(a[key as keyof QosSpecs] ?? "");
          const y = String(b[key as keyof QosSpecs] ?? "");
          return x === y ? (a.id < b.id ? 1 : -1) : (x < y ? -1 : 1) * dir;
        });
        let start = 0;
        if (paging.marker !== undefined) {
          const i = list.findIndex((q) => q.id === paging.marker);
          if (i < 0) throw new BadRequest(`Marker ${paging.marker} could not be found.`);
          start = i + 1;
        }
        const page = list.slice(start + paging.offset, start + paging.offset + paging.limit);
        const body: Record<string, unknown> = { qos_specs: page.map(qosView) };
        const links = collectionLinks(ctx, "qos-specs", page, paging);
        if (links.length) body["qos_specs_links"] = links;
        return { body };
      },
    },
    {
      method: "POST",
      path: "/qos-specs",
      operation: "createQosSpecs",
      policy: "volume_extension:qos_specs_manage:create",
      handler: async (ctx) => {
        const b = envelope(ctx.body, "qos_specs");
        if (!("name" in b)) throw invalidField("qos_specs", b, "'name' is a required property");
        const name = b["name"];
        if (typeof name !== "string") throw invalidField("name", name, `${pyRepr(name)} is not of type 'string'`);
        if (!name) throw new BadRequest("An invalid 'name' value was provided. The 'name' can not be None.");
        const trimmed = name.trim();
        if (!trimmed) throw new BadRequest("An invalid 'name' value was provided. The 'name' can not be empty.");
        if (trimmed.length > 255) throw new BadRequest("An invalid 'name' value was provided. The 'name' can not be greater than 255 characters.");
        ctx.enforce("volume_extension:qos_specs_manage:create", own(ctx));
        const rest = { ...b };
        delete rest["name"];
        const q = await qos.create(trimmed, checkSpecs(rest));
        return { body: { qos_specs: qosView(q), links: resourceLinks(ctx, "qos-specs", q.id) } };
      },
    },
    {
      method: "GET",
      path: "/qos-specs/:qos_id",
      operation: "showQosSpecs",
      policy: "volume_extension:qos_specs_manage:get",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:qos_specs_manage:get", own(ctx));
        const q = await qos.get(ctx.params["qos_id"]!);
        return { body: { qos_specs: qosView(q), links: resourceLinks(ctx, "qos-specs", q.id) } };
      },
    },
    {
      method: "PUT",
      path: "/qos-specs/:qos_id",
      operation: "setQosSpecsKeys",
      policy: "volume_extension:qos_specs_manage:update",
      handler: async (ctx) => {
        envelope(ctx.body, "qos_specs");
        const specs = extraSpecsField("qos_specs", (ctx.body as Record<string, unknown>)["qos_specs"], true);
        ctx.enforce("volume_extension:qos_specs_manage:update", own(ctx));
        await qos.update(ctx.params["qos_id"]!, specs);
        return { body: ctx.body };
      },
    },
    {
      method: "DELETE",
      path: "/qos-specs/:qos_id",
      operation: "deleteQosSpecs",
      policy: "volume_extension:qos_specs_manage:delete",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:qos_specs_manage:delete", own(ctx));
        const f = ctx.q("force");
        const force = f === undefined ? false : strictBool("force", f);
        await qos.delete(ctx.params["qos_id"]!, force);
        return { status: 202 };
      },
    },
    {
      method: "PUT",
      path: "/qos-specs/:qos_id/delete_keys",
      operation: "unsetQosSpecsKeys",
      policy: "volume_extension:qos_specs_manage:delete",
      handler: async (ctx) => {
        const b = ctx.body;
        if (!isObject(b)) throw new BadRequest(`${pyRepr(b ?? null)} is not of type 'object'`);
        if (!("keys" in b)) throw new BadRequest("'keys' is a required property");
        noAdditional(b, ["keys"], undefined);
        const keys = b["keys"];
        if (!Array.isArray(keys)) throw invalidField("keys", keys, `${pyRepr(keys)} is not of type 'array'`);
        for (const k of keys) {
          if (typeof k !== "string") throw invalidField("keys", k, `${pyRepr(k)} is not of type 'string'`);
          if (k.length < 1) throw invalidField("keys", k, `${pyRepr(k)} is too short`);
          if (k.length > 255) throw invalidField("keys", k, `${pyRepr(k)} is too long`);
        }
        if (new Set(keys).size !== keys.length) throw invalidField("keys", keys, `${pyRepr(keys)} has non-unique elements`);
        ctx.enforce("volume_extension:qos_specs_manage:delete", own(ctx));
        await qos.deleteKeys(ctx.params["qos_id"]!, keys as string[]);
        return { status: 202 };
      },
    },
    {
      method: "GET",
      path: "/qos-specs/:qos_id/associations",
      operation: "listQosAssociations",
      policy: "volume_extension:qos_specs_manage:get_all",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:qos_specs_manage:get_all", own(ctx));
        return { body: { qos_associations: await qos.associations(ctx.params["qos_id"]!) } };
      },
    },
    {
      method: "GET",
      path: "/qos-specs/:qos_id/associate",
      operation: "associateQosSpecs",
      policy: "volume_extension:qos_specs_manage:update",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:qos_specs_manage:update", own(ctx));
        await qos.associate(ctx.params["qos_id"]!, volTypeId(ctx));
        return { status: 202 };
      },
    },
    {
      method: "GET",
      path: "/qos-specs/:qos_id/disassociate",
      operation: "disassociateQosSpecs",
      policy: "volume_extension:qos_specs_manage:update",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:qos_specs_manage:update", own(ctx));
        await qos.disassociate(ctx.params["qos_id"]!, volTypeId(ctx));
        return { status: 202 };
      },
    },
    {
      method: "GET",
      path: "/qos-specs/:qos_id/disassociate_all",
      operation: "disassociateAllQosSpecs",
      policy: "volume_extension:qos_specs_manage:update",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:qos_specs_manage:update", own(ctx));
        await qos.disassociateAll(ctx.params["qos_id"]!);
        return { status: 202 };
      },
    },
  ];
}
