import type { RequestContext, Route } from "../../../http/context.js";
import { Codes, PlacementError, badRequest, conflict, notFound } from "../errors.js";
import type { Placement } from "../index.js";
import type { InventoryInput, Provider, ProviderFilters } from "../manager/providers.js";
import { InventoryInUse, NoInventoryOfClass, UnknownResourceClass, capacityOf } from "../manager/providers.js";
import { ConcurrentUpdate, MAX_INT } from "../store/core.js";
import { canonicalUuid, checkAccept, extractJson, json, noContent, requireJson, route, v, validateQuery } from "./common.js";
import { normalizeMemberOf, normalizeResources, normalizeTraits } from "./params.js";
import * as S from "./schemas.js";

const base = (_ctx: RequestContext): string => `/placement`;

export function providerLinks(ctx: RequestContext, p: { uuid: string }): Array<{ rel: string; href: string }> {
  const url = `${base(ctx)}/resource_providers/${p.uuid}`;
  const links = [{ rel: "self", href: url }];
  const rels = ["inventories", "usages"];
  if (v(ctx, "1.1")) rels.push("aggregates");
  if (v(ctx, "1.6")) rels.push("traits");
  if (v(ctx, "1.11")) rels.push("allocations");
  for (const rel of rels) links.push({ rel, href: `${url}/${rel}` });
  return links;
}

export function providerView(ctx: RequestContext, p: Provider): Record<string, unknown> {
  const out: Record<string, unknown> = { uuid: p.uuid, name: p.name, generation: p.generation, links: providerLinks(ctx, p) };
  if (v(ctx, "1.14")) {
    out["parent_provider_uuid"] = p.parent_provider_uuid;
    out["root_provider_uuid"] = p.root_provider_uuid;
  }
  return out;
}

const INVENTORY_DEFAULTS = { reserved: 0, min_unit: 1, max_unit: MAX_INT, step_size: 1, allocation_ratio: 1.0 };
const inventoryView = (i: InventoryInput): Record<string, number> => ({
  total: i.total,
  reserved: i.reserved,
  min_unit: i.min_unit,
  max_unit: i.max_unit,
  step_size: i.step_size,
  allocation_ratio: i.allocation_ratio,
});

/** _validate_inventory_capacity: reserved must leave room (may equal total from 1.26). */
function checkCapacity(ctx: RequestContext, p: Provider, list: InventoryInput[], wrap: (msg: string) => PlacementError): void {
  const allowEqual = v(ctx, "1.26");
  for (const i of list) {
    const cap = capacityOf(i);
    if (allowEqual ? cap < 0 : cap <= 0) {
      throw wrap(
        `Invalid inventory for '${i.resource_class}' on resource provider '${p.uuid}'. The reserved value is greater than ${allowEqual ? "" : "or equal to "}total.`,
      );
    }
  }
}

