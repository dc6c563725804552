import { Type } from "@sinclair/typebox";
import { description, fields, idString, name, wrap } from "./common.js";

/** keystone/credential/schema.py; ec2's project_id requirement is checked by the manager. */
const credentialProps = { blob: Type.String(), project_id: Type.String(), type: Type.String(), user_id: Type.String() };
export const credentialCreate = wrap("credential", fields(credentialProps, ["blob", "type", "user_id"]));
export const credentialUpdate = wrap("credential", fields(credentialProps, [], { minProperties: 1 }));

/** keystone/application_credential/schema.py. */
const role = fields({ id: idString, name }, [], { minProperties: 1, maxProperties: 1, additionalProperties: false });
const accessRule = fields(
  {
    path: Type.String({ minLength: 0, maxLength: 225, pattern: "^\\/.*" }),
    method: Type.String({ pattern: "^(POST|GET|HEAD|PATCH|PUT|DELETE)$" }),
    service: idString,
    id: idString,
  },
  [],
  { additionalProperties: false },
);
export const appCredCreate = wrap(
  "application_credential",
  fields(
    {
      name,
      description,
      secret: Type.Union([Type.String(), Type.Null()]),
      expires_at: Type.Union([Type.String(), Type.Null()]),
      roles: Type.Array(role),
      unrestricted: Type.Boolean(),
      access_rules: Type.Array(accessRule),
    },
    ["name"],
    // Keystone's model rejects any other attribute ("… is an invalid keyword argument").
    { additionalProperties: false },
  ),
);
