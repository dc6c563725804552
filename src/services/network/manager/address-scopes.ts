import { uuid } from "../../../common/ids.js";
import type { Network } from "../api/deps.js";
import type { Caller } from "../core.js";
import { NeutronError, inUse, notFound } from "../errors.js";
import type { Doc, DocSpec } from "../store/docs.js";
import { deleteDoc, findDocs, getDoc, insertDoc, updateDoc } from "../store/docs.js";
import { rbacEntriesOf, rbacGrants } from "../store/rbac.js";
import type { NetworkTrx, Q } from "../store/tables.js";

export const ADDRESS_SCOPE_SPEC: DocSpec<"net_address_scope"> = {
  table: "net_address_scope",
  columns: (d) => ({ project_id: String(d["project_id"]) }),
};

/**
 * Objects shared through RBAC (neutron/db/rbac_db_mixin.py): a project sees its own objects and
 * those an access_as_shared entry grants it (by name or by wildcard); `shared` is whether such
 * an entry exists for the caller.
 */
export async function sharedFor(q: Q, objectType: string, caller: Caller, ids: readonly string[]): Promise<Set<string>> {
  const entries = await rbacEntriesOf(q, objectType, ids);
  return new Set(
    entries
      .filter((e) => e.action === "access_as_shared" && (e.target_project === "*" || e.target_project === caller.projectId))
      .map((e) => e.object_id),
  );
}

/** The objects of a type a non-admin caller may see: its own plus the RBAC-granted ones. */
export async function visibleDocs(
  q: Q,
  table: "net_subnetpool" | "net_address_scope",
  objectType: string,
  caller: Caller,
  projectFilter?: readonly string[],
): Promise<Doc[]> {
  if (caller.admin) return findDocs(q, table, projectFilter ? { project_id: projectFilter } : {});
  const own = await findDocs(q, table, { project_id: caller.projectId ?? "" });
  const grants = (await rbacGrants(q, objectType, caller.projectId)).filter((g) => g.action === "access_as_shared");
  const ids = [...new Set(grants.map((g) => g.object_id))].filter((id) => !own.some((d) => d.id === id));
  return own.concat(ids.length ? await findDocs(q, table, { id: ids }) : []);
}

/** One object if the caller may see it. */
export async function visibleDoc(
  q: Q,
  table: "net_subnetpool" | "net_address_scope",
  objectType: string,
  caller: Caller,
  id: string,
  lock = false,
): Promise<Doc | undefined> {
  const doc = await getDoc(q, table, id, lock);
  if (!doc) return undefined;
  if (caller.admin || doc["project_id"] === caller.projectId) return doc;
  const grants = await rbacGrants(q, objectType, caller.projectId, [id]);
  return grants.some((g) => g.action === "access_as_shared") ? doc : undefined;
}

