import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { Forbidden } from "../common/errors.js";

/**
 * An oslo.policy compatible engine: the check-string language (`role:`, `rule:`, `@`, `!`,
 * `and`/`or`/`not`, parentheses, generic `kind:match` checks with `%(target.x)s`
 * substitution and quoted literals), registered defaults with scope types, deprecated
 * defaults (ORed in unless enforce_new_defaults), and an operator file overriding by name.
 */
export type Scope = "system" | "domain" | "project";

export interface PolicyRule {
  name: string;
  check: string;
  scopes: readonly Scope[];
  /** Deprecated default check string; oslo ORs it in when enforce_new_defaults is off. */
  deprecated?: string;
}

/** What oslo.policy calls "creds": the caller, flattened from the token. */
export interface Credentials {
  [key: string]: unknown;
  roles: readonly string[];
}

/** Flat target keys, as oslo's `%(target.project.id)s` formatting expects. */
export type Target = Record<string, unknown>;

type Node =
  | { t: "true" }
  | { t: "false" }
  | { t: "and"; items: Node[] }
  | { t: "or"; items: Node[] }
  | { t: "not"; item: Node }
  | { t: "rule"; name: string }
  | { t: "role"; match: string }
  | { t: "generic"; kind: string; match: string };

export class PolicySyntaxError extends Error {}

function tokenize(check: string): string[] {
  const out: string[] = [];
  for (const raw of check.trim().split(/\s+/)) {
    if (!raw) continue;
    let tok = raw;
    while (tok.startsWith("(")) {
      out.push("(");
      tok = tok.slice(1);
    }
    let closes = 0;
    while (tok.endsWith(")") && !/%\([^)]*\)$/.test(tok)) {
      closes++;
      tok = tok.slice(0, -1);
    }
    if (tok) out.push(tok);
    for (let i = 0; i < closes; i++) out.push(")");
  }
  return out;
}

function parseAtom(tok: string): Node {
  if (tok === "@") return { t: "true" };
  if (tok === "!") return { t: "false" };
  const i = tok.indexOf(":");
  if (i < 0) throw new PolicySyntaxError(`bad check "${tok}"`);
  const kind = tok.slice(0, i);
  const match = tok.slice(i + 1);
  if (kind === "rule") return { t: "rule", name: match };
  if (kind === "role") return { t: "role", match };
  return { t: "generic", kind, match };
}

/** Recursive descent with oslo's precedence: not > and > or. */
export function parseCheck(check: string): Node {
  const toks = tokenize(check);
  if (toks.length === 0) return { t: "true" };
  let pos = 0;
  const peek = (): string | undefined => toks[pos];
  const orExpr = (): Node => {
    const items = [andExpr()];
    while (peek()?.toLowerCase() === "or") {
      pos++;
      items.push(andExpr());
    }
    return items.length === 1 ? items[0]! : { t: "or", items };
  };
  const andExpr = (): Node => {
    const items = [notExpr()];
    while (peek()?.toLowerCase() === "and") {
      pos++;
      items.push(notExpr());
    }
    return items.length === 1 ? items[0]! : { t: "and", items };
  };
  const notExpr = (): Node => {
    if (peek()?.toLowerCase() === "not") {
      pos++;
      return { t: "not", item: notExpr() };
    }
    return primary();
  };
  const primary = (): Node => {
    const tok = toks[pos++];
    if (tok === undefined) throw new PolicySyntaxError(`unexpected end of "${check}"`);
    if (tok === "(") {
      const inner = orExpr();
      if (toks[pos++] !== ")") throw new PolicySyntaxError(`missing ) in "${check}"`);
      return inner;
    }
    return parseAtom(tok);
  };
  const node = orExpr();
  if (pos !== toks.length) throw new PolicySyntaxError(`trailing tokens in "${check}"`);
  return node;
}

/** Python's str() of a value, which is what oslo compares against. */
const fieldRegexes = new Map<string, RegExp | null>();

/**
 * `field:<resource>:<field>=<value>`; a value starting with `~` is a regular expression
 * matched at the start, as Neutron's FieldCheck does (`field:port:device_owner=~^network:`).
 */
function fieldCheck(spec: string, target: Target): boolean {
  targetRead = true;
  const colon = spec.indexOf(":");
  const eq = spec.indexOf("=", colon);
  if (colon < 0 || eq < 0) return false;
  const field = spec.slice(colon + 1, eq);
  const want = spec.slice(eq + 1);
  const value = target[field];
  if (value === null || value === undefined) return false;
  if (want.startsWith("~")) {
    let re = fieldRegexes.get(want);
    if (re === undefined) {
      try {
        re = new RegExp(want.slice(1));
      } catch {
        re = null;
      }
      fieldRegexes.set(want, re);
    }
    if (!re) return false;
    const m = re.exec(pyStr(value));
    return m !== null && m.index === 0;
  }
  return pyStr(value) === want;
}

function pyStr(v: unknown): string {
  if (v === true) return "True";
  if (v === false) return "False";
  if (v === null || v === undefined) return "None";
  return String(v);
}

/** `%(key)s` formatting against the target; undefined when a key is missing (oslo: False). */
/** Set whenever an evaluation reads the target (see PolicyEngine.checkTracked). */
let targetRead = false;

function interpolate(match: string, target: Target): string | undefined {
  if (match.includes("%(")) targetRead = true;
  let missing = false;
  const s = match.replace(/%\(([^)]+)\)s/g, (_m, key: string) => {
    if (!(key in target)) {
      missing = true;
      return "";
    }
    return pyStr(target[key]);
  });
  return missing ? undefined : s;
}

