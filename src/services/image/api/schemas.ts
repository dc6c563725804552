import type { Route } from "../../../http/context.js";
import { IMAGE_SCHEMA, IMAGES_SCHEMA, MEMBER_SCHEMA, MEMBERS_SCHEMA } from "../schemas/documents.js";

/**
 * GET /v2/schemas/{image,images,member,members}. The tasks and metadefs schemas are not
 * served: those APIs are not built here, so their URLs are unknown (404).
 */
export function schemaRoutes(): Route[] {
  const docs: Array<[string, Record<string, unknown>]> = [
    ["image", IMAGE_SCHEMA],
    ["images", IMAGES_SCHEMA],
    ["member", MEMBER_SCHEMA],
    ["members", MEMBERS_SCHEMA],
  ];
  return docs.map(([name, doc]): Route => ({ method: "GET", path: `/v2/schemas/${name}`, operation: `show${name[0]!.toUpperCase()}${name.slice(1)}Schema`, handler: async () => ({ body: doc }) }));
}
