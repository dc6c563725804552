import type { RequestContext, Route } from "../../../http/context.js";

const UPDATED = "2022-09-07T00:00:00Z";

function v3(ctx: RequestContext): Record<string, unknown> {
  return {
    id: "v3.14",
    status: "stable",
    updated: UPDATED,
    links: [{ rel: "self", href: `${ctx.serviceUrl}/v3/` }],
    "media-types": [{ base: "application/json", type: "application/vnd.openstack.identity-v3+json" }],
  };
}

/** Version discovery: the root lists v3 (300 Multiple Choices, as Keystone), /v3 describes it. */
export function versionRoutes(): Route[] {
  return [
    {
      method: "GET",
      path: "/",
      operation: "listVersions",
      auth: "none",
      handler: async (ctx) => ({ status: 300, body: { versions: { values: [v3(ctx)] } } }),
    },
    {
      method: "GET",
      path: "/v3",
      operation: "showVersion",
      auth: "none",
      handler: async (ctx) => ({ body: { version: v3(ctx) } }),
    },
  ];
}
