import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { GroupType } from "../manager/group-types.js";
import type { Group, GroupCaller, GroupsManager } from "../manager/groups.js";
import { GROUP_SNAPSHOT_STATUS_ALL, GROUP_SORT_KEYS, GROUP_STATUS_ALL } from "../manager/groups.js";
import { groupDetail, groupListView, groupSummary } from "../views/groups.js";
import { isAdmin, parsePaging } from "./common.js";
import type { Volume, VolumeType } from "./deps.js";
import { boolean, checkType, description, fail, isObject, isUuidLike, nameAllowEmpty, noExtra, noneOf, pyRepr, requireKeys, root, uuidField } from "./group-validate.js";

export function groupCaller(ctx: RequestContext): GroupCaller {
  return { projectId: ctx.caller.projectId ?? "", userId: ctx.caller.userId, admin: isAdmin(ctx) };
}

/** Cinder's default policy target: the caller's own project. */
function own(ctx: RequestContext): Record<string, unknown> {
  return { project_id: ctx.caller.projectId, user_id: ctx.caller.userId };
}

export function target(r: { project_id: string; user_id?: string }): Record<string, unknown> {
  return { project_id: r.project_id, user_id: r.user_id };
}

const PAGING_PARAMS = ["limit", "marker", "offset", "sort", "sort_key", "sort_dir"];

/** The query's filters: every parameter but paging, sorting and `extra` (first value of repeated ones). */
export function queryFilters(ctx: RequestContext, extra: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.query)) {
    if (v === undefined || PAGING_PARAMS.includes(k) || extra.includes(k)) continue;
    out[k] = Array.isArray(v) ? (v[0] ?? "") : v;
  }
  return out;
}

/**
 * common.reject_invalid_filters (3.33+, resource_filters.json defaults): admins may filter
 * on anything; others only on the configured keys (`key~` too from 3.34 when configured as
 * such); a stray all_tenants is dropped silently.
 */
export function rejectInvalidFilters(ctx: RequestContext, filters: Record<string, string>, allowed: readonly string[]): void {
  for (const k of Object.keys(filters)) {
    if (!/^[\x00-\x7f]*$/.test(k)) throw new BadRequest("Filter keys can only contain ASCII characters.");
  }
  if (isAdmin(ctx)) return;
  const like = ctx.version!.atLeast("3.34");
  const invalid = Object.keys(filters).filter((k) => !(allowed.includes(k) || (like && allowed.includes(`${k}~`))));
  const i = invalid.indexOf("all_tenants");
  if (i >= 0) {
    invalid.splice(i, 1);
    delete filters["all_tenants"];
  }
  if (invalid.length > 0) throw new BadRequest(`Invalid filters ${invalid.join(",")} are found in query options.`);
}

/** _check_default_cgsnapshot_type of the groups controller. */
async function checkCgType(groups: GroupsManager, groupTypeId: string | null): Promise<void> {
  if (await groups.isCgsnapshotType(groupTypeId)) {
    throw new BadRequest(`Group_type ${groupTypeId} is reserved for migrating CGs to groups. Migrated group can only be operated by CG APIs.`);
  }
}

/** validators._validate_group_status: InvalidGroupStatus escapes jsonschema as a 400 of its own. */
function groupStatus(v: unknown): string {
  checkType("status", v, ["string"]);
  const s = v as string;
  if (s.trim().length === 0) throw new BadRequest("Invalid Group Status: The 'status' can not be empty.");
  // Cinder checks against the group snapshot statuses while naming the group ones.
  if (!(GROUP_SNAPSHOT_STATUS_ALL as readonly string[]).includes(s.toLowerCase())) {
    throw new BadRequest(`Invalid Group Status: Group status: ${s} is invalid, valid status are: (${GROUP_STATUS_ALL.map((x) => `'${x}'`).join(", ")}).`);
  }
  return s.toLowerCase();
}

/** utils.get_bool_param("list_volume") (3.25+): a strict boolean word, else 400. */
function listVolume(ctx: RequestContext): boolean {
  if (!ctx.version!.atLeast("3.25")) return false;
  const raw = ctx.q("list_volume");
  if (raw === undefined) return false;
  const s = raw.trim().toLowerCase();
  if (["1", "t", "true", "on", "y", "yes"].includes(s)) return true;
  if (["0", "f", "false", "off", "n", "no"].includes(s)) return false;
  throw new BadRequest(`Value '${raw}' for 'list_volume' is not a boolean.`);
}

/** The action's whole body against a schema of one object-valued key. */
function actionBody(ctx: RequestContext, key: string): Record<string, unknown> {
  const body = root(ctx.body);
  const inner = body[key];
  checkType(key, inner, ["object"]);
  return inner as Record<string, unknown>;
}

