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

/** The user options Keystone knows; anything else is a 400. */
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

export interface UserFilter {
  name?: string;
  domainId?: string;
  enabled?: boolean;
  ids?: readonly string[];
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

  private async record(q: Q, row: UserRow): Promise<UserRecord> {
    const pw = await this.activePassword(q, row.id);
    return { ...row, password_expires_at: pw?.expires_at ?? null };
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
    let s = this.core.db.selectFrom("user").selectAll();
    if (f.name !== undefined) s = s.where("name", "=", f.name);
    if (f.domainId !== undefined) s = s.where("domain_id", "=", f.domainId);
    if (f.enabled !== undefined) s = s.where("enabled", "=", f.enabled ? 1 : 0);
    if (f.ids !== undefined) {
      if (f.ids.length === 0) return [];
      s = s.where("id", "in", f.ids);
    }
    const rows = await s.orderBy("name").orderBy("id").execute();
    const pws = rows.length
      ? await this.core.db
          .selectFrom("password")
          .select(["user_id", "expires_at"])
          .where("active", "=", 1)
          .where(
            "user_id",
            "in",
            rows.map((r) => r.id),
          )
          .execute()
      : [];
    const exp = new Map(pws.map((p) => [p.user_id, p.expires_at]));
    return rows.map((r) => ({ ...r, password_expires_at: exp.get(r.id) ?? null }));
  }

  private passwordExpiry(now: Date, options: Record<string, unknown>): string | null {
    const days = this.cfg.passwordExpiresDays;
    if (!days || options["ignore_password_expiry"] === true) return null;
    return new Date(now.getTime() + days * 86400_000).toISOString();
  }

  validatePasswordRules(password: string): void {
    if (this.cfg.passwordRegex && !new RegExp(this.cfg.passwordRegex).test(password)) {
      throw new BadRequest(
        `Password validation error: The password does not meet the requirements: ${this.cfg.passwordRegexDescription ?? this.cfg.passwordRegex}.`,
      );
    }
  }

  checkOptions(options: Record<string, unknown> | undefined): void {
    for (const k of Object.keys(options ?? {})) {
      if (!USER_OPTIONS.has(k)) throw new BadRequest(`Invalid input for field 'options': '${k}' is not a valid option.`);
    }
  }

