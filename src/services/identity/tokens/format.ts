import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { isUniqueViolation } from "../../../db/database.js";
import { bumpRevision } from "../core.js";
import type { IdentityDB } from "../store/tables.js";

/**
 * Fernet-like tokens: the payload is encrypted and authenticated (AES-256-GCM) with a key kept
 * in the database, so any process sharing the database validates any other's tokens and a
 * restart loses nothing. Nothing is stored per token. Layout (base64url):
 *   version(1) | key id(4, BE) | iv(12) | ciphertext | tag(16)
 */
export interface TokenPayload {
  userId: string;
  methods: string[];
  scope: { kind: "project" | "domain" | "system" | "unscoped"; id?: string };
  issuedAt: Date;
  expiresAt: Date;
  /** [own audit id, …chain]: the first is this token's, the last the original's. */
  auditIds: string[];
  trustId?: string;
  appCredId?: string;
  accessTokenId?: string;
}

/** First byte: what the blob is. A receipt can never be presented as a token, or back. */
const VERSION = 1;
const RECEIPT = 2;
const KEEP_KEYS = 3;

type Wire = [string, string[], string, string | null, number, number, string[], string | null, string | null, string | null];

function toWire(p: TokenPayload): Wire {
  return [
    p.userId,
    p.methods,
    p.scope.kind,
    p.scope.id ?? null,
    Math.floor(p.expiresAt.getTime() / 1000),
    p.issuedAt.getTime(),
    p.auditIds,
    p.trustId ?? null,
    p.appCredId ?? null,
    p.accessTokenId ?? null,
  ];
}

function fromWire(w: Wire): TokenPayload {
  const [userId, methods, kind, scopeId, exp, iat, auditIds, trustId, appCredId, accessTokenId] = w;
  const p: TokenPayload = {
    userId,
    methods,
    scope: scopeId === null ? { kind: kind as TokenPayload["scope"]["kind"] } : { kind: kind as TokenPayload["scope"]["kind"], id: scopeId },
    expiresAt: new Date(exp * 1000),
    issuedAt: new Date(iat),
    auditIds,
  };
  if (trustId) p.trustId = trustId;
  if (appCredId) p.appCredId = appCredId;
  if (accessTokenId) p.accessTokenId = accessTokenId;
  return p;
}

export class TokenCodec {
  private keys = new Map<number, Buffer>();
  private primary = 0;

  constructor(private readonly db: IdentityDB) {}

  private loadedAt = 0;

  /**
   * Re-read the keys when the last read is over a second old, so a rotation made by another
   * process (`stackbox token-rotate`) takes effect here: retired keys stop validating and the
   * new primary signs. Called on every token that is not in the validation cache.
   */
  async refresh(): Promise<void> {
    if (Date.now() - this.loadedAt > 1000) await this.load();
  }

  /** Load keys, creating the first one on a fresh database. */
  async load(): Promise<void> {
    this.loadedAt = Date.now();
    let rows = await this.db.selectFrom("token_key").selectAll().orderBy("id").execute();
    if (rows.length === 0) {
      // Two processes starting on one empty database may both try; the loser reads the winner's key.
      await this.rotate().catch((e: unknown) => {
        if (!isUniqueViolation(e)) throw e;
      });
      rows = await this.db.selectFrom("token_key").selectAll().orderBy("id").execute();
    }
    this.keys = new Map(rows.map((r) => [r.id, Buffer.from(r.key, "base64")]));
    this.primary = Math.max(...rows.map((r) => r.id));
  }

  /**
   * Add a new primary key and drop all but the newest KEEP_KEYS, as keystone-manage
   * fernet_rotate does: tokens signed with a retired key stop validating.
   */
  async rotate(): Promise<number> {
    const id = await this.db.transaction().execute(async (trx) => {
      const top = await trx.selectFrom("token_key").select("id").orderBy("id", "desc").executeTakeFirst();
      const next = (top?.id ?? 0) + 1;
      await trx
        .insertInto("token_key")
        .values({ id: next, key: randomBytes(32).toString("base64"), created_at: new Date().toISOString() })
        .execute();
      await trx.deleteFrom("token_key").where("id", "<=", next - KEEP_KEYS).execute();
      // Every process drops its cached validations: some may rest on a retired key.
      await bumpRevision(trx);
      return next;
    });
    return id;
  }

  encode(p: TokenPayload): string {
    return this.seal(p, VERSION);
  }

  /** An MFA auth receipt (Openstack-Auth-Receipt): the methods that already succeeded. */
  encodeReceipt(p: TokenPayload): string {
    return this.seal(p, RECEIPT);
  }

  async decode(token: string): Promise<TokenPayload | undefined> {
    return this.open(token, VERSION);
  }

  async decodeReceipt(receipt: string): Promise<TokenPayload | undefined> {
    return this.open(receipt, RECEIPT);
  }

  private seal(p: TokenPayload, version: number): string {
    const key = this.keys.get(this.primary);
    if (!key) throw new Error("token keys not loaded");
    const header = Buffer.alloc(5);
    header.writeUInt8(version, 0);
    header.writeUInt32BE(this.primary, 1);
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", key, iv);
    c.setAAD(header);
    const body = Buffer.concat([c.update(JSON.stringify(toWire(p)), "utf8"), c.final()]);
    return Buffer.concat([header, iv, body, c.getAuthTag()]).toString("base64url");
  }

  /** Decode a blob of the given kind; undefined for anything not made by us with a current key. */
  private async open(token: string, version: number): Promise<TokenPayload | undefined> {
    if (token.length < 40 || token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
    const raw = Buffer.from(token, "base64url");
    if (raw.length < 5 + 12 + 16 + 2 || raw.readUInt8(0) !== version) return undefined;
    const keyId = raw.readUInt32BE(1);
    let key = this.keys.get(keyId);
    if (!key && keyId > this.primary) {
      // Another process rotated: pick up the new key.
      await this.load();
      key = this.keys.get(keyId);
    }
    if (!key) return undefined;
    try {
      const d = createDecipheriv("aes-256-gcm", key, raw.subarray(5, 17));
      d.setAAD(raw.subarray(0, 5));
      d.setAuthTag(raw.subarray(raw.length - 16));
      const text = Buffer.concat([d.update(raw.subarray(17, raw.length - 16)), d.final()]).toString("utf8");
      return fromWire(JSON.parse(text) as Wire);
    } catch {
      return undefined;
    }
  }
}
