import type { RequestContext } from "../../../http/context.js";
import { badRequest } from "../errors.js";
import { allValues, isUuidLike, v } from "./common.js";

/** ?resources=VCPU:2,MEMORY_MB:1024 (util.normalize_resources_qs_param). */
export function normalizeResources(qs: string): Record<string, number> {
  if (qs.trim() === "") {
    throw badRequest("Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: empty string.");
  }
  const out: Record<string, number> = {};
  for (const rt of qs.split(",")) {
    const parts = rt.split(":");
    if (parts.length !== 2) {
      throw badRequest(`Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: ${rt}.`);
    }
    const [rc, amountText] = parts as [string, string];
    if (!/^\s*[-+]?\d+\s*$/.test(amountText)) throw badRequest(`Requested resource ${rc} expected positive integer amount. Got: ${amountText}.`);
    const amount = Number.parseInt(amountText, 10);
    if (amount < 1) throw badRequest(`Requested resource ${rc} requires amount >= 1. Got: ${amount}.`);
    out[rc] = amount;
  }
  return out;
}

/** One required=… value: [AND of ORs, forbidden] (util.normalize_traits_qs_param). */
function traitsParam(val: string, allowForbidden: boolean, allowAny: boolean): [string[][], string[]] {
  if (val.startsWith("in:")) {
    if (!allowAny) throw badRequest(`Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported since microversion 1.39. Got: ${val}`);
    const any = [...new Set(val.slice(3).split(",").map((s) => s.trim()))];
    if (!any.every((t) => t)) throw badRequest(`Invalid query string parameters: Expected 'required' parameter value of the form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: ${val}`);
    if (any.some((t) => t.startsWith("!"))) throw badRequest(`Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does not support forbidden traits. Got: ${val}`);
    return [[any], []];
  }
  const all = val.split(",").map((s) => s.trim());
  const forbidden = [...new Set(all.filter((t) => t.startsWith("!")).map((t) => t.replace(/^!+/, "")))];
  if (![...forbidden, ...all].every((t) => t)) {
    throw badRequest(
      `Invalid query string parameters: Expected 'required' parameter value of the form: ${allowForbidden ? "HW_CPU_X86_VMX,!CUSTOM_MAGIC" : "HW_CPU_X86_VMX,CUSTOM_MAGIC"}. Got an empty trait in: ${val}`,
    );
  }
  if (forbidden.length && !allowForbidden) {
    throw badRequest(`Invalid query string parameters: Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: ${val}`);
  }
  return [[...new Set(all.filter((t) => !t.startsWith("!")))].map((t) => [t]), forbidden];
}

/** required<suffix>: repeated values count from 1.39; before, the last one wins. */
export function normalizeTraits(ctx: RequestContext, suffix: string): [string[][], string[]] {
  let values = allValues(ctx, `required${suffix}`);
  if (!v(ctx, "1.39")) values = values.slice(-1);
  const req: string[][] = [];
  const forb = new Set<string>();
  for (const val of values) {
    const [r, f] = traitsParam(val, v(ctx, "1.22"), v(ctx, "1.39"));
    req.push(...r);
    for (const x of f) forb.add(x);
  }
  return [req, [...forb]];
}

/** Legacy form for root_required: a set of names, forbidden ones prefixed with "!". */
export function legacyTraits(val: string): string[] {
  const [req, forb] = traitsParam(val, true, false);
  return [...req.map((x) => x[0]!), ...forb.map((f) => `!${f}`)];
}

/** member_of<suffix> (util.normalize_member_of_qs_params). */
export function normalizeMemberOf(ctx: RequestContext, suffix: string): [string[][], string[]] {
  const values = allValues(ctx, `member_of${suffix}`);
  if (!v(ctx, "1.24") && values.length > 1) throw badRequest(`Multiple member_of${suffix} parameters are not supported`);
  const req: string[][] = [];
  const forb = new Set<string>();
  for (const value of values) {
    if (value.includes(",") && !(value.startsWith("in:") || value.startsWith("!in:"))) {
      throw badRequest(`Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' keyword using the valid microversion. Got: ${value}`);
    }
    let required: string[] = [];
    let forbidden: string[] = [];
    if (value.startsWith("!in:")) forbidden = value.slice(4).split(",");
    else if (value.startsWith("!")) forbidden = [value.slice(1)];
    else if (value.startsWith("in:")) required = value.slice(3).split(",");
    else required = [value];
    for (const u of [...required, ...forbidden]) {
      if (!isUuidLike(u)) throw badRequest(`Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: ${u}`);
    }
    if (required.length) req.push([...new Set(required)]);
    if (forbidden.length) {
      if (!v(ctx, "1.32")) throw badRequest(`Forbidden member_of${suffix} parameters are not supported in the specified microversion`);
      for (const f of forbidden) forb.add(f);
    }
  }
  return [req, [...forb]];
}

export function normalizeInTree(value: string): string {
  const r = value.trim();
  if (!isUuidLike(r)) throw badRequest(`Invalid query string parameters: Expected 'in_tree' parameter to be a format of uuid. Got: ${value}`);
  return r;
}
