import { BadRequest, Forbidden } from "../../../common/errors.js";
import type { RequestContext } from "../../../http/context.js";
import type { Compute } from "./deps.js";
import { invalidField, pyRepr } from "./fleet-validate.js";
import type { ServerCaller } from "../manager/instance-state.js";

/** The caller as the servers managers see it (Nova's RequestContext: ids, is_admin, request id, token). */
export function serverCaller(ctx: RequestContext): ServerCaller {
  const a = ctx.caller;
  return {
    userId: a.userId,
    projectId: a.projectId ?? "",
    admin: ctx.allowed("context_is_admin", {}),
    requestId: ctx.requestId,
    tokenId: a.tokenId,
  };
}

/** The policy target of a server: its project and user (Nova's target for server rules). */
export function serverTarget(inst: { project_id: string; user_id: string }): Record<string, unknown> {
  return { project_id: inst.project_id, user_id: inst.user_id };
}

/**
 * `personality` (≤ 2.56) of create and rebuild: each item {path, contents} with contents in
 * base64 (nova's parameter_types.personality, then _get_injected_files: "Personality content
 * for X cannot be decoded"). Python's decoder drops characters outside the alphabet first.
 */
export function parsePersonality(value: unknown): Array<{ path: string; bytes: number }> {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidField("personality", value, `${pyRepr(value)} is not of type 'array'`);
  const out: Array<{ path: string; bytes: number }> = [];
  for (const item of value as unknown[]) {
    if (typeof item !== "object" || item === null || Array.isArray(item)) throw invalidField("personality", item, `${pyRepr(item)} is not of type 'object'`);
    const o = item as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => k !== "path" && k !== "contents");
    if (extra.length > 0) throw invalidField("personality", item, `Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`);
    if (o["path"] !== undefined && typeof o["path"] !== "string") throw invalidField("path", o["path"], `${pyRepr(o["path"])} is not of type 'string'`);
    if (o["contents"] !== undefined && typeof o["contents"] !== "string") throw invalidField("contents", o["contents"], `${pyRepr(o["contents"])} is not of type 'string'`);
    const path = (o["path"] as string | undefined) ?? "";
    const clean = ((o["contents"] as string | undefined) ?? "").replace(/[^A-Za-z0-9+/=]/g, "");
    if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) throw new BadRequest(`Personality content for ${path} cannot be decoded`);
    out.push({ path, bytes: Buffer.from(clean, "base64").length });
  }
  return out;
}

/** compute API _check_injected_file_quota: count, then the longest path and content (403, Nova's OnsetFile* messages). */
export async function checkPersonalityQuota(c: Compute, projectId: string, userId: string, files: Array<{ path: string; bytes: number }>): Promise<void> {
  if (files.length === 0) return;
  const limits = await c.quotas.limits(projectId, userId);
  const over = (name: string, n: number): boolean => {
    const l = limits[name] ?? -1;
    return l >= 0 && n > l;
  };
  if (over("injected_files", files.length)) throw new Forbidden("Personality file limit exceeded");
  const maxPath = Math.max(...files.map((f) => f.path.length));
  const maxContent = Math.max(...files.map((f) => f.bytes));
  if (over("injected_file_path_bytes", maxPath)) throw new Forbidden(`Personality file path exceeds maximum ${limits["injected_file_path_bytes"]}`);
  if (over("injected_file_content_bytes", maxContent)) throw new Forbidden(`Personality file content exceeds maximum ${limits["injected_file_content_bytes"]}`);
}
