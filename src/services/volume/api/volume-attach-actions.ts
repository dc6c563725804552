import { BadRequest } from "../../../common/errors.js";
import type { RequestContext } from "../../../http/context.js";
import type { AttachmentManager } from "../manager/attachments.js";
import type { Volume } from "./deps.js";
import { isObject, pyRepr } from "../../../common/jsonschema-messages.js";
import { attachCaller, invalid, noExtra, uuidField } from "./attachments.js";

/**
 * The legacy attach actions on POST /volumes/{id}/action (api/contrib/volume_actions.py and
 * admin_actions.py force_detach), as Nova before the attachments API and Tempest use them.
 */
export function registerAttachActions(v: Volume, m: AttachmentManager): void {
  /** volume_api.get then the action's policy against the volume's project. */
  const load = async (ctx: RequestContext, rule: string) => {
    const caller = attachCaller(ctx);
    const vol = await m.volume(caller, ctx.params["volume_id"]!);
    ctx.enforce(rule, { project_id: vol.project_id });
    return { caller, vol };
  };
  /** The action's value must be an object (schema `{"type": "object"}` under the action key). */
  const body = (name: string, value: unknown, allowNull = false): Record<string, unknown> => {
    if (value === null && allowNull) return {};
    if (!isObject(value)) throw invalid(name, value, `${pyRepr(value)} is not of type 'object'${allowNull ? ", 'null'" : ""}`);
    return value;
  };
  const simple = (name: string, rule: string, run: (caller: ReturnType<typeof attachCaller>, id: string) => Promise<void>) =>
    v.actions.register("volumes", name, {
      handler: async (ctx) => {
        const { caller, vol } = await load(ctx, rule);
        await run(caller, vol.id);
        return { status: 202 };
      },
    });

  simple("os-reserve", "volume_extension:volume_actions:reserve", (c, id) => m.reserve(c, id));
  simple("os-unreserve", "volume_extension:volume_actions:unreserve", (c, id) => m.unreserve(c, id));
  simple("os-begin_detaching", "volume_extension:volume_actions:begin_detaching", (c, id) => m.beginDetaching(c, id));
  simple("os-roll_detaching", "volume_extension:volume_actions:roll_detaching", (c, id) => m.rollDetaching(c, id));

  v.actions.register("volumes", "os-attach", {
    handler: async (ctx, value) => {
      const b = body("os-attach", value);
      noExtra(b, ["instance_uuid", "mountpoint", "host_name", "mode"], "os-attach");
      if (!("mountpoint" in b)) throw invalid("os-attach", b, "'mountpoint' is a required property");
      if (!("instance_uuid" in b) && !("host_name" in b)) throw invalid("os-attach", b, `${pyRepr(b)} is not valid under any of the given schemas`);
      const instanceUuid = b["instance_uuid"] === undefined ? null : uuidField("instance_uuid", b["instance_uuid"]);
      const mp = b["mountpoint"];
      if (typeof mp !== "string") throw invalid("mountpoint", mp, `${pyRepr(mp)} is not of type 'string'`);
      if (mp.length < 1) throw invalid("mountpoint", mp, `${pyRepr(mp)} is too short`);
      if (mp.length > 255) throw invalid("mountpoint", mp, `${pyRepr(mp)} is too long`);
      const hn = b["host_name"];
      if (hn !== undefined && typeof hn !== "string") throw invalid("host_name", hn, `${pyRepr(hn)} is not of type 'string'`);
      if (typeof hn === "string" && hn.length > 255) throw invalid("host_name", hn, `${pyRepr(hn)} is too long`);
      const mode = b["mode"] ?? "rw";
      if (mode !== "rw" && mode !== "ro") throw invalid("mode", mode, `${pyRepr(mode)} is not one of ['rw', 'ro']`);
      const { caller, vol } = await load(ctx, "volume_extension:volume_actions:attach");
      await m.attach(caller, vol.id, { instanceUuid, hostName: (hn as string | undefined) ?? null, mountpoint: mp, mode });
      return { status: 202 };
    },
  });

  v.actions.register("volumes", "os-detach", {
    handler: async (ctx, value) => {
      const b = body("os-detach", value, true);
      noExtra(b, ["attachment_id"], "os-detach");
      const aid = b["attachment_id"] === undefined || b["attachment_id"] === null ? null : uuidField("attachment_id", b["attachment_id"]);
      const { caller, vol } = await load(ctx, "volume_extension:volume_actions:detach");
      await m.detach(caller, vol.id, aid);
      return { status: 202 };
    },
  });

  v.actions.register("volumes", "os-initialize_connection", {
    handler: async (ctx, value) => {
      const b = body("os-initialize_connection", value);
      noExtra(b, ["connector"], "os-initialize_connection");
      if (!("connector" in b)) throw invalid("os-initialize_connection", b, "'connector' is a required property");
      const c = b["connector"];
      if (!isObject(c) && typeof c !== "string") throw invalid("connector", c, `${pyRepr(c)} is not of type 'object', 'string'`);
      const { caller, vol } = await load(ctx, "volume_extension:volume_actions:initialize_connection");
      return { status: 200, body: { connection_info: await m.initializeConnection(caller, vol.id, c) } };
    },
  });

  v.actions.register("volumes", "os-terminate_connection", {
    handler: async (ctx, value) => {
      const b = body("os-terminate_connection", value);
      noExtra(b, ["connector"], "os-terminate_connection");
      if (!("connector" in b)) throw invalid("os-terminate_connection", b, "'connector' is a required property");
      const c = b["connector"];
      if (c !== null && !isObject(c) && typeof c !== "string") throw invalid("connector", c, `${pyRepr(c)} is not of type 'string', 'object', 'null'`);
      const { caller, vol } = await load(ctx, "volume_extension:volume_actions:terminate_connection");
      await m.terminateConnection(caller, vol.id);
      return { status: 202 };
    },
  });

  v.actions.register("volumes", "os-force_detach", {
    handler: async (ctx, value) => {
      const b = body("os-force_detach", value);
      noExtra(b, ["connector", "attachment_id"], "os-force_detach");
      const c = b["connector"];
      if (c !== undefined && c !== null && !isObject(c) && typeof c !== "string") throw invalid("connector", c, `${pyRepr(c)} is not of type 'string', 'object', 'null'`);
      const aid = b["attachment_id"];
      if (aid !== undefined && aid !== null && typeof aid !== "string") throw invalid("attachment_id", aid, `${pyRepr(aid)} is not of type 'string', 'null'`);
      const { caller, vol } = await load(ctx, "volume_extension:volume_admin_actions:force_detach");
      await m.terminateConnection(caller, vol.id);
      try {
        await m.detach(caller, vol.id, (aid as string | null | undefined) ?? null, "Error force detaching volume");
      } catch (e) {
        if (e instanceof BadRequest && e.message.startsWith("Invalid volume:")) throw new BadRequest(`Error force detaching volume - InvalidVolume: ${e.message}`);
        throw e;
      }
      return { status: 202 };
    },
  });
}
