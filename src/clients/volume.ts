import type { InProcessTransport, TransportResponse } from "./transport.js";
import { expectOk } from "./transport.js";

export type CinderDoc = Record<string, unknown> & { id: string };

type Method = "GET" | "POST" | "PUT" | "DELETE";

/**
 * Compute's view of Cinder (the real v3 API, in process), as nova/volume/cinder.py uses it:
 * volumes and snapshots looked up with the user's token (so another project's volume is not
 * found), volumes created for block_device_mapping_v2 as the user, and the new-style attach
 * flow (attachments at 3.44: create → update with the connector → os-complete; delete) with the
 * service token, which Cinder lets delete attachments Nova uses.
 */
export class VolumeClient {
  constructor(private readonly t: InProcessTransport) {}

  /** `path` is relative to /volume/v3 (the project-less form every version routes). */
  raw(method: Method, path: string, opts: { body?: unknown; token?: string | undefined; version?: string } = {}): Promise<TransportResponse> {
    const o: Parameters<InProcessTransport["request"]>[2] = { headers: { "openstack-api-version": `volume ${opts.version ?? "3.0"}` } };
    if (opts.body !== undefined) o.body = opts.body;
    if (opts.token !== undefined) o.token = opts.token;
    return this.t.request(method, `/volume/v3${path}`, o);
  }

  private async call<T>(method: Method, path: string, opts: { body?: unknown; token?: string | undefined; version?: string } = {}): Promise<T> {
    return expectOk<T>(method, path, await this.raw(method, path, opts));
  }

  /** undefined when absent or not visible to the token's caller. */
  async getVolume(id: string, token?: string): Promise<CinderDoc | undefined> {
    const res = await this.raw("GET", `/volumes/${encodeURIComponent(id)}`, { token, version: "3.48" });
    if (res.status === 404) return undefined;
    return expectOk<{ volume: CinderDoc }>("GET", `/volumes/${id}`, res).volume;
  }

  async getSnapshot(id: string, token?: string): Promise<CinderDoc | undefined> {
    const res = await this.raw("GET", `/snapshots/${encodeURIComponent(id)}`, { token });
    if (res.status === 404) return undefined;
    return expectOk<{ snapshot: CinderDoc }>("GET", `/snapshots/${id}`, res).snapshot;
  }

  /** Raw: the caller maps Cinder's refusals (quota 413, 400, 404) to its own faults. */
  createVolume(volume: Record<string, unknown>, token?: string): Promise<TransportResponse> {
    return this.raw("POST", "/volumes", { body: { volume }, token, version: "3.0" });
  }

  /** Idempotent: a volume already gone is fine. Raw status returned for the caller to judge. */
  async deleteVolume(id: string, token?: string): Promise<TransportResponse> {
    return this.raw("DELETE", `/volumes/${encodeURIComponent(id)}`, { token });
  }

  /** attachment_create without a connector: the volume reserved for the instance. */
  async attachmentCreate(volumeId: string, instanceUuid: string, connector?: Record<string, unknown>): Promise<CinderDoc> {
    const attachment: Record<string, unknown> = { volume_uuid: volumeId, instance_uuid: instanceUuid };
    if (connector) attachment["connector"] = connector;
    return (await this.call<{ attachment: CinderDoc }>("POST", "/attachments", { body: { attachment }, version: "3.44" })).attachment;
  }

  /** attachment_create as a raw answer (the caller maps 400 InvalidVolume to its own fault). */
  attachmentCreateRaw(volumeId: string, instanceUuid: string): Promise<TransportResponse> {
    return this.raw("POST", "/attachments", { body: { attachment: { volume_uuid: volumeId, instance_uuid: instanceUuid } }, version: "3.44" });
  }

  /** attachment_update with the host's connector: the connection info. */
  async attachmentUpdate(id: string, connector: Record<string, unknown>): Promise<CinderDoc> {
    return (await this.call<{ attachment: CinderDoc }>("PUT", `/attachments/${id}`, { body: { attachment: { connector } }, version: "3.44" })).attachment;
  }

  async attachmentComplete(id: string): Promise<void> {
    await this.call("POST", `/attachments/${id}/action`, { body: { "os-complete": null }, version: "3.44" });
  }

  /** Idempotent: an attachment already gone is fine. */
  async attachmentDelete(id: string): Promise<void> {
    const res = await this.raw("DELETE", `/attachments/${id}`, { version: "3.44" });
    if (res.status !== 404) expectOk("DELETE", `/attachments/${id}`, res);
  }
}
