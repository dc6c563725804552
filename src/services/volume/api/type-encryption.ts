import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import { encryptionNotFound, TypeEncryptionManager } from "../manager/type-encryption.js";
import type { EncryptionRow, EncryptionSpec } from "../manager/type-encryption.js";
import { invalidField, isObject, pyRepr } from "./catalog-validate.js";
import { cinderTime } from "./common.js";
import type { Volume } from "./deps.js";
import { own, viewerOf } from "./types.js";

const DB_MAX_INT = 0x7fffffff;
const CONTROL_LOCATIONS = ["front-end", "back-end"];

/** Python's repr of a number jsonschema compared (ints as such, floats with their ".0"). */
function pyNum(n: number, isFloat: boolean): string {
  if (!isFloat) return String(n);
  if (Number.isNaN(n)) return "nan";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  return Number.isInteger(n) && Math.abs(n) < 1e16 ? `${n}.0` : String(n);
}

/** _SchemaValidator._number_from_str: int(v), else float(v), else None (no bound check). */
function numberFromStr(v: unknown): { n: number; isFloat: boolean } | undefined {
  if (typeof v === "number") return { n: v, isFloat: !Number.isInteger(v) };
  if (typeof v !== "string") return undefined;
  const s = v.trim();
  if (/^[+-]?\d+(_\d+)*$/.test(s)) return { n: Number(s.replaceAll("_", "")), isFloat: false };
  if (/^[+-]?(\d+(_\d+)*\.?(\d+(_\d+)*)?|\.\d+(_\d+)*)([eE][+-]?\d+)?$/.test(s)) return { n: Number(s.replaceAll("_", "")), isFloat: true };
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (special) return { n: special[2]!.toLowerCase() === "nan" ? NaN : special[1] === "-" ? -Infinity : Infinity, isFloat: true };
  return undefined;
}

const pyLen = (s: string) => [...s].length;

/**
 * api/schemas/volume_type_encryption.py (create; update with nothing required) as Cinder's
 * Draft 4 validator reports the first error: the root's type, then `encryption`'s properties in
 * schema order (key_size, provider, control_location, cipher), its required fields, then the
 * root's required and additionalProperties. Returns the request's encryption object with
 * key_size made an integer (the controller's int()), and the fields to store.
 */
function validateEncryption(body: unknown, create: boolean): { echo: Record<string, unknown>; spec: EncryptionSpec } {
  if (!isObject(body)) throw new BadRequest(`${pyRepr(body ?? null)} is not of type 'object'`);
  const spec: EncryptionSpec = {};
  let echo: Record<string, unknown> = {};
  if ("encryption" in body) {
    const e = body["encryption"];
    if (!isObject(e)) throw invalidField("encryption", e, `${pyRepr(e)} is not of type 'object'`);
    if ("key_size" in e) {
      const k = e["key_size"];
      if (!(k === null || typeof k === "string" || (typeof k === "number" && Number.isInteger(k)))) {
        throw invalidField("key_size", k, `${pyRepr(k)} is not of type 'string', 'integer', 'null'`);
      }
      const num = numberFromStr(k);
      if (num && num.n < 0) throw invalidField("key_size", k, `${pyNum(num.n, num.isFloat)} is less than the minimum of 0`);
      if (num && num.n > DB_MAX_INT) throw invalidField("key_size", k, `${pyNum(num.n, num.isFloat)} is greater than the maximum of ${DB_MAX_INT}`);
      // format 'key_size': strutils.is_int_like (str(int(v)) == str(v)); the checker's
      // InvalidInput escapes the format checker (registered without `raises`), so that is the answer.
      if (typeof k === "string" && !/^(0|-?[1-9]\d*)$/.test(k)) throw new BadRequest("Invalid input received: key_size must be an integer.");
      spec.key_size = k === null ? null : Number(k);
    }
    if ("provider" in e) {
      const p = e["provider"];
      if (typeof p !== "string") throw invalidField("provider", p, `${pyRepr(p)} is not of type 'string'`);
      if (pyLen(p) > 255) throw invalidField("provider", p, `${pyRepr(p)} is too long`);
      spec.provider = p;
    }
    if ("control_location" in e) {
      const c = e["control_location"];
      if (typeof c !== "string" || !CONTROL_LOCATIONS.includes(c)) throw invalidField("control_location", c, `${pyRepr(c)} is not one of ${pyRepr(CONTROL_LOCATIONS)}`);
      spec.control_location = c;
    }
    if ("cipher" in e) {
      const c = e["cipher"];
      if (c !== null && typeof c !== "string") throw invalidField("cipher", c, `${pyRepr(c)} is not of type 'string', 'null'`);
      if (typeof c === "string" && pyLen(c) > 255) throw invalidField("cipher", c, `${pyRepr(c)} is too long`);
      spec.cipher = c;
    }
    if (create) {
      for (const r of ["provider", "control_location"]) if (!(r in e)) throw invalidField("encryption", e, `'${r}' is a required property`);
    }
    echo = { ...e };
    if ("key_size" in spec) echo["key_size"] = spec.key_size;
  }
  if (!("encryption" in body)) throw new BadRequest("'encryption' is a required property");
  const extra = Object.keys(body).filter((k) => k !== "encryption");
  if (extra.length) {
    throw new BadRequest(`Additional properties are not allowed (${extra.map(pyRepr).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`);
  }
  return { echo, spec };
}

