import { MethodNotAllowed } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import { tokenView } from "../views/tokens.js";
import type { Identity } from "./deps.js";

/** /v3/s3tokens (keystone/api/s3tokens.py): S3 signature (v1 or v4) in, project-scoped token out. */
export function s3tokenRoutes(id: Identity): Route[] {
  return [
    {
      method: "POST",
      path: "/v3/s3tokens",
      operation: "authenticateS3",
      policy: "identity:s3tokens_validate",
      handler: async (ctx) => {
        ctx.enforce("identity:s3tokens_validate");
        const t = await id.ec2tokens.authenticate(ctx.body, "s3");
        const catalog = await id.tokens.catalogFor(t);
        return { status: 200, headers: { "x-subject-token": t.id }, body: { token: tokenView(t, catalog) } };
      },
    },
    {
      method: "GET",
      path: "/v3/s3tokens",
      operation: "s3tokensGet",
      auth: "none",
      handler: async () => {
        throw new MethodNotAllowed("The method is not allowed for the requested URL.");
      },
    },
  ];
}

/** /v3/ec2tokens (keystone/api/ec2tokens.py): EC2 signature in, project-scoped token out. */
export function ec2tokenRoutes(id: Identity): Route[] {
  return [
    {
      method: "POST",
      path: "/v3/ec2tokens",
      operation: "authenticateEc2",
      policy: "identity:ec2tokens_validate",
      handler: async (ctx) => {
        ctx.enforce("identity:ec2tokens_validate");
        const t = await id.ec2tokens.authenticate(ctx.body);
        const catalog = await id.tokens.catalogFor(t);
        // Keystone answers 200 here, not the 201 of POST /v3/auth/tokens.
        return { status: 200, headers: { "x-subject-token": t.id }, body: { token: tokenView(t, catalog) } };
      },
    },
    {
      method: "GET",
      path: "/v3/ec2tokens",
      operation: "ec2tokensGet",
      auth: "none",
      handler: async () => {
        throw new MethodNotAllowed("The method is not allowed for the requested URL.");
      },
    },
  ];
}
