import { NotFound } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import { EXTENSION_LIST } from "./extensions-data.js";

/** /extensions: the frozen legacy list v2.1 still answers (extension_info.py). */
export function extensionRoutes(): Route[] {
  return [
    {
      method: "GET",
      path: "/v2.1/extensions",
      operation: "listExtensions",
      policy: "os_compute_api:extensions",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:extensions", {});
        return { body: { extensions: EXTENSION_LIST } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/extensions/:alias",
      operation: "showExtension",
      policy: "os_compute_api:extensions",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:extensions", {});
        const e = EXTENSION_LIST.find((x) => x.alias === ctx.params["alias"]);
        if (!e) throw new NotFound("The resource could not be found.");
        return { body: { extension: e } };
      },
    },
  ];
}
