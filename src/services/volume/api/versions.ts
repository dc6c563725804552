import type { RequestContext, Route } from "../../../http/context.js";
import { VOLUME_MAX_VERSION, VOLUME_MIN_VERSION } from "../microversions.js";

/** Updated stamp of Cinder 21's version document (api_version_request.UPDATED). */
const UPDATED = "2022-08-31T00:00:00Z";

/** Cinder's version documents (cinder/api/versions.py, views/versions.py): only v3 exists. */
function v3(ctx: RequestContext): Record<string, unknown> {
  return {
    id: "v3.0",
    status: "CURRENT",
    version: VOLUME_MAX_VERSION,
    min_version: VOLUME_MIN_VERSION,
    updated: UPDATED,
    links: [
      { rel: "describedby", type: "text/html", href: "https://docs.openstack.org/" },
      { rel: "self", href: `${ctx.serviceUrl}/v3/` },
    ],
    "media-types": [{ base: "application/json", type: "application/vnd.openstack.volume+json;version=3" }],
  };
}

export function versionRoutes(): Route[] {
  return [
    // The unversioned root answers 300 Multiple Choices with every version.
    { method: "GET", path: "/", operation: "listAllVersions", auth: "none", handler: async (ctx) => ({ status: 300, body: { versions: [v3(ctx)] } }) },
    { method: "GET", path: "/v3", operation: "listVersions", auth: "none", handler: async (ctx) => ({ body: { versions: [v3(ctx)] } }) },
  ];
}
