import { uuid } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { FixedIpRequest, FloatingIpsApi, InternalPortSpec, Network } from "../api/deps.js";
import { assertRevision } from "../api/resource.js";
import type { Caller } from "../core.js";
import { NeutronError, notFound } from "../errors.js";
import { pyRepr } from "../ipam/index.js";
import type { Doc, DocSpec } from "../store/docs.js";
import { deleteDoc, findDocs, getDoc, insertDoc, updateDoc } from "../store/docs.js";
import type { NetworkTrx, Q } from "../store/tables.js";
import { OWNER, RouterManager, badResource, fixedIpsOf, visibleNetwork } from "./routers.js";

export const FLOATINGIP_SPEC: DocSpec<"net_floatingip"> = {
  table: "net_floatingip",
  columns: (d) => ({
    project_id: String(d["project_id"]),
    floating_network_id: String(d["floating_network_id"]),
    floating_ip_address: String(d["floating_ip_address"]),
    port_id: typeof d["port_id"] === "string" ? d["port_id"] : null,
    router_id: typeof d["router_id"] === "string" ? d["router_id"] : null,
    fixed_key: typeof d["port_id"] === "string" ? fixedKey(d["port_id"], String(d["fixed_ip_address"]), String(d["floating_network_id"])) : null,
  }),
};

