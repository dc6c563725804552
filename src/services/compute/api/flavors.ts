import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { FlavorManager, NewFlavor } from "../manager/flavors.js";
import type { Flavor } from "./deps.js";
import { boolField, descriptionField, envelope, intField, invalidField, invalidQuery, limitParam, nameField, noAdditional, parseBool, pyRepr, required } from "./fleet-validate.js";
import { collectionLinks, MAX_LIMIT, resourceLinks, strictQuery } from "./fleet-links.js";

const SORT_KEYS = ["created_at", "description", "disabled", "ephemeral_gb", "flavorid", "id", "is_public", "memory_mb", "name", "root_gb", "rxtx_factor", "swap", "updated_at", "vcpu_weight", "vcpus"];
const LIST_PARAMS = ["limit", "marker", "is_public", "minRam", "minDisk", "sort_key", "sort_dir"];

export function isAdmin(ctx: RequestContext): boolean {
  return ctx.allowed("context_is_admin", {});
}

/** nova/api/openstack/compute/views/flavors.py show(): the detail view of one flavor per microversion. */
export function flavorDetail(ctx: RequestContext, f: Flavor, extraSpecs: boolean): Record<string, unknown> {
  const v = ctx.version!;
  const out: Record<string, unknown> = {
    id: f.id,
    name: f.name,
    ram: f.ram,
    disk: f.disk,
    // Before 2.75 a zero swap is shown as "" (Nova's `swap or ""`).
    swap: v.atLeast("2.75") ? f.swap : f.swap || "",
    "OS-FLV-EXT-DATA:ephemeral": f.ephemeral,
    "OS-FLV-DISABLED:disabled": f.disabled,
    vcpus: f.vcpus,
    "os-flavor-access:is_public": f.is_public,
    rxtx_factor: f.rxtx_factor,
    links: resourceLinks(ctx, "flavors", f.id),
  };
  if (v.atLeast("2.55")) out["description"] = f.description;
  if (extraSpecs) out["extra_specs"] = f.extra_specs;
  return out;
}

/** Whether the 2.61 extra_specs field is shown (the caller may read extra specs). */
function showSpecs(ctx: RequestContext): boolean {
  return ctx.version!.atLeast("2.61") && ctx.allowed("os_compute_api:os-flavor-extra-specs:index", { project_id: ctx.caller.projectId });
}

