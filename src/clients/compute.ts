import type { InProcessTransport } from "./transport.js";
import { expectOk } from "./transport.js";

/**
 * Cinder's view of Nova (the real v2.1 API, in process, service token): which attachment a
 * server uses for a volume (cinder/compute/nova.py get_server_volume, microversion 2.89), so
 * Cinder refuses a user's delete of an attachment Nova still uses (Bug #2004555).
 */
export class ComputeClient {
  constructor(private readonly t: InProcessTransport) {}

  /** The attachment id Nova records for the volume on the server; undefined when Nova knows neither. */
  async serverVolumeAttachmentId(serverId: string, volumeId: string): Promise<string | undefined> {
    const path = `/compute/v2.1/servers/${encodeURIComponent(serverId)}/os-volume_attachments/${encodeURIComponent(volumeId)}`;
    const res = await this.t.request("GET", path, { headers: { "openstack-api-version": "compute 2.89" } });
    if (res.status === 404) return undefined;
    const body = expectOk<{ volumeAttachment: { attachment_id?: string | null } }>("GET", path, res);
    return body.volumeAttachment.attachment_id ?? undefined;
  }

  /** cinder/compute/nova.py extend_volume: the volume-extended external event (2.51) for each server. */
  async volumeExtended(serverIds: string[], volumeId: string): Promise<void> {
    if (serverIds.length === 0) return;
    const path = "/compute/v2.1/os-server-external-events";
    const events = serverIds.map((server_uuid) => ({ name: "volume-extended", server_uuid, tag: volumeId }));
    const res = await this.t.request("POST", path, { body: { events }, headers: { "openstack-api-version": "compute 2.51" } });
    // 207: some servers are gone or not on a host; Cinder logs and goes on.
    if (res.status !== 207) expectOk("POST", path, res);
  }
}
