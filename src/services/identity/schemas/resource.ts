import { Type } from "@sinclair/typebox";
import { description, enabled, fields, idString, nullableId, options, projectName, tags, wrap } from "./common.js";

const domainName = Type.String({ minLength: 1, maxLength: 64, pattern: "\\S" });
/** PROJECT_OPTIONS_REGISTRY.json_schema: only "immutable", nullable (null unsets it). */
const projectOptions = Type.Object(
  { immutable: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])) },
  { additionalProperties: false },
);
const projectProps = {
  name: projectName,
  description,
  domain_id: nullableId,
  parent_id: nullableId,
  enabled,
  is_domain: Type.Boolean(),
  tags,
  options: projectOptions,
};

export const projectCreate = wrap("project", fields(projectProps, ["name"]));
export const projectUpdate = wrap("project", fields(projectProps, [], { minProperties: 1 }));

const domainProps = { name: domainName, description, enabled, tags, options };
export const domainCreate = wrap("domain", fields({ ...domainProps, explicit_domain_id: idString }, ["name"]));
export const domainUpdate = wrap("domain", fields(domainProps, [], { minProperties: 1 }));

export const tagsReplace = fields({ tags }, ["tags"], { additionalProperties: false });
