import { randomBytes } from "node:crypto";
import type { Credentials, Scope } from "../../../auth/policy.js";
import { NotFound, Unauthorized } from "../../../common/errors.js";
import type { AuthContext, TokenAuthenticator } from "../../../http/context.js";
import type { IdentityCore } from "../core.js";
import type { AssignmentManager } from "../manager/assignment.js";
import type { CatalogEntry, CatalogManager } from "../manager/catalog.js";
import { listEvents } from "../store/revoke.js";
import type { Q, RevocationEventRow, RoleRow } from "../store/tables.js";
import { NULL_DOMAIN, ROOT_DOMAIN } from "../store/tables.js";
import type { TokenCodec, TokenPayload } from "./format.js";

export interface Named {
  id: string;
  name: string;
}

/** A validated token: everything the token body and the policy creds are made from. */
export interface TokenData {
  id: string;
  payload: TokenPayload;
  user: Named & { domain: Named; password_expires_at: string | null };
  project?: Named & { domain: Named };
  /** True when the scoped project is itself a domain (is_domain). */
  projectIsDomain?: boolean;
  domain?: Named;
  system?: boolean;
  roles: Named[];
  isAdminProject: boolean;
  /** Extra body fields contributed by extensions ("OS-TRUST:trust", "application_credential", …). */
  extras: Record<string, unknown>;
  trustorId?: string;
  trusteeId?: string;
  accessRules?: Array<{ service: string; path: string; method: string }>;
}

/**
 * Extensions (trusts, application credentials, OAuth1) validate their part of a token and
 * may narrow its roles; throwing makes the token invalid.
 */
export type TokenHook = (q: Q, t: TokenData) => Promise<void>;

export function newAuditId(): string {
  return randomBytes(16).toString("base64url").slice(0, 22);
}

interface CacheEntry {
  revision: number;
  data: TokenData;
}

export class TokenProvider implements TokenAuthenticator {
  private readonly hooks: TokenHook[] = [];
  private readonly cache = new Map<string, CacheEntry>();
  private events: { revision: number; rows: RevocationEventRow[] } | undefined;
  private readonly catalogCache = new Map<string, { revision: number; catalog: CatalogEntry[] }>();

  constructor(
    private readonly core: IdentityCore,
    private readonly codec: TokenCodec,
    private readonly assignments: AssignmentManager,
    private readonly catalogs: CatalogManager,
  ) {}

  addHook(h: TokenHook): void {
    this.hooks.push(h);
  }

  /** Sign a new token with the current primary key (re-read if another process rotated). */
  async issue(p: Omit<TokenPayload, "issuedAt" | "expiresAt" | "auditIds"> & Partial<TokenPayload>): Promise<{ id: string; payload: TokenPayload }> {
    await this.codec.refresh();
    const now = this.core.now();
    const ttl = this.core.config.identity.tokenExpiration * 1000;
    const payload: TokenPayload = {
      ...p,
      issuedAt: p.issuedAt ?? now,
      expiresAt: p.expiresAt ?? new Date(now.getTime() + ttl),
      auditIds: p.auditIds ?? [newAuditId()],
    };
    return { id: this.codec.encode(payload), payload };
  }

  /** The kernel's X-Auth-Token check: any failure is 401. */
  async authenticate(tokenId: string): Promise<AuthContext> {
    let data: TokenData;
    try {
      data = await this.validate(tokenId);
    } catch {
      throw new Unauthorized("The request you have made requires authentication.");
    }
    return toAuthContext(data);
  }

  /** Validate a token (X-Subject-Token or X-Auth-Token); 404 when it is not valid. */
  async validate(tokenId: string, opts: { allowExpired?: boolean } = {}): Promise<TokenData> {
    const revision = await this.core.revision();
    const now = this.core.now();
    const hit = this.cache.get(tokenId);
    if (hit && hit.revision === revision) {
      if (hit.data.payload.expiresAt > now) return hit.data;
      if (opts.allowExpired && this.withinExpiredWindow(hit.data.payload, now)) return hit.data;
      throw notFound();
    }
    await this.codec.refresh();
    const payload = await this.codec.decode(tokenId);
    if (!payload) throw notFound();
    if (payload.expiresAt <= now && !(opts.allowExpired && this.withinExpiredWindow(payload, now))) throw notFound();
    if (await this.isRevoked(payload, revision)) throw notFound();
    const data = await this.build(tokenId, payload);
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(tokenId, { revision, data });
    return data;
  }

