import { isIP } from "node:net";
import { BadRequest, CloudError, Gone, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { Reply } from "../../../http/context.js";
import type { MoveManager } from "../manager/moves.js";
import type { RebuildRequest, ServerActionManager } from "../manager/server-actions.js";
import { generatePassword } from "../manager/server-actions.js";
import type { ServerManager } from "../manager/servers.js";
import type { Instance } from "../store/servers.js";
import type { Compute } from "./deps.js";
import { resourceLinks } from "./fleet-links.js";
import { boolField, descriptionField, intField, invalidField, isObject, nameField, noAdditional, pyRepr, required } from "./fleet-validate.js";
import { checkPersonalityQuota, parsePersonality, serverCaller, serverTarget } from "./server-common.js";
import { compactIpv6, metadataField, renderServers } from "./servers.js";
import { proxiesServerActions } from "../manager/proxies.js";

/**
 * POST /v2.1/servers/{id}/action: one route, the action named by the body's only key
 * (nova.api.openstack.wsgi action_peek: "Malformed request body" unless exactly one key,
 * "There is no such action: X" for an unknown one, a bare 404 outside the action's
 * microversion range). Each action validates its body as Nova's schema does, finds the
 * server (another project's is 404), checks its policy against the server, then calls the
 * manager; the managers check lock and state and record the instance action.
 */

type ActionHandler = (ctx: RequestContext, inst: () => Promise<Instance>, body: unknown) => Promise<Reply>;

interface ActionDef {
  min?: string;
  max?: string;
  /** Validates the action's body before the server is looked up (Nova validates first), then policy, then the manager. */
  handler: ActionHandler;
}

const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const FQDN = /^[a-zA-Z0-9-._]*$/;
const HOSTNAME = /^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$/;
const BOOL_WORDS = ["True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"];

/** The action's own object (`{"<key>": {...}}`), or null when `nullable` and given as null. */
function inner(body: unknown, key: string, opts: { nullable?: boolean } = {}): Record<string, unknown> | null {
  const b = body as Record<string, unknown>;
  const v = b[key];
  if (v === null && opts.nullable) return null;
  if (!isObject(v)) throw invalidField(key, v, `${pyRepr(v)} is not of type 'object'${opts.nullable ? ", 'null'" : ""}`);
  return v;
}

function strField(field: string, v: unknown): string {
  if (typeof v !== "string") throw invalidField(field, v, `${pyRepr(v)} is not of type 'string'`);
  return v;
}

function hostField(field: string, v: unknown): string | null {
  if (v === null) return null;
  if (typeof v !== "string") throw invalidField(field, v, `${pyRepr(v)} is not of type 'string', 'null'`);
  if (v.length < 1) throw invalidField(field, v, `${pyRepr(v)} is too short`);
  if (v.length > 255) throw invalidField(field, v, `${pyRepr(v)} is too long`);
  if (!FQDN.test(v)) throw invalidField(field, v, `${pyRepr(v)} does not match '^[a-zA-Z0-9-._]*$'`);
  return v;
}

function uuidField(field: string, v: unknown): string {
  const s = strField(field, v);
  if (!UUID.test(s)) throw invalidField(field, v, `${pyRepr(v)} is not a 'uuid'`);
  return s;
}

function ipField(field: string, v: unknown, family: 4 | 6): string {
  const s = strField(field, v);
  if (isIP(s) !== family) throw invalidField(field, v, `${pyRepr(v)} is not a '${family === 4 ? "ipv4" : "ipv6"}'`);
  return s;
}

function diskConfig(v: unknown): boolean {
  if (v !== "AUTO" && v !== "MANUAL") throw invalidField("OS-DCF:diskConfig", v, `${pyRepr(v)} is not one of ['AUTO', 'MANUAL']`);
  return v === "AUTO";
}

/** parameter_types.boolean extended with "auto" (block_migration at 2.25). */
function blockMigration(v: unknown, auto: boolean): void {
  if (v === true || v === false || (typeof v === "string" && BOOL_WORDS.includes(v)) || (auto && v === "auto")) return;
  const words = ["True", ...BOOL_WORDS.slice(0, 10).map((w) => `'${w}'`), "False", ...BOOL_WORDS.slice(10).map((w) => `'${w}'`)];
  if (auto) words.push("'auto'");
  throw invalidField("block_migration", v, `${pyRepr(v)} is not one of [${words.join(", ")}]`);
}

function base64Field(field: string, v: unknown): string {
  const s = strField(field, v);
  if (s.length > 65535) throw invalidField(field, v, `${pyRepr(v)} is too long`);
  const clean = s.replace(/\s/g, "");
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) throw invalidField(field, v, `${pyRepr(v)} is not a 'base64'`);
  return s;
}

