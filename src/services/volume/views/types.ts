import type { RequestContext } from "../../../http/context.js";
import type { VolumeTypeRecord } from "../manager/types.js";

/** policies/type_extra_specs.py USER_VISIBLE_EXTRA_SPECS. */
export const USER_VISIBLE_EXTRA_SPECS = ["RESKEY:availability_zones", "multiattach", "replication_enabled"];

/** Extra specs as the caller may read them (read_sensitive, else only the user-visible ones). */
export function visibleSpecs(ctx: RequestContext, specs: Record<string, string>): Record<string, string> {
  if (ctx.allowed("volume_extension:types_extra_specs:read_sensitive", { project_id: ctx.caller.projectId })) return specs;
  const out: Record<string, string> = {};
  for (const k of USER_VISIBLE_EXTRA_SPECS) if (k in specs) out[k] = specs[k]!;
  return out;
}

/**
 * cinder/api/v3/views/types.py show() plus the volume_type_access extension's
 * `os-volume-type-access:is_public` (added on show, index and create, not on update).
 */
export function typeView(ctx: RequestContext, t: VolumeTypeRecord, withAccessKey: boolean): Record<string, unknown> {
  const target = { project_id: ctx.caller.projectId };
  const out: Record<string, unknown> = { id: t.id, name: t.name, is_public: t.is_public, description: t.description };
  if (ctx.allowed("volume_extension:access_types_extra_specs", target)) out["extra_specs"] = visibleSpecs(ctx, t.extra_specs);
  if (ctx.allowed("volume_extension:access_types_qos_specs_id", target)) out["qos_specs_id"] = t.qos_specs_id;
  if (withAccessKey && ctx.allowed("volume_extension:volume_type_access", target)) out["os-volume-type-access:is_public"] = t.is_public;
  return out;
}

/**
 * cinder/api/views/types.py (the v2 builder types_manage.py still answers create and update
 * with): every extra spec, no qos_specs_id; create adds the access extension's key.
 */
export function typeManageView(ctx: RequestContext, t: VolumeTypeRecord, withAccessKey: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { id: t.id, name: t.name, is_public: t.is_public, extra_specs: t.extra_specs, description: t.description };
  if (withAccessKey && ctx.allowed("volume_extension:volume_type_access", { project_id: ctx.caller.projectId })) out["os-volume-type-access:is_public"] = t.is_public;
  return out;
}
