import { uuid } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { Network } from "../api/deps.js";
import type { Caller } from "../core.js";
import { NeutronError, badRequest, conflict, notFound } from "../errors.js";
import { assertRevision } from "../api/resource.js";
import type { Doc } from "../store/docs.js";
import { deleteDoc, findDocs, getDoc, insertDoc, updateDoc } from "../store/docs.js";
import type { DocSpec } from "../store/docs.js";
import { rbacEntriesOf, rbacGrants } from "../store/rbac.js";
import type { Q, NetworkTrx } from "../store/tables.js";

export const NETWORK_SPEC: DocSpec<"net_network"> = {
  table: "net_network",
  columns: (d) => ({ project_id: String(d["project_id"]), segment_key: segmentKey(d) }),
};

const NETWORK_TYPES = new Set(["flat", "vlan", "vxlan", "geneve", "gre", "local"]);
/** ML2's physical networks here (bridge_mappings public:br-ex). */
const PHYSNETS = new Set(["public"]);

function segmentKey(d: Doc): string | null {
  const type = d["provider:network_type"];
  if (typeof type !== "string" || type === "local") return null;
  return `${type}\n${String(d["provider:physical_network"] ?? "")}\n${String(d["provider:segmentation_id"] ?? "")}`;
}

/**
 * Networks: ML2 with VXLAN tenant networks (VNIs allocated from the configured range),
 * provider networks for admins, sharing and external access through RBAC entries, and the
 * per-caller view of `shared` and `subnets`.
 */
export class NetworkManager {
  constructor(private readonly n: Network) {}

  /** Networks the caller may see before policy: admin all; otherwise own + RBAC-granted. */
  async list(caller: Caller, projectFilter?: readonly string[]): Promise<Doc[]> {
    const db = this.n.core.db;
    let docs: Doc[];
    if (caller.admin) {
      docs = await findDocs(db, "net_network", projectFilter ? { project_id: projectFilter } : {});
    } else {
      const own = await findDocs(db, "net_network", { project_id: caller.projectId ?? "" });
      const grants = await rbacGrants(db, "network", caller.projectId);
      const ids = [...new Set(grants.map((g) => g.object_id))].filter((id) => !own.some((d) => d.id === id));
      docs = own.concat(ids.length ? await findDocs(db, "net_network", { id: ids }) : []);
    }
    return this.present(db, caller, docs);
  }

  async get(caller: Caller, id: string): Promise<Doc | undefined> {
    const doc = await getDoc(this.n.core.db, "net_network", id);
    if (!doc) return undefined;
    if (!caller.admin && doc["project_id"] !== caller.projectId) {
      const grants = await rbacGrants(this.n.core.db, "network", caller.projectId, [id]);
      if (grants.length === 0) return undefined;
    }
    return (await this.present(this.n.core.db, caller, [doc]))[0];
  }

  /** The stored document, for other managers (no visibility rules). */
  async load(q: Q, id: string, lock = false): Promise<Doc | undefined> {
    return getDoc(q, "net_network", id, lock && this.n.core.rowLocks);
  }

  /** Whether a project may use a network (own, shared with it, or admin). */
  async usable(q: Q, caller: Caller, net: Doc): Promise<boolean> {
    if (caller.admin || net["project_id"] === caller.projectId) return true;
    const grants = await rbacGrants(q, "network", caller.projectId, [net.id]);
    return grants.some((g) => g.action === "access_as_shared");
  }