const CONSOLE_PROTOCOLS = ["vnc", "spice", "rdp", "serial"];
const CONSOLE_TYPES = ["novnc", "xvpvnc", "rdp-html5", "spice-html5", "serial"];

export function serverActionRoutes(c: Compute, servers: ServerManager, actions: ServerActionManager, moves: MoveManager): Route[] {
  const simple = (policy: string, run: (ctx: RequestContext, inst: Instance) => Promise<void>): ActionHandler => async (ctx, find) => {
    const inst = await find();
    ctx.enforce(policy, serverTarget(inst));
    await run(ctx, inst);
    return { status: 202 };
  };
  const admin = (ctx: RequestContext): boolean => ctx.allowed("context_is_admin", {});

  /** Remote consoles: the simulated hypervisor serves none (nova: ConsoleTypeUnavailable when the console is not enabled). */
  const noConsole = async (ctx: RequestContext, inst: Instance, type: string): Promise<never> => {
    ctx.enforce("os_compute_api:os-remote-consoles", serverTarget(inst));
    if (!inst.host || ["deleting", "migrating"].includes(inst.task_state ?? "")) {
      if (!inst.host) throw new CloudError(409, `Instance ${inst.uuid} is not ready`);
      throw new CloudError(409, `Cannot 'get_vnc_console' instance ${inst.uuid} while it is in task_state ${inst.task_state}`);
    }
    throw new BadRequest(`Unavailable console type ${type}.`);
  };
  const legacyConsole = (key: string, types: string[]): ActionDef => ({
    max: "2.5",
    handler: async (ctx, find, body) => {
      const b = inner(body, key);
      required(b!, ["type"], key);
      noAdditional(b!, ["type"], key);
      const t = b!["type"];
      if (typeof t !== "string" || !types.includes(t)) throw invalidField("type", t, `${pyRepr(t)} is not one of [${types.map((x) => `'${x}'`).join(", ")}]`);
      return noConsole(ctx, await find(), t);
    },
  });

  const defs: Record<string, ActionDef> = {
    reboot: {
      handler: async (ctx, find, body) => {
        const b = inner(body, "reboot")!;
        required(b, ["type"], "reboot");
        noAdditional(b, ["type"], "reboot");
        const t = b["type"];
        const allowed = ["HARD", "Hard", "hard", "SOFT", "Soft", "soft"];
        if (typeof t !== "string" || !allowed.includes(t)) throw invalidField("type", t, `${pyRepr(t)} is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']`);
        const inst = await find();
        ctx.enforce("os_compute_api:servers:reboot", serverTarget(inst));
        await actions.reboot(serverCaller(ctx), inst, t.toUpperCase() === "HARD" ? "HARD" : "SOFT");
        return { status: 202 };
      },
    },
    "os-stop": { handler: simple("os_compute_api:servers:stop", (ctx, i) => actions.cycle(serverCaller(ctx), i, "stop")) },
    "os-start": { handler: simple("os_compute_api:servers:start", (ctx, i) => actions.cycle(serverCaller(ctx), i, "start")) },
    pause: { handler: simple("os_compute_api:os-pause-server:pause", (ctx, i) => actions.cycle(serverCaller(ctx), i, "pause")) },
    unpause: { handler: simple("os_compute_api:os-pause-server:unpause", (ctx, i) => actions.cycle(serverCaller(ctx), i, "unpause")) },
    suspend: { handler: simple("os_compute_api:os-suspend-server:suspend", (ctx, i) => actions.cycle(serverCaller(ctx), i, "suspend")) },
    resume: { handler: simple("os_compute_api:os-suspend-server:resume", (ctx, i) => actions.cycle(serverCaller(ctx), i, "resume")) },
    unrescue: { handler: simple("os_compute_api:os-unrescue", (ctx, i) => actions.cycle(serverCaller(ctx), i, "unrescue")) },
    lock: {
      handler: async (ctx, find, body) => {
        let reason: string | null = null;
        if (ctx.version!.atLeast("2.73")) {
          const b = inner(body, "lock", { nullable: true });
          if (b) {
            noAdditional(b, ["locked_reason"], "lock");
            if (b["locked_reason"] !== undefined) {
              reason = strField("locked_reason", b["locked_reason"]);
              if (reason.length > 255) throw invalidField("locked_reason", reason, `${pyRepr(reason)} is too long`);
            }
          }
        }
        const inst = await find();
        ctx.enforce("os_compute_api:os-lock-server:lock", serverTarget(inst));
        await actions.lock(serverCaller(ctx), inst, reason);
        return { status: 202 };
      },
    },
    unlock: {
      handler: async (ctx, find) => {
        const inst = await find();
        const caller = serverCaller(ctx);
        ctx.enforce("os_compute_api:os-lock-server:unlock", serverTarget(inst));
        if (!actions.expectedLocker(caller, inst)) ctx.enforce("os_compute_api:os-lock-server:unlock:unlock_override", serverTarget(inst));
        await actions.unlock(caller, inst);
        return { status: 202 };
      },
    },
    rescue: {
      handler: async (ctx, find, body) => {
        const b = inner(body, "rescue", { nullable: true });
        let adminPass: string | undefined;
        let image: string | undefined;
        if (b) {
          noAdditional(b, ["adminPass", "rescue_image_ref"], "rescue");
          if (b["adminPass"] !== undefined) adminPass = strField("adminPass", b["adminPass"]);
          if (b["rescue_image_ref"] !== undefined) image = uuidField("rescue_image_ref", b["rescue_image_ref"]);
        }
        const inst = await find();
        ctx.enforce("os_compute_api:os-rescue", serverTarget(inst));
        const pw = await actions.rescue(serverCaller(ctx), inst, { ...(adminPass !== undefined ? { adminPass } : {}), ...(image ? { rescueImageRef: image } : {}) });
        return { status: 200, body: { adminPass: pw } };
      },
    },
    "os-resetState": {
      handler: async (ctx, find, body) => {
        const b = inner(body, "os-resetState")!;
        required(b, ["state"], "os-resetState");
        noAdditional(b, ["state"], "os-resetState");
        const s = b["state"];
        if (s !== "active" && s !== "error") throw invalidField("state", s, `${pyRepr(s)} is not one of ['active', 'error']`);
        const inst = await find();
        ctx.enforce("os_compute_api:os-admin-actions:reset_state", serverTarget(inst));
        await actions.resetState(serverCaller(ctx), inst, s);
        return { status: 202 };
      },
    },
    injectNetworkInfo: {
      handler: async (ctx, find) => {
        const inst = await find();
        ctx.enforce("os_compute_api:os-admin-actions:inject_network_info", serverTarget(inst));
        c.instances.checkLock(inst, serverCaller(ctx));
        return { status: 202 };
      },
    },
    resetNetwork: {
      handler: async () => {
        throw new Gone("The resource is no longer available.");
      },
    },
    trigger_crash_dump: {
      min: "2.17",
      handler: async (ctx, find, body) => {
        const b = body as Record<string, unknown>;
        if (b["trigger_crash_dump"] !== null) throw invalidField("trigger_crash_dump", b["trigger_crash_dump"], `${pyRepr(b["trigger_crash_dump"])} is not of type 'null'`);
        const inst = await find();
        ctx.enforce("os_compute_api:servers:trigger_crash_dump", serverTarget(inst));
        await actions.triggerCrashDump(serverCaller(ctx), inst);
        return { status: 202 };
      },
    },
    resize: {
      handler: async (ctx, find, body) => {
        const b = inner(body, "resize")!;
        required(b, ["flavorRef"], "resize");
        noAdditional(b, ["flavorRef", "OS-DCF:diskConfig"], "resize");
        const f = b["flavorRef"];
        if (typeof f !== "string" && typeof f !== "number") throw invalidField("flavorRef", f, `${pyRepr(f)} is not of type 'string', 'integer'`);
        if (typeof f === "string" && f.length < 1) throw invalidField("flavorRef", f, `${pyRepr(f)} is too short`);
        const disk = b["OS-DCF:diskConfig"] !== undefined ? diskConfig(b["OS-DCF:diskConfig"]) : undefined;
        const inst = await find();
        ctx.enforce("os_compute_api:servers:resize", serverTarget(inst));
        const flavorId = String(f).split("/").pop()!;
        await moves.resize(serverCaller(ctx), inst, { flavorId, admin: admin(ctx), ...(disk !== undefined ? { autoDiskConfig: disk } : {}) });
        return { status: 202 };
      },
    },
    confirmResize: {
      handler: async (ctx, find) => {
        const inst = await find();
        ctx.enforce("os_compute_api:servers:confirm_resize", serverTarget(inst));
        await moves.confirmResize(serverCaller(ctx), inst);
        return { status: 204 };
      },
    },
    revertResize: {
      handler: simple("os_compute_api:servers:revert_resize", (ctx, i) => moves.revertResize(serverCaller(ctx), i)),
    },
    migrate: {
      handler: async (ctx, find, body) => {
        let host: string | null = null;
        if (ctx.version!.atLeast("2.56")) {
          const b = inner(body, "migrate", { nullable: true });
          if (b) {
            noAdditional(b, ["host"], "migrate");
            if (b["host"] !== undefined) host = hostField("host", b["host"]);
          }
        }
        const inst = await find();
        ctx.enforce("os_compute_api:os-migrate-server:migrate", serverTarget(inst));
        await moves.resize(serverCaller(ctx), inst, { host, admin: true });
        return { status: 202 };
      },
    },
    "os-migrateLive": {
      handler: async (ctx, find, body) => {
        const v = ctx.version!;
        const b = inner(body, "os-migrateLive")!;
        const allowed = ["block_migration", "host"];
        const req = ["block_migration", "host"];
        if (!v.atLeast("2.25")) {
          allowed.push("disk_over_commit");
          req.push("disk_over_commit");
        }
        if (v.atLeast("2.30") && !v.atLeast("2.68")) allowed.push("force");
        required(b, req, "os-migrateLive");
        noAdditional(b, allowed, "os-migrateLive");
        blockMigration(b["block_migration"], v.atLeast("2.25"));
        if (b["disk_over_commit"] !== undefined) boolField("disk_over_commit", b["disk_over_commit"]);
        const host = hostField("host", b["host"]);
        const force = b["force"] !== undefined ? boolField("force", b["force"]) : false;
        if (force && !host) throw new BadRequest("Can't force to a non-provided destination");
        const inst = await find();
        ctx.enforce("os_compute_api:os-migrate-server:migrate_live", serverTarget(inst));
        await moves.liveMigrate(serverCaller(ctx), inst, { host, force, sync: !v.atLeast("2.34") });
        return { status: 202 };
      },
    },
    evacuate: {
      handler: async (ctx, find, body) => {
        const v = ctx.version!;
        const b = inner(body, "evacuate")!;
        const allowed = ["host", "adminPass"];
        if (!v.atLeast("2.14")) allowed.push("onSharedStorage");
        if (v.atLeast("2.29") && !v.atLeast("2.68")) allowed.push("force");
        if (!v.atLeast("2.14")) required(b, ["onSharedStorage"], "evacuate");
        noAdditional(b, allowed, "evacuate");
        const host = b["host"] !== undefined ? hostField("host", b["host"]) : null;
        let shared = false;
        if (b["onSharedStorage"] !== undefined) shared = boolField("onSharedStorage", b["onSharedStorage"]);
        let adminPass: string | null = null;
        if (b["adminPass"] !== undefined) {
          adminPass = strField("adminPass", b["adminPass"]);
          if (shared) throw new BadRequest("admin password can't be changed on existing disk");
        } else if (!shared) adminPass = generatePassword();
        const force = b["force"] !== undefined ? boolField("force", b["force"]) : false;
        if (force && !host) throw new BadRequest("Can't force to a non-provided destination");
        const inst = await find();
        ctx.enforce("os_compute_api:os-evacuate", serverTarget(inst));
        if (host !== null && !(await c.hosts.byName(host))) throw new NotFound(`Compute host ${host} not found.`);
        if (inst.host === host) throw new BadRequest("The target host can't be the same one.");
        await moves.evacuate(serverCaller(ctx), inst, { host, force, adminPass });
        if (!v.atLeast("2.14")) return { status: 200, body: { adminPass } };
        return { status: 200 };
      },
    },
    rebuild: {
      handler: async (ctx, find, body) => {
        const v = ctx.version!;
        const b = inner(body, "rebuild")!;
        const allowed = ["name", "imageRef", "adminPass", "metadata", "preserve_ephemeral", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6"];
        if (!v.atLeast("2.57")) allowed.push("personality");
        if (v.atLeast("2.19")) allowed.push("description");
        if (v.atLeast("2.54")) allowed.push("key_name");
        if (v.atLeast("2.57")) allowed.push("user_data");
        if (v.atLeast("2.63")) allowed.push("trusted_image_certificates");
        if (v.atLeast("2.90")) allowed.push("hostname");
        required(b, ["imageRef"], "rebuild");
        noAdditional(b, allowed, "rebuild");
        const req: RebuildRequest = { imageRef: uuidField("imageRef", b["imageRef"]), adminPass: "" };
        if (b["name"] !== undefined) req.name = nameField("name", b["name"]);
        if (b["adminPass"] !== undefined) req.adminPass = strField("adminPass", b["adminPass"]);
        else req.adminPass = generatePassword();
        if (b["metadata"] !== undefined) req.metadata = metadataField("metadata", b["metadata"]);
        if (b["preserve_ephemeral"] !== undefined) req.preserveEphemeral = boolField("preserve_ephemeral", b["preserve_ephemeral"]);
        if (b["OS-DCF:diskConfig"] !== undefined) req.autoDiskConfig = diskConfig(b["OS-DCF:diskConfig"]);
        if (b["accessIPv4"] !== undefined) req.accessIPv4 = ipField("accessIPv4", b["accessIPv4"], 4);
        if (b["accessIPv6"] !== undefined) req.accessIPv6 = compactIpv6(ipField("accessIPv6", b["accessIPv6"], 6));
        if (b["description"] !== undefined) req.description = descriptionField("description", b["description"], 255);
        if (b["key_name"] !== undefined) {
          const k = b["key_name"];
          if (k !== null && (typeof k !== "string" || k.length < 1 || k.length > 255)) throw invalidField("key_name", k, `${pyRepr(k)} is not valid under any of the given schemas`);
          req.keyName = k as string | null;
        }
        if (b["user_data"] !== undefined) req.userData = b["user_data"] === null ? null : base64Field("user_data", b["user_data"]);
        if (b["hostname"] !== undefined) {
          const h = strField("hostname", b["hostname"]);
          if (h.length < 2 || h.length > 63 || !HOSTNAME.test(h)) throw invalidField("hostname", h, `${pyRepr(h)} does not match '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$'`);
          req.hostname = h;
        }
        if (b["trusted_image_certificates"] !== undefined) {
          const t = b["trusted_image_certificates"];
          if (t !== null && (!Array.isArray(t) || t.length < 1 || t.length > 50 || t.some((x) => typeof x !== "string" || x.length < 1))) {
            throw invalidField("trusted_image_certificates", t, `${pyRepr(t)} is not valid under any of the given schemas`);
          }
          req.trustedCerts = t as string[] | null;
        }
        const files = parsePersonality(b["personality"]);
        const inst = await find();
        const target = serverTarget(inst);
        ctx.enforce("os_compute_api:servers:rebuild", target);
        await checkPersonalityQuota(c, inst.project_id, inst.user_id, files);
        if (req.trustedCerts !== undefined) ctx.enforce("os_compute_api:servers:rebuild:trusted_certs", target);
        const caller = serverCaller(ctx);
        const updated = await actions.rebuild(caller, inst, req);
        // servers.py _action_rebuild: the base view below 2.75, server_groups from 2.71.
        const [server] = await renderServers(ctx, servers, [updated], { baseOnly: !v.atLeast("2.75"), refresh: v.atLeast("2.71"), rebuild: true });
        // show(..., show_keypair=2.54, show_user_data=False): key_name in the base view, no extended user_data.
        if (v.atLeast("2.54")) server!["key_name"] = updated.key_name;
        delete server!["OS-EXT-SRV-ATTR:user_data"];
        server!["adminPass"] = req.adminPass;
        if (v.atLeast("2.57")) server!["user_data"] = updated.user_data;
        const links = resourceLinks(ctx, "servers", inst.uuid);
        return { status: 202, body: { server }, headers: { location: links[0]!.href } };
      },
    },
    createImage: {
      handler: async (ctx, find, body) => {
        const b = inner(body, "createImage")!;
        required(b, ["name"], "createImage");
        noAdditional(b, ["name", "metadata"], "createImage");
        const name = nameField("name", b["name"]);
        const meta = b["metadata"] !== undefined ? metadataField("metadata", b["metadata"]) : {};
        const inst = await find();
        ctx.enforce("os_compute_api:servers:create_image", serverTarget(inst));
        const id = await actions.snapshot(serverCaller(ctx), inst, name, meta);
        if (ctx.version!.atLeast("2.45")) return { status: 202, body: { image_id: id } };
        return { status: 202, headers: { location: imageUrl(ctx, id) } };
      },
    },
    createBackup: {
      handler: async (ctx, find, body) => {
        const b = inner(body, "createBackup")!;
        required(b, ["name", "backup_type", "rotation"], "createBackup");
        noAdditional(b, ["name", "backup_type", "rotation", "metadata"], "createBackup");
        const name = nameField("name", b["name"]);
        const type = strField("backup_type", b["backup_type"]);
        const rotation = intField("rotation", b["rotation"], 0);
        const meta = b["metadata"] !== undefined ? metadataField("metadata", b["metadata"]) : {};
        const inst = await find();
        ctx.enforce("os_compute_api:os-create-backup", serverTarget(inst));
        const id = await actions.snapshot(serverCaller(ctx), inst, name, meta, { type, rotation });
        if (ctx.version!.atLeast("2.45")) return { status: 202, body: { image_id: id } };
        return rotation > 0 ? { status: 202, headers: { location: imageUrl(ctx, id) } } : { status: 202 };
      },
    },
    shelve: { handler: simple("os_compute_api:os-shelve:shelve", (ctx, i) => actions.shelve(serverCaller(ctx), i)) },
    shelveOffload: { handler: simple("os_compute_api:os-shelve:shelve_offload", (ctx, i) => actions.shelveOffload(serverCaller(ctx), i)) },
    unshelve: {
      handler: async (ctx, find, body) => {
        const v = ctx.version!;
        const raw = (body as Record<string, unknown>)["unshelve"];
        const opts: { availabilityZone?: string | null; host?: string | null } = {};
        if (v.atLeast("2.91")) {
          if (raw !== null) {
            if (!isObject(raw)) throw invalidField("unshelve", raw, `${pyRepr(raw)} is not valid under any of the given schemas`);
            noAdditional(raw, ["availability_zone", "host"], "unshelve");
            if (raw["availability_zone"] !== undefined) {
              const az = raw["availability_zone"];
              if (az !== null && typeof az !== "string") throw invalidField("availability_zone", az, `${pyRepr(az)} is not valid under any of the given schemas`);
              opts.availabilityZone = az as string | null;
            }
            if (raw["host"] !== undefined) opts.host = strField("host", raw["host"]);
          }
        } else if (v.atLeast("2.77")) {
          if (raw !== null) {
            if (!isObject(raw)) throw invalidField("unshelve", raw, `${pyRepr(raw)} is not of type 'object', 'null'`);
            required(raw, ["availability_zone"], "unshelve");
            noAdditional(raw, ["availability_zone"], "unshelve");
            opts.availabilityZone = nameField("availability_zone", raw["availability_zone"]);
          }
        }
        const inst = await find();
        ctx.enforce("os_compute_api:os-shelve:unshelve", serverTarget(inst));
        if (opts.host) ctx.enforce("os_compute_api:os-shelve:unshelve_to_host", serverTarget(inst));
        await actions.unshelve(serverCaller(ctx), inst, opts);
        return { status: 202 };
      },
    },
    changePassword: {
      handler: async (ctx, find, body) => {
        const b = inner(body, "changePassword")!;
        required(b, ["adminPass"], "changePassword");
        noAdditional(b, ["adminPass"], "changePassword");
        strField("adminPass", b["adminPass"]);
        const inst = await find();
        ctx.enforce("os_compute_api:os-admin-password", serverTarget(inst));
        return actions.changePassword(serverCaller(ctx), inst);
      },
    },
    "os-getConsoleOutput": {
      handler: async (ctx, find, body) => {
        const b = inner(body, "os-getConsoleOutput")!;
        noAdditional(b, ["length"], "os-getConsoleOutput");
        let length: number | null = null;
        const l = b["length"];
        if (l !== undefined && l !== null) {
          if (typeof l === "number") {
            if (!Number.isInteger(l)) throw invalidField("length", l, `${pyRepr(l)} is not valid under any of the given schemas`);
            if (l < -1) throw invalidField("length", l, `${pyRepr(l)} is less than the minimum of -1`);
            length = l;
          } else if (typeof l === "string" && /^-?[0-9]+$/.test(l)) {
            length = Number(l);
            if (length < -1) throw invalidField("length", l, `${pyRepr(l)} is less than the minimum of -1`);
          } else {
            throw invalidField("length", l, `${pyRepr(l)} is not valid under any of the given schemas`);
          }
          if (length === -1) length = null;
        }
        const inst = await find();
        ctx.enforce("os_compute_api:os-console-output", serverTarget(inst));
        return { status: 200, body: { output: actions.consoleOutput(inst, length) } };
      },
    },
    "os-getVNCConsole": legacyConsole("os-getVNCConsole", ["novnc", "xvpvnc"]),
    "os-getSPICEConsole": legacyConsole("os-getSPICEConsole", ["spice-html5"]),
    "os-getRDPConsole": legacyConsole("os-getRDPConsole", ["rdp-html5"]),
    "os-getSerialConsole": legacyConsole("os-getSerialConsole", ["serial"]),
    addFixedIp: {
      max: "2.43",
      handler: async (ctx, find, body) => {
        const b = inner(body, "addFixedIp")!;
        required(b, ["networkId"], "addFixedIp");
        noAdditional(b, ["networkId"], "addFixedIp");
        const n = b["networkId"];
        if (typeof n !== "string" && typeof n !== "number") throw invalidField("networkId", n, `${pyRepr(n)} is not of type 'string', 'number'`);
        if (typeof n === "string" && n.length < 1) throw invalidField("networkId", n, `${pyRepr(n)} is too short`);
        if (typeof n === "string" && n.length > 36) throw invalidField("networkId", n, `${pyRepr(n)} is too long`);
        const inst = await find();
        ctx.enforce("os_compute_api:os-multinic:add", { project_id: inst.project_id });
        await actions.multinic(serverCaller(ctx), inst, { networkId: String(n) });
        return { status: 202 };
      },
    },
    removeFixedIp: {
      max: "2.43",
      handler: async (ctx, find, body) => {
        const b = inner(body, "removeFixedIp")!;
        required(b, ["address"], "removeFixedIp");
        noAdditional(b, ["address"], "removeFixedIp");
        const a = b["address"];
        if (typeof a !== "string" || isIP(a) === 0) throw invalidField("address", a, `${pyRepr(a)} is not valid under any of the given schemas`);
        const inst = await find();
        ctx.enforce("os_compute_api:os-multinic:remove", { project_id: inst.project_id });
        await actions.multinic(serverCaller(ctx), inst, { address: a });
        return { status: 202 };
      },
    },
    restore: { handler: simple("os_compute_api:os-deferred-delete:restore", (ctx, i) => actions.restore(serverCaller(ctx), i)) },
    forceDelete: { handler: simple("os_compute_api:os-deferred-delete:force", (ctx, i) => actions.forceDelete(serverCaller(ctx), i)) },
    ...proxiesServerActions(c), // addSecurityGroup, removeSecurityGroup, addFloatingIp, removeFloatingIp (the proxies area)
  };

  return [
    {
      method: "POST",
      path: "/v2.1/servers/:server_id/action",
      operation: "serverAction",
      handler: async (ctx) => {
        const body = ctx.body;
        if (!isObject(body) || Object.keys(body).length !== 1) throw new BadRequest("Malformed request body");
        const name = Object.keys(body)[0]!;
        const def = defs[name];
        if (!def) throw new BadRequest(`There is no such action: ${name}`);
        const v = ctx.version!;
        if ((def.min && !v.atLeast(def.min)) || (def.max && v.atLeast(nextVersion(def.max)))) throw new NotFound("The resource could not be found.");
        const id = ctx.params["server_id"]!;
        const find = () => c.instances.get(serverCaller(ctx), id);
        return def.handler(ctx, find, body);
      },
    },
    {
      method: "POST",
      path: "/v2.1/servers/:server_id/remote-consoles",
      operation: "createRemoteConsole",
      minVersion: "2.6",
      policy: "os_compute_api:os-remote-consoles",
      handler: async (ctx) => {
        const v = ctx.version!;
        const body = ctx.body;
        if (!isObject(body)) throw new BadRequest(`${pyRepr(body)} is not of type 'object'`);
        if (!("remote_console" in body)) throw new BadRequest("'remote_console' is a required property");
        noAdditional(body, ["remote_console"], undefined);
        const rc = body["remote_console"];
        if (!isObject(rc)) throw invalidField("remote_console", rc, `${pyRepr(rc)} is not of type 'object'`);
        required(rc, ["protocol", "type"], "remote_console");
        noAdditional(rc, ["protocol", "type"], "remote_console");
        const protocols = v.atLeast("2.8") ? [...CONSOLE_PROTOCOLS, "mks"] : CONSOLE_PROTOCOLS;
        const types = v.atLeast("2.8") ? [...CONSOLE_TYPES, "webmks"] : CONSOLE_TYPES;
        if (typeof rc["protocol"] !== "string" || !protocols.includes(rc["protocol"])) {
          throw invalidField("protocol", rc["protocol"], `${pyRepr(rc["protocol"])} is not one of [${protocols.map((p) => `'${p}'`).join(", ")}]`);
        }
        if (typeof rc["type"] !== "string" || !types.includes(rc["type"])) {
          throw invalidField("type", rc["type"], `${pyRepr(rc["type"])} is not one of [${types.map((p) => `'${p}'`).join(", ")}]`);
        }
        const inst = await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!);
        return noConsole(ctx, inst, rc["type"]);
      },
    },
  ];
}

/** The next microversion after "2.N" (an action's max is inclusive). */
function nextVersion(v: string): string {
  const [maj, min] = v.split(".");
  return `${maj}.${Number(min) + 1}`;
}

/** glance.API().generate_image_url: the image service's endpoint + /images/{id}. */
function imageUrl(ctx: RequestContext, id: string): string {
  const base = ctx.serviceUrl.replace(/\/compute$/, "");
  return `${base}/image/images/${id}`;
}
