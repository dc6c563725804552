import type { Route } from "../../http/context.js";
import type { Volume } from "./api/deps.js";
import { groupSnapshotsRoutes, registerGroupSnapshotActions } from "./api/group-snapshots.js";
import { groupSpecsRoutes } from "./api/group-specs.js";
import { groupTypesRoutes } from "./api/group-types.js";
import { groupsRoutes as groupRoutes, registerGroupActions } from "./api/groups.js";
import { GroupTypesManager } from "./manager/group-types.js";
import { GroupsManager } from "./manager/groups.js";

/** The managers of this area, one per Volume bag. */
const managers = new WeakMap<Volume, GroupsManager>();

function groupsOf(v: Volume): GroupsManager {
  let m = managers.get(v);
  if (!m) managers.set(v, (m = new GroupsManager(v, new GroupTypesManager(v.core))));
  return m;
}

/** Set the contracts this area implements on the bag and register its actions and tasks. */
export function attachGroups(v: Volume): void {
  const groups = groupsOf(v);
  registerGroupActions(v, groups);
  registerGroupSnapshotActions(v, groups);
  v.tasks.register("group.create", async (p) => groups.runCreate((p as { groupId: string }).groupId));
  v.tasks.register("group.create_from_src", async (p) => groups.runCreateFromSrc((p as { groupId: string }).groupId));
  v.tasks.register("group.update", async (p) => {
    const x = p as { groupId: string; add: string[]; remove: string[] };
    await groups.runUpdate(x.groupId, x.add, x.remove);
  });
  v.tasks.register("group.replication", async (p) => {
    const x = p as { groupId: string; transient: string };
    await groups.runReplication(x.groupId, x.transient);
  });
  v.tasks.register("group.delete", async (p) => groups.runDelete((p as { groupId: string }).groupId));
  v.tasks.register("group_snapshot.create", async (p) => groups.runCreateGroupSnapshot((p as { groupSnapshotId: string }).groupSnapshotId));
  v.tasks.register("group_snapshot.delete", async (p) => groups.runDeleteGroupSnapshot((p as { groupSnapshotId: string }).groupSnapshotId));
}

/** This area's routes, relative to /v3 (api/common.ts v3() adds the project forms). */
export function groupsRoutes(v: Volume): Route[] {
  const groups = groupsOf(v);
  return [...groupTypesRoutes(groups.types), ...groupSpecsRoutes(groups.types), ...groupRoutes(v, groups), ...groupSnapshotsRoutes(groups)];
}
