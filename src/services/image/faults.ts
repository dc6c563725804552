import { CloudError, MalformedBody } from "../../common/errors.js";
import type { Reply } from "../../http/context.js";
import type { FaultRenderer } from "../../http/service.js";

/** webob's status lines (the "code" of a JSON error and the heading of an HTML one). */
const STATUS_LINES: Record<number, string> = {
  400: "400 Bad Request",
  401: "401 Unauthorized",
  403: "403 Forbidden",
  404: "404 Not Found",
  405: "405 Method Not Allowed",
  406: "406 Not Acceptable",
  409: "409 Conflict",
  410: "410 Gone",
  413: "413 Request Entity Too Large",
  415: "415 Unsupported Media Type",
  416: "416 Requested Range Not Satisfiable",
  500: "500 Internal Server Error",
  501: "501 Not Implemented",
  503: "503 Service Unavailable",
};

function statusLine(status: number): string {
  return STATUS_LINES[status] ?? `${status} Error`;
}

function explanation(err: CloudError): string {
  // Glance answers a JSON body it cannot parse with webob's HTTPBadRequest.
  if (err instanceof MalformedBody) return "Malformed JSON in request body.";
  return err.message;
}

/** webob's body template: explanation, two <br />, then the (empty) detail and comment lines. */
function webobBody(err: CloudError): string {
  return `${explanation(err)}<br /><br />\n\n\n`;
}

/**
 * keystonemiddleware answers a missing or bad token before Glance sees the request, in its
 * own JSON shape; everything else is a webob HTTPException rendered for the Accept header.
 * The kernel path (unknown URL, 405, token refusals) always renders JSON.
 */
export const imageFaults: FaultRenderer = (err) => {
  if (err.status === 401) {
    return { body: { error: { code: 401, title: "Unauthorized", message: "The request you have made requires authentication." } } };
  }
  const line = statusLine(err.status);
  return { body: { message: webobBody(err), code: line, title: line.slice(4) } };
};

type Offer = "text/html" | "application/json";

/** webob's acceptable_offers(["text/html", "application/json"])[0], or text/plain. */
export function negotiateErrorType(accept: string | undefined): Offer | "text/plain" {
  if (accept === undefined || accept.trim() === "") return "text/html";
  const ranges = accept.split(",").map((part) => {
    const [range = "", ...params] = part.trim().split(";");
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    return { range: range.trim().toLowerCase(), q };
  });
  let best: Offer | undefined;
  let bestQ = 0;
  for (const offer of ["text/html", "application/json"] as const) {
    const [type] = offer.split("/");
    let q = -1;
    let spec = -1;
    for (const r of ranges) {
      const s = r.range === offer ? 2 : r.range === `${type}/*` ? 1 : r.range === "*/*" ? 0 : -1;
      if (s > spec) {
        spec = s;
        q = r.q;
      }
    }
    if (spec >= 0 && q > bestQ) {
      best = offer;
      bestQ = q;
    }
  }
  return best ?? "text/plain";
}

/**
 * A Glance error as webob renders it for this request's Accept header: JSON
 * {"message","code","title"}, an HTML page, or plain text.
 */
export function glanceErrorReply(err: CloudError, accept: string | undefined): Reply {
  const line = statusLine(err.status);
  const type = negotiateErrorType(accept);
  const headers: Record<string, string> = { ...err.headers };
  if (type === "application/json") {
    headers["content-type"] = "application/json";
    return { status: err.status, text: JSON.stringify({ message: webobBody(err), code: line, title: line.slice(4) }), headers };
  }
  if (type === "text/html") {
    headers["content-type"] = "text/html; charset=UTF-8";
    const body = webobBody(err).replaceAll("&", "&amp;").replaceAll("<br /><br />", "\u0000").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll("\u0000", "<br /><br />");
    return {
      status: err.status,
      text: `<html>\n <head>\n  <title>${line}</title>\n </head>\n <body>\n  <h1>${line}</h1>\n  ${body}\n </body>\n</html>`,
      headers,
    };
  }
  headers["content-type"] = "text/plain; charset=UTF-8";
  return { status: err.status, text: `${line}\n\n${explanation(err)}\n\n   `, headers };
}

/** Glance's 416 (webob HTTPRequestRangeNotSatisfiable). */
export class RangeNotSatisfiable extends CloudError {
  constructor(message: string) {
    super(416, message);
  }
}
