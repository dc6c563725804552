import type { Reply, RequestContext, Route } from "../../../http/context.js";
import { respond } from "../core/errors.js";
import type { ObjectStorage } from "../index.js";
import { toReply, transId } from "./swift.js";

const CROSSDOMAIN_XML =
  '<?xml version="1.0"?>\n' +
  '<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n' +
  "<cross-domain-policy>\n" +
  '<allow-access-from domain="*" secure="false" />\n' +
  "</cross-domain-policy>";

/**
 * GET /info (Swift's capabilities, at the root where clients look and under the prefix where
 * Tempest derives it from the endpoint), and /healthcheck.
 */
export function discoveryRoutes(s: ObjectStorage, where: "root" | "prefix"): Route[] {
  const info = async (ctx: RequestContext): Promise<Reply> => {
    const tx = transId(s.time.nowSeconds());
    if (ctx.method !== "GET" && ctx.method !== "HEAD") return toReply(respond(405, { headers: { allow: "GET, HEAD, OPTIONS" } }), tx, ctx.method);
    const body = JSON.stringify(s.info.document());
    return toReply({ status: 200, headers: { "content-type": "application/json; charset=UTF-8" }, body }, tx, ctx.method);
  };
  // crossdomain.py's default policy: Flash/Silverlight clients from anywhere may call the API.
  const crossdomain = async (ctx: RequestContext): Promise<Reply> =>
    toReply({ status: 200, headers: { "content-type": "application/xml" }, body: CROSSDOMAIN_XML }, transId(s.time.nowSeconds()), ctx.method);
  const health = async (ctx: RequestContext): Promise<Reply> => toReply({ status: 200, headers: { "content-type": "text/plain" }, body: "OK" }, transId(s.time.nowSeconds()), ctx.method);
  const routes: Route[] = [
    { method: "GET", path: "/info", operation: "swiftInfo", auth: "none", rawBody: true, handler: info },
    { method: "HEAD", path: "/info", operation: "swiftInfo", auth: "none", rawBody: true, handler: info },
  ];
  if (where === "prefix") {
    routes.push({ method: "GET", path: "/healthcheck", operation: "swiftHealthcheck", auth: "none", rawBody: true, handler: health });
    routes.push({ method: "HEAD", path: "/healthcheck", operation: "swiftHealthcheck", auth: "none", rawBody: true, handler: health });
    routes.push({ method: "GET", path: "/crossdomain.xml", operation: "swiftCrossdomain", auth: "none", rawBody: true, handler: crossdomain });
    s.info.register("crossdomain", {});
  }
  return routes;
}
