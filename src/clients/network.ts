import type { InProcessTransport, TransportResponse } from "./transport.js";
import { expectOk } from "./transport.js";

export type NeutronDoc = Record<string, unknown> & { id: string };

/**
 * Compute's view of Neutron (the real API, in process): networks a project may boot on,
 * ports created for servers and bound to their host, security groups, floating IPs.
 * Calls go as the service user (admin) unless a caller's token is given, so a check such as
 * "may this project use that network" is asked with the user's own token, as Nova does.
 */
export class NetworkClient {
  constructor(private readonly t: InProcessTransport) {}

  raw(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown, token?: string): Promise<TransportResponse> {
    const opts: { body?: unknown; token?: string } = {};
    if (body !== undefined) opts.body = body;
    if (token !== undefined) opts.token = token;
    return this.t.request(method, `/networking/v2.0${path}`, opts);
  }

  private async call<T>(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown, token?: string): Promise<T> {
    return expectOk<T>(method, path, await this.raw(method, path, body, token));
  }

  /** undefined when absent or not visible to the token's caller. */
  async getNetwork(id: string, token?: string): Promise<NeutronDoc | undefined> {
    const res = await this.raw("GET", `/networks/${encodeURIComponent(id)}`, undefined, token);
    if (res.status === 404) return undefined;
    return expectOk<{ network: NeutronDoc }>("GET", `/networks/${id}`, res).network;
  }

  async listNetworks(query: string, token?: string): Promise<NeutronDoc[]> {
    return (await this.call<{ networks: NeutronDoc[] }>("GET", `/networks?${query}`, undefined, token)).networks;
  }

  async getPort(id: string, token?: string): Promise<NeutronDoc | undefined> {
    const res = await this.raw("GET", `/ports/${encodeURIComponent(id)}`, undefined, token);
    if (res.status === 404) return undefined;
    return expectOk<{ port: NeutronDoc }>("GET", `/ports/${id}`, res).port;
  }

  async listPorts(query: string, token?: string): Promise<NeutronDoc[]> {
    return (await this.call<{ ports: NeutronDoc[] }>("GET", `/ports?${query}`, undefined, token)).ports;
  }

  /** Raw, so the caller maps 409 (no addresses left, MAC in use) and 400 to its own faults. */
  createPort(port: Record<string, unknown>, token?: string): Promise<TransportResponse> {
    return this.raw("POST", "/ports", { port }, token);
  }

  async updatePort(id: string, port: Record<string, unknown>): Promise<NeutronDoc> {
    return (await this.call<{ port: NeutronDoc }>("PUT", `/ports/${id}`, { port })).port;
  }

  /** Idempotent: a port already gone is fine. */
  async deletePort(id: string): Promise<void> {
    const res = await this.raw("DELETE", `/ports/${id}`);
    if (res.status !== 404) expectOk("DELETE", `/ports/${id}`, res);
  }

  async listSecurityGroups(query: string, token?: string): Promise<NeutronDoc[]> {
    return (await this.call<{ security_groups: NeutronDoc[] }>("GET", `/security-groups?${query}`, undefined, token)).security_groups;
  }

  async listSubnets(query: string, token?: string): Promise<NeutronDoc[]> {
    return (await this.call<{ subnets: NeutronDoc[] }>("GET", `/subnets?${query}`, undefined, token)).subnets;
  }

  async listFloatingIps(query: string, token?: string): Promise<NeutronDoc[]> {
    return (await this.call<{ floatingips: NeutronDoc[] }>("GET", `/floatingips?${query}`, undefined, token)).floatingips;
  }
}
