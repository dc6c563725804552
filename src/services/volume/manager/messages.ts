import { NotFound } from "../../../common/errors.js";
import { uuid } from "../../../common/ids.js";
import type { MessagesApi, UserMessage, Volume } from "../api/deps.js";
import type { VolumeTables, VQ } from "../store/tables.js";

export type MessageRow = VolumeTables["vol_message"];

/** cinder/message/message_field.py Action: id → text. */
export const ACTIONS: Record<string, string> = {
  "001": "schedule allocate volume",
  "002": "attach volume",
  "003": "copy volume to image",
  "004": "update attachment",
  "005": "copy image to volume",
  "006": "unmanage volume",
  "007": "extend volume",
  "008": "create volume from backend storage",
  "009": "create snapshot",
  "010": "delete snapshot",
  "011": "update snapshot",
  "012": "update snapshot metadata",
  "013": "create backup",
  "014": "delete backup",
  "015": "restore backup",
  "016": "reimage volume",
};

/** message_field.Detail: id → text. */
export const DETAILS: Record<string, string> = {
  "001": "An unknown error occurred.",
  "002": "Driver is not initialized at present.",
  "003": "Could not find any available weighted backend.",
  "004": "Failed to upload volume to image at backend.",
  "005": "Volume's attach mode is invalid.",
  "006": "Not enough quota resource for operation.",
  "007": "Image used for creating volume exceeds available space.",
  "008": "Unmanaging encrypted volumes is not supported.",
  "009": "Compute service failed to extend volume.",
  "010": "Volume Driver failed to extend volume.",
  "011": "Image signature verification failed.",
  "012": "Driver failed to create the volume.",
  "013": "Snapshot failed to create.",
  "014": "Volume snapshot update metadata failed.",
  "015": "Snapshot is busy.",
  "016": "Snapshot failed to delete.",
  "017": "Backup status is invalid.",
  "018": "Backup service is down.",
  "019": "Failed to get backup device from the volume service.",
  "020": "Backup driver failed to create backup.",
  "021": "Failed to attach volume.",
  "022": "Failed to detach volume.",
  "023": "Cleanup of temporary volume/snapshot failed.",
  "024": "Backup failed to schedule. Service not found for creating backup.",
  "025": "Backup driver failed to delete backup.",
  "026": "Backup driver failed to restore backup.",
  "027": "Volume status is invalid.",
  "028": "Compute service failed to reimage volume.",
  "029": "The image disk format must be the same as the volume format for the volume type you are requesting.",
};

/** MessagesController._build_user_message: "<action text>:<detail text>". */
export function userMessageText(actionId: string, detailId: string): string {
  return `${ACTIONS[actionId] ?? "unknown action"}:${DETAILS[detailId] ?? DETAILS["001"]!}`;
}

/** message_ttl default (seconds): 30 days. */
const MESSAGE_TTL_S = 2592000;

export const messageNotFound = (id: string) => new NotFound(`Message ${id} could not be found.`);

/** cinder/message/api.py: user-visible records of asynchronous failures, per project. */
export class MessagesManager implements MessagesApi {
  constructor(private readonly v: Volume) {}

  async record(q: VQ, m: UserMessage): Promise<void> {
    const now = this.v.clock.now();
    const detail = DETAILS[m.detail] ? m.detail : "001";
    await q
      .insertInto("vol_message")
      .values({
        id: uuid(),
        project_id: m.projectId,
        request_id: m.requestId,
        resource_type: m.resourceType,
        resource_uuid: m.resourceUuid,
        event_id: `VOLUME_${m.resourceType}_${m.action}_${detail}`,
        message_level: m.level ?? "ERROR",
        action_id: m.action,
        detail_id: detail,
        created_at: now.toISOString(),
        expires_at: new Date(now.getTime() + MESSAGE_TTL_S * 1000).toISOString(),
      })
      .execute();
  }

  /** Expired messages are gone (Cinder's periodic cleanup; here: never shown). */
  private live() {
    return this.v.core.db.selectFrom("vol_message").selectAll().where("expires_at", ">", this.v.core.now());
  }

  /** message_get: a non-admin sees only its project's (project_only=True). */
  async get(id: string, projectId: string | undefined, admin: boolean): Promise<MessageRow> {
    let s = this.live().where("id", "=", id);
    if (!admin) s = s.where("project_id", "=", projectId ?? "");
    const r = await s.executeTakeFirst();
    if (!r) throw messageNotFound(id);
    return r;
  }

  async delete(id: string): Promise<void> {
    await this.v.core.db.deleteFrom("vol_message").where("id", "=", id).execute();
  }

  async list(
    projectId: string | undefined,
    admin: boolean,
    filters: Record<string, string>,
    paging: { marker: string | undefined; limit: number; offset: number; sortKeys: string[]; sortDirs: Array<"asc" | "desc"> },
  ): Promise<MessageRow[]> {
    let s = this.live();
    if (!admin) s = s.where("project_id", "=", projectId ?? "");
    const columns = ["id", "project_id", "request_id", "resource_type", "resource_uuid", "event_id", "message_level", "action_id", "detail_id"] as const;
    for (const [raw, val] of Object.entries(filters)) {
      if (raw === "all_tenants") continue;
      const like = raw.endsWith("~");
      const k = (like ? raw.slice(0, -1) : raw) as (typeof columns)[number];
      // _process_messages_filters: a key the model does not have gives an empty list.
      if (!columns.includes(k)) return [];
      s = like ? s.where(k, "like", `%${val}%`) : s.where(k, "=", val);
    }
    let rows = await s.execute();
    const keys = paging.sortKeys.length ? paging.sortKeys : ["created_at"];
    rows = rows.sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as keyof MessageRow;
        const x = a[k] ?? "";
        const y = b[k] ?? "";
        if (x !== y) return (x < y ? -1 : 1) * (paging.sortDirs[i] === "asc" ? 1 : -1);
      }
      return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
    });
    let start = 0;
    if (paging.marker !== undefined) {
      const i = rows.findIndex((r) => r.id === paging.marker);
      if (i < 0) throw new NotFound(`Marker ${paging.marker} could not be found.`);
      start = i + 1;
    }
    return rows.slice(start + paging.offset, start + paging.offset + paging.limit);
  }
}
