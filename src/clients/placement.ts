import type { InProcessTransport, TransportResponse } from "./transport.js";
import { expectOk } from "./transport.js";

/** A Placement microversion high enough for everything compute asks (nested, granular, consumer generations). */
const VERSION = "placement 1.39";

export interface ResourceProvider {
  uuid: string;
  name: string;
  generation: number;
  parent_provider_uuid?: string | null;
  root_provider_uuid?: string;
}

export interface Inventory {
  total: number;
  reserved?: number;
  min_unit?: number;
  max_unit?: number;
  step_size?: number;
  allocation_ratio?: number;
}

/** PUT /allocations/{consumer} body at 1.38: allocations per provider, consumer generation. */
export interface AllocationRequest {
  allocations: Record<string, { resources: Record<string, number> }>;
  project_id: string;
  user_id: string;
  consumer_generation: number | null;
  consumer_type?: string;
}

export interface AllocationCandidates {
  allocation_requests: Array<{ allocations: Record<string, { resources: Record<string, number> }>; mappings?: Record<string, string[]> }>;
  provider_summaries: Record<
    string,
    { resources: Record<string, { capacity: number; used: number }>; traits?: string[]; parent_provider_uuid?: string | null; root_provider_uuid?: string }
  >;
}

/**
 * Compute's view of Placement (the real API, in process, as the service user): providers
 * for hosts, their inventories/traits/aggregates, allocation candidates and allocations.
 * Every method throws ServiceCallError on a non-2xx answer except where noted.
 */
export class PlacementClient {
  constructor(private readonly t: InProcessTransport) {}

  private async call<T>(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown, version = VERSION): Promise<T> {
    const res = await this.raw(method, path, body, version);
    return expectOk<T>(method, path, res);
  }

  /** The raw answer (for callers that handle 404/409 themselves). */
  raw(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown, version = VERSION): Promise<TransportResponse> {
    const opts: { body?: unknown; headers: Record<string, string> } = { headers: { "openstack-api-version": version } };
    if (body !== undefined) opts.body = body;
    return this.t.request(method, `/placement${path}`, opts);
  }

  async getProvider(uuid: string): Promise<ResourceProvider | undefined> {
    const res = await this.raw("GET", `/resource_providers/${uuid}`);
    if (res.status === 404) return undefined;
    return expectOk<ResourceProvider>("GET", `/resource_providers/${uuid}`, res);
  }

  createProvider(p: { uuid: string; name: string; parent_provider_uuid?: string }): Promise<ResourceProvider> {
    return this.call("POST", "/resource_providers", p);
  }

  deleteProvider(uuid: string): Promise<unknown> {
    return this.call("DELETE", `/resource_providers/${uuid}`);
  }

  setInventories(uuid: string, generation: number, inventories: Record<string, Inventory>): Promise<{ resource_provider_generation: number }> {
    return this.call("PUT", `/resource_providers/${uuid}/inventories`, { resource_provider_generation: generation, inventories });
  }

  setTraits(uuid: string, generation: number, traits: string[]): Promise<{ resource_provider_generation: number; traits: string[] }> {
    return this.call("PUT", `/resource_providers/${uuid}/traits`, { resource_provider_generation: generation, traits });
  }

  /** Creates a CUSTOM_* trait (idempotent). */
  ensureTrait(name: string): Promise<unknown> {
    return this.call("PUT", `/traits/${name}`);
  }

  setAggregates(uuid: string, generation: number, aggregates: string[]): Promise<{ aggregates: string[]; resource_provider_generation: number }> {
    return this.call("PUT", `/resource_providers/${uuid}/aggregates`, { resource_provider_generation: generation, aggregates });
  }

  getAggregates(uuid: string): Promise<{ aggregates: string[]; resource_provider_generation: number }> {
    return this.call("GET", `/resource_providers/${uuid}/aggregates`);
  }

  /** GET /allocation_candidates with the query as Nova builds it (resources, required, member_of, in_tree, limit, …). */
  allocationCandidates(query: string): Promise<AllocationCandidates> {
    return this.call("GET", `/allocation_candidates?${query}`);
  }

  getAllocations(consumer: string): Promise<{ allocations: Record<string, { resources: Record<string, number>; generation?: number }>; consumer_generation?: number; project_id?: string; user_id?: string }> {
    return this.call("GET", `/allocations/${consumer}`);
  }

  /** 204 on success; 409 (a lost race: capacity or generation) comes back as the raw response for the scheduler to retry. */
  putAllocations(consumer: string, body: AllocationRequest): Promise<TransportResponse> {
    return this.raw("PUT", `/allocations/${consumer}`, body);
  }

  /** POST /allocations: several consumers at once, atomically (moves: the migration holds the source). */
  postAllocations(body: Record<string, AllocationRequest>): Promise<TransportResponse> {
    return this.raw("POST", "/allocations", body);
  }

  deleteAllocations(consumer: string): Promise<TransportResponse> {
    return this.raw("DELETE", `/allocations/${consumer}`);
  }

  /**
   * POST /reshaper (1.30+): inventories of many providers (and allocations) replaced in one
   * transaction — compute uses it to set the inventories of thousands of new hosts at once.
   */
  reshape(body: { inventories: Record<string, { resource_provider_generation: number; inventories: Record<string, Inventory> }>; allocations: Record<string, AllocationRequest> }): Promise<TransportResponse> {
    return this.raw("POST", "/reshaper", body);
  }

  /** Totals per resource class; asked at 1.9 as Nova does (from 1.38 the answer is grouped by consumer type). */
  usages(projectId: string, userId?: string): Promise<{ usages: Record<string, number> }> {
    return this.call("GET", `/usages?project_id=${encodeURIComponent(projectId)}${userId ? `&user_id=${encodeURIComponent(userId)}` : ""}`, undefined, "placement 1.9");
  }
}
