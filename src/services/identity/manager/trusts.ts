import { BadRequest, Conflict, Forbidden, NotFound, Unauthorized } from "../../../common/errors.js";
import { hexId } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { IdentityCore } from "../core.js";
import { revoke } from "../store/revoke.js";
import type { IdentityTrx, Q, RoleRow, TrustRow, UserRow } from "../store/tables.js";
import { json, NULL_DOMAIN } from "../store/tables.js";
import { consumeUse, findTrust, insertTrust, listTrusts, liveTrustIdsFor, softDeleteTrusts, trustRoleIds } from "../store/trusts.js";
import type { TokenPayload } from "../tokens/format.js";
import type { TokenData } from "../tokens/provider.js";
import type { AssignmentManager } from "./assignment.js";
import type { MethodResult } from "./auth.js";

/** keystone.conf [trust] max_redelegation_count (default). */
export const MAX_REDELEGATION_COUNT = 3;

/**
 * keystone/api/_shared/delegation.py: methods that authenticate a user directly. A token
 * carrying any other method (application_credential, oauth1, ec2credential, …) is delegated
 * and may not manage trusts.
 */
const PRIMARY_METHODS = new Set(["external", "kerberos", "mapped", "openid", "password", "saml2", "token", "totp", "x509"]);

export function isDelegatedMethod(methods: readonly string[]): boolean {
  return methods.length === 0 || methods.some((m) => !PRIMARY_METHODS.has(m));
}

/** Keystone's ForbiddenAction wording. */
export function forbiddenAction(action: string): Forbidden {
  return new Forbidden(`You are not authorized to perform the requested action: ${action}.`);
}

/**
 * Keystone's plain Forbidden is a SecurityError: outside insecure_debug its message is
 * replaced by the generic one, so the reason stays server-side (it is named at each call).
 */
function securityForbidden(_reason: string): Forbidden {
  return new Forbidden();
}

export interface TrustInput {
  trustor_user_id: string;
  trustee_user_id: string;
  impersonation: boolean;
  project_id?: string | null;
  remaining_uses?: number | null;
  expires_at?: string | null;
  allow_redelegation?: boolean | null;
  redelegation_count?: number | null;
  roles?: Array<{ id?: string; name?: string }>;
  [extra: string]: unknown;
}

/** A trust with the ids of the roles it delegates. */
export interface Trust {
  row: TrustRow;
  roleIds: string[];
}

/** Attributes Keystone keeps in columns (or drops); anything else a client sends is stored in extra. */
const KNOWN = new Set([
  "id",
  "trustor_user_id",
  "trustee_user_id",
  "project_id",
  "impersonation",
  "expires_at",
  "remaining_uses",
  "deleted_at",
  "redelegated_trust_id",
  "redelegation_count",
  "allow_redelegation",
  "roles",
  "roles_links",
  "links",
]);

/**
 * Keystone's utils.parse_expiration_date: a 'Z' is appended unless present, then the text must
 * be an ISO 8601 date-time (so offsets such as +02:00 are rejected). The result keeps the
 * client's microseconds: "YYYY-MM-DDTHH:MM:SS.ffffffZ".
 */
export function parseExpiry(text: string, now: Date): string {
  const body = text.endsWith("Z") ? text.slice(0, -1) : text;
  const m = /^(\d{4})-?(\d{2})-?(\d{2})[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?$/.exec(body);
  const bad = () =>
    new BadRequest(
      "Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
    );
  if (!m) throw bad();
  const [y, mo, d, h, mi = "00", s = "00", frac = ""] = m.slice(1) as [string, string, string, string, string?, string?, string?];
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (
    Number.isNaN(ms) ||
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi) ||
    check.getUTCSeconds() !== Number(s)
  ) {
    throw bad();
  }
  const micro = (frac + "000000").slice(0, 6);
  const iso = `${check.toISOString().slice(0, 19)}.${micro}Z`;
  if (expiryTime(iso) < now.getTime()) {
    throw new BadRequest(
      "The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
    );
  }
  return iso;
}

/** Milliseconds of a stored expiry (sub-millisecond digits only matter for equality). */
function expiryTime(iso: string): number {
  return Date.parse(iso.replace(/\.(\d{3})\d*Z$/, ".$1Z"));
}

function trustNotFound(id: string): NotFound {
  return new NotFound(`Could not find trust: ${id}.`);
}

