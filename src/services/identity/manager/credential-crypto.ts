import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { isUniqueViolation } from "../../../db/database.js";
import { insertCredentialKey, listCredentialKeys } from "../store/credentials.js";
import type { IdentityDB } from "../store/tables.js";

/**
 * Credential blobs are encrypted at rest, as Keystone does with its credential fernet keys:
 * AES-256-GCM under a key kept in the database (so every process sharing it can decrypt), the
 * credential id as associated data so a ciphertext cannot be moved to another row.
 * Layout (base64): iv(12) | ciphertext | tag(16).
 */
export class CredentialCrypto {
  private keys = new Map<number, Buffer>();
  private primary = 0;

  constructor(private readonly db: IdentityDB) {}

  /** Load the keys, creating the first one on a fresh database. */
  async load(): Promise<void> {
    let rows = await listCredentialKeys(this.db);
    if (rows.length === 0) {
      try {
        await insertCredentialKey(this.db, { id: 1, key: randomBytes(32).toString("base64"), created_at: new Date().toISOString() });
      } catch (e) {
        // Another process created it first.
        if (!isUniqueViolation(e)) throw e;
      }
      rows = await listCredentialKeys(this.db);
    }
    this.keys = new Map(rows.map((r) => [r.id, Buffer.from(r.key, "base64")]));
    this.primary = Math.max(...rows.map((r) => r.id));
  }

  encrypt(plain: string, credentialId: string): { encrypted_blob: string; key_id: number } {
    const key = this.keys.get(this.primary);
    if (!key) throw new Error("credential keys not loaded");
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", key, iv);
    c.setAAD(Buffer.from(credentialId, "utf8"));
    const body = Buffer.concat([c.update(plain, "utf8"), c.final()]);
    return { encrypted_blob: Buffer.concat([iv, body, c.getAuthTag()]).toString("base64"), key_id: this.primary };
  }

  async decrypt(row: { id: string; encrypted_blob: string; key_id: number }): Promise<string> {
    let key = this.keys.get(row.key_id);
    if (!key) {
      await this.load();
      key = this.keys.get(row.key_id);
    }
    if (!key) throw new Error(`credential ${row.id} is encrypted with an unknown key`);
    const raw = Buffer.from(row.encrypted_blob, "base64");
    const d = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
    d.setAAD(Buffer.from(row.id, "utf8"));
    d.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString("utf8");
  }
}
