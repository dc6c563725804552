import type { Migration } from "kysely";
import type { PolicyRule } from "../auth/policy.js";
import type { CloudError } from "../common/errors.js";
import type { Route } from "./context.js";
import type { MicroversionSpec } from "./microversion.js";

/** How a service renders a CloudError on the wire. */
export interface FaultRenderer {
  /** A JSON body, or `text` sent as is with the content-type in headers (Swift's plain bodies). */
  (err: CloudError, requestId: string): { body: unknown; text?: string; headers?: Record<string, string> };
}

/** Everything the kernel needs to serve one OpenStack service. */
export interface ServiceDefinition {
  /** Short name ("identity"). */
  name: string;
  /** Catalog type ("identity", "compute", …). */
  type: string;
  /** URL prefix on the shared port ("/identity"). */
  prefix: string;
  /**
   * Catalog entries when not one entry of `type` at the prefix: each type with its name and
   * the URL path after the prefix (Cinder: block-storage and volumev3 at /v3/$(project_id)s).
   */
  catalog?: ReadonlyArray<{ type: string; name: string; path: string }>;
  routes: readonly Route[];
  /** Routes served at the root of the port, outside the prefix (Swift's /info, /auth/v1.0). */
  rootRoutes?: readonly Route[];
  /** HTTP methods beyond fastify's own that this service serves (Swift's COPY). */
  extraMethods?: readonly string[];
  faults: FaultRenderer;
  policies: readonly PolicyRule[];
  migrations: Record<string, Migration>;
  microversions?: MicroversionSpec;
  /** Request headers every response varies on (identity: X-Auth-Token, as Keystone says). */
  vary?: readonly string[];
  /**
   * What a known URL answers for a method it does not serve: 405 (most services) or 404 (Nova,
   * whose router maps only the methods it serves and answers 404 for the rest).
   */
  wrongMethod?: 404 | 405;
  /** Extra headers on every response (compute adds x-compute-request-id). */
  requestIdHeaders?: readonly string[];
}
