import type { PolicyRule } from "../../auth/policy.js";

/** Placement's registered policy defaults. */
export const placementPolicies: readonly PolicyRule[] = [];
