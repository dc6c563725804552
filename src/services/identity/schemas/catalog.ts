import { Type } from "@sinclair/typebox";
import { description, enabled, fields, name, url, wrap } from "./common.js";

/** keystone/catalog/schema.py and keystone/policy/schema.py, by behaviour. */

const regionProps = {
  description,
  // Regions take any string id (PUT /v3/regions/{id} or "id" in a POST body).
  id: Type.String(),
  parent_region_id: Type.Union([Type.String(), Type.Null()]),
};
export const regionCreate = wrap("region", fields(regionProps));
export const regionUpdate = wrap("region", fields(regionProps, [], { minProperties: 1 }));

const serviceProps = {
  enabled,
  name,
  type: Type.String({ minLength: 1, maxLength: 255 }),
};
export const serviceCreate = wrap("service", fields(serviceProps, ["type"]));
export const serviceUpdate = wrap("service", fields(serviceProps, [], { minProperties: 1 }));

const endpointProps = {
  enabled,
  interface: Type.Unsafe<string>({ type: "string", enum: ["admin", "internal", "public"] }),
  region_id: Type.String(),
  region: Type.String(),
  service_id: Type.String(),
  url,
};
export const endpointCreate = wrap("endpoint", fields(endpointProps, ["interface", "service_id", "url"]));
export const endpointUpdate = wrap("endpoint", fields(endpointProps, [], { minProperties: 1 }));

const endpointGroupProps = {
  description,
  filters: Type.Object({}, { additionalProperties: true }),
  name,
};
export const endpointGroupCreate = wrap("endpoint_group", fields(endpointGroupProps, ["name", "filters"]));
export const endpointGroupUpdate = wrap("endpoint_group", fields(endpointGroupProps, [], { minProperties: 1 }));

const policyProps = {
  blob: Type.String(),
  type: Type.String({ maxLength: 255 }),
};
export const policyCreate = wrap("policy", fields(policyProps, ["blob", "type"]));
export const policyUpdate = wrap("policy", fields(policyProps, [], { minProperties: 1 }));
