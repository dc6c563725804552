import { BadRequest } from "../../../common/errors.js";
import { parseBool } from "../api/fleet-validate.js";
import { EXTRA_SPEC_RULES } from "./extra-specs-data.js";

interface Compiled {
  name: string;
  re: RegExp;
  type: "str" | "int" | "bool";
  enum?: Array<string | number | boolean>;
  pattern?: RegExp;
  patternText?: string;
  min?: number;
  max?: number;
}

let compiled: { byName: Map<string, Compiled>; all: Compiled[]; namespaces: RegExp[] } | undefined;

function rules(): NonNullable<typeof compiled> {
  if (compiled) return compiled;
  const all: Compiled[] = [];
  const namespaces = new Set<string>();
  for (const r of EXTRA_SPEC_RULES) {
    const c: Compiled = { name: r.name, re: new RegExp(`^(?:${r.regex})$`), type: r.type };
    if (r.enum) c.enum = r.enum;
    if (r.pattern !== undefined) {
      c.pattern = new RegExp(`^(?:${r.pattern})$`);
      c.patternText = r.pattern;
    }
    if (r.min !== undefined) c.min = r.min;
    if (r.max !== undefined) c.max = r.max;
    all.push(c);
    if (r.regex.includes(":")) namespaces.add(r.regex.split(":", 1)[0]!);
  }
  compiled = {
    byName: new Map(all.map((c) => [c.name, c])),
    all,
    namespaces: [...namespaces].map((n) => new RegExp(`^(?:${n})$`)),
  };
  return compiled;
}

const fail = (m: string) => new BadRequest(`Validation failed; ${m}`);

/**
 * nova/api/validation/extra_specs/validators.py validate(): a known key's value is checked;
 * an unknown key in a known namespace is refused; anything else is accepted (2.86+).
 */
export function validateExtraSpec(name: string, value: string): void {
  const r = rules();
  const v = r.byName.get(name) ?? r.all.find((c) => c.re.test(name));
  if (!v) {
    if (!name.includes(":")) return;
    const ns = name.split(":", 1)[0]!;
    if (r.namespaces.some((n) => n.test(ns))) throw fail(`extra spec '${name}' does not appear to be a valid extra spec.`);
    return;
  }
  if (v.type === "int") {
    if (!/^\s*[-+]?\d+\s*$/.test(value)) throw fail(`'${value}' is not a valid integer value.`);
    const n = Number(value);
    if (v.max !== undefined && v.max < n) throw fail(`'${n}' is greater than the max value of '${v.max}'.`);
    if (v.min !== undefined && v.min > n) throw fail(`'${n}' is less than the min value of '${v.min}'.`);
  } else if (v.type === "bool") {
    if (parseBool(value) === undefined) throw fail(`'${value}' is not a valid boolean-like value.`);
  } else if (v.pattern) {
    if (!v.pattern.test(value)) throw fail(`'${value}' is not of the format '${v.patternText}'.`);
  } else if (v.enum) {
    if (!v.enum.map(String).includes(value)) throw fail(`'${value}' is not one of: ${v.enum.map((x) => (typeof x === "boolean" ? (x ? "True" : "False") : String(x))).join(", ")}.`);
  }
}