function literal(kind: string): string | undefined {
  if (/^'.*'$/.test(kind) || /^".*"$/.test(kind)) return kind.slice(1, -1);
  if (kind === "True" || kind === "False" || kind === "None") return kind;
  if (/^-?\d+(\.\d+)?$/.test(kind)) return kind;
  return undefined;
}

export interface PolicyOptions {
  enforceScope: boolean;
  enforceNewDefaults: boolean;
  /** Rule name → check string from the operator's file. */
  overrides?: Record<string, string>;
}

export class PolicyEngine {
  private readonly rules = new Map<string, PolicyRule>();
  private readonly compiled = new Map<string, Node>();
  constructor(
    defaults: readonly PolicyRule[],
    private readonly opts: PolicyOptions,
  ) {
    for (const r of defaults) this.rules.set(r.name, r);
    for (const [name, check] of Object.entries(opts.overrides ?? {})) {
      const base = this.rules.get(name);
      // An operator's rule replaces the default outright, deprecated alias included.
      this.rules.set(name, { name, check, scopes: base?.scopes ?? [] });
      this.compiled.set(name, parseCheck(check));
    }
  }

  register(rules: readonly PolicyRule[]): void {
    for (const r of rules) if (!this.opts.overrides?.[r.name]) this.rules.set(r.name, r);
  }

  has(name: string): boolean {
    return this.rules.has(name);
  }

  private node(name: string): Node | undefined {
    let n = this.compiled.get(name);
    if (n) return n;
    const r = this.rules.get(name);
    if (!r) return undefined;
    const check =
      r.deprecated !== undefined && !this.opts.enforceNewDefaults && r.deprecated !== r.check
        ? `(${r.check}) or (${r.deprecated})`
        : r.check;
    n = parseCheck(check);
    this.compiled.set(name, n);
    return n;
  }

  /** Evaluate a rule; unknown rule names fall back to "default" like oslo. */
  check(name: string, target: Target, creds: Credentials): boolean {
    const n = this.node(name) ?? this.node("default");
    if (!n) return false;
    return this.evalNode(n, target, creds, 0);
  }

  /**
   * check(), also telling whether the answer depended on the target at all. An evaluation that
   * never read the target (an admin passing `rule:admin_only` first) answers the same for
   * every target with these credentials, so a caller may reuse it across a list's items.
   */
  checkTracked(name: string, target: Target, creds: Credentials): { ok: boolean; targetRead: boolean } {
    targetRead = false;
    const ok = this.check(name, target, creds);
    return { ok, targetRead };
  }

  /** The token's scope must be one the rule allows (only when enforce_scope is on). */
  scopeAllowed(name: string, scope: Scope | undefined): boolean {
    const r = this.rules.get(name);
    if (!this.opts.enforceScope || !r || r.scopes.length === 0) return true;
    return scope !== undefined && r.scopes.includes(scope);
  }

  /** Throws 403 when the caller may not; the message matches Keystone's. */
  enforce(name: string, target: Target, creds: Credentials, scope: Scope | undefined): void {
    if (!this.scopeAllowed(name, scope) || !this.check(name, target, creds)) {
      throw new Forbidden(`You are not authorized to perform the requested action: ${name}.`);
    }
  }

  private evalNode(n: Node, target: Target, creds: Credentials, depth: number): boolean {
    if (depth > 50) return false;
    switch (n.t) {
      case "true":
        return true;
      case "false":
        return false;
      case "and":
        return n.items.every((i) => this.evalNode(i, target, creds, depth));
      case "or":
        return n.items.some((i) => this.evalNode(i, target, creds, depth));
      case "not":
        return !this.evalNode(n.item, target, creds, depth);
      case "rule": {
        const sub = this.node(n.name);
        return sub ? this.evalNode(sub, target, creds, depth + 1) : false;
      }
      case "role": {
        const want = interpolate(n.match, target);
        if (want === undefined) return false;
        const w = want.toLowerCase();
        return creds.roles.some((r) => r.toLowerCase() === w);
      }
      case "generic": {
        // Neutron's FieldCheck, `field:networks:shared=True`: a value of the target itself.
        if (n.kind === "field") return fieldCheck(n.match, target);
        const match = interpolate(n.match, target);
        if (match === undefined) return false;
        const lit = literal(n.kind);
        if (lit !== undefined) return lit === match;
        let left: unknown = creds;
        for (const part of n.kind.split(".")) {
          if (left === null || typeof left !== "object" || !(part in left)) return false;
          left = (left as Record<string, unknown>)[part];
        }
        if (Array.isArray(left)) return left.some((x) => pyStr(x) === match);
        return pyStr(left) === match;
      }
    }
  }
}

/** Read an operator policy file (YAML or JSON, both parse as YAML) into rule overrides. */
export function loadPolicyFile(path: string): Record<string, string> {
  const doc: unknown = parseYaml(readFileSync(path, "utf8"));
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new PolicySyntaxError(`${path}: not a mapping`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (typeof v !== "string") throw new PolicySyntaxError(`${path}: rule ${k} is not a string`);
    parseCheck(v);
    out[k] = v;
  }
  return out;
}

/** Flatten a nested object to oslo-style dotted keys: {target: {project: {id}}} → "target.project.id". */
export function flattenTarget(obj: Record<string, unknown>, prefix = "", out: Target = {}): Target {
  for (const k in obj) {
    const v = obj[k];
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date)) {
      flattenTarget(v as Record<string, unknown>, key, out);
    } else {
      out[key] = v;
    }
  }
  return out;
}