/** wsgi's action_peek takes a body of exactly one key (another key: "Malformed request body"). */
export function actionRest(ctx: RequestContext, key: string): void {
  const body = root(ctx.body);
  if (Object.keys(body).length !== 1) throw new BadRequest("Malformed request body");
  noExtra(undefined, body, [key]);
}

/** A group visible to the caller, with the policy rule checked against it. */
async function groupFor(ctx: RequestContext, groups: GroupsManager, rule: string): Promise<Group> {
  const g = await groups.get(groupCaller(ctx), ctx.params["group_id"]!);
  ctx.enforce(rule, target(g));
  return g;
}

async function resolveVolumeType(v: Volume, name: string): Promise<VolumeType> {
  const t = await v.types.find(name);
  if (t) return t;
  if (isUuidLike(name)) throw new NotFound(`Volume type ${name} could not be found.`);
  throw new NotFound(`Volume type with name ${name} could not be found.`);
}

/** cinder/api/v3/groups.py (3.13; create-from-src 3.14; reset_status 3.20; replication 3.38). */
export function groupsRoutes(v: Volume, groups: GroupsManager): Route[] {
  const list = (detail: boolean) => async (ctx: RequestContext) => {
    ctx.enforce("group:get_all", own(ctx));
    const ver = ctx.version!;
    const paging = parsePaging(ctx, GROUP_SORT_KEYS);
    const filters = queryFilters(ctx, ["list_volume"]);
    if (ver.atLeast("3.33")) rejectInvalidFilters(ctx, filters, ["name"]);
    const c = groupCaller(ctx);
    const all = c.admin && "all_tenants" in filters;
    if (all) delete filters["all_tenants"];
    const rows = await groups.list(c, all, filters, paging);
    // The view reads the flag per group: with no group, a bad value goes unnoticed.
    const lv = detail && rows.length > 0 && listVolume(ctx);
    if (lv) await groups.volumesOf(rows);
    return { body: groupListView(ctx, rows, paging, detail, lv) };
  };

  return [
    { method: "GET", path: "/groups", operation: "listGroups", policy: "group:get_all", minVersion: "3.13", handler: list(false) },
    { method: "GET", path: "/groups/detail", operation: "listGroupsDetail", policy: "group:get_all", minVersion: "3.13", handler: list(true) },
    {
      method: "GET",
      path: "/groups/:group_id",
      operation: "showGroup",
      policy: "group:get",
      minVersion: "3.13",
      handler: async (ctx) => {
        const g = await groupFor(ctx, groups, "group:get");
        await checkCgType(groups, g.group_type_id);
        const lv = listVolume(ctx);
        if (lv) await groups.volumesOf([g]);
        return { body: { group: groupDetail(ctx, g, lv) } };
      },
    },
    {
      method: "POST",
      path: "/groups",
      operation: "createGroup",
      policy: "group:create",
      minVersion: "3.13",
      handler: async (ctx) => {
        const body = root(ctx.body);
        let g: Record<string, unknown> = {};
        if ("group" in body) {
          checkType("group", body["group"], ["object"]);
          g = body["group"] as Record<string, unknown>;
          if ("description" in g) description("description", g["description"]);
          if ("group_type" in g) {
            const t = g["group_type"];
            checkType("group_type", t, ["string"]);
            const s = (t as string).trim();
            if (s.length < 1 || s.length > 255) throw fail("group_type", t, `${pyRepr(t)} is not a 'group_type'`);
          }
          if ("name" in g) nameAllowEmpty("name", g["name"]);
          if ("volume_types" in g) {
            const vt = g["volume_types"];
            checkType("volume_types", vt, ["array"]);
            const arr = vt as unknown[];
            if (arr.length < 1) throw fail("volume_types", vt, `${pyRepr(vt)} is too short`);
            arr.forEach((x, i) => {
              checkType(i, x, ["string"]);
              if ([...(x as string)].length > 255) throw fail(i, x, `${pyRepr(x)} is too long`);
            });
            if (new Set(arr).size !== arr.length) throw fail("volume_types", vt, `${pyRepr(vt)} has non-unique elements`);
          }
          if ("availability_zone" in g) {
            const az = g["availability_zone"];
            checkType("availability_zone", az, ["string", "null"]);
            if (az !== null) {
              if (az === "") throw new BadRequest("The 'availability_zone' can not be None.");
              const n = [...(az as string).trim()].length;
              if (n < 1) throw new BadRequest(`Invalid input received: availability_zone has ${n} characters, less than 1.`);
              if (n > 255) throw new BadRequest(`Invalid input received: availability_zone has ${n} characters, more than 255.`);
            }
          }
          requireKeys("group", g, ["group_type", "volume_types"]);
          noExtra("group", g, ["description", "group_type", "name", "volume_types", "availability_zone"]);
        }
        requireKeys(undefined, body, ["group"]);
        noExtra(undefined, body, ["group"]);
        let name = (g["name"] as string | null | undefined) ?? null;
        let desc = (g["description"] as string | null | undefined) ?? null;
        if (name) name = name.trim();
        if (desc) desc = desc.trim();
        const requested = g["group_type"] as string;
        const uuidLike = isUuidLike(requested);
        // The controller resolves a name before anything else.
        let groupType: GroupType | undefined;
        if (!uuidLike) groupType = await groups.types.getByName(requested);
        await checkCgType(groups, groupType?.id ?? requested);
        ctx.enforce("group:create", own(ctx));
        const volumeTypes: VolumeType[] = [];
        for (const t of g["volume_types"] as string[]) volumeTypes.push(await resolveVolumeType(v, t));
        groupType ??= await groups.types.resolve(requested, isAdmin(ctx), true);
        const created = await groups.create(groupCaller(ctx), {
          name,
          description: desc,
          groupType,
          volumeTypes,
          availabilityZone: g["availability_zone"] as string | null | undefined,
        });
        return { status: 202, body: { group: groupSummary(created) } };
      },
    },
    {
      method: "POST",
      path: "/groups/action",
      operation: "createGroupFromSource",
      policy: "group:create",
      minVersion: "3.14",
      handler: async (ctx) => {
        // wsgi's action_peek: exactly one key naming the action.
        const keys = isObject(ctx.body) ? Object.keys(ctx.body) : [];
        if (keys.length !== 1) throw new BadRequest("Malformed request body");
        if (keys[0] !== "create-from-src") {
          throw new BadRequest(`There is no such action: ${keys[0]}. Verify the request body and Content-Type header and try again.`);
        }
        const body = root(ctx.body);
        const src = body["create-from-src"];
        checkType("create-from-src", src, ["object"]);
        const s = src as Record<string, unknown>;
        if ("description" in s) description("description", s["description"]);
        if ("name" in s) nameAllowEmpty("name", s["name"]);
        if ("source_group_id" in s) uuidField("source_group_id", s["source_group_id"]);
        if ("group_snapshot_id" in s) uuidField("group_snapshot_id", s["group_snapshot_id"]);
        const hasSnap = "group_snapshot_id" in s;
        const hasGroup = "source_group_id" in s;
        if (!hasSnap && !hasGroup) throw noneOf("create-from-src", s);
        if (hasSnap && hasGroup) {
          throw fail("create-from-src", s, `${pyRepr(s)} is valid under each of {'required': ['group_snapshot_id']}, {'required': ['source_group_id']}`);
        }
        noExtra("create-from-src", s, ["description", "name", "source_group_id", "group_snapshot_id"]);
        noExtra(undefined, body, ["create-from-src"]);
        let name = (s["name"] as string | null | undefined) ?? null;
        let desc = (s["description"] as string | null | undefined) ?? null;
        if (name) name = name.trim();
        if (desc) desc = desc.trim();
        const c = groupCaller(ctx);
        const gsId = s["group_snapshot_id"] as string | undefined;
        const sgId = s["source_group_id"] as string | undefined;
        let groupTypeId: string;
        if (gsId) {
          const gs = await groups.getGroupSnapshot(c, gsId);
          ctx.enforce("group:get_group_snapshot", target(gs));
          groupTypeId = gs.group_type_id;
        } else {
          const sg = await groups.get(c, sgId!);
          ctx.enforce("group:get", target(sg));
          groupTypeId = sg.group_type_id;
        }
        await checkCgType(groups, groupTypeId);
        ctx.enforce("group:create", own(ctx));
        const created = await groups.createFromSrc(c, { name, description: desc, groupSnapshotId: gsId, sourceGroupId: sgId });
        return { status: 202, body: { group: groupSummary(created) } };
      },
    },
    {
      // The router maps DELETE onto the groups controller, which has no delete method
      // (groups go by the "delete" action): Cinder's wsgi answers 404.
      method: "DELETE",
      path: "/groups/:group_id",
      operation: "deleteGroupUnsupported",
      minVersion: "3.13",
      handler: async () => {
        throw new NotFound("The resource could not be found.");
      },
    },
    {
      method: "PUT",
      path: "/groups/:group_id",
      operation: "updateGroup",
      policy: "group:update",
      minVersion: "3.13",
      handler: async (ctx) => {
        const body = root(ctx.body);
        let g: Record<string, unknown> = {};
        if ("group" in body) {
          checkType("group", body["group"], ["object"]);
          g = body["group"] as Record<string, unknown>;
          if ("description" in g) description("description", g["description"]);
          if ("name" in g) nameAllowEmpty("name", g["name"]);
          if ("add_volumes" in g) description("add_volumes", g["add_volumes"]);
          if ("remove_volumes" in g) description("remove_volumes", g["remove_volumes"]);
          if (!["name", "description", "add_volumes", "remove_volumes"].some((k) => k in g)) throw noneOf("group", g);
          noExtra("group", g, ["description", "name", "add_volumes", "remove_volumes"]);
        }
        requireKeys(undefined, body, ["group"]);
        noExtra(undefined, body, ["group"]);
        let name = g["name"] as string | null | undefined;
        let desc = g["description"] as string | null | undefined;
        if (name) name = name.trim();
        if (desc) desc = desc.trim();
        const grp = await groups.get(groupCaller(ctx), ctx.params["group_id"]!);
        ctx.enforce("group:get", target(grp));
        await checkCgType(groups, grp.group_type_id);
        ctx.enforce("group:update", target(grp));
        await groups.update(groupCaller(ctx), grp, {
          name: name ?? undefined,
          description: desc ?? undefined,
          addVolumes: (g["add_volumes"] as string | null | undefined) ?? undefined,
          removeVolumes: (g["remove_volumes"] as string | null | undefined) ?? undefined,
        });
        return { status: 202 };
      },
    },
  ];
}

