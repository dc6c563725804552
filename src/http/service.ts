import type { Migration } from "kysely";
import type { PolicyRule } from "../auth/policy.js";
import type { CloudError } from "../common/errors.js";
import type { Route } from "./context.js";
import type { MicroversionSpec } from "./microversion.js";

/** How a service renders a CloudError on the wire. */
export interface FaultRenderer {
  (err: CloudError, requestId: string): { body: unknown; headers?: Record<string, string> };
}

/** Everything the kernel needs to serve one OpenStack service. */
export interface ServiceDefinition {
  /** Short name ("identity"). */
  name: string;
  /** Catalog type ("identity", "compute", …). */
  type: string;
  /** URL prefix on the shared port ("/identity"). */
  prefix: string;
  routes: readonly Route[];
  faults: FaultRenderer;
  policies: readonly PolicyRule[];
  migrations: Record<string, Migration>;
  microversions?: MicroversionSpec;
  /** Request headers every response varies on (identity: X-Auth-Token, as Keystone says). */
  vary?: readonly string[];
  /** Extra headers on every response (compute adds x-compute-request-id). */
  requestIdHeaders?: readonly string[];
}
