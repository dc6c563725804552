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
    private readonly http: FastifyInstance,
    private readonly issue: () => Promise<ServiceToken>,
  ) {}

  private async token(): Promise<string> {
    if (!this.cached || this.cached.expiresAt.getTime() - Date.now() < 60_000) this.cached = await this.issue();
    return this.cached.id;
  }

  async request(
    method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE",
    path: string,
    opts: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<TransportResponse> {
    const headers: Record<string, string> = { "x-auth-token": await this.token(), accept: "application/json", ...opts.headers };
    const init: InjectOptions = { method, url: path, headers };
    if (opts.body !== undefined) {
      headers["content-type"] = "application/json";
      init.payload = JSON.stringify(opts.body);
    }
    const res = await this.http.inject(init);
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
}
