import { BadRequest, NotImplemented } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import { isObject } from "./fleet-validate.js";
import { MAX_PROXY } from "./images.js";

/** baremetal_nodes.py _no_ironic_proxy. */
function noIronicProxy(cmd: string): never {
  throw new BadRequest(`Command Not supported. Please use Ironic command ${cmd} to perform this action.`);
}

/**
 * os-baremetal-nodes (baremetal_nodes.py): a proxy to Ironic. Stackbox has no Bare Metal
 * service, so list/show answer as Nova without an Ironic client (raise_feature_not_supported,
 * 501); writes point at Ironic's own commands (400) as they always do.
 */
export function baremetalNodeRoutes(): Route[] {
  const unsupported = async (): Promise<never> => {
    throw new NotImplemented("The requested functionality is not supported.");
  };
  return [
    {
      method: "GET",
      path: "/v2.1/os-baremetal-nodes",
      operation: "listBareMetalNodes",
      policy: "os_compute_api:os-baremetal-nodes:list",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-baremetal-nodes:list", {});
        return unsupported();
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-baremetal-nodes/:id",
      operation: "showBareMetalNodeDetails",
      policy: "os_compute_api:os-baremetal-nodes:show",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-baremetal-nodes:show", {});
        return unsupported();
      },
    },
    { method: "POST", path: "/v2.1/os-baremetal-nodes", operation: "createBareMetalNode", maxVersion: MAX_PROXY, handler: async () => noIronicProxy("node-create") },
    { method: "DELETE", path: "/v2.1/os-baremetal-nodes/:id", operation: "deleteBareMetalNode", maxVersion: MAX_PROXY, handler: async () => noIronicProxy("node-delete") },
    {
      method: "POST",
      path: "/v2.1/os-baremetal-nodes/:id/action",
      operation: "bareMetalNodeAction",
      maxVersion: MAX_PROXY,
      handler: async (ctx) => {
        const b = ctx.body;
        if (!isObject(b) || Object.keys(b).length !== 1) throw new BadRequest("Malformed request body");
        const name = Object.keys(b)[0]!;
        if (name === "add_interface") noIronicProxy("port-create");
        if (name === "remove_interface") noIronicProxy("port-delete");
        throw new BadRequest(`There is no such action: ${name}`);
      },
    },
  ];
}
