import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { AggregateManager } from "../manager/aggregates.js";
import type { AggregateInfo } from "../manager/hosts.js";
import { envelope, invalidField, isObject, nameField, noAdditional, pyRepr, required } from "./fleet-validate.js";

const META_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;

function validateId(id: string): number {
  // utils.validate_integer(id, 'id')
  if (!/^\s*-?\d+\s*$/.test(id)) throw new BadRequest(`id must be an integer`);
  const n = Number(id);
  if (n < 0 && false) throw new BadRequest("id must be >= 0");
  return n;
}

/** az_name: like a name but without ':' (a zone name may not carry the host separator). */
function zoneField(v: unknown): string | null {
  if (v === null) return null;
  return nameField("availability_zone", v, { noColon: true });
}

function hostField(action: string, body: Record<string, unknown>): string {
  noAdditional(body, [action], undefined);
  const inner = body[action];
  if (!isObject(inner)) throw invalidField(action, inner, `${pyRepr(inner)} is not of type 'object'`);
  required(inner, ["host"], action);
  noAdditional(inner, ["host"], action);
  const h = inner["host"];
  // parameter_types.fqdn: a hostname of 1–255 characters.
  if (typeof h !== "string") throw invalidField("host", h, `${pyRepr(h)} is not of type 'string'`);
  if (h.length < 1) throw invalidField("host", h, `${pyRepr(h)} is too short`);
  if (h.length > 255) throw invalidField("host", h, `${pyRepr(h)} is too long`);
  if (!/^[a-zA-Z0-9-._]*$/.test(h)) throw invalidField("host", h, `${pyRepr(h)} does not match '^[a-zA-Z0-9-._]*$'`);
  return h;
}

