import { BadRequest } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { KeypairManager, KeypairRecord } from "../manager/keypairs.js";
import { envelope, invalidField, limitParam, nameField, noAdditional, pyRepr, required } from "./fleet-validate.js";
import { collectionLinks, MAX_LIMIT, strictQuery } from "./fleet-links.js";

const SAFE_20 = "_- 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const SAFE_292 = "@._- 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** The user a request acts for: ?user_id= (2.10+, the policy decides) or the caller. */
function targetUser(ctx: RequestContext): string {
  if (ctx.version!.atLeast("2.10")) {
    const u = ctx.q("user_id");
    if (u !== undefined && u !== "") return u;
  }
  return ctx.caller.userId;
}

function checkQuery(ctx: RequestContext, allowed: string[]): void {
  if (!ctx.version!.atLeast("2.75")) return;
  const bad = strictQuery(ctx, allowed);
  if (bad) throw new BadRequest(bad);
}

/** os-keypairs (keypairs.py; views/keypairs.py). */
export function keypairRoutes(keypairs: KeypairManager): Route[] {
  const withType = (ctx: RequestContext) => ctx.version!.atLeast("2.2");
  const show = (ctx: RequestContext, k: KeypairRecord) => {
    const b: Record<string, unknown> = {
      name: k.name,
      public_key: k.public_key,
      fingerprint: k.fingerprint,
      user_id: k.user_id,
      created_at: k.created_at,
      deleted: false,
      deleted_at: null,
      id: k.id,
      updated_at: null,
    };
    if (withType(ctx)) b["type"] = k.type;
    return b;
  };
  return [
    {
      method: "GET",
      path: "/v2.1/os-keypairs",
      operation: "listKeypairs",
      policy: "os_compute_api:os-keypairs:index",
      handler: async (ctx) => {
        const v = ctx.version!;
        checkQuery(ctx, ["user_id", "limit", "marker"]);
        const user = targetUser(ctx);
        ctx.enforce("os_compute_api:os-keypairs:index", { user_id: user });
        let limitRaw: number | undefined;
        let marker: string | undefined;
        if (v.atLeast("2.35")) {
          limitRaw = limitParam(ctx.q("limit"));
          marker = ctx.q("marker");
        }
        const limit = v.atLeast("2.35") ? Math.min(MAX_LIMIT, limitRaw ?? MAX_LIMIT) : undefined;
        const rows = await keypairs.list(user, limit, marker);
        const body: Record<string, unknown> = {
          keypairs: rows.map((k) => {
            const b: Record<string, unknown> = { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint };
            if (withType(ctx)) b["type"] = k.type;
            return { keypair: b };
          }),
        };
        if (v.atLeast("2.35")) {
          const links = collectionLinks(ctx, "os-keypairs", rows.length, limitRaw, rows[rows.length - 1]?.name);
          if (links.length > 0) body["keypairs_links"] = links;
        }
        return { body };
      },
    },
    {
      method: "POST",
      path: "/v2.1/os-keypairs",
      operation: "createOrImportKeypair",
      policy: "os_compute_api:os-keypairs:create",
      handler: async (ctx) => {
        const v = ctx.version!;
        const kp = envelope(ctx.body, "keypair");
        const allowed = ["name", "public_key"];
        if (v.atLeast("2.2")) allowed.push("type");
        if (v.atLeast("2.10")) allowed.push("user_id");
        required(kp, v.atLeast("2.92") ? ["name", "public_key"] : ["name"], "keypair");
        noAdditional(kp, allowed, "keypair");
        const name = nameField("name", kp["name"]);
        const safe = v.atLeast("2.92") ? SAFE_292 : SAFE_20;
        if ([...name].some((ch) => !safe.includes(ch))) {
          throw new BadRequest(`An invalid 'name' value was provided. Only expected characters: [${safe}]`);
        }
        let type: "ssh" | "x509" = "ssh";
        if (kp["type"] !== undefined) {
          if (kp["type"] !== "ssh" && kp["type"] !== "x509") throw invalidField("type", kp["type"], `${pyRepr(kp["type"])} is not one of ['ssh', 'x509']`);
          type = kp["type"];
        }
        const pub = kp["public_key"];
        if (pub !== undefined && typeof pub !== "string") throw invalidField("public_key", pub, `${pyRepr(pub)} is not of type 'string'`);
        let user = ctx.caller.userId;
        if (kp["user_id"] !== undefined) {
          if (typeof kp["user_id"] !== "string") throw invalidField("user_id", kp["user_id"], `${pyRepr(kp["user_id"])} is not of type 'string'`);
          user = kp["user_id"] || user;
        }
        ctx.enforce("os_compute_api:os-keypairs:create", { user_id: user });
        const k = await keypairs.create(ctx.caller.projectId ?? "", user, name, type, pub);
        const b: Record<string, unknown> = {};
        if (k.private_key !== undefined) b["private_key"] = k.private_key;
        if (withType(ctx)) b["type"] = k.type;
        Object.assign(b, { name: k.name, public_key: k.public_key, fingerprint: k.fingerprint, user_id: k.user_id });
        return { status: v.atLeast("2.2") ? 201 : 200, body: { keypair: b } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-keypairs/:keypair_name",
      operation: "showKeypairDetails",
      policy: "os_compute_api:os-keypairs:show",
      handler: async (ctx) => {
        checkQuery(ctx, ["user_id"]);
        const user = targetUser(ctx);
        ctx.enforce("os_compute_api:os-keypairs:show", { user_id: user });
        return { body: { keypair: show(ctx, await keypairs.show(user, ctx.params["keypair_name"]!)) } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/os-keypairs/:keypair_name",
      operation: "deleteKeypair",
      policy: "os_compute_api:os-keypairs:delete",
      handler: async (ctx) => {
        checkQuery(ctx, ["user_id"]);
        const user = targetUser(ctx);
        ctx.enforce("os_compute_api:os-keypairs:delete", { user_id: user });
        await keypairs.delete(user, ctx.params["keypair_name"]!);
        return { status: ctx.version!.atLeast("2.2") ? 204 : 202 };
      },
    },
  ];
}
