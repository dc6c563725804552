import { createHash, randomBytes } from "node:crypto";
import bcrypt from "bcrypt";
import { BadRequest, Conflict, Forbidden, NotFound, Unauthorized } from "../../../common/errors.js";
import { hexId } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { IdentityCore } from "../core.js";
import * as store from "../store/credentials.js";
import { revoke } from "../store/revoke.js";
import type { AccessRuleRow, AppCredRow, IdentityTrx, Q, RoleRow } from "../store/tables.js";
import type { TokenData } from "../tokens/provider.js";
import type { AssignmentManager } from "./assignment.js";
import type { AuthManager, MethodResult } from "./auth.js";
import type { UserManager } from "./users.js";

export interface AppCredRecord extends AppCredRow {
  roles: RoleRow[];
  access_rules: AccessRuleRow[];
}

export interface AccessRuleInput {
  id?: string;
  service?: string;
  path?: string;
  method?: string;
}

export interface AppCredInput {
  name: string;
  description?: string | null;
  secret?: string | null;
  expires_at?: string | null;
  roles?: Array<{ id?: string; name?: string }>;
  unrestricted?: boolean;
  access_rules?: AccessRuleInput[];
}

/** Who is creating: the token's user, project and (current) roles. */
export interface AppCredCreator {
  userId: string;
  projectId: string;
  tokenRoleIds: readonly string[];
}

const TIMESTAMP_ERROR =
  "Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.";
const EXPIRED_ERROR =
  "The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.";

/**
 * Parse expires_at as keystone's parse_expiration_date does (ISO 8601, UTC when no zone) and
 * keep its microseconds, which a JS Date would lose: clients compare the echo exactly.
 * Returns "YYYY-MM-DDTHH:MM:SS.ffffffZ".
 */
export function parseExpiresAt(s: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(s.trim());
  if (!m) throw new BadRequest(TIMESTAMP_ERROR);
  const [, y, mo, d, h, mi, sec = "00", frac = "", tz] = m;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec));
  const check = new Date(t);
  if (Number.isNaN(t) || check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) {
    throw new BadRequest(TIMESTAMP_ERROR);
  }
  if (tz && tz.toUpperCase() !== "Z") {
    const sign = tz.startsWith("-") ? -1 : 1;
    const digits = tz.slice(1).replace(":", "");
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
  }
  const micro = (frac + "000000").slice(0, 6);
  return `${new Date(t).toISOString().slice(0, 19)}.${micro}Z`;
}

/** The stored form as Keystone serialises datetimes (oslo's "%Y-%m-%dT%H:%M:%S.%f", no zone). */
export function renderExpiresAt(stored: string | null): string | null {
  return stored === null ? null : stored.replace(/Z$/, "");
}

function expiryMs(stored: string): number {
  return Date.parse(stored.slice(0, 23) + "Z");
}

/** Keystone's secret: 64 random bytes, URL-safe base64 without padding. */
function generateSecret(): string {
  return randomBytes(64).toString("base64url");
}

/**
 * bcrypt only reads the first 72 bytes of its input and a generated secret is 86 characters,
 * so the secret is reduced to its SHA-256 first: every character of it counts.
 */
function prehash(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("base64");
}

export class AppCredManager {
  constructor(
    private readonly core: IdentityCore,
    private readonly users: UserManager,
    private readonly assignments: AssignmentManager,
    private readonly auth: AuthManager,
  ) {}

  private async records(q: Q, rows: AppCredRow[]): Promise<AppCredRecord[]> {
    const ids = rows.map((r) => r.id);
    const roleIds = await store.appCredRoleIds(q, ids);
    const rules = await store.appCredAccessRules(q, ids);
    const allRoles = [...new Set([...roleIds.values()].flat())];
    const roles = new Map((await this.assignments.listRoles({ ids: allRoles })).map((r) => [r.id, r]));
    return rows.map((r) => ({
      ...r,
      roles: (roleIds.get(r.id) ?? []).map((id) => roles.get(id)).filter((x): x is RoleRow => x !== undefined),
      access_rules: rules.get(r.id) ?? [],
    }));
  }

  async find(id: string, q: Q = this.core.db): Promise<AppCredRecord | undefined> {
    const row = await store.getAppCred(q, id);
    return row ? (await this.records(q, [row]))[0] : undefined;
  }

  async get(id: string): Promise<AppCredRecord> {
    const r = await this.find(id);
    if (!r) throw new NotFound(`Could not find Application Credential: ${id}.`);
    return r;
  }

  async list(userId: string, f: { name?: string } = {}): Promise<AppCredRecord[]> {
    const filter: Parameters<typeof store.listAppCreds>[1] = { userId };
    if (f.name !== undefined) filter.name = f.name;
    return this.records(this.core.db, await store.listAppCreds(this.core.db, filter));
  }

