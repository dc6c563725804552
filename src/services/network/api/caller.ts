import type { RequestContext } from "../../../http/context.js";
import type { Caller } from "../core.js";
import { isAdmin } from "./resource.js";

export function callerOf(ctx: RequestContext): Caller {
  return { projectId: ctx.caller.projectId, admin: isAdmin(ctx) };
}
