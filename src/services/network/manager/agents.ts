import { uuid } from "../../../common/ids.js";
import type { AgentReport } from "../../../drivers/network/driver.js";
import type { Network } from "../api/deps.js";
import type { Caller } from "../core.js";
import { NeutronError, conflict, notFound } from "../errors.js";
import type { Doc } from "../store/docs.js";
import { findDocs } from "../store/docs.js";
import type { NetworkTrx, Q } from "../store/tables.js";

/** Agents report their state every report_interval seconds (neutron.conf [agent], default 30). */
export const REPORT_INTERVAL = 30;
export const AGENT_TYPE_DHCP = "DHCP agent";
export const AGENT_TYPE_L3 = "L3 agent";

const keyOf = (type: string, host: string): string => `${type}\n${host}`;

/** An agent's datetimes as the API prints them: str(datetime), "2017-09-12 19:39:44". */
const agentTime = (iso: string): string => iso.replace("T", " ").replace(/(\.\d+)?Z$/, "");

interface StoredAgent {
  id: string;
  agent_key: string;
  doc: Doc & { deleted_at?: string };
}

/**
 * Agents (neutron/db/agents_db.py) as the network backend reports them. The backend's agents
 * register the first time anyone asks (as a real agent does at its first state report) and
 * are rows from then on, so an administrator's admin_state_up and description stick. Deleting
 * an agent that still runs is what Neutron does too: the row goes, and the agent registers
 * again (a new id) with its next state report, REPORT_INTERVAL seconds later. The simulated
 * agents always report, so they are always alive.
 *
 * DHCP scheduling (agentschedulers_db.py): a network with a DHCP-enabled subnet is hosted by
 * the first registered DHCP agent unless an administrator placed it (net_dhcp_binding).
 */
export class AgentManager {
  constructor(private readonly n: Network) {}

  private now(): string {
    return this.n.core.now();
  }

  /** Register the backend's agents that have no row yet, or whose deletion is a report ago. */
  private async sync(): Promise<StoredAgent[]> {
    const db = this.n.core.db;
    const read = (): Promise<StoredAgent[]> => this.rows(db);
    let rows = await read();
    const byKey = new Map(rows.map((r) => [r.agent_key, r]));
    const nowMs = this.n.core.clock.now().getTime();
    let changed = false;
    for (const report of this.n.driver.agents()) {
      const key = keyOf(report.agentType, report.host);
      const row = byKey.get(key);
      if (!row) {
        const doc = this.register(report);
        await db
          .insertInto("net_agent")
          .values({ id: doc.id, agent_key: key, doc: JSON.stringify(doc) })
          .onConflict((oc) => oc.column("agent_key").doNothing())
          .execute();
        changed = true;
      } else if (row.doc.deleted_at !== undefined && nowMs - Date.parse(row.doc.deleted_at) >= REPORT_INTERVAL * 1000) {
        const doc = this.register(report);
        // Only one process revives it: the row must still be the tombstone it read.
        await db
          .updateTable("net_agent")
          .set({ id: doc.id, doc: JSON.stringify(doc) })
          .where("agent_key", "=", key)
          .where("id", "=", row.id)
          .execute();
        changed = true;
      }
    }
    if (changed) rows = await read();
    return rows;
  }

  private async rows(q: Q): Promise<StoredAgent[]> {
    return (await q.selectFrom("net_agent").selectAll().execute()).map((r) => ({
      id: r.id,
      agent_key: r.agent_key,
      doc: JSON.parse(r.doc) as StoredAgent["doc"],
    }));
  }

  private register(report: AgentReport): Doc {
    const now = this.now();
    return {
      id: uuid(),
      agent_type: report.agentType,
      binary: report.binary,
      topic: report.topic,
      host: report.host,
      admin_state_up: true,
      created_at: now,
      started_at: now,
      configurations: report.configurations,
      description: null,
      availability_zone: report.availabilityZone,
      resources_synced: null,
    };
  }

  /** The API view: heartbeat_timestamp is the last state report (every REPORT_INTERVAL since start). */
  private view(doc: Doc): Doc {
    const started = Date.parse(String(doc["started_at"]));
    const nowMs = this.n.core.clock.now().getTime();
    const beats = Math.max(0, Math.floor((nowMs - started) / (REPORT_INTERVAL * 1000)));
    const heartbeat = new Date(started + beats * REPORT_INTERVAL * 1000).toISOString();
    return {
      ...doc,
      created_at: agentTime(String(doc["created_at"])),
      started_at: agentTime(String(doc["started_at"])),
      heartbeat_timestamp: agentTime(heartbeat),
      alive: true,
    };
  }

