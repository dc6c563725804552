import type { PolicyRule } from "../../auth/policy.js";

/**
 * Placement's policy defaults under their upstream names, with the check strings Placement
 * ships since 2023.1 (project scope): the admin role, or the service role for the calls a
 * service (Nova) makes; usages also to the project's own reader. An operator policy file
 * overrides any rule by name.
 */
const ADMIN_OR_SERVICE = "rule:admin_or_service_api";
const rule = (name: string, check: string): PolicyRule => ({ name, check, scopes: ["project"] });

export const placementPolicies: readonly PolicyRule[] = [
  { name: "admin_api", check: "role:admin", scopes: [] },
  { name: "service_api", check: "role:service", scopes: [] },
  { name: "admin_or_service_api", check: "role:admin or role:service", scopes: [] },
  { name: "project_reader_api", check: "role:reader and project_id:%(project_id)s", scopes: [] },
  { name: "project_reader_or_admin", check: "rule:project_reader_api or rule:admin_api", scopes: [] },
  rule("placement:resource_providers:list", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:create", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:show", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:update", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:delete", ADMIN_OR_SERVICE),
  rule("placement:resource_classes:list", ADMIN_OR_SERVICE),
  rule("placement:resource_classes:create", ADMIN_OR_SERVICE),
  rule("placement:resource_classes:show", ADMIN_OR_SERVICE),
  rule("placement:resource_classes:update", ADMIN_OR_SERVICE),
  rule("placement:resource_classes:delete", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:inventories:list", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:inventories:create", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:inventories:show", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:inventories:update", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:inventories:delete", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:aggregates:list", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:aggregates:update", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:usages", ADMIN_OR_SERVICE),
  rule("placement:usages", "rule:project_reader_or_admin or rule:service_api"),
  rule("placement:traits:list", ADMIN_OR_SERVICE),
  rule("placement:traits:show", ADMIN_OR_SERVICE),
  rule("placement:traits:update", ADMIN_OR_SERVICE),
  rule("placement:traits:delete", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:traits:list", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:traits:update", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:traits:delete", ADMIN_OR_SERVICE),
  rule("placement:allocations:manage", ADMIN_OR_SERVICE),
  rule("placement:allocations:list", ADMIN_OR_SERVICE),
  rule("placement:allocations:update", ADMIN_OR_SERVICE),
  rule("placement:allocations:delete", ADMIN_OR_SERVICE),
  rule("placement:resource_providers:allocations:list", ADMIN_OR_SERVICE),
  rule("placement:allocation_candidates:list", ADMIN_OR_SERVICE),
  rule("placement:reshaper:reshape", ADMIN_OR_SERVICE),
];
