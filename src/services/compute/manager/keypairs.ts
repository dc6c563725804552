import { execFile } from "node:child_process";
import { createHash, generateKeyPairSync, X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { BadRequest, Conflict, Forbidden, NotFound } from "../../../common/errors.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { Keypair, KeypairsApi } from "../api/deps.js";
import type { FleetStore } from "../store/fleet.js";

const run = promisify(execFile);

export interface KeypairRecord extends Keypair {
  id: number;
  created_at: string;
}

/** The wire form of an ssh string / mpint: uint32 length + bytes. */
function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}
function mpint(b64url: string): Buffer {
  let b = Buffer.from(b64url, "base64url");
  while (b.length > 1 && b[0] === 0 && (b[1]! & 0x80) === 0) b = b.subarray(1);
  if ((b[0]! & 0x80) !== 0) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
}

const colonHex = (hex: string) => hex.match(/../g)!.join(":");

const SSH_TYPES = ["ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"];

/**
 * nova.crypto.generate_fingerprint: the key must load as an OpenSSH public key (type, base64
 * blob whose first field names the same type), then md5 of the blob as colon hex.
 */
export function sshFingerprint(publicKey: string): string {
  const parts = publicKey.trim().split(/\s+/);
  const invalid = () => new BadRequest("Keypair data is invalid: failed to generate fingerprint");
  if (parts.length < 2 || !SSH_TYPES.includes(parts[0]!)) throw invalid();
  const b64 = parts[1]!;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw invalid();
  const blob = Buffer.from(b64, "base64");
  if (blob.length < 4) throw invalid();
  const n = blob.readUInt32BE(0);
  if (4 + n > blob.length || blob.subarray(4, 4 + n).toString("latin1") !== parts[0]) throw invalid();
  // Every following field must be a well-formed length-prefixed string.
  let off = 4 + n;
  let fields = 0;
  while (off < blob.length) {
    if (off + 4 > blob.length) throw invalid();
    const l = blob.readUInt32BE(off);
    off += 4 + l;
    fields++;
  }
  if (off !== blob.length || fields === 0) throw invalid();
  return colonHex(createHash("md5").update(blob).digest("hex"));
}

/** nova.crypto.generate_x509_fingerprint: SHA-1 of the certificate, colon hex. */
export function x509Fingerprint(pem: string): string {
  try {
    const cert = new X509Certificate(pem);
    return cert.fingerprint.toLowerCase();
  } catch (e) {
    throw new BadRequest(`Keypair data is invalid: failed to generate X509 fingerprint. Error message: ${(e as Error).message}`);
  }
}

/** nova.crypto.generate_key_pair: a 2048-bit RSA key, the public half as "ssh-rsa … Generated-by-Nova". */
export function generateSshKeypair(): { privateKey: string; publicKey: string; fingerprint: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 65537 });
  const jwk = publicKey.export({ format: "jwk" });
  const blob = Buffer.concat([sshString(Buffer.from("ssh-rsa")), mpint(jwk.e!), mpint(jwk.n!)]);
  const pub = `ssh-rsa ${blob.toString("base64")} Generated-by-Nova`;
  return {
    privateKey: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicKey: pub,
    fingerprint: colonHex(createHash("md5").update(blob).digest("hex")),
  };
}

