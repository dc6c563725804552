import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import { type MessageRow, type MessagesManager, userMessageText } from "../manager/messages.js";
import { cinderTime, collectionLinks, isAdmin, parsePaging, resourceLinks } from "./common.js";
import { RESOURCE_FILTERS } from "./resource-filters.js";
import { own } from "./types.js";

const SORT_KEYS = ["created_at", "id", "event_id", "resource_type", "resource_uuid", "request_id", "message_level", "expires_at"];
const PAGING = ["limit", "marker", "offset", "sort", "sort_key", "sort_dir"];

/** cinder/api/v3/views/messages.py detail(). */
function messageView(ctx: RequestContext, m: MessageRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: m.id,
    event_id: m.event_id,
    user_message: userMessageText(m.action_id, m.detail_id),
    message_level: m.message_level,
    created_at: cinderTime(m.created_at),
    guaranteed_until: cinderTime(m.expires_at),
    request_id: m.request_id,
    links: resourceLinks(ctx, "messages", m.id),
  };
  if (m.resource_type) out["resource_type"] = m.resource_type;
  if (m.resource_uuid) out["resource_uuid"] = m.resource_uuid;
  return out;
}

/** cinder/api/v3/messages.py (3.3; pagination and filters 3.5; resource filters 3.33). */
export function messagesRoutes(messages: MessagesManager): Route[] {
  return [
    {
      method: "GET",
      path: "/messages",
      operation: "listMessages",
      policy: "message:get_all",
      minVersion: "3.3",
      handler: async (ctx) => {
        ctx.enforce("message:get_all", own(ctx));
        const ver = ctx.version!;
        const admin = isAdmin(ctx);
        let paging = { marker: undefined as string | undefined, limit: 1000, limitGiven: false, offset: 0, sortKeys: ["created_at"], sortDirs: ["desc" as "asc" | "desc"] };
        const filters: Record<string, string> = {};
        if (ver.atLeast("3.5")) {
          paging = parsePaging(ctx, SORT_KEYS);
          for (const [k, raw] of Object.entries(ctx.query)) {
            if (PAGING.includes(k) || raw === undefined) continue;
            filters[k] = Array.isArray(raw) ? raw[0]! : raw;
          }
        }
        if (ver.atLeast("3.33") && !admin) {
          const allowed = RESOURCE_FILTERS["message"]!;
          const like = ver.atLeast("3.34");
          const bad = Object.keys(filters).filter((k) => k !== "all_tenants" && !allowed.includes(k) && !(like && allowed.includes(k.replace(/~$/, ""))));
          if (bad.length) throw new BadRequest(`Invalid filters ${bad.join(",")} are found in query options.`);
        }
        const list = await messages.list(ctx.caller.projectId, admin, filters, paging);
        const body: Record<string, unknown> = { messages: list.map((m) => messageView(ctx, m)) };
        if (ver.atLeast("3.5")) {
          const links = collectionLinks(ctx, "messages", list, paging);
          if (links.length) body["messages_links"] = links;
        }
        return { body };
      },
    },
    {
      method: "GET",
      path: "/messages/:message_id",
      operation: "showMessage",
      policy: "message:get",
      minVersion: "3.3",
      handler: async (ctx) => {
        const m = await messages.get(ctx.params["message_id"]!, ctx.caller.projectId, isAdmin(ctx));
        ctx.enforce("message:get", { project_id: m.project_id });
        return { body: { message: messageView(ctx, m) } };
      },
    },
    {
      method: "DELETE",
      path: "/messages/:message_id",
      operation: "deleteMessage",
      policy: "message:delete",
      minVersion: "3.3",
      handler: async (ctx) => {
        const m = await messages.get(ctx.params["message_id"]!, ctx.caller.projectId, isAdmin(ctx));
        ctx.enforce("message:delete", { project_id: m.project_id });
        await messages.delete(m.id);
        return { status: 204 };
      },
    },
  ];
}
