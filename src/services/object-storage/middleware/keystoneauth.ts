import { parseAccountAcl, parseAcl, referrerAllowed } from "../core/acl.js";
import { respond } from "../core/errors.js";
import type { ContainerAcls, Filter, SwiftIdentity, SwiftRequest, SwiftResponse } from "../core/types.js";

export interface KeystoneAuthConfig {
  resellerPrefix: string;
  /** Roles that own their project's account (operator_roles). */
  operatorRoles: readonly string[];
  /** Full access to every account (reseller_admin_role). */
  resellerAdminRole: string;
  /** Read-only access to their project's account (project_reader_roles). */
  projectReaderRoles: readonly string[];
  /** Read-only access to every account (system_reader_roles). */
  systemReaderRoles: readonly string[];
  defaultDomainId: string;
}

/**
 * Swift's keystoneauth: a confirmed identity is checked against the account (operator roles
 * own it, reseller admins own all), the container ACLs and the account ACL; no identity is
 * anonymous and only referrer ACLs can let it in. Middleware that authorizes by other means
 * (temp URLs, form POST) sets env.authorizeOverride and this filter stays out of the way.
 */
export function keystoneAuth(cfg: KeystoneAuthConfig): Filter {
  const operator = new Set(cfg.operatorRoles.map((r) => r.toLowerCase()));
  const projectReader = new Set(cfg.projectReaderRoles.map((r) => r.toLowerCase()));
  const systemReader = new Set(cfg.systemReaderRoles.map((r) => r.toLowerCase()));
  const resellerAdmin = cfg.resellerAdminRole.toLowerCase();

  const denied = (req: SwiftRequest): SwiftResponse => respond(req.identity ? 403 : 401);

  const authorize = (id: SwiftIdentity) => (req: SwiftRequest, acls: ContainerAcls | undefined): SwiftResponse | undefined => {
    req.swiftOwner = false;
    if (req.method === "OPTIONS") return undefined;
    const roles = id.roles;
    if (roles.includes(resellerAdmin)) {
      req.swiftOwner = true;
      return undefined;
    }
    const read = req.method === "GET" || req.method === "HEAD";
    if (read && roles.some((r) => systemReader.has(r))) return undefined;
    if (req.kind === "account" && req.method === "DELETE") return denied(req);

    const aclString = req.kind === "account" ? undefined : read ? acls?.read : acls?.write;
    const { referrers, groups } = parseAcl(aclString);
    if (groups.length > 0) {
      const allowNames = namesAllowed(id, req);
      const tenants = [id.projectId ?? "", "*", ...(allowNames && id.projectName ? [id.projectName] : [])];
      const users = [id.userId, "*", ...(allowNames ? [id.userName] : [])];
      for (const t of tenants) for (const u of users) if (groups.includes(`${t}:${u}`)) return undefined;
    }
    const anon = unconfirmed(req, referrers, groups);
    if (anon === true) return undefined;

    if (req.account !== `${cfg.resellerPrefix}${id.projectId ?? ""}`) {
      return accountAclCheck(req, id) === "allow" ? undefined : denied(req);
    }
    if (roles.some((r) => operator.has(r))) {
      req.swiftOwner = true;
      return undefined;
    }
    if (read && roles.some((r) => projectReader.has(r))) return undefined;
    if (anon === false) return denied(req);
    // A role named in the container ACL is allowed too.
    const lowered = groups.map((g) => g.toLowerCase());
    if (roles.some((r) => lowered.includes(r))) return undefined;
    return accountAclCheck(req, id) === "allow" ? undefined : denied(req);
  };

  /**
   * The account ACL (X-Account-Access-Control) for someone who does not own the account:
   * entries are project ids, "project:user" pairs (ids or, in the default domain, names) or
   * user ids. admin owns the account; read-write may do anything below it; read-only reads.
   */
  const accountAclCheck = (req: SwiftRequest, id: SwiftIdentity): "allow" | "deny" => {
    const acl = parseAccountAcl(req.env["accountAcl"] as string | undefined);
    if (!acl) return "deny";
    const names = [id.projectId ?? "", `${id.projectId ?? ""}:${id.userId}`, id.userId, `${id.projectId ?? ""}:*`, `*:${id.userId}`];
    if (namesAllowed(id, req)) names.push(`${id.projectName ?? ""}:${id.userName}`, id.projectName ?? "", `${id.projectName ?? ""}:*`, `*:${id.userName}`);
    const inList = (l: string[]): boolean => l.some((x) => names.includes(x));
    if (inList(acl.admin)) {
      req.swiftOwner = true;
      return "allow";
    }
    const accountWrite = req.kind === "account" && req.method !== "GET" && req.method !== "HEAD";
    if (inList(acl["read-write"]) && !accountWrite) return "allow";
    if (inList(acl["read-only"]) && (req.method === "GET" || req.method === "HEAD")) return "allow";
    return "deny";
  };

  /**
   * _is_name_allowed_in_acl: names (not ids) match only when the user and the scoped project
   * are in the default domain, and so is the account: its own project's, or one whose
   * recorded project domain (account sysmeta, loaded by the proxy) is the default or unknown
   * from before domains were recorded.
   */
  const namesAllowed = (id: SwiftIdentity, req: SwiftRequest): boolean => {
    if (id.userDomainId && id.userDomainId !== cfg.defaultDomainId) return false;
    if (id.projectDomainId && id.projectDomainId !== cfg.defaultDomainId) return false;
    if (req.account === `${cfg.resellerPrefix}${id.projectId ?? ""}`) return true;
    const domain = req.env["accountDomain"];
    return req.env["accountExists"] === true && (domain === null || domain === cfg.defaultDomainId);
  };

  /** Referrer ACLs (no identity needed): objects, or container listings with .rlistings. */
  const unconfirmed = (req: SwiftRequest, referrers: string[], groups: string[]): boolean | undefined => {
    if (referrerAllowed(req.header("referer"), referrers)) return req.kind === "object" || groups.includes(".rlistings");
    return undefined;
  };

  const authorizeAnonymous = (req: SwiftRequest, acls: ContainerAcls | undefined): SwiftResponse | undefined => {
    if (req.method === "OPTIONS") return undefined;
    if (!req.account.startsWith(cfg.resellerPrefix)) return respond(401);
    const read = req.method === "GET" || req.method === "HEAD";
    const aclString = req.kind === "account" ? undefined : read ? acls?.read : acls?.write;
    const { referrers, groups } = parseAcl(aclString);
    return unconfirmed(req, referrers, groups) === true ? undefined : respond(401);
  };

  return {
    name: "keystoneauth",
    async handle(req, next) {
      if (req.env["authorizeOverride"]) return next(req);
      if (req.identity) {
        req.authorize = authorize(req.identity);
        if (req.identity.roles.includes(resellerAdmin)) req.env["resellerRequest"] = true;
      } else {
        req.authorize = authorizeAnonymous;
      }
      return next(req);
    },
  };
}
