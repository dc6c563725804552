import { isoMicro } from "../../../common/clock.js";
import { BadRequest, CloudError, Forbidden, NotFound, Unauthorized } from "../../../common/errors.js";
import type { IdentityCore } from "../core.js";
import type { Q, UserRow } from "../store/tables.js";
import { json } from "../store/tables.js";
import type { TokenCodec, TokenPayload } from "../tokens/format.js";
import type { TokenData, TokenProvider } from "../tokens/provider.js";
import { newAuditId } from "../tokens/provider.js";
import type { AssignmentManager } from "./assignment.js";
import type { ResourceManager } from "./resource.js";
import type { UserManager } from "./users.js";

/** What an auth method proves: who, plus anything that constrains the token it yields. */
export interface MethodResult {
  userId: string;
  /** Re-scoping keeps the original expiry and audit chain. */
  expiresAt?: Date;
  auditChain?: string;
  appCredId?: string;
  /** The scope an application credential or trust pins the token to. */
  forcedScope?: TokenPayload["scope"];
  trustId?: string;
  accessTokenId?: string;
  /** Methods carried over from the token being re-scoped. */
  inheritedMethods?: string[];
  /** The token used for the "token" method, when any. */
  fromToken?: TokenData;
}

/** The HTTP request behind POST /v3/auth/tokens, for methods that verify a signature over it (OAuth1). */
export interface AuthHttp {
  method: string;
  /** Path and query as received. */
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The cloud's public base URL. */
  baseUrl: string;
}

export type AuthMethod = (data: unknown, http?: AuthHttp) => Promise<MethodResult>;
/** Resolves a scope key other than project/domain/system (OS-TRUST:trust). */
export type ScopeResolver = (data: unknown, who: MethodResult) => Promise<{ scope: TokenPayload["scope"]; trustId?: string; userId?: string }>;

interface UserRef {
  id?: string;
  name?: string;
  domain?: { id?: string; name?: string };
  password?: string;
}

export interface AuthRequest {
  identity: { methods: string[]; [method: string]: unknown };
  scope?: unknown;
}

/** Keystone's [receipt] expiration default. */
const RECEIPT_SECONDS = 300;

/** 401 that carries an auth receipt: the body is Keystone's receipt document, not an error. */
export class AuthReceiptRequired extends CloudError {
  constructor(
    readonly receipt: string,
    readonly document: Record<string, unknown>,
  ) {
    super(401, "Additional authentications steps required.", { "Openstack-Auth-Receipt": receipt });
  }
}

/**
 * Keystone's AuthPluginException: a 401 whose error body also carries `error.identity`
 * (for an unsupported method, the methods this cloud accepts). Rendered by faults.ts.
 */
export class AuthPluginError extends Unauthorized {
  constructor(
    message: string,
    readonly identity: Record<string, unknown>,
  ) {
    super(message);
  }
}

export class AuthManager {
  private readonly methods = new Map<string, AuthMethod>();
  private readonly scopes = new Map<string, ScopeResolver>();

  constructor(
    private readonly core: IdentityCore,
    private readonly users: UserManager,
    private readonly resources: ResourceManager,
    private readonly assignments: AssignmentManager,
    private readonly tokens: TokenProvider,
    private readonly codec: TokenCodec,
  ) {
    this.methods.set("password", (d) => this.password(d));
    this.methods.set("token", (d) => this.token(d));
  }

  registerMethod(name: string, m: AuthMethod): void {
    this.methods.set(name, m);
  }

  registerScope(key: string, r: ScopeResolver): void {
    this.scopes.set(key, r);
  }

  async resolveDomain(ref: { id?: string; name?: string } | undefined): Promise<string> {
    if (!ref || (ref.id === undefined && ref.name === undefined)) throw new BadRequest("Expecting to find domain in user or project.");
    if (ref.id !== undefined) {
      const d = await this.resources.findDomain(ref.id);
      if (!d || d.enabled !== 1) throw new Unauthorized();
      return d.id;
    }
    let d;
    try {
      d = await this.resources.getDomainByName(ref.name!);
    } catch {
      throw new Unauthorized();
    }
    if (d.enabled !== 1) throw new Unauthorized();
    return d.id;
  }

  async resolveUser(ref: UserRef): Promise<UserRow> {
    let user: UserRow | undefined;
    if (typeof ref.id === "string") {
      user = await this.users.findUser(ref.id);
    } else if (typeof ref.name === "string") {
      const domainId = await this.resolveDomain(ref.domain);
      user = await this.users.findUserByName(ref.name, domainId);
    } else {
      throw new BadRequest("Expecting to find id or name in user.");
    }
    // Unknown user and wrong password look the same to the caller.
    if (!user) throw new Unauthorized("The request you have made requires authentication.");
    if (user.enabled !== 1) throw new Unauthorized();
    const domain = await this.resources.findDomain(user.domain_id);
    if (!domain || domain.enabled !== 1) throw new Unauthorized();
    return user;
  }

