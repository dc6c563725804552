import type { InProcessTransport, TransportResponse } from "./transport.js";
import { expectOk, ServiceCallError } from "./transport.js";

export type GlanceImage = Record<string, unknown> & { id: string; status: string; visibility: string };

/**
 * Compute's view of Glance (the real v2 API, in process): the image a server boots from
 * (asked with the user's token, so a private image of another project is not found) and
 * snapshots (createImage, shelve) made as the user's images.
 */
export class ImageClient {
  constructor(private readonly t: InProcessTransport) {}

  raw(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, opts: Parameters<InProcessTransport["request"]>[2] = {}): Promise<TransportResponse> {
    return this.t.request(method, `/image/v2${path}`, opts);
  }

  /** undefined when absent or not visible to the token's caller. */
  async getImage(id: string, token?: string): Promise<GlanceImage | undefined> {
    const res = await this.raw("GET", `/images/${encodeURIComponent(id)}`, token === undefined ? {} : { token });
    if (res.status === 404) return undefined;
    return expectOk<GlanceImage>("GET", `/images/${id}`, res);
  }

  async createImage(image: Record<string, unknown>, token?: string): Promise<GlanceImage> {
    const res = await this.raw("POST", "/images", token === undefined ? { body: image } : { body: image, token });
    return expectOk<GlanceImage>("POST", "/images", res);
  }

  /** PUT /images/{id}/file: the bytes, as application/octet-stream. */
  async uploadData(id: string, data: Buffer | NodeJS.ReadableStream, token?: string): Promise<void> {
    const opts: Parameters<InProcessTransport["request"]>[2] = { raw: data, headers: { "content-type": "application/octet-stream" } };
    if (token !== undefined) opts.token = token;
    expectOk("PUT", `/images/${id}/file`, await this.raw("PUT", `/images/${id}/file`, opts));
  }

  /** GET /images/{id}/file as a stream (Cinder's copy of an image into a volume); a ServiceCallError when not 200. */
  async downloadData(id: string, token?: string): Promise<NodeJS.ReadableStream> {
    const path = `/image/v2/images/${encodeURIComponent(id)}/file`;
    const res = await this.t.stream(path, token === undefined ? {} : { token });
    if (res.status !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res.stream) chunks.push(Buffer.from(c as Buffer));
      throw new ServiceCallError("GET", path, res.status, Buffer.concat(chunks).toString("utf8"));
    }
    return res.stream;
  }

  /** Idempotent. */
  async deleteImage(id: string, token?: string): Promise<void> {
    const res = await this.raw("DELETE", `/images/${id}`, token === undefined ? {} : { token });
    if (res.status !== 404) expectOk("DELETE", `/images/${id}`, res);
  }
}
