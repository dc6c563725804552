import { uuid } from "../../../common/ids.js";
import type { Network } from "../api/deps.js";
import { assertRevision } from "../api/resource.js";
import type { Caller } from "../core.js";
import { NeutronError, badRequest, conflict, invalidInput, notFound } from "../errors.js";
import {
  cidrRange,
  formatPrefixes,
  mergeRanges,
  parseCidr,
  rangesOverlap,
  readPoolPrefixes,
  resolvePrefixBounds,
  subtractRanges,
  rangeToCidrs,
  updatePoolPrefixes,
} from "../ipam/index.js";
import type { Cidr, IpRange, IpVersion, IpamError } from "../ipam/index.js";
import type { Doc, DocSpec } from "../store/docs.js";
import { deleteDoc, findDocs, getDoc, insertDoc, updateDoc } from "../store/docs.js";
import type { NetworkTrx, Q } from "../store/tables.js";
import { AddressScopeManager, addSharedWildcard, sharedFor, visibleDoc, visibleDocs } from "./address-scopes.js";

export const SUBNETPOOL_SPEC: DocSpec<"net_subnetpool"> = {
  table: "net_subnetpool",
  columns: (d) => ({ project_id: String(d["project_id"]), address_scope_id: (d["address_scope_id"] as string | null | undefined) ?? null }),
};

/** An IPAM library error as the API answers it. */
export function raise(e: IpamError): never {
  throw new NeutronError(e.status, e.type, e.message);
}

/** A pool's stored prefixes as CIDRs. */
export function poolPrefixes(doc: Doc): Cidr[] {
  const out: Cidr[] = [];
  for (const p of (doc["prefixes"] as string[] | undefined) ?? []) {
    const c = parseCidr(p);
    if (c) out.push(c.cidr);
  }
  return out;
}

const setsIntersect = (a: readonly Cidr[], b: readonly Cidr[]): boolean => {
  const ra = mergeRanges(a.map(cidrRange));
  const rb = mergeRanges(b.map(cidrRange));
  return ra.some((x) => rb.some((y) => rangesOverlap(x, y)));
};

/**
 * Subnet pools (db_base_plugin_v2.py create/update/delete_subnetpool, subnet_alloc.py
 * SubnetPoolReader, the subnetpool-prefix-ops actions): prefixes of one IP version kept
 * compacted, prefix-length bounds, one default pool per IP version, membership in an address
 * scope (same version, no prefix shared with the scope's other pools), sharing through RBAC.
 */
export class SubnetPoolManager {
  private readonly scopes: AddressScopeManager;
  constructor(private readonly n: Network) {
    this.scopes = new AddressScopeManager(n);
  }

  async list(caller: Caller, projectFilter?: readonly string[]): Promise<Doc[]> {
    const db = this.n.core.db;
    return this.present(db, caller, await visibleDocs(db, "net_subnetpool", "subnetpool", caller, projectFilter));
  }

  async get(caller: Caller, id: string): Promise<Doc | undefined> {
    return this.visible(this.n.core.db, caller, id);
  }

  /** The pool as the caller may use it (SubnetPool.get_object with the caller's context). */
  async visible(q: Q, caller: Caller, id: string, lock = false): Promise<Doc | undefined> {
    const doc = await visibleDoc(q, "net_subnetpool", "subnetpool", caller, id, lock && this.n.core.rowLocks);
    return doc ? (await this.present(q, caller, [doc]))[0] : undefined;
  }

  /** get_default_subnetpool: the caller's visible default pool of an IP version. */
  async defaultPool(q: Q, caller: Caller, version: number): Promise<Doc | undefined> {
    const docs = await visibleDocs(q, "net_subnetpool", "subnetpool", caller);
    return docs.find((d) => d["is_default"] === true && d["ip_version"] === version);
  }

  async present(q: Q, caller: Caller, docs: Doc[]): Promise<Doc[]> {
    if (docs.length === 0) return docs;
    const shared = await sharedFor(q, "subnetpool", caller, docs.map((d) => d.id));
    return docs.map((d) => ({ ...d, shared: shared.has(d.id) }));
  }

  async create(caller: Caller, items: Array<Record<string, unknown>>): Promise<Doc[]> {
    return this.n.core.write(async (trx) => {
      const out: Doc[] = [];
      for (const item of items) out.push(await this.createOne(trx, caller, item));
      return this.present(trx, caller, out);
    });
  }

