import type { Kysely, Transaction } from "kysely";

export interface ImageRow {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  protected: number;
  os_hidden: number;
  owner: string | null;
  /** PostgreSQL returns bigint as a string. */
  size: number | string | null;
  virtual_size: number | string | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  disk_format: string | null;
  container_format: string | null;
  min_disk: number;
  min_ram: number;
  created_at: string;
  updated_at: string;
  data_key: string | null;
  stage_key: string | null;
  stores: string | null;
}

export interface ImageDB extends MetadefDB {
  img_cache: { image_id: string; state: string; size: number | string | null; checksum: string | null; hits: number; last_accessed: string; last_modified: string };
  img_image: ImageRow;
  img_property: { image_id: string; name: string; value: string };
  img_tag: { image_id: string; value: string };
  img_member: { image_id: string; member: string; status: string; created_at: string; updated_at: string };
  img_task: {
    id: string;
    image_id: string;
    type: string;
    status: string;
    input: string;
    result: string | null;
    message: string;
    owner: string;
    user_id: string;
    request_id: string;
    created_at: string;
    updated_at: string;
    expires_at: string | null;
  };
}

export interface MdDocRow {
  namespace_id: string;
  name: string;
  doc: string;
  created_at: string;
  updated_at: string;
}

export interface MetadefDB {
  img_md_namespace: {
    id: string;
    namespace: string;
    display_name: string | null;
    description: string | null;
    visibility: string;
    protected: number;
    owner: string;
    created_at: string;
    updated_at: string;
  };
  img_md_object: MdDocRow;
  img_md_property: MdDocRow;
  img_md_tag: { namespace_id: string; name: string; created_at: string; updated_at: string };
  img_md_resource_type: { name: string; protected: number; created_at: string; updated_at: string };
  img_md_rt_assoc: { namespace_id: string; resource_type: string; prefix: string | null; properties_target: string | null; created_at: string; updated_at: string };
}

export type ImageKysely = Kysely<ImageDB>;
export type ImageTrx = Transaction<ImageDB>;
export type Q = Kysely<ImageDB> | Transaction<ImageDB>;
