import type { PolicyRule } from "../../auth/policy.js";

/**
 * Placement's registered policy defaults (placement/policies/*.py, Placement 8), under their
 * upstream names: admin (and the service role for the routes Nova calls) or, for usages, the
 * project's reader. An operator policy file overrides any rule by name.
 */
export const placementPolicies: readonly PolicyRule[] = [
  { name: "admin_api", check: "role:admin", scopes: ["system"] },
  { name: "system_admin_api", check: "role:admin and system_scope:all", scopes: [] },
  { name: "system_reader_api", check: "role:reader and system_scope:all", scopes: [] },
  { name: "project_reader_api", check: "role:reader and project_id:%(project_id)s", scopes: [] },
  { name: "system_or_project_reader", check: "rule:system_reader_api or rule:project_reader_api", scopes: [] },
  { name: "placement:resource_providers:list", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:resource_providers:create", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:resource_providers:show", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:resource_providers:update", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:resource_providers:delete", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:resource_classes:list", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:resource_classes:create", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:resource_classes:show", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:resource_classes:update", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:resource_classes:delete", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:resource_providers:inventories:list", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:resource_providers:inventories:create", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:resource_providers:inventories:show", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:resource_providers:inventories:update", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:resource_providers:inventories:delete", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:resource_providers:aggregates:list", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:resource_providers:aggregates:update", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:resource_providers:usages", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:usages", check: "rule:system_or_project_reader", scopes: ["system", "project"] },
  { name: "placement:traits:list", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:traits:show", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:traits:update", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:traits:delete", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:resource_providers:traits:list", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:resource_providers:traits:update", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:resource_providers:traits:delete", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:allocations:manage", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:allocations:list", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:allocations:update", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:allocations:delete", check: "rule:system_admin_api", scopes: ["system"] },
  { name: "placement:resource_providers:allocations:list", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:allocation_candidates:list", check: "rule:system_reader_api", scopes: ["system"] },
  { name: "placement:reshaper:reshape", check: "rule:system_admin_api", scopes: ["system"] },
];
