import { Type } from "@sinclair/typebox";
import { description, enabled, fields, idString, nullableId, options, wrap } from "./common.js";

const userName = Type.String({ minLength: 1, maxLength: 255, pattern: "\\S" });
const password = Type.Union([Type.String(), Type.Null()]);
const userProps = { name: userName, domain_id: idString, default_project_id: nullableId, description, enabled, password, options };

export const userCreate = wrap("user", fields(userProps, ["name"]));
export const userUpdate = wrap("user", fields(userProps, [], { minProperties: 1 }));

export const passwordChange = wrap(
  "user",
  fields({ original_password: Type.String(), password: Type.String() }, ["original_password", "password"], { additionalProperties: false }),
);

const groupProps = { name: userName, domain_id: idString, description };
export const groupCreate = wrap("group", fields(groupProps, ["name"]));
export const groupUpdate = wrap("group", fields(groupProps, [], { minProperties: 1 }));