  /**
   * POST /v3/users/{user_id}/application_credentials. Roles default to the creating token's
   * roles; requested ones must be among them and still assigned on the project. Returns the
   * record and the secret, which is shown this once and only stored hashed.
   */
  async create(who: AppCredCreator, input: AppCredInput): Promise<{ record: AppCredRecord; secret: string }> {
    let roleIds: string[];
    if (input.roles && input.roles.length > 0) {
      roleIds = [];
      for (const r of input.roles) {
        if (r.id !== undefined) {
          roleIds.push(r.id);
        } else {
          roleIds.push(await this.assignments.uniqueRoleIdByName(r.name!));
        }
      }
      // A token's holder cannot hand out roles the token itself does not carry (privilege
      // escalation through trusts or application credentials).
      for (const id of roleIds) {
        if (!who.tokenRoleIds.includes(id)) {
          throw new BadRequest("Invalid application credential: Cannot create an application credential with unassigned role");
        }
      }
    } else {
      roleIds = [...who.tokenRoleIds];
    }
    const effective = new Set((await this.assignments.effectiveProjectRoles(who.userId, who.projectId)).map((r) => r.id));
    for (const id of roleIds) {
      if (!effective.has(id)) {
        throw new BadRequest(
          `Invalid application credential: Could not find role assignment with role: ${id}, user or group: ${who.userId}, project, domain, or system: ${who.projectId}.`,
        );
      }
    }
    let expiresAt: string | null = null;
    if (input.expires_at) {
      expiresAt = parseExpiresAt(input.expires_at);
      if (expiryMs(expiresAt) <= this.core.now().getTime()) throw new BadRequest(EXPIRED_ERROR);
    }
    const secret = input.secret ? input.secret : generateSecret();
    const row: AppCredRow = {
      id: hexId(),
      name: input.name,
      secret_hash: await this.users.hash(prehash(secret)),
      description: input.description ?? null,
      user_id: who.userId,
      project_id: who.projectId,
      system: null,
      expires_at: expiresAt,
      unrestricted: input.unrestricted === undefined ? null : input.unrestricted ? 1 : 0,
      created_at: this.core.now().toISOString(),
    };
    const rules = input.access_rules ?? [];
    for (let attempt = 0; ; attempt++) {
      try {
        await this.core.write(async (trx) => {
          const ruleIds: string[] = [];
          for (const rule of rules) ruleIds.push(await this.resolveAccessRule(trx, who.userId, rule));
          await store.insertAppCred(trx, row, roleIds, ruleIds);
        });
        break;
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        const dup = await store.listAppCreds(this.core.db, { userId: who.userId, name: row.name });
        if (dup.length > 0) {
          throw new Conflict(`Conflict occurred attempting to store application_credential - Duplicate entry found with name ${row.name}.`);
        }
        // A concurrent request stored the same access rule first: the retry reuses it.
        if (attempt >= 2) {
          throw new Conflict("Conflict occurred attempting to store application_credential - Duplicate entry.");
        }
      }
    }
    return { record: await this.get(row.id), secret };
  }

  /**
   * An access rule by id (the caller's own), else the caller's identical rule (Keystone
   * dedupes on user, service, path and method), else a new one.
   */
  private async resolveAccessRule(trx: IdentityTrx, userId: string, r: AccessRuleInput): Promise<string> {
    if (r.id !== undefined) {
      const byId = await store.getAccessRule(trx, r.id);
      if (byId && byId.user_id === userId) return byId.id;
      if (byId) throw new Conflict(`Conflict occurred attempting to store access_rule - Duplicate entry found with ID ${r.id}.`);
    }
    if (r.service === undefined || r.path === undefined || r.method === undefined) {
      if (r.id !== undefined) throw new NotFound(`Could not find Access Rule: ${r.id}.`);
      throw new BadRequest("Invalid input for field 'access_rules': service, path and method are required.");
    }
    const same = await store.findAccessRule(trx, userId, { service: r.service, path: r.path, method: r.method });
    if (same) return same.id;
    const id = r.id ?? hexId();
    await store.insertAccessRule(trx, { id, user_id: userId, service: r.service, path: r.path, method: r.method });
    return id;
  }

  async delete(id: string): Promise<void> {
    await this.core.write(async (trx) => {
      const ids = await store.deleteAppCreds(trx, { id });
      if (ids.length === 0) throw new NotFound(`Could not find Application Credential: ${id}.`);
      await revoke(trx, { app_cred_id: id }, this.core.now());
    });
  }

  /** Keystone: a token from a restricted application credential cannot make more of them (or trusts). */
  async assertUnrestricted(appCredId: string | undefined): Promise<void> {
    if (appCredId === undefined) return;
    const ac = await store.getAppCred(this.core.db, appCredId);
    if (!ac || ac.unrestricted !== 1) {
      throw new Forbidden(
        "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials.",
      );
    }
  }

  // ---- access rules ---------------------------------------------------------------------------

  async listAccessRules(userId: string, f: { service?: string; path?: string; method?: string }): Promise<AccessRuleRow[]> {
    return store.listAccessRules(this.core.db, { userId, ...f });
  }

  /** A user's own access rule; another user's is as good as missing. */
  async getAccessRule(userId: string, id: string): Promise<AccessRuleRow> {
    const r = await store.getAccessRule(this.core.db, id);
    if (!r || r.user_id !== userId) throw new NotFound(`Could not find Access Rule: ${id}.`);
    return r;
  }

