import { pyRepr } from "../../../common/jsonschema-messages.js";
import { SwiftError } from "./errors.js";

/**
 * Swift's v1 container ACLs (swift.common.middleware.acl): comma-separated items; `.r:` items
 * are referrer designations (anonymous access), `.rlistings` lets referrers list, the rest
 * are groups (keystone: "project:user" by id or name, "*" wildcards).
 */
export function parseAcl(value: string | undefined): { referrers: string[]; groups: string[] } {
  const referrers: string[] = [];
  const groups: string[] = [];
  if (value) {
    for (const item of value.split(",")) {
      if (item.startsWith(".r:")) referrers.push(item.slice(3));
      else groups.push(safeDecode(item));
    }
  }
  return { referrers, groups };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** clean_acl: normalize an X-Container-Read/Write value; a bad one is a 400 with Swift's message. */
export function cleanAcl(name: string, value: string): string {
  const out: string[] = [];
  for (const raw of value.split(",")) {
    const v = raw.trim();
    if (!v) continue;
    if (!v.includes(":")) {
      out.push(v);
      continue;
    }
    const idx = v.indexOf(":");
    const first = v.slice(0, idx).trim();
    let second = v.slice(idx + 1).trim();
    if (!first || !first.startsWith(".")) {
      out.push(v);
    } else if ([".r", ".ref", ".referer", ".referrer"].includes(first)) {
      if (name.toLowerCase().includes("write")) throw new SwiftError(400, `Referrers not allowed in write ACL: ${pyRepr(v)}`);
      let negate = false;
      if (second.startsWith("-")) {
        negate = true;
        second = second.slice(1).trim();
      }
      if (second && second !== "*" && second.startsWith("*")) second = second.slice(1).trim();
      if (!second || second === ".") throw new SwiftError(400, `No host/domain value after referrer designation in ACL: ${pyRepr(v)}`);
      out.push(`.r:${negate ? "-" : ""}${second}`);
    } else {
      throw new SwiftError(400, `Unknown designator ${pyRepr(first)} in ACL: ${pyRepr(v)}`);
    }
  }
  return out.join(",");
}


/** referrer_allowed: does the Referer's host match the ACL's referrer designations? */
export function referrerAllowed(referer: string | undefined, acl: readonly string[]): boolean {
  let allow = false;
  if (acl.length === 0) return false;
  let rhost = "unknown";
  try {
    if (referer) rhost = new URL(referer).hostname || "unknown";
  } catch {
    rhost = "unknown";
  }
  for (let m of acl) {
    if (m.startsWith("-")) {
      m = m.slice(1);
      if (m === rhost || (m.startsWith(".") && rhost.endsWith(m))) allow = false;
    } else if (m === "*" || m === rhost || (m.startsWith(".") && rhost.endsWith(m))) {
      allow = true;
    }
  }
  return allow;
}

/** The account ACL (X-Account-Access-Control, v2 JSON): who is admin, read-write, read-only. */
export interface AccountAcl {
  admin: string[];
  "read-write": string[];
  "read-only": string[];
}

export function parseAccountAcl(value: string | undefined): AccountAcl | undefined {
  if (!value) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const list = (k: string): string[] => (Array.isArray(o[k]) ? (o[k] as unknown[]).filter((x): x is string => typeof x === "string") : []);
  const acl = { admin: list("admin"), "read-write": list("read-write"), "read-only": list("read-only") };
  return acl.admin.length + acl["read-write"].length + acl["read-only"].length > 0 ? acl : undefined;
}

/**
 * Validate an X-Account-Access-Control value (tempauth's rules): a JSON object whose only keys
 * are admin, read-write and read-only, each a list of strings. Returns the canonical JSON
 * (sorted keys, no spaces), or "" to remove it.
 */
export function cleanAccountAcl(value: string): string {
  if (value.trim() === "") return "";
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    throw new SwiftError(400, `Syntax error in input (${value})`);
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new SwiftError(400, `Syntax error in input (${value})`);
  const o = v as Record<string, unknown>;
  for (const [k, list] of Object.entries(o)) {
    if (!["admin", "read-write", "read-only"].includes(k)) throw new SwiftError(400, `Key ${pyRepr(k)} not recognized`);
    if (!Array.isArray(list) || !list.every((x) => typeof x === "string")) throw new SwiftError(400, `Value for key ${pyRepr(k)} must be a list`);
  }
  const keys = Object.keys(o).sort();
  return JSON.stringify(Object.fromEntries(keys.map((k) => [k, o[k]])));
}
