import bcrypt from "bcrypt";
import { BadRequest, Conflict, NotFound, Unauthorized } from "../../../common/errors.js";
import { hexId } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { IdentityCore } from "../core.js";
import { revoke } from "../store/revoke.js";
import type { GroupRow, PasswordRow, Q, UserRow } from "../store/tables.js";
import { json } from "../store/tables.js";

export interface UserRecord extends UserRow {
  password_expires_at: string | null;
}

export interface UserInput {
  id?: string;
  name?: string;
  domain_id?: string;
  enabled?: boolean;
  password?: string | null;
  default_project_id?: string | null;
  description?: string | null;
  options?: Record<string, unknown>;
  [extra: string]: unknown;
}

const USER_KNOWN = new Set([
  "id",
  "name",
  "domain_id",
  "enabled",
  "password",
  "default_project_id",
  "description",
  "options",
  "links",
  "password_expires_at",
  "federated",
]);

/** The user options Keystone knows (identity/backends/resource_options.py); anything else is a 400. */
export const USER_OPTIONS = new Set([
  "ignore_change_password_upon_first_use",
  "ignore_password_expiry",
  "ignore_lockout_failure_attempts",
  "lock_password",
  "multi_factor_auth_enabled",
  "multi_factor_auth_rules",
  "ignore_user_inactivity",
]);

function extras(input: Record<string, unknown>, known: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (!known.has(k)) out[k] = v;
  return out;
}

/** Keystone's generic 401: which check failed is not the caller's business. */
const AUTH_FAILED = "The request you have made requires authentication.";

export interface UserFilter {
  name?: string;
  domainId?: string;
  enabled?: boolean;
  ids?: readonly string[];
  /** ?password_expires_at=[op:]timestamp, already parsed. */
  passwordExpires?: { op: ExpiryOp; at: Date };
  /**
   * ?idp_id / ?protocol_id / ?unique_id: Keystone then lists federated (shadow) users only.
   * This cloud has no identity providers, hence no federated users: such a list is empty.
   */
  federated?: boolean;
}

export type ExpiryOp = "lt" | "lte" | "gt" | "gte" | "eq" | "neq";
const EXPIRY_OPS: readonly ExpiryOp[] = ["lt", "lte", "gt", "gte", "eq", "neq"];

/**
 * Parse Keystone's password_expires_at filter: `lt:2016-11-06T15:32:17Z`, or a bare timestamp
 * for eq. The operator is recognised, as Keystone does, by a ':' in the third or fourth place.
 */
export function parseExpiryFilter(spec: string): { op: ExpiryOp; at: Date } {
  let op = "eq";
  let ts = spec;
  if (spec.slice(2, 4).includes(":")) {
    const i = spec.indexOf(":");
    op = spec.slice(0, i);
    ts = spec.slice(i + 1);
  }
  // ISO 8601 date-time as oslo's parse_isotime reads it; a trailing Z or offset is optional.
  const m = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(ts);
  const at = m ? new Date(m[1] || ts.length <= 10 ? ts : `${ts}Z`) : new Date(NaN);
  if (Number.isNaN(at.getTime())) {
    throw new BadRequest(
      "Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
    );
  }
  if (!(EXPIRY_OPS as readonly string[]).includes(op)) {
    throw new BadRequest(`The given operator ${op} is not valid. It must be one of the following: 'eq', 'neq', 'lt', 'lte', 'gt', or 'gte'.`);
  }
  return { op: op as ExpiryOp, at };
}

function compareExpiry(value: string | null, f: { op: ExpiryOp; at: Date }): boolean {
  // SQL comparison with NULL is never true, whatever the operator.
  if (value === null) return false;
  const v = Date.parse(value);
  const t = f.at.getTime();
  switch (f.op) {
    case "lt":
      return v < t;
    case "lte":
      return v <= t;
    case "gt":
      return v > t;
    case "gte":
      return v >= t;
    case "neq":
      return v !== t;
    default:
      return v === t;
  }
}

/** Keystone stores day-based expiry without microseconds. */
function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

export class UserManager {
  constructor(private readonly core: IdentityCore) {}

  private get cfg() {
    return this.core.config.identity;
  }

  async hash(password: string): Promise<string> {
    return bcrypt.hash(password, this.cfg.bcryptRounds);
  }

