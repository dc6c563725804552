import { Type } from "@sinclair/typebox";
import { description, fields, idString } from "./common.js";

/** keystone/limit/schema.py. */
const resourceName = Type.String({ minLength: 1, maxLength: 255 });
/** Keystone caps limits at a signed 32-bit INT; -1 means unlimited. */
const limitValue = Type.Integer({ minimum: -1, maximum: 0x7fffffff });

const registeredProps = {
  service_id: idString,
  region_id: Type.Union([Type.Null(), Type.String()]),
  resource_name: resourceName,
  default_limit: limitValue,
  description,
};

export const registeredLimitsCreate = fields(
  {
    registered_limits: Type.Array(
      fields(registeredProps, ["service_id", "resource_name", "default_limit"], { additionalProperties: false }),
      { minItems: 1 },
    ),
  },
  ["registered_limits"],
);

export const registeredLimitUpdate = fields(
  { registered_limit: fields(registeredProps, [], { additionalProperties: false }) },
  ["registered_limit"],
);

const limitCommon = {
  service_id: idString,
  region_id: Type.String(),
  resource_name: resourceName,
  resource_limit: limitValue,
  description,
};

/** A limit belongs to exactly one of a project or a domain (the schema's oneOf). */
const limitCreateItem = Type.Union([
  fields({ project_id: idString, ...limitCommon }, ["project_id", "service_id", "resource_name", "resource_limit"], {
    additionalProperties: false,
  }),
  fields({ domain_id: idString, ...limitCommon }, ["domain_id", "service_id", "resource_name", "resource_limit"], {
    additionalProperties: false,
  }),
]);

export const limitsCreate = fields({ limits: Type.Array(limitCreateItem, { minItems: 1 }) }, ["limits"]);

export const limitUpdate = fields(
  { limit: fields({ resource_limit: limitValue, description }, [], { additionalProperties: false }) },
  ["limit"],
);
