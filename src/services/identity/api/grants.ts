import { Forbidden, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Actor, GrantTarget } from "../manager/assignment.js";
import { assignmentNotFound } from "../manager/assignment.js";
import type { GroupRow, RoleRow } from "../store/tables.js";
import { NULL_DOMAIN } from "../store/tables.js";
import { collection } from "../views/common.js";
import { roleView } from "../views/roles.js";
import type { Identity } from "./deps.js";

type TargetKind = "project" | "domain" | "system";
type ActorKind = "user" | "group";
type Op = "list" | "check" | "create" | "revoke";

interface Shape {
  target: TargetKind;
  actor: ActorKind;
  inherited: boolean;
  /** Collection URL (the list route), or undefined when Keystone has none (OS-INHERIT projects). */
  list: string | undefined;
  /** Member URL. */
  member: string;
}

/** What the handler needs after loading: the ids, and the policy target (Keystone's entity dicts). */
interface Loaded {
  actor: Actor;
  target: GrantTarget;
  role?: RoleRow;
  t: Record<string, unknown>;
}

const roleTarget = (r: RoleRow): Record<string, unknown> => ({
  id: r.id,
  name: r.name,
  domain_id: r.domain_id === NULL_DOMAIN ? null : r.domain_id,
});
const groupTarget = (g: GroupRow): Record<string, unknown> => ({ id: g.id, name: g.name, domain_id: g.domain_id });

/**
 * Role grants, as keystone/api/{projects,domains,system,os_inherit}.py route them:
 * - /v3/{projects|domains}/{id}/{users|groups}/{id}/roles[/{role_id}]
 * - /v3/system/{users|groups}/{id}/roles[/{role_id}]
 * - /v3/OS-INHERIT/{domains|projects}/{id}/{users|groups}/{id}/roles/{role_id}/inherited_to_projects
 *   and the list /v3/OS-INHERIT/domains/{id}/{users|groups}/{id}/roles/inherited_to_projects.
 * GET and HEAD of a single grant both answer 204.
 */
