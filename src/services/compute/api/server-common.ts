import type { RequestContext } from "../../../http/context.js";
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
