import type { RequestContext, Route } from "../../../http/context.js";

/**
 * Glance 25's version list with multiple stores enabled (enabled_backends): 2.15, 2.13–2.8
 * (the multi-store versions), 2.7–2.0; the first entry's status is set by versions().
 */
const VERSIONS: Array<[string, string]> = [
  ["2.15", "SUPPORTED"],
  ["2.13", "SUPPORTED"],
  ["2.12", "SUPPORTED"],
  ["2.11", "SUPPORTED"],
  ["2.10", "SUPPORTED"],
  ["2.9", "SUPPORTED"],
  ["2.8", "SUPPORTED"],
  ["2.7", "SUPPORTED"],
  ["2.6", "SUPPORTED"],
  ["2.5", "SUPPORTED"],
  ["2.4", "SUPPORTED"],
  ["2.3", "SUPPORTED"],
  ["2.2", "SUPPORTED"],
  ["2.1", "SUPPORTED"],
  ["2.0", "SUPPORTED"],
];

function versions(ctx: RequestContext, cache: boolean): Record<string, unknown> {
  const href = `${ctx.serviceUrl}/v2/`;
  // With the image cache (image_cache_dir), 2.16 is CURRENT and 2.14 (the cache API) listed.
  const list: Array<[string, string]> = cache ? [["2.16", "CURRENT"], ["2.15", "SUPPORTED"], ["2.14", "SUPPORTED"], ...VERSIONS.slice(1)] : [["2.15", "CURRENT"], ...VERSIONS.slice(1)];
  return { versions: list.map(([id, status]) => ({ id: `v${id}`, status, links: [{ rel: "self", href }] })) };
}

/** GET / answers 300 Multiple Choices, GET /versions 200 (Glance's versions controller, explicit=True). */
export function versionRoutes(cache: boolean): Route[] {
  return [
    { method: "GET", path: "/", operation: "listVersions", auth: "none", handler: async (ctx) => ({ status: 300, body: versions(ctx, cache) }) },
    { method: "GET", path: "/versions", operation: "listVersions", auth: "none", handler: async (ctx) => ({ status: 200, body: versions(ctx, cache) }) },
  ];
}
