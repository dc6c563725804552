import { respond } from "../core/errors.js";
import type { Filter, SwiftRequest, SwiftResponse } from "../core/types.js";
import { num, parseMeta } from "../store/store.js";
import type { FilterDeps } from "./deps.js";

/** swob's HTTPException(body=...) keeps the default text/html content type. */
const HTML = "text/html; charset=UTF-8";

/** str.isdigit() for the ASCII digits Swift's quota headers use. */
const isDigits = (v: string): boolean => /^[0-9]+$/.test(v);

/** Python's int(): surrounding whitespace, a sign and digit-separating underscores are fine. */
function pyInt(v: string): number | undefined {
  const m = /^\s*([+-]?)([0-9]+(?:_[0-9]+)*)\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[2]!.replaceAll("_", ""));
  return m[1] === "-" ? -n : n;
}

/** Content-Length as swob reads it (absent or chunked counts as 0 here). */
function contentLength(req: SwiftRequest): number {
  const cl = req.header("content-length");
  if (cl === undefined) return 0;
  const n = Number(cl.trim());
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * Swift's container_quotas then account_quotas, in the proxy pipeline's order (after auth
 * and copy, so a copy's PUT is counted too).
 *
 * container_quotas: X-Container-Meta-Quota-Bytes / -Quota-Count must be digits when set
 * (400 otherwise); an object PUT that would take the container past either limit is 413
 * "Upload exceeds quota." — or the caller's own refusal when it may not write there at all,
 * so the container's existence does not leak.
 *
 * account_quotas: X-Account-Meta-Quota-Bytes is set and removed only by a reseller admin
 * (keystoneauth's reseller_request); anyone else asking is 403. An object PUT that would take
 * the account's bytes past it is 413 "Upload exceeds quota." once the caller is authorized.
 */
export function quotasFilter(d: FilterDeps): Filter {
  d.info.register("container_quotas", {});
  d.info.register("account_quotas", {});

  /** bad_response: the caller's refusal first (401/403), then the quota's 413. */
  const overQuota = async (req: SwiftRequest): Promise<SwiftResponse> => {
    const container = await d.proxy.containerFor(req);
    await d.proxy.authorize(req, container);
    return respond(413, { body: "Upload exceeds quota.", contentType: HTML });
  };

  const containerQuotas = async (req: SwiftRequest): Promise<SwiftResponse | undefined> => {
    if (req.kind === "container" && (req.method === "PUT" || req.method === "POST")) {
      const bytes = req.header("x-container-meta-quota-bytes");
      if (bytes && !isDigits(bytes)) return respond(400, { body: "Invalid bytes quota.", contentType: HTML });
      const count = req.header("x-container-meta-quota-count");
      if (count && !isDigits(count)) return respond(400, { body: "Invalid count quota.", contentType: HTML });
      return undefined;
    }
    if (req.kind !== "object" || req.method !== "PUT") return undefined;
    const row = await d.proxy.containerFor(req);
    if (!row) return undefined; // the proxy answers 404
    const meta = parseMeta(row.meta);
    const qb = meta["x-container-meta-quota-bytes"];
    if (qb !== undefined && isDigits(qb) && Number(qb) < num(row.bytes_used) + contentLength(req)) return overQuota(req);
    const qc = meta["x-container-meta-quota-count"];
    if (qc !== undefined && isDigits(qc) && Number(qc) < num(row.object_count) + 1) return overQuota(req);
    return undefined;
  };

  const accountQuotas = async (req: SwiftRequest): Promise<SwiftResponse | undefined> => {
    if (req.method !== "POST" && req.method !== "PUT") return undefined;
    let newQuota: string | number | undefined;
    if (req.kind === "account") {
      newQuota = req.header("x-account-meta-quota-bytes");
      if (req.header("x-remove-account-meta-quota-bytes")) newQuota = 0; // removal wins
    }
    if (req.env["resellerRequest"] === true) {
      if (typeof newQuota === "string" && newQuota !== "" && !isDigits(newQuota)) return respond(400);
      return undefined;
    }
    if (newQuota !== undefined) return respond(403);
    if (req.method === "POST" || req.kind !== "object") return undefined;
    const account = await d.store.account(req.account);
    const raw = account ? parseMeta(account.meta)["x-account-meta-quota-bytes"] : undefined;
    if (raw === undefined) return undefined;
    const quota = pyInt(raw);
    if (quota === undefined || quota < 0) return undefined;
    const stats = await d.store.accountStats(req.account);
    if (quota < stats.bytes + contentLength(req)) return overQuota(req);
    return undefined;
  };

  return {
    name: "quotas",
    async handle(req, next) {
      return (await containerQuotas(req)) ?? (await accountQuotas(req)) ?? next(req);
    },
  };
}
