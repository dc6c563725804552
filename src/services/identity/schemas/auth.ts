import { Type } from "@sinclair/typebox";
import { fields } from "./common.js";

/** POST /v3/auth/tokens, typed as Keystone's token_issue schema (wrong types are 400). */
const str = Type.String();
const domainRef = fields({ id: str, name: str });
const user = fields({ id: str, name: str, password: str, domain: domainRef });

export const authRequest = fields(
  {
    auth: fields(
      {
        identity: fields(
          {
            methods: Type.Array(str),
            password: fields({ user }),
            token: fields({ id: str }, ["id"]),
          },
          ["methods"],
        ),
        // Old keystoneauth sends {"unscoped": {}}, newer ones the string "unscoped".
        scope: Type.Union([
          fields({
            project: fields({ id: str, name: str, domain: domainRef }),
            domain: domainRef,
            "OS-TRUST:trust": fields({ id: str }),
            system: fields({ all: Type.Boolean() }),
          }),
          Type.String(),
        ]),
      },
      ["identity"],
    ),
  },
  ["auth"],
);
