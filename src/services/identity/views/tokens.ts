import { isoMicro } from "../../../common/clock.js";
import type { CatalogEntry } from "../manager/catalog.js";
import type { TokenData } from "../tokens/provider.js";
import { pythonTime } from "./users.js";

/** The `token` body of POST/GET /v3/auth/tokens. */
export function tokenView(t: TokenData, catalog: CatalogEntry[] | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = {
    methods: t.payload.methods,
    user: {
      id: t.user.id,
      name: t.user.name,
      domain: t.user.domain,
      password_expires_at: pythonTime(t.user.password_expires_at),
    },
    audit_ids: t.payload.auditIds,
    expires_at: isoMicro(t.payload.expiresAt),
    issued_at: isoMicro(t.payload.issuedAt),
  };
  if (t.project) {
    body["project"] = t.project;
    // Keystone leaves is_domain out of trust-scoped tokens, and is_admin_project out unless an
    // admin project is configured (Stackbox has none).
    if (!t.payload.trustId) body["is_domain"] = t.projectIsDomain === true;
  }
  if (t.domain) body["domain"] = t.domain;
  if (t.system) body["system"] = { all: true };
  if (t.payload.scope.kind !== "unscoped") {
    body["roles"] = t.roles;
    if (catalog !== undefined) body["catalog"] = catalog;
  }
  Object.assign(body, t.extras);
  return body;
}
