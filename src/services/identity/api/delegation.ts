import { Forbidden } from "../../../common/errors.js";
import type { AuthContext } from "../../../http/context.js";

/**
 * Auth methods that prove the user directly (keystone/api/_shared/delegation.py). Anything else
 * (application_credential, oauth1, ec2credential, …) is a delegation, as is any trust-scoped
 * token, and may not manage credentials.
 */
const PRIMARY_METHODS = new Set(["external", "kerberos", "mapped", "openid", "password", "saml2", "token", "totp", "x509"]);

export function isDelegated(caller: AuthContext): boolean {
  if (caller.trustId !== undefined) return true;
  return caller.methods.length === 0 || caller.methods.some((m) => !PRIMARY_METHODS.has(m));
}

/** /v3/credentials and OS-EC2: delegated tokens cannot touch credentials at all. */
export function requirePrimaryAuth(caller: AuthContext): void {
  if (isDelegated(caller)) {
    throw new Forbidden("You are not authorized to perform the requested action: Delegated tokens cannot access credentials directly.");
  }
}

/**
 * Application credentials and access rules: trust, OAuth1 and EC2 tokens are refused; tokens
 * from an application credential are let through (restricted ones are checked separately).
 */
export function blockDelegatedForAppCreds(caller: AuthContext): void {
  if (caller.methods.includes("application_credential")) return;
  if (isDelegated(caller)) {
    throw new Forbidden("Cannot manage application credentials with a token issued via delegation.");
  }
}
