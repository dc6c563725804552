import type { PolicyRule } from "../../auth/policy.js";

/** Nova's registered policy defaults (nova/policies/*.py), current secure-RBAC defaults. */
export const computePolicies: readonly PolicyRule[] = [];
