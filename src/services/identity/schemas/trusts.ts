import { Type } from "@sinclair/typebox";
import { compileSchema, validateOrThrow } from "../../../http/validation.js";
import { fields, idString, name } from "./common.js";

/** keystone/trust/schema.py: a role is given by id or by name, never both. */
const trustRole = Type.Object(
  { id: Type.Optional(idString), name: Type.Optional(name) },
  { minProperties: 1, maxProperties: 1, additionalProperties: false },
);
/** Keystone's external_id_string: user ids may come from LDAP, so no pattern. */
const externalId = Type.String({ minLength: 1, maxLength: 64 });

export const trustCreate = fields(
  {
    trustor_user_id: externalId,
    trustee_user_id: externalId,
    impersonation: Type.Boolean(),
    project_id: Type.Union([idString, Type.Null()]),
    remaining_uses: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    expires_at: Type.Union([Type.String(), Type.Null()]),
    allow_redelegation: Type.Union([Type.Boolean(), Type.Null()]),
    redelegation_count: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    roles: Type.Array(trustRole),
  },
  ["trustor_user_id", "trustee_user_id", "impersonation"],
);

const checkCreate = compileSchema(trustCreate);

/**
 * Keystone validates the trust body only after the create_trust policy check
 * (validation.lazy_validate), so `{"trust": {}}` is a 403, not a 400; the route therefore
 * has no body schema and the handler calls this once policy has passed.
 */
export function validateTrustCreate(trust: unknown): void {
  validateOrThrow(checkCreate, trust, "input for field 'trust'");
}