  private async createOne(trx: NetworkTrx, caller: Caller, item: Record<string, unknown>): Promise<Doc> {
    const projectId = String(item["project_id"]);
    await this.n.quotas.check(trx, projectId, "subnetpool");
    const read = readPoolPrefixes(item["prefixes"] as string[]);
    if ("type" in read) raise(read);
    const bounds = resolvePrefixBounds(read.version, {
      ...(item["min_prefixlen"] !== undefined ? { minPrefixlen: Number(item["min_prefixlen"]) } : {}),
      ...(item["max_prefixlen"] !== undefined ? { maxPrefixlen: Number(item["max_prefixlen"]) } : {}),
      ...(item["default_prefixlen"] !== undefined ? { defaultPrefixlen: Number(item["default_prefixlen"]) } : {}),
    });
    if ("type" in bounds) raise(bounds);
    const id = uuid();
    if (item["is_default"] === true) await this.assertNoDefault(trx, caller, read.version);
    const scopeId = (item["address_scope_id"] as string | null | undefined) ?? null;
    if (scopeId) await this.validateScope(trx, caller, id, scopeId, read.prefixes, read.version);
    const doc: Doc = this.n.core.stamp({
      id,
      name: item["name"],
      tenant_id: projectId,
      project_id: projectId,
      prefixes: formatPrefixes(read.prefixes),
      default_quota: (item["default_quota"] as number | undefined) ?? null,
      ip_version: read.version,
      default_prefixlen: bounds.defaultPrefixlen,
      min_prefixlen: bounds.minPrefixlen,
      max_prefixlen: bounds.maxPrefixlen,
      is_default: item["is_default"] === true,
      address_scope_id: scopeId,
      description: item["description"] ?? "",
    });
    await insertDoc(trx, SUBNETPOOL_SPEC, doc);
    if (item["shared"] === true) await addSharedWildcard(this.n.core, trx, "subnetpool", doc);
    return doc;
  }

  /** _check_default_subnetpool_exists */
  private async assertNoDefault(q: Q, caller: Caller, version: number): Promise<void> {
    if (await this.defaultPool(q, caller, version)) {
      throw invalidInput("A default subnetpool for this IP family has already been set. Only one default may exist per IP family");
    }
  }

  /** _validate_address_scope_id */
  private async validateScope(q: Q, caller: Caller, poolId: string, scopeId: string, prefixes: readonly Cidr[], version: IpVersion): Promise<void> {
    const scope = await this.scopes.visible(q, caller, scopeId);
    if (!scope) throw notFound("address_scope", scopeId);
    if (!(caller.admin || scope["project_id"] === caller.projectId || scope["shared"] === true)) {
      throw badRequest(
        `Illegal subnetpool association: subnetpool ${poolId} cannot be associated with address scope ${scopeId}.`,
        "IllegalSubnetPoolAssociationToAddressScope",
      );
    }
    if (scope["ip_version"] !== version) {
      throw badRequest(
        `Illegal subnetpool association: subnetpool ${poolId} cannot associate with address scope ${scopeId} because subnetpool ip_version is not ${String(scope["ip_version"])}.`,
        "IllegalSubnetPoolIpVersionAssociationToAddressScope",
      );
    }
    await this.assertNetworkAffinity(q, poolId, version);
    const others = await findDocs(q, "net_subnetpool", { address_scope_id: scopeId });
    for (const other of others) {
      if (other.id === poolId) continue;
      if (setsIntersect(poolPrefixes(other), prefixes)) {
        throw conflict(
          "AddressScopePrefixConflict",
          "Failed to associate address scope: subnetpools within an address scope must have unique prefixes.",
        );
      }
    }
  }

  /**
   * _check_subnetpool_address_scope_network_affinity: re-scoping a pool must not leave a
   * network with subnets of one family in different scopes.
   */
  private async assertNetworkAffinity(q: Q, poolId: string, version: number): Promise<void> {
    const rescoped = await q.selectFrom("net_subnet").select(["id", "network_id"]).where("subnetpool_id", "=", poolId).execute();
    if (rescoped.length === 0) return;
    const nets = [...new Set(rescoped.map((s) => s.network_id))];
    const all = await q.selectFrom("net_subnet").select("id").where("network_id", "in", nets).where("ip_version", "=", version).execute();
    const ids = new Set(rescoped.map((s) => s.id));
    if (all.some((s) => !ids.has(s.id))) {
      throw badRequest(
        "Subnets of the same address family hosted on the same network must all participate in the same address scope.",
        "NetworkAddressScopeAffinityError",
      );
    }
  }

  async update(caller: Caller, id: string, changes: Record<string, unknown>, ifRevision: number | undefined): Promise<Doc> {
    return this.n.core.write(async (trx) => {
      const doc = await this.visible(trx, caller, id, true);
      if (!doc) throw notFound("subnetpool", id);
      assertRevision(doc, ifRevision);
      const out = await this.applyUpdate(trx, caller, doc, changes);
      return (await this.present(trx, caller, [out]))[0] as Doc;
    });
  }

