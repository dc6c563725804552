import type { Route } from "../../../http/context.js";

/** The collections GET /v2.0/ lists (Neutron lists its core resources there). */
const CORE = [
  ["network", "networks"],
  ["subnet", "subnets"],
  ["port", "ports"],
  ["subnetpool", "subnetpools"],
] as const;

/** Version discovery: /networking/ lists v2.0; /networking/v2.0/ its core resources. */
export function versionRoutes(): Route[] {
  return [
    {
      method: "GET",
      path: "/",
      operation: "listApiVersions",
      auth: "none",
      handler: async (ctx) => ({
        body: { versions: [{ id: "v2.0", status: "CURRENT", links: [{ href: `${ctx.serviceUrl}/v2.0/`, rel: "self" }] }] },
      }),
    },
    {
      method: "GET",
      path: "/v2.0",
      operation: "showApiV2Details",
      auth: "none",
      handler: async (ctx) => ({
        body: {
          resources: CORE.map(([name, collection]) => ({
            name,
            collection,
            links: [{ href: `${ctx.serviceUrl}/v2.0/${collection}`, rel: "self" }],
          })),
        },
      }),
    },
  ];
}
