import type { RequestContext, Route } from "../../../http/context.js";
import { Codes, PlacementError, badRequest, conflict } from "../errors.js";
import type { Placement } from "../index.js";
import type { ConsumerAllocations } from "../manager/allocations.js";
import type { InventoryInput, Provider } from "../manager/providers.js";
import { MAX_INT } from "../store/core.js";
import { canonicalUuid, checkAccept, extractJson, isUuidLike, json, noContent, requireJson, route, v, validateQuery } from "./common.js";
import * as S from "./schemas.js";

interface Body12 {
  allocations: Record<string, { resources: Record<string, number> }>;
  project_id?: string;
  user_id?: string;
  consumer_generation?: number | null;
  consumer_type?: string;
}

function toItem(ctx: RequestContext, consumer: string, b: Body12): ConsumerAllocations {
  const allocations: Record<string, Record<string, number>> = {};
  for (const [rp, a] of Object.entries(b.allocations)) allocations[rp] = a.resources;
  return {
    consumer,
    allocations,
    project_id: b.project_id,
    user_id: b.user_id,
    consumer_generation: b.consumer_generation,
    checkGeneration: v(ctx, "1.28"),
    consumer_type: v(ctx, "1.38") ? b.consumer_type : undefined,
  };
}

function putSchema(ctx: RequestContext): object {
  if (v(ctx, "1.38")) return S.ALLOCATION_1_38;
  if (v(ctx, "1.34")) return S.ALLOCATION_1_34;
  if (v(ctx, "1.28")) return S.ALLOCATION_1_28;
  if (v(ctx, "1.12")) return S.ALLOCATION_1_12;
  if (v(ctx, "1.8")) return S.ALLOCATION_1_8;
  return S.ALLOCATION_1_0;
}

function postSchema(ctx: RequestContext): object {
  if (v(ctx, "1.38")) return S.POST_ALLOCATIONS_1_38;
  if (v(ctx, "1.34")) return S.POST_ALLOCATIONS_1_34;
  if (v(ctx, "1.28")) return S.POST_ALLOCATIONS_1_28;
  return S.POST_ALLOCATIONS_1_13;
}

export function allocationRoutes(pl: Placement): Route[] {
  const a = pl.allocations;
  return [
    route({
      method: "GET", path: "/allocations/:consumer_uuid", operation: "listAllocations", policy: "placement:allocations:list",
      handler: async (ctx) => {
        checkAccept(ctx);
        ctx.enforce("placement:allocations:list");
        const view = await a.forConsumer(ctx.params["consumer_uuid"]!);
        const body: Record<string, unknown> = { allocations: view.allocations };
        if (Object.keys(view.allocations).length && v(ctx, "1.12")) {
          body["project_id"] = view.project_id;
          body["user_id"] = view.user_id;
          if (v(ctx, "1.28")) body["consumer_generation"] = view.consumer_generation;
          if (v(ctx, "1.38")) body["consumer_type"] = view.consumer_type ?? "unknown";
        }
        return json(ctx, body, 200, view.last_modified);
      },
    }),
    route({
      method: "PUT", path: "/allocations/:consumer_uuid", operation: "updateAllocations", policy: "placement:allocations:update",
      handler: async (ctx) => {
        ctx.enforce("placement:allocations:update");
        requireJson(ctx);
        let consumer = ctx.params["consumer_uuid"]!;
        if (!isUuidLike(consumer)) throw badRequest(`Malformed consumer_uuid: ${consumer}`);
        consumer = canonicalUuid(consumer);
        let body = extractJson<Body12 & { allocations: unknown }>(ctx, putSchema(ctx));
        if (!v(ctx, "1.12")) {
          const list = body.allocations as unknown as Array<{ resource_provider: { uuid: string }; resources: Record<string, number> }>;
          const dict: Body12["allocations"] = {};
          for (const x of list) dict[x.resource_provider.uuid] = { resources: x.resources };
          body = { ...body, allocations: dict };
        }
        await a.replace([toItem(ctx, consumer, body)], true);
        return noContent();
      },
    }),
    route({
      method: "POST", path: "/allocations", operation: "manageAllocations", policy: "placement:allocations:manage", minVersion: "1.13",
      handler: async (ctx) => {
        ctx.enforce("placement:allocations:manage");
        requireJson(ctx);
        const data = extractJson<Record<string, Body12>>(ctx, postSchema(ctx));
        await a.replace(Object.entries(data).map(([c, b]) => toItem(ctx, c, b)), false);
        return noContent();
      },
    }),
    route({
      method: "DELETE", path: "/allocations/:consumer_uuid", operation: "deleteAllocations", policy: "placement:allocations:delete",
      handler: async (ctx) => {
        ctx.enforce("placement:allocations:delete");
        await a.deleteConsumer(ctx.params["consumer_uuid"]!);
        return noContent();
      },
    }),
    route({
      method: "GET", path: "/usages", operation: "listUsages", policy: "placement:usages", minVersion: "1.9",
      handler: async (ctx) => {
        checkAccept(ctx);
        const project = ctx.q("project_id");
        ctx.enforce("placement:usages", { project_id: project });
        const byType = v(ctx, "1.38");
        const q = validateQuery(ctx, byType ? S.USAGES_1_38 : S.USAGES_1_9);
        const usages = byType ? await a.totalsByType(q["project_id"]!, q["user_id"], q["consumer_type"]) : await a.totals(q["project_id"]!, q["user_id"]);
        return json(ctx, { usages });
      },
    }),
    route({
      method: "POST", path: "/reshaper", operation: "reshape", policy: "placement:reshaper:reshape", minVersion: "1.30",
      handler: async (ctx) => {
        ctx.enforce("placement:reshaper:reshape");
        requireJson(ctx);
        const data = extractJson<{
          inventories: Record<string, { resource_provider_generation: number; inventories: Record<string, Record<string, number>> }>;
          allocations: Record<string, Body12>;
        }>(ctx, v(ctx, "1.38") ? S.RESHAPER_1_38 : v(ctx, "1.34") ? S.RESHAPER_1_34 : S.RESHAPER);
        const invs = new Map<Provider, InventoryInput[]>();
        for (const [rpUuid, d] of Object.entries(data.inventories)) {
          const p = await pl.providers.find(rpUuid);
          if (!p) {
            throw new PlacementError(400, `Resource provider ${rpUuid} in inventories not found: No resource provider with uuid ${rpUuid} found`, Codes.RESOURCE_PROVIDER_NOT_FOUND);
          }
          if (d.resource_provider_generation !== p.generation) {
            throw conflict(`resource provider generation conflict for provider ${rpUuid}: actual: ${p.generation}, given: ${d.resource_provider_generation}`, Codes.CONCURRENT_UPDATE);
          }
          invs.set(
            p,
            Object.entries(d.inventories).map(([rc, i]) => ({ reserved: 0, min_unit: 1, max_unit: MAX_INT, step_size: 1, allocation_ratio: 1.0, ...i, resource_class: rc }) as InventoryInput),
          );
        }
        await a.replace(Object.entries(data.allocations).map(([c, b]) => toItem(ctx, c, b)), false, invs);
        return noContent();
      },
    }),
  ];
}
