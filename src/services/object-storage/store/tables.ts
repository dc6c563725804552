import type { Kysely, Transaction } from "kysely";

export interface AccountRow {
  /** "AUTH_<project id>" */
  account: string;
  /** X-Timestamp of creation ("1700000000.12345"). */
  created_at: string;
  put_timestamp: string;
  /** JSON: lowercased header name → value (X-Account-Meta-*, sysmeta such as quotas, ACLs, keys). */
  meta: string;
}

export interface ContainerRow {
  account: string;
  name: string;
  created_at: string;
  put_timestamp: string;
  /** X-Timestamp of the last change to the container's listing or metadata. */
  last_modified: string;
  object_count: number | string;
  bytes_used: number | string;
  meta: string;
}

export interface ObjectRow {
  account: string;
  container: string;
  name: string;
  /** X-Timestamp of the PUT or POST that made this version. */
  timestamp: string;
  size: number | string;
  etag: string;
  content_type: string;
  /** JSON: lowercased header name → value (X-Object-Meta-*, Content-Disposition, manifests, …). */
  meta: string;
  /** Blob store key of the bytes (null for an empty object). */
  blob: string | null;
  /** X-Delete-At (unix seconds), null when the object does not expire. */
  delete_at: number | string | null;
}

export interface ObjectStorageTables {
  swift_account: AccountRow;
  swift_container: ContainerRow;
  swift_object: ObjectRow;
}

export type SwiftDB = Kysely<ObjectStorageTables>;
export type SwiftTrx = Transaction<ObjectStorageTables>;