/** The model's items() as the index answers them (CinderBase columns included). */
function encryptionView(r: EncryptionRow): Record<string, unknown> {
  return {
    created_at: cinderTime(r.created_at),
    updated_at: cinderTime(r.updated_at),
    deleted_at: null,
    deleted: false,
    encryption_id: r.encryption_id,
    cipher: r.cipher,
    key_size: r.key_size === null ? null : Number(r.key_size),
    provider: r.provider,
    control_location: r.control_location,
    volume_type_id: r.volume_type_id,
  };
}

/**
 * cinder/api/contrib/volume_type_encryption.py: /types/{type_id}/encryption[/{encryption_id}]
 * (admin only by policy). The id in the member URL is only a key for show (one field of the
 * encryption); update and delete ignore it, as Cinder does.
 */
export function typeEncryptionRoutes(v: Volume): Route[] {
  const enc = new TypeEncryptionManager(v);
  const typeId = (ctx: RequestContext) => ctx.params["type_id"]!;
  return [
    {
      method: "GET",
      path: "/types/:type_id/encryption",
      operation: "showVolumeTypeEncryption",
      policy: "volume_extension:volume_type_encryption:get",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:volume_type_encryption:get", own(ctx));
        const r = await enc.show(typeId(ctx), viewerOf(ctx));
        return { body: r ? encryptionView(r) : {} };
      },
    },
    {
      method: "POST",
      path: "/types/:type_id/encryption",
      operation: "createVolumeTypeEncryption",
      policy: "volume_extension:volume_type_encryption:create",
      handler: async (ctx) => {
        const { echo, spec } = validateEncryption(ctx.body, true);
        ctx.enforce("volume_extension:volume_type_encryption:create", own(ctx));
        const r = await enc.create(typeId(ctx), viewerOf(ctx), spec);
        // Cinder answers the request body, which the DB call completed with the two ids.
        return { body: { encryption: { ...echo, volume_type_id: r.volume_type_id, encryption_id: r.encryption_id } } };
      },
    },
    {
      method: "GET",
      path: "/types/:type_id/encryption/:key",
      operation: "showVolumeTypeEncryptionSpec",
      policy: "volume_extension:volume_type_encryption:get",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:volume_type_encryption:get", own(ctx));
        const id = typeId(ctx);
        const key = ctx.params["key"]!;
        const r = await enc.show(id, viewerOf(ctx));
        const view = r ? encryptionView(r) : {};
        if (!Object.hasOwn(view, key)) throw encryptionNotFound(id);
        return { body: { [key]: view[key] } };
      },
    },
    {
      method: "PUT",
      path: "/types/:type_id/encryption/:key",
      operation: "updateVolumeTypeEncryption",
      policy: "volume_extension:volume_type_encryption:update",
      handler: async (ctx) => {
        const { echo, spec } = validateEncryption(ctx.body, false);
        ctx.enforce("volume_extension:volume_type_encryption:update", own(ctx));
        await enc.update(typeId(ctx), viewerOf(ctx), spec);
        return { body: { encryption: echo } };
      },
    },
    {
      method: "DELETE",
      path: "/types/:type_id/encryption/:key",
      operation: "deleteVolumeTypeEncryption",
      policy: "volume_extension:volume_type_encryption:delete",
      handler: async (ctx) => {
        ctx.enforce("volume_extension:volume_type_encryption:delete", own(ctx));
        await enc.delete(typeId(ctx));
        return { status: 202 };
      },
    },
  ];
}
