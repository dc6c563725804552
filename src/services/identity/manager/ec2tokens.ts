import { timingSafeEqual } from "node:crypto";
import { BadRequest, NotFound, NotImplemented, Unauthorized } from "../../../common/errors.js";
import type { IdentityCore } from "../core.js";
import * as store from "../store/credentials.js";
import type { TokenData, TokenProvider } from "../tokens/provider.js";
import { newAuditId } from "../tokens/provider.js";
import type { AssignmentManager } from "./assignment.js";
import type { CredentialManager } from "./credentials.js";
import { ec2Fields, hashAccessKey } from "./credentials.js";
import type { Ec2Credentials } from "./ec2-signer.js";
import { ec2Signature, parseAwsTimestamp, s3Signature, SignatureError, urlsafeB64Decode } from "./ec2-signer.js";
import type { ResourceManager } from "./resource.js";
import type { UserManager } from "./users.js";

/** Keystone's [credential] auth_ttl: a signed request older than this is refused. */
const AUTH_TTL_MINUTES = 15;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * POST /v3/ec2tokens and /v3/s3tokens (keystone/api/ec2tokens.py, s3tokens.py +
 * _shared/EC2_S3_Resource.py): an EC2- or S3-compatible API forwards a signed request; if the
 * signature matches the stored secret, the credential's owner gets a token scoped to the
 * credential's project. The two differ only in how the signature is checked.
 */
export type SignedApi = "ec2" | "s3";

/*
 * Every 401 here carries Keystone's generic message: Unauthorized is a SecurityError there,
 * whose detail (bad signature, unknown key, expired request) is shown only in insecure_debug.
 */
export class Ec2TokenManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly credentials: CredentialManager,
    private readonly users: UserManager,
    private readonly resources: ResourceManager,
    private readonly assignments: AssignmentManager,
    private readonly tokens: TokenProvider,
  ) {}

  async authenticate(body: unknown, api: SignedApi = "ec2"): Promise<TokenData> {
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof body !== "object" || body === null || Object.keys(b).length === 0) {
      throw new BadRequest("request must include a request body");
    }
    // Keystone accepts the credentials under any of these three names.
    const raw = b["credentials"] || b["credential"] || b["ec2Credentials"];
    const creds = (raw && typeof raw === "object" && !Array.isArray(raw) ? raw : {}) as Ec2Credentials & Record<string, unknown>;
    if (!("access" in creds)) throw new Unauthorized();
    if (typeof creds.access !== "string") throw new Unauthorized();
    const cred = await this.credentials.findEc2(creds.access);
    // Keystone lets CredentialNotFound through here (the caller already holds a token).
    if (!cred) throw new NotFound(`Could not find credential: ${hashAccessKey(creds.access)}.`);
    const blob = ec2Fields(cred.blob);
    if (api === "s3") this.checkS3Signature(blob.secret ?? "", creds);
    else this.checkSignature(blob.secret ?? "", creds);
    if (!cred.project_id) throw new NotFound("Could not find project: None.");
    const project = await this.resources.findProject(cred.project_id);
    if (!project) throw new NotFound(`Could not find project: ${cred.project_id}.`);
    const user = await this.users.findUser(cred.user_id);
    if (!user) throw new NotFound(`Could not find user: ${cred.user_id}.`);
    if (user.enabled !== 1 || project.enabled !== 1) throw new Unauthorized();
    const domain = await this.resources.findDomain(project.domain_id);
    if (project.is_domain !== 1 && (!domain || domain.enabled !== 1)) throw new Unauthorized();
    this.checkTimestamp(creds);

    if (blob.trust_id || blob.access_token_id) {
      throw new NotImplemented("EC2 credentials bound to a trust or an OAuth1 access token are not supported by this cloud.");
    }
    let appCredId: string | undefined;
    let expiresAt: Date | undefined;
    if (blob.app_cred_id) {
      const ac = await store.getAppCred(this.core.db, blob.app_cred_id);
      if (!ac) throw new NotFound(`Could not find Application Credential: ${blob.app_cred_id}.`);
      if (ac.user_id !== user.id || ac.project_id !== project.id) {
        throw new Unauthorized();
      }
      appCredId = ac.id;
      if (ac.expires_at !== null) {
        const cap = Date.parse(ac.expires_at.slice(0, 23) + "Z");
        if (cap <= this.core.now().getTime()) throw new Unauthorized();
        if (cap < this.core.now().getTime() + this.core.config.identity.tokenExpiration * 1000) expiresAt = new Date(cap);
      }
    } else {
      const roles = await this.assignments.effectiveProjectRoles(user.id, project.id);
      if (roles.length === 0) throw new Unauthorized();
    }
    const issue: Parameters<TokenProvider["issue"]>[0] = {
      userId: user.id,
      methods: ["ec2credential"],
      scope: { kind: "project", id: project.id },
      auditIds: [newAuditId()],
    };
    if (appCredId) issue.appCredId = appCredId;
    if (expiresAt) issue.expiresAt = expiresAt;
    const { id } = await this.tokens.issue(issue);
    try {
      return await this.tokens.validate(id);
    } catch (e) {
      if (e instanceof NotFound) throw new Unauthorized();
      throw e;
    }
  }

  private checkSignature(secret: string, creds: Ec2Credentials): void {
    const given = creds.signature;
    if (typeof given !== "string" || given === "") throw new Unauthorized();
    const attempt = (c: Ec2Credentials): boolean => {
      try {
        return same(given, ec2Signature(secret, c));
      } catch (e) {
        if (e instanceof SignatureError) return false;
        throw e;
      }
    };
    if (attempt(creds)) return;
    // Some client libraries sign without the port: try again without it.
    const host = typeof creds.host === "string" ? creds.host : "";
    if (host.includes(":")) {
      const hostname = /^\[[^\]]*\]/.exec(host)?.[0] ?? host.split(":")[0]!;
      if (attempt({ ...creds, host: hostname.replace(/^\[|\]$/g, "").toLowerCase() })) return;
    }
    throw new Unauthorized();
  }

  /** s3tokens: `token` is the base64 (URL-safe alphabet) of the string the S3 client signed. */
  private checkS3Signature(secret: string, creds: Record<string, unknown>): void {
    const token = creds["token"];
    const given = creds["signature"];
    if (typeof token !== "string" || typeof given !== "string") throw new Unauthorized();
    let expected: string;
    try {
      expected = s3Signature(secret, urlsafeB64Decode(token));
    } catch (e) {
      if (e instanceof SignatureError) throw new Unauthorized();
      throw e;
    }
    if (!same(given, expected)) throw new Unauthorized();
  }

  private checkTimestamp(creds: Ec2Credentials): void {
    const params = (creds.params && typeof creds.params === "object" ? creds.params : {}) as Record<string, unknown>;
    const headers = (creds.headers && typeof creds.headers === "object" ? creds.headers : {}) as Record<string, unknown>;
    const ts = params["Timestamp"] || headers["X-Amz-Date"] || params["X-Amz-Date"];
    // A signer that left the timestamp out did so on purpose.
    if (!ts) return;
    const when = typeof ts === "string" ? parseAwsTimestamp(ts) : undefined;
    if (!when) throw new Unauthorized();
    if (this.core.now().getTime() > when.getTime() + AUTH_TTL_MINUTES * 60_000) {
      throw new Unauthorized();
    }
  }
}