  private async activePassword(q: Q, userId: string): Promise<PasswordRow | undefined> {
    return q
      .selectFrom("password")
      .selectAll()
      .where("user_id", "=", userId)
      .where("active", "=", 1)
      .orderBy("created_at", "desc")
      .executeTakeFirst();
  }

  /**
   * Keystone's User.enabled: a stored-enabled user who has not authenticated for
   * disable_user_account_days_inactive days (counted from creation when never) reads as
   * disabled, unless the ignore_user_inactivity option is set.
   */
  isEnabled(row: UserRow, now: Date = this.core.now()): boolean {
    if (row.enabled !== 1) return false;
    return !this.isInactive(row, now);
  }

  private isInactive(row: UserRow, now: Date): boolean {
    const maxDays = this.cfg.disableUserAccountDaysInactive;
    if (!maxDays || maxDays <= 0) return false;
    if (json(row.options)["ignore_user_inactivity"] === true) return false;
    const last = row.last_active_at ?? row.created_at.slice(0, 10);
    const lastDay = Date.parse(`${last.slice(0, 10)}T00:00:00Z`);
    const today = Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
    if (Number.isNaN(lastDay)) return false;
    return (today - lastDay) / 86400_000 >= maxDays;
  }

  private present(row: UserRow, expires: string | null, now: Date): UserRecord {
    return { ...row, enabled: this.isEnabled(row, now) ? 1 : 0, password_expires_at: expires };
  }

  private async record(q: Q, row: UserRow): Promise<UserRecord> {
    const pw = await this.activePassword(q, row.id);
    return this.present(row, pw?.expires_at ?? null, this.core.now());
  }

  async findUser(id: string, q: Q = this.core.db): Promise<UserRow | undefined> {
    return q.selectFrom("user").selectAll().where("id", "=", id).executeTakeFirst();
  }

  async getUser(id: string, q: Q = this.core.db): Promise<UserRecord> {
    const row = await this.findUser(id, q);
    if (!row) throw new NotFound(`Could not find user: ${id}.`);
    return this.record(q, row);
  }

  async findUserByName(name: string, domainId: string): Promise<UserRow | undefined> {
    return this.core.db
      .selectFrom("user")
      .selectAll()
      .where("name", "=", name)
      .where("domain_id", "=", domainId)
      .executeTakeFirst();
  }

  async listUsers(f: UserFilter): Promise<UserRecord[]> {
    if (f.federated) return [];
    let s = this.core.db.selectFrom("user").selectAll();
    if (f.name !== undefined) s = s.where("name", "=", f.name);
    if (f.domainId !== undefined) s = s.where("domain_id", "=", f.domainId);
    if (f.enabled !== undefined) s = s.where("enabled", "=", f.enabled ? 1 : 0);
    if (f.ids !== undefined) {
      if (f.ids.length === 0) return [];
      s = s.where("id", "in", f.ids);
    }
    const rows = await s.orderBy("name").orderBy("id").execute();
    const exp = new Map<string, string | null>();
    // Chunked so a large user list stays under SQLite's bound-parameter limit.
    for (let i = 0; i < rows.length; i += 500) {
      const ids = rows.slice(i, i + 500).map((r) => r.id);
      const pws = await this.core.db
        .selectFrom("password")
        .select(["user_id", "expires_at"])
        .where("active", "=", 1)
        .where("user_id", "in", ids)
        .execute();
      for (const p of pws) exp.set(p.user_id, p.expires_at);
    }
    const now = this.core.now();
    let out = rows.map((r) => this.present(r, exp.get(r.id) ?? null, now));
    if (f.passwordExpires) {
      const pf = f.passwordExpires;
      out = out.filter((u) => compareExpiry(u.password_expires_at, pf));
    }
    return out;
  }

  /** When a password set now expires: password_expires_days later, unless exempt. */
  private passwordExpiry(now: Date, options: Record<string, unknown>): string | null {
    const days = this.cfg.passwordExpiresDays;
    if (!days || days <= 0 || options["ignore_password_expiry"] === true) return null;
    return wholeSeconds(new Date(now.getTime() + days * 86400_000)).toISOString();
  }

  /** change_password_upon_first_use: a password an admin sets is born expired. */
  private mustChangeOnFirstUse(options: Record<string, unknown>): boolean {
    return this.cfg.changePasswordUponFirstUse && options["ignore_change_password_upon_first_use"] !== true;
  }