  private withinExpiredWindow(p: TokenPayload, now: Date): boolean {
    return p.expiresAt.getTime() + this.core.config.identity.allowExpiredWindow * 1000 > now.getTime();
  }

  private async revocationEvents(revision: number): Promise<RevocationEventRow[]> {
    if (this.events?.revision !== revision) {
      this.events = { revision, rows: await listEvents(this.core.db) };
    }
    return this.events.rows;
  }

  private async isRevoked(p: TokenPayload, revision: number): Promise<boolean> {
    const events = await this.revocationEvents(revision);
    if (events.length === 0) return false;
    const issued = p.issuedAt.toISOString();
    const auditId = p.auditIds[0];
    const chain = p.auditIds[p.auditIds.length - 1];
    const projectId = p.scope.kind === "project" ? p.scope.id : undefined;
    const domainId = p.scope.kind === "domain" ? p.scope.id : undefined;
    let userDomain: string | undefined;
    let projectDomain: string | undefined;
    for (const e of events) {
      if (e.issued_before < issued) continue;
      if (e.user_id !== null && e.user_id !== p.userId) continue;
      if (e.audit_id !== null && e.audit_id !== auditId) continue;
      if (e.audit_chain_id !== null && e.audit_chain_id !== chain) continue;
      if (e.trust_id !== null && e.trust_id !== p.trustId) continue;
      if (e.app_cred_id !== null && e.app_cred_id !== p.appCredId) continue;
      if (e.access_token_id !== null && e.access_token_id !== p.accessTokenId) continue;
      if (e.project_id !== null && e.project_id !== projectId) continue;
      if (e.role_id !== null) {
        const roles = await this.rolesFor(p);
        if (!roles.some((r) => r.id === e.role_id)) continue;
      }
      if (e.domain_id !== null) {
        // A domain event kills tokens scoped to it, to its projects, and of its users.
        if (e.domain_id !== domainId) {
          userDomain ??= (await this.core.db.selectFrom("user").select("domain_id").where("id", "=", p.userId).executeTakeFirst())?.domain_id ?? "";
          projectDomain ??= projectId
            ? ((await this.core.db.selectFrom("project").select("domain_id").where("id", "=", projectId).executeTakeFirst())?.domain_id ?? "")
            : "";
          if (e.domain_id !== userDomain && e.domain_id !== projectDomain) continue;
        }
      }
      return true;
    }
    return false;
  }

  /** Effective roles of the token's scope; domain-specific roles only lend their implied global roles. */
  private async rolesFor(p: TokenPayload): Promise<RoleRow[]> {
    let roles: RoleRow[] = [];
    if (p.scope.kind === "project" && p.scope.id) roles = await this.assignments.effectiveProjectRoles(p.userId, p.scope.id);
    else if (p.scope.kind === "domain" && p.scope.id) roles = await this.assignments.effectiveDomainRoles(p.userId, p.scope.id);
    else if (p.scope.kind === "system") roles = await this.assignments.effectiveSystemRoles(p.userId);
    return roles.filter((r) => r.domain_id === NULL_DOMAIN);
  }

  private async build(id: string, p: TokenPayload): Promise<TokenData> {
    const q = this.core.db;
    const user = await q.selectFrom("user").selectAll().where("id", "=", p.userId).executeTakeFirst();
    if (!user || user.enabled !== 1) throw notFound();
    const userDomain = await q.selectFrom("project").select(["id", "name", "enabled"]).where("id", "=", user.domain_id).executeTakeFirst();
    if (!userDomain || userDomain.enabled !== 1) throw notFound();
    const pw = await q
      .selectFrom("password")
      .select("expires_at")
      .where("user_id", "=", user.id)
      .where("active", "=", 1)
      .executeTakeFirst();
    const t: TokenData = {
      id,
      payload: p,
      user: { id: user.id, name: user.name, domain: { id: userDomain.id, name: userDomain.name }, password_expires_at: pw?.expires_at ?? null },
      roles: [],
      isAdminProject: false,
      extras: {},
    };
    if (p.scope.kind === "project" && p.scope.id) {
      const project = await q.selectFrom("project").selectAll().where("id", "=", p.scope.id).executeTakeFirst();
      if (!project || project.enabled !== 1) throw notFound();
      const domainId = project.is_domain === 1 ? project.id : project.domain_id;
      const domain = project.is_domain === 1 ? project : await q.selectFrom("project").selectAll().where("id", "=", domainId).executeTakeFirst();
      if (!domain || domain.enabled !== 1) throw notFound();
      t.project = {
        id: project.id,
        name: project.name,
        domain: project.is_domain === 1 ? { id: ROOT_DOMAIN, name: ROOT_DOMAIN } : { id: domain.id, name: domain.name },
      };
      if (project.is_domain === 1) t.projectIsDomain = true;
      // No admin project configured: every project counts, as Keystone's default says.
      t.isAdminProject = true;
    } else if (p.scope.kind === "domain" && p.scope.id) {
      const domain = await q.selectFrom("project").selectAll().where("id", "=", p.scope.id).where("is_domain", "=", 1).executeTakeFirst();
      if (!domain || domain.enabled !== 1) throw notFound();
      t.domain = { id: domain.id, name: domain.name };
    } else if (p.scope.kind === "system") {
      t.system = true;
    }
    if (p.scope.kind !== "unscoped") {
      t.roles = (await this.rolesFor(p)).map((r) => ({ id: r.id, name: r.name }));
    }
    for (const h of this.hooks) await h(q, t);
    if (p.scope.kind !== "unscoped" && t.roles.length === 0) throw notFound();
    return t;
  }

