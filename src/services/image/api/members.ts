import { BadRequest, CloudError, Forbidden, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Image } from "../index.js";
import type { Img } from "../manager/images.js";
import { memberView } from "../views/image.js";
import { enforceImage, glanceCaller, imageTarget } from "./common.js";
import { jsonBody } from "./images.js";
import { lookupImage } from "./tags.js";

/** MemberAPIPolicy: get_image first (404), then the member rule as oslo's 403. */
function enforceMember(ctx: RequestContext, img: Img, rule: string): void {
  enforceImage(ctx, img, "get_image");
  if (!ctx.allowed(rule, imageTarget(img))) throw new Forbidden(`You are not authorized to complete ${rule} action.`);
}

/** _check_visibility_and_ownership: only shared images have members. */
function requireShared(img: Img): void {
  if (img.visibility !== "shared") throw new Forbidden("Only shared images have members.");
}

export function memberRoutes(i: Image): Route[] {
  const m = i.images;
  const lookupMember = async (ctx: RequestContext, img: Img, memberId: string) => {
    enforceMember(ctx, img, "get_member");
    return m.member(glanceCaller(ctx), img, memberId);
  };
  return [
    {
      method: "POST",
      path: "/v2/images/:image_id/members",
      operation: "createImageMember",
      policy: "add_member",
      handler: async (ctx) => {
        const body = jsonBody(ctx) as Record<string, unknown>;
        if (typeof body !== "object" || body === null || !("member" in body)) throw new BadRequest("Member to be added not specified");
        const memberId = body["member"];
        if (memberId === "" || memberId === null) throw new BadRequest("Member can't be empty");
        if (typeof memberId !== "string") throw new BadRequest('Expected a member in the form: {"member": "image_id"}');
        const id = ctx.params["image_id"]!;
        const img = await lookupImage(i, glanceCaller(ctx), id);
        try {
          requireShared(img);
        } catch {
          throw new Forbidden(`Not allowed to create members for image ${id}.`);
        }
        enforceMember(ctx, img, "add_member");
        const member = await m.addMember(img, memberId);
        return { body: memberView(member) };
      },
    },
    {
      method: "GET",
      path: "/v2/images/:image_id/members",
      operation: "listImageMembers",
      policy: "get_members",
      handler: async (ctx) => {
        const id = ctx.params["image_id"]!;
        const img = await lookupImage(i, glanceCaller(ctx), id);
        try {
          requireShared(img);
          enforceMember(ctx, img, "get_members");
        } catch (e) {
          if (e instanceof Forbidden) throw new Forbidden(`Not allowed to list members for image ${id}: ${e.message}`);
          throw e;
        }
        const members = ctx.allowed("get_member", imageTarget(img)) ? await m.members(glanceCaller(ctx), img) : [];
        return { body: { members: members.map(memberView), schema: "/v2/schemas/members" } };
      },
    },
    {
      method: "GET",
      path: "/v2/images/:image_id/members/:member_id",
      operation: "showImageMember",
      policy: "get_member",
      handler: async (ctx) => {
        const img = await lookupImage(i, glanceCaller(ctx), ctx.params["image_id"]!);
        try {
          requireShared(img);
          return { body: memberView(await lookupMember(ctx, img, ctx.params["member_id"]!)) };
        } catch (e) {
          // ImageMembersController.show answers every refusal as 404.
          if (e instanceof CloudError && e.status === 403) throw new NotFound(e.message);
          throw e;
        }
      },
    },
    {
      method: "PUT",
      path: "/v2/images/:image_id/members/:member_id",
      operation: "updateImageMember",
      policy: "modify_member",
      handler: async (ctx) => {
        const body = jsonBody(ctx) as Record<string, unknown>;
        if (typeof body !== "object" || body === null || !("status" in body)) throw new BadRequest("Status not specified");
        const status = body["status"];
        if (typeof status !== "string") throw new BadRequest('Expected a status in the form: {"status": "status"}');
        const id = ctx.params["image_id"]!;
        const memberId = ctx.params["member_id"]!;
        const img = await lookupImage(i, glanceCaller(ctx), id);
        try {
          requireShared(img);
        } catch {
          throw new Forbidden(`Not allowed to update members for image ${id}.`);
        }
        await lookupMember(ctx, img, memberId);
        enforceMember(ctx, img, "modify_member");
        if (!["pending", "accepted", "rejected"].includes(status)) throw new BadRequest('Incorrect request: Status must be "pending", "accepted" or "rejected".');
        return { body: memberView(await m.updateMember(img, memberId, status)) };
      },
    },
    {
      method: "DELETE",
      path: "/v2/images/:image_id/members/:member_id",
      operation: "deleteImageMember",
      policy: "delete_member",
      handler: async (ctx) => {
        const id = ctx.params["image_id"]!;
        const memberId = ctx.params["member_id"]!;
        const img = await lookupImage(i, glanceCaller(ctx), id);
        try {
          requireShared(img);
        } catch {
          throw new Forbidden(`Not allowed to delete members for image ${id}.`);
        }
        await lookupMember(ctx, img, memberId);
        enforceMember(ctx, img, "delete_member");
        await m.deleteMember(img, memberId);
        return { status: 204 };
      },
    },
  ];
}