  private live(rows: StoredAgent[]): StoredAgent[] {
    return rows.filter((r) => r.doc.deleted_at === undefined);
  }

  async list(): Promise<Doc[]> {
    return this.live(await this.sync()).map((r) => this.view(r.doc));
  }

  /** One agent by id (AgentNotFound otherwise). */
  async get(id: string): Promise<Doc> {
    return this.view((await this.stored(this.n.core.db, id)).doc);
  }

  private async stored(q: Q, id: string, lock = false): Promise<StoredAgent> {
    let query = q.selectFrom("net_agent").selectAll().where("id", "=", id);
    if (lock && this.n.core.rowLocks) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    const doc = row ? (JSON.parse(row.doc) as StoredAgent["doc"]) : undefined;
    if (!row || !doc || doc.deleted_at !== undefined) throw notFound("agent", id);
    return { id: row.id, agent_key: row.agent_key, doc };
  }

  /** PUT: admin_state_up and description (update_agent). */
  async update(id: string, changes: Record<string, unknown>): Promise<Doc> {
    return this.n.core.write(async (trx) => {
      const row = await this.stored(trx, id, true);
      const doc = { ...row.doc, ...changes };
      await trx.updateTable("net_agent").set({ doc: JSON.stringify(doc) }).where("id", "=", id).execute();
      return this.view(doc);
    });
  }

  /** DELETE: the row (and its DHCP bindings) go; a running agent registers again on its next report. */
  async delete(id: string): Promise<void> {
    await this.n.core.write(async (trx) => {
      await this.stored(trx, id, true);
      await trx
        .updateTable("net_agent")
        .set({ doc: JSON.stringify({ deleted_at: this.n.core.clock.now().toISOString() }) })
        .where("id", "=", id)
        .execute();
      await trx.deleteFrom("net_dhcp_binding").where("agent_id", "=", id).execute();
    });
  }

  /**
   * Availability zones (AgentAvailabilityZoneMixin._list_availability_zones): the zones of
   * DHCP agents (resource network) and L3 agents (router); available while one of the zone's
   * agents is administratively up.
   */
  async availabilityZones(): Promise<Array<{ name: string; resource: string; state: string }>> {
    const out = new Map<string, { name: string; resource: string; state: string }>();
    for (const a of await this.list()) {
      const zone = a["availability_zone"];
      if (typeof zone !== "string" || !zone) continue;
      const resource = a["agent_type"] === AGENT_TYPE_DHCP ? "network" : a["agent_type"] === AGENT_TYPE_L3 ? "router" : undefined;
      if (!resource) continue;
      const key = `${zone}\n${resource}`;
      const up = a["admin_state_up"] === true || out.get(key)?.state === "available";
      out.set(key, { name: zone, resource, state: up ? "available" : "unavailable" });
    }
    return [...out.values()];
  }

  // ------------------------------------------------------------------ DHCP scheduling

  /** The DHCP agent that takes networks nobody placed: the backend's first DHCP agent still registered. */
  private autoDhcpAgent(rows: StoredAgent[]): string | undefined {
    const live = this.live(rows);
    for (const report of this.n.driver.agents()) {
      if (report.agentType !== AGENT_TYPE_DHCP) continue;
      const row = live.find((r) => r.agent_key === keyOf(report.agentType, report.host));
      if (row) return row.id;
    }
    return undefined;
  }

  /** Networks (of those given, or all) with a DHCP-enabled subnet. */
  private async dhcpNetworks(q: Q, networkIds?: readonly string[]): Promise<Set<string>> {
    if (networkIds && networkIds.length === 0) return new Set();
    // The subnet document is JSON.stringify'd: a literal "enable_dhcp":true cannot come from a string value.
    let query = q.selectFrom("net_subnet").select("network_id").where("doc", "like", '%"enable_dhcp":true%');
    if (networkIds) query = query.where("network_id", "in", networkIds);
    return new Set((await query.execute()).map((r) => r.network_id));
  }

  /** The ids of the DHCP agents hosting a network (`auto`: the agent taking unplaced networks). */
  private async hostingAgentIds(q: Q, networkId: string, auto: string | undefined): Promise<string[]> {
    const rows = await q.selectFrom("net_dhcp_binding").select(["agent_id", "bound"]).where("network_id", "=", networkId).execute();
    if (rows.length) return rows.filter((r) => r.bound === 1).map((r) => r.agent_id);
    if (!auto || !(await this.dhcpNetworks(q, [networkId])).has(networkId)) return [];
    return [auto];
  }

