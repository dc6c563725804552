import { createHash, randomUUID } from "node:crypto";
import { BadRequest, Conflict, NotFound } from "../../../common/errors.js";
import { hexId } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { IdentityCore } from "../core.js";
import * as store from "../store/credentials.js";
import type { CredentialFilter } from "../store/credentials.js";
import type { CredentialRow, IdentityTrx } from "../store/tables.js";
import { json } from "../store/tables.js";
import type { CredentialCrypto } from "./credential-crypto.js";

export const EC2 = "ec2";

/** A credential with its blob decrypted. */
export interface CredentialRecord {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  blob: string;
  extra: Record<string, unknown>;
}

export interface CredentialInput {
  user_id?: string;
  project_id?: string;
  type?: string;
  blob?: string;
  id?: string;
  [extra: string]: unknown;
}

/** The EC2 view of an ec2 credential (OS-EC2 and ec2tokens). */
export interface Ec2Blob {
  access: string | null;
  secret: string | null;
  trust_id: string | null;
  app_cred_id: string | null;
  access_token_id: string | null;
}

const KNOWN = new Set(["id", "user_id", "project_id", "type", "blob", "links"]);

/** Keystone's id for an EC2 credential: the SHA-256 of its access key (utils.hash_access_key). */
export function hashAccessKey(access: string): string {
  return createHash("sha256").update(access, "utf8").digest("hex");
}

function invalid(attribute: string): BadRequest {
  return new BadRequest(
    `Expecting to find ${attribute} in credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`,
  );
}

/** An ec2 blob must be a JSON object with an access key (CredentialResource._validate_blob_json). */
export function parseEc2Blob(blob: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(blob);
  } catch {
    throw new BadRequest("Invalid blob in credential");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
    throw invalid("blob");
  }
  const access = (parsed as Record<string, unknown>)["access"];
  if (access === undefined || access === null) throw invalid("access");
  if (typeof access !== "string") throw invalid("access");
  return parsed as Record<string, unknown>;
}

export function ec2Fields(blob: string): Ec2Blob {
  let b: Record<string, unknown> = {};
  try {
    const p = JSON.parse(blob) as unknown;
    if (p && typeof p === "object" && !Array.isArray(p)) b = p as Record<string, unknown>;
  } catch {
    // A malformed blob has no EC2 fields.
  }
  const s = (k: string): string | null => (typeof b[k] === "string" ? (b[k] as string) : null);
  return { access: s("access"), secret: s("secret"), trust_id: s("trust_id"), app_cred_id: s("app_cred_id"), access_token_id: s("access_token_id") };
}

/** json.dumps of a flat object, so blobs we generate read exactly as Keystone's do. */
function pyDumps(o: Record<string, string | null>): string {
  return `{${Object.entries(o)
    .map(([k, v]) => `${JSON.stringify(k)}: ${v === null ? "null" : JSON.stringify(v)}`)
    .join(", ")}}`;
}

function extras(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // Keystone normalises attribute names (':' and '-' become '_') before storing them.
  for (const [k, v] of Object.entries(input)) if (!KNOWN.has(k)) out[k.replaceAll(":", "_").replaceAll("-", "_")] = v;
  return out;
}

