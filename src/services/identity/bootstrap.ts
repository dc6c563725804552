import { Conflict } from "../../common/errors.js";
import { secret } from "../../common/ids.js";
import { isUniqueViolation } from "../../db/database.js";
import type { Identity } from "./api/deps.js";
import { DEFAULT_DOMAIN_ID } from "./store/tables.js";

export interface BootstrapResult {
  created: boolean;
  adminPassword: string | undefined;
  adminUserId: string;
  adminProjectId: string;
  serviceUserId: string;
  serviceProjectId: string;
}

export interface CatalogService {
  type: string;
  name: string;
  url: string;
}

/**
 * First start: what `keystone-manage bootstrap` makes (Default domain, admin/member/reader
 * with admin → member → reader implied, admin project and user with admin on it and on the
 * system), plus a service project; then the catalog of the services this process serves.
 * Idempotent: a restart only refreshes the catalog URLs.
 */
export async function bootstrap(
  id: Identity,
  opts: { adminPassword?: string | undefined; region: string; services: readonly CatalogService[] },
): Promise<BootstrapResult> {
  // Several processes may start at once on one empty PostgreSQL: a conflict means another
  // process created the same thing first, so the next pass finds it.
  for (let attempt = 0; ; attempt++) {
    try {
      return await bootstrapOnce(id, opts);
    } catch (e) {
      if (!(e instanceof Conflict || isUniqueViolation(e)) || attempt >= 30) throw e;
      // Each pass gets past at least one step the other process made first; a short random
      // pause keeps the two from colliding step after step.
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    }
  }
}

async function bootstrapOnce(
  id: Identity,
  opts: { adminPassword?: string | undefined; region: string; services: readonly CatalogService[] },
): Promise<BootstrapResult> {
  const { resources, users, assignments } = id;
  let created = false;
  if (!(await resources.findDomain(DEFAULT_DOMAIN_ID))) {
    await resources.createDomain({ explicit_domain_id: DEFAULT_DOMAIN_ID, name: "Default", description: "The default domain" });
    created = true;
  }
  const roleIds: Record<string, string> = {};
  for (const name of ["admin", "member", "reader", "service"]) {
    // keystone-manage bootstrap makes its roles immutable (--immutable-roles is the default).
    const r =
      (await assignments.findRoleByName(name)) ??
      (await assignments.createRole(name === "service" ? { name } : { name, options: { immutable: true } }));
    roleIds[name] = r.id;
  }
  const imply = async (prior: string, implied: string): Promise<void> => {
    const m = await assignments.impliedMap();
    if (!(m.get(prior) ?? []).includes(implied)) {
      await id.core
        .write((trx) => trx.insertInto("implied_role").values({ prior_role_id: prior, implied_role_id: implied }).execute())
        .catch((e: unknown) => {
          if (!isUniqueViolation(e)) throw e;
        });
    }
  };
  await imply(roleIds["admin"]!, roleIds["member"]!);
  await imply(roleIds["member"]!, roleIds["reader"]!);

  let admin = await resources.getProjectByName("admin", DEFAULT_DOMAIN_ID);
  if (!admin) admin = await resources.createProject({ name: "admin", domain_id: DEFAULT_DOMAIN_ID, description: "Bootstrap project" }, DEFAULT_DOMAIN_ID);
  if (!(await resources.getProjectByName("service", DEFAULT_DOMAIN_ID))) {
    await resources.createProject({ name: "service", domain_id: DEFAULT_DOMAIN_ID, description: "Service users" }, DEFAULT_DOMAIN_ID);
  }
  let adminPassword: string | undefined;
  let user = await users.findUserByName("admin", DEFAULT_DOMAIN_ID);
  if (!user) {
    adminPassword = opts.adminPassword ?? secret(12);
    user = await users.createUser({ name: "admin", domain_id: DEFAULT_DOMAIN_ID, password: adminPassword });
    created = true;
  }
  await assignments.grant({ kind: "user", id: user.id }, { kind: "project", id: admin.id }, roleIds["admin"]!, false);
  await assignments.grant({ kind: "user", id: user.id }, { kind: "system", id: "system" }, roleIds["admin"]!, false);
  // The user other services call with (in-process transport): service + admin on "service".
  const serviceProject = (await resources.getProjectByName("service", DEFAULT_DOMAIN_ID))!;
  let svcUser = await users.findUserByName("stackbox-service", DEFAULT_DOMAIN_ID);
  svcUser ??= await users.createUser({ name: "stackbox-service", domain_id: DEFAULT_DOMAIN_ID, description: "Stackbox internal service user" });
  for (const role of ["service", "admin"]) {
    await assignments.grant({ kind: "user", id: svcUser.id }, { kind: "project", id: serviceProject.id }, roleIds[role]!, false);
  }
  for (const s of opts.services) await id.catalog.ensureService(s.type, s.name, s.url, opts.region);
  return { created, adminPassword, adminUserId: user.id, adminProjectId: admin.id, serviceUserId: svcUser.id, serviceProjectId: serviceProject.id };
}