  private async password(data: unknown): Promise<MethodResult> {
    const d = data as { user?: UserRef } | undefined;
    if (!d || typeof d !== "object" || !d.user || typeof d.user !== "object") {
      throw new BadRequest("Expecting to find user in password.");
    }
    if (typeof d.user.password !== "string") throw new Unauthorized("The request you have made requires authentication.");
    const user = await this.resolveUser(d.user);
    await this.users.checkPassword(user, d.user.password);
    await this.users.recordActivity(user.id);
    return { userId: user.id };
  }

  private async token(data: unknown): Promise<MethodResult> {
    const d = data as { id?: unknown } | undefined;
    if (!d || typeof d.id !== "string") throw new BadRequest("Expecting to find id in token.");
    let t: TokenData;
    try {
      t = await this.tokens.validate(d.id);
    } catch (e) {
      // A revoked or expired token is Keystone's TokenNotFound (404), not a 401: tempest's
      // test_user_update_own_password relies on it.
      if (e instanceof NotFound) throw e;
      throw new Unauthorized("The request you have made requires authentication.");
    }
    if (t.payload.accessTokenId) {
      throw new Forbidden(
        "You are not authorized to perform the requested action: Using OAuth-scoped token to create another token. Create a new OAuth-scoped token instead.",
      );
    }
    if (t.payload.trustId) throw new Forbidden("Trust-scoped tokens cannot be used to obtain another token.");
    if (t.payload.appCredId) throw new Forbidden("A token created with an application credential cannot be used to obtain another token.");
    const out: MethodResult = {
      userId: t.user.id,
      expiresAt: t.payload.expiresAt,
      auditChain: t.payload.auditIds[t.payload.auditIds.length - 1]!,
      inheritedMethods: t.payload.methods,
      fromToken: t,
    };
    if (t.payload.accessTokenId) out.accessTokenId = t.payload.accessTokenId;
    return out;
  }

  /** POST /v3/auth/tokens: run every method, resolve the scope, issue and validate. */
  async authenticate(req: AuthRequest, http?: AuthHttp): Promise<TokenData> {
    const methods = req.identity.methods;
    if (!Array.isArray(methods) || methods.length === 0) throw new Unauthorized();
    let who: MethodResult | undefined;
    for (const m of methods) {
      const impl = this.methods.get(m);
      if (!impl) throw new AuthPluginError("Attempted to authenticate with an unsupported method.", { methods: [...this.methods.keys()] });
      const data = req.identity[m];
      if (data === undefined) throw new BadRequest(`Expecting to find ${m} in identity.`);
      const r = await impl(data, http);
      if (who && who.userId !== r.userId) throw new Unauthorized("User IDs do not match between auth methods.");
      who = { ...who, ...r };
    }
    if (!who) throw new Unauthorized();
    await this.checkMfa(who.userId, methods, http);

    let scope: TokenPayload["scope"] = { kind: "unscoped" };
    let trustId = who.trustId;
    let userId = who.userId;
    const s = req.scope;
    if (methods.includes("application_credential") && s !== undefined) {
      // Keystone: the credential fixes the scope; asking for one is an auth error.
      throw new AuthPluginError("Error authenticating with application credential: Application credentials cannot request a scope.", {});
    }
    if (who.forcedScope) {
      if (s !== undefined && s !== "unscoped") {
        const wanted = await this.resolveScope(s, who);
        if (wanted.scope.kind !== who.forcedScope.kind || wanted.scope.id !== who.forcedScope.id) {
          throw new Unauthorized("The credential used cannot be re-scoped.");
        }
      }
      scope = who.forcedScope;
    } else if (s === "unscoped") {
      scope = { kind: "unscoped" };
    } else if (s !== undefined) {
      const r = await this.resolveScope(s, who);
      scope = r.scope;
      if (r.trustId) trustId = r.trustId;
      if (r.userId) userId = r.userId;
    } else if (who.fromToken && who.fromToken.payload.scope.kind !== "unscoped") {
      scope = who.fromToken.payload.scope;
    } else {
      scope = await this.defaultScope(who.userId);
    }
    const auditIds = who.auditChain ? [newAuditId(), who.auditChain] : [newAuditId()];
    const allMethods = [...new Set([...(who.inheritedMethods ?? []), ...methods])];
    const issue: Parameters<TokenProvider["issue"]>[0] = { userId, methods: allMethods, scope, auditIds };
    if (who.expiresAt) issue.expiresAt = who.expiresAt;
    if (trustId) issue.trustId = trustId;
    if (who.appCredId) issue.appCredId = who.appCredId;
    if (who.accessTokenId) issue.accessTokenId = who.accessTokenId;
    const { id } = await this.tokens.issue(issue);
    try {
      return await this.tokens.validate(id);
    } catch (e) {
      if (e instanceof NotFound) {
        // No role on the scope (or it went away): the generic 401, as Keystone answers.
        throw new Unauthorized();
      }
      throw e;
    }
  }