  /** GET /v2.0/networks/{id}/dhcp-agents (an unknown network hosts nothing: an empty list). */
  async dhcpAgentsHosting(networkId: string): Promise<Doc[]> {
    const db = this.n.core.db;
    const placed = await db.selectFrom("net_dhcp_binding").select("agent_id").where("network_id", "=", networkId).executeTakeFirst();
    // Only a network that may be hosted automatically needs the agents registered first.
    const rows = placed || (await this.dhcpNetworks(db, [networkId])).size ? await this.sync() : [];
    const ids = await this.hostingAgentIds(db, networkId, this.autoDhcpAgent(rows));
    return this.live(rows)
      .filter((r) => ids.includes(r.id))
      .map((r) => this.view(r.doc));
  }

  /** GET /v2.0/agents/{id}/dhcp-networks, networks as an administrator lists them. */
  async networksOnDhcpAgent(caller: Caller, agentId: string): Promise<Doc[]> {
    const db = this.n.core.db;
    const agent = await this.stored(db, agentId);
    const auto = this.autoDhcpAgent(await this.sync());
    const rows = await db.selectFrom("net_dhcp_binding").select(["network_id", "agent_id", "bound"]).execute();
    const placed = new Set(rows.map((r) => r.network_id));
    const ids = new Set(rows.filter((r) => r.agent_id === agentId && r.bound === 1).map((r) => r.network_id));
    if (auto === agent.id) for (const id of await this.dhcpNetworks(db)) if (!placed.has(id)) ids.add(id);
    if (ids.size === 0) return [];
    const docs = await findDocs(db, "net_network", { id: [...ids] });
    return this.n.networks.present(db, caller, docs);
  }

  /** POST /v2.0/agents/{id}/dhcp-networks (add_network_to_dhcp_agent). */
  async addNetworkToDhcpAgent(caller: Caller, agentId: string, networkId: string): Promise<void> {
    if (!(await this.n.networks.get(caller, networkId))) throw notFound("network", networkId);
    await this.stored(this.n.core.db, agentId);
    await this.sync();
    await this.n.core.write(async (trx) => {
      const auto = this.autoDhcpAgent(await this.rows(trx));
      const agent = await this.stored(trx, agentId, true);
      if (agent.doc["agent_type"] !== AGENT_TYPE_DHCP || agent.doc["admin_state_up"] !== true) {
        throw new NeutronError(404, "InvalidDHCPAgent", `Agent ${agentId} is not a valid DHCP Agent or has been disabled.`);
      }
      if ((await this.hostingAgentIds(trx, networkId, auto)).includes(agentId)) {
        throw conflict("NetworkHostedByDHCPAgent", `The network ${networkId} has been already hosted by the DHCP Agent ${agentId}.`);
      }
      await this.pinAutomatic(trx, networkId, auto);
      await this.setBinding(trx, networkId, agentId, 1);
    });
  }

  /** DELETE /v2.0/agents/{id}/dhcp-networks/{network_id} (remove_network_from_dhcp_agent). */
  async removeNetworkFromDhcpAgent(agentId: string, networkId: string): Promise<void> {
    await this.stored(this.n.core.db, agentId);
    await this.sync();
    await this.n.core.write(async (trx) => {
      await this.stored(trx, agentId, true);
      const auto = this.autoDhcpAgent(await this.rows(trx));
      if (!(await this.hostingAgentIds(trx, networkId, auto)).includes(agentId)) {
        throw conflict("NetworkNotHostedByDhcpAgent", `The network ${networkId} is not hosted by the DHCP Agent ${agentId}.`);
      }
      await this.pinAutomatic(trx, networkId, auto);
      await this.setBinding(trx, networkId, agentId, 0);
    });
  }

  /** Before the first explicit change, record the automatic binding so it is not recomputed away. */
  private async pinAutomatic(trx: NetworkTrx, networkId: string, auto: string | undefined): Promise<void> {
    const any = await trx.selectFrom("net_dhcp_binding").select("agent_id").where("network_id", "=", networkId).executeTakeFirst();
    if (any) return;
    for (const id of await this.hostingAgentIds(trx, networkId, auto)) await this.setBinding(trx, networkId, id, 1);
  }

  private async setBinding(trx: NetworkTrx, networkId: string, agentId: string, bound: number): Promise<void> {
    await trx
      .insertInto("net_dhcp_binding")
      .values({ network_id: networkId, agent_id: agentId, bound })
      .onConflict((oc) => oc.columns(["network_id", "agent_id"]).doUpdateSet({ bound }))
      .execute();
  }
}
