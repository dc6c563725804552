import type { RequestContext, Route } from "../../../http/context.js";
import { COMPUTE_MAX_VERSION, COMPUTE_MIN_VERSION } from "../microversions.js";

/** Nova's version documents (nova/api/openstack/compute/versions.py, views/versions.py). */
function v21(ctx: RequestContext, full: boolean): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    id: "v2.1",
    status: "CURRENT",
    version: COMPUTE_MAX_VERSION,
    min_version: COMPUTE_MIN_VERSION,
    updated: "2013-07-23T11:33:21Z",
    links: [{ rel: "self", href: `${ctx.serviceUrl}/v2.1/` }],
  };
  if (full) {
    (doc["links"] as unknown[]).push({ rel: "describedby", type: "text/html", href: "http://docs.openstack.org/" });
    doc["media-types"] = [{ base: "application/json", type: "application/vnd.openstack.compute+json;version=2.1" }];
  }
  return doc;
}

export function versionRoutes(): Route[] {
  const list = async (ctx: RequestContext) => ({
    body: {
      versions: [
        { id: "v2.0", status: "SUPPORTED", version: "", min_version: "", updated: "2011-01-21T11:33:21Z", links: [{ rel: "self", href: `${ctx.serviceUrl}/v2/` }] },
        v21(ctx, false),
      ],
    },
  });
  const show = async (ctx: RequestContext) => ({ body: { version: v21(ctx, true) } });
  // The legacy v2.0 endpoint's document (served for version discovery; its API is not).
  const showV2 = async (ctx: RequestContext) => ({
    body: {
      version: {
        id: "v2.0",
        status: "SUPPORTED",
        version: "",
        min_version: "",
        updated: "2011-01-21T11:33:21Z",
        links: [
          { rel: "self", href: `${ctx.serviceUrl}/v2/` },
          { rel: "describedby", type: "text/html", href: "http://docs.openstack.org/" },
        ],
        "media-types": [{ base: "application/json", type: "application/vnd.openstack.compute+json;version=2" }],
      },
    },
  });
  return [
    { method: "GET", path: "/", operation: "listVersions", auth: "none", handler: list },
    { method: "GET", path: "/v2.1", operation: "showVersion", auth: "none", handler: show },
    { method: "GET", path: "/v2", operation: "showVersionV2", auth: "none", handler: showV2 },
  ];
}
