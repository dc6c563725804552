import type { SwiftResponse } from "./types.js";

/** swob's RESPONSE_REASONS: the title and explanation of Swift's default bodies. */
const REASONS: Record<number, [string, string]> = {
  200: ["OK", ""],
  201: ["Created", ""],
  202: ["Accepted", "The request is accepted for processing."],
  204: ["No Content", ""],
  206: ["Partial Content", ""],
  301: ["Moved Permanently", "The resource has moved permanently."],
  302: ["Found", "The resource has moved temporarily."],
  304: ["Not Modified", ""],
  307: ["Temporary Redirect", "The resource has moved temporarily."],
  400: ["Bad Request", "The server could not comply with the request since it is either malformed or otherwise incorrect."],
  401: ["Unauthorized", "This server could not verify that you are authorized to access the document you requested."],
  403: ["Forbidden", "Access was denied to this resource."],
  404: ["Not Found", "The resource could not be found."],
  405: ["Method Not Allowed", "The method is not allowed for this resource."],
  406: ["Not Acceptable", "The resource is not available in a format acceptable to your browser."],
  408: ["Request Timeout", "The server has waited too long for the request to be sent by the client."],
  409: ["Conflict", "There was a conflict when trying to complete your request."],
  411: ["Length Required", "Content-Length header required."],
  412: ["Precondition Failed", "A precondition for this request was not met."],
  413: ["Request Entity Too Large", "The body of your request was too large for this server."],
  414: ["Request URI Too Long", "The request URI was too long for this server."],
  415: ["Unsupported Media Type", "The request media type is not supported by this server."],
  416: ["Requested Range Not Satisfiable", "The Range requested is not available."],
  417: ["Expectation Failed", "Expectation failed."],
  422: ["Unprocessable Entity", "Unable to process the contained instructions"],
  499: ["Client Disconnect", "The client was disconnected during request."],
  500: ["Internal Error", "The server has either erred or is incapable of performing the requested operation."],
  501: ["Not Implemented", "The requested method is not implemented by this server."],
  503: ["Service Unavailable", "The server is currently unavailable. Please try again at a later time."],
  507: ["Insufficient Storage", "There was not enough space to save the resource. Drive: unknown"],
};

export function reason(status: number): string {
  return REASONS[status]?.[0] ?? "Unknown";
}

/**
 * A response as swob builds it: with no body given, statuses that have an explanation get
 * Swift's `<html><h1>Title</h1><p>Explanation</p></html>`; a given body is sent as is
 * (text/plain unless the caller says otherwise).
 */
export function respond(status: number, opts: { body?: string | Buffer; headers?: Record<string, string>; contentType?: string } = {}): SwiftResponse {
  const headers: Record<string, string> = { ...opts.headers };
  let body = opts.body;
  if (body === undefined) {
    const r = REASONS[status];
    body = r && r[1] ? `<html><h1>${r[0]}</h1><p>${r[1]}</p></html>` : "";
    headers["content-type"] ??= "text/html; charset=UTF-8";
  } else {
    headers["content-type"] ??= opts.contentType ?? "text/plain";
  }
  return { status, headers, body };
}

/** A refusal thrown from deep inside a handler; the pipeline turns it into its response. */
export class SwiftError extends Error {
  readonly response: SwiftResponse;
  constructor(status: number, body?: string, headers?: Record<string, string>) {
    super(body ?? reason(status));
    this.response = respond(status, { ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) });
  }
}

export const fail = (status: number, body?: string, headers?: Record<string, string>): never => {
  throw new SwiftError(status, body, headers);
};
