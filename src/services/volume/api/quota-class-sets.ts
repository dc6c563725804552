import { BadRequest, Forbidden } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { QuotasManager } from "../manager/quotas.js";
import { invalidField, isObject, noAdditional, pyRepr } from "./catalog-validate.js";
import { isAdmin } from "./common.js";
import { DB_MAX_INT } from "./quota-sets.js";
import { own } from "./types.js";

const KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;

/** parameter_types.quota_class_set: integer or digit string, -1..MAX_INT; then the known-keys format check. */
function parseClassSet(v: unknown, known: Set<string>): Record<string, number> {
  if (!isObject(v)) throw invalidField("quota_class_set", v, `${pyRepr(v)} is not of type 'object'`);
  const bad = Object.keys(v).filter((k) => !KEY.test(k));
  if (bad.length) throw invalidField("quota_class_set", v, `Additional properties are not allowed (${bad.map(pyRepr).join(", ")} ${bad.length === 1 ? "was" : "were"} unexpected)`);
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === "string") {
      if (x.length < 1) throw invalidField(k, x, `${pyRepr(x)} is too short`);
      if (!/^[0-9]*$/.test(x)) throw invalidField(k, x, `${pyRepr(x)} does not match '^[0-9]*$'`);
      const n = Number(x);
      if (n > DB_MAX_INT) throw invalidField(k, x, `${pyRepr(x)} is greater than the maximum of ${DB_MAX_INT}`);
      out[k] = n;
    } else if (typeof x === "number" && Number.isInteger(x)) {
      if (x < -1) throw invalidField(k, x, `${x} is less than the minimum of -1`);
      if (x > DB_MAX_INT) throw invalidField(k, x, `${x} is greater than the maximum of ${DB_MAX_INT}`);
      out[k] = x;
    } else throw invalidField(k, x, `${pyRepr(x)} is not of type 'integer', 'string'`);
  }
  const unknown = Object.keys(out).filter((k) => !known.has(k));
  if (unknown.length) throw new BadRequest(`Invalid input received: Bad key(s) in quota class set: ${unknown.join(", ")}`);
  return out;
}

/** cinder/api/contrib/quota_classes.py: /os-quota-class-sets/{class_name}. */
export function quotaClassSetsRoutes(quotas: QuotasManager): Route[] {
  return [
    {
      method: "GET",
      path: "/os-quota-class-sets/:quota_class",
      operation: "showQuotaClassSet",
      policy: "volume_extension:quota_classes:get",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:quota_classes:get", own(ctx));
        // authorize_quota_class_context: a non-admin may read only its own class (it has none).
        if (!isAdmin(ctx)) throw new Forbidden();
        const cls = ctx.params["quota_class"]!;
        return { body: { quota_class_set: { ...(await quotas.classQuotas(cls)), id: cls } } };
      },
    },
    {
      method: "PUT",
      path: "/os-quota-class-sets/:quota_class",
      operation: "updateQuotaClassSet",
      policy: "volume_extension:quota_classes:update",
      handler: async (ctx) => {
        const b = ctx.body;
        if (!isObject(b)) throw new BadRequest(`${pyRepr(b ?? null)} is not of type 'object'`);
        if (!("quota_class_set" in b)) throw new BadRequest("'quota_class_set' is a required property");
        noAdditional(b, ["quota_class_set"], undefined);
        const values = parseClassSet(b["quota_class_set"], new Set(await quotas.resourceNames()));
        ctx.enforce("volume_extension:quota_classes:update", own(ctx));
        const cls = ctx.params["quota_class"]!;
        if (cls.length > 255) throw new BadRequest("quota_class_name has a length outside 1-255.");
        await quotas.setClass(cls, values);
        return { body: { quota_class_set: await quotas.classQuotas(cls) } };
      },
    },
  ];
}