export class CredentialManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly crypto: CredentialCrypto,
  ) {}

  async load(): Promise<void> {
    await this.crypto.load();
  }

  private async record(row: CredentialRow): Promise<CredentialRecord> {
    return {
      id: row.id,
      user_id: row.user_id,
      project_id: row.project_id,
      type: row.type,
      blob: await this.crypto.decrypt(row),
      extra: json(row.extra),
    };
  }

  async find(id: string): Promise<CredentialRecord | undefined> {
    const row = await store.getCredential(this.core.db, id);
    return row ? this.record(row) : undefined;
  }

  async get(id: string): Promise<CredentialRecord> {
    const c = await this.find(id);
    if (!c) throw new NotFound(`Could not find credential: ${id}.`);
    return c;
  }

  async list(f: CredentialFilter = {}): Promise<CredentialRecord[]> {
    const rows = await store.listCredentials(this.core.db, f);
    return Promise.all(rows.map((r) => this.record(r)));
  }

  /** POST /v3/credentials: ec2 ids are the hash of the access key, others a fresh uuid. */
  async create(input: CredentialInput): Promise<CredentialRecord> {
    const type = input.type!;
    const blob = input.blob!;
    let id: string;
    if (type.toLowerCase() === EC2) {
      // The schema's oneOf requires project_id for type "ec2" exactly; the id is the access
      // key's hash for any spelling of it.
      if (type === EC2 && typeof input.project_id !== "string") {
        throw new BadRequest("Invalid input for field 'project_id': 'project_id' is a required property for an ec2 credential.");
      }
      id = hashAccessKey(parseEc2Blob(blob)["access"] as string);
    } else {
      id = hexId();
    }
    return this.insert({
      id,
      user_id: input.user_id!,
      project_id: typeof input.project_id === "string" ? input.project_id : null,
      type,
      blob,
      extra: extras(input),
    });
  }

  private async insert(c: CredentialRecord): Promise<CredentialRecord> {
    const enc = this.crypto.encrypt(c.blob, c.id);
    try {
      await this.core.write((trx) =>
        store.insertCredential(trx, {
          id: c.id,
          user_id: c.user_id,
          project_id: c.project_id,
          type: c.type,
          ...enc,
          extra: JSON.stringify(c.extra),
        }),
      );
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new Conflict(`Conflict occurred attempting to store credential - Duplicate entry found with ID ${c.id}.`);
      }
      throw e;
    }
    return c;
  }

  /**
   * The credential a PATCH would produce, checked but not stored, so the handler can enforce
   * policy on the result (Keystone enforces update_credential on current ∪ patch).
   */
  merged(cur: CredentialRecord, patch: CredentialInput): CredentialRecord {
    if (patch.id !== undefined && patch.id !== cur.id) {
      throw new BadRequest("Cannot change ID");
    }
    const next: CredentialRecord = {
      ...cur,
      extra: { ...cur.extra, ...extras(patch) },
    };
    if (patch.user_id !== undefined) next.user_id = patch.user_id;
    if (patch.project_id !== undefined) next.project_id = patch.project_id;
    if (patch.type !== undefined) next.type = patch.type;
    if (patch.blob !== undefined) next.blob = patch.blob;
    const wasEc2 = cur.type.toLowerCase() === EC2;
    const isEc2 = next.type.toLowerCase() === EC2;
    // An ec2 credential's id is the hash of its access key: retyping in or out of ec2 would
    // leave a credential ec2tokens cannot find or one it finds under the wrong id.
    if (wasEc2 !== isEc2) throw new BadRequest("type can not be updated for credential");
    if (isEc2) {
      const nb = parseEc2Blob(next.blob);
      let ob: Record<string, unknown> = {};
      try {
        ob = JSON.parse(cur.blob) as Record<string, unknown>;
      } catch {
        // A stored blob is always valid JSON for ec2; treat anything else as empty.
      }
      // A credential's delegation scope can neither be changed nor dropped.
      for (const key of ["trust_id", "app_cred_id", "access_token_id", "access_id"]) {
        if (JSON.stringify(ob[key] ?? null) !== JSON.stringify(nb[key] ?? null)) throw new BadRequest(`${key} can not be updated for credential`);
      }
      if (next.type === EC2 && next.project_id === null) {
        throw new BadRequest("Invalid input for field 'project_id': 'project_id' is a required property for an ec2 credential.");
      }
    }
    return next;
  }

  async update(id: string, next: CredentialRecord): Promise<CredentialRecord> {
    const enc = this.crypto.encrypt(next.blob, id);
    await this.core.write(async (trx) => {
      if (!(await store.getCredential(trx, id))) throw new NotFound(`Could not find credential: ${id}.`);
      await store.updateCredential(trx, id, {
        user_id: next.user_id,
        project_id: next.project_id,
        type: next.type,
        ...enc,
        extra: JSON.stringify(next.extra),
      });
    });
    return { ...next, id };
  }

  async delete(id: string): Promise<void> {
    await this.core.write(async (trx) => {
      if (!(await store.deleteCredential(trx, id))) throw new NotFound(`Could not find credential: ${id}.`);
    });
  }

  // ---- OS-EC2 ---------------------------------------------------------------------------------

  /** POST /v3/users/{user_id}/credentials/OS-EC2: random access and secret, stored as an ec2 credential. */
  async createEc2(userId: string, projectId: string, trustId: string | null): Promise<CredentialRecord> {
    const access = randomUUID().replaceAll("-", "");
    const secret = randomUUID().replaceAll("-", "");
    return this.insert({
      id: hashAccessKey(access),
      user_id: userId,
      project_id: projectId,
      type: EC2,
      blob: pyDumps({ access, secret, trust_id: trustId }),
      extra: {},
    });
  }

  /** The ec2 credential with this access key, when there is one. */
  async findEc2(access: string): Promise<CredentialRecord | undefined> {
    const c = await this.find(hashAccessKey(access));
    return c && c.type === EC2 ? c : undefined;
  }

  // ---- cascades -------------------------------------------------------------------------------

  async onUserDeleted(trx: IdentityTrx, userId: string): Promise<void> {
    await store.deleteCredentialsFor(trx, { userId });
  }

  async onProjectDeleted(trx: IdentityTrx, projectId: string): Promise<void> {
    await store.deleteCredentialsFor(trx, { projectId });
  }
}
