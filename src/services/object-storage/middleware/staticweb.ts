import { respond } from "../core/errors.js";
import type { Filter, SwiftRequest, SwiftResponse } from "../core/types.js";
import type { ContainerRow } from "../store/tables.js";
import { parseMeta } from "../store/store.js";
import type { FilterDeps } from "./deps.js";
import { pyQuote } from "./tempurl.js";

const TRUE_VALUES = ["true", "1", "yes", "on", "t", "y"];
const trueValue = (v: string | undefined): boolean => v !== undefined && TRUE_VALUES.includes(v.toLowerCase());

/** html.escape(s, quote=True). */
function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#x27;");
}

/** swift.common.utils.human_readable: 1048576 → "1Mi". */
function humanReadable(n: number): string {
  let value = n;
  let index = -1;
  const suffixes = "KMGTPEZY";
  while (value >= 1024 && index + 1 < suffixes.length) {
    index++;
    value = pyRound(value / 1024);
  }
  return index === -1 ? String(Math.trunc(value)) : `${pyRound(value)}${suffixes[index]}i`;
}

/** Python 3's round(): halves to even. */
function pyRound(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function drop(r: SwiftResponse): void {
  const b = r.body as { destroy?: () => void } | undefined;
  b?.destroy?.();
}

async function readText(r: SwiftResponse): Promise<string> {
  const b = r.body;
  if (b === undefined) return "";
  if (typeof b === "string") return b;
  if (Buffer.isBuffer(b)) return b.toString("utf8");
  const chunks: Buffer[] = [];
  for await (const c of b as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString("utf8");
}

const ok = (s: number): boolean => s >= 200 && s < 300;
const redirection = (s: number): boolean => s >= 300 && s < 400;

interface WebMeta {
  index: string;
  error: string;
  listings: string;
  listingsLabel: string;
  css: string;
  dirType: string;
}

/**
 * Swift's staticweb: a container whose metadata says so (X-Container-Meta-Web-Index,
 * -Web-Error, -Web-Listings, -Web-Listings-CSS, -Web-Listings-Label, -Web-Directory-Type)
 * serves anonymous GET/HEAD requests (or X-Web-Mode: true ones) as a web site: index objects,
 * HTML listings, a redirect to add the trailing slash, and <status><Web-Error> error pages.
 */
export function staticwebFilter(d: FilterDeps): Filter {
  d.info.register("staticweb", {});

  const webMeta = (row: ContainerRow | undefined): WebMeta => {
    const m = row ? parseMeta(row.meta) : {};
    const get = (k: string): string => (m[`x-container-meta-${k}`] ?? "").trim();
    return { index: get("web-index"), error: get("web-error"), listings: get("web-listings"), listingsLabel: get("web-listings-label"), css: get("web-listings-css"), dirType: get("web-directory-type") };
  };

  /** make_env: a fresh GET sub-request keeping the caller's authorization and a few headers. */
  const freshGet = (req: SwiftRequest, container: string, object: string | undefined, query: URLSearchParams): SwiftRequest => {
    const headers: Record<string, string> = {};
    for (const h of ["user-agent", "host", "referer", "origin", "access-control-request-method"]) if (req.headers[h] !== undefined) headers[h] = req.headers[h]!;
    const sub = req.sub({ method: "GET", path: { account: req.account, container, object }, headers, query, source: "SW" });
    sub.authorize = req.authorize;
    sub.env["remoteUser"] = req.env["remoteUser"];
    return sub;
  };

  /** The request again (dict(env)) for another object name. */
  const again = (req: SwiftRequest, object: string): SwiftRequest => {
    const sub = req.sub({ method: req.method, path: { account: req.account, container: req.container, object }, headers: { ...req.headers }, query: new URLSearchParams(req.query), source: "SW" });
    sub.authorize = req.authorize;
    return sub;
  };

  return {
    name: "staticweb",
    async handle(req, next) {
      // Only requests some auth filter looked at (pre-authorized sub-requests have no callback).
      if (!req.authorize) return next(req);
      if (req.method !== "GET" && req.method !== "HEAD") return next(req);
      const webMode = trueValue(req.header("x-web-mode"));
      const remoteUser = req.identity !== undefined || req.env["remoteUser"] !== undefined;
      if (remoteUser && !webMode) return next(req);
      if (req.container === undefined) return next(req);
      const container = req.container;

      // PATH_INFO as sent (decoded): whether it ends with "/" matters.
      let pathInfo = req.path;
      const raw = req.env["rawPath"];
      if (typeof raw === "string") {
        try {
          pathInfo = decodeURIComponent(raw);
        } catch {
          pathInfo = req.path;
        }
      }
      const slash = pathInfo.endsWith("/");

      let meta: WebMeta = webMeta(undefined);
      let row: ContainerRow | undefined;
      const loadInfo = async (): Promise<void> => {
        row = await d.store.container(req.account, container);
        meta = webMeta(row);
      };

      const errorResponse = async (resp: SwiftResponse): Promise<SwiftResponse> => {
        if (!meta.error) return resp;
        const page = await next(freshGet(req, container, `${resp.status}${meta.error}`, new URLSearchParams(req.query)));
        if (ok(page.status)) {
          drop(resp);
          return { status: resp.status, headers: page.headers, body: page.body ?? "" };
        }
        drop(page);
        return resp;
      };

      const redirectWithSlash = (): SwiftResponse => {
        const location = `${req.serviceUrl}${pyQuote(`${pathInfo}/`)}`;
        return respond(301, { headers: { location } });
      };

      const cssPath = (prefix: string): string => {
        if (/^(\/|http:\/\/|https:\/\/)/.test(meta.css)) return pyQuote(meta.css, ":/");
        return "../".repeat(prefix.split("/").length - 1) + pyQuote(meta.css);
      };

      const listing = async (prefix?: string): Promise<SwiftResponse> => {
        let label = pathInfo;
        if (meta.listingsLabel) label = `${meta.listingsLabel}/${pathInfo.split("/").slice(4).join("/")}`;
        if (!trueValue(meta.listings)) {
          let body =
            '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">\n' +
            "<html>\n<head>\n" +
            `<title>Listing of ${esc(label)}</title>\n`;
          if (meta.css) body += `  <link rel="stylesheet" type="text/css" href="${cssPath(prefix ?? "")}" />\n`;
          else body += '  <style type="text/css">\n   h1 {font-size: 1em; font-weight: bold;}\n   p {font-size: 2}\n  </style>\n';
          body +=
            "</head>\n<body>" +
            "  <h1>Web Listing Disabled</h1>" +
            "   <p>The owner of this web site has disabled web listing." +
            "   <p>If you are the owner of this web site, you can enable" +
            "   web listing by setting X-Container-Meta-Web-Listings.</p>";
          if (meta.index) {
            body += `<h1>Index File Not Found</h1> <p>The owner of this web site has set  <b>X-Container-Meta-Web-Index: ${meta.index}</b>.  However, this file is not found.</p>`;
          }
          body += " </body>\n</html>\n";
          return errorResponse(respond(404, { body, contentType: "text/html; charset=UTF-8" }));
        }
        const q = new URLSearchParams({ delimiter: "/", format: "json" });
        if (prefix) q.set("prefix", prefix);
        const lresp = await next(freshGet(req, container, undefined, q));
        if (!ok(lresp.status)) return errorResponse(lresp);
        const text = await readText(lresp);
        const items = (text ? (JSON.parse(text) as Array<Record<string, unknown>>) : []) ?? [];
        const pfx = prefix ?? "";
        if (pfx && items.length === 0) return errorResponse(respond(404));
        let body =
          '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">\n' +
          "<html>\n <head>\n" +
          `  <title>Listing of ${esc(label)}</title>\n`;
        if (meta.css) body += `  <link rel="stylesheet" type="text/css" href="${cssPath(pfx)}" />\n`;
        else
          body +=
            '  <style type="text/css">\n' +
            "   h1 {font-size: 1em; font-weight: bold;}\n" +
            "   th {text-align: left; padding: 0px 1em 0px 1em;}\n" +
            "   td {padding: 0px 1em 0px 1em;}\n" +
            "   a {text-decoration: none;}\n" +
            "  </style>\n";
        body +=
          " </head>\n <body>\n" +
          `  <h1 id="title">Listing of ${esc(label)}</h1>\n` +
          '  <table id="listing">\n' +
          '   <tr id="heading">\n' +
          '    <th class="colname">Name</th>\n' +
          '    <th class="colsize">Size</th>\n' +
          '    <th class="coldate">Date</th>\n' +
          "   </tr>\n";
        if (pfx) {
          body +=
            '   <tr id="parent" class="item">\n' +
            '    <td class="colname"><a href="../">../</a></td>\n' +
            '    <td class="colsize">&nbsp;</td>\n' +
            '    <td class="coldate">&nbsp;</td>\n' +
            "   </tr>\n";
        }
        for (const item of items) {
          if (typeof item["subdir"] !== "string") continue;
          const subdir = item["subdir"].slice(pfx.length);
          body +=
            '   <tr class="item subdir">\n' +
            `    <td class="colname"><a href="${pyQuote(subdir)}">${esc(subdir)}</a></td>\n` +
            '    <td class="colsize">&nbsp;</td>\n' +
            '    <td class="coldate">&nbsp;</td>\n' +
            "   </tr>\n";
        }
        for (const item of items) {
          if (typeof item["name"] !== "string") continue;
          const name = item["name"].slice(pfx.length);
          const ctype = String(item["content_type"] ?? "");
          const lm = esc(String(item["last_modified"] ?? "")).split(".")[0]!.replace("T", " ");
          body +=
            `   <tr class="item ${ctype.split("/").map((t) => `type-${esc(t.toLowerCase())}`).join(" ")}">\n` +
            `    <td class="colname"><a href="${pyQuote(name)}">${esc(name)}</a></td>\n` +
            `    <td class="colsize">${humanReadable(Number(item["bytes"] ?? 0))}</td>\n` +
            `    <td class="coldate">${lm}</td>\n` +
            "   </tr>\n";
        }
        body += "  </table>\n </body>\n</html>\n";
        return { status: 200, headers: { "content-type": "text/html; charset=UTF-8", "content-length": String(Buffer.byteLength(body)) }, body };
      };

      // ---------------------------------------------------------------- a container
      if (req.object === undefined) {
        await loadInfo();
        const acls = row ? parseMeta(row.meta) : {};
        const denied = req.authorize(req, { read: acls["x-container-read"], write: acls["x-container-write"] });
        if (denied) return errorResponse(denied);
        if (!meta.listings && !meta.index) {
          if (webMode) return respond(404);
          return next(req);
        }
        if (!slash) return redirectWithSlash();
        if (!meta.index) return listing();
        const resp = await next(again(req, meta.index));
        if (resp.status === 404) {
          drop(resp);
          return listing();
        }
        if (!ok(resp.status) && !redirection(resp.status)) return errorResponse(resp);
        return resp;
      }

      // ---------------------------------------------------------------- an object
      const obj = req.object;
      const resp = await next(req);
      let status = resp.status;
      await loadInfo();
      if (ok(status) || redirection(status)) {
        const dirType = meta.dirType || "application/directory";
        const length = Number(resp.headers["content-length"] ?? 0) || 0;
        if (resp.headers["content-type"] === dirType && length <= 1) status = 404;
        else return resp;
      }
      if (status !== 404) return resp; // custom error pages are for 404s only
      if (!meta.listings && !meta.index) return resp;
      drop(resp);
      status = 404;
      if (meta.index) {
        const iresp = await next(again(req, `${obj.endsWith("/") ? obj : `${obj}/`}${meta.index}`));
        status = iresp.status;
        if (ok(status) || redirection(status)) {
          if (!slash) {
            drop(iresp);
            return redirectWithSlash();
          }
          return iresp;
        }
        drop(iresp);
      }
      if (status === 404) {
        if (!slash) {
          const q = new URLSearchParams({ limit: "1", delimiter: "/", prefix: `${obj}/`, format: "json" });
          const lresp = await next(freshGet(req, container, undefined, q));
          const text = ok(lresp.status) ? await readText(lresp) : (drop(lresp), "");
          let any = false;
          try {
            any = text !== "" && (JSON.parse(text) as unknown[]).length > 0;
          } catch {
            any = false;
          }
          if (!ok(lresp.status) || !any) return errorResponse(respond(404));
          return redirectWithSlash();
        }
        return listing(obj);
      }
      // The index answered something else (Swift falls through and answers nothing better).
      return errorResponse(respond(404));
    },
  };
}
