import { BadRequest, Forbidden, NotFound } from "../../../common/errors.js";
import { uuid as newUuid } from "../../../common/ids.js";
import type { Compute } from "../api/deps.js";
import type { ServersDB } from "../store/servers-tables.js";
import type { InstanceOps, ServerCaller } from "./instance-state.js";

export interface ServerGroup {
  uuid: string;
  name: string;
  policy: string;
  rules: Record<string, number>;
  project_id: string;
  user_id: string;
  /** Non-deleted member instances. */
  members: string[];
}

/**
 * os-server-groups (nova/objects/instance_group.py): a policy the scheduler honours for the
 * members (hard: filters + the late check under the group's row lock; soft: weighers), with
 * the server_groups and server_group_members quotas.
 */
export class ServerGroupManager {
  constructor(
    private readonly c: Compute,
    private readonly ops: InstanceOps,
  ) {}

  private get db(): ServersDB {
    return this.c.database.db as ServersDB;
  }

  async create(caller: ServerCaller, name: string, policy: string, rules: Record<string, number>): Promise<ServerGroup> {
    if (policy !== "anti-affinity" && Object.keys(rules).length > 0) throw new BadRequest("Only anti-affinity policy supports rules.");
    // QuotasApi counts nothing of ours: it is given the total the project would have.
    const check = async (extra: number): Promise<void> => {
      try {
        await this.c.quotas.check(caller.projectId, caller.userId, { server_groups: (await this.count(caller.projectId)) + extra });
      } catch (e) {
        if (e instanceof Forbidden) throw new Forbidden("Quota exceeded, too many server groups.");
        throw e;
      }
    };
    await check(1);
    const uuid = newUuid();
    await this.db
      .insertInto("cmp_server_group")
      .values({ uuid, project_id: caller.projectId, user_id: caller.userId, name, policy, rules: JSON.stringify(rules), created_at: this.ops.now() })
      .execute();
    // Nova's recheck_quota: concurrent creates that together passed the limit undo themselves.
    try {
      await check(0);
    } catch (e) {
      await this.db.deleteFrom("cmp_server_group").where("uuid", "=", uuid).execute();
      throw e;
    }
    return { uuid, name, policy, rules, project_id: caller.projectId, user_id: caller.userId, members: [] };
  }

  private async count(projectId: string): Promise<number> {
    const r = await this.db.selectFrom("cmp_server_group").select((eb) => eb.fn.countAll().as("n")).where("project_id", "=", projectId).executeTakeFirst();
    return Number((r as { n: unknown } | undefined)?.n ?? 0);
  }

  /** Any project's group (policy decides who may see it, as Nova's get_by_uuid). */
  async get(uuid: string): Promise<ServerGroup> {
    const g = await this.db.selectFrom("cmp_server_group").selectAll().where("uuid", "=", uuid).executeTakeFirst();
    if (!g) throw new NotFound(`Instance group ${uuid} could not be found.`);
    const members = await this.membersOf([uuid]);
    return { uuid: g.uuid, name: g.name, policy: g.policy, rules: JSON.parse(g.rules) as Record<string, number>, project_id: g.project_id, user_id: g.user_id, members: members.get(uuid) ?? [] };
  }

  async list(projectId: string | undefined, limit: number | undefined, offset: number): Promise<ServerGroup[]> {
    let q = this.db.selectFrom("cmp_server_group").selectAll().orderBy("created_at").orderBy("uuid");
    if (projectId !== undefined) q = q.where("project_id", "=", projectId);
    const rows = await q.execute();
    const page = rows.slice(offset, limit === undefined ? undefined : offset + limit);
    const members = await this.membersOf(page.map((g) => g.uuid));
    return page.map((g) => ({ uuid: g.uuid, name: g.name, policy: g.policy, rules: JSON.parse(g.rules) as Record<string, number>, project_id: g.project_id, user_id: g.user_id, members: members.get(g.uuid) ?? [] }));
  }

  async delete(uuid: string): Promise<void> {
    await this.ops.write(async (trx) => {
      const r = await trx.deleteFrom("cmp_server_group").where("uuid", "=", uuid).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw new NotFound(`Instance group ${uuid} could not be found.`);
      await trx.deleteFrom("cmp_server_group_member").where("group_uuid", "=", uuid).execute();
    });
  }

  private async membersOf(groups: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (groups.length === 0) return out;
    const rows = await this.db
      .selectFrom("cmp_server_group_member as m")
      .innerJoin("cmp_instance as i", "i.uuid", "m.instance_uuid")
      .select(["m.group_uuid", "m.instance_uuid"])
      .where("m.group_uuid", "in", groups)
      .where("i.deleted", "=", 0)
      .orderBy("m.created_at")
      .execute();
    for (const r of rows) {
      const l = out.get(r.group_uuid) ?? [];
      l.push(r.instance_uuid);
      out.set(r.group_uuid, l);
    }
    return out;
  }
}
