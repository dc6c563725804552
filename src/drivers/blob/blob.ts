import type { Readable } from "node:stream";

/**
 * Where bytes live (image data, object data, volume backups). Keys are opaque strings chosen
 * by the service ("image/<id>", "object/<account>/<hash>"). put() is durable when it returns:
 * the data is fsynced and renamed into place, so an acknowledged write survives kill -9.
 */
export interface BlobStore {
  /**
   * Stream `data` into `key` (replacing it atomically), hashing while streaming. Throws
   * BlobTooLarge when more than maxBytes arrive (nothing is kept) and BlobSizeMismatch when
   * expectedBytes is given and differs.
   */
  put(key: string, data: AsyncIterable<Uint8Array> | Readable, opts?: PutOptions): Promise<BlobInfo>;
  /** A stream of the bytes [start, end] (inclusive, as HTTP ranges) or all; undefined if absent. */
  get(key: string, range?: { start: number; end: number }): Promise<Readable | undefined>;
  stat(key: string): Promise<{ size: number } | undefined>;
  /**
   * Store a small blob already in memory where the store likes (packed with others that
   * arrive at the same time, one fsync for all) and return the key it chose. Durable when the
   * promise resolves.
   */
  putSmall(data: Buffer): Promise<string>;
  /** Idempotent. */
  delete(key: string): Promise<void>;
  /** Remove everything (a throwaway --memory store at close). */
  destroy(): Promise<void>;
}

export type HashAlgorithm = "md5" | "sha1" | "sha256" | "sha384" | "sha512";

export interface PutOptions {
  /** Hex digests to compute while streaming (default ["md5"]). */
  hashes?: readonly HashAlgorithm[];
  maxBytes?: number;
  expectedBytes?: number;
  /**
   * The key is new and will never be written again (Swift makes one per object version): the
   * bytes go straight to their place, without the temporary file and rename that guard a
   * replaced key's readers. Durable all the same when put() returns.
   */
  unique?: boolean;
}

export interface BlobInfo {
  size: number;
  /** Hex digest per requested algorithm. */
  hashes: Partial<Record<HashAlgorithm, string>>;
}

export class BlobTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`data exceeds the limit of ${limit} bytes`);
  }
}

export class BlobSizeMismatch extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`expected ${expected} bytes, received ${actual}`);
  }
}
