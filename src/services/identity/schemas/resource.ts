import { Type } from "@sinclair/typebox";
import { description, enabled, fields, idString, nullableId, options, projectName, tags, wrap } from "./common.js";

const domainName = Type.String({ minLength: 1, maxLength: 64, pattern: "\\S" });
const projectProps = {
  name: projectName,
  description,
  domain_id: nullableId,
  parent_id: nullableId,
  enabled,
  is_domain: Type.Boolean(),
  tags,
  options,
};

export const projectCreate = wrap("project", fields(projectProps, ["name"]));
export const projectUpdate = wrap("project", fields(projectProps, [], { minProperties: 1 }));

const domainProps = { name: domainName, description, enabled, tags, options };
export const domainCreate = wrap("domain", fields({ ...domainProps, explicit_domain_id: idString }, ["name"]));
export const domainUpdate = wrap("domain", fields(domainProps, [], { minProperties: 1 }));

export const tagsReplace = fields({ tags }, ["tags"], { additionalProperties: false });