function parseCreate(ctx: RequestContext): NewFlavor {
  const v = ctx.version!;
  const f = envelope(ctx.body, "flavor");
  const allowed = ["name", "id", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral", "swap", "rxtx_factor", "os-flavor-access:is_public"];
  if (v.atLeast("2.55")) allowed.push("description");
  required(f, ["name", "ram", "vcpus", "disk"], "flavor");
  noAdditional(f, allowed, "flavor");
  const name = nameField("name", f["name"]);
  let id: string | undefined;
  const rawId = f["id"];
  if (rawId !== undefined && rawId !== null) {
    if (typeof rawId !== "string" && typeof rawId !== "number") throw invalidField("id", rawId, `${pyRepr(rawId)} is not of type 'string', 'number', 'null'`);
    if (typeof rawId === "string") {
      if (rawId.length < 1) throw invalidField("id", rawId, `${pyRepr(rawId)} is too short`);
      if (rawId.length > 255) throw invalidField("id", rawId, `${pyRepr(rawId)} is too long`);
      if (!/^(?! )[a-zA-Z0-9. _-]+(?<! )$/.test(rawId)) throw invalidField("id", rawId, `${pyRepr(rawId)} does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'`);
    }
    id = String(rawId);
  }
  const ram = intField("ram", f["ram"], 1);
  const vcpus = intField("vcpus", f["vcpus"], 1);
  const disk = intField("disk", f["disk"], 0);
  const ephemeral = f["OS-FLV-EXT-DATA:ephemeral"] === undefined ? 0 : intField("OS-FLV-EXT-DATA:ephemeral", f["OS-FLV-EXT-DATA:ephemeral"], 0);
  const swap = f["swap"] === undefined ? 0 : intField("swap", f["swap"], 0);
  let rxtx = 1.0;
  if (f["rxtx_factor"] !== undefined) {
    const r = f["rxtx_factor"];
    if (typeof r === "string" && !/^[0-9]+(\.[0-9]+)?$/.test(r)) throw invalidField("rxtx_factor", r, `${pyRepr(r)} does not match '^[0-9]+(\\.[0-9]+)?$'`);
    if (typeof r !== "string" && typeof r !== "number") throw invalidField("rxtx_factor", r, `${pyRepr(r)} is not of type 'number', 'string'`);
    rxtx = Number(r);
    if (!(rxtx > 0)) throw invalidField("rxtx_factor", r, `${pyRepr(r)} is less than or equal to the minimum of 0`);
    if (rxtx > 3.40282e38) throw invalidField("rxtx_factor", r, `${pyRepr(r)} is greater than the maximum of 3.40282e+38`);
  }
  const isPublic = f["os-flavor-access:is_public"] === undefined ? true : boolField("os-flavor-access:is_public", f["os-flavor-access:is_public"]);
  const description = v.atLeast("2.55") && f["description"] !== undefined ? descriptionField("description", f["description"]) : null;
  const out: NewFlavor = { name, ram, vcpus, disk, ephemeral, swap, rxtx_factor: rxtx, is_public: isPublic, description };
  if (id !== undefined) out.id = id;
  return out;
}

/** /flavors, /flavors/detail, /flavors/{id} and flavor management (flavors.py, flavor_manage.py). */
export function flavorRoutes(flavors: FlavorManager): Route[] {
  const list = async (ctx: RequestContext, detail: boolean) => {
    const v = ctx.version!;
    if (v.atLeast("2.75")) {
      const bad = strictQuery(ctx, LIST_PARAMS);
      if (bad) throw new BadRequest(bad);
    }
    const sortKey = ctx.q("sort_key") ?? "flavorid";
    if (!SORT_KEYS.includes(sortKey)) throw invalidQuery("sort_key", sortKey, `'${sortKey}' is not one of ${pyRepr(SORT_KEYS)}`);
    const sortDir = ctx.q("sort_dir") ?? "asc";
    if (sortDir !== "asc" && sortDir !== "desc") throw invalidQuery("sort_dir", sortDir, `'${sortDir}' is not one of ['asc', 'desc']`);
    const limitRaw = limitParam(ctx.q("limit"));
    const limit = Math.min(MAX_LIMIT, limitRaw ?? MAX_LIMIT);
    const admin = isAdmin(ctx);
    let isPublic: boolean | null = true;
    const ip = ctx.q("is_public");
    if (admin && ip !== undefined) {
      if (ip.toLowerCase() === "none") isPublic = null;
      else {
        const b = parseBool(ip);
        if (b === undefined) throw new BadRequest(`Invalid is_public filter [${ip}]`);
        isPublic = b;
      }
    }
    const query: Parameters<FlavorManager["list"]>[0] = { isPublic, projectId: ctx.caller.projectId, admin, sortKey, sortDir, limit };
    const minRam = ctx.q("minRam");
    if (minRam !== undefined) {
      if (!/^-?\d+$/.test(minRam.trim())) throw new BadRequest(`Invalid minRam filter [${minRam}]`);
      query.minRam = Number(minRam);
    }
    const minDisk = ctx.q("minDisk");
    if (minDisk !== undefined) {
      if (!/^-?\d+$/.test(minDisk.trim())) throw new BadRequest(`Invalid minDisk filter [${minDisk}]`);
      query.minDisk = Number(minDisk);
    }
    const marker = ctx.q("marker");
    if (marker !== undefined) query.marker = marker;
    const rows = await flavors.list(query);
    const specs = detail && showSpecs(ctx);
    const items = rows.map((f) => {
      if (detail) return flavorDetail(ctx, f, specs);
      const b: Record<string, unknown> = { id: f.id, name: f.name, links: resourceLinks(ctx, "flavors", f.id) };
      if (v.atLeast("2.55")) b["description"] = f.description;
      return b;
    });
    const body: Record<string, unknown> = { flavors: items };
    const links = collectionLinks(ctx, detail ? "flavors/detail" : "flavors", rows.length, limitRaw, rows[rows.length - 1]?.id);
    if (links.length > 0) body["flavors_links"] = links;
    return { body };
  };
  return [
    { method: "GET", path: "/v2.1/flavors", operation: "listFlavors", handler: (ctx) => list(ctx, false) },
    { method: "GET", path: "/v2.1/flavors/detail", operation: "listFlavorsWithDetails", handler: (ctx) => list(ctx, true) },
    {
      method: "GET",
      path: "/v2.1/flavors/:flavor_id",
      operation: "showFlavor",
      handler: async (ctx) => {
        const f = await flavors.show(ctx.params["flavor_id"]!, { admin: isAdmin(ctx), projectId: ctx.caller.projectId });
        return { body: { flavor: flavorDetail(ctx, f, showSpecs(ctx)) } };
      },
    },
    {
      method: "POST",
      path: "/v2.1/flavors",
      operation: "createFlavor",
      policy: "os_compute_api:os-flavor-manage:create",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-flavor-manage:create", {});
        const f = await flavors.create(parseCreate(ctx));
        return { body: { flavor: flavorDetail(ctx, f, showSpecs(ctx)) } };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/flavors/:flavor_id",
      operation: "updateFlavor",
      policy: "os_compute_api:os-flavor-manage:update",
      minVersion: "2.55",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-flavor-manage:update", {});
        const body = envelope(ctx.body, "flavor");
        required(body, ["description"], "flavor");
        noAdditional(body, ["description"], "flavor");
        const d = descriptionField("description", body["description"]);
        const f = await flavors.updateDescription(ctx.params["flavor_id"]!, d);
        return { body: { flavor: flavorDetail(ctx, f, showSpecs(ctx)) } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/flavors/:flavor_id",
      operation: "deleteFlavor",
      policy: "os_compute_api:os-flavor-manage:delete",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-flavor-manage:delete", {});
        await flavors.delete(ctx.params["flavor_id"]!);
        return { status: 202 };
      },
    },
  ];
}
