import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { GroupsManager } from "../manager/groups.js";
import { GROUP_SNAPSHOT_SORT_KEYS, GROUP_SNAPSHOT_STATUS_ALL } from "../manager/groups.js";
import { groupSnapshotDetail, groupSnapshotListView, groupSnapshotSummary } from "../views/group-snapshots.js";
import { parsePaging } from "./common.js";
import type { Volume } from "./deps.js";
import { checkType, description, nameAllowEmpty, noExtra, requireKeys, root, uuidField } from "./group-validate.js";
import { actionRest, groupCaller, queryFilters, rejectInvalidFilters, target } from "./groups.js";

/** The groups' _check_default_cgsnapshot_type, worded for group snapshots. */
async function checkCgType(groups: GroupsManager, groupTypeId: string): Promise<void> {
  if (await groups.isCgsnapshotType(groupTypeId)) {
    throw new BadRequest(`Group_type ${groupTypeId} is reserved for migrating CGs to groups. Migrated group snapshots can only be operated by CG snapshot APIs.`);
  }
}

/** validators._validate_status (group_snapshot_status): InvalidGroupSnapshotStatus escapes as its own 400. */
function snapshotStatus(v: unknown): string {
  checkType("status", v, ["string"]);
  const s = v as string;
  if (s.trim().length === 0) throw new BadRequest("Invalid GroupSnapshot Status: The 'status' can not be empty.");
  if (!(GROUP_SNAPSHOT_STATUS_ALL as readonly string[]).includes(s.toLowerCase())) {
    throw new BadRequest(`Invalid GroupSnapshot Status: Group snapshot status: ${s} is invalid, valid statuses are: (${GROUP_SNAPSHOT_STATUS_ALL.map((x) => `'${x}'`).join(", ")}).`);
  }
  return s.toLowerCase();
}

