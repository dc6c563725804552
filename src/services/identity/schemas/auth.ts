import { Type } from "@sinclair/typebox";
import { fields } from "./common.js";

/** Only the outer shape is checked here; each auth method checks its own part. */
export const authRequest = fields(
  {
    auth: fields(
      {
        identity: fields({ methods: Type.Array(Type.String(), { minItems: 1 }) }, ["methods"]),
        scope: Type.Union([fields({}), Type.Literal("unscoped")]),
      },
      ["identity"],
    ),
  },
  ["auth"],
);
