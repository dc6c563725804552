import type { Readable } from "node:stream";
import type { Clock } from "../../../common/clock.js";
import type { Database } from "../../../db/database.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { BlobStore } from "../../../drivers/blob/blob.js";
import type { TaskRunner } from "../../../tasks/runner.js";
import type { ImageKysely } from "../store/tables.js";
import type { Img } from "./images.js";

export const CACHE_TASK = "image.cache";

/** Where the cached copy of an image's data lives in the blob store. */
export function cacheKey(imageId: string): string {
  return `image-cache/${imageId}`;
}

export interface CachedImage {
  image_id: string;
  hits: number;
  last_accessed: number;
  last_modified: number;
  size: number;
  checksum: string | null;
}

/**
 * Glance's image cache. Queued images are fetched into the cache by a persisted task (the
 * cache worker/prefetcher); a full download of an image not yet cached queues it (the cache
 * middleware's cache-on-read); a download of a cached image is served from the copy and
 * counts a hit.
 */
export class CacheManager {
  private readonly db: ImageKysely;

  constructor(
    database: Database,
    private readonly clock: Clock,
    private readonly blobs: BlobStore,
    private readonly tasks: TaskRunner,
  ) {
    this.db = database.db as unknown as ImageKysely;
    tasks.register(CACHE_TASK, (payload) => this.prefetch((payload as { imageId: string }).imageId));
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  async state(): Promise<{ cached_images: CachedImage[]; queued_images: string[] }> {
    const rows = await this.db.selectFrom("img_cache").selectAll().orderBy("last_modified").execute();
    const epoch = (s: string): number => new Date(s).getTime() / 1000;
    return {
      cached_images: rows
        .filter((r) => r.state === "cached")
        .map((r) => ({ image_id: r.image_id, hits: r.hits, last_accessed: epoch(r.last_accessed), last_modified: epoch(r.last_modified), size: Number(r.size ?? 0), checksum: r.checksum })),
      queued_images: rows.filter((r) => r.state === "queued").map((r) => r.image_id),
    };
  }

  /** Queue an active image for caching (idempotent: a cached or queued image stays so). */
  async queue(imageId: string): Promise<void> {
    const now = this.now();
    await this.db.transaction().execute(async (trx) => {
      try {
        await trx.insertInto("img_cache").values({ image_id: imageId, state: "queued", size: null, checksum: null, hits: 0, last_accessed: now, last_modified: now }).execute();
      } catch (e) {
        if (isUniqueViolation(e)) return;
        throw e;
      }
      await this.tasks.enqueue(CACHE_TASK, { imageId }, 0, trx as never);
    });
  }

  /** The prefetcher: copy a queued image's data into the cache. */
  private async prefetch(imageId: string): Promise<void> {
    const entry = await this.db.selectFrom("img_cache").selectAll().where("image_id", "=", imageId).executeTakeFirst();
    if (!entry || entry.state !== "queued") return;
    const img = await this.db.selectFrom("img_image").select(["status", "data_key", "checksum"]).where("id", "=", imageId).executeTakeFirst();
    if (!img || img.status !== "active" || !img.data_key) {
      await this.db.deleteFrom("img_cache").where("image_id", "=", imageId).execute();
      return;
    }
    const src = await this.blobs.get(img.data_key);
    if (!src) return;
    const info = await this.blobs.put(cacheKey(imageId), src, { hashes: [] });
    const r = await this.db
      .updateTable("img_cache")
      .set({ state: "cached", size: info.size, checksum: img.checksum, last_modified: this.now() })
      .where("image_id", "=", imageId)
      .where("state", "=", "queued")
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) await this.blobs.delete(cacheKey(imageId));
  }

  /**
   * The data of a download: the cached copy (a hit) when there is one; otherwise undefined,
   * and a full read queues the image for caching.
   */
  async read(img: Img, range: { start: number; end: number } | undefined): Promise<Readable | undefined> {
    const entry = await this.db.selectFrom("img_cache").select(["state"]).where("image_id", "=", img.id).executeTakeFirst();
    if (entry?.state === "cached") {
      const s = await this.blobs.get(cacheKey(img.id), range);
      if (s) {
        await this.db
          .updateTable("img_cache")
          .set((eb) => ({ hits: eb("hits", "+", 1), last_accessed: this.now() }))
          .where("image_id", "=", img.id)
          .execute();
        return s;
      }
    }
    if (!entry && !range && img.status === "active") await this.queue(img.id);
    return undefined;
  }

  /** Whether an image is cached or queued (a deleted image may still be). */
  async has(imageId: string): Promise<boolean> {
    return (await this.db.selectFrom("img_cache").select("image_id").where("image_id", "=", imageId).executeTakeFirst()) !== undefined;
  }

  async delete(imageId: string): Promise<void> {
    await this.db.deleteFrom("img_cache").where("image_id", "=", imageId).execute();
    await this.blobs.delete(cacheKey(imageId));
  }

  async clear(target: "" | "cache" | "queue"): Promise<void> {
    const rows = await this.db.selectFrom("img_cache").select(["image_id", "state"]).execute();
    for (const r of rows) {
      if (target === "cache" && r.state !== "cached") continue;
      if (target === "queue" && r.state !== "queued") continue;
      await this.delete(r.image_id);
    }
  }
}