/** cinder/api/v3/group_snapshots.py (3.14; pagination and filters 3.29; reset_status 3.19). */
export function groupSnapshotsRoutes(groups: GroupsManager): Route[] {
  const list = (detail: boolean) => async (ctx: RequestContext) => {
    ctx.enforce("group:get_all_group_snapshots", { project_id: ctx.caller.projectId, user_id: ctx.caller.userId });
    const ver = ctx.version!;
    const c = groupCaller(ctx);
    // Before 3.29 the index takes no filters, paging or sorting.
    const paged = ver.atLeast("3.29");
    const paging = paged ? parsePaging(ctx, GROUP_SNAPSHOT_SORT_KEYS) : { marker: undefined, limit: 1000, limitGiven: false, offset: 0, sortKeys: ["created_at"], sortDirs: ["desc" as const] };
    const filters = paged ? queryFilters(ctx) : {};
    if (ver.atLeast("3.33")) rejectInvalidFilters(ctx, filters, ["name", "status", "group_id"]);
    const all = c.admin && "all_tenants" in filters;
    if (all) delete filters["all_tenants"];
    const rows = await groups.listGroupSnapshots(c, all, filters, paging);
    return { body: groupSnapshotListView(ctx, rows, paged ? paging : undefined, detail) };
  };
  return [
    { method: "GET", path: "/group_snapshots", operation: "listGroupSnapshots", policy: "group:get_all_group_snapshots", minVersion: "3.14", handler: list(false) },
    { method: "GET", path: "/group_snapshots/detail", operation: "listGroupSnapshotsDetail", policy: "group:get_all_group_snapshots", minVersion: "3.14", handler: list(true) },
    {
      method: "GET",
      path: "/group_snapshots/:group_snapshot_id",
      operation: "showGroupSnapshot",
      policy: "group:get_group_snapshot",
      minVersion: "3.14",
      handler: async (ctx) => {
        const gs = await groups.getGroupSnapshot(groupCaller(ctx), ctx.params["group_snapshot_id"]!);
        ctx.enforce("group:get_group_snapshot", target(gs));
        await checkCgType(groups, gs.group_type_id);
        return { body: { group_snapshot: groupSnapshotDetail(ctx, gs) } };
      },
    },
    {
      method: "POST",
      path: "/group_snapshots",
      operation: "createGroupSnapshot",
      policy: "group:create_group_snapshot",
      minVersion: "3.14",
      handler: async (ctx) => {
        const body = root(ctx.body);
        let s: Record<string, unknown> = {};
        if ("group_snapshot" in body) {
          checkType("group_snapshot", body["group_snapshot"], ["object"]);
          s = body["group_snapshot"] as Record<string, unknown>;
          if ("group_id" in s) uuidField("group_id", s["group_id"]);
          if ("name" in s) nameAllowEmpty("name", s["name"]);
          if ("description" in s) description("description", s["description"]);
          requireKeys("group_snapshot", s, ["group_id"]);
          noExtra("group_snapshot", s, ["group_id", "name", "description"]);
        }
        requireKeys(undefined, body, ["group_snapshot"]);
        noExtra(undefined, body, ["group_snapshot", "type"]);
        const c = groupCaller(ctx);
        const g = await groups.get(c, s["group_id"] as string);
        ctx.enforce("group:get", target(g));
        if (await groups.isCgsnapshotType(g.group_type_id)) {
          throw new BadRequest(`Group_type ${g.group_type_id} is reserved for migrating CGs to groups. Migrated group snapshots can only be operated by CG snapshot APIs.`);
        }
        ctx.enforce("group:create_group_snapshot", target(g));
        ctx.enforce("volume:create_snapshot", target(g));
        const gs = await groups.createGroupSnapshot(c, g, (s["name"] as string | null | undefined) ?? null, (s["description"] as string | null | undefined) ?? null);
        return { status: 202, body: { group_snapshot: groupSnapshotSummary(gs) } };
      },
    },
    {
      // Mapped by the router, absent from the controller: 404 as Cinder's wsgi answers.
      method: "PUT",
      path: "/group_snapshots/:group_snapshot_id",
      operation: "updateGroupSnapshotUnsupported",
      minVersion: "3.14",
      handler: async () => {
        throw new NotFound("The resource could not be found.");
      },
    },
    {
      method: "DELETE",
      path: "/group_snapshots/:group_snapshot_id",
      operation: "deleteGroupSnapshot",
      policy: "group:delete_group_snapshot",
      minVersion: "3.14",
      handler: async (ctx) => {
        const gs = await groups.getGroupSnapshot(groupCaller(ctx), ctx.params["group_snapshot_id"]!);
        ctx.enforce("group:get_group_snapshot", target(gs));
        await checkCgType(groups, gs.group_type_id);
        ctx.enforce("group:delete_group_snapshot", target(gs));
        await groups.deleteGroupSnapshot(gs);
        return { status: 202 };
      },
    },
  ];
}

/** POST /group_snapshots/{id}/action: reset_status (3.19, admin). */
export function registerGroupSnapshotActions(v: Volume, groups: GroupsManager): void {
  v.actions.register("group_snapshots", "reset_status", {
    minVersion: "3.19",
    handler: async (ctx) => {
      actionRest(ctx, "reset_status");
      const body = root(ctx.body);
      const inner = body["reset_status"];
      checkType("reset_status", inner, ["object"]);
      const r = inner as Record<string, unknown>;
      let status = "";
      if ("status" in r) status = snapshotStatus(r["status"]);
      requireKeys("reset_status", r, ["status"]);
      noExtra("reset_status", r, ["status"]);
      const gs = await groups.getGroupSnapshot(groupCaller(ctx), ctx.params["group_snapshot_id"]!);
      ctx.enforce("group:get_group_snapshot", target(gs));
      ctx.enforce("group:reset_group_snapshot_status", target(gs));
      await groups.resetGroupSnapshotStatus(gs, status);
      return { status: 202 };
    },
  });
}
