import { randomBytes, randomUUID } from "node:crypto";

/** Keystone-style id: a uuid4 rendered as 32 lowercase hex digits. */
export function hexId(): string {
  return randomUUID().replaceAll("-", "");
}

/** A dashed uuid4, as nova/neutron/cinder ids are. */
export function uuid(): string {
  return randomUUID();
}

/** URL-safe random secret of n bytes. */
export function secret(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}