  async createUser(input: UserInput): Promise<UserRecord> {
    this.checkOptions(input.options);
    const id = hexId();
    const now = this.core.now();
    const options = input.options ?? {};
    const row: UserRow = {
      id,
      name: input.name!,
      domain_id: input.domain_id!,
      enabled: input.enabled === false ? 0 : 1,
      default_project_id: input.default_project_id ?? null,
      description: input.description ?? null,
      extra: JSON.stringify(extras(input, USER_KNOWN)),
      options: JSON.stringify(options),
      created_at: now.toISOString(),
      last_active_at: null,
      failed_auth_count: 0,
      failed_auth_at: null,
    };
    let pw: PasswordRow | undefined;
    if (typeof input.password === "string") {
      this.validatePasswordRules(input.password);
      pw = {
        id: hexId(),
        user_id: id,
        hash: await this.hash(input.password),
        created_at: now.toISOString(),
        // A user created by an admin must change the password on first use when configured.
        expires_at: this.cfg.changePasswordUponFirstUse && options["ignore_change_password_upon_first_use"] !== true
          ? now.toISOString()
          : this.passwordExpiry(now, options),
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

  async updateUser(id: string, input: UserInput): Promise<UserRecord> {
    const cur = await this.getUser(id);
    if (input.domain_id !== undefined && input.domain_id !== cur.domain_id) {
      throw new BadRequest("Update of `domain_id` is not allowed.");
    }
    this.checkOptions(input.options);
    const patch: Partial<UserRow> = {};
    if (input.name !== undefined) patch.name = input.name;
    if (input.enabled !== undefined) patch.enabled = input.enabled ? 1 : 0;
    if (input.default_project_id !== undefined) patch.default_project_id = input.default_project_id;
    if (input.description !== undefined) patch.description = input.description;
    const options = { ...json(cur.options), ...(input.options ?? {}) };
    for (const [k, v] of Object.entries(options)) if (v === null) delete options[k];
    if (input.options !== undefined) patch.options = JSON.stringify(options);
    const extra = extras(input, USER_KNOWN);
    if (Object.keys(extra).length > 0) patch.extra = JSON.stringify({ ...json(cur.extra), ...extra });
    if (input.enabled === true) {
      patch.failed_auth_count = 0;
      patch.failed_auth_at = null;
    }
    const now = this.core.now();
    let newHash: string | undefined;
    if (typeof input.password === "string") {
      this.validatePasswordRules(input.password);
      newHash = await this.hash(input.password);
    }
    try {
      await this.core.write(async (trx) => {
        if (Object.keys(patch).length > 0) await trx.updateTable("user").set(patch).where("id", "=", id).execute();
        if (newHash !== undefined) {
          await this.storePassword(trx, id, newHash, now, false, options);
        }
        if ((input.enabled === false && cur.enabled === 1) || newHash !== undefined) {
          await revoke(trx, { user_id: id }, now);
        }
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new Conflict(
          `Conflict occurred attempting to store user - Duplicate entry found with name ${String(input.name)} at domain ID ${cur.domain_id}.`,
        );
      }
      throw e;
    }
    return this.getUser(id);
  }

  /** Deactivate the current password and store a new one, keeping history for reuse checks. */
  async storePassword(
    q: Q,
    userId: string,
    hash: string,
    now: Date,
    selfService: boolean,
    options: Record<string, unknown>,
  ): Promise<void> {
    await q.updateTable("password").set({ active: 0 }).where("user_id", "=", userId).execute();
    const expires =
      !selfService && this.cfg.changePasswordUponFirstUse && options["ignore_change_password_upon_first_use"] !== true
        ? now.toISOString()
        : this.passwordExpiry(now, options);
    await q
      .insertInto("password")
      .values({ id: hexId(), user_id: userId, hash, created_at: now.toISOString(), expires_at: expires, self_service: selfService ? 1 : 0, active: 1 })
      .execute();
    // History beyond what unique_last_password_count needs is dropped.
    const keep = Math.max(1, this.cfg.uniqueLastPasswordCount);
    const old = await q
      .selectFrom("password")
      .select("id")
      .where("user_id", "=", userId)
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

  /** Self-service password change (POST /v3/users/{id}/password). */
  async changePassword(id: string, original: string, password: string): Promise<void> {
    const user = await this.findUser(id);
    if (!user) throw new NotFound(`Could not find user: ${id}.`);
    await this.checkPassword(user, original);
    const options = json(user.options);
    if (options["lock_password"] === true) {
      throw new BadRequest("You are not allowed to change your password.");
    }
    const now = this.core.now();
    const cur = await this.activePassword(this.core.db, id);
    if (cur && this.cfg.minimumPasswordAge > 0 && !this.expired(cur, now)) {
      const age = now.getTime() - new Date(cur.created_at).getTime();
      if (age < this.cfg.minimumPasswordAge * 86400_000) {
        throw new BadRequest(
          `Password validation error: You cannot change your password at this time due to the minimum password age. Once you change your password, it must be used for ${this.cfg.minimumPasswordAge} day(s) before it can be changed.`,
        );
      }
    }
    this.validatePasswordRules(password);
    if (this.cfg.uniqueLastPasswordCount > 0) {
      const history = await this.core.db
        .selectFrom("password")
        .select("hash")
        .where("user_id", "=", id)
        .orderBy("created_at", "desc")
        .limit(this.cfg.uniqueLastPasswordCount)
        .execute();
      for (const h of history) {
        if (await bcrypt.compare(password, h.hash)) {
          throw new BadRequest(
            `Password validation error: The new password cannot be identical to a previous password. The total number which includes the new password must be unique is ${this.cfg.uniqueLastPasswordCount}.`,
          );
        }
      }
    }
    const hash = await this.hash(password);
    await this.core.write(async (trx) => {
      await this.storePassword(trx, id, hash, now, true, options);
      await revoke(trx, { user_id: id }, now);
    });
  }

  private expired(pw: PasswordRow, now: Date): boolean {
    return pw.expires_at !== null && new Date(pw.expires_at).getTime() <= now.getTime();
  }

  /**
   * Verify a password as the password auth method does: lockout, expiry, then the hash.
   * Every failure is the same 401 so callers learn nothing about which check failed.
   */
  async checkPassword(user: UserRow, password: string): Promise<void> {
    const now = this.core.now();
    const options = json(user.options);
    const lockout = this.cfg.lockoutFailureAttempts;
    const ignoresLockout = options["ignore_lockout_failure_attempts"] === true;
    if (lockout > 0 && !ignoresLockout && user.failed_auth_count >= lockout && user.failed_auth_at) {
      const until = new Date(user.failed_auth_at).getTime() + this.cfg.lockoutDuration * 1000;
      if (now.getTime() < until) {
        throw new Unauthorized("The account is locked for user: " + user.id + ".");
      }
    }
    const pw = await this.activePassword(this.core.db, user.id);
    const ok = pw !== undefined && (await bcrypt.compare(password, pw.hash));
    if (!ok) {
      if (lockout > 0 && !ignoresLockout) {
        const reset = user.failed_auth_at && now.getTime() - new Date(user.failed_auth_at).getTime() > this.cfg.lockoutDuration * 1000;
        await this.core.db
          .updateTable("user")
          .set((eb) => ({
            failed_auth_count: reset ? 1 : eb("failed_auth_count", "+", 1),
            failed_auth_at: now.toISOString(),
          }))
          .where("id", "=", user.id)
          .execute();
      }
      throw new Unauthorized("The request you have made requires authentication.");
    }
    if (pw && this.expired(pw, now) && options["ignore_password_expiry"] !== true) {
      throw new Unauthorized(
        `The password is expired and needs to be changed for user: ${user.id}.`,
      );
    }
    if (user.failed_auth_count > 0) {
      await this.core.db.updateTable("user").set({ failed_auth_count: 0, failed_auth_at: null }).where("id", "=", user.id).execute();
    }
  }

  async deleteUser(id: string): Promise<void> {
    await this.getUser(id);
    await this.core.write(async (trx) => {
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

  async recordActivity(userId: string): Promise<void> {
    if (this.cfg.disableUserAccountDaysInactive <= 0) return;
    const today = this.core.now().toISOString().slice(0, 10);
    await this.core.db.updateTable("user").set({ last_active_at: today }).where("id", "=", userId).execute();
  }
}