/** nova.crypto.generate_winrm_x509_cert: a self-signed client certificate, the key as base64 PKCS#12. */
async function generateX509(userId: string): Promise<{ privateKey: string; publicKey: string; fingerprint: string }> {
  const dir = await mkdtemp(join(tmpdir(), "stackbox-x509-"));
  try {
    const conf = join(dir, "temp.conf");
    const key = join(dir, "temp.key");
    const crt = join(dir, "temp.crt");
    const p12 = join(dir, "temp.p12");
    await writeFile(
      conf,
      "distinguished_name = req_distinguished_name\n[req_distinguished_name]\n[v3_req_client]\nextendedKeyUsage = clientAuth\n" +
        `subjectAltName = otherName:1.3.6.1.4.1.311.20.2.3;UTF8:${userId}@localhost\n`,
    );
    await run("openssl", ["req", "-x509", "-nodes", "-days", "3650", "-config", conf, "-newkey", "rsa:2048", "-outform", "PEM", "-keyout", key, "-out", crt, "-subj", `/CN=${userId}`, "-extensions", "v3_req_client"]);
    await run("openssl", ["pkcs12", "-export", "-inkey", key, "-in", crt, "-password", "pass:", "-out", p12]);
    const certificate = await readFile(crt, "utf8");
    return { privateKey: (await readFile(p12)).toString("base64"), publicKey: certificate, fingerprint: x509Fingerprint(certificate) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Key pairs per user (nova/compute/api.py KeypairAPI, nova/objects/keypair.py). */
export class KeypairManager implements KeypairsApi {
  constructor(
    private readonly s: FleetStore,
    /** The user's key_pairs limit (QuotaManager), -1 = unlimited. */
    private readonly limitOf: (projectId: string, userId: string) => Promise<number>,
  ) {}

  private row(r: { user_id: string; name: string; id: number; type: string; public_key: string; fingerprint: string; created_at: string }): KeypairRecord {
    return { name: r.name, user_id: r.user_id, public_key: r.public_key, fingerprint: r.fingerprint, type: r.type, id: Number(r.id), created_at: r.created_at };
  }

  async get(userId: string, name: string): Promise<KeypairRecord | undefined> {
    const r = await this.s.db.selectFrom("cmp_keypair").selectAll().where("user_id", "=", userId).where("name", "=", name).executeTakeFirst();
    return r ? this.row(r) : undefined;
  }

  async show(userId: string, name: string): Promise<KeypairRecord> {
    const k = await this.get(userId, name);
    if (!k) throw new NotFound(`Keypair ${name} not found for user ${userId}`);
    return k;
  }

  async list(userId: string, limit?: number, marker?: string): Promise<KeypairRecord[]> {
    let q = this.s.db.selectFrom("cmp_keypair").selectAll().where("user_id", "=", userId);
    if (marker !== undefined) {
      const m = await this.get(userId, marker);
      if (!m) throw new BadRequest(`Marker ${marker} could not be found.`);
      q = q.where((eb) => eb.or([eb("name", ">", m.name), eb.and([eb("name", "=", m.name), eb("id", ">", m.id)])]));
    }
    q = q.orderBy("name").orderBy("id");
    if (limit !== undefined) q = q.limit(limit);
    return (await q.execute()).map((r) => this.row(r));
  }

  async count(userId: string): Promise<number> {
    const r = await this.s.db.selectFrom("cmp_keypair").select((eb) => eb.fn.countAll().as("n")).where("user_id", "=", userId).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** Import (public key given) or generate; answers the record and, when generated, the private key. */
  async create(projectId: string, userId: string, name: string, type: "ssh" | "x509", publicKey: string | undefined): Promise<KeypairRecord & { private_key?: string }> {
    let pub: string;
    let fingerprint: string;
    let priv: string | undefined;
    await this.checkQuota(projectId, userId);
    if (publicKey !== undefined) {
      pub = publicKey;
      fingerprint = type === "x509" ? x509Fingerprint(publicKey) : sshFingerprint(publicKey);
    } else {
      const g = type === "x509" ? await generateX509(userId) : generateSshKeypair();
      pub = g.publicKey;
      fingerprint = g.fingerprint;
      priv = g.privateKey;
    }
    // Read before the transaction: on SQLite a query outside it would wait for it to end.
    const limit = await this.limitOf(projectId, userId);
    try {
      await this.s.write(async (trx) => {
        // The limit is rechecked in the transaction that inserts (Nova's recheck_quota).
        if (limit >= 0) {
          const r = await trx.selectFrom("cmp_keypair").select((eb) => eb.fn.countAll().as("n")).where("user_id", "=", userId).executeTakeFirst();
          if (Number(r?.n ?? 0) + 1 > limit) throw new Forbidden("Quota exceeded, too many key pairs.");
        }
        const exists = await trx.selectFrom("cmp_keypair").select("name").where("user_id", "=", userId).where("name", "=", name).executeTakeFirst();
        if (exists) throw new Conflict(`Key pair '${name}' already exists.`);
        await trx
          .insertInto("cmp_keypair")
          .values({ user_id: userId, name, id: await this.s.nextId(trx, "cmp_keypair"), type, public_key: pub, fingerprint, created_at: this.s.now() })
          .execute();
      }, { retryUnique: true });
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Key pair '${name}' already exists.`);
      throw e;
    }
    const k = (await this.get(userId, name))!;
    return priv === undefined ? k : { ...k, private_key: priv };
  }

  private async checkQuota(projectId: string, userId: string): Promise<void> {
    const limit = await this.limitOf(projectId, userId);
    if (limit >= 0 && (await this.count(userId)) + 1 > limit) throw new Forbidden("Quota exceeded, too many key pairs.");
  }

  async delete(userId: string, name: string): Promise<void> {
    const r = await this.s.db.deleteFrom("cmp_keypair").where("user_id", "=", userId).where("name", "=", name).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new NotFound(`Keypair ${name} not found for user ${userId}`);
  }
}