/** The wildcard access_as_shared entry `shared: true` stands for, as Neutron writes it. */
export async function addSharedWildcard(core: Network["core"], trx: NetworkTrx, objectType: string, obj: Doc): Promise<void> {
  const rbac = core.stamp({
    id: uuid(),
    object_type: objectType,
    object_id: obj.id,
    action: "access_as_shared",
    target_tenant: "*",
    project_id: obj["project_id"],
    tenant_id: obj["project_id"],
  });
  await trx
    .insertInto("net_rbac_policy")
    .values({
      id: rbac.id,
      project_id: String(obj["project_id"]),
      object_type: objectType,
      object_id: obj.id,
      action: "access_as_shared",
      target_project: "*",
      doc: JSON.stringify(rbac),
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/**
 * Address scopes (neutron/db/address_scope_db.py): a name, an IP version and sharing. Subnet
 * pools join one to promise unique addresses across them; a scope in use cannot be deleted, and
 * a shared one cannot be unshared. No standard attributes (no description, tags, timestamps).
 */
export class AddressScopeManager {
  constructor(private readonly n: Network) {}

  async list(caller: Caller, projectFilter?: readonly string[]): Promise<Doc[]> {
    const db = this.n.core.db;
    return this.present(db, caller, await visibleDocs(db, "net_address_scope", "address_scope", caller, projectFilter));
  }

  async get(caller: Caller, id: string): Promise<Doc | undefined> {
    const db = this.n.core.db;
    const doc = await visibleDoc(db, "net_address_scope", "address_scope", caller, id);
    return doc ? (await this.present(db, caller, [doc]))[0] : undefined;
  }

  /** The scope as the caller may use it (AddressScope.get_object with the caller's context). */
  async visible(q: Q, caller: Caller, id: string): Promise<Doc | undefined> {
    const doc = await visibleDoc(q, "net_address_scope", "address_scope", caller, id);
    return doc ? (await this.present(q, caller, [doc]))[0] : undefined;
  }

  async present(q: Q, caller: Caller, docs: Doc[]): Promise<Doc[]> {
    if (docs.length === 0) return docs;
    const shared = await sharedFor(q, "address_scope", caller, docs.map((d) => d.id));
    return docs.map((d) => ({ ...d, shared: shared.has(d.id) }));
  }

  async create(caller: Caller, items: Array<Record<string, unknown>>): Promise<Doc[]> {
    return this.n.core.write(async (trx) => {
      const out: Doc[] = [];
      for (const item of items) {
        const doc: Doc = {
          id: uuid(),
          name: item["name"],
          tenant_id: item["project_id"],
          project_id: item["project_id"],
          ip_version: item["ip_version"],
        };
        await insertDoc(trx, ADDRESS_SCOPE_SPEC, doc);
        if (item["shared"] === true) await addSharedWildcard(this.n.core, trx, "address_scope", doc);
        out.push(doc);
      }
      return this.present(trx, caller, out);
    });
  }

  /** Address scopes have no standard attributes, so no revision for If-Match to name. */
  async update(caller: Caller, id: string, changes: Record<string, unknown>): Promise<Doc> {
    return this.n.core.write(async (trx) => {
      const doc = await visibleDoc(trx, "net_address_scope", "address_scope", caller, id, this.n.core.rowLocks);
      if (!doc) throw notFound("address_scope", id);
      const wasShared = (await sharedFor(trx, "address_scope", caller, [id])).has(id);
      const { shared, ...rest } = changes;
      if (shared !== undefined) {
        const wildcard = await trx
          .selectFrom("net_rbac_policy")
          .select("id")
          .where("object_type", "=", "address_scope")
          .where("object_id", "=", id)
          .where("action", "=", "access_as_shared")
          .where("target_project", "=", "*")
          .executeTakeFirst();
        if ((wasShared || wildcard) && shared === false) {
          throw new NeutronError(400, "AddressScopeUpdateError", `Unable to update address scope ${id} : Shared address scope can't be unshared.`);
        }
        if (shared === true && !wildcard) await addSharedWildcard(this.n.core, trx, "address_scope", doc);
      }
      Object.assign(doc, rest);
      await updateDoc(trx, ADDRESS_SCOPE_SPEC, doc);
      return (await this.present(trx, caller, [doc]))[0] as Doc;
    });
  }

  async delete(id: string): Promise<void> {
    await this.n.core.write(async (trx) => {
      const doc = await getDoc(trx, "net_address_scope", id, this.n.core.rowLocks);
      if (!doc) throw notFound("address_scope", id);
      const used = await trx.selectFrom("net_subnetpool").select("id").where("address_scope_id", "=", id).executeTakeFirst();
      if (used) {
        throw inUse(
          "AddressScopeInUse",
          `Unable to complete operation on address scope ${id}. There are one or more subnet pools in use on the address scope.`,
        );
      }
      await trx.deleteFrom("net_rbac_policy").where("object_type", "=", "address_scope").where("object_id", "=", id).execute();
      await deleteDoc(trx, "net_address_scope", id);
    });
  }
}
