import type { MicroversionSpec } from "../../http/microversion.js";

/** Placement's canonical microversion list (Placement 8 / 2023.1 API), one line per version. */
export const placementMicroversions: MicroversionSpec = {
  serviceType: "placement",
  versions: [
    "1.0", // providers, inventories, usages, allocations
    "1.1", // provider aggregates (GET/PUT /resource_providers/{uuid}/aggregates)
    "1.2", // custom resource classes (/resource_classes)
    "1.3", // member_of filter on GET /resource_providers
    "1.4", // resources filter on GET /resource_providers
    "1.5", // DELETE /resource_providers/{uuid}/inventories
    "1.6", // traits (/traits, /resource_providers/{uuid}/traits)
    "1.7", // PUT /resource_classes/{name} creates without a body
    "1.8", // PUT /allocations requires project_id and user_id
    "1.9", // GET /usages for a project (and user)
    "1.10", // GET /allocation_candidates
    "1.11", // "allocations" link on providers
    "1.12", // allocations as a dict keyed by provider (PUT, GET, candidates), project/user in GET
    "1.13", // POST /allocations for several consumers at once
    "1.14", // nested providers: parent_provider_uuid, root_provider_uuid, in_tree filter
    "1.15", // last-modified and cache-control headers
    "1.16", // limit on GET /allocation_candidates
    "1.17", // required traits on candidates; traits in provider summaries
    "1.18", // required traits filter on GET /resource_providers
    "1.19", // provider aggregates carry and check the provider generation
    "1.20", // POST /resource_providers answers 200 with the provider
    "1.21", // member_of (in:) on GET /allocation_candidates
    "1.22", // forbidden traits (!TRAIT) in required
    "1.23", // error codes in error bodies
    "1.24", // member_of may repeat on GET /resource_providers
    "1.25", // granular request groups (resourcesN, requiredN, member_ofN, group_policy)
    "1.26", // inventory reserved may equal total
    "1.27", // provider summaries list every inventory class
    "1.28", // consumer generations
    "1.29", // nested providers in allocation candidates
    "1.30", // POST /reshaper
    "1.31", // in_tree / in_treeN on GET /allocation_candidates
    "1.32", // forbidden aggregates (!member_of, !in:)
    "1.33", // request group suffixes [A-Za-z0-9_-]{1,64}
    "1.34", // mappings in allocation requests
    "1.35", // root_required on GET /allocation_candidates
    "1.36", // same_subtree and resourceless request groups
    "1.37", // re-parenting and un-parenting providers
    "1.38", // consumer_type on allocations, usages grouped by consumer type
    "1.39", // required=in:A,B (any of the traits)
  ],
};