/** os-aggregates (aggregates.py). */
export function aggregateRoutes(aggs: AggregateManager): Route[] {
  const view = (ctx: RequestContext, a: AggregateInfo, full = true): Record<string, unknown> => {
    const out: Record<string, unknown> = {
      availability_zone: a.metadata["availability_zone"] ?? null,
      created_at: a.created_at,
      deleted: false,
      deleted_at: null,
      id: a.id,
      name: a.name,
      updated_at: a.updated_at,
    };
    if (full) {
      out["hosts"] = [...a.hosts];
      out["metadata"] = { ...a.metadata };
    }
    if (ctx.version!.atLeast("2.41")) out["uuid"] = a.uuid;
    return out;
  };
  const id = (ctx: RequestContext) => validateId(ctx.params["aggregate_id"]!);
  return [
    {
      method: "GET",
      path: "/v2.1/os-aggregates",
      operation: "listAggregates",
      policy: "os_compute_api:os-aggregates:index",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-aggregates:index", {});
        return { body: { aggregates: (await aggs.list()).map((a) => view(ctx, a)) } };
      },
    },
    {
      method: "POST",
      path: "/v2.1/os-aggregates",
      operation: "createAggregate",
      policy: "os_compute_api:os-aggregates:create",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-aggregates:create", {});
        const a = envelope(ctx.body, "aggregate");
        required(a, ["name"], "aggregate");
        noAdditional(a, ["name", "availability_zone"], "aggregate");
        const name = nameField("name", a["name"]);
        const zone = a["availability_zone"] === undefined ? null : zoneField(a["availability_zone"]);
        const created = await aggs.create(name, zone);
        return { body: { aggregate: view(ctx, created, false) } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-aggregates/:aggregate_id",
      operation: "showAggregateDetails",
      policy: "os_compute_api:os-aggregates:show",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-aggregates:show", {});
        return { body: { aggregate: view(ctx, await aggs.get(id(ctx))) } };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/os-aggregates/:aggregate_id",
      operation: "updateAggregate",
      policy: "os_compute_api:os-aggregates:update",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-aggregates:update", {});
        const a = envelope(ctx.body, "aggregate");
        noAdditional(a, ["name", "availability_zone"], "aggregate");
        if (!("name" in a) && !("availability_zone" in a)) throw invalidField("aggregate", a, `${pyRepr(a)} is not valid under any of the given schemas`);
        const values: { name?: string; availability_zone?: string | null } = {};
        if ("name" in a) values.name = nameField("name", a["name"], { allowEdgeSpaces: true }).trim();
        if ("availability_zone" in a) values.availability_zone = zoneField(a["availability_zone"]);
        return { body: { aggregate: view(ctx, await aggs.update(id(ctx), values)) } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/os-aggregates/:aggregate_id",
      operation: "deleteAggregate",
      policy: "os_compute_api:os-aggregates:delete",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-aggregates:delete", {});
        await aggs.delete(id(ctx));
        return { status: 200 };
      },
    },
    {
      // 2.81 image precaching: the request is validated and handed to the hosts' caches (a
      // cast in Nova, so nothing to wait for); the simulated hosts keep no image cache.
      method: "POST",
      path: "/v2.1/os-aggregates/:aggregate_id/images",
      operation: "requestImagePreCachingForAggregate",
      policy: "compute:aggregates:images",
      minVersion: "2.81",
      handler: async (ctx) => {
        const body = ctx.body;
        if (!isObject(body)) throw new BadRequest(`${pyRepr(body)} is not of type 'object'`);
        if (!("cache" in body)) throw new BadRequest("'cache' is a required property");
        noAdditional(body, ["cache"], undefined);
        const cache = body["cache"];
        if (!Array.isArray(cache)) throw invalidField("cache", cache, `${pyRepr(cache)} is not of type 'array'`);
        if (cache.length < 1) throw invalidField("cache", cache, "[] is too short");
        const ids: string[] = [];
        for (const item of cache) {
          if (!isObject(item)) throw invalidField("cache", item, `${pyRepr(item)} is not of type 'object'`);
          required(item, ["id"], "cache");
          noAdditional(item, ["id"], "cache");
          const id = item["id"];
          if (typeof id !== "string" || !/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(id)) {
            throw invalidField("id", id, `${pyRepr(id)} is not a 'uuid'`);
          }
          ids.push(id);
        }
        ctx.enforce("compute:aggregates:images", {});
        const aggId = id(ctx);
        if (new Set(ids).size !== ids.length) throw new BadRequest("Duplicate images in request");
        await aggs.get(aggId);
        return { status: 202 };
      },
    },
    {
      method: "POST",
      path: "/v2.1/os-aggregates/:aggregate_id/action",
      operation: "aggregateAction",
      handler: async (ctx) => {
        const body = ctx.body;
        if (!isObject(body)) throw new BadRequest("The request body is invalid.");
        if ("add_host" in body) {
          const host = hostField("add_host", body);
          ctx.enforce("os_compute_api:os-aggregates:add_host", {});
          return { body: { aggregate: view(ctx, await aggs.addHost(id(ctx), host)) } };
        }
        if ("remove_host" in body) {
          const host = hostField("remove_host", body);
          ctx.enforce("os_compute_api:os-aggregates:remove_host", {});
          return { body: { aggregate: view(ctx, await aggs.removeHost(id(ctx), host)) } };
        }
        if ("set_metadata" in body) {
          noAdditional(body, ["set_metadata"], undefined);
          const inner = body["set_metadata"];
          if (!isObject(inner)) throw invalidField("set_metadata", inner, `${pyRepr(inner)} is not of type 'object'`);
          required(inner, ["metadata"], "set_metadata");
          noAdditional(inner, ["metadata"], "set_metadata");
          const md = inner["metadata"];
          if (!isObject(md)) throw invalidField("metadata", md, `${pyRepr(md)} is not of type 'object'`);
          const clean: Record<string, string | null> = {};
          for (const [k, v] of Object.entries(md)) {
            if (!META_KEY.test(k)) throw invalidField("metadata", md, `Additional properties are not allowed (${pyRepr(k)} was unexpected)`);
            if (v !== null && typeof v !== "string") throw invalidField(k, v, `${pyRepr(v)} is not of type 'string', 'null'`);
            if (typeof v === "string" && v.length > 255) throw invalidField(k, v, `${pyRepr(v)} is too long`);
            clean[k] = v;
          }
          if ("availability_zone" in clean && clean["availability_zone"] !== null && clean["availability_zone"] !== "") zoneField(clean["availability_zone"]);
          ctx.enforce("os_compute_api:os-aggregates:set_metadata", {});
          return { body: { aggregate: view(ctx, await aggs.setMetadata(id(ctx), clean)) } };
        }
        throw new BadRequest(`There is no such action: ${Object.keys(body)[0] ?? ""}`);
      },
    },
  ];
}
