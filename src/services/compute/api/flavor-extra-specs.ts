import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { FlavorManager } from "../manager/flavors.js";
import { validateExtraSpec } from "../manager/extra-specs.js";
import { invalidField, isObject, pyRepr } from "./fleet-validate.js";

const KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;

/**
 * Extra specs values: strings up to 255 characters or numbers (stored as their string); at
 * 2.86+ keys in Nova's known namespaces are validated (flavors_extraspecs.py).
 */
function checkSpecs(ctx: RequestContext, specs: Record<string, unknown>, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(specs)) {
    if (!KEY.test(k)) throw invalidField(field, specs, `Additional properties are not allowed (${pyRepr(k)} was unexpected)`);
    let s: string;
    if (typeof v === "string") {
      if (v.length > 255) throw invalidField(k, v, `${pyRepr(v)} is too long`);
      s = v;
    } else if (typeof v === "number") {
      s = String(v);
      if (s.length > 255) throw new BadRequest("extra_specs value has a maximum of 255 characters.");
    } else throw invalidField(k, v, `${pyRepr(v)} is not of type 'string', 'number'`);
    if (ctx.version!.atLeast("2.86")) validateExtraSpec(k, s);
    out[k] = s;
  }
  return out;
}

/** /flavors/{flavor_id}/os-extra_specs (flavors_extraspecs.py). */
export function flavorExtraSpecRoutes(flavors: FlavorManager): Route[] {
  const P = "/v2.1/flavors/:flavor_id/os-extra_specs";
  const fid = (ctx: RequestContext) => ctx.params["flavor_id"]!;
  return [
    {
      method: "GET",
      path: P,
      operation: "listFlavorExtraSpecs",
      policy: "os_compute_api:os-flavor-extra-specs:index",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-flavor-extra-specs:index", { project_id: ctx.caller.projectId });
        const f = await flavors.require(fid(ctx));
        return { body: { extra_specs: f.extra_specs } };
      },
    },
    {
      method: "POST",
      path: P,
      operation: "createFlavorExtraSpecs",
      policy: "os_compute_api:os-flavor-extra-specs:create",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-flavor-extra-specs:create", {});
        const body = ctx.body;
        if (!isObject(body)) throw new BadRequest(`${pyRepr(body)} is not of type 'object'`);
        if (!("extra_specs" in body)) throw new BadRequest("'extra_specs' is a required property");
        const extra = Object.keys(body).filter((k) => k !== "extra_specs");
        if (extra.length > 0) throw new BadRequest(`Additional properties are not allowed (${extra.map(pyRepr).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`);
        const specs = body["extra_specs"];
        if (!isObject(specs)) throw invalidField("extra_specs", specs, `${pyRepr(specs)} is not of type 'object'`);
        const clean = checkSpecs(ctx, specs, "extra_specs");
        await flavors.setExtraSpecs(fid(ctx), clean);
        return { body: { extra_specs: specs } };
      },
    },
    {
      method: "GET",
      path: `${P}/:key`,
      operation: "showFlavorExtraSpec",
      policy: "os_compute_api:os-flavor-extra-specs:show",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-flavor-extra-specs:show", { project_id: ctx.caller.projectId });
        const f = await flavors.require(fid(ctx));
        const key = ctx.params["key"]!;
        const v = f.extra_specs[key];
        if (v === undefined) throw new NotFound(`Flavor ${fid(ctx)} has no extra specs with key ${key}.`);
        return { body: { [key]: v } };
      },
    },
    {
      method: "PUT",
      path: `${P}/:key`,
      operation: "updateFlavorExtraSpec",
      policy: "os_compute_api:os-flavor-extra-specs:update",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-flavor-extra-specs:update", {});
        const body = ctx.body;
        if (!isObject(body)) throw new BadRequest(`${pyRepr(body)} is not of type 'object'`);
        const n = Object.keys(body).length;
        if (n < 1) throw new BadRequest(`${pyRepr(body)} does not have enough properties`);
        if (n > 1) throw new BadRequest(`${pyRepr(body)} has too many properties`);
        const clean = checkSpecs(ctx, body, "extra_specs");
        const key = ctx.params["key"]!;
        if (!(key in body)) throw new BadRequest("Request body and URI mismatch");
        await flavors.setExtraSpecs(fid(ctx), clean);
        return { body };
      },
    },
    {
      method: "DELETE",
      path: `${P}/:key`,
      operation: "deleteFlavorExtraSpec",
      policy: "os_compute_api:os-flavor-extra-specs:delete",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-flavor-extra-specs:delete", {});
        await flavors.deleteExtraSpec(fid(ctx), ctx.params["key"]!);
        return { status: 200 };
      },
    },
  ];
}
