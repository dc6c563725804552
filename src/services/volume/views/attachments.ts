import { cinderTime } from "../api/common.js";
import { connectionInfoOf } from "../manager/attachments.js";
import type { AttachmentRow } from "../store/tables.js";

/** api/v3/views/attachments.py summary: id, status (the attach_status), instance, volume_id. */
export function attachmentSummary(a: AttachmentRow): Record<string, unknown> {
  return { id: a.id, status: a.attach_status, instance: a.instance_uuid, volume_id: a.volume_id };
}

/** detail: the summary plus attached_at/detached_at ('' when unset), attach_mode, connection_info. */
export function attachmentDetail(a: AttachmentRow, format?: string): Record<string, unknown> {
  const info = connectionInfoOf(a);
  // show() adds the volume's admin metadata 'format' to the connection info.
  if (format !== undefined && Object.keys(info).length > 0) info["format"] = format;
  return {
    ...attachmentSummary(a),
    attached_at: cinderTime(a.attach_time) ?? "",
    detached_at: cinderTime(a.detach_time) ?? "",
    attach_mode: a.attach_mode,
    connection_info: info,
  };
}
