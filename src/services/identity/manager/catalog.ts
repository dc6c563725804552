import { createHash } from "node:crypto";
import { BadRequest, Conflict, Forbidden, NotFound } from "../../../common/errors.js";
import { hexId } from "../../../common/ids.js";
import { isForeignKeyViolation, isUniqueViolation } from "../../../db/database.js";
import type { IdentityCore } from "../core.js";
import * as store from "../store/catalog.js";
import type { AssociationTarget } from "../store/catalog.js";
import type { EndpointGroupRow, EndpointRow, IdentityTrx, PolicyRow, Q, RegionRow, ServiceRow } from "../store/tables.js";
import { json } from "../store/tables.js";

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: Array<{ id: string; interface: string; region: string | null; region_id: string | null; url: string; [extra: string]: unknown }>;
}

/**
 * Substitute Keystone's endpoint URL templates ($(project_id)s / %(tenant_id)s / $(user_id)s).
 * Undefined when a substitution is unavailable: Keystone then leaves the endpoint out.
 */
/** A 32-hex id derived from a name (bootstrap's catalog entries). */
function stableId(name: string): string {
  return createHash("sha256").update(`stackbox:${name}`).digest("hex").slice(0, 32);
}

export function expandUrl(url: string, projectId: string | undefined, userId?: string): string | undefined {
  let missing = false;
  // Python %-formatting after "$(" → "%(": "%%" is a literal "%", anything else malformed.
  const out = url.replaceAll("$(", "%(").replace(/%(?:\((\w+)\)s|(%)|)/g, (_m, key: string | undefined, pct: string | undefined) => {
    if (pct) return "%";
    if ((key === "project_id" || key === "tenant_id") && projectId) return projectId;
    if (key === "user_id" && userId) return userId;
    missing = true;
    return "";
  });
  return missing ? undefined : out;
}

/** The substitutions Keystone allows in an endpoint URL (keystone.common.utils). */
const URL_KEYS = new Set([
  "tenant_id",
  "project_id",
  "user_id",
  "public_bind_host",
  "admin_bind_host",
  "compute_host",
  "admin_port",
  "public_port",
  "public_endpoint",
]);

/**
 * Keystone's check_endpoint_url: the URL must survive Python %-formatting against its
 * whitelist, so every '%' is either '%%' or '%(known_key)<conversion>'.
 */
export function validEndpointUrl(url: string): boolean {
  const s = url.replaceAll("$(", "%(");
  const spec = /^%(?:\(([^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])/;
  let keyed = 0;
  let unkeyed = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "%") continue;
    const m = spec.exec(s.slice(i));
    if (!m) return false;
    const [whole, key, conv] = m;
    // Every substitution is a string, so numeric and %c conversions fail (TypeError).
    if (conv === "%") {
      if (key !== undefined) return false;
    } else if (!"rsa".includes(conv!)) {
      return false;
    } else if (key === undefined) {
      // Python hands the mapping itself to one unkeyed conversion, only before any keyed one.
      if (unkeyed > 0 || keyed > 0) return false;
      unkeyed++;
    } else if (URL_KEYS.has(key)) {
      keyed++;
    } else {
      return false;
    }
    i += whole.length - 1;
  }
  return true;
}

function validation(attribute: string, target: string): BadRequest {
  return new BadRequest(
    `Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is ` +
      "either malformed or otherwise incorrect. The client is assumed to be in error.",
  );
}

/** Keystone's _normalize_dict: ':' and '-' in attribute names become '_'. */
function normalize(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) out[k.replaceAll(":", "_").replaceAll("-", "_")] = v;
  return out;
}

function extrasOf(input: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (!known.includes(k) && k !== "links") out[k] = v;
  return out;
}

function requireMatchingId(input: Record<string, unknown>, id: string, message = "Cannot change ID"): void {
  if (input["id"] !== undefined && input["id"] !== null && input["id"] !== id) throw new BadRequest(message);
}

const REGION_KEYS = ["id", "description", "parent_region_id"] as const;
const SERVICE_KEYS = ["id", "type", "enabled"] as const;
const ENDPOINT_KEYS = ["id", "interface", "region_id", "service_id", "url", "enabled", "legacy_endpoint_id"] as const;
const POLICY_KEYS = ["id", "blob", "type"] as const;
const FILTER_KEYS = ["service_id", "region_id", "interface"] as const;