export class TrustManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly assignments: AssignmentManager,
  ) {}

  // ---- lookups ----------------------------------------------------------------------------

  /** The trust driver's get_trust: deleted, expired and (unless asked) used-up trusts are 404. */
  private async load(id: string, q: Q, opts: { ignoreUses?: boolean } = {}): Promise<Trust> {
    const row = await findTrust(q, id);
    if (!row) throw trustNotFound(id);
    if (row.expires_at !== null && this.core.now().getTime() > expiryTime(row.expires_at)) throw trustNotFound(id);
    if (!opts.ignoreUses && row.remaining_uses !== null && row.remaining_uses <= 0) throw trustNotFound(id);
    return { row, roleIds: await trustRoleIds(q, id) };
  }

  /** [trust, its parent, grandparent, …], every ancestor still live. */
  private async pedigree(t: Trust, q: Q): Promise<Trust[]> {
    const chain = [t];
    const seen = new Set([t.row.id]);
    let cur = t;
    while (cur.row.redelegated_trust_id && !seen.has(cur.row.redelegated_trust_id)) {
      cur = await this.load(cur.row.redelegated_trust_id, q);
      seen.add(cur.row.id);
      chain.push(cur);
    }
    return chain;
  }

  /**
   * trust_api.get_trust: a redelegated trust is only valid while its whole chain is, and every
   * trustee up the chain is still an enabled user.
   */
  async get(id: string, q: Q = this.core.db, opts: { ignoreUses?: boolean } = {}): Promise<Trust> {
    const t = await this.load(id, q, opts);
    if (t.row.redelegated_trust_id) {
      const chain = await this.pedigree(t, q);
      for (let i = 1; i < chain.length; i++) {
        const parent = chain[i]!;
        const child = chain[i - 1]!;
        validateRedelegation(parent, {
          remaining_uses: child.row.remaining_uses,
          expires_at: child.row.expires_at,
          roleIds: child.roleIds,
          impersonation: child.row.impersonation === 1,
        });
        const agent = await q.selectFrom("user").select("enabled").where("id", "=", parent.row.trustee_user_id).executeTakeFirst();
        if (!agent || agent.enabled !== 1) throw securityForbidden("One of the trust agents is disabled or deleted");
      }
    }
    return t;
  }

  async list(f: { trustorId?: string; trusteeId?: string }): Promise<TrustRow[]> {
    return listTrusts(this.core.db, f);
  }

  /** The trust's roles that still exist (Keystone skips deleted ones), by name. */
  async roles(t: Trust): Promise<RoleRow[]> {
    return this.assignments.listRoles({ ids: t.roleIds });
  }

  // ---- create / delete --------------------------------------------------------------------

  /**
   * POST /v3/OS-TRUST/trusts after policy and schema: keystone/api/trusts.py TrustResource.post
   * then trust/core.py create_trust, check for check and message for message. `parentTrustId`
   * is the trust of the caller's token: creating a trust with it is redelegation.
   */
  async create(input: TrustInput, caller: { userId: string; parentTrustId?: string }): Promise<Trust> {
    const db = this.core.db;
    if (input.project_id && !(input.roles && input.roles.length > 0)) throw forbiddenAction("At least one role should be specified");
    if (caller.userId !== input.trustor_user_id) throw forbiddenAction("The authenticated user should match the trustor");
    const trustee = await db.selectFrom("user").select("id").where("id", "=", input.trustee_user_id).executeTakeFirst();
    if (!trustee) throw new NotFound(`Could not find user: ${input.trustee_user_id}.`);

    const roleIds: string[] = [];
    for (const r of input.roles ?? []) {
      if (r.id) {
        roleIds.push(r.id);
        continue;
      }
      roleIds.push(await this.assignments.uniqueRoleIdByName(r.name!));
    }

    let expiresAt = input.expires_at !== undefined && input.expires_at !== null ? parseExpiry(input.expires_at, this.core.now()) : null;
    const parent = caller.parentTrustId ? await this.get(caller.parentTrustId) : undefined;

    // The trustor must hold every delegated role on the project (effectively: groups,
    // inheritance and implied roles count). Without a project the trustor holds nothing.
    // A redelegation is checked against the original trustor on the original project, as
    // Keystone walks redelegated_trust_id back to the first trust.
    let held = new Set<string>();
    if (input.project_id) {
      const p = await db.selectFrom("project").select("id").where("id", "=", input.project_id).executeTakeFirst();
      if (!p) throw new NotFound(`Could not find project: ${input.project_id}.`);
      const root = parent ? (await this.pedigree(parent, db)).at(-1)!.row : undefined;
      const who = root ? root.trustor_user_id : input.trustor_user_id;
      const where = root?.project_id ?? input.project_id;
      held = new Set((await this.assignments.effectiveProjectRoles(who, where)).map((r) => r.id));
    }
    for (const id of roleIds) if (!held.has(id)) throw new NotFound(`Could not find role: ${id}.`);

    // trust/core.py create_trust: redelegation depth and remaining uses.
    const requested = input.redelegation_count ?? null;
    const redelegatable = input.allow_redelegation === true && requested !== 0;
    const remainingUses = input.remaining_uses ?? null;
    let count: number | null;
    if (!redelegatable) {
      count = 0;
      if (remainingUses !== null && remainingUses <= 0) throw new BadRequest("remaining_uses must be a positive integer or null.");
    } else {
      if (requested !== null && requested > MAX_REDELEGATION_COUNT) {
        throw securityForbidden(`Requested redelegation depth of ${requested} is greater than allowed ${MAX_REDELEGATION_COUNT}`);
      }
      if (remainingUses !== null) throw new BadRequest("remaining_uses must not be set if redelegation is allowed");
      count = requested;
    }
    if (parent) {
      const remaining = (parent.row.redelegation_count ?? 0) - 1;
      if (redelegatable && requested && requested !== remaining) {
        throw securityForbidden('Modifying "redelegation_count" upon redelegation is forbidden. Omitting this parameter is advised.');
      }
      count ??= remaining;
      const candidate = { remaining_uses: remainingUses, expires_at: expiresAt, roleIds, impersonation: input.impersonation };
      for (const ancestor of await this.pedigree(parent, db)) {
        candidate.expires_at = validateRedelegation(ancestor, candidate);
      }
      expiresAt = candidate.expires_at;
    }
    count ??= MAX_REDELEGATION_COUNT;

    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) if (!KNOWN.has(k)) extra[k] = v;
    const row: TrustRow = {
      id: hexId(),
      trustor_user_id: input.trustor_user_id,
      trustee_user_id: input.trustee_user_id,
      project_id: input.project_id ?? null,
      impersonation: input.impersonation ? 1 : 0,
      expires_at: expiresAt,
      remaining_uses: remainingUses,
      redelegated_trust_id: parent ? parent.row.id : null,
      redelegation_count: count,
      deleted_at: null,
      extra: JSON.stringify(extra),
    };
    try {
      await this.core.write((trx) => insertTrust(trx, row, roleIds));
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Conflict occurred attempting to store trust - Duplicate entry found with ID ${row.id}.`);
      throw e;
    }
    return { row, roleIds };
  }

  /** Delete a trust and every trust redelegated from it; their tokens are revoked. */
  async delete(id: string): Promise<void> {
    const now = this.core.now();
    await this.core.write(async (trx) => {
      const ids = [id];
      for (let i = 0; i < ids.length && i < 1000; i++) {
        for (const child of await listTrusts(trx, { redelegatedFrom: ids[i]! })) {
          if (!ids.includes(child.id)) ids.push(child.id);
        }
      }
      if ((await softDeleteTrusts(trx, ids, now.toISOString())) === 0) throw trustNotFound(id);
      for (const t of ids) await revoke(trx, { trust_id: t }, now);
    });
  }

  /** Deletion cascades: a trust goes with its trustor, its trustee and its project. */
  async purgeForUser(trx: IdentityTrx, userId: string): Promise<void> {
    await softDeleteTrusts(trx, await liveTrustIdsFor(trx, { userId }), this.core.now().toISOString());
  }

  async purgeForProject(trx: IdentityTrx, projectId: string): Promise<void> {
    await softDeleteTrusts(trx, await liveTrustIdsFor(trx, { projectId }), this.core.now().toISOString());
  }

  // ---- trust-scoped tokens ----------------------------------------------------------------

  /**
   * auth.registerScope("OS-TRUST:trust"): the trust must be usable by the authenticated user
   * (the trustee), then one use is taken. A missing, expired, deleted or used-up trust is 401,
   * as Keystone turns TrustNotFound into Unauthorized (whose text it does not disclose).
   */
  async resolveScope(data: unknown, who: MethodResult): Promise<{ scope: TokenPayload["scope"]; trustId: string }> {
    if (typeof data !== "object" || data === null || Array.isArray(data)) throw new BadRequest("Expecting to find trust_id in trust.");
    const id = (data as Record<string, unknown>)["id"];
    if (typeof id !== "string" || id === "") throw new BadRequest("Expecting to find trust_id in trust.");
    // A credential pinned to its own scope (application credential, OAuth1) never becomes a trust token.
    if (who.forcedScope) throw new Unauthorized();
    let t: Trust;
    try {
      t = await this.get(id);
    } catch (e) {
      if (e instanceof NotFound) throw new Unauthorized();
      throw e;
    }
    const projectId = t.row.project_id;
    if (!projectId) throw new NotFound("Could not find project: None.");
    const project = await this.core.db.selectFrom("project").select(["id", "enabled", "domain_id"]).where("id", "=", projectId).executeTakeFirst();
    if (!project) throw new Unauthorized();
    const domain = await this.core.db.selectFrom("project").select(["id", "enabled"]).where("id", "=", project.domain_id).executeTakeFirst();
    if (!domain || domain.enabled !== 1) throw new Unauthorized();
    if (project.enabled !== 1) throw new Unauthorized();
    // Every check the token hook makes, before the use is taken: a refused token costs nothing.
    await this.usable(t, who.userId, this.core.db);
    const r = await this.core.write((trx) => consumeUse(trx, id));
    if (r === "missing") throw new Unauthorized();
    if (r === "exhausted") throw new Forbidden(`No remaining uses for trust: ${id}.`);
    return { scope: { kind: "project", id: projectId }, trustId: id };
  }

  /**
   * TokenModel._validate_token_user and _validate_trust_scope: who may use the trust and the
   * roles it yields now (the delegated roles and their implied ones, all still held by the
   * trustor and, for a redelegated trust, by the original trustor; global roles only).
   */
  private async usable(t: Trust, userId: string, q: Q): Promise<{ trustor: UserRow; roles: RoleRow[] }> {
    if (userId !== t.row.trustee_user_id) throw securityForbidden("User is not a trustee.");
    const trustor = await q.selectFrom("user").selectAll().where("id", "=", t.row.trustor_user_id).executeTakeFirst();
    if (!trustor) throw new NotFound(`Could not find user: ${t.row.trustor_user_id}.`);
    const trustee = await q.selectFrom("user").selectAll().where("id", "=", t.row.trustee_user_id).executeTakeFirst();
    if (!trustee) throw new NotFound(`Could not find user: ${t.row.trustee_user_id}.`);
    const domainEnabled = async (id: string) =>
      (await q.selectFrom("project").select("enabled").where("id", "=", id).executeTakeFirst())?.enabled === 1;
    if (!(await domainEnabled(trustor.domain_id))) throw new NotFound("Trustor domain is disabled.");
    if (!(await domainEnabled(trustee.domain_id))) throw new NotFound("Trustee domain is disabled.");
    if (trustor.enabled !== 1) throw securityForbidden("Trustor is disabled.");

    const projectId = t.row.project_id;
    if (!projectId) return { trustor, roles: [] };
    const delegated = await this.assignments.expand(t.roleIds, q);
    const held = new Set((await this.assignments.effectiveProjectRoles(trustor.id, projectId, q)).map((r) => r.id));
    let original = t.row;
    for (let i = 0; original.redelegated_trust_id && i < 100; i++) {
      const up = await findTrust(q, original.redelegated_trust_id, { deleted: true });
      if (!up) break;
      original = up;
    }
    const heldByOriginal =
      original.trustor_user_id === trustor.id
        ? held
        : new Set((await this.assignments.effectiveProjectRoles(original.trustor_user_id, projectId, q)).map((r) => r.id));
    for (const id of delegated) {
      if (!held.has(id) || !heldByOriginal.has(id)) throw securityForbidden("Trustee has no delegated roles.");
    }
    const rows = delegated.size > 0 ? await q.selectFrom("role").selectAll().where("id", "in", [...delegated]).orderBy("name").execute() : [];
    return { trustor, roles: rows.filter((r) => r.domain_id === NULL_DOMAIN) };
  }

  /**
   * tokens.addHook: a trust token is valid while its trust is (uses left do not matter once
   * issued) and carries the trust's roles; with impersonation its user is the trustor.
   */
  async tokenHook(q: Q, t: TokenData): Promise<void> {
    const id = t.payload.trustId;
    if (!id) return;
    const trust = await this.get(id, q, { ignoreUses: true });
    const { trustor, roles } = await this.usable(trust, t.payload.userId, q);
    // Keystone puts whole role dicts in a trust token (TokenModel._get_trust_roles).
    t.roles = roles.map((r) => ({ ...json(r.extra), id: r.id, name: r.name, domain_id: null, description: r.description, options: json(r.options) }));
    if (await this.revokedViaTrustor(q, t, trustor)) throw new NotFound("Could not find token.");
    t.trustorId = trustor.id;
    t.trusteeId = trust.row.trustee_user_id;
    const impersonation = trust.row.impersonation === 1;
    t.extras["OS-TRUST:trust"] = {
      id,
      trustor_user: { id: trustor.id },
      trustee_user: { id: trust.row.trustee_user_id },
      impersonation,
    };
    if (impersonation) {
      const domain = await q.selectFrom("project").select(["id", "name"]).where("id", "=", trustor.domain_id).executeTakeFirst();
      const pw = await q.selectFrom("password").select("expires_at").where("user_id", "=", trustor.id).where("active", "=", 1).executeTakeFirst();
      t.user = {
        id: trustor.id,
        name: trustor.name,
        domain: { id: trustor.domain_id, name: domain?.name ?? trustor.domain_id },
        password_expires_at: pw?.expires_at ?? null,
      };
    }
  }

  /**
   * Keystone matches a revocation event's user_id against a trust token's trustor as well as
   * its user (revoke_model: user_id ↔ user_id, trustor_id, trustee_id). The provider matches
   * the token's user (the trustee); this adds the trustor: a trustor whose password changed,
   * who was disabled or lost a grant takes the trust tokens with them.
   */
  private async revokedViaTrustor(q: Q, t: TokenData, trustor: UserRow): Promise<boolean> {
    const p = t.payload;
    if (trustor.id === p.userId) return false;
    const events = await q
      .selectFrom("revocation_event")
      .selectAll()
      .where("user_id", "=", trustor.id)
      .where("issued_before", ">=", p.issuedAt.toISOString())
      .execute();
    const projectId = p.scope.kind === "project" ? p.scope.id : undefined;
    let projectDomain: string | undefined;
    for (const e of events) {
      if (e.audit_id !== null && e.audit_id !== p.auditIds[0]) continue;
      if (e.audit_chain_id !== null && e.audit_chain_id !== p.auditIds[p.auditIds.length - 1]) continue;
      if (e.trust_id !== null && e.trust_id !== p.trustId) continue;
      if (e.app_cred_id !== null && e.app_cred_id !== p.appCredId) continue;
      if (e.access_token_id !== null && e.access_token_id !== p.accessTokenId) continue;
      if (e.consumer_id !== null) continue;
      if (e.project_id !== null && e.project_id !== projectId) continue;
      if (e.role_id !== null && !t.roles.some((r) => r.id === e.role_id)) continue;
      if (e.domain_id !== null) {
        projectDomain ??= projectId
          ? ((await q.selectFrom("project").select("domain_id").where("id", "=", projectId).executeTakeFirst())?.domain_id ?? "")
          : "";
        if (e.domain_id !== trustor.domain_id && e.domain_id !== projectDomain) continue;
      }
      return true;
    }
    return false;
  }
}

interface Candidate {
  remaining_uses: number | null;
  expires_at: string | null;
  roleIds: readonly string[];
  impersonation: boolean;
}

/**
 * trust/core.py _validate_redelegation: may `child` be redelegated from `parent`? Returns the
 * child's expiry (inherited from the parent when the child sets none).
 */
function validateRedelegation(parent: Trust, child: Candidate): string | null {
  const depth = parent.row.redelegation_count ?? 0;
  if (!(depth > 0 && depth <= MAX_REDELEGATION_COUNT)) {
    throw securityForbidden(`Remaining redelegation depth of ${depth} out of allowed range of [0..${MAX_REDELEGATION_COUNT}]`);
  }
  if (child.remaining_uses !== null) {
    throw securityForbidden(`Field "remaining_uses" is set to ${child.remaining_uses} while it must not be set in order to redelegate a trust`);
  }
  let expires = child.expires_at;
  if (expires !== null) {
    if (parent.row.expires_at !== null && expiryTime(parent.row.expires_at) < expiryTime(expires)) {
      throw securityForbidden("Requested expiration time is more than redelegated trust can provide");
    }
  } else {
    expires = parent.row.expires_at;
  }
  const parentRoles = new Set(parent.roleIds);
  if (!child.roleIds.every((r) => parentRoles.has(r))) throw securityForbidden("Some of requested roles are not in redelegated trust");
  if (parent.row.impersonation !== 1 && child.impersonation) {
    throw securityForbidden(
      `Impersonation is not allowed because redelegated trust does not specify impersonation. Redelegated trust id: ${parent.row.id}`,
    );
  }
  return expires;
}
