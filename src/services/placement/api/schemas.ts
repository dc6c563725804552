/**
 * Placement's request schemas (placement/schemas/*.py), per microversion, as JSON Schema
 * objects validated with jsonschema-worded messages (common.ts).
 */
const UUID_PATTERN = "^[0-9a-fA-F-]{36}$";
const RC_PATTERN = "^[A-Z0-9_]+$";
const CUSTOM_PATTERN = "^CUSTOM_[A-Z0-9_]+$";
const GROUP_1_33 = "[a-zA-Z0-9_-]{1,64}";
const MAX_INT = 2147483647;
const SQL_SP_FLOAT_MAX = 3.40282e38;
const clone = <T>(x: T): T => structuredClone(x);

export const POST_RP = {
  type: "object",
  properties: { name: { type: "string", maxLength: 200 }, uuid: { type: "string", format: "uuid" } },
  required: ["name"],
  additionalProperties: false,
};
export const PUT_RP = { ...clone(POST_RP), properties: { name: { type: "string", maxLength: 200 } } };
const PARENT = { anyOf: [{ type: "string", format: "uuid" }, { type: "null" }] };
export const POST_RP_1_14 = { ...clone(POST_RP), properties: { ...clone(POST_RP.properties), parent_provider_uuid: PARENT } };
export const PUT_RP_1_14 = { ...clone(PUT_RP), properties: { name: { type: "string", maxLength: 200 }, parent_provider_uuid: PARENT } };

export const GET_RPS_1_0 = {
  type: "object",
  properties: { name: { type: "string" }, uuid: { type: "string", format: "uuid" } } as Record<string, unknown>,
  additionalProperties: false,
};
export const GET_RPS_1_3 = { ...GET_RPS_1_0, properties: { ...GET_RPS_1_0.properties, member_of: { type: "string" } } };
export const GET_RPS_1_4 = { ...GET_RPS_1_3, properties: { ...GET_RPS_1_3.properties, resources: { type: "string" } } };
export const GET_RPS_1_14 = { ...GET_RPS_1_4, properties: { ...GET_RPS_1_4.properties, in_tree: { type: "string", format: "uuid" } } };
export const GET_RPS_1_18 = { ...GET_RPS_1_14, properties: { ...GET_RPS_1_14.properties, required: { type: "string" } } };

const INT = (min: number) => ({ type: "integer", maximum: MAX_INT, minimum: min });
export const BASE_INVENTORY = {
  type: "object",
  properties: {
    resource_provider_generation: { type: "integer" },
    total: INT(1),
    reserved: INT(0),
    min_unit: INT(1),
    max_unit: INT(1),
    step_size: INT(1),
    allocation_ratio: { type: "number", maximum: SQL_SP_FLOAT_MAX },
  } as Record<string, unknown>,
  required: ["total", "resource_provider_generation"],
  additionalProperties: false,
};
export const POST_INVENTORY = {
  ...clone(BASE_INVENTORY),
  properties: { ...clone(BASE_INVENTORY.properties), resource_class: { type: "string", pattern: RC_PATTERN } },
  required: ["total", "resource_class"],
};
const PUT_INVENTORY_RECORD = { ...clone(BASE_INVENTORY), required: ["total"] };
export const PUT_INVENTORIES = {
  type: "object",
  properties: {
    resource_provider_generation: { type: "integer" },
    inventories: { type: "object", patternProperties: { [RC_PATTERN]: PUT_INVENTORY_RECORD } },
  },
  required: ["resource_provider_generation", "inventories"],
  additionalProperties: false,
};

const AGG_LIST = { type: "array", items: { type: "string", format: "uuid" }, uniqueItems: true };
export const PUT_AGGREGATES_1_1 = clone(AGG_LIST);
export const PUT_AGGREGATES_1_19 = {
  type: "object",
  properties: { aggregates: clone(AGG_LIST), resource_provider_generation: { type: "integer" } },
  required: ["aggregates", "resource_provider_generation"],
  additionalProperties: false,
};

export const TRAIT = { type: "string", minLength: 1, maxLength: 255 };
export const CUSTOM_TRAIT = { ...TRAIT, pattern: CUSTOM_PATTERN };
export const SET_TRAITS_FOR_RP = {
  type: "object",
  properties: { traits: { type: "array", items: TRAIT }, resource_provider_generation: { type: "integer" } },
  required: ["traits", "resource_provider_generation"],
  additionalProperties: false,
};
export const LIST_TRAITS = { type: "object", properties: { name: { type: "string" }, associated: { type: "string" } }, additionalProperties: false };

export const RC_BODY = {
  type: "object",
  properties: { name: { type: "string", pattern: CUSTOM_PATTERN, maxLength: 255 } },
  required: ["name"],
  additionalProperties: false,
};