export type Input = Record<string, unknown>;

export class CatalogManager {
  /** Filters an area (OS-EP-FILTER) may install to limit a project's catalog. */
  private endpointFilter: ((q: Q, projectId: string) => Promise<Set<string> | undefined>) | undefined;
  constructor(private readonly core: IdentityCore) {
    // OS-EP-FILTER: a project with endpoint or endpoint-group associations sees only those.
    this.setEndpointFilter(async (q, projectId) => {
      const eps = await this.endpointsForProject(projectId, q);
      return eps.size > 0 ? new Set(eps.keys()) : undefined;
    });
  }

  setEndpointFilter(f: (q: Q, projectId: string) => Promise<Set<string> | undefined>): void {
    this.endpointFilter = f;
  }

  /** The catalog as tokens and /v3/auth/catalog render it: enabled services and endpoints. */
  async catalog(projectId: string | undefined, q: Q = this.core.db, userId?: string): Promise<CatalogEntry[]> {
    const services = await q.selectFrom("service").selectAll().where("enabled", "=", 1).orderBy("id").execute();
    const endpoints = await q.selectFrom("endpoint").selectAll().where("enabled", "=", 1).orderBy("id").execute();
    const allowed = projectId && this.endpointFilter ? await this.endpointFilter(q, projectId) : undefined;
    const out: CatalogEntry[] = [];
    for (const s of services) {
      const extra = json<{ name?: string }>(s.extra);
      const eps: CatalogEntry["endpoints"] = [];
      for (const e of endpoints) {
        if (e.service_id !== s.id) continue;
        if (allowed && !allowed.has(e.id)) continue;
        const url = expandUrl(e.url, projectId, userId);
        if (url === undefined) continue;
        eps.push({ ...json(e.extra), id: e.id, interface: e.interface, region: e.region_id, region_id: e.region_id, url });
      }
      // Keystone drops services left without endpoints only when a filter applies.
      if (allowed && eps.length === 0) continue;
      out.push({ id: s.id, type: s.type, name: extra.name ?? "", endpoints: eps });
    }
    return out;
  }

  /** Used by bootstrap: make sure region, service and its three endpoints exist. */
  async ensureService(type: string, name: string, url: string, region: string): Promise<void> {
    await this.core.write(async (trx) => {
      const r = await trx.selectFrom("region").select("id").where("id", "=", region).executeTakeFirst();
      if (!r) await trx.insertInto("region").values({ id: region, description: "", parent_region_id: null, extra: "{}" }).execute();
      let svc = await trx.selectFrom("service").selectAll().where("type", "=", type).executeTakeFirst();
      if (!svc) {
        // Ids derived from the type, so two processes bootstrapping one database at once
        // collide on the primary key (and retry) instead of creating two services.
        svc = { id: stableId(`service:${type}`), type, enabled: 1, extra: JSON.stringify({ name }) };
        await trx.insertInto("service").values(svc).execute();
      }
      const have = await trx.selectFrom("endpoint").selectAll().where("service_id", "=", svc.id).execute();
      for (const iface of ["public", "internal", "admin"]) {
        const cur = have.find((e) => e.interface === iface && e.region_id === region);
        if (!cur) {
          await trx
            .insertInto("endpoint")
            .values({ id: stableId(`endpoint:${type}:${iface}:${region}`), interface: iface, service_id: svc.id, url, region_id: region, enabled: 1, extra: "{}" })
            .execute();
        } else if (cur.url !== url) {
          await trx.updateTable("endpoint").set({ url }).where("id", "=", cur.id).execute();
        }
      }
    });
  }

  /** Deletion cascade for a project: its OS-EP-FILTER associations go with it. */
  async onProjectDeleted(trx: IdentityTrx, projectId: string): Promise<void> {
    await store.deleteProjectAssociations(trx, projectId);
  }

  // ---- regions ----------------------------------------------------------------------------

  async getRegion(id: string, q: Q = this.core.db): Promise<RegionRow> {
    const r = await store.getRegion(q, id);
    if (!r) throw new NotFound(`Could not find region: ${id}.`);
    return r;
  }

  async listRegions(f: { parentRegionId?: string }): Promise<RegionRow[]> {
    return store.listRegions(this.core.db, f);
  }