  /** Computed attributes: subnets, shared as this caller sees it, availability zones. */
  async present(q: Q, caller: Caller, docs: Doc[]): Promise<Doc[]> {
    if (docs.length === 0) return docs;
    const ids = docs.map((d) => d.id);
    // Subnets, and the address scope of their pools (address_scope_db._extend_network_dict_address_scope).
    const subnets = await q
      .selectFrom("net_subnet")
      .leftJoin("net_subnetpool", "net_subnetpool.id", "net_subnet.subnetpool_id")
      .select(["net_subnet.id as id", "net_subnet.network_id as network_id", "net_subnet.ip_version as ip_version", "net_subnetpool.address_scope_id as scope"])
      .where("net_subnet.network_id", "in", ids)
      .execute();
    const byNet = new Map<string, string[]>();
    const scopes = new Map<string, string>();
    for (const s of subnets) {
      byNet.set(s.network_id, [...(byNet.get(s.network_id) ?? []), s.id]);
      if (s.scope) scopes.set(`${s.network_id}/${s.ip_version}`, s.scope);
    }
    const entries = await rbacEntriesOf(q, "network", ids);
    const sharedFor = new Set(
      entries
        .filter((e) => e.action === "access_as_shared" && (e.target_project === "*" || e.target_project === caller.projectId))
        .map((e) => e.object_id),
    );
    const azs = this.n.driver.availabilityZones().filter((a) => a.resource === "network").map((a) => a.name);
    return docs.map((d) => {
      const hints = (d["availability_zone_hints"] as string[] | undefined) ?? [];
      return {
        ...d,
        subnets: byNet.get(d.id) ?? [],
        ipv4_address_scope: scopes.get(`${d.id}/4`) ?? null,
        ipv6_address_scope: scopes.get(`${d.id}/6`) ?? null,
        shared: sharedFor.has(d.id),
        availability_zones: hints.length ? hints : azs.slice(0, 1),
      };
    });
  }

