import { Type } from "@sinclair/typebox";
import { description, enabled, fields, idString, nullableId, wrap } from "./common.js";

const userName = Type.String({ minLength: 1, maxLength: 255, pattern: "\\S" });
const password = Type.Union([Type.String(), Type.Null()]);
const nullableBool = Type.Union([Type.Boolean(), Type.Null()]);
/** USER_OPTIONS_REGISTRY.json_schema: the known options only, each nullable (null unsets it). */
const userOptions = Type.Object(
  {
    ignore_change_password_upon_first_use: Type.Optional(nullableBool),
    ignore_password_expiry: Type.Optional(nullableBool),
    ignore_lockout_failure_attempts: Type.Optional(nullableBool),
    lock_password: Type.Optional(nullableBool),
    ignore_user_inactivity: Type.Optional(nullableBool),
    multi_factor_auth_enabled: Type.Optional(nullableBool),
    multi_factor_auth_rules: Type.Optional(
      Type.Union([
        Type.Array(Type.Array(Type.String(), { minItems: 1, uniqueItems: true }), { uniqueItems: true }),
        Type.Null(),
      ]),
    ),
  },
  { additionalProperties: false },
);
/** The user's links to identity providers: [{idp_id, protocols: [{protocol_id, unique_id}, ...]}]. */
const federated = Type.Array(
  fields(
    {
      idp_id: Type.String(),
      protocols: Type.Array(fields({ protocol_id: Type.String(), unique_id: Type.String() }, ["protocol_id", "unique_id"]), { minItems: 1 }),
    },
    ["idp_id", "protocols"],
  ),
);
const userProps = { name: userName, domain_id: idString, default_project_id: nullableId, description, enabled, password, options: userOptions, federated };

export const userCreate = wrap("user", fields(userProps, ["name"]));
export const userUpdate = wrap("user", fields(userProps, [], { minProperties: 1 }));

export const passwordChange = wrap(
  "user",
  fields({ original_password: Type.String(), password: Type.String() }, ["original_password", "password"], { additionalProperties: false }),
);

const groupProps = { name: userName, domain_id: idString, description };
export const groupCreate = wrap("group", fields(groupProps, ["name"]));
export const groupUpdate = wrap("group", fields(groupProps, [], { minProperties: 1 }));