export function resourceProviderRoutes(pl: Placement): Route[] {
  const m = pl.providers;
  const write = pl.core.write.bind(pl.core);
  return [
    route({
      method: "GET",
      path: "/resource_providers",
      operation: "listResourceProviders",
      policy: "placement:resource_providers:list",
      handler: async (ctx) => {
        checkAccept(ctx);
        ctx.enforce("placement:resource_providers:list");
        const schema = v(ctx, "1.18") ? S.GET_RPS_1_18 : v(ctx, "1.14") ? S.GET_RPS_1_14 : v(ctx, "1.4") ? S.GET_RPS_1_4 : v(ctx, "1.3") ? S.GET_RPS_1_3 : S.GET_RPS_1_0;
        const q = validateQuery(ctx, schema);
        const f: ProviderFilters = {};
        if (q["member_of"] !== undefined) {
          const [req, forb] = normalizeMemberOf(ctx, "");
          f.member_of = req;
          f.forbidden_aggs = forb;
        }
        if (q["required"] !== undefined) {
          const [req, forb] = normalizeTraits(ctx, "");
          f.required_traits = req;
          f.forbidden_traits = forb;
        }
        if (q["uuid"]) f.uuid = q["uuid"];
        if (q["name"]) f.name = q["name"];
        if (q["in_tree"]) f.in_tree = q["in_tree"];
        if (q["resources"] !== undefined) f.resources = normalizeResources(q["resources"]);
        const list = await m.list(f);
        let lm: string | undefined;
        for (const p of list) if (!lm || p.updated_at > lm) lm = p.updated_at;
        return json(ctx, { resource_providers: list.map((p) => providerView(ctx, p)) }, 200, lm);
      },
    }),
    route({
      method: "POST",
      path: "/resource_providers",
      operation: "createResourceProvider",
      policy: "placement:resource_providers:create",
      handler: async (ctx) => {
        ctx.enforce("placement:resource_providers:create");
        requireJson(ctx);
        const data = extractJson<{ name: string; uuid?: string; parent_provider_uuid?: string | null }>(ctx, v(ctx, "1.14") ? S.POST_RP_1_14 : S.POST_RP);
        const uuid = data.uuid ? canonicalUuid(data.uuid) : crypto.randomUUID();
        if (!data.name) throw badRequest(`Unable to create resource provider "${data.name}", ${uuid}: Object action create failed because: name is required`);
        const p = await m.create({ uuid, name: data.name, parent_provider_uuid: data.parent_provider_uuid ? canonicalUuid(data.parent_provider_uuid) : null });
        const location = { location: `${ctx.serviceUrl}/resource_providers/${p.uuid}` };
        if (v(ctx, "1.20")) return json(ctx, providerView(ctx, p), 200, p.updated_at, location);
        return { status: 201, headers: location };
      },
    }),
    route({
      method: "GET",
      path: "/resource_providers/:uuid",
      operation: "showResourceProvider",
      policy: "placement:resource_providers:show",
      handler: async (ctx) => {
        checkAccept(ctx);
        ctx.enforce("placement:resource_providers:show");
        const p = await m.get(ctx.params["uuid"]!);
        return json(ctx, providerView(ctx, p), 200, p.updated_at);
      },
    }),
    route({
      method: "PUT",
      path: "/resource_providers/:uuid",
      operation: "updateResourceProvider",
      policy: "placement:resource_providers:update",
      handler: async (ctx) => {
        ctx.enforce("placement:resource_providers:update");
        requireJson(ctx);
        await m.get(ctx.params["uuid"]!);
        const data = extractJson<{ name?: string; parent_provider_uuid?: string | null }>(ctx, v(ctx, "1.14") ? S.PUT_RP_1_14 : S.PUT_RP);
        const changes: { name?: string; parent_provider_uuid?: string | null } = {};
        if (data.name !== undefined) changes.name = data.name;
        if ("parent_provider_uuid" in data) changes.parent_provider_uuid = data.parent_provider_uuid ? canonicalUuid(data.parent_provider_uuid) : null;
        const p = await m.update(ctx.params["uuid"]!, changes, v(ctx, "1.37"));
        return json(ctx, providerView(ctx, p), 200, p.updated_at);
      },
    }),
    route({
      method: "DELETE",
      path: "/resource_providers/:uuid",
      operation: "deleteResourceProvider",
      policy: "placement:resource_providers:delete",
      handler: async (ctx) => {
        ctx.enforce("placement:resource_providers:delete");
        await m.delete(ctx.params["uuid"]!);
        return noContent();
      },
    }),

    // ---- inventories
    route({
      method: "GET",
      path: "/resource_providers/:uuid/inventories",
      operation: "listResourceProviderInventories",
      policy: "placement:resource_providers:inventories:list",
      handler: async (ctx) => {
        checkAccept(ctx);
        ctx.enforce("placement:resource_providers:inventories:list");
        const uuid = ctx.params["uuid"]!;
        const p = await m.get(uuid, undefined, () => `No resource provider with uuid ${uuid} found : No resource provider with uuid ${uuid} found`);
        const invs = await m.inventories(p.id);
        const out: Record<string, unknown> = {};
        let lm: string | undefined;
        for (const i of invs) {
          out[i.resource_class] = inventoryView(i);
          if (!lm || i.updated_at > lm) lm = i.updated_at;
        }
        return json(ctx, { resource_provider_generation: p.generation, inventories: out }, 200, lm);
      },
    }),
    route({
      method: "POST",
      path: "/resource_providers/:uuid/inventories",
      operation: "createResourceProviderInventory",
      policy: "placement:resource_providers:inventories:create",
      handler: async (ctx) => {
        ctx.enforce("placement:resource_providers:inventories:create");
        requireJson(ctx);
        const p = await m.get(ctx.params["uuid"]!);
        const data = extractJson<Record<string, unknown>>(ctx, S.POST_INVENTORY);
        const inv = { ...INVENTORY_DEFAULTS, ...data } as unknown as InventoryInput;
        const wrap = (msg: string): PlacementError => badRequest(`Unable to create inventory for resource provider ${p.uuid}: ${msg}`);
        checkCapacity(ctx, p, [inv], wrap);
        let gen: number;
        try {
          gen = await write((trx) => m.writeInventories(trx, p, [inv], "add"));
        } catch (e) {
          if (e instanceof ConcurrentUpdate) throw conflict("Update conflict: Another thread concurrently updated the data. Please retry your update", Codes.CONCURRENT_UPDATE);
          if (e instanceof UnknownResourceClass) throw wrap(e.message);
          throw e;
        }
        return json(ctx, { ...inventoryView(inv), resource_provider_generation: gen }, 201, undefined, {
          location: `${ctx.serviceUrl}/resource_providers/${p.uuid}/inventories/${inv.resource_class}`,
        });
      },
    }),
    route({
      method: "PUT",
      path: "/resource_providers/:uuid/inventories",
      operation: "updateResourceProviderInventories",
      policy: "placement:resource_providers:inventories:update",
      handler: async (ctx) => {
        ctx.enforce("placement:resource_providers:inventories:update");
        requireJson(ctx);
        const p = await m.get(ctx.params["uuid"]!);
        const data = extractJson<{ resource_provider_generation: number; inventories: Record<string, Record<string, number>> }>(ctx, S.PUT_INVENTORIES);
        if (data.resource_provider_generation !== p.generation) throw conflict("resource provider generation conflict", Codes.CONCURRENT_UPDATE);
        const list = Object.entries(data.inventories).map(([rc, i]) => ({ ...INVENTORY_DEFAULTS, ...i, resource_class: rc }) as InventoryInput);
        checkCapacity(ctx, p, list, (msg) => badRequest(`Unable to update inventory for resource provider ${p.uuid}: ${msg}`));
        let gen: number;
        try {
          gen = await write((trx) => m.writeInventories(trx, p, list, "set"));
        } catch (e) {
          if (e instanceof UnknownResourceClass) throw badRequest(`Unknown resource class in inventory for resource provider ${p.uuid}: ${e.message}`);
          if (e instanceof ConcurrentUpdate) throw conflict("update conflict: Another thread concurrently updated the resource provider data. Please retry your update", Codes.CONCURRENT_UPDATE);
          if (e instanceof InventoryInUse) throw conflict(`update conflict: ${e.message}`, Codes.INVENTORY_INUSE);
          throw e;
        }
        const out: Record<string, unknown> = {};
        for (const i of list) out[i.resource_class] = inventoryView(i);
        return json(ctx, { resource_provider_generation: gen, inventories: out });
      },
    }),
    route({
      method: "DELETE",
      path: "/resource_providers/:uuid/inventories",
      operation: "deleteResourceProviderInventories",
      policy: "placement:resource_providers:inventories:delete",
      handler: async (ctx) => {
        // Before 1.5 the method does not exist on this URL: 405, as Placement's version_handler says.
        if (!v(ctx, "1.5")) throw new PlacementError(405, "The method specified is not allowed for this resource.");
        ctx.enforce("placement:resource_providers:inventories:delete");
        const p = await m.get(ctx.params["uuid"]!);
        try {
          await write((trx) => m.writeInventories(trx, p, [], "set"));
        } catch (e) {
          if (e instanceof ConcurrentUpdate) {
            throw conflict(`Unable to delete inventory for resource provider ${p.uuid} because the inventory was updated by another process. Please retry your request.`, Codes.CONCURRENT_UPDATE);
          }
          if (e instanceof InventoryInUse) throw conflict(e.message, Codes.INVENTORY_INUSE);
          throw e;
        }
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: "/resource_providers/:uuid/inventories/:resource_class",
      operation: "showResourceProviderInventory",
      policy: "placement:resource_providers:inventories:show",
      handler: async (ctx) => {
        checkAccept(ctx);
        ctx.enforce("placement:resource_providers:inventories:show");
        const uuid = ctx.params["uuid"]!;
        const rc = ctx.params["resource_class"]!;
        const p = await m.get(uuid, undefined, () => `No resource provider with uuid ${uuid} found : No resource provider with uuid ${uuid} found`);
        const i = (await m.inventories(p.id)).find((x) => x.resource_class === rc);
        if (!i) throw notFound(`No inventory of class ${rc} for ${uuid}`);
        return json(ctx, { ...inventoryView(i), resource_provider_generation: p.generation }, 200, i.updated_at);
      },
    }),
    route({
      method: "PUT",
      path: "/resource_providers/:uuid/inventories/:resource_class",
      operation: "updateResourceProviderInventory",
      policy: "placement:resource_providers:inventories:update",
      handler: async (ctx) => {
        ctx.enforce("placement:resource_providers:inventories:update");
        requireJson(ctx);
        const p = await m.get(ctx.params["uuid"]!);
        const rc = ctx.params["resource_class"]!;
        const data = extractJson<Record<string, number>>(ctx, S.BASE_INVENTORY);
        if (data["resource_provider_generation"] !== p.generation) throw conflict("resource provider generation conflict", Codes.CONCURRENT_UPDATE);
        const inv = { ...INVENTORY_DEFAULTS, ...data, resource_class: rc } as unknown as InventoryInput;
        const wrap = (msg: string): PlacementError => badRequest(`Unable to update inventory for resource provider ${p.uuid}: ${msg}`);
        checkCapacity(ctx, p, [inv], wrap);
        let gen: number;
        try {
          gen = await write((trx) => m.writeInventories(trx, p, [inv], "update"));
        } catch (e) {
          if (e instanceof ConcurrentUpdate) throw conflict("update conflict: Another thread concurrently updated the resource provider data. Please retry your update", Codes.CONCURRENT_UPDATE);
          if (e instanceof NoInventoryOfClass) throw badRequest(`No inventory record with resource class for resource provider ${p.uuid}: ${e.message}`);
          if (e instanceof UnknownResourceClass) throw notFound(e.message);
          throw e;
        }
        return json(ctx, { ...inventoryView(inv), resource_provider_generation: gen });
      },
    }),
    route({
      method: "DELETE",
      path: "/resource_providers/:uuid/inventories/:resource_class",
      operation: "deleteResourceProviderInventory",
      policy: "placement:resource_providers:inventories:delete",
      handler: async (ctx) => {
        ctx.enforce("placement:resource_providers:inventories:delete");
        const p = await m.get(ctx.params["uuid"]!);
        const rc = ctx.params["resource_class"]!;
        try {
          await write((trx) => m.deleteInventory(trx, p, rc));
        } catch (e) {
          if (e instanceof ConcurrentUpdate) throw conflict(`Unable to delete inventory of class ${rc}: Another thread concurrently updated the data. Please retry your update`, Codes.CONCURRENT_UPDATE);
          if (e instanceof InventoryInUse) throw conflict(`Unable to delete inventory of class ${rc}: ${e.message}`, Codes.CONCURRENT_UPDATE);
          if (e instanceof NoInventoryOfClass) throw notFound(`No inventory of class ${rc} found for delete: ${e.message}`);
          throw e;
        }
        return noContent();
      },
    }),

    // ---- usages of one provider
    route({
      method: "GET",
      path: "/resource_providers/:uuid/usages",
      operation: "listResourceProviderUsages",
      policy: "placement:resource_providers:usages",
      handler: async (ctx) => {
        checkAccept(ctx);
        ctx.enforce("placement:resource_providers:usages");
        const uuid = ctx.params["uuid"]!;
        const p = await m.get(uuid, undefined, () => `No resource provider with uuid ${uuid} found: No resource provider with uuid ${uuid} found`);
        return json(ctx, { resource_provider_generation: p.generation, usages: await pl.allocations.providerUsages(p) });
      },
    }),

    // ---- aggregates
    route({
      method: "GET",
      path: "/resource_providers/:uuid/aggregates",
      operation: "listResourceProviderAggregates",
      policy: "placement:resource_providers:aggregates:list",
      minVersion: "1.1",
      handler: async (ctx) => {
        checkAccept(ctx);
        ctx.enforce("placement:resource_providers:aggregates:list");
        const p = await m.get(ctx.params["uuid"]!);
        const body: Record<string, unknown> = { aggregates: await m.aggregates(p.id) };
        if (v(ctx, "1.19")) body["resource_provider_generation"] = p.generation;
        return json(ctx, body);
      },
    }),
    route({
      method: "PUT",
      path: "/resource_providers/:uuid/aggregates",
      operation: "updateResourceProviderAggregates",
      policy: "placement:resource_providers:aggregates:update",
      minVersion: "1.1",
      handler: async (ctx) => {
        ctx.enforce("placement:resource_providers:aggregates:update");
        requireJson(ctx);
        const withGen = v(ctx, "1.19");
        const p = await m.get(ctx.params["uuid"]!);
        let aggs: string[];
        if (withGen) {
          const data = extractJson<{ aggregates: string[]; resource_provider_generation: number }>(ctx, S.PUT_AGGREGATES_1_19);
          if (data.resource_provider_generation !== p.generation) {
            throw conflict("Resource provider's generation already changed. Please update the generation and try again.", Codes.CONCURRENT_UPDATE);
          }
          aggs = data.aggregates;
        } else {
          aggs = extractJson<string[]>(ctx, S.PUT_AGGREGATES_1_1);
        }
        let gen: number;
        try {
          gen = await write((trx) => m.setAggregates(trx, p, aggs, withGen));
        } catch (e) {
          if (e instanceof ConcurrentUpdate) throw conflict("Update conflict: Another thread concurrently updated the resource provider data. Please retry your update", Codes.CONCURRENT_UPDATE);
          throw e;
        }
        const body: Record<string, unknown> = { aggregates: aggs };
        if (withGen) body["resource_provider_generation"] = gen;
        return json(ctx, body);
      },
    }),

    // ---- traits of a provider
    route({
      method: "GET",
      path: "/resource_providers/:uuid/traits",
      operation: "listResourceProviderTraits",
      policy: "placement:resource_providers:traits:list",
      minVersion: "1.6",
      handler: async (ctx) => {
        checkAccept(ctx);
        ctx.enforce("placement:resource_providers:traits:list");
        const uuid = ctx.params["uuid"]!;
        const p = await m.get(uuid, undefined, () => `No resource provider with uuid ${uuid} found: No resource provider with uuid ${uuid} found`);
        return json(ctx, { traits: await m.providerTraits(p.id), resource_provider_generation: p.generation });
      },
    }),
    route({
      method: "PUT",
      path: "/resource_providers/:uuid/traits",
      operation: "updateResourceProviderTraits",
      policy: "placement:resource_providers:traits:update",
      minVersion: "1.6",
      handler: async (ctx) => {
        ctx.enforce("placement:resource_providers:traits:update");
        requireJson(ctx);
        const data = extractJson<{ traits: string[]; resource_provider_generation: number }>(ctx, S.SET_TRAITS_FOR_RP);
        const p = await m.get(ctx.params["uuid"]!);
        if (p.generation !== data.resource_provider_generation) {
          throw conflict("Resource provider's generation already changed. Please update the generation and try again.", Codes.CONCURRENT_UPDATE);
        }
        const ids = await pl.core.traitIds(data.traits);
        const missing = [...new Set(data.traits)].filter((t) => !ids.has(t));
        if (missing.length) throw badRequest(`No such trait ${missing.join(", ")}`);
        let gen: number;
        try {
          gen = await write((trx) => m.setProviderTraits(trx, p, [...ids.values()]));
        } catch (e) {
          if (e instanceof ConcurrentUpdate) throw conflict("Another thread concurrently updated the resource provider data. Please retry your update", Codes.CONCURRENT_UPDATE);
          throw e;
        }
        return json(ctx, { traits: [...ids.keys()], resource_provider_generation: gen });
      },
    }),
    route({
      method: "DELETE",
      path: "/resource_providers/:uuid/traits",
      operation: "deleteResourceProviderTraits",
      policy: "placement:resource_providers:traits:delete",
      minVersion: "1.6",
      handler: async (ctx) => {
        ctx.enforce("placement:resource_providers:traits:delete");
        const p = await m.get(ctx.params["uuid"]!);
        try {
          await write((trx) => m.setProviderTraits(trx, p, []));
        } catch (e) {
          if (e instanceof ConcurrentUpdate) throw conflict("Another thread concurrently updated the resource provider data. Please retry your update", Codes.CONCURRENT_UPDATE);
          throw e;
        }
        return noContent();
      },
    }),

    // ---- allocations on a provider
    route({
      method: "GET",
      path: "/resource_providers/:uuid/allocations",
      operation: "listResourceProviderAllocations",
      policy: "placement:resource_providers:allocations:list",
      handler: async (ctx) => {
        checkAccept(ctx);
        ctx.enforce("placement:resource_providers:allocations:list");
        const uuid = ctx.params["uuid"]!;
        const p = await m.get(uuid, undefined, () => `Resource provider '${uuid}' not found: No resource provider with uuid ${uuid} found`);
        const { allocations, last_modified } = await pl.allocations.forProvider(p);
        if (!v(ctx, "1.28")) for (const a of Object.values(allocations)) delete (a as { consumer_generation?: unknown }).consumer_generation;
        return json(ctx, { allocations, resource_provider_generation: p.generation }, 200, last_modified);
      },
    }),
  ];
}