  /** keystone.common.validation.validators.validate_password: password_regex, matched at the start. */
  validatePasswordRules(password: string): void {
    const pattern = this.cfg.passwordRegex;
    if (!pattern) return;
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${pattern})`, "u");
    } catch {
      throw new BadRequest("Password validation error: Unable to validate password due to invalid configuration.");
    }
    if (!re.test(password)) {
      throw new BadRequest(`The password does not match the requirements: ${this.cfg.passwordRegexDescription ?? "None"}.`);
    }
  }

  checkOptions(options: Record<string, unknown> | undefined): void {
    for (const [k, v] of Object.entries(options ?? {})) {
      if (!USER_OPTIONS.has(k)) {
        throw new BadRequest(`Invalid input for field 'options': Additional properties are not allowed ('${k}' was unexpected)`);
      }
      if (v === null) continue;
      if (k === "multi_factor_auth_rules") validateMfaRules(v);
      else if (typeof v !== "boolean") throw new BadRequest(`Invalid input for field 'options/${k}': ${JSON.stringify(v)} is not of type 'boolean'`);
    }
  }

  /**
   * `federated` links a user to identity providers (the schema checked its shape). Keystone
   * looks every idp_id up and answers 400 for an unknown one; no identity provider exists
   * here, so any non-empty list names an unknown one. An empty list is ignored, as there.
   */
  private checkFederated(fed: unknown): void {
    if (!Array.isArray(fed) || fed.length === 0) return;
    const first = fed[0] as { idp_id?: unknown };
    throw new BadRequest(`Could not find Identity Provider: ${String(first.idp_id)}`);
  }

  async createUser(input: UserInput): Promise<UserRecord> {
    this.checkOptions(input.options);
    if (typeof input.password === "string") this.validatePasswordRules(input.password);
    this.checkFederated(input["federated"]);
    const id = hexId();
    const now = this.core.now();
    // Null options are "unset", and there is nothing to unset yet.
    const options = Object.fromEntries(Object.entries(input.options ?? {}).filter(([, v]) => v !== null));
    const row: UserRow = {
      id,
      name: input.name!.trim(),
      domain_id: input.domain_id!,
      enabled: input.enabled === false ? 0 : 1,
      default_project_id: input.default_project_id ?? null,
      description: input.description ?? null,
      extra: JSON.stringify(extras(input, USER_KNOWN)),
      options: JSON.stringify(options),
      created_at: now.toISOString(),
      // Keystone's enabled setter starts the inactivity clock when that rule is on.
      last_active_at: input.enabled !== false && this.cfg.disableUserAccountDaysInactive > 0 ? now.toISOString().slice(0, 10) : null,
      failed_auth_count: 0,
      failed_auth_at: null,
    };
    let pw: PasswordRow | undefined;
    if (typeof input.password === "string") {
      pw = {
        id: hexId(),
        user_id: id,
        hash: await this.hash(input.password),
        created_at: now.toISOString(),
        expires_at: this.mustChangeOnFirstUse(options) ? now.toISOString() : this.passwordExpiry(now, options),
        self_service: 0,
        active: 1,
      };
    }
    try {
      await this.core.write(async (trx) => {
        await trx.insertInto("user").values(row).execute();
        if (pw) await trx.insertInto("password").values(pw).execute();
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new Conflict(
          `Conflict occurred attempting to store user - Duplicate entry found with name ${row.name} at domain ID ${row.domain_id}.`,
        );
      }
      throw e;
    }
    return this.getUser(id);
  }

  /**
   * PATCH /v3/users/{id}. An admin setting a password skips the history and minimum-age
   * rules (those guard self-service changes only); disabling the user or setting a password
   * revokes every token the user holds.
   */
  async updateUser(id: string, input: UserInput): Promise<UserRecord> {
    const cur = await this.getUser(id);
    if (input.domain_id !== undefined && input.domain_id !== cur.domain_id) {
      throw new BadRequest("Cannot change Domain ID");
    }
    if (typeof input.password === "string") this.validatePasswordRules(input.password);
    if (input.id !== undefined && input.id !== null && input.id !== id) throw new BadRequest("Cannot change user ID");
    this.checkOptions(input.options);
    this.checkFederated(input["federated"]);
    const patch: Partial<UserRow> = {};
    if (input.name !== undefined) patch.name = input.name.trim();
    if (input.enabled !== undefined) patch.enabled = input.enabled ? 1 : 0;
    if (input.default_project_id !== undefined) patch.default_project_id = input.default_project_id;
    if (input.description !== undefined) patch.description = input.description;
    // JSON merges are computed again from the row as locked inside the write (below).
    const mergeJson = (row: UserRow): Record<string, unknown> => {
      const opts = { ...json(row.options), ...(input.options ?? {}) };
      for (const [k, v] of Object.entries(opts)) if (v === null) delete opts[k];
      if (input.options !== undefined) patch.options = JSON.stringify(opts);
      const extra = extras(input, USER_KNOWN);
      if (Object.keys(extra).length > 0) patch.extra = JSON.stringify({ ...json(row.extra), ...extra });
      return opts;
    };
    let options = mergeJson(cur);
    const now = this.core.now();
    if (input.enabled === true) {
      // Re-enabling clears a lockout and restarts the inactivity clock, as Keystone's setter does.
      patch.failed_auth_count = 0;
      patch.failed_auth_at = null;
      if (this.cfg.disableUserAccountDaysInactive > 0) patch.last_active_at = now.toISOString().slice(0, 10);
    }
    let newHash: string | null | undefined;
    if (typeof input.password === "string") newHash = await this.hash(input.password);
    else if (input.password === null) newHash = null;
    try {
      await this.core.write(async (trx) => {
        const locked = await this.core.lockedRow(trx, "user", id);
        if (!locked) throw new NotFound(`Could not find user: ${id}.`);
        options = mergeJson(locked);
        if (Object.keys(patch).length > 0) await trx.updateTable("user").set(patch).where("id", "=", id).execute();
        if (typeof newHash === "string") {
          const expires = this.mustChangeOnFirstUse(options) ? now.toISOString() : this.passwordExpiry(now, options);
          await this.storePassword(trx, id, newHash, now, false, expires);
        } else if (newHash === null) {
          // A null password leaves the user with no password to authenticate with.
          await trx.updateTable("password").set({ active: 0 }).where("user_id", "=", id).execute();
        }
        if (input.enabled === false && cur.enabled === 1) await this.core.cascade(trx, "user-disabled", id);
        if ((input.enabled === false && cur.enabled === 1) || typeof newHash === "string") {
          await revoke(trx, { user_id: id }, now);
        }
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new Conflict(
          // handle_conflicts names what the update body held: the domain only when it was sent.
          `Conflict occurred attempting to store user - Duplicate entry found with name ${String(patch.name)}${input.domain_id !== undefined ? ` at domain ID ${input.domain_id}` : ""}.`,
        );
      }
      throw e;
    }
    return this.getUser(id);
  }

  /** Deactivate the current password and store a new one, keeping history for reuse checks. */
  private async storePassword(
    q: Q,
    userId: string,
    hash: string,
    now: Date,
    selfService: boolean,
    expiresAt: string | null,
  ): Promise<void> {
    await q.updateTable("password").set({ active: 0 }).where("user_id", "=", userId).execute();
    // History is ordered by created_at, so two changes within one clock tick must still sort.
    const last = await q.selectFrom("password").select("created_at").where("user_id", "=", userId).orderBy("created_at", "desc").executeTakeFirst();
    const createdAt = last && Date.parse(last.created_at) >= now.getTime() ? new Date(Date.parse(last.created_at) + 1) : now;
    await q
      .insertInto("password")
      .values({ id: hexId(), user_id: userId, hash, created_at: createdAt.toISOString(), expires_at: expiresAt, self_service: selfService ? 1 : 0, active: 1 })
      .execute();
    // Keystone keeps the current password plus unique_last_password_count of history.
    const keep = Math.max(1, this.cfg.uniqueLastPasswordCount) + 1;
    const old = await q
      .selectFrom("password")
      .select("id")
      .where("user_id", "=", userId)
      .orderBy("active", "desc")
      .orderBy("created_at", "desc")
      .offset(keep)
      .limit(1000)
      .execute();
    if (old.length > 0) {
      await q
        .deleteFrom("password")
        .where(
          "id",
          "in",
          old.map((o) => o.id),
        )
        .execute();
    }
  }

  /**
   * Self-service password change (POST /v3/users/{id}/password), in Keystone's order: the
   * original password must authenticate (an expired one still may), then the new one must meet
   * password_regex, the lock_password option, the minimum age of a self-set password and the
   * unique_last_password_count history.
   */
  async changePassword(id: string, original: string, password: string): Promise<void> {
    const user = await this.findUser(id);
    if (!user) throw new Unauthorized(AUTH_FAILED);
    await this.checkPassword(user, original, { allowExpired: true, selfService: true });
    this.validatePasswordRules(password);
    const options = json(user.options);
    if (options["lock_password"] === true) {
      throw new BadRequest(
        "You cannot change your password at this time due to password policy disallowing password changes. Please contact your administrator to reset your password.",
      );
    }
    const now = this.core.now();
    const cur = await this.activePassword(this.core.db, id);
    const minDays = this.cfg.minimumPasswordAge;
    if (cur && cur.self_service === 1 && minDays > 0) {
      const until = new Date(cur.created_at).getTime() + minDays * 86400_000;
      if (now.getTime() < until) {
        const daysLeft = Math.floor((until - now.getTime()) / 86400_000);
        throw new BadRequest(
          `You cannot change your password at this time due to the minimum password age. Once you change your password, it must be used for ${minDays} day(s) before it can be changed. Please try again in ${daysLeft} day(s) or contact your administrator to reset your password.`,
        );
      }
    }
    const unique = this.cfg.uniqueLastPasswordCount;
    if (unique > 0) {
      const history = await this.core.db
        .selectFrom("password")
        .select("hash")
        .where("user_id", "=", id)
        .orderBy("active", "desc")
        .orderBy("created_at", "desc")
        .limit(unique)
        .execute();
      for (const h of history) {
        if (await bcrypt.compare(password, h.hash)) {
          throw new BadRequest(
            `The new password cannot be identical to a previous password. The total number which includes the new password must be unique is ${unique}.`,
          );
        }
      }
    }
    const hash = await this.hash(password);
    await this.core.write(async (trx) => {
      await this.storePassword(trx, id, hash, now, true, this.passwordExpiry(now, options));
      await revoke(trx, { user_id: id }, now);
    });
  }

  private expired(pw: PasswordRow, now: Date): boolean {
    return pw.expires_at !== null && new Date(pw.expires_at).getTime() <= now.getTime();
  }

  /**
   * Keystone's lockout test (identity/backends/sql.py _is_account_locked): locked once
   * lockout_failure_attempts failures are recorded, for lockout_duration seconds after the
   * last one (for good when no duration is set). An expired lock clears the count.
   */
  private async isLocked(user: UserRow, options: Record<string, unknown>, now: Date): Promise<boolean> {
    if (options["ignore_lockout_failure_attempts"] === true) return false;
    const max = this.cfg.lockoutFailureAttempts;
    if (!max || max <= 0 || user.failed_auth_count < max) return false;
    const duration = this.cfg.lockoutDuration;
    if (!duration || duration <= 0) return true;
    const last = user.failed_auth_at ? new Date(user.failed_auth_at).getTime() : 0;
    if (last + duration * 1000 > now.getTime()) return true;
    await this.core.db.updateTable("user").set({ failed_auth_count: 0, failed_auth_at: null }).where("id", "=", user.id).execute();
    return false;
  }

  /**
   * Verify a user's password as Keystone's identity driver does: lockout, the hash (a miss
   * is counted towards lockout), the enabled flag, then expiry. `selfService` is the password
   * change path, which reports a disabled account by name and lets an expired password through
   * when `allowExpired`; the auth path (whose caller already refused stored-disabled users)
   * treats an inactive account as any other failure.
   */
  async checkPassword(user: UserRow, password: string, opts: { allowExpired?: boolean; selfService?: boolean } = {}): Promise<void> {
    const now = this.core.now();
    const options = json(user.options);
    if (!opts.selfService && !this.isEnabled(user, now)) throw new Unauthorized(AUTH_FAILED);
    if (await this.isLocked(user, options, now)) {
      // Keystone hides the reason (AccountLocked is a security error): the generic 401.
      throw new Unauthorized();
    }
    const pw = await this.activePassword(this.core.db, user.id);
    const ok = pw !== undefined && (await bcrypt.compare(password, pw.hash));
    if (!ok) {
      await this.core.db
        .updateTable("user")
        .set((eb) => ({ failed_auth_count: eb("failed_auth_count", "+", 1), failed_auth_at: now.toISOString() }))
        .where("id", "=", user.id)
        .execute();
      throw new Unauthorized(AUTH_FAILED);
    }
    if (!this.isEnabled(user, now)) throw new Unauthorized(`The account is disabled for user: ${user.id}.`);
    if (!opts.allowExpired && this.expired(pw, now) && options["ignore_password_expiry"] !== true) {
      throw new Unauthorized(`The password is expired and needs to be changed for user: ${user.id}.`);
    }
    if (user.failed_auth_count > 0) {
      await this.core.db.updateTable("user").set({ failed_auth_count: 0, failed_auth_at: null }).where("id", "=", user.id).execute();
    }
  }

  /** Token validation refuses users that have gone inactive since the token was issued. */
  async assertActive(q: Q, userId: string): Promise<void> {
    if (this.cfg.disableUserAccountDaysInactive <= 0) return;
    const row = await this.findUser(userId, q);
    if (row && this.isInactive(row, this.core.now())) throw new NotFound("Could not find token.");
  }

  async deleteUser(id: string): Promise<void> {
    await this.getUser(id);
    await this.core.write(async (trx) => {
      if (!(await this.core.lockedRow(trx, "user", id))) throw new NotFound(`Could not find user: ${id}.`);
      await this.core.cascade(trx, "user", id);
      await trx.deleteFrom("assignment").where("actor_id", "=", id).execute();
      await trx.deleteFrom("user").where("id", "=", id).execute();
      await revoke(trx, { user_id: id }, this.core.now());
    });
  }

  // ---- groups -----------------------------------------------------------------------------

  async getGroup(id: string, q: Q = this.core.db): Promise<GroupRow> {
    const row = await q.selectFrom("group").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw new NotFound(`Could not find group: ${id}.`);
    return row;
  }

  async findGroupByName(name: string, domainId: string): Promise<GroupRow | undefined> {
    return this.core.db.selectFrom("group").selectAll().where("name", "=", name).where("domain_id", "=", domainId).executeTakeFirst();
  }

  async listGroups(f: { name?: string; domainId?: string; ids?: readonly string[] }): Promise<GroupRow[]> {
    let s = this.core.db.selectFrom("group").selectAll();
    if (f.name !== undefined) s = s.where("name", "=", f.name);
    if (f.domainId !== undefined) s = s.where("domain_id", "=", f.domainId);
    if (f.ids !== undefined) {
      if (f.ids.length === 0) return [];
      s = s.where("id", "in", f.ids);
    }
    return s.orderBy("name").orderBy("id").execute();
  }

  async createGroup(input: { name: string; domain_id: string; description?: string | null; [k: string]: unknown }): Promise<GroupRow> {
    const row: GroupRow = {
      id: hexId(),
      // Keystone strips the name and defaults the description to "" (identity/core.py).
      name: input.name.trim(),
      domain_id: input.domain_id,
      description: input.description === undefined ? "" : input.description,
      extra: JSON.stringify(extras(input, new Set(["id", "name", "domain_id", "description", "links"]))),
    };
    try {
      await this.core.write((trx) => trx.insertInto("group").values(row).execute());
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new Conflict(
          `Conflict occurred attempting to store group - Duplicate entry found with name ${row.name} at domain ID ${row.domain_id}.`,
        );
      }
      throw e;
    }
    return row;
  }

  async updateGroup(id: string, input: { name?: string; description?: string | null; domain_id?: string; [k: string]: unknown }): Promise<GroupRow> {
    const cur = await this.getGroup(id);
    if (input.domain_id !== undefined && input.domain_id !== cur.domain_id) {
      throw new BadRequest("Cannot change Domain ID");
    }
    const patch: Partial<GroupRow> = {};
    if (input.name !== undefined) patch.name = input.name.trim();
    if (input.description !== undefined) patch.description = input.description;
    const extra = extras(input, new Set(["id", "name", "domain_id", "description", "links"]));
    if (Object.keys(extra).length > 0) patch.extra = JSON.stringify({ ...json(cur.extra), ...extra });
    try {
      if (Object.keys(patch).length > 0) {
        await this.core.write((trx) => trx.updateTable("group").set(patch).where("id", "=", id).execute());
      }
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new Conflict(
          `Conflict occurred attempting to store group - Duplicate entry found with name ${String(input.name)} at domain ID ${cur.domain_id}.`,
        );
      }
      throw e;
    }
    return this.getGroup(id);
  }

  async deleteGroup(id: string): Promise<void> {
    await this.getGroup(id);
    await this.core.write(async (trx) => {
      if (!(await this.core.lockedRow(trx, "group", id))) throw new NotFound(`Could not find group: ${id}.`);
      const members = await trx.selectFrom("user_group_membership").select("user_id").where("group_id", "=", id).execute();
      await this.core.cascade(trx, "group", id);
      await trx.deleteFrom("assignment").where("actor_id", "=", id).execute();
      await trx.deleteFrom("group").where("id", "=", id).execute();
      // Members lose whatever the group gave them.
      for (const m of members) await revoke(trx, { user_id: m.user_id }, this.core.now());
    });
  }

  async addMember(groupId: string, userId: string): Promise<void> {
    await this.getGroup(groupId);
    await this.getUser(userId);
    try {
      await this.core.write((trx) => trx.insertInto("user_group_membership").values({ group_id: groupId, user_id: userId }).execute());
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
  }

  /**
   * Keystone's driver looks the membership up first and only checks the group and the user
   * (for their 404s) when it is missing; removal revokes the member's tokens.
   */
  async removeMember(groupId: string, userId: string): Promise<void> {
    await this.core.write(async (trx) => {
      const r = await trx
        .deleteFrom("user_group_membership")
        .where("group_id", "=", groupId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) {
        await this.getGroup(groupId, trx);
        await this.getUser(userId, trx);
        throw new NotFound(`User '${userId}' not found in group '${groupId}'`);
      }
      await revoke(trx, { user_id: userId }, this.core.now());
    });
  }

  async isMember(groupId: string, userId: string): Promise<boolean> {
    await this.getGroup(groupId);
    await this.getUser(userId);
    const r = await this.core.db
      .selectFrom("user_group_membership")
      .select("user_id")
      .where("group_id", "=", groupId)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return r !== undefined;
  }

  /** GET /v3/groups/{id}/users: the members, filtered as /v3/users filters. */
  async listUsersInGroup(groupId: string, f: Omit<UserFilter, "ids"> = {}): Promise<UserRecord[]> {
    await this.getGroup(groupId);
    return this.listUsers({ ...f, ids: await this.memberIdsOf(groupId) });
  }

  async groupIdsOf(userId: string, q: Q = this.core.db): Promise<string[]> {
    const rows = await q.selectFrom("user_group_membership").select("group_id").where("user_id", "=", userId).execute();
    return rows.map((r) => r.group_id);
  }

  async memberIdsOf(groupId: string): Promise<string[]> {
    const rows = await this.core.db.selectFrom("user_group_membership").select("user_id").where("group_id", "=", groupId).execute();
    return rows.map((r) => r.user_id);
  }

  /** A successful authentication restarts the inactivity clock (shadow_users set_last_active_at). */
  async recordActivity(userId: string): Promise<void> {
    if (this.cfg.disableUserAccountDaysInactive <= 0) return;
    const today = this.core.now().toISOString().slice(0, 10);
    await this.core.db.updateTable("user").set({ last_active_at: today }).where("id", "=", userId).execute();
  }
}

/**
 * multi_factor_auth_rules: a list of non-empty lists of method names, no list repeated and no
 * name repeated within a list (keystone's _mfa_rules_validator_list_of_lists_of_strings_no_duplicates).
 */
function validateMfaRules(v: unknown): void {
  const bad = (): BadRequest =>
    new BadRequest(
      "Invalid input for field 'options/multi_factor_auth_rules': Invalid data type, must be a list of lists comprised of strings. Sub-lists may not be duplicated. Strings in sub-lists may not be duplicated.",
    );
  if (!Array.isArray(v)) throw bad();
  const seen = new Set<string>();
  for (const sub of v) {
    if (!Array.isArray(sub) || sub.length === 0) throw bad();
    if (!sub.every((s) => typeof s === "string")) throw bad();
    if (new Set(sub).size !== sub.length) throw bad();
    const key = JSON.stringify(sub);
    if (seen.has(key)) throw bad();
    seen.add(key);
  }
}
