import type { FastifyInstance } from "fastify";
import type { OutgoingHttpHeaders } from "node:http";
import type { InjectOptions } from "light-my-request";

/**
 * Service-to-service calls without a socket: requests go through the real router with
 * fastify's inject(), so validation, policy and microversions apply exactly as over HTTP.
 * Each call carries a service token from `token()` (re-issued when it nears expiry).
 */
export interface TransportResponse {
  status: number;
  headers: OutgoingHttpHeaders;
  body: unknown;
}

export interface ServiceToken {
  id: string;
  expiresAt: Date;
}

export class InProcessTransport {
  private cached: ServiceToken | undefined;

  constructor(
    /** A getter: services get their transport before the router exists. */
    private readonly http: () => FastifyInstance,
    private readonly issue: () => Promise<ServiceToken>,
  ) {}

  private async token(): Promise<string> {
    if (!this.cached || this.cached.expiresAt.getTime() - Date.now() < 60_000) this.cached = await this.issue();
    return this.cached.id;
  }

  async request(
    method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE",
    path: string,
    opts: {
      body?: unknown;
      headers?: Record<string, string>;
      /** Act as this caller (a user's token) instead of the service user. */
      token?: string;
      /** A non-JSON body (image data), sent with headers["content-type"]. */
      raw?: Buffer | NodeJS.ReadableStream;
    } = {},
  ): Promise<TransportResponse> {
    const headers: Record<string, string> = { "x-auth-token": opts.token ?? (await this.token()), accept: "application/json", ...opts.headers };
    const init: InjectOptions = { method, url: path, headers };
    if (opts.raw !== undefined) {
      init.payload = opts.raw as NonNullable<InjectOptions["payload"]>;
    } else if (opts.body !== undefined) {
      headers["content-type"] = "application/json";
      init.payload = JSON.stringify(opts.body);
    }
    const res = await this.http().inject(init);
    let body: unknown = undefined;
    if (res.body) {
      try {
        body = JSON.parse(res.body);
      } catch {
        body = res.body;
      }
    }
    return { status: res.statusCode, headers: res.headers, body };
  }

  /** A GET whose answer body is streamed (image data), not buffered or parsed. */
  async stream(path: string, opts: { token?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: OutgoingHttpHeaders; stream: NodeJS.ReadableStream }> {
    const headers: Record<string, string> = { "x-auth-token": opts.token ?? (await this.token()), ...opts.headers };
    const res = await this.http().inject({ method: "GET", url: path, headers, payloadAsStream: true });
    return { status: res.statusCode, headers: res.headers, stream: res.stream() };
  }
}

/** A non-2xx answer from another service, with its status and body for the caller to map. */
export class ServiceCallError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${method} ${path} answered ${status}: ${typeof body === "string" ? body : JSON.stringify(body)}`);
  }
}

/** The body of a 2xx answer, or a ServiceCallError. */
export function expectOk<T>(method: string, path: string, res: TransportResponse): T {
  if (res.status >= 200 && res.status < 300) return res.body as T;
  throw new ServiceCallError(method, path, res.status, res.body);
}
