import { Type } from "@sinclair/typebox";
import { description, fields, nullableId, wrap } from "./common.js";

const roleName = Type.String({ minLength: 1, maxLength: 255, pattern: "\\S" });
const roleOptions = fields({ immutable: Type.Union([Type.Boolean(), Type.Null()]) }, [], { additionalProperties: false });
const roleProps = { name: roleName, domain_id: nullableId, description, options: roleOptions };

export const roleCreate = wrap("role", fields(roleProps, ["name"]));
export const roleUpdate = wrap("role", fields(roleProps, [], { minProperties: 1 }));
