import type { Route } from "../../../http/context.js";
import { updateInstance } from "../store/servers.js";
import type { ServersDB } from "../store/servers-tables.js";
import type { Compute } from "./deps.js";
import { serverCaller } from "./server-common.js";

/**
 * GET/DELETE /servers/{id}/os-server-password (server_password.py): the encrypted password a
 * guest posted to the metadata service, kept in system_metadata password_0..3 (Nova's
 * password.extract_password / convert_password); "" when none was posted.
 */

const KEYS = ["password_0", "password_1", "password_2", "password_3"];

export function serverPasswordRoutes(c: Compute): Route[] {
  return [
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/os-server-password",
      operation: "showServerPassword",
      policy: "os_compute_api:os-server-password:show",
      handler: async (ctx) => {
        const inst = await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:os-server-password:show", { project_id: inst.project_id });
        return { body: { password: KEYS.map((k) => inst.system_metadata[k] ?? "").join("") } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/servers/:server_id/os-server-password",
      operation: "clearServerPassword",
      policy: "os_compute_api:os-server-password:clear",
      handler: async (ctx) => {
        const inst = await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:os-server-password:clear", { project_id: inst.project_id });
        const sys = { ...inst.system_metadata };
        for (const k of KEYS) sys[k] = "";
        await updateInstance(c.database.db as ServersDB, inst.uuid, { system_metadata: sys }, c.instances.now());
        return { status: 204 };
      },
    },
  ];
}
