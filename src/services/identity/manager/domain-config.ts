import { BadRequest, Forbidden, NotFound } from "../../../common/errors.js";
import type { IdentityCore } from "../core.js";
import * as store from "../store/domain-config.js";
import type { DomainConfigRow } from "../store/tables.js";
import { DEFAULT_DOMAIN_ID } from "../store/tables.js";

export type ConfigValue = unknown;
/** {group: {option: value}} */
export type DomainConfig = Record<string, Record<string, ConfigValue>>;

/**
 * The options Keystone lets a domain override (resource/core.py DomainConfigManager
 * whitelisted_options), each with the value Keystone's own configuration defaults to, which is
 * what the /domains/config/.../default routes report. Stackbox never runs a per-domain identity
 * driver: a domain's config is stored and served, as the API promises, and nothing more.
 */
const LDAP_DEFAULTS: Record<string, ConfigValue> = {
  url: "ldap://localhost",
  user: null,
  suffix: "cn=example,cn=com",
  query_scope: "one",
  page_size: 0,
  alias_dereferencing: "default",
  debug_level: null,
  chase_referrals: null,
  user_tree_dn: null,
  user_filter: null,
  user_objectclass: "inetOrgPerson",
  user_id_attribute: "cn",
  user_name_attribute: "sn",
  user_mail_attribute: "mail",
  user_description_attribute: "description",
  user_pass_attribute: "userPassword",
  user_enabled_attribute: "enabled",
  user_enabled_invert: false,
  user_enabled_mask: 0,
  user_enabled_default: "True",
  user_attribute_ignore: ["default_project_id"],
  user_default_project_id_attribute: null,
  user_enabled_emulation: false,
  user_enabled_emulation_dn: null,
  user_enabled_emulation_use_group_config: false,
  user_additional_attribute_mapping: [],
  group_tree_dn: null,
  group_filter: null,
  group_objectclass: "groupOfNames",
  group_id_attribute: "cn",
  group_name_attribute: "ou",
  group_members_are_ids: false,
  group_member_attribute: "member",
  group_desc_attribute: "description",
  group_attribute_ignore: [],
  group_additional_attribute_mapping: [],
  tls_cacertfile: null,
  tls_cacertdir: null,
  use_tls: false,
  tls_req_cert: "demand",
  use_pool: true,
  pool_size: 10,
  pool_retry_max: 3,
  pool_retry_delay: 0.1,
  pool_connection_timeout: -1,
  pool_connection_lifetime: 600,
  use_auth_pool: true,
  auth_pool_size: 100,
  auth_pool_connection_lifetime: 60,
};

const WHITELISTED: Record<string, readonly string[]> = {
  identity: ["driver", "list_limit"],
  ldap: Object.keys(LDAP_DEFAULTS),
};
/** Stored like the others but never returned by the API (keystone's sensitive_config). */
const SENSITIVE: Record<string, readonly string[]> = {
  identity: [],
  ldap: ["password"],
};

/** The only security_compliance options anyone may read through the domain config API. */
const READABLE_COMPLIANCE = ["password_regex", "password_regex_description"] as const;

/** keystone.exception.InvalidDomainConfig: a 403 whose reason is shown. */
function invalid(reason: string): Forbidden {
  return new Forbidden(`Invalid domain specific configuration: ${reason}.`);
}