// ---- allocations
const RESOURCES = { type: "object", minProperties: 1, patternProperties: { [RC_PATTERN]: { type: "integer", minimum: 1 } }, additionalProperties: false };
export const ALLOCATION_1_0 = {
  type: "object",
  properties: {
    allocations: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        properties: {
          resource_provider: { type: "object", properties: { uuid: { type: "string", format: "uuid" } }, additionalProperties: false, required: ["uuid"] },
          resources: RESOURCES,
        },
        required: ["resource_provider", "resources"],
        additionalProperties: false,
      },
    },
  } as Record<string, unknown>,
  required: ["allocations"],
  additionalProperties: false,
};
const ID = { type: "string", minLength: 1, maxLength: 255 };
export const ALLOCATION_1_8 = { ...clone(ALLOCATION_1_0), properties: { ...clone(ALLOCATION_1_0.properties), project_id: ID, user_id: ID }, required: ["allocations", "project_id", "user_id"] };
export const ALLOCATION_1_12 = {
  type: "object",
  properties: {
    allocations: {
      type: "object",
      minProperties: 1,
      patternProperties: {
        [UUID_PATTERN]: {
          type: "object",
          properties: { generation: { type: "integer" }, resources: RESOURCES },
          required: ["resources"],
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
    project_id: ID,
    user_id: ID,
  } as Record<string, unknown>,
  additionalProperties: false,
  required: ["allocations", "project_id", "user_id"],
};
const DELETABLE = (() => {
  const d = clone(ALLOCATION_1_12);
  (d.properties["allocations"] as { minProperties: number }).minProperties = 0;
  return d;
})();
export const POST_ALLOCATIONS_1_13 = { type: "object", minProperties: 1, additionalProperties: false, patternProperties: { [UUID_PATTERN]: DELETABLE } };
const CONSUMER_GEN = { type: ["integer", "null"] };
export const ALLOCATION_1_28 = { ...clone(DELETABLE), properties: { ...clone(DELETABLE.properties), consumer_generation: CONSUMER_GEN }, required: [...DELETABLE.required, "consumer_generation"] };
export const POST_ALLOCATIONS_1_28 = { ...clone(POST_ALLOCATIONS_1_13), patternProperties: { [UUID_PATTERN]: clone(ALLOCATION_1_28) } };
const MAPPINGS = { type: "object", minProperties: 1, patternProperties: { [GROUP_1_33]: { type: "array", minItems: 1, items: { type: "string", format: "uuid" } } } };
export const ALLOCATION_1_34 = { ...clone(ALLOCATION_1_28), properties: { ...clone(ALLOCATION_1_28.properties), mappings: MAPPINGS } };
export const POST_ALLOCATIONS_1_34 = { ...clone(POST_ALLOCATIONS_1_28), patternProperties: { [UUID_PATTERN]: clone(ALLOCATION_1_34) } };
export const ALLOCATION_1_38 = {
  ...clone(ALLOCATION_1_34),
  properties: { ...clone(ALLOCATION_1_34.properties), consumer_type: { type: "string", pattern: RC_PATTERN, minLength: 1, maxLength: 255 } },
  required: [...ALLOCATION_1_34.required, "consumer_type"],
};
export const POST_ALLOCATIONS_1_38 = { ...clone(POST_ALLOCATIONS_1_34), patternProperties: { [UUID_PATTERN]: clone(ALLOCATION_1_38) } };

const reshaper = (allocs: object) => ({
  type: "object",
  properties: {
    inventories: { type: "object", patternProperties: { [UUID_PATTERN]: clone(PUT_INVENTORIES) }, minProperties: 1, additionalProperties: false },
    allocations: { ...clone(allocs), minProperties: 0 },
  },
  required: ["inventories", "allocations"],
  additionalProperties: false,
});
export const RESHAPER = reshaper(POST_ALLOCATIONS_1_28);
export const RESHAPER_1_34 = reshaper(POST_ALLOCATIONS_1_34);
export const RESHAPER_1_38 = reshaper(POST_ALLOCATIONS_1_38);

export const USAGES_1_9 = {
  type: "object",
  properties: { project_id: ID, user_id: ID } as Record<string, unknown>,
  required: ["project_id"],
  additionalProperties: false,
};
export const USAGES_1_38 = {
  ...clone(USAGES_1_9),
  properties: { ...clone(USAGES_1_9.properties), consumer_type: { type: "string", pattern: "^[A-Z0-9_]+$|^all|^unknown$", minLength: 1, maxLength: 255 } },
};

// ---- allocation candidates
const S = { type: "string" };
const group = (suffix: string) => (name: string) => `^${name}(${suffix})?$`;
export const CANDIDATES_1_10 = { type: "object", properties: { resources: S } as Record<string, unknown>, required: ["resources"], additionalProperties: false };
export const CANDIDATES_1_16 = {
  ...clone(CANDIDATES_1_10),
  properties: { ...clone(CANDIDATES_1_10.properties), limit: { type: ["integer", "string"], pattern: "^[1-9][0-9]*$", minimum: 1, minLength: 1 } },
};
export const CANDIDATES_1_17 = { ...clone(CANDIDATES_1_16), properties: { ...clone(CANDIDATES_1_16.properties), required: S } };
export const CANDIDATES_1_21 = { ...clone(CANDIDATES_1_17), properties: { ...clone(CANDIDATES_1_17.properties), member_of: S } };
const granular = (suffix: string, names: string[], extra: Record<string, unknown>) => ({
  type: "object",
  properties: { limit: CANDIDATES_1_16.properties["limit"], group_policy: { type: "string", enum: ["none", "isolate"] }, ...extra },
  patternProperties: Object.fromEntries(names.map((n) => [group(suffix)(n), S])),
  additionalProperties: false,
});
export const CANDIDATES_1_25 = granular("[1-9][0-9]*", ["resources", "required", "member_of"], {});
export const CANDIDATES_1_31 = granular("[1-9][0-9]*", ["resources", "required", "member_of", "in_tree"], {});
export const CANDIDATES_1_33 = granular(GROUP_1_33, ["resources", "required", "member_of", "in_tree"], {});
export const CANDIDATES_1_35 = granular(GROUP_1_33, ["resources", "required", "member_of", "in_tree"], { root_required: S });
export const CANDIDATES_1_36 = granular(GROUP_1_33, ["resources", "required", "member_of", "in_tree"], { root_required: S, same_subtree: S });