  async create(caller: Caller, items: Array<Record<string, unknown>>): Promise<Doc[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.n.core.write(async (trx) => {
          const out: Doc[] = [];
          for (const item of items) out.push(await this.createOne(trx, item));
          return this.present(trx, caller, out);
        });
      } catch (e) {
        // Two creators picked the same free VNI: run again (the loser picks another).
        if (isUniqueViolation(e) && attempt < 5 && !items.some((i) => i["provider:segmentation_id"] !== undefined)) continue;
        if (isUniqueViolation(e)) throw conflict("SegmentationIdInUse", "Unable to create the network. The segmentation ID is in use.");
        throw e;
      }
    }
  }

  private async createOne(trx: NetworkTrx, item: Record<string, unknown>): Promise<Doc> {
    const core = this.n.core;
    const projectId = String(item["project_id"]);
    await this.n.quotas.check(trx, projectId, "network");
    // Neutron makes the project's default security group when it creates a network for it.
    if (projectId) await this.n.securityGroups.ensureDefault(trx, projectId);
    const azs = new Set(this.n.driver.availabilityZones().filter((a) => a.resource === "network").map((a) => a.name));
    for (const hint of (item["availability_zone_hints"] as string[]) ?? []) {
      if (!azs.has(hint)) throw new NeutronError(404, "AvailabilityZoneNotFound", `AvailabilityZone ${hint} could not be found.`);
    }
    const segment = await this.segment(trx, item);
    const maxMtu = segment.type === "vxlan" || segment.type === "geneve" || segment.type === "gre" ? core.config.globalPhysnetMtu - 50 : core.config.globalPhysnetMtu;
    const mtu = item["mtu"] === undefined || item["mtu"] === null ? maxMtu : Number(item["mtu"]);
    if (mtu > maxMtu) throw badRequest(`Invalid input for operation: Requested MTU is too big, maximum is ${maxMtu}.`, "InvalidInput");
    const { shared, ...rest } = item;
    const doc: Doc = core.stamp({
      ...rest,
      id: uuid(),
      status: "ACTIVE",
      mtu,
      "provider:network_type": segment.type,
      "provider:physical_network": segment.physnet,
      "provider:segmentation_id": segment.id,
      "router:external": Boolean(item["router:external"]),
      availability_zone_hints: item["availability_zone_hints"] ?? [],
      ipv4_address_scope: null,
      ipv6_address_scope: null,
      l2_adjacency: true,
    });
    delete doc["subnets"];
    await insertDoc(trx, NETWORK_SPEC, doc);
    if (shared) await this.addWildcard(trx, doc, "access_as_shared");
    if (doc["router:external"]) await this.addWildcard(trx, doc, "access_as_external");
    await this.n.driver.realize("network", doc.id, "create");
    return doc;
  }

  private async addWildcard(trx: NetworkTrx, net: Doc, action: string): Promise<void> {
    const core = this.n.core;
    const rbac = core.stamp({
      id: uuid(),
      object_type: "network",
      object_id: net.id,
      action,
      target_tenant: "*",
      project_id: net["project_id"],
      tenant_id: net["project_id"],
    });
    await trx
      .insertInto("net_rbac_policy")
      .values({
        id: rbac.id,
        project_id: String(net["project_id"]),
        object_type: "network",
        object_id: net.id,
        action,
        target_project: "*",
        doc: JSON.stringify(rbac),
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  /** The segment of a new network: the admin's provider attributes, or a tenant VXLAN VNI. */
  private async segment(trx: NetworkTrx, item: Record<string, unknown>): Promise<{ type: string; physnet: string | null; id: number | null }> {
    const type = item["provider:network_type"] as string | undefined;
    const physnet = (item["provider:physical_network"] as string | undefined) ?? null;
    const segId = item["provider:segmentation_id"] as number | undefined;
    if (type === undefined) {
      if (physnet !== null || segId !== undefined) {
        throw badRequest("Invalid input for operation: provider:network_type required.", "InvalidInput");
      }
      const tenantType = this.n.core.config.tenantNetworkType;
      if (tenantType === "local") return { type: "local", physnet: null, id: null };
      return { type: tenantType, physnet: null, id: await this.freeVni(trx, tenantType) };
    }
    if (!NETWORK_TYPES.has(type)) throw badRequest(`Invalid input for operation: network_type value '${type}' not supported.`, "InvalidInput");
    if (type === "flat" || type === "vlan") {
      if (physnet === null) throw badRequest(`Invalid input for operation: physical_network required for ${type} provider network.`, "InvalidInput");
      if (!PHYSNETS.has(physnet)) throw badRequest(`Invalid input for operation: physical_network '${physnet}' unknown for ${type} provider network.`, "InvalidInput");
    } else if (physnet !== null) {
      throw badRequest(`Invalid input for operation: provider:physical_network specified for ${type} network.`, "InvalidInput");
    }
    if (type === "flat") {
      if (segId !== undefined) throw badRequest("Invalid input for operation: segmentation_id specified for flat network.", "InvalidInput");
      const used = await trx.selectFrom("net_network").select("id").where("segment_key", "=", `flat\n${physnet}\n`).executeTakeFirst();
      if (used) throw conflict("FlatNetworkInUse", `Unable to create the flat network. Physical network ${physnet} is in use.`);
      return { type, physnet, id: null };
    }
    if (type === "local") return { type, physnet: null, id: null };
    const max = type === "vlan" ? 4094 : 16777215;
    if (segId === undefined) {
      if (type === "vlan") return { type, physnet, id: await this.freeId(trx, type, physnet ?? "", 1, 4094) };
      return { type, physnet, id: await this.freeVni(trx, type) };
    }
    if (segId < 1 || segId > max) {
      throw badRequest(`Invalid input for operation: ${type === "vlan" ? "VLAN" : "Tunnel"} ID ${segId} out of range (1..${max}).`, "InvalidInput");
    }
    const key = `${type}\n${physnet ?? ""}\n${segId}`;
    const used = await trx.selectFrom("net_network").select("id").where("segment_key", "=", key).executeTakeFirst();
    if (used) {
      throw conflict("SegmentationIdInUse", `Unable to create the network. The ${type === "vlan" ? "VLAN" : "tunnel"} ${segId} on physical network ${physnet ?? ""} is in use.`);
    }
    return { type, physnet, id: segId };
  }

  private freeVni(trx: NetworkTrx, type: string): Promise<number> {
    const [lo, hi] = this.n.core.config.vxlanRange;
    return this.freeId(trx, type, "", lo, hi);
  }

  /** The lowest free segmentation id of a type (ML2's type drivers allocate in order). */
  private async freeId(trx: NetworkTrx, type: string, physnet: string, lo: number, hi: number): Promise<number> {
    const rows = await trx.selectFrom("net_network").select("segment_key").where("segment_key", "like", `${type}\n${physnet}\n%`).execute();
    const used = new Set(rows.map((r) => Number(String(r.segment_key).split("\n")[2])));
    for (let id = lo; id <= hi; id++) if (!used.has(id)) return id;
    throw conflict("NoNetworkAvailable", "Unable to create the network. No tenant network is available for allocation.");
  }

  async update(caller: Caller, id: string, changes: Record<string, unknown>, ifRevision: number | undefined): Promise<Doc> {
    return this.n.core.write(async (trx) => {
      const doc = await this.load(trx, id, true);
      if (!doc) throw notFound("network", id);
      assertRevision(doc, ifRevision);
      const { shared, ...rest } = changes;
      if (rest["mtu"] !== undefined && rest["mtu"] !== null) {
        const type = String(doc["provider:network_type"]);
        const max = type === "flat" || type === "vlan" || type === "local" ? this.n.core.config.globalPhysnetMtu : this.n.core.config.globalPhysnetMtu - 50;
        if (Number(rest["mtu"]) > max) throw badRequest(`Invalid input for operation: Requested MTU is too big, maximum is ${max}.`, "InvalidInput");
      }
      for (const k of ["provider:network_type", "provider:physical_network", "provider:segmentation_id"]) {
        if (k in rest && rest[k] !== doc[k]) {
          throw badRequest("Invalid input for operation: Plugin does not support updating provider attributes.", "InvalidInput");
        }
      }
      if (shared !== undefined) await this.setShared(trx, doc, Boolean(shared));
      if (rest["router:external"] !== undefined && Boolean(rest["router:external"]) !== Boolean(doc["router:external"])) {
        await this.setExternal(trx, doc, Boolean(rest["router:external"]));
      }
      Object.assign(doc, rest);
      this.n.core.touch(doc);
      await updateDoc(trx, NETWORK_SPEC, doc);
      await this.n.driver.realize("network", id, "update");
      return (await this.present(trx, caller, [doc]))[0] as Doc;
    });
  }

  private async setShared(trx: NetworkTrx, doc: Doc, shared: boolean): Promise<void> {
    const wildcard = await trx
      .selectFrom("net_rbac_policy")
      .select("id")
      .where("object_id", "=", doc.id)
      .where("action", "=", "access_as_shared")
      .where("target_project", "=", "*")
      .executeTakeFirst();
    if (shared && !wildcard) await this.addWildcard(trx, doc, "access_as_shared");
    if (!shared && wildcard) {
      // The same check as deleting the wildcard RBAC entry (Neutron's update_network deletes it).
      if (await this.n.rbac.projectPortsOnNetwork(trx, doc, "*")) {
        throw conflict("InvalidSharedSetting", `Unable to reconfigure sharing settings for network ${doc.id}. Multiple tenants are using it.`);
      }
      await trx.deleteFrom("net_rbac_policy").where("id", "=", wildcard.id).execute();
    }
  }

  private async setExternal(trx: NetworkTrx, doc: Doc, external: boolean): Promise<void> {
    if (external) {
      await this.addWildcard(trx, doc, "access_as_external");
      return;
    }
    const gw = await trx.selectFrom("net_port").select("id").where("network_id", "=", doc.id).where("device_owner", "in", ["network:router_gateway", "network:floatingip"]).executeTakeFirst();
    if (gw) {
      throw conflict("ExternalNetworkInUse", `External network ${doc.id} cannot be updated to be made non-external, since it has existing gateway ports.`);
    }
    await trx.deleteFrom("net_rbac_policy").where("object_id", "=", doc.id).where("action", "=", "access_as_external").execute();
  }

  async delete(id: string, ifRevision: number | undefined): Promise<void> {
    await this.n.core.write(async (trx) => {
      const doc = await this.load(trx, id, true);
      if (!doc) throw notFound("network", id);
      assertRevision(doc, ifRevision);
      // Floating IPs on an external network go with it (Neutron's L3 plugin deletes them).
      if (doc["router:external"]) await this.n.floatingips.onNetworkDeleted(trx, id);
      const busy = await trx.selectFrom("net_port").select("id").where("network_id", "=", id).where("device_owner", "!=", "network:dhcp").executeTakeFirst();
      if (busy) {
        throw conflict("NetworkInUse", `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`);
      }
      const ports = await trx.selectFrom("net_port").select("id").where("network_id", "=", id).execute();
      const portIds = ports.map((p) => p.id);
      if (portIds.length) {
        await trx.deleteFrom("net_port_security_group").where("port_id", "in", portIds).execute();
        await trx.deleteFrom("net_ip_allocation").where("port_id", "in", portIds).execute();
        await trx.deleteFrom("net_port").where("id", "in", portIds).execute();
      }
      await trx.deleteFrom("net_ip_allocation").where("network_id", "=", id).execute();
      await trx.deleteFrom("net_subnet").where("network_id", "=", id).execute();
      await trx.deleteFrom("net_rbac_policy").where("object_type", "=", "network").where("object_id", "=", id).execute();
      await deleteDoc(trx, "net_network", id);
      await this.n.driver.realize("network", id, "delete");
    });
  }
}