/** The actions of POST /groups/{id}/action. */
export function registerGroupActions(v: Volume, groups: GroupsManager): void {
  v.actions.register("groups", "delete", {
    minVersion: "3.13",
    handler: async (ctx) => {
      actionRest(ctx, "delete");
      const inner = actionBody(ctx, "delete");
      let del = false;
      if ("delete-volumes" in inner) del = boolean("delete-volumes", inner["delete-volumes"]);
      noExtra("delete", inner, ["delete-volumes"]);
      const g = await groupFor(ctx, groups, "group:get");
      await checkCgType(groups, g.group_type_id);
      ctx.enforce("group:delete", target(g));
      await groups.delete(g, del);
      return { status: 202 };
    },
  });
  for (const [action, op] of [
    ["enable_replication", "enable"],
    ["disable_replication", "disable"],
  ] as const) {
    v.actions.register("groups", action, {
      minVersion: "3.38",
      handler: async (ctx) => {
        actionRest(ctx, action);
        actionBody(ctx, action);
        const g = await groupFor(ctx, groups, "group:get");
        ctx.enforce(`group:${action}`, target(g));
        await groups.replicationAction(g, op);
        return { status: 202 };
      },
    });
  }
  v.actions.register("groups", "failover_replication", {
    minVersion: "3.38",
    handler: async (ctx) => {
      actionRest(ctx, "failover_replication");
      const inner = actionBody(ctx, "failover_replication");
      let allow = false;
      if ("allow_attached_volume" in inner) allow = boolean("allow_attached_volume", inner["allow_attached_volume"]);
      if ("secondary_backend_id" in inner) nameAllowEmpty("secondary_backend_id", inner["secondary_backend_id"]);
      noExtra("failover_replication", inner, ["allow_attached_volume", "secondary_backend_id"]);
      const g = await groupFor(ctx, groups, "group:get");
      ctx.enforce("group:failover_replication", target(g));
      await groups.replicationAction(g, "failover", allow);
      return { status: 202 };
    },
  });
  v.actions.register("groups", "list_replication_targets", {
    minVersion: "3.38",
    handler: async (ctx) => {
      actionRest(ctx, "list_replication_targets");
      actionBody(ctx, "list_replication_targets");
      const g = await groupFor(ctx, groups, "group:get");
      ctx.enforce("group:list_replication_targets", target(g));
      await groups.checkReplicationType(g);
      // No backend has a replication_device.
      return { status: 200, body: { replication_targets: [] } };
    },
  });
  v.actions.register("groups", "reset_status", {
    minVersion: "3.20",
    handler: async (ctx) => {
      actionRest(ctx, "reset_status");
      const inner = actionBody(ctx, "reset_status");
      let status = "";
      if ("status" in inner) status = groupStatus(inner["status"]);
      requireKeys("reset_status", inner, ["status"]);
      noExtra("reset_status", inner, ["status"]);
      const g = await groupFor(ctx, groups, "group:get");
      ctx.enforce("group:reset_status", target(g));
      await groups.resetStatus(g, status);
      return { status: 202 };
    },
  });
}
