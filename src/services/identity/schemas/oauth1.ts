import { description, fields, wrap } from "./common.js";

/**
 * keystone/oauth1/schema.py. Creating a consumer takes any body (even none), so its checks
 * live in the handler; an update needs at least one attribute and may not set the secret.
 */
export const consumerUpdate = wrap(
  "consumer",
  fields({ description }, [], { minProperties: 1, not: { required: ["secret"] } }),
);
