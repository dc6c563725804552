import { CloudError, Forbidden, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import { glanceErrorReply } from "../faults.js";
import type { GlanceCaller, Img } from "../manager/images.js";

/** Glance's RequestContext: owner is the project, is_admin is the context_is_admin rule. */
export function glanceCaller(ctx: RequestContext): GlanceCaller {
  const c = ctx.caller;
  return { projectId: c.projectId, userId: c.userId, isAdmin: ctx.allowed("context_is_admin"), requestId: ctx.requestId };
}

/** glance.api.policy.ImageTarget: the image's attributes with project_id = owner, member_id = member. */
export function imageTarget(img: Img): Record<string, unknown> {
  return {
    ...img.properties,
    id: img.id,
    name: img.name,
    status: img.status,
    visibility: img.visibility,
    protected: img.protected,
    os_hidden: img.os_hidden,
    owner: img.owner,
    project_id: img.owner,
    member_id: img.member,
    disk_format: img.disk_format,
    container_format: img.container_format,
  };
}

/**
 * ImageAPIPolicy._enforce: a refusal of an image the caller cannot even get is a 404, as
 * Glance hides images it would not show; otherwise oslo's Forbidden.
 */
export function enforceImage(ctx: RequestContext, img: Img, rule: string, target: Record<string, unknown> = imageTarget(img)): void {
  if (ctx.allowed(rule, target) && scoped(ctx, rule, target)) return;
  if (rule === "get_image" || !ctx.allowed("get_image", target)) throw new NotFound("The resource could not be found.");
  throw new Forbidden(`You are not authorized to complete ${rule} action.`);
}

/** allowed() answers the check string; enforce() also applies scope rules (system tokens). */
function scoped(ctx: RequestContext, rule: string, target: Record<string, unknown>): boolean {
  try {
    ctx.enforce(rule, target);
    return true;
  } catch (e) {
    if (e instanceof CloudError && e.status === 403) return false;
    throw e;
  }
}

/** oslo's Forbidden for a rule that needs no image (add_image, get_images, …). */
export function enforceRule(ctx: RequestContext, rule: string, target: Record<string, unknown>): void {
  if (!scoped(ctx, rule, target)) throw new Forbidden(`You are not authorized to complete ${rule} action.`);
}

/**
 * Glance renders its errors with webob, negotiated on Accept (JSON, HTML or plain text);
 * a token refusal (401) is keystonemiddleware's and stays with the kernel's JSON.
 */
export function glance(route: Route): Route {
  const handler = route.handler;
  return {
    ...route,
    handler: async (ctx) => {
      try {
        return await handler(ctx);
      } catch (e) {
        if (e instanceof CloudError && e.status !== 401 && e.status < 500) return glanceErrorReply(e, ctx.header("accept"));
        throw e;
      }
    },
  };
}
