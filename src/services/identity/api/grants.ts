import { Forbidden, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Actor, GrantTarget } from "../manager/assignment.js";
import { NULL_DOMAIN } from "../store/tables.js";
import { collection } from "../views/common.js";
import { roleView } from "../views/roles.js";
import type { Identity } from "./deps.js";

/**
 * Role grants: /v3/{projects|domains}/{id}/{users|groups}/{id}/roles[/{role_id}],
 * /v3/system/{users|groups}/{id}/roles[/{role_id}], and their OS-INHERIT forms.
 */
export function grantRoutes(id: Identity): Route[] {
  const { assignments, users, resources } = id;
  const routes: Route[] = [];

  type Shape = { target: "project" | "domain" | "system"; actor: "user" | "group"; inherited: boolean; base: string };
  const shapes: Shape[] = [];
  for (const target of ["project", "domain"] as const) {
    for (const actor of ["user", "group"] as const) {
      shapes.push({ target, actor, inherited: false, base: `/v3/${target}s/:target_id/${actor}s/:actor_id/roles` });
      shapes.push({ target, actor, inherited: true, base: `/v3/OS-INHERIT/${target}s/:target_id/${actor}s/:actor_id/roles` });
    }
  }
  for (const actor of ["user", "group"] as const) {
    shapes.push({ target: "system", actor, inherited: false, base: `/v3/system/${actor}s/:actor_id/roles` });
  }

  const resolve = async (ctx: RequestContext, s: Shape): Promise<{ actor: Actor; target: GrantTarget; t: Record<string, unknown> }> => {
    const actorId = ctx.params["actor_id"]!;
    const t: Record<string, unknown> = {};
    if (s.actor === "user") {
      const u = await users.getUser(actorId);
      t["user"] = { id: u.id, domain_id: u.domain_id };
    } else {
      const g = await users.getGroup(actorId);
      t["group"] = { id: g.id, domain_id: g.domain_id };
    }
    let target: GrantTarget;
    if (s.target === "project") {
      const p = await resources.getProject(ctx.params["target_id"]!);
      t["project"] = { id: p.id, domain_id: p.domain_id };
      target = { kind: "project", id: p.id };
    } else if (s.target === "domain") {
      const d = await resources.getDomain(ctx.params["target_id"]!);
      t["domain"] = { id: d.id };
      target = { kind: "domain", id: d.id };
    } else {
      target = { kind: "system", id: "system" };
    }
    return { actor: { kind: s.actor, id: actorId }, target, t };
  };

  const ruleFor = (s: Shape, op: "list" | "check" | "create" | "revoke"): string => {
    if (s.target === "system") {
      const verb = { list: "list", check: "check", create: "create", revoke: "revoke" }[op];
      return `identity:${verb}_system_grant_for_${s.actor}`;
    }
    if (op === "list") return "identity:list_grants";
    return `identity:${op}_grant`;
  };

  for (const s of shapes) {
    const name = `${s.inherited ? "Inherited" : ""}${s.target[0]!.toUpperCase()}${s.target.slice(1)}${s.actor[0]!.toUpperCase()}${s.actor.slice(1)}`;
    routes.push({
      method: "GET",
      path: s.base,
      operation: `list${name}Roles`,
      policy: ruleFor(s, "list"),
      handler: async (ctx) => {
        const r = await resolve(ctx, s);
        ctx.enforce(ruleFor(s, "list"), { target: r.t });
        const roles = await assignments.listGrants(r.actor, r.target, s.inherited);
        return { body: collection(ctx, "roles", roles.map((x) => roleView(ctx, x))) };
      },
    });
    for (const [method, op] of [
      ["HEAD", "check"],
      ["GET", "check"],
      ["PUT", "create"],
      ["DELETE", "revoke"],
    ] as const) {
      routes.push({
        method,
        path: `${s.base}/:role_id`,
        operation: `${op}${name}Role`,
        policy: ruleFor(s, op),
        handler: async (ctx) => {
          const r = await resolve(ctx, s);
          const role = await assignments.getRole(ctx.params["role_id"]!);
          r.t["role"] = { id: role.id, domain_id: role.domain_id === NULL_DOMAIN ? null : role.domain_id };
          ctx.enforce(ruleFor(s, op), { target: r.t });
          if (op === "check") {
            if (!(await assignments.hasGrant(r.actor, r.target, role.id, s.inherited))) {
              throw new NotFound(`Could not find role assignment with role: ${role.id}, ${s.actor}: ${r.actor.id}, ${s.target}: ${r.target.id}.`);
            }
          } else if (op === "create") {
            await assertRoleUsable(role.domain_id, r.target, id);
            await assignments.grant(r.actor, r.target, role.id, s.inherited);
          } else {
            await assignments.revokeGrant(r.actor, r.target, role.id, s.inherited);
          }
          return { status: 204 };
        },
      });
    }
  }
  return routes;
}

/** A domain-specific role may only be granted on its own domain or that domain's projects. */
async function assertRoleUsable(roleDomain: string, target: GrantTarget, id: Identity): Promise<void> {
  if (roleDomain === NULL_DOMAIN) return;
  let domainId: string | undefined;
  if (target.kind === "domain") domainId = target.id;
  else if (target.kind === "project") domainId = (await id.resources.findProject(target.id))?.domain_id;
  if (domainId !== roleDomain) {
    throw new Forbidden(`Role ${roleDomain} domain does not match the target's domain.`);
  }
}
