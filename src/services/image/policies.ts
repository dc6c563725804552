import type { PolicyRule } from "../../auth/policy.js";

/** Glance's registered policy defaults. */
export const imagePolicies: readonly PolicyRule[] = [];