export function grantRoutes(id: Identity): Route[] {
  const { assignments, users, resources } = id;
  const shapes: Shape[] = [];
  for (const target of ["project", "domain"] as const) {
    for (const actor of ["user", "group"] as const) {
      const base = `/v3/${target}s/:target_id/${actor}s/:actor_id/roles`;
      shapes.push({ target, actor, inherited: false, list: base, member: `${base}/:role_id` });
      const ib = `/v3/OS-INHERIT/${target}s/:target_id/${actor}s/:actor_id/roles`;
      shapes.push({
        target,
        actor,
        inherited: true,
        list: target === "domain" ? `${ib}/inherited_to_projects` : undefined,
        member: `${ib}/:role_id/inherited_to_projects`,
      });
    }
  }
  for (const actor of ["user", "group"] as const) {
    const base = `/v3/system/${actor}s/:actor_id/roles`;
    shapes.push({ target: "system", actor, inherited: false, list: base, member: `${base}/:role_id` });
  }

  const tryGet = async <T>(f: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
  };

  /**
   * Keystone builds the policy target before enforcing. The plain grant APIs load the role,
   * the actor and (projects only) the project, answering 404 for a missing one (the actor may
   * be missing on DELETE); OS-INHERIT leaves missing entities out of the target and lets the
   * assignment manager answer the 404s afterwards.
   */
  const load = async (ctx: RequestContext, s: Shape, op: Op): Promise<Loaded> => {
    const actorId = ctx.params["actor_id"]!;
    const targetId = ctx.params["target_id"];
    const roleId = ctx.params["role_id"];
    const t: Record<string, unknown> = {};
    const lenient = s.inherited;
    let role: RoleRow | undefined;
    if (roleId !== undefined) {
      role = lenient ? await tryGet(() => assignments.getRole(roleId)) : await assignments.getRole(roleId);
      t["role"] = role ? roleTarget(role) : {};
    }
    const allowMissingActor = lenient || op === "revoke";
    if (s.actor === "user") {
      const u = allowMissingActor ? await tryGet(() => users.getUser(actorId)) : await users.getUser(actorId);
      if (u) t["user"] = { id: u.id, name: u.name, domain_id: u.domain_id, enabled: u.enabled === 1 };
      else if (lenient) t["user"] = {};
    } else {
      const g = allowMissingActor ? await tryGet(() => users.getGroup(actorId)) : await users.getGroup(actorId);
      if (g) t["group"] = groupTarget(g);
      else if (lenient) t["group"] = {};
    }
    let target: GrantTarget = { kind: "system", id: "system" };
    if (s.target === "project") {
      target = { kind: "project", id: targetId! };
      const p = lenient ? await tryGet(() => resources.getProject(targetId!)) : await resources.getProject(targetId!);
      t["project"] = p ? { id: p.id, name: p.name, domain_id: p.domain_id, parent_id: p.parent_id, is_domain: p.is_domain === 1 } : {};
    } else if (s.target === "domain") {
      target = { kind: "domain", id: targetId! };
      // The plain domain grant APIs leave the domain out of the target (keystone/api/domains.py).
      if (lenient) {
        const d = await resources.findDomain(targetId!);
        t["domain"] = d ? { id: d.id, name: d.name } : {};
      }
    }
    const out: Loaded = { actor: { kind: s.actor, id: actorId }, target, t };
    if (role) out.role = role;
    return out;
  };

  const rule = (s: Shape, op: Op): string => {
    if (s.target === "system") return `identity:${op}_system_grant${op === "list" ? "s" : ""}_for_${s.actor}`;
    return op === "list" ? "identity:list_grants" : `identity:${op}_grant`;
  };

  /** The checks keystone's assignment manager makes after enforcement. */
  const requireRole = async (l: Loaded, ctx: RequestContext): Promise<RoleRow> => l.role ?? assignments.getRole(ctx.params["role_id"]!);
  const requireTarget = async (l: Loaded): Promise<{ domain_id: string } | undefined> => {
    if (l.target.kind === "domain") {
      await resources.getDomain(l.target.id);
      return undefined;
    }
    if (l.target.kind === "project") return resources.getProject(l.target.id);
    return undefined;
  };

  const routes: Route[] = [];
  for (const s of shapes) {
    const name = `${s.inherited ? "Inherited" : ""}${cap(s.target)}${cap(s.actor)}`;
    if (s.list) {
      routes.push({
        method: "GET",
        path: s.list,
        operation: `list${name}Roles`,
        policy: rule(s, "list"),
        handler: async (ctx) => {
          const l = await load(ctx, s, "list");
          ctx.enforce(rule(s, "list"), { target: l.t });
          await requireTarget(l);
          const roles = await assignments.listGrants(l.actor, l.target, s.inherited);
          return { body: collection(ctx, "roles", roles.map((r) => roleView(ctx, r))) };
        },
      });
    }
    for (const [method, op] of [
      ["GET", "check"],
      ["HEAD", "check"],
      ["PUT", "create"],
      ["DELETE", "revoke"],
    ] as const) {
      routes.push({
        method,
        path: s.member,
        operation: `${op}${name}Role`,
        policy: rule(s, op),
        handler: async (ctx) => {
          const l = await load(ctx, s, op);
          ctx.enforce(rule(s, op), { target: l.t });
          const role = await requireRole(l, ctx);
          if (op === "check") {
            await requireTarget(l);
            if (!(await assignments.hasGrant(l.actor, l.target, role.id, s.inherited))) {
              throw assignmentNotFound(role.id, l.actor.id, l.target.id);
            }
          } else if (op === "create") {
            const project = await requireTarget(l);
            // Keystone's create_grant does not look the actor up; a grant to nobody is refused here.
            if (s.inherited) {
              if (s.actor === "user") await users.getUser(l.actor.id);
              else await users.getGroup(l.actor.id);
            }
            if (project && role.domain_id !== NULL_DOMAIN && project.domain_id !== role.domain_id) {
              throw new Forbidden(`Project ${l.target.id} must be in the same domain as the role ${role.id} being assigned.`);
            }
            await assignments.grant(l.actor, l.target, role.id, s.inherited);
          } else {
            await assignments.revokeGrant(l.actor, l.target, role.id, s.inherited);
          }
          return { status: 204 };
        },
      });
    }
  }
  return routes;
}

const cap = (s: string): string => `${s[0]!.toUpperCase()}${s.slice(1)}`;
