import type { Route } from "../../http/context.js";
import { attachmentRoutes } from "./api/attachments.js";
import type { Volume } from "./api/deps.js";
import { registerAttachActions } from "./api/volume-attach-actions.js";
import { AttachmentManager } from "./manager/attachments.js";

const managers = new WeakMap<Volume, AttachmentManager>();

function managerOf(v: Volume): AttachmentManager {
  let m = managers.get(v);
  if (!m) managers.set(v, (m = new AttachmentManager(v)));
  return m;
}

/** Set the contracts this area implements on the bag and register its actions and tasks. */
export function attachAttachments(v: Volume): void {
  const m = managerOf(v);
  v.volumeExtended = (id) => m.volumeExtended(id);
  registerAttachActions(v, m);
}

/** This area's routes, relative to /v3 (api/common.ts v3() adds the project forms). */
export function attachmentsRoutes(v: Volume): Route[] {
  return attachmentRoutes(managerOf(v));
}