  async deleteAccessRule(userId: string, id: string): Promise<void> {
    await this.core.write(async (trx) => {
      const r = await store.getAccessRule(trx, id);
      if (!r || r.user_id !== userId) throw new NotFound(`Could not find Access Rule: ${id}.`);
      if (await store.accessRuleInUse(trx, id)) throw new Forbidden("May not delete access rule in use");
      await store.deleteAccessRule(trx, id);
    });
  }

  // ---- authentication -------------------------------------------------------------------------

  /**
   * The "application_credential" auth method: {id, secret} or {name, user: {id} | {name,
   * domain}, secret}. The token is pinned to the credential's project and lives no longer than
   * the credential.
   */
  async authMethod(data: unknown): Promise<MethodResult> {
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      throw new BadRequest(
        "Expecting to find id or name in application credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
      );
    }
    const d = data as { id?: unknown; name?: unknown; user?: unknown; secret?: unknown };
    let ac: AppCredRow | undefined;
    if (typeof d.id === "string" && d.id !== "") {
      ac = await store.getAppCred(this.core.db, d.id);
      if (!ac) throw new NotFound(`Could not find Application Credential: ${d.id}.`);
    } else if (typeof d.name === "string" && d.name !== "") {
      if (d.user === null || typeof d.user !== "object") {
        throw new BadRequest(
          "Expecting to find user in application credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
        );
      }
      const user = await this.auth.resolveUser(d.user as Parameters<AuthManager["resolveUser"]>[0]);
      const found = await store.listAppCreds(this.core.db, { userId: user.id, name: d.name });
      if (found.length !== 1) throw new Unauthorized();
      ac = found[0]!;
    } else {
      throw new BadRequest(
        "Expecting to find id or name in application credential. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
      );
    }
    // Always the credential's owner, whatever user the request names.
    const user = await this.auth.resolveUser({ id: ac.user_id });
    const secret = typeof d.secret === "string" ? d.secret : undefined;
    const ok = secret !== undefined && (await bcrypt.compare(prehash(secret), ac.secret_hash));
    const now = this.core.now().getTime();
    if (!ok || (ac.expires_at !== null && now >= expiryMs(ac.expires_at)) || ac.project_id === null) {
      throw new Unauthorized();
    }
    const out: MethodResult = { userId: user.id, appCredId: ac.id, forcedScope: { kind: "project", id: ac.project_id } };
    if (ac.expires_at !== null) {
      const cap = expiryMs(ac.expires_at);
      if (cap < now + this.core.config.identity.tokenExpiration * 1000) out.expiresAt = new Date(cap);
    }
    return out;
  }

  /**
   * Token validation for tokens made from an application credential: the credential must still
   * exist and be the user's, the token's roles shrink to the credential's roles the user still
   * has, and the body says which credential it came from.
   */
  async tokenHook(q: Q, t: TokenData): Promise<void> {
    const id = t.payload.appCredId;
    if (!id) return;
    const ac = await this.find(id, q);
    const gone = (): NotFound => new NotFound("Could not find token.");
    if (!ac || ac.user_id !== t.user.id) throw gone();
    if (t.payload.scope.kind !== "project" || t.payload.scope.id !== ac.project_id) throw gone();
    if (ac.expires_at !== null && this.core.now().getTime() >= expiryMs(ac.expires_at)) throw gone();
    const allowed = new Set(ac.roles.map((r) => r.id));
    t.roles = t.roles.filter((r) => allowed.has(r.id));
    const body: Record<string, unknown> = { id: ac.id, name: ac.name, restricted: ac.unrestricted !== 1 };
    if (ac.access_rules.length > 0) {
      body["access_rules"] = ac.access_rules.map((r) => ({ id: r.id, service: r.service, path: r.path, method: r.method }));
      t.accessRules = ac.access_rules.map((r) => ({ service: r.service, path: r.path, method: r.method }));
    }
    t.extras["application_credential"] = body;
  }

  // ---- cascades -------------------------------------------------------------------------------

  async onUserDeleted(trx: IdentityTrx, userId: string): Promise<void> {
    await store.deleteAppCreds(trx, { userId });
    await store.deleteAccessRulesForUser(trx, userId);
  }

  async onProjectDeleted(trx: IdentityTrx, projectId: string): Promise<void> {
    await store.deleteAppCreds(trx, { projectId });
  }

  /**
   * Keystone deletes the application credentials of every user directly assigned a role on a
   * project when that role is deleted; the role also leaves every other credential.
   */
  async onRoleDeleted(trx: IdentityTrx, roleId: string): Promise<void> {
    const direct = await trx
      .selectFrom("assignment")
      .select(["actor_id", "target_id"])
      .where("role_id", "=", roleId)
      .where("type", "=", "UserProject")
      .execute();
    for (const a of direct) {
      for (const id of await store.deleteAppCreds(trx, { userId: a.actor_id, projectId: a.target_id })) {
        await revoke(trx, { app_cred_id: id }, this.core.now());
      }
    }
    await store.removeRoleFromAppCreds(trx, roleId);
  }
}