  /** The token's catalog, cached per project until the next identity write. */
  async catalogFor(t: TokenData): Promise<CatalogEntry[]> {
    if (t.payload.scope.kind === "unscoped") return [];
    const revision = await this.core.revision();
    // Endpoint URLs may name the user ($(user_id)s), so the cache is per project and user.
    const key = `${t.project?.id ?? ""}:${t.user.id}`;
    const hit = this.catalogCache.get(key);
    if (hit && hit.revision === revision) return hit.catalog;
    const catalog = await this.catalogs.catalog(t.project?.id, undefined, t.user.id);
    if (this.catalogCache.size > 10_000) this.catalogCache.clear();
    this.catalogCache.set(key, { revision, catalog });
    return catalog;
  }

  /** Drop cached validations (tests and key rotation). */
  clearCache(): void {
    this.cache.clear();
  }
}

function notFound(): NotFound {
  return new NotFound("Could not find token.");
}

export function scopeOf(t: TokenData): Scope | undefined {
  const k = t.payload.scope.kind;
  return k === "unscoped" ? undefined : k;
}

export function toAuthContext(t: TokenData): AuthContext {
  const scope = scopeOf(t);
  const creds: Credentials = {
    user_id: t.user.id,
    user_domain_id: t.user.domain.id,
    project_id: t.project?.id ?? null,
    // oslo.context's legacy name, which Neutron's owner rules (tenant_id:%(tenant_id)s) read.
    tenant_id: t.project?.id ?? null,
    project_domain_id: t.project?.domain.id ?? null,
    domain_id: t.domain?.id ?? null,
    domain_name: t.domain?.name ?? null,
    system_scope: t.system ? "all" : null,
    roles: t.roles.map((r) => r.name),
    is_admin_project: t.isAdminProject,
    is_admin: false,
    trust_id: t.payload.trustId ?? null,
    trustor_id: t.trustorId ?? null,
    trustee_id: t.trusteeId ?? null,
    service_user_id: null,
    service_roles: [],
    token: {
      user: { id: t.user.id, domain: { id: t.user.domain.id } },
      ...(t.project ? { project: { id: t.project.id, domain: { id: t.project.domain.id } } } : {}),
      ...(t.domain ? { domain: { id: t.domain.id } } : {}),
    },
  };
  const ctx: AuthContext = {
    tokenId: t.id,
    userId: t.user.id,
    userName: t.user.name,
    userDomainId: t.user.domain.id,
    userDomainName: t.user.domain.name,
    system: t.system === true,
    scope,
    roles: t.roles,
    methods: t.payload.methods,
    auditIds: t.payload.auditIds,
    issuedAt: t.payload.issuedAt,
    expiresAt: t.payload.expiresAt,
    isAdminProject: t.isAdminProject,
    creds,
  };
  if (t.project) {
    ctx.projectId = t.project.id;
    ctx.projectName = t.project.name;
    ctx.projectDomainId = t.project.domain.id;
    ctx.projectDomainName = t.project.domain.name;
  }
  if (t.domain) {
    ctx.domainId = t.domain.id;
    ctx.domainName = t.domain.name;
  }
  if (t.payload.trustId) ctx.trustId = t.payload.trustId;
  if (t.trustorId) ctx.trustorId = t.trustorId;
  if (t.trusteeId) ctx.trusteeId = t.trusteeId;
  if (t.payload.appCredId) ctx.appCredId = t.payload.appCredId;
  if (t.accessRules) ctx.accessRules = t.accessRules;
  return ctx;
}
