/**
 * The error family every layer throws. Each service's faults.ts turns a CloudError into its
 * own wire shape; nothing below http/ knows about bodies or headers.
 */
export class CloudError extends Error {
  readonly status: number;
  /** Extra response headers (e.g. WWW-Authenticate); rendered by the kernel. */
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
    this.name = new.target.name;
  }
}

export class BadRequest extends CloudError {
  constructor(message = "The request you have made requires validation.") {
    super(400, message);
  }
}
/** The request body is not valid JSON; services word this their own way in faults.ts. */
export class MalformedBody extends BadRequest {
  constructor() {
    super("Malformed request body.");
  }
}
export class Unauthorized extends CloudError {
  constructor(message = "The request you have made requires authentication.", headers: Record<string, string> = {}) {
    super(401, message, headers);
  }
}
export class Forbidden extends CloudError {
  constructor(message = "You are not authorized to perform the requested action.") {
    super(403, message);
  }
}
export class NotFound extends CloudError {
  constructor(message = "Could not find the requested resource.") {
    super(404, message);
  }
}
export class MethodNotAllowed extends CloudError {
  constructor(message = "The method is not allowed for the requested URL.") {
    super(405, message);
  }
}
export class NotAcceptable extends CloudError {
  constructor(message = "Not acceptable.") {
    super(406, message);
  }
}
export class Conflict extends CloudError {
  constructor(message = "Conflict occurred attempting to store resource.") {
    super(409, message);
  }
}
export class Gone extends CloudError {
  constructor(message = "The requested resource is no longer available.") {
    super(410, message);
  }
}
export class PayloadTooLarge extends CloudError {
  constructor(message = "Request is too large.") {
    super(413, message);
  }
}
export class UnsupportedMediaType extends CloudError {
  constructor(message = "Unsupported media type.") {
    super(415, message);
  }
}
export class OverLimit extends CloudError {
  constructor(message = "Quota exceeded.") {
    super(413, message);
  }
}
export class NotImplemented extends CloudError {
  constructor(message = "The action you have requested has not been implemented.") {
    super(501, message);
  }
}
export class InternalError extends CloudError {
  constructor(message = "An unexpected error prevented the server from fulfilling your request.") {
    super(500, message);
  }
}

/** The standard HTTP reason phrase, used as the "title" in error bodies. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? "Error";
}
const REASONS: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  409: "Conflict",
  410: "Gone",
  413: "Request Entity Too Large",
  415: "Unsupported Media Type",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};