/** keystone.exception.DomainConfigNotFound. */
function notFound(domainId: string, group?: string, option?: string): NotFound {
  const what = option !== undefined ? `option ${option} in group ${group!}` : group !== undefined ? `group ${group}` : "any options";
  return new NotFound(`Could not find ${what} in domain configuration for domain ${domainId}.`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export class DomainConfigManager {
  constructor(private readonly core: IdentityCore) {}

  private assertGroupOption(group?: string, option?: string): void {
    if (group === undefined) return;
    if (!(group in WHITELISTED)) {
      throw invalid(`Group ${group} is not supported for domain specific configurations`);
    }
    if (option !== undefined && !WHITELISTED[group]!.includes(option) && !SENSITIVE[group]!.includes(option)) {
      throw invalid(`Option ${option} in group ${group} is not supported for domain specific configurations`);
    }
  }

  /** Keystone's _assert_valid_config: something to store, every group a non-empty object. */
  private assertConfig(config: unknown): asserts config is Record<string, Record<string, unknown>> {
    if (config === undefined || config === null || config === false || config === "" || config === 0) {
      throw invalid("No options specified");
    }
    if (!isObject(config)) throw new BadRequest("Invalid input for field 'config': the config must be an object.");
    if (Object.keys(config).length === 0) throw invalid("No options specified");
    for (const [group, options] of Object.entries(config)) {
      if (!isObject(options) || Object.keys(options).length === 0) {
        throw invalid(`The value of group ${group} specified in the config should be a dictionary of options`);
      }
      for (const option of Object.keys(options)) this.assertGroupOption(group, option);
    }
  }

  private rows(domainId: string, config: Record<string, Record<string, unknown>>): DomainConfigRow[] {
    const out: DomainConfigRow[] = [];
    for (const [group, options] of Object.entries(config)) {
      for (const [option, value] of Object.entries(options)) {
        out.push({
          domain_id: domainId,
          group,
          option,
          value: JSON.stringify(value ?? null),
          sensitive: SENSITIVE[group]?.includes(option) ? 1 : 0,
        });
      }
    }
    return out;
  }

  private static toConfig(rows: readonly DomainConfigRow[]): DomainConfig {
    const out: DomainConfig = {};
    for (const r of rows) (out[r.group] ??= {})[r.option] = JSON.parse(r.value) as ConfigValue;
    return out;
  }

  /** The whole stored config, sensitive options included (never sent to a client). */
  private async withSensitive(domainId: string, group?: string, option?: string): Promise<DomainConfig> {
    return DomainConfigManager.toConfig(await store.listOptions(this.core.db, domainId, { group, option }));
  }

  /** GET /v3/domains/{id}/config[/{group}[/{option}]]: whitelisted options only. */
  async getConfig(domainId: string, group?: string, option?: string): Promise<Record<string, unknown>> {
    this.assertGroupOption(group, option);
    const rows = await store.listOptions(this.core.db, domainId, { group, option, sensitive: false });
    if (rows.length === 0) throw notFound(domainId, group, option);
    if (option !== undefined) return { [option]: JSON.parse(rows[0]!.value) as ConfigValue };
    return DomainConfigManager.toConfig(rows);
  }

  /**
   * PUT /v3/domains/{id}/config: replace the whole config. `created` is false when the domain
   * already had one (Keystone then answers 200 instead of 201).
   */
  async createConfig(domainId: string, config: unknown): Promise<{ config: DomainConfig; created: boolean }> {
    this.assertConfig(config);
    const rows = this.rows(domainId, config);
    const created = await this.core.write(async (trx) => {
      const before = await store.listOptions(trx, domainId);
      await store.deleteOptions(trx, domainId);
      await store.insertOptions(trx, rows);
      return before.length === 0;
    });
    return { config: DomainConfigManager.toConfig(rows.filter((r) => r.sensitive === 0)), created };
  }

  /**
   * PATCH /v3/domains/{id}/config[/{group}[/{option}]]: merge into the stored config. A group
   * or option update must name only that group or option, and it must already exist.
   * Answers with the whole (whitelisted) config, as Keystone does.
   */
  async updateConfig(domainId: string, body: unknown, group?: string, option?: string): Promise<Record<string, unknown>> {
    const config: unknown = group !== undefined && option !== undefined ? { [group]: body } : body;
    this.assertConfig(config);
    this.assertGroupOption(group, option);
    if (group !== undefined) {
      const keys = Object.keys(config);
      if (keys.length !== 1 || (option !== undefined && Object.keys(config[group] ?? {}).length !== 1)) {
        throw invalid(
          option !== undefined
            ? `Trying to update option ${option} in group ${group}, so that, and only that, option must be specified  in the config`
            : `Trying to update group ${group}, so that, and only that, group must be specified in the config`,
        );
      }
      if (!(group in config)) {
        throw invalid(`request to update group ${group}, but config provided contains group ${keys[0]!} instead`);
      }
      if (option !== undefined && !(option in config[group]!)) {
        throw invalid(
          `Trying to update option ${option} in group ${group}, but config provided contains option ${Object.keys(config[group]!)[0]!} instead`,
        );
      }
      const existing = await this.withSensitive(domainId, group, option);
      if (Object.keys(existing).length === 0) throw notFound(domainId, group, option);
    }
    const rows = this.rows(domainId, config);
    await this.core.write(async (trx) => {
      for (const r of rows) await store.deleteOptions(trx, domainId, r.group, r.option);
      await store.insertOptions(trx, rows);
    });
    return this.getConfig(domainId);
  }

  /** DELETE /v3/domains/{id}/config[/{group}[/{option}]]. */
  async deleteConfig(domainId: string, group?: string, option?: string): Promise<void> {
    this.assertGroupOption(group, option);
    if (group !== undefined) {
      const current = await this.withSensitive(domainId);
      const g = current[group];
      if (!g || Object.keys(g).length === 0) throw notFound(domainId, group);
      // Keystone tests the stored value's truth, so an option stored as 0, "" or false is
      // "not found" too.
      if (option !== undefined && !truthy(g[option])) throw notFound(domainId, group, option);
    }
    await this.core.write((trx) => store.deleteOptions(trx, domainId, group, option));
  }

  /** Every domain's config goes with the domain. */
  async purge(q: Parameters<typeof store.deleteOptions>[0], domainId: string): Promise<void> {
    await store.deleteOptions(q, domainId);
  }

  /**
   * GET /v3/domains/{default}/config/security_compliance[/{option}]: the password rules a
   * client should show its users, from Stackbox's own configuration.
   */
  securityCompliance(domainId: string, option?: string): Record<string, unknown> {
    if (domainId !== DEFAULT_DOMAIN_ID) {
      throw invalid(
        "Reading security compliance information for any domain other than the default domain is not allowed or supported",
      );
    }
    const cfg = this.core.config.identity;
    const values: Record<(typeof READABLE_COMPLIANCE)[number], string | null> = {
      password_regex: cfg.passwordRegex ?? null,
      password_regex_description: cfg.passwordRegexDescription ?? null,
    };
    if (option !== undefined) {
      if (!(READABLE_COMPLIANCE as readonly string[]).includes(option)) {
        throw invalid("Reading security compliance values other than password_regex and password_regex_description is not allowed");
      }
      return { [option]: values[option as keyof typeof values] };
    }
    return { security_compliance: values };
  }

  /** GET /v3/domains/config[/{group}[/{option}]]/default. */
  defaults(group?: string, option?: string): Record<string, unknown> {
    this.assertGroupOption(group, option);
    const all: DomainConfig = {
      identity: { driver: "sql", list_limit: this.core.config.identity.listLimit > 0 ? this.core.config.identity.listLimit : null },
      ldap: { ...LDAP_DEFAULTS },
    };
    if (group === undefined) return all;
    if (option !== undefined) {
      if (!WHITELISTED[group]!.includes(option)) {
        throw invalid(`Reading the default for option ${option} in group ${group} is not supported`);
      }
      return { [option]: all[group]![option] ?? null };
    }
    return { [group]: all[group]! };
  }
}

/** Python truthiness of a JSON value. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}
