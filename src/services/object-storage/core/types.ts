import type { Readable } from "node:stream";

/** The keystone identity behind a request (keystoneauth's view of the token). */
export interface SwiftIdentity {
  userId: string;
  userName: string;
  userDomainId: string;
  projectId: string | undefined;
  projectName: string | undefined;
  projectDomainId: string | undefined;
  /** Role names, lowercased. */
  roles: readonly string[];
}

export type SwiftBody = Buffer | string | Readable | AsyncIterable<Uint8Array>;

/** What every filter and the core answer: a status, headers (lowercase names) and a body. */
export interface SwiftResponse {
  status: number;
  headers: Record<string, string>;
  body?: SwiftBody;
}

/**
 * Decides whether the caller may do `req` (keystoneauth's swift.authorize): undefined to go
 * on, or the refusal (401 anonymous, 403 otherwise). Called by the core once the container's
 * ACLs are known.
 */
export type Authorize = (req: SwiftRequest, acl: ContainerAcls | undefined) => SwiftResponse | undefined;

export interface ContainerAcls {
  read: string | undefined;
  write: string | undefined;
}

/**
 * One request in the pipeline, like a WSGI environ: filters may rewrite it or make new
 * sub-requests. Paths are decoded; the object name may hold slashes.
 */
export class SwiftRequest {
  method: string;
  account: string;
  container: string | undefined;
  object: string | undefined;
  /** Lowercased header names. */
  headers: Record<string, string>;
  query: URLSearchParams;
  body: Readable | AsyncIterable<Uint8Array> | undefined;
  identity: SwiftIdentity | undefined;
  /** keystoneauth's callback; undefined = pre-authorized (sub-requests of middleware, temp URLs). */
  authorize: Authorize | undefined;
  /** The caller owns the account (may see and set ACLs, temp URL keys, …). */
  swiftOwner = false;
  /** Free-form flags filters leave for each other (swift.source, …). */
  env: Record<string, unknown> = {};
  readonly transId: string;
  /** Base URL of the object storage service (".../object-storage"). */
  readonly serviceUrl: string;
  /** Remote address, for the access log and tempurl IP ranges. */
  readonly remoteAddr: string;

  constructor(init: {
    method: string;
    account: string;
    container?: string | undefined;
    object?: string | undefined;
    headers?: Record<string, string>;
    query?: URLSearchParams;
    body?: Readable | AsyncIterable<Uint8Array> | undefined;
    identity?: SwiftIdentity | undefined;
    authorize?: Authorize | undefined;
    transId: string;
    serviceUrl: string;
    remoteAddr?: string;
  }) {
    this.method = init.method;
    this.account = init.account;
    this.container = init.container;
    this.object = init.object;
    this.headers = init.headers ?? {};
    this.query = init.query ?? new URLSearchParams();
    this.body = init.body;
    this.identity = init.identity;
    this.authorize = init.authorize;
    this.transId = init.transId;
    this.serviceUrl = init.serviceUrl;
    this.remoteAddr = init.remoteAddr ?? "127.0.0.1";
  }

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()];
  }

  /** /v1/<account>[/<container>[/<object>]] (not encoded). */
  get path(): string {
    let p = `/v1/${this.account}`;
    if (this.container !== undefined) p += `/${this.container}`;
    if (this.object !== undefined) p += `/${this.object}`;
    return p;
  }

  get kind(): "account" | "container" | "object" {
    return this.object !== undefined ? "object" : this.container !== undefined ? "container" : "account";
  }

  /**
   * A sub-request made by middleware on the caller's behalf (SLO segments, versions, bulk):
   * same identity and transaction id, its own headers; `preauthed` skips authorization, as
   * Swift's make_pre_authed_request does.
   */
  sub(init: { method: string; path: { account?: string; container?: string | undefined; object?: string | undefined }; headers?: Record<string, string>; query?: URLSearchParams; body?: Readable | AsyncIterable<Uint8Array>; preauthed?: boolean; source?: string }): SwiftRequest {
    const r = new SwiftRequest({
      method: init.method,
      account: init.path.account ?? this.account,
      container: init.path.container,
      object: init.path.object,
      headers: init.headers ?? {},
      query: init.query ?? new URLSearchParams(),
      body: init.body,
      identity: this.identity,
      authorize: init.preauthed ? undefined : this.authorize,
      transId: this.transId,
      serviceUrl: this.serviceUrl,
      remoteAddr: this.remoteAddr,
    });
    r.swiftOwner = init.preauthed ? true : this.swiftOwner;
    if (init.source) r.env["swift.source"] = init.source;
    return r;
  }
}

export type Handler = (req: SwiftRequest) => Promise<SwiftResponse>;

/** One WSGI-style filter: it sees the request first and calls `next` (the rest of the pipeline) as it likes. */
export interface Filter {
  name: string;
  handle(req: SwiftRequest, next: Handler): Promise<SwiftResponse>;
}
