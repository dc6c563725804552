import type { RequestContext, Route } from "../../../http/context.js";
import type { Volume } from "./deps.js";
import { parsePaging, truthy } from "./common.js";
import type { SnapshotManager } from "../manager/snapshots.js";
import { callerOf } from "../manager/snapshots.js";
import type { TransferManager } from "../manager/transfers.js";
import { transferDetail, transferList, transferSummary } from "../views/transfers.js";
import type { FieldKind } from "./snapshots.js";
import { invalidField, pyRepr } from "../../../common/jsonschema-messages.js";
import { checkBody, queryFilters, strictBool } from "./snapshots.js";

/**
 * Volume transfers, at the v2-style /os-volume-transfer (contrib/volume_transfer.py) and at
 * /volume-transfers (api/v3/volume_transfer.py: no_snapshots 3.55, pagination 3.59).
 */
export function transfersRoutes(_v: Volume, transfers: TransferManager, snaps: SnapshotManager): Route[] {
  const routes: Route[] = [];
  for (const coll of ["os-volume-transfer", "volume-transfers"] as const) {
    const v3 = coll === "volume-transfers";
    const list = (detail: boolean) => async (ctx: RequestContext) => {
      ctx.enforce("volume:get_all_transfers", { project_id: ctx.caller.projectId, user_id: ctx.caller.userId });
      const c = callerOf(ctx);
      // Before 3.59 (and on the contrib resource) the list is created_at, id ascending, then limited.
      const paged = v3 && ctx.version!.atLeast("3.59");
      const paging = paged ? parsePaging(ctx, ["id", "created_at", "updated_at", "display_name", "volume_id"]) : { ...parsePaging(ctx, ["created_at"]), marker: undefined, sortKeys: ["created_at", "id"], sortDirs: ["asc", "asc"] as Array<"asc" | "desc"> };
      const filters = queryFilters(ctx);
      const allTenants = truthy(filters["all_tenants"]);
      delete filters["all_tenants"];
      if ("name" in filters) {
        filters["display_name"] = filters["name"]!;
        delete filters["name"];
      }
      const rows = await transfers.list(c, { allTenants, filters, paging });
      return { body: transferList(ctx, rows, detail, paging) };
    };
    routes.push(
      { method: "GET", path: `/${coll}`, operation: v3 ? "listVolumeTransfers" : "listTransfersLegacy", policy: "volume:get_all_transfers", handler: list(false) },
      { method: "GET", path: `/${coll}/detail`, operation: v3 ? "listVolumeTransfersDetail" : "listTransfersDetailLegacy", policy: "volume:get_all_transfers", handler: list(true) },
      {
        method: "POST",
        path: `/${coll}`,
        operation: v3 ? "createVolumeTransfer" : "createTransferLegacy",
        policy: "volume:create_transfer",
        handler: async (ctx) => {
          const withSnaps = v3 && ctx.version!.atLeast("3.55");
          const props: Record<string, FieldKind> = { volume_id: "uuid", name: "string-or-null" };
          if (withSnaps) props["no_snapshots"] = "boolean";
          const t = checkBody(ctx.body, "transfer", props, ["volume_id"]);
          let name: string | null = null;
          if (typeof t["name"] === "string") {
            // format name_skip_leading_trailing_spaces: not blank, at most 255 characters once stripped.
            const n = t["name"].trim();
            if (n.length === 0) throw invalidField("name", t["name"], "The 'name' can not be None.");
            if ([...n].length > 255) throw invalidField("name", t["name"], `${pyRepr(t["name"])} is not a 'name_skip_leading_trailing_spaces'`);
            name = n;
          }
          const c = callerOf(ctx);
          const vol = await snaps.volume(c, t["volume_id"] as string);
          ctx.enforce("volume:create_transfer", { project_id: vol.project_id });
          const noSnapshots = withSnaps && t["no_snapshots"] !== undefined ? strictBool(t["no_snapshots"]) : false;
          const { row, authKey } = await transfers.create(vol, name, noSnapshots, v3 && ctx.version!.atLeast("3.70"));
          return { status: 202, body: { transfer: transferDetail(ctx, row, authKey) } };
        },
      },
      {
        method: "GET",
        path: `/${coll}/:transfer_id`,
        operation: v3 ? "showVolumeTransfer" : "showTransferLegacy",
        policy: "volume:get_transfer",
        handler: async (ctx) => {
          ctx.enforce("volume:get_transfer", { project_id: ctx.caller.projectId, user_id: ctx.caller.userId });
          const t = await transfers.get(callerOf(ctx), ctx.params["transfer_id"]!);
          return { body: { transfer: transferDetail(ctx, t) } };
        },
      },
      {
        method: "DELETE",
        path: `/${coll}/:transfer_id`,
        operation: v3 ? "deleteVolumeTransfer" : "deleteTransferLegacy",
        policy: "volume:delete_transfer",
        handler: async (ctx) => {
          const c = callerOf(ctx);
          const t = await transfers.get(c, ctx.params["transfer_id"]!);
          const vol = await snaps.volume({ ...c, admin: true }, t.volume_id).catch(() => undefined);
          ctx.enforce("volume:delete_transfer", { project_id: vol?.project_id ?? t.source_project_id });
          await transfers.delete(t);
          return { status: 202 };
        },
      },
      {
        method: "POST",
        path: `/${coll}/:transfer_id/accept`,
        operation: v3 ? "acceptVolumeTransfer" : "acceptTransferLegacy",
        policy: "volume:accept_transfer",
        handler: async (ctx) => {
          const a = checkBody(ctx.body, "accept", { auth_key: "string-or-integer" }, ["auth_key"]);
          ctx.enforce("volume:accept_transfer", { project_id: ctx.caller.projectId, user_id: ctx.caller.userId });
          const t = await transfers.accept(callerOf(ctx), ctx.params["transfer_id"]!, String(a["auth_key"]));
          return { status: 202, body: { transfer: transferSummary(ctx, t) } };
        },
      },
    );
  }
  return routes;
}