  /** update_subnetpool on a loaded (and locked) pool. */
  private async applyUpdate(trx: NetworkTrx, caller: Caller, doc: Doc, changes: Record<string, unknown>): Promise<Doc> {
    const { prefixes: newPrefixes, ...rest } = changes;
    const merged: Doc = { ...doc, ...rest };
    let prefixes = poolPrefixes(doc);
    if (newPrefixes !== undefined) {
      const p = updatePoolPrefixes(prefixes, newPrefixes as string[]);
      if (!Array.isArray(p)) raise(p);
      prefixes = p;
    }
    // SubnetPoolReader over the merged pool: its checks run again on every update.
    const read = readPoolPrefixes(formatPrefixes(prefixes));
    if ("type" in read) raise(read);
    const bounds = resolvePrefixBounds(read.version, {
      minPrefixlen: Number(merged["min_prefixlen"]),
      maxPrefixlen: Number(merged["max_prefixlen"]),
      defaultPrefixlen: Number(merged["default_prefixlen"]),
    });
    if ("type" in bounds) raise(bounds);
    if (merged["is_default"] === true && doc["is_default"] !== true) await this.assertNoDefault(trx, caller, read.version);
    const origScope = doc["address_scope_id"] as string | null;
    if (origScope) {
      const scope = await this.scopes.visible(trx, caller, origScope);
      if (!scope) throw notFound("address_scope", origScope);
      if (!caller.admin && scope["project_id"] !== caller.projectId) {
        throw badRequest(
          `Illegal subnetpool update : subnetpool ${doc.id} cannot be updated when associated with shared address scope ${origScope}.`,
          "IllegalSubnetPoolUpdate",
        );
      }
    }
    const scopeId = (merged["address_scope_id"] as string | null | undefined) ?? null;
    if (scopeId) await this.validateScope(trx, caller, doc.id, scopeId, read.prefixes, read.version);
    const stored: Doc = { ...doc, ...rest };
    delete stored["shared"];
    stored["prefixes"] = formatPrefixes(read.prefixes);
    stored["address_scope_id"] = scopeId;
    stored["min_prefixlen"] = bounds.minPrefixlen;
    stored["max_prefixlen"] = bounds.maxPrefixlen;
    stored["default_prefixlen"] = bounds.defaultPrefixlen;
    this.n.core.touch(stored);
    await updateDoc(trx, SUBNETPOOL_SPEC, stored);
    return stored;
  }

  async delete(id: string, ifRevision: number | undefined): Promise<void> {
    await this.n.core.write(async (trx) => {
      const doc = await getDoc(trx, "net_subnetpool", id, this.n.core.rowLocks);
      if (!doc) throw notFound("subnetpool", id);
      assertRevision(doc, ifRevision);
      const used = await trx.selectFrom("net_subnet").select("id").where("subnetpool_id", "=", id).executeTakeFirst();
      if (used) throw badRequest("Unable to delete subnet pool: Subnet pool has existing allocations.", "SubnetPoolDeleteError");
      await trx.deleteFrom("net_rbac_policy").where("object_type", "=", "subnetpool").where("object_id", "=", id).execute();
      await deleteDoc(trx, "net_subnetpool", id);
    });
  }

  /** PUT /v2.0/subnetpools/{id}/add_prefixes: update_subnetpool with the union. */
  async addPrefixes(caller: Caller, id: string, prefixes: string[]): Promise<string[]> {
    return this.n.core.write(async (trx) => {
      const doc = await this.visible(trx, caller, id, true);
      if (!doc) throw notFound("subnetpool", id);
      const current = (doc["prefixes"] as string[]) ?? [];
      const out = await this.applyUpdate(trx, caller, doc, { prefixes: [...current, ...prefixes] });
      return out["prefixes"] as string[];
    });
  }

  /**
   * PUT /v2.0/subnetpools/{id}/remove_prefixes: the pool shrinks, but not under a subnet; a
   * request that removes nothing changes nothing.
   */
  async removePrefixes(caller: Caller, id: string, prefixes: string[]): Promise<string[]> {
    return this.n.core.write(async (trx) => {
      const doc = await this.visible(trx, caller, id, true);
      if (!doc) throw notFound("subnetpool", id);
      const current = poolPrefixes(doc);
      const removal: IpRange[] = [];
      for (const text of prefixes) {
        const read = readPoolPrefixes([text]);
        if ("type" in read) raise(read);
        removal.push(...read.prefixes.map(cidrRange));
      }
      const all = mergeRanges(current.map(cidrRange));
      const disjoint = !all.some((a) => removal.some((r) => rangesOverlap(a, r)));
      if (disjoint) return (doc["prefixes"] as string[]) ?? [];
      const subnets = await trx.selectFrom("net_subnet").select("cidr").where("subnetpool_id", "=", id).execute();
      const allocated = subnets.map((s) => parseCidr(s.cidr)?.cidr).filter((c): c is Cidr => c !== undefined);
      if (allocated.some((c) => removal.some((r) => rangesOverlap(cidrRange(c), r)))) {
        throw badRequest(
          "Illegal update to prefixes: One or more the prefixes to be removed is in use by a subnet.",
          "IllegalSubnetPoolPrefixUpdate",
        );
      }
      const left = subtractRanges(all, removal).flatMap(rangeToCidrs);
      const stored: Doc = { ...doc, prefixes: formatPrefixes(left) };
      delete stored["shared"];
      this.n.core.touch(stored);
      await updateDoc(trx, SUBNETPOOL_SPEC, stored);
      return stored["prefixes"] as string[];
    });
  }
}