  /** POST /v3/regions (id optional) and PUT /v3/regions/{id} (id from the URL). */
  async createRegion(raw: Input): Promise<RegionRow> {
    const input = normalize(raw);
    const id = typeof input["id"] === "string" && input["id"] !== "" ? input["id"] : hexId();
    const parent = (input["parent_region_id"] as string | null | undefined) ?? null;
    const row: RegionRow = {
      id,
      description: (input["description"] as string | null | undefined) ?? "",
      parent_region_id: parent,
      extra: JSON.stringify(extrasOf(input, REGION_KEYS)),
    };
    // Keystone formats "Duplicate ID, %s." into "... - %(details)s.", hence the double period.
    const duplicate = new Conflict(`Conflict occurred attempting to store region - Duplicate ID, ${id}..`);
    try {
      await this.core.write(async (trx) => {
        if (await store.getRegion(trx, id)) throw duplicate;
        if (parent !== null && !(await store.getRegion(trx, parent))) throw new NotFound(`Could not find region: ${parent}.`);
        await store.insertRegion(trx, row);
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw duplicate;
      throw e;
    }
    return row;
  }

  async updateRegion(id: string, input: Input): Promise<RegionRow> {
    requireMatchingId(input, id);
    return this.core.write(async (trx) => {
      const parent = input["parent_region_id"] as string | null | undefined;
      // Keystone checks the new parent before the region itself.
      if (parent !== undefined && parent !== null && !(await store.getRegion(trx, parent))) {
        throw new NotFound(`Could not find region: ${parent}.`);
      }
      const cur = await this.getRegion(id, trx);
      if (parent) await this.assertNoCycle(trx, id, parent);
      const patch: Partial<RegionRow> = {};
      if (input["description"] !== undefined) patch.description = (input["description"] as string | null) ?? "";
      if (parent !== undefined) patch.parent_region_id = parent;
      const extra = extrasOf(input, REGION_KEYS);
      if (Object.keys(extra).length > 0) patch.extra = JSON.stringify({ ...json(cur.extra), ...extra });
      if (Object.keys(patch).length > 0) await store.updateRegion(trx, id, patch);
      return { ...cur, ...patch };
    });
  }

  private async assertNoCycle(q: Q, id: string, parent: string): Promise<void> {
    const seen = new Set<string>();
    let cur: string | null = parent;
    while (cur) {
      if (cur === id) {
        throw new BadRequest(`The specified parent region ${cur} would create a circular region hierarchy.`);
      }
      if (seen.has(cur)) return;
      seen.add(cur);
      cur = (await store.getRegion(q, cur))?.parent_region_id ?? null;
    }
  }

  /**
   * Keystone deletes a region together with all its child regions, unless any of them still
   * has endpoints (403 RegionDeletionError).
   */
  async deleteRegion(id: string): Promise<void> {
    await this.inUse(`region ${id}`, () => this.deleteRegionTree(id));
  }

  /**
   * Registered limits keep foreign keys to service and region (as Keystone's tables do);
   * Keystone on MySQL fails such a delete with a 500, we refuse it as a 403 instead.
   */
  private async inUse(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      if (isForeignKeyViolation(e)) throw new Forbidden(`Unable to delete ${what} because other resources still reference it.`);
      throw e;
    }
  }

  private async deleteRegionTree(id: string): Promise<void> {
    await this.core.write(async (trx) => {
      await this.getRegion(id, trx);
      const all = await store.listRegions(trx);
      const subtree: string[] = [id];
      for (let i = 0; i < subtree.length; i++) {
        for (const r of all) if (r.parent_region_id === subtree[i] && !subtree.includes(r.id)) subtree.push(r.id);
      }
      const used = await trx.selectFrom("endpoint").select("id").where("region_id", "in", subtree).executeTakeFirst();
      if (used) {
        throw new Forbidden(`Unable to delete region ${id} because it or its child regions have associated endpoints.`);
      }
      await store.deleteAssociationsFor(trx, "region_id", subtree);
      await store.deleteRegions(trx, subtree);
    });
  }

  // ---- services ---------------------------------------------------------------------------

  async getService(id: string, q: Q = this.core.db): Promise<ServiceRow> {
    const s = await store.getService(q, id);
    if (!s) throw new NotFound(`Could not find service: ${id}.`);
    return s;
  }

  async listServices(f: { type?: string; name?: string }): Promise<ServiceRow[]> {
    const f2: { type?: string } = {};
    if (f.type !== undefined) f2.type = f.type;
    const rows = await store.listServices(this.core.db, f2);
    // name lives in extra, as in Keystone, so it is filtered after the query.
    return f.name === undefined ? rows : rows.filter((s) => json<{ name?: unknown }>(s.extra).name === f.name);
  }

  async createService(raw: Input): Promise<ServiceRow> {
    const input = normalize(raw);
    const extra = extrasOf(input, SERVICE_KEYS);
    extra["name"] ??= "";
    const row: ServiceRow = {
      id: hexId(),
      type: input["type"] as string,
      enabled: input["enabled"] === false ? 0 : 1,
      extra: JSON.stringify(extra),
    };
    await this.core.write((trx) => store.insertService(trx, row));
    return row;
  }

  async updateService(id: string, input: Input): Promise<ServiceRow> {
    requireMatchingId(input, id);
    return this.core.write(async (trx) => {
      const cur = await this.getService(id, trx);
      const patch: Partial<ServiceRow> = {};
      if (input["type"] !== undefined) patch.type = input["type"] as string;
      if (input["enabled"] !== undefined) patch.enabled = input["enabled"] ? 1 : 0;
      const extra = extrasOf(input, SERVICE_KEYS);
      if (Object.keys(extra).length > 0) patch.extra = JSON.stringify({ ...json(cur.extra), ...extra });
      if (Object.keys(patch).length > 0) await store.updateService(trx, id, patch);
      return { ...cur, ...patch };
    });
  }

  /** Deleting a service deletes its endpoints (Keystone's catalog SQL driver). */
  async deleteService(id: string): Promise<void> {
    await this.inUse(`service ${id}`, () =>
      this.core.write(async (trx) => {
        await this.getService(id, trx);
        const eps = await store.listEndpoints(trx, { serviceId: id });
        await store.deleteEndpoints(
          trx,
          eps.map((e) => e.id),
        );
        await store.deleteAssociationsFor(trx, "service_id", [id]);
        await store.deleteService(trx, id);
      }),
    );
  }

  // ---- endpoints --------------------------------------------------------------------------

  async getEndpoint(id: string, q: Q = this.core.db): Promise<EndpointRow> {
    const e = await store.getEndpoint(q, id);
    if (!e) throw new NotFound(`Could not find endpoint: ${id}.`);
    return e;
  }

  async listEndpoints(f: store.EndpointFilter): Promise<EndpointRow[]> {
    return store.listEndpoints(this.core.db, f);
  }

  /**
   * The legacy `region` attribute (v2-style clients) names the region when region_id is
   * absent, and Keystone creates that region if it does not exist yet. Otherwise a `region`
   * sent next to region_id is kept as an extra attribute, as Keystone does.
   */
  private async resolveRegion(trx: IdentityTrx, input: Input): Promise<void> {
    if ((input["region_id"] === undefined || input["region_id"] === null) && typeof input["region"] === "string") {
      const legacy = input["region"];
      input["region_id"] = legacy;
      delete input["region"];
      await store.ensureRegion(trx, legacy);
    }
    const regionId = input["region_id"];
    if (typeof regionId === "string" && !(await store.getRegion(trx, regionId))) {
      throw validation("endpoint region_id", "region table");
    }
    const serviceId = input["service_id"];
    if (typeof serviceId === "string" && !(await store.getService(trx, serviceId))) {
      throw validation("endpoint service_id", "service table");
    }
  }

  async createEndpoint(raw: Input): Promise<EndpointRow> {
    const input = normalize(raw);
    const url = input["url"] as string;
    if (!validEndpointUrl(url)) throw new BadRequest(`Cannot create an endpoint with an invalid URL: ${url}.`);
    return this.core.write(async (trx) => {
      await this.resolveRegion(trx, input);
      const row: EndpointRow = {
        id: hexId(),
        interface: input["interface"] as string,
        service_id: input["service_id"] as string,
        url,
        region_id: (input["region_id"] as string | null | undefined) ?? null,
        enabled: input["enabled"] === false ? 0 : 1,
        extra: JSON.stringify(extrasOf(input, ENDPOINT_KEYS)),
      };
      await store.insertEndpoint(trx, row);
      return row;
    });
  }

  async updateEndpoint(id: string, raw: Input): Promise<EndpointRow> {
    const input = { ...raw };
    requireMatchingId(input, id);
    return this.core.write(async (trx) => {
      const cur = await this.getEndpoint(id, trx);
      await this.resolveRegion(trx, input);
      const patch: Partial<EndpointRow> = {};
      if (input["interface"] !== undefined) patch.interface = input["interface"] as string;
      if (input["service_id"] !== undefined) patch.service_id = input["service_id"] as string;
      if (input["url"] !== undefined) patch.url = input["url"] as string;
      if (input["region_id"] !== undefined) patch.region_id = (input["region_id"] as string | null) ?? null;
      if (input["enabled"] !== undefined) patch.enabled = input["enabled"] ? 1 : 0;
      const extra = extrasOf(input, ENDPOINT_KEYS);
      if (Object.keys(extra).length > 0) patch.extra = JSON.stringify({ ...json(cur.extra), ...extra });
      if (Object.keys(patch).length > 0) await store.updateEndpoint(trx, id, patch);
      return { ...cur, ...patch };
    });
  }

  async deleteEndpoint(id: string): Promise<void> {
    await this.core.write(async (trx) => {
      await this.getEndpoint(id, trx);
      await store.deleteEndpoints(trx, [id]);
    });
  }

  // ---- OS-EP-FILTER: endpoint groups ------------------------------------------------------

  async getEndpointGroup(id: string, q: Q = this.core.db): Promise<EndpointGroupRow> {
    const g = await store.getEndpointGroup(q, id);
    if (!g) throw new NotFound(`Could not find Endpoint Group: ${id}.`);
    return g;
  }

  async listEndpointGroups(f: { name?: string }): Promise<EndpointGroupRow[]> {
    return store.listEndpointGroups(this.core.db, f);
  }

  private static checkFilters(filters: unknown): Record<string, unknown> {
    const f = (filters ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(f)) {
      if (!(FILTER_KEYS as readonly string[]).includes(k)) throw validation(FILTER_KEYS.join(" or "), "endpoint_group");
    }
    return f;
  }

  async createEndpointGroup(input: Input): Promise<EndpointGroupRow> {
    const filters = input["filters"] as Record<string, unknown> | undefined;
    if (!filters || Object.keys(filters).length === 0) throw new BadRequest("filters field is required and cannot be empty");
    CatalogManager.checkFilters(filters);
    const row: EndpointGroupRow = {
      id: hexId(),
      name: input["name"] as string,
      description: (input["description"] as string | null | undefined) ?? null,
      filters: JSON.stringify(filters),
    };
    await this.core.write((trx) => store.insertEndpointGroup(trx, row));
    return row;
  }

  async updateEndpointGroup(id: string, input: Input): Promise<EndpointGroupRow> {
    if (input["filters"] !== undefined) CatalogManager.checkFilters(input["filters"]);
    requireMatchingId(input, id);
    return this.core.write(async (trx) => {
      const cur = await this.getEndpointGroup(id, trx);
      const patch: Partial<EndpointGroupRow> = {};
      if (input["name"] !== undefined) patch.name = input["name"] as string;
      if (input["description"] !== undefined) patch.description = (input["description"] as string | null) ?? null;
      if (input["filters"] !== undefined) patch.filters = JSON.stringify(input["filters"]);
      if (Object.keys(patch).length > 0) await store.updateEndpointGroup(trx, id, patch);
      return { ...cur, ...patch };
    });
  }

  async deleteEndpointGroup(id: string): Promise<void> {
    await this.core.write(async (trx) => {
      await this.getEndpointGroup(id, trx);
      await store.deleteEndpointGroup(trx, id);
    });
  }

  /** Endpoints whose attributes equal every filter of the group (exact match, as Keystone). */
  async endpointsInGroup(id: string, q: Q = this.core.db): Promise<EndpointRow[]> {
    const g = await this.getEndpointGroup(id, q);
    return this.matchGroup(g, await store.listEndpoints(q));
  }

  private matchGroup(g: EndpointGroupRow, endpoints: EndpointRow[]): EndpointRow[] {
    const filters = json(g.filters);
    return endpoints.filter((e) => {
      const attrs: Record<string, unknown> = { ...json(e.extra), service_id: e.service_id, region_id: e.region_id, interface: e.interface };
      return Object.entries(filters).every(([k, v]) => attrs[k] === v);
    });
  }

  async projectIdsForGroup(id: string): Promise<string[]> {
    return store.projectIdsForGroup(this.core.db, id);
  }

  async groupsForProject(projectId: string): Promise<EndpointGroupRow[]> {
    const ids = await store.groupIdsForProject(this.core.db, projectId);
    return store.listEndpointGroups(this.core.db, { ids });
  }

  async checkGroupInProject(groupId: string, projectId: string): Promise<void> {
    if (!(await store.getProjectEndpointGroup(this.core.db, groupId, projectId))) {
      throw new NotFound("Endpoint Group Project Association not found");
    }
  }

  async addGroupToProject(groupId: string, projectId: string): Promise<void> {
    try {
      await this.core.write(async (trx) => {
        await this.getEndpointGroup(groupId, trx);
        await store.insertProjectEndpointGroup(trx, groupId, projectId);
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict("Conflict occurred attempting to store project_endpoint_group - Duplicate entry.");
      throw e;
    }
  }

  async removeGroupFromProject(groupId: string, projectId: string): Promise<void> {
    await this.core.write(async (trx) => {
      const n = await store.deleteProjectEndpointGroup(trx, groupId, projectId);
      if (n === 0) throw new NotFound("Endpoint Group Project Association not found");
    });
  }

  // ---- OS-EP-FILTER: project ↔ endpoint ---------------------------------------------------

  async checkEndpointInProject(endpointId: string, projectId: string): Promise<void> {
    if (!(await store.getProjectEndpoint(this.core.db, endpointId, projectId))) {
      throw new NotFound(`Endpoint ${endpointId} not found in project ${projectId}`);
    }
  }

  async addEndpointToProject(endpointId: string, projectId: string): Promise<void> {
    try {
      await this.core.write(async (trx) => {
        await this.getEndpoint(endpointId, trx);
        await store.insertProjectEndpoint(trx, endpointId, projectId);
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict("Conflict occurred attempting to store project_endpoint - Duplicate entry.");
      throw e;
    }
  }

  async removeEndpointFromProject(endpointId: string, projectId: string): Promise<void> {
    await this.core.write(async (trx) => {
      const n = await store.deleteProjectEndpoint(trx, endpointId, projectId);
      if (n === 0) throw new NotFound(`Endpoint ${endpointId} not found in project ${projectId}`);
    });
  }

  async projectIdsForEndpoint(endpointId: string): Promise<string[]> {
    return store.projectIdsForEndpoint(this.core.db, endpointId);
  }

  /**
   * Keystone's list_endpoints_for_project: directly associated endpoints, then those of the
   * project's endpoint groups; disabled ones included (the catalog drops them itself).
   */
  async endpointsForProject(projectId: string, q: Q = this.core.db): Promise<Map<string, EndpointRow>> {
    const out = new Map<string, EndpointRow>();
    const direct = await store.endpointIdsForProject(q, projectId);
    const groupIds = await store.groupIdsForProject(q, projectId);
    if (direct.length === 0 && groupIds.length === 0) return out;
    const all = await store.listEndpoints(q);
    const byId = new Map(all.map((e) => [e.id, e]));
    for (const id of direct) {
      const e = byId.get(id);
      if (e) out.set(id, e);
    }
    for (const g of await store.listEndpointGroups(q, { ids: groupIds })) {
      for (const e of this.matchGroup(g, all)) if (!out.has(e.id)) out.set(e.id, e);
    }
    return out;
  }

  // ---- policies (v3 /policies blobs) ------------------------------------------------------

  async getPolicy(id: string, q: Q = this.core.db): Promise<PolicyRow> {
    const p = await store.getPolicy(q, id);
    if (!p) throw new NotFound(`Could not find policy: ${id}.`);
    return p;
  }

  async listPolicies(f: { type?: string }): Promise<PolicyRow[]> {
    return store.listPolicies(this.core.db, f);
  }

  async createPolicy(raw: Input): Promise<PolicyRow> {
    const input = normalize(raw);
    const row: PolicyRow = {
      id: hexId(),
      blob: JSON.stringify(input["blob"]),
      type: input["type"] as string,
      extra: JSON.stringify(extrasOf(input, POLICY_KEYS)),
    };
    await this.core.write((trx) => store.insertPolicy(trx, row));
    return row;
  }

  async updatePolicy(id: string, input: Input): Promise<PolicyRow> {
    if ("id" in input && input["id"] !== id) throw new BadRequest("Cannot change policy ID");
    return this.core.write(async (trx) => {
      const cur = await this.getPolicy(id, trx);
      const patch: Partial<PolicyRow> = {};
      if (input["blob"] !== undefined) patch.blob = JSON.stringify(input["blob"]);
      if (input["type"] !== undefined) patch.type = input["type"] as string;
      const extra = extrasOf(input, POLICY_KEYS);
      if (Object.keys(extra).length > 0) patch.extra = JSON.stringify({ ...json(cur.extra), ...extra });
      if (Object.keys(patch).length > 0) await store.updatePolicy(trx, id, patch);
      return { ...cur, ...patch };
    });
  }

  async deletePolicy(id: string): Promise<void> {
    await this.core.write(async (trx) => {
      await this.getPolicy(id, trx);
      await store.deletePolicy(trx, id);
    });
  }

  // ---- OS-ENDPOINT-POLICY -----------------------------------------------------------------

  async createPolicyAssociation(policyId: string, t: AssociationTarget): Promise<void> {
    await this.core.write((trx) =>
      store.upsertAssociation(trx, {
        id: hexId(),
        policy_id: policyId,
        endpoint_id: t.endpointId ?? null,
        service_id: t.serviceId ?? null,
        region_id: t.regionId ?? null,
        target_key: store.targetKey(t),
      }),
    );
  }

  async checkPolicyAssociation(policyId: string, t: AssociationTarget): Promise<void> {
    const a = await store.getAssociation(this.core.db, t);
    if (!a || a.policy_id !== policyId) throw new NotFound("Could not find policy association.");
  }

  async deletePolicyAssociation(policyId: string, t: AssociationTarget): Promise<void> {
    await this.core.write((trx) => store.deleteAssociation(trx, policyId, t));
  }

  /**
   * Keystone's list_endpoints_for_policy: explicit endpoints, every endpoint of an associated
   * service, and for a service+region association the service's endpoints in that region and
   * all regions below it (entries may repeat, as in Keystone).
   */
  async endpointsForPolicy(policyId: string): Promise<EndpointRow[]> {
    const q = this.core.db;
    const endpoints = await store.listEndpoints(q);
    const regions = await store.listRegions(q);
    const out: EndpointRow[] = [];
    for (const a of await store.associationsForPolicy(q, policyId)) {
      if (a.endpoint_id !== null) {
        const e = endpoints.find((x) => x.id === a.endpoint_id);
        if (e) out.push(e);
      } else if (a.service_id !== null && a.region_id === null) {
        out.push(...endpoints.filter((e) => e.service_id === a.service_id));
      } else if (a.service_id !== null && a.region_id !== null) {
        const examined = new Set<string>();
        const walk = (regionId: string): void => {
          if (examined.has(regionId)) return;
          examined.add(regionId);
          out.push(...endpoints.filter((e) => e.service_id === a.service_id && e.region_id === regionId));
          for (const r of regions) if (r.parent_region_id === regionId) walk(r.id);
        };
        walk(a.region_id);
      }
    }
    return out;
  }

  /**
   * Keystone's get_policy_for_endpoint: an explicit endpoint association, else a
   * service+region association on the endpoint's region or its ancestors, else a service one.
   */
  async policyForEndpoint(endpointId: string): Promise<PolicyRow> {
    const q = this.core.db;
    const find = async (t: AssociationTarget): Promise<PolicyRow | undefined> => {
      const a = await store.getAssociation(q, t);
      return a ? this.getPolicy(a.policy_id, q) : undefined;
    };
    const direct = await find({ endpointId });
    if (direct) return direct;
    const e = await this.getEndpoint(endpointId, q);
    const seen = new Set<string>();
    let regionId = e.region_id;
    while (regionId !== null && !seen.has(regionId)) {
      const p = await find({ serviceId: e.service_id, regionId });
      if (p) return p;
      seen.add(regionId);
      regionId = (await store.getRegion(q, regionId))?.parent_region_id ?? null;
    }
    const bySvc = await find({ serviceId: e.service_id });
    if (bySvc) return bySvc;
    throw new NotFound(`No policy is associated with endpoint ${endpointId}.`);
  }
}