  /**
   * Multi-factor rules (user options multi_factor_auth_enabled / _rules): the methods that
   * succeeded, plus those of an Openstack-Auth-Receipt from an earlier attempt, must cover one
   * rule. Otherwise 401 with a fresh receipt and the rules, as Keystone answers.
   */
  private async checkMfa(userId: string, methods: string[], http?: AuthHttp): Promise<void> {
    const user = await this.users.findUser(userId);
    if (!user) throw new Unauthorized();
    const options = json(user.options);
    const used = new Set(methods);
    const raw = http?.headers["openstack-auth-receipt"];
    const receiptId = Array.isArray(raw) ? raw[0] : raw;
    if (receiptId) {
      const r = await this.codec.decodeReceipt(receiptId);
      if (!r || r.expiresAt <= this.core.now() || r.userId !== userId) {
        throw new Unauthorized(`Could not find auth receipt: ${receiptId}.`);
      }
      for (const m of r.methods) used.add(m);
    }
    const rules = Array.isArray(options["multi_factor_auth_rules"]) ? (options["multi_factor_auth_rules"] as unknown[]) : [];
    if (options["multi_factor_auth_enabled"] === false || rules.length === 0) return;
    const loaded = new Set(this.methods.keys());
    const lists = rules.filter((r): r is string[] => Array.isArray(r) && r.every((m) => typeof m === "string"));
    // Methods this cloud does not offer are dropped from a rule, so no one is locked out by them.
    if (lists.some((r) => r.filter((m) => loaded.has(m)).every((m) => used.has(m)))) return;
    const now = this.core.now();
    const receipt = this.codec.encodeReceipt({
      userId,
      methods: [...used],
      scope: { kind: "unscoped" },
      issuedAt: now,
      expiresAt: new Date(now.getTime() + RECEIPT_SECONDS * 1000),
      auditIds: [],
    });
    const domain = await this.resources.findDomain(user.domain_id);
    throw new AuthReceiptRequired(receipt, {
      receipt: {
        methods: [...used],
        user: { id: user.id, name: user.name, domain: { id: user.domain_id, name: domain?.name ?? "" } },
        expires_at: isoMicro(new Date(now.getTime() + RECEIPT_SECONDS * 1000)),
        issued_at: isoMicro(now),
      },
      required_auth_methods: lists,
    });
  }

  /** A user with a default project gets a token scoped to it, when it still works. */
  private async defaultScope(userId: string): Promise<TokenPayload["scope"]> {
    const user = await this.users.findUser(userId);
    const pid = user?.default_project_id;
    if (!pid) return { kind: "unscoped" };
    const p = await this.resources.findProject(pid);
    if (!p || p.enabled !== 1) return { kind: "unscoped" };
    const roles = await this.assignments.effectiveProjectRoles(userId, pid);
    return roles.length > 0 ? { kind: "project", id: pid } : { kind: "unscoped" };
  }

  private async resolveScope(s: unknown, who: MethodResult): Promise<{ scope: TokenPayload["scope"]; trustId?: string; userId?: string }> {
    if (typeof s !== "object" || s === null) throw new BadRequest("Invalid scope.");
    // Old keystoneauth asks for an unscoped token as {"unscoped": {}}.
    if ("unscoped" in s) return { scope: { kind: "unscoped" } };
    const keys = Object.keys(s);
    if (keys.length !== 1) throw new BadRequest("Only one of project, domain, system or OS-TRUST:trust may be given as scope.");
    const key = keys[0]!;
    const v = (s as Record<string, unknown>)[key] as Record<string, unknown> | undefined;
    if (key === "project") {
      if (!v || typeof v !== "object") throw new BadRequest("Invalid project scope.");
      let projectId: string;
      if (typeof v["id"] === "string") {
        const p = await this.resources.findProject(v["id"]);
        if (!p || p.enabled !== 1) throw new Unauthorized();
        projectId = p.id;
      } else if (typeof v["name"] === "string") {
        const domainId = await this.resolveDomain(v["domain"] as { id?: string; name?: string } | undefined);
        const p = await this.resources.getProjectByName(v["name"], domainId);
        if (!p || p.enabled !== 1) throw new Unauthorized();
        projectId = p.id;
      } else {
        throw new BadRequest("Expecting to find id or name in project.");
      }
      return { scope: { kind: "project", id: projectId } };
    }
    if (key === "domain") {
      if (!v || typeof v !== "object") throw new BadRequest("Invalid domain scope.");
      const id = await this.resolveDomain(v as { id?: string; name?: string });
      return { scope: { kind: "domain", id } };
    }
    if (key === "system") {
      if (!v || v["all"] !== true) throw new Unauthorized();
      return { scope: { kind: "system", id: "all" } };
    }
    const r = this.scopes.get(key);
    if (!r) throw new BadRequest(`Invalid scope ${key}.`);
    return r(v, who);
  }

  /** Roles of an unscoped list: the projects a user may scope to. */
  async projectsForUser(userId: string, q?: Q): Promise<string[]> {
    return this.assignments.projectIdsForUser(userId, q);
  }
}