function fixedKey(portId: string, fixedIp: string, networkId: string): string {
  return `${portId}\n${fixedIp}\n${networkId}`;
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const isV4 = (addr: string): boolean => !addr.includes(":");

/** A port forwarding as stored: single ports are one-port ranges, as Neutron's table keeps them. */
interface Forwarding extends Doc {
  floatingip_id: string;
  internal_port_id: string;
  internal_ip_address: string;
  protocol: string;
  external_port_range: string;
  internal_port_range: string;
}

const PF_SPEC = (pf: Forwarding): { id: string; floatingip_id: string; external_key: string; internal_key: string; doc: string } => ({
  id: pf.id,
  floatingip_id: pf.floatingip_id,
  external_key: `${pf.protocol}\n${pf.external_port_range}`,
  internal_key: `${pf.internal_port_id}\n${pf.internal_ip_address}\n${pf.protocol}\n${pf.internal_port_range}`,
  doc: JSON.stringify(pf),
});

/** "a:b" → [a, b]; a single port "a" → [a, a]. */
function bounds(range: string): [number, number] {
  const [a, b] = range.split(":");
  const lo = Number(a);
  return [lo, b === undefined ? lo : Number(b)];
}

/** The API's view of a forwarding: single ports are shown as ports too (PortForwarding OVO). */
function forwardingView(pf: Forwarding): Doc {
  const [es, ee] = bounds(pf.external_port_range);
  const [is, ie] = bounds(pf.internal_port_range);
  return { ...pf, external_port: es === ee ? es : null, internal_port: is === ie ? is : null };
}

function uniqueOn(e: unknown, column: string): boolean {
  if (!isUniqueViolation(e)) return false;
  const err = e as { constraint?: unknown; message?: unknown };
  return String(err.constraint ?? "").includes(column) || String(err.message ?? "").includes(column);
}

/**
 * Floating IPs (l3_db's floating IP half, l3_fip_port_details, l3_fip_pools_db) and their
 * port forwardings (services/portforwarding/pf_plugin.py). A floating IP holds an address
 * through a port no project owns on the external network; association finds the router
 * that connects the fixed IP's subnet to that network.
 */
export class FloatingIpManager implements FloatingIpsApi {
  constructor(private readonly n: Network) {}

  private get routers(): RouterManager {
    const r = this.n.routers;
    if (!(r instanceof RouterManager)) throw new Error("the routers manager is not a RouterManager");
    return r;
  }

  // ------------------------------------------------------------------ reads

  async list(caller: Caller, filters: Record<string, string[]>): Promise<Doc[]> {
    const db = this.n.core.db;
    const where: Record<string, readonly string[] | string> = {};
    if (!caller.admin) where["project_id"] = caller.projectId ?? "";
    else if (filters["project_id"] ?? filters["tenant_id"]) where["project_id"] = filters["project_id"] ?? filters["tenant_id"] ?? [];
    for (const col of ["floating_network_id", "floating_ip_address", "port_id", "router_id"]) {
      const v = filters[col];
      if (v && v.length && !v.some((x) => x === "" || x === "None")) where[col] = v;
    }
    return this.present(db, await findDocs(db, "net_floatingip", where));
  }

  async get(caller: Caller, id: string): Promise<Doc | undefined> {
    const doc = await this.visible(this.n.core.db, caller, id);
    return doc && (await this.present(this.n.core.db, [doc]))[0];
  }

  private async visible(q: Q, caller: Caller, id: string, lock = false): Promise<Doc | undefined> {
    const doc = await getDoc(q, "net_floatingip", id, lock && this.n.core.rowLocks);
    if (!doc) return undefined;
    if (!caller.admin && doc["project_id"] !== caller.projectId) return undefined;
    return doc;
  }

  /** port_details (fip-port-details) and port_forwardings (expose-port-forwarding-in-fip). */
  async present(q: Q, docs: Doc[]): Promise<Doc[]> {
    if (docs.length === 0) return docs;
    const portIds = [...new Set(docs.map((d) => d["port_id"]).filter((x): x is string => typeof x === "string"))];
    const ports = new Map((portIds.length ? await findDocs(q, "net_port", { id: portIds }) : []).map((p) => [p.id, p]));
    const pfRows = await q
      .selectFrom("net_port_forwarding")
      .select(["floatingip_id", "doc"])
      .where("floatingip_id", "in", docs.map((d) => d.id))
      .execute();
    const pfs = new Map<string, Doc[]>();
    for (const row of pfRows) {
      const v = forwardingView(JSON.parse(row.doc) as Forwarding);
      const list = pfs.get(row.floatingip_id) ?? [];
      list.push({
        id: v.id,
        internal_ip_address: v["internal_ip_address"],
        protocol: v["protocol"],
        internal_port: v["internal_port"],
        external_port: v["external_port"],
        internal_port_id: v["internal_port_id"],
      });
      pfs.set(row.floatingip_id, list);
    }
    return docs.map((d) => {
      const port = typeof d["port_id"] === "string" ? ports.get(d["port_id"]) : undefined;
      return {
        ...d,
        port_details: port
          ? {
              name: port["name"],
              network_id: port["network_id"],
              mac_address: port["mac_address"],
              admin_state_up: port["admin_state_up"],
              status: port["status"],
              device_id: port["device_id"],
              device_owner: port["device_owner"],
            }
          : null,
        port_forwardings: pfs.get(d.id) ?? [],
      };
    });
  }

  // ------------------------------------------------------------------ create / update / delete

  async create(caller: Caller, items: Array<Record<string, unknown>>): Promise<Doc[]> {
    return this.associating(() =>
      this.n.core.write(async (trx) => {
        const out: Doc[] = [];
        for (const item of items) out.push(await this.createOne(trx, caller, item));
        return this.present(trx, out);
      }),
    );
  }

  /** The unique fixed_key backs up the association check against concurrent requests. */
  private async associating<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (uniqueOn(e, "fixed_key")) {
        throw new NeutronError(409, "FloatingIPPortAlreadyAssociated", "That fixed IP already has a floating IP on this external network.");
      }
      throw e;
    }
  }

  private async createOne(trx: NetworkTrx, caller: Caller, item: Record<string, unknown>): Promise<Doc> {
    const projectId = String(item["project_id"]);
    await this.n.quotas.check(trx, projectId, "floatingip");
    const portId = typeof item["port_id"] === "string" ? item["port_id"] : null;
    if (portId) await this.checkPortHasForwardingOnDvr(trx, portId);
    const netId = String(item["floating_network_id"]);
    const net = await visibleNetwork(this.n, trx, caller, netId);
    if (net["router:external"] !== true) throw badResource("floatingip", `Network ${netId} is not a valid external network`);
    const subnets = await this.n.subnets.ofNetwork(trx, netId);
    if (!subnets.some((s) => s["ip_version"] === 4)) throw badResource("floatingip", `Network ${netId} does not contain any IPv4 subnet`);

    const id = uuid();
    const spec: InternalPortSpec = {
      network_id: netId,
      project_id: "",
      device_owner: OWNER.floatingip,
      device_id: id,
      name: "",
      admin_state_up: true,
    };
    const fixed: FixedIpRequest = {};
    if (typeof item["subnet_id"] === "string") fixed.subnet_id = item["subnet_id"];
    if (typeof item["floating_ip_address"] === "string") fixed.ip_address = item["floating_ip_address"];
    if (Object.keys(fixed).length) spec.fixed_ips = [fixed];
    const port = await this.n.ports.createInternal(trx, spec);
    const v4 = fixedIpsOf(port).filter((ip) => isV4(ip.ip_address));
    const address = v4[0]?.ip_address;
    if (!address) throw new NeutronError(400, "ExternalIpAddressExhausted", `Unable to find any IP address on external network ${netId}.`);

    const doc: Doc = {
      id,
      floating_ip_address: address,
      floating_network_id: netId,
      router_id: null,
      port_id: null,
      fixed_ip_address: null,
      status: "DOWN",
      project_id: projectId,
      tenant_id: projectId,
      description: item["description"] ?? "",
      floating_port_id: port.id,
    };
    const assoc = await this.association(trx, caller, { port_id: portId, fixed_ip_address: item["fixed_ip_address"] ?? null }, doc);
    this.apply(doc, assoc);
    const stamped = this.n.core.stamp(doc);
    await insertDoc(trx, FLOATINGIP_SPEC, stamped);
    await this.n.driver.realize("floatingip", id, "create");
    return stamped;
  }

  /** The association fields and the status the L3 agent reports once it has wired them. */
  private apply(doc: Doc, assoc: { portId: string | null; ip: string | null; routerId: string | null }): void {
    doc["port_id"] = assoc.portId;
    doc["fixed_ip_address"] = assoc.ip;
    doc["router_id"] = assoc.routerId;
    doc["status"] = assoc.routerId ? "ACTIVE" : "DOWN";
  }

  /** _check_and_get_fip_assoc. `req` holds the keys the request gave. */
  private async association(
    trx: NetworkTrx,
    caller: Caller,
    req: { port_id?: unknown; fixed_ip_address?: unknown },
    fip: Doc,
  ): Promise<{ portId: string | null; ip: string | null; routerId: string | null }> {
    const wantPort = typeof req.port_id === "string" ? req.port_id : null;
    const wantIp = typeof req.fixed_ip_address === "string" ? req.fixed_ip_address : null;
    if (wantIp && !wantPort) throw badResource("floatingip", "fixed_ip_address cannot be specified without a port_id");
    const current = typeof fip["port_id"] === "string" ? fip["port_id"] : null;
    let out: { portId: string | null; ip: string | null; routerId: string | null } = { portId: null, ip: null, routerId: null };
    if (wantPort) {
      out = await this.assocData(trx, caller, wantPort, wantIp, fip);
      if (wantPort === current) return out;
      const netId = String(fip["floating_network_id"]);
      const taken = await trx
        .selectFrom("net_floatingip")
        .select("id")
        .where("fixed_key", "=", fixedKey(wantPort, out.ip ?? "", netId))
        .where("id", "!=", fip.id)
        .executeTakeFirst();
      if (taken) {
        throw new NeutronError(
          409,
          "FloatingIPPortAlreadyAssociated",
          `Cannot associate floating IP ${String(fip["floating_ip_address"])} (${fip.id}) with port ${wantPort} using fixed IP ${out.ip ?? ""}, as that fixed IP already has a floating IP on external network ${netId}.`,
        );
      }
    }
    if (!("port_id" in req) && current) out = await this.assocData(trx, caller, current, wantIp, fip);
    // A floating IP serving port forwardings keeps their router.
    if (!current && typeof fip["router_id"] === "string") out.routerId = fip["router_id"];
    return out;
  }

  /** _internal_fip_assoc_data + get_router_for_floatingip. */
  private async assocData(
    trx: NetworkTrx,
    caller: Caller,
    portId: string,
    fixedIp: string | null,
    fip: Doc,
  ): Promise<{ portId: string; ip: string; routerId: string }> {
    // The row lock serialises associations with one port.
    const port = await this.routers.visiblePort(trx, caller, portId, true);
    if (port["project_id"] !== fip["project_id"] && !caller.admin) {
      throw badResource("floatingip", `Cannot process floating IP association with Port ${portId}, since that port is owned by a different tenant`);
    }
    // Neutron's message leaves the placeholder unformatted.
    if (port["device_owner"] === OWNER.dhcp) throw badResource("floatingip", "Port %(id)s is unable to be assigned a floating IP");
    let ip: string;
    let subnetId: string;
    if (fixedIp) {
      if (!isV4(fixedIp)) {
        throw badResource("floatingip", `Cannot process floating IP association with ${fixedIp}, since that is not an IPv4 address`);
      }
      const match = fixedIpsOf(port).find((x) => x.ip_address === fixedIp);
      if (!match) throw badResource("floatingip", `Port ${port.id} does not have fixed ip ${fixedIp}`);
      ip = fixedIp;
      subnetId = match.subnet_id;
    } else {
      const v4 = fixedIpsOf(port).filter((x) => isV4(x.ip_address));
      const first = v4[0];
      if (!first) throw badResource("floatingip", `Cannot add floating IP to port ${port.id} that has no fixed IPv4 addresses`);
      if (v4.length > 1) {
        throw badResource(
          "floatingip",
          `Port ${port.id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP`,
        );
      }
      ip = first.ip_address;
      subnetId = first.subnet_id;
    }
    const netId = String(fip["floating_network_id"]);
    const routerId = await this.n.routers.routerFor(trx, subnetId, netId);
    if (!routerId) {
      throw new NeutronError(
        404,
        "ExternalGatewayForFloatingIPNotFound",
        `External network ${netId} is not reachable from subnet ${subnetId}.  Therefore, cannot associate Port ${port.id} with a Floating IP.`,
      );
    }
    return { portId: port.id, ip, routerId };
  }

  /** pf_plugin._check_port_has_port_forwarding: a port forwarded to through a DVR router. */
  private async checkPortHasForwardingOnDvr(trx: NetworkTrx, portId: string): Promise<void> {
    const row = await trx.selectFrom("net_port_forwarding").select("floatingip_id").where("internal_key", "like", `${portId}\n%`).executeTakeFirst();
    if (!row) return;
    const fip = await getDoc(trx, "net_floatingip", row.floatingip_id);
    const router = typeof fip?.["router_id"] === "string" ? await this.routers.load(trx, fip["router_id"]) : undefined;
    if (router?.["distributed"] === true) {
      throw new NeutronError(400, "PortHasPortForwarding", `Cannot associate floating IP to port ${portId} because it already has a Port Forwarding binding.`);
    }
  }

  async update(caller: Caller, id: string, changes: Record<string, unknown>, ifRevision: number | undefined): Promise<Doc> {
    return this.associating(() =>
      this.n.core.write(async (trx) => {
        const doc = await this.visible(trx, caller, id, true);
        if (!doc) throw notFound("floatingip", id);
        assertRevision(doc, ifRevision);
        const portId = changes["port_id"];
        if (typeof portId === "string") await this.checkPortHasForwardingOnDvr(trx, portId);
        const req: { port_id?: unknown; fixed_ip_address?: unknown } = {};
        if ("port_id" in changes) req.port_id = changes["port_id"];
        if ("fixed_ip_address" in changes) req.fixed_ip_address = changes["fixed_ip_address"];
        const assoc = await this.association(trx, caller, req, doc);
        if (typeof portId === "string") {
          const pf = await trx.selectFrom("net_port_forwarding").select("id").where("floatingip_id", "=", id).executeTakeFirst();
          if (pf) throw this.inUseByForwarding(id);
        }
        this.apply(doc, assoc);
        if ("description" in changes) doc["description"] = changes["description"];
        this.n.core.touch(doc);
        await updateDoc(trx, FLOATINGIP_SPEC, doc);
        await this.n.driver.realize("floatingip", id, "update");
        return (await this.present(trx, [doc]))[0] as Doc;
      }),
    );
  }

  private inUseByForwarding(id: string): NeutronError {
    return new NeutronError(409, "FipInUseByPortForwarding", `Floating IP ${id} in use by Port Forwarding resources.`);
  }

  async delete(caller: Caller, id: string, ifRevision: number | undefined): Promise<void> {
    await this.n.core.write(async (trx) => {
      const doc = await this.visible(trx, caller, id, true);
      if (!doc) throw notFound("floatingip", id);
      assertRevision(doc, ifRevision);
      const pf = await trx.selectFrom("net_port_forwarding").select("id").where("floatingip_id", "=", id).executeTakeFirst();
      if (pf) throw this.inUseByForwarding(id);
      await this.remove(trx, doc);
    });
  }

  /** The floating IP, its port (and so its address) and its forwardings. */
  private async remove(trx: NetworkTrx, doc: Doc): Promise<void> {
    await trx.deleteFrom("net_port_forwarding").where("floatingip_id", "=", doc.id).execute();
    const portId = str(doc["floating_port_id"]);
    if (portId && (await this.n.ports.load(trx, portId))) await this.n.ports.deleteInternal(trx, portId);
    await deleteDoc(trx, "net_floatingip", doc.id);
    await this.n.driver.realize("floatingip", doc.id, "delete");
  }

  // ------------------------------------------------------------------ FloatingIpsApi

  /** disassociate_floatingips, and the forwardings to the port go (their rows cascade in Neutron). */
  async onPortDeleted(trx: NetworkTrx, portId: string): Promise<void> {
    for (const doc of await findDocs(trx, "net_floatingip", { port_id: portId })) {
      this.apply(doc, { portId: null, ip: null, routerId: null });
      this.n.core.touch(doc);
      await updateDoc(trx, FLOATINGIP_SPEC, doc);
    }
    const rows = await trx.selectFrom("net_port_forwarding").select(["id", "floatingip_id"]).where("internal_key", "like", `${portId}\n%`).execute();
    if (rows.length === 0) return;
    await trx.deleteFrom("net_port_forwarding").where("id", "in", rows.map((r) => r.id)).execute();
    await this.releaseRouters(trx, [...new Set(rows.map((r) => r.floatingip_id))]);
  }

  /** A floating IP whose last forwarding went no longer goes through a router. */
  private async releaseRouters(trx: NetworkTrx, fipIds: string[]): Promise<void> {
    for (const fipId of fipIds) {
      const left = await trx.selectFrom("net_port_forwarding").select("id").where("floatingip_id", "=", fipId).executeTakeFirst();
      if (left) continue;
      const fip = await getDoc(trx, "net_floatingip", fipId, this.n.core.rowLocks);
      if (!fip || typeof fip["port_id"] === "string") continue;
      this.apply(fip, { portId: null, ip: null, routerId: null });
      await this.bump(trx, fip);
    }
  }

  async onNetworkDeleted(trx: NetworkTrx, networkId: string): Promise<void> {
    for (const doc of await findDocs(trx, "net_floatingip", { floating_network_id: networkId })) await this.remove(trx, doc);
  }

  // ------------------------------------------------------------------ floating IP pools

  /** get_floatingip_pools: the IPv4 subnets of every external network, shown as the caller's. */
  async pools(caller: Caller): Promise<Array<Record<string, unknown>>> {
    const db = this.n.core.db;
    const rows = await db
      .selectFrom("net_rbac_policy")
      .select("object_id")
      .distinct()
      .where("object_type", "=", "network")
      .where("action", "=", "access_as_external")
      .execute();
    const nets = rows.length ? await findDocs(db, "net_network", { id: rows.map((r) => r.object_id) }) : [];
    const external = nets.filter((d) => d["router:external"] === true).map((d) => d.id);
    const out: Array<Record<string, unknown>> = [];
    for (const netId of external) {
      for (const s of await this.n.subnets.ofNetwork(db, netId)) {
        if (s["ip_version"] !== 4) continue;
        out.push({
          subnet_id: s.id,
          subnet_name: s["name"] ?? "",
          network_id: netId,
          cidr: s["cidr"],
          project_id: caller.projectId ?? "",
          tenant_id: caller.projectId ?? "",
        });
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ port forwardings

  /** The parent floating IP, as get_floatingip shows it to the caller (404 otherwise). */
  async parent(q: Q, caller: Caller, fipId: string, lock = false): Promise<Doc> {
    const fip = await this.visible(q, caller, fipId, lock);
    if (!fip) throw notFound("floatingip", fipId);
    return fip;
  }

  async listForwardings(caller: Caller, fipId: string): Promise<Doc[]> {
    const db = this.n.core.db;
    await this.parent(db, caller, fipId);
    const rows = await db.selectFrom("net_port_forwarding").select("doc").where("floatingip_id", "=", fipId).execute();
    return rows.map((r) => forwardingView(JSON.parse(r.doc) as Forwarding));
  }

  async getForwarding(caller: Caller, fipId: string, id: string): Promise<Doc | undefined> {
    const db = this.n.core.db;
    await this.parent(db, caller, fipId);
    const pf = await this.loadForwarding(db, id);
    return pf && pf.floatingip_id === fipId ? forwardingView(pf) : undefined;
  }

  private async loadForwarding(q: Q, id: string): Promise<Forwarding | undefined> {
    const row = await q.selectFrom("net_port_forwarding").select("doc").where("id", "=", id).executeTakeFirst();
    return row ? (JSON.parse(row.doc) as Forwarding) : undefined;
  }

  private forwardingNotFound(id: string): NeutronError {
    return notFound("port_forwarding", id);
  }

  async createForwardings(caller: Caller, fipId: string, items: Array<Record<string, unknown>>): Promise<Doc[]> {
    return this.duplicates(() =>
      this.n.core.write(async (trx) => {
        const fip = await this.parent(trx, caller, fipId, true);
        const out: Doc[] = [];
        for (const item of items) out.push(forwardingView(await this.createForwarding(trx, caller, fip, item)));
        await this.bump(trx, fip);
        return out;
      }),
    );
  }

  /** The table's unique keys catch what the range checks could not see (a concurrent twin). */
  private async duplicates<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (uniqueOn(e, "external_key") || uniqueOn(e, "internal_key") || uniqueOn(e, "net_pf_")) {
        throw badResource("port_forwarding", "A duplicate port forwarding entry with same attributes already exists");
      }
      throw e;
    }
  }

  /** A range from the single-port or the range attribute (the single port wins, as in the OVO). */
  private rangeOf(item: Record<string, unknown>, port: string): string | undefined {
    const single = item[`${port}_port`];
    if (typeof single === "number") return `${single}:${single}`;
    const range = item[`${port}_port_range`];
    if (range === null || range === undefined) return undefined;
    const [a, b] = bounds(String(range));
    return `${a}:${b}`;
  }

  private async createForwarding(trx: NetworkTrx, caller: Caller, fip: Doc, item: Record<string, unknown>): Promise<Forwarding> {
    const external = this.rangeOf(item, "external");
    const internal = this.rangeOf(item, "internal");
    if (!external) throw badResource("port_forwarding", "external_port or external_port_range must be specified");
    if (!internal) throw badResource("port_forwarding", "internal_port or internal_port_range must be specified");
    const pf: Forwarding = {
      id: uuid(),
      floatingip_id: fip.id,
      internal_port_id: String(item["internal_port_id"]),
      internal_ip_address: String(item["internal_ip_address"]),
      protocol: String(item["protocol"]),
      external_port_range: external,
      internal_port_range: internal,
      description: item["description"] ?? "",
    };
    await this.checkCollisions(trx, pf);
    await this.checkPortHasFloatingIp(trx, pf.internal_port_id, pf.internal_ip_address);
    if (typeof fip["port_id"] === "string") {
      throw new NeutronError(
        409,
        "FloatingIPPortAlreadyAssociated",
        `Cannot associate floating IP ${String(fip["floating_ip_address"])} (${fip.id}) with port ${pf.internal_port_id} using fixed IP ${pf.internal_ip_address}, as that fixed IP already has a floating IP on external network ${String(fip["floating_network_id"])}.`,
      );
    }
    const routerId = await this.routerForForwarding(trx, caller, pf, fip);
    await this.checkRouterMatch(trx, fip, routerId, pf);
    if (typeof fip["router_id"] !== "string") this.apply(fip, { portId: null, ip: null, routerId });
    await trx.insertInto("net_port_forwarding").values(PF_SPEC(pf)).execute();
    return pf;
  }

  /** _check_port_collisions: overlapping ranges on the same inside address or outside IP. */
  private async checkCollisions(trx: NetworkTrx, pf: Forwarding): Promise<void> {
    const [es, ee] = bounds(pf.external_port_range);
    const [is, ie] = bounds(pf.internal_port_range);
    if (ie - is > 0 && ie - is !== ee - es) {
      throw badResource(
        "port_forwarding",
        "Invalid ranges of internal and/or external ports. The relation between internal and external ports must be N-N or 1-N",
      );
    }
    const collides = (a: string, b: string): boolean => {
      const [a0, a1] = bounds(a);
      const [b0, b1] = bounds(b);
      return Math.max(a0, b0) <= Math.min(a1, b1);
    };
    const collision = (key: string, existing: string, mine: string): NeutronError =>
      badResource("port_forwarding", `There is a port collision with the ${key}. The following ranges collides: ${existing} and ${mine}`);
    const sameInside = await trx
      .selectFrom("net_port_forwarding")
      .select("doc")
      .where("internal_key", "like", `${pf.internal_port_id}\n${pf.internal_ip_address}\n${pf.protocol}\n%`)
      .execute();
    for (const row of sameInside) {
      const other = JSON.parse(row.doc) as Forwarding;
      if (other.id !== pf.id && collides(other.internal_port_range, pf.internal_port_range)) {
        throw collision("internal_port_range", other.internal_port_range, pf.internal_port_range);
      }
    }
    const sameFip = await trx
      .selectFrom("net_port_forwarding")
      .select("doc")
      .where("floatingip_id", "=", pf.floatingip_id)
      .where("external_key", "like", `${pf.protocol}\n%`)
      .execute();
    for (const row of sameFip) {
      const other = JSON.parse(row.doc) as Forwarding;
      if (other.id !== pf.id && collides(other.external_port_range, pf.external_port_range)) {
        throw collision("external_port_range", other.external_port_range, pf.external_port_range);
      }
    }
  }

  /** _check_port_has_binding_floating_ip */
  private async checkPortHasFloatingIp(trx: NetworkTrx, portId: string, fixedIp: string): Promise<void> {
    const bound = (await findDocs(trx, "net_floatingip", { port_id: portId }))[0];
    if (!bound) return;
    throw new NeutronError(
      409,
      "PortHasBindingFloatingIP",
      `Cannot create port forwarding to floating IP ${String(bound["floating_ip_address"])} (${bound.id}) with port ${portId} using fixed IP ${fixedIp}, as that port already has a binding floating IP.`,
    );
  }

  /** _find_a_router_for_fip_port_forwarding */
  private async routerForForwarding(trx: NetworkTrx, caller: Caller, pf: Forwarding, fip: Doc, pickAddress = false): Promise<string> {
    const port = await this.routers.visiblePort(trx, caller, pf.internal_port_id);
    const v4 = fixedIpsOf(port).filter((ip) => isV4(ip.ip_address));
    if (v4.length === 0) throw badResource("port_forwarding", `Requested internal port ${port.id} must allocate an IPv4 address at least.`);
    // Without an address in the request, the port's first IPv4 address is the one.
    if (pickAddress && v4[0]) pf.internal_ip_address = v4[0].ip_address;
    const match = v4.find((ip) => ip.ip_address === pf.internal_ip_address);
    if (!match) {
      const shown = v4.map((ip) => ({ subnet_id: ip.subnet_id, ip_address: ip.ip_address }));
      throw badResource(
        "port_forwarding",
        `Requested internal IP address ${pf.internal_ip_address} is not suitable for internal neutron port ${port.id}, as its fixed_ips are ${pyRepr(shown)}`,
      );
    }
    const netId = String(fip["floating_network_id"]);
    const routerId = await this.n.routers.routerFor(trx, match.subnet_id, netId);
    if (!routerId) {
      throw badResource(
        "port_forwarding",
        `External network ${netId} is not reachable from subnet ${match.subnet_id}. Cannot set Port forwarding for port ${port.id} with Floating IP ${fip.id}`,
      );
    }
    return routerId;
  }

  /** _check_router_match: all forwardings of a floating IP go through one router. */
  private async checkRouterMatch(trx: NetworkTrx, fip: Doc, routerId: string, pf: Forwarding): Promise<void> {
    const current = fip["router_id"];
    if (typeof current !== "string" || current === routerId) return;
    const rows = await trx.selectFrom("net_port_forwarding").select("doc").where("floatingip_id", "=", fip.id).execute();
    const same = rows
      .map((r) => JSON.parse(r.doc) as Forwarding)
      .some((o) => o.id !== pf.id && o.internal_ip_address === pf.internal_ip_address && o.internal_port_range === pf.internal_port_range);
    const [is] = bounds(pf.internal_port_range);
    if (same) {
      throw badResource(
        "port_forwarding",
        `Floating IP ${fip.id} with params: internal_ip_address: ${pf.internal_ip_address}, internal_port: ${is} already exists`,
      );
    }
    throw badResource(
      "port_forwarding",
      `The Floating IP ${fip.id} had been set on router ${current}, the internal Neutron port ${pf.internal_port_id} can not reach it`,
    );
  }

  async updateForwarding(caller: Caller, fipId: string, id: string, changes: Record<string, unknown>): Promise<Doc> {
    return this.duplicates(() =>
      this.n.core.write(async (trx) => {
        if (typeof changes["internal_port_id"] === "string") {
          await this.checkPortHasFloatingIp(trx, changes["internal_port_id"], str(changes["internal_ip_address"]));
        }
        const fip = await this.parent(trx, caller, fipId, true);
        const pf = await this.loadForwarding(trx, id);
        if (!pf || pf.floatingip_id !== fipId) throw this.forwardingNotFound(id);
        const next: Forwarding = { ...pf };
        for (const k of ["internal_port_id", "internal_ip_address", "protocol", "description"] as const) {
          if (k in changes && changes[k] !== null && changes[k] !== undefined) next[k] = changes[k] as string;
        }
        const ext = this.rangeOf(changes, "external");
        const int = this.rangeOf(changes, "internal");
        if (ext) next.external_port_range = ext;
        if (int) next.internal_port_range = int;
        if (next.internal_port_id !== pf.internal_port_id) {
          const routerId = await this.routerForForwarding(trx, caller, next, fip, !("internal_ip_address" in changes) || !changes["internal_ip_address"]);
          await this.checkRouterMatch(trx, fip, routerId, next);
        }
        await this.checkForwardingUpdate(trx, next, fip);
        if (ext || int) await this.checkCollisions(trx, next);
        const row = PF_SPEC(next);
        await trx.updateTable("net_port_forwarding").set({ external_key: row.external_key, internal_key: row.internal_key, doc: row.doc }).where("id", "=", id).execute();
        await this.bump(trx, fip);
        return forwardingView(next);
      }),
    );
  }

  /** _check_port_forwarding_update */
  private async checkForwardingUpdate(trx: NetworkTrx, pf: Forwarding, fip: Doc): Promise<void> {
    const port = await this.n.ports.load(trx, pf.internal_port_id);
    const ips = port ? fixedIpsOf(port) : [];
    if (!ips.some((ip) => ip.ip_address === pf.internal_ip_address)) {
      const shown = ips.map((ip) => ({ subnet_id: ip.subnet_id, ip_address: ip.ip_address }));
      throw badResource("port_forwarding", `The internal IP does not correspond to an address on the internal port, which has fixed_ips ${pyRepr(shown)}`);
    }
    const rows = await trx.selectFrom("net_port_forwarding").select("doc").where("floatingip_id", "=", pf.floatingip_id).execute();
    for (const o of rows.map((r) => JSON.parse(r.doc) as Forwarding)) {
      if (o.id === pf.id || o.protocol !== pf.protocol) continue;
      const conflict = (values: Record<string, unknown>): NeutronError =>
        badResource("port_forwarding", `Another port forwarding entry with the same attributes already exists, conflicting values are ${pyRepr(values)}`);
      if (o.external_port_range === pf.external_port_range) {
        const [port0] = bounds(o.external_port_range);
        throw conflict({ floating_ip_address: fip["floating_ip_address"], external_port: port0 });
      }
      if (o.internal_port_id === pf.internal_port_id && o.internal_ip_address === pf.internal_ip_address && o.internal_port_range === pf.internal_port_range) {
        const [port0] = bounds(o.internal_port_range);
        throw conflict({ internal_port_id: o.internal_port_id, internal_ip_address: o.internal_ip_address, internal_port: port0 });
      }
    }
  }

  async deleteForwarding(caller: Caller, fipId: string, id: string): Promise<void> {
    await this.n.core.write(async (trx) => {
      const pf = await this.loadForwarding(trx, id);
      if (!pf || pf.floatingip_id !== fipId) throw this.forwardingNotFound(id);
      const fip = await this.parent(trx, caller, fipId, true);
      await trx.deleteFrom("net_port_forwarding").where("id", "=", id).execute();
      const left = await trx.selectFrom("net_port_forwarding").select("id").where("floatingip_id", "=", fipId).executeTakeFirst();
      if (!left && typeof fip["port_id"] !== "string") this.apply(fip, { portId: null, ip: null, routerId: null });
      await this.bump(trx, fip);
    });
  }

  /** A forwarding's change is a change of its floating IP (PortForwarding revises_on_change). */
  private async bump(trx: NetworkTrx, fip: Doc): Promise<void> {
    this.n.core.touch(fip);
    await updateDoc(trx, FLOATINGIP_SPEC, fip);
  }
}
