import { respond } from "../core/errors.js";
import type { Filter, SwiftRequest, SwiftResponse } from "../core/types.js";
import { parseMeta } from "../store/store.js";
import type { FilterDeps } from "./deps.js";

/** The public methods of Swift's controllers (account management off: no account PUT/DELETE). */
const ALLOWED: Record<SwiftRequest["kind"], readonly string[]> = {
  account: ["GET", "HEAD", "POST", "OPTIONS"],
  container: ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"],
  object: ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"],
};

/** Always exposed to a cross-origin caller: the simple response headers and Swift's own. */
const EXPOSE = ["cache-control", "content-language", "content-type", "expires", "last-modified", "pragma", "etag", "x-timestamp", "x-trans-id", "x-openstack-request-id"];

interface CorsInfo {
  allowOrigin: string | undefined;
  exposeHeaders: string | undefined;
  maxAge: string | undefined;
}

/** list_from_csv: comma-separated, trimmed, empties dropped. */
const csv = (v: string | undefined): string[] =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

/**
 * CORS as Swift's proxy does it (there is no cors middleware in Swift: the controllers'
 * OPTIONS and the cors_validation decorator). A container says which origins may call it in
 * X-Container-Meta-Access-Control-Allow-Origin (space separated, or *), and optionally
 * -Max-Age and -Expose-Headers.
 *
 * - OPTIONS (any caller, no auth): 200 with Allow; with an Origin it is a preflight, checked
 *   against the container: 401 when the origin or Access-Control-Request-Method is not
 *   allowed, else the Access-Control-Allow-* answer. The account has no CORS settings: a
 *   preflight there just gets Allow. Objects also allow COPY (the copy middleware adds it).
 * - Container and object requests with an Origin: when the origin is allowed (strict_cors_mode),
 *   the response gets Access-Control-Allow-Origin and -Expose-Headers.
 */
export function corsFilter(d: FilterDeps): Filter {
  const corsInfo = async (req: SwiftRequest): Promise<CorsInfo> => {
    const row = req.container !== undefined ? await d.store.container(req.account, req.container) : undefined;
    const meta = row ? parseMeta(row.meta) : {};
    return {
      allowOrigin: meta["x-container-meta-access-control-allow-origin"],
      exposeHeaders: meta["x-container-meta-access-control-expose-headers"],
      maxAge: meta["x-container-meta-access-control-max-age"],
    };
  };

  const originAllowed = (cors: CorsInfo, origin: string): boolean => {
    const allowed = new Set((cors.allowOrigin ?? "").split(" ").map((a) => a.trim()).filter((a) => a !== ""));
    return allowed.has(origin) || allowed.has("*");
  };

  const options = async (req: SwiftRequest): Promise<SwiftResponse> => {
    const methods = ALLOWED[req.kind];
    // The copy middleware appends COPY to a successful object OPTIONS answer.
    const withCopy = (v: string): string => (req.kind === "object" ? `${v}, COPY` : v);
    const allow = methods.join(", ");
    const origin = req.header("origin");
    if (!origin || req.kind === "account") {
      return { status: 200, headers: { allow: withCopy(allow), "content-type": "text/html; charset=UTF-8" } };
    }
    const cors = await corsInfo(req);
    const asked = req.header("access-control-request-method");
    if (!originAllowed(cors, origin) || asked === undefined || !methods.includes(asked)) {
      return respond(401, { headers: { allow } });
    }
    // A successful preflight carries only these headers (no Content-Type), as Swift's does.
    const headers: Record<string, string> = { allow: withCopy(allow) };
    if (cors.allowOrigin?.trim() === "*") headers["access-control-allow-origin"] = "*";
    else {
      headers["access-control-allow-origin"] = origin;
      headers["vary"] = "Origin";
    }
    if (cors.maxAge !== undefined) headers["access-control-max-age"] = cors.maxAge;
    headers["access-control-allow-methods"] = withCopy(allow);
    const wanted = [...new Set(csv(req.header("access-control-request-headers")))];
    if (wanted.length > 0) {
      headers["access-control-allow-headers"] = wanted.join(", ");
      headers["vary"] = headers["vary"] ? `${headers["vary"]}, Access-Control-Request-Headers` : "Access-Control-Request-Headers";
    }
    return { status: 200, headers };
  };

  const decorate = (resp: SwiftResponse, cors: CorsInfo, origin: string): SwiftResponse => {
    if (!originAllowed(cors, origin)) return resp; // strict_cors_mode
    const h = resp.headers;
    if (h["access-control-expose-headers"] === undefined) {
      const expose = new Set(EXPOSE);
      for (const k of Object.keys(h)) if (k.startsWith("x-container-meta") || k.startsWith("x-object-meta")) expose.add(k);
      for (const x of (cors.exposeHeaders ?? "").split(" ")) if (x.trim()) expose.add(x.trim().toLowerCase());
      h["access-control-expose-headers"] = [...expose].join(", ");
    }
    if (h["access-control-allow-origin"] === undefined) {
      if (cors.allowOrigin?.trim() === "*") h["access-control-allow-origin"] = "*";
      else {
        h["access-control-allow-origin"] = origin;
        h["vary"] = h["vary"] ? `${h["vary"]}, Origin` : "Origin";
      }
    }
    return resp;
  };

  return {
    name: "cors",
    async handle(req, next) {
      if (req.method === "OPTIONS") return options(req);
      const origin = req.header("origin");
      if (!origin || req.kind === "account") return next(req);
      const cors = await corsInfo(req);
      return decorate(await next(req), cors, origin);
    },
  };
}
